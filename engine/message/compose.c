/*++
/* NAME
/*	compose 3
/* SUMMARY
/*	build a workflow message from a template
/* SYNOPSIS
/*	#include "message/compose.h"
/*
/*	int	compose_message(in, out, err)
/*	const COMPOSE_IN *in;
/*	STRBUF	*out;
/*	char	**err;
/* DESCRIPTION
/*	compose_message() renders the template file in->template_dir/
/*	in->template.tmpl (tmplfile(3)) against in->context and builds an
/*	RFC 5322 message with GMime 3, appended to out.
/*
/*	The message has From (the template's, else in->from_default), To,
/*	Reply-To when the template gives one (in->reply_address instead when
/*	set, keeping the display name of the template's Reply-To; the
/*	template's Reply-To address, else From, is then copied to
/*	in->reply_original), Subject, Date (in->date, UTC),
/*	Message-ID (in->message_id), MIME-Version, X-Postdrip-Workflow and
/*	X-Postdrip-Step (for the milter), and for the marketing stream
/*	List-Unsubscribe (<URL>, <mailto:...>) and List-Unsubscribe-Post:
/*	List-Unsubscribe=One-Click (RFC 8058). Precedence and Auto-Submitted
/*	are never set: marketing mail is not an automatic reply (RFC 3834).
/*
/*	The body is text/plain, or multipart/alternative of text/plain and
/*	text/html when the template has an HTML body, in UTF-8 with
/*	quoted-printable transfer encoding, so that no line is too long for
/*	SMTP whatever the template holds. Header values that are not plain
/*	ASCII are encoded as RFC 2047 "Q" words in UTF-8, folded at 76
/*	columns; display names with specials are quoted; List-Unsubscribe
/*	keeps each URL whole on its own line.
/*
/*	The context seen by the template is in->context with one more
/*	name, unsubscribe_url, when there is an unsubscribe URL. A marketing
/*	message whose rendered text or HTML body does not show that URL gets a
/*	visible unsubscribe line appended (in HTML before </body>), so that
/*	every marketing message carries one. The Preheader, when given, is
/*	put at the start of the HTML body as hidden text.
/*
/*	Output is deterministic: the same input gives the same bytes (the
/*	multipart boundary is derived from the Message-ID), so a step that is
/*	composed again after a crash yields the same message. Lines end in LF,
/*	or CRLF with in->crlf; the injector dot-stuffs for SMTP.
/* SECURITY
/*	A rendered header value that contains CR, LF or NUL is refused, so
/*	that no field of a contact can add a header. Values in the HTML part
/*	are HTML-escaped ({{name}}); addresses are checked before use.
/* DIAGNOSTICS
/*	compose_message() returns 0, or -1 with *err set (the caller frees
/*	it); it never logs. Template problems are "file:line: message".
/* SEE ALSO
/*	template(3), tmplfile(3), postdrip-template(5)
/*--*/

#include "pdconfig.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/strbuf.h"
#include "message/template.h"
#include "message/compose.h"

#define COMPOSE_ADDR_MAX	254
#define COMPOSE_URL_MAX		2048

static pthread_once_t compose_once = PTHREAD_ONCE_INIT;

/* compose_init - GMime wants one initialization per process */

static void
compose_init(void)
{
	g_mime_init();
}

typedef struct COMPOSE_PCTX {
	const TMPLFILE *tf;
	const char *dir;
	int	html;
} COMPOSE_PCTX;

/* compose_partial - partials from the template directory */

static char *
compose_partial(const char *name, void *ctx)
{
	COMPOSE_PCTX *pc = ctx;

	return (tmplfile_partial_get(pc->tf, pc->dir, name, pc->html));
}

/* compose_render - render one part of a template file */

static int
compose_render(const COMPOSE_IN *in, const TMPLFILE *tf, const TEMPLATE *t,
	               json_t *ctx, int html, STRBUF *out, char **err)
{
	COMPOSE_PCTX pc;

	pc.tf = tf;
	pc.dir = in->template_dir ? in->template_dir : ".";
	pc.html = html;
	return (template_render(t, ctx, compose_partial, &pc, html, out, err));
}

/* compose_trim - remove white space at both ends, in place */

static void
compose_trim(STRBUF *sb)
{
	char   *s = sb->data;
	size_t	n = sb->len;
	size_t	lead = 0;

	if (s == 0)
		return;
	while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
		lead++;
	while (n > lead && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	memmove(s, s + lead, n - lead);
	strbuf_truncate(sb, n - lead);
}

/* compose_header_safe - refuse a value that would break the header */

static int
compose_header_safe(const char *file, const char *what, const char *val,
		            size_t len, char **err)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (val[i] == '\r' || val[i] == '\n' || val[i] == 0) {
			*err = myasprintf("%s%s%s: the value contains a %s",
					  file ? file : "", file ? ": " : "", what,
					  val[i] ? "line break" : "NUL byte");
			return (0);
		}
	}
	return (1);
}

/* compose_addr_ok - a plain addr-spec that SMTP will take */

static int
compose_addr_ok(const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *p;

	if (at == 0 || at == addr || at[1] == 0 || strlen(addr) > COMPOSE_ADDR_MAX)
		return (0);
	for (p = addr; *p; p++) {
		if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f
		    || strchr("<>()[],;:\"\\", *p))
			return (0);
		if (*p == '@' && p != at)
			return (0);
	}
	return (at[1] != '.' && at[strlen(at) - 1] != '.');
}

/*
 * compose_mailbox - split "Name <addr>" or "addr". Returns 1 with *name
 * (maybe null) and *addr set, 0 when there is no address at all (an empty
 * value, or a template whose address field was empty), -1 when malformed.
 */
static int
compose_mailbox(const char *text, char **name, char **addr)
{
	const char *s = text;
	const char *e = text + strlen(text);
	const char *lt;
	const char *ns;
	const char *ne;

	*name = *addr = 0;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (s == e)
		return (0);
	if (e[-1] == '>' && (lt = memrchr(s, '<', e - s)) != 0) {
		ns = s;
		ne = lt;
		while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		/* A quoted display name loses its quotes; GMime quotes again. */
		if (ne - ns >= 2 && *ns == '"' && ne[-1] == '"')
			ns++, ne--;
		*addr = mystrndup(lt + 1, e - 1 - (lt + 1));
		if ((*addr)[0] == 0 || strspn(*addr, " \t") == strlen(*addr)) {
			myfree(*addr);
			*addr = 0;
			return (0);
		}
		/* Angle brackets in the name: two addresses, or an attempt at it. */
		if (memchr(ns, '<', ne - ns) || memchr(ns, '>', ne - ns)) {
			myfree(*addr);
			*addr = 0;
			return (-1);
		}
		if (ne > ns)
			*name = mystrndup(ns, ne - ns);
	} else {
		*addr = mystrndup(s, e - s);
	}
	if (!compose_addr_ok(*addr)) {
		myfree(*addr);
		if (*name)
			myfree(*name);
		*name = *addr = 0;
		return (-1);
	}
	return (1);
}

/* compose_url_ok - printable ASCII without space or angle brackets */

static int
compose_url_ok(const char *url)
{
	const char *p;

	if (url == 0 || *url == 0 || strlen(url) > COMPOSE_URL_MAX)
		return (0);
	for (p = url; *p; p++)
		if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f
		    || *p == '<' || *p == '>')
			return (0);
	return (1);
}

/* compose_last_ci - last case-insensitive occurrence of needle */

static char *
compose_last_ci(const char *hay, const char *needle)
{
	char   *found = 0;
	char   *p;

	for (p = strcasestr(hay, needle); p; p = strcasestr(p + 1, needle))
		found = p;
	return (found);
}

/* compose_html_insert - insert text at offset off of an HTML body */

static void
compose_html_insert(STRBUF *html, size_t off, const char *text)
{
	STRBUF	nb = STRBUF_INIT;

	strbuf_append(&nb, strbuf_str(html), off);
	strbuf_puts(&nb, text);
	strbuf_append(&nb, strbuf_str(html) + off, strbuf_len(html) - off);
	strbuf_free(html);
	*html = nb;
}

/* compose_preheader - hidden preview text at the start of the HTML body */

static void
compose_preheader(STRBUF *html, const char *pre, size_t len)
{
	STRBUF	div = STRBUF_INIT;
	const char *body;
	const char *gt;
	size_t	off = 0;

	strbuf_puts(&div, "<div style=\"display:none;max-height:0;overflow:hidden;"
		    "mso-hide:all;\">");
	template_html_escape(&div, pre, len);
	strbuf_puts(&div, "</div>\n");
	if ((body = strcasestr(strbuf_str(html), "<body")) != 0
	    && (gt = strchr(body, '>')) != 0) {
		off = gt + 1 - strbuf_str(html);
		if (strbuf_str(html)[off] == '\n')
			off++;
	}
	compose_html_insert(html, off, strbuf_str(&div));
	strbuf_free(&div);
}

/* compose_unsub_html - the visible unsubscribe line of the HTML body */

static void
compose_unsub_html(STRBUF *html, const char *url)
{
	STRBUF	line = STRBUF_INIT;
	STRBUF	esc = STRBUF_INIT;
	const char *end;
	size_t	off;

	template_html_escape(&esc, url, strlen(url));
	if (strstr(strbuf_str(html), url) || strstr(strbuf_str(html), strbuf_str(&esc))) {
		strbuf_free(&esc);
		return;
	}
	strbuf_printf(&line, "<p style=\"font-size:12px;color:#666666;\">"
		      "If you no longer wish to receive these emails, "
		      "<a href=\"%s\">unsubscribe</a>.</p>\n", strbuf_str(&esc));
	if ((end = compose_last_ci(strbuf_str(html), "</body")) != 0) {
		off = end - strbuf_str(html);
	} else {
		off = strbuf_len(html);
		if (off && strbuf_str(html)[off - 1] != '\n')
			compose_html_insert(html, off++, "\n");
	}
	compose_html_insert(html, off, strbuf_str(&line));
	strbuf_free(&line);
	strbuf_free(&esc);
}

/* compose_unsub_text - the visible unsubscribe line of the text body */

static void
compose_unsub_text(STRBUF *text, const char *url)
{
	if (strstr(strbuf_str(text), url))
		return;
	if (strbuf_len(text) && strbuf_str(text)[strbuf_len(text) - 1] != '\n')
		strbuf_putc(text, '\n');
	strbuf_printf(text, "\n--\nTo unsubscribe: %s\n", url);
}

/* compose_text_part - a UTF-8 quoted-printable text part */

static GMimeObject *
compose_text_part(const char *subtype, const char *text)
{
	GMimeTextPart *tp = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *st;
	GMimeDataWrapper *dw;

	/*
	 * Not g_mime_text_part_set_text(): it converts to the "best" charset
	 * (Latin-1 for most European text). Templates and JSON are UTF-8, and
	 * UTF-8 is what the part says it is.
	 */
	st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	dw = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(tp), dw);
	g_object_unref(dw);
	g_object_unref(st);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(tp), "charset", "utf-8");
	g_mime_part_set_content_encoding(GMIME_PART(tp), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return (GMIME_OBJECT(tp));
}

/* compose_boundary - a boundary that cannot occur in QP content */

static void
compose_boundary(const char *message_id, char *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;

	/* FNV-1a: stable across runs; "=_" never occurs in quoted-printable. */
	for (p = (const unsigned char *) message_id; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(buf, len, "=_postdrip_%016llx", (unsigned long long) h);
}

/*
 * Header values are encoded here, not by GMime: GMime encodes long values
 * as several base64 words and would even encode a long List-Unsubscribe URL,
 * which no client then recognises. We write quoted-printable words ("Q"),
 * each a whole number of UTF-8 characters, folded at 76 columns, and put
 * the result in as the raw value.
 */
#define COMPOSE_FOLD	76		/* column limit of encoded lines */
#define COMPOSE_WORD_MAX 900		/* a longer unbroken word is encoded */

/* compose_q_safe - may this byte stand as itself in a Q word (RFC 2047 5(3)) */

static int
compose_q_safe(unsigned char ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
		|| (ch >= '0' && ch <= '9') || ch == '!' || ch == '*'
		|| ch == '+' || ch == '-' || ch == '/');
}

/* compose_utf8_len - length of the UTF-8 sequence starting at s */

static size_t
compose_utf8_len(const unsigned char *s, size_t left)
{
	size_t	n = 1;

	if (*s >= 0xf0)
		n = 4;
	else if (*s >= 0xe0)
		n = 3;
	else if (*s >= 0xc0)
		n = 2;
	return (n > left ? left : n);
}

/* compose_qwords - s as folded Q encoded-words; *col is the current column */

static void
compose_qwords(STRBUF *out, const char *s, size_t len, size_t *col)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;
	static const char hex[] = "0123456789ABCDEF";
	size_t	n;
	size_t	need;
	size_t	i;
	size_t	used;			/* columns on the current line */
	int	open = 0;

	used = *col;
	while (p < end) {
		n = compose_utf8_len(p, end - p);
		for (need = 0, i = 0; i < n; i++)
			need += (p[i] == ' ' || compose_q_safe(p[i])) ? 1 : 3;
		/* A word is "=?UTF-8?Q?" ... "?=": 12 columns around its text. */
		if (open && used + need + 2 > COMPOSE_FOLD) {
			strbuf_puts(out, "?=\n ");
			used = 1;
			open = 0;
		}
		if (!open) {
			if (used + 12 + need > COMPOSE_FOLD && used > 1) {
				strbuf_puts(out, "\n ");
				used = 1;
			}
			strbuf_puts(out, "=?UTF-8?Q?");
			used += 10;
			open = 1;
		}
		for (i = 0; i < n; i++) {
			if (p[i] == ' ') {
				strbuf_putc(out, '_');
			} else if (compose_q_safe(p[i])) {
				strbuf_putc(out, p[i]);
			} else {
				strbuf_putc(out, '=');
				strbuf_putc(out, hex[p[i] >> 4]);
				strbuf_putc(out, hex[p[i] & 15]);
			}
		}
		used += need;
		p += n;
	}
	if (open) {
		strbuf_puts(out, "?=");
		used += 2;
	}
	*col = used;
}

/* compose_plain_ok - printable ASCII that needs no encoding */

static int
compose_plain_ok(const char *s)
{
	const char *p;
	size_t	run = 0;

	for (p = s; *p; p++) {
		if ((unsigned char) *p < ' ' || (unsigned char) *p > '~')
			return (0);
		/* Text that looks like an encoded word is encoded, so it stays text. */
		if (p[0] == '=' && p[1] == '?')
			return (0);
		run = (*p == ' ') ? 0 : run + 1;
		if (run > COMPOSE_WORD_MAX)
			return (0);
	}
	return (1);
}

/* compose_fold_text - plain text folded at spaces */

static void
compose_fold_text(STRBUF *out, const char *s, size_t *col)
{
	const char *p = s;
	const char *sp;
	size_t	n;

	while (*p) {
		sp = strchr(p + 1, ' ');
		n = sp ? (size_t) (sp - p) : strlen(p);
		/* Fold before a space, never at the start of the value. */
		if (*p == ' ' && *col + n > COMPOSE_FOLD + 2 && *col > 1) {
			strbuf_putc(out, '\n');
			*col = 0;
		}
		strbuf_append(out, p, n);
		*col += n;
		p += n;
	}
}

/* compose_text_value - an unstructured header value (RFC 5322 3.2.5) */

static void
compose_text_value(STRBUF *out, const char *name, const char *value)
{
	size_t	col = strlen(name) + 2;

	if (compose_plain_ok(value))
		compose_fold_text(out, value, &col);
	else
		compose_qwords(out, value, strlen(value), &col);
}

/* compose_mailbox_value - "phrase <addr>" or "addr" */

static void
compose_mailbox_value(STRBUF *out, const char *name, const char *dname,
		              const char *addr)
{
	size_t	col = strlen(name) + 2;
	const char *p;
	int	atoms = 1;

	if (dname == 0 || *dname == 0) {
		strbuf_puts(out, addr);
		return;
	}
	if (compose_plain_ok(dname)) {
		for (p = dname; *p && atoms; p++)
			if (strchr("()<>[]:;@\\,.\"", *p))
				atoms = 0;
		if (atoms) {
			strbuf_puts(out, dname);
			col += strlen(dname);
		} else {
			/* A quoted string; only " and \ need a backslash. */
			strbuf_putc(out, '"');
			for (p = dname; *p; p++) {
				if (*p == '"' || *p == '\\')
					strbuf_putc(out, '\\');
				strbuf_putc(out, *p);
			}
			strbuf_putc(out, '"');
			col += strlen(dname) + 2;
		}
	} else {
		compose_qwords(out, dname, strlen(dname), &col);
	}
	if (col + strlen(addr) + 3 > COMPOSE_FOLD) {
		strbuf_puts(out, "\n ");
		col = 1;
	} else {
		strbuf_putc(out, ' ');
	}
	strbuf_printf(out, "<%s>", addr);
}

/* compose_raw_header - set a header to a value already encoded and folded */

static void
compose_raw_header(GMimeObject *obj, const char *name, const char *value)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	char   *raw = myasprintf(" %s\n", value);

	/* Takes the place of GMime's empty placeholder, keeping header order. */
	g_mime_object_set_header(obj, name, "", 0);
	g_mime_header_set_raw_value(g_mime_header_list_get_header(hl, name), raw);
	myfree(raw);
}

/* compose_header - encode and set one header */

static void
compose_header(GMimeObject *obj, const char *name, const char *dname,
	               const char *addr, const char *text)
{
	STRBUF	v = STRBUF_INIT;

	if (addr)
		compose_mailbox_value(&v, name, dname, addr);
	else
		compose_text_value(&v, name, text);
	compose_raw_header(obj, name, strbuf_str(&v));
	strbuf_free(&v);
}

/* compose_build - the GMime message from rendered parts */

static void
compose_build(const COMPOSE_IN *in, int marketing, const char *from_name,
	              const char *from_addr, const char *rt_name, const char *rt_addr,
	              const char *subject, const char *text, const char *html,
	              STRBUF *out)
{
	GMimeMessage *msg;
	GMimeObject *body;
	GMimeMultipart *mp;
	GDateTime *dt;
	GMimeFormatOptions *fo;
	GMimeStream *ms;
	GByteArray *ba;
	STRBUF	lu = STRBUF_INIT;
	char	boundary[64];
	char   *mid;

	msg = g_mime_message_new(TRUE);
	compose_header(GMIME_OBJECT(msg), "From", from_name, from_addr, 0);
	if (rt_addr)
		compose_header(GMIME_OBJECT(msg), "Reply-To", rt_name, rt_addr, 0);
	compose_header(GMIME_OBJECT(msg), "To", 0, in->to, 0);
	compose_header(GMIME_OBJECT(msg), "Subject", 0, 0, subject);
	dt = g_date_time_new_from_unix_utc(in->date);
	g_mime_message_set_date(msg, dt);
	g_date_time_unref(dt);
	/* Written by us: GMime spells it "Message-Id". */
	mid = myasprintf("<%s>", in->message_id);
	compose_raw_header(GMIME_OBJECT(msg), "Message-ID", mid);
	myfree(mid);
	if (marketing) {
		/* Each URL whole on its line: a folded URL is a broken URL. */
		strbuf_printf(&lu, "<%s>", in->list_unsubscribe_url);
		if (in->list_unsubscribe_mailto)
			strbuf_printf(&lu, ",\n <%s%s>",
				      strncasecmp(in->list_unsubscribe_mailto, "mailto:", 7) == 0 ?
				      "" : "mailto:", in->list_unsubscribe_mailto);
		compose_raw_header(GMIME_OBJECT(msg), "List-Unsubscribe", strbuf_str(&lu));
		compose_raw_header(GMIME_OBJECT(msg), "List-Unsubscribe-Post",
				   "List-Unsubscribe=One-Click");
		strbuf_free(&lu);
	}
	if (in->workflow)
		compose_header(GMIME_OBJECT(msg), COMPOSE_HDR_WORKFLOW, 0, 0, in->workflow);
	if (in->step)
		compose_header(GMIME_OBJECT(msg), COMPOSE_HDR_STEP, 0, 0, in->step);

	if (html) {
		mp = g_mime_multipart_new_with_subtype("alternative");
		compose_boundary(in->message_id, boundary, sizeof(boundary));
		g_mime_multipart_set_boundary(mp, boundary);
		body = compose_text_part("plain", text);
		g_mime_multipart_add(mp, body);
		g_object_unref(body);
		body = compose_text_part("html", html);
		g_mime_multipart_add(mp, body);
		g_object_unref(body);
		g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
		g_object_unref(mp);
	} else {
		body = compose_text_part("plain", text);
		g_mime_message_set_mime_part(msg, body);
		g_object_unref(body);
	}

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, in->crlf ? GMIME_NEWLINE_FORMAT_DOS
						 : GMIME_NEWLINE_FORMAT_UNIX);
	ms = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, ms);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	strbuf_append(out, ba->data, ba->len);
	g_object_unref(ms);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
}

/* compose_message - render and build one message */

int
compose_message(const COMPOSE_IN *in, STRBUF *out, char **err)
{
	STRBUF	errs = STRBUF_INIT;
	STRBUF	from = STRBUF_INIT;
	STRBUF	reply_to = STRBUF_INIT;
	STRBUF	subject = STRBUF_INIT;
	STRBUF	pre = STRBUF_INIT;
	STRBUF	text = STRBUF_INIT;
	STRBUF	html = STRBUF_INIT;
	TMPLFILE *loaded = 0;
	const TMPLFILE *tf = in->tf;
	json_t *ctx = 0;
	char   *path;
	char   *from_name = 0;
	char   *from_addr = 0;
	char   *rt_name = 0;
	char   *rt_addr = 0;
	int	marketing;
	int	ret = -1;

	pthread_once(&compose_once, compose_init);
	*err = 0;

	/* What the engine gives must be sane before any template runs. */
	if (in->stream == 0 || (strcmp(in->stream, COMPOSE_STREAM_MARKETING) != 0
			   && strcmp(in->stream, COMPOSE_STREAM_TRANSACTIONAL) != 0)) {
		*err = myasprintf("unknown stream \"%s\" (marketing or transactional)",
				  in->stream ? in->stream : "");
		return (-1);
	}
	marketing = strcmp(in->stream, COMPOSE_STREAM_MARKETING) == 0;
	if (in->to == 0 || !compose_addr_ok(in->to)) {
		*err = myasprintf("bad recipient address \"%s\"", in->to ? in->to : "");
		return (-1);
	}
	if (in->message_id == 0 || !compose_url_ok(in->message_id)
	    || strchr(in->message_id, '@') == 0) {
		*err = myasprintf("bad Message-ID \"%s\"", in->message_id ? in->message_id : "");
		return (-1);
	}
	if (marketing && !compose_url_ok(in->list_unsubscribe_url)) {
		*err = myasprintf("marketing mail needs a List-Unsubscribe URL (got \"%s\")",
			   in->list_unsubscribe_url ? in->list_unsubscribe_url : "");
		return (-1);
	}
	if (in->list_unsubscribe_url && !compose_url_ok(in->list_unsubscribe_url)) {
		*err = myasprintf("bad unsubscribe URL \"%s\"", in->list_unsubscribe_url);
		return (-1);
	}
	if (in->list_unsubscribe_mailto && !compose_url_ok(in->list_unsubscribe_mailto)) {
		*err = myasprintf("bad unsubscribe mailto \"%s\"", in->list_unsubscribe_mailto);
		return (-1);
	}
	if ((in->workflow && !compose_header_safe(0, COMPOSE_HDR_WORKFLOW, in->workflow,
						  strlen(in->workflow), err))
	    || (in->step && !compose_header_safe(0, COMPOSE_HDR_STEP, in->step,
						 strlen(in->step), err)))
		return (-1);

	if (tf == 0) {
		if (!tmplfile_name_ok(in->template)) {
			*err = myasprintf("bad template name \"%s\"", in->template ? in->template : "");
			return (-1);
		}
		path = myasprintf("%s/%s%s", in->template_dir ? in->template_dir : ".",
				  in->template, TMPLFILE_SUFFIX);
		loaded = tmplfile_load(path, &errs);
		myfree(path);
		if (loaded == 0) {
			if (strbuf_len(&errs) && strbuf_str(&errs)[strbuf_len(&errs) - 1] == '\n')
				strbuf_truncate(&errs, strbuf_len(&errs) - 1);
			*err = strbuf_steal(&errs);
			return (-1);
		}
		tf = loaded;
	}

	ctx = json_is_object(in->context) ? json_copy(in->context) : json_object();
	if (in->list_unsubscribe_url)
		json_object_set_new(ctx, "unsubscribe_url", json_string(in->list_unsubscribe_url));

	/* Headers: rendered without escaping, then checked, then encoded. */
	if (compose_render(in, tf, tf->subject, ctx, 0, &subject, err) < 0)
		goto done;
	compose_trim(&subject);
	if (!compose_header_safe(tf->path, "Subject", strbuf_str(&subject), strbuf_len(&subject), err))
		goto done;
	if (strbuf_len(&subject) == 0) {
		*err = myasprintf("%s: Subject: the value is empty", tf->path);
		goto done;
	}
	if (tf->from) {
		if (compose_render(in, tf, tf->from, ctx, 0, &from, err) < 0)
			goto done;
		if (!compose_header_safe(tf->path, "From", strbuf_str(&from), strbuf_len(&from), err))
			goto done;
		if (compose_mailbox(strbuf_str(&from), &from_name, &from_addr) < 0) {
			*err = myasprintf("%s: From: bad address \"%s\"", tf->path, strbuf_str(&from));
			goto done;
		}
	}
	if (from_addr == 0) {
		if (in->from_default == 0
		    || compose_mailbox(in->from_default, &from_name, &from_addr) <= 0) {
			*err = myasprintf("%s: no From address (and no valid default sender \"%s\")",
				tf->path, in->from_default ? in->from_default : "");
			goto done;
		}
	}
	if (tf->reply_to) {
		if (compose_render(in, tf, tf->reply_to, ctx, 0, &reply_to, err) < 0)
			goto done;
		if (!compose_header_safe(tf->path, "Reply-To", strbuf_str(&reply_to),
					 strbuf_len(&reply_to), err))
			goto done;
		if (compose_mailbox(strbuf_str(&reply_to), &rt_name, &rt_addr) < 0) {
			*err = myasprintf("%s: Reply-To: bad address \"%s\"", tf->path,
					  strbuf_str(&reply_to));
			goto done;
		}
	}
	if (in->reply_address) {
		/* Reply routing: replies pass postdrip, which forwards them to
		 * where they would have gone. */
		if (!compose_addr_ok(in->reply_address)) {
			*err = myasprintf("bad reply address \"%s\"", in->reply_address);
			goto done;
		}
		if (in->reply_original)
			snprintf(in->reply_original, ADDR_MAX + 1, "%s", rt_addr ? rt_addr : from_addr);
		if (rt_addr)
			myfree(rt_addr);
		rt_addr = mystrdup(in->reply_address);
	}
	if (tf->preheader) {
		if (compose_render(in, tf, tf->preheader, ctx, 0, &pre, err) < 0)
			goto done;
		compose_trim(&pre);
		if (!compose_header_safe(tf->path, "Preheader", strbuf_str(&pre), strbuf_len(&pre), err))
			goto done;
	}

	/* Bodies. */
	if (compose_render(in, tf, tf->text, ctx, 0, &text, err) < 0)
		goto done;
	if (marketing)
		compose_unsub_text(&text, in->list_unsubscribe_url);
	if (strbuf_len(&text) == 0 || strbuf_str(&text)[strbuf_len(&text) - 1] != '\n')
		strbuf_putc(&text, '\n');
	if (tf->html) {
		if (compose_render(in, tf, tf->html, ctx, 1, &html, err) < 0)
			goto done;
		if (strbuf_len(&pre))
			compose_preheader(&html, strbuf_str(&pre), strbuf_len(&pre));
		if (marketing)
			compose_unsub_html(&html, in->list_unsubscribe_url);
		if (strbuf_len(&html) == 0 || strbuf_str(&html)[strbuf_len(&html) - 1] != '\n')
			strbuf_putc(&html, '\n');
	}
	compose_build(in, marketing, from_name, from_addr, rt_name, rt_addr,
		      strbuf_str(&subject), strbuf_str(&text),
		      tf->html ? strbuf_str(&html) : 0, out);
	ret = 0;

done:
	if (ctx)
		json_decref(ctx);
	if (loaded)
		tmplfile_free(loaded);
	if (from_name)
		myfree(from_name);
	if (from_addr)
		myfree(from_addr);
	if (rt_name)
		myfree(rt_name);
	if (rt_addr)
		myfree(rt_addr);
	strbuf_free(&errs);
	strbuf_free(&from);
	strbuf_free(&reply_to);
	strbuf_free(&subject);
	strbuf_free(&pre);
	strbuf_free(&text);
	strbuf_free(&html);
	return (ret);
}
