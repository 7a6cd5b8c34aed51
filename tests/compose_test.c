/*
 * compose_test - messages built by compose_message(), parsed back with
 * GMime: headers, parts, encodings, header injection refused, the owner as
 * sender, unsubscribe headers for marketing only, deterministic output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <gmime/gmime.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"
#include "message/compose.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#ifndef TOP_BUILDDIR
#define TOP_BUILDDIR "."
#endif

static char tdir[1024];

#define MSGID	"pd.42.3.0123abcd@mail.example.com"
#define UNSUB	"https://t.example.com/u/v1.AbC_-9?x=1&y=2"
#define MAILTO	"u+v1.AbC@bounce.example.com"

/* put - write a file under the test directory */

static void
put(const char *name, const char *text)
{
	char   *path = myasprintf("%s/%s", tdir, name);
	FILE   *fp = fopen(path, "w");

	if (fp == 0)
		fail_msg("cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
	myfree(path);
}

/* base_in - a marketing message to ann */

static void
base_in(COMPOSE_IN *in, const char *tmpl, json_t *ctx)
{
	memset(in, 0, sizeof(*in));
	in->template_dir = tdir;
	in->template = tmpl;
	in->context = ctx;
	in->message_id = MSGID;
	in->from_default = "Acme News <news@example.com>";
	in->to = "ann@example.org";
	in->list_unsubscribe_url = UNSUB;
	in->list_unsubscribe_mailto = MAILTO;
	in->workflow = "welcome";
	in->step = "day-3";
	in->stream = COMPOSE_STREAM_MARKETING;
	in->date = 1772355600;			/* 2026-03-01T09:00:00Z */
}

/* compose - compose or fail the test */

static char *
compose(const COMPOSE_IN *in)
{
	STRBUF	out = STRBUF_INIT;
	char   *err = 0;

	if (compose_message(in, &out, &err) != 0)
		fail_msg("compose: %s", err);
	return (strbuf_steal(&out));
}

/* compose_err - compose that must fail; returns the error */

static char *
compose_err(const COMPOSE_IN *in)
{
	STRBUF	out = STRBUF_INIT;
	char   *err = 0;

	if (compose_message(in, &out, &err) == 0)
		fail_msg("composed, but should not:\n%s", strbuf_str(&out));
	assert_non_null(err);
	strbuf_free(&out);
	return (err);
}

/* parse - a message back from text */

static GMimeMessage *
parse(const char *text)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, 0);

	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(m);
	return (m);
}

/* hdr - a header value as written (undecoded), or NULL */

static const char *
hdr(GMimeMessage *m, const char *name)
{
	return (g_mime_object_get_header(GMIME_OBJECT(m), name));
}

/* part_text - decoded text of a text part */

static char *
part_text(GMimeObject *part)
{
	assert_true(GMIME_IS_TEXT_PART(part));
	return (g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
}

/* mailbox - "name|addr" of the first address of a kind */

static char *
mailbox(GMimeMessage *m, GMimeAddressType type)
{
	InternetAddressList *l = g_mime_message_get_addresses(m, type);
	InternetAddress *ia;

	if (internet_address_list_length(l) != 1)
		return (mystrdup("(none)"));
	ia = internet_address_list_get_address(l, 0);
	return (myasprintf("%s|%s", internet_address_get_name(ia) ? internet_address_get_name(ia) : "",
			   internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia))));
}

#define assert_mailbox(m, type, want) do { \
	char *mb_ = mailbox((m), (type)); \
	assert_string_equal(mb_, (want)); \
	myfree(mb_); \
    } while (0)

/*
 * assert_marketing - what every marketing message must carry (the 2024
 * bulk-sender rules): List-Unsubscribe with the https URL and the mailto,
 * List-Unsubscribe-Post, the unsubscribe URL in every text part (the
 * footer), and no Mustache tag left unrendered anywhere.
 */
static void
assert_marketing(const char *msg, const char *name)
{
	GMimeMessage *m = parse(msg);
	GMimeObject *body = g_mime_message_get_mime_part(m);
	const char *raw;
	char   *text;
	int	i, n, parts = 0;

	if ((raw = hdr(m, "List-Unsubscribe")) == 0
	    || strstr(raw, "<" UNSUB ">") == 0 || strstr(raw, "<mailto:" MAILTO ">") == 0)
		fail_msg("%s: List-Unsubscribe: %s", name, raw ? raw : "(none)");
	if ((raw = hdr(m, "List-Unsubscribe-Post")) == 0
	    || strcmp(raw, "List-Unsubscribe=One-Click") != 0)
		fail_msg("%s: List-Unsubscribe-Post: %s", name, raw ? raw : "(none)");
	if (strstr(msg, "{{") != 0)
		fail_msg("%s: \"{{\" left in the message:\n%s", name, msg);
	n = GMIME_IS_MULTIPART(body) ? g_mime_multipart_get_count(GMIME_MULTIPART(body)) : 1;
	for (i = 0; i < n; i++) {
		GMimeObject *part = GMIME_IS_MULTIPART(body) ?
		g_mime_multipart_get_part(GMIME_MULTIPART(body), i) : body;

		if (!GMIME_IS_TEXT_PART(part))
			continue;
		text = part_text(part);
		parts++;
		if (strstr(text, "{{") != 0)
			fail_msg("%s: part %d: \"{{\" left:\n%s", name, i, text);
		/* The HTML part escapes '&' in the URL: look for its start. */
		if (strstr(text, "https://t.example.com/u/v1.AbC_-9?x=1") == 0)
			fail_msg("%s: part %d: no unsubscribe footer:\n%s", name, i, text);
		g_free(text);
	}
	assert_true(parts > 0);
	g_object_unref(m);
}

static const char welcome[] =
"From: {{owner.name}} <{{owner.email}}>\n"
"Reply-To: {{owner.email}}\n"
"Subject: Bienvenue, {{contact.first_name|there}} \xe2\x80\x94 day 3\n"
"Preheader: Three things to try\n"
"\n"
"Hi {{contact.first_name|there}}, {{contact.company}}\n"
"{{#clicked.pricing}}Prices: see the plans.\n{{/clicked.pricing}}"
"{{#tags.vip}}VIP line.\n{{/tags.vip}}\n"
"--- html ---\n"
"<html><body>\n"
"<p>Hi {{contact.first_name|there}}, {{contact.company}}</p>\n"
"{{#clicked.pricing}}<p>Prices</p>\n{{/clicked.pricing}}"
"</body></html>\n";

/* welcome_ctx - a context with an owner and a click */

static json_t *
welcome_ctx(void)
{
	return (json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s},s:{s:b},s:{}}",
			  "contact", "first_name", "Zo\xc3\xab", "email", "ann@example.org",
			  "company", "Smith & <Sons>",
			  "owner", "name", "J\xc3\xb6rg M\xc3\xbcller, Sales", "email", "jorg@example.com",
			  "clicked", "pricing", 1,
			  "tags"));
}

static void
test_marketing(void **state)
{
	COMPOSE_IN in;
	json_t *ctx = welcome_ctx();
	char   *msg;
	GMimeMessage *m;
	GMimeObject *body;
	GMimeObject *part;
	GMimeContentType *ct;
	char   *text;
	const char *raw;

	put("welcome.tmpl", welcome);
	base_in(&in, "welcome", ctx);
	msg = compose(&in);
	m = parse(msg);

	/* Headers. */
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "J\xc3\xb6rg M\xc3\xbcller, Sales|jorg@example.com");
	assert_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, "|jorg@example.com");
	assert_mailbox(m, GMIME_ADDRESS_TYPE_TO, "|ann@example.org");
	assert_string_equal(g_mime_message_get_subject(m), "Bienvenue, Zo\xc3\xab \xe2\x80\x94 day 3");
	assert_string_equal(g_mime_message_get_message_id(m), MSGID);
	assert_string_equal(hdr(m, "Date"), "Sun, 01 Mar 2026 09:00:00 +0000");
	assert_string_equal(hdr(m, "MIME-Version"), "1.0");
	assert_string_equal(hdr(m, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
	assert_non_null(raw = hdr(m, "List-Unsubscribe"));
	assert_non_null(strstr(raw, "<" UNSUB ">"));
	assert_non_null(strstr(raw, "<mailto:" MAILTO ">"));
	assert_string_equal(hdr(m, "X-Postdrip-Workflow"), "welcome");
	assert_string_equal(hdr(m, "X-Postdrip-Step"), "day-3");
	assert_null(hdr(m, "Precedence"));
	assert_null(hdr(m, "Auto-Submitted"));
	/* Non-ASCII header values are RFC 2047 words in UTF-8 on the wire. */
	assert_non_null(strstr(msg, "\nSubject: =?UTF-8?Q?Bienvenue=2C_Zo=C3=AB_=E2=80=94_day_3?=\n"));
	assert_non_null(strstr(msg, "\nFrom: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller=2C_Sales?= <jorg@example.com>\n"));
	assert_null(strstr(msg, "\xc3\xab"));	/* no raw 8-bit anywhere */
	assert_null(strchr(msg, '\r'));	/* LF line ends by default */

	/* Parts: multipart/alternative, text then HTML, UTF-8 QP. */
	body = g_mime_message_get_mime_part(m);
	if (!GMIME_IS_MULTIPART(body))
		fail_msg("not multipart:\n%s", msg);
	ct = g_mime_object_get_content_type(body);
	assert_true(g_mime_content_type_is_type(ct, "multipart", "alternative"));
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);

	part = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(part), "text", "plain"));
	assert_string_equal(g_mime_object_get_content_type_parameter(part, "charset"), "utf-8");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(part)),
			 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	text = part_text(part);
	assert_non_null(strstr(text, "Hi Zo\xc3\xab, Smith & <Sons>\n"));	/* not escaped */
	assert_non_null(strstr(text, "Prices: see the plans."));
	assert_null(strstr(text, "VIP line"));
	assert_non_null(strstr(text, "To unsubscribe: " UNSUB "\n"));
	g_free(text);

	part = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(part), "text", "html"));
	assert_string_equal(g_mime_object_get_content_type_parameter(part, "charset"), "utf-8");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(part)),
			 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	text = part_text(part);
	assert_non_null(strstr(text, "<p>Hi Zo\xc3\xab, Smith &amp; &lt;Sons&gt;</p>"));
	assert_non_null(strstr(text, "<p>Prices</p>"));
	/* Preheader first in the body, unsubscribe link last, escaped. */
	assert_non_null(strstr(text, "<body>\n<div style=\"display:none;"));
	assert_non_null(strstr(text, ">Three things to try</div>"));
	assert_non_null(strstr(text, "<a href=\"https://t.example.com/u/v1.AbC_-9?x=1&amp;y=2\">"
			       "unsubscribe</a>.</p>\n</body></html>"));
	g_free(text);

	g_object_unref(m);
	assert_marketing(msg, "welcome.tmpl");
	myfree(msg);
	json_decref(ctx);
}

static void
test_transactional(void **state)
{
	COMPOSE_IN in;
	json_t *ctx = welcome_ctx();
	char   *msg;
	GMimeMessage *m;
	char   *text;

	put("receipt.tmpl", "Subject: Your receipt {{event.order}}\n\nOrder {{event.order}}.\n");
	json_object_set_new(ctx, "event", json_pack("{s:s}", "order", "A-17"));
	base_in(&in, "receipt", ctx);
	in.stream = COMPOSE_STREAM_TRANSACTIONAL;
	in.list_unsubscribe_url = 0;
	in.list_unsubscribe_mailto = 0;
	msg = compose(&in);
	m = parse(msg);
	assert_null(hdr(m, "List-Unsubscribe"));
	assert_null(hdr(m, "List-Unsubscribe-Post"));
	/* No From in the template: the default sender. */
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Acme News|news@example.com");
	assert_int_equal(internet_address_list_length(
		  g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_REPLY_TO)), 0);
	assert_true(GMIME_IS_TEXT_PART(g_mime_message_get_mime_part(m)));
	text = part_text(g_mime_message_get_mime_part(m));
	assert_string_equal(text, "Order A-17.\n");
	g_free(text);
	g_object_unref(m);
	myfree(msg);

	/* Even with an URL given, transactional mail has no unsubscribe. */
	in.list_unsubscribe_url = UNSUB;
	msg = compose(&in);
	assert_null(strstr(msg, "List-Unsubscribe"));
	assert_null(strstr(msg, "unsubscribe"));
	myfree(msg);
	json_decref(ctx);
}

static void
test_owner_fallback(void **state)
{
	COMPOSE_IN in;
	json_t *ctx = json_pack("{s:{s:s}}", "contact", "email", "ann@example.org");
	char   *msg;
	GMimeMessage *m;

	/* The owner is missing: " <>" means no address, so the default. */
	put("welcome.tmpl", welcome);
	base_in(&in, "welcome", ctx);
	msg = compose(&in);
	m = parse(msg);
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Acme News|news@example.com");
	assert_int_equal(internet_address_list_length(
		  g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_REPLY_TO)), 0);
	assert_string_equal(g_mime_message_get_subject(m), "Bienvenue, there \xe2\x80\x94 day 3");
	g_object_unref(m);
	myfree(msg);

	/* A template fallback for the owner. */
	put("fb.tmpl", "From: {{owner.name|Acme Sales}} <{{owner.email|sales@example.com}}>\n"
	    "Subject: s\n\nt\n");
	base_in(&in, "fb", ctx);
	msg = compose(&in);
	m = parse(msg);
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Acme Sales|sales@example.com");
	g_object_unref(m);
	myfree(msg);

	/* Specials and quotes in a name; text that looks like an encoded word. */
	{
		json_t *c2 = json_pack("{s:{s:s,s:s},s:{s:s}}", "owner", "name",
				       "Smith, Bob \"B\" (sales)", "email", "b@example.com",
				       "contact", "first_name", "=?utf-8?q?x?=");
		STRBUF	longname = STRBUF_INIT;
		int	i;

		base_in(&in, "welcome", c2);
		msg = compose(&in);
		m = parse(msg);
		assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Smith, Bob \"B\" (sales)|b@example.com");
		assert_string_equal(g_mime_message_get_subject(m),
				    "Bienvenue, =?utf-8?q?x?= \xe2\x80\x94 day 3");
		g_object_unref(m);
		myfree(msg);
		for (i = 0; i < 12; i++)
			strbuf_puts(&longname, "\xc3\x89lodie ");
		strbuf_puts(&longname, "Z");
		json_object_set_new(json_object_get(c2, "owner"), "name",
				    json_string(strbuf_str(&longname)));
		msg = compose(&in);
		m = parse(msg);
		strbuf_puts(&longname, "|b@example.com");
		assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, strbuf_str(&longname));
		g_object_unref(m);
		myfree(msg);
		strbuf_free(&longname);
		json_decref(c2);
	}

	/* A quoted display name keeps its text. */
	put("q.tmpl", "From: \"Acme, Inc.\" <hi@example.com>\nSubject: s\n\nt\n");
	base_in(&in, "q", ctx);
	msg = compose(&in);
	m = parse(msg);
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Acme, Inc.|hi@example.com");
	g_object_unref(m);
	myfree(msg);
	json_decref(ctx);
}

static void
test_injection(void **state)
{
	COMPOSE_IN in;
	json_t *ctx;
	char   *err;
	STRBUF	out = STRBUF_INIT;

	put("welcome.tmpl", welcome);
	ctx = json_pack("{s:{s:s}}", "contact", "first_name", "Ann\r\nBcc: victim@example.net");
	base_in(&in, "welcome", ctx);
	err = compose_err(&in);
	assert_non_null(strstr(err, "welcome.tmpl: Subject: the value contains a line break"));
	myfree(err);
	json_decref(ctx);

	ctx = json_pack("{s:{s:s,s:s}}", "owner", "name", "Bob\nBcc: x@example.net",
			"email", "bob@example.com");
	base_in(&in, "welcome", ctx);
	err = compose_err(&in);
	assert_non_null(strstr(err, "From: the value contains a line break"));
	myfree(err);
	json_decref(ctx);

	ctx = json_pack("{s:{s:s,s:s}}", "owner", "name", "Bob",
			"email", "bob@example.com>, <x@example.net");
	base_in(&in, "welcome", ctx);
	err = compose_err(&in);
	assert_non_null(strstr(err, "From: bad address"));
	myfree(err);
	json_decref(ctx);

	/* A NUL inside a JSON string. */
	ctx = json_pack("{s:{s:s#}}", "contact", "first_name", "A\0B", (size_t) 3);
	base_in(&in, "welcome", ctx);
	err = compose_err(&in);
	assert_non_null(strstr(err, "Subject: the value contains a NUL byte"));
	myfree(err);
	json_decref(ctx);

	/* What the engine passes is checked too. */
	base_in(&in, "welcome", 0);
	in.step = "1\r\nX-Evil: 1";
	err = compose_err(&in);
	assert_string_equal(err, "X-Postdrip-Step: the value contains a line break");
	myfree(err);
	base_in(&in, "welcome", 0);
	in.to = "ann@example.org\r\nBcc: x@y";
	err = compose_err(&in);
	assert_non_null(strstr(err, "bad recipient address"));
	myfree(err);
	base_in(&in, "welcome", 0);
	in.list_unsubscribe_url = "https://x.example/u>\r\nX: y";
	err = compose_err(&in);
	assert_non_null(strstr(err, "needs a List-Unsubscribe URL"));
	myfree(err);
	base_in(&in, "welcome", 0);
	in.message_id = "abc> <def@x";
	err = compose_err(&in);
	assert_non_null(strstr(err, "bad Message-ID"));
	myfree(err);
	strbuf_free(&out);
}

static void
test_refusals(void **state)
{
	COMPOSE_IN in;
	char   *err;

	put("welcome.tmpl", welcome);
	base_in(&in, "welcome", 0);
	in.list_unsubscribe_url = 0;
	err = compose_err(&in);
	assert_string_equal(err, "marketing mail needs a List-Unsubscribe URL (got \"\")");
	myfree(err);

	base_in(&in, "../welcome", 0);
	err = compose_err(&in);
	assert_string_equal(err, "bad template name \"../welcome\"");
	myfree(err);

	base_in(&in, "welcome", 0);
	in.stream = "bulk";
	err = compose_err(&in);
	assert_non_null(strstr(err, "unknown stream"));
	myfree(err);

	base_in(&in, "nosuch", 0);
	err = compose_err(&in);
	assert_non_null(strstr(err, "nosuch.tmpl:1: cannot read: "));
	myfree(err);

	put("broken.tmpl", "Subject: x\n\nline\n{{#a}}\n");
	base_in(&in, "broken", 0);
	err = compose_err(&in);
	assert_non_null(strstr(err, "broken.tmpl:4: unclosed section \"a\""));
	assert_null(strchr(err, '\n'));
	myfree(err);

	put("nofrom.tmpl", "Subject: x\n\nline\n");
	base_in(&in, "nofrom", 0);
	in.from_default = 0;
	err = compose_err(&in);
	assert_non_null(strstr(err, "no From address"));
	myfree(err);
}

static void
test_unsubscribe_placed(void **state)
{
	COMPOSE_IN in;
	char   *msg;
	GMimeMessage *m;
	GMimeObject *body;
	char   *text;
	const char *p;

	/* The template shows the link itself: it is not added again. */
	put("own.tmpl", "Subject: s\n\nLeave: {{unsubscribe_url}}\n--- html ---\n"
	    "<a href=\"{{unsubscribe_url}}\">leave</a>\n");
	base_in(&in, "own", 0);
	msg = compose(&in);
	m = parse(msg);
	body = g_mime_message_get_mime_part(m);
	text = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
	assert_string_equal(text, "Leave: " UNSUB "\n");
	g_free(text);
	text = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1));
	assert_string_equal(text, "<a href=\"https://t.example.com/u/v1.AbC_-9?x=1&amp;y=2\">leave</a>\n");
	p = strstr(text, "unsubscribe");
	assert_null(p);
	g_free(text);
	g_object_unref(m);
	myfree(msg);
}

static void
test_deterministic_and_crlf(void **state)
{
	COMPOSE_IN in;
	json_t *ctx = welcome_ctx();
	char   *a;
	char   *b;
	char   *c;
	const char *p;
	GMimeMessage *m;

	put("welcome.tmpl", welcome);
	base_in(&in, "welcome", ctx);
	a = compose(&in);
	b = compose(&in);
	assert_string_equal(a, b);
	/* A different Message-ID gives a different boundary. */
	in.message_id = "other@mail.example.com";
	c = compose(&in);
	assert_string_not_equal(a, c);
	myfree(c);

	in.message_id = MSGID;
	in.crlf = 1;
	c = compose(&in);
	for (p = c; (p = strchr(p, '\n')) != 0; p++)
		assert_true(p > c && p[-1] == '\r');
	m = parse(c);
	assert_string_equal(g_mime_message_get_message_id(m), MSGID);
	g_object_unref(m);
	/* A long line is folded by quoted-printable, never longer than 78. */
	myfree(a);
	myfree(b);
	myfree(c);
	json_decref(ctx);
}

static void
test_loaded_template(void **state)
{
	static const char *const gone[] = {"sig.txt", "sig.html", "more.txt", 0};
	COMPOSE_IN in;
	STRBUF	errs = STRBUF_INIT;
	TMPLFILE *tf;
	char   *path;
	char   *msg;
	GMimeMessage *m;
	GMimeObject *body;
	char   *text;
	int	i;

	/* Partials are read with the template: a loaded template keeps working. */
	put("partials/sig.txt", "-- sig {{contact.first_name|x}}\n{{> more}}");
	put("partials/more.txt", "[more]\n");
	put("partials/sig.html", "<p>sig</p>\n");
	put("loaded.tmpl", "Subject: s\n\ntext\n{{> sig}}\n--- html ---\n<p>h</p>\n{{> sig}}\n");
	path = myasprintf("%s/loaded.tmpl", tdir);
	tf = tmplfile_load(path, &errs);
	assert_non_null(tf);
	assert_int_equal(tf->nparts, 3);	/* sig and more for text, sig for HTML */
	myfree(path);
	for (i = 0; gone[i]; i++) {
		path = myasprintf("%s/partials/%s", tdir, gone[i]);
		unlink(path);
		myfree(path);
	}
	base_in(&in, "loaded", 0);
	in.stream = COMPOSE_STREAM_TRANSACTIONAL;
	in.tf = tf;
	msg = compose(&in);
	m = parse(msg);
	body = g_mime_message_get_mime_part(m);
	text = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
	assert_string_equal(text, "text\n-- sig x\n[more]\n");
	g_free(text);
	text = part_text(g_mime_multipart_get_part(GMIME_MULTIPART(body), 1));
	assert_string_equal(text, "<p>h</p>\n<p>sig</p>\n");
	g_free(text);
	g_object_unref(m);
	myfree(msg);
	tmplfile_free(tf);

	/* A partial that names itself is read once. */
	put("partials/loop.txt", "x{{> loop}}");
	put("loop.tmpl", "Subject: s\n\n{{> loop}}\n");
	path = myasprintf("%s/loop.tmpl", tdir);
	tf = tmplfile_load(path, &errs);
	assert_non_null(tf);
	assert_int_equal(tf->nparts, 1);
	tmplfile_free(tf);
	myfree(path);
	strbuf_free(&errs);
}

static void
test_long_lines(void **state)
{
	COMPOSE_IN in;
	STRBUF	t = STRBUF_INIT;
	char   *msg;
	const char *p;
	const char *nl;
	int	i;

	strbuf_puts(&t, "Subject: long\n\n");
	for (i = 0; i < 500; i++)
		strbuf_puts(&t, "word ");
	strbuf_puts(&t, "\n--- html ---\n<p>");
	for (i = 0; i < 500; i++)
		strbuf_puts(&t, "<b>x</b>");
	strbuf_puts(&t, "</p>\n");
	put("long.tmpl", strbuf_str(&t));
	base_in(&in, "long", 0);
	msg = compose(&in);
	for (p = msg; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == 0)
			nl = p + strlen(p);
		if (nl - p > 78)
			fail_msg("line of %d bytes: %.60s...", (int) (nl - p), p);
		if (*nl == 0)
			break;
	}
	myfree(msg);
	strbuf_free(&t);
}

static void
test_long_header_values(void **state)
{
	COMPOSE_IN in;
	STRBUF	url = STRBUF_INIT;
	STRBUF	subj = STRBUF_INIT;
	json_t *ctx;
	char   *msg;
	GMimeMessage *m;
	const char *lu;
	int	i;

	/* A long token URL survives folding whole; a long subject too. */
	strbuf_puts(&url, "https://t.example.com/u/");
	for (i = 0; i < 30; i++)
		strbuf_puts(&url, "AbCdEfGh_-");
	for (i = 0; i < 20; i++)
		strbuf_puts(&subj, "Caf\xc3\xa9 cr\xc3\xa8me ");
	ctx = json_pack("{s:s}", "s", strbuf_str(&subj));
	put("longhdr.tmpl", "Subject: {{s}}\n\ntext\n");
	base_in(&in, "longhdr", ctx);
	in.list_unsubscribe_url = strbuf_str(&url);
	msg = compose(&in);
	m = parse(msg);
	lu = hdr(m, "List-Unsubscribe");
	assert_non_null(lu);
	{
		char   *want = myasprintf("<%s>", strbuf_str(&url));

		assert_non_null(strstr(lu, want));
		myfree(want);
		want = myasprintf("\nList-Unsubscribe: <%s>,\n <mailto:%s>\n", strbuf_str(&url), MAILTO);
		assert_non_null(strstr(msg, want));
		myfree(want);
	}
	{
		const char *p = strstr(msg, "\nSubject: ");
		const char *nl;
		int	lines = 0;

		/* Encoded lines stay within 76 columns. */
		for (p++; (nl = strchr(p, '\n')) != 0 && (p == strstr(msg, "Subject: ") || *p == ' '); p = nl + 1) {
			assert_true(nl - p <= 76);
			lines++;
		}
		assert_true(lines > 3);
	}
	assert_string_equal(g_mime_message_get_subject(m), "Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9 cr\xc3\xa8me Caf\xc3\xa9"
			    " cr\xc3\xa8me");
	g_object_unref(m);
	myfree(msg);
	json_decref(ctx);
	strbuf_free(&url);
	strbuf_free(&subj);
}

static void
test_shipped_templates(void **state)
{
	static const char *const names[] = {
		"welcome", "welcome-2", "welcome-3", "followup-clicked", "resend-nonopeners",
		"birthday", "trial-ending", "cart-abandoned", "repermission",
		"hot-lead-alert", "welcome-paths", "path-import", "path-workflows",
		"path-pricing", "path-survey", "welcome-nudge", "nps-thanks", "nps-review",
		"nps-price", "nps-support", "nps-feedback", "nps-followup", "nps-alert",
		"browse-offer", "browse-reminder", "order-confirmation", "order-shipped",
		"product-survey", "recs-gift", "recs-outdoors", "recs-bestsellers",
		"nurture-1", "nurture-2", "nurture-3", "onboarding-1", "onboarding-2",
		"onboarding-3", "lead-enterprise", "lead-smb", "lead-general", "lead-alert",
		"campaign-autumn", "campaign-new-angle", "campaign-openers",
		"campaign-next-offer", "replenish-15", "replenish-21", "whats-new", "coaching",
		"outreach-1", "outreach-2", "outreach-3", "address-offered-alert", 0,
	};
	COMPOSE_IN in;
	json_t *ctx = json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:{s:s,s:s,s:[{s:s,s:s,s:s}],s:s},"
				"s:{s:b},s:{s:b},s:s,s:s}",
				"contact", "first_name", "Ann", "email", "ann@example.org",
				"company", "Initech",
				"owner", "name", "Bob Ray", "email", "bob@example.com",
				"title", "Account executive",
				"event", "trial_end", "2026-03-04", "cart_url",
				"https://shop.example.com/cart/1",
				"items", "name", "Mug", "price", "9.50", "url",
				"https://shop.example.com/mug",
				"subject", "Re: pricing",
				"clicked", "pricing", 1, "tags", "vip", 1,
				"workflow", "w", "step", "s");
	char   *msg;
	int	i;

	for (i = 0; names[i]; i++) {
		base_in(&in, names[i], ctx);
		in.template_dir = TOP_SRCDIR "/conf/templates";
		msg = compose(&in);
		assert_non_null(strstr(msg, "\nMessage-ID: <" MSGID ">\n"));
		assert_marketing(msg, names[i]);
		myfree(msg);
	}
	json_decref(ctx);
}

/* Reply routing: Reply-To is the reply address, and where replies would
 * have gone (the template's Reply-To, else its From) is handed back. */
static void
test_reply_routing(void **state)
{
	COMPOSE_IN in;
	json_t *ctx = welcome_ctx();
	char	orig[ADDR_MAX + 1];
	char   *msg, *err = 0;
	STRBUF	out = STRBUF_INIT;
	GMimeMessage *m;

	put("rr1.tmpl", "From: Sales <sales@example.com>\nReply-To: Rita <rita@example.com>\n"
	    "Subject: Hi\n\nHello.\n");
	put("rr2.tmpl", "From: Sales <sales@example.com>\nSubject: Hi\n\nHello.\n");
	base_in(&in, "rr1", ctx);
	in.reply_address = "reply+tok@bounce.example.com";
	in.reply_original = orig;
	msg = compose(&in);
	m = parse(msg);
	/* The display name stays: the contact sees whom the reply is for. */
	assert_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, "Rita|reply+tok@bounce.example.com");
	assert_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "Sales|sales@example.com");
	assert_string_equal(orig, "rita@example.com");
	assert_null(strstr(msg, "rita@example.com"));
	g_object_unref(m);
	myfree(msg);

	base_in(&in, "rr2", ctx);
	in.reply_address = "reply+tok@bounce.example.com";
	in.reply_original = orig;
	msg = compose(&in);
	m = parse(msg);
	assert_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, "|reply+tok@bounce.example.com");
	assert_string_equal(orig, "sales@example.com");
	g_object_unref(m);
	myfree(msg);

	/* Without a reply address: the template's Reply-To, nothing handed back. */
	base_in(&in, "rr1", ctx);
	orig[0] = 0;
	in.reply_original = orig;
	msg = compose(&in);
	m = parse(msg);
	assert_mailbox(m, GMIME_ADDRESS_TYPE_REPLY_TO, "Rita|rita@example.com");
	assert_string_equal(orig, "");
	g_object_unref(m);
	myfree(msg);

	/* A reply address that could add a header is refused. */
	base_in(&in, "rr1", ctx);
	in.reply_address = "reply+tok@bounce.example.com\nBcc: x@evil.test";
	assert_int_equal(compose_message(&in, &out, &err), -1);
	assert_non_null(strstr(err, "bad reply address"));
	myfree(err);
	strbuf_free(&out);
	json_decref(ctx);
}

static int
setup(void **state)
{
	char	sub[1100];

	g_mime_init();
	snprintf(tdir, sizeof(tdir), "%s/tests/compose.XXXXXX", TOP_BUILDDIR);
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
		cmocka_unit_test(test_marketing),
		cmocka_unit_test(test_transactional),
		cmocka_unit_test(test_owner_fallback),
		cmocka_unit_test(test_reply_routing),
		cmocka_unit_test(test_injection),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_unsubscribe_placed),
		cmocka_unit_test(test_deterministic_and_crlf),
		cmocka_unit_test(test_loaded_template),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_long_header_values),
		cmocka_unit_test(test_shipped_templates),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
