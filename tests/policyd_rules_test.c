/*
 * policyd_rules_test - postdrip-policyd's decisions: the stream of a
 * message, the answer for suppressed recipients (one text per reason),
 * every over-cap action, the answer when the store fails, the settings it
 * refuses, counting at END-OF-MESSAGE, and messages in flight.
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

#include "util/clock.h"
#include "util/mymalloc.h"
#include "policyd.h"
#include "testutil.h"

#define T0	1780000000L

typedef struct {
	char   *dir;
	STORE  *st;
} FIX;

static POLICYD_RULES *
rules_from(const char *dir, const char *text, char **errp)
{
	char   *path = test_write(dir, "postdrip.conf", text), *err = 0;
	CONFIG *cf = config_load(path, &err);
	POLICYD_RULES *r;

	if (cf == 0)
		fail_msg("config_load: %s", err);
	myfree(path);
	r = policyd_rules_create(cf, &err);
	config_unref(cf);
	if (errp)
		*errp = err;
	else if (r == 0)
		fail_msg("policyd_rules_create: %s", err);
	return (r);
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

static void
test_stream(void **state)
{
	FIX    *f = *state;
	POLICYD_RULES *r = rules_from(f->dir,
				      "marketing_senders = *@news.example.com, @promo.example.com\n"
				      "bounce_domain = bounce.example.com\n"
				      "marketing_sasl_users = mailer, campaigns\n"
				      "marketing_clients = 192.0.2.0/25, 2001:db8:1::/48, 198.51.100.7\n", 0);
	static const struct {
		const char *sender, *sasl, *client;
		POLICYD_STREAM want;
	}	cases[] = {
		{"News@NEWS.example.com", "", "203.0.113.1", POLICYD_STREAM_MARKETING},
		{"a@eu.promo.example.com", "", "", POLICYD_STREAM_MARKETING},
		{"bounces+x1abc@bounce.example.com", "", "", POLICYD_STREAM_MARKETING},
		/* The engine's transactional return path and notifications. */
		{"txbounces+x1abc@bounce.example.com", "", "", POLICYD_STREAM_TRANSACTIONAL},
		{"noreply@bounce.example.com", "", "", POLICYD_STREAM_TRANSACTIONAL},
		{"alice@example.com", "campaigns", "", POLICYD_STREAM_MARKETING},
		{"alice@example.com", "alice", "203.0.113.1", POLICYD_STREAM_TRANSACTIONAL},
		{"alice@example.com", "", "192.0.2.100", POLICYD_STREAM_MARKETING},
		{"alice@example.com", "", "192.0.2.128", POLICYD_STREAM_TRANSACTIONAL},
		{"alice@example.com", "", "198.51.100.7", POLICYD_STREAM_MARKETING},
		{"alice@example.com", "", "198.51.100.8", POLICYD_STREAM_TRANSACTIONAL},
		{"alice@example.com", "", "2001:db8:1:ff::25", POLICYD_STREAM_MARKETING},
		{"alice@example.com", "", "2001:db8:2::25", POLICYD_STREAM_TRANSACTIONAL},
		{"alice@example.com", "", "not-an-address", POLICYD_STREAM_TRANSACTIONAL},
		{"receipts@shop.example.com", "", "", POLICYD_STREAM_TRANSACTIONAL},
		/* The null sender is never marketing, whatever the client. */
		{"", "", "192.0.2.1", POLICYD_STREAM_TRANSACTIONAL},
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		POLICYD_STREAM got = policyd_stream(r, cases[i].sender, cases[i].sasl,
						    cases[i].client);

		if (got != cases[i].want)
			fail_msg("case %zu (%s, %s, %s): got %s", i, cases[i].sender, cases[i].sasl,
				 cases[i].client, policyd_stream_name(got));
	}
	policyd_rules_unref(r);
}

static void
test_refused_settings(void **state)
{
	FIX    *f = *state;
	static const struct {
		const char *text, *want;
	}	cases[] = {
		{"policyd_store_fail_action = DUNNO\n", "never a permit"},
		{"policyd_store_fail_action = OK\n", "never a permit"},
		{"policyd_store_fail_action = 250 fine\n", "never a permit"},
		{"frequency_cap_action = later\n", "frequency_cap_action = later"},
		{"frequency_cap_action = FILTER nowhere\n", "FILTER transport:destination"},
		{"domain_rate_action = REDIRECT not-an-address\n", "domain_rate_action"},
		{"marketing_clients = 192.0.2.1/24\n", "marketing_clients"},
		{"marketing_clients = 10.0.0.0/33\n", "marketing_clients"},
		{"policyd_count_stage = data\n", "policyd_count_stage"},
		{"frequency_caps = 2/fortnight\n", "frequency_caps"},
	};
	size_t	i;
	char   *err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		POLICYD_RULES *r = rules_from(f->dir, cases[i].text, &err);

		if (r || err == 0 || strstr(err, cases[i].want) == 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text,
				 err ? err : "accepted", cases[i].want);
		myfree(err);
	}
}

typedef struct {
	const char *addr, *reason;
} SUP;

static int
suppress_op(STORE_TXN *txn, void *ctx)
{
	SUP    *s = ctx;

	return (store_suppress_put(txn, s->addr, s->reason, "test", T0));
}

static void
test_suppressed(void **state)
{
	FIX    *f = *state;
	POLICYD_RULES *r = rules_from(f->dir, "marketing_senders = *@news.example.com\n", 0);
	static const struct {
		const char *reason, *text;
	}	cases[] = {
		{"unsubscribed", "recipient unsubscribed"},
		{"hardbounce", "recipient address bounced (hard bounce)"},
		{"complaint", "recipient complained (spam report)"},
		{"manual", "recipient suppressed by the administrator"},
		{"gdpr-erasure", "recipient suppressed (gdpr-erasure)"},
	};
	POLICYD_DECISION d;
	char	addr[64], want[256];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		SUP	s;

		snprintf(addr, sizeof(addr), "user%zu@example.org", i);
		s.addr = addr;
		s.reason = cases[i].reason;
		assert_int_equal(store_write(f->st, suppress_op, &s), STORE_OK);
		policyd_decide(r, f->st, "n@news.example.com", addr, T0, 0, &d);
		snprintf(want, sizeof(want), "550 5.7.1 %s (postdrip)", cases[i].text);
		assert_string_equal(d.action, want);
		assert_string_equal(d.verdict, "reject");
		assert_int_equal(d.count, 0);
	}
	policyd_decide(r, f->st, "n@news.example.com", "fresh@example.org", T0, 0, &d);
	assert_string_equal(d.action, "DUNNO");
	assert_string_equal(d.verdict, "dunno");
	assert_int_equal(d.count, 1);
	policyd_rules_unref(r);
}

typedef struct {
	POLICYD_RULES *r;
	const char *rcpt;
} CNT;

static int
count_op(STORE_TXN *txn, void *ctx)
{
	CNT    *c = ctx;

	return (caps_count(txn, c->r->caps, c->rcpt, "marketing", "n@news.example.com", T0));
}

static void
test_over_actions(void **state)
{
	FIX    *f = *state;
	static const struct {
		const char *setting, *want, *verdict;
	}	cases[] = {
		{"defer", "450 4.7.1 frequency cap reached (1 message per 1d) (postdrip)", "defer"},
		{"reject", "550 5.7.1 frequency cap reached (1 message per 1d) (postdrip)", "reject"},
		{"hold", "HOLD frequency cap reached (1 message per 1d) for <x@example.org> (postdrip)", "hold"},
		{"discard", "DISCARD frequency cap reached (1 message per 1d) for <x@example.org> (postdrip)", "discard"},
		{"FILTER smtp:[127.0.0.1]:10026", "FILTER smtp:[127.0.0.1]:10026", "filter"},
		{"REDIRECT capped@example.net", "REDIRECT capped@example.net", "redirect"},
	};
	POLICYD_DECISION d;
	char	text[256];
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		POLICYD_RULES *r;
		CNT	c;

		snprintf(text, sizeof(text), "marketing_senders = *@news.example.com\n"
			 "frequency_caps = 1/1d\nfrequency_cap_action = %s\n", cases[i].setting);
		r = rules_from(f->dir, text, 0);
		if (i == 0) {
			c.r = r;
			c.rcpt = "x@example.org";
			assert_int_equal(store_write(f->st, count_op, &c), STORE_OK);
		}
		policyd_decide(r, f->st, "n@news.example.com", "x@example.org", T0 + 60, 0, &d);
		assert_string_equal(d.action, cases[i].want);
		assert_string_equal(d.verdict, cases[i].verdict);
		assert_non_null(strstr(d.detail, "rule=\"frequency_caps 1/1d\""));
		assert_int_equal(d.count, 0);
		policyd_rules_unref(r);
	}
	/* Domain rates have their own action. */
	{
		POLICYD_RULES *r = rules_from(f->dir, "marketing_senders = *@news.example.com\n"
					      "domain_rate_limit = 1/1h\ndomain_rate_action = reject\n", 0);
		CNT	c = {r, "y@example.net"};

		assert_int_equal(store_write(f->st, count_op, &c), STORE_OK);
		policyd_decide(r, f->st, "n@news.example.com", "z@example.net", T0 + 60, 0, &d);
		assert_string_equal(d.action, "550 5.7.1 domain rate limit reached "
				    "(1 message per 1h to example.net) (postdrip)");
		policyd_rules_unref(r);
	}
}

static int
corrupt_op(STORE_TXN *txn, void *ctx)
{
	return (store_put(txn, STORE_DB_SUPPRESS, "broken@example.org", 18, "x", 1, 0));
}

static void
test_store_failure(void **state)
{
	FIX    *f = *state;
	POLICYD_RULES *r = rules_from(f->dir, "marketing_senders = *@news.example.com\n", 0);
	POLICYD_RULES *r2 = rules_from(f->dir, "marketing_senders = *@news.example.com\n"
				       "policyd_store_fail_action = DEFER_IF_PERMIT Service unavailable\n", 0);
	POLICYD_DECISION d;

	/* A record the store cannot read is our failure: never a permit. */
	assert_int_equal(store_write(f->st, corrupt_op, 0), STORE_OK);
	policyd_decide(r, f->st, "n@news.example.com", "broken@example.org", T0, 0, &d);
	assert_string_equal(d.action, "451 4.3.0 Temporary lookup failure");
	assert_string_equal(d.verdict, "defer");
	assert_int_equal(d.count, 0);
	policyd_decide(r2, f->st, "n@news.example.com", "broken@example.org", T0, 0, &d);
	assert_string_equal(d.action, "DEFER_IF_PERMIT Service unavailable");
	policyd_rules_unref(r);
	policyd_rules_unref(r2);
}

static void
test_pending(void **state)
{
	FIX    *f = *state;
	POLICYD_RULES *r = rules_from(f->dir, "marketing_senders = *@news.example.com\n"
				      "frequency_caps = 1/1d\npolicyd_pending_limit = 2\n", 0);
	POLICYD_PENDING p;
	POLICYD_DECISION d;

	clock_set(T0);
	policyd_pending_init(&p);
	/* An abandoned message (RSET, QUIT) is never counted. */
	policyd_pending_add(&p, r, "inst.1", "n@news.example.com", "a@example.org");
	policyd_pending_add(&p, r, "inst.2", "n@news.example.com", "b@example.org");
	policyd_pending_add(&p, r, "inst.2", "n@news.example.com", "B@example.org");
	policyd_pending_add(&p, r, "inst.2", "n@news.example.com", "c@example.org");
	policyd_pending_add(&p, r, "inst.2", "n@news.example.com", "d@example.org");
	assert_int_equal(p.nrcpt, 2);		/* b once, c; d over the limit */
	assert_int_equal(p.dropped, 1);
	assert_false(policyd_pending_match(&p, "inst.1"));
	assert_true(policyd_pending_match(&p, "inst.2"));
	assert_int_equal(policyd_pending_commit(&p, r, f->st, T0), 2);
	assert_null(p.instance);
	policyd_count_flush(f->st);
	store_flush(f->st);
	policyd_decide(r, f->st, "n@news.example.com", "a@example.org", T0 + 1, 0, &d);
	assert_string_equal(d.action, "DUNNO");
	policyd_decide(r, f->st, "n@news.example.com", "b@example.org", T0 + 1, 0, &d);
	assert_string_equal(d.verdict, "defer");
	policyd_decide(r, f->st, "n@news.example.com", "c@example.org", T0 + 1, 0, &d);
	assert_string_equal(d.verdict, "defer");
	policyd_decide(r, f->st, "n@news.example.com", "d@example.org", T0 + 1, 0, &d);
	assert_string_equal(d.action, "DUNNO");
	/* At once, for policyd_count_stage = rcpt. */
	policyd_count_one(r, f->st, "n@news.example.com", "d@example.org", T0 + 1);
	policyd_count_flush(f->st);
	store_flush(f->st);
	policyd_decide(r, f->st, "n@news.example.com", "d@example.org", T0 + 2, 0, &d);
	assert_string_equal(d.verdict, "defer");
	policyd_pending_clear(&p);
	policyd_rules_unref(r);
	clock_set(0);
}

static void
test_inflight(void **state)
{
	FIX    *f = *state;
	POLICYD_RULES *r = rules_from(f->dir, "marketing_senders = *@news.example.com\n"
				      "frequency_caps = 1/1d, 3/7d\n", 0);
	POLICYD_PENDING p, q;
	POLICYD_DECISION d;

	clock_set(T0);
	policyd_pending_init(&p);
	policyd_pending_init(&q);
	/* One message to a recipient in flight: a second one is over 1/1d. */
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0, 1, &d);
	assert_string_equal(d.action, "450 4.7.1 frequency cap reached (1 message per 1d) (postdrip)");
	assert_non_null(strstr(d.detail, "count=1 retry=86400s"));
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0, 0, &d);
	assert_string_equal(d.action, "DUNNO");
	/* The table follows the lists: added, dropped, handed to the writer. */
	assert_int_equal(policyd_inflight("ann@example.org"), 0);
	policyd_pending_add(&p, r, "i.1", "n@news.example.com", "ann@example.org");
	policyd_pending_add(&p, r, "i.1", "n@news.example.com", "ANN@example.org");
	policyd_pending_add(&q, r, "i.2", "n@news.example.com", "<ann@example.org>");
	assert_int_equal(policyd_inflight("Ann@Example.org"), 2);
	assert_true(policyd_pending_has(&p, "i.1", "ann@example.org"));
	assert_false(policyd_pending_has(&p, "i.2", "ann@example.org"));
	policyd_pending_clear(&q);
	assert_int_equal(policyd_inflight("ann@example.org"), 1);
	assert_int_equal(policyd_pending_commit(&p, r, f->st, T0), 1);
	assert_int_equal(policyd_inflight("ann@example.org"), 0);
	policyd_count_flush(f->st);
	store_flush(f->st);
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0 + 1, 0, &d);
	assert_string_equal(d.verdict, "defer");
	/* Two days on, 1/1d has room but for one in flight. */
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0 + 2 * 86400, 0, &d);
	assert_string_equal(d.action, "DUNNO");
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0 + 2 * 86400, 1, &d);
	assert_string_equal(d.verdict, "defer");
	policyd_rules_unref(r);
	/* Under 3/7d alone: 1 stored and 2 in flight make 3. */
	r = rules_from(f->dir, "marketing_senders = *@news.example.com\n"
		       "frequency_caps = 3/7d\n", 0);
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0 + 2 * 86400, 1, &d);
	assert_string_equal(d.action, "DUNNO");
	policyd_decide(r, f->st, "n@news.example.com", "ann@example.org", T0 + 2 * 86400, 2, &d);
	assert_non_null(strstr(d.action, "3 messages per 7d"));
	assert_non_null(strstr(d.detail, "count=3 retry=432000s"));
	policyd_rules_unref(r);
	clock_set(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_settings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suppressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_over_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight, setup, teardown),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
