/*
 * caps_test - frequency caps and domain rates: the settings' syntax, rolling
 * windows, per-sender entries, domain overrides, streams, and two CAPS built
 * from the same settings sharing one count (as policyd and the engine do),
 * and the removal of counters that weigh nothing any more.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "caps/caps.h"
#include "config/config.h"
#include "util/mymalloc.h"
#include "store/store.h"
#include "testutil.h"

#define T0	1780000000L		/* some time in 2026 */
#define HOUR	3600L
#define DAY	86400L

typedef struct {
	char   *dir;
	STORE  *st;
} FIX;

static CONFIG *
conf(const char *dir, const char *text)
{
	char   *path = test_write(dir, "postdrip.conf", text), *err = 0;
	CONFIG *cf = config_load(path, &err);

	if (cf == 0)
		fail_msg("config_load: %s", err);
	myfree(path);
	return (cf);
}

static CAPS *
caps_from(FIX *f, const char *text)
{
	CONFIG *cf = conf(f->dir, text);
	char   *err = 0;
	CAPS   *caps = caps_create(cf, &err);

	if (caps == 0)
		fail_msg("caps_create: %s", err);
	config_unref(cf);
	return (caps);
}

static int
setup(void **state)
{
	FIX    *f = mycalloc(1, sizeof(*f));
	char   *err = 0;

	f->dir = test_mkdtemp();
	if ((f->st = store_open(f->dir, 0, &err)) == 0)
		fail_msg("store_open: %s", err);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	FIX    *f = *state;

	store_close(f->st);
	test_rmdir(f->dir);
	myfree(f);
	return (0);
}

typedef struct {
	const CAPS *caps;
	const char *rcpt, *stream, *sender;
	time_t	now;
} COUNT;

static int
count_op(STORE_TXN *txn, void *ctx)
{
	COUNT  *c = ctx;

	return (caps_count(txn, c->caps, c->rcpt, c->stream, c->sender, c->now));
}

static void
send_at(FIX *f, const CAPS *caps, const char *sender, const char *rcpt, time_t now)
{
	COUNT	c = {caps, rcpt, "marketing", sender, now};

	assert_int_equal(store_write(f->st, count_op, &c), STORE_OK);
}

static int
check_at(FIX *f, const CAPS *caps, const char *sender, const char *rcpt,
	         const char *stream, time_t now, CAPS_RESULT *res)
{
	STORE_TXN *txn;
	int	rc;

	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	rc = caps_check(txn, caps, rcpt, stream, sender, now, res);
	store_rend(txn);
	return (rc);
}

static void
test_syntax(void **state)
{
	FIX    *f = *state;
	static const struct {
		const char *text;
		const char *want;	/* in the error, or 0: accepted */
	}	cases[] = {
		{"frequency_caps = 1/1d, 3/7d\n", 0},
		{"frequency_caps = 0/1d\n", "frequency_caps: \"0/1d\""},
		{"frequency_caps = 1001/1d\n", "frequency_caps: \"1001/1d\""},
		{"frequency_caps = 3/soon\n", "frequency_caps: \"3/soon\""},
		{"frequency_caps = 3\n", "frequency_caps: \"3\""},
		{"frequency_caps_sender = *@news.example.com 2/1d 5/7d; @shop.example.com 1/1d\n", 0},
		{"frequency_caps_sender = *@news.example.com\n", "expected a pattern and a rate"},
		{"frequency_caps_sender = *@news.example.com 2/1x\n", "frequency_caps_sender: \"2/1x\""},
		{"domain_rate_limit = 100/1m\n", 0},
		{"domain_rate_limit = fast\n", "domain_rate_limit: \"fast\""},
		{"domain_rate_limit_domains = gmail.com 500/1m; example.org none\n", 0},
		{"domain_rate_limit_domains = gmail.com 500/1m 600/1m\n", "expected one rate"},
		{"domain_rate_limit_domains = gmail.com lots\n", "\"lots\""},
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CONFIG *cf = conf(f->dir, cases[i].text);
		char   *err = 0;
		CAPS   *caps = caps_create(cf, &err);

		if (cases[i].want == 0 && caps == 0)
			fail_msg("%s: refused: %s", cases[i].text, err);
		if (cases[i].want && (caps || strstr(err, cases[i].want) == 0))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text,
				 err ? err : "accepted", cases[i].want);
		caps_free(caps);
		myfree(err);
		config_unref(cf);
	}
}

static void
test_rolling(void **state)
{
	FIX    *f = *state;
	CAPS   *caps = caps_from(f, "frequency_caps = 1/1d, 3/7d\n");
	CAPS_RESULT res;
	const char *s = "news@news.example.com", *r = "Bob@Example.org";

	assert_false(caps_empty(caps));
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0, &res), STORE_OK);
	send_at(f, caps, s, r, T0);
	/* The address is compared normalized. */
	assert_int_equal(check_at(f, caps, s, "bob@example.org", "marketing", T0 + HOUR, &res), CAPS_OVER);
	assert_int_equal(res.kind, CAPS_KIND_RECIPIENT);
	assert_string_equal(res.rule, "frequency_caps 1/1d");
	assert_int_equal(res.limit, 1);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.retry, DAY - HOUR);
	/* Transactional mail is never capped. */
	assert_int_equal(check_at(f, caps, s, r, "transactional", T0 + HOUR, &res), STORE_OK);
	/* Rolling: a day later there is room again. */
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0 + DAY, &res), STORE_OK);
	send_at(f, caps, s, r, T0 + DAY);
	send_at(f, caps, s, r, T0 + 2 * DAY);
	/* Three in 7 days: the weekly cap holds the fourth day. */
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0 + 3 * DAY, &res), CAPS_OVER);
	assert_string_equal(res.rule, "frequency_caps 3/7d");
	assert_int_equal(res.retry, 4 * DAY);
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0 + 7 * DAY - 1, &res), CAPS_OVER);
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0 + 7 * DAY, &res), STORE_OK);
	/* Another recipient is untouched. */
	assert_int_equal(check_at(f, caps, s, "carol@example.org", "marketing", T0 + HOUR, &res), STORE_OK);
	/* A clock that went back counts earlier sends as recent. */
	assert_int_equal(check_at(f, caps, s, r, "marketing", T0 - DAY, &res), CAPS_OVER);
	caps_free(caps);
}

static void
test_sender_entries(void **state)
{
	FIX    *f = *state;
	CAPS   *caps = caps_from(f, "frequency_caps_sender = *@news.example.com 2/1d;"
				 " @shop.example.com 1/1h\n");
	CAPS_RESULT res;
	const char *r = "dave@example.org";

	send_at(f, caps, "a@news.example.com", r, T0);
	send_at(f, caps, "b@news.example.com", r, T0 + 10);
	assert_int_equal(check_at(f, caps, "c@news.example.com", r, "marketing", T0 + 20, &res), CAPS_OVER);
	assert_string_equal(res.rule, "frequency_caps_sender *@news.example.com 2/1d");
	assert_string_equal(res.what, "2 messages per 1d");
	/* Other senders have their own count (and no global caps here). */
	assert_int_equal(check_at(f, caps, "x@eu.shop.example.com", r, "marketing", T0 + 20, &res), STORE_OK);
	send_at(f, caps, "x@eu.shop.example.com", r, T0 + 20);
	assert_int_equal(check_at(f, caps, "y@shop.example.com", r, "marketing", T0 + 30, &res), CAPS_OVER);
	assert_int_equal(check_at(f, caps, "y@shop.example.com", r, "marketing", T0 + 20 + HOUR, &res), STORE_OK);
	assert_int_equal(check_at(f, caps, "z@other.example", r, "marketing", T0 + 30, &res), STORE_OK);
	caps_free(caps);
}

static void
test_domain_rate(void **state)
{
	FIX    *f = *state;
	CAPS   *caps = caps_from(f, "domain_rate_limit = 3/1m\n"
				 "domain_rate_limit_domains = big.example 1000/1m; free.example none\n");
	CAPS_RESULT res;
	const char *s = "news@news.example.com";
	time_t	w = T0 - T0 % 60;		/* a window start */
	int	i;
	char	rcpt[64];

	for (i = 0; i < 3; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@example.org", i);
		assert_int_equal(check_at(f, caps, s, rcpt, "marketing", w + 10, &res), STORE_OK);
		send_at(f, caps, s, rcpt, w + 10);
	}
	assert_int_equal(check_at(f, caps, s, "new@example.org", "marketing", w + 20, &res), CAPS_OVER);
	assert_int_equal(res.kind, CAPS_KIND_DOMAIN);
	assert_string_equal(res.rule, "domain_rate_limit 3/1m");
	assert_string_equal(res.what, "3 messages per 1m to example.org");
	/* Next window: the previous one still weighs, 3 * 50/60 = 2.5, and
	 * one more would make 3.5; at 3 * 40/60 = 2 there is room. */
	assert_int_equal(check_at(f, caps, s, "new@example.org", "marketing", w + 70, &res), CAPS_OVER);
	assert_in_range(res.retry, 10, 11);
	assert_int_equal(check_at(f, caps, s, "new@example.org", "marketing", w + 80, &res), STORE_OK);
	/* Two windows later it is all gone; other domains never saw any. */
	assert_int_equal(check_at(f, caps, s, "new@example.org", "marketing", w + 130, &res), STORE_OK);
	assert_int_equal(check_at(f, caps, s, "new@other.example", "marketing", w + 20, &res), STORE_OK);
	for (i = 0; i < 5; i++) {
		send_at(f, caps, s, "a@free.example", w + 10);
		send_at(f, caps, s, "a@big.example", w + 10);
	}
	assert_int_equal(check_at(f, caps, s, "b@free.example", "marketing", w + 20, &res), STORE_OK);
	assert_int_equal(check_at(f, caps, s, "b@big.example", "marketing", w + 20, &res), STORE_OK);
	caps_free(caps);
}

static void
test_shared_counts(void **state)
{
	FIX    *f = *state;
	const char *text = "frequency_caps = 2/1d\n";
	CAPS   *a = caps_from(f, text), *b = caps_from(f, text);
	CAPS_RESULT res;

	send_at(f, a, "n@news.example.com", "eve@example.org", T0);
	send_at(f, b, "n@news.example.com", "eve@example.org", T0 + 1);
	assert_int_equal(check_at(f, a, "n@news.example.com", "eve@example.org", "marketing", T0 + 2, &res), CAPS_OVER);
	assert_int_equal(check_at(f, b, "n@news.example.com", "eve@example.org", "marketing", T0 + 2, &res), CAPS_OVER);
	caps_free(a);
	caps_free(b);
	a = caps_from(f, "");
	assert_true(caps_empty(a));
	assert_int_equal(check_at(f, a, "n@news.example.com", "eve@example.org", "marketing", T0 + 2, &res), STORE_OK);
	caps_free(a);
}

typedef struct {
	const CAPS *caps;
	time_t	now;
	CAPS_PURGE start, end;
} PURGE;

static int
purge_op(STORE_TXN *txn, void *ctx)
{
	PURGE  *p = ctx;

	/* From a copy, as a replayed batch would be. */
	p->end = p->start;
	return (caps_purge(txn, p->caps, p->now, &p->end, 2));
}

static int
put_op(STORE_TXN *txn, void *ctx)
{
	unsigned char t[8];

	(void) ctx;
	store_u64_put(t, (uint64_t) T0);
	return (store_put(txn, STORE_DB_COUNTER, "s\0*@old.example\0x@example.org", 29, t, 8, 0));
}

static int
present(FIX *f, STORE_DB db, const char *key, size_t klen)
{
	STORE_TXN *txn;
	STORE_VAL val;
	int	rc;

	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	rc = store_get(txn, db, key, klen, &val);
	store_rend(txn);
	return (rc == STORE_OK);
}

static void
test_purge(void **state)
{
	FIX    *f = *state;
	CAPS   *caps = caps_from(f, "frequency_caps = 1/1d, 3/7d\n"
				 "frequency_caps_sender = *@news.example.com 1/2h\n"
				 "domain_rate_limit = 100/1h\n");
	const char *s = "n@news.example.com";
	PURGE	p;
	int	calls = 0;

	/* Mailed long ago, recently, and long ago under a removed entry. */
	send_at(f, caps, s, "old1@old.example", T0);
	send_at(f, caps, s, "old2@old.example", T0 + HOUR);
	send_at(f, caps, s, "old1@old.example", T0 + 2 * HOUR);
	send_at(f, caps, s, "new@new.example", T0 + 6 * DAY);
	send_at(f, caps, "other@shop.example", "third@new.example", T0 + 7 * DAY + 3 * HOUR);
	assert_int_equal(store_write(f->st, put_op, 0), STORE_OK);

	/* Eight days on: old1 and old2 are outside 7d, new is not; its
	 * sender counter (2h) is stale; the removed entry's is kept. */
	memset(&p, 0, sizeof(p));
	p.caps = caps;
	p.now = T0 + 7 * DAY + 4 * HOUR;
	while (p.start.db != CAPS_PURGE_DONE) {
		assert_int_equal(store_write(f->st, purge_op, &p), STORE_OK);
		assert_true(p.end.seen - p.start.seen <= 2);
		p.start = p.end;
		assert_true(++calls < 20);
	}
	assert_false(present(f, STORE_DB_COUNTER, "g\0old1@old.example", 18));
	assert_false(present(f, STORE_DB_COUNTER, "g\0old2@old.example", 18));
	assert_false(present(f, STORE_DB_COUNTER, "s\0*@news.example.com\0old1@old.example", 37));
	assert_false(present(f, STORE_DB_COUNTER, "s\0*@news.example.com\0new@new.example", 36));
	assert_true(present(f, STORE_DB_COUNTER, "g\0new@new.example", 17));
	assert_true(present(f, STORE_DB_COUNTER, "g\0third@new.example", 19));
	assert_true(present(f, STORE_DB_COUNTER, "s\0*@old.example\0x@example.org", 29));
	/* Domain rates: old.example's windows are past, new.example's not. */
	assert_false(present(f, STORE_DB_RATE, "old.example", 11));
	assert_true(present(f, STORE_DB_RATE, "new.example", 11));
	/* 8 counters and 2 rates looked at, 6 removed. */
	assert_int_equal(p.start.seen, 10);
	assert_int_equal(p.start.removed, 6);
	/* What remains still counts. */
	assert_int_equal(check_at(f, caps, s, "third@new.example", "marketing", p.now, 0), CAPS_OVER);

	/* Past the longest window any entry may have, the removed entry's
	 * counter goes too. */
	memset(&p.start, 0, sizeof(p.start));
	p.now = T0 + 401 * DAY;
	while (p.start.db != CAPS_PURGE_DONE) {
		assert_int_equal(store_write(f->st, purge_op, &p), STORE_OK);
		p.start = p.end;
	}
	assert_false(present(f, STORE_DB_COUNTER, "s\0*@old.example\0x@example.org", 29));
	assert_false(present(f, STORE_DB_COUNTER, "g\0new@new.example", 17));
	assert_int_equal(p.start.removed, 4);
	caps_free(caps);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
