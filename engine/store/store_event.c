/*++
/* NAME
/*	store_event 3
/* SUMMARY
/*	events: the global sequence and each contact's timeline
/* DESCRIPTION
/*	EVENT: seq (8) -> time (8) contact (8) type NUL data-JSON. The
/*	sequence only grows (META "seq:event"), so a follower such as the
/*	scheduler keeps the last seq it handled and reads on from there.
/*	TIMELINE: contact (8) time (8) seq (8) -> "", so a contact's history
/*	is one range read, oldest first, whatever order events were recorded in.
/*	An event is never removed; its data changes only by
/*	store_event_relabel() (a tracker event found to be a machine's).
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "store/store_int.h"

#define EVENT_HDR 16

/* store_event_decode - record to struct */

static int
store_event_decode(uint64_t seq, const MDB_val *val, STORE_EVENT *ev)
{
	const char *p = (const char *) val->mv_data + EVENT_HDR;
	size_t	left, tlen;
	json_error_t jerr;

	memset(ev, 0, sizeof(*ev));
	if (val->mv_size < EVENT_HDR + 1)
		return (-1);
	left = val->mv_size - EVENT_HDR;
	ev->seq = seq;
	ev->time = (time_t) store_u64_get(val->mv_data);
	ev->contact = store_u64_get((const unsigned char *) val->mv_data + 8);
	tlen = strnlen(p, left);
	if (tlen == left)
		return (-1);
	snprintf(ev->type, sizeof(ev->type), "%s", p);
	p += tlen + 1;
	left -= tlen + 1;
	ev->data = left ? json_loadb(p, left, 0, &jerr) : json_object();
	if (ev->data == 0)
		ev->data = json_object();
	return (0);
}

/* store_event_append - record an event */

int
store_event_append(STORE_TXN *txn, uint64_t contact, time_t when,
		           const char *type, json_t *data, uint64_t *seqp)
{
	unsigned char key[8], tkey[24], *buf;
	size_t	tlen = strlen(type), dlen = 0, n;
	char   *text = 0;
	uint64_t seq;
	int	rc;

	if (tlen == 0 || tlen >= sizeof(((STORE_EVENT *) 0)->type))
		return (STORE_CONFIG);
	if (data && json_object_size(data) > 0) {
		text = json_dumps(data, JSON_COMPACT);
		dlen = strlen(text);
	}
	seq = store_next_id(txn, "event");
	n = EVENT_HDR + tlen + 1 + dlen;
	buf = mymalloc(n);
	store_u64_put(buf, (uint64_t) when);
	store_u64_put(buf + 8, contact);
	memcpy(buf + EVENT_HDR, type, tlen + 1);
	if (dlen)
		memcpy(buf + EVENT_HDR + tlen + 1, text, dlen);
	store_u64_put(key, seq);
	rc = store_put(txn, STORE_DB_EVENT, key, 8, buf, n, MDB_APPEND);
	if (rc == STORE_EXISTS)			/* not past the last key */
		rc = store_put(txn, STORE_DB_EVENT, key, 8, buf, n, 0);
	if (rc == STORE_OK && contact) {
		store_u64_put(tkey, contact);
		store_u64_put(tkey + 8, (uint64_t) when);
		store_u64_put(tkey + 16, seq);
		rc = store_put(txn, STORE_DB_TIMELINE, tkey, 24, "", 0, 0);
	}
	myfree(buf);
	free(text);
	if (rc == STORE_OK && seqp)
		*seqp = seq;
	return (txn->failed ? STORE_RETRY : rc);
}

/*
 * store_event_relabel - write ev->data over the data of event ev->seq, whose
 * time, contact and type stay (so its timeline entry stays right). For the
 * one correction the tracker makes: an open or click found to be a
 * scanner's after it was recorded (tracker_bot(3), honeypot).
 */
int
store_event_relabel(STORE_TXN *txn, const STORE_EVENT *ev)
{
	unsigned char key[8], *buf;
	size_t	tlen = strlen(ev->type), dlen = 0, n;
	char   *text = 0;
	int	rc;

	if (tlen == 0 || tlen >= sizeof(ev->type))
		return (STORE_CONFIG);
	if (ev->data && json_object_size(ev->data) > 0) {
		text = json_dumps(ev->data, JSON_COMPACT);
		dlen = strlen(text);
	}
	n = EVENT_HDR + tlen + 1 + dlen;
	buf = mymalloc(n);
	store_u64_put(buf, (uint64_t) ev->time);
	store_u64_put(buf + 8, ev->contact);
	memcpy(buf + EVENT_HDR, ev->type, tlen + 1);
	if (dlen)
		memcpy(buf + EVENT_HDR + tlen + 1, text, dlen);
	store_u64_put(key, ev->seq);
	rc = store_put(txn, STORE_DB_EVENT, key, 8, buf, n, 0);
	myfree(buf);
	free(text);
	return (txn->failed ? STORE_RETRY : rc);
}

int
store_event_get(STORE_TXN *txn, uint64_t seq, STORE_EVENT *ev)
{
	unsigned char key[8];
	MDB_val val;
	int	rc;

	store_u64_put(key, seq);
	if ((rc = store_mdb_get(txn, STORE_DB_EVENT, key, 8, &val)) != STORE_OK)
		return (rc);
	return (store_event_decode(seq, &val, ev) < 0 ? STORE_RETRY : STORE_OK);
}

int
store_event_next(STORE_TXN *txn, uint64_t after, STORE_EVENT *ev)
{
	MDB_cursor *cur;
	unsigned char kbuf[8];
	MDB_val key = {8, kbuf}, val;
	int	rc;

	if ((rc = store_cursor(txn, STORE_DB_EVENT, &cur)) != STORE_OK)
		return (rc);
	store_u64_put(kbuf, after + 1);
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	if (rc == 0 && key.mv_size == 8)
		rc = store_event_decode(store_u64_get(key.mv_data), &val, ev) < 0 ?
			STORE_RETRY : STORE_OK;
	else
		rc = (rc == MDB_NOTFOUND || rc == 0) ? STORE_NOTFOUND : STORE_RETRY;
	mdb_cursor_close(cur);
	return (rc);
}

uint64_t
store_event_last(STORE_TXN *txn)
{
	MDB_cursor *cur;
	MDB_val key, val;
	uint64_t seq = 0;

	if (store_cursor(txn, STORE_DB_EVENT, &cur) != STORE_OK)
		return (0);
	if (mdb_cursor_get(cur, &key, &val, MDB_LAST) == 0 && key.mv_size == 8)
		seq = store_u64_get(key.mv_data);
	mdb_cursor_close(cur);
	return (seq);
}

/* store_timeline_walk - a contact's whole history */

int
store_timeline_walk(STORE_TXN *txn, uint64_t contact,
		       int (*fn) (const STORE_EVENT *ev, void *ctx), void *ctx)
{
	/* Times are keyed unsigned: 0 sorts before every event's. */
	return (store_timeline_walk_since(txn, contact, 0, fn, ctx));
}

/* store_timeline_walk_since - a contact's events at or after since */

int
store_timeline_walk_since(STORE_TXN *txn, uint64_t contact, time_t since,
		       int (*fn) (const STORE_EVENT *ev, void *ctx), void *ctx)
{
	MDB_cursor *cur;
	unsigned char kbuf[24];
	MDB_val key = {16, kbuf}, val;
	STORE_EVENT ev;
	int	rc, stop = 0;

	/* A window over a long history: one seek, not a read of it all. */
	if (since < 0)
		since = 0;
	if ((rc = store_cursor(txn, STORE_DB_TIMELINE, &cur)) != STORE_OK)
		return (rc);
	store_u64_put(kbuf, contact);
	store_u64_put(kbuf + 8, (uint64_t) since);
	rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
	while (rc == 0 && !stop) {
		if (key.mv_size != 24 || store_u64_get(key.mv_data) != contact)
			break;
		if (store_event_get(txn, store_u64_get((unsigned char *) key.mv_data + 16), &ev) == STORE_OK) {
			stop = fn(&ev, ctx);
			store_event_free(&ev);
		}
		rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return (STORE_OK);
}

void
store_event_free(STORE_EVENT *ev)
{
	json_decref(ev->data);
	ev->data = 0;
}
