/*
 * addr_test - address folding and sender patterns.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/addr.h"

static void
test_normalize(void **state)
{
	char	buf[ADDR_MAX + 1];

	assert_string_equal(addr_normalize(" <Alice@Example.COM> ", buf), "alice@example.com");
	assert_string_equal(addr_normalize("user+tag@example.com", buf), "user+tag@example.com");
	assert_null(addr_normalize("no-at-sign", buf));
	assert_null(addr_normalize("@example.com", buf));
	assert_null(addr_normalize("a@", buf));
	assert_null(addr_normalize("a b@example.com", buf));
	assert_null(addr_normalize("a@b@c", buf));
	assert_null(addr_normalize("a@example.com..", buf));
	assert_null(addr_normalize("a\n@example.com", buf));
}

/* Every spelling that Postfix delivers to one mailbox has one key. */
static void
test_spellings(void **state)
{
	static const char *same[] = {
		"v@sink.test", "v@sink.test.", "v@SINK.TEST.", "V@Sink.Test",
		"<v@sink.test.>", "\"v\"@sink.test", "\"V\"@SINK.TEST.", " <\"v\"@sink.test> ",
		0,
	};
	char	buf[ADDR_MAX + 1];
	const char **p;

	for (p = same; *p; p++) {
		assert_non_null(addr_normalize(*p, buf));
		assert_string_equal(buf, "v@sink.test");
	}
	/* A quoted local part that needs its quotes keeps them, minimal. */
	assert_string_equal(addr_normalize("\"A B\"@x.test", buf), "\"a b\"@x.test");
	assert_string_equal(addr_normalize("\"a\\\"b\"@x.test", buf), "\"a\\\"b\"@x.test");
	assert_string_equal(addr_normalize("\"a@b\"@x.test", buf), "\"a@b\"@x.test");
	assert_string_equal(addr_normalize("\"a..b\"@x.test", buf), "\"a..b\"@x.test");
	assert_string_equal(addr_normalize("a..b@x.test", buf), "\"a..b\"@x.test");
	assert_string_equal(addr_normalize("\"a\\b\"@x.test", buf), "ab@x.test");
	assert_string_equal(addr_normalize("u@[192.0.2.1]", buf), "u@[192.0.2.1]");
	/* Not addresses. */
	assert_null(addr_normalize("user@example..com", buf));
	assert_null(addr_normalize("user@-bad-.com", buf));
	assert_null(addr_normalize("user@bad-.com", buf));
	assert_null(addr_normalize("user@.example.com", buf));
	assert_null(addr_normalize("user@exa mple.com", buf));
	assert_null(addr_normalize("\"unterminated@x.test", buf));
	assert_null(addr_normalize("\"a\"b@x.test", buf));
	assert_null(addr_normalize("\"a\nb\"@x.test", buf));
	assert_null(addr_normalize("user@.", buf));
	assert_null(addr_normalize("v", buf));
}

/* Postfix's routing hacks, one step at a time. */
static void
test_route(void **state)
{
	const int both = ADDR_ROUTE_BANGPATH | ADDR_ROUTE_PERCENT;
	char	buf[ADDR_MAX + 1];

	assert_string_equal(addr_route("v%sink.test@host.test", both, buf), "v@sink.test");
	assert_string_equal(addr_route("V%SINK.TEST.@host.test", both, buf), "v@sink.test");
	assert_string_equal(addr_route("sink.test!v@host.test", both, buf), "v@sink.test");
	assert_string_equal(addr_route("sink.test!v", both, buf), "v@sink.test");
	/* The last '%', the first '!': the rest routes on. */
	assert_string_equal(addr_route("v%a.test%b.test@h.test", both, buf), "v%a.test@b.test");
	assert_string_equal(addr_route("v%a.test@b.test", both, buf), "v@a.test");
	assert_string_equal(addr_route("a.test!b.test!v@h.test", both, buf), "b.test!v@a.test");
	/* Off, or nothing to do. */
	assert_null(addr_route("v%sink.test@host.test", ADDR_ROUTE_BANGPATH, buf));
	assert_null(addr_route("sink.test!v@host.test", ADDR_ROUTE_PERCENT, buf));
	assert_null(addr_route("v@sink.test", both, buf));
	assert_null(addr_route("v%bad..test@host.test", both, buf));
}

static void
test_match(void **state)
{
	assert_true(addr_match("*@news.example.com", "x@news.example.com"));
	assert_false(addr_match("*@news.example.com", "x@sub.news.example.com"));
	assert_true(addr_match("@example.com", "x@example.com"));
	assert_true(addr_match("@example.com", "x@news.example.com"));
	assert_false(addr_match("@example.com", "x@badexample.com"));
	assert_true(addr_match("example.com", "x@EXAMPLE.com"));
	assert_true(addr_match("Promo@Example.com", "promo@example.com"));
	assert_false(addr_match("promo@example.com", "promo2@example.com"));
	assert_true(addr_match("*", "anyone@anywhere.example"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_spellings),
		cmocka_unit_test(test_route),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
