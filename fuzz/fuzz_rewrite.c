/*
 * fuzz_rewrite - libFuzzer target for the outbound link rewriter.
 *
 * Any byte string is a possible outbound message. The rewriter must not
 * crash, leak, read out of bounds or loop, and:
 *
 * - a message it does not rewrite comes back byte for byte;
 * - a rewritten one is still MIME with the same leaf parts of the same
 *   types (read by GMime, not by the rewriter's own parser);
 * - every tracked URL in the output maps back to a URL the callback was
 *   given: the output is rewritten again with a callback that records
 *   what it sees, and each of our URLs found there must name an entry
 *   of the first pass, the same number of them as links were tracked.
 *
 * The first input byte chooses options (text links, pixel). Seeds are
 * in fuzz/corpus/rewrite/.
 */
#include "pdconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/rewrite.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX	100000

typedef struct FZ {
	char	marker[40];		/* "https://t.fuzz/c/HASH-", unguessable
					 * by the input */
	int	n;			/* first pass: links given out */
	int	seen;			/* second pass: ours found */
	int	bad;
} FZ;

static char *
fz_link(void *ctx, const char *url, const char *name, int number)
{
	FZ     *fz = ctx;

	if (number != fz->n + 1 || strlen(url) < 8 || name == 0)
		abort();
	return (myasprintf("%s%d?l=a&u=b%%22", fz->marker, fz->n++));
}

static char *
fz_check(void *ctx, const char *url, const char *name, int number)
{
	FZ     *fz = ctx;
	size_t	ml = strlen(fz->marker);
	int	k;

	if (strncmp(url, fz->marker, ml) == 0) {
		if (sscanf(url + ml, "%d", &k) != 1 || k < 0 || k >= fz->n
		    || strcmp(strchr(url + ml, '?') ? strchr(url + ml, '?') : "", "?l=a&u=b%22") != 0)
			fz->bad++;
		fz->seen++;
	}
	return (0);
}

static char *
fz_pixel(void *ctx)
{
	return (mystrdup("https://t.fuzz/o/P"));
}

typedef struct LEAVES {
	int	n;
	STRBUF	types;
} LEAVES;

static void
fz_leaf(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	LEAVES *lv = data;
	char   *t;

	if (!GMIME_IS_PART(obj))
		return;
	t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
	strbuf_printf(&lv->types, "%s;", t);
	g_free(t);
	lv->n++;
}

/* fz_leaves - the leaf parts GMime finds */

static void
fz_leaves(const char *msg, size_t len, LEAVES *lv)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, 0);

	memset(lv, 0, sizeof(*lv));
	if (m) {
		if (GMIME_IS_PART(m->mime_part))
			fz_leaf(0, m->mime_part, lv);
		else if (m->mime_part)
			g_mime_message_foreach(m, fz_leaf, lv);
		g_object_unref(m);
	}
	g_object_unref(p);
	g_object_unref(st);
}

static const char *const fuzz_signers[] = {"example.com", 0};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	static const char *const excl[] = {"excluded.test", 0};
	REWRITE_OPTS o;
	REWRITE_RESULT res, res2;
	STRBUF	out = STRBUF_INIT;
	STRBUF	again = STRBUF_INIT;
	STRBUF	cached = STRBUF_INIT;
	FZ	fz;
	uint64_t h = 1469598103934665603ULL;
	size_t	i;
	int	st, n;

	if (size > FZ_MAX)
		return (0);
	if (!init) {
		g_mime_init();
		init = 1;
	}
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	memset(&fz, 0, sizeof(fz));
	snprintf(fz.marker, sizeof(fz.marker), "https://t.fuzz/c/%016llx-",
		 (unsigned long long) h);

	memset(&o, 0, sizeof(o));
	o.track_links = 1;
	o.track_opens = size > 0 && (data[0] & 1);
	o.track_text_links = size > 0 && (data[0] & 2);
	o.exclude_domains = excl;
	o.tracker_url = "https://t.fuzz";
	o.signing_domains = fuzz_signers;
	o.link_url = fz_link;
	o.pixel_url = fz_pixel;
	o.ctx = &fz;
	/*
	 * First with the plans kept from the inputs before (a near match of
	 * the last one, often), then as a new parse: the same result.
	 */
	st = rewrite_message((const char *) data, size, &o, &cached, &res);
	if (rewrite_strstatus(st) == 0 || res.links != fz.n)
		abort();
	n = fz.n;
	fz.n = 0;
	rewrite_cache_flush();
	if (rewrite_message((const char *) data, size, &o, &out, &res2) != st
	    || fz.n != n || res2.links != res.links || res2.pixels != res.pixels
	    || out.len != cached.len || memcmp(out.data, cached.data, out.len) != 0)
		abort();
	if (st != REWRITE_OK) {
		if (out.len != size || (size && memcmp(out.data, data, size) != 0))
			abort();
	} else {
		LEAVES	a, b;

		fz_leaves((const char *) data, size, &a);
		fz_leaves(out.data, out.len, &b);
		if (a.n != b.n || strcmp(strbuf_str(&a.types), strbuf_str(&b.types)) != 0)
			abort();
		strbuf_free(&a.types);
		strbuf_free(&b.types);

		/* Second pass: every URL of ours names a first-pass entry. */
		o.tracker_url = 0;
		o.track_opens = 0;
		o.link_url = fz_check;
		(void) rewrite_message(out.data, out.len, &o, &again, &res2);
		if (fz.bad || fz.seen != fz.n)
			abort();
	}
	strbuf_free(&out);
	strbuf_free(&again);
	strbuf_free(&cached);
	return (0);
}
