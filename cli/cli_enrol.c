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
#include "workflow/workflow.h"

/* cli_enrol - postdrip enrol ADDRESS WORKFLOW */

int
cli_enrol(CLI *cli, int argc, char **argv)
{
	char	addr[ADDR_MAX + 1];
	STRBUF	errs = STRBUF_INIT;
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
	if (workflow_find(wfs, argv[2]) == 0) {
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
	s = sched_create(cli_store(cli), cli->cf, wfs, 0);
	rc = sched_enrol(s, contact, argv[2], clock_now(), &id);
	sched_free(s);
	workflow_set_free(wfs);
	if (rc == STORE_EXISTS) {
		fprintf(stderr, "postdrip: enrol: %s not enrolled in %s: already in it, "
			"its re-entry rule or its audience does not allow it\n", addr, argv[2]);
		return (CLI_ERROR);
	}
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: enrol: %s\n", store_strerror(rc));
		return (CLI_ERROR);
	}
	printf("enrolled %s in %s (enrolment %llu)\n", addr, argv[2], (unsigned long long) id);
	return (CLI_OK);
}
