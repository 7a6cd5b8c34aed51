#ifndef PD_STORE_INT_H
#define PD_STORE_INT_H

/*
 * store_int - what the store's own files share. Not for other modules.
 */
#include <pthread.h>
#include "store/store.h"

struct STORE_TXN {
	STORE  *st;
	MDB_txn *txn;
	int	write;			/* the writer's batch transaction */
	int	failed;			/* an LMDB call failed: poisoned */
	int	mdb_rc;			/* that call's result */
	int	cached;			/* the thread's cached read txn */
};

/* Mark a write transaction failed (LMDB error rc); returns STORE_RETRY. */
int	store_fail(STORE_TXN *txn, int rc);

#endif
