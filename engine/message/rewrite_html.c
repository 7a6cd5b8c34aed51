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
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "token/track.h"
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
	size_t	len = strlen(url);
	char   *res = mymalloc(6 * len + 3);	/* "&quot;" at worst */
	char   *w = res;
	const char *cp;

	*w++ = '"';
	for (cp = url; *cp; cp++) {
		const char *ent;

		switch (*cp) {
		case '&':
			ent = "&amp;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		default:
			*w++ = *cp;
			continue;
		}
		while (*ent)
			*w++ = *ent++;
	}
	*w++ = '"';
	*w = 0;
	return (res);
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
	const char *host;
	size_t	hlen;

	/* http(s) with a host; an '@' after the authority is data (#548). */
	if ((host = track_url_host(url, &hlen, 0)) == 0)
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
	if (host_excluded(opts->exclude_domains, host, hlen))
		return (0);
	/* The tracker makes the same name of the URL: then no l= is sent. */
	if (name && !track_link_name(url, name))
		return (0);
	return (1);
}

/*
 * What the parse of a document yields, independent of the options and of
 * the recipient: the links in document order, with the bytes each edit
 * would touch, and where the pixel goes. A plan is applied to the bytes it
 * was made from; the cache below keeps recent plans for documents sent
 * again (a message split into one transaction per recipient).
 */
typedef struct PLAN_LINK {
	char   *url;			/* trimmed href value; 0: none usable */
	char   *given;			/* data-link value, trimmed; 0: none */
	size_t	voff, vlen;		/* the href value, with its quotes */
	size_t	doff, dlen;		/* data-link attribute; dlen 0: none */
	size_t	noff, nlen;		/* data-postdrip attribute; nlen 0: none */
	int	notrack;		/* data-postdrip="notrack" */
} PLAN_LINK;

typedef struct HTML_PLAN {
	PLAN_LINK *link;
	size_t	n, cap;
	size_t	pixel_at;		/* offset of </body>, or the end */
	int	at_end;			/* no </body>: the end, before white space */
	int	placed;			/* the pixel may go there */
	size_t *text;			/* start, end of each text node's bytes */
	size_t	ntext, captext;		/* (pairs, in document order) */
	int	refs;			/* users (cache included) */
	char   *doc;			/* in the cache: the document (owned) */
	size_t	len;
	uint64_t hash;
} HTML_PLAN;

typedef struct HTML_CTX {
	const char *base;		/* the whole document */
	size_t	len;
	HTML_PLAN *plan;
	int	sub;			/* inside a conditional comment */
} HTML_CTX;

/* plan_free - release a plan */

static void
plan_free(HTML_PLAN *plan)
{
	size_t	i;

	for (i = 0; i < plan->n; i++) {
		myfree(plan->link[i].url);
		myfree(plan->link[i].given);
	}
	myfree(plan->link);
	myfree(plan->text);
	myfree(plan->doc);
	myfree(plan);
}

/* plan_add - a new, empty link entry */

static PLAN_LINK *
plan_add(HTML_PLAN *plan)
{
	PLAN_LINK *pl;

	if (plan->n == plan->cap) {
		plan->cap = plan->cap ? 2 * plan->cap : 16;
		plan->link = myrealloc(plan->link, plan->cap * sizeof(*plan->link));
	}
	pl = plan->link + plan->n++;
	memset(pl, 0, sizeof(*pl));
	return (pl);
}

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

/* html_link - one <a> or <area>: what an edit of it would touch */

static void
html_link(HTML_CTX *hc, const GumboElement *el)
{
	GumboAttribute *href = 0;
	GumboAttribute *dlink = 0;
	GumboAttribute *notrack = 0;
	PLAN_LINK pl;
	unsigned i;
	size_t	off, len;
	const char *vp;
	size_t	vlen;
	int	quoted;

	for (i = 0; i < el->attributes.length; i++) {
		GumboAttribute *a = el->attributes.data[i];

		if (strcasecmp(a->name, "href") == 0 && href == 0)
			href = a;
		else if (strcasecmp(a->name, "data-link") == 0 && dlink == 0)
			dlink = a;
		else if (strcasecmp(a->name, "data-postdrip") == 0 && notrack == 0)
			notrack = a;
	}
	memset(&pl, 0, sizeof(pl));
	/* Our own attributes never leave. */
	if (dlink && attr_span(hc, el, dlink, &off, &len)) {
		pl.doff = off;
		pl.dlen = len;
	}
	if (notrack && attr_span(hc, el, notrack, &off, &len)) {
		pl.noff = off;
		pl.nlen = len;
	}
	pl.notrack = notrack && strcasecmp(notrack->value, "notrack") == 0;
	if (href && !pl.notrack && value_span(el, href, &vp, &vlen, &quoted)) {
		pl.url = trim_copy(href->value);
		pl.voff = vp - hc->base - (quoted ? 1 : 0);
		pl.vlen = vlen + (quoted ? 2 : 0);
		pl.given = dlink ? trim_copy(dlink->value) : 0;
	}
	if (pl.dlen || pl.nlen || pl.url)
		*plan_add(hc->plan) = pl;
}

static void html_walk(HTML_CTX *, const char *, size_t);
static void html_text(HTML_CTX *, const GumboNode *);

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

/*
 * html_text - remember where a text node's bytes are. Text of elements
 * whose content is not parsed as markup (script, style, title ...) is
 * left out: only text a change of which cannot change the parse counts
 * (see plan_near()).
 */

static void
html_text(HTML_CTX *hc, const GumboNode *node)
{
	const GumboStringPiece *sp = &node->v.text.original_text;
	HTML_PLAN *plan = hc->plan;
	const GumboNode *up = node->parent;

	if (up == 0 || up->type != GUMBO_NODE_ELEMENT || sp->data == 0 || sp->length == 0
	    || sp->data < hc->base || sp->data + sp->length > hc->base + hc->len)
		return;
	switch (up->v.element.tag) {
	case GUMBO_TAG_SCRIPT:
	case GUMBO_TAG_STYLE:
	case GUMBO_TAG_TITLE:
	case GUMBO_TAG_TEXTAREA:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_IFRAME:
	case GUMBO_TAG_NOEMBED:
	case GUMBO_TAG_NOFRAMES:
	case GUMBO_TAG_NOSCRIPT:
	case GUMBO_TAG_PLAINTEXT:
	case GUMBO_TAG_TEMPLATE:
		return;
	default:
		break;
	}
	if (plan->ntext == plan->captext) {
		plan->captext = plan->captext ? 2 * plan->captext : 64;
		plan->text = myrealloc(plan->text, 2 * plan->captext * sizeof(*plan->text));
	}
	plan->text[2 * plan->ntext] = sp->data - hc->base;
	plan->text[2 * plan->ntext + 1] = sp->data - hc->base + sp->length;
	plan->ntext++;
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
				hc->plan->pixel_at = el->original_end_tag.data - hc->base;
			kids = &el->children;
		} else if (node->type == GUMBO_NODE_DOCUMENT) {
			kids = &node->v.document.children;
		} else if (node->type == GUMBO_NODE_COMMENT) {
			html_comment(hc, &node->v.text);
		} else if (node->type == GUMBO_NODE_TEXT && !hc->sub) {
			html_text(hc, node);
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

/* doc_end - where the pixel goes without </body>; whether it may */

static size_t
doc_end(const char *in, size_t len, int *placed)
{
	size_t	tail = len;
	const char *lt;

	/* At the end, before the last line break. */
	while (tail > 0 && html_space((unsigned char) in[tail - 1]))
		tail--;

	/*
	 * A document cut off inside a tag (a last "<" with no ">" after it)
	 * has no safe end: markup added there would become part of that tag,
	 * or of its attribute. No pixel and no honeypot then.
	 */
	lt = memrchr(in, '<', tail);
	*placed = !(lt && memchr(lt, '>', tail - (lt - in)) == 0);
	return (tail);
}

/* span_cmp - text spans by start */

static int
span_cmp(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	return (x[0] < y[0] ? -1 : x[0] > y[0]);
}

/* html_plan - parse a document into its plan */

static HTML_PLAN *
html_plan(const char *in, size_t len)
{
	HTML_CTX hc;
	HTML_PLAN *plan = mymalloc(sizeof(*plan));
	size_t	tail;
	int	placed;

	memset(plan, 0, sizeof(*plan));
	memset(&hc, 0, sizeof(hc));
	hc.base = in;
	hc.len = len;
	hc.plan = plan;
	tail = doc_end(in, len, &placed);
	plan->pixel_at = tail;
	html_walk(&hc, in, len);
	plan->at_end = (plan->pixel_at == tail);
	plan->placed = plan->at_end ? placed : 1;
	if (plan->ntext > 1)
		qsort(plan->text, plan->ntext, 2 * sizeof(*plan->text), span_cmp);
	plan->refs = 1;
	return (plan);
}

 /*
  * A near match: the same document but for a few runs of text, such as a
  * greeting with the recipient's name. Where each such run lies inside a
  * text node of the kept document, and neither the old nor the new run
  * holds a byte that can start or end markup or a character reference
  * ("<", ">", "&", NUL, CR) or is only white space, the parse of the new
  * document differs from the old one in that text alone: every element,
  * attribute, comment and end tag is the same, at offsets moved by the
  * runs' change in length. The plan is then the old one, moved.
  * Anything else is parsed anew.
  */
#define NEAR_WINDOW	128		/* longest run looked for */
#define NEAR_ANCHOR	16		/* equal bytes that end a run */
#define NEAR_WORD	64		/* a run is widened to whole words */
#define NEAR_RUNS	64		/* more runs than that: parse */

typedef struct NEAR_RUN {
	size_t	off;			/* in the old document */
	size_t	old_len;
	size_t	new_len;
} NEAR_RUN;

/* near_special - a byte that may not be in a changed run */

static int
near_special(int c)
{
	return (c == '<' || c == '>' || c == '&' || c == 0 || c == '\r');
}

/* near_word - a byte a run is widened over */

static int
near_word(int c)
{
	return (!near_special(c) && !html_space(c));
}

/* near_text - the run is ordinary text, with some that is not white space */

static int
near_text(const char *p, size_t n)
{
	size_t	i;
	int	ink = 0;

	for (i = 0; i < n; i++) {
		if (near_special((unsigned char) p[i]))
			return (0);
		if (!html_space((unsigned char) p[i]))
			ink = 1;
	}
	return (ink);
}

/* near_in_text - [start, end) is inside one text node of the plan */

static int
near_in_text(const HTML_PLAN *plan, size_t start, size_t end)
{
	size_t	lo = 0, hi = plan->ntext;

	/* The last span that starts at or before start. */
	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;

		if (plan->text[2 * mid] <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo > 0 && plan->text[2 * (lo - 1) + 1] >= end);
}

/* near_context - the nearest "<" or ">" before is ">", after is "<" */

static int
near_context(const char *a, size_t alen, size_t start, size_t end)
{
	size_t	i;

	for (i = start; i > 0; i--) {
		if (a[i - 1] == '<')
			return (0);
		if (a[i - 1] == '>')
			break;
	}
	for (i = end; i < alen; i++) {
		if (a[i] == '>')
			return (0);
		if (a[i] == '<')
			break;
	}
	return (1);
}

/* near_runs - the runs that make b from a; 0 if not a near match */

static int
near_runs(const HTML_PLAN *plan, const char *a, size_t alen, const char *b, size_t blen,
	          NEAR_RUN *run, int *nrun)
{
	size_t	i = 0, j = 0;
	size_t	prev = 0;		/* end of the last run, in a */
	size_t	same = 0;		/* bytes equal at the end */

	*nrun = 0;
	while (same < alen && same < blen && a[alen - same - 1] == b[blen - same - 1])
		same++;
	for (;;) {
		size_t	da = 0, db = 0, d, s, ea, eb;
		int	found = 0;

		/* Equal bytes, a word at a time. */
		while (i + 8 <= alen && j + 8 <= blen && memcmp(a + i, b + j, 8) == 0)
			i += 8, j += 8;
		while (i < alen && j < blen && a[i] == b[j])
			i++, j++;
		if (i == alen && j == blen)
			return (1);
		if (*nrun == NEAR_RUNS)
			return (0);

		/* Where they agree again: the fewest bytes skipped. */
		for (d = 1; d <= 2 * NEAR_WINDOW && !found; d++) {
			for (da = d > NEAR_WINDOW ? d - NEAR_WINDOW : 0; da <= d && da <= NEAR_WINDOW; da++) {
				db = d - da;
				if ((i + da == alen && j + db == blen)
				    || (i + da == alen - same && j + db == blen - same)) {
					found = 1;
					break;
				}
				if (i + da + NEAR_ANCHOR <= alen && j + db + NEAR_ANCHOR <= blen
				    && a[i + da] == b[j + db]
				    && memcmp(a + i + da, b + j + db, NEAR_ANCHOR) == 0) {
					found = 1;
					break;
				}
			}
		}
		if (!found)
			return (0);

		/* Whole words: widen over the equal bytes on either side. */
		s = i;
		while (s > prev && i - s < NEAR_WORD && near_word((unsigned char) a[s - 1]))
			s--;
		ea = i + da;
		eb = j + db;
		while (ea < alen && eb < blen && a[ea] == b[eb] && ea - (i + da) < NEAR_WORD
		       && near_word((unsigned char) a[ea]))
			ea++, eb++;
		/* Not in the middle of a UTF-8 sequence. */
		if ((s < alen && ((unsigned char) a[s] & 0xc0) == 0x80)
		    || (ea < alen && ((unsigned char) a[ea] & 0xc0) == 0x80)
		    || (eb < blen && ((unsigned char) b[eb] & 0xc0) == 0x80))
			return (0);
		if (!near_text(a + s, ea - s) || !near_text(b + j - (i - s), eb - (j - (i - s)))
		    || !near_in_text(plan, s, ea) || !near_context(a, alen, s, ea))
			return (0);
		run[*nrun].off = s;
		run[*nrun].old_len = ea - s;
		run[*nrun].new_len = eb - (j - (i - s));
		(*nrun)++;
		i = prev = ea;
		j = eb;
	}
}

/* near_move - an offset of the old document in the new one */

static int
near_move(const NEAR_RUN *run, int nrun, size_t off, size_t *moved)
{
	long	delta = 0;
	int	k;

	for (k = 0; k < nrun && run[k].off < off; k++) {
		/* Edits are in markup, never in a run of text. */
		if (off < run[k].off + run[k].old_len)
			return (0);
		delta += (long) run[k].new_len - (long) run[k].old_len;
	}
	*moved = off + delta;
	return (1);
}

/* plan_near - the plan of b from that of a, or null */

static HTML_PLAN *
plan_near(const HTML_PLAN *old, const char *a, size_t alen, const char *b, size_t blen)
{
	NEAR_RUN run[NEAR_RUNS];
	HTML_PLAN *plan;
	int	nrun, ok = 1;
	size_t	i;

	if (!near_runs(old, a, alen, b, blen, run, &nrun))
		return (0);
	plan = mymalloc(sizeof(*plan));
	memset(plan, 0, sizeof(*plan));
	plan->link = mymalloc((old->n ? old->n : 1) * sizeof(*plan->link));
	plan->cap = old->n;
	for (i = 0; i < old->n && ok; i++) {
		PLAN_LINK *pl = plan->link + plan->n++;

		*pl = old->link[i];
		pl->url = pl->url ? mystrdup(pl->url) : 0;
		pl->given = pl->given ? mystrdup(pl->given) : 0;
		ok = (pl->vlen == 0 || near_move(run, nrun, pl->voff, &pl->voff))
			&& (pl->dlen == 0 || near_move(run, nrun, pl->doff, &pl->doff))
			&& (pl->nlen == 0 || near_move(run, nrun, pl->noff, &pl->noff));
	}
	if (old->at_end) {
		plan->at_end = 1;
		plan->pixel_at = doc_end(b, blen, &plan->placed);
	} else {
		plan->placed = old->placed;
		ok = ok && near_move(run, nrun, old->pixel_at, &plan->pixel_at);
	}
	plan->refs = 1;
	if (!ok) {
		plan_free(plan);
		return (0);
	}
	return (plan);
}

 /*
  * The plan cache: the documents parsed last, with their plans. A message
  * that the policy daemon split into one transaction per recipient comes
  * through once per recipient with the same HTML, or with HTML that
  * differs only in a name or two (a near match, above); the parse, most
  * of a rewrite's cost, is then done once. An exact hit is a byte-for-byte
  * equal document. Bounded in entries and in document size; shared by the
  * threads of a process; a plan in use is kept alive by its count.
  */
#define PLAN_CACHE_SLOTS	16
#define PLAN_CACHE_DOC_MAX	(1024 * 1024)	/* larger ones are not kept */
#define PLAN_NEAR_TRIES		2	/* kept documents compared at most */

typedef struct PLAN_SLOT {
	HTML_PLAN *plan;		/* or 0 */
	unsigned long used;		/* for least recently used */
} PLAN_SLOT;

static PLAN_SLOT plan_cache[PLAN_CACHE_SLOTS];
static unsigned long plan_clock;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static REWRITE_CACHE_STATS plan_stats;

/*
 * doc_hash - a fingerprint to pass over unequal documents quickly
 *
 * Only a filter: a match is confirmed byte for byte with memcmp(). So it
 * reads a fixed amount of any document, not all of it: the length, the
 * first and last 256 bytes (where a greeting or a footer differs per
 * recipient) and 64 words spread evenly over the rest.
 */
#define DOC_HASH_EDGE	256
#define DOC_HASH_SAMPLES	64

static uint64_t
doc_hash_bytes(uint64_t h, const char *p, size_t len)
{
	size_t	i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 1099511628211ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char) p[i]) * 1099511628211ULL;
	return (h);
}

static uint64_t
doc_hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ len;
	size_t	i, step;

	if (len <= 2 * DOC_HASH_EDGE + 8 * DOC_HASH_SAMPLES)
		return (doc_hash_bytes(h, p, len));
	h = doc_hash_bytes(h, p, DOC_HASH_EDGE);
	h = doc_hash_bytes(h, p + len - DOC_HASH_EDGE, DOC_HASH_EDGE);
	step = (len - 2 * DOC_HASH_EDGE - 8) / DOC_HASH_SAMPLES;
	for (i = 0; i < DOC_HASH_SAMPLES; i++)
		h = doc_hash_bytes(h, p + DOC_HASH_EDGE + i * step, 8);
	return (h);
}

/* plan_release - one user less */

static void
plan_release(HTML_PLAN *plan)
{
	int	last;

	pthread_mutex_lock(&plan_lock);
	last = (--plan->refs == 0);
	pthread_mutex_unlock(&plan_lock);
	if (last)
		plan_free(plan);
}

/* plan_get - the plan of a document: kept, moved from a near one, or parsed */

static HTML_PLAN *
plan_get(const char *in, size_t len)
{
	uint64_t h = doc_hash(in, len);
	HTML_PLAN *near[PLAN_NEAR_TRIES];
	HTML_PLAN *plan = 0;
	PLAN_SLOT *victim = 0;
	int	i, k, nnear = 0;

	pthread_mutex_lock(&plan_lock);
	for (i = 0; i < PLAN_CACHE_SLOTS; i++) {
		PLAN_SLOT *sl = plan_cache + i;

		if (sl->plan && sl->plan->hash == h && sl->plan->len == len
		    && memcmp(sl->plan->doc, in, len) == 0) {
			/* Taken under the lock: another thread may evict the
			 * slot as soon as it is released. */
			plan = sl->plan;
			sl->used = ++plan_clock;
			plan->refs++;
			plan_stats.hits++;
			pthread_mutex_unlock(&plan_lock);
			return (plan);
		}
	}
	/* The most recently used ones of about the same size. */
	for (k = 0; k < PLAN_NEAR_TRIES; k++) {
		PLAN_SLOT *best = 0;

		for (i = 0; i < PLAN_CACHE_SLOTS; i++) {
			PLAN_SLOT *sl = plan_cache + i;
			size_t	other = sl->plan ? sl->plan->len : 0;

			if (sl->plan == 0 || (other > len ? other - len : len - other)
			    > NEAR_RUNS * NEAR_WINDOW || (k > 0 && sl->plan == near[0]))
				continue;
			if (best == 0 || sl->used > best->used)
				best = sl;
		}
		if (best == 0)
			break;
		near[nnear++] = best->plan;
		best->plan->refs++;
	}
	pthread_mutex_unlock(&plan_lock);

	for (k = 0; k < nnear; k++) {
		if (plan == 0)
			plan = plan_near(near[k], near[k]->doc, near[k]->len, in, len);
		plan_release(near[k]);
	}
	pthread_mutex_lock(&plan_lock);
	if (plan) {
		plan_stats.near++;
		pthread_mutex_unlock(&plan_lock);
		return (plan);
	}
	plan_stats.misses++;
	pthread_mutex_unlock(&plan_lock);

	plan = html_plan(in, len);
	if (len > PLAN_CACHE_DOC_MAX)
		return (plan);
	plan->doc = mymemdup(in, len);
	plan->len = len;
	plan->hash = h;

	pthread_mutex_lock(&plan_lock);
	for (i = 0; i < PLAN_CACHE_SLOTS; i++) {
		PLAN_SLOT *sl = plan_cache + i;

		if (sl->plan == 0) {
			victim = sl;
			break;
		}
		if (victim == 0 || sl->used < victim->used)
			victim = sl;
	}
	if (victim->plan && --victim->plan->refs == 0)
		plan_free(victim->plan);
	victim->plan = plan;
	victim->used = ++plan_clock;
	plan->refs++;
	pthread_mutex_unlock(&plan_lock);
	return (plan);
}

/* rewrite_cache_stats - hits and misses so far */

void
rewrite_cache_stats(REWRITE_CACHE_STATS *stats)
{
	pthread_mutex_lock(&plan_lock);
	*stats = plan_stats;
	pthread_mutex_unlock(&plan_lock);
}

/* rewrite_cache_flush - forget every plan (tests; memory checkers) */

void
rewrite_cache_flush(void)
{
	int	i;

	pthread_mutex_lock(&plan_lock);
	for (i = 0; i < PLAN_CACHE_SLOTS; i++) {
		PLAN_SLOT *sl = plan_cache + i;

		if (sl->plan && --sl->plan->refs == 0)
			plan_free(sl->plan);
		sl->plan = 0;
	}
	pthread_mutex_unlock(&plan_lock);
}

/* rewrite_html - track the links of one HTML document, add the pixel */

int
rewrite_html(REWRITE_STATE *st, const char *in, size_t len, STRBUF *out)
{
	const REWRITE_OPTS *opts = st->opts;
	HTML_PLAN *plan = plan_get(in, len);
	EDITS	edits = {0, 0, 0};
	STRBUF	name = STRBUF_INIT;
	int	n, links;
	size_t	i;

	links = st->res->links;
	for (i = 0; i < plan->n; i++) {
		const PLAN_LINK *pl = plan->link + i;
		char   *tracked;

		if (pl->dlen)
			edits_add(&edits, pl->doff, pl->dlen, mystrdup(""));
		if (pl->nlen)
			edits_add(&edits, pl->noff, pl->nlen, mystrdup(""));
		if (pl->url == 0 || !opts->track_links || opts->link_url == 0
		    || !rewrite_trackable(opts, pl->url, &name))
			continue;
		if (pl->given && *pl->given) {
			strbuf_reset(&name);
			strbuf_append(&name, pl->given, strlen(pl->given) > REWRITE_NAME_MAX ?
				      REWRITE_NAME_MAX : strlen(pl->given));
		}
		tracked = opts->link_url(opts->ctx, pl->url, strbuf_str(&name), ++st->number);
		if (tracked && !url_safe(tracked)) {
			myfree(tracked);
			tracked = 0;
		}
		if (tracked) {
			edits_add(&edits, pl->voff, pl->vlen, attr_escape(tracked));
			myfree(tracked);
			st->res->links++;
		}
	}
	strbuf_free(&name);

	/*
	 * The honeypot: a link no person sees or can reach (no text, hidden,
	 * out of the tab order and of screen readers), which only a machine
	 * that follows every href of the message clicks. The tracker labels
	 * that click, and the message's other clicks around it, as a
	 * scanner's. Only in a part that has links of its own to guard.
	 */
	if (plan->placed && opts->track_links && opts->link_url && st->res->links > links
	    && opts->honeypot_name && *opts->honeypot_name
	    && opts->honeypot_url && *opts->honeypot_url) {
		char   *url = opts->link_url(opts->ctx, opts->honeypot_url,
					     opts->honeypot_name, ++st->number);

		if (url && !url_safe(url)) {
			myfree(url);
			url = 0;
		}
		if (url) {
			char   *esc = attr_escape(url);

			edits_add(&edits, plan->pixel_at, 0,
				  myasprintf("<a href=%s style=\"display:none;font-size:0;line-height:0\""
					     " aria-hidden=\"true\" tabindex=\"-1\"></a>", esc));
			myfree(esc);
			myfree(url);
			st->res->honeypots++;
		}
	}
	if (plan->placed && opts->track_opens && opts->pixel_url) {
		char   *url = opts->pixel_url(opts->ctx);

		if (url && !url_safe(url)) {
			myfree(url);
			url = 0;
		}
		if (url) {
			char   *esc = attr_escape(url);

			edits_add(&edits, plan->pixel_at, 0,
				  myasprintf("<img src=%s width=\"1\" height=\"1\" alt=\"\""
					     " style=\"display:block;width:1px;height:1px;border:0\">",
					     esc));
			myfree(esc);
			myfree(url);
			st->res->pixels++;
		}
	}
	plan_release(plan);
	n = edits_apply(&edits, in, len, out);
	edits_free(&edits);
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
