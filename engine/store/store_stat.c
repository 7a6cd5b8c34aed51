/*++
/* NAME
/*	store_stat 3
/* SUMMARY
/*	size and use of the LMDB map, for /metrics
/* SYNOPSIS
/*	#include "store/store_stat.h"
/*
/*	int	store_stat(txn, st)
/*	STORE_TXN *txn;
/*	STORE_STAT *st;
/* DESCRIPTION
/*	store_stat() reports, inside a read or write transaction, the map
/*	size, the bytes in use (pages up to the last one used), and the
/*	entries of the databases the tracker's /metrics shows.
/* DIAGNOSTICS
/*	STORE_OK, or STORE_RETRY when LMDB cannot say.
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "store/store_stat.h"
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
