/*++
/* NAME
/*	classify 3
/* SUMMARY
/*	classify an inbound message: bounce, auto-reply, complaint, MDN, reply
/* SYNOPSIS
/*	#include "classify/classify.h"
/*
/*	int	classify_message(data, len, res)
/*	const char *data;
/*	size_t	len;
/*	CLASSIFY_RESULT *res;
/*
/*	void	classify_free(res)
/*	CLASSIFY_RESULT *res;
/*
/*	const char *classify_kind_name(kind)
/*	CLASSIFY_KIND kind;
/*
/*	const char *classify_class_name(class)
/*	CLASSIFY_CLASS class;
/* DESCRIPTION
/*	classify_message() parses one message with GMime and decides what
/*	it is. It walks every MIME part (nested multiparts, message/rfc822,
/*	text/rfc822-headers, message/delivery-status, feedback and
/*	disposition reports), decodes base64, quoted-printable and RFC 2047
/*	words, converts text to UTF-8, and then asks, in this order:
/*	is it a complaint (ARF), a read receipt (MDN), a delivery report
/*	(RFC 3464 or a non-standard bounce text), an auto-reply (RFC 3834
/*	and the usual vacation signs), a reply (In-Reply-To or References),
/*	or something else.
/*
/*	For a bounce each failed recipient gets a row with its DSN status,
/*	the remote reply, a Sisimai-style reason and hard/soft. A complaint
/*	gets a row per complaining recipient (reason "feedback"), an
/*	auto-reply one for its author ("vacation"), a read receipt one for
/*	the reader (reason: the disposition). A reply gets no row: its
/*	author is in from, what it answers in in_reply_to and references.
/*	Bounce and complaint notices that sending services send as JSON
/*	(Amazon SES), Microsoft's junk reports and mail clients' unsubscribe
/*	messages are recognised too. Only what the message says is used,
/*	never where it came from.
/*
/*	The result owns its memory; classify_free() releases it and leaves
/*	an empty result. The function is thread-safe: GMime is initialised
/*	once, under pthread_once(), and each thread keeps its own parser,
/*	buffers and character set converters from one message to the next
/*	(released when the thread ends).
/*
/*	What is read of a message is bounded: at most 64 KB of report text
/*	(CLASSIFY_MAX_TEXT, plain or HTML parts, decoded and in UTF-8), 32 KB
/*	of delivery-status, feedback or disposition fields, 16 KB of the
/*	headers of the original message, 200 MIME parts, 10 levels of
/*	nesting. A part's content is decoded only up to what is kept of it;
/*	of an attached original message only the header and the report
/*	parts nested in it are read; an HTML part is not decoded at all when
/*	the report has plain text.
/* DIAGNOSTICS
/*	classify_message() returns -1 when the input is not a message at
/*	all (empty, or no header); the result is then kind OTHER.
/*	Nothing is logged.
/* BUGS
/*	Every reader is bounded (parts, depth, text, fields, recipients);
/*	what lies beyond a bound is ignored, not refused.
/*--*/
#include "pdconfig.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include <gmime/gmime.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "classify/classify.h"
#include "classify/classify_int.h"

static pthread_once_t classify_once = PTHREAD_ONCE_INIT;

 /*
  * What one thread keeps from one message to the next, so that a message
  * costs no parser, stream or buffer set-up: the GMime parser and the
  * memory stream it reads (pointed at each message in turn, not copied),
  * the buffers that collect the report, and the character set converters
  * used so far. glibc loads a converter's module when it is opened and
  * may unload it when it is closed; opening one per part made that the
  * most expensive step of all.
  */
#define CLASSIFY_ICONV_CACHE	8

typedef struct CLASSIFY_TLS {
	GMimeParser *parser;
	GMimeStream *stream;
	GByteArray *empty;			/* what the stream holds between messages */
	STRBUF	failed, text, dsn, arf, mdn, orig;
	STRBUF	raw;				/* a part's content, decoded */
	STRBUF	low;				/* text in lower case */
	struct {
		char	charset[64];
		iconv_t	cd;
	}	iconv[CLASSIFY_ICONV_CACHE];
	int	niconv;
	int	iconv_next;			/* the slot to reuse when full */
} CLASSIFY_TLS;

static pthread_key_t classify_key;

/* classify_tls_free - a thread ends: what it kept goes */

static void
classify_tls_free(void *ptr)
{
	CLASSIFY_TLS *tls = ptr;
	int	i;

	if (tls->parser)
		g_object_unref(tls->parser);
	if (tls->stream)
		g_object_unref(tls->stream);
	if (tls->empty)
		g_byte_array_free(tls->empty, TRUE);
	for (i = 0; i < tls->niconv; i++)
		g_mime_iconv_close(tls->iconv[i].cd);
	strbuf_free(&tls->failed);
	strbuf_free(&tls->text);
	strbuf_free(&tls->dsn);
	strbuf_free(&tls->arf);
	strbuf_free(&tls->mdn);
	strbuf_free(&tls->orig);
	strbuf_free(&tls->raw);
	strbuf_free(&tls->low);
	myfree(tls);
}

/* classify_init - GMime wants one global initialisation */

static void
classify_init(void)
{
	g_mime_init();
	if (pthread_key_create(&classify_key, classify_tls_free) != 0)
		msg_fatal("classify: cannot create a thread key");
}

/* classify_tls - this thread's state, made on first use */

static CLASSIFY_TLS *
classify_tls(void)
{
	CLASSIFY_TLS *tls;

	if ((tls = pthread_getspecific(classify_key)) != 0)
		return (tls);
	tls = mycalloc(1, sizeof(*tls));
	tls->empty = g_byte_array_new();
	tls->stream = g_mime_stream_mem_new_with_byte_array(tls->empty);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(tls->stream), FALSE);
	tls->parser = g_mime_parser_new();
	if (pthread_setspecific(classify_key, tls) != 0)
		msg_fatal("classify: cannot set thread state");
	return (tls);
}

/* classify_iconv - an open converter from charset to UTF-8, kept */

static iconv_t
classify_iconv(CLASSIFY_TLS *tls, const char *charset)
{
	iconv_t	cd;
	int	i;

	for (i = 0; i < tls->niconv; i++)
		if (strcasecmp(tls->iconv[i].charset, charset) == 0)
			return (tls->iconv[i].cd);
	if (strlen(charset) >= sizeof(tls->iconv[0].charset)
	    || (cd = g_mime_iconv_open("UTF-8", charset)) == (iconv_t) -1)
		return ((iconv_t) -1);
	if (tls->niconv < CLASSIFY_ICONV_CACHE) {
		i = tls->niconv++;
	} else {
		i = tls->iconv_next;
		tls->iconv_next = (i + 1) % CLASSIFY_ICONV_CACHE;
		g_mime_iconv_close(tls->iconv[i].cd);
	}
	classify_copy(tls->iconv[i].charset, sizeof(tls->iconv[i].charset), charset);
	tls->iconv[i].cd = cd;
	return (cd);
}

/* classify_kind_name - printable kind */

const char *
classify_kind_name(CLASSIFY_KIND kind)
{
	switch (kind) {
	case CLASSIFY_BOUNCE:
		return ("bounce");
	case CLASSIFY_AUTOREPLY:
		return ("autoreply");
	case CLASSIFY_COMPLAINT:
		return ("complaint");
	case CLASSIFY_REPLY:
		return ("reply");
	case CLASSIFY_MDN:
		return ("mdn");
	default:
		return ("other");
	}
}

/* classify_class_name - printable class */

const char *
classify_class_name(CLASSIFY_CLASS class)
{
	switch (class) {
	case CLASSIFY_HARD:
		return ("hard");
	case CLASSIFY_SOFT:
		return ("soft");
	default:
		return ("none");
	}
}

/* classify_free - release a result and leave it empty */

void
classify_free(CLASSIFY_RESULT *res)
{
	size_t	i;

	if (res->rcpt)
		myfree(res->rcpt);
	for (i = 0; i < res->nreferences; i++)
		myfree(res->references[i]);
	if (res->references)
		myfree(res->references);
	memset(res, 0, sizeof(*res));
}

/* append_bounded - append at most what still fits under limit */

static void
append_bounded(STRBUF *sb, const char *data, size_t len, size_t limit)
{
	if (sb->len >= limit)
		return;
	if (len > limit - sb->len)
		len = limit - sb->len;
	strbuf_append(sb, data, len);
	if (len && data[len - 1] != '\n')
		strbuf_putc(sb, '\n');
}

/* add_reference - one Message-ID, without <>, once */

static void
add_reference(CLASSIFY_RESULT *res, const char *id, size_t len)
{
	size_t	i;

	if (len == 0 || len > 250 || res->nreferences >= CLASSIFY_MAX_REFS)
		return;
	for (i = 0; i < res->nreferences; i++)
		if (strlen(res->references[i]) == len
		    && memcmp(res->references[i], id, len) == 0)
			return;
	res->references = myrealloc(res->references,
			       (res->nreferences + 1) * sizeof(char *));
	res->references[res->nreferences++] = mystrndup(id, len);
}

/* add_references - the <id> list of In-Reply-To or References */

static void
add_references(CLASSIFY_RESULT *res, const char *value)
{
	const char *cp;
	const char *end;

	for (cp = value; (cp = strchr(cp, '<')) != 0; cp = end + 1) {
		if ((end = strchr(cp + 1, '>')) == 0)
			break;
		add_reference(res, cp + 1, end - cp - 1);
	}
}

/* header_copy - a raw header value, unfolded and RFC 2047-decoded */

static void
header_copy(const char *raw, char *buf, size_t size)
{
	const unsigned char *cp;
	char   *unfolded;
	char   *dec;

	/*
	 * What g_mime_header_get_value() gives, without its cost where it
	 * would change nothing: plain ASCII without encoded words only needs
	 * its white space folded.
	 */
	for (cp = (const unsigned char *) raw; *cp; cp++)
		if (*cp >= 0x80 || (cp[0] == '=' && cp[1] == '?'))
			break;
	if (*cp == 0) {
		classify_oneline(buf, size, raw, cp - (const unsigned char *) raw);
		return;
	}
	unfolded = g_mime_utils_header_unfold(raw);
	dec = g_mime_utils_header_decode_text(NULL, unfolded);
	classify_oneline(buf, size, dec, strlen(dec));
	g_free(dec);
	g_free(unfolded);
}

/* collect_headers - the facts the decision needs from the top header */

static void
collect_headers(CLASSIFY_CTX *ctx, GMimeObject *obj)
{
	CLASSIFY_RESULT *res = ctx->res;
	GMimeHeaderList *hl;
	GMimeContentType *ct;
	const char *val;
	const char *from = 0;
	const char *to = 0;
	const char *subject = 0;
	const char *return_path = 0;
	const char *auto_submitted = 0;
	const char *precedence = 0;
	const char *in_reply_to = 0;
	const char *references = 0;
	char	buf[1024];
	int	i, n;

	/*
	 * One pass over the header, bounded like everything else: the first
	 * of each single field (as g_mime_object_get_header() would give it),
	 * and the fields that may repeat or whose mere presence counts.
	 */
	hl = g_mime_object_get_header_list(obj);
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n && i < 500; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);

		val = g_mime_header_get_raw_value(h);
		if (name == 0 || val == 0)
			continue;
#define FIRST(var, field) \
	if (strcasecmp(name, (field)) == 0) { if (var == 0) var = val; continue; }
		switch (tolower((unsigned char) name[0])) {
		case 'a':
			FIRST(auto_submitted, "Auto-Submitted");
			break;
		case 'f':
			FIRST(from, "From");
			break;
		case 'i':
			FIRST(in_reply_to, "In-Reply-To");
			break;
		case 'p':
			FIRST(precedence, "Precedence");
			break;
		case 'r':
			FIRST(references, "References");
			FIRST(return_path, "Return-Path");
			break;
		case 's':
			FIRST(subject, "Subject");
			break;
		case 't':
			FIRST(to, "To");
			break;
		}
#undef FIRST
		if (strncasecmp(name, "X-", 2) != 0 && strncasecmp(name, "List-", 5) != 0)
			continue;
		if (strcasecmp(name, "X-Failed-Recipients") == 0) {
			append_bounded(&ctx->failed, val, strlen(val), 4096);
		} else if (strcasecmp(name, "X-Autoreply") == 0
			   || strcasecmp(name, "X-Autorespond") == 0
			   || strcasecmp(name, "X-Autoresponder") == 0
			   || strcasecmp(name, "X-Auto-Response-Suppress") == 0
			   || strcasecmp(name, "X-Vacation") == 0
			   || strcasecmp(name, "X-Mailer-Autoreply") == 0
			   || strcasecmp(name, "X-AutoReply-From") == 0
			   || strcasecmp(name, "X-Mail-Autoreply") == 0) {
			/* X-Auto-Response-Suppress alone is sent by Outlook on
			 * ordinary mail too; only "All" from an auto-responder
			 * counts, and then only together with other signs. */
			if (strcasecmp(name, "X-Auto-Response-Suppress") != 0)
				ctx->x_autoreply = 1;
		} else if (strcasecmp(name, "X-Apple-Unsubscribe") == 0) {
			/* Apple Mail's "unsubscribe" button sends a message. */
			ctx->unsubscribe_request = strncasecmp(val + strspn(val, " "),
							      "true", 4) == 0;
		} else if (strcasecmp(name, "List-Id") == 0
			   || strcasecmp(name, "List-Unsubscribe") == 0) {
			ctx->list_header = 1;
		}
	}

	if (subject)
		header_copy(subject, res->subject, sizeof(res->subject));
	buf[0] = 0;
	if (from)
		header_copy(from, buf, sizeof(buf));
	classify_first_addr(buf, res->from, sizeof(res->from));
	if ((val = strchr(buf, '<')) != 0 && val > buf) {
		classify_oneline(ctx->from_name, sizeof(ctx->from_name), buf,
				 val - buf);
	} else if (res->from[0] == 0) {
		classify_copy(ctx->from_name, sizeof(ctx->from_name), buf);
	}
	buf[0] = 0;
	if (to)
		header_copy(to, buf, sizeof(buf));
	classify_first_addr(buf, ctx->to, sizeof(ctx->to));
	if (return_path)
		header_copy(return_path, ctx->return_path, sizeof(ctx->return_path));
	if (auto_submitted)
		header_copy(auto_submitted, ctx->auto_submitted,
			    sizeof(ctx->auto_submitted));
	if (precedence)
		header_copy(precedence, ctx->precedence, sizeof(ctx->precedence));
	/* Message-IDs are read as they are, without decoding. */
	if (in_reply_to) {
		char   *unfolded = g_mime_utils_header_unfold(in_reply_to);

		classify_strip_id(res->in_reply_to, sizeof(res->in_reply_to), unfolded);
		add_references(res, unfolded);
		g_free(unfolded);
	}
	if (references)
		add_references(res, references);
	if ((ct = g_mime_object_get_content_type(obj)) != 0) {
		snprintf(ctx->content_type, sizeof(ctx->content_type), "%s/%s",
			 g_mime_content_type_get_media_type(ct),
			 g_mime_content_type_get_media_subtype(ct));
		if ((val = g_mime_content_type_get_parameter(ct, "report-type")) != 0)
			classify_copy(ctx->report_type, sizeof(ctx->report_type), val);
	}
}

/* part_text - decoded content of a leaf part in UTF-8, in tls->raw */

static char *
part_text(CLASSIFY_TLS *tls, GMimePart *part, size_t limit, size_t *lenp)
{
	GMimeDataWrapper *wrapper;
	GMimeStream *src;
	GMimeContentEncoding enc;
	GMimeEncoding state;
	STRBUF *raw = &tls->raw;
	const char *charset;
	char	buf[4096];
	ssize_t	n;
	int	decode;
	char   *out;

	*lenp = 0;
	if ((wrapper = g_mime_part_get_content(part)) == 0
	    || (src = g_mime_data_wrapper_get_stream(wrapper)) == 0)
		return (0);

	/*
	 * The content as the parser left it (a window on the message, not a
	 * copy), decoded here step by step with GMime's decoder: no filter
	 * stream, and no more read than the limit needs.
	 */
	enc = g_mime_data_wrapper_get_encoding(wrapper);
	decode = (enc == GMIME_CONTENT_ENCODING_BASE64
		  || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
		  || enc == GMIME_CONTENT_ENCODING_UUENCODE);
	if (decode)
		g_mime_encoding_init_decode(&state, enc);
	strbuf_reset(raw);
	strbuf_reserve(raw, sizeof(buf));
	g_mime_stream_reset(src);
	while (raw->len < limit && (n = g_mime_stream_read(src, buf, sizeof(buf))) > 0) {
		if (decode) {
			strbuf_reserve(raw, g_mime_encoding_outlen(&state, n));
			raw->len += g_mime_encoding_step(&state, buf, n, raw->data + raw->len);
			raw->data[raw->len] = 0;
		} else {
			strbuf_append(raw, buf, n);
		}
	}
	if (decode && raw->len < limit) {
		strbuf_reserve(raw, g_mime_encoding_outlen(&state, 0));
		raw->len += g_mime_encoding_flush(&state, "", 0, raw->data + raw->len);
		raw->data[raw->len] = 0;
	}
	g_mime_stream_reset(src);
	strbuf_truncate(raw, limit);
	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
							  "charset");

	/*
	 * Japanese reports often carry ISO-2022-JP in parts that declare no
	 * charset (delivery-status fields): its escape sequence gives it away.
	 */
	if ((charset == 0 || strcasecmp(charset, "us-ascii") == 0) && raw->len > 3) {
		const char *esc = raw->data;
		const char *end = raw->data + raw->len;

		while ((esc = memchr(esc, '\033', end - esc)) != 0 && esc + 2 < end) {
			if (esc[1] == '$' && (esc[2] == 'B' || esc[2] == '@')) {
				charset = "ISO-2022-JP";
				break;
			}
			esc++;
		}
	}
	if (raw->len > 0 && charset != 0
	    && strcasecmp(charset, "us-ascii") != 0
	    && strcasecmp(charset, "utf-8") != 0) {
		iconv_t	cd = classify_iconv(tls, charset);

		if (cd != (iconv_t) -1
		    && (out = g_mime_iconv_strndup(cd, raw->data, raw->len)) != 0) {
			strbuf_reset(raw);
			strbuf_puts(raw, out);
			g_free(out);
		}
	}
	*lenp = raw->len;
	return (raw->data);
}

/* html_to_text - crude tag stripping, enough for wording searches */

static size_t
html_to_text(char *buf, size_t len)
{
	size_t	i, o;
	int	in_tag = 0;

	for (i = o = 0; i < len; i++) {
		if (buf[i] == '<') {
			in_tag = 1;
			/* Block-level tags end a line of the report text. */
			if (i + 3 < len && (strncasecmp(buf + i + 1, "br", 2) == 0
				      || strncasecmp(buf + i + 1, "p>", 2) == 0
					|| strncasecmp(buf + i + 1, "/p", 2) == 0
				      || strncasecmp(buf + i + 1, "tr", 2) == 0
				    || strncasecmp(buf + i + 1, "div", 3) == 0))
				buf[o++] = '\n';
		} else if (buf[i] == '>' && in_tag) {
			in_tag = 0;
		} else if (!in_tag) {
			if (buf[i] == '&' && i + 5 < len
			    && strncasecmp(buf + i, "&nbsp;", 6) == 0) {
				buf[o++] = ' ';
				i += 5;
			} else if (buf[i] == '&' && i + 3 < len
				   && strncasecmp(buf + i, "&lt;", 4) == 0) {
				buf[o++] = '<';
				i += 3;
			} else if (buf[i] == '&' && i + 3 < len
				   && strncasecmp(buf + i, "&gt;", 4) == 0) {
				buf[o++] = '>';
				i += 3;
			} else {
				buf[o++] = buf[i];
			}
		}
	}
	buf[o] = 0;
	return (o);
}

static void walk(CLASSIFY_CTX *, GMimeObject *, int, int);

/* headers_text - "Name: value" lines of a header list, bounded */

static void
headers_text(STRBUF *sb, GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int	i, n = g_mime_header_list_get_count(hl);

	/* Raw values, as they were folded: cheaper than formatting anew. */
	for (i = 0; i < n && sb->len < CLASSIFY_MAX_ORIG; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *val = g_mime_header_get_raw_value(h);

		if (name == 0 || val == 0)
			continue;
		strbuf_puts(sb, name);
		strbuf_putc(sb, ':');
		append_bounded(sb, val, strlen(val), CLASSIFY_MAX_ORIG);
	}
}

/* walk_message - an embedded message: the original, or a forwarded report */

static void
walk_message(CLASSIFY_CTX *ctx, GMimeMessage *msg, int depth)
{
	GMimeObject *body;

	if (msg == 0)
		return;
	ctx->has_orig_part = 1;
	if (ctx->orig.len == 0)
		headers_text(&ctx->orig, GMIME_OBJECT(msg));

	/*
	 * The body of the original is not report text: its addresses and
	 * wordings belong to someone else's message. Only a report nested in
	 * it (a bounce forwarded by a gateway) is looked at.
	 */
	if ((body = g_mime_message_get_mime_part(msg)) != 0
	    && GMIME_IS_MULTIPART(body))
		walk(ctx, body, depth + 1, 1);
}

/* walk - visit one MIME object and collect what it offers */

static void
walk(CLASSIFY_CTX *ctx, GMimeObject *obj, int depth, int inside_orig)
{
	GMimeContentType *ct;
	const char *type;
	const char *sub;
	char   *text;
	size_t	len;
	int	i, n;
	int	html;

	if (obj == 0 || depth > CLASSIFY_MAX_DEPTH
	    || ++ctx->nparts > CLASSIFY_MAX_PARTS)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));
		for (i = 0; i < n; i++)
			walk(ctx, g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
			     depth + 1, inside_orig);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		if (!inside_orig)
			walk_message(ctx, g_mime_message_part_get_message(
					   GMIME_MESSAGE_PART(obj)), depth);
		return;
	}
	if (!GMIME_IS_PART(obj) || (ct = g_mime_object_get_content_type(obj)) == 0)
		return;
	type = g_mime_content_type_get_media_type(ct);
	sub = g_mime_content_type_get_media_subtype(ct);
	if (type == 0 || sub == 0)
		return;

	if (strcasecmp(type, "message") == 0 || strcasecmp(type, "text") == 0) {
		STRBUF *dst = 0;
		size_t	limit = CLASSIFY_MAX_FIELDS;

		if (strcasecmp(sub, "delivery-status") == 0
		    || strcasecmp(sub, "global-delivery-status") == 0)
			dst = &ctx->dsn;
		else if (strcasecmp(sub, "feedback-report") == 0)
			dst = &ctx->arf;
		else if (strcasecmp(sub, "disposition-notification") == 0
		     || strcasecmp(sub, "global-disposition-notification") == 0)
			dst = &ctx->mdn;
		else if (strcasecmp(sub, "rfc822-headers") == 0
			 || strcasecmp(sub, "global-headers") == 0) {
			ctx->has_orig_part = 1;
			if (ctx->orig.len > 0)
				return;
			dst = &ctx->orig, limit = CLASSIFY_MAX_ORIG;
		} else if (inside_orig) {
			return;
		} else if (strcasecmp(type, "text") == 0) {
			dst = &ctx->text, limit = CLASSIFY_MAX_TEXT;
		} else if (strcasecmp(sub, "rfc822") == 0) {
			/* An original GMime did not parse as a message. */
			ctx->has_orig_part = 1;
			if (ctx->orig.len > 0)
				return;
			dst = &ctx->orig, limit = CLASSIFY_MAX_ORIG;
		}
		if (dst == 0 || dst->len >= limit)
			return;
		/* HTML only when the report has no plain text. */
		html = (strcasecmp(sub, "html") == 0);
		if (html && dst == &ctx->text && ctx->text.len > 0)
			return;
		if ((text = part_text(ctx->tls, GMIME_PART(obj), limit, &len)) == 0)
			return;
		if (html)
			len = html_to_text(text, len);
		append_bounded(dst, text, len, limit);
	}
}

/* decide - the kind of the message, from the facts collected */

static void
decide(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	int	looks;

	/*
	 * Reports first: they say what they are. A feedback report can carry
	 * Auto-Submitted (it is machine-made), so it is looked at before the
	 * auto-reply signs; a bounce likewise.
	 */
	if (classify_json(ctx))
		return;
	if (classify_arf(ctx)) {
		res->kind = CLASSIFY_COMPLAINT;
		return;
	}
	if (classify_mdn(ctx)) {
		res->kind = CLASSIFY_MDN;
		return;
	}
	if (ctx->dsn.len > 0 && classify_dsn(ctx, ctx->dsn.data, ctx->dsn.len) > 0)
		return;
	/*
	 * A person's answer may well say that something "could not be
	 * delivered": when only the wording says bounce, a message that
	 * answers another one is taken for the answer it looks like, unless
	 * it forwards a report.
	 */
	if ((looks = classify_looks_bounce(ctx)) != 0
	    && (looks == 1 || res->nreferences == 0 || ctx->has_orig_part
		|| strncasecmp(res->subject, "fwd:", 4) == 0
		|| strncasecmp(res->subject, "fw:", 3) == 0)
	    && classify_text_bounce(ctx) > 0)
		return;
	if (classify_autoreply(ctx)) {
		res->kind = CLASSIFY_AUTOREPLY;
		return;
	}
	if (res->nreferences > 0 && res->from[0]) {
		res->kind = CLASSIFY_REPLY;
		return;
	}
	res->kind = CLASSIFY_OTHER;
}

/* orig_facts - Message-ID and sender of the original message */

static void
orig_facts(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	char	buf[512];

	if (ctx->orig.len == 0)
		return;
	if (res->orig_message_id[0] == 0) {
		classify_copy_field(ctx->orig.data, "Message-ID", buf, sizeof(buf));
		classify_strip_id(res->orig_message_id, sizeof(res->orig_message_id),
				  buf);
	}
	if (res->orig_return_path[0] == 0) {
		classify_copy_field(ctx->orig.data, "Return-Path", buf, sizeof(buf));
		if (buf[0] == 0)
			classify_copy_field(ctx->orig.data, "From", buf, sizeof(buf));
		classify_first_addr(buf, res->orig_return_path,
				    sizeof(res->orig_return_path));
	}
}

/* raw_body - the undecoded body as report text */

static void
raw_body(CLASSIFY_CTX *ctx, const char *data, size_t len)
{
	const char *cp;
	const char *end = data + len;

	for (cp = data; cp < end; cp++) {
		if (cp[0] != '\n')
			continue;
		if (cp + 1 < end && cp[1] == '\n') {
			cp += 2;
			break;
		}
		if (cp + 2 < end && cp[1] == '\r' && cp[2] == '\n') {
			cp += 3;
			break;
		}
	}
	if (cp < end)
		append_bounded(&ctx->text, cp, end - cp, CLASSIFY_MAX_TEXT);
}

/* skip_envelope - past an mbox "From " line, and a leading blank */

static const char *
skip_envelope(const char *data, size_t *len)
{
	const char *nl;

	while (*len > 0 && (data[0] == '\n' || data[0] == '\r')) {
		data++;
		(*len)--;
	}
	if (*len > 5 && memcmp(data, "From ", 5) == 0
	    && (nl = memchr(data, '\n', *len)) != 0) {
		*len -= nl + 1 - data;
		data = nl + 1;
	}
	return (data);
}

/* classify_message - see above */

int
classify_message(const char *data, size_t len, CLASSIFY_RESULT *res)
{
	CLASSIFY_CTX ctx;
	CLASSIFY_TLS *tls;
	GByteArray *window;
	GMimeObject *top;
	int	ret = 0;
	size_t	i;

	pthread_once(&classify_once, classify_init);
	memset(res, 0, sizeof(*res));
	data = skip_envelope(data, &len);
	if (len == 0 || len > G_MAXUINT
	    || memchr(data, ':', len < 1000 ? len : 1000) == 0)
		return (-1);

	/*
	 * The thread's parser reads the caller's bytes in place: the memory
	 * stream is given a byte array that wraps them (it does not own it,
	 * and the array lets go of the bytes without freeing them).
	 */
	tls = classify_tls();
	memset(&ctx, 0, sizeof(ctx));
	ctx.res = res;
	ctx.tls = tls;
	strbuf_reset(&tls->failed);
	strbuf_reset(&tls->text);
	strbuf_reset(&tls->dsn);
	strbuf_reset(&tls->arf);
	strbuf_reset(&tls->mdn);
	strbuf_reset(&tls->orig);
	ctx.failed = tls->failed;
	ctx.text = tls->text;
	ctx.dsn = tls->dsn;
	ctx.arf = tls->arf;
	ctx.mdn = tls->mdn;
	ctx.orig = tls->orig;
	window = g_byte_array_new_take((guint8 *) data, len);
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(tls->stream), window);
	g_mime_parser_init_with_stream(tls->parser, tls->stream);
	/*
	 * The message is read as a MIME part whose header is the whole top
	 * header: what a GMimeMessage adds (address lists, the date) is
	 * never used here, and an attached original is still a message.
	 */
	top = g_mime_parser_construct_part(tls->parser, NULL);
	if (top == 0) {
		ret = -1;
		goto done;
	}
	if (g_mime_header_list_get_count(g_mime_object_get_header_list(top)) == 0)
		ret = -1;
	collect_headers(&ctx, top);
	walk(&ctx, top, 0, 0);
	/*
	 * A report whose MIME structure is broken (boundaries that do not
	 * match the header, a multipart with no parts) is read as plain text.
	 */
	if (ctx.text.len == 0 && ctx.dsn.len == 0 && ctx.arf.len == 0
	    && ctx.mdn.len == 0)
		raw_body(&ctx, data, len);
	/* One lower-case copy serves every case-blind search of the text. */
	strbuf_reset(&tls->low);
	strbuf_reserve(&tls->low, ctx.text.len);
	ctx.low = tls->low.data;
	for (i = 0; i < ctx.text.len; i++)
		ctx.low[i] = tolower((unsigned char) ctx.text.data[i]);
	ctx.low[ctx.text.len] = 0;
	ctx.text_cut = classify_find_cut(strbuf_str(&ctx.text), ctx.low,
					 ctx.text.len, &ctx.orig_start);
	orig_facts(&ctx);
	if (ret == 0)
		decide(&ctx);
	else
		res->kind = CLASSIFY_OTHER;
	orig_facts(&ctx);
	g_object_unref(top);

done:
	/* The stream forgets the bytes; the buffers go back to the thread. */
	g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(tls->stream), tls->empty);
	g_byte_array_free(window, FALSE);
	tls->failed = ctx.failed;
	tls->text = ctx.text;
	tls->dsn = ctx.dsn;
	tls->arf = ctx.arf;
	tls->mdn = ctx.mdn;
	tls->orig = ctx.orig;
	return (ret);
}
