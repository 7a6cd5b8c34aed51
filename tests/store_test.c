/*
 * store_test - the LMDB store: records, group commit, replay after
 * MDB_MAP_FULL, schema versions, and two processes writing at once.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/mymalloc.h"
#include "store/store.h"
#include "store/store_stat.h"
#include "testutil.h"

static STORE *
open_store(const char *dir, size_t map)
{
	STORE_OPTS o;
	char   *err = 0;
	STORE  *st;

	memset(&o, 0, sizeof(o));
	o.map_size = map;
	st = store_open(dir, &o, &err);
	if (st == 0)
		fail_msg("store_open: %s", err);
	return (st);
}

typedef struct {
	const char *addr;
	const char *type;
	time_t	when;
	uint64_t seq;
	uint64_t id;
} EV;

static int
ev_op(STORE_TXN *txn, void *ctx)
{
	EV     *e = ctx;
	int	rc;

	if ((rc = store_contact_ensure(txn, e->addr, e->when, &e->id, 0)) != STORE_OK)
		return (rc);
	return (store_event_append(txn, e->id, e->when, e->type, 0, &e->seq));
}

static void
test_contacts(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	EV	e = {"Alice@Example.COM", "subscribed", 1000, 0, 0};
	json_t *rec;
	uint64_t id;

	assert_int_equal(store_write(st, ev_op, &e), STORE_OK);
	assert_true(e.id > 0);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	/* The address is folded: any case finds the same contact. */
	assert_int_equal(store_contact_find(txn, "alice@example.com", &id), STORE_OK);
	assert_int_equal(id, e.id);
	assert_int_equal(store_contact_find(txn, "<ALICE@EXAMPLE.COM>", &id), STORE_OK);
	assert_int_equal(store_contact_find(txn, "bob@example.com", &id), STORE_NOTFOUND);
	assert_int_equal(store_contact_get(txn, e.id, &rec), STORE_OK);
	assert_string_equal(json_string_value(json_object_get(rec, "email")), "alice@example.com");
	json_decref(rec);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* walk_collect - append each contact's address; stop after ctx->stop */

typedef struct {
	char	seen[256];
	int	count, stop;
} WALK;

static int
walk_collect(json_t *rec, void *ctx)
{
	WALK   *w = ctx;

	strcat(w->seen, json_string_value(json_object_get(rec, "email")));
	strcat(w->seen, " ");
	return (++w->count == w->stop);
}

static int
bad_contact_op(STORE_TXN *txn, void *ctx)
{
	unsigned char key[8];

	store_u64_put(key, *(uint64_t *) ctx);
	return (store_put(txn, STORE_DB_CONTACT, key, 8, "{not json", 9, 0));
}

/* Every contact in id order; a record that does not parse is skipped. */

static void
test_contact_walk(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	EV	c = {"carol@example.com", "subscribed", 1000, 0, 0};
	EV	a = {"alice@example.com", "subscribed", 1000, 0, 0};
	WALK	w;
	uint64_t bad = 1000;

	assert_int_equal(store_write(st, ev_op, &c), STORE_OK);
	assert_int_equal(store_write(st, ev_op, &a), STORE_OK);
	assert_int_equal(store_write(st, bad_contact_op, &bad), STORE_OK);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_contact_walk(txn, walk_collect, &w), STORE_OK);
	assert_string_equal(w.seen, "carol@example.com alice@example.com ");
	memset(&w, 0, sizeof(w));
	w.stop = 1;
	assert_int_equal(store_contact_walk(txn, walk_collect, &w), STORE_OK);
	assert_string_equal(w.seen, "carol@example.com ");
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

typedef struct {
	json_t *rec;
	uint64_t id;
} PUT;

static int
put_op(STORE_TXN *txn, void *ctx)
{
	PUT    *p = ctx;

	return (store_contact_put(txn, p->rec, &p->id));
}

static int
dateidx_has(STORE *st, const char *key, size_t len)
{
	STORE_TXN *txn;
	STORE_VAL v;
	int	rc;

	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	rc = store_get(txn, STORE_DB_DATEIDX, key, len, &v);
	store_rend(txn);
	return (rc == STORE_OK);
}

static void
test_dateidx(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	PUT	p;
	unsigned char key[64];
	size_t	n;

	p.rec = json_pack("{s:s, s:{s:s}}", "email", "a@b.example", "fields", "birthday", "1990-05-01");
	assert_int_equal(store_write(st, put_op, &p), STORE_OK);
	/* "A" MMDD field NUL id: every year. */
	memcpy(key, "A0501birthday", 14);
	store_u64_put(key + 14, p.id);
	n = 22;
	assert_true(dateidx_has(st, (char *) key, n));
	/* Changing the field moves the index entry. */
	json_object_set_new(json_object_get(p.rec, "fields"), "birthday", json_string("1990-06-02"));
	assert_int_equal(store_write(st, put_op, &p), STORE_OK);
	assert_false(dateidx_has(st, (char *) key, n));
	memcpy(key, "A0602birthday", 14);
	assert_true(dateidx_has(st, (char *) key, n));
	/* A second contact cannot take the same address. */
	json_decref(p.rec);
	p.rec = json_pack("{s:s}", "email", "A@B.EXAMPLE");
	assert_int_equal(store_write(st, put_op, &p), STORE_EXISTS);
	json_decref(p.rec);
	store_close(st);
	test_rmdir(dir);
}

typedef struct {
	const char *addr, *reason;
	int	del;
} SUP;

static int
sup_op(STORE_TXN *txn, void *ctx)
{
	SUP    *s = ctx;

	if (s->del)
		return (store_suppress_del(txn, s->addr));
	return (store_suppress_put(txn, s->addr, s->reason, "test", 42));
}

static void
test_suppress(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	STORE_SUPPRESSION s;
	SUP	op = {"Bob@Example.com", "complaint", 0};

	assert_int_equal(store_write(st, sup_op, &op), STORE_OK);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_suppress_get(txn, "bob@example.com", &s), STORE_OK);
	assert_string_equal(s.reason, "complaint");
	assert_string_equal(s.source, "test");
	assert_int_equal(s.time, 42);
	store_rend(txn);
	op.del = 1;
	assert_int_equal(store_write(st, sup_op, &op), STORE_OK);
	assert_int_equal(store_write(st, sup_op, &op), STORE_NOTFOUND);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_suppress_get(txn, "bob@example.com", &s), STORE_NOTFOUND);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* The schedule's jobs due at a time, and tallies: what /metrics shows. */
static int
due_op(STORE_TXN *txn, void *ctx)
{
	static const time_t dues[] = {100, 200, 200, 300, 5000, 0};
	unsigned char key[16];
	int	i, rc;

	(void) ctx;
	for (i = 0; dues[i]; i++) {
		store_u64_put(key, (uint64_t) dues[i]);
		store_u64_put(key + 8, (uint64_t) (i + 1));
		if ((rc = store_put(txn, STORE_DB_SCHEDULE, key, 16, "", 0, 0)) != STORE_OK)
			return (rc);
	}
	store_tally(txn, "bounced.hard");
	store_tally(txn, "bounced.hard");
	store_tally(txn, "bounced.soft");
	return (STORE_OK);
}

static void
test_stat_due_tally(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;

	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_stat_due(txn, 1000), 0);
	assert_int_equal(store_tally_get(txn, "bounced.hard"), 0);
	store_rend(txn);
	assert_int_equal(store_write(st, due_op, 0), STORE_OK);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_stat_due(txn, 99), 0);
	assert_int_equal(store_stat_due(txn, 100), 1);
	assert_int_equal(store_stat_due(txn, 250), 3);
	assert_int_equal(store_stat_due(txn, 4999), 4);
	assert_int_equal(store_stat_due(txn, 5000), 5);
	assert_int_equal(store_tally_get(txn, "bounced.hard"), 2);
	assert_int_equal(store_tally_get(txn, "bounced.soft"), 1);
	assert_int_equal(store_tally_get(txn, "complained"), 0);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

static int
tl_collect(const STORE_EVENT *ev, void *ctx)
{
	char   *out = ctx;

	strcat(out, ev->type);
	strcat(out, ",");
	return (0);
}

static void
test_events(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	STORE_EVENT ev;
	char	order[256] = "";
	EV	e1 = {"c@example.com", "second", 2000, 0, 0}, e2 = {"c@example.com", "first", 1000, 0, 0};
	EV	e3 = {"d@example.com", "other", 1500, 0, 0};

	assert_int_equal(store_write(st, ev_op, &e1), STORE_OK);
	assert_int_equal(store_write(st, ev_op, &e2), STORE_OK);
	assert_int_equal(store_write(st, ev_op, &e3), STORE_OK);
	assert_true(e1.seq < e2.seq && e2.seq < e3.seq);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	/* The timeline is in time order, whatever the recording order. */
	store_timeline_walk(txn, e1.id, tl_collect, order);
	assert_string_equal(order, "first,second,");
	/* From a time on: a window starts at that time, inclusive. */
	order[0] = 0;
	store_timeline_walk_since(txn, e1.id, 1001, tl_collect, order);
	assert_string_equal(order, "second,");
	order[0] = 0;
	store_timeline_walk_since(txn, e1.id, 1000, tl_collect, order);
	assert_string_equal(order, "first,second,");
	order[0] = 0;
	store_timeline_walk_since(txn, e1.id, 2001, tl_collect, order);
	assert_string_equal(order, "");
	/* The global sequence is in recording order. */
	assert_int_equal(store_event_next(txn, 0, &ev), STORE_OK);
	assert_string_equal(ev.type, "second");
	store_event_free(&ev);
	assert_int_equal(store_event_next(txn, e2.seq, &ev), STORE_OK);
	assert_string_equal(ev.type, "other");
	assert_int_equal(ev.contact, e3.id);
	store_event_free(&ev);
	assert_int_equal(store_event_next(txn, e3.seq, &ev), STORE_NOTFOUND);
	assert_int_equal(store_event_last(txn), e3.seq);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

static int
sent_op(STORE_TXN *txn, void *ctx)
{
	return (store_sent_put(txn, ctx));
}

static void
test_sent(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	STORE_SENT s, got;

	memset(&s, 0, sizeof(s));
	strcpy(s.message_id, "<1.2.abc@example.com>");
	s.contact = 7;
	strcpy(s.workflow, "welcome");
	strcpy(s.step, "day0");
	strcpy(s.stream, "marketing");
	s.enrolment = 12;
	s.time = 1700000000;
	assert_int_equal(store_write(st, sent_op, &s), STORE_OK);
	assert_true(s.msgno > 0);
	/* A Message-ID is recorded once. */
	assert_int_equal(store_write(st, sent_op, &s), STORE_EXISTS);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_sent_by_msgid(txn, "1.2.abc@example.com", &got), STORE_OK);
	assert_int_equal(got.msgno, s.msgno);
	assert_string_equal(got.workflow, "welcome");
	assert_int_equal(store_sent_get(txn, s.msgno, &got), STORE_OK);
	assert_int_equal(got.contact, 7);
	assert_string_equal(got.message_id, "1.2.abc@example.com");
	assert_int_equal(got.enrolment, 12);
	assert_string_equal(got.step, "day0");
	assert_string_equal(got.stream, "marketing");
	assert_int_equal(got.time, 1700000000);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* Sent records of other shapes than store_sent_put()'s (older records,
 * escapes, text outside ASCII) read as jansson reads them. */
static const char *const raw_sent[][2] = {
	{"{\"time\":5,\"step\":\"s\",\"contact\":9,\"extra\":\"x\",\"message_id\":\"a@b\"}",
	"a@b|9|0||s||5"},
	{"{ \"message_id\": \"a@b\", \"contact\": 9 }", "a@b|9|0||||0"},
	{"{\"message_id\":\"a\\\"q@b\",\"workflow\":\"w\\u00e9\",\"contact\":3}",
	"a\"q@b|3|0|w\xc3\xa9|||0"},
	{"{\"message_id\":\"x@y\",\"workflow\":\"caf\xc3\xa9\",\"time\":-1}",
	"x@y|0|0|caf\xc3\xa9|||-1"},
	{"{\"message_id\":7,\"contact\":\"8\",\"enrolment\":4,\"extra\":{\"a\":[1]}}",
	"|0|4||||0"},
	{"{\"message_id\":\"m@n\",\"time\":1.5,\"stream\":\"marketing\"}", "m@n|0|0|||marketing|0"},
	{"{}", "|0|0||||0"},
};

static int
raw_sent_op(STORE_TXN *txn, void *ctx)
{
	unsigned char key[8];
	size_t	i;
	int	rc = STORE_OK;

	(void) ctx;
	for (i = 0; i < sizeof(raw_sent) / sizeof(raw_sent[0]) && rc == STORE_OK; i++) {
		store_u64_put(key, 1000 + i);
		rc = store_put(txn, STORE_DB_SENT, key, 8, raw_sent[i][0], strlen(raw_sent[i][0]), 0);
	}
	return (rc);
}

static void
test_sent_shapes(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	STORE_SENT got;
	char	buf[1024];
	size_t	i;

	assert_int_equal(store_write(st, raw_sent_op, 0), STORE_OK);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	for (i = 0; i < sizeof(raw_sent) / sizeof(raw_sent[0]); i++) {
		assert_int_equal(store_sent_get(txn, 1000 + i, &got), STORE_OK);
		assert_int_equal(got.msgno, 1000 + i);
		snprintf(buf, sizeof(buf), "%s|%llu|%llu|%s|%s|%s|%lld", got.message_id,
			 (unsigned long long) got.contact, (unsigned long long) got.enrolment,
			 got.workflow, got.step, got.stream, (long long) got.time);
		assert_string_equal(buf, raw_sent[i][1]);
	}
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* A failing operation's result reaches its caller; others in the batch
 * are unaffected. */
static int
big_op(STORE_TXN *txn, void *ctx)
{
	static char blob[64 * 1024];
	unsigned char key[8];
	int	i, rc = STORE_OK;

	for (i = 0; i < 64 && rc == STORE_OK; i++) {
		store_u64_put(key, (uint64_t) (uintptr_t) ctx * 1000 + i);
		rc = store_put(txn, STORE_DB_MISC, key, 8, blob, sizeof(blob), 0);
	}
	return (rc);
}

static void
test_map_growth(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 1024 * 1024);	/* 1 MiB: full at once */
	STORE_TXN *txn;
	uintptr_t i;

	/* 4 MiB per write: each needs the map grown, then replayed. */
	for (i = 1; i <= 4; i++)
		assert_int_equal(store_write(st, big_op, (void *) i), STORE_OK);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_MISC), 4 * 64);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

static int
schema_op(STORE_TXN *txn, void *ctx)
{
	return (store_put(txn, STORE_DB_META, "schema", 6, ctx, strlen(ctx), 0));
}

static void
test_schema(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	char   *err = 0;

	assert_int_equal(store_write(st, schema_op, "999"), STORE_OK);
	store_close(st);
	assert_null(store_open(dir, 0, &err));
	assert_non_null(strstr(err, "newer postdrip"));
	myfree(err);
	test_rmdir(dir);
}

static int async_done_count;

static void
async_done(void *ctx, int status)
{
	if (status == STORE_OK)
		async_done_count++;
	myfree(ctx);
}

static int
async_op(STORE_TXN *txn, void *ctx)
{
	return (store_event_append(txn, 0, 1, "tick", 0, 0));
}

static void
test_async(void **state)
{
	char   *dir = test_mkdtemp();
	STORE_OPTS o = {0, 0, 0, 64};	/* a small queue: writers must wait */
	char   *err;
	STORE  *st = store_open(dir, &o, &err);
	STORE_TXN *txn;
	int	i;

	async_done_count = 0;
	for (i = 0; i < 5000; i++)
		store_write_async(st, async_op, mymalloc(1), async_done, STORE_W_NOSYNC);
	store_flush(st);
	assert_int_equal(async_done_count, 5000);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_EVENT), 5000);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* Threads that write at once: each write runs in its caller's thread
 * when nothing else is being written, else it queues for the writer.
 * Every write commits once, whatever path it took, and async writes
 * queued meanwhile are not overtaken or lost. */
typedef struct {
	STORE  *st;
	int	id;
	int	failed;
} THR;

static void *
writer_thread(void *arg)
{
	THR    *t = arg;
	STORE_TXN *txn;
	char	addr[64];
	int	i;

	for (i = 0; i < 300; i++) {
		EV	e = {addr, "thread", 1000 + i, 0, 0};

		snprintf(addr, sizeof(addr), "t%d-%d@example.com", t->id, i % 20);
		if (store_write(t->st, ev_op, &e) != STORE_OK || e.seq == 0)
			t->failed++;
		/* Now and then with a snapshot open: the write must queue. */
		if (i % 7 == 0) {
			if (store_rbegin(t->st, &txn) != STORE_OK)
				t->failed++;
			else {
				if (store_write(t->st, async_op, 0) != STORE_OK)
					t->failed++;
				store_rend(txn);
			}
		}
	}
	store_thread_end(t->st);
	return (0);
}

static void
test_threads(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *txn;
	pthread_t th[8];
	THR	t[8];
	int	i;

	async_done_count = 0;
	for (i = 0; i < 8; i++) {
		t[i].st = st;
		t[i].id = i;
		t[i].failed = 0;
		assert_int_equal(pthread_create(th + i, 0, writer_thread, t + i), 0);
	}
	for (i = 0; i < 2000; i++)
		store_write_async(st, async_op, mymalloc(1), async_done, STORE_W_NOSYNC);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], 0), 0);
		assert_int_equal(t[i].failed, 0);
	}
	store_flush(st);
	assert_int_equal(async_done_count, 2000);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	/* 8 x 300 events, 8 x 43 ticks under a snapshot, 2000 async ticks */
	assert_int_equal(store_count(txn, STORE_DB_EVENT), 8 * 300 + 8 * 43 + 2000);
	assert_int_equal(store_count(txn, STORE_DB_CONTACT), 8 * 20);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* A reader holding its snapshot open blocks no writer: the write commits
 * (alarm() ends the test if it waited) and the reader still sees the
 * store as it was when it began. */
static void
test_reader_no_block(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st = open_store(dir, 0);
	STORE_TXN *r, *txn;
	EV	a = {"a@example.com", "subscribed", 1000, 0, 0};
	EV	b = {"b@example.com", "subscribed", 1001, 0, 0};

	assert_int_equal(store_write(st, ev_op, &a), STORE_OK);
	assert_int_equal(store_rbegin(st, &r), STORE_OK);
	assert_int_equal(store_count(r, STORE_DB_EVENT), 1);
	alarm(10);
	assert_int_equal(store_write(st, ev_op, &b), STORE_OK);
	alarm(0);
	assert_int_equal(store_count(r, STORE_DB_EVENT), 1);
	store_rend(r);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_EVENT), 2);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

/* Two processes write the same store at once; nothing is lost and the
 * global sequence has no duplicates or holes. */
static void
test_two_processes(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st;
	STORE_TXN *txn;
	STORE_EVENT ev;
	pid_t	pid[2];
	int	p, i, status;
	uint64_t seq, n = 0;

	for (p = 0; p < 2; p++) {
		if ((pid[p] = fork()) == 0) {
			STORE  *cst = open_store(dir, 0);
			char	addr[64];

			for (i = 0; i < 500; i++) {
				EV	e = {addr, p ? "from_b" : "from_a", 1000 + i, 0, 0};

				snprintf(addr, sizeof(addr), "p%d-%d@example.com", p, i % 50);
				if (store_write(cst, ev_op, &e) != STORE_OK)
					_exit(1);
			}
			store_close(cst);
			_exit(0);
		}
	}
	for (p = 0; p < 2; p++) {
		assert_int_equal(waitpid(pid[p], &status, 0), pid[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = open_store(dir, 0);
	assert_int_equal(store_rbegin(st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_CONTACT), 100);
	for (seq = 0; store_event_next(txn, seq, &ev) == STORE_OK; seq = ev.seq) {
		assert_int_equal(ev.seq, seq + 1);
		n++;
		store_event_free(&ev);
	}
	assert_int_equal(n, 1000);
	store_rend(txn);
	store_close(st);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contacts),
		cmocka_unit_test(test_contact_walk),
		cmocka_unit_test(test_dateidx),
		cmocka_unit_test(test_suppress),
		cmocka_unit_test(test_stat_due_tally),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_sent),
		cmocka_unit_test(test_sent_shapes),
		cmocka_unit_test(test_map_growth),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_async),
		cmocka_unit_test(test_reader_no_block),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_two_processes),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
