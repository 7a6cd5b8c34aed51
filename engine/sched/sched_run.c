/*++
/* NAME
/*	sched_run 3
/* SUMMARY
/*	running the jobs that are due: one step after another
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	int	sched_run_due(s, n)
/*
/*	int	sched_op_set(tr, contact)
/* DESCRIPTION
/*	sched_run_due() reads at most engine_batch_size jobs due at the
/*	tick's now, earliest first, and runs each enrolment's steps until
/*	one waits (wait, wait until, wait for, a send window, a frequency
/*	cap, a retry) or queues a message for injection. Before each step
/*	the workflow's exit rules are evaluated; one that holds ends the
/*	enrolment.
/*
/*	Each step's outcome is one transaction (SCHED_TR): the enrolment's
/*	new step and job, the events that tell what happened, and the
/*	change of the contact (set, tags, score), so a crash leaves either
/*	the step done or not begun. A step that has effects outside the
/*	store (webhook) can be repeated after a crash; a send cannot (see
/*	scheduler.h).
/*
/*	An enrolment runs at most SCHED_STEPS_MAX steps in one go: a
/*	workflow that loops without waiting is stopped for a minute each
/*	time, not allowed to spin.
/*
/*	The values of a set step that hold "{{" are Mustache templates,
/*	rendered against the context of a message (sched_context(): the
/*	contact, the trigger event...) when the step runs; an empty result
/*	removes the field. sched_op_set() applies the step's values, or
/*	those of tr->values (a rendered set, a webhook's saved answer), to
/*	the contact record inside the transaction.
/*
/*	A job whose next step is a webhook is kept aside by
/*	sched_run_due() and run by sched_run_later(), which the tick calls
/*	after the round's messages are injected: a slow endpoint then holds
/*	up the other webhooks, not the sends. A webhook reached after other
/*	steps of the same job is still called in line.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "sched/sched_int.h"
#include "util/mymalloc.h"

#define SCHED_STEPS_MAX		100
#define SCHED_RETRY_SOON	60	/* after a fact could not be read */

/* sched_op_set - WF_STEP_SET (or a webhook's save) on the current record */

int
sched_op_set(SCHED_TR *tr, json_t *contact)
{
	json_t *fields = json_object_get(contact, "fields");
	json_t *values = tr->values ? tr->values : tr->step->values;
	const char *name;
	json_t *v, *old;
	int	changes = 0;

	if (fields == 0 || !json_is_object(fields)) {
		fields = json_object();
		json_object_set_new(contact, "fields", fields);
	}
	json_object_foreach(values, name, v) {
		old = json_object_get(fields, name);
		if (json_is_null(v) ? old == 0 : (old && json_equal(old, v)))
			continue;
		if (tr->nev < SCHED_EV_MAX - 2)
			sched_tr_event(tr, "field_changed",
				       json_pack("{s:s, s:O, s:O, s:s}", "field", name,
						 "value", v, "old", old ? old : json_null(),
						 "workflow", tr->after.workflow));
		if (json_is_null(v))
			json_object_del(fields, name);
		else
			json_object_set(fields, name, v);
		changes++;
	}
	return (changes);
}

/* tag_index - position of tag in the contact's tags, or -1 */

static int
tag_index(json_t *tags, const char *tag)
{
	size_t	i;
	json_t *v;

	json_array_foreach(tags, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), tag) == 0)
		return ((int) i);
	return (-1);
}

/* op_tag - WF_STEP_ADD_TAG and WF_STEP_REMOVE_TAG */

static int
op_tag(SCHED_TR *tr, json_t *contact)
{
	json_t *tags = json_object_get(contact, "tags");
	int	i;

	if (tags == 0 || !json_is_array(tags)) {
		tags = json_array();
		json_object_set_new(contact, "tags", tags);
	}
	i = tag_index(tags, tr->step->name);
	if (tr->step->kind == WF_STEP_ADD_TAG) {
		if (i >= 0)
			return (0);
		json_array_append_new(tags, json_string(tr->step->name));
	} else {
		if (i < 0)
			return (0);
		json_array_remove(tags, (size_t) i);
	}
	sched_tr_event(tr, tr->step->kind == WF_STEP_ADD_TAG ? "tag_added" : "tag_removed",
		       json_pack("{s:s, s:s}", "tag", tr->step->name,
				 "workflow", tr->after.workflow));
	return (1);
}

/* op_score - WF_STEP_ADD_SCORE */

static int
op_score(SCHED_TR *tr, json_t *contact)
{
	json_int_t score = json_integer_value(json_object_get(contact, "score"));

	if (tr->step->score == 0)
		return (0);
	score += tr->step->score;
	json_object_set_new(contact, "score", json_integer(score));
	sched_tr_event(tr, "score_changed",
		       json_pack("{s:I, s:I, s:s}", "score", score,
				 "delta", (json_int_t) tr->step->score,
				 "workflow", tr->after.workflow));
	return (1);
}

/* set_render - the values of a set step with their templates rendered */

static json_t *
set_render(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, const WORKFLOW *wf,
	           const WF_STEP *st, json_t *rec)
{
	json_t *ctx, *values, *v;
	const char *name;
	void   *tmp;
	char   *err = 0;
	int	templated = 0;

	json_object_foreach(st->values, name, v)
		if (json_is_string(v) && strstr(json_string_value(v), "{{"))
		templated = 1;
	if (!templated)
		return (0);
	ctx = sched_context(s, txn, e, st, rec);
	values = json_deep_copy(st->values);
	json_object_foreach_safe(values, tmp, name, v) {
		if (!json_is_string(v) || strstr(json_string_value(v), "{{") == 0)
			continue;
		if (sched_render_json(v, ctx, &err) < 0) {
			/* The field keeps its value; the rest of the step is done. */
			sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: set %s: %s; "
				  "field not changed", (unsigned long long) e->id, wf->name,
				  st->id, name, err ? err : "?");
			myfree(err);
			err = 0;
			json_object_del(values, name);
		} else if (json_string_length(v) == 0) {
			/* Nothing to say (no such datum): no field, rather than "". */
			json_object_set_new(values, name, json_null());
		}
	}
	json_decref(ctx);
	return (values);
}

/*
 * wait_begin - a wait_for step begins: has its event come already?
 *
 * The wait counts events from when the step logically began, which may
 * be before this tick: when the step after a wait ran late (its time is
 * in wait_since), or, for a workflow's first step, from the event that
 * enrolled the contact (only events after that one: a second page visit
 * recorded before the engine followed the first). The follower has
 * passed those events already (they came while the enrolment was not
 * waiting), so the contact's timeline is read back to that moment.
 * Sets *since (what the follower compares later events with); returns
 * 1 with the event's type in type and its sequence in *seq when one
 * matches, 0 when none does, -1 when the store cannot be read.
 */
typedef struct WAIT_SEEN {
	const WF_STEP *st;
	uint64_t after_seq;
	char   *type;
	size_t	len;
	int	found;
	uint64_t seq;			/* the event found */
} WAIT_SEEN;

static int
wait_seen(const STORE_EVENT *ev, void *ctx)
{
	WAIT_SEEN *w = ctx;

	if (ev->seq <= w->after_seq)
		return (0);
	if (!workflow_match(&w->st->match, ev->type, ev->data))
		return (0);
	snprintf(w->type, w->len, "%s", ev->type);
	w->found = 1;
	w->seq = ev->seq;
	return (1);
}

static int
wait_begin(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, const WF_STEP *st,
	           time_t *since, char *type, size_t len, uint64_t *seq)
{
	WAIT_SEEN w;
	STORE_EVENT tev;
	int	rc;

	*since = s->now;
	memset(&w, 0, sizeof(w));
	w.st = st;
	w.type = type;
	w.len = len;
	if (e->wait_since > 0 && e->wait_since < *since)
		*since = e->wait_since;
	if (e->nsteps == 1 && e->trigger_seq) {
		if ((rc = store_event_get(txn, e->trigger_seq, &tev)) == STORE_OK) {
			if (tev.time < *since)
				*since = tev.time;
			w.after_seq = e->trigger_seq;
			store_event_free(&tev);
		} else if (rc != STORE_NOTFOUND)
			return (-1);
	}
	if (*since >= s->now && w.after_seq == 0)
		return (0);
	if (store_timeline_walk_since(txn, e->contact, *since, wait_seen, &w) != STORE_OK)
		return (-1);
	*seq = w.seq;
	return (w.found);
}

/* run_step - one step; 1 go on, 0 stop, -1 store trouble */

static int
run_step(SCHED *s, SCHED_ENROL *e, const WORKFLOW *wf, const WF_STEP *st,
	         json_t *rec, SCHED_FACTS *sf)
{
	SCHED_TR tr, scratch;
	time_t	t;
	int	r, promoted;
	char	arm[WF_ID_MAX] = "", cid[24], addr[ADDR_MAX + 1], evtype[64];
	const char *pa;
	uint64_t evseq = 0;

	sched_tr_init(&tr, s, e);
	tr.step = st;
	(void) sched_addr(0, e->contact, rec, addr);
	if (s->stats)
		s->stats->steps++;
	switch (st->kind) {
	case WF_STEP_SEND:
		return (sched_step_send(s, sf->txn, e, wf, st, rec));
	case WF_STEP_NOTIFY:
		return (sched_step_notify(s, sf->txn, e, wf, st, rec));
	case WF_STEP_WEBHOOK:
		return (sched_step_webhook(s, sf->txn, e, wf, st, rec));
	case WF_STEP_WAIT:
	case WF_STEP_WAIT_UNTIL:
		if (e->phase == SCHED_PH_WAIT) {
			sched_goto(s, &tr, wf, st->next);
			/* When the next step began, if the tick came late: a
			 * wait_for then counts the events since (wait_begin()). */
			if (e->due > 0 && e->due < s->now)
				tr.after.wait_since = e->due;
			break;
		}
		t = st->kind == WF_STEP_WAIT ? s->now + st->duration
			: workflow_wait_until(wf, st, rec);
		if (t == (time_t) -1)
			sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: "
				  "no date in field %s: not waiting",
				  (unsigned long long) e->id, wf->name, st->id,
				  st->field ? st->field : "");
		if (t == (time_t) -1 || t <= s->now) {
			sched_goto(s, &tr, wf, st->next);
			break;
		}
		tr.after.phase = SCHED_PH_WAIT;
		tr.due = t;
		break;
	case WF_STEP_WAIT_FOR:
		if (e->phase == SCHED_PH_WAIT) {
			sched_tr_log(&tr, 0, "timeout: contact=%llu address=<%s> workflow=%s enrolment=%llu step=%s",
				  (unsigned long long) e->contact, addr, wf->name,
				  (unsigned long long) e->id, st->id);
			sched_goto(s, &tr, wf, st->on_timeout);
			break;
		}
		if ((r = wait_begin(s, sf->txn, e, st, &t, evtype, sizeof(evtype), &evseq)) < 0) {
			tr.due = s->now + SCHED_RETRY_SOON;
			break;
		}
		if (r > 0) {
			sched_tr_log(&tr, 0, "awakened: contact=%llu address=<%s> workflow=%s enrolment=%llu "
				     "step=%s event=%s (recorded before the step began)",
				     (unsigned long long) e->contact, addr, wf->name,
				     (unsigned long long) e->id, st->id, evtype);
			sched_goto(s, &tr, wf, st->on_event);
			tr.after.trigger_seq = evseq;	/* {{event}} of on_event */
			break;
		}
		tr.after.state = SCHED_WAITING;
		tr.after.phase = SCHED_PH_WAIT;
		tr.after.wait_since = t;
		tr.due = s->now + st->duration;
		break;
	case WF_STEP_IF:
		if ((r = workflow_cond_eval(st->cond, &sf->f)) < 0) {
			tr.due = s->now + SCHED_RETRY_SOON;
			break;
		}
		/* The branch taken is in the timeline: "why did I get this?" */
		sched_tr_event(&tr, "workflow_branch",
			       json_pack("{s:s, s:s, s:s}", "workflow", wf->name,
					 "step", st->id, "result", r ? "then" : "else"));
		sched_tr_log(&tr, 0, "branch: contact=%llu address=<%s> workflow=%s enrolment=%llu step=%s result=%s",
			  (unsigned long long) e->contact, addr, wf->name,
			  (unsigned long long) e->id, st->id, r ? "then" : "else");
		sched_goto(s, &tr, wf, r ? st->then_next : st->else_next);
		break;
	case WF_STEP_SPLIT:
		/* A promotion by the CLI wins over the file's: it is the later word. */
		r = sched_promote_get(sf->txn, wf->name, st->id, arm, sizeof(arm));
		if (r != STORE_OK && r != STORE_NOTFOUND) {
			tr.due = s->now + SCHED_RETRY_SOON;
			break;
		}
		/* An arm the file no longer has is ignored (and the file's used). */
		pa = r == STORE_OK && workflow_arm_find(st, arm) >= 0 ? arm : st->promote;
		snprintf(cid, sizeof(cid), "%llu", (unsigned long long) e->contact);
		if ((r = workflow_split_arm(st, wf->name, cid, pa)) < 0) {
			sched_end(s, &tr, SCHED_EXITED, "split_no_arm");
			break;
		}
		promoted = pa != 0 && workflow_arm_find(st, pa) == r;
		sched_tr_event(&tr, "workflow_split",
			       json_pack("{s:s, s:s, s:s, s:b}", "workflow", wf->name,
					 "step", st->id, "arm", st->arms[r].name,
					 "promoted", promoted));
		sched_tr_log(&tr, 0, "split: contact=%llu address=<%s> workflow=%s enrolment=%llu step=%s arm=%s%s",
			  (unsigned long long) e->contact, addr, wf->name,
			  (unsigned long long) e->id, st->id, st->arms[r].name,
			     promoted ? " promoted" : "");
		sched_goto(s, &tr, wf, st->arms[r].next);
		break;
	case WF_STEP_SET:
		tr.contact_op = sched_op_set;
		tr.values = set_render(s, sf->txn, e, wf, st, rec);
		sched_goto(s, &tr, wf, st->next);
		break;
	case WF_STEP_ADD_TAG:
	case WF_STEP_REMOVE_TAG:
		tr.contact_op = op_tag;
		sched_goto(s, &tr, wf, st->next);
		break;
	case WF_STEP_ADD_SCORE:
		tr.contact_op = op_score;
		sched_goto(s, &tr, wf, st->next);
		break;
	case WF_STEP_UNSUBSCRIBE:
		tr.suppress = st->name ? st->name : "workflow";
		sched_tr_event(&tr, "unsubscribed",
			       json_pack("{s:s, s:s, s:s}", "source", "workflow",
					 "workflow", wf->name, "reason", tr.suppress));
		sched_goto(s, &tr, wf, st->next);
		break;
	case WF_STEP_GOTO:
		sched_goto(s, &tr, wf, st->next);
		break;
	case WF_STEP_END:
	default:
		sched_end(s, &tr, SCHED_DONE, "end");
		break;
	}
	/* Later steps of this run see the change too (the store gets it
	 * from the commit, applied to the record as it is then). */
	if (tr.contact_op) {
		sched_tr_init(&scratch, s, e);
		scratch.step = st;
		scratch.values = tr.values;
		(void) tr.contact_op(&scratch, rec);
		scratch.values = 0;
		sched_tr_free(&scratch);
	}
	return (sched_commit(&tr, e));
}

/* run_end - end an enrolment that cannot go on */

static void
run_end(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, int state, const char *reason)
{
	SCHED_TR tr;
	char	addr[ADDR_MAX + 1];

	sched_tr_init(&tr, s, e);
	if (e->phase == SCHED_PH_INJECT)
		tr.out_del = 1;
	sched_end(s, &tr, state, reason);
	sched_tr_log(&tr, state == SCHED_EXITED && strcmp(reason, "exit_rule") != 0,
		  "%s: contact=%llu address=<%s> workflow=%s enrolment=%llu reason=%s",
		  state == SCHED_DONE ? "completed" : "exited",
		  (unsigned long long) e->contact, sched_addr(txn, e->contact, 0, addr), e->workflow,
		  (unsigned long long) e->id, reason);
	(void) sched_commit(&tr, 0);
}

typedef struct RUN_STALE {
	time_t	due;
	uint64_t id;
} RUN_STALE;

/* run_stale_write - remove a schedule entry no enrolment stands behind */

static int
run_stale_write(STORE_TXN *txn, void *ctx)
{
	RUN_STALE *r = ctx;
	int	rc = sched_job_del(txn, r->due, r->id);

	myfree(r);
	return (rc);
}

/* run_hold_write - take a held enrolment's job off the schedule */

static int
run_hold_write(STORE_TXN *txn, void *ctx)
{
	RUN_STALE *r = ctx;
	SCHED_ENROL e;
	int	rc;

	if ((rc = sched_enrol_get(txn, r->id, &e)) == STORE_OK && e.due == r->due
	    && sched_hold_get(txn, r->id, 0) == STORE_OK) {
		if ((rc = sched_hold_put(txn, r->id, r->due)) == STORE_OK
		    && (rc = sched_job_set(txn, &e, 0)) == STORE_OK)
			rc = sched_enrol_put(txn, &e);
	} else if (rc == STORE_OK || rc == STORE_NOTFOUND)
		rc = sched_job_del(txn, r->due, r->id);
	myfree(r);
	return (rc);
}

/* run_job - the steps of one enrolment, until one stops */

static int
run_job(SCHED *s, uint64_t id, time_t due)
{
	SCHED_ENROL e;
	SCHED_FACTS sf;
	SCHED_TR tr;
	STORE_TXN *txn;
	const WORKFLOW *wf;
	json_t *rec = 0;
	int	iter, rc, idx, r;
	char	addr[ADDR_MAX + 1];

	if ((rc = store_rbegin(s->st, &txn)) != STORE_OK)
		return (rc);
	rc = sched_enrol_get(txn, id, &e);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		goto out;
	if (rc == STORE_NOTFOUND || e.due != due
	    || (e.state != SCHED_ACTIVE && e.state != SCHED_WAITING)) {
		RUN_STALE *stale = mymalloc(sizeof(*stale));

		/* The key is not this enrolment's job (a leftover). */
		stale->due = due;
		stale->id = id;
		store_write_async(s->st, run_stale_write, stale, 0, 0);
		rc = STORE_OK;
		goto out;
	}
	if (sched_hold_get(txn, id, 0) == STORE_OK) {
		RUN_STALE *held = mymalloc(sizeof(*held));

		/* Held by "postdrip queue --hold": the job waits for --release. */
		sched_log(s, 0, "held: contact=%llu address=<%s> workflow=%s step=%s enrolment=%llu",
			  (unsigned long long) e.contact, sched_addr(txn, e.contact, 0, addr),
			  e.workflow, e.step,
			  (unsigned long long) id);
		held->due = due;
		held->id = id;
		store_write_async(s->st, run_hold_write, held, 0, 0);
		rc = STORE_OK;
		goto out;
	}
	if ((wf = workflow_find(s->wfs, e.workflow)) == 0) {
		run_end(s, txn, &e, SCHED_EXITED, "workflow_removed");
		goto out;
	}
	if (e.phase == SCHED_PH_INJECT) {
		sched_queue_parked(s, txn, &e);
		goto out;
	}
	if ((rc = store_contact_get(txn, e.contact, &rec)) != STORE_OK) {
		if (rc == STORE_NOTFOUND) {
			run_end(s, txn, &e, SCHED_EXITED, "contact_removed");
			rc = STORE_OK;
		}
		goto out;
	}
	for (iter = 0; iter < SCHED_STEPS_MAX; iter++) {
		if ((idx = workflow_step_find(wf, e.step)) < 0) {
			run_end(s, txn, &e, SCHED_EXITED, "step_removed");
			goto out;
		}
		sched_facts_init(&sf, s, txn, rec, e.started);
		if ((r = workflow_exit_eval(wf, &sf.f)) > 0) {
			run_end(s, txn, &e, SCHED_EXITED, "exit_rule");
			goto out;
		}
		if (r < 0)
			break;
		if (run_step(s, &e, wf, wf->steps + idx, rec, &sf) == 0)
			goto out;
	}
	/* A loop without a wait, or a fact that could not be read: let it
	 * rest a little instead of spinning. */
	if (iter >= SCHED_STEPS_MAX)
		sched_log(s, 1, "enrolment=%llu workflow=%s: %d steps without a wait; pausing",
			  (unsigned long long) id, e.workflow, SCHED_STEPS_MAX);
	sched_tr_init(&tr, s, &e);
	tr.due = s->now + SCHED_RETRY_SOON;
	(void) sched_commit(&tr, 0);
out:
	if (rec)
		json_decref(rec);
	store_rend(txn);
	return (rc);
}

/* run_is_webhook - does the enrolment's next step call a webhook? */

static int
run_is_webhook(SCHED *s, STORE_TXN *txn, uint64_t id)
{
	SCHED_ENROL e;
	const WORKFLOW *wf;
	int	idx;

	if (sched_enrol_get(txn, id, &e) != STORE_OK || e.state != SCHED_ACTIVE
	    || e.phase == SCHED_PH_INJECT || (wf = workflow_find(s->wfs, e.workflow)) == 0
	    || (idx = workflow_step_find(wf, e.step)) < 0)
		return (0);
	return (wf->steps[idx].kind == WF_STEP_WEBHOOK);
}

/* sched_run_due - one batch of due jobs */

int
sched_run_due(SCHED *s, size_t *n)
{
	STORE_TXN *txn;
	uint64_t *ids;
	time_t *dues;
	char   *later;
	size_t	i, k;
	int	rc;

	*n = 0;
	if ((rc = store_rbegin(s->st, &txn)) != STORE_OK)
		return (rc);
	ids = mymalloc(s->batch * sizeof(*ids));
	dues = mymalloc(s->batch * sizeof(*dues));
	later = mymalloc(s->batch);
	k = sched_due(txn, s->now, ids, dues, s->batch);
	for (i = 0; i < k; i++)
		later[i] = run_is_webhook(s, txn, ids[i]);
	store_rend(txn);
	s->nlater = 0;
	for (i = 0; i < k; i++) {
		if (later[i]) {
			if (s->later_id == 0) {
				s->later_id = mymalloc(s->batch * sizeof(*s->later_id));
				s->later_due = mymalloc(s->batch * sizeof(*s->later_due));
			}
			s->later_id[s->nlater] = ids[i];
			s->later_due[s->nlater++] = dues[i];
			continue;
		}
		s->reserve_hint = k - i;
		if ((rc = run_job(s, ids[i], dues[i])) != STORE_OK)
			break;
	}
	/* Left for the next tick with the rest when the store is in trouble. */
	if (rc != STORE_OK)
		s->nlater = 0;
	myfree(ids);
	myfree(dues);
	myfree(later);
	*n = i;
	if (s->stats)
		s->stats->jobs += i;
	return (rc);
}

/* sched_run_later - the webhook jobs sched_run_due() kept aside */

int
sched_run_later(SCHED *s)
{
	size_t	i;
	int	rc = STORE_OK;

	for (i = 0; i < s->nlater && rc == STORE_OK; i++) {
		s->reserve_hint = s->nlater - i;
		rc = run_job(s, s->later_id[i], s->later_due[i]);
	}
	s->nlater = 0;
	return (rc);
}
