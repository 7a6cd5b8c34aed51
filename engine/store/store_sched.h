#ifndef PD_STORE_SCHED_H
#define PD_STORE_SCHED_H

/*
 * store_sched - ordered walks over a database, for the scheduler's indexes
 * (the schedule, enrolments by contact, engagement, dates), so that the
 * scheduler reads ranges without calling LMDB itself.
 */
#include <stddef.h>

#include "store/store.h"

/* Called per record in key order; key and val are valid only during the
 * call (the LMDB rule). Non-zero stops the walk. */
typedef int (*STORE_WALK_FN) (const unsigned char *key, size_t klen,
			              const unsigned char *val, size_t vlen, void *ctx);

/* Walk db from the first key >= from (flen bytes; from NULL: the first
 * key). STORE_OK (also when fn stopped it), or STORE_RETRY. */
int	store_walk(STORE_TXN *txn, STORE_DB db, const void *from, size_t flen,
		           STORE_WALK_FN fn, void *ctx);

#endif
