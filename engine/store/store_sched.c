/*++
/* NAME
/*	store_sched 3
/* SUMMARY
/*	ordered walks for the scheduler's indexes
/* SYNOPSIS
/*	#include "store/store_sched.h"
/*
/*	int	store_walk(txn, db, from, flen, fn, ctx)
/* DESCRIPTION
/*	store_walk() calls fn for each record of db in key order, starting
/*	at the first key at or after from (the first key of all when from
/*	is a null pointer), until fn returns non-zero or the records end.
/*	The scheduler keeps its indexes (schedule by due time, enrolments
/*	by contact, engagement by time, contacts by date) as ordered keys
/*	and reads them through this walk, so that only the store layer
/*	calls LMDB and another backend can stand behind the same calls.
/*
/*	Key and value point into the map and are valid only during the
/*	call; a caller that keeps them copies them.
/* DIAGNOSTICS
/*	STORE_RETRY when a cursor cannot be opened or LMDB fails during the
/*	walk; the end of the records is no error.
/*--*/
#include "pdconfig.h"

#include "store/store_sched.h"
#include "store/store_int.h"

/* store_walk - records of db in key order from a key on */

int
store_walk(STORE_TXN *txn, STORE_DB db, const void *from, size_t flen,
	           STORE_WALK_FN fn, void *ctx)
{
	MDB_cursor *cur;
	MDB_val	k, v;
	int	rc;

	if ((rc = store_cursor(txn, db, &cur)) != STORE_OK)
		return (rc);
	if (from) {
		k.mv_data = (void *) from;
		k.mv_size = flen;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, ctx))
			break;
	mdb_cursor_close(cur);
	return (rc == 0 || rc == MDB_NOTFOUND ? STORE_OK : STORE_RETRY);
}
