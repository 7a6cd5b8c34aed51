/*++
/* NAME
/*	store_stat 3
/* SUMMARY
/*	size and use of the LMDB map, for /metrics
/* SYNOPSIS
/*	#include "store/store_stat.h"
#include "store/store_sched.h"
#include "store/store_int.h"
/*
/*	int	store_stat(txn, st)
/*	STORE_TXN *txn;
/*	STORE_STAT *st;
/*
/*	size_t	store_stat_due(txn, now)
/*	STORE_TXN *txn;
/*	time_t	now;
/*
/*	void	store_tally(txn, name)
/*	STORE_TXN *txn;
/*	const char *name;
/*
/*	uint64_t store_tally_get(txn, name)
/*	STORE_TXN *txn;
/*	const char *name;
/* DESCRIPTION
/*	store_stat() reports, inside a read or write transaction, the map
/*	size, the bytes in use (pages up to the last one used), and the
/*	entries of the databases the tracker's /metrics shows.
/*
/*	store_stat_due() counts the jobs of the schedule whose time has
/*	come (due <= now): a walk over the front of the schedule, which is
/*	ordered by due time, so its cost is the number of jobs due.
/*
/*	store_tally() adds one to the counter name inside a write
/*	transaction (a META sequence "seq:tally.NAME", so it is committed,
/*	or lost, with the write that counts); store_tally_get() reads it,
/*	0 when it was never counted. Counters survive restarts and are
/*	shared by every process of the store: the LMTP receiver counts the
/*	bounces that the tracker's /metrics shows.
/* DIAGNOSTICS
/*	STORE_OK, or STORE_RETRY when LMDB cannot say.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "store/store_stat.h"
#include "store/store_sched.h"
#include "store/store_int.h"

int
store_stat(STORE_TXN *txn, STORE_STAT *s)
{
	MDB_txn *mt = store_mdb_txn(txn);
	MDB_env *env = mdb_txn_env(mt);
	MDB_envinfo info;
	MDB_stat ms;

	memset(s, 0, sizeof(*s));
	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0)
		return (STORE_RETRY);
	s->map_size = info.me_mapsize;
	s->used = (size_t) (info.me_last_pgno + 1) * ms.ms_psize;
	s->contacts = store_count(txn, STORE_DB_CONTACT);
	s->suppressed = store_count(txn, STORE_DB_SUPPRESS);
	s->sent = store_count(txn, STORE_DB_SENT);
	s->events = store_event_last(txn);
	s->scheduled = store_count(txn, STORE_DB_SCHEDULE);
	return (STORE_OK);
}

typedef struct STAT_DUE {
	time_t	now;
	size_t	n;
} STAT_DUE;

/* due_count_fn - one schedule entry: key due(8) job(8) */

static int
due_count_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	             size_t vlen, void *ctx)
{
	STAT_DUE *d = ctx;

	(void) v;
	(void) vlen;
	if (klen == 16 && (time_t) store_u64_get(k) > d->now)
		return (1);
	d->n++;
	return (0);
}

size_t
store_stat_due(STORE_TXN *txn, time_t now)
{
	STAT_DUE d;

	d.now = now;
	d.n = 0;
	(void) store_walk(txn, STORE_DB_SCHEDULE, 0, 0, due_count_fn, &d);
	return (d.n);
}

void
store_tally(STORE_TXN *txn, const char *name)
{
	char	seq[64];

	snprintf(seq, sizeof(seq), "tally.%s", name);
	(void) store_next_id(txn, seq);
}

uint64_t
store_tally_get(STORE_TXN *txn, const char *name)
{
	char	key[80];
	STORE_VAL val;

	snprintf(key, sizeof(key), "seq:tally.%s", name);
	if (store_get(txn, STORE_DB_META, key, strlen(key), &val) == STORE_OK
	    && val.size == 8)
		return (store_u64_get(val.data));
	return (0);
}
