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
/*	Every change of an enrolment is one transaction (SCHED_TR), which
/*	first checks that the enrolment is still as it was read: a change
/*	computed from a stale read is dropped, never applied twice.
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

/* sched_log - report a decision or trouble through the callback */

void
sched_log(SCHED *s, int warn, const char *fmt,...)
{
	va_list	ap;
	char	buf[1024];

	if (s->log == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->log(s->logctx, warn, "%s", buf);
}

/* sched_log_txn - keep a decision until its transaction commits */

void
sched_log_txn(SCHED *s, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	strbuf_vprintf(&s->txnlog, fmt, ap);
	va_end(ap);
	strbuf_putc(&s->txnlog, '\n');
}

/* sched_txnlog_reset - a transaction function starts (again) */

void
sched_txnlog_reset(SCHED *s)
{
	strbuf_reset(&s->txnlog);
}

/* sched_txnlog_flush - log what a committed transaction decided */

void
sched_txnlog_flush(SCHED *s, int status)
{
	char   *line, *next;

	if (status == STORE_OK)
		for (line = s->txnlog.data; line && *line; line = next) {
			if ((next = strchr(line, '\n')) != 0)
				*next++ = 0;
			sched_log(s, 0, "%s", line);
		}
	strbuf_reset(&s->txnlog);
}

/* sched_backoff - the delay before retry number attempts (1-based) */

time_t
sched_backoff(SCHED *s, uint32_t attempts)
{
	int	i = attempts == 0 ? 0 : (int) attempts - 1;

	if (i >= s->nbackoff)
		i = s->nbackoff - 1;
	return (s->backoff[i]);
}

/* sched_tr_init - a transition of enrolment e (NULL: a new one) */

void
sched_tr_init(SCHED_TR *tr, SCHED *s, const SCHED_ENROL *e)
{
	memset(tr, 0, sizeof(*tr));
	tr->s = s;
	if (e) {
		tr->before = *e;
		tr->after = *e;
		tr->due = e->due;
	}
}

/* sched_tr_event - append an event to the transition (data is stolen) */

void
sched_tr_event(SCHED_TR *tr, const char *type, json_t *data)
{
	if (tr->nev >= SCHED_EV_MAX)
		msg_panic("sched_tr_event: too many events");
	snprintf(tr->ev[tr->nev].type, sizeof(tr->ev[0].type), "%s", type);
	tr->ev[tr->nev].data = data;
	tr->nev++;
}

/* sched_tr_free - release the events of a transition */

void
sched_tr_free(SCHED_TR *tr)
{
	int	i;

	for (i = 0; i < tr->nev; i++)
		if (tr->ev[i].data)
			json_decref(tr->ev[i].data);
	tr->nev = 0;
}

/* enrol_same - is the stored enrolment still the one the change was made from? */

static int
enrol_same(const SCHED_ENROL *a, const SCHED_ENROL *b)
{
	return (a->nsteps == b->nsteps && a->phase == b->phase && a->state == b->state
		&& a->due == b->due && a->attempts == b->attempts
		&& strcmp(a->step, b->step) == 0);
}

/* sched_tr_write - the transaction of one transition (store writer) */

static int
sched_tr_write(STORE_TXN *txn, void *ctx)
{
	return (sched_tr_apply(txn, ctx));
}

/* sched_tr_apply - apply a transition inside a write transaction */

int
sched_tr_apply(STORE_TXN *txn, SCHED_TR *tr)
{
	SCHED_ENROL cur, e;
	STORE_SENT dup;
	json_t *contact = 0;
	int	rc, i;

	/* A replayed batch runs this again from the start. */
	while (tr->nev > tr->nev_base) {
		tr->nev--;
		if (tr->ev[tr->nev].data)
			json_decref(tr->ev[tr->nev].data);
	}
	if (tr->before.id != 0) {
		if ((rc = sched_enrol_get(txn, tr->before.id, &cur)) != STORE_OK)
			return (rc == STORE_NOTFOUND ? STORE_EXISTS : rc);
		if (!enrol_same(&cur, &tr->before))
			return (STORE_EXISTS);
	}
	if (tr->has_sent
	    && (rc = store_sent_by_msgid(txn, tr->sent.message_id, &dup)) != STORE_NOTFOUND)
		return (rc == STORE_OK ? STORE_EXISTS : rc);
	if (tr->contact_op) {
		rc = store_contact_get(txn, tr->after.contact, &contact);
		if (rc == STORE_OK) {
			if (tr->contact_op(tr, contact) > 0
			    && (rc = store_contact_put(txn, contact, 0)) != STORE_OK) {
				json_decref(contact);
				return (rc);
			}
			json_decref(contact);
		} else if (rc != STORE_NOTFOUND)
			return (rc);
	}
	if (tr->has_sent && (rc = store_sent_put(txn, &tr->sent)) != STORE_OK)
		return (rc);
	for (i = 0; i < tr->nev; i++)
		if ((rc = store_event_append(txn, tr->after.contact, tr->s->now,
					     tr->ev[i].type, tr->ev[i].data, 0)) != STORE_OK)
			return (rc);
	if (tr->out_put && (rc = sched_out_put(txn, tr->after.id, tr->out_put)) != STORE_OK)
		return (rc);
	if (tr->out_del && (rc = sched_out_del(txn, tr->after.id)) != STORE_OK)
		return (rc);
	if (tr->suppress) {
		json_t *rec;

		if (store_contact_get(txn, tr->after.contact, &rec) == STORE_OK) {
			const char *addr = json_string_value(json_object_get(rec, "email"));

			rc = addr ? store_suppress_put(txn, addr, tr->suppress, "engine",
						       tr->s->now) : STORE_OK;
			json_decref(rec);
			if (rc != STORE_OK)
				return (rc);
		}
	}
	e = tr->after;
	e.due = tr->before.id ? tr->before.due : 0;
	e.updated = tr->s->now;
	if (e.id == 0)
		e.id = store_next_id(txn, "enrolment");
	if ((rc = sched_job_set(txn, &e, tr->due)) != STORE_OK)
		return (rc);
	if ((rc = sched_enrol_put(txn, &e)) != STORE_OK)
		return (rc);
	tr->after = e;
	return (STORE_OK);
}

/* sched_tr_done - after the commit of a queued transition (writer thread) */

static void
sched_tr_done(void *ctx, int status)
{
	SCHED_TR *tr = ctx;

	if (status == STORE_OK && tr->committed)
		*tr->committed = 1;
	if (status != STORE_OK && status != STORE_EXISTS)
		tr->s->write_failed = 1;
	if (status != STORE_OK && status != STORE_EXISTS)
		sched_log(tr->s, 1, "enrolment=%llu: cannot record step: %s; tried again later",
			  (unsigned long long) tr->before.id, store_strerror(status));
	sched_tr_free(tr);
	myfree(tr);
}

/* sched_commit - queue a transition for the group commit */

int
sched_commit(SCHED_TR *tr, SCHED_ENROL *e)
{
	SCHED_TR *copy;
	int	go_on = tr->after.state == SCHED_ACTIVE && tr->due != 0
	&& tr->due <= tr->s->now && tr->after.phase == SCHED_PH_START;

	tr->nev_base = tr->contact_op ? tr->nev : SCHED_EV_MAX;
	copy = mymemdup(tr, sizeof(*tr));
	tr->nev = 0;				/* the events went with the copy */
	if (e) {
		*e = tr->after;
		e->due = tr->due;
		e->updated = tr->s->now;
	}
	store_write_async(tr->s->st, sched_tr_write, copy, sched_tr_done, 0);
	return (go_on);
}

/* sched_end - the enrolment ends (done or exited) */

void
sched_end(SCHED *s, SCHED_TR *tr, int state, const char *reason)
{
	json_t *data = json_pack("{s:s, s:s}", "workflow", tr->after.workflow,
				 "reason", reason);

	if (*tr->after.step)
		json_object_set_new(data, "step", json_string(tr->after.step));
	tr->after.state = state;
	tr->after.phase = SCHED_PH_START;
	tr->after.step[0] = 0;
	tr->after.attempts = 0;
	snprintf(tr->after.reason, sizeof(tr->after.reason), "%s", reason);
	tr->due = 0;
	sched_tr_event(tr, state == SCHED_DONE ? "workflow_completed" : "workflow_exited",
		       data);
	if (s->stats)
		__atomic_fetch_add(&s->stats->ended, 1, __ATOMIC_RELAXED);
}

/* sched_goto - go on with step index next, at once */

void
sched_goto(SCHED *s, SCHED_TR *tr, const WORKFLOW *wf, int next)
{
	if (next == WF_END || next < 0 || next >= wf->nsteps) {
		sched_end(s, tr, SCHED_DONE, "completed");
		return;
	}
	snprintf(tr->after.step, sizeof(tr->after.step), "%s", wf->steps[next].id);
	tr->after.state = SCHED_ACTIVE;
	tr->after.phase = SCHED_PH_START;
	tr->after.attempts = 0;
	tr->after.wait_since = 0;
	tr->after.nsteps++;
	tr->due = s->now;
}

/* facts_value_is - does a JSON value read as text equal want? */

static int
facts_value_is(json_t *v, const char *want)
{
	char	buf[64];

	if (v == 0)
		return (0);
	if (json_is_string(v))
		return (strcmp(json_string_value(v), want) == 0);
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long) json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%g", json_real_value(v));
	else if (json_is_true(v))
		snprintf(buf, sizeof(buf), "true");
	else if (json_is_false(v))
		snprintf(buf, sizeof(buf), "false");
	else
		return (0);
	return (strcmp(buf, want) == 0);
}

typedef struct FACTS_WALK {
	const char *type, *key, *value;
	time_t	since;
	int	found;
} FACTS_WALK;

/* facts_walk_fn - one timeline event against the question */

static int
facts_walk_fn(const STORE_EVENT *ev, void *ctx)
{
	FACTS_WALK *w = ctx;

	if (ev->time < w->since || strcmp(ev->type, w->type) != 0)
		return (0);
	/* Privacy proxies and scanners open everything: not a person. */
	if ((strcmp(ev->type, "opened") == 0 || strcmp(ev->type, "clicked") == 0) && ev->data
	    && json_is_true(json_object_get(ev->data, "machine")))
		return (0);
	if (w->key && (ev->data == 0 || !facts_value_is(json_object_get(ev->data, w->key),
							 w->value ? w->value : "")))
		return (0);
	w->found = 1;
	return (1);
}

/* facts_has_event - WF_FACTS.has_event over the contact's timeline */

static int
facts_has_event(void *ctx, const char *type, const char *key,
		        const char *value, time_t since)
{
	SCHED_FACTS *sf = ctx;
	FACTS_WALK w = {type, key, value, since, 0};

	if (store_timeline_walk(sf->txn, sf->contact, facts_walk_fn, &w) != STORE_OK)
		return (-1);
	return (w.found);
}

/* sched_facts_init - facts about a contact, read in txn */

void
sched_facts_init(SCHED_FACTS *sf, SCHED *s, STORE_TXN *txn, json_t *contact,
		         time_t since)
{
	memset(sf, 0, sizeof(*sf));
	sf->txn = txn;
	sf->contact = (uint64_t) json_integer_value(json_object_get(contact, "id"));
	sf->f.contact = contact;
	sf->f.has_event = facts_has_event;
	sf->f.in_segment = 0;
	sf->f.ctx = sf;
	sf->f.now = s->now;
	sf->f.since = since;
	sf->f.set = s->wfs;
}

/* sched_enrol_txn - enrol inside a write transaction, if the rules allow */

int
sched_enrol_txn(SCHED *s, STORE_TXN *txn, const WORKFLOW *wf, uint64_t contact,
		        json_t *rec, uint64_t trigger_seq, time_t first_due, uint64_t *idp)
{
	SCHED_ENROL prev, e;
	SCHED_FACTS sf;
	json_t *own = 0, *data;
	int	rc;

	if (!wf->enabled)
		return (STORE_EXISTS);
	rc = sched_enrol_find(txn, contact, wf->name, &prev);
	if (rc == STORE_OK) {
		if (prev.state == SCHED_ACTIVE || prev.state == SCHED_WAITING)
			return (STORE_EXISTS);
		if (wf->reentry == WF_REENTRY_ONCE)
			return (STORE_EXISTS);
		if (wf->reentry == WF_REENTRY_INTERVAL
		    && s->now - prev.started < wf->reentry_after)
			return (STORE_EXISTS);
	} else if (rc != STORE_NOTFOUND)
		return (rc);
	if (rec == 0) {
		if ((rc = store_contact_get(txn, contact, &own)) != STORE_OK)
			return (rc);
		rec = own;
	}
	sched_facts_init(&sf, s, txn, rec, s->now);
	rc = workflow_audience_eval(wf, &sf.f);
	if (own)
		json_decref(own);
	if (rc < 0)
		return (STORE_RETRY);
	if (rc == 0)
		return (STORE_EXISTS);

	memset(&e, 0, sizeof(e));
	e.contact = contact;
	snprintf(e.workflow, sizeof(e.workflow), "%s", wf->name);
	e.started = e.updated = s->now;
	e.trigger_seq = trigger_seq;
	data = json_pack("{s:s}", "workflow", wf->name);
	if (trigger_seq)
		json_object_set_new(data, "trigger_seq", json_integer((json_int_t) trigger_seq));
	if (wf->nsteps == 0) {
		e.state = SCHED_DONE;
		snprintf(e.reason, sizeof(e.reason), "completed");
	} else {
		e.state = SCHED_ACTIVE;
		e.nsteps = 1;
		snprintf(e.step, sizeof(e.step), "%s", wf->steps[0].id);
	}
	e.id = store_next_id(txn, "enrolment");
	if ((rc = sched_job_set(txn, &e, e.state != SCHED_ACTIVE ? 0 :
				first_due > s->now ? first_due : s->now)) != STORE_OK
	    || (rc = sched_enrol_put(txn, &e)) != STORE_OK
	    || (rc = store_event_append(txn, contact, s->now, "workflow_enrolled", data, 0))
	    != STORE_OK) {
		json_decref(data);
		return (rc);
	}
	json_decref(data);
	if (s->stats)
		s->stats->enrolled++;
	sched_log_txn(s, "enrolled: contact=%llu workflow=%s enrolment=%llu trigger=%llu",
		  (unsigned long long) contact, wf->name, (unsigned long long) e.id,
		  (unsigned long long) trigger_seq);
	if (idp)
		*idp = e.id;
	return (STORE_OK);
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
	s->stats = 0;
	return (rc);
}
