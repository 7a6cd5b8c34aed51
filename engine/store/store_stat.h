#ifndef PD_STORE_STAT_H
#define PD_STORE_STAT_H

/* store_stat - size and use of the store (see store_stat.c). */
#include <time.h>

#include "store/store.h"

typedef struct STORE_STAT {
	size_t	map_size;		/* bytes */
	size_t	used;			/* bytes */
	size_t	contacts, suppressed, sent, scheduled;
	uint64_t events;		/* last event sequence number */
} STORE_STAT;

int	store_stat(STORE_TXN *txn, STORE_STAT *s);
/* Jobs of the schedule due at now (a walk of the due range). */
size_t	store_stat_due(STORE_TXN *txn, time_t now);
/* Counters that only grow (a named sequence in META, "tally.NAME"):
 * store_tally() adds one inside a write, store_tally_get() reads. */
void	store_tally(STORE_TXN *txn, const char *name);
uint64_t store_tally_get(STORE_TXN *txn, const char *name);

#endif
