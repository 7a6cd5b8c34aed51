/*++
/* NAME
/*	cli_queue 1
/* SUMMARY
/*	postdrip queue: the scheduled work, like postqueue -p
/* SYNOPSIS
/*	postdrip queue [FILTER...] [--json]
/*	postdrip queue --flush [FILTER...]
/*	postdrip queue --hold|--release|--delete FILTER...
/* DESCRIPTION
/*	Lists the enrolments that have a job in the schedule, and the held
/*	ones, earliest first: the enrolment id, when the job is due in the
/*	contact's time zone and in UTC (ISO 8601), the contact's address,
/*	the workflow, the step, and why it waits: "wait" (a wait step),
/*	"wait_for" (an awaited event, with a timeout), "send_window",
/*	"frequency_cap", "backoff" (a deferral is retried), "inject" (a
/*	message in the outbox), "hold" (held here), or "due".
/*
/*	A FILTER is workflow=NAME, contact=ADDRESS or enrolment=ID; a bare
/*	word is an address when it has an @, an id when it is a number, and
/*	a workflow otherwise. Filters of different kinds must all match.
/*
/*	--flush makes the selected jobs due now, as postqueue -f does; a
/*	send step still meets its send window and frequency caps at the next
/*	tick of postdrip-engine. --hold takes the selected enrolments off the
/*	schedule (the engine skips them) until --release puts each job back
/*	at the time it had (at once when that has passed). --delete ends the
/*	selected enrolments with reason "deleted". The three need a filter,
/*	so that a slip does not act on the whole queue.
/* DIAGNOSTICS
/*	Exit 0; 1 when the store fails; 2 on usage errors.
/*--*/
#include "pdconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tzone.h"
#include "sched/scheduler.h"
#include "store/store_sched.h"
#include "workflow/workflow.h"

#define Q_LIST		0
#define Q_FLUSH		1
#define Q_HOLD		2
#define Q_RELEASE	3
#define Q_DELETE	4

typedef struct Q_ROW {
	uint64_t id;
	time_t	due;			/* 0: none (held without a job) */
	int	held;
} Q_ROW;

typedef struct Q_SEL {
	const char *workflow;
	char	contact_addr[ADDR_MAX + 1];
	uint64_t contact;		/* 0: any */
	int	has_contact;
	uint64_t enrolment;		/* 0: any */
	Q_ROW  *rows;
	size_t	n, a;
	int	op;
	time_t	now;
	size_t	changed;
} Q_SEL;

/* q_add - remember one row */

static void
q_add(Q_SEL *q, uint64_t id, time_t due, int held)
{
	if (q->n == q->a) {
		q->a = q->a ? 2 * q->a : 64;
		q->rows = myrealloc(q->rows, q->a * sizeof(*q->rows));
	}
	q->rows[q->n].id = id;
	q->rows[q->n].due = due;
	q->rows[q->n].held = held;
	q->n++;
}

/* q_hold_fn - a held enrolment */

static int
q_hold_fn(uint64_t id, time_t due, void *ctx)
{
	q_add(ctx, id, due, 1);
	return (0);
}

/* q_row_cmp - earliest first, then by id; no job last */

static int
q_row_cmp(const void *a, const void *b)
{
	const Q_ROW *x = a, *y = b;
	time_t	dx = x->due ? x->due : (time_t) INT64_MAX;
	time_t	dy = y->due ? y->due : (time_t) INT64_MAX;

	if (dx != dy)
		return (dx < dy ? -1 : 1);
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* q_match - does the enrolment pass the filters */

static int
q_match(const Q_SEL *q, const SCHED_ENROL *e)
{
	if (q->workflow && strcmp(q->workflow, e->workflow) != 0)
		return (0);
	if (q->has_contact && q->contact != e->contact)
		return (0);
	if (q->enrolment && q->enrolment != e->id)
		return (0);
	return (1);
}

/* q_local - ISO 8601 in zone name, with its offset */

static void
q_local(time_t t, const char *zone, char *buf, size_t len)
{
	TZONE  *tz = zone ? tzone_load(zone) : 0;
	long	off = tz ? tzone_offset(tz, t) : 0;
	char	tmp[CLOCK_ISO_OFF_LEN];

	if (tz)
		tzone_free(tz);
	snprintf(buf, len, "%s", clock_format_offset(t, off, tmp));
}

/* q_why - why the job waits */

static const char *
q_why(const Q_SEL *q, const Q_ROW *r, const SCHED_ENROL *e, const WORKFLOW *wf,
      const char *zone)
{
	int	idx;

	if (r->held)
		return ("hold");
	if (e->state == SCHED_WAITING)
		return ("wait_for");
	if (e->phase == SCHED_PH_WAIT)
		return ("wait");
	if (e->phase == SCHED_PH_INJECT)
		return ("inject");
	if (r->due <= q->now)
		return ("due");
	if (e->attempts > 0)
		return ("backoff");
	if (wf && (idx = workflow_step_find(wf, e->step)) >= 0
	    && wf->steps[idx].kind == WF_STEP_SEND) {
		/* The step was put off at the opening of the window, or by a
		 * cap when the window was open then. */
		if (workflow_send_window(wf, zone, r->due - 1) == r->due)
			return ("send_window");
		return ("frequency_cap");
	}
	return ("scheduled");
}

/* q_write - the action on every selected enrolment, in one transaction */

static int
q_write(STORE_TXN *txn, void *ctx)
{
	Q_SEL  *q = ctx;
	SCHED_ENROL e;
	time_t	hdue;
	size_t	i;
	int	rc, held;

	q->changed = 0;
	for (i = 0; i < q->n; i++) {
		if ((rc = sched_enrol_get(txn, q->rows[i].id, &e)) == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return (rc);
		if (e.state != SCHED_ACTIVE && e.state != SCHED_WAITING)
			continue;
		if ((rc = sched_hold_get(txn, e.id, &hdue)) != STORE_OK && rc != STORE_NOTFOUND)
			return (rc);
		held = (rc == STORE_OK);
		switch (q->op) {
		case Q_FLUSH:
			if (held || e.due == 0 || e.due <= q->now)
				continue;
			rc = sched_job_set(txn, &e, q->now);
			break;
		case Q_HOLD:
			if (held)
				continue;
			if ((rc = sched_hold_put(txn, e.id, e.due)) == STORE_OK)
				rc = sched_job_set(txn, &e, 0);
			break;
		case Q_RELEASE:
			if (!held)
				continue;
			if ((rc = sched_hold_del(txn, e.id)) == STORE_OK && hdue)
				rc = sched_job_set(txn, &e, hdue < q->now ? q->now : hdue);
			break;
		case Q_DELETE:
			if (held && (rc = sched_hold_del(txn, e.id)) != STORE_OK)
				return (rc);
			if ((rc = sched_out_del(txn, e.id)) == STORE_NOTFOUND)
				rc = STORE_OK;
			if (rc == STORE_OK)
				rc = sched_job_set(txn, &e, 0);
			e.state = SCHED_EXITED;
			snprintf(e.reason, sizeof(e.reason), "deleted");
			e.updated = q->now;
			break;
		default:
			continue;
		}
		if (rc != STORE_OK || (rc = sched_enrol_put(txn, &e)) != STORE_OK)
			return (rc);
		q->changed++;
	}
	return (STORE_OK);
}

/* cli_queue - postdrip queue */

int
cli_queue(CLI *cli, int argc, char **argv)
{
	static const char *ops[] = {"", "flushed", "held", "released", "deleted"};
	Q_SEL	q;
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *wfs;
	STORE_TXN *txn;
	SCHED_ENROL e;
	const WORKFLOW *wf;
	const char *zone, *email, *why;
	json_t *rec, *arr = 0;
	char	local[64], utc[CLOCK_ISO_LEN], *end;
	uint64_t *ids;
	time_t *dues;
	size_t	i, k, max, nfilters = 0, nheld = 0;
	int	json = 0, rc, status = CLI_OK;

	memset(&q, 0, sizeof(q));
	for (i = 1; i < (size_t) argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0)
			json = 1;
		else if (strcmp(a, "--flush") == 0 || strcmp(a, "-f") == 0)
			q.op = Q_FLUSH;
		else if (strcmp(a, "--hold") == 0)
			q.op = Q_HOLD;
		else if (strcmp(a, "--release") == 0)
			q.op = Q_RELEASE;
		else if (strcmp(a, "--delete") == 0)
			q.op = Q_DELETE;
		else if (a[0] == '-')
			goto usage;
		else {
			if (strncmp(a, "workflow=", 9) == 0)
				q.workflow = a + 9;
			else if (strncmp(a, "contact=", 8) == 0 || (strchr(a, '@') && !strchr(a, '='))) {
				a = strchr(a, '=') ? strchr(a, '=') + 1 : a;
				if (addr_normalize(a, q.contact_addr) == 0) {
					fprintf(stderr, "postdrip: queue: not an address: \"%s\"\n", a);
					return (CLI_USAGE);
				}
				q.has_contact = 1;
			} else if (strncmp(a, "enrolment=", 10) == 0 || (a[0] >= '0' && a[0] <= '9')) {
				a = strchr(a, '=') ? strchr(a, '=') + 1 : a;
				q.enrolment = strtoull(a, &end, 10);
				if (*end || q.enrolment == 0)
					goto usage;
			} else if (strchr(a, '=') == 0)
				q.workflow = a;
			else
				goto usage;
			nfilters++;
		}
	}
	if ((q.op == Q_HOLD || q.op == Q_RELEASE || q.op == Q_DELETE) && nfilters == 0) {
		fprintf(stderr, "postdrip: queue: --hold, --release and --delete need a filter "
			"(workflow=NAME, contact=ADDRESS or enrolment=ID)\n");
		return (CLI_USAGE);
	}
	if (json && q.op != Q_LIST)
		goto usage;
	q.now = clock_now();
	wfs = workflow_load_dir(config_str(cli->cf, "workflow_directory"), &errs);
	strbuf_free(&errs);
	if (wfs)
		(void) workflow_set_timezone(wfs, config_str(cli->cf, "default_timezone"));

	if ((rc = store_rbegin(cli_store(cli), &txn)) != STORE_OK)
		goto fail;
	if (q.has_contact && (rc = store_contact_find(txn, q.contact_addr, &q.contact)) != STORE_OK) {
		if (rc != STORE_NOTFOUND) {
			store_rend(txn);
			goto fail;
		}
		q.contact = UINT64_MAX;		/* no such contact: matches nothing */
		rc = STORE_OK;
	}
	/* Every job: the schedule is as long as there are pending enrolments. */
	max = store_count(txn, STORE_DB_SCHEDULE);
	{
		ids = mymalloc((max + 1) * sizeof(*ids));
		dues = mymalloc((max + 1) * sizeof(*dues));
		k = sched_due(txn, (time_t) INT64_MAX, ids, dues, max);
		for (i = 0; i < k; i++)
			q_add(&q, ids[i], dues[i], 0);
		myfree(ids);
		myfree(dues);
		(void) sched_hold_walk(txn, q_hold_fn, &q);
		/* Keep the selected ones. */
		for (i = k = 0; i < q.n; i++)
			if (sched_enrol_get(txn, q.rows[i].id, &e) == STORE_OK && q_match(&q, &e)
			    && (q.rows[i].held || e.due == q.rows[i].due))
				q.rows[k++] = q.rows[i];
		q.n = k;
		if (q.n)
			qsort(q.rows, q.n, sizeof(*q.rows), q_row_cmp);
	}
	if (q.op != Q_LIST) {
		store_rend(txn);
		if (q.n && (rc = store_write(cli_store(cli), q_write, &q)) != STORE_OK)
			goto fail;
		printf("postdrip: queue: %s %zu enrolment%s\n", ops[q.op], q.changed,
		       q.changed == 1 ? "" : "s");
		goto out;
	}
	if (json)
		arr = json_array();
	else if (q.n)
		printf("%-10s %-25s %-20s %-12s %-12s %s\n", "ENROLMENT", "DUE (CONTACT ZONE)",
		       "DUE (UTC)", "WORKFLOW", "STEP", "WAITS FOR / ADDRESS");
	for (i = 0; i < q.n; i++) {
		Q_ROW  *r = q.rows + i;

		if (sched_enrol_get(txn, r->id, &e) != STORE_OK)
			continue;
		rec = 0;
		(void) store_contact_get(txn, e.contact, &rec);
		email = rec ? json_string_value(json_object_get(rec, "email")) : 0;
		wf = wfs ? workflow_find(wfs, e.workflow) : 0;
		zone = wf ? workflow_contact_tz(wf, rec) : config_str(cli->cf, "default_timezone");
		why = q_why(&q, r, &e, wf, zone);
		nheld += r->held;
		if (r->due) {
			q_local(r->due, zone, local, sizeof(local));
			clock_format(r->due, utc);
		} else {
			snprintf(local, sizeof(local), "-");
			snprintf(utc, sizeof(utc), "-");
		}
		if (json) {
			json_t *o = json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:b, s:I}",
					      "enrolment", (json_int_t) e.id,
					      "due", local, "due_utc", utc,
					      "zone", zone, "address", email,
					      "workflow", e.workflow, "step", e.step,
					      "waits_for", why, "held", r->held,
					      "attempts", (json_int_t) e.attempts);

			json_array_append_new(arr, o);
		} else {
			printf("%-10" PRIu64 " %-25s %-20s %-12s %-12s %s\n", e.id, local, utc,
			       e.workflow, e.step, why);
			printf("%59s<%s>\n", "", email ? email : "?");
		}
		if (rec)
			json_decref(rec);
	}
	store_rend(txn);
	if (json) {
		char   *s = json_dumps(arr, JSON_COMPACT);

		printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else if (q.n == 0)
		printf("Queue is empty\n");
	else
		printf("-- %zu job%s, %zu held\n", q.n, q.n == 1 ? "" : "s", nheld);
out:
	if (wfs)
		workflow_set_free(wfs);
	if (q.rows)
		myfree(q.rows);
	return (status);
fail:
	fprintf(stderr, "postdrip: queue: %s\n", store_strerror(rc));
	status = CLI_ERROR;
	goto out;
usage:
	fprintf(stderr, "usage: postdrip queue [FILTER...] [--json] [--flush|--hold|--release|--delete]\n");
	return (CLI_USAGE);
}
