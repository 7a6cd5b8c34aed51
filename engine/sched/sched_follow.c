/*++
/* NAME
/*	sched_follow 3
/* SUMMARY
/*	triggers: following events, date fields, inactivity, segments
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	int	sched_follow(s, n)
/*
/*	int	sched_dates(s)
/*
/*	int	sched_inactive(s, n)
/* DESCRIPTION
/*	sched_follow() reads the events recorded after the cursor
/*	"sched.events" (META), at most engine_batch_size of them, and for
/*	each one, in one transaction with the cursor's new value:
/* .IP \(bu
/*	updates the engagement index (a human open, a click other than on
/*	an unsubscribe link, or a reply; a
/*	contact's first event of any kind enters it too, so that a contact
/*	who never engaged can become inactive);
/* .IP \(bu
/*	ends the contact's enrolments whose exit rules the event matches,
/*	and wakes those waiting for it (wait_for);
/* .IP \(bu
/*	enrols the contact in each workflow whose event trigger it fires,
/*	if the event is not older than engine_trigger_window (so that a
/*	first start over an old store does not replay its history);
/* .IP \(bu
/*	re-evaluates the segments of segment triggers for the contact and
/*	enrols on entry (membership is kept in MISC "seg").
/* .PP
/*	The work per event is bounded by the contact's enrolments and the
/*	number of workflows, never by the number of contacts. Events the
/*	engine records about its own work (workflow_*, sent) fire no
/*	triggers.
/*
/*	sched_dates() fires yearly and date triggers once per UTC day, for
/*	the days since the last one it did (at most 31 back), from the date
/*	index (STORE_DB_DATEIDX) under the month and day (or date) that the
/*	trigger's offset points at; the contacts of the neighbouring days
/*	are read too because a contact's zone can move its day, and
/*	workflow_trigger_next() decides the instant. An enrolment made for a
/*	later hour of the day gets its first job at that hour. A date
/*	trigger whose field is set (a new contact, field_changed) after its
/*	day was done is caught when the event is followed.
/*
/*	sched_inactive() enrols, for each inactivity trigger, the contacts
/*	whose last engagement fell into (cursor, now - N]: a range of the
/*	engagement index, so each contact is looked at once when it becomes
/*	inactive. On the first run the cursor is 0: every contact already
/*	inactive enters (in batches).
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "sched/sched_int.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/clock.h"

#define FOLLOW_ENROL_MAX	256	/* enrolments of one contact looked at */

typedef struct FOLLOW {
	SCHED  *s;
	size_t	n;
} FOLLOW;

typedef struct ENROL_LIST {
	SCHED_ENROL *e;
	size_t	n;
} ENROL_LIST;

/* follow_collect - the contact's live enrolments */

static int
follow_collect(SCHED_ENROL *e, void *ctx)
{
	ENROL_LIST *l = ctx;

	if (e->state == SCHED_ACTIVE || e->state == SCHED_WAITING)
		l->e[l->n++] = *e;
	return (l->n >= FOLLOW_ENROL_MAX);
}

/* follow_own - an event the engine records about its own work */

static int
follow_own(const char *type)
{
	return (strncmp(type, "workflow_", 9) == 0 || strcmp(type, "sent") == 0
		|| strcmp(type, "send_deferred") == 0 || strcmp(type, "send_refused") == 0
		|| strcmp(type, "send_failed") == 0 || strcmp(type, "notified") == 0
		|| strncmp(type, "webhook", 7) == 0);
}

/* follow_human - does the event show a person engaging? */

static int
follow_human(const STORE_EVENT *ev)
{
	if (ev->data && json_is_true(json_object_get(ev->data, "machine")))
		return (0);
	if (strcmp(ev->type, "opened") == 0)
		return (1);
	/* Wanting fewer messages is no sign of interest. */
	if (strcmp(ev->type, "clicked") == 0)
		return (!workflow_click_unsub(ev->data));
	return (strcmp(ev->type, "replied") == 0);
}

/* follow_enrolments - exits and awaited events */

static int
follow_enrolments(SCHED *s, STORE_TXN *txn, const STORE_EVENT *ev)
{
	SCHED_ENROL buf[FOLLOW_ENROL_MAX];
	ENROL_LIST l = {buf, 0};
	const WORKFLOW *wf;
	const WF_STEP *st;
	SCHED_TR tr;
	size_t	i;
	int	rc, idx;
	char	addr[ADDR_MAX + 1] = "";

	if ((rc = sched_enrol_walk(txn, ev->contact, follow_collect, &l)) != STORE_OK)
		return (rc);
	for (i = 0; i < l.n; i++) {
		SCHED_ENROL *e = l.e + i;

		if ((wf = workflow_find(s->wfs, e->workflow)) == 0)
			continue;
		sched_tr_init(&tr, s, e);
		if (workflow_exit_match(wf, ev->type, ev->data)) {
			if (e->phase == SCHED_PH_INJECT)
				tr.out_del = 1;	/* consent or goal: do not send it */
			sched_end(s, &tr, SCHED_EXITED, ev->type);
			if (*addr == 0)
				(void) sched_addr(txn, e->contact, 0, addr);
			sched_log_txn(s, "exited: contact=%llu address=<%s> workflow=%s enrolment=%llu reason=%s",
				  (unsigned long long) e->contact, addr, e->workflow,
				  (unsigned long long) e->id, ev->type);
		} else if (e->state == SCHED_WAITING
			   && (idx = workflow_step_find(wf, e->step)) >= 0
			   && (st = wf->steps + idx)->kind == WF_STEP_WAIT_FOR
			   && ev->time >= e->wait_since && ev->time <= e->due
			   && workflow_match(&st->match, ev->type, ev->data)) {
			sched_goto(s, &tr, wf, st->on_event);
			/* The steps of on_event see this event as {{event}}. */
			tr.after.trigger_seq = ev->seq;
			if (*addr == 0)
				(void) sched_addr(txn, e->contact, 0, addr);
			sched_log_txn(s, "awakened: contact=%llu address=<%s> workflow=%s enrolment=%llu step=%s event=%s",
				  (unsigned long long) e->contact, addr, e->workflow,
				  (unsigned long long) e->id, st->id, ev->type);
		} else
			continue;
		tr.nev_base = SCHED_EV_MAX;
		rc = sched_tr_apply(txn, &tr);
		sched_tr_free(&tr);
		if (rc != STORE_OK && rc != STORE_EXISTS)
			return (rc);
	}
	return (STORE_OK);
}

/* follow_segments - segment triggers: enrol on entry */

static int
follow_segments(SCHED *s, STORE_TXN *txn, const STORE_EVENT *ev)
{
	const WORKFLOW *wf;
	const WF_SEGMENT *seg;
	json_t *rec = 0;
	SCHED_FACTS sf;
	STRBUF	key = STRBUF_INIT;
	STORE_VAL	v;
	int	i, in, was, rc = STORE_OK;
	unsigned char id[8];

	for (i = 0; i < workflow_count(s->wfs); i++) {
		wf = workflow_at(s->wfs, i);
		if (!wf->enabled || wf->trigger.kind != WF_TRIG_SEGMENT
		    || (seg = workflow_segment(s->wfs, wf->trigger.segment)) == 0)
			continue;
		if (rec == 0 && (rc = store_contact_get(txn, ev->contact, &rec)) != STORE_OK)
			break;
		sched_facts_init(&sf, s, txn, rec, s->now);
		if ((in = workflow_segment_eval(seg, &sf.f)) < 0) {
			rc = STORE_RETRY;
			break;
		}
		strbuf_reset(&key);
		strbuf_append(&key, "seg", 4);
		strbuf_append(&key, seg->name, strlen(seg->name) + 1);
		store_u64_put(id, ev->contact);
		strbuf_append(&key, id, 8);
		rc = store_get(txn, STORE_DB_MISC, key.data, key.len, &v);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			break;
		was = rc == STORE_OK;
		rc = STORE_OK;
		if (in && !was) {
			if ((rc = store_put(txn, STORE_DB_MISC, key.data, key.len, "", 0, 0)) != STORE_OK)
				break;
			rc = sched_enrol_txn(s, txn, wf, ev->contact, rec, ev->seq, s->now, 0);
			if (rc == STORE_EXISTS)
				rc = STORE_OK;
			if (rc != STORE_OK)
				break;
		} else if (!in && was) {
			if ((rc = store_del(txn, STORE_DB_MISC, key.data, key.len)) != STORE_OK)
				break;
		}
	}
	if (rec)
		json_decref(rec);
	strbuf_free(&key);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/*
 * follow_dates - date triggers whose day was done before the field was set
 *
 * sched_dates() looks at a day once, at its first tick. A contact who
 * registers at 15:00 for a webinar at 10:00 tomorrow, with "date:
 * webinar_at, before: 1d", has a trigger instant in a day already done:
 * the date index did not know it then. So when an event says that the
 * field of a date trigger was set (a new contact, or field_changed), the
 * instant is looked at here too, for the days sched_dates() has done since
 * the start of today; one already past fires at once. Earlier days are too
 * late. Yearly triggers are left out: a birthday or an anniversary entered
 * on the day itself waits for the next year (the anniversary of "created"
 * would otherwise fire on the day the contact is created).
 */
static int
follow_dates(SCHED *s, STORE_TXN *txn, const STORE_EVENT *ev)
{
	const WORKFLOW *wf;
	const char *field;
	json_t *rec = 0;
	time_t	lo, hi, t;
	int	i, rc = STORE_OK;

	if (strcmp(ev->type, "subscribed") == 0)
		field = 0;
	else if (strcmp(ev->type, "field_changed") == 0 && ev->data)
		field = json_string_value(json_object_get(ev->data, "field"));
	else
		return (STORE_OK);
	lo = s->now - s->now % 86400;
	hi = (time_t) sched_meta_get(txn, "sched.day") * 86400;
	if (hi <= lo)
		return (STORE_OK);
	for (i = 0; i < workflow_count(s->wfs) && rc == STORE_OK; i++) {
		wf = workflow_at(s->wfs, i);
		if (!wf->enabled || wf->trigger.kind != WF_TRIG_DATE
		    || (field && strcmp(field, wf->trigger.field) != 0))
			continue;
		if (rec == 0 && (rc = store_contact_get(txn, ev->contact, &rec)) != STORE_OK)
			break;
		t = workflow_trigger_next(wf, rec, lo);
		if (t == (time_t) -1 || t >= hi)
			continue;
		rc = sched_enrol_txn(s, txn, wf, ev->contact, rec, ev->seq,
				     t > s->now ? t : s->now, 0);
		if (rc == STORE_EXISTS)
			rc = STORE_OK;
	}
	if (rec)
		json_decref(rec);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* follow_one - everything one event may cause */

static int
follow_one(SCHED *s, STORE_TXN *txn, const STORE_EVENT *ev)
{
	const WORKFLOW *wf;
	time_t	t;
	int	i, rc;

	if (follow_human(ev))
		rc = sched_engage_touch(txn, ev->contact, ev->time);
	else if ((rc = sched_engage_get(txn, ev->contact, &t)) == STORE_NOTFOUND)
		rc = sched_engage_touch(txn, ev->contact, ev->time);
	if (rc != STORE_OK)
		return (rc);
	/* A privacy proxy or a link scanner: never a trigger, a wake-up or a
	 * goal (tracker_bot(3) labels them). */
	if (ev->data && json_is_true(json_object_get(ev->data, "machine")))
		return (STORE_OK);
	if ((rc = follow_enrolments(s, txn, ev)) != STORE_OK)
		return (rc);
	if (follow_own(ev->type))
		return (STORE_OK);
	if (ev->time >= s->now - (time_t) config_int(s->cf, "engine_trigger_window")) {
		for (i = 0; i < workflow_count(s->wfs); i++) {
			wf = workflow_at(s->wfs, i);
			if (!workflow_trigger_match(wf, ev->type, ev->data))
				continue;
			rc = sched_enrol_txn(s, txn, wf, ev->contact, 0, ev->seq, s->now, 0);
			if (rc != STORE_OK && rc != STORE_EXISTS && rc != STORE_NOTFOUND)
				return (rc);
		}
		if ((rc = follow_dates(s, txn, ev)) != STORE_OK)
			return (rc);
	}
	return (follow_segments(s, txn, ev));
}

/* follow_write - one batch of events, and the cursor, in one transaction */

static int
follow_write(STORE_TXN *txn, void *ctx)
{
	FOLLOW *f = ctx;
	SCHED  *s = f->s;
	STORE_EVENT ev;
	uint64_t cursor;
	int	rc = STORE_OK;

	f->n = 0;
	sched_txnlog_reset(s);
	cursor = sched_meta_get(txn, "sched.events");
	while (f->n < s->batch) {
		if ((rc = store_event_next(txn, cursor, &ev)) == STORE_NOTFOUND) {
			rc = STORE_OK;
			break;
		}
		if (rc != STORE_OK)
			return (rc);
		cursor = ev.seq;
		f->n++;
		rc = ev.contact ? follow_one(s, txn, &ev) : STORE_OK;
		store_event_free(&ev);
		if (rc != STORE_OK)
			return (rc);
	}
	if (f->n)
		rc = sched_meta_put(txn, "sched.events", cursor);
	return (rc);
}

/* sched_follow - one batch of new events */

int
sched_follow(SCHED *s, size_t *n)
{
	FOLLOW	f = {s, 0};
	STORE_TXN *txn;
	uint64_t cursor, last;
	int	rc;

	/* Most ticks find nothing new: find that out without the writer. */
	if ((rc = store_rbegin(s->st, &txn)) != STORE_OK)
		return (rc);
	cursor = sched_meta_get(txn, "sched.events");
	last = store_event_last(txn);
	store_rend(txn);
	if (last <= cursor) {
		*n = 0;
		return (STORE_OK);
	}
	rc = store_write(s->st, follow_write, &f);
	sched_txnlog_flush(s, rc);
	*n = rc == STORE_OK ? f.n : 0;
	if (s->stats)
		s->stats->events += *n;
	return (rc);
}

typedef struct ID_LIST {
	uint64_t *id;
	size_t	n, a;
} ID_LIST;

/* id_push - collect a contact id */

static int
id_push(uint64_t contact, void *ctx)
{
	ID_LIST *l = ctx;

	if (l->n == l->a) {
		l->a = l->a ? 2 * l->a : 64;
		l->id = myrealloc(l->id, l->a * sizeof(*l->id));
	}
	l->id[l->n++] = contact;
	return (0);
}

typedef struct DATES {
	SCHED  *s;
	long	day;			/* days since the epoch, UTC */
} DATES;

/* dates_write - the date triggers of one day */

static int
dates_write(STORE_TXN *txn, void *ctx)
{
	DATES  *d = ctx;
	SCHED  *s = d->s;
	const WORKFLOW *wf;
	ID_LIST l = {0, 0, 0};
	time_t	dstart = (time_t) d->day * 86400, t, fd;
	/* Room for any int: gmtime_r() of a far date gives a year of more
	 * than four digits, whose key then matches no contact. */
	char	key[sizeof("D-2147483648-2147483648-2147483648")];
	struct tm tm;
	json_t *rec;
	size_t	j;
	int	i, delta, rc = STORE_OK;

	sched_txnlog_reset(s);
	for (i = 0; i < workflow_count(s->wfs) && rc == STORE_OK; i++) {
		wf = workflow_at(s->wfs, i);
		if (!wf->enabled || (wf->trigger.kind != WF_TRIG_YEARLY
				     && wf->trigger.kind != WF_TRIG_DATE))
			continue;
		l.n = 0;
		for (delta = -1; delta <= 1; delta++) {
			fd = dstart + delta * 86400 - wf->trigger.offset;
			gmtime_r(&fd, &tm);
			if (wf->trigger.kind == WF_TRIG_YEARLY)
				snprintf(key, sizeof(key), "A%02d%02d", tm.tm_mon + 1, tm.tm_mday);
			else
				snprintf(key, sizeof(key), "D%04d%02d%02d", tm.tm_year + 1900,
					 tm.tm_mon + 1, tm.tm_mday);
			if ((rc = sched_dateidx_walk(txn, key, wf->trigger.field, id_push, &l)) != STORE_OK)
				break;
			/* 29 February falls on 28 February in other years. */
			if (wf->trigger.kind == WF_TRIG_YEARLY && tm.tm_mon == 1 && tm.tm_mday == 28
			    && (rc = sched_dateidx_walk(txn, "A0229", wf->trigger.field,
							id_push, &l)) != STORE_OK)
				break;
		}
		for (j = 0; j < l.n && rc == STORE_OK; j++) {
			if ((rc = store_contact_get(txn, l.id[j], &rec)) == STORE_NOTFOUND) {
				rc = STORE_OK;
				continue;
			}
			if (rc != STORE_OK)
				break;
			t = workflow_trigger_next(wf, rec, dstart);
			if (t != (time_t) -1 && t < dstart + 86400) {
				rc = sched_enrol_txn(s, txn, wf, l.id[j], rec, 0, t, 0);
				if (rc == STORE_EXISTS)
					rc = STORE_OK;
			}
			json_decref(rec);
		}
	}
	myfree(l.id);
	if (rc == STORE_OK)
		rc = sched_meta_put(txn, "sched.day", (uint64_t) d->day + 1);
	return (rc);
}

/* sched_dates - the date triggers of every day not done yet */

int
sched_dates(SCHED *s)
{
	STORE_TXN *txn;
	DATES	d = {s, 0};
	long	today = (long) (s->now / 86400), last;
	int	rc;

	if ((rc = store_rbegin(s->st, &txn)) != STORE_OK)
		return (rc);
	last = (long) sched_meta_get(txn, "sched.day") - 1;	/* -1: never */
	store_rend(txn);
	if (last < 0 || last < today - 31)
		last = last < 0 ? today - 1 : today - 32;
	for (d.day = last + 1; d.day <= today; d.day++) {
		rc = store_write(s->st, dates_write, &d);
		sched_txnlog_flush(s, rc);
		if (rc != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
}

typedef struct INACT_ITEM {
	time_t	t;
	uint64_t contact;
} INACT_ITEM;

typedef struct INACT {
	SCHED  *s;
	const WORKFLOW *wf;
	INACT_ITEM *item;
	size_t	n;
} INACT;

/* inact_push - one contact that became inactive */

static int
inact_push(time_t t, uint64_t contact, void *ctx)
{
	INACT  *in = ctx;

	in->item[in->n].t = t;
	in->item[in->n].contact = contact;
	return (++in->n >= in->s->batch);
}

/* inact_write - one batch of an inactivity trigger */

static int
inact_write(STORE_TXN *txn, void *ctx)
{
	INACT  *in = ctx;
	SCHED  *s = in->s;
	char	kt[WF_ID_MAX + 32], kc[WF_ID_MAX + 32];
	time_t	after, upto = s->now - in->wf->trigger.inactive;
	uint64_t after_c;
	size_t	i;
	int	rc;

	snprintf(kt, sizeof(kt), "sched.inactive.%s", in->wf->name);
	snprintf(kc, sizeof(kc), "sched.inactivec.%s", in->wf->name);
	sched_txnlog_reset(s);
	after = (time_t) sched_meta_get(txn, kt);
	after_c = sched_meta_get(txn, kc);
	in->n = 0;
	if (upto <= 0)
		return (STORE_OK);
	(void) sched_engage_range(txn, after, after_c, upto, inact_push, in);
	for (i = 0; i < in->n; i++) {
		rc = sched_enrol_txn(s, txn, in->wf, in->item[i].contact, 0, 0, s->now, 0);
		if (rc != STORE_OK && rc != STORE_EXISTS && rc != STORE_NOTFOUND)
			return (rc);
	}
	if (in->n > 0) {
		if ((rc = sched_meta_put(txn, kt, (uint64_t) in->item[in->n - 1].t)) != STORE_OK)
			return (rc);
		return (sched_meta_put(txn, kc, in->item[in->n - 1].contact));
	}
	return (STORE_OK);
}

/* sched_inactive - inactivity triggers: one batch each */

int
sched_inactive(SCHED *s, size_t *n)
{
	INACT	in;
	int	i, rc = STORE_OK;

	*n = 0;
	memset(&in, 0, sizeof(in));
	in.s = s;
	for (i = 0; i < workflow_count(s->wfs); i++) {
		in.wf = workflow_at(s->wfs, i);
		if (!in.wf->enabled || in.wf->trigger.kind != WF_TRIG_INACTIVE)
			continue;
		if (in.item == 0)
			in.item = mymalloc(s->batch * sizeof(*in.item));
		rc = store_write(s->st, inact_write, &in);
		sched_txnlog_flush(s, rc);
		if (rc != STORE_OK)
			break;
		*n += in.n;
	}
	myfree(in.item);
	return (rc);
}
