#ifndef PD_STORE_H
#define PD_STORE_H

/*
 * store - the LMDB environment under data_directory: the only state that the
 * postdrip programs share.
 *
 * Several processes open it at once. Each process funnels its writes through
 * one writer thread with group commit: many queued write operations run in
 * one LMDB transaction with one fsync. store_write() returns only after its
 * operation is durable; store_write_async() returns at once and calls back
 * after the commit. Readers never block writers (LMDB MVCC).
 *
 * A write operation is a function run in the writer thread inside the batch
 * transaction. It must be all-or-nothing by construction: do every check
 * (and return a result other than STORE_OK) before its first store_put() or
 * store_del(). When LMDB itself fails (MDB_MAP_FULL grows the map), the batch
 * is aborted and replayed from the start, so operations must not keep state
 * between calls other than their results.
 *
 * Results, like Postfix's dict lookups: STORE_OK, STORE_NOTFOUND (a result,
 * not an error), STORE_RETRY (our own failure: callers tempfail), and
 * STORE_CONFIG (the store cannot be used as configured, e.g. newer schema).
 *
 * Ownership (the LMDB rule): a STORE_VAL returned by store_get() points into
 * the map and is valid only until the transaction ends; copy what you keep.
 * Records returned as json_t or malloc'd strings belong to the caller.
 *
 * Keys: integers are stored big-endian (8 bytes) so that LMDB's byte order is
 * numeric order; see store_u64_key().
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#define STORE_OK	0
#define STORE_NOTFOUND	1
#define STORE_RETRY	2
#define STORE_CONFIG	3
#define STORE_EXISTS	4

#define STORE_SCHEMA	1		/* this program's schema version */

typedef enum {
	STORE_DB_META,			/* name -> value (schema, cursors) */
	STORE_DB_CONTACT,		/* id(8) -> contact JSON */
	STORE_DB_CONTACT_ADDR,		/* normalized address -> id(8) */
	STORE_DB_SUPPRESS,		/* address -> time(8) reason\0 source\0 */
	STORE_DB_SENT,			/* msgno(8) -> sent JSON */
	STORE_DB_SENT_MSGID,		/* Message-ID -> msgno(8) */
	STORE_DB_EVENT,			/* seq(8) -> time(8) contact(8) type\0 JSON */
	STORE_DB_TIMELINE,		/* contact(8) time(8) seq(8) -> "" */
	STORE_DB_ENROL,			/* enrolment id(8) -> enrolment record */
	STORE_DB_ENROL_IDX,		/* contact(8) workflow\0 -> enrolment id(8) */
	STORE_DB_SCHEDULE,		/* due(8) job(8) -> job record */
	STORE_DB_DATEIDX,		/* MMDD field\0 contact(8) -> "" */
	STORE_DB_COUNTER,		/* frequency counters (policyd) */
	STORE_DB_RATE,			/* per-domain rates (policyd) */
	STORE_DB_MISC,			/* small module-owned records by prefix */
	STORE_DB_COUNT
} STORE_DB;

typedef struct STORE STORE;
typedef struct STORE_TXN STORE_TXN;

/*
 * A value read from the store: size bytes at data, read-only. No LMDB type
 * crosses this API (store_int.h keeps the raw accessors), so that a second
 * backend would replace engine/store/ alone.
 */
typedef struct STORE_VAL {
	const void *data;
	size_t	size;
} STORE_VAL;

#define STORE_RDONLY	(1<<0)		/* open read-only (no writer) */

typedef struct STORE_OPTS {
	size_t	map_size;		/* initial map size, bytes (0: default) */
	size_t	map_max;		/* growth limit, bytes (0: default) */
	int	flags;			/* STORE_RDONLY */
	size_t	queue_max;		/* async queue bound (0: default) */
} STORE_OPTS;

/* Open (creating the directory's files if needed); NULL with *err. */
STORE  *store_open(const char *dir, const STORE_OPTS *opts, char **err);
/* The same, with data_directory and the store_* settings of cf (flags:
 * STORE_RDONLY); every program opens its store so (store_config.c). */
struct CONFIG;
STORE  *store_open_config(const struct CONFIG *cf, int flags, char **err);
void	store_close(STORE *st);		/* drains the write queue first */
/* A thread that used store_rbegin() ends: drop its cached read txn. */
void	store_thread_end(STORE *st);
const char *store_strerror(int status);

/* Reading: a snapshot. Cheap (cached reset transactions per thread). */
int	store_rbegin(STORE *st, STORE_TXN **txn);	/* OK or RETRY */
void	store_rend(STORE_TXN *txn);

/* Writing. */
typedef int (*STORE_WFN) (STORE_TXN *txn, void *ctx);
typedef void (*STORE_DONE) (void *ctx, int status);

#define STORE_W_NOSYNC	(1<<0)		/* may be lost on a crash (counters) */

/* Run fn in the writer; return after commit with fn's result, or
 * STORE_RETRY if the transaction could not be committed. */
int	store_write(STORE *st, STORE_WFN fn, void *ctx);
int	store_write_flags(STORE *st, STORE_WFN fn, void *ctx, int flags);
/* Queue fn; done(ctx, status) runs in the writer thread after the commit
 * (done may be NULL). Blocks while the queue is full (bounded memory). */
void	store_write_async(STORE *st, STORE_WFN fn, void *ctx, STORE_DONE done,
			          int flags);
/* Inside an operation queued with STORE_W_NOSYNC: this batch must be
 * durable after all (the operation found what needs it). */
void	store_sync_needed(STORE_TXN *txn);
/* Wait until everything queued so far by this process is committed. */
void	store_flush(STORE *st);

/* Records by key, inside a transaction of either kind. */
STORE  *store_of(STORE_TXN *txn);
int	store_get(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen,
		          STORE_VAL *val);
/* Write-only; a failure poisons the batch (it is replayed or fails). */
int	store_put(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen,
		          const void *val, size_t vlen, unsigned flags);
int	store_del(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen);
/* Next number of a named sequence in META ("contact", "event", ...). */
uint64_t store_next_id(STORE_TXN *txn, const char *seqname);
/* Visit up to max records after a key (alen 0: from the first); *end is
 * set when the last record was reached (store_counter.c). */
typedef int (*STORE_SCAN_FN) (void *ctx, const void *key, size_t klen,
			              const void *val, size_t vlen);
int	store_scan(STORE_TXN *txn, STORE_DB db, const void *after, size_t alen,
		           size_t max, STORE_SCAN_FN fn, void *ctx, int *end);

/* Helpers for big-endian keys. */
void	store_u64_put(unsigned char *p, uint64_t v);
uint64_t store_u64_get(const unsigned char *p);

/*
 * Typed records (store_contact.c, store_suppress.c, store_event.c,
 * store_sent.c, store_mark.c).
 */

/* Contacts. A contact is a JSON object:
 *   {"id": N, "email": "a@b", "created": T, "fields": {...},
 *    "tags": [...], "score": N}
 * Addresses are normalized with addr_normalize(). */
int	store_contact_find(STORE_TXN *txn, const char *addr, uint64_t *id);
int	store_contact_get(STORE_TXN *txn, uint64_t id, json_t **rec);
int	store_contact_get_by_addr(STORE_TXN *txn, const char *addr, json_t **rec);
/* Write: insert (rec has no "id": one is assigned, *id set; STORE_EXISTS if
 * the address is taken) or replace (rec has "id"). The address index and
 * date index follow. rec is not stolen. */
int	store_contact_put(STORE_TXN *txn, json_t *rec, uint64_t *id);
/* Write: set values into fields (of contact id's record, which the caller
 * puts), a field_changed event for each change, extra's members added. */
int	store_contact_fields_set(STORE_TXN *txn, uint64_t id, time_t now,
				         json_t *fields, json_t *values, json_t *extra);
/* Write: the id of addr, creating a bare contact if needed. */
int	store_contact_ensure(STORE_TXN *txn, const char *addr, time_t now,
			             uint64_t *id, int *created);
/* Every contact in id order; rec is the callee's until fn returns (it may
 * json_incref() it to keep it). fn returns non-zero to stop. A record that
 * does not parse is logged and skipped. */
int	store_contact_walk(STORE_TXN *txn, int (*fn) (json_t *rec, void *ctx),
			           void *ctx);

/* Suppression list. */
typedef struct STORE_SUPPRESSION {
	time_t	time;
	char	reason[64];		/* unsubscribed, hardbounce, complaint, manual, ... */
	char	source[128];		/* what did it: cli, policyd, milter:QUEUEID, ... */
} STORE_SUPPRESSION;

/* OK, NOTFOUND, RETRY; CONFIG when addr has no normalized form, so that
 * a caller that tests for NOTFOUND never lets such an address through. */
int	store_suppress_get(STORE_TXN *txn, const char *addr, STORE_SUPPRESSION *s);
int	store_suppress_put(STORE_TXN *txn, const char *addr, const char *reason,
			           const char *source, time_t when);
int	store_suppress_del(STORE_TXN *txn, const char *addr);	/* OK or NOTFOUND */
/* Walk in address order; fn returns non-zero to stop. */
int	store_suppress_walk(STORE_TXN *txn, int (*fn) (const char *addr,
			        const STORE_SUPPRESSION *s, void *ctx), void *ctx);

/* Events: a global sequence (seq from 1) and a per-contact timeline. */
typedef struct STORE_EVENT {
	uint64_t seq;
	time_t	time;
	uint64_t contact;		/* 0: not tied to a contact */
	char	type[48];
	json_t *data;			/* object, owned by the struct */
} STORE_EVENT;

/* Write: data is not stolen (may be NULL). */
int	store_event_append(STORE_TXN *txn, uint64_t contact, time_t when,
			           const char *type, json_t *data, uint64_t *seq);
int	store_event_get(STORE_TXN *txn, uint64_t seq, STORE_EVENT *ev);
/* Write: ev->data replaces the data of event ev->seq (time, contact and
 * type as they are): a tracker event relabelled as a machine's. */
int	store_event_relabel(STORE_TXN *txn, const STORE_EVENT *ev);
/* The first event with sequence > after: OK or NOTFOUND. */
int	store_event_next(STORE_TXN *txn, uint64_t after, STORE_EVENT *ev);
uint64_t store_event_last(STORE_TXN *txn);
/* A contact's history, oldest first; fn returns non-zero to stop. */
int	store_timeline_walk(STORE_TXN *txn, uint64_t contact,
			            int (*fn) (const STORE_EVENT *ev, void *ctx), void *ctx);
/* The same from time since on (a window: one seek, not the whole history). */
int	store_timeline_walk_since(STORE_TXN *txn, uint64_t contact, time_t since,
			            int (*fn) (const STORE_EVENT *ev, void *ctx), void *ctx);
void	store_event_free(STORE_EVENT *ev);

/* Sent messages. */
typedef struct STORE_SENT {
	uint64_t msgno;			/* assigned by store_sent_put when 0 */
	char	message_id[256];	/* without <> */
	uint64_t contact;
	uint64_t enrolment;
	char	workflow[64];
	char	step[64];
	char	stream[16];		/* marketing / transactional */
	time_t	time;
} STORE_SENT;

int	store_sent_put(STORE_TXN *txn, STORE_SENT *s);	/* EXISTS if Message-ID known */
int	store_sent_get(STORE_TXN *txn, uint64_t msgno, STORE_SENT *s);
int	store_sent_by_msgid(STORE_TXN *txn, const char *message_id, STORE_SENT *s);

/* "Handed to Postfix" marks of workflow messages (store_mark.c), in
 * STORE_DB_MISC under STORE_MARK_PREFIX Message-ID. A mark older than
 * STORE_MARK_MAX_AGE is deleted, STORE_MARK_SWEEP examined per new mark:
 * the engine re-injects within minutes of a restart, never a month later. */
#define STORE_MARK_PREFIX	"milter.handed:"
#define STORE_MARK_MAX_AGE	(30 * 86400)
#define STORE_MARK_SWEEP	4

typedef struct STORE_MARK {
	time_t	time;			/* when it was handed to Postfix */
	char	queue_id[32];		/* Postfix's queue id then, or "" */
} STORE_MARK;

int	store_mark_get(STORE_TXN *txn, const char *message_id, STORE_MARK *mark);
int	store_mark_put(STORE_TXN *txn, const char *message_id, time_t now,
		               const char *queue_id);

/* Counts for "postdrip stats". */
size_t	store_count(STORE_TXN *txn, STORE_DB db);

#endif
