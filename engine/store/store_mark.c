/*++
/* NAME
/*	store_mark 3
/* SUMMARY
/*	"handed to Postfix" marks of workflow messages
/* SYNOPSIS
/*	#include "store/store.h"
/*
/*	int	store_mark_get(txn, message_id, mark)
/*	STORE_TXN *txn;
/*	const char *message_id;
/*	STORE_MARK *mark;
/*
/*	int	store_mark_put(txn, message_id, now, queue_id)
/*	STORE_TXN *txn;
/*	const char *message_id;
/*	time_t	now;
/*	const char *queue_id;
/* DESCRIPTION
/*	A mark says that a message the engine recorded was handed to
/*	Postfix once, under which queue id and when. The milter reads it to
/*	drop a copy the engine injects again after a crash (signal(3)).
/*
/*	MISC: STORE_MARK_PREFIX Message-ID -> time (8) queue id (no NUL).
/*
/*	store_mark_get() looks a mark up: STORE_OK (mark filled),
/*	STORE_NOTFOUND or STORE_RETRY. mark may be NULL.
/*
/*	store_mark_put() writes a mark, and deletes the expired ones
/*	(older than STORE_MARK_MAX_AGE at now) among the STORE_MARK_SWEEP
/*	marks that follow it in key order, wrapping to the first. There is
/*	no index by time: new Message-IDs land all over the key space, so
/*	each mark is looked at again and again as mail goes on, and the
/*	marks stay about as many as STORE_MARK_MAX_AGE of sends. Engine
/*	Message-IDs that grow in order wrap to the oldest. It is a write:
/*	call it after the lookups of the operation (store(3)). STORE_OK,
/*	STORE_CONFIG (a Message-ID too long for a key) or STORE_RETRY.
/* SEE ALSO
/*	signal(3), store(3)
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "store/store_int.h"

#define MARK_KEY_MAX	(sizeof(STORE_MARK_PREFIX) + 256)

/* mark_key - the key of a Message-ID; its length, 0 when too long */

static size_t
mark_key(const char *mid, char *key, size_t max)
{
	int	n;

	if (mid == 0 || *mid == 0)
		return (0);
	n = snprintf(key, max, "%s%s", STORE_MARK_PREFIX, mid);
	return (n > 0 && (size_t) n < max ? (size_t) n : 0);
}

/* store_mark_get - look a mark up */

int
store_mark_get(STORE_TXN *txn, const char *mid, STORE_MARK *mark)
{
	char	key[MARK_KEY_MAX];
	size_t	klen;
	MDB_val v;
	int	rc;

	if ((klen = mark_key(mid, key, sizeof(key))) == 0)
		return (STORE_NOTFOUND);
	if ((rc = store_mdb_get(txn, STORE_DB_MISC, key, klen, &v)) != STORE_OK)
		return (rc);
	if (v.mv_size < 8)
		return (STORE_RETRY);
	if (mark) {
		mark->time = (time_t) store_u64_get(v.mv_data);
		snprintf(mark->queue_id, sizeof(mark->queue_id), "%.*s",
			 (int) (v.mv_size - 8), (char *) v.mv_data + 8);
	}
	return (STORE_OK);
}

/* mark_sweep - expired marks near a new one, to delete; a count */

static int
mark_sweep(STORE_TXN *txn, const char *key, size_t klen, time_t now,
	           char old[][MARK_KEY_MAX], size_t *olen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t	plen = sizeof(STORE_MARK_PREFIX) - 1;
	int	rc, seen = 0, n = 0, wrapped = 0;

	if (store_cursor(txn, STORE_DB_MISC, &cur) != STORE_OK)
		return (0);
	k.mv_size = klen;
	k.mv_data = (void *) key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (seen < STORE_MARK_SWEEP) {
		if (rc != 0 || k.mv_size < plen
		    || memcmp(k.mv_data, STORE_MARK_PREFIX, plen) != 0) {
			if (wrapped++)
				break;
			k.mv_size = plen;
			k.mv_data = (void *) STORE_MARK_PREFIX;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			continue;
		}
		if (k.mv_size == klen && memcmp(k.mv_data, key, klen) == 0)
			break;				/* back at our own place */
		seen++;
		if (v.mv_size >= 8 && k.mv_size < MARK_KEY_MAX
		    && now - (time_t) store_u64_get(v.mv_data) > STORE_MARK_MAX_AGE) {
			memcpy(old[n], k.mv_data, k.mv_size);
			olen[n++] = k.mv_size;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return (n);
}

/* store_mark_put - write a mark, and delete a few expired ones */

int
store_mark_put(STORE_TXN *txn, const char *mid, time_t now, const char *qid)
{
	char	key[MARK_KEY_MAX];
	char	old[STORE_MARK_SWEEP][MARK_KEY_MAX];
	size_t	olen[STORE_MARK_SWEEP];
	unsigned char val[8 + sizeof(((STORE_MARK *) 0)->queue_id)];
	size_t	klen, qlen;
	int	nold, i;

	if ((klen = mark_key(mid, key, sizeof(key))) == 0)
		return (STORE_CONFIG);
	nold = mark_sweep(txn, key, klen, now, old, olen);
	store_u64_put(val, (uint64_t) now);
	qlen = qid ? strnlen(qid, sizeof(val) - 9) : 0;
	if (qlen)
		memcpy(val + 8, qid, qlen);
	if (store_put(txn, STORE_DB_MISC, key, klen, val, 8 + qlen, 0) != STORE_OK)
		return (STORE_RETRY);
	for (i = 0; i < nold; i++)
		if (store_del(txn, STORE_DB_MISC, old[i], olen[i]) == STORE_RETRY)
			return (STORE_RETRY);
	return (STORE_OK);
}
