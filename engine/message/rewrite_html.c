/*++
/* NAME
/*	rewrite_html 3
/* SUMMARY
/*	replace link targets in HTML and plain text, add the open pixel
/* SYNOPSIS
/*	#include "message/rewrite_int.h"
/*
/*	int	rewrite_html(st, in, len, out)
/*	int	rewrite_text(st, in, len, out)
/*	int	rewrite_trackable(opts, url, name)
/* DESCRIPTION
/*	rewrite_html() parses one HTML document with gumbo (an HTML5
/*	parser that keeps, for every attribute, a pointer to its original
/*	text) and makes a list of edits: the bytes of each href value of
/*	<a> and <area> that is tracked, the data-link and data-postdrip
/*	attributes (ours: removed on the way out), and the pixel before
/*	the body's end tag, or at the end of the document (before its
/*	trailing white space) when there is none. A URL from the caller
/*	that is not printable ASCII without spaces is not used. The edits are then applied to the input; every other byte
/*	is copied, so markup gumbo does not understand, template
/*	placeholders, comments and white space stay as they were. The
/*	tree gumbo builds is never serialized.
/*
/*	The URL handed to the tracker is the attribute's value as a
/*	browser sees it (character references such as &amp; decoded,
/*	surrounding white space removed); the URL written back is
/*	attribute-escaped and quoted. A comment that is an Outlook
/*	conditional comment (<!--[if mso]>...<![endif]-->) is parsed as
/*	HTML in turn, since Outlook renders its content: its links are
/*	tracked like the others (one level; no pixel there), and so are
/*	the href of VML shapes there (<v:roundrect href=...>, the usual
/*	"bulletproof button" for Outlook).
/*
/*	rewrite_text() replaces bare http(s) URLs in plain text, ending
/*	at white space, angle brackets or quotes, with the trailing
/*	punctuation of the sentence left outside.
/*
/*	rewrite_trackable() says whether a URL may be tracked: http or
/*	https with a host, not under the tracker's own URL (unsubscribe,
/*	preferences, links already tracked), not on an excluded domain or
/*	one of its subdomains, and at most REWRITE_URL_MAX bytes. It
/*	fills the default link name, host (lower case) and path.
/* DIAGNOSTICS
/*	None. An attribute whose recorded position does not agree with its
/*	value (which would mean the parser's offsets cannot be trusted) is
/*	left alone rather than risking the markup around it.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/rewrite_int.h"

typedef struct EDIT {
	size_t	off;			/* in the input */
	size_t	len;			/* bytes replaced (0: an insertion) */
	char   *text;			/* what goes there (owned) */
	size_t	seq;			/* tie-break: order of creation */
} EDIT;

typedef struct EDITS {
	EDIT   *v;
	size_t	n, cap;
} EDITS;

/* edits_add - queue one edit; text is taken over */

static void
edits_add(EDITS *e, size_t off, size_t len, char *text)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 16;
		e->v = myrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n].off = off;
	e->v[e->n].len = len;
	e->v[e->n].text = text;
	e->v[e->n].seq = e->n;
	e->n++;
}

/* edit_cmp - by position, then by creation */

static int
edit_cmp(const void *a, const void *b)
{
	const EDIT *x = a, *y = b;

	if (x->off != y->off)
		return (x->off < y->off ? -1 : 1);
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* edits_apply - copy in to out with the edits; returns edits applied */

static int
edits_apply(EDITS *e, const char *in, size_t len, STRBUF *out)
{
	size_t	pos = 0;
	size_t	i;
	int	done = 0;

	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), edit_cmp);
	for (i = 0; i < e->n; i++) {
		EDIT   *ed = e->v + i;

		/* Overlap cannot happen with a sane tree; never corrupt if it does. */
		if (ed->off < pos || ed->off + ed->len > len)
			continue;
		strbuf_append(out, in + pos, ed->off - pos);
		strbuf_puts(out, ed->text);
		pos = ed->off + ed->len;
		done++;
	}
	strbuf_append(out, in + pos, len - pos);
	return (done);
}

/* edits_free - release the list */

static void
edits_free(EDITS *e)
{
	size_t	i;

	for (i = 0; i < e->n; i++)
		myfree(e->v[i].text);
	myfree(e->v);
	e->v = 0;
	e->n = e->cap = 0;
}

/* html_space - HTML's ASCII white space */

static int
html_space(int c)
{
	return (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r');
}

/* trim_copy - mystrdup of str without surrounding HTML white space */

static char *
trim_copy(const char *str)
{
	size_t	len = strlen(str);

	while (len > 0 && html_space((unsigned char) str[len - 1]))
		len--;
	while (len > 0 && html_space((unsigned char) *str))
		str++, len--;
	return (mystrndup(str, len));
}

/*
 * url_safe - a URL from the caller is printable ASCII without spaces: it
 * goes into text and attributes as it is, so a line break there could
 * end a MIME part.
 */

static int
url_safe(const char *url)
{
	const unsigned char *cp;

	for (cp = (const unsigned char *) url; *cp; cp++)
		if (*cp <= ' ' || *cp >= 0x7f)
			return (0);
	return (cp != (const unsigned char *) url);
}

/* attr_escape - the URL as a double-quoted attribute value */

static char *
attr_escape(const char *url)
{
	STRBUF	sb = STRBUF_INIT;
	const char *cp;

	strbuf_putc(&sb, '"');
	for (cp = url; *cp; cp++) {
		switch (*cp) {
		case '&':
			strbuf_puts(&sb, "&amp;");
			break;
		case '"':
			strbuf_puts(&sb, "&quot;");
			break;
		case '\'':
			strbuf_puts(&sb, "&#39;");
			break;
		case '<':
			strbuf_puts(&sb, "&lt;");
			break;
		case '>':
			strbuf_puts(&sb, "&gt;");
			break;
		default:
			strbuf_putc(&sb, *cp);
		}
	}
	strbuf_putc(&sb, '"');
	return (strbuf_steal(&sb));
}

/* host_excluded - host is one of the domains or below one */

static int
host_excluded(const char *const *domains, const char *host, size_t hlen)
{
	const char *const *dp;

	if (domains == 0)
		return (0);
	for (dp = domains; *dp; dp++) {
		const char *d = *dp;
		size_t	dlen;

		while (*d == '.')
			d++;
		dlen = strlen(d);
		if (dlen == 0 || dlen > hlen)
			continue;
		if (strncasecmp(host + hlen - dlen, d, dlen) == 0
		    && (dlen == hlen || host[hlen - dlen - 1] == '.'))
			return (1);
	}
	return (0);
}

/* rewrite_trackable - may this URL be tracked; its default name */

int
rewrite_trackable(const REWRITE_OPTS *opts, const char *url, STRBUF *name)
{
	const char *auth;
	const char *end;
	const char *host;
	const char *at;
	const char *path;
	size_t	hlen;
	size_t	i;

	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return (0);
	if (strlen(url) > REWRITE_URL_MAX)
		return (0);
	if (opts->tracker_url && *opts->tracker_url) {
		size_t	tlen = strlen(opts->tracker_url);

		while (tlen > 0 && opts->tracker_url[tlen - 1] == '/')
			tlen--;
		if (strncasecmp(url, opts->tracker_url, tlen) == 0
		    && strchr("/?#", url[tlen]) != 0)
			return (0);
	}
	/* Authority: [userinfo@]host[:port]; an '@' later on is data (#548). */
	end = auth + strcspn(auth, "/?#\\");
	host = auth;
	for (at = auth; at < end; at++)
		if (*at == '@')
			host = at + 1;
	hlen = end - host;
	if (hlen > 0 && host[0] == '[') {
		const char *rb = memchr(host, ']', hlen);

		if (rb)
			hlen = rb + 1 - host;
	} else {
		const char *colon = memchr(host, ':', hlen);

		if (colon)
			hlen = colon - host;
	}
	while (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (hlen == 0)
		return (0);
	if (host_excluded(opts->exclude_domains, host, hlen))
		return (0);
	if (name) {
		strbuf_reset(name);
		for (i = 0; i < hlen; i++)
			strbuf_putc(name, tolower((unsigned char) host[i]));
		path = end;
		strbuf_append(name, path, strcspn(path, "?#"));
		if (strbuf_len(name) > REWRITE_NAME_MAX)
			strbuf_truncate(name, REWRITE_NAME_MAX);
	}
	return (1);
}

typedef struct HTML_CTX {
	REWRITE_STATE *st;
	const char *base;		/* the whole document */
	size_t	len;
	EDITS	edits;
	size_t	pixel_at;		/* offset of </body>, or len */
	int	sub;			/* inside a conditional comment */
} HTML_CTX;

/* in_tag - the attribute's text lies inside its tag's original text */

static int
in_tag(const GumboElement *el, const GumboStringPiece *sp)
{
	const char *t = el->original_tag.data;

	return (t != 0 && sp->data != 0 && sp->data >= t
		&& sp->data + sp->length <= t + el->original_tag.length);
}

/* attr_span - bytes of a whole attribute, with the white space before */

static int
attr_span(const HTML_CTX *hc, const GumboElement *el, const GumboAttribute *a,
	          size_t *off, size_t *len)
{
	const char *start = a->original_name.data;
	const char *stop;

	if (!in_tag(el, &a->original_name))
		return (0);
	/* gumbo gives a valueless attribute its name as original_value. */
	if (a->value_start.offset == 0 && a->value_end.offset == 0)
		stop = a->original_name.data + a->original_name.length;
	else if (in_tag(el, &a->original_value))
		stop = a->original_value.data + a->original_value.length;
	else
		return (0);
	while (start > el->original_tag.data && html_space((unsigned char) start[-1]))
		start--;
	*off = start - hc->base;
	*len = stop - start;
	return (1);
}

/* value_span - bytes of an attribute's value; whether it was quoted */

static int
value_span(const GumboElement *el, const GumboAttribute *a,
	           const char **vp, size_t *vlen, int *quoted)
{
	const char *v = a->original_value.data;
	size_t	n = a->original_value.length;

	if (a->value_start.offset == 0 && a->value_end.offset == 0)
		return (0);
	if (n == 0 || !in_tag(el, &a->original_value))
		return (0);
	*quoted = 0;
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v++;
		n -= 2;
		*quoted = 1;
	} else if (v[0] == '"' || v[0] == '\'') {
		return (0);			/* unterminated: leave it */
	}
	/* Without references the raw text must be the value itself. */
	if (memchr(v, '&', n) == 0
	    && (strlen(a->value) != n || memcmp(a->value, v, n) != 0))
		return (0);
	*vp = v;
	*vlen = n;
	return (1);
}

/* html_link - one <a> or <area> */

static void
html_link(HTML_CTX *hc, const GumboElement *el)
{
	REWRITE_STATE *st = hc->st;
	const REWRITE_OPTS *opts = st->opts;
	GumboAttribute *href = 0;
	GumboAttribute *dlink = 0;
	GumboAttribute *notrack = 0;
	STRBUF	name = STRBUF_INIT;
	unsigned i;
	size_t	off, len;

	for (i = 0; i < el->attributes.length; i++) {
		GumboAttribute *a = el->attributes.data[i];

		if (strcasecmp(a->name, "href") == 0 && href == 0)
			href = a;
		else if (strcasecmp(a->name, "data-link") == 0 && dlink == 0)
			dlink = a;
		else if (strcasecmp(a->name, "data-postdrip") == 0 && notrack == 0)
			notrack = a;
	}
	/* Our own attributes never leave. */
	if (dlink && attr_span(hc, el, dlink, &off, &len))
		edits_add(&hc->edits, off, len, mystrdup(""));
	if (notrack && attr_span(hc, el, notrack, &off, &len))
		edits_add(&hc->edits, off, len, mystrdup(""));

	if (href && opts->track_links && opts->link_url
	    && !(notrack && strcasecmp(notrack->value, "notrack") == 0)) {
		char   *url = trim_copy(href->value);
		const char *vp;
		size_t	vlen;
		int	quoted;

		if (value_span(el, href, &vp, &vlen, &quoted)
		    && rewrite_trackable(opts, url, &name)) {
			char   *given = dlink ? trim_copy(dlink->value) : 0;
			char   *tracked;

			if (given && *given) {
				strbuf_reset(&name);
				strbuf_append(&name, given, strlen(given) > REWRITE_NAME_MAX ?
					      REWRITE_NAME_MAX : strlen(given));
			}
			myfree(given);
			tracked = opts->link_url(opts->ctx, url, strbuf_str(&name),
						 ++st->number);
			if (tracked && !url_safe(tracked)) {
				myfree(tracked);
				tracked = 0;
			}
			if (tracked) {
				char   *esc = attr_escape(tracked);

				myfree(tracked);
				if (quoted)
					edits_add(&hc->edits, vp - 1 - hc->base, vlen + 2, esc);
				else
					edits_add(&hc->edits, vp - hc->base, vlen, esc);
				st->res->links++;
			}
		}
		myfree(url);
	}
	strbuf_free(&name);
}

static void html_walk(HTML_CTX *, const char *, size_t);

/* html_comment - the links of an Outlook conditional comment */

static void
html_comment(HTML_CTX *hc, const GumboText *t)
{
	const char *s = t->original_text.data;
	size_t	n = t->original_text.length;
	const char *c;

	if (hc->sub || s == 0 || n < 7 || strncmp(s, "<!--", 4) != 0)
		return;
	s += 4;
	n -= 4;
	if (n >= 3 && memcmp(s + n - 3, "-->", 3) == 0)
		n -= 3;
	for (c = s; c < s + n && html_space((unsigned char) *c); c++)
		 /* void */ ;
	if (s + n - c < 3 || strncasecmp(c, "[if", 3) != 0 || memchr(c, '<', s + n - c) == 0)
		return;
	hc->sub = 1;
	html_walk(hc, s, n);
	hc->sub = 0;
}

/* html_walk - parse buf (inside hc->base) and collect its edits */

static void
html_walk(HTML_CTX *hc, const char *buf, size_t len)
{
	GumboOptions options = kGumboDefaultOptions;
	GumboOutput *g;
	GumboNode *node;

	options.max_errors = 0;
	g = gumbo_parse_with_options(&options, buf, len);

	/*
	 * Depth-first without recursion (broken HTML nests without bound):
	 * down to the first child, else the next sibling, else up.
	 */
	node = g->document;
	while (node) {
		const GumboVector *kids = 0;

		if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
			const GumboElement *el = &node->v.element;

			/*
			 * An unclosed <a> is cloned by the parser where formatting
			 * is reconstructed: the clone carries the original's
			 * attributes, bytes that are the original's to rewrite.
			 */
			if ((node->parse_flags & (GUMBO_INSERTION_RECONSTRUCTED_FORMATTING_ELEMENT
					  | GUMBO_INSERTION_ADOPTION_AGENCY_CLONED)) != 0)
				 /* a copy: its bytes are another element's */ ;
			else if (el->tag == GUMBO_TAG_A || el->tag == GUMBO_TAG_AREA
			    || (hc->sub && el->tag == GUMBO_TAG_UNKNOWN
				&& el->original_tag.length > 3
				&& strncasecmp(el->original_tag.data, "<v:", 3) == 0))
				html_link(hc, el);
			else if (el->tag == GUMBO_TAG_BODY && !hc->sub
				 && el->original_end_tag.length > 0
			      && el->original_end_tag.data >= hc->base
			      && el->original_end_tag.data < hc->base + hc->len)
				hc->pixel_at = el->original_end_tag.data - hc->base;
			kids = &el->children;
		} else if (node->type == GUMBO_NODE_DOCUMENT) {
			kids = &node->v.document.children;
		} else if (node->type == GUMBO_NODE_COMMENT) {
			html_comment(hc, &node->v.text);
		}
		if (kids && kids->length > 0) {
			node = kids->data[0];
			continue;
		}
		while (node) {
			GumboNode *up = node->parent;
			const GumboVector *sib;

			if (up == 0) {
				node = 0;
				break;
			}
			sib = up->type == GUMBO_NODE_DOCUMENT ?
				&up->v.document.children : &up->v.element.children;
			if (node->index_within_parent + 1 < sib->length) {
				node = sib->data[node->index_within_parent + 1];
				break;
			}
			node = up;
		}
	}
	gumbo_destroy_output(&options, g);
}

/* rewrite_html - track the links of one HTML document, add the pixel */

int
rewrite_html(REWRITE_STATE *st, const char *in, size_t len, STRBUF *out)
{
	HTML_CTX hc;
	int	n, links, placed = 1;
	size_t	tail;

	memset(&hc, 0, sizeof(hc));
	hc.st = st;
	hc.base = in;
	hc.len = len;
	/* Without </body>: at the end, before the last line break. */
	hc.pixel_at = len;
	while (hc.pixel_at > 0 && html_space((unsigned char) in[hc.pixel_at - 1]))
		hc.pixel_at--;
	tail = hc.pixel_at;
	links = st->res->links;
	html_walk(&hc, in, len);

	/*
	 * A document cut off inside a tag (a last "<" with no ">" after it)
	 * has no safe end: markup added there would become part of that tag,
	 * or of its attribute. No pixel and no honeypot then.
	 */
	if (hc.pixel_at == tail) {
		const char *lt = memrchr(in, '<', tail);

		if (lt && memchr(lt, '>', tail - (lt - in)) == 0)
			placed = 0;
	}

	/*
	 * The honeypot: a link no person sees or can reach (no text, hidden,
	 * out of the tab order and of screen readers), which only a machine
	 * that follows every href of the message clicks. The tracker labels
	 * that click, and the message's other clicks around it, as a
	 * scanner's. Only in a part that has links of its own to guard.
	 */
	if (placed && st->opts->track_links && st->opts->link_url && st->res->links > links
	    && st->opts->honeypot_name && *st->opts->honeypot_name
	    && st->opts->honeypot_url && *st->opts->honeypot_url) {
		char   *url = st->opts->link_url(st->opts->ctx, st->opts->honeypot_url,
					    st->opts->honeypot_name, ++st->number);

		if (url && !url_safe(url)) {
			myfree(url);
			url = 0;
		}
		if (url) {
			char   *esc = attr_escape(url);

			edits_add(&hc.edits, hc.pixel_at, 0,
				  myasprintf("<a href=%s style=\"display:none;font-size:0;line-height:0\""
					     " aria-hidden=\"true\" tabindex=\"-1\"></a>", esc));
			myfree(esc);
			myfree(url);
			st->res->honeypots++;
		}
	}
	if (placed && st->opts->track_opens && st->opts->pixel_url) {
		char   *url = st->opts->pixel_url(st->opts->ctx);

		if (url && !url_safe(url)) {
			myfree(url);
			url = 0;
		}
		if (url) {
			char   *esc = attr_escape(url);

			edits_add(&hc.edits, hc.pixel_at, 0,
				  myasprintf("<img src=%s width=\"1\" height=\"1\" alt=\"\""
					     " style=\"display:block;width:1px;height:1px;border:0\">",
					     esc));
			myfree(esc);
			myfree(url);
			st->res->pixels++;
		}
	}
	n = edits_apply(&hc.edits, in, len, out);
	edits_free(&hc.edits);
	return (n);
}

/* rewrite_text - track the bare http(s) URLs of plain text */

int
rewrite_text(REWRITE_STATE *st, const char *in, size_t len, STRBUF *out)
{
	const REWRITE_OPTS *opts = st->opts;
	EDITS	edits = {0, 0, 0};
	STRBUF	name = STRBUF_INIT;
	size_t	i = 0;
	int	n;

	while (opts->track_links && opts->link_url && i + 7 < len) {
		size_t	start = i;
		size_t	end;
		char   *url;

		if ((in[i] != 'h' && in[i] != 'H')
		    || (i > 0 && (isalnum((unsigned char) in[i - 1]) || in[i - 1] == '/'
				  || in[i - 1] == '=' || in[i - 1] == '@'))
		    || (strncasecmp(in + i, "http://", 7) != 0
			&& (i + 8 > len || strncasecmp(in + i, "https://", 8) != 0))) {
			i++;
			continue;
		}
		for (end = i; end < len; end++) {
			unsigned char c = in[end];

			if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"')
				break;
		}
		/* Sentence punctuation after a URL is not part of it. */
		while (end > start && strchr(".,;:!?')]}*", in[end - 1]) != 0)
			end--;
		i = end > start ? end : start + 1;
		url = mystrndup(in + start, end - start);
		if (rewrite_trackable(opts, url, &name)) {
			char   *tracked = opts->link_url(opts->ctx, url, strbuf_str(&name),
							 ++st->number);

			if (tracked && !url_safe(tracked)) {
				myfree(tracked);
				tracked = 0;
			}
			if (tracked) {
				edits_add(&edits, start, end - start, tracked);
				st->res->links++;
			}
		}
		myfree(url);
	}
	n = edits_apply(&edits, in, len, out);
	edits_free(&edits);
	strbuf_free(&name);
	return (n);
}
