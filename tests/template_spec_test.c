/*
 * template_spec_test - the Mustache specification's own test cases, read as
 * data from tests/data/mustache-spec/*.json, run through template_compile()
 * and template_render() with HTML escaping on (the specification's mode).
 * Every case must pass; the count is printed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

static const char *const spec_files[] = {
	"comments", "delimiters", "interpolation", "inverted", "partials",
	"sections", 0,
};

/* spec_partial - partials come from the test case's "partials" object */

static char *
spec_partial(const char *name, void *ctx)
{
	json_t *partials = ctx;
	json_t *p = partials ? json_object_get(partials, name) : 0;

	return (json_is_string(p) ? mystrdup(json_string_value(p)) : 0);
}

/* spec_run_file - run every case of one file; returns failures */

static int
spec_run_file(const char *file, int *passed, int *total)
{
	char	path[1024];
	json_error_t jerr;
	json_t *root;
	json_t *tests;
	json_t *tc;
	size_t	i;
	int	failed = 0;

	snprintf(path, sizeof(path), "%s/tests/data/mustache-spec/%s.json",
		 TOP_SRCDIR, file);
	root = json_load_file(path, JSON_DECODE_ANY, &jerr);
	if (root == 0)
		fail_msg("%s: %s", path, jerr.text);
	tests = json_object_get(root, "tests");
	assert_true(json_is_array(tests));
	assert_true(json_array_size(tests) > 0);
	json_array_foreach(tests, i, tc) {
		const char *name = json_string_value(json_object_get(tc, "name"));
		const char *tmpl = json_string_value(json_object_get(tc, "template"));
		const char *want = json_string_value(json_object_get(tc, "expected"));
		json_t *data = json_object_get(tc, "data");
		json_t *partials = json_object_get(tc, "partials");
		STRBUF	out = STRBUF_INIT;
		char   *err = 0;
		TEMPLATE *t;

		assert_non_null(name);
		assert_non_null(tmpl);
		assert_non_null(want);
		(*total)++;
		t = template_compile(name, tmpl, strlen(tmpl), &err);
		if (t == 0) {
			print_error("FAIL %s/%s: compile: %s\n", file, name, err);
			free(err);
			failed++;
			continue;
		}
		if (template_render(t, data, spec_partial, partials, 1, &out, &err) != TEMPLATE_OK) {
			print_error("FAIL %s/%s: render: %s\n", file, name, err);
			free(err);
			failed++;
		} else if (strcmp(strbuf_str(&out), want) != 0) {
			print_error("FAIL %s/%s:\n  got  [%s]\n  want [%s]\n", file, name,
				    strbuf_str(&out), want);
			failed++;
		} else {
			(*passed)++;
		}
		strbuf_free(&out);
		template_free(t);
	}
	json_decref(root);
	return (failed);
}

/* test_spec - all files, all cases */

static void
test_spec(void **state)
{
	int	passed = 0;
	int	total = 0;
	int	failed = 0;
	int	i;

	for (i = 0; spec_files[i]; i++)
		failed += spec_run_file(spec_files[i], &passed, &total);
	print_message("mustache spec: %d of %d cases passed\n", passed, total);
	assert_int_equal(failed, 0);
	/* The shipped specification files hold 136 cases. */
	assert_int_equal(total, 136);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
