/*
 * rewrite_test - link and open tracking (rewrite_message()): real-world
 * HTML mail from tests/data/html in several MIME shapes and encodings,
 * and the cases others got wrong. Every output is read back with GMime
 * and gumbo, independently of the rewriter: the text is the same, every
 * tracked link leads back to its original URL through the callback's
 * record, the other parts are unchanged, and the transfer encoding
 * matches the bytes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <gmime/gmime.h>
#include <gumbo.h>
#include <openssl/sha.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/rewrite.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif

#define TRACKER	"https://t.test"
#define PIXEL	TRACKER "/o/PIX?a=1&b=2"
#define MAXREC	4096

/* What the callback was asked; the tracked URL names the entry. */
typedef struct REC {
	char   *url[MAXREC];
	char   *name[MAXREC];
	int	number[MAXREC];
	int	n;
} REC;

static REC rec;

static void
rec_reset(void)
{
	int	i;

	for (i = 0; i < rec.n; i++) {
		myfree(rec.url[i]);
		myfree(rec.name[i]);
	}
	rec.n = 0;
}

/* link_cb - TRACKER/c/INDEX?l=..&u=.., with characters that need escaping */

static char *
link_cb(void *ctx, const char *url, const char *name, int number)
{
	assert_true(rec.n < MAXREC);
	rec.url[rec.n] = mystrdup(url);
	rec.name[rec.n] = mystrdup(name);
	rec.number[rec.n] = number;
	return (myasprintf(TRACKER "/c/%d?l=x&u=\"y\"", rec.n++));
}

static char *
pixel_cb(void *ctx)
{
	return (mystrdup(PIXEL));
}

static const char *const excluded[] = {"excluded.test", 0};
static const char *const own_signers[] = {"mail.example.net", "example.com", 0};
static const char *const other_signers[] = {"example.com", "Other.Example", 0};

static void
opts_default(REWRITE_OPTS *o)
{
	memset(o, 0, sizeof(*o));
	o->track_links = 1;
	o->track_opens = 1;
	o->max_size = 10 * 1024 * 1024;
	o->exclude_domains = excluded;
	o->tracker_url = TRACKER;
	o->signing_domains = own_signers;
	o->link_url = link_cb;
	o->pixel_url = pixel_cb;
}

/* slurp - a test data file */

static char *
slurp(const char *name, size_t *len)
{
	char   *path = myasprintf("%s/tests/data/html/%s", TOP_SRCDIR, name);
	FILE   *fp = fopen(path, "rb");
	STRBUF	sb = STRBUF_INIT;
	char	buf[8192];
	size_t	n;

	if (fp == 0)
		fail_msg("cannot open %s", path);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(fp);
	myfree(path);
	*len = sb.len;
	return (strbuf_steal(&sb));
}

/*
 * What a reader sees in an HTML document: its text, and the targets of
 * its links (Outlook conditional comments included, as Outlook shows
 * them), and the sources of its images.
 */
typedef struct VIEW {
	STRBUF	text;
	char   *href[MAXREC];
	int	notrack[MAXREC];
	int	nhref;
	int	ours;			/* data-link, data-postdrip attributes */
	char   *img[MAXREC];
	int	nimg;
} VIEW;

static void view_html(VIEW *, const char *, size_t, int);

static void
view_node(VIEW *v, GumboNode *n, int sub)
{
	unsigned i;

	switch (n->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA:
		strbuf_puts(&v->text, n->v.text.text);
		break;
	case GUMBO_NODE_COMMENT:
		if (!sub && strncmp(n->v.text.text, "[if", 3) == 0)
			view_html(v, n->v.text.text, strlen(n->v.text.text), 1);
		break;
	case GUMBO_NODE_DOCUMENT:
		for (i = 0; i < n->v.document.children.length; i++)
			view_node(v, n->v.document.children.data[i], sub);
		break;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:{
			GumboElement *e = &n->v.element;
			GumboAttribute *a;

			/* A parser's clone of an unclosed link is that same link. */
			if ((e->tag == GUMBO_TAG_A || e->tag == GUMBO_TAG_AREA)
			    && (n->parse_flags & (GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT
					    | GUMBO_INSERTION_ADOPTION_AGENCY_CLONED)) == 0) {
				a = gumbo_get_attribute(&e->attributes, "href");
				if (a && v->nhref < MAXREC) {
					GumboAttribute *nt = gumbo_get_attribute(&e->attributes, "data-postdrip");

					v->notrack[v->nhref] = nt && strcasecmp(nt->value, "notrack") == 0;
					v->href[v->nhref++] = mystrdup(a->value);
				}
				v->ours += gumbo_get_attribute(&e->attributes, "data-link") != 0;
				v->ours += gumbo_get_attribute(&e->attributes, "data-postdrip") != 0;
			}
			if (e->tag == GUMBO_TAG_IMG && v->nimg < MAXREC
			    && (a = gumbo_get_attribute(&e->attributes, "src")) != 0)
				v->img[v->nimg++] = mystrdup(a->value);
			for (i = 0; i < e->children.length; i++)
				view_node(v, e->children.data[i], sub);
			break;
		}
	default:
		break;
	}
}

static void
view_html(VIEW *v, const char *html, size_t len, int sub)
{
	GumboOutput *g = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);

	view_node(v, g->document, sub);
	gumbo_destroy_output(&kGumboDefaultOptions, g);
}

static void
view_free(VIEW *v)
{
	int	i;

	for (i = 0; i < v->nhref; i++)
		myfree(v->href[i]);
	for (i = 0; i < v->nimg; i++)
		myfree(v->img[i]);
	strbuf_free(&v->text);
	memset(v, 0, sizeof(*v));
}

/* Parts of a message as GMime reads them. */
typedef struct PARTS {
	int	n;
	char   *type[64];
	int	attachment[64];
	STRBUF	content[64];		/* decoded; text parts in UTF-8 */
	char   *cte[64];
} PARTS;

static GMimeMessage *
parse_msg(const char *msg, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, 0);

	g_object_unref(p);
	g_object_unref(st);
	return (m);
}

static void
collect(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	PARTS  *ps = data;
	int	i = ps->n;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (!GMIME_IS_PART(obj) || i >= 64)
		return;
	ps->n++;
	ps->type[i] = g_mime_content_type_get_mime_type(ct);
	ps->attachment[i] = g_mime_object_get_content_disposition(obj)
		&& g_mime_content_disposition_is_attachment(g_mime_object_get_content_disposition(obj));
	ps->cte[i] = mystrdup(g_mime_content_encoding_to_string(
			   g_mime_part_get_content_encoding(GMIME_PART(obj))) ?
			      g_mime_content_encoding_to_string(
			   g_mime_part_get_content_encoding(GMIME_PART(obj))) : "");
	memset(&ps->content[i], 0, sizeof(STRBUF));
	if (GMIME_IS_TEXT_PART(obj)) {
		char   *t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));

		strbuf_puts(&ps->content[i], t ? t : "");
		g_free(t);
	} else {
		GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(obj));
		GMimeStream *ms = g_mime_stream_mem_new();
		GByteArray *ba;

		if (w)
			g_mime_data_wrapper_write_to_stream(w, ms);
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
		strbuf_append(&ps->content[i], ba->data, ba->len);
		g_object_unref(ms);
	}
}

static void
parts_get(PARTS *ps, const char *msg, size_t len)
{
	GMimeMessage *m = parse_msg(msg, len);

	memset(ps, 0, sizeof(*ps));
	assert_non_null(m);
	if (GMIME_IS_PART(m->mime_part))
		collect(0, m->mime_part, ps);
	else
		g_mime_message_foreach(m, collect, ps);
	g_object_unref(m);
}

static void
parts_free(PARTS *ps)
{
	int	i;

	for (i = 0; i < ps->n; i++) {
		g_free(ps->type[i]);
		myfree(ps->cte[i]);
		strbuf_free(&ps->content[i]);
	}
}

/* trackable - the test's own idea of what must be tracked */

static int
trackable(const char *href)
{
	const char *u = href;
	char	host[256];
	size_t	n;

	while (*u == ' ' || *u == '\n' || *u == '\t' || *u == '\r')
		u++;
	if (strncasecmp(u, "http://", 7) == 0)
		u += 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		u += 8;
	else
		return (0);
	if (strncasecmp(href, TRACKER "/", strlen(TRACKER) + 1) == 0)
		return (0);
	n = strcspn(u, "/?#:");
	snprintf(host, sizeof(host), "%.*s", (int) n, u);
	if (strchr(host, '@'))
		memmove(host, strrchr(host, '@') + 1, strlen(strrchr(host, '@')));
	n = strlen(host);
	return (!(strcasecmp(host, "excluded.test") == 0
		  || (n > 14 && strcasecmp(host + n - 14, ".excluded.test") == 0)));
}

/* trim - what a browser does to an href */

static char *
trim(const char *s)
{
	size_t	n;

	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == '\f')
		s++;
	n = strlen(s);
	while (n > 0 && strchr(" \n\t\r\f", s[n - 1]))
		n--;
	return (mystrndup(s, n));
}

/*
 * check_rewrite - the properties every rewritten message must have;
 * returns the number of links tracked.
 */

static int
check_rewrite(const char *in, size_t inlen, const char *out, size_t outlen,
	              int expect_pixel)
{
	PARTS	a, b;
	int	i, j;
	int	tracked = 0;
	int	next = 0;
	const char *p;

	parts_get(&a, in, inlen);
	parts_get(&b, out, outlen);
	assert_int_equal(a.n, b.n);
	/* Every line fits SMTP. */
	for (p = out; p < out + outlen;) {
		const char *nl = memchr(p, '\n', out + outlen - p);
		size_t	l = (nl ? nl : out + outlen) - p;

		if (l > 0 && p[l - 1] == '\r')
			l--;
		assert_true(l <= 998);
		p = nl ? nl + 1 : out + outlen;
	}
	for (i = 0; i < a.n; i++) {
		assert_string_equal(a.type[i], b.type[i]);
		if (strcmp(a.type[i], "text/html") != 0 || a.attachment[i]) {
			/* Not HTML: the same content. */
			assert_int_equal(a.content[i].len, b.content[i].len);
			assert_memory_equal(a.content[i].data, b.content[i].data, a.content[i].len);
			continue;
		} else {
			VIEW	va, vb;

			memset(&va, 0, sizeof(va));
			memset(&vb, 0, sizeof(vb));
			view_html(&va, strbuf_str(&a.content[i]), a.content[i].len, 0);
			view_html(&vb, strbuf_str(&b.content[i]), b.content[i].len, 0);
			/* The text a reader sees is unchanged. */
			assert_string_equal(strbuf_str(&va.text), strbuf_str(&vb.text));
			/* Our attributes never leave. */
			assert_int_equal(vb.ours, 0);
			/* Each link is where it was, tracked or not. */
			assert_int_equal(va.nhref, vb.nhref);
			for (j = 0; j < va.nhref; j++) {
				char   *orig = trim(va.href[j]);

				if (trackable(va.href[j]) && !va.notrack[j]) {
					int	k = -1;

					assert_int_equal(sscanf(vb.href[j], TRACKER "/c/%d?", &k), 1);
					assert_true(k >= 0 && k < rec.n);
					/* In order, and back to the original URL. */
					assert_int_equal(k, next);
					next++;
					assert_string_equal(rec.url[k], orig);
					assert_int_equal(rec.number[k], k + 1);
					/* The tracker URL came through its escaping whole. */
					{
						char   *want = myasprintf(TRACKER "/c/%d?l=x&u=\"y\"", k);

						assert_string_equal(vb.href[j], want);
						myfree(want);
					}
					tracked++;
				} else {
					assert_string_equal(va.href[j], vb.href[j]);
				}
				myfree(orig);
			}
			/* Images the same, plus the pixel. */
			assert_int_equal(va.nimg + (expect_pixel ? 1 : 0), vb.nimg);
			if (expect_pixel) {
				int	found = 0;

				for (j = 0; j < vb.nimg; j++)
					found += strcmp(vb.img[j], PIXEL) == 0;
				assert_int_equal(found, 1);
			}
			view_free(&va);
			view_free(&vb);
		}
	}
	parts_free(&a);
	parts_free(&b);
	return (tracked);
}

/* Ways to wrap an HTML document. */
enum {
	SHAPE_SINGLE, SHAPE_ALT, SHAPE_RELATED, SHAPE_MIXED
};

/* build - a message around html, written by GMime */

static char *
build(const char *html, int shape, GMimeContentEncoding enc, const char *charset,
      int crlf, size_t *len)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeTextPart *h = g_mime_text_part_new_with_subtype("html");
	GMimeObject *top;
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *ms = g_mime_stream_mem_new();
	GByteArray *ba;
	char   *ret;

	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_FROM, "News", "news@example.com");
	g_mime_message_add_mailbox(m, GMIME_ADDRESS_TYPE_TO, "", "ann@sink.test");
	g_mime_message_set_subject(m, "Spring news", "utf-8");
	g_mime_message_set_message_id(m, "t1@example.com");
	if (charset) {
		g_mime_text_part_set_text(h, html);
		g_mime_text_part_set_charset(h, charset);
		/* set_text chose its own charset; put the bytes in ours. */
		if (strcasecmp(charset, "utf-8") != 0) {
			GMimeStream *s = g_mime_stream_mem_new();
			GMimeStream *f = g_mime_stream_filter_new(s);
			GMimeFilter *cf = g_mime_filter_charset_new("utf-8", charset);
			GMimeDataWrapper *w;

			g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), cf);
			g_mime_stream_write(f, html, strlen(html));
			g_mime_stream_flush(f);
			g_mime_stream_reset(s);
			w = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
			g_mime_part_set_content(GMIME_PART(h), w);
			g_object_unref(w);
			g_object_unref(cf);
			g_object_unref(f);
			g_object_unref(s);
			g_mime_text_part_set_charset(h, charset);
		}
	} else {
		g_mime_text_part_set_text(h, html);
	}
	g_mime_part_set_content_encoding(GMIME_PART(h), enc);
	top = GMIME_OBJECT(h);
	if (shape != SHAPE_SINGLE) {
		GMimeTextPart *t = g_mime_text_part_new_with_subtype("plain");
		GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");

		g_mime_text_part_set_text(t, "Spring news: https://www.example.com/plain?x=1\n"
					  "Unsubscribe: " TRACKER "/u/TOKEN\n");
		g_mime_multipart_add(alt, GMIME_OBJECT(t));
		g_object_unref(t);
		if (shape == SHAPE_RELATED) {
			GMimeMultipart *rel = g_mime_multipart_new_with_subtype("related");
			GMimePart *img = g_mime_part_new_with_type("image", "png");
			GMimeStream *is = g_mime_stream_mem_new_with_buffer("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
			GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(is, GMIME_CONTENT_ENCODING_DEFAULT);

			g_mime_part_set_content(img, w);
			g_mime_part_set_content_encoding(img, GMIME_CONTENT_ENCODING_BASE64);
			g_mime_part_set_content_id(img, "logo@example.com");
			g_mime_object_set_disposition(GMIME_OBJECT(img), "inline");
			g_mime_multipart_add(rel, top);
			g_mime_multipart_add(rel, GMIME_OBJECT(img));
			g_object_unref(w);
			g_object_unref(is);
			g_object_unref(img);
			g_object_unref(top);
			top = GMIME_OBJECT(rel);
		}
		g_mime_multipart_add(alt, top);
		g_object_unref(top);
		top = GMIME_OBJECT(alt);
		if (shape == SHAPE_MIXED) {
			GMimeMultipart *mix = g_mime_multipart_new_with_subtype("mixed");
			GMimeTextPart *att = g_mime_text_part_new_with_subtype("html");

			g_mime_text_part_set_text(att, "<p><a href=\"https://www.example.com/att\">in an attachment</a></p>\n");
			g_mime_part_set_filename(GMIME_PART(att), "page.html");
			g_mime_multipart_add(mix, top);
			g_mime_multipart_add(mix, GMIME_OBJECT(att));
			g_object_unref(att);
			g_object_unref(top);
			top = GMIME_OBJECT(mix);
		}
	}
	g_mime_message_set_mime_part(m, top);
	g_object_unref(top);
	if (crlf)
		g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, ms);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	ret = mymemdup(ba->data, ba->len + 1);
	ret[ba->len] = 0;
	*len = ba->len;
	g_object_unref(ms);
	g_mime_format_options_free(fo);
	g_object_unref(m);
	return (ret);
}

/* rewrite_ok - rewrite, expect REWRITE_OK, check, return links tracked */

static int
rewrite_ok(const char *msg, size_t len, const REWRITE_OPTS *o, STRBUF *out)
{
	REWRITE_RESULT res;
	int	st;
	int	n;

	rec_reset();
	st = rewrite_message(msg, len, o, out, &res);
	assert_int_equal(st, REWRITE_OK);
	n = check_rewrite(msg, len, strbuf_str(out), out->len, o->track_opens);
	assert_int_equal(n, res.links);
	/* The header block is copied as it was. */
	if (!res.header_changed)
		assert_memory_equal(msg, out->data, res.body_offset);
	return (n);
}

static const char *const templates[] = {
	"foundation-newsletter.html", "foundation-marketing.html",
	"foundation-drip.html", "mjml-newsletter.html", "mjml-promo.html", 0,
};

/* test_real_world - each template, in each shape and encoding */

static void
test_real_world(void **state)
{
	static const struct {
		int	shape;
		GMimeContentEncoding enc;
		const char *charset;
		int	crlf;
	}	way[] = {
		{SHAPE_SINGLE, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "utf-8", 0},
		{SHAPE_ALT, GMIME_CONTENT_ENCODING_BASE64, "utf-8", 1},
		{SHAPE_RELATED, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "iso-8859-1", 1},
		{SHAPE_MIXED, GMIME_CONTENT_ENCODING_8BIT, "utf-8", 0},
		{SHAPE_ALT, GMIME_CONTENT_ENCODING_BASE64, "iso-8859-1", 0},
	};
	REWRITE_OPTS o;
	int	t;
	size_t	w;

	opts_default(&o);
	for (t = 0; templates[t]; t++) {
		size_t	hlen;
		char   *html = slurp(templates[t], &hlen);
		/* Text the Latin-1 versions can carry, and some they cannot. */
		char   *doc = myasprintf("%s<p>Gr\xc3\xbc\xc3\x9f" "e, Fran\xc3\xa7ois</p>\n", html);
		int	first = -1;

		for (w = 0; w < sizeof(way) / sizeof(way[0]); w++) {
			size_t	len;
			char   *msg = build(doc, way[w].shape, way[w].enc, way[w].charset,
					    way[w].crlf, &len);
			STRBUF	out = STRBUF_INIT;
			int	n = rewrite_ok(msg, len, &o, &out);

			/* The same links whatever the wrapping. */
			if (first < 0)
				first = n;
			assert_int_equal(n, first);
			strbuf_free(&out);
			myfree(msg);
		}
		assert_true(first > 0);
		myfree(doc);
		myfree(html);
	}
	rec_reset();
}

/* cache_run - rewrite msg; the output, and the URLs handed over, joined */

static int
cache_run(const char *msg, size_t len, const REWRITE_OPTS *o, STRBUF *out,
	          STRBUF *calls, REWRITE_RESULT *res)
{
	int	i, st;

	rec_reset();
	st = rewrite_message(msg, len, o, out, res);
	strbuf_reset(calls);
	for (i = 0; i < rec.n; i++)
		strbuf_printf(calls, "%d %s %s\n", rec.number[i], rec.url[i], rec.name[i]);
	return (st);
}

/* test_cache - a document seen again gives what a new parse gives */

static void
test_cache(void **state)
{
	REWRITE_OPTS o;
	REWRITE_CACHE_STATS s0, s1;
	int	t;

	opts_default(&o);
	o.honeypot_name = "hp";
	o.honeypot_url = "https://hp.test/";
	for (t = 0; templates[t]; t++) {
		size_t	hlen, len;
		char   *html = slurp(templates[t], &hlen);
		char   *msg = build(html, SHAPE_ALT, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
				    "utf-8", 1, &len);
		STRBUF	out0 = STRBUF_INIT, out1 = STRBUF_INIT;
		STRBUF	calls0 = STRBUF_INIT, calls1 = STRBUF_INIT;
		REWRITE_RESULT r0, r1;
		const char *excl[2] = {0, 0};
		char   *host;
		int	all, st;

		/* A new parse, then the same document again: the same result. */
		opts_default(&o);
		o.honeypot_name = "hp";
		o.honeypot_url = "https://hp.test/";
		rewrite_cache_flush();
		rewrite_cache_stats(&s0);
		assert_int_equal(cache_run(msg, len, &o, &out0, &calls0, &r0), REWRITE_OK);
		assert_int_equal(cache_run(msg, len, &o, &out1, &calls1, &r1), REWRITE_OK);
		rewrite_cache_stats(&s1);
		assert_int_equal(s1.misses - s0.misses, 1);
		assert_int_equal(s1.hits - s0.hits, 1);
		assert_true(r0.links > 0);
		assert_int_equal(r0.links, r1.links);
		assert_int_equal(r0.pixels, r1.pixels);
		assert_int_equal(r0.honeypots, r1.honeypots);
		assert_string_equal(strbuf_str(&calls0), strbuf_str(&calls1));
		assert_int_equal(out0.len, out1.len);
		assert_memory_equal(out0.data, out1.data, out0.len);
		all = r0.links;

		/*
		 * One letter changed in the middle, the length kept: the
		 * kept plan's fingerprint reads only part of a document, so
		 * this must be told apart byte for byte, never taken as a
		 * hit. The letter shows in the output.
		 */
		{
			char   *mid = msg + len / 2, *c;
			char   *changed = 0;

			for (c = mid; c < msg + len && !changed; c++)
				if (*c >= 'a' && *c <= 'y' && c[-1] >= 'a' && c[-1] <= 'z')
					changed = c;
			assert_non_null(changed);
			(*changed)++;
			rewrite_cache_stats(&s0);
			assert_int_equal(cache_run(msg, len, &o, &out1, &calls1, &r1), REWRITE_OK);
			rewrite_cache_stats(&s1);
			assert_int_equal(s1.hits, s0.hits);
			assert_true(out1.len != out0.len
				    || memcmp(out0.data, out1.data, out0.len) != 0);
			(*changed)--;
		}

		/*
		 * Other options on the kept parse: the first link's domain
		 * excluded, no pixel, no honeypot. As a new parse gives them.
		 */
		host = mystrndup(rec.url[0] + strcspn(rec.url[0], ":") + 3,
				 strcspn(rec.url[0] + strcspn(rec.url[0], ":") + 3, "/?#:"));
		excl[0] = host;
		o.exclude_domains = excl;
		o.track_opens = 0;
		o.honeypot_name = 0;
		st = cache_run(msg, len, &o, &out1, &calls1, &r1);
		rewrite_cache_flush();
		assert_int_equal(cache_run(msg, len, &o, &out0, &calls0, &r0), st);
		assert_true(r0.links < all);
		assert_int_equal(r0.pixels, 0);
		assert_int_equal(r0.links, r1.links);
		assert_string_equal(strbuf_str(&calls0), strbuf_str(&calls1));
		assert_int_equal(out0.len, out1.len);
		assert_memory_equal(out0.data, out1.data, out0.len);
		rewrite_cache_stats(&s0);
		assert_int_equal(s0.hits - s1.hits, 1);
		assert_int_equal(s0.misses - s1.misses, 1);

		myfree(host);
		strbuf_free(&out0);
		strbuf_free(&out1);
		strbuf_free(&calls0);
		strbuf_free(&calls1);
		myfree(msg);
		myfree(html);
	}
	rec_reset();
}

/*
 * near_check - rewrite html wrapped as a message while the cache holds
 * base's plan, then as a new parse: the same result either way. Returns
 * whether the first came from a near match.
 */
static int
near_check(const char *base, const char *html, const REWRITE_OPTS *o)
{
	size_t	blen, len;
	char   *bmsg = build(base, SHAPE_ALT, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "utf-8", 1, &blen);
	char   *msg = build(html, SHAPE_ALT, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "utf-8", 1, &len);
	STRBUF	out0 = STRBUF_INIT, out1 = STRBUF_INIT;
	STRBUF	calls0 = STRBUF_INIT, calls1 = STRBUF_INIT;
	REWRITE_RESULT r0, r1;
	REWRITE_CACHE_STATS s0, s1;
	int	st;

	rewrite_cache_flush();
	(void) cache_run(bmsg, blen, o, &out0, &calls0, &r0);
	rewrite_cache_stats(&s0);
	st = cache_run(msg, len, o, &out1, &calls1, &r1);
	rewrite_cache_stats(&s1);
	rewrite_cache_flush();
	assert_int_equal(cache_run(msg, len, o, &out0, &calls0, &r0), st);
	if (strcmp(strbuf_str(&calls0), strbuf_str(&calls1)) != 0
	    || out0.len != out1.len || memcmp(out0.data, out1.data, out0.len) != 0)
		fail_msg("near match differs from a new parse for:\n%s", html);
	assert_int_equal(r0.links, r1.links);
	assert_int_equal(r0.pixels, r1.pixels);
	assert_int_equal(r0.honeypots, r1.honeypots);
	strbuf_free(&out0);
	strbuf_free(&out1);
	strbuf_free(&calls0);
	strbuf_free(&calls1);
	myfree(bmsg);
	myfree(msg);
	return (s1.near > s0.near);
}

/* test_near - a document that differs by a name reuses the parse, safely */

static void
test_near(void **state)
{
	static const char *const names[] = {
		"Anna", "Bob", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", "Jean-Luc Picard", "A",
		"Maximiliana-Theresia von und zu Hohenberg-Schillingsf\xc3\xbcrst", 0,
	};
	/* Changes that touch markup: each must give a new parse's result. */
	static const char *const alphabet[] = {
		"a", "Z", " ", "\n", "<", ">", "&", "\"", "'", "=", "/", "<a href=\"https://x.test/\">",
		"</a>", "<!--", "-->", "&amp;", "\xc3\xa9", "<p>", "</body>", "<table>", "<b>", 0,
	};
	REWRITE_OPTS o;
	unsigned long rnd = 20261207;
	int	t, i, k, nearly = 0, lettered = 0;

	opts_default(&o);
	o.honeypot_name = "hp";
	o.honeypot_url = "https://hp.test/";
	for (t = 0; templates[t]; t++) {
		size_t	hlen;
		char   *html = slurp(templates[t], &hlen);
		char   *body = strstr(html, "<body");
		char   *gt = body ? strchr(body, '>') : 0;
		char   *base;
		int	nalpha = 0;

		assert_non_null(gt);
		/* A greeting with a name, and the name again further on. */
		base = myasprintf("%.*s<p>Hello NAME, here is your offer.</p>%s<p>Thanks, NAME!</p>",
				  (int) (gt + 1 - html), html, gt + 1);
		for (i = 0; names[i]; i++) {
			STRBUF	v = STRBUF_INIT;
			const char *p, *q;

			for (p = base; (q = strstr(p, "NAME")) != 0; p = q + 4) {
				strbuf_append(&v, p, q - p);
				strbuf_puts(&v, names[i]);
			}
			strbuf_puts(&v, p);
			nearly += near_check(base, strbuf_str(&v), &o);
			strbuf_free(&v);
		}
		/* Random changes anywhere, markup included. */
		while (alphabet[nalpha])
			nalpha++;
		for (i = 0; i < 12; i++) {
			STRBUF	v = STRBUF_INIT;
			size_t	blen = strlen(base), pos = 0;
			int	changes = 1 + (int) ((rnd >> 16) % 3);

			for (k = 0; k < changes; k++) {
				size_t	at, cut;

				rnd = rnd * 6364136223846793005UL + 1442695040888963407UL;
				at = pos + (rnd >> 33) % ((blen - pos) / (changes - k) + 1);
				cut = (rnd >> 20) % 8;
				if (at + cut > blen)
					cut = blen - at;
				strbuf_append(&v, base + pos, at - pos);
				strbuf_puts(&v, alphabet[(rnd >> 40) % nalpha]);
				pos = at + cut;
			}
			strbuf_append(&v, base + pos, blen - pos);
			(void) near_check(base, strbuf_str(&v), &o);
			strbuf_free(&v);
		}
		/* Letters anywhere: in text a near match, in markup a new parse. */
		for (i = 0; i < 24; i++) {
			static const char *const letters[] = {"x", "Anna", "Q r", "\xc3\xa9t\xc3\xa9", "B-C"};
			STRBUF	v = STRBUF_INIT;
			size_t	blen = strlen(base), at, cut;

			rnd = rnd * 6364136223846793005UL + 1442695040888963407UL;
			at = (rnd >> 33) % blen;
			cut = (rnd >> 20) % 6;
			if (at + cut > blen)
				cut = blen - at;
			/* Whole UTF-8 characters only, as a sender's text has. */
			while (at > 0 && ((unsigned char) base[at] & 0xc0) == 0x80)
				at--;
			while (at + cut < blen && ((unsigned char) base[at + cut] & 0xc0) == 0x80)
				cut++;
			strbuf_append(&v, base, at);
			strbuf_puts(&v, letters[(rnd >> 40) % 5]);
			strbuf_append(&v, base + at + cut, blen - at - cut);
			lettered += near_check(base, strbuf_str(&v), &o);
			strbuf_free(&v);
		}
		myfree(base);
		myfree(html);
	}
	/* Names in text are near matches (all but where the length differs much). */
	print_message("near matches: %d of %d names, %d of %d letter changes\n",
		      nearly, 6 * t, lettered, 24 * t);
	assert_true(nearly >= 5 * 5);
	/* Most of a template's bytes are text or CSS: some were near. */
	assert_true(lettered > 0);
	rec_reset();
}

/*
 * Threads: the milter rewrites in one thread per SMTP session, all
 * sharing the plan cache. Each thread rewrites the same documents and
 * documents with names of their own, over and over, and must get what a
 * new parse gives; ASan sees any plan freed while in use.
 */
#define THR_N		4
#define THR_ROUNDS	6

typedef struct THR_DOC {
	char   *msg;
	size_t	len;
	char   *want;			/* the output of a new parse */
	size_t	wlen;
} THR_DOC;

typedef struct THR_ARG {
	THR_DOC *doc;
	int	ndoc;
	int	bad;
} THR_ARG;

static char *
thr_link(void *ctx, const char *url, const char *name, int number)
{
	return (myasprintf(TRACKER "/c/%d", number));
}

static void
thr_opts(REWRITE_OPTS *o)
{
	opts_default(o);
	o->link_url = thr_link;
}

static void *
thr_main(void *arg)
{
	THR_ARG *ta = arg;
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	int	r, i;

	thr_opts(&o);
	for (r = 0; r < THR_ROUNDS; r++) {
		for (i = 0; i < ta->ndoc; i++) {
			THR_DOC *d = ta->doc + (i + r) % ta->ndoc;

			if (rewrite_message(d->msg, d->len, &o, &out, &res) != REWRITE_OK
			    || out.len != d->wlen || memcmp(out.data, d->want, d->wlen) != 0)
				ta->bad++;
		}
		if (r == THR_ROUNDS / 2)
			rewrite_cache_flush();
	}
	strbuf_free(&out);
	return (0);
}

/* test_threads - the plan cache shared by threads */

static void
test_threads(void **state)
{
	THR_DOC doc[32];
	THR_ARG arg[THR_N];
	pthread_t tid[THR_N];
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	int	ndoc = 0, t, i, k;

	thr_opts(&o);
	for (t = 0; templates[t]; t++) {
		size_t	hlen;
		char   *html = slurp(templates[t], &hlen);

		for (k = 0; k < 3; k++) {
			char   *h = myasprintf("<p>Dear %s,</p>%s", k == 0 ? "NAME" : k == 1 ? "Anna" : "Bo", html);
			STRBUF	out = STRBUF_INIT;
			THR_DOC *d = doc + ndoc++;

			d->msg = build(h, SHAPE_ALT, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "utf-8", 1, &d->len);
			rewrite_cache_flush();
			assert_int_equal(rewrite_message(d->msg, d->len, &o, &out, &res), REWRITE_OK);
			d->wlen = out.len;
			d->want = strbuf_steal(&out);
			myfree(h);
		}
		myfree(html);
	}
	rewrite_cache_flush();
	for (i = 0; i < THR_N; i++) {
		arg[i].doc = doc;
		arg[i].ndoc = ndoc;
		arg[i].bad = 0;
		assert_int_equal(pthread_create(tid + i, 0, thr_main, arg + i), 0);
	}
	for (i = 0; i < THR_N; i++) {
		assert_int_equal(pthread_join(tid[i], 0), 0);
		assert_int_equal(arg[i].bad, 0);
	}
	for (i = 0; i < ndoc; i++) {
		myfree(doc[i].msg);
		myfree(doc[i].want);
	}
	rewrite_cache_flush();
}

/* raw1 - rewrite one hand-written single-part HTML message */

static int
raw1(const char *html, const REWRITE_OPTS *o, STRBUF *out, REWRITE_RESULT *res)
{
	char   *msg = myasprintf("From: a@example.com\nTo: b@sink.test\nSubject: t\n"
				 "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n%s",
				 html);
	int	st;

	rec_reset();
	st = rewrite_message(msg, strlen(msg), o, out, res);
	if (st == REWRITE_OK)
		check_rewrite(msg, strlen(msg), strbuf_str(out), out->len, o->track_opens);
	else
		assert_string_equal(strbuf_str(out), msg);
	myfree(msg);
	return (st);
}

/* body - the body of a rewritten single-part message */

static const char *
body(const STRBUF *out)
{
	const char *b = strstr(strbuf_str(out), "\n\n");

	assert_non_null(b);
	return (b + 2);
}

/* starts - s begins with prefix */

static int
starts(const char *s, const char *prefix)
{
	return (strncmp(s, prefix, strlen(prefix)) == 0);
}

/* test_bytes_kept - only the URL bytes change */

static void
test_bytes_kept(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *in =
	"<html><body>\n"
	"{{#contact}}Hi {{ name }}{{/contact}} <!-- a comment, <a href=\"http://c.test/\"> -->\n"
	"<p   class=x\t>Text&nbsp;&amp; more</P >\n"
	"<a\n   href = 'https://a.test/x?y=1&amp;z=2' title=\"t\"  >one</a>\n"
	"<a href=http://b.test/p>two</a><custom-el foo=bar>?</custom-el><? pi ?>\n"
	"</body>\n</html>\n";
	const char *want =
	"<html><body>\n"
	"{{#contact}}Hi {{ name }}{{/contact}} <!-- a comment, <a href=\"http://c.test/\"> -->\n"
	"<p   class=x\t>Text&nbsp;&amp; more</P >\n"
	"<a\n   href = \"https://t.test/c/0?l=x&amp;u=&quot;y&quot;\" title=\"t\"  >one</a>\n"
	"<a href=\"https://t.test/c/1?l=x&amp;u=&quot;y&quot;\">two</a><custom-el foo=bar>?</custom-el><? pi ?>\n"
	"</body>\n</html>\n";

	opts_default(&o);
	o.track_opens = 0;
	assert_int_equal(raw1(in, &o, &out, &res), REWRITE_OK);
	assert_string_equal(body(&out), want);
	/* Postal #1040: the callback gets the URL, not the HTML. */
	assert_string_equal(rec.url[0], "https://a.test/x?y=1&z=2");
	assert_string_equal(rec.url[1], "http://b.test/p");
	assert_int_equal(res.links, 2);
	strbuf_free(&out);
	rec_reset();
}

/* test_pixel - before </body>, or at the end */

static void
test_pixel(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *img = "<img src=\"https://t.test/o/PIX?a=1&amp;b=2\" width=\"1\" height=\"1\"";

	opts_default(&o);
	assert_int_equal(raw1("<html><body><p>hi</p></BODY></html>\n", &o, &out, &res), REWRITE_OK);
	assert_true(starts(body(&out), "<html><body><p>hi</p><img "));
	assert_non_null(strstr(body(&out), "></BODY></html>\n"));
	assert_non_null(strstr(body(&out), img));
	assert_int_equal(res.pixels, 1);
	/* No </body>: at the end. */
	assert_int_equal(raw1("<p>hi</p>\n", &o, &out, &res), REWRITE_OK);
	assert_true(starts(body(&out), "<p>hi</p><img "));
	assert_int_equal(strcmp(body(&out) + strlen(body(&out)) - 2, ">\n"), 0);
	/* A </body> inside a comment is not the end of the body. */
	assert_int_equal(raw1("<p>a<!-- </body> --></p></body>", &o, &out, &res), REWRITE_OK);
	assert_non_null(strstr(body(&out), "<!-- </body> --></p><img "));
	strbuf_free(&out);
	rec_reset();
}

/* test_not_tracked - what must stay as it is */

static void
test_not_tracked(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *in =
	"<a href=\"mailto:x@example.com\">m</a><a href=\"tel:+4930\">t</a>"
	"<a href=\"#top\">a</a><a href=\"/relative\">r</a><a href=\"javascript:x()\">j</a>"
	"<a href=\"https://t.test/u/TOKEN\">unsubscribe</a>"
	"<a href=\"https://T.TEST/p/TOKEN?x=1\">preferences</a>"
	"<a href=\"https://excluded.test/x\">e</a><a href=\"https://www.Excluded.TEST/y\">e2</a>"
	"<a href=\"https://notexcluded.test/z\">n</a>"
	"<a data-postdrip=\"notrack\" href=\"https://keep.test/\">k</a>"
	"<a href=\"https://t.test.evil.test/\">lookalike</a>";

	opts_default(&o);
	o.track_opens = 0;
	assert_int_equal(raw1(in, &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 2);
	assert_string_equal(rec.url[0], "https://notexcluded.test/z");
	assert_string_equal(rec.url[1], "https://t.test.evil.test/");
	assert_non_null(strstr(body(&out), "<a href=\"https://keep.test/\">k</a>"));
	assert_null(strstr(body(&out), "data-postdrip"));
	assert_non_null(strstr(body(&out), "<a href=\"https://t.test/u/TOKEN\">"));
	/* Nothing left to do: the message comes back as it was. */
	assert_int_equal(raw1("<a href=\"mailto:x@example.com\">m</a>", &o, &out, &res),
			 REWRITE_NOTHING);
	strbuf_free(&out);
	rec_reset();
}

/* test_names - data-link (removed), else host and path */

static void
test_names(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;

	opts_default(&o);
	o.track_opens = 0;
	assert_int_equal(raw1("<a class=b data-link=\"pricing\" href=\"https://Www.Example.com/Price?x=1#f\">p</a>"
			      "<a href=\"https://user@www.example.com:8443/a/b?q=me@example.org\">u</a>"
			      "<a data-link href=\"https://e.test/\">x</a>",
			      &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 3);
	assert_string_equal(rec.name[0], "pricing");
	/* #548: an '@' in the URL is tracked, and the host is after it. */
	assert_string_equal(rec.url[1], "https://user@www.example.com:8443/a/b?q=me@example.org");
	assert_string_equal(rec.name[1], "www.example.com/a/b");
	assert_string_equal(rec.name[2], "e.test/");
	assert_null(strstr(body(&out), "data-link"));
	assert_true(starts(body(&out), "<a class=b href=\"https://t.test/c/0?"));
	strbuf_free(&out);
	rec_reset();
}

/* test_mso - links in Outlook conditional comments */

static void
test_mso(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *in =
	"<div><!--[if mso]><table><tr><td><a href=\"https://mso.test/a?b=1&amp;c=2\">Outlook</a>"
	"</td></tr></table><![endif]--><!--[if !mso]><!--><a href=\"https://web.test/\">web</a>"
	"<!--<![endif]--><!-- <a href=\"https://plain-comment.test/\"> -->"
	"<!--[if mso]><v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" href=\"https://button.test/\""
	" style=\"height:40px\" arcsize=\"10%\"><center>Buy</center></v:roundrect><![endif]--></div>";

	opts_default(&o);
	o.track_opens = 0;
	assert_int_equal(raw1(in, &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 3);
	assert_string_equal(rec.url[0], "https://mso.test/a?b=1&c=2");
	assert_string_equal(rec.url[1], "https://web.test/");
	assert_string_equal(rec.url[2], "https://button.test/");
	assert_non_null(strstr(body(&out), "<v:roundrect xmlns:v=\"urn:schemas-microsoft-com:vml\" "
			       "href=\"https://t.test/c/2?l=x&amp;u=&quot;y&quot;\" style="));
	assert_non_null(strstr(body(&out), "<!--[if mso]><table><tr><td><a href=\"https://t.test/c/0?"));
	assert_non_null(strstr(body(&out), "<!-- <a href=\"https://plain-comment.test/\"> -->"));
	strbuf_free(&out);
	rec_reset();
}

/* evil_cb - a tracker URL that would end the MIME part */

static char *
evil_cb(void *ctx, const char *url, const char *name, int number)
{
	return (mystrdup("https://t.test/c/1\r\n--outer--\r\n"));
}

/* test_bad_callback - a URL with a line break is not used */

static void
test_bad_callback(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;

	opts_default(&o);
	o.track_opens = 0;
	o.link_url = evil_cb;
	assert_int_equal(raw1("<a href=\"https://x.test/\">x</a>", &o, &out, &res), REWRITE_NOTHING);
	assert_int_equal(res.links, 0);
	o.track_text_links = 1;
	assert_int_equal(rewrite_message("Subject: x\n\nhttps://x.test/\n", 27, &o, &out, &res),
			 REWRITE_NOTHING);
	strbuf_free(&out);
	rec_reset();
}

/* test_identity - nothing to rewrite: the same bytes (hash) */

static void
test_identity(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	unsigned char h1[SHA256_DIGEST_LENGTH], h2[SHA256_DIGEST_LENGTH];
	size_t	len;
	char   *html = slurp("foundation-marketing.html", &len);
	char   *msg;

	/* No tracking asked for. */
	opts_default(&o);
	o.track_links = o.track_opens = 0;
	msg = build(html, SHAPE_MIXED, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "utf-8", 1, &len);
	assert_int_equal(rewrite_message(msg, len, &o, &out, &res), REWRITE_NOTHING);
	SHA256((unsigned char *) msg, len, h1);
	SHA256((unsigned char *) out.data, out.len, h2);
	assert_memory_equal(h1, h2, sizeof(h1));
	myfree(msg);
	/* Plain text only (a receipt): no HTML. */
	opts_default(&o);
	msg = "From: shop@example.com\r\nTo: b@sink.test\r\nSubject: receipt\r\n\r\n"
		"Thank you. https://shop.example.com/order/1\r\n";
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_NO_HTML);
	SHA256((unsigned char *) msg, strlen(msg), h1);
	SHA256((unsigned char *) out.data, out.len, h2);
	assert_memory_equal(h1, h2, sizeof(h1));
	strbuf_free(&out);
	myfree(html);
	rec_reset();
}

/* test_refused - size, another domain's DKIM, signed MIME, no header end */

static void
test_refused(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *html = "Content-Type: text/html\n\n<a href=\"https://x.test/\">x</a>\n";
	char   *msg;

	opts_default(&o);
	o.max_size = 40;
	assert_int_equal(rewrite_message(html, strlen(html), &o, &out, &res), REWRITE_TOO_BIG);
	assert_string_equal(strbuf_str(&out), html);

	opts_default(&o);
	msg = myasprintf("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\n"
			 "\td=other.example; s=sel; h=from; bh=x; b=y\n%s", html);
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_DKIM_OTHER);
	assert_string_equal(strbuf_str(&out), msg);
	assert_string_equal(res.detail, "d=other.example");
	/* Our own signer's domain: it signs again after us. */
	o.signing_domains = other_signers;
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	/* No domain of ours: every signature stops the rewrite. */
	o.signing_domains = 0;
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_DKIM_OTHER);
	myfree(msg);

	msg = "Content-Type: multipart/signed; boundary=b; protocol=\"application/pkcs7-signature\"\n\n"
		"--b\nContent-Type: text/html\n\n<a href=\"https://x.test/\">x</a>\n--b--\n";
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_SIGNED);
	assert_string_equal(strbuf_str(&out), msg);
	msg = "Subject: no body\nContent-Type: text/html\n";
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_BAD_MIME);
	assert_string_equal(strbuf_str(&out), msg);
	strbuf_free(&out);
	rec_reset();
}

/* test_honeypot - one hidden link per HTML part with links, signed last */

static void
test_honeypot(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *msg = "Content-Type: multipart/alternative; boundary=b\n\n"
	"--b\nContent-Type: text/html\n\n<html><body><a href=\"https://a.test/1\">1</a>"
	"<a href=\"https://a.test/2\">2</a></body></html>\n"
	"--b\nContent-Type: text/html\n\n<html><body><p>no links</p></body></html>\n--b--\n";
	const char *hp;

	(void) state;
	opts_default(&o);
	o.honeypot_name = "postdrip-honeypot";
	o.honeypot_url = TRACKER "/";
	memset(&res, 0, sizeof(res));
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 2);
	assert_int_equal(res.honeypots, 1);
	assert_int_equal(rec.n, 3);
	assert_string_equal(rec.name[2], "postdrip-honeypot");
	assert_string_equal(rec.url[2], TRACKER "/");
	assert_int_equal(rec.number[2], 3);
	/* Hidden from people, after the real links, before </body>. */
	hp = strstr(strbuf_str(&out), "<a href=\"" TRACKER "/c/2?");
	assert_non_null(hp);
	assert_true(hp > strstr(strbuf_str(&out), TRACKER "/c/1?"));
	assert_non_null(strstr(hp, "style=\"display:none;font-size:0;line-height:0\" "
			       "aria-hidden=\"true\" tabindex=\"-1\"></a><img "));
	assert_true(strstr(hp, "</a><img ") < strstr(hp, "</body>"));
	/* The part without links gets its pixel and no honeypot. */
	assert_null(strstr(strstr(hp, "</a>"), "aria-hidden"));
	rec_reset();
	/* No name: no honeypot. */
	o.honeypot_name = "";
	memset(&res, 0, sizeof(res));
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.honeypots, 0);
	assert_null(strstr(strbuf_str(&out), "aria-hidden"));
	strbuf_free(&out);
	rec_reset();
}

/* test_parts_left - attachments, forwarded messages, text/plain */

static void
test_parts_left(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	const char *msg =
	"From: a@example.com\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	"preamble <a href=\"https://pre.test/\">\n"
	"--outer\n"
	"Content-Type: text/plain\n\n"
	"Read https://text.test/a, or (https://text.test/b).\n"
	"--outer\n"
	"Content-Type: text/html\n\n"
	"<a href=\"https://html.test/\">h</a>\n"
	"--outer\n"
	"Content-Type: text/html; name=x.html\n"
	"Content-Disposition: attachment; filename=x.html\n\n"
	"<a href=\"https://attached.test/\">a</a>\n"
	"--outer\n"
	"Content-Type: message/rfc822\n\n"
	"Subject: fwd\nContent-Type: text/html\n\n<a href=\"https://forwarded.test/\">f</a>\n"
	"--outer--\n"
	"epilogue <a href=\"https://post.test/\">\n";
	const char *p;

	opts_default(&o);
	o.track_opens = 0;
	rec_reset();
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 1);
	assert_string_equal(rec.url[0], "https://html.test/");
	check_rewrite(msg, strlen(msg), out.data, out.len, 0);
	/* Everything but that link, byte for byte. */
	p = strstr(msg, "https://html.test/");
	assert_memory_equal(out.data, msg, p - msg - 1);
	assert_string_equal(strstr(out.data, "\">h</a>\n--outer\n"), strstr(msg, "\">h</a>\n--outer\n"));

	/* Text links only when asked; the sentence's punctuation stays out. */
	o.track_text_links = 1;
	rec_reset();
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 3);
	assert_string_equal(rec.url[0], "https://text.test/a");
	assert_string_equal(rec.url[1], "https://text.test/b");
	assert_non_null(strstr(out.data, "Read https://t.test/c/0?l=x&u=\"y\", or (https://t.test/c/1?l=x&u=\"y\").\n"));
	strbuf_free(&out);
	rec_reset();
}

/* test_encodings - #2675: the encoding header always says what the bytes are */

static void
test_encodings(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	STRBUF	msg = STRBUF_INIT;
	PARTS	ps;
	int	i;

	opts_default(&o);
	/* A 7bit part whose line would pass 998 bytes: quoted-printable. */
	strbuf_puts(&msg, "From: a@example.com\r\nContent-Type: text/html\r\n"
		    "Content-Transfer-Encoding: 7bit\r\n\r\n<p>");
	for (i = 0; i < 30; i++)
		strbuf_puts(&msg, "<a href=\"https://x.test/\">x</a>");
	strbuf_puts(&msg, "</p></body>\r\n");
	assert_int_equal(rewrite_ok(msg.data, msg.len, &o, &out), 30);
	assert_non_null(strstr(out.data, "\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"));
	assert_null(strstr(out.data, "7bit"));
	parts_get(&ps, out.data, out.len);
	assert_string_equal(ps.cte[0], "quoted-printable");
	parts_free(&ps);

	/* No header at all: one is added, the others stay as they were. */
	strbuf_reset(&msg);
	strbuf_puts(&msg, "From: a@example.com\nContent-Type: text/html; charset=utf-8\n\n");
	for (i = 0; i < 20; i++)
		strbuf_puts(&msg, "<a href=\"https://x.test/\">\xc3\xa9</a>");
	strbuf_puts(&msg, "\n");
	assert_int_equal(rewrite_ok(msg.data, msg.len, &o, &out), 20);
	{
		const char *want = "From: a@example.com\nContent-Type: text/html; charset=utf-8\n"
		"Content-Transfer-Encoding: quoted-printable\n\n";

		assert_int_equal(strncmp(out.data, want, strlen(want)), 0);
	}

	/* Short lines in 8bit: kept 8bit. */
	strbuf_reset(&msg);
	strbuf_puts(&msg, "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
		    "<a href=\"https://x.test/\">\xc3\xa9</a>\n");
	assert_int_equal(rewrite_ok(msg.data, msg.len, &o, &out), 1);
	parts_get(&ps, out.data, out.len);
	assert_string_equal(ps.cte[0], "8bit");
	parts_free(&ps);

	/* ISO-8859-1 in base64 stays ISO-8859-1 in base64. */
	strbuf_reset(&msg);
	strbuf_puts(&msg, "Content-Type: text/html; charset=ISO-8859-1\n"
		    "Content-Transfer-Encoding: base64\n\n"
		    "PGEgaHJlZj0iaHR0cHM6Ly94LnRlc3QvZiVFOSI+Q2Fm6TwvYT4K\n");	/* "Caf\xe9" */
	assert_int_equal(rewrite_ok(msg.data, msg.len, &o, &out), 1);
	parts_get(&ps, out.data, out.len);
	assert_string_equal(ps.cte[0], "base64");
	assert_non_null(strstr(ps.content[0].data, "Caf\xc3\xa9</a>"));
	parts_free(&ps);
	assert_non_null(strstr(out.data, "charset=ISO-8859-1\nContent-Transfer-Encoding: base64\n\n"));

	/* A line of text that would read as a boundary stays encoded. */
	strbuf_reset(&msg);
	strbuf_puts(&msg, "Content-Type: multipart/alternative; boundary=b\n\n--b\n"
		    "Content-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n"
		    "<p>\n=2D-b\n=2D-b--\n</p><a href=3D\"https://x.test/\">x</a>\n"
		    "--b\nContent-Type: text/plain\n\nafter\n--b--\n");
	assert_int_equal(rewrite_ok(msg.data, msg.len, &o, &out), 1);
	assert_non_null(strstr(out.data, "\n=2D-b\n=2D-b--\n"));

	/* A charset iconv does not know: left alone, and said why. */
	strbuf_reset(&msg);
	strbuf_puts(&msg, "Content-Type: text/html; charset=x-unknown-42\n\n<a href=\"https://x.test/\">x</a>\n");
	assert_int_equal(rewrite_message(msg.data, msg.len, &o, &out, &res), REWRITE_NOTHING);
	assert_int_equal(res.skipped_parts, 1);
	strbuf_free(&out);
	strbuf_free(&msg);
	rec_reset();
}

/* test_broken - broken HTML, unterminated MIME, very long lines */

static void
test_broken(void **state)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	STRBUF	out = STRBUF_INIT;
	STRBUF	html = STRBUF_INIT;
	size_t	len;
	char   *msg;
	int	i;

	opts_default(&o);
	o.track_opens = 0;
	assert_int_equal(raw1("<table><tr><td><a href=\"https://a.test/\"><b>unclosed<td>"
			      "<a href='https://b.test/'</a><a href=\"https://c.test/\">x"
			      "</div></span><a href=\"https://d.test/", &o, &out, &res), REWRITE_OK);
	/* The last one is inside a tag cut by the end: no element. */
	assert_int_equal(res.links, 3);
	/* An unclosed link is cloned by the parser after </p>: one link still. */
	rec_reset();
	assert_int_equal(raw1("<p><a href=\"https://open.test/a\">x</p><img src=\"i.png\">"
			      "<b>y</b></body>", &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 1);
	assert_int_equal(rec.n, 1);
	/* 200 KB on one line, links spread over it. */
	for (i = 0; i < 2000; i++)
		strbuf_printf(&html, "<span>%d</span><a href=\"https://long.test/%d?x=1&amp;y=2\">l</a>"
			      "<em>.........................................................</em>", i, i);
	for (i = 0; i < 2; i++) {
		msg = build(html.data, i ? SHAPE_ALT : SHAPE_SINGLE,
			    i ? GMIME_CONTENT_ENCODING_BASE64 : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
			    "utf-8", i, &len);
		assert_int_equal(rewrite_ok(msg, len, &o, &out), 2000);
		myfree(msg);
	}
	/* A nested multipart that reuses the outer boundary: left alone. */
	msg = "Content-Type: multipart/mixed; boundary=m\n\n--m\n"
		"Content-Type: multipart/alternative; boundary=m\n\n--m\n"
		"Content-Type: text/html\n\n<a href=\"https://x.test/\">x</a>\n--m--\n--m--\n";
	rec_reset();
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_BAD_MIME);
	assert_string_equal(strbuf_str(&out), msg);
	assert_int_equal(rec.n, 0);
	/* Or a prefix of it, in a part with no blank line after its header. */
	msg = "Content-Type: multipart/mixed; boundary=mm\n\n--mm\n"
		"Content-Type: multipart/alternative; boundary=m\n--mm\n"
		"Content-Type: text/html\n\n<a href=\"https://x.test/\">x</a>\n--mm--\n";
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_BAD_MIME);
	assert_int_equal(rec.n, 0);
	/* An unterminated multipart: the last part runs to the end. */
	msg = "Content-Type: multipart/alternative; boundary=zz\n\n--zz\n"
		"Content-Type: text/html\n\n<a href=\"https://u.test/\">u</a>\n";
	assert_int_equal(rewrite_message(msg, strlen(msg), &o, &out, &res), REWRITE_OK);
	assert_int_equal(res.links, 1);
	strbuf_free(&html);
	strbuf_free(&out);
	rec_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_kept),
		cmocka_unit_test(test_pixel),
		cmocka_unit_test(test_not_tracked),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mso),
		cmocka_unit_test(test_bad_callback),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_honeypot),
		cmocka_unit_test(test_parts_left),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_real_world),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_near),
		cmocka_unit_test(test_threads),
	};

	g_mime_init();
	return (cmocka_run_group_tests(tests, 0, 0));
}
