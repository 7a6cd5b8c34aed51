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
/*	once, under pthread_once().
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
#include <ctype.h>

#include <gmime/gmime.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "classify/classify.h"
#include "classify/classify_int.h"

static pthread_once_t classify_once = PTHREAD_ONCE_INIT;

/* classify_init - GMime wants one global initialisation */

static void
classify_init(void)
{
	g_mime_init();
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

/* header_copy - a header value, unfolded and RFC 2047-decoded */

static void
header_copy(GMimeObject *obj, const char *name, char *buf, size_t size)
{
	const char *raw;
	char   *dec;

	buf[0] = 0;
	if ((raw = g_mime_object_get_header(obj, name)) == 0)
		return;
	if (strstr(raw, "=?") == 0) {
		classify_oneline(buf, size, raw, strlen(raw));
		return;
	}
	dec = g_mime_utils_header_decode_text(NULL, raw);
	classify_oneline(buf, size, dec, strlen(dec));
	g_free(dec);
}

/* collect_headers - the facts the decision needs from the top header */

static void
collect_headers(CLASSIFY_CTX *ctx, GMimeMessage *msg)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	CLASSIFY_RESULT *res = ctx->res;
	GMimeHeaderList *hl;
	GMimeContentType *ct;
	const char *val;
	char	buf[1024];
	int	i, n;

	header_copy(obj, "Subject", res->subject, sizeof(res->subject));
	header_copy(obj, "From", buf, sizeof(buf));
	classify_first_addr(buf, res->from, sizeof(res->from));
	if ((val = strchr(buf, '<')) != 0 && val > buf) {
		classify_oneline(ctx->from_name, sizeof(ctx->from_name), buf,
				 val - buf);
	} else if (res->from[0] == 0) {
		classify_copy(ctx->from_name, sizeof(ctx->from_name), buf);
	}
	header_copy(obj, "To", buf, sizeof(buf));
	classify_first_addr(buf, ctx->to, sizeof(ctx->to));
	header_copy(obj, "Return-Path", ctx->return_path, sizeof(ctx->return_path));
	header_copy(obj, "Auto-Submitted", ctx->auto_submitted,
		    sizeof(ctx->auto_submitted));
	header_copy(obj, "Precedence", ctx->precedence, sizeof(ctx->precedence));
	if ((val = g_mime_object_get_header(obj, "In-Reply-To")) != 0) {
		classify_strip_id(res->in_reply_to, sizeof(res->in_reply_to), val);
		add_references(res, val);
	}
	if ((val = g_mime_object_get_header(obj, "References")) != 0)
		add_references(res, val);
	if ((ct = g_mime_object_get_content_type(obj)) != 0) {
		snprintf(ctx->content_type, sizeof(ctx->content_type), "%s/%s",
			 g_mime_content_type_get_media_type(ct),
			 g_mime_content_type_get_media_subtype(ct));
		if ((val = g_mime_content_type_get_parameter(ct, "report-type")) != 0)
			classify_copy(ctx->report_type, sizeof(ctx->report_type), val);
	}

	/*
	 * Headers that may repeat or whose mere presence counts are read from
	 * the list, bounded like everything else.
	 */
	hl = g_mime_object_get_header_list(obj);
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n && i < 500; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);

		val = g_mime_header_get_raw_value(h);
		if (name == 0 || val == 0)
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
}

/* part_text - decoded content of a leaf part, converted to UTF-8 */

static char *
part_text(GMimePart *part, size_t limit, size_t *lenp)
{
	GMimeDataWrapper *wrapper;
	GMimeStream *mem;
	GByteArray *ba;
	const char *charset;
	char   *out;

	*lenp = 0;
	if ((wrapper = g_mime_part_get_content(part)) == 0)
		return (0);
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(wrapper, mem);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part),
							  "charset");
	out = 0;

	/*
	 * Japanese reports often carry ISO-2022-JP in parts that declare no
	 * charset (delivery-status fields): its escape sequence gives it away.
	 */
	if ((charset == 0 || strcasecmp(charset, "us-ascii") == 0) && ba->len > 3
	    && (memmem(ba->data, ba->len, "\033$B", 3) || memmem(ba->data, ba->len, "\033$@", 3)))
		charset = "ISO-2022-JP";
	if (ba->len > 0 && charset != 0
	    && strcasecmp(charset, "us-ascii") != 0
	    && strcasecmp(charset, "utf-8") != 0) {
		size_t	inlen = ba->len > limit ? limit : ba->len;
		iconv_t	cd;

		/* GMime keeps converters open in a cache; g_convert() would
		 * open one per part. */
		if ((cd = g_mime_iconv_open("UTF-8", charset)) != (iconv_t) -1) {
			out = g_mime_iconv_strndup(cd, (const char *) ba->data, inlen);
			g_mime_iconv_close(cd);
		}
		if (out)
			*lenp = strlen(out);
	}
	if (out == 0) {
		*lenp = ba->len > limit ? limit : ba->len;
		out = g_malloc(*lenp + 1);
		if (*lenp > 0)
			memcpy(out, ba->data, *lenp);
		out[*lenp] = 0;
	}
	g_object_unref(mem);
	return (out);
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
		if ((text = part_text(GMIME_PART(obj), limit, &len)) == 0)
			return;
		if (strcasecmp(sub, "html") == 0) {
			/* HTML only when the report has no plain text. */
			if (ctx->text.len == 0) {
				len = html_to_text(text, len);
				append_bounded(dst, text, len, limit);
			}
		} else {
			append_bounded(dst, text, len, limit);
		}
		g_free(text);
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
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	int	ret = 0;
	size_t	i;

	pthread_once(&classify_once, classify_init);
	memset(res, 0, sizeof(*res));
	data = skip_envelope(data, &len);
	if (len == 0 || memchr(data, ':', len < 1000 ? len : 1000) == 0)
		return (-1);

	memset(&ctx, 0, sizeof(ctx));
	ctx.res = res;
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg == 0)
		return (-1);
	/* Content-* fields belong to the body part in GMime; count both. */
	if (g_mime_header_list_get_count(
			g_mime_object_get_header_list(GMIME_OBJECT(msg))) == 0
	    && (g_mime_message_get_mime_part(msg) == 0
		|| g_mime_header_list_get_count(g_mime_object_get_header_list(
				      g_mime_message_get_mime_part(msg))) == 0))
		ret = -1;
	collect_headers(&ctx, msg);
	walk(&ctx, g_mime_message_get_mime_part(msg), 0, 0);
	/*
	 * A report whose MIME structure is broken (boundaries that do not
	 * match the header, a multipart with no parts) is read as plain text.
	 */
	if (ctx.text.len == 0 && ctx.dsn.len == 0 && ctx.arf.len == 0
	    && ctx.mdn.len == 0)
		raw_body(&ctx, data, len);
	/* One lower-case copy serves every case-blind search of the text. */
	ctx.low = mymalloc(ctx.text.len + 1);
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
	g_object_unref(msg);

	myfree(ctx.low);
	strbuf_free(&ctx.failed);
	strbuf_free(&ctx.text);
	strbuf_free(&ctx.dsn);
	strbuf_free(&ctx.arf);
	strbuf_free(&ctx.mdn);
	strbuf_free(&ctx.orig);
	return (ret);
}
