/*++
/* NAME
/*	store_counter 3
/* SUMMARY
/*	bounded walks over the counter and rate tables
/* SYNOPSIS
/*	#include "store/store.h"
/*
/*	int	store_scan(txn, db, after, alen, max, fn, ctx, end)
/*	STORE_TXN *txn;
/*	STORE_DB db;
/*	const void *after;
/*	size_t	alen;
/*	size_t	max;
/*	int	(*fn)(void *ctx, const void *key, size_t klen,
/*			const void *val, size_t vlen);
/*	void	*ctx;
/*	int	*end;
/* DESCRIPTION
/*	store_scan() visits, in key order, up to max records of db whose
/*	keys sort after the key (after, alen), or from the first record
/*	when alen is 0, and calls fn for each. The key and value passed
/*	to fn are valid only during the call (the LMDB rule of store(3)):
/*	fn copies what it keeps, and must not write to db; writes wait
/*	until store_scan() returns. A non-zero result of fn stops the walk.
/*
/*	*end is set to 1 when the walk reached the last record of db, else
/*	to 0, so that a caller that keeps no transaction open between
/*	batches (the policy daemon's purge of stale frequency counters,
/*	caps(3)) resumes after the last key it saw.
/*
/*	The result is STORE_OK, or STORE_RETRY when the table cannot be
/*	read now.
/* SEE ALSO
/*	caps(3), store(3)
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "store/store_int.h"

/* store_scan - a bounded walk after a key */

int
store_scan(STORE_TXN *txn, STORE_DB db, const void *after, size_t alen,
	           size_t max, STORE_SCAN_FN fn, void *ctx, int *end)
{
	MDB_cursor *cur;
	MDB_val key, val;
	MDB_cursor_op op = MDB_FIRST;
	size_t	seen = 0;
	int	rc, mrc = 0;

	*end = 0;
	if ((rc = store_cursor(txn, db, &cur)) != STORE_OK)
		return (rc);
	if (alen) {
		key.mv_data = (void *) after;
		key.mv_size = alen;
		op = MDB_SET_RANGE;
	}
	while (seen < max && (mrc = mdb_cursor_get(cur, &key, &val, op)) == 0) {
		op = MDB_NEXT;
		/* MDB_SET_RANGE lands on the resume key itself: it was seen. */
		if (alen && key.mv_size == alen && memcmp(key.mv_data, after, alen) == 0)
			continue;
		seen++;
		if (fn(ctx, key.mv_data, key.mv_size, val.mv_data, val.mv_size) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (mrc == MDB_NOTFOUND) {
		*end = 1;
		return (STORE_OK);
	}
	return (mrc == 0 ? STORE_OK : STORE_RETRY);
}
