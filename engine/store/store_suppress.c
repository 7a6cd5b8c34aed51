/*++
/* NAME
/*	store_suppress 3
/* SUMMARY
/*	the suppression list
/* DESCRIPTION
/*	address -> time (8 bytes) reason NUL source NUL. The policy daemon
/*	reads it for every marketing recipient, so the record is small and
/*	needs no parsing beyond two strings.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "util/addr.h"
#include "store/store_int.h"

/* store_suppress_decode - record to struct */

static int
store_suppress_decode(const MDB_val *val, STORE_SUPPRESSION *s)
{
	const char *p = (const char *) val->mv_data + 8, *end;
	size_t	len;

	if (val->mv_size < 10)
		return (-1);
	end = (const char *) val->mv_data + val->mv_size;
	s->time = (time_t) store_u64_get(val->mv_data);
	len = strnlen(p, end - p);
	snprintf(s->reason, sizeof(s->reason), "%.*s", (int) len, p);
	p += len + 1;
	if (p < end)
		snprintf(s->source, sizeof(s->source), "%.*s", (int) strnlen(p, end - p), p);
	else
		s->source[0] = 0;
	return (0);
}

int
store_suppress_get(STORE_TXN *txn, const char *addr, STORE_SUPPRESSION *s)
{
	char	norm[ADDR_MAX + 1];
	MDB_val val;
	int	rc;

	/* No key is no answer: never "not suppressed" (consent fails closed). */
	if (addr_normalize(addr, norm) == 0)
		return (STORE_CONFIG);
	if ((rc = store_mdb_get(txn, STORE_DB_SUPPRESS, norm, strlen(norm), &val)) != STORE_OK)
		return (rc);
	if (s && store_suppress_decode(&val, s) < 0)
		return (STORE_RETRY);
	return (STORE_OK);
}

int
store_suppress_put(STORE_TXN *txn, const char *addr, const char *reason,
		           const char *source, time_t when)
{
	char	norm[ADDR_MAX + 1];
	unsigned char buf[8 + 64 + 128];
	size_t	rlen = strnlen(reason, 63), slen = strnlen(source, 127);

	if (addr_normalize(addr, norm) == 0)
		return (STORE_CONFIG);
	store_u64_put(buf, (uint64_t) when);
	memcpy(buf + 8, reason, rlen);
	buf[8 + rlen] = 0;
	memcpy(buf + 9 + rlen, source, slen);
	buf[9 + rlen + slen] = 0;
	return (store_put(txn, STORE_DB_SUPPRESS, norm, strlen(norm), buf, 10 + rlen + slen, 0));
}

int
store_suppress_del(STORE_TXN *txn, const char *addr)
{
	char	norm[ADDR_MAX + 1];

	if (addr_normalize(addr, norm) == 0)
		return (STORE_NOTFOUND);
	return (store_del(txn, STORE_DB_SUPPRESS, norm, strlen(norm)));
}

int
store_suppress_walk(STORE_TXN *txn, int (*fn) (const char *addr,
		           const STORE_SUPPRESSION *s, void *ctx), void *ctx)
{
	MDB_cursor *cur;
	MDB_val key, val;
	STORE_SUPPRESSION s;
	char	addr[ADDR_MAX + 1];
	int	rc, op = MDB_FIRST;

	if ((rc = store_cursor(txn, STORE_DB_SUPPRESS, &cur)) != STORE_OK)
		return (rc);
	while (mdb_cursor_get(cur, &key, &val, op) == 0) {
		op = MDB_NEXT;
		if (key.mv_size > ADDR_MAX || store_suppress_decode(&val, &s) < 0)
			continue;
		memcpy(addr, key.mv_data, key.mv_size);
		addr[key.mv_size] = 0;
		if (fn(addr, &s, ctx))
			break;
	}
	mdb_cursor_close(cur);
	return (STORE_OK);
}
