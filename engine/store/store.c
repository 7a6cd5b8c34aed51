/*++
/* NAME
/*	store 3
/* SUMMARY
/*	the shared LMDB environment, with one group-commit writer per process
/* SYNOPSIS
/*	#include "store/store.h"
/*
/*	STORE	*store_open(dir, opts, &err)
/*	int	store_rbegin(st, &txn)
/*	int	store_write(st, fn, ctx)
/*	void	store_write_async(st, fn, ctx, done, flags)
/* DESCRIPTION
/*	One LMDB environment holds every named database of store.h. Any
/*	number of processes open it; LMDB serializes their write
/*	transactions with its own lock, and readers never wait.
/*
/*	Group commit. Each process has one writer thread. store_write() and
/*	store_write_async() queue an operation; the writer takes everything
/*	queued (up to a batch limit), runs the operations one after the
/*	other in one write transaction, and commits once: one fsync for the
/*	whole batch. Then it tells each caller its result. When nothing is
/*	queued or being written, store_write() runs its operation itself, in
/*	its own thread, as a batch of one: the hand-over to the writer and
/*	back costs two thread switches, more than a small commit without
/*	fsync. Callers that come meanwhile queue for the writer as before,
/*	so batches still form under load. One batch at a time either way.
/*	A batch in which every operation was queued with STORE_W_NOSYNC, and
/*	none called store_sync_needed() as it ran (it found a record that
/*	needs the disk), is
/*	committed without fsync (MDB_NOSYNC for that commit only); the next
/*	durable commit makes it durable too, since LMDB flushes the whole
/*	map.
/*
/*	Replay. When an LMDB call fails inside a batch (MDB_MAP_FULL above
/*	all), the transaction is poisoned: later calls in it are refused,
/*	the writer aborts it, grows the map if it was full, and runs the
/*	whole batch again in a fresh transaction. Operations are written to
/*	be all-or-nothing (checks before writes), so a replay gives the same
/*	results. If the replay fails too, every operation of the batch gets
/*	STORE_RETRY and nothing of it was written.
/*
/*	Map growth. mdb_env_set_mapsize() may only run while no transaction
/*	of this process is active. Read transactions hold a read lock on
/*	st->maplock while they are open; the writer takes it exclusively,
/*	with a time limit, to resize. (A thread that waits for store_write()
/*	while holding a read transaction would otherwise deadlock the
/*	resize: the limit turns that into a STORE_RETRY.) When another
/*	process has grown the map, LMDB says MDB_MAP_RESIZED and we adopt
/*	the new size under the same lock.
/*
/*	Read transactions are cheap: each thread keeps one reset read
/*	transaction and renews it (no malloc, no reader-table search).
/* DIAGNOSTICS
/*	store_open() explains in *err: missing directory, permissions, a
/*	store written by a newer schema.
/* BUGS
/*	No use of a STORE after fork(): open it in the process that uses it.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "store/store_int.h"

#define STORE_BATCH_MAX		8192
#define STORE_DEF_MAP		(1024UL * 1024 * 1024)
#define STORE_DEF_MAP_MAX	(64UL * 1024 * 1024 * 1024)
#define STORE_DEF_QUEUE		65536
#define STORE_RESIZE_WAIT	2	/* seconds for readers to leave */

static const char *const store_db_names[STORE_DB_COUNT] = {
	[STORE_DB_META] = "meta",
	[STORE_DB_CONTACT] = "contact",
	[STORE_DB_CONTACT_ADDR] = "contact_addr",
	[STORE_DB_SUPPRESS] = "suppress",
	[STORE_DB_SENT] = "sent",
	[STORE_DB_SENT_MSGID] = "sent_msgid",
	[STORE_DB_EVENT] = "event",
	[STORE_DB_TIMELINE] = "timeline",
	[STORE_DB_ENROL] = "enrol",
	[STORE_DB_ENROL_IDX] = "enrol_idx",
	[STORE_DB_SCHEDULE] = "schedule",
	[STORE_DB_DATEIDX] = "dateidx",
	[STORE_DB_COUNTER] = "counter",
	[STORE_DB_RATE] = "rate",
	[STORE_DB_MISC] = "misc",
};

typedef struct STORE_OP {
	STORE_WFN fn;
	void   *ctx;
	STORE_DONE done;
	int	flags;
	int	status;
	int	sync;			/* a caller waits for it */
	int	finished;
	struct STORE_OP *next;
} STORE_OP;

struct STORE {
	MDB_env *env;
	MDB_dbi	dbi[STORE_DB_COUNT];
	int	rdonly;
	size_t	map_size;
	size_t	map_max;
	uint64_t gen;			/* tells cached read txns apart */
	pthread_rwlock_t maplock;

	/* Writer. */
	pthread_t writer;
	int	writer_running;
	int	stopping;
	int	busy;			/* a batch is being written */
	pthread_mutex_t mu;
	pthread_cond_t cv_work;		/* writer: something queued */
	pthread_cond_t cv_done;		/* callers: something finished */
	pthread_cond_t cv_space;	/* async callers: queue has room */
	STORE_OP *head, *tail;
	size_t	queued;
	size_t	queue_max;
	uint64_t submitted, completed;	/* for store_flush() */
};

static atomic_uint_fast64_t store_gen_counter;

/* Each thread's cached read transaction. */
static __thread struct {
	uint64_t gen;
	MDB_txn *txn;
	int	busy;
	STORE_TXN t;
	int	reads;			/* read transactions open */
}	store_tls;

/* store_strerror - text for a result */

const char *
store_strerror(int status)
{
	switch (status) {
	case STORE_OK:
		return ("success");
	case STORE_NOTFOUND:
		return ("not found");
	case STORE_RETRY:
		return ("temporary store failure");
	case STORE_CONFIG:
		return ("store configuration error");
	case STORE_EXISTS:
		return ("already exists");
	default:
		return ("unknown store result");
	}
}

/* store_fail - poison a write transaction */

int
store_fail(STORE_TXN *txn, int rc)
{
	if (!txn->failed) {
		txn->failed = 1;
		txn->mdb_rc = rc;
	}
	return (STORE_RETRY);
}

/* store_adopt_size - take a map size that another process set */

static void
store_adopt_size(STORE *st)
{
	MDB_envinfo info;

	pthread_rwlock_wrlock(&st->maplock);
	(void) mdb_env_set_mapsize(st->env, 0);
	if (mdb_env_info(st->env, &info) == 0)
		st->map_size = info.me_mapsize;
	pthread_rwlock_unlock(&st->maplock);
}

/* store_grow - double the map, within map_max; 0 on success */

static int
store_grow(STORE *st)
{
	struct timespec deadline;
	size_t	want;
	int	rc;

	if (st->map_size >= st->map_max) {
		static _Atomic time_t warned;
		time_t	now = time(0), last = warned;

		/* Every write fails alike until store_map_max is raised: say it
		 * once a minute, not once per transaction. */
		if (now - last >= 60 && atomic_compare_exchange_strong(&warned, &last, now))
			msg_warn("store: map is full at its limit of %zu bytes (store_map_max)",
				 st->map_max);
		return (-1);
	}
	want = st->map_size * 2;
	if (want > st->map_max)
		want = st->map_max;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STORE_RESIZE_WAIT;
	if ((rc = pthread_rwlock_timedwrlock(&st->maplock, &deadline)) != 0) {
		msg_warn("store: cannot grow the map: readers stay active");
		return (-1);
	}
	rc = mdb_env_set_mapsize(st->env, want);
	if (rc == 0) {
		msg_info("store: map grown from %zu to %zu bytes", st->map_size, want);
		st->map_size = want;
	} else
		msg_warn("store: mdb_env_set_mapsize: %s", mdb_strerror(rc));
	pthread_rwlock_unlock(&st->maplock);
	return (rc ? -1 : 0);
}

/* store_begin_write - a write transaction, adopting a new map size */

static int
store_begin_write(STORE *st, MDB_txn **txn)
{
	int	rc, tries;

	for (tries = 0; tries < 3; tries++) {
		rc = mdb_txn_begin(st->env, 0, 0, txn);
		if (rc != MDB_MAP_RESIZED)
			return (rc);
		store_adopt_size(st);
	}
	return (rc);
}

/* store_run_batch - run a list of operations in one transaction */

static void
store_run_batch(STORE *st, STORE_OP *ops)
{
	STORE_TXN wt;
	STORE_OP *op;
	int	attempt, rc = 0, nosync;

	for (nosync = 1, op = ops; op; op = op->next)
		if (!(op->flags & STORE_W_NOSYNC))
			nosync = 0;

	for (attempt = 0; attempt < 4; attempt++) {
		memset(&wt, 0, sizeof(wt));
		wt.st = st;
		wt.write = 1;
		if ((rc = store_begin_write(st, &wt.txn)) != 0) {
			msg_warn("store: cannot begin a write transaction: %s", mdb_strerror(rc));
			break;
		}
		for (op = ops; op && !wt.failed; op = op->next)
			op->status = op->fn(&wt, op->ctx);
		if (wt.sync)
			nosync = 0;
		if (wt.failed) {
			mdb_txn_abort(wt.txn);
			rc = wt.mdb_rc;
		} else {
			if (nosync)
				(void) mdb_env_set_flags(st->env, MDB_NOSYNC, 1);
			rc = mdb_txn_commit(wt.txn);
			if (nosync)
				(void) mdb_env_set_flags(st->env, MDB_NOSYNC, 0);
			if (rc == 0)
				return;
		}
		if (rc == MDB_MAP_FULL) {
			if (store_grow(st) < 0)
				break;
			continue;
		}
		if (rc == MDB_MAP_RESIZED) {
			store_adopt_size(st);
			continue;
		}
		msg_warn("store: write transaction failed: %s", mdb_strerror(rc));
		break;
	}
	for (op = ops; op; op = op->next)
		op->status = STORE_RETRY;
}

/* store_writer - the writer thread */

static void *
store_writer(void *arg)
{
	STORE  *st = arg;
	STORE_OP *batch, *op, *next, **tailp, *sync_ops;
	size_t	n;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		while ((st->head == 0 && !st->stopping) || st->busy)
			pthread_cond_wait(&st->cv_work, &st->mu);
		if (st->head == 0)
			break;
		st->busy = 1;
		/* Take up to STORE_BATCH_MAX operations, in order. */
		batch = st->head;
		for (n = 1, tailp = &st->head->next; *tailp && n < STORE_BATCH_MAX; n++)
			tailp = &(*tailp)->next;
		st->head = *tailp;
		*tailp = 0;
		if (st->head == 0)
			st->tail = 0;
		pthread_mutex_unlock(&st->mu);

		store_run_batch(st, batch);

		/* Callbacks run without the lock. Async operations are ours to
		 * free; sync ones live on their caller's stack and may be
		 * touched only under the lock, until finished is set. */
		sync_ops = 0;
		for (op = batch; op; op = next) {
			next = op->next;
			if (op->done)
				op->done(op->ctx, op->status);
			if (op->sync) {
				op->next = sync_ops;
				sync_ops = op;
			} else
				myfree(op);
		}
		pthread_mutex_lock(&st->mu);
		for (op = sync_ops; op; op = next) {
			next = op->next;
			op->finished = 1;
		}
		st->queued -= n;
		st->completed += n;
		st->busy = 0;
		pthread_cond_broadcast(&st->cv_done);
		pthread_cond_broadcast(&st->cv_space);
	}
	pthread_mutex_unlock(&st->mu);
	return (0);
}

/* store_enqueue - append an operation; the caller holds st->mu */

static void
store_enqueue(STORE *st, STORE_OP *op)
{
	op->next = 0;
	if (st->tail)
		st->tail->next = op;
	else
		st->head = op;
	st->tail = op;
	st->queued++;
	st->submitted++;
	pthread_cond_signal(&st->cv_work);
}

/* store_write_flags - run an operation and wait for its commit */

int
store_write_flags(STORE *st, STORE_WFN fn, void *ctx, int flags)
{
	STORE_OP op;

	if (st->rdonly)
		msg_panic("store_write: store opened read-only");
	memset(&op, 0, sizeof(op));
	op.fn = fn;
	op.ctx = ctx;
	op.flags = flags;
	op.sync = 1;
	pthread_mutex_lock(&st->mu);

	/*
	 * Nothing queued, nothing being written: write it here. Not while
	 * this thread holds a read transaction: growing the map waits for
	 * every reader to leave.
	 */
	if (!st->busy && st->head == 0 && store_tls.reads == 0 && !st->stopping) {
		st->busy = 1;
		st->submitted++;
		pthread_mutex_unlock(&st->mu);
		store_run_batch(st, &op);
		pthread_mutex_lock(&st->mu);
		st->busy = 0;
		st->completed++;
		if (st->head || st->stopping)
			pthread_cond_signal(&st->cv_work);
		pthread_cond_broadcast(&st->cv_done);
		pthread_mutex_unlock(&st->mu);
		return (op.status);
	}
	store_enqueue(st, &op);
	while (!op.finished)
		pthread_cond_wait(&st->cv_done, &st->mu);
	pthread_mutex_unlock(&st->mu);
	return (op.status);
}

int
store_write(STORE *st, STORE_WFN fn, void *ctx)
{
	return (store_write_flags(st, fn, ctx, 0));
}

/* store_write_async - queue an operation; done() after its commit */

void
store_write_async(STORE *st, STORE_WFN fn, void *ctx, STORE_DONE done, int flags)
{
	STORE_OP *op;

	if (st->rdonly)
		msg_panic("store_write_async: store opened read-only");
	op = mycalloc(1, sizeof(*op));
	op->fn = fn;
	op->ctx = ctx;
	op->done = done;
	op->flags = flags;
	pthread_mutex_lock(&st->mu);
	while (st->queued >= st->queue_max)
		pthread_cond_wait(&st->cv_space, &st->mu);
	store_enqueue(st, op);
	pthread_mutex_unlock(&st->mu);
}

/* store_flush - wait for everything queued so far */

void
store_flush(STORE *st)
{
	uint64_t want;

	if (st->rdonly)
		return;
	pthread_mutex_lock(&st->mu);
	want = st->submitted;
	while (st->completed < want)
		pthread_cond_wait(&st->cv_done, &st->mu);
	pthread_mutex_unlock(&st->mu);
}

/* store_rbegin - a read snapshot */

int
store_rbegin(STORE *st, STORE_TXN **txnp)
{
	STORE_TXN *t;
	MDB_txn *txn = 0;
	int	rc, tries, cached = 0;

	for (tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&st->maplock);
		if (!store_tls.busy && store_tls.txn && store_tls.gen == st->gen) {
			rc = mdb_txn_renew(store_tls.txn);
			if (rc == 0) {
				txn = store_tls.txn;
				cached = 1;
			}
		} else {
			rc = mdb_txn_begin(st->env, 0, MDB_RDONLY, &txn);
		}
		if (rc == 0)
			break;
		pthread_rwlock_unlock(&st->maplock);
		if (rc != MDB_MAP_RESIZED) {
			msg_warn("store: cannot begin a read transaction: %s", mdb_strerror(rc));
			return (STORE_RETRY);
		}
		store_adopt_size(st);
	}
	if (rc != 0)
		return (STORE_RETRY);
	if (cached || (!store_tls.busy && store_tls.txn == 0)) {
		/* This one becomes (or is) the thread's cached transaction. */
		store_tls.txn = txn;
		store_tls.gen = st->gen;
		store_tls.busy = 1;
		t = &store_tls.t;
		cached = 1;
	} else {
		t = mymalloc(sizeof(*t));
	}
	memset(t, 0, sizeof(*t));
	t->st = st;
	t->txn = txn;
	t->cached = cached;
	store_tls.reads++;
	*txnp = t;
	return (STORE_OK);
}

/* store_rend - end a read snapshot */

void
store_rend(STORE_TXN *t)
{
	STORE  *st = t->st;

	if (t->write)
		msg_panic("store_rend: called on a write transaction");
	store_tls.reads--;
	if (t->cached) {
		mdb_txn_reset(t->txn);
		store_tls.busy = 0;
	} else {
		mdb_txn_abort(t->txn);
		myfree(t);
	}
	pthread_rwlock_unlock(&st->maplock);
}

/* store_thread_end - drop this thread's cached read transaction */

void
store_thread_end(STORE *st)
{
	if (store_tls.txn && store_tls.gen == st->gen && !store_tls.busy) {
		mdb_txn_abort(store_tls.txn);
		store_tls.txn = 0;
	}
}

/* store_schema - check, record or migrate the schema version */

static int
store_schema(STORE *st, const char *dir, char **err)
{
	MDB_txn *txn;
	MDB_val key = {6, (void *) "schema"}, val;
	char	buf[32];
	int	rc, version;

	rc = mdb_txn_begin(st->env, 0, st->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		*err = myasprintf("%s: %s", dir, mdb_strerror(rc));
		return (STORE_RETRY);
	}
	rc = mdb_get(txn, st->dbi[STORE_DB_META], &key, &val);
	if (rc == MDB_NOTFOUND) {
		if (st->rdonly) {
			mdb_txn_abort(txn);
			return (STORE_OK);
		}
		snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA);
		val.mv_data = buf;
		val.mv_size = strlen(buf);
		rc = mdb_put(txn, st->dbi[STORE_DB_META], &key, &val, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc != 0) {
			*err = myasprintf("%s: cannot record the schema: %s", dir, mdb_strerror(rc));
			return (STORE_RETRY);
		}
		return (STORE_OK);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		*err = myasprintf("%s: %s", dir, mdb_strerror(rc));
		return (STORE_RETRY);
	}
	snprintf(buf, sizeof(buf), "%.*s", (int) val.mv_size, (char *) val.mv_data);
	version = atoi(buf);
	mdb_txn_abort(txn);
	if (version > STORE_SCHEMA) {
		*err = myasprintf("%s: the store was written by a newer postdrip (schema %d; "
				  "this program knows up to %d): upgrade postdrip",
				  dir, version, STORE_SCHEMA);
		return (STORE_CONFIG);
	}
	if (version < 1) {
		*err = myasprintf("%s: bad schema version \"%s\"", dir, buf);
		return (STORE_CONFIG);
	}
	/* Migrations from older schemas go here, one step at a time, each in
	 * its own write transaction that ends by recording the new version.
	 * Schema 1 is the first. */
	return (STORE_OK);
}

/* store_open - open or create the environment */

STORE  *
store_open(const char *dir, const STORE_OPTS *opts, char **err)
{
	STORE  *st;
	MDB_txn *txn;
	struct stat sb;
	int	rc, i;
	MDB_envinfo info;

	*err = 0;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		*err = myasprintf("%s: %s", dir, errno ? strerror(errno) : "not a directory");
		return (0);
	}
	st = mycalloc(1, sizeof(*st));
	st->rdonly = opts && (opts->flags & STORE_RDONLY);
	st->map_size = (opts && opts->map_size) ? opts->map_size : STORE_DEF_MAP;
	st->map_max = (opts && opts->map_max) ? opts->map_max : STORE_DEF_MAP_MAX;
	if (st->map_max < st->map_size)
		st->map_max = st->map_size;
	st->queue_max = (opts && opts->queue_max) ? opts->queue_max : STORE_DEF_QUEUE;
	st->gen = atomic_fetch_add(&store_gen_counter, 1) + 1;
	pthread_rwlock_init(&st->maplock, 0);
	pthread_mutex_init(&st->mu, 0);
	pthread_cond_init(&st->cv_work, 0);
	pthread_cond_init(&st->cv_done, 0);
	pthread_cond_init(&st->cv_space, 0);

	if ((rc = mdb_env_create(&st->env)) != 0
	    || (rc = mdb_env_set_maxdbs(st->env, STORE_DB_COUNT + 8)) != 0
	    || (rc = mdb_env_set_maxreaders(st->env, 1022)) != 0
	    || (rc = mdb_env_set_mapsize(st->env, st->map_size)) != 0)
		goto fail;
	rc = mdb_env_open(st->env, dir, MDB_NOTLS
			  | (st->rdonly ? MDB_RDONLY : 0), 0660);
	if (rc != 0)
		goto fail;
	/* Another process may have grown the map beyond our initial size. */
	if (mdb_env_info(st->env, &info) == 0 && info.me_mapsize > st->map_size)
		st->map_size = info.me_mapsize;

	if ((rc = mdb_txn_begin(st->env, 0, st->rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < STORE_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_names[i], st->rdonly ? 0 : MDB_CREATE, &st->dbi[i]);
		if (rc == MDB_NOTFOUND && st->rdonly) {
			mdb_txn_abort(txn);
			*err = myasprintf("%s: not a postdrip store (database \"%s\" missing)",
					  dir, store_db_names[i]);
			goto fail_quiet;
		}
		if (rc != 0) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	if (store_schema(st, dir, err) != STORE_OK)
		goto fail_quiet;
	if (!st->rdonly) {
		if ((rc = pthread_create(&st->writer, 0, store_writer, st)) != 0)
			msg_fatal("store: cannot start the writer thread: %s", strerror(rc));
		st->writer_running = 1;
	}
	return (st);

fail:
	*err = myasprintf("%s: %s", dir, mdb_strerror(rc));
fail_quiet:
	if (st->env)
		mdb_env_close(st->env);
	myfree(st);
	return (0);
}

/* store_close - drain the writer and close */

void
store_close(STORE *st)
{
	if (st == 0)
		return;
	if (st->writer_running) {
		pthread_mutex_lock(&st->mu);
		st->stopping = 1;
		pthread_cond_signal(&st->cv_work);
		pthread_mutex_unlock(&st->mu);
		pthread_join(st->writer, 0);
	}
	store_thread_end(st);
	mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->maplock);
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv_work);
	pthread_cond_destroy(&st->cv_done);
	pthread_cond_destroy(&st->cv_space);
	myfree(st);
}

/* store_sync_needed - an operation of a no-sync batch wants the disk */

void
store_sync_needed(STORE_TXN *txn)
{
	if (txn->write)
		txn->sync = 1;
}

/* Raw access. */

STORE  *
store_of(STORE_TXN *txn)
{
	return (txn->st);
}

MDB_txn *
store_mdb_txn(STORE_TXN *txn)
{
	return (txn->txn);
}

MDB_dbi
store_dbi(STORE *st, STORE_DB db)
{
	return (st->dbi[db]);
}

int
store_mdb_get(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = {klen, (void *) key};
	int	rc;

	if (txn->failed)
		return (STORE_RETRY);
	if (klen == 0 || klen > 511)
		return (STORE_NOTFOUND);
	rc = mdb_get(txn->txn, txn->st->dbi[db], &k, val);
	if (rc == 0)
		return (STORE_OK);
	if (rc == MDB_NOTFOUND)
		return (STORE_NOTFOUND);
	msg_warn("store: get from %s: %s", store_db_names[db], mdb_strerror(rc));
	return (txn->write ? store_fail(txn, rc) : STORE_RETRY);
}

/* store_get - a record by key, as the store's own value type */

int
store_get(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen, STORE_VAL *val)
{
	MDB_val v;
	int	rc;

	if ((rc = store_mdb_get(txn, db, key, klen, &v)) == STORE_OK) {
		val->data = v.mv_data;
		val->size = v.mv_size;
	}
	return (rc);
}

int
store_put(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen,
	          const void *val, size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *) key}, v = {vlen, (void *) val};
	int	rc;

	if (!txn->write)
		msg_panic("store_put: not in a write transaction");
	if (txn->failed)
		return (STORE_RETRY);
	if (klen == 0 || klen > 511)
		msg_panic("store_put: key length %zu for %s", klen, store_db_names[db]);
	rc = mdb_put(txn->txn, txn->st->dbi[db], &k, &v, flags);
	if (rc == 0)
		return (STORE_OK);
	if (rc == MDB_KEYEXIST)
		return (STORE_EXISTS);
	return (store_fail(txn, rc));
}

int
store_del(STORE_TXN *txn, STORE_DB db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *) key};
	int	rc;

	if (!txn->write)
		msg_panic("store_del: not in a write transaction");
	if (txn->failed)
		return (STORE_RETRY);
	rc = mdb_del(txn->txn, txn->st->dbi[db], &k, 0);
	if (rc == 0)
		return (STORE_OK);
	if (rc == MDB_NOTFOUND)
		return (STORE_NOTFOUND);
	return (store_fail(txn, rc));
}

int
store_cursor(STORE_TXN *txn, STORE_DB db, MDB_cursor **cur)
{
	int	rc;

	if (txn->failed)
		return (STORE_RETRY);
	if ((rc = mdb_cursor_open(txn->txn, txn->st->dbi[db], cur)) != 0)
		return (txn->write ? store_fail(txn, rc) : STORE_RETRY);
	return (STORE_OK);
}

/* store_next_id - next number of a named sequence */

uint64_t
store_next_id(STORE_TXN *txn, const char *seqname)
{
	char	key[80];
	MDB_val val;
	unsigned char buf[8];
	uint64_t id = 0;

	snprintf(key, sizeof(key), "seq:%s", seqname);
	if (store_mdb_get(txn, STORE_DB_META, key, strlen(key), &val) == STORE_OK
	    && val.mv_size == 8)
		id = store_u64_get(val.mv_data);
	id++;
	store_u64_put(buf, id);
	(void) store_put(txn, STORE_DB_META, key, strlen(key), buf, 8, 0);
	return (id);
}

void
store_u64_put(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint64_t
store_u64_get(const unsigned char *p)
{
	uint64_t v = 0;
	int	i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* store_count - entries in a database */

size_t
store_count(STORE_TXN *txn, STORE_DB db)
{
	MDB_stat ms;

	if (mdb_stat(txn->txn, txn->st->dbi[db], &ms) != 0)
		return (0);
	return (ms.ms_entries);
}
