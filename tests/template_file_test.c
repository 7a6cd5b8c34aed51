/*
 * template_file_test - template files and their checker: every problem is
 * reported as "file:line: message" with the right line; the shipped
 * templates in conf/templates check clean.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#ifndef TOP_BUILDDIR
#define TOP_BUILDDIR "."
#endif

static char tdir[1024];

/* put - write a file under the test directory; returns its path */

static char *
put(const char *name, const char *text)
{
	char   *path = myasprintf("%s/%s", tdir, name);
	FILE   *fp = fopen(path, "w");

	if (fp == 0)
		fail_msg("cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
	return (path);
}

/* check - check one file; returns its error text, count in *n */

static char *
check(const char *name, const char *text, int *n)
{
	char   *path = put(name, text);
	STRBUF	errs = STRBUF_INIT;

	*n = template_file_check(path, &errs);
	unlink(path);
	myfree(path);
	strbuf_puts(&errs, "");
	return (strbuf_steal(&errs));
}

/* assert_check - exactly one problem, with this text after the directory */

static void
assert_check(const char *name, const char *text, const char *want)
{
	int	n;
	char   *errs = check(name, text, &n);
	char   *full = myasprintf("%s/%s\n", tdir, want);

	if (n != 1 || strcmp(errs, full) != 0)
		fail_msg("%s: got %d problem(s):\n%s\nwant:\n%s", name, n, errs, full);
	myfree(errs);
	myfree(full);
}

static const char good[] =
"# a comment\n"
"From: {{owner.name|Acme}} <{{owner.email|hello@example.com}}>\n"
"Reply-To: {{owner.email|hello@example.com}}\n"
"subject: Hello {{contact.first_name|there}},\n"
"  and welcome\n"
"Preheader: preview\n"
"\n"
"Text {{contact.first_name}}\n"
"{{> footer}}\n"
"--- HTML ---  \n"
"<p>{{contact.first_name}}</p>\n"
"{{> footer}}\n";

static void
test_good(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	STRBUF	out = STRBUF_INIT;
	char   *path;
	char   *err = 0;
	TMPLFILE *tf;
	json_t *ctx = json_pack("{s:{s:s}}", "contact", "first_name", "Ann");
	char   *p;
	int	n;

	p = put("partials/footer.txt", "-- footer\n");
	myfree(p);
	p = check("good.tmpl", good, &n);
	if (n != 0)
		fail_msg("good.tmpl: %s", p);
	myfree(p);

	path = put("good.tmpl", good);
	tf = tmplfile_load(path, &errs);
	assert_non_null(tf);
	assert_int_equal(strbuf_len(&errs), 0);
	assert_non_null(tf->from);
	assert_non_null(tf->reply_to);
	assert_non_null(tf->preheader);
	assert_non_null(tf->html);
	/* The continuation line joins the subject with one space. */
	assert_int_equal(template_render(tf->subject, ctx, 0, 0, 0, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "Hello Ann, and welcome");
	strbuf_reset(&out);
	assert_int_equal(template_render(tf->text, ctx, 0, 0, 0, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "Text Ann\n");
	strbuf_reset(&out);
	assert_int_equal(template_render(tf->html, ctx, 0, 0, 1, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "<p>Ann</p>\n");
	strbuf_free(&out);
	tmplfile_free(tf);
	unlink(path);
	myfree(path);
	json_decref(ctx);

	/* The HTML part takes footer.html when there is one. */
	p = tmplfile_partial(tdir, "footer", 1, 0);
	assert_string_equal(p, "-- footer\n");
	myfree(p);
	p = put("partials/footer.html", "<hr>\n");
	myfree(p);
	p = tmplfile_partial(tdir, "footer", 1, 0);
	assert_string_equal(p, "<hr>\n");
	myfree(p);
	p = tmplfile_partial(tdir, "footer", 0, 0);
	assert_string_equal(p, "-- footer\n");
	myfree(p);
	/* Names that could leave the directory are refused. */
	assert_null(tmplfile_partial(tdir, "../good", 0, 0));
	assert_false(tmplfile_name_ok("../x"));
	assert_false(tmplfile_name_ok(".hidden"));
	assert_false(tmplfile_name_ok("a/b"));
	assert_true(tmplfile_name_ok("trial-ending_2.v1"));
	strbuf_free(&errs);
}

static void
test_windows_files(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	STRBUF	out = STRBUF_INIT;
	char   *path;
	char   *err = 0;
	TMPLFILE *tf;
	json_t *ctx = json_object();
	int	n;
	char   *p;

	/* A byte-order mark and CRLF line ends, as Windows editors save. */
	path = put("win.tmpl", "\xef\xbb\xbfSubject: Hi\r\n\r\nline 1\r\nline 2\r\n"
		   "--- html ---\r\n<p>x</p>\r\n");
	tf = tmplfile_load(path, &errs);
	if (tf == 0)
		fail_msg("win.tmpl: %s", strbuf_str(&errs));
	assert_int_equal(template_render(tf->subject, ctx, 0, 0, 0, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "Hi");
	strbuf_reset(&out);
	assert_int_equal(template_render(tf->text, ctx, 0, 0, 0, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "line 1\nline 2\n");
	strbuf_reset(&out);
	assert_non_null(tf->html);
	assert_int_equal(template_render(tf->html, ctx, 0, 0, 1, &out, &err), 0);
	assert_string_equal(strbuf_str(&out), "<p>x</p>\n");
	strbuf_free(&out);
	tmplfile_free(tf);
	unlink(path);
	myfree(path);
	json_decref(ctx);
	strbuf_free(&errs);

	/* Line numbers stay those of the file. */
	p = check("win2.tmpl", "Subject: x\r\n\r\na\r\n{{#s}}\r\n", &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(p, "win2.tmpl:4: unclosed section \"s\""));
	myfree(p);
}

static void
test_parse_text(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	TMPLFILE *tf;

	tf = tmplfile_parse_text("mem.tmpl", "Subject: a\r\n\r\nb\r\n", 17, &errs);
	assert_non_null(tf);
	assert_null(tf->html);
	tmplfile_free(tf);
	tf = tmplfile_parse_text("mem.tmpl", "Subject: a\n\nb\n{{/c}}\n", 21, &errs);
	assert_null(tf);
	assert_string_equal(strbuf_str(&errs), "mem.tmpl:4: closing tag \"c\" without an open section\n");
	strbuf_reset(&errs);
	tf = tmplfile_parse_text("mem.tmpl", "Subject: a\n\nb\0c\n", 17, &errs);
	assert_null(tf);
	assert_string_equal(strbuf_str(&errs), "mem.tmpl:3: contains a NUL byte\n");
	strbuf_free(&errs);
}

static void
test_header_errors(void **state)
{
	assert_check("h1.tmpl", "Subject: x\nX-Mailer: y\n\nbody\n",
		     "h1.tmpl:2: unknown header \"X-Mailer\" (a template sets From, "
		     "Reply-To, Subject and Preheader)");
	assert_check("h2.tmpl", "Subject: x\nFrom: a@b.example\nsubject: again\n\nbody\n",
		     "h2.tmpl:3: Subject: given twice (first at line 1)");
	assert_check("h3.tmpl", "From: a@b.example\n\nbody\n",
		     "h3.tmpl:1: no Subject: header");
	assert_check("h4.tmpl", "Subject: x\nthis is not a header\n\nbody\n",
		     "h4.tmpl:2: expected \"Name: value\" or a blank line before the body");
	assert_check("h5.tmpl", "  continued\nSubject: x\n\nbody\n",
		     "h5.tmpl:1: continuation line without a header above it");
	assert_check("h6.tmpl", "Subject: x\nFrom: y\n",
		     "h6.tmpl:2: no blank line between the headers and the body");
	assert_check("h7.tmpl", "# c\nSubject: {{#a}}x\n\nbody\n",
		     "h7.tmpl:2: unclosed section \"a\"");
	assert_check("h8.tmpl", "Subject: x\n\n\n  \n",
		     "h8.tmpl:3: the text body is empty");
	assert_check("h9.tmpl", "Subject: x\nReply-To: {{=a=}}\n\nbody\n",
		     "h9.tmpl:2: bad set-delimiter tag \"{{=a=}}\"");
}

static void
test_body_errors(void **state)
{
	assert_check("b1.tmpl", "Subject: x\n\nline 3\n{{#clicked.pricing}}\nline 5\n",
		     "b1.tmpl:4: unclosed section \"clicked.pricing\"");
	assert_check("b2.tmpl", "Subject: x\n\ntext\n--- html ---\n<p>\n{{#a}}</p>{{/b}}\n",
		     "b2.tmpl:6: closing tag \"b\" does not match section \"a\" opened at line 6");
}

static void
test_partial_errors(void **state)
{
	int	n;
	char   *errs;
	char   *want;

	errs = check("p1.tmpl", "Subject: x\n\ntext\n--- html ---\n\n{{> nosuch}}\n", &n);
	want = myasprintf("%s/p1.tmpl:6: partial \"nosuch\" not found "
			  "(%s/partials/nosuch.html or .txt)\n", tdir, tdir);
	assert_int_equal(n, 1);
	assert_string_equal(errs, want);
	myfree(errs);
	myfree(want);
	errs = check("b3.tmpl", "Subject: x\n\ntext\n{{> nosuch}}\n", &n);
	want = myasprintf("%s/b3.tmpl:4: partial \"nosuch\" not found "
			  "(%s/partials/nosuch.txt)\n", tdir, tdir);
	assert_int_equal(n, 1);
	assert_string_equal(errs, want);
	myfree(errs);
	myfree(want);
	errs = check("p2.tmpl", "Subject: {{> ../etc}}\n\ntext\n", &n);
	want = myasprintf("%s/p2.tmpl:1: bad partial name \"../etc\" (letters, digits, "
			  "'.', '_' and '-' only)\n", tdir);
	assert_int_equal(n, 1);
	assert_string_equal(errs, want);
	myfree(errs);
	myfree(want);
}

static void
test_bytes(void **state)
{
	TEMPLATE_LIMITS lim;
	TEMPLATE_LIMITS saved;

	assert_check("u1.tmpl", "Subject: x\n\nok\nbad \xc3\x28 byte\n",
		     "u1.tmpl:4: not valid UTF-8");
	assert_check("u2.tmpl", "Subject: x\n\nok \xed\xa0\x80 surrogate\n",
		     "u2.tmpl:3: not valid UTF-8");
	assert_check("u3.tmpl", "Subject: x\n\ntruncated \xe2\x82",
		     "u3.tmpl:3: not valid UTF-8");
	template_limits_get(&saved);
	lim = saved;
	lim.max_size = 16;
	template_limits_set(&lim);
	assert_check("big.tmpl", "Subject: x\n\n0123456789\n",
		     "big.tmpl:1: larger than the template size limit (16 bytes)");
	template_limits_set(&saved);
	{
		STRBUF	errs = STRBUF_INIT;
		char   *path = myasprintf("%s/missing.tmpl", tdir);

		assert_int_equal(template_file_check(path, &errs), 1);
		assert_non_null(strstr(strbuf_str(&errs), "missing.tmpl:1: cannot read: "));
		strbuf_free(&errs);
		myfree(path);
	}
}

static void
test_dir(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	char   *d = myasprintf("%s/dir", tdir);
	char   *p;
	int	n;

	mkdir(d, 0755);
	p = myasprintf("%s/dir/partials", tdir);
	mkdir(p, 0755);
	myfree(p);
	myfree(put("dir/a.tmpl", "Subject: a\n\ntext\n"));
	myfree(put("dir/b.tmpl", "Subject: {{/x}}\n\ntext\n"));
	myfree(put("dir/notes.txt", "not a template: ignored\n"));
	myfree(put("dir/partials/f.txt", "ok\n"));
	myfree(put("dir/partials/g.html", "\n{{#x}}\n"));
	n = template_dir_check(d, &errs);
	assert_int_equal(n, 2);
	p = myasprintf("%s/b.tmpl:1: closing tag \"x\" without an open section\n"
		       "%s/partials/g.html:2: unclosed section \"x\"\n", d, d);
	assert_string_equal(strbuf_str(&errs), p);
	myfree(p);
	strbuf_free(&errs);
	myfree(d);
}

static void
test_shipped(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	int	n = template_dir_check(TOP_SRCDIR "/conf/templates", &errs);

	if (n != 0)
		fail_msg("shipped templates: %s", strbuf_str(&errs));
	strbuf_free(&errs);
}

static int
setup(void **state)
{
	char	sub[1100];

	snprintf(tdir, sizeof(tdir), "%s/tests/tmplfile.XXXXXX", TOP_BUILDDIR);
	if (mkdtemp(tdir) == 0)
		return (-1);
	snprintf(sub, sizeof(sub), "%s/partials", tdir);
	return (mkdir(sub, 0755));
}

static int
teardown(void **state)
{
	char	cmd[1200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return (system(cmd) == 0 ? 0 : -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_windows_files),
		cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_body_errors),
		cmocka_unit_test(test_partial_errors),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_shipped),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
