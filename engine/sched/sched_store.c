/*++
/* NAME
/*	sched_store 3
/* SUMMARY
/*	enrolments, the schedule and the scheduler's indexes in the store
/* SYNOPSIS
/*	#include "sched/scheduler.h"
/*
/*	int	sched_enrol_get(txn, id, e)
/*	int	sched_enrol_find(txn, contact, workflow, e)
/*	int	sched_enrol_put(txn, e)
/*	int	sched_job_set(txn, e, due)
/*	size_t	sched_due(txn, now, ids, dues, max)
/*	int	sched_engage_touch(txn, contact, when)
/*	int	sched_out_put(txn, enrol, o)
/* DESCRIPTION
/*	The records behind sched(3); scheduler.h lists the databases and keys.
/*
/*	An enrolment is stored in a compact binary form (a version byte,
/*	the numbers in big-endian order, then the workflow, step and reason
/*	as null-terminated strings): with a million enrolments the record
/*	size is what decides the size of the map.
/*
/*	The schedule key is due(8) enrolment(8), so LMDB's key order is
/*	time order and a tick reads from the first key up to now and stops:
/*	its cost follows the jobs due, not the enrolments. The enrolment
/*	keeps its job's due time, which is how a job is found again to be
/*	moved or removed without a search.
/*
/*	The engagement index is kept twice, by time (for the inactivity
/*	trigger: who became inactive since the last look is a range) and by
/*	contact (to find and replace the contact's previous entry).
/* DIAGNOSTICS
/*	STORE_* results. A record that cannot be decoded is STORE_RETRY
/*	(it should not happen; the caller tempfails rather than guess).
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "sched/scheduler.h"
#include "store/store_sched.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define ENROL_VERSION	1
#define ENROL_FIXED	(2 + 2 + 4 + 4 + 7 * 8)

/* enrol_encode - the stored form of an enrolment */

static void
enrol_encode(const SCHED_ENROL *e, STRBUF *buf)
{
	unsigned char fixed[ENROL_FIXED];
	unsigned char *p = fixed;

	*p++ = 'E';
	*p++ = ENROL_VERSION;
	*p++ = (unsigned char) e->state;
	*p++ = (unsigned char) e->phase;
	p[0] = e->attempts >> 24, p[1] = e->attempts >> 16, p[2] = e->attempts >> 8,
		p[3] = e->attempts;
	p += 4;
	p[0] = e->nsteps >> 24, p[1] = e->nsteps >> 16, p[2] = e->nsteps >> 8,
		p[3] = e->nsteps;
	p += 4;
	store_u64_put(p, e->id), p += 8;
	store_u64_put(p, e->contact), p += 8;
	store_u64_put(p, (uint64_t) e->started), p += 8;
	store_u64_put(p, (uint64_t) e->updated), p += 8;
	store_u64_put(p, (uint64_t) e->due), p += 8;
	store_u64_put(p, (uint64_t) e->wait_since), p += 8;
	store_u64_put(p, e->trigger_seq), p += 8;
	strbuf_reset(buf);
	strbuf_append(buf, fixed, sizeof(fixed));
	strbuf_append(buf, e->workflow, strlen(e->workflow) + 1);
	strbuf_append(buf, e->step, strlen(e->step) + 1);
	strbuf_append(buf, e->reason, strlen(e->reason) + 1);
}

/* enrol_str - copy one null-terminated string of a record, bounded */

static int
enrol_str(const unsigned char **p, const unsigned char *end, char *out,
	          size_t size)
{
	const unsigned char *nul = memchr(*p, 0, end - *p);

	if (nul == 0 || (size_t) (nul - *p) >= size)
		return (-1);
	memcpy(out, *p, nul - *p + 1);
	*p = nul + 1;
	return (0);
}

/* enrol_decode - the in-memory form; -1 if the record is damaged */

static int
enrol_decode(const STORE_VAL *v, SCHED_ENROL *e)
{
	const unsigned char *p = v->data;
	const unsigned char *end = p + v->size;

	if (v->size < ENROL_FIXED || p[0] != 'E' || p[1] != ENROL_VERSION)
		return (-1);
	memset(e, 0, sizeof(*e));
	e->state = p[2];
	e->phase = p[3];
	p += 4;
	e->attempts = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | p[2] << 8 | p[3];
	p += 4;
	e->nsteps = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | p[2] << 8 | p[3];
	p += 4;
	e->id = store_u64_get(p), p += 8;
	e->contact = store_u64_get(p), p += 8;
	e->started = (time_t) store_u64_get(p), p += 8;
	e->updated = (time_t) store_u64_get(p), p += 8;
	e->due = (time_t) store_u64_get(p), p += 8;
	e->wait_since = (time_t) store_u64_get(p), p += 8;
	e->trigger_seq = store_u64_get(p), p += 8;
	if (enrol_str(&p, end, e->workflow, sizeof(e->workflow)) < 0
	    || enrol_str(&p, end, e->step, sizeof(e->step)) < 0
	    || enrol_str(&p, end, e->reason, sizeof(e->reason)) < 0)
		return (-1);
	return (0);
}

/* sched_enrol_get - an enrolment by id */

int
sched_enrol_get(STORE_TXN *txn, uint64_t id, SCHED_ENROL *e)
{
	unsigned char key[8];
	STORE_VAL	v;
	int	rc;

	store_u64_put(key, id);
	if ((rc = store_get(txn, STORE_DB_ENROL, key, 8, &v)) != STORE_OK)
		return (rc);
	return (enrol_decode(&v, e) < 0 ? STORE_RETRY : STORE_OK);
}

/* idx_key - contact(8) workflow\0; returns the length */

static size_t
idx_key(unsigned char *key, uint64_t contact, const char *workflow)
{
	size_t	len = strnlen(workflow, WF_ID_MAX - 1);

	store_u64_put(key, contact);
	memcpy(key + 8, workflow, len);
	key[8 + len] = 0;
	return (8 + len + 1);
}

/* sched_enrol_find - the latest enrolment of a contact in a workflow */

int
sched_enrol_find(STORE_TXN *txn, uint64_t contact, const char *workflow,
		         SCHED_ENROL *e)
{
	unsigned char key[8 + WF_ID_MAX];
	STORE_VAL	v;
	int	rc;

	rc = store_get(txn, STORE_DB_ENROL_IDX, key, idx_key(key, contact, workflow), &v);
	if (rc != STORE_OK)
		return (rc);
	if (v.size != 8)
		return (STORE_RETRY);
	return (sched_enrol_get(txn, store_u64_get(v.data), e));
}

/* sched_enrol_put - store an enrolment and its index entry */

int
sched_enrol_put(STORE_TXN *txn, SCHED_ENROL *e)
{
	unsigned char key[8 + WF_ID_MAX], id[8];
	STRBUF	buf = STRBUF_INIT;
	int	rc;

	if (e->id == 0)
		e->id = store_next_id(txn, "enrolment");
	store_u64_put(id, e->id);
	enrol_encode(e, &buf);
	rc = store_put(txn, STORE_DB_ENROL, id, 8, strbuf_str(&buf), strbuf_len(&buf), 0);
	strbuf_free(&buf);
	if (rc != STORE_OK)
		return (rc);
	return (store_put(txn, STORE_DB_ENROL_IDX, key, idx_key(key, e->contact, e->workflow),
			  id, 8, 0));
}

/* job_key - due(8) enrolment(8) */

static void
job_key(unsigned char *key, time_t due, uint64_t id)
{
	store_u64_put(key, (uint64_t) due);
	store_u64_put(key + 8, id);
}

/* sched_job_set - move (or remove, due 0) the enrolment's one job */

int
sched_job_set(STORE_TXN *txn, SCHED_ENROL *e, time_t due)
{
	unsigned char key[16];
	int	rc;

	if (e->due == due && due != 0)
		return (STORE_OK);
	if (e->due != 0) {
		job_key(key, e->due, e->id);
		rc = store_del(txn, STORE_DB_SCHEDULE, key, 16);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return (rc);
	}
	e->due = due;
	if (due == 0)
		return (STORE_OK);
	job_key(key, due, e->id);
	return (store_put(txn, STORE_DB_SCHEDULE, key, 16, "", 0, 0));
}

/* sched_job_del - remove one schedule entry by its key */

int
sched_job_del(STORE_TXN *txn, time_t due, uint64_t id)
{
	unsigned char key[16];
	int	rc;

	job_key(key, due, id);
	rc = store_del(txn, STORE_DB_SCHEDULE, key, 16);
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

typedef struct DUE_WALK {
	time_t	now;
	uint64_t *ids;
	time_t *dues;
	size_t	n, max;
} DUE_WALK;

/* due_walk_fn - one schedule entry */

static int
due_walk_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	            size_t vlen, void *ctx)
{
	DUE_WALK *w = ctx;

	(void) v;
	(void) vlen;
	if (klen != 16)
		return (0);
	if ((time_t) store_u64_get(k) > w->now)
		return (1);
	if (w->dues)
		w->dues[w->n] = (time_t) store_u64_get(k);
	w->ids[w->n++] = store_u64_get(k + 8);
	return (w->n >= w->max);
}

/* sched_due - the enrolments whose job is due, earliest first */

size_t
sched_due(STORE_TXN *txn, time_t now, uint64_t *ids, time_t *dues, size_t max)
{
	DUE_WALK w = {now, ids, dues, 0, max};

	if (max == 0)
		return (0);
	(void) store_walk(txn, STORE_DB_SCHEDULE, 0, 0, due_walk_fn, &w);
	return (w.n);
}

/* first_walk_fn - the earliest job's time */

static int
first_walk_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	              size_t vlen, void *ctx)
{
	(void) v;
	(void) vlen;
	if (klen == 16)
		*(time_t *) ctx = (time_t) store_u64_get(k);
	return (1);
}

/* sched_next_due - the time of the earliest job */

time_t
sched_next_due(STORE_TXN *txn)
{
	time_t	t = 0;

	(void) store_walk(txn, STORE_DB_SCHEDULE, 0, 0, first_walk_fn, &t);
	return (t);
}

typedef struct ENROL_WALK {
	STORE_TXN *txn;
	unsigned char key[8];
	int	(*fn) (SCHED_ENROL *e, void *ctx);
	void   *ctx;
	int	status;
} ENROL_WALK;

/* enrol_walk_fn - one index entry of the contact */

static int
enrol_walk_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	              size_t vlen, void *ctx)
{
	ENROL_WALK *w = ctx;
	SCHED_ENROL e;

	if (klen < 8 || memcmp(k, w->key, 8) != 0 || vlen != 8)
		return (1);
	if ((w->status = sched_enrol_get(w->txn, store_u64_get(v), &e)) != STORE_OK)
		return (1);
	return (w->fn(&e, w->ctx));
}

/* sched_enrol_walk - the enrolments of one contact */

int
sched_enrol_walk(STORE_TXN *txn, uint64_t contact,
		         int (*fn) (SCHED_ENROL *e, void *ctx), void *ctx)
{
	ENROL_WALK w;
	int	rc;

	w.txn = txn;
	store_u64_put(w.key, contact);
	w.fn = fn;
	w.ctx = ctx;
	w.status = STORE_OK;
	if ((rc = store_walk(txn, STORE_DB_ENROL_IDX, w.key, 8, enrol_walk_fn, &w)) != STORE_OK)
		return (rc);
	return (w.status);
}

/* sched_meta_get - a scheduler counter in META */

uint64_t
sched_meta_get(STORE_TXN *txn, const char *name)
{
	STORE_VAL	v;

	if (store_get(txn, STORE_DB_META, name, strlen(name), &v) != STORE_OK
	    || v.size != 8)
		return (0);
	return (store_u64_get(v.data));
}

/* sched_meta_put - write a scheduler counter */

int
sched_meta_put(STORE_TXN *txn, const char *name, uint64_t value)
{
	unsigned char v[8];

	store_u64_put(v, value);
	return (store_put(txn, STORE_DB_META, name, strlen(name), v, 8, 0));
}

#define ENG_PFX		"eng"		/* with its null: 4 bytes */
#define ENGC_PFX	"engc"		/* with its null: 5 bytes */
#define PROMOTE_PFX	"abp"		/* with its null: 4 bytes */

/* sched_engage_get - the contact's last engagement */

int
sched_engage_get(STORE_TXN *txn, uint64_t contact, time_t *when)
{
	unsigned char key[5 + 8];
	STORE_VAL	v;
	int	rc;

	memcpy(key, ENGC_PFX, 5);
	store_u64_put(key + 5, contact);
	if ((rc = store_get(txn, STORE_DB_MISC, key, sizeof(key), &v)) != STORE_OK)
		return (rc);
	if (v.size != 8)
		return (STORE_RETRY);
	*when = (time_t) store_u64_get(v.data);
	return (STORE_OK);
}

/* promote_key - "abp\0" workflow\0 step\0; 0 when a name is too long */

static size_t
promote_key(unsigned char *key, size_t size, const char *workflow, const char *step)
{
	size_t	wl = strlen(workflow) + 1, sl = strlen(step) + 1;

	if (4 + wl + sl > size)
		return (0);
	memcpy(key, PROMOTE_PFX, 4);
	memcpy(key + 4, workflow, wl);
	memcpy(key + 4 + wl, step, sl);
	return (4 + wl + sl);
}

/* sched_promote_get - the arm promoted at a split step by the CLI */

int
sched_promote_get(STORE_TXN *txn, const char *workflow, const char *step,
		          char *arm, size_t len)
{
	unsigned char key[4 + 2 * WF_ID_MAX];
	size_t	klen;
	STORE_VAL	v;
	int	rc;

	if ((klen = promote_key(key, sizeof(key), workflow, step)) == 0)
		return (STORE_NOTFOUND);
	if ((rc = store_get(txn, STORE_DB_MISC, key, klen, &v)) != STORE_OK)
		return (rc);
	if (v.size == 0 || v.size >= len)
		return (STORE_NOTFOUND);
	memcpy(arm, v.data, v.size);
	arm[v.size] = 0;
	return (STORE_OK);
}

/* sched_promote_put - promote an arm (NULL: the test runs again) */

int
sched_promote_put(STORE_TXN *txn, const char *workflow, const char *step,
		          const char *arm)
{
	unsigned char key[4 + 2 * WF_ID_MAX];
	size_t	klen;

	if ((klen = promote_key(key, sizeof(key), workflow, step)) == 0)
		return (STORE_NOTFOUND);
	if (arm == 0)
		return (store_del(txn, STORE_DB_MISC, key, klen));
	return (store_put(txn, STORE_DB_MISC, key, klen, arm, strlen(arm), 0));
}

/* sched_engage_touch - record an engagement (only moves forward) */

int
sched_engage_touch(STORE_TXN *txn, uint64_t contact, time_t when)
{
	unsigned char ckey[5 + 8], tkey[4 + 16], tv[8];
	time_t	old;
	int	rc;

	rc = sched_engage_get(txn, contact, &old);
	if (rc == STORE_OK && old >= when)
		return (STORE_OK);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	memcpy(tkey, ENG_PFX, 4);
	if (rc == STORE_OK) {
		store_u64_put(tkey + 4, (uint64_t) old);
		store_u64_put(tkey + 12, contact);
		rc = store_del(txn, STORE_DB_MISC, tkey, sizeof(tkey));
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return (rc);
	}
	store_u64_put(tkey + 4, (uint64_t) when);
	store_u64_put(tkey + 12, contact);
	if ((rc = store_put(txn, STORE_DB_MISC, tkey, sizeof(tkey), "", 0, 0)) != STORE_OK)
		return (rc);
	memcpy(ckey, ENGC_PFX, 5);
	store_u64_put(ckey + 5, contact);
	store_u64_put(tv, (uint64_t) when);
	return (store_put(txn, STORE_DB_MISC, ckey, sizeof(ckey), tv, 8, 0));
}

typedef struct ENGAGE_WALK {
	time_t	after, upto;
	uint64_t after_contact;
	int	(*fn) (time_t t, uint64_t contact, void *ctx);
	void   *ctx;
	size_t	n;
} ENGAGE_WALK;

/* engage_walk_fn - one engagement entry */

static int
engage_walk_fn(const unsigned char *p, size_t klen, const unsigned char *v,
	               size_t vlen, void *ctx)
{
	ENGAGE_WALK *w = ctx;
	time_t	t;
	uint64_t c;

	(void) v;
	(void) vlen;
	if (klen != 4 + 16 || memcmp(p, ENG_PFX, 4) != 0)
		return (1);
	t = (time_t) store_u64_get(p + 4);
	c = store_u64_get(p + 12);
	if (t > w->upto)
		return (1);
	if (t == w->after && c <= w->after_contact)
		return (0);
	w->n++;
	return (w->fn(t, c, w->ctx));
}

/* sched_engage_range - contacts whose last engagement is in (after, upto] */

size_t
sched_engage_range(STORE_TXN *txn, time_t after, uint64_t after_contact,
		           time_t upto, int (*fn) (time_t t, uint64_t contact,
						           void *ctx), void *ctx)
{
	ENGAGE_WALK w = {after, upto, after_contact, fn, ctx, 0};
	unsigned char key[4 + 16];

	memcpy(key, ENG_PFX, 4);
	store_u64_put(key + 4, (uint64_t) after);
	store_u64_put(key + 12, after_contact);
	(void) store_walk(txn, STORE_DB_MISC, key, sizeof(key), engage_walk_fn, &w);
	return (w.n);
}

#define OUT_PFX		"out"		/* with its null: 4 bytes */

/* sched_out_put - park a composed message until it is injected */

int
sched_out_put(STORE_TXN *txn, uint64_t enrol, const SCHED_OUT *o)
{
	unsigned char key[4 + 8];
	STRBUF	buf = STRBUF_INIT;
	int	rc;

	memcpy(key, OUT_PFX, 4);
	store_u64_put(key + 4, enrol);
	strbuf_putc(&buf, o->kind);
	strbuf_append(&buf, o->sender, strlen(o->sender) + 1);
	strbuf_append(&buf, o->rcpt, strlen(o->rcpt) + 1);
	strbuf_append(&buf, o->message_id, strlen(o->message_id) + 1);
	strbuf_append(&buf, o->data, o->len);
	rc = store_put(txn, STORE_DB_MISC, key, sizeof(key), strbuf_str(&buf),
		       strbuf_len(&buf), 0);
	strbuf_free(&buf);
	return (rc);
}

/* sched_out_get - a copy of the parked message */

int
sched_out_get(STORE_TXN *txn, uint64_t enrol, SCHED_OUT *o)
{
	unsigned char key[4 + 8];
	const char *p, *end, *s[3];
	STORE_VAL	v;
	int	rc, i;

	memset(o, 0, sizeof(*o));
	memcpy(key, OUT_PFX, 4);
	store_u64_put(key + 4, enrol);
	if ((rc = store_get(txn, STORE_DB_MISC, key, sizeof(key), &v)) != STORE_OK)
		return (rc);
	p = v.data;
	end = p + v.size;
	if (v.size < 4)
		return (STORE_RETRY);
	o->kind = *p++;
	for (i = 0; i < 3; i++) {
		const char *nul = memchr(p, 0, end - p);

		if (nul == 0)
			return (STORE_RETRY);
		s[i] = p;
		p = nul + 1;
	}
	o->sender = mystrdup(s[0]);
	o->rcpt = mystrdup(s[1]);
	o->message_id = mystrdup(s[2]);
	o->len = end - p;
	o->data = mystrndup(p, o->len);
	return (STORE_OK);
}

/* sched_out_del - the message was injected or given up */

int
sched_out_del(STORE_TXN *txn, uint64_t enrol)
{
	unsigned char key[4 + 8];
	int	rc;

	memcpy(key, OUT_PFX, 4);
	store_u64_put(key + 4, enrol);
	rc = store_del(txn, STORE_DB_MISC, key, sizeof(key));
	return (rc == STORE_NOTFOUND ? STORE_OK : rc);
}

/* sched_out_free - release a copy made by sched_out_get */

void
sched_out_free(SCHED_OUT *o)
{
	myfree(o->sender);
	myfree(o->rcpt);
	myfree(o->message_id);
	myfree(o->data);
	memset(o, 0, sizeof(*o));
}

typedef struct DATE_WALK {
	STRBUF	pfx;
	int	(*fn) (uint64_t contact, void *ctx);
	void   *ctx;
} DATE_WALK;

/* date_walk_fn - one date index entry */

static int
date_walk_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	             size_t vlen, void *ctx)
{
	DATE_WALK *w = ctx;
	size_t	plen = strbuf_len(&w->pfx);

	(void) v;
	(void) vlen;
	if (klen != plen + 8 || memcmp(k, w->pfx.data, plen) != 0)
		return (1);
	return (w->fn(store_u64_get(k + plen), w->ctx));
}

/* sched_dateidx_walk - contacts whose date field falls on a day */

int
sched_dateidx_walk(STORE_TXN *txn, const char *day, const char *field,
		           int (*fn) (uint64_t contact, void *ctx), void *ctx)
{
	DATE_WALK w = {STRBUF_INIT, fn, ctx};
	int	rc;

	strbuf_puts(&w.pfx, day);
	strbuf_append(&w.pfx, field, strlen(field) + 1);
	rc = store_walk(txn, STORE_DB_DATEIDX, w.pfx.data, strbuf_len(&w.pfx),
			date_walk_fn, &w);
	strbuf_free(&w.pfx);
	return (rc);
}

/*
 * Held enrolments (postdrip queue --hold): MISC "hold\0" enrolment(8) ->
 * the due time of the job taken off the schedule (8, 0: none). A held
 * enrolment has no job in STORE_DB_SCHEDULE, so a tick never sees it; a job
 * that appears anyway (an awaited event woke it) is moved back here by the
 * scheduler instead of running.
 */
#define HOLD_PFX	"hold"		/* with its NUL: 5 bytes */

/* hold_key - "hold\0" id(8) */

static void
hold_key(unsigned char *key, uint64_t id)
{
	memcpy(key, HOLD_PFX, 5);
	store_u64_put(key + 5, id);
}

/* sched_hold_get - is the enrolment held, and the due time it had */

int
sched_hold_get(STORE_TXN *txn, uint64_t id, time_t *due)
{
	unsigned char key[5 + 8];
	STORE_VAL	v;
	int	rc;

	hold_key(key, id);
	if ((rc = store_get(txn, STORE_DB_MISC, key, sizeof(key), &v)) != STORE_OK)
		return (rc);
	if (v.size != 8)
		return (STORE_RETRY);
	if (due)
		*due = (time_t) store_u64_get(v.data);
	return (STORE_OK);
}

/* sched_hold_put - write: hold, remembering due */

int
sched_hold_put(STORE_TXN *txn, uint64_t id, time_t due)
{
	unsigned char key[5 + 8], v[8];

	hold_key(key, id);
	store_u64_put(v, (uint64_t) due);
	return (store_put(txn, STORE_DB_MISC, key, sizeof(key), v, 8, 0));
}

/* sched_hold_del - write: release (OK or NOTFOUND) */

int
sched_hold_del(STORE_TXN *txn, uint64_t id)
{
	unsigned char key[5 + 8];

	hold_key(key, id);
	return (store_del(txn, STORE_DB_MISC, key, sizeof(key)));
}

typedef struct HOLD_WALK {
	int	(*fn) (uint64_t id, time_t due, void *ctx);
	void   *ctx;
} HOLD_WALK;

/* hold_walk_fn - one held enrolment */

static int
hold_walk_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	             size_t vlen, void *ctx)
{
	HOLD_WALK *w = ctx;

	/* store_walk() starts at the prefix and goes on past it. */
	if (klen < 5 || memcmp(k, HOLD_PFX, 5) != 0)
		return (1);
	if (klen != 13 || vlen != 8)
		return (0);
	return (w->fn(store_u64_get(k + 5), (time_t) store_u64_get(v), w->ctx));
}

/* sched_hold_walk - every held enrolment */

int
sched_hold_walk(STORE_TXN *txn, int (*fn) (uint64_t id, time_t due, void *ctx),
		        void *ctx)
{
	HOLD_WALK w;

	w.fn = fn;
	w.ctx = ctx;
	return (store_walk(txn, STORE_DB_MISC, HOLD_PFX, 5, hold_walk_fn, &w));
}
