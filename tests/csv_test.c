/*
 * csv_test - RFC 4180 records, malformed records skipped with line numbers.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/csv.h"

static void
test_records(void **state)
{
	const char *text = "email,first_name,note\r\n"
	"a@x.example,Ann,\"says \"\"hi\"\", twice\"\n"
	"b@x.example,\"Multi\nline\",x\n"
	"c@x.example,Bad\"quote,y\n"
	"d@x.example,\"closed\"junk,z\n"
	"e@x.example,Eve,last";
	FILE   *fp = fmemopen((void *) text, strlen(text), "r");
	CSV    *csv = csv_open(fp);
	char  **f;
	int	n, line;
	const char *err;

	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 1);
	assert_int_equal(n, 3);
	assert_int_equal(line, 1);
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 1);
	assert_string_equal(f[2], "says \"hi\", twice");
	assert_int_equal(line, 2);
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 1);
	assert_string_equal(f[1], "Multi\nline");
	assert_int_equal(line, 3);
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), -1);
	assert_int_equal(line, 5);
	assert_string_equal(err, "quote inside an unquoted field");
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), -1);
	assert_int_equal(line, 6);
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 1);
	assert_int_equal(line, 7);
	assert_string_equal(f[2], "last");
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 0);
	csv_close(csv);
	fclose(fp);
}

static void
test_unclosed(void **state)
{
	const char *text = "a,\"never closed\n";
	FILE   *fp = fmemopen((void *) text, strlen(text), "r");
	CSV    *csv = csv_open(fp);
	char  **f;
	int	n, line;
	const char *err;

	assert_int_equal(csv_read(csv, &f, &n, &line, &err), -1);
	assert_non_null(strstr(err, "not closed"));
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 0);
	csv_close(csv);
	fclose(fp);
}

/* read_first - the first record of TEXT, fields joined by '|' */

static void
read_first(const char *text, int delim, char *out, size_t outlen)
{
	FILE   *fp = fmemopen((void *) text, strlen(text), "r");
	CSV    *csv = csv_open(fp);
	char  **f;
	int	n, line, i;
	const char *err;

	if (delim)
		csv_delimiter(csv, delim);
	assert_int_equal(csv_read(csv, &f, &n, &line, &err), 1);
	*out = 0;
	for (i = 0; i < n; i++) {
		if (i)
			strncat(out, "|", outlen - strlen(out) - 1);
		strncat(out, f[i], outlen - strlen(out) - 1);
	}
	csv_close(csv);
	fclose(fp);
}

static void
test_bom(void **state)
{
	char	got[256];

	/* A BOM at the start is dropped, before a quote too. */
	read_first("\xEF\xBB\xBF" "email,name\n", 0, got, sizeof(got));
	assert_string_equal(got, "email|name");
	read_first("\xEF\xBB\xBF" "\"email\",name\n", 0, got, sizeof(got));
	assert_string_equal(got, "email|name");
	/* Not a BOM: its bytes are data. */
	read_first("\xEF\xBB" "x,y\n", 0, got, sizeof(got));
	assert_string_equal(got, "\xEF\xBB" "x|y");
	read_first("\xEF" "x,y\n", 0, got, sizeof(got));
	assert_string_equal(got, "\xEF" "x|y");
	/* Only at the start of the input. */
	read_first("a,\xEF\xBB\xBF" "b\n", 0, got, sizeof(got));
	assert_string_equal(got, "a|\xEF\xBB\xBF" "b");
}

static void
test_semicolon(void **state)
{
	char	got[256];

	read_first("a@x.example;\"Smith; Ann\";1,5\r\n", ';', got, sizeof(got));
	assert_string_equal(got, "a@x.example|Smith; Ann|1,5");
	read_first("a,b;c\n", 0, got, sizeof(got));
	assert_string_equal(got, "a|b;c");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_unclosed),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_semicolon),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
