#ifndef PD_STORE_INT_H
#define PD_STORE_INT_H

/*
 * store_int - what the store's own files share: the raw LMDB accessors.
 * Not for other modules (tests/layers.sh fails when a file outside
 * engine/store/ includes <lmdb.h> or names an MDB_ type); they use
 * store_get(), store_scan() and the typed records of store.h.
 */
#include <pthread.h>
#include <lmdb.h>
#include "store/store.h"

struct STORE_TXN {
	STORE  *st;
	MDB_txn *txn;
	int	write;			/* the writer's batch transaction */
	int	failed;			/* an LMDB call failed: poisoned */
	int	mdb_rc;			/* that call's result */
	int	cached;			/* the thread's cached read txn */
	int	sync;			/* an operation wants the batch durable */
};

MDB_txn *store_mdb_txn(STORE_TXN *txn);
MDB_dbi store_dbi(STORE *st, STORE_DB db);
/* store_get() with LMDB's own value type. */
int	store_mdb_get(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen,
		              MDB_val *val);
/* Cursor, for ranges; closed by the caller with mdb_cursor_close(). */
int	store_cursor(STORE_TXN *txn, STORE_DB db, MDB_cursor **cur);

/* Mark a write transaction failed (LMDB error rc); returns STORE_RETRY. */
int	store_fail(STORE_TXN *txn, int rc);

#endif
