/*
 * template_test - what postdrip adds to Mustache and what it bounds: the
 * fallback filter, escaping modes, clicked/tags sections, errors with their
 * line numbers, and every limit.
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

static TEMPLATE_LIMITS saved;

/* render - compile and render src against JSON text; returns a new string */

static char *
render(const char *src, const char *json, int html)
{
	json_error_t jerr;
	json_t *ctx = json_loads(json, JSON_DECODE_ANY, &jerr);
	STRBUF	out = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t;

	if (ctx == 0)
		fail_msg("bad JSON in test: %s", jerr.text);
	t = template_compile("t", src, strlen(src), &err);
	if (t == 0)
		fail_msg("compile %s: %s", src, err);
	if (template_render(t, ctx, 0, 0, html, &out, &err) != TEMPLATE_OK)
		fail_msg("render %s: %s", src, err);
	template_free(t);
	json_decref(ctx);
	strbuf_puts(&out, "");
	return (strbuf_steal(&out));
}

#define assert_render(src, json, html, want) do { \
	char *got_ = render((src), (json), (html)); \
	assert_string_equal(got_, (want)); \
	myfree(got_); \
    } while (0)

/* compile_error - the error text of a template that must not compile */

static char *
compile_error(const char *name, int line, const char *src)
{
	char   *err = 0;
	TEMPLATE *t = template_compile_at(name, line, src, strlen(src), &err);

	if (t != 0)
		fail_msg("compiled, but should not: %s", src);
	assert_non_null(err);
	return (err);
}

#define assert_compile_error(src, want) do { \
	char *err_ = compile_error("x.tmpl", 1, (src)); \
	if (strcmp(err_, (want)) != 0) \
	    fail_msg("got \"%s\", want \"%s\"", err_, (want)); \
	free(err_); \
    } while (0)

static void
test_fallback(void **state)
{
	const char *t = "Hi {{contact.first_name|there}}!";

	assert_render(t, "{\"contact\": {\"first_name\": \"Ann\"}}", 0, "Hi Ann!");
	assert_render(t, "{\"contact\": {\"first_name\": \"\"}}", 0, "Hi there!");
	assert_render(t, "{\"contact\": {\"first_name\": \"  \"}}", 0, "Hi there!");
	assert_render(t, "{\"contact\": {\"first_name\": null}}", 0, "Hi there!");
	assert_render(t, "{\"contact\": {}}", 0, "Hi there!");
	assert_render(t, "{}", 0, "Hi there!");
	/* Spaces around the bar, several words, and the other tag kinds. */
	assert_render("{{ a | dear friend }}", "{}", 0, "dear friend");
	assert_render("{{{a|x}}}/{{&a|y}}", "{\"a\": \"<b>\"}", 1, "<b>/<b>");
	assert_render("{{{a|x}}}/{{&a|y}}", "{}", 1, "x/y");
	/* A number, 0 included, is a value, not a miss. */
	assert_render("{{n|none}}", "{\"n\": 0}", 0, "0");
	/* The plain-Mustache way renders the same. */
	assert_render("{{#first_name}}{{first_name}}{{/first_name}}"
		      "{{^first_name}}there{{/first_name}}",
		      "{\"first_name\": \"\"}", 0, "there");
	assert_render("{{#first_name}}{{first_name}}{{/first_name}}"
		      "{{^first_name}}there{{/first_name}}",
		      "{\"first_name\": \"Bo\"}", 0, "Bo");
}

static void
test_escaping(void **state)
{
	const char *ctx = "{\"v\": \"<a href='x'>&\\\"</a>\"}";

	assert_render("{{v}}", ctx, 1, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
	assert_render("{{v}}", ctx, 0, "<a href='x'>&\"</a>");
	assert_render("{{{v}}}", ctx, 1, "<a href='x'>&\"</a>");
	assert_render("{{&v}}", ctx, 1, "<a href='x'>&\"</a>");
	/* Literal template text is never escaped. */
	assert_render("<b>&amp;</b>", "{}", 1, "<b>&amp;</b>");
}

static void
test_clicked_and_tags(void **state)
{
	const char *t = "{{#clicked.pricing}}You looked at our prices.{{/clicked.pricing}}"
	"{{^clicked.pricing}}See our prices.{{/clicked.pricing}}"
	"{{#tags.vip}} VIP{{/tags.vip}}";

	assert_render(t, "{\"clicked\": {\"pricing\": true}, \"tags\": {\"vip\": true}}", 0,
		      "You looked at our prices. VIP");
	assert_render(t, "{\"clicked\": {\"docs\": true}, \"tags\": {}}", 0,
		      "See our prices.");
	assert_render(t, "{}", 0, "See our prices.");
	/* A section over a list of clicked products. */
	assert_render("{{#event.items}}- {{name}} ({{price}})\n{{/event.items}}",
		      "{\"event\": {\"items\": [{\"name\": \"Mug\", \"price\": 9.5},"
		      " {\"name\": \"Tee\", \"price\": 20}]}}", 0,
		      "- Mug (9.5)\n- Tee (20)\n");
}

static void
test_values(void **state)
{
	assert_render("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}",
		      "{\"a\": true, \"b\": false, \"c\": null, \"d\": [1], \"e\": {}, \"f\": 0.1}",
		      0, "true false    0.1");
	assert_render("{{#e}}obj{{/e}}{{#z}}zero{{/z}}{{#s}}no{{/s}}",
		      "{\"e\": {}, \"z\": 0, \"s\": \"\"}", 0, "objzero");
	/* Values are never parsed again as templates. */
	assert_render("{{a}}", "{\"a\": \"{{b}}\", \"b\": \"x\"}", 0, "{{b}}");
	/* UTF-8 and NUL-free output of strings with escapes. */
	assert_render("{{a}}", "{\"a\": \"Zo\\u00eb\"}", 0, "Zo\xc3\xab");
}

static void
test_errors(void **state)
{
	assert_compile_error("a\nb {{#s}}\nc\n", "x.tmpl:2: unclosed section \"s\"");
	assert_compile_error("{{#a}}\n{{#b}}\n{{/a}}\n",
			     "x.tmpl:3: closing tag \"a\" does not match section \"b\" opened at line 2");
	assert_compile_error("\n\n{{/a}}", "x.tmpl:3: closing tag \"a\" without an open section");
	assert_compile_error("ok\n{{name", "x.tmpl:2: unclosed tag \"{{name\"");
	assert_compile_error("{{{name}}", "x.tmpl:1: unclosed tag \"{{{name}}\"");
	assert_compile_error("\n{{=<% =}}", "x.tmpl:2: bad set-delimiter tag \"{{=<% =}}\"");
	assert_compile_error("{{= x =}}", "x.tmpl:1: bad set-delimiter tag \"{{= x =}}\"");
	assert_compile_error("{{}}", "x.tmpl:1: empty tag");
	assert_compile_error("{{a..b}}", "x.tmpl:1: bad name \"a..b\"");
	assert_compile_error("{{#}}{{/}}", "x.tmpl:1: bad section name \"\"");
	assert_compile_error("{{>  }}", "x.tmpl:1: empty partial name");
	/* Lines count from the given first line, across custom delimiters. */
	{
		char   *err = compile_error("f.tmpl", 10, "{{=[ ]=}}\n[#a]\n\n[/b]\n");

		assert_string_equal(err, "f.tmpl:13: closing tag \"b\" does not match "
				    "section \"a\" opened at line 11");
		free(err);
	}
	/* Multi-line comments move the line count too. */
	{
		char   *err = compile_error("f", 1, "{{! one\ntwo\nthree }}\n{{/x}}");

		assert_string_equal(err, "f:4: closing tag \"x\" without an open section");
		free(err);
	}
}

static void
test_limit_size(void **state)
{
	TEMPLATE_LIMITS lim = saved;
	char   *err;

	lim.max_size = 10;
	template_limits_set(&lim);
	err = compile_error("big", 1, "01234567890");
	assert_string_equal(err, "big:1: template larger than 10 bytes");
	free(err);
	template_limits_set(&saved);
}

static void
test_limit_depth(void **state)
{
	TEMPLATE_LIMITS lim = saved;
	STRBUF	src = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t;
	int	i;

	lim.max_depth = 4;
	template_limits_set(&lim);
	for (i = 0; i < 4; i++)
		strbuf_puts(&src, "{{#a}}");
	for (i = 0; i < 4; i++)
		strbuf_puts(&src, "{{/a}}");
	t = template_compile("d", strbuf_str(&src), strbuf_len(&src), &err);
	assert_non_null(t);
	template_free(t);
	strbuf_reset(&src);
	for (i = 0; i < 5; i++)
		strbuf_puts(&src, "{{#a}}\n");
	err = compile_error("d", 1, strbuf_str(&src));
	assert_string_equal(err, "d:5: sections nested deeper than 4");
	free(err);
	strbuf_free(&src);
	template_limits_set(&saved);
}

/* self_partial - a partial that includes itself without end */

static char *
self_partial(const char *name, void *ctx)
{
	return (mystrdup(ctx));
}

static void
test_limit_partials(void **state)
{
	STRBUF	out = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t = template_compile("top", "{{>loop}}", 9, &err);
	json_t *ctx = json_object();

	assert_non_null(t);
	assert_int_equal(template_render(t, ctx, self_partial, "x{{>loop}}", 0, &out, &err),
			 TEMPLATE_ERROR);
	assert_non_null(strstr(err, "partials nested deeper than"));
	free(err);
	strbuf_free(&out);

	/* An indented standalone recursive partial (new indentation each time). */
	err = 0;
	assert_int_equal(template_render(t, ctx, self_partial, "x\n  {{>loop}}\n", 0, &out, &err),
			 TEMPLATE_ERROR);
	assert_non_null(strstr(err, "partials nested deeper than"));
	free(err);
	strbuf_free(&out);

	/* A partial that does not compile names itself and the including line. */
	err = 0;
	assert_int_equal(template_render(t, ctx, self_partial, "\n{{#open}}", 0, &out, &err),
			 TEMPLATE_ERROR);
	assert_string_equal(err, "loop:2: unclosed section \"open\" (partial included at line 1)");
	free(err);
	strbuf_free(&out);

	/* A missing partial renders as nothing. */
	assert_int_equal(template_render(t, ctx, 0, 0, 0, &out, &err), TEMPLATE_OK);
	assert_int_equal(strbuf_len(&out), 0);
	strbuf_free(&out);
	template_free(t);
	json_decref(ctx);
}

static void
test_limit_output_and_steps(void **state)
{
	TEMPLATE_LIMITS lim = saved;
	STRBUF	out = STRBUF_INIT;
	STRBUF	src = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t;
	json_t *ctx;
	int	i;

	/* Ten nested loops over ten items: 10^10 visits, stopped early. */
	ctx = json_pack("{s:[iiiiiiiiii]}", "l", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	for (i = 0; i < 10; i++)
		strbuf_puts(&src, "{{#l}}");
	for (i = 0; i < 10; i++)
		strbuf_puts(&src, "{{/l}}");
	t = template_compile("loops", strbuf_str(&src), strbuf_len(&src), &err);
	assert_non_null(t);
	assert_int_equal(template_render(t, ctx, 0, 0, 0, &out, &err), TEMPLATE_ERROR);
	assert_non_null(strstr(err, "rendering takes more than"));
	free(err);
	template_free(t);
	strbuf_free(&out);

	/* Output bound. */
	lim.max_output = 100;
	template_limits_set(&lim);
	t = template_compile("out", "{{#l}}0123456789{{/l}}", 22, &err);
	assert_non_null(t);
	assert_int_equal(template_render(t, ctx, 0, 0, 0, &out, &err), TEMPLATE_OK);
	assert_int_equal(strbuf_len(&out), 100);
	template_free(t);
	strbuf_free(&out);
	t = template_compile("out", "{{#l}}0123456789a{{/l}}", 23, &err);
	assert_int_equal(template_render(t, ctx, 0, 0, 0, &out, &err), TEMPLATE_ERROR);
	assert_non_null(strstr(err, "output larger than 100 bytes"));
	free(err);
	template_free(t);
	strbuf_free(&out);
	strbuf_free(&src);
	json_decref(ctx);
	template_limits_set(&saved);
}

/* visit - collect partial names */

static void
visit(const char *name, int line, void *ctx)
{
	strbuf_printf(ctx, "%s@%d ", name, line);
}

static void
test_partial_list(void **state)
{
	const char *src = "{{>a}}\n{{#x}}\n  {{> b }}\n{{/x}}\n";
	STRBUF	names = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t = template_compile("p", src, strlen(src), &err);

	assert_non_null(t);
	assert_true(template_has_tags(t));
	template_partials(t, visit, &names);
	assert_string_equal(strbuf_str(&names), "a@1 b@3 ");
	strbuf_free(&names);
	template_free(t);
	t = template_compile("p", "plain text", 10, &err);
	assert_false(template_has_tags(t));
	template_free(t);
}

/* empty_partial - a partial whose source is empty */

static char *
empty_partial(const char *name, void *ctx)
{
	return (mystrdup(""));
}

static void
test_fuzz_regressions(void **state)
{
	STRBUF	out = STRBUF_INIT;
	char   *err = 0;
	TEMPLATE *t;
	json_t *ctx = json_object();
	static const char nul_text[] = "a\0b{{x}}c\0";

	/* Text with NUL bytes is kept whole. */
	t = template_compile("n", nul_text, sizeof(nul_text) - 1, &err);
	assert_non_null(t);
	assert_int_equal(template_render(t, ctx, 0, 0, 0, &out, &err), TEMPLATE_OK);
	assert_int_equal(strbuf_len(&out), 5);
	assert_memory_equal(strbuf_str(&out), "a\0bc\0", 5);
	template_free(t);
	strbuf_free(&out);

	/* A sigil that is also the closing delimiter: "{>s}" with { and >. */
	t = template_compile("d", "{{={ >=}}w{>s}x{&y>", 19, &err);
	assert_non_null(t);
	template_free(t);
	t = template_compile("d", "{{={ >=}}{>>", 12, &err);
	assert_null(t);
	assert_string_equal(err, "d:1: empty partial name");
	free(err);

	/* An empty partial on an indented standalone line. */
	t = template_compile("p", "x\n  {{>e}}\ny", 13, &err);
	assert_non_null(t);
	assert_int_equal(template_render(t, ctx, empty_partial, 0, 0, &out, &err), TEMPLATE_OK);
	assert_string_equal(strbuf_str(&out), "x\ny");
	template_free(t);
	strbuf_free(&out);
	json_decref(ctx);
}

static int
setup(void **state)
{
	template_limits_get(&saved);
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_clicked_and_tags),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limit_size),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_partials),
		cmocka_unit_test(test_limit_output_and_steps),
		cmocka_unit_test(test_partial_list),
		cmocka_unit_test(test_fuzz_regressions),
	};

	return (cmocka_run_group_tests(tests, setup, 0));
}
