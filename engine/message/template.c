/*++
/* NAME
/*	template 3
/* SUMMARY
/*	Mustache templates
/* SYNOPSIS
/*	#include "message/template.h"
/*
/*	TEMPLATE *template_compile(name, src, len, err)
/*	TEMPLATE *template_compile_at(name, first_line, src, len, err)
/*
/*	int	template_render(t, context, partial, pctx, html_escape, out, err)
/*
/*	void	template_free(t)
/*
/*	void	template_limits_set(lim)
/* DESCRIPTION
/*	A Mustache renderer (https://mustache.github.io/mustache.5.html)
/*	that implements the required modules of the specification:
/*	interpolation, sections, inverted sections, comments, partials and
/*	set-delimiter tags, with the specification's rules for standalone
/*	lines and partial indentation. Lambdas are not supported: a context
/*	is JSON data and holds no code.
/*
/*	template_compile() parses the source into a tree. The source is
/*	copied; the caller keeps its buffer. template_compile_at() numbers
/*	lines from first_line, for a template that is part of a larger file.
/*
/*	template_render() renders against a jansson value. Names are looked
/*	up as Mustache says: the first part of a dotted name in the context
/*	stack from the innermost section out, the other parts strictly
/*	inside that value. "." is the current value.
/*
/*	Falsy values are: a missing name, null, false, the empty string and
/*	the empty array. Numbers (0 included) and objects (empty included)
/*	are true; this differs from JavaScript's idea of 0 and follows the
/*	specification's data model.
/*
/*	Values: strings as they are, integers in decimal, reals in the
/*	shortest form that reads back the same, true and false as words,
/*	null as nothing; arrays and objects render as nothing.
/*
/*	With html_escape, {{name}} escapes & < > " and ' for HTML;
/*	{{{name}}} and {{&name}} never escape. Without it (text parts and
/*	header values) nothing is escaped: the caller encodes header values.
/*
/*	postdrip extension: {{name|fallback}} (also in {{{ }}} and {{& }})
/*	renders the fallback text, as written, when the value is falsy or only
/*	white space. Another Mustache implementation reads the whole tag as a
/*	name that it does not find, and renders nothing.
/* BOUNDS
/*	The source size, the nesting depth of sections, the depth of
/*	partials within partials, the size of the output and the number of
/*	tree nodes visited while rendering are bounded (template_limits_set()).
/*	A render that reaches a bound fails; it never truncates silently.
/* DIAGNOSTICS
/*	Errors are returned as "name:line: message", never logged.
/*--*/

#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/strbuf.h"
#include "message/template.h"

typedef enum {
	TN_TEXT,			/* literal bytes */
	TN_VAR,				/* {{name}} */
	TN_RAW,				/* {{{name}}} {{&name}} */
	TN_SECTION,			/* {{#name}} */
	TN_INVERTED,			/* {{^name}} */
	TN_PARTIAL,			/* {{>name}} */
} TNODE_TYPE;

typedef struct TNODE {
	TNODE_TYPE type;
	int	line;
	char   *text;			/* TEXT: the bytes; others: the name */
	size_t	len;
	char  **path;			/* dotted name split; npath 0 is "." */
	int	npath;
	char   *fallback;		/* VAR/RAW: text after '|', or null */
	char   *indent;			/* PARTIAL: standalone indentation */
	struct TNODE *child;		/* SECTION/INVERTED body */
	struct TNODE *next;
} TNODE;

struct TEMPLATE {
	char   *name;
	TNODE  *root;
	int	has_tags;
};

static TEMPLATE_LIMITS template_lim = {
	TEMPLATE_DEF_MAX_SIZE,
	TEMPLATE_DEF_MAX_DEPTH,
	TEMPLATE_DEF_MAX_PARTIAL_DEPTH,
	TEMPLATE_DEF_MAX_OUTPUT,
	TEMPLATE_DEF_MAX_STEPS,
};

#define TEMPLATE_MAX_DELIM	16	/* bytes in a custom delimiter */

/* template_limits_set - replace the bounds */

void
template_limits_set(const TEMPLATE_LIMITS *lim)
{
	template_lim = *lim;
}

/* template_limits_get - current bounds */

void
template_limits_get(TEMPLATE_LIMITS *lim)
{
	*lim = template_lim;
}

 /*
  * Compilation state. Open sections form a stack; tail[d] is where the next
  * node at depth d is linked, so the tree is built in one pass.
  */
typedef struct TCOMP {
	const char *name;
	const char *src;
	size_t	len;
	char	otag[TEMPLATE_MAX_DELIM + 1];
	char	ctag[TEMPLATE_MAX_DELIM + 1];
	size_t	olen;
	size_t	clen;
	TNODE **open;			/* open sections */
	TNODE ***tail;
	int	depth;
	int	max_depth;
	/* Line tracking: bytes before 'scanned' have been counted. */
	size_t	scanned;
	size_t	line_start;		/* offset of the current line */
	int	line;			/* line number at 'scanned' */
	int	has_tags;
	char   *err;
} TCOMP;

/* tnode_free - free a node list */

static void
tnode_free(TNODE *n)
{
	TNODE  *next;
	int	i;

	for (; n; n = next) {
		next = n->next;
		tnode_free(n->child);
		myfree(n->text);
		for (i = 0; i < n->npath; i++)
			myfree(n->path[i]);
		if (n->path)
			myfree(n->path);
		if (n->fallback)
			myfree(n->fallback);
		if (n->indent)
			myfree(n->indent);
		myfree(n);
	}
}

/* tcomp_error - record the first error of a compilation */

static void PD_PRINTF(3, 4)
tcomp_error(TCOMP *c, int line, const char *fmt,...)
{
	STRBUF	sb = STRBUF_INIT;
	va_list	ap;

	if (c->err)
		return;
	strbuf_printf(&sb, "%s:%d: ", c->name, line);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	c->err = strbuf_steal(&sb);
}

/* tcomp_line - line number of offset pos (pos never moves backwards) */

static int
tcomp_line(TCOMP *c, size_t pos)
{
	const char *p;

	while (c->scanned < pos) {
		p = memchr(c->src + c->scanned, '\n', pos - c->scanned);
		if (p == 0) {
			c->scanned = pos;
			break;
		}
		c->line++;
		c->scanned = p - c->src + 1;
		c->line_start = c->scanned;
	}
	return (c->line);
}

/* tcomp_find - offset of needle in src[from, len), or (size_t) -1 */

static size_t
tcomp_find(const TCOMP *c, size_t from, const char *needle, size_t nlen)
{
	const char *p;

	if (from > c->len)
		return ((size_t) -1);
	p = memmem(c->src + from, c->len - from, needle, nlen);
	return (p ? (size_t) (p - c->src) : (size_t) -1);
}

/* tcomp_add - link a new node at the current depth */

static TNODE *
tcomp_add(TCOMP *c, TNODE_TYPE type, int line, const char *text, size_t len)
{
	TNODE  *n = mycalloc(1, sizeof(*n));

	n->type = type;
	n->line = line;
	/* Not mystrndup(): text may hold NUL bytes, and len is what counts. */
	n->text = mymalloc(len + 1);
	memcpy(n->text, text, len);
	n->text[len] = 0;
	n->len = len;
	*c->tail[c->depth] = n;
	c->tail[c->depth] = &n->next;
	return (n);
}

/* is_blank - space or tab */

static int
is_blank(int ch)
{
	return (ch == ' ' || ch == '\t');
}

/* is_space - white space inside a tag */

static int
is_space(int ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n');
}

/* tcomp_trim - trim white space around [*s, *s + *n) */

static void
tcomp_trim(const char **s, size_t *n)
{
	while (*n > 0 && is_space((unsigned char) **s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && is_space((unsigned char) (*s)[*n - 1]))
		(*n)--;
}

/* tcomp_name - set the dotted path of a node; 0 if the name is malformed */

static int
tcomp_name(TNODE *n, const char *name, size_t len)
{
	const char *p;
	const char *end = name + len;
	const char *dot;
	int	count;

	if (len == 0)
		return (0);
	if (len == 1 && name[0] == '.')
		return (1);
	for (count = 1, p = name; p < end; p++) {
		if (*p == '.')
			count++;
		else if (is_space((unsigned char) *p))
			return (0);
	}
	n->path = mycalloc(count, sizeof(char *));
	for (p = name; p <= end; p = dot + 1) {
		dot = memchr(p, '.', end - p);
		if (dot == 0)
			dot = end;
		if (dot == p) {
			/* "a..b", ".a" and "a." name nothing. */
			return (0);
		}
		n->path[n->npath++] = mystrndup(p, dot - p);
	}
	return (1);
}

/* tcomp_delims - parse the inside of {{=<% %>=}}; 0 if malformed */

static int
tcomp_delims(TCOMP *c, const char *s, size_t n)
{
	const char *o;
	const char *e;
	size_t	olen;
	size_t	clen;

	tcomp_trim(&s, &n);
	for (o = s; o < s + n && !is_space((unsigned char) *o); o++)
		 /* void */ ;
	olen = o - s;
	for (e = o; e < s + n && is_space((unsigned char) *e); e++)
		 /* void */ ;
	clen = s + n - e;
	if (olen == 0 || clen == 0 || olen > TEMPLATE_MAX_DELIM
	    || clen > TEMPLATE_MAX_DELIM || memchr(s, '=', olen)
	    || memchr(e, '=', clen))
		return (0);
	for (o = e; o < s + n; o++)
		if (is_space((unsigned char) *o))
			return (0);
	memcpy(c->otag, s, olen);
	c->otag[olen] = 0;
	c->olen = olen;
	memcpy(c->ctag, e, clen);
	c->ctag[clen] = 0;
	c->clen = clen;
	return (1);
}

/* tcomp_parse - build the tree; 0 on success, -1 with c->err set */

static int
tcomp_parse(TCOMP *c, TNODE **root)
{
	size_t	pos = 0;			/* where scanning resumes */
	size_t	text_start = 0;			/* start of pending text */
	size_t	tag;				/* start of the current tag */
	size_t	body;				/* its content after the sigil */
	size_t	body_end;
	size_t	tag_end;
	size_t	ls = 0;
	size_t	q;
	size_t	eol = 0;
	int	sigil;
	int	line;
	int	standalone;
	const char *s;
	size_t	n;
	TNODE  *node;
	char	closer[TEMPLATE_MAX_DELIM + 2];

	c->tail[0] = root;
	for (;;) {
		tag = tcomp_find(c, pos, c->otag, c->olen);
		if (tag == (size_t) -1)
			break;
		line = tcomp_line(c, tag);
		c->has_tags = 1;
		body = tag + c->olen;
		sigil = body < c->len ? (unsigned char) c->src[body] : 0;
		if (sigil == '{' || sigil == '=') {
			closer[0] = (sigil == '{' ? '}' : '=');
			memcpy(closer + 1, c->ctag, c->clen);
			body_end = tcomp_find(c, body + 1, closer, c->clen + 1);
			tag_end = body_end + 1 + c->clen;
			body += 1;
		} else {
			/* The sigil may also be a character of the closing delimiter. */
			if (sigil == '#' || sigil == '^' || sigil == '/'
			    || sigil == '!' || sigil == '>' || sigil == '&')
				body += 1;
			else
				sigil = 0;
			body_end = tcomp_find(c, body, c->ctag, c->clen);
			tag_end = body_end + c->clen;
		}
		if (body_end == (size_t) -1) {
			tcomp_error(c, line, "unclosed tag \"%.*s\"",
				    (int) (c->len - tag > 20 ? 20 : c->len - tag),
				    c->src + tag);
			return (-1);
		}

		/*
		 * A section, inverted, closing, comment, partial or delimiter
		 * tag alone on its line (but for blanks) takes the whole line
		 * away with it, so that logic tags leave no empty lines.
		 */
		standalone = 0;
		if (sigil != 0 && sigil != '{' && sigil != '&') {
			ls = tag;
			while (ls > c->line_start && is_blank((unsigned char) c->src[ls - 1]))
				ls--;
			if (ls == c->line_start) {
				for (q = tag_end; q < c->len && is_blank((unsigned char) c->src[q]); q++)
					 /* void */ ;
				if (q == c->len) {
					standalone = 1, eol = q;
				} else if (c->src[q] == '\n') {
					standalone = 1, eol = q + 1;
				} else if (c->src[q] == '\r' && q + 1 < c->len
					   && c->src[q + 1] == '\n') {
					standalone = 1, eol = q + 2;
				}
			}
		}
		if (standalone) {
			if (ls > text_start)
				tcomp_add(c, TN_TEXT, line, c->src + text_start, ls - text_start);
			text_start = pos = eol;
		} else {
			if (tag > text_start)
				tcomp_add(c, TN_TEXT, line, c->src + text_start, tag - text_start);
			text_start = pos = tag_end;
		}
		s = c->src + body;
		n = body_end - body;
		if (sigil != '!' && sigil != '=')
			tcomp_trim(&s, &n);
		switch (sigil) {
		case '!':
			break;
		case '=':
			if (!tcomp_delims(c, s, n)) {
				tcomp_error(c, line, "bad set-delimiter tag \"%.*s\"",
					    (int) (tag_end - tag > 40 ? 40 : tag_end - tag),
					    c->src + tag);
				return (-1);
			}
			break;
		case '#':
		case '^':
			if (c->depth >= c->max_depth) {
				tcomp_error(c, line, "sections nested deeper than %d",
					    c->max_depth);
				return (-1);
			}
			node = tcomp_add(c, sigil == '#' ? TN_SECTION : TN_INVERTED,
					 line, s, n);
			if (!tcomp_name(node, s, n)) {
				tcomp_error(c, line, "bad section name \"%.*s\"",
					    (int) (n > 40 ? 40 : n), s);
				return (-1);
			}
			c->open[c->depth++] = node;
			c->tail[c->depth] = &node->child;
			break;
		case '/':
			if (c->depth == 0) {
				tcomp_error(c, line, "closing tag \"%.*s\" without an open section",
					    (int) (n > 40 ? 40 : n), s);
				return (-1);
			}
			node = c->open[c->depth - 1];
			if (node->len != n || memcmp(node->text, s, n) != 0) {
				tcomp_error(c, line, "closing tag \"%.*s\" does not match "
					    "section \"%s\" opened at line %d",
					    (int) (n > 40 ? 40 : n), s, node->text,
					    node->line);
				return (-1);
			}
			c->depth--;
			break;
		case '>':
			if (n == 0) {
				tcomp_error(c, line, "empty partial name");
				return (-1);
			}
			node = tcomp_add(c, TN_PARTIAL, line, s, n);
			if (standalone && tag > ls)
				node->indent = mystrndup(c->src + ls, tag - ls);
			break;
		default:			/* {{x}} {{{x}}} {{&x}} */
			{
				const char *bar = memchr(s, '|', n);
				const char *fb = 0;
				size_t	fblen = 0;

				if (bar) {
					fb = bar + 1;
					fblen = s + n - fb;
					n = bar - s;
					tcomp_trim(&s, &n);
					tcomp_trim(&fb, &fblen);
				}
				node = tcomp_add(c, sigil == 0 ? TN_VAR : TN_RAW, line, s, n);
				if (!tcomp_name(node, s, n)) {
					tcomp_error(c, line, n ? "bad name \"%.*s\"" : "empty tag%.*s",
						    (int) (n > 40 ? 40 : n), s);
					return (-1);
				}
				if (fb)
					node->fallback = mystrndup(fb, fblen);
			}
			break;
		}
	}
	if (c->len > text_start)
		tcomp_add(c, TN_TEXT, tcomp_line(c, text_start), c->src + text_start,
			  c->len - text_start);
	if (c->depth > 0) {
		node = c->open[c->depth - 1];
		tcomp_error(c, node->line, "unclosed section \"%s\"", node->text);
		return (-1);
	}
	return (0);
}

/* template_compile_at - compile, numbering lines from first_line */

TEMPLATE *
template_compile_at(const char *name, int first_line, const char *src,
		            size_t len, char **err)
{
	TCOMP	c;
	TNODE  *root = 0;
	TEMPLATE *t;

	memset(&c, 0, sizeof(c));
	c.name = name;
	c.src = src;
	c.len = len;
	c.line = first_line;
	strcpy(c.otag, "{{");
	strcpy(c.ctag, "}}");
	c.olen = c.clen = 2;
	c.max_depth = template_lim.max_depth;
	if (len > template_lim.max_size) {
		*err = myasprintf("%s:%d: template larger than %zu bytes",
				  name, first_line, template_lim.max_size);
		return (0);
	}
	c.open = mycalloc(c.max_depth + 1, sizeof(*c.open));
	c.tail = mycalloc(c.max_depth + 2, sizeof(*c.tail));
	if (tcomp_parse(&c, &root) < 0) {
		tnode_free(root);
		myfree(c.open);
		myfree(c.tail);
		*err = c.err;
		return (0);
	}
	myfree(c.open);
	myfree(c.tail);
	t = mymalloc(sizeof(*t));
	t->name = mystrdup(name);
	t->root = root;
	t->has_tags = c.has_tags;
	return (t);
}

/* template_compile - compile a template */

TEMPLATE *
template_compile(const char *name, const char *src, size_t len, char **err)
{
	return (template_compile_at(name, 1, src, len, err));
}

/* template_free - destroy a compiled template */

void
template_free(TEMPLATE *t)
{
	if (t == 0)
		return;
	tnode_free(t->root);
	myfree(t->name);
	myfree(t);
}

/* template_has_tags - does the source contain any tag */

int
template_has_tags(const TEMPLATE *t)
{
	return (t->has_tags);
}

/* tnode_partials - visit partial nodes */

static void
tnode_partials(const TNODE *n, TEMPLATE_PARTIAL_VISIT fn, void *ctx)
{
	for (; n; n = n->next) {
		if (n->type == TN_PARTIAL)
			fn(n->text, n->line, ctx);
		tnode_partials(n->child, fn, ctx);
	}
}

/* template_partials - list the partials a template names */

void
template_partials(const TEMPLATE *t, TEMPLATE_PARTIAL_VISIT fn, void *ctx)
{
	tnode_partials(t->root, fn, ctx);
}

/* template_html_escape - append with HTML escaping */

void
template_html_escape(STRBUF *out, const char *str, size_t len)
{
	const char *end = str + len;
	const char *run = str;
	const char *rep;

	for (; str < end; str++) {
		switch (*str) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		strbuf_append(out, run, str - run);
		strbuf_puts(out, rep);
		run = str + 1;
	}
	strbuf_append(out, run, end - run);
}

 /*
  * Partials compiled during one render, by name and indentation: a
  * recursive partial is compiled once per depth of indentation, not once
  * per use.
  */
typedef struct PCACHE {
	char   *name;
	char   *indent;
	TEMPLATE *t;			/* null: no such partial */
	struct PCACHE *next;
} PCACHE;

typedef struct TRENDER {
	TEMPLATE_PARTIAL_FN pfn;
	void   *pctx;
	int	html;
	STRBUF *out;
	size_t	out_base;
	json_t **stack;
	int	sp;
	int	cap;
	int	partial_depth;
	unsigned long steps;
	PCACHE *cache;
	char   *err;
} TRENDER;

/* trender_error - record the first render error */

static void PD_PRINTF(3, 4)
trender_error(TRENDER *r, const char *where, const char *fmt,...)
{
	STRBUF	sb = STRBUF_INIT;
	va_list	ap;

	if (r->err)
		return;
	strbuf_printf(&sb, "%s: ", where);
	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	r->err = strbuf_steal(&sb);
}

/* trender_push - push a context value */

static void
trender_push(TRENDER *r, json_t *v)
{
	if (r->sp == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->stack = myrealloc(r->stack, r->cap * sizeof(*r->stack));
	}
	r->stack[r->sp++] = v;
}

/* trender_lookup - resolve a dotted name in the context stack */

static json_t *
trender_lookup(TRENDER *r, const TNODE *n)
{
	json_t *v = 0;
	int	i;

	if (n->npath == 0)
		return (r->sp ? r->stack[r->sp - 1] : 0);
	for (i = r->sp - 1; i >= 0; i--)
		if (json_is_object(r->stack[i])
		    && (v = json_object_get(r->stack[i], n->path[0])) != 0)
			break;
	for (i = 1; v && i < n->npath; i++)
		v = json_is_object(v) ? json_object_get(v, n->path[i]) : 0;
	return (v);
}

/* truthy - Mustache's idea of a true value (see DESCRIPTION) */

static int
truthy(json_t *v)
{
	if (v == 0 || json_is_null(v) || json_is_false(v))
		return (0);
	if (json_is_string(v))
		return (json_string_length(v) > 0);
	if (json_is_array(v))
		return (json_array_size(v) > 0);
	return (1);
}

/* blank_string - a string of white space only (or empty) */

static int
blank_string(json_t *v)
{
	const char *s = json_string_value(v);
	size_t	n = json_string_length(v);

	while (n > 0 && is_space((unsigned char) s[n - 1]))
		n--;
	return (n == 0);
}

/* trender_value - append a scalar value */

static void
trender_value(TRENDER *r, json_t *v, int escape)
{
	char	buf[64];
	const char *s = 0;
	size_t	n = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		break;
	case JSON_INTEGER:
		n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = buf;
		break;
	case JSON_REAL:
		/* The shortest form that reads back as the same double. */
		n = snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
		if (strtod(buf, 0) != json_real_value(v))
			n = snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		s = buf;
		break;
	case JSON_TRUE:
		s = "true", n = 4;
		break;
	case JSON_FALSE:
		s = "false", n = 5;
		break;
	default:
		return;
	}
	if (escape)
		template_html_escape(r->out, s, n);
	else
		strbuf_append(r->out, s, n);
}

/* pcache_get - compile (once per render) a partial with its indentation */

static TEMPLATE *
pcache_get(TRENDER *r, const TNODE *n)
{
	const char *indent = n->indent ? n->indent : "";
	PCACHE *pc;
	char   *src;
	char   *err = 0;
	STRBUF	ind = STRBUF_INIT;
	const char *p;
	const char *nl;
	const char *end;

	for (pc = r->cache; pc; pc = pc->next)
		if (strcmp(pc->name, n->text) == 0 && strcmp(pc->indent, indent) == 0)
			return (pc->t);
	pc = mycalloc(1, sizeof(*pc));
	pc->name = mystrdup(n->text);
	pc->indent = mystrdup(indent);
	pc->next = r->cache;
	r->cache = pc;
	if (r->pfn == 0 || (src = r->pfn(n->text, r->pctx)) == 0)
		return (0);

	/*
	 * A standalone partial's indentation goes before every line of its
	 * source, so literal lines are indented while values that contain
	 * newlines are not, as the specification requires.
	 */
	if (*indent && *src) {
		/* A nested partial's tag line carries the outer indentation. */
		end = src + strlen(src);
		for (p = src; p < end; p = nl) {
			strbuf_puts(&ind, indent);
			nl = memchr(p, '\n', end - p);
			nl = nl ? nl + 1 : end;
			strbuf_append(&ind, p, nl - p);
		}
		myfree(src);
		src = strbuf_steal(&ind);
	}
	pc->t = template_compile(n->text, src, strlen(src), &err);
	myfree(src);
	if (pc->t == 0) {
		if (r->err == 0)
			r->err = myasprintf("%s (partial included at line %d)", err, n->line);
		myfree(err);
	}
	return (pc->t);
}

static void trender_nodes(TRENDER *r, const TEMPLATE *t, const TNODE *n);

/* trender_section - a section or inverted section */

static void
trender_section(TRENDER *r, const TEMPLATE *t, const TNODE *n)
{
	json_t *v = trender_lookup(r, n);
	size_t	i;

	if (n->type == TN_INVERTED) {
		if (!truthy(v))
			trender_nodes(r, t, n->child);
		return;
	}
	if (!truthy(v))
		return;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v) && r->err == 0; i++) {
			trender_push(r, json_array_get(v, i));
			trender_nodes(r, t, n->child);
			r->sp--;
		}
	} else {
		trender_push(r, v);
		trender_nodes(r, t, n->child);
		r->sp--;
	}
}

/* trender_nodes - render a node list */

static void
trender_nodes(TRENDER *r, const TEMPLATE *t, const TNODE *n)
{
	json_t *v;
	TEMPLATE *pt;
	char	where[256];

	for (; n && r->err == 0; n = n->next) {
		if (++r->steps > template_lim.max_steps) {
			snprintf(where, sizeof(where), "%s:%d", t->name, n->line);
			trender_error(r, where, "rendering takes more than %lu steps",
				      template_lim.max_steps);
			return;
		}
		switch (n->type) {
		case TN_TEXT:
			strbuf_append(r->out, n->text, n->len);
			break;
		case TN_VAR:
		case TN_RAW:
			v = trender_lookup(r, n);
			if (n->fallback && (!truthy(v) || (json_is_string(v) && blank_string(v))))
				strbuf_puts(r->out, n->fallback);
			else if (v)
				trender_value(r, v, n->type == TN_VAR && r->html);
			break;
		case TN_SECTION:
		case TN_INVERTED:
			trender_section(r, t, n);
			break;
		case TN_PARTIAL:
			if (r->partial_depth >= template_lim.max_partial_depth) {
				snprintf(where, sizeof(where), "%s:%d", t->name, n->line);
				trender_error(r, where, "partials nested deeper than %d",
					      template_lim.max_partial_depth);
				return;
			}
			if ((pt = pcache_get(r, n)) != 0) {
				r->partial_depth++;
				trender_nodes(r, pt, pt->root);
				r->partial_depth--;
			}
			break;
		}
		if (strbuf_len(r->out) - r->out_base > template_lim.max_output) {
			snprintf(where, sizeof(where), "%s:%d", t->name, n->line);
			trender_error(r, where, "output larger than %zu bytes",
				      template_lim.max_output);
			return;
		}
	}
}

/* template_render - render against a JSON context */

int
template_render(const TEMPLATE *t, json_t *context, TEMPLATE_PARTIAL_FN partial,
		        void *pctx, int html_escape, STRBUF *out, char **err)
{
	TRENDER	r;
	PCACHE *pc;
	PCACHE *next;

	memset(&r, 0, sizeof(r));
	r.pfn = partial;
	r.pctx = pctx;
	r.html = html_escape;
	r.out = out;
	r.out_base = strbuf_len(out);
	if (context)
		trender_push(&r, context);
	trender_nodes(&r, t, t->root);
	for (pc = r.cache; pc; pc = next) {
		next = pc->next;
		template_free(pc->t);
		myfree(pc->name);
		myfree(pc->indent);
		myfree(pc);
	}
	if (r.stack)
		myfree(r.stack);
	if (r.err) {
		*err = r.err;
		return (TEMPLATE_ERROR);
	}
	return (TEMPLATE_OK);
}
