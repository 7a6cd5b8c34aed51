/*
 * clock_test - ISO 8601, durations, and the fixed clock.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/clock.h"

static void
test_parse(void **state)
{
	time_t	t;
	char	buf[CLOCK_ISO_LEN];

	assert_int_equal(clock_parse("2026-03-01T09:00:00Z", &t), 0);
	assert_int_equal(t, 1772355600);
	assert_string_equal(clock_format(t, buf), "2026-03-01T09:00:00Z");
	assert_int_equal(clock_parse("2026-03-01T11:00:00+02:00", &t), 0);
	assert_int_equal(t, 1772355600);
	assert_int_equal(clock_parse("2026-03-01", &t), 0);
	assert_int_equal(t, 1772323200);
	assert_int_equal(clock_parse("2024-02-29T00:00Z", &t), 0);
	assert_int_equal(clock_parse("2026-13-01", &t), -1);
	assert_int_equal(clock_parse("2026-02-30x", &t), -1);
	assert_int_equal(clock_parse("yesterday", &t), -1);
	assert_int_equal(clock_parse("2026-03-01T25:00:00Z", &t), -1);
}

/* A time as a contact's zone shows it: wall clock and offset, and it
 * reads back as the same instant. */
static void
test_format_offset(void **state)
{
	time_t	t, back;
	char	buf[CLOCK_ISO_OFF_LEN];

	assert_int_equal(clock_parse("2026-12-07T08:00:00Z", &t), 0);
	assert_string_equal(clock_format_offset(t, 3600, buf), "2026-12-07T09:00:00+01:00");
	assert_string_equal(clock_format_offset(t, 0, buf), "2026-12-07T08:00:00Z");
	assert_string_equal(clock_format_offset(t, -(3 * 3600 + 1800), buf),
			    "2026-12-07T04:30:00-03:30");
	assert_string_equal(clock_format_offset(t, 20700, buf), "2026-12-07T13:45:00+05:45");
	assert_int_equal(clock_parse(buf, &back), 0);
	assert_int_equal(back, t);
}

static void
test_duration(void **state)
{
	long	s;

	assert_int_equal(clock_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(clock_parse_duration("15m", &s), 0);
	assert_int_equal(s, 900);
	assert_int_equal(clock_parse_duration("1d12h", &s), 0);
	assert_int_equal(s, 129600);
	assert_int_equal(clock_parse_duration("2w", &s), 0);
	assert_int_equal(s, 14 * 86400);
	assert_int_equal(clock_parse_duration("", &s), -1);
	assert_int_equal(clock_parse_duration("3x", &s), -1);
	assert_int_equal(clock_parse_duration("-1d", &s), -1);
	assert_int_equal(clock_parse_duration("99999999999d", &s), -1);
}

static void
test_fixed(void **state)
{
	clock_set(1000);
	assert_int_equal(clock_now(), 1000);
	assert_true(clock_is_fixed());
	clock_set(0);
	assert_true(clock_now() > 1700000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_format_offset),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_fixed),
	};

	unsetenv("POSTDRIP_NOW");
	return (cmocka_run_group_tests(tests, 0, 0));
}
