/*++
/* NAME
/*	rewrite 3
/* SUMMARY
/*	link and open tracking of an outbound message
/* SYNOPSIS
/*	#include "message/rewrite.h"
/*
/*	int	rewrite_message(msg, len, opts, out, res)
/*	const char *msg;
/*	size_t	len;
/*	const REWRITE_OPTS *opts;
/*	STRBUF	*out;
/*	REWRITE_RESULT *res;
/*
/*	const char *rewrite_strstatus(status)
/*	int	status;
/* DESCRIPTION
/*	rewrite_message() walks the MIME structure of a whole message on
/*	its bytes and rewrites, in every text/html part that is not an
/*	attachment, the links that may be tracked (rewrite_html(3)) and
/*	adds an open pixel and, with opts->honeypot_name, a hidden link
/*	(a honeypot: no text, display:none, aria-hidden, out of the tab
/*	order) that only a machine following every href clicks, signed
/*	for opts->honeypot_url under that name; with
/*	opts->track_text_links, also the bare
/*	URLs of text/plain parts. Tracker URLs come from the caller's
/*	callbacks, so this module knows nothing of tokens or the store.
/*
/*	Only the bodies of the parts it changes are new. The headers, the
/*	MIME preamble and epilogue, the boundaries and every other part
/*	are copied byte for byte, and a message with nothing to change
/*	comes back identical. A changed part is decoded (quoted-printable,
/*	base64) and converted from its charset to UTF-8 for the HTML
/*	parser, then converted back and encoded again with its own
/*	Content-Transfer-Encoding, so that the header always says what
/*	the bytes are. A 7bit, 8bit or binary part whose lines would
/*	exceed 998 bytes, or a 7bit one with 8-bit bytes, becomes
/*	quoted-printable, and its Content-Transfer-Encoding field (added if
/*	missing) says so: that is the only header that may change.
/*
/*	Left alone, with the reason as result: a message over
/*	opts->max_size (REWRITE_TOO_BIG), one with a DKIM-Signature whose
/*	d= is none of opts->signing_domains (REWRITE_DKIM_OTHER: the
/*	rewrite would break a signature nobody here makes again; a
/*	signature of our own domain is made again after us, by the signer
/*	that follows postdrip-milter), a multipart/signed or multipart/encrypted
/*	message (REWRITE_SIGNED), one with no HTML part to rewrite
/*	(REWRITE_NO_HTML), one without a blank line after its header
/*	or with a nested multipart whose boundary is an outer one's or a
/*	prefix of it, or the other way round (RFC 2046 forbids it, and
/*	readers disagree on where its parts end) (REWRITE_BAD_MIME), and
/*	one where nothing was to be tracked
/*	(REWRITE_NOTHING). Inside a message, attachments (Content-
/*	Disposition: attachment), message/* parts (a forwarded message is
/*	someone else's), signed or encrypted multiparts, parts nested
/*	deeper than REWRITE_DEPTH_MAX, parts in an unknown transfer
/*	encoding, and parts whose charset does not convert to UTF-8 and
/*	back to the same bytes, are copied as they are.
/* DIAGNOSTICS
/*	None: rewrite_message() never logs and never fails; res says what
/*	it did, res->detail why it did not (for the caller's log line).
/* SEE ALSO
/*	rewrite_html(3), postdrip-tracking(7)
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/rewrite.h"
#include "message/rewrite_int.h"

#define REWRITE_DEPTH_MAX	32
#define REWRITE_BOUNDARY_MAX	200	/* RFC 2046: 70; longer is no boundary */
#define REWRITE_LINE_MAX	998	/* RFC 5322 2.1.1, without CRLF */
#define REWRITE_ENC_LINE	76	/* base64 and quoted-printable lines */

typedef enum {
	CTE_7BIT, CTE_8BIT, CTE_BINARY, CTE_QP, CTE_BASE64, CTE_OTHER
} CTE;

/* One entity: its header block and body, as ranges of the message. */
typedef struct PART {
	const char *hdr;		/* header fields, without the blank line */
	size_t	hdr_len;
	const char *sep;		/* the blank line (may be empty) */
	size_t	sep_len;
	const char *body;
	size_t	body_len;
	char	type[64];		/* "text/html", lower case */
	char   *boundary;
	char   *charset;
	int	attachment;
	CTE	cte;
	const char *cte_field;		/* the whole field, continuation lines
					 * and line end included; or null */
	size_t	cte_field_len;
	const char *dkim_other;		/* first foreign DKIM d= seen (owned) */
} PART;

typedef struct WALK {
	REWRITE_STATE st;
	const char *eol;		/* "\r\n" or "\n", as the message has */
	int	html_parts;		/* candidates seen */
	const char *bound[REWRITE_DEPTH_MAX + 2];	/* open multiparts' */
	int	nbound;
	int	ambiguous;		/* a boundary that an outer one hides */
	int	scan_only;		/* the structure alone: no leaf touched */
} WALK;

static pthread_once_t rewrite_once = PTHREAD_ONCE_INIT;

/* rewrite_init - GMime (header value parsers, charset names) */

static void
rewrite_init(void)
{
	g_mime_init();
}

/* rewrite_strstatus - a word for the log */

const char *
rewrite_strstatus(int status)
{
	switch (status) {
	case REWRITE_OK:
		return ("rewritten");
	case REWRITE_NOTHING:
		return ("nothing-to-track");
	case REWRITE_TOO_BIG:
		return ("too-big");
	case REWRITE_DKIM_OTHER:
		return ("dkim-signed-by-other-domain");
	case REWRITE_NO_HTML:
		return ("no-html");
	case REWRITE_BAD_MIME:
		return ("malformed-mime");
	case REWRITE_SIGNED:
		return ("mime-signed-or-encrypted");
	default:
		return ("unknown");
	}
}

/* line_end - end of the line at p (after its LF), or stop */

static const char *
line_end(const char *p, const char *stop)
{
	const char *nl = memchr(p, '\n', stop - p);

	return (nl ? nl + 1 : stop);
}

/* unfold - a field's value on one line, without CR and LF */

static char *
unfold(const char *v, size_t len)
{
	char   *s = mymalloc(len + 1);
	size_t	i, n = 0;

	for (i = 0; i < len; i++)
		if (v[i] != '\r' && v[i] != '\n')
			s[n++] = v[i] ? v[i] : ' ';
	s[n] = 0;
	return (s);
}

/* dkim_domain - the d= tag of a DKIM-Signature value (owned) */

static char *
dkim_domain(const char *val)
{
	const char *p = val;

	while (*p) {
		const char *semi = strchr(p, ';');
		const char *end = semi ? semi : p + strlen(p);
		const char *eq;

		while (p < end && isspace((unsigned char) *p))
			p++;
		eq = memchr(p, '=', end - p);
		if (eq) {
			const char *t = eq;

			while (t > p && isspace((unsigned char) t[-1]))
				t--;
			if (t - p == 1 && (*p == 'd' || *p == 'D')) {
				const char *v = eq + 1;
				const char *ve = end;

				while (v < ve && isspace((unsigned char) *v))
					v++;
				while (ve > v && isspace((unsigned char) ve[-1]))
					ve--;
				return (mystrndup(v, ve - v));
			}
		}
		if (semi == 0)
			break;
		p = semi + 1;
	}
	return (mystrdup(""));
}

/*
 * What GMime makes of a Content-Type value, kept for the values seen
 * last: a sender that splits one message per recipient sends the same
 * few values again and again, and parsing one builds several GObjects.
 */
#define CTYPE_CACHE_SLOTS	16
#define CTYPE_CACHE_VALUE_MAX	512

typedef struct CTYPE_SLOT {
	char   *value;			/* the unfolded field value; 0: empty */
	char	type[64];
	char   *boundary;
	char   *charset;
	unsigned long used;
} CTYPE_SLOT;

static CTYPE_SLOT ctype_cache[CTYPE_CACHE_SLOTS];
static unsigned long ctype_clock;
static pthread_mutex_t ctype_lock = PTHREAD_MUTEX_INITIALIZER;

/* ctype_set - fill the part's type, boundary and charset */

static void
ctype_set(PART *pt, const char *type, const char *boundary, const char *charset)
{
	snprintf(pt->type, sizeof(pt->type), "%s", type);
	myfree(pt->boundary);
	pt->boundary = boundary ? mystrdup(boundary) : 0;
	myfree(pt->charset);
	pt->charset = charset ? mystrdup(charset) : 0;
}

/* ctype_parse - a Content-Type value, by GMime or from the cache */

static void
ctype_parse(PART *pt, const char *val)
{
	GMimeContentType *ct;
	const char *t, *s, *b, *c;
	CTYPE_SLOT *sl, *victim = 0;
	char	type[64];
	size_t	i;

	pthread_mutex_lock(&ctype_lock);
	for (i = 0; i < CTYPE_CACHE_SLOTS; i++) {
		sl = ctype_cache + i;
		if (sl->value && strcmp(sl->value, val) == 0) {
			sl->used = ++ctype_clock;
			ctype_set(pt, sl->type, sl->boundary, sl->charset);
			pthread_mutex_unlock(&ctype_lock);
			return;
		}
	}
	pthread_mutex_unlock(&ctype_lock);

	ct = g_mime_content_type_parse(NULL, val);
	t = g_mime_content_type_get_media_type(ct);
	s = g_mime_content_type_get_media_subtype(ct);
	b = g_mime_content_type_get_parameter(ct, "boundary");
	c = g_mime_content_type_get_parameter(ct, "charset");
	snprintf(type, sizeof(type), "%s/%s", t ? t : "", s ? s : "");
	for (i = 0; type[i]; i++)
		type[i] = tolower((unsigned char) type[i]);
	b = b && *b ? b : 0;
	c = c && *c ? c : 0;
	ctype_set(pt, type, b, c);

	if (strlen(val) <= CTYPE_CACHE_VALUE_MAX) {
		pthread_mutex_lock(&ctype_lock);
		for (i = 0; i < CTYPE_CACHE_SLOTS; i++) {
			sl = ctype_cache + i;
			if (victim == 0 || sl->used < victim->used)
				victim = sl;
		}
		myfree(victim->value);
		myfree(victim->boundary);
		myfree(victim->charset);
		victim->value = mystrdup(val);
		memcpy(victim->type, type, sizeof(type));
		victim->boundary = b ? mystrdup(b) : 0;
		victim->charset = c ? mystrdup(c) : 0;
		victim->used = ++ctype_clock;
		pthread_mutex_unlock(&ctype_lock);
	}
	g_object_unref(ct);
}

/* part_field - interpret one header field */

static void
part_field(PART *pt, const char *f, size_t flen, int top,
	           const char *const *signers)
{
	const char *colon = memchr(f, ':', flen);
	size_t	nlen;
	char   *val;

	if (colon == 0)
		return;
	nlen = colon - f;
	while (nlen > 0 && (f[nlen - 1] == ' ' || f[nlen - 1] == '\t'))
		nlen--;
	val = unfold(colon + 1, f + flen - colon - 1);
#define NAME_IS(s) (nlen == sizeof(s) - 1 && strncasecmp(f, s, nlen) == 0)
	if (NAME_IS("Content-Type")) {
		ctype_parse(pt, val);
	} else if (NAME_IS("Content-Transfer-Encoding")) {
		char   *v = val;
		size_t	vl;

		while (isspace((unsigned char) *v))
			v++;
		vl = strcspn(v, " \t(;");
		if (vl == 4 && strncasecmp(v, "7bit", 4) == 0)
			pt->cte = CTE_7BIT;
		else if (vl == 4 && strncasecmp(v, "8bit", 4) == 0)
			pt->cte = CTE_8BIT;
		else if (vl == 6 && strncasecmp(v, "binary", 6) == 0)
			pt->cte = CTE_BINARY;
		else if (vl == 16 && strncasecmp(v, "quoted-printable", 16) == 0)
			pt->cte = CTE_QP;
		else if (vl == 6 && strncasecmp(v, "base64", 6) == 0)
			pt->cte = CTE_BASE64;
		else
			pt->cte = CTE_OTHER;
		pt->cte_field = f;
		pt->cte_field_len = flen;
	} else if (NAME_IS("Content-Disposition")) {
		GMimeContentDisposition *cd = g_mime_content_disposition_parse(NULL, val);

		pt->attachment = g_mime_content_disposition_is_attachment(cd);
		g_object_unref(cd);
	} else if (top && NAME_IS("DKIM-Signature") && pt->dkim_other == 0) {
		char   *d = dkim_domain(val);
		const char *const *sp;

		for (sp = signers; sp && *sp; sp++)
			if (strcasecmp(d, *sp) == 0)
				break;
		if (sp == 0 || *sp == 0)
			pt->dkim_other = d;
		else
			myfree(d);
	}
	myfree(val);
}

/*
 * part_parse - split an entity into header and body and read the fields
 * that matter. Returns 0 when there is no blank line after the header
 * (the whole entity is then header, with an empty body).
 */

static int
part_parse(PART *pt, const char *p, size_t len, int top,
	           const char *const *signers)
{
	const char *stop = p + len;
	const char *line = p;
	const char *field = 0;
	int	found = 0;

	memset(pt, 0, sizeof(*pt));
	strcpy(pt->type, "text/plain");		/* RFC 2045 5.2 */
	pt->cte = CTE_7BIT;
	pt->hdr = p;
	while (line < stop) {
		const char *next = line_end(line, stop);

		if (*line == '\n' || (*line == '\r' && line + 1 < stop && line[1] == '\n')) {
			found = 1;
			pt->sep = line;
			pt->sep_len = next - line;
			break;
		}
		if (*line != ' ' && *line != '\t') {
			if (field)
				part_field(pt, field, line - field, top, signers);
			field = line;
		}
		line = next;
	}
	if (field)
		part_field(pt, field, line - field, top, signers);
	pt->hdr_len = line - p;
	if (!found) {
		pt->sep = pt->body = stop;
		return (0);
	}
	pt->body = pt->sep + pt->sep_len;
	pt->body_len = stop - pt->body;
	return (1);
}

/* part_free - release what part_parse() allocated */

static void
part_free(PART *pt)
{
	myfree(pt->boundary);
	myfree(pt->charset);
	myfree((char *) pt->dkim_other);
}

/* qp_decode - lenient: a bad escape stays as it is */

static void
qp_decode(const char *in, size_t len, STRBUF *out)
{
	const char *p = in;
	const char *stop = in + len;
	char   *w;

	/* Never longer than the input: written in place. */
	strbuf_reserve(out, len);
	w = out->data + out->len;
	while (p < stop) {
		const char *nl = memchr(p, '\n', stop - p);
		const char *eol = nl ? nl : stop;
		const char *q;
		int	soft = 0;

		if (eol > p && nl && eol[-1] == '\r')
			eol--;
		/* Trailing white space was added in transport (RFC 2045 6.7). */
		while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t'))
			eol--;
		if (eol > p && eol[-1] == '=' && nl) {
			soft = 1;
			eol--;
		}
		for (q = p; q < eol; q++) {
			int	hi, lo;

			if (*q == '=' && q + 2 < eol
			    && (hi = g_ascii_xdigit_value(q[1])) >= 0
			    && (lo = g_ascii_xdigit_value(q[2])) >= 0) {
				*w++ = hi * 16 + lo;
				q += 2;
			} else
				*w++ = *q;
		}
		if (nl && !soft) {
			if (nl > p && nl[-1] == '\r')
				*w++ = '\r';
			*w++ = '\n';
		}
		p = nl ? nl + 1 : stop;
	}
	out->len = w - out->data;
	out->data[out->len] = 0;
}

/* qp_encode - quoted-printable, lines of at most 76, line ends eol */

static void
qp_encode(const char *in, size_t len, const char *eol, STRBUF *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	elen = strlen(eol);
	size_t	i = 0;
	char   *w;

	/*
	 * At most three bytes out for one in, plus a soft break ("=" and a
	 * line end) per 25 input bytes at worst, plus the last line end.
	 */
	strbuf_reserve(out, 3 * len + (len / 25 + 2) * (elen + 1));
	w = out->data + out->len;
	while (i < len) {
		size_t	end = i;
		size_t	next;
		size_t	col = 0;

		while (end < len && in[end] != '\n')
			end++;
		next = end < len ? end + 1 : end;
		if (end < len && end > i && in[end - 1] == '\r')
			end--;
		for (; i < end; i++) {
			unsigned char c = in[i];
			int	last = (i + 1 == end);
			int	lit = (c >= 33 && c <= 126 && c != '=')
			|| ((c == ' ' || c == '\t') && !last);

			/* Room for a soft break "=" unless this ends the line. */
			if (col + (lit ? 1 : 3) > (last ? REWRITE_ENC_LINE : REWRITE_ENC_LINE - 1)) {
				*w++ = '=';
				memcpy(w, eol, elen);
				w += elen;
				col = 0;
			}

			/*
			 * A '-' that starts a line is encoded, so that no line
			 * of ours can read as a MIME boundary (RFC 2046 5.1.1).
			 */
			if (c == '-' && col == 0)
				lit = 0;
			if (lit) {
				*w++ = c;
				col += 1;
			} else {
				*w++ = '=';
				*w++ = hex[c >> 4];
				*w++ = hex[c & 15];
				col += 3;
			}
		}
		if (next > end) {
			memcpy(w, eol, elen);
			w += elen;
		}
		i = next;
	}
	out->len = w - out->data;
	out->data[out->len] = 0;
}

/* b64_decode - lenient: anything outside the alphabet is skipped */

static void
b64_decode(const char *in, size_t len, STRBUF *out)
{
	unsigned acc = 0;
	int	bits = 0;
	size_t	i;
	char   *w;

	/* Three bytes out for four in, at most. */
	strbuf_reserve(out, len / 4 * 3 + 3);
	w = out->data + out->len;
	for (i = 0; i < len; i++) {
		int	c = (unsigned char) in[i];
		int	v;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else if (c == '=')
			break;
		else
			continue;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*w++ = (acc >> bits) & 0xff;
		}
	}
	out->len = w - out->data;
	out->data[out->len] = 0;
}

/* b64_encode - lines of 76, separated by eol, none after the last */

static void
b64_encode(const unsigned char *in, size_t len, const char *eol, STRBUF *out)
{
	static const char tab[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t	i;
	size_t	col = 0;

	for (i = 0; i < len; i += 3) {
		unsigned v = in[i] << 16;
		char	q[4];

		if (i + 1 < len)
			v |= in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		q[0] = tab[(v >> 18) & 63];
		q[1] = tab[(v >> 12) & 63];
		q[2] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? tab[v & 63] : '=';
		if (col == REWRITE_ENC_LINE) {
			strbuf_puts(out, eol);
			col = 0;
		}
		strbuf_append(out, q, 4);
		col += 4;
	}
}

/* charset_plain - UTF-8 or ASCII: no conversion needed */

static int
charset_plain(const char *cs)
{
	return (cs == 0 || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0
		|| strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0);
}

/* convert - whole-buffer iconv; -1 on anything not convertible */

static int
convert(const char *to, const char *from, const char *in, size_t len, STRBUF *out)
{
	iconv_t cd = g_mime_iconv_open(to, from);
	char   *ip = (char *) in;
	size_t	il = len;
	int	ret = 0;

	if (cd == (iconv_t) - 1)
		return (-1);
	strbuf_reset(out);
	for (;;) {
		size_t	room = il * 2 + 64;
		char   *op;
		size_t	ol = room;
		size_t	r;

		strbuf_reserve(out, room);
		op = out->data + out->len;
		r = iconv(cd, il ? &ip : 0, il ? &il : 0, &op, &ol);
		out->len += room - ol;
		out->data[out->len] = 0;
		if (r != (size_t) - 1) {
			if (il == 0)
				break;
			continue;
		}
		if (errno != E2BIG) {
			ret = -1;
			break;
		}
	}
	/* Flush the shift state of stateful encodings (ISO-2022-JP). */
	if (ret == 0) {
		char	tail[16];
		char   *op = tail;
		size_t	ol = sizeof(tail);

		if (iconv(cd, 0, 0, &op, &ol) == (size_t) - 1)
			ret = -1;
		else
			strbuf_append(out, tail, sizeof(tail) - ol);
	}
	g_mime_iconv_close(cd);
	return (ret);
}

/* lines_fit - no line over 998 bytes; ascii: no 8-bit byte or NUL */

static int
lines_fit(const char *p, size_t len, int ascii)
{
	const char *end = p + len;
	const char *q;
	size_t	i;

	/*
	 * Whole words first (this runs over every rewritten part, and a
	 * byte-at-a-time loop was the walk's largest cost): no NUL at all,
	 * and for 7bit no byte with the high bit set.
	 */
	if (memchr(p, 0, len) != 0)
		return (0);
	if (ascii) {
		for (i = 0; i + 8 <= len; i += 8) {
			uint64_t w;

			memcpy(&w, p + i, 8);
			if (w & 0x8080808080808080ULL)
				return (0);
		}
		for (; i < len; i++)
			if ((unsigned char) p[i] >= 0x80)
				return (0);
	}
	/* Then line lengths; carriage returns do not count. */
	for (; p < end; p = q + 1) {
		size_t	col = 0;

		if ((q = memchr(p, '\n', end - p)) == 0)
			q = end;
		if ((size_t) (q - p) <= REWRITE_LINE_MAX)
			continue;
		for (i = 0; p + i < q; i++)
			if (p[i] != '\r' && ++col > REWRITE_LINE_MAX)
				return (0);
	}
	return (1);
}

/* put_header - the header block, with the CTE field replaced if asked */

static void
put_header(const PART *pt, const char *new_cte, const char *eol, STRBUF *out)
{
	if (new_cte == 0) {
		strbuf_append(out, pt->hdr, pt->hdr_len);
	} else if (pt->cte_field) {
		strbuf_append(out, pt->hdr, pt->cte_field - pt->hdr);
		strbuf_printf(out, "Content-Transfer-Encoding: %s%s", new_cte, eol);
		strbuf_append(out, pt->cte_field + pt->cte_field_len,
			      pt->hdr + pt->hdr_len - (pt->cte_field + pt->cte_field_len));
	} else {
		strbuf_append(out, pt->hdr, pt->hdr_len);
		/* A last field without a line end would swallow ours. */
		if (pt->hdr_len > 0 && pt->hdr[pt->hdr_len - 1] != '\n')
			strbuf_puts(out, eol);
		strbuf_printf(out, "Content-Transfer-Encoding: %s%s", new_cte, eol);
	}
	strbuf_append(out, pt->sep, pt->sep_len);
}

/*
 * walk_leaf - a text part: decode, rewrite, encode. Appends the entity
 * to out and returns 1 when it changed, else appends nothing, returns 0.
 */

static int
walk_leaf(WALK *w, const PART *pt, int html, int top, STRBUF *out)
{
	STRBUF	raw = STRBUF_INIT;
	STRBUF	utf = STRBUF_INIT;
	STRBUF	edited = STRBUF_INIT;
	STRBUF	back = STRBUF_INIT;
	STRBUF *doc;
	STRBUF *result;
	const char *new_cte = 0;
	int	changed = 0;
	int	number = w->st.number;
	REWRITE_RESULT saved = *w->st.res;

	switch (pt->cte) {
	case CTE_QP:
		qp_decode(pt->body, pt->body_len, &raw);
		break;
	case CTE_BASE64:
		b64_decode(pt->body, pt->body_len, &raw);
		break;
	case CTE_OTHER:
		w->st.res->skipped_parts++;
		return (0);
	default:
		strbuf_append(&raw, pt->body, pt->body_len);
		break;
	}
	doc = &raw;
	if (!charset_plain(pt->charset)) {
		/* Only a charset that comes back to the same bytes is safe. */
		if (convert("UTF-8", pt->charset, raw.data, raw.len, &utf) < 0
		    || convert(pt->charset, "UTF-8", utf.data, utf.len, &back) < 0
		    || back.len != raw.len || memcmp(back.data, raw.data, raw.len) != 0) {
			w->st.res->skipped_parts++;
			goto done;
		}
		doc = &utf;
	}
	if ((html ? rewrite_html(&w->st, strbuf_str(doc), doc->len, &edited)
	     : rewrite_text(&w->st, strbuf_str(doc), doc->len, &edited)) == 0)
		goto done;
	result = &edited;
	if (doc == &utf) {
		if (convert(pt->charset, "UTF-8", edited.data, edited.len, &back) < 0) {
			/* Cannot happen for ASCII edits; undo this part's count. */
			*w->st.res = saved;
			w->st.number = number;
			w->st.res->skipped_parts++;
			goto done;
		}
		result = &back;
	}
	changed = 1;
	switch (pt->cte) {
	case CTE_QP:
		put_header(pt, 0, w->eol, out);
		qp_encode(result->data, result->len, w->eol, out);
		break;
	case CTE_BASE64:
		put_header(pt, 0, w->eol, out);
		b64_encode((unsigned char *) result->data, result->len, w->eol, out);
		/* Keep what followed the last base64 line (its line end). */
		if (pt->body_len > 0 && pt->body[pt->body_len - 1] == '\n')
			strbuf_puts(out, w->eol);
		break;
	default:
		if (lines_fit(result->data, result->len, pt->cte == CTE_7BIT)) {
			put_header(pt, 0, w->eol, out);
			strbuf_append(out, result->data, result->len);
		} else {
			new_cte = "quoted-printable";
			put_header(pt, new_cte, w->eol, out);
			qp_encode(result->data, result->len, w->eol, out);
			if (top)
				w->st.res->header_changed = 1;
		}
		break;
	}
	w->st.res->parts++;
done:
	strbuf_free(&raw);
	strbuf_free(&utf);
	strbuf_free(&edited);
	strbuf_free(&back);
	return (changed);
}

static int walk_entity(WALK *, const char *, size_t, int, STRBUF *);

/* delimiter - is the line at p "--boundary" or "--boundary--" */

static int
delimiter(const char *p, const char *stop, const char *b, size_t blen, int *close)
{
	const char *q;

	if (stop - p < (long) blen + 2 || p[0] != '-' || p[1] != '-'
	    || memcmp(p + 2, b, blen) != 0)
		return (0);
	q = p + 2 + blen;
	*close = (stop - q >= 2 && q[0] == '-' && q[1] == '-');
	if (*close)
		q += 2;
	/*
	 * Transport padding only (RFC 2046 5.1.1); carriage returns too, as
	 * GMime reads them, so that both see the same parts.
	 */
	while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r'))
		q++;
	return (q == stop || *q == '\n');
}

/* walk_multipart - each body part in turn; the rest is copied */

static int
walk_multipart(WALK *w, const PART *pt, int depth, STRBUF *out)
{
	const char *p = pt->body;
	const char *stop = pt->body + pt->body_len;
	const char *copied = pt->body;	/* input up to here is in out */
	const char *part = 0;		/* current body part, if any */
	size_t	blen = strlen(pt->boundary);
	size_t	mark = out->len;
	int	changed = 0;

	strbuf_append(out, pt->hdr, pt->hdr_len);
	strbuf_append(out, pt->sep, pt->sep_len);
	while (p < stop) {
		const char *next = line_end(p, stop);
		int	close;

		if (delimiter(p, stop, pt->boundary, blen, &close)) {
			if (part) {
				/* The line end before a delimiter belongs to it. */
				const char *pend = p;

				if (pend > part && pend[-1] == '\n')
					pend--;
				if (pend > part && pend[-1] == '\r')
					pend--;
				strbuf_append(out, copied, part - copied);
				if (walk_entity(w, part, pend - part, depth + 1, out))
					changed = 1;
				else
					strbuf_append(out, part, pend - part);
				copied = pend;
			}
			part = close ? 0 : next;
			if (close)
				break;
		}
		p = next;
	}
	/* An unterminated last part runs to the end (as GMime reads it). */
	if (part && part < stop) {
		strbuf_append(out, copied, part - copied);
		if (walk_entity(w, part, stop - part, depth + 1, out))
			changed = 1;
		else
			strbuf_append(out, part, stop - part);
		copied = stop;
	}
	strbuf_append(out, copied, stop - copied);
	if (!changed)
		strbuf_truncate(out, mark);
	return (changed);
}

/*
 * boundary_clash - a nested multipart whose boundary is an outer one's, or
 * a prefix of it or the other way round (RFC 2046 5.1.2 forbids it): where
 * its parts end depends on the reader, and a reader that disagrees with
 * this walk would see other parts than the ones rewritten.
 */
static int
boundary_clash(const WALK *w, const char *b)
{
	size_t	blen = strlen(b);
	int	i;

	for (i = 0; i < w->nbound; i++) {
		size_t	olen = strlen(w->bound[i]);

		if (strncmp(w->bound[i], b, olen < blen ? olen : blen) == 0)
			return (1);
	}
	return (0);
}

/*
 * names_open_boundary - a part without a blank line after its header:
 * does any boundary parameter in it clash with an open multipart's?
 */
static int
names_open_boundary(const WALK *w, const char *p, size_t len)
{
	const char *end = p + len;
	char	b[REWRITE_BOUNDARY_MAX + 1];

	while ((p = memmem(p, end - p, "oundary", 7)) != 0) {
		size_t	n = 0;

		p += 7;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p++ != '=')
			continue;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '"'))
			p++;
		while (p < end && n < REWRITE_BOUNDARY_MAX && *p != '"' && *p != ';'
		       && *p != '\r' && *p != '\n' && *p != ' ' && *p != '\t')
			b[n++] = *p++;
		b[n] = 0;
		if (n > 0 && boundary_clash(w, b))
			return (1);
	}
	return (0);
}

/*
 * walk_entity - one entity of the message. When it changed, appends it
 * (rewritten) to out and returns 1; else appends nothing and returns 0.
 */

static int
walk_entity(WALK *w, const char *p, size_t len, int depth, STRBUF *out)
{
	PART	pt;
	int	changed = 0;
	int	top = (depth == 0);

	if (depth > REWRITE_DEPTH_MAX)
		return (0);
	if (part_parse(&pt, p, len, 0, 0) == 0) {
		part_free(&pt);
		/* Header alone: a reader may still take it for a multipart. */
		if (w->scan_only && names_open_boundary(w, p, len))
			w->ambiguous = 1;
		return (0);
	}
	if (pt.attachment || strncmp(pt.type, "message/", 8) == 0
	    || strcmp(pt.type, "multipart/signed") == 0
	    || strcmp(pt.type, "multipart/encrypted") == 0) {
		 /* someone else's bytes */ ;
	} else if (strncmp(pt.type, "multipart/", 10) == 0) {
		if (pt.boundary && boundary_clash(w, pt.boundary))
			w->ambiguous = 1;
		else if (pt.boundary) {
			w->bound[w->nbound++] = pt.boundary;
			changed = walk_multipart(w, &pt, depth, out);
			w->nbound--;
		}
	} else if (w->scan_only) {
		 /* the structure alone */ ;
	} else if (strcmp(pt.type, "text/html") == 0) {
		w->html_parts++;
		changed = walk_leaf(w, &pt, 1, top, out);
	} else if (strcmp(pt.type, "text/plain") == 0 && w->st.opts->track_text_links) {
		w->html_parts++;
		changed = walk_leaf(w, &pt, 0, top, out);
	}
	part_free(&pt);
	return (changed);
}

/* rewrite_message - the whole message */

int
rewrite_message(const char *msg, size_t len, const REWRITE_OPTS *opts,
		        STRBUF *out, REWRITE_RESULT *res)
{
	WALK	w, scan;
	PART	top;
	const char *nl;
	int	status;

	pthread_once(&rewrite_once, rewrite_init);
	memset(res, 0, sizeof(*res));
	memset(&w, 0, sizeof(w));
	w.st.opts = opts;
	w.st.res = res;
	nl = memchr(msg, '\n', len);
	w.eol = (nl && nl > msg && nl[-1] == '\r') ? "\r\n" : "\n";

	strbuf_reset(out);
	if (opts->max_size > 0 && len > opts->max_size) {
		snprintf(res->detail, sizeof(res->detail), "size=%zu limit=%zu",
			 len, opts->max_size);
		status = REWRITE_TOO_BIG;
		goto unchanged;
	}
	if (part_parse(&top, msg, len, 1, opts->signing_domains) == 0) {
		part_free(&top);
		snprintf(res->detail, sizeof(res->detail), "no end of header");
		status = REWRITE_BAD_MIME;
		goto unchanged;
	}
	res->body_offset = top.body - msg;
	if (top.dkim_other) {
		snprintf(res->detail, sizeof(res->detail), "d=%.100s", top.dkim_other);
		part_free(&top);
		status = REWRITE_DKIM_OTHER;
		goto unchanged;
	}
	if (strcmp(top.type, "multipart/signed") == 0
	    || strcmp(top.type, "multipart/encrypted") == 0) {
		snprintf(res->detail, sizeof(res->detail), "%s", top.type);
		part_free(&top);
		status = REWRITE_SIGNED;
		goto unchanged;
	}
	part_free(&top);

	/*
	 * The structure first: a message readers disagree on stays as it
	 * is, and no link of it reaches opts->link_url (which may record it).
	 */
	memset(&scan, 0, sizeof(scan));
	scan.st = w.st;
	scan.eol = w.eol;
	scan.scan_only = 1;
	(void) walk_entity(&scan, msg, len, 0, out);
	strbuf_reset(out);
	/* Room for the message and its longer links at once, not by doubling. */
	strbuf_reserve(out, len + len / 8 + 4096);
	if (scan.ambiguous) {
		snprintf(res->detail, sizeof(res->detail),
			 "a nested multipart reuses an outer boundary");
		status = REWRITE_BAD_MIME;
		goto unchanged;
	}
	if (walk_entity(&w, msg, len, 0, out)) {
		/* The top header block ends where the body starts. */
		const char *o = out->data;
		const char *e = out->data + out->len;

		while (o < e) {
			const char *n = line_end(o, e);

			if (*o == '\n' || (*o == '\r' && o + 1 < e && o[1] == '\n')) {
				res->body_offset = n - out->data;
				break;
			}
			o = n;
		}
		return (REWRITE_OK);
	}
	strbuf_reset(out);
	status = w.html_parts ? REWRITE_NOTHING : REWRITE_NO_HTML;
	if (res->skipped_parts)
		snprintf(res->detail, sizeof(res->detail), "%d part(s) in a charset or "
			 "encoding that cannot be rewritten", res->skipped_parts);
unchanged:
	strbuf_append(out, msg, len);
	return (status);
}
