/*++
/* NAME
/*	cli_enrol 1
/* SUMMARY
/*	postdrip enrol: put a contact into a workflow by hand
/* SYNOPSIS
/*	postdrip enrol ADDRESS WORKFLOW
/* DESCRIPTION
/*	Enrols the contact in the workflow now (POSTDRIP_NOW when set), as
/*	its trigger would: the audience filter and the re-entry rule apply,
/*	and a contact already in the workflow is not enrolled again. This is
/*	how a workflow whose trigger is "manual" starts. The first step runs
/*	at postdrip-engine's next tick.
/*
/*	A refusal names the one rule that refused, checked in this order:
/*	"workflow disabled", "already enrolled" (with the enrolment and its
/*	step), "re-entry rule" (once, or not before a time), "suppressed"
/*	(a marketing workflow and a suppressed address, with its reason),
/*	and "audience" (the audience filter does not match).
/* DIAGNOSTICS
/*	Exit 0 when enrolled; 1 when the contact or the workflow is unknown,
/*	the rules do not allow it, or the store fails; 2 on usage errors.
/*--*/
#include "pdconfig.h"

#include <stdio.h>

#include "util/addr.h"
#include "cli.h"
#include "util/clock.h"
#include "util/mymalloc.h"
#include "sched/scheduler.h"
#include "util/strbuf.h"
#include "store/store.h"
#include "workflow/workflow.h"

/* enrol_refusal - which rule refuses; NULL when none (then it may go on) */

static const char *
enrol_refusal(CLI *cli, const WORKFLOW *wf, const char *addr, uint64_t contact,
	              STRBUF *why)
{
	STORE_SUPPRESSION sup;
	SCHED_ENROL prev;
	STORE_TXN *txn;
	char	t[CLOCK_ISO_LEN];
	time_t	now = clock_now();

	strbuf_reset(why);
	if (!wf->enabled)
		return (strbuf_printf(why, "workflow disabled (enabled: no)"), strbuf_str(why));
	if (store_rbegin(cli_store(cli), &txn) != STORE_OK)
		return (0);
	if (sched_enrol_find(txn, contact, wf->name, &prev) == STORE_OK) {
		if (prev.state == SCHED_ACTIVE || prev.state == SCHED_WAITING)
			strbuf_printf(why, "already enrolled (enrolment %llu, step %s)",
				      (unsigned long long) prev.id, prev.step);
		else if (wf->reentry == WF_REENTRY_ONCE)
			strbuf_printf(why, "re-entry rule: once (enrolment %llu ended: %s)",
				      (unsigned long long) prev.id, prev.reason);
		else if (wf->reentry == WF_REENTRY_INTERVAL && now - prev.started < wf->reentry_after)
			strbuf_printf(why, "re-entry rule: not before %s",
				      clock_format(prev.started + wf->reentry_after, t));
	}
	if (strbuf_len(why) == 0 && wf->stream == WF_STREAM_MARKETING
	    && store_suppress_get(txn, addr, &sup) == STORE_OK)
		strbuf_printf(why, "suppressed (%s since %s)", sup.reason, clock_format(sup.time, t));
	store_rend(txn);
	return (strbuf_len(why) ? strbuf_str(why) : 0);
}

/* cli_enrol - postdrip enrol ADDRESS WORKFLOW */

int
cli_enrol(CLI *cli, int argc, char **argv)
{
	char	addr[ADDR_MAX + 1];
	STRBUF	errs = STRBUF_INIT, why = STRBUF_INIT;
	const WORKFLOW *wf;
	const char *refused;
	WORKFLOW_SET *wfs;
	STORE_TXN *txn;
	SCHED  *s;
	uint64_t contact, id = 0;
	int	rc;

	if (argc != 3)
		return (fprintf(stderr, "usage: postdrip enrol ADDRESS WORKFLOW\n"), CLI_USAGE);
	if (addr_normalize(argv[1], addr) == 0)
		return (fprintf(stderr, "postdrip: not an address: \"%s\"\n", argv[1]), CLI_USAGE);
	if ((wfs = workflow_load_dir(config_str(cli->cf, "workflow_directory"), &errs)) == 0) {
		fprintf(stderr, "%spostdrip: enrol: the workflows have errors\n", strbuf_str(&errs));
		strbuf_free(&errs);
		return (CLI_ERROR);
	}
	strbuf_free(&errs);
	(void) workflow_set_timezone(wfs, config_str(cli->cf, "default_timezone"));
	if ((wf = workflow_find(wfs, argv[2])) == 0) {
		fprintf(stderr, "postdrip: enrol: no workflow \"%s\"\n", argv[2]);
		workflow_set_free(wfs);
		return (CLI_ERROR);
	}
	if ((rc = store_rbegin(cli_store(cli), &txn)) == STORE_OK) {
		rc = store_contact_find(txn, addr, &contact);
		store_rend(txn);
	}
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: enrol: %s: %s\n", addr,
			rc == STORE_NOTFOUND ? "no such contact" : store_strerror(rc));
		workflow_set_free(wfs);
		return (CLI_ERROR);
	}
	if ((refused = enrol_refusal(cli, wf, addr, contact, &why)) == 0) {
		s = sched_create(cli_store(cli), cli->cf, wfs, 0);
		rc = sched_enrol(s, contact, argv[2], clock_now(), &id);
		sched_free(s);
		/* The rules above were read before the write: what is left is
		 * the audience (or a change made in between). */
		if (rc == STORE_EXISTS)
			refused = enrol_refusal(cli, wf, addr, contact, &why) ?: "audience filter does not match";
	}
	if (refused) {
		fprintf(stderr, "postdrip: enrol: %s not enrolled in %s: %s\n", addr, argv[2], refused);
		workflow_set_free(wfs);
		strbuf_free(&why);
		return (CLI_ERROR);
	}
	workflow_set_free(wfs);
	strbuf_free(&why);
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: enrol: %s\n", store_strerror(rc));
		return (CLI_ERROR);
	}
	printf("enrolled %s in %s (enrolment %llu)\n", addr, argv[2], (unsigned long long) id);
	return (CLI_OK);
}
