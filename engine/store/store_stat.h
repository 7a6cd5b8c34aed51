#ifndef PD_STORE_STAT_H
#define PD_STORE_STAT_H

/* store_stat - size and use of the store (see store_stat.c). */
#include "store/store.h"

typedef struct STORE_STAT {
	size_t	map_size;		/* bytes */
	size_t	used;			/* bytes */
	size_t	contacts, suppressed, sent, scheduled;
	uint64_t events;		/* last event sequence number */
} STORE_STAT;

int	store_stat(STORE_TXN *txn, STORE_STAT *s);

#endif
