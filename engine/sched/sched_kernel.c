/*++
/* NAME
/*	sched_kernel 3
/* SUMMARY
/*	the scheduler's transition kernel: transitions, commit, log, facts
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	void	sched_tr_init(tr, s, e)
/*
/*	void	sched_tr_event(tr, type, data)
/*
/*	void	sched_tr_log(tr, warn, fmt, ...)
/*
/*	int	sched_commit(tr, e)
/*
/*	int	sched_tr_apply(txn, tr)
/*
/*	void	sched_goto(s, tr, wf, next)
/*
/*	void	sched_end(s, tr, state, reason)
/*
/*	void	sched_facts_init(sf, s, txn, contact, since)
/*
/*	int	sched_enrol_txn(s, txn, wf, contact, rec, trigger_seq, first_due, id)
/* DESCRIPTION
/*	What every step file (sched_run.c, sched_follow.c, sched_send.c,
/*	sched_webhook.c) builds on, apart from the tick (sched.c) that
/*	calls them: the step files depend on this file and never on the
/*	tick.
/*
/*	A transition (SCHED_TR) is one change of one enrolment with the
/*	events, the contact change, the send record, the outbox entry and
/*	the suppression that go with it. sched_commit() queues it for the
/*	store's group commit; inside the transaction the enrolment is
/*	compared with the one the change was computed from, and a stale
/*	change is dropped whole (STORE_EXISTS), never applied twice.
/*
/*	The decisions a transition makes are logged by sched_tr_log() only
/*	once it has committed: a transition dropped as stale, or one the
/*	store could not write, leaves no line that claims it. Decisions
/*	made inside a transaction the caller runs (sched_log_txn()) are
/*	logged after that transaction, the same way.
/*
/*	sched_goto() and sched_end() move an enrolment on or end it;
/*	sched_facts_init() answers a workflow's conditions from the
/*	contact's record and timeline; sched_enrol_txn() enrols inside a
/*	write transaction when the audience and re-entry rules allow.
/* DIAGNOSTICS
/*	Through the scheduler's log callback only; a transition that
/*	cannot be written is logged as a warning and tried again later.
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

/* sched_addr - the contact's address, for a log line */

const char *
sched_addr(STORE_TXN *txn, uint64_t contact, const json_t *rec, char *buf)
{
	json_t *own = 0;
	const char *a;

	if (rec == 0 && txn != 0 && store_contact_get(txn, contact, &own) == STORE_OK)
		rec = own;
	a = rec ? json_string_value(json_object_get(rec, "email")) : 0;
	snprintf(buf, ADDR_MAX + 1, "%s", a ? a : "");
	if (own)
		json_decref(own);
	return (buf);
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

/* sched_tr_log - keep a decision line until the transition commits */

void
sched_tr_log(SCHED_TR *tr, int warn, const char *fmt,...)
{
	va_list	ap;

	strbuf_putc(&tr->log, warn ? 'w' : 'i');
	va_start(ap, fmt);
	strbuf_vprintf(&tr->log, fmt, ap);
	va_end(ap);
	strbuf_putc(&tr->log, '\n');
}

/* sched_tr_log_flush - log the decisions of a committed transition */

static void
sched_tr_log_flush(SCHED_TR *tr)
{
	char   *line, *next;

	for (line = tr->log.data; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != 0)
			*next++ = 0;
		sched_log(tr->s, *line == 'w', "%s", line + 1);
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
	strbuf_free(&tr->log);
	if (tr->bounce) {
		myfree(tr->bounce);
		tr->bounce = 0;
	}
	if (tr->values) {
		json_decref(tr->values);
		tr->values = 0;
	}
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
	if (tr->bounce) {
		/* The token names the message by its number, as a VERP one does. */
		rc = store_sent_by_msgid(txn, tr->bounce->message_id, &dup);
		if (rc == STORE_RETRY)
			return (rc);
		tr->bounce->m.token.message = rc == STORE_OK ? dup.msgno : 0;
		if ((rc = signal_apply(txn, &tr->bounce->m)) != STORE_OK)
			return (rc);
	}
	if (tr->counter
	    && (rc = sched_meta_put(txn, tr->counter,
				    sched_meta_get(txn, tr->counter) + 1)) != STORE_OK)
		return (rc);
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

/* sched_bounce_log - what a refusal recorded as a bounce did */

static void
sched_bounce_log(SCHED_TR *tr)
{
	const SCHED_BOUNCE *b = tr->bounce;
	const SIG_OUT *o = b->m.nout ? b->m.out : 0;

	sched_log(tr->s, 0, "NOQUEUE: bounced: contact=%llu address=<%s> to=<%s> message-id=<%s> "
		  "workflow=%s stage=injection status=%s class=%s reason=%s%s%s",
		  (unsigned long long) tr->before.contact, b->rcpt, b->rcpt, b->message_id,
		  tr->before.workflow, b->row.status[0] ? b->row.status : "-",
		  classify_class_name(b->row.class), b->row.reason,
		  o && o->suppressed ? " suppressed=" : "",
		  o && o->suppressed ? o->suppressed : "");
}

/* sched_tr_done - after the commit of a queued transition (writer thread) */

static void
sched_tr_done(void *ctx, int status)
{
	SCHED_TR *tr = ctx;

	if (status == STORE_OK && tr->committed)
		*tr->committed = 1;
	/* What the log says happened is what the store says happened. */
	if (status == STORE_OK)
		sched_tr_log_flush(tr);
	if (status == STORE_OK && tr->bounce)
		sched_bounce_log(tr);
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
	memset(&tr->log, 0, sizeof(tr->log));	/* and so did the log */
	tr->bounce = 0;				/* and the bounce */
	tr->values = 0;				/* and the fields to set */
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
		return (workflow_value_match(json_string_value(v), want));
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
	return (workflow_value_match(buf, want));
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
	/* An unsubscribe link is no click unless the question names it. */
	if (w->key == 0 && strcmp(ev->type, "clicked") == 0 && workflow_click_unsub(ev->data))
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

/* rc_prev_live - is prev a running enrolment that a restart ends? */

static int
rc_prev_live(const SCHED_ENROL *prev, const WORKFLOW *wf)
{
	return (prev->id != 0 && wf->reentry == WF_REENTRY_RESTART
		&& (prev->state == SCHED_ACTIVE || prev->state == SCHED_WAITING));
}

/* sched_enrol_txn - enrol inside a write transaction, if the rules allow */

int
sched_enrol_txn(SCHED *s, STORE_TXN *txn, const WORKFLOW *wf, uint64_t contact,
		        json_t *rec, uint64_t trigger_seq, time_t first_due, uint64_t *idp)
{
	SCHED_ENROL prev, e;
	SCHED_FACTS sf;
	json_t *own = 0, *data;
	char	addr[ADDR_MAX + 1];
	int	rc;

	memset(&prev, 0, sizeof(prev));
	if (!wf->enabled)
		return (STORE_EXISTS);
	rc = sched_enrol_find(txn, contact, wf->name, &prev);
	if (rc == STORE_OK) {
		if ((prev.state == SCHED_ACTIVE || prev.state == SCHED_WAITING)
		    && wf->reentry != WF_REENTRY_RESTART)
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
	(void) sched_addr(0, contact, rec, addr);
	if (own)
		json_decref(own);
	if (rc < 0)
		return (STORE_RETRY);
	if (rc == 0)
		return (STORE_EXISTS);
	/*
	 * reentry: restart. The running enrolment ends first, in this same
	 * transaction, so that there is never a moment with two; a message it
	 * had ready to inject is dropped with it. Only a contact the audience
	 * takes restarts: otherwise the running one goes on.
	 */
	if (rc_prev_live(&prev, wf)) {
		SCHED_TR tr;

		sched_tr_init(&tr, s, &prev);
		if (prev.phase == SCHED_PH_INJECT)
			tr.out_del = 1;
		sched_end(s, &tr, SCHED_EXITED, "restarted");
		tr.nev_base = SCHED_EV_MAX;
		rc = sched_tr_apply(txn, &tr);
		sched_tr_free(&tr);
		if (rc != STORE_OK)
			return (rc == STORE_EXISTS ? STORE_RETRY : rc);
		sched_log_txn(s, "exited: contact=%llu workflow=%s enrolment=%llu reason=restarted",
			  (unsigned long long) contact, wf->name, (unsigned long long) prev.id);
	}

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
	sched_log_txn(s, "enrolled: contact=%llu address=<%s> workflow=%s enrolment=%llu trigger=%llu",
		  (unsigned long long) contact, addr, wf->name, (unsigned long long) e.id,
		  (unsigned long long) trigger_seq);
	if (idp)
		*idp = e.id;
	return (STORE_OK);
}
