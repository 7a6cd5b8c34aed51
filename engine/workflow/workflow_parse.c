/*++
/* NAME
/*	workflow_parse 3
/* SUMMARY
/*	read workflow and segment documents
/* SYNOPSIS
/*	#include "workflow/workflow_int.h"
/*
/*	void	wf_parse_text(p, text, len)
/*	void	wf_link_set(set, errs, nerr)
/* DESCRIPTION
/*	wf_parse_text() reads the YAML documents of one file into p->set:
/*	each is a workflow ("workflow: NAME") or a segment ("segment:
/*	NAME"). Nested steps are flattened into WORKFLOW.steps with explicit
/*	next indices (see workflow.h); goto labels are resolved; steps that
/*	can never run are reported as warnings, and a goto that loops back
/*	without passing a wait is an error, because such a workflow would
/*	repeat its steps (and its sends) at once, forever.
/*
/*	wf_link_set() runs the checks that need every file: unique names,
/*	segments that exist, segments that do not refer to themselves.
/* DIAGNOSTICS
/*	Every problem is one "file:line: message" line appended to p->errs;
/*	p->nerr counts the errors (warnings say "warning:" and are not
/*	counted). The parser goes on after an error to report the others.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "message/template.h"
#include "util/mymalloc.h"
#include "workflow/workflow_int.h"

#define WF_LABEL_MAX	48
#define WF_FIELD_MAX	64
#define WF_EVENT_MAX	47		/* STORE_EVENT.type holds 48 bytes */
#define WF_WHERE_MAX	16
#define WF_HEADERS_MAX	32
#define WF_RETRIES_MAX	20

/* Places that hold the index of "whatever comes next", filled in later. */
typedef enum {
	WF_HOLE_NEXT, WF_HOLE_THEN, WF_HOLE_ELSE, WF_HOLE_EVENT, WF_HOLE_TIMEOUT,
	WF_HOLE_ARM,			/* WF_HOLE_ARM + i: arms[i].next of a split */
} WF_HOLE_KIND;

typedef struct WF_HOLES {
	int	n;
	int    *step;
	WF_HOLE_KIND *kind;
} WF_HOLES;

/* The workflow being built. */
typedef struct WF_BUILD {
	WF_PARSER *p;
	WORKFLOW *wf;
	int	cap;
	const char *arm;		/* the split arm being read, or NULL */
} WF_BUILD;

#define STEP(b, i) ((b)->wf->steps + (i))

static WF_COND *wf_parse_cond(WF_PARSER *p, const YNODE *n, const char *what);

/* wf_verror - one diagnostic line */

static void
wf_verror(WF_PARSER *p, int line, const char *prefix, const char *fmt, va_list ap)
{
	strbuf_printf(p->errs, "%s:%d: %s", p->file, line, prefix);
	strbuf_vprintf(p->errs, fmt, ap);
	strbuf_putc(p->errs, '\n');
}

/* wf_error - report an error */

void
wf_error(WF_PARSER *p, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	wf_verror(p, line, "", fmt, ap);
	va_end(ap);
	p->nerr++;
}

/* wf_warning - report a problem that does not stop loading */

void
wf_warning(WF_PARSER *p, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	wf_verror(p, line, "warning: ", fmt, ap);
	va_end(ap);
}

/* wf_set_file - remember a file name for the life of the set */

const char *
wf_set_file(WORKFLOW_SET *set, const char *name)
{
	set->files = myrealloc(set->files, (set->nfiles + 1) * sizeof(char *));
	return (set->files[set->nfiles++] = mystrdup(name));
}

/*
 * Small value readers. Each reports its own error and returns -1.
 */

/* wf_text - a non-empty scalar */

static int
wf_text(WF_PARSER *p, const YNODE *n, const char *what, const char **out)
{
	if (n == 0 || n->type != YNODE_SCALAR || ynode_is_null(n)) {
		wf_error(p, n ? n->line : 0, "%s: expected text, got %s", what,
			 ynode_type_name(n));
		return (-1);
	}
	if (strlen(n->str) != n->len) {
		wf_error(p, n->line, "%s: null byte in text", what);
		return (-1);
	}
	*out = n->str;
	return (0);
}

/* wf_name_ok - letters, digits, and a few marks; starts with a letter */

static int
wf_name_ok(const char *s, size_t max, int first_alpha)
{
	const char *c;

	if (*s == 0 || strlen(s) > max)
		return (0);
	if (first_alpha && !isalpha((unsigned char) *s))
		return (0);
	for (c = s; *c; c++)
		if (!isalnum((unsigned char) *c) && !strchr("._-", *c))
			return (0);
	return (1);
}

/* wf_ident - a name such as a workflow, label, segment, tag or field */

static int
wf_ident(WF_PARSER *p, const YNODE *n, const char *what, size_t max,
	         char **out)
{
	const char *s;

	if (wf_text(p, n, what, &s) < 0)
		return (-1);
	if (!wf_name_ok(s, max, 1)) {
		wf_error(p, n->line, "%s: bad name \"%.80s\" (a letter, then letters, digits, '.', '_' or '-'; at most %zu)",
			 what, s, max);
		return (-1);
	}
	*out = mystrdup(s);
	return (0);
}

/* wf_event_type - an event type name */

static int
wf_event_type(WF_PARSER *p, const YNODE *n, const char *what, char **out)
{
	const char *s, *c;

	if (wf_text(p, n, what, &s) < 0)
		return (-1);
	for (c = s; *c; c++)
		if (!islower((unsigned char) *c) && !isdigit((unsigned char) *c)
		    && !strchr("._-", *c))
			break;
	if (*c || strlen(s) > WF_EVENT_MAX || !islower((unsigned char) *s)) {
		wf_error(p, n->line, "%s: bad event type \"%.80s\" (lower case letters, digits, '.', '_' or '-')",
			 what, s);
		return (-1);
	}
	*out = mystrdup(s);
	return (0);
}

/* wf_duration - a positive duration such as 3d or 1h30m */

static int
wf_duration(WF_PARSER *p, const YNODE *n, const char *what, long *secs)
{
	const char *s;

	if (wf_text(p, n, what, &s) < 0)
		return (-1);
	if (clock_parse_duration(s, secs) < 0 || *secs <= 0) {
		wf_error(p, n->line, "%s: bad duration \"%.80s\" (use 90s, 15m, 2h, 3d or 2w)",
			 what, s);
		return (-1);
	}
	return (0);
}

/* wf_bool - yes/no */

static int
wf_bool(WF_PARSER *p, const YNODE *n, const char *what, int *val)
{
	static const char *const yes[] = {"yes", "true", "on", 0};
	static const char *const no[] = {"no", "false", "off", 0};
	const char *s;
	int	i;

	if (wf_text(p, n, what, &s) < 0)
		return (-1);
	for (i = 0; yes[i]; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return (*val = 1, 0);
	for (i = 0; no[i]; i++)
		if (strcasecmp(s, no[i]) == 0)
			return (*val = 0, 0);
	wf_error(p, n->line, "%s: expected yes or no, got \"%.80s\"", what, s);
	return (-1);
}

/* wf_is_bool_text - yes/no words, without a report */

static int
wf_is_bool_text(const YNODE *n, int *val)
{
	if (n == 0 || n->type != YNODE_SCALAR)
		return (0);
	if (strcasecmp(n->str, "yes") == 0 || strcasecmp(n->str, "true") == 0
	    || strcasecmp(n->str, "on") == 0)
		return (*val = 1, 1);
	if (strcasecmp(n->str, "no") == 0 || strcasecmp(n->str, "false") == 0
	    || strcasecmp(n->str, "off") == 0)
		return (*val = 0, 1);
	return (0);
}

/* wf_keys - report keys of a mapping that are not in the allowed list */

static int
wf_keys(WF_PARSER *p, const YNODE *map, const char *what,
	        const char *const *allowed)
{
	int	i, j, bad = 0;

	for (i = 0; i < map->n; i++) {
		const YNODE *k = map->kids[2 * i];

		for (j = 0; allowed[j]; j++)
			if (strcmp(k->str, allowed[j]) == 0)
				break;
		if (allowed[j] == 0) {
			wf_error(p, k->line, "unknown key \"%.80s\" in %s", k->str, what);
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/* wf_map - expect a mapping */

static int
wf_map(WF_PARSER *p, const YNODE *n, const char *what)
{
	if (n == 0 || n->type != YNODE_MAP) {
		wf_error(p, n ? n->line : 0, "%s: expected a mapping, got %s", what,
			 ynode_type_name(n));
		return (-1);
	}
	return (0);
}

/* wf_to_json - a YAML value as JSON: plain scalars keep their type */

static json_t *
wf_to_json(const YNODE *n)
{
	json_t *j;
	char   *end;
	long long ll;
	double	d;
	int	i;

	if (n == 0)
		return (json_null());
	switch (n->type) {
	case YNODE_MAP:
		j = json_object();
		for (i = 0; i < n->n; i++)
			json_object_set_new(j, n->kids[2 * i]->str, wf_to_json(n->kids[2 * i + 1]));
		return (j);
	case YNODE_SEQ:
		j = json_array();
		for (i = 0; i < n->n; i++)
			json_array_append_new(j, wf_to_json(n->kids[i]));
		return (j);
	default:
		if (!n->plain)
			return (json_stringn(n->str, n->len));
		if (ynode_is_null(n))
			return (json_null());
		if (strcmp(n->str, "true") == 0)
			return (json_true());
		if (strcmp(n->str, "false") == 0)
			return (json_false());
		if (*n->str && (isdigit((unsigned char) *n->str) || *n->str == '-')) {
			ll = strtoll(n->str, &end, 10);
			if (*end == 0)
				return (json_integer(ll));
			d = strtod(n->str, &end);
			if (*end == 0)
				return (json_real(d));
		}
		return (json_stringn(n->str, n->len));
	}
}

/* wf_where - key: value pairs an event's data must carry */

static int
wf_where(WF_PARSER *p, const YNODE *n, WF_MATCH *m, int max)
{
	int	i;
	const char *v;

	if (wf_map(p, n, "where") < 0)
		return (-1);
	if (n->n > max) {
		wf_error(p, n->line, "where: at most %d key%s", max, max == 1 ? "" : "s");
		return (-1);
	}
	m->keys = mycalloc(n->n ? n->n : 1, sizeof(char *));
	m->values = mycalloc(n->n ? n->n : 1, sizeof(char *));
	for (i = 0; i < n->n; i++) {
		if (!wf_name_ok(n->kids[2 * i]->str, WF_FIELD_MAX, 0)) {
			wf_error(p, n->kids[2 * i]->line, "where: bad key \"%.80s\"", n->kids[2 * i]->str);
			return (-1);
		}
		if (wf_text(p, n->kids[2 * i + 1], "where", &v) < 0)
			return (-1);
		m->keys[m->nwhere] = mystrdup(n->kids[2 * i]->str);
		m->values[m->nwhere] = mystrdup(v);
		m->nwhere++;
	}
	return (0);
}

/*
 * Conditions.
 */

/* wf_cond_new - a condition node */

static WF_COND *
wf_cond_new(WF_PARSER *p, WF_COND_KIND kind, int line)
{
	WF_COND *c = mycalloc(1, sizeof(*c));

	c->kind = kind;
	c->pos.file = p->file;
	c->pos.line = line;
	return (c);
}

/* wf_cond_add - append a sub-condition */

static void
wf_cond_add(WF_COND *c, WF_COND *sub)
{
	c->sub = myrealloc(c->sub, (c->nsub + 1) * sizeof(WF_COND *));
	c->sub[c->nsub++] = sub;
}

/* Event words usable as conditions by themselves: "if: opened". */
static const char *const wf_event_words[] = {
	"opened", "clicked", "replied", "bounced", "complained", "unsubscribed", 0,
};

/* wf_event_word - is this one of the event words */

static int
wf_event_word(const char *s)
{
	int	i;

	for (i = 0; wf_event_words[i]; i++)
		if (strcmp(s, wf_event_words[i]) == 0)
			return (1);
	return (0);
}

/* wf_cond_event - opened / clicked: pricing / {event: T, within: 3d, where: } */

static WF_COND *
wf_cond_event(WF_PARSER *p, const char *type, const YNODE *v, int line)
{
	static const char *const keys[] = {"within", "where", "link", "type", 0};
	WF_COND *c = wf_cond_new(p, WF_COND_EVENT, line);
	WF_COND *neg;
	WF_MATCH m;
	const char *text;
	int	yes;

	memset(&m, 0, sizeof(m));
	if (type)
		c->event = mystrdup(type);
	if (v == 0 || ynode_is_null(v) || (wf_is_bool_text(v, &yes) && yes)) {
		/* "opened:" is "opened: yes"; "event:" names no event at all. */
		if (c->event == 0) {
			wf_error(p, v ? v->line : line, "event: expected an event type, got %s",
				 v && !ynode_is_null(v) ? "yes" : "nothing");
			goto bad;
		}
		goto done;
	}
	if (wf_is_bool_text(v, &yes)) {
		/* "opened: no": the contact did not. */
		if (c->event == 0) {
			wf_error(p, v->line, "event: expected an event type, got \"%.80s\"", v->str);
			goto bad;
		}
		neg = wf_cond_new(p, WF_COND_NOT, line);
		wf_cond_add(neg, c);
		return (neg);
	}
	if (v->type == YNODE_SCALAR) {
		/* "clicked: pricing" names the link; "event: purchased" the type. */
		if (c->event == 0) {
			if (wf_event_type(p, v, "event", &c->event) < 0)
				goto bad;
		} else if (strcmp(c->event, "clicked") == 0) {
			c->key = mystrdup("link");
			c->value = mystrdup(v->str);
		} else {
			wf_error(p, v->line, "%s: expected yes, no or a mapping, got \"%.80s\"",
				 type, v->str);
			goto bad;
		}
		goto done;
	}
	if (wf_map(p, v, type ? type : "event") < 0 || wf_keys(p, v, "event condition", keys) < 0)
		goto bad;
	if (ynode_get(v, "type")) {
		if (c->event) {
			wf_error(p, ynode_get(v, "type")->line, "%s: \"type\" only goes with event:", type);
			goto bad;
		}
		if (wf_event_type(p, ynode_get(v, "type"), "event", &c->event) < 0)
			goto bad;
	}
	if (c->event == 0) {
		wf_error(p, v->line, "event condition needs a type");
		goto bad;
	}
	if (ynode_get(v, "within")
	    && wf_duration(p, ynode_get(v, "within"), "within", &c->within) < 0)
		goto bad;
	if (ynode_get(v, "link")) {
		if (strcmp(c->event, "clicked") != 0) {
			wf_error(p, ynode_get(v, "link")->line, "link: only clicked events have links");
			goto bad;
		}
		if (wf_text(p, ynode_get(v, "link"), "link", &text) < 0)
			goto bad;
		c->key = mystrdup("link");
		c->value = mystrdup(text);
	}
	if (ynode_get(v, "where")) {
		if (c->key) {
			wf_error(p, ynode_get(v, "where")->line, "where: an event condition tests one key");
			goto bad;
		}
		if (wf_where(p, ynode_get(v, "where"), &m, 1) < 0)
			goto bad;
		if (m.nwhere == 1) {
			c->key = m.keys[0];
			c->value = m.values[0];
		}
		myfree(m.keys);
		myfree(m.values);
		memset(&m, 0, sizeof(m));
	}
done:
	return (c);
bad:
	if (m.keys) {
		for (yes = 0; yes < m.nwhere; yes++) {
			myfree(m.keys[yes]);
			myfree(m.values[yes]);
		}
		myfree(m.keys);
		myfree(m.values);
	}
	wf_cond_free(c);
	return (0);
}

/* wf_op - an operator at *s; advances *s */

static int
wf_op(const char **s, WF_OP *op)
{
	static const struct {
		const char *text;
		WF_OP	op;
		int	word;
	}	ops[] = {
		{"==", WF_OP_EQ, 0}, {"!=", WF_OP_NE, 0}, {"<=", WF_OP_LE, 0},
		{">=", WF_OP_GE, 0}, {"=", WF_OP_EQ, 0}, {"<", WF_OP_LT, 0},
		{">", WF_OP_GT, 0}, {"contains", WF_OP_CONTAINS, 1},
		{"exists", WF_OP_EXISTS, 1}, {"missing", WF_OP_MISSING, 1},
		{0, 0, 0},
	};
	size_t	len;
	int	i;

	for (i = 0; ops[i].text; i++) {
		len = strlen(ops[i].text);
		if (strncasecmp(*s, ops[i].text, len) == 0
		    && (!ops[i].word || (*s)[len] == 0 || isspace((unsigned char) (*s)[len]))) {
			*s += len;
			*op = ops[i].op;
			return (0);
		}
	}
	return (-1);
}

/* wf_operand - the rest of an expression, unquoted */

static int
wf_operand(WF_COND *c, const char *s)
{
	size_t	len;
	char   *end;

	while (isspace((unsigned char) *s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		c->operand = mystrndup(s + 1, len - 2);
		return (0);
	}
	if (len == 0)
		return (-1);
	c->operand = mystrndup(s, len);
	c->number = strtod(c->operand, &end);
	c->is_number = (*end == 0 && end != c->operand);
	return (0);
}

/* wf_cond_field - "NAME OP VALUE", e.g. "country = FR", "company exists" */

static WF_COND *
wf_cond_field(WF_PARSER *p, const YNODE *v)
{
	WF_COND *c;
	const char *s, *start;

	if (wf_text(p, v, "field", &s) < 0)
		return (0);
	c = wf_cond_new(p, WF_COND_FIELD, v->line);
	while (isspace((unsigned char) *s))
		s++;
	for (start = s; *s && (isalnum((unsigned char) *s) || strchr("._-", *s)); s++)
		 /* void */ ;
	c->field = mystrndup(start, s - start);
	while (isspace((unsigned char) *s))
		s++;
	if (!wf_name_ok(c->field, WF_FIELD_MAX, 1) || wf_op(&s, &c->op) < 0) {
		wf_error(p, v->line, "field: expected \"NAME OP VALUE\" with OP one of = != < <= > >= contains exists missing, got \"%.80s\"",
			 v->str);
		wf_cond_free(c);
		return (0);
	}
	if (c->op == WF_OP_EXISTS || c->op == WF_OP_MISSING) {
		while (isspace((unsigned char) *s))
			s++;
		if (*s) {
			wf_error(p, v->line, "field: nothing may follow \"%s\"",
				 c->op == WF_OP_EXISTS ? "exists" : "missing");
			wf_cond_free(c);
			return (0);
		}
		return (c);
	}
	if (wf_operand(c, s) < 0) {
		wf_error(p, v->line, "field: no value to compare with in \"%.80s\"", v->str);
		wf_cond_free(c);
		return (0);
	}
	return (c);
}

/* wf_cond_score - ">= 50" */

static WF_COND *
wf_cond_score(WF_PARSER *p, const YNODE *v)
{
	WF_COND *c;
	const char *s;

	if (wf_text(p, v, "score", &s) < 0)
		return (0);
	c = wf_cond_new(p, WF_COND_SCORE, v->line);
	c->field = mystrdup("score");
	while (isspace((unsigned char) *s))
		s++;
	if (wf_op(&s, &c->op) < 0 || c->op == WF_OP_CONTAINS || c->op == WF_OP_EXISTS
	    || c->op == WF_OP_MISSING || wf_operand(c, s) < 0 || !c->is_number) {
		wf_error(p, v->line, "score: expected a comparison such as \">= 50\", got \"%.80s\"", v->str);
		wf_cond_free(c);
		return (0);
	}
	return (c);
}

/* wf_cond_list - all: / any: items */

static WF_COND *
wf_cond_list(WF_PARSER *p, WF_COND_KIND kind, const YNODE *v, const char *what)
{
	WF_COND *c, *sub;
	int	i;

	if (v == 0 || v->type != YNODE_SEQ) {
		wf_error(p, v ? v->line : 0, "%s: expected a list of conditions, got %s",
			 what, ynode_type_name(v));
		return (0);
	}
	if (v->n == 0) {
		/* "all: []" is always true and "any: []" never: surely a slip. */
		wf_error(p, v->line, "%s: empty list of conditions", what);
		return (0);
	}
	c = wf_cond_new(p, kind, v->line);
	for (i = 0; i < v->n; i++) {
		if ((sub = wf_parse_cond(p, v->kids[i], what)) == 0) {
			wf_cond_free(c);
			return (0);
		}
		wf_cond_add(c, sub);
	}
	return (c);
}

/* wf_cond_one - one key of a condition mapping */

static WF_COND *
wf_cond_one(WF_PARSER *p, const YNODE *k, const YNODE *v)
{
	const char *key = k->str;
	WF_COND *c, *sub;

	if (strcmp(key, "all") == 0)
		return (wf_cond_list(p, WF_COND_ALL, v, "all"));
	if (strcmp(key, "any") == 0)
		return (wf_cond_list(p, WF_COND_ANY, v, "any"));
	if (strcmp(key, "not") == 0) {
		if ((sub = wf_parse_cond(p, v, "not")) == 0)
			return (0);
		c = wf_cond_new(p, WF_COND_NOT, k->line);
		wf_cond_add(c, sub);
		return (c);
	}
	if (wf_event_word(key))
		return (wf_cond_event(p, key, v, k->line));
	if (strcmp(key, "event") == 0)
		return (wf_cond_event(p, 0, v, k->line));
	if (strcmp(key, "field") == 0)
		return (wf_cond_field(p, v));
	if (strcmp(key, "score") == 0)
		return (wf_cond_score(p, v));
	if (strcmp(key, "tag") == 0 || strcmp(key, "list") == 0
	    || strcmp(key, "segment") == 0) {
		c = wf_cond_new(p, key[0] == 't' ? WF_COND_TAG : key[0] == 'l' ?
				WF_COND_LIST : WF_COND_SEGMENT, k->line);
		if (wf_ident(p, v, key, WF_FIELD_MAX, &c->name) < 0) {
			wf_cond_free(c);
			return (0);
		}
		return (c);
	}
	if (strcmp(key, "active") == 0 || strcmp(key, "inactive") == 0) {
		c = wf_cond_new(p, key[0] == 'a' ? WF_COND_ACTIVE : WF_COND_INACTIVE, k->line);
		if (wf_duration(p, v, key, &c->within) < 0) {
			wf_cond_free(c);
			return (0);
		}
		return (c);
	}
	wf_error(p, k->line, "unknown condition \"%.80s\" (expected opened, clicked, replied, bounced, complained, unsubscribed, event, field, tag, list, score, segment, active, inactive, all, any or not)",
		 key);
	return (0);
}

/* wf_parse_cond - a condition: a word, a mapping (all keys true), a list */

static WF_COND *
wf_parse_cond(WF_PARSER *p, const YNODE *n, const char *what)
{
	WF_COND *c, *sub;
	int	i;

	if (n == 0 || ynode_is_null(n)) {
		wf_error(p, n ? n->line : 0, "%s: missing condition", what);
		return (0);
	}
	if (n->type == YNODE_SCALAR) {
		if (wf_event_word(n->str))
			return (wf_cond_event(p, n->str, 0, n->line));
		if (islower((unsigned char) *n->str) && strlen(n->str) <= WF_EVENT_MAX
		    && strspn(n->str, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n->len)
			wf_error(p, n->line, "unknown condition \"%.80s\" (for an event of that type, write \"event: %.80s\")",
				 n->str, n->str);
		else
			wf_error(p, n->line, "unknown condition \"%.80s\"", n->str);
		return (0);
	}
	if (n->type == YNODE_SEQ)
		return (wf_cond_list(p, WF_COND_ALL, n, what));
	if (n->n == 1)
		return (wf_cond_one(p, n->kids[0], n->kids[1]));
	c = wf_cond_new(p, WF_COND_ALL, n->line);
	for (i = 0; i < n->n; i++) {
		if ((sub = wf_cond_one(p, n->kids[2 * i], n->kids[2 * i + 1])) == 0) {
			wf_cond_free(c);
			return (0);
		}
		wf_cond_add(c, sub);
	}
	if (n->n == 0) {
		wf_error(p, n->line, "%s: empty condition", what);
		wf_cond_free(c);
		return (0);
	}
	return (c);
}

/*
 * Triggers.
 */

/* wf_offset - before: / after: into a signed offset */

static int
wf_offset(WF_PARSER *p, const YNODE *map, long *offset)
{
	const YNODE *b = ynode_get(map, "before");
	const YNODE *a = ynode_get(map, "after");
	long	secs;

	*offset = 0;
	if (b && a) {
		wf_error(p, a->line, "use before or after, not both");
		return (-1);
	}
	if (b) {
		if (wf_duration(p, b, "before", &secs) < 0)
			return (-1);
		*offset = -secs;
	}
	if (a) {
		if (wf_duration(p, a, "after", &secs) < 0)
			return (-1);
		*offset = secs;
	}
	return (0);
}

/* wf_at - at: "HH:MM" */

static int
wf_at(WF_PARSER *p, const YNODE *map, int *at)
{
	const YNODE *v = ynode_get(map, "at");
	const char *s;

	*at = -1;
	if (v == 0)
		return (0);
	if (wf_text(p, v, "at", &s) < 0)
		return (-1);
	if (wf_parse_hhmm(s, at) < 0) {
		wf_error(p, v->line, "at: bad time of day \"%.80s\" (use HH:MM, e.g. 09:30)", s);
		return (-1);
	}
	return (0);
}

/* wf_parse_trigger - trigger: */

static int
wf_parse_trigger(WF_PARSER *p, const YNODE *n, WF_TRIGGER *t)
{
	static const char *const kinds[] = {
		"event", "yearly", "date", "segment", "inactive", "manual", 0,
	};
	static const char *const keys[] = {
		"event", "yearly", "date", "segment", "inactive", "manual",
		"where", "before", "after", "at", 0,
	};
	const YNODE *kind = 0, *v;
	int	i, j, yes;

	t->pos.line = n->line;
	t->at = -1;
	if (n->type == YNODE_SCALAR && strcmp(n->str, "manual") == 0) {
		t->kind = WF_TRIG_MANUAL;
		return (0);
	}
	if (n->type == YNODE_SCALAR && !ynode_is_null(n)) {
		/* "trigger: subscribed" is short for "trigger: {event: subscribed}". */
		t->kind = WF_TRIG_EVENT;
		return (wf_event_type(p, n, "trigger", &t->match.event));
	}
	if (wf_map(p, n, "trigger") < 0 || wf_keys(p, n, "trigger", keys) < 0)
		return (-1);
	for (i = 0; i < n->n; i++)
		for (j = 0; kinds[j]; j++)
			if (strcmp(n->kids[2 * i]->str, kinds[j]) == 0) {
				if (kind) {
					wf_error(p, n->kids[2 * i]->line, "trigger: both %s and %s; a workflow has one trigger",
						 kind->str, kinds[j]);
					return (-1);
				}
				kind = n->kids[2 * i];
			}
	if (kind == 0) {
		wf_error(p, n->line, "trigger: needs one of event, yearly, date, segment, inactive or manual");
		return (-1);
	}
	v = ynode_get(n, kind->str);
	t->pos.line = kind->line;
#define ONLY_WITH(key, ok) do { \
	if (ynode_get(n, key) && !(ok)) { \
		wf_error(p, ynode_get(n, key)->line, "trigger: %s does not apply to a %s trigger", \
			 key, kind->str); \
		return (-1); \
	} } while (0)
	ONLY_WITH("where", strcmp(kind->str, "event") == 0);
	ONLY_WITH("before", strcmp(kind->str, "yearly") == 0 || strcmp(kind->str, "date") == 0);
	ONLY_WITH("after", strcmp(kind->str, "yearly") == 0 || strcmp(kind->str, "date") == 0);
	ONLY_WITH("at", strcmp(kind->str, "yearly") == 0);
	switch (kind->str[0]) {
	case 'e':
		t->kind = WF_TRIG_EVENT;
		if (wf_event_type(p, v, "event", &t->match.event) < 0)
			return (-1);
		if (ynode_get(n, "where")
		    && wf_where(p, ynode_get(n, "where"), &t->match, WF_WHERE_MAX) < 0)
			return (-1);
		return (0);
	case 'y':
	case 'd':
		t->kind = kind->str[0] == 'y' ? WF_TRIG_YEARLY : WF_TRIG_DATE;
		if (wf_ident(p, v, kind->str, WF_FIELD_MAX, &t->field) < 0
		    || wf_offset(p, n, &t->offset) < 0 || wf_at(p, n, &t->at) < 0)
			return (-1);
		if (t->kind == WF_TRIG_YEARLY && (t->offset > 300 * 86400L || t->offset < -300 * 86400L)) {
			wf_error(p, n->line, "yearly: an offset of more than 300 days");
			return (-1);
		}
		return (0);
	case 's':
		t->kind = WF_TRIG_SEGMENT;
		return (wf_ident(p, v, "segment", WF_FIELD_MAX, &t->segment));
	case 'i':
		t->kind = WF_TRIG_INACTIVE;
		return (wf_duration(p, v, "inactive", &t->inactive));
	default:
		t->kind = WF_TRIG_MANUAL;
		if (wf_bool(p, v, "manual", &yes) < 0)
			return (-1);
		if (!yes) {
			wf_error(p, v->line, "manual: only \"manual: yes\" makes sense");
			return (-1);
		}
		return (0);
	}
#undef ONLY_WITH
}

/*
 * Steps.
 */

/* wf_holes_add - remember a place to fill with the next step's index */

static void
wf_holes_add(WF_HOLES *h, int step, WF_HOLE_KIND kind)
{
	h->step = myrealloc(h->step, (h->n + 1) * sizeof(int));
	h->kind = myrealloc(h->kind, (h->n + 1) * sizeof(WF_HOLE_KIND));
	h->step[h->n] = step;
	h->kind[h->n] = kind;
	h->n++;
}

/* wf_holes_move - append src's holes to dst and empty src */

static void
wf_holes_move(WF_HOLES *dst, WF_HOLES *src)
{
	int	i;

	for (i = 0; i < src->n; i++)
		wf_holes_add(dst, src->step[i], src->kind[i]);
	myfree(src->step);
	myfree(src->kind);
	memset(src, 0, sizeof(*src));
}

/* wf_holes_fill - point every hole at target and empty the list */

static void
wf_holes_fill(WORKFLOW *wf, WF_HOLES *h, int target)
{
	WF_STEP *s;
	int	i;

	for (i = 0; i < h->n; i++) {
		s = wf->steps + h->step[i];
		switch (h->kind[i]) {
		case WF_HOLE_NEXT:
			s->next = target;
			break;
		case WF_HOLE_THEN:
			s->then_next = target;
			break;
		case WF_HOLE_ELSE:
			s->else_next = target;
			break;
		case WF_HOLE_EVENT:
			s->on_event = target;
			break;
		case WF_HOLE_TIMEOUT:
			s->on_timeout = target;
			break;
		default:
			s->arms[h->kind[i] - WF_HOLE_ARM].next = target;
			break;
		}
	}
	myfree(h->step);
	myfree(h->kind);
	memset(h, 0, sizeof(*h));
}

/* Step kinds as written, with the keys each allows besides its own. */
static const struct {
	const char *word;
	WF_STEP_KIND kind;
	const char *const keys[8];
}	wf_step_words[] = {
	{"send", WF_STEP_SEND, {0}},
	{"wait", WF_STEP_WAIT, {0}},
	{"wait_until", WF_STEP_WAIT_UNTIL, {"before", "after", "at", 0}},
	{"wait_for", WF_STEP_WAIT_FOR, {"where", "timeout", "on_event", "on_timeout", 0}},
	{"if", WF_STEP_IF, {"then", "else", 0}},
	{"set", WF_STEP_SET, {0}},
	{"add_tag", WF_STEP_ADD_TAG, {0}},
	{"remove_tag", WF_STEP_REMOVE_TAG, {0}},
	{"add_score", WF_STEP_ADD_SCORE, {0}},
	{"notify", WF_STEP_NOTIFY, {"template", "to", 0}},
	{"webhook", WF_STEP_WEBHOOK, {"secret", "headers", "body", "timeout", "retries", "save", 0}},
	{"unsubscribe", WF_STEP_UNSUBSCRIBE, {0}},
	{"split", WF_STEP_SPLIT, {"promote", 0}},
	{"goto", WF_STEP_GOTO, {0}},
	{"end", WF_STEP_END, {0}},
	{0},
};

#define WF_STEP_WORDS "send, wait, wait_until, wait_for, if, set, add_tag, remove_tag, add_score, notify, webhook, unsubscribe, split, goto or end"

static int wf_parse_block(WF_BUILD *b, const YNODE *seq, const char *prefix,
			          const char *what, WF_HOLES *in);

/*
 * wf_parse_arms - the two blocks of a branching step (wait_for's on_event
 * and on_timeout, if's then and else). Step ids inside are NAME.a_suffix.N
 * and NAME.e_suffix.N. a and e hold the holes that lead into each arm; on
 * success both move to in (the steps after the branch follow either arm).
 * On failure they are left for the caller to fill with WF_END.
 */
static int
wf_parse_arms(WF_BUILD *b, const YNODE *n, const char *name,
	              const char *a_key, const char *a_suffix, WF_HOLES *a,
	              const char *e_key, const char *e_suffix, WF_HOLES *e,
	              WF_HOLES *in)
{
	char   *path;
	int	rc;

	path = myasprintf("%s.%s", name, a_suffix);
	rc = wf_parse_block(b, ynode_get(n, a_key), path, a_key, a);
	myfree(path);
	if (rc < 0)
		return (-1);
	path = myasprintf("%s.%s", name, e_suffix);
	rc = wf_parse_block(b, ynode_get(n, e_key), path, e_key, e);
	myfree(path);
	if (rc < 0)
		return (-1);
	wf_holes_move(in, a);
	wf_holes_move(in, e);
	return (0);
}

/*
 * wf_step_split - split: a list of arms {arm: NAME, weight: N, steps: [...]}
 * and an optional promote: NAME. Step ids inside are ID.NAME.N. The holes
 * that lead out of every arm move to in.
 */
static int
wf_step_split(WF_BUILD *b, int i, const YNODE *n, const YNODE *v,
	              const char *name, WF_HOLES *in)
{
	WF_PARSER *p = b->p;
	const YNODE *item, *o;
	const char *s, *outer = b->arm;
	WF_HOLES h;
	char   *end, *path;
	long	weight;
	int	j, k, rc;

	if (v->type != YNODE_SEQ || v->n < 2) {
		wf_error(p, v->line, "split: expected a list of at least two arms (arm: NAME, weight: N, steps: [...])");
		return (-1);
	}
	if (v->n > WF_ARMS_MAX) {
		wf_error(p, v->line, "split: at most %d arms", WF_ARMS_MAX);
		return (-1);
	}
	STEP(b, i)->arms = mycalloc(v->n, sizeof(WF_ARM));
	for (j = 0; j < v->n; j++) {
		item = v->kids[j];
		if (wf_map(p, item, "split") < 0)
			return (-1);
		for (k = 0; k < item->n; k++) {
			s = item->kids[2 * k]->str;
			if (strcmp(s, "arm") != 0 && strcmp(s, "weight") != 0 && strcmp(s, "steps") != 0) {
				wf_error(p, item->kids[2 * k]->line, "unknown key \"%.80s\" in a split arm (expected arm, weight, steps)", s);
				return (-1);
			}
		}
		if ((o = ynode_get(item, "arm")) == 0) {
			wf_error(p, item->line, "split: an arm needs a name (arm: NAME)");
			return (-1);
		}
		if (wf_ident(p, o, "arm", WF_LABEL_MAX, &STEP(b, i)->arms[j].name) < 0)
			return (-1);
		STEP(b, i)->arms[j].pos.file = p->file;
		STEP(b, i)->arms[j].pos.line = o->line;
		STEP(b, i)->arms[j].next = WF_END;
		STEP(b, i)->narms = j + 1;
		for (k = 0; k < j; k++)
			if (strcmp(STEP(b, i)->arms[k].name, STEP(b, i)->arms[j].name) == 0) {
				wf_error(p, o->line, "split: arm \"%s\" already named on line %d",
					 STEP(b, i)->arms[j].name, STEP(b, i)->arms[k].pos.line);
				return (-1);
			}
		STEP(b, i)->arms[j].weight = 1;
		if ((o = ynode_get(item, "weight")) != 0) {
			if (wf_text(p, o, "weight", &s) < 0)
				return (-1);
			weight = strtol(s, &end, 10);
			if (*end || end == s || weight < 0 || weight > WF_WEIGHT_MAX) {
				wf_error(p, o->line, "weight: expected a whole number from 0 to %d, got \"%.80s\"",
					 WF_WEIGHT_MAX, s);
				return (-1);
			}
			STEP(b, i)->arms[j].weight = (int) weight;
		}
	}
	for (j = k = 0; j < STEP(b, i)->narms; j++)
		k += STEP(b, i)->arms[j].weight;
	if (k == 0) {
		wf_error(p, v->line, "split: every arm has weight 0");
		return (-1);
	}
	if ((o = ynode_get(n, "promote")) != 0) {
		if (wf_ident(p, o, "promote", WF_LABEL_MAX, &STEP(b, i)->promote) < 0)
			return (-1);
		if (workflow_arm_find(STEP(b, i), STEP(b, i)->promote) < 0) {
			wf_error(p, o->line, "promote: no arm is called \"%s\"", STEP(b, i)->promote);
			return (-1);
		}
	}
	/* Arm names are copied: steps may move when the array grows. */
	for (j = 0; j < v->n; j++) {
		memset(&h, 0, sizeof(h));
		wf_holes_add(&h, i, WF_HOLE_ARM + j);
		path = myasprintf("%s.%s", name, STEP(b, i)->arms[j].name);
		b->arm = STEP(b, i)->arms[j].name;
		rc = wf_parse_block(b, ynode_get(v->kids[j], "steps"), path, "steps", &h);
		b->arm = outer;
		myfree(path);
		if (rc < 0) {
			wf_holes_fill(b->wf, &h, WF_END);
			return (-1);
		}
		wf_holes_move(in, &h);
	}
	return (0);
}

/* wf_step_new - append a step; pointers into steps die at the next call */

static int
wf_step_new(WF_BUILD *b, WF_STEP_KIND kind, int line)
{
	WF_STEP *s;

	if (b->wf->nsteps == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->wf->steps = myrealloc(b->wf->steps, b->cap * sizeof(WF_STEP));
	}
	s = b->wf->steps + b->wf->nsteps;
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->pos.file = b->p->file;
	s->pos.line = line;
	s->index = b->wf->nsteps;
	s->next = s->then_next = s->else_next = WF_END;
	s->on_event = s->on_timeout = WF_END;
	s->at = -1;
	return (b->wf->nsteps++);
}

/* wf_webhook_save - save: {FIELD: KEY, ...}, fields set from the answer */

static int
wf_webhook_save(WF_BUILD *b, int i, const YNODE *o)
{
	WF_PARSER *p = b->p;
	const char *f, *key;
	int	j;

	if (wf_map(p, o, "save") < 0)
		return (-1);
	if (o->n == 0 || o->n > WF_HEADERS_MAX) {
		wf_error(p, o->line, "save: from 1 to %d fields", WF_HEADERS_MAX);
		return (-1);
	}
	for (j = 0; j < o->n; j++) {
		f = o->kids[2 * j]->str;
		if (!wf_name_ok(f, WF_FIELD_MAX, 1)) {
			wf_error(p, o->kids[2 * j]->line, "save: bad field name \"%.80s\"", f);
			return (-1);
		}
		if (strcmp(f, "email") == 0 || strcmp(f, "id") == 0) {
			wf_error(p, o->kids[2 * j]->line, "save: a workflow cannot change \"%s\"", f);
			return (-1);
		}
		if (wf_text(p, o->kids[2 * j + 1], "save", &key) < 0)
			return (-1);
		if (STEP(b, i)->save == 0)
			STEP(b, i)->save = json_object();
		/* A key of the answer, or a path through its objects (a.b). */
		if (*key == 0 || *key == '.' || key[strlen(key) - 1] == '.'
		    || strstr(key, "..") || strlen(key) > 200 || strpbrk(key, " \t\r\n")) {
			wf_error(p, o->kids[2 * j + 1]->line, "save: bad key \"%.80s\" of the answer "
				 "(a name, or a path such as company.size)", key);
			return (-1);
		}
		json_object_set_new(STEP(b, i)->save, f, json_string(key));
	}
	return (0);
}

/* wf_step_webhook - webhook: URL with its options */

static int
wf_step_webhook(WF_BUILD *b, int i, const YNODE *n, const YNODE *v)
{
	WF_PARSER *p = b->p;
	const YNODE *h, *o;
	const char *s;
	long	secs;
	int	j;
	char   *end;
	long	retries;

	if (wf_text(p, v, "webhook", &s) < 0)
		return (-1);
	if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
		wf_error(p, v->line, "webhook: the URL must start with https:// or http://");
		return (-1);
	}
	if (strpbrk(s, " \t\r\n") || strlen(s) > 2048) {
		wf_error(p, v->line, "webhook: bad URL");
		return (-1);
	}
	STEP(b, i)->url = mystrdup(s);
	STEP(b, i)->duration = 10;
	STEP(b, i)->retries = 5;
	if ((o = ynode_get(n, "secret")) != 0) {
		if (wf_text(p, o, "secret", &s) < 0)
			return (-1);
		STEP(b, i)->secret = mystrdup(s);
	}
	if ((o = ynode_get(n, "timeout")) != 0) {
		if (wf_duration(p, o, "timeout", &secs) < 0)
			return (-1);
		if (secs > 300) {
			wf_error(p, o->line, "timeout: a webhook waits at most 5m");
			return (-1);
		}
		STEP(b, i)->duration = secs;
	}
	if ((o = ynode_get(n, "retries")) != 0) {
		if (wf_text(p, o, "retries", &s) < 0)
			return (-1);
		retries = strtol(s, &end, 10);
		if (*end || end == s || retries < 0 || retries > WF_RETRIES_MAX) {
			wf_error(p, o->line, "retries: expected a number from 0 to %d", WF_RETRIES_MAX);
			return (-1);
		}
		STEP(b, i)->retries = retries;
	}
	if ((h = ynode_get(n, "headers")) != 0) {
		if (wf_map(p, h, "headers") < 0)
			return (-1);
		if (h->n > WF_HEADERS_MAX) {
			wf_error(p, h->line, "headers: at most %d", WF_HEADERS_MAX);
			return (-1);
		}
		STEP(b, i)->headers = mycalloc(h->n ? h->n : 1, sizeof(WF_HEADER));
		for (j = 0; j < h->n; j++) {
			const YNODE *k = h->kids[2 * j];

			if (!wf_name_ok(k->str, 64, 1) || strchr(k->str, '.')) {
				wf_error(p, k->line, "headers: bad header name \"%.80s\"", k->str);
				return (-1);
			}
			if (wf_text(p, h->kids[2 * j + 1], "headers", &s) < 0)
				return (-1);
			/* A header value must never start another header. */
			if (strpbrk(s, "\r\n")) {
				wf_error(p, h->kids[2 * j + 1]->line, "headers: line break in the value of %s", k->str);
				return (-1);
			}
			STEP(b, i)->headers[j].name = mystrdup(k->str);
			STEP(b, i)->headers[j].value = mystrdup(s);
			STEP(b, i)->nheaders++;
		}
	}
	if ((o = ynode_get(n, "body")) != 0)
		STEP(b, i)->body = wf_to_json(o);
	if ((o = ynode_get(n, "save")) != 0 && wf_webhook_save(b, i, o) < 0)
		return (-1);
	return (0);
}

/* wf_step_wait_until - wait_until: FIELD or ISO date, before/after/at */

static int
wf_step_wait_until(WF_BUILD *b, int i, const YNODE *n, const YNODE *v)
{
	WF_PARSER *p = b->p;
	const char *s;
	time_t	t;

	if (wf_text(p, v, "wait_until", &s) < 0)
		return (-1);
	if (isdigit((unsigned char) *s)) {
		if (clock_parse(s, &t) < 0) {
			wf_error(p, v->line, "wait_until: bad date \"%.80s\" (use 2026-12-24 or 2026-12-24T09:00:00Z)", s);
			return (-1);
		}
		STEP(b, i)->date = t;
	} else if (wf_ident(p, v, "wait_until", WF_FIELD_MAX, &STEP(b, i)->field) < 0)
		return (-1);
	if (n == 0)
		return (0);
	return (wf_offset(p, n, &STEP(b, i)->offset) < 0
		|| wf_at(p, n, &STEP(b, i)->at) < 0 ? -1 : 0);
}

/* wf_set_template_ok - a value of set that holds {{ must compile */

static int
wf_set_template_ok(WF_PARSER *p, const YNODE *v)
{
	TEMPLATE *t;
	char   *err = 0;

	if (v->str == 0 || strstr(v->str, "{{") == 0)
		return (0);
	if ((t = template_compile("set", v->str, strlen(v->str), &err)) == 0) {
		wf_error(p, v->line, "set: %s", err ? err : "bad template");
		myfree(err);
		return (-1);
	}
	template_free(t);
	return (0);
}

/* wf_step_set - set: {field: value} */

static int
wf_step_set(WF_BUILD *b, int i, const YNODE *v)
{
	WF_PARSER *p = b->p;
	int	j;

	if (wf_map(p, v, "set") < 0)
		return (-1);
	if (v->n == 0) {
		wf_error(p, v->line, "set: no fields");
		return (-1);
	}
	for (j = 0; j < v->n; j++) {
		const char *f = v->kids[2 * j]->str;

		if (!wf_name_ok(f, WF_FIELD_MAX, 1)) {
			wf_error(p, v->kids[2 * j]->line, "set: bad field name \"%.80s\"", f);
			return (-1);
		}
		/* The address and the id say who the contact is. */
		if (strcmp(f, "email") == 0 || strcmp(f, "id") == 0) {
			wf_error(p, v->kids[2 * j]->line, "set: a workflow cannot change \"%s\"", f);
			return (-1);
		}
		if (wf_set_template_ok(p, v->kids[2 * j + 1]) < 0)
			return (-1);
	}
	STEP(b, i)->values = wf_to_json(v);
	return (0);
}

/* wf_step_notify - notify: owner | ADDRESS, template:, to: */

static int
wf_step_notify(WF_BUILD *b, int i, const YNODE *n, const YNODE *v)
{
	WF_PARSER *p = b->p;
	const YNODE *o;
	const char *s;

	if (wf_text(p, v, "notify", &s) < 0)
		return (-1);
	if (strcmp(s, "owner") == 0)
		STEP(b, i)->to_owner = 1;
	else if (strchr(s, '@') && !strpbrk(s, " \t\r\n,<>") && strlen(s) < 256)
		STEP(b, i)->to = mystrdup(s);
	else {
		wf_error(p, v->line, "notify: expected owner or an address, got \"%.80s\"", s);
		return (-1);
	}
	if ((o = n ? ynode_get(n, "to") : 0) != 0) {
		if (!STEP(b, i)->to_owner) {
			wf_error(p, o->line, "notify: \"to\" is the fallback of \"notify: owner\"");
			return (-1);
		}
		if (wf_text(p, o, "to", &s) < 0)
			return (-1);
		if (!strchr(s, '@') || strpbrk(s, " \t\r\n,<>") || strlen(s) >= 256) {
			wf_error(p, o->line, "to: bad address \"%.80s\"", s);
			return (-1);
		}
		STEP(b, i)->to = mystrdup(s);
	}
	if ((o = n ? ynode_get(n, "template") : 0) == 0) {
		wf_error(p, v->line, "notify: needs a template");
		return (-1);
	}
	return (wf_ident(p, o, "template", WF_LABEL_MAX, &STEP(b, i)->template));
}

/* wf_parse_step - one list item; in: holes that lead here; out: after it */

static int
wf_parse_step(WF_BUILD *b, const YNODE *n, const char *id, WF_HOLES *in)
{
	WF_PARSER *p = b->p;
	const YNODE *kw = 0, *v = 0, *o;
	const char *s;
	char   *label = 0, *reason;
	char   *end;
	WF_HOLES a, e;
	int	i, j, k, w = -1;
	int	yes;

	memset(&a, 0, sizeof(a));
	memset(&e, 0, sizeof(e));

	/* Which kind: a word ("end") or the one kind key of a mapping. */
	if (n->type == YNODE_SCALAR) {
		for (j = 0; wf_step_words[j].word; j++)
			if (strcmp(n->str, wf_step_words[j].word) == 0)
				break;
		if (wf_step_words[j].word == 0 || (wf_step_words[j].kind != WF_STEP_END
			   && wf_step_words[j].kind != WF_STEP_UNSUBSCRIBE)) {
			wf_error(p, n->line, "unknown step \"%.80s\" (expected " WF_STEP_WORDS ")",
				 n->str);
			return (-1);
		}
		w = j;
	} else if (n->type == YNODE_MAP) {
		for (k = 0; k < n->n; k++) {
			const YNODE *key = n->kids[2 * k];

			if (strcmp(key->str, "label") == 0)
				continue;
			for (j = 0; wf_step_words[j].word; j++)
				if (strcmp(key->str, wf_step_words[j].word) == 0)
					break;
			if (wf_step_words[j].word == 0)
				continue;
			if (kw) {
				wf_error(p, key->line, "step has both %s and %s; write two steps",
					 kw->str, key->str);
				return (-1);
			}
			kw = key;
			w = j;
			v = n->kids[2 * k + 1];
		}
		if (kw == 0) {
			for (k = 0; k < n->n; k++)
				if (strcmp(n->kids[2 * k]->str, "label") != 0)
					break;
			wf_error(p, k < n->n ? n->kids[2 * k]->line : n->line,
				 "unknown step \"%.80s\" (expected " WF_STEP_WORDS ")",
				 k < n->n ? n->kids[2 * k]->str : "label");
			return (-1);
		}
		for (k = 0; k < n->n; k++) {
			const char *key = n->kids[2 * k]->str;

			if (strcmp(key, "label") == 0 || n->kids[2 * k] == kw)
				continue;
			for (j = 0; wf_step_words[w].keys[j]; j++)
				if (strcmp(key, wf_step_words[w].keys[j]) == 0)
					break;
			if (wf_step_words[w].keys[j] == 0) {
				wf_error(p, n->kids[2 * k]->line, "unknown key \"%.80s\" in %s step",
					 key, kw->str);
				return (-1);
			}
		}
		if ((o = ynode_get(n, "label")) != 0) {
			if (wf_ident(p, o, "label", WF_LABEL_MAX, &label) < 0)
				return (-1);
		}
	} else {
		wf_error(p, n->line, "a step is a word such as end or a mapping such as \"send: NAME\"; got %s",
			 ynode_type_name(n));
		return (-1);
	}

	i = wf_step_new(b, wf_step_words[w].kind, kw ? kw->line : n->line);
	STEP(b, i)->label = label;
	STEP(b, i)->id = mystrdup(label ? label : id);
	if (b->arm)
		STEP(b, i)->arm = mystrdup(b->arm);
	for (k = 0; k < i; k++)
		if (label && STEP(b, k)->label && strcmp(STEP(b, k)->label, label) == 0) {
			wf_error(p, STEP(b, i)->pos.line, "label \"%s\" already used on line %d",
				 label, STEP(b, k)->pos.line);
			return (-1);
		}
	wf_holes_fill(b->wf, in, i);

	switch (STEP(b, i)->kind) {
	case WF_STEP_SEND:
		if (wf_ident(p, v, "send", WF_LABEL_MAX, &STEP(b, i)->template) < 0)
			return (-1);
		break;
	case WF_STEP_WAIT:
		if (wf_duration(p, v, "wait", &STEP(b, i)->duration) < 0)
			return (-1);
		break;
	case WF_STEP_WAIT_UNTIL:
		if (wf_step_wait_until(b, i, n, v) < 0)
			return (-1);
		break;
	case WF_STEP_WAIT_FOR:
		if (wf_event_type(p, v, "wait_for", &STEP(b, i)->match.event) < 0)
			return (-1);
		if ((o = ynode_get(n, "where")) != 0
		    && wf_where(p, o, &STEP(b, i)->match, WF_WHERE_MAX) < 0)
			return (-1);
		if ((o = ynode_get(n, "timeout")) == 0) {
			wf_error(p, kw->line, "wait_for: needs a timeout");
			return (-1);
		}
		if (wf_duration(p, o, "timeout", &STEP(b, i)->duration) < 0)
			return (-1);
		wf_holes_add(&a, i, WF_HOLE_EVENT);
		wf_holes_add(&e, i, WF_HOLE_TIMEOUT);
		if (wf_parse_arms(b, n, label ? label : id, "on_event", "event", &a,
				  "on_timeout", "timeout", &e, in) < 0)
			goto bad;
		return (0);
	case WF_STEP_IF:
		if ((STEP(b, i)->cond = wf_parse_cond(p, v, "if")) == 0)
			return (-1);
		if (ynode_get(n, "then") == 0 && ynode_get(n, "else") == 0) {
			wf_error(p, kw->line, "if: needs then or else");
			return (-1);
		}
		wf_holes_add(&a, i, WF_HOLE_THEN);
		wf_holes_add(&e, i, WF_HOLE_ELSE);
		if (wf_parse_arms(b, n, label ? label : id, "then", "then", &a,
				  "else", "else", &e, in) < 0)
			goto bad;
		return (0);
	case WF_STEP_SET:
		if (wf_step_set(b, i, v) < 0)
			return (-1);
		break;
	case WF_STEP_ADD_TAG:
	case WF_STEP_REMOVE_TAG:
		if (wf_ident(p, v, kw->str, WF_FIELD_MAX, &STEP(b, i)->name) < 0)
			return (-1);
		break;
	case WF_STEP_ADD_SCORE:
		if (wf_text(p, v, "add_score", &s) < 0)
			return (-1);
		STEP(b, i)->score = strtol(s, &end, 10);
		if (*end || end == s || STEP(b, i)->score > 1000000 || STEP(b, i)->score < -1000000) {
			wf_error(p, v->line, "add_score: expected a whole number (may be negative), got \"%.80s\"", s);
			return (-1);
		}
		break;
	case WF_STEP_NOTIFY:
		if (wf_step_notify(b, i, n, v) < 0)
			return (-1);
		break;
	case WF_STEP_WEBHOOK:
		if (wf_step_webhook(b, i, n, v) < 0)
			return (-1);
		break;
	case WF_STEP_UNSUBSCRIBE:
		STEP(b, i)->name = mystrdup("workflow");
		if (v && !ynode_is_null(v) && !(wf_is_bool_text(v, &yes) && yes)) {
			if (wf_ident(p, v, "unsubscribe", WF_FIELD_MAX, &reason) < 0)
				return (-1);
			myfree(STEP(b, i)->name);
			STEP(b, i)->name = reason;
		}
		break;
	case WF_STEP_SPLIT:
		/* in is still empty here: the arms' ends are what follows. */
		return (wf_step_split(b, i, n, v, label ? label : id, in));
	case WF_STEP_GOTO:
		if (wf_ident(p, v, "goto", WF_LABEL_MAX, &STEP(b, i)->target) < 0)
			return (-1);
		/* Resolved when the whole workflow is read; nothing falls through. */
		return (0);
	case WF_STEP_END:
		if (v && !ynode_is_null(v) && !(wf_is_bool_text(v, &yes) && yes)) {
			wf_error(p, v->line, "end: takes no value");
			return (-1);
		}
		return (0);
	}
	wf_holes_add(in, i, WF_HOLE_NEXT);
	return (0);
bad:
	wf_holes_fill(b->wf, &a, WF_END);
	wf_holes_fill(b->wf, &e, WF_END);
	return (-1);
}

/* wf_parse_block - a list of steps; in: holes that lead to its first step */

static int
wf_parse_block(WF_BUILD *b, const YNODE *seq, const char *prefix,
	               const char *what, WF_HOLES *in)
{
	char   *id;
	int	i, rc;

	if (seq == 0 || ynode_is_null(seq))
		return (0);
	if (seq->type != YNODE_SEQ) {
		wf_error(b->p, seq->line, "%s: expected a list of steps, got %s", what,
			 ynode_type_name(seq));
		return (-1);
	}
	for (i = 0; i < seq->n; i++) {
		id = *prefix ? myasprintf("%s.%d", prefix, i + 1) : myasprintf("%d", i + 1);
		if (strlen(id) >= WF_ID_MAX) {
			wf_error(b->p, seq->kids[i]->line, "steps nested too deeply (give this step a label)");
			myfree(id);
			return (-1);
		}
		rc = wf_parse_step(b, seq->kids[i], id, in);
		myfree(id);
		if (rc < 0)
			return (-1);
	}
	return (0);
}

/*
 * Whole-workflow checks of the step graph.
 */

/* wf_successors - the indices a step may go to; returns how many */

static int
wf_successors(const WF_STEP *s, int out[WF_ARMS_MAX])
{
	int	n = 0, j;

	switch (s->kind) {
	case WF_STEP_SPLIT:
		for (j = 0; j < s->narms; j++)
			out[n++] = s->arms[j].next;
		break;
	case WF_STEP_IF:
		out[n++] = s->then_next;
		out[n++] = s->else_next;
		break;
	case WF_STEP_WAIT_FOR:
		out[n++] = s->on_event;
		out[n++] = s->on_timeout;
		break;
	default:
		out[n++] = s->next;
		break;
	}
	return (n);
}

/* wf_waits - does running this step take time for sure */

static int
wf_waits(const WF_STEP *s)
{
	/* wait_until is not a wait here: on a second pass its date is past. */
	return (s->kind == WF_STEP_WAIT || s->kind == WF_STEP_WAIT_FOR);
}

/*
 * The step graph has one node per step and at most WF_ARMS_MAX edges out of each;
 * both walks below keep their own stack (at most WF_ARMS_MAX entries per
 * step visited), so that a file of thousands of steps cannot exhaust the C
 * stack of the thread that loads it.
 */

/* wf_loops - can we go from step `from` to `to` without a wait */

static int
wf_loops(const WORKFLOW *wf, int from, int to, char *seen, int *stack)
{
	int	succ[WF_ARMS_MAX], n, i, j, top = 0;

	stack[top++] = from;
	while (top > 0) {
		i = stack[--top];
		if (i == WF_END || seen[i])
			continue;
		if (i == to)
			return (1);
		seen[i] = 1;
		if (wf_waits(wf->steps + i))
			continue;
		n = wf_successors(wf->steps + i, succ);
		for (j = 0; j < n; j++)
			stack[top++] = succ[j];
	}
	return (0);
}

/* wf_reach - mark every step reachable from `from` */

static void
wf_reach(const WORKFLOW *wf, int from, char *seen, int *stack)
{
	int	succ[WF_ARMS_MAX], n, i, j, top = 0;

	stack[top++] = from;
	while (top > 0) {
		i = stack[--top];
		if (i == WF_END || seen[i])
			continue;
		seen[i] = 1;
		n = wf_successors(wf->steps + i, succ);
		for (j = 0; j < n; j++)
			stack[top++] = succ[j];
	}
}

/* wf_check_steps - goto targets, loops without a wait, dead steps */

static void
wf_check_steps(WF_PARSER *p, WORKFLOW *wf)
{
	WF_STEP *s;
	char   *seen;
	int    *stack;
	int	i, j, succ[WF_ARMS_MAX], n;

	for (i = 0; i < wf->nsteps; i++) {
		s = wf->steps + i;
		if (s->kind != WF_STEP_GOTO)
			continue;
		for (j = 0; j < wf->nsteps; j++)
			if (wf->steps[j].label && strcmp(wf->steps[j].label, s->target) == 0)
				break;
		if (j == wf->nsteps) {
			wf_error(p, s->pos.line, "goto: no step is labelled \"%s\"", s->target);
			s->next = WF_END;
			continue;
		}
		s->next = j;
	}
	seen = mycalloc(wf->nsteps + 1, 1);
	/* A step is pushed by its predecessors: at most WF_ARMS_MAX * nsteps + 1. */
	stack = mymalloc((WF_ARMS_MAX * wf->nsteps + 1) * sizeof(int));
	for (i = 0; i < wf->nsteps; i++) {
		s = wf->steps + i;
		if (s->kind != WF_STEP_GOTO || s->next == WF_END)
			continue;
		memset(seen, 0, wf->nsteps);
		if (wf_loops(wf, s->next, i, seen, stack))
			wf_error(p, s->pos.line, "goto \"%s\" loops back without a wait: the workflow would repeat at once",
				 s->target);
	}
	if (wf->nsteps > 0) {
		memset(seen, 0, wf->nsteps);
		wf_reach(wf, 0, seen, stack);
		for (i = 0; i < wf->nsteps; i++) {
			if (seen[i])
				continue;
			wf_warning(p, wf->steps[i].pos.line, "step %s is never reached", wf->steps[i].id);
			/* One warning per dead stretch is enough. */
			n = wf_successors(wf->steps + i, succ);
			for (j = 0; j < n; j++)
				if (succ[j] != WF_END)
					wf_reach(wf, succ[j], seen, stack);
		}
	}
	myfree(seen);
	myfree(stack);
}

/*
 * Send settings.
 */

/* wf_day - a day name (mon or monday) at *s; advances *s; -1 if none */

static int
wf_day(const char **s)
{
	static const char *const names[] = {
		"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	};
	char	word[16];
	int	i;

	for (i = 0; isalpha((unsigned char) (*s)[i]) && i < 15; i++)
		word[i] = tolower((unsigned char) (*s)[i]);
	word[i] = 0;
	if (isalpha((unsigned char) (*s)[i]))
		return (-1);
	*s += i;
	for (i = 0; i < 7; i++)
		if ((strlen(word) == 3 && strncmp(word, names[i], 3) == 0)
		    || strcmp(word, names[i]) == 0)
			return (i);
	return (-1);
}

/* wf_parse_days - "mon-fri", "mon,wed,fri", "weekdays", "all" */

static int
wf_parse_days(const char *s, unsigned *days)
{
	const char *c;
	int	a, b, i;

	if (strcasecmp(s, "all") == 0 || strcasecmp(s, "any") == 0
	    || strcasecmp(s, "daily") == 0) {
		*days |= WF_DAY_ALL;
		return (0);
	}
	if (strcasecmp(s, "weekdays") == 0) {
		*days |= 0x3e;
		return (0);
	}
	if (strcasecmp(s, "weekend") == 0 || strcasecmp(s, "weekends") == 0) {
		*days |= 0x41;
		return (0);
	}
	for (c = s;;) {
		while (*c == ' ' || *c == ',')
			c++;
		if (*c == 0)
			return (0);
		if ((a = wf_day(&c)) < 0)
			return (-1);
		b = a;
		if (*c == '-') {
			c++;
			if ((b = wf_day(&c)) < 0)
				return (-1);
		}
		/* A range may wrap: fri-mon is Friday to Monday. */
		for (i = a;; i = (i + 1) % 7) {
			*days |= 1u << i;
			if (i == b)
				break;
		}
		if (*c && *c != ',' && *c != ' ')
			return (-1);
	}
}

/* wf_parse_hours - "09:00-17:00" (several with commas) */

static int
wf_parse_hours(const char *s, WF_SEND *ss)
{
	char	buf[16];
	const char *c, *dash;
	size_t	len;
	int	a, b;

	for (c = s; *c;) {
		while (*c == ' ' || *c == ',')
			c++;
		if (*c == 0)
			break;
		len = strcspn(c, ", ");
		if (len >= sizeof(buf))
			return (-1);
		memcpy(buf, c, len);
		buf[len] = 0;
		c += len;
		if ((dash = strchr(buf, '-')) == 0)
			return (-1);
		buf[dash - buf] = 0;
		if (wf_parse_hhmm(buf, &a) < 0 || wf_parse_hhmm(dash + 1, &b) < 0)
			return (-1);
		/* 24:00 ends a day. */
		if (a == b || a >= 24 * 60 || ss->nhours >= WF_HOURS_MAX)
			return (-1);
		ss->hour_start[ss->nhours] = a;
		ss->hour_end[ss->nhours] = b;
		ss->nhours++;
	}
	return (ss->nhours ? 0 : -1);
}

/* wf_parse_send - send: {days, hours, timezone, timezone_field} */

static int
wf_parse_send(WF_PARSER *p, const YNODE *n, WF_SEND *ss)
{
	static const char *const keys[] = {"days", "hours", "timezone", "timezone_field", 0};
	const YNODE *v;
	const char *s;
	int	i, bad = 0;

	ss->pos.line = n->line;
	if (wf_map(p, n, "send") < 0 || wf_keys(p, n, "send", keys) < 0)
		return (-1);
	if ((v = ynode_get(n, "days")) != 0) {
		ss->days = 0;
		if (v->type == YNODE_SEQ) {
			for (i = 0; i < v->n && !bad; i++)
				if (wf_text(p, v->kids[i], "days", &s) < 0 || wf_parse_days(s, &ss->days) < 0)
					bad = 1;
		} else if (wf_text(p, v, "days", &s) < 0 || wf_parse_days(s, &ss->days) < 0)
			bad = 1;
		if (bad || ss->days == 0) {
			wf_error(p, v->line, "days: expected days such as mon-fri, mon,wed,fri or weekdays");
			return (-1);
		}
	}
	if ((v = ynode_get(n, "hours")) != 0) {
		if (v->type == YNODE_SEQ) {
			for (i = 0; i < v->n && !bad; i++)
				if (wf_text(p, v->kids[i], "hours", &s) < 0 || wf_parse_hours(s, ss) < 0)
					bad = 1;
		} else if (wf_text(p, v, "hours", &s) < 0 || wf_parse_hours(s, ss) < 0)
			bad = 1;
		if (bad) {
			wf_error(p, v->line, "hours: expected ranges such as 09:00-17:00 (at most %d)", WF_HOURS_MAX);
			return (-1);
		}
	}
	if ((v = ynode_get(n, "timezone")) != 0) {
		if (wf_text(p, v, "timezone", &s) < 0)
			return (-1);
		if (wf_zone(p->set, s) == 0) {
			wf_error(p, v->line, "timezone: unknown time zone \"%.80s\" (use an IANA name such as Europe/Paris)", s);
			return (-1);
		}
		ss->timezone = mystrdup(s);
	}
	if ((v = ynode_get(n, "timezone_field")) != 0) {
		myfree(ss->timezone_field);
		ss->timezone_field = 0;
		if (wf_ident(p, v, "timezone_field", WF_FIELD_MAX, &ss->timezone_field) < 0)
			return (-1);
	}
	return (0);
}

/* wf_parse_reentry - once | always | restart | 30d | "once per 30d" */

static int
wf_parse_reentry(WF_PARSER *p, const YNODE *n, WORKFLOW *wf)
{
	const char *s;

	if (wf_text(p, n, "reentry", &s) < 0)
		return (-1);
	if (strcmp(s, "once") == 0) {
		wf->reentry = WF_REENTRY_ONCE;
		return (0);
	}
	if (strcmp(s, "always") == 0 || strcmp(s, "each time") == 0) {
		wf->reentry = WF_REENTRY_ALWAYS;
		return (0);
	}
	if (strcmp(s, "restart") == 0) {
		wf->reentry = WF_REENTRY_RESTART;
		return (0);
	}
	if (strncmp(s, "once per ", 9) == 0)
		s += 9;
	if (clock_parse_duration(s, &wf->reentry_after) == 0 && wf->reentry_after > 0) {
		wf->reentry = WF_REENTRY_INTERVAL;
		return (0);
	}
	wf_error(p, n->line, "reentry: expected once, always, restart, or \"once per\" a duration such as 30d, got \"%.80s\"",
		 n->str);
	return (-1);
}

/* wf_exit_event - an implicit exit rule */

static WF_COND *
wf_exit_event(WF_PARSER *p, int line, const char *type, const char *key,
	              const char *value)
{
	WF_COND *c = wf_cond_new(p, WF_COND_EVENT, line);

	c->event = mystrdup(type);
	c->key = key ? mystrdup(key) : 0;
	c->value = value ? mystrdup(value) : 0;
	return (c);
}

/* wf_add_exit - append an exit rule */

static void
wf_add_exit(WORKFLOW *wf, WF_COND *c)
{
	wf->exits = myrealloc(wf->exits, (wf->nexit + 1) * sizeof(WF_COND *));
	wf->exits[wf->nexit++] = c;
}

/* wf_parse_exits - exit: or goal: (a condition or a list of them) */

static int
wf_parse_exits(WF_PARSER *p, const YNODE *n, WORKFLOW *wf, int goal)
{
	const char *what = goal ? "goal" : "exit";
	WF_COND *c;
	int	i;

	if (n->type != YNODE_SEQ) {
		if ((c = wf_parse_cond(p, n, what)) == 0)
			return (-1);
		wf_add_exit(wf, c);
		if (goal) {
			wf->goals = myrealloc(wf->goals, (wf->ngoal + 1) * sizeof(WF_COND *));
			wf->goals[wf->ngoal++] = c;
		}
		return (0);
	}
	/* A list: each item on its own ends the enrolment. */
	for (i = 0; i < n->n; i++) {
		if ((c = wf_parse_cond(p, n->kids[i], what)) == 0)
			return (-1);
		wf_add_exit(wf, c);
		if (goal) {
			wf->goals = myrealloc(wf->goals, (wf->ngoal + 1) * sizeof(WF_COND *));
			wf->goals[wf->ngoal++] = c;
		}
	}
	return (0);
}

/* wf_parse_workflow - one workflow document */

static WORKFLOW *
wf_parse_workflow(WF_PARSER *p, const YNODE *doc)
{
	static const char *const keys[] = {
		"workflow", "description", "enabled", "stream", "trigger", "audience",
		"exit", "goal", "reentry", "send", "steps", 0,
	};
	WORKFLOW *wf = mycalloc(1, sizeof(*wf));
	WF_BUILD b;
	WF_HOLES in;
	const YNODE *v;
	const char *s;
	int	nerr = p->nerr;

	memset(&in, 0, sizeof(in));
	wf->set = p->set;
	wf->enabled = 1;
	wf->pos.file = p->file;
	wf->pos.line = doc->line;
	wf->trigger.pos.file = p->file;
	wf->send.pos.file = p->file;
	wf->send.pos.line = doc->line;
	wf->send.days = WF_DAY_ALL;
	wf->send.timezone_field = mystrdup("timezone");
	wf->reentry = WF_REENTRY_ONCE;
	wf->trigger.at = -1;
	wf_keys(p, doc, "workflow", keys);
	v = ynode_get(doc, "workflow");
	wf->pos.line = v->line;
	if (wf_text(p, v, "workflow", &s) == 0) {
		if (!wf_name_ok(s, WF_ID_MAX - 1, 0) || !isalnum((unsigned char) *s))
			wf_error(p, v->line, "workflow: bad name \"%.80s\" (a letter or digit, then letters, digits, '.', '_' or '-'; at most %d)",
				 s, WF_ID_MAX - 1);
		else
			wf->name = mystrdup(s);
	}
	if ((v = ynode_get(doc, "description")) != 0 && wf_text(p, v, "description", &s) == 0)
		wf->description = mystrdup(s);
	if ((v = ynode_get(doc, "enabled")) != 0)
		(void) wf_bool(p, v, "enabled", &wf->enabled);
	if ((v = ynode_get(doc, "stream")) != 0 && wf_text(p, v, "stream", &s) == 0) {
		if (strcmp(s, "marketing") == 0)
			wf->stream = WF_STREAM_MARKETING;
		else if (strcmp(s, "transactional") == 0)
			wf->stream = WF_STREAM_TRANSACTIONAL;
		else
			wf_error(p, v->line, "stream: expected marketing or transactional, got \"%.80s\"", s);
	}
	if ((v = ynode_get(doc, "trigger")) != 0)
		(void) wf_parse_trigger(p, v, &wf->trigger);
	else
		wf_error(p, wf->pos.line, "workflow %s has no trigger (use \"trigger: manual\" for none)",
			 wf->name ? wf->name : "");
	if ((v = ynode_get(doc, "audience")) != 0)
		wf->audience = wf_parse_cond(p, v, "audience");
	if ((v = ynode_get(doc, "goal")) != 0)
		(void) wf_parse_exits(p, v, wf, 1);
	if ((v = ynode_get(doc, "exit")) != 0)
		(void) wf_parse_exits(p, v, wf, 0);
	if (wf->stream == WF_STREAM_MARKETING) {
		/* Marketing mail stops for whoever opts out or cannot receive it. */
		wf_add_exit(wf, wf_exit_event(p, 0, "unsubscribed", 0, 0));
		wf_add_exit(wf, wf_exit_event(p, 0, "complained", 0, 0));
		wf_add_exit(wf, wf_exit_event(p, 0, "bounced", "class", "hard"));
	}
	if ((v = ynode_get(doc, "reentry")) != 0)
		(void) wf_parse_reentry(p, v, wf);
	if ((v = ynode_get(doc, "send")) != 0)
		(void) wf_parse_send(p, v, &wf->send);
	memset(&b, 0, sizeof(b));
	b.p = p;
	b.wf = wf;
	if ((v = ynode_get(doc, "steps")) == 0 || ynode_is_null(v)
	    || (v->type == YNODE_SEQ && v->n == 0))
		wf_error(p, v ? v->line : wf->pos.line, "workflow %s has no steps",
			 wf->name ? wf->name : "");
	else if (wf_parse_block(&b, v, "", "steps", &in) == 0)
		wf_holes_fill(wf, &in, WF_END);
	wf_holes_fill(wf, &in, WF_END);
	if (p->nerr == nerr)
		wf_check_steps(p, wf);
	if (p->nerr != nerr) {
		wf_workflow_free(wf);
		return (0);
	}
	return (wf);
}

/* wf_parse_segment - one segment document */

static WF_SEGMENT *
wf_parse_segment(WF_PARSER *p, const YNODE *doc)
{
	static const char *const keys[] = {"segment", "description", "where", 0};
	WF_SEGMENT *seg = mycalloc(1, sizeof(*seg));
	const YNODE *v;
	const char *s;
	int	nerr = p->nerr;

	seg->pos.file = p->file;
	wf_keys(p, doc, "segment", keys);
	v = ynode_get(doc, "segment");
	seg->pos.line = v->line;
	(void) wf_ident(p, v, "segment", WF_FIELD_MAX, &seg->name);
	if ((v = ynode_get(doc, "description")) != 0 && wf_text(p, v, "description", &s) == 0)
		seg->description = mystrdup(s);
	if ((v = ynode_get(doc, "where")) == 0)
		wf_error(p, seg->pos.line, "segment %s has no where: condition",
			 seg->name ? seg->name : "");
	else
		seg->cond = wf_parse_cond(p, v, "where");
	if (p->nerr != nerr) {
		myfree(seg->name);
		myfree(seg->description);
		wf_cond_free(seg->cond);
		myfree(seg);
		return (0);
	}
	return (seg);
}

/* wf_parse_text - every document of one file */

void
wf_parse_text(WF_PARSER *p, const char *text, size_t len)
{
	WORKFLOW_SET *set = p->set;
	YNODE **docs;
	WORKFLOW *wf;
	WF_SEGMENT *seg;
	int	ndocs, i;

	if ((ndocs = ynode_parse(p->file, text, len, &docs, p->errs)) < 0) {
		p->nerr++;
		return;
	}
	for (i = 0; i < ndocs && docs[i] == 0; i++)
		 /* void */ ;
	if (i == ndocs) {
		/* Nothing but comments: a truncated copy, or an editor's slip. */
		wf_error(p, 1, "no workflow or segment in this file");
	}
	for (i = 0; i < ndocs; i++) {
		const YNODE *doc = docs[i];

		if (doc == 0)
			continue;
		if (doc->type != YNODE_MAP) {
			wf_error(p, doc->line, "expected a mapping that starts with \"workflow: NAME\" or \"segment: NAME\", got %s",
				 ynode_type_name(doc));
		} else if (ynode_get(doc, "workflow") && ynode_get(doc, "segment")) {
			wf_error(p, doc->line, "a document is a workflow or a segment, not both");
		} else if (ynode_get(doc, "workflow")) {
			if ((wf = wf_parse_workflow(p, doc)) != 0) {
				set->wf = myrealloc(set->wf, (set->nwf + 1) * sizeof(WORKFLOW *));
				set->wf[set->nwf++] = wf;
			}
		} else if (ynode_get(doc, "segment")) {
			if ((seg = wf_parse_segment(p, doc)) != 0) {
				set->seg = myrealloc(set->seg, (set->nseg + 1) * sizeof(WF_SEGMENT *));
				set->seg[set->nseg++] = seg;
			}
		} else {
			wf_error(p, doc->line, "expected \"workflow: NAME\" or \"segment: NAME\" in this document");
		}
	}
	ynode_free_docs(docs, ndocs);
}

/*
 * Checks across files.
 */

/* wf_cond_segments - report unknown segments; visit refers-to edges */

static void
wf_cond_segments(WF_PARSER *p, const WORKFLOW_SET *set, const WF_COND *c,
		         int (*visit) (const char *name, void *ctx), void *ctx)
{
	int	i;

	if (c == 0)
		return;
	for (i = 0; i < c->nsub; i++)
		wf_cond_segments(p, set, c->sub[i], visit, ctx);
	if (c->kind != WF_COND_SEGMENT)
		return;
	if (workflow_segment(set, c->name) == 0) {
		p->file = c->pos.file;
		wf_error(p, c->pos.line, "unknown segment \"%s\"", c->name);
	} else if (visit)
		visit(c->name, ctx);
}

/* State of the segment cycle search. */
typedef struct WF_SEGWALK {
	WF_PARSER *p;
	const WORKFLOW_SET *set;
	const WF_SEGMENT *start;
	char   *seen;			/* per segment index */
	int	found;
} WF_SEGWALK;

static int wf_segwalk_visit(const char *name, void *ctx);

/* wf_segwalk_visit - follow a segment reference */

static int
wf_segwalk_visit(const char *name, void *ctx)
{
	WF_SEGWALK *w = ctx;
	const WF_SEGMENT *seg = workflow_segment(w->set, name);
	WF_PARSER quiet;
	STRBUF	junk = STRBUF_INIT;
	int	i;

	if (seg == 0 || w->found)
		return (0);
	if (seg == w->start) {
		w->found = 1;
		return (0);
	}
	for (i = 0; i < w->set->nseg; i++)
		if (w->set->seg[i] == seg)
			break;
	if (w->seen[i])
		return (0);
	w->seen[i] = 1;
	/* Unknown names were reported already; do not report them again. */
	quiet = *w->p;
	quiet.errs = &junk;
	wf_cond_segments(&quiet, w->set, seg->cond, wf_segwalk_visit, w);
	strbuf_free(&junk);
	return (0);
}

/* wf_link_set - checks that need every file */

void
wf_link_set(WORKFLOW_SET *set, STRBUF *errs, int *nerr)
{
	WF_PARSER p;
	WF_SEGWALK w;
	int	i, j, k;

	memset(&p, 0, sizeof(p));
	p.set = set;
	p.errs = errs;
	for (i = 0; i < set->nwf; i++)
		for (j = 0; j < i; j++)
			if (strcmp(set->wf[i]->name, set->wf[j]->name) == 0) {
				p.file = set->wf[i]->pos.file;
				wf_error(&p, set->wf[i]->pos.line, "workflow \"%s\" is already defined at %s:%d",
					 set->wf[i]->name, set->wf[j]->pos.file, set->wf[j]->pos.line);
				break;
			}
	for (i = 0; i < set->nseg; i++)
		for (j = 0; j < i; j++)
			if (strcmp(set->seg[i]->name, set->seg[j]->name) == 0) {
				p.file = set->seg[i]->pos.file;
				wf_error(&p, set->seg[i]->pos.line, "segment \"%s\" is already defined at %s:%d",
					 set->seg[i]->name, set->seg[j]->pos.file, set->seg[j]->pos.line);
				break;
			}
	for (i = 0; i < set->nwf; i++) {
		WORKFLOW *wf = set->wf[i];

		wf_cond_segments(&p, set, wf->audience, 0, 0);
		for (k = 0; k < wf->nexit; k++)
			wf_cond_segments(&p, set, wf->exits[k], 0, 0);
		for (k = 0; k < wf->nsteps; k++)
			wf_cond_segments(&p, set, wf->steps[k].cond, 0, 0);
		if (wf->trigger.kind == WF_TRIG_SEGMENT
		    && workflow_segment(set, wf->trigger.segment) == 0) {
			p.file = wf->trigger.pos.file;
			wf_error(&p, wf->trigger.pos.line, "unknown segment \"%s\"", wf->trigger.segment);
		}
	}
	for (i = 0; i < set->nseg; i++) {
		memset(&w, 0, sizeof(w));
		w.p = &p;
		w.set = set;
		w.start = set->seg[i];
		w.seen = mycalloc(set->nseg, 1);
		wf_cond_segments(&p, set, set->seg[i]->cond, wf_segwalk_visit, &w);
		if (w.found) {
			p.file = set->seg[i]->pos.file;
			wf_error(&p, set->seg[i]->pos.line, "segment \"%s\" refers to itself", set->seg[i]->name);
		}
		myfree(w.seen);
	}
	*nerr += p.nerr;
}
