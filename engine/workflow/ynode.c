/*++
/* NAME
/*	ynode 3
/* SUMMARY
/*	YAML documents as trees with line numbers
/* SYNOPSIS
/*	#include "workflow/ynode.h"
/*
/*	int	ynode_parse(name, text, len, docs, errs)
/*	void	ynode_free_docs(docs, ndocs)
/*	YNODE	*ynode_get(map, key)
/* DESCRIPTION
/*	ynode_parse() reads a YAML stream with libfyaml's event parser and
/*	builds one tree per document. libfyaml's own document tree does not
/*	tell the line of a mapping or a sequence, which our error messages
/*	need, hence this small tree.
/*
/*	Limits: YNODE_INPUT_MAX bytes, YNODE_DEPTH_MAX levels,
/*	YNODE_COUNT_MAX nodes, YNODE_KIDS_MAX entries per collection (the
/*	duplicate-key check is quadratic in it).
/* DIAGNOSTICS
/*	Syntax errors are reported with libfyaml's message and line.
/*	Aliases, non-scalar keys, duplicate keys, a null byte in a
/*	scalar (the "\\0" escape) and exceeded limits are errors.
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <libfyaml.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "workflow/ynode.h"

#define YNODE_KIDS_MAX	4096

/* ynode_free - free a tree */

void
ynode_free(YNODE *n)
{
	int	i;

	if (n == 0)
		return;
	for (i = 0; i < (n->type == YNODE_MAP ? 2 * n->n : n->n); i++)
		ynode_free(n->kids[i]);
	myfree(n->kids);
	myfree(n->str);
	myfree(n);
}

/* ynode_free_docs - free what ynode_parse() returned */

void
ynode_free_docs(YNODE **docs, int ndocs)
{
	int	i;

	for (i = 0; i < ndocs; i++)
		ynode_free(docs[i]);
	myfree(docs);
}

/* ynode_is_null - a plain scalar that reads as null */

int
ynode_is_null(const YNODE *n)
{
	return (n == 0 || (n->type == YNODE_SCALAR && n->plain
			   && (n->len == 0 || strcmp(n->str, "~") == 0
			       || strcmp(n->str, "null") == 0
			       || strcmp(n->str, "Null") == 0
			       || strcmp(n->str, "NULL") == 0)));
}

/* ynode_get - the value of a mapping key */

YNODE  *
ynode_get(const YNODE *map, const char *key)
{
	int	i;

	if (map == 0 || map->type != YNODE_MAP)
		return (0);
	for (i = 0; i < map->n; i++)
		if (strcmp(map->kids[2 * i]->str, key) == 0)
			return (map->kids[2 * i + 1]);
	return (0);
}

/* ynode_type_name - for messages */

const char *
ynode_type_name(const YNODE *n)
{
	if (n == 0)
		return ("nothing");
	switch (n->type) {
	case YNODE_MAP:
		return ("a mapping");
	case YNODE_SEQ:
		return ("a list");
	default:
		return (ynode_is_null(n) ? "empty" : "text");
	}
}

/* Parser state. */
typedef struct YNODE_STATE {
	const char *name;
	STRBUF *errs;
	YNODE  *stack[YNODE_DEPTH_MAX];	/* open collections */
	YNODE  *key[YNODE_DEPTH_MAX];	/* a mapping's key awaiting its value */
	int	depth;
	int	count;
	int	last_line;
	YNODE **docs;
	int	ndocs;
	YNODE  *root;
	int	failed;
} YNODE_STATE;

/* ynode_error - report once per document stream */

static void
ynode_error(YNODE_STATE *st, int line, const char *msg)
{
	strbuf_printf(st->errs, "%s:%d: %s\n", st->name, line > 0 ? line : 1, msg);
	st->failed = 1;
}

/* ynode_add - attach a new node to the open collection or the root */

static int
ynode_add(YNODE_STATE *st, YNODE *n)
{
	YNODE  *top;
	YNODE **key;
	int	i;

	if (++st->count > YNODE_COUNT_MAX) {
		ynode_error(st, n->line, "too many YAML nodes in one file");
		ynode_free(n);
		return (-1);
	}
	if (st->depth == 0) {
		st->root = n;
		return (0);
	}
	top = st->stack[st->depth - 1];
	key = &st->key[st->depth - 1];
	if (top->type == YNODE_SEQ) {
		if (top->n >= YNODE_KIDS_MAX) {
			ynode_error(st, n->line, "too many items in one list");
			ynode_free(n);
			return (-1);
		}
		top->kids = myrealloc(top->kids, (top->n + 1) * sizeof(YNODE *));
		top->kids[top->n++] = n;
		return (0);
	}
	/* A mapping: the key waits in st->key until its value arrives. */
	if (*key == 0) {
		if (n->type != YNODE_SCALAR) {
			ynode_error(st, n->line, "a mapping key must be plain text");
			ynode_free(n);
			return (-1);
		}
		for (i = 0; i < top->n; i++) {
			if (strcmp(top->kids[2 * i]->str, n->str) == 0) {
				strbuf_printf(st->errs, "%s:%d: duplicate key \"%s\" (first on line %d)\n",
				     st->name, n->line, n->str, top->kids[2 * i]->line);
				st->failed = 1;
				ynode_free(n);
				return (-1);
			}
		}
		if (top->n >= YNODE_KIDS_MAX) {
			ynode_error(st, n->line, "too many keys in one mapping");
			ynode_free(n);
			return (-1);
		}
		*key = n;
		return (0);
	}
	top->kids = myrealloc(top->kids, (2 * top->n + 2) * sizeof(YNODE *));
	top->kids[2 * top->n] = *key;
	top->kids[2 * top->n + 1] = n;
	top->n++;
	*key = 0;
	return (0);
}

/* ynode_new - a node at a line */

static YNODE *
ynode_new(YNODE_TYPE type, int line)
{
	YNODE  *n = mycalloc(1, sizeof(*n));

	n->type = type;
	n->line = line;
	return (n);
}

/* ynode_event - add one parser event to the tree */

static int
ynode_event(YNODE_STATE *st, struct fy_event *e)
{
	const struct fy_mark *m = fy_event_start_mark(e);
	int	line = m ? m->line + 1 : st->last_line;
	YNODE  *n;
	const char *text;
	size_t	len;

	if (m)
		st->last_line = line;
	switch (e->type) {
	case FYET_DOCUMENT_START:
		st->root = 0;
		return (0);
	case FYET_DOCUMENT_END:
		st->docs = myrealloc(st->docs, (st->ndocs + 1) * sizeof(YNODE *));
		st->docs[st->ndocs++] = st->root;
		st->root = 0;
		return (0);
	case FYET_ALIAS:
		ynode_error(st, line, "YAML aliases (*name) are not supported");
		return (-1);
	case FYET_SCALAR:
		text = fy_token_get_text(e->scalar.value, &len);
		if (text == 0) {
			text = "";
			len = 0;
		}
		/*
		 * A "\0" escape would make the value a shorter C string than
		 * the text says: every reader would see "wel" for "wel\0come".
		 * No value of ours holds a null byte, so it is an error here,
		 * at its line, for keys and values alike.
		 */
		if (memchr(text, 0, len) != 0) {
			ynode_error(st, line, "null byte (\\0) in text");
			return (-1);
		}
		n = ynode_new(YNODE_SCALAR, line);
		n->str = mystrndup(text, len);
		n->len = len;
		n->plain = (fy_token_scalar_style(e->scalar.value) == FYSS_PLAIN);
		return (ynode_add(st, n));
	case FYET_MAPPING_START:
	case FYET_SEQUENCE_START:
		if (st->depth >= YNODE_DEPTH_MAX) {
			ynode_error(st, line, "YAML nested too deeply");
			return (-1);
		}
		n = ynode_new(e->type == FYET_MAPPING_START ? YNODE_MAP : YNODE_SEQ, line);
		if (ynode_add(st, n) < 0)
			return (-1);
		st->key[st->depth] = 0;
		st->stack[st->depth++] = n;
		return (0);
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		if (st->depth > 0)
			st->depth--;
		return (0);
	default:
		return (0);
	}
}

/* ynode_clamp - a line number within the text (errors at EOF say the last) */

static int
ynode_clamp(const char *text, size_t len, int line)
{
	int	lines = 1;
	size_t	i;

	for (i = 0; i < len; i++)
		if (text[i] == '\n' && i + 1 < len)
			lines++;
	return (line > lines ? lines : line);
}

/* ynode_utf8_bad - the line of the first byte that is not UTF-8, or 0 */

static int
ynode_utf8_bad(const unsigned char *s, size_t len)
{
	size_t	i = 0, n, k;
	unsigned cp, min;
	int	line = 1;

	while (i < len) {
		if (s[i] < 0x80) {
			line += (s[i++] == '\n');
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			n = 1, cp = s[i] & 0x1f, min = 0x80;
		else if ((s[i] & 0xf0) == 0xe0)
			n = 2, cp = s[i] & 0x0f, min = 0x800;
		else if ((s[i] & 0xf8) == 0xf0)
			n = 3, cp = s[i] & 0x07, min = 0x10000;
		else
			return (line);
		if (i + n >= len)
			return (line);
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (line);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and code points past Unicode. */
		if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return (line);
		i += n + 1;
	}
	return (0);
}

/* ynode_parse - parse every document of a YAML text */

int
ynode_parse(const char *name, const char *text, size_t len, YNODE ***docs,
	            STRBUF *errs)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg;
	struct fy_diag *diag;
	struct fy_parser *fyp;
	struct fy_event *e;
	struct fy_diag_error *de;
	void   *iter = 0;
	YNODE_STATE st;
	int	reported = 0, bad;

	memset(&st, 0, sizeof(st));
	st.name = name;
	st.errs = errs;
	st.last_line = 1;
	*docs = 0;
	if (len > YNODE_INPUT_MAX) {
		strbuf_printf(errs, "%s:1: file larger than %d bytes\n", name, YNODE_INPUT_MAX);
		return (-1);
	}
	/*
	 * YAML is Unicode text. Checking it first also keeps bytes that are
	 * not UTF-8 away from libfyaml, whose scanner (0.7.12) loops forever
	 * on some of them in a directive line.
	 */
	if ((bad = ynode_utf8_bad((const unsigned char *) text, len)) != 0) {
		strbuf_printf(errs, "%s:%d: not UTF-8 text\n", name, bad);
		return (-1);
	}
	/* Collect libfyaml's diagnostics instead of letting it print them. */
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = 0;
	dcfg.colorize = 0;
	if ((diag = fy_diag_create(&dcfg)) == 0)
		msg_fatal("fy_diag_create: out of memory");
	fy_diag_set_collect_errors(diag, 1);
	memset(&pcfg, 0, sizeof(pcfg));
	/* Recycling leaks the text of escaped scalars in libfyaml 0.7.12. */
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DISABLE_RECYCLING;
	pcfg.diag = diag;
	if ((fyp = fy_parser_create(&pcfg)) == 0
	    || fy_parser_set_string(fyp, text, len) != 0)
		msg_fatal("fy_parser_create: out of memory");
	while (!st.failed && (e = fy_parser_parse(fyp)) != 0) {
		ynode_event(&st, e);
		fy_parser_event_free(fyp, e);
	}
	if (!st.failed && fy_parser_get_stream_error(fyp)) {
		while ((de = fy_diag_errors_iterate(diag, &iter)) != 0) {
			if (reported++ == 0)
				strbuf_printf(errs, "%s:%d: YAML syntax: %s\n", name,
					 ynode_clamp(text, len, de->line > 0 ? de->line : st.last_line),
					      de->msg ? de->msg : "error");
		}
		if (reported == 0)
			strbuf_printf(errs, "%s:%d: YAML syntax error\n", name, st.last_line);
		st.failed = 1;
	}
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	/* A failed parse leaves a half-built document and keys without values. */
	while (st.depth > 0)
		ynode_free(st.key[--st.depth]);
	ynode_free(st.root);
	if (st.failed) {
		ynode_free_docs(st.docs, st.ndocs);
		return (-1);
	}
	*docs = st.docs;
	return (st.ndocs);
}
