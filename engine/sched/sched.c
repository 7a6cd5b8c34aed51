/*++
/* NAME
/*	sched 3
/* SUMMARY
/*	running workflows: the scheduler's tick and its transactions
/* SYNOPSIS
/*	#include "sched/scheduler.h"
/*
/*	SCHED	*sched_create(st, cf, wfs, tk)
/*
/*	int	sched_tick(s, now, stats)
/*
/*	int	sched_enrol(s, contact, workflow, now, id)
/*
/*	void	sched_reload(s, cf, wfs)
/*
/*	void	sched_free(s)
/* DESCRIPTION
/*	sched_tick() does everything that is due at now, in rounds: follow
/*	the events recorded since the last round (sched_follow.c: event
/*	triggers, exit rules, awaited events, engagement and segment
/*	changes), fire the date and inactivity triggers from their indexes,
/*	run the jobs due (sched_run.c), inject the messages those jobs parked
/*	(sched_send.c), and again until a round finds nothing to do. Each
/*	round reads at most engine_batch_size events and jobs, so memory is
/*	bounded by the batch size, never by the number of contacts.
/*
/*	Every change of an enrolment is one transaction (SCHED_TR, in
/*	sched_kernel.c), which first checks that the enrolment is still as
/*	it was read: a change computed from a stale read is dropped, never
/*	applied twice.
/*
/*	sched_enrol() enrols a contact on request (audience and re-entry
/*	rules apply).
/* DIAGNOSTICS
/*	Decisions and trouble go to the log callback (sched_set_log()); the
/*	library itself writes no log. Store trouble returns STORE_RETRY and
/*	leaves the schedule as it was: the next tick tries again.
/*--*/
#include "pdconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched_int.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/clock.h"
#include "util/msg.h"

#define SCHED_ROUNDS_MAX	100000	/* rounds in one tick: a bug guard */

/* sched_configure - cache the settings the scheduler reads often */

static void
sched_configure(SCHED *s)
{
	char  **list, *err = 0;

	s->batch = (size_t) config_int(s->cf, "engine_batch_size");
	s->retry_limit = (long) config_int(s->cf, "engine_retry_limit");
	s->sig.soft_limit = (int) config_int(s->cf, "soft_bounce_limit");
	s->sig.soft_window = (long) config_int(s->cf, "soft_bounce_window");
	s->nbackoff = 0;
	for (list = config_list(s->cf, "engine_retry_backoff"); *list && s->nbackoff < 16; list++)
		if (clock_parse_duration(*list, &s->backoff[s->nbackoff]) == 0
		    && s->backoff[s->nbackoff] > 0)
			s->nbackoff++;
	if (s->nbackoff == 0)
		s->backoff[s->nbackoff++] = 300;
	/* The policy daemon's caps: the same rules, and its counters. */
	s->ncaps = 0;
	for (list = config_list(s->cf, "frequency_caps"); *list && s->ncaps < 8; list++) {
		long	limit, window;

		if (caps_parse_rate(*list, CAPS_LIMIT_MAX, &limit, &window) == 0) {
			s->caps_n[s->ncaps] = (int) limit;
			s->caps_period[s->ncaps] = window;
			s->ncaps++;
		}
	}
	if (s->caps)
		caps_free(s->caps);
	if ((s->caps = caps_create(s->cf, &err)) == 0) {
		sched_log(s, 1, "frequency caps: %s; only frequency_caps is applied", err);
		myfree(err);
	}
}

/* sched_create - a scheduler over a store, config and workflow set */

SCHED  *
sched_create(STORE *st, CONFIG *cf, WORKFLOW_SET *wfs, TOKENS *tk)
{
	SCHED  *s = mycalloc(1, sizeof(*s));

	/* The scheduler's work per round is bounded by the batch size. */
	s->st = st;
	s->cf = cf;
	s->wfs = wfs;
	s->tk = tk;
	sched_configure(s);
	return (s);
}

/* sched_reload - new settings and workflows (the injector is remade) */

void
sched_reload(SCHED *s, CONFIG *cf, WORKFLOW_SET *wfs)
{
	s->cf = cf;
	s->wfs = wfs;
	if (s->inj) {
		inject_free(s->inj);
		s->inj = 0;
	}
	sched_configure(s);
}

/* sched_set_log - where decisions are reported */

void
sched_set_log(SCHED *s, SCHED_LOG fn, void *ctx)
{
	s->log = fn;
	s->logctx = ctx;
}

/* sched_set_stop - a flag that ends a tick early (a signal handler's) */

void
sched_set_stop(SCHED *s, volatile sig_atomic_t *stop)
{
	s->stop = stop;
}

/* sched_free - release; the store, config and workflows stay */

void
sched_free(SCHED *s)
{
	if (s->inj)
		inject_free(s->inj);
	if (s->caps)
		caps_free(s->caps);
	myfree(s->pend);
	myfree(s->later_id);
	myfree(s->later_due);
	strbuf_free(&s->txnlog);
	myfree(s);
}

typedef struct SCHED_ENROL_REQ {
	SCHED  *s;
	const WORKFLOW *wf;
	uint64_t contact;
	uint64_t id;
} SCHED_ENROL_REQ;

/* sched_enrol_write - sched_enrol()'s transaction */

static int
sched_enrol_write(STORE_TXN *txn, void *ctx)
{
	SCHED_ENROL_REQ *r = ctx;

	sched_txnlog_reset(r->s);
	return (sched_enrol_txn(r->s, txn, r->wf, r->contact, 0, 0, r->s->now, &r->id));
}

/* sched_enrol - enrol a contact on request */

int
sched_enrol(SCHED *s, uint64_t contact, const char *workflow, time_t now,
	            uint64_t *id)
{
	SCHED_ENROL_REQ r;
	int	rc;

	memset(&r, 0, sizeof(r));
	if ((r.wf = workflow_find(s->wfs, workflow)) == 0)
		return (STORE_NOTFOUND);
	r.s = s;
	r.contact = contact;
	s->now = now;
	rc = store_write(s->st, sched_enrol_write, &r);
	sched_txnlog_flush(s, rc);
	if (rc == STORE_OK && id)
		*id = r.id;
	return (rc);
}

/* sched_tick - everything due at now */

int
sched_tick(SCHED *s, time_t now, SCHED_STATS *stats)
{
	SCHED_STATS dummy;
	size_t	nev, njob, ninact;
	int	round, rc = STORE_OK;

	memset(&dummy, 0, sizeof(dummy));
	s->stats = stats ? stats : &dummy;
	s->now = now;
	if ((rc = sched_dates(s)) != STORE_OK)
		goto out;
	for (round = 0; round < SCHED_ROUNDS_MAX; round++) {
		nev = njob = ninact = 0;
		if ((rc = sched_follow(s, &nev)) != STORE_OK)
			break;
		if ((rc = sched_inactive(s, &ninact)) != STORE_OK)
			break;
		if ((rc = sched_run_due(s, &njob)) != STORE_OK)
			break;
		if ((rc = sched_inject_round(s)) != STORE_OK)
			break;
		if ((rc = sched_run_later(s)) != STORE_OK)
			break;
		/* A webhook job may have gone on to a send. */
		if (s->npend && (rc = sched_inject_round(s)) != STORE_OK)
			break;
		store_flush(s->st);
		if (s->write_failed) {
			/* Leave the rest to the next tick rather than spin. */
			s->write_failed = 0;
			rc = STORE_RETRY;
			break;
		}
		if (nev == 0 && njob == 0 && ninact == 0)
			break;
		if (s->stop && *s->stop)
			break;			/* the rest is done after a restart */
	}
out:
	/* Idle injection connections end here, not at smtpd's timeout. */
	if (s->inj)
		inject_idle(s->inj);
	s->stats = 0;
	return (rc);
}

/*
 * Re-timing after a reload. A job's time was computed under the settings
 * of its day: a wait step's end from its duration, a send step put off to
 * the opening of its send window. After a reload that changed either, the
 * administrator expects the jobs already queued to follow the new settings,
 * as Postfix's queue manager applies a changed setting to mail already
 * queued. So: a wait (or the timeout of a wait for an event) ends at its
 * start plus the new duration; a send put off by its window waits for the
 * next opening of the new window, or, when that is open now, is due now
 * and meets the caps anew. Backoffs after a deferral and held jobs (not in
 * the schedule) are left as they are.
 */
typedef struct SCHED_RETIME {
	SCHED  *s;
	uint64_t *ids;
	time_t *old;
	time_t *new;
	size_t	n;
	size_t	changed;
} SCHED_RETIME;

/* retime_due - the job's time under the current settings */

static time_t
retime_due(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e)
{
	const WORKFLOW *wf;
	const WF_STEP *st;
	json_t *rec = 0;
	time_t	t;
	int	idx;

	if ((wf = workflow_find(s->wfs, e->workflow)) == 0
	    || (idx = workflow_step_find(wf, e->step)) < 0)
		return (e->due);
	st = wf->steps + idx;
	if (e->phase == SCHED_PH_WAIT && st->kind == WF_STEP_WAIT)
		return (e->updated + st->duration);
	if (e->phase == SCHED_PH_WAIT && st->kind == WF_STEP_WAIT_FOR)
		return (e->wait_since + st->duration);
	if (e->phase == SCHED_PH_START && st->kind == WF_STEP_SEND
	    && e->attempts == 0 && e->due > s->now) {
		/* The window closed now: its next opening. Open now: the job
		 * waited for the old window or for a cap, and meets both anew. */
		(void) store_contact_get(txn, e->contact, &rec);
		t = workflow_send_window(wf, workflow_contact_tz(wf, rec), s->now);
		if (rec)
			json_decref(rec);
		return (t > s->now ? t : s->now);
	}
	return (e->due);
}

/* retime_write - move the jobs that are still as they were read */

static int
retime_write(STORE_TXN *txn, void *ctx)
{
	SCHED_RETIME *r = ctx;
	SCHED_ENROL e;
	size_t	i;
	int	rc;

	sched_txnlog_reset(r->s);
	r->changed = 0;
	for (i = 0; i < r->n; i++) {
		if (sched_enrol_get(txn, r->ids[i], &e) != STORE_OK || e.due != r->old[i])
			continue;
		if ((rc = sched_job_set(txn, &e, r->new[i])) != STORE_OK
		    || (rc = sched_enrol_put(txn, &e)) != STORE_OK)
			return (rc);
		r->changed++;
	}
	return (STORE_OK);
}

/* sched_retime - apply changed waits and windows to queued jobs */

int
sched_retime(SCHED *s, time_t now, size_t *changed)
{
	SCHED_RETIME r;
	SCHED_ENROL e;
	STORE_TXN *txn;
	uint64_t *ids;
	time_t *dues, t;
	size_t	i, k, max;
	int	rc;

	*changed = 0;
	s->now = now;
	if ((rc = store_rbegin(s->st, &txn)) != STORE_OK)
		return (rc);
	max = store_count(txn, STORE_DB_SCHEDULE);
	ids = mymalloc((max + 1) * sizeof(*ids));
	dues = mymalloc((max + 1) * sizeof(*dues));
	memset(&r, 0, sizeof(r));
	r.s = s;
	r.ids = mymalloc((max + 1) * sizeof(*r.ids));
	r.old = mymalloc((max + 1) * sizeof(*r.old));
	r.new = mymalloc((max + 1) * sizeof(*r.new));
	k = sched_due(txn, (time_t) INT64_MAX, ids, dues, max);
	for (i = 0; i < k; i++) {
		if (sched_enrol_get(txn, ids[i], &e) != STORE_OK || e.due != dues[i]
		    || (e.state != SCHED_ACTIVE && e.state != SCHED_WAITING))
			continue;
		if ((t = retime_due(s, txn, &e)) == e.due || t <= 0)
			continue;
		if (t < now)
			t = now;
		if (t == e.due)
			continue;
		r.ids[r.n] = e.id;
		r.old[r.n] = e.due;
		r.new[r.n++] = t;
	}
	store_rend(txn);
	if (r.n && (rc = store_write(s->st, retime_write, &r)) == STORE_OK)
		*changed = r.changed;
	myfree(ids);
	myfree(dues);
	myfree(r.ids);
	myfree(r.old);
	myfree(r.new);
	return (rc);
}
