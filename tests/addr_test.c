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
	assert_null(addr_normalize("a@example.com.", buf));
	assert_null(addr_normalize("a\n@example.com", buf));
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
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
