/*++
/* NAME
/*	workflow_cond 3
/* SUMMARY
/*	evaluate conditions, triggers and exit rules
/* SYNOPSIS
/*	#include "workflow/workflow.h"
/*
/*	int	workflow_cond_eval(c, facts)
/*	int	workflow_audience_eval(wf, facts)
/*	int	workflow_segment_eval(seg, facts)
/*	int	workflow_exit_eval(wf, facts)
/*	int	workflow_exit_match(wf, type, data)
/*	int	workflow_trigger_match(wf, type, data)
/*	int	workflow_match(m, type, data)
/*
/*	int	workflow_click_unsub(data)
/* DESCRIPTION
/*	Conditions read the contact record (WF_FACTS.contact) and ask the
/*	caller about events and segments through callbacks, so that this
/*	code never touches the store.
/*
/*	Contact fields: "email", "score" and "created" are the record's own
/*	members; any other name is looked up in its "fields" object. Text
/*	compares without regard to case; a numeric operand compares
/*	numerically with a number or numeric text, and as text otherwise
/*	(ISO 8601 dates order correctly as text). A field that is a list
/*	equals a value when one of its items does. A missing or empty field
/*	is neither equal, unequal-in-order, nor containing anything: only
/*	!= and "missing" are true of it.
/*
/*	A click on an unsubscribe link (workflow_click_unsub(): the link
/*	named "unsubscribe", or a URL path with a segment that starts with
/*	unsubscribe, optout or opt-out, as on a list provider's own page)
/*	says the reader wants less, not more: it is no click for a trigger,
/*	a wait_for or an exit rule on clicked that names no link.
/*	Conditions ask the caller, which applies the same rule.
/*
/*	Three-valued results: 1 true, 0 false, -1 a callback could not
/*	tell (store trouble). all/any decide when they can without the
/*	unknown part: any false makes all false, any true makes any true.
/* DIAGNOSTICS
/*	None; -1 results are the caller's to retry.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "workflow/workflow_int.h"

#define WF_SEGMENT_DEPTH 16		/* segments within segments */

static int wf_eval(const WF_COND *c, const WF_FACTS *f, int depth);

/* wf_json_text - a scalar's text form into buf; NULL if not a scalar */

static const char *
wf_json_text(json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return (json_string_value(v));
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return (buf);
	case JSON_REAL:
		snprintf(buf, len, "%.17g", json_real_value(v));
		return (buf);
	case JSON_TRUE:
		return ("true");
	case JSON_FALSE:
		return ("false");
	default:
		return (0);
	}
}

/* wf_field - a contact field, or NULL */

static json_t *
wf_field(json_t *contact, const char *name)
{
	json_t *v;

	if (contact == 0 || !json_is_object(contact))
		return (0);
	if (strcmp(name, "email") == 0 || strcmp(name, "score") == 0
	    || strcmp(name, "created") == 0 || strcmp(name, "id") == 0)
		return (json_object_get(contact, name));
	v = json_object_get(contact, "fields");
	return (json_is_object(v) ? json_object_get(v, name) : 0);
}

/* wf_empty - absent, null or empty text/list */

static int
wf_empty(json_t *v)
{
	return (v == 0 || json_is_null(v)
		|| (json_is_string(v) && json_string_length(v) == 0)
		|| (json_is_array(v) && json_array_size(v) == 0));
}

/* wf_numeric - the number in a JSON number or numeric text */

static int
wf_numeric(json_t *v, double *d)
{
	const char *s;
	char   *end;

	if (json_is_number(v)) {
		*d = json_number_value(v);
		return (1);
	}
	if (!json_is_string(v))
		return (0);
	s = json_string_value(v);
	*d = strtod(s, &end);
	return (end != s && *end == 0);
}

/* wf_contains_ci - case-insensitive substring */

static int
wf_contains_ci(const char *hay, const char *needle)
{
	size_t	n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return (1);
	return (n == 0);
}

/* wf_compare_one - one scalar value against the condition */

static int
wf_compare_one(const WF_COND *c, json_t *v)
{
	char	buf[64];
	const char *s;
	double	d;
	int	cmp;

	if (c->op == WF_OP_CONTAINS) {
		s = wf_json_text(v, buf, sizeof(buf));
		return (s && wf_contains_ci(s, c->operand));
	}
	if (c->is_number && wf_numeric(v, &d))
		cmp = d < c->number ? -1 : d > c->number ? 1 : 0;
	else {
		if ((s = wf_json_text(v, buf, sizeof(buf))) == 0)
			return (0);
		if (c->op == WF_OP_EQ || c->op == WF_OP_NE)
			cmp = strcasecmp(s, c->operand);
		else
			cmp = strcmp(s, c->operand);
	}
	switch (c->op) {
	case WF_OP_EQ:
		return (cmp == 0);
	case WF_OP_NE:
		return (cmp != 0);
	case WF_OP_LT:
		return (cmp < 0);
	case WF_OP_LE:
		return (cmp <= 0);
	case WF_OP_GT:
		return (cmp > 0);
	case WF_OP_GE:
		return (cmp >= 0);
	default:
		return (0);
	}
}

/* wf_compare - a field (possibly a list) against the condition */

static int
wf_compare(const WF_COND *c, json_t *v)
{
	size_t	i;
	json_t *item;

	if (c->op == WF_OP_EXISTS)
		return (!wf_empty(v));
	if (c->op == WF_OP_MISSING)
		return (wf_empty(v));
	if (wf_empty(v))
		return (c->op == WF_OP_NE);
	if (json_is_array(v)) {
		/* != on a list: no item equals. */
		if (c->op == WF_OP_NE) {
			json_array_foreach(v, i, item)
				if (!wf_compare_one(c, item))
				return (0);
			return (1);
		}
		json_array_foreach(v, i, item)
			if (wf_compare_one(c, item))
			return (1);
		return (0);
	}
	return (wf_compare_one(c, v));
}

/* wf_has_name - does a list (or comma-separated text) hold a name */

static int
wf_has_name(json_t *v, const char *name)
{
	size_t	i, n = strlen(name);
	json_t *item;
	const char *s, *e;

	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_is_string(item) && strcasecmp(json_string_value(item), name) == 0)
			return (1);
		return (0);
	}
	if (!json_is_string(v))
		return (0);
	for (s = json_string_value(v); *s; s = *e ? e + 1 : e) {
		while (*s == ' ')
			s++;
		e = s + strcspn(s, ",");
		if ((size_t) (e - s) >= n && strncasecmp(s, name, n) == 0) {
			const char *t = s + n;

			while (t < e && *t == ' ')
				t++;
			if (t == e)
				return (1);
		}
	}
	return (0);
}

/* wf_event - ask the caller */

static int
wf_event(const WF_FACTS *f, const char *type, const char *key, const char *value,
	         long within)
{
	time_t	since = within > 0 ? f->now - within : f->since;

	if (f->has_event == 0)
		return (0);
	return (f->has_event(f->ctx, type, key, value, since));
}

/* wf_eval - evaluate with a bound on segment nesting */

static int
wf_eval(const WF_COND *c, const WF_FACTS *f, int depth)
{
	const WF_SEGMENT *seg;
	json_t *v;
	int	i, r, unknown = 0;

	switch (c->kind) {
	case WF_COND_ALL:
		for (i = 0; i < c->nsub; i++) {
			if ((r = wf_eval(c->sub[i], f, depth)) == 0)
				return (0);
			if (r < 0)
				unknown = 1;
		}
		return (unknown ? -1 : 1);
	case WF_COND_ANY:
		for (i = 0; i < c->nsub; i++) {
			if ((r = wf_eval(c->sub[i], f, depth)) == 1)
				return (1);
			if (r < 0)
				unknown = 1;
		}
		return (unknown ? -1 : 0);
	case WF_COND_NOT:
		r = c->nsub ? wf_eval(c->sub[0], f, depth) : 0;
		return (r < 0 ? -1 : !r);
	case WF_COND_EVENT:
		r = wf_event(f, c->event, c->key, c->value, c->within);
		return (r < 0 ? -1 : r != 0);
	case WF_COND_ACTIVE:
	case WF_COND_INACTIVE:
		/*
		 * Human opens, clicks and replies, as the engagement index of
		 * the inactivity trigger counts them (a reader whose client
		 * blocks images may only ever reply); the caller leaves out
		 * machine opens.
		 */
		if ((r = wf_event(f, "opened", 0, 0, c->within)) == 0
		    && (r = wf_event(f, "clicked", 0, 0, c->within)) == 0)
			r = wf_event(f, "replied", 0, 0, c->within);
		if (r < 0)
			return (-1);
		return (c->kind == WF_COND_ACTIVE ? r != 0 : r == 0);
	case WF_COND_FIELD:
		return (wf_compare(c, wf_field(f->contact, c->field)));
	case WF_COND_SCORE:
		v = f->contact ? json_object_get(f->contact, "score") : 0;
		if (v == 0 || json_is_null(v)) {
			/* No score yet is a score of 0. */
			json_t *zero = json_integer(0);

			r = wf_compare(c, zero);
			json_decref(zero);
			return (r);
		}
		return (wf_compare(c, v));
	case WF_COND_TAG:
		return (f->contact != 0
			&& wf_has_name(json_object_get(f->contact, "tags"), c->name));
	case WF_COND_LIST:
		if (f->contact == 0)
			return (0);
		if ((v = json_object_get(f->contact, "lists")) != 0)
			return (wf_has_name(v, c->name));
		return (wf_has_name(wf_field(f->contact, "lists"), c->name));
	case WF_COND_SEGMENT:
		if (f->in_segment)
			return (f->in_segment(f->ctx, c->name));
		if (f->set == 0 || (seg = workflow_segment(f->set, c->name)) == 0)
			return (0);
		/* The loader refuses cycles; the bound guards a set built by hand. */
		if (depth >= WF_SEGMENT_DEPTH || seg->cond == 0)
			return (0);
		return (wf_eval(seg->cond, f, depth + 1));
	}
	return (0);
}

/* workflow_cond_eval - evaluate a condition */

int
workflow_cond_eval(const WF_COND *c, const WF_FACTS *f)
{
	return (c ? wf_eval(c, f, 0) : 1);
}

/* workflow_audience_eval - is the contact in the workflow's audience */

int
workflow_audience_eval(const WORKFLOW *wf, const WF_FACTS *f)
{
	WF_FACTS ff = *f;

	if (ff.set == 0)
		ff.set = wf->set;
	return (wf->audience ? wf_eval(wf->audience, &ff, 0) : 1);
}

/* workflow_segment_eval - is the contact in the segment */

int
workflow_segment_eval(const WF_SEGMENT *seg, const WF_FACTS *f)
{
	return (seg->cond ? wf_eval(seg->cond, f, 0) : 0);
}

/* workflow_exit_eval - is an exit rule true now */

int
workflow_exit_eval(const WORKFLOW *wf, const WF_FACTS *f)
{
	WF_FACTS ff = *f;
	int	i, r, unknown = 0;

	if (ff.set == 0)
		ff.set = wf->set;
	for (i = 0; i < wf->nexit; i++) {
		if ((r = wf_eval(wf->exits[i], &ff, 0)) == 1)
			return (1);
		if (r < 0)
			unknown = 1;
	}
	return (unknown ? -1 : 0);
}

/* workflow_value_match - does an event's datum (as text) match a where value */

int
workflow_value_match(const char *have, const char *want)
{
	size_t	n = strlen(want);

	/* "https://shop.example.com/products/*": any text that begins so. */
	if (n > 0 && want[n - 1] == '*')
		return (strncasecmp(have, want, n - 1) == 0);
	return (strcasecmp(have, want) == 0);
}

/* wf_data_is - does event data carry key=value */

static int
wf_data_is(json_t *data, const char *key, const char *value)
{
	char	buf[64];
	const char *s;
	json_t *v;

	if (data == 0 || !json_is_object(data) || (v = json_object_get(data, key)) == 0)
		return (0);
	if ((s = wf_json_text(v, buf, sizeof(buf))) == 0)
		return (0);
	return (workflow_value_match(s, value));
}

/* workflow_click_unsub - is this click one on an unsubscribe link? */

int
workflow_click_unsub(json_t *data)
{
	static const char *const words[] = {"unsubscribe", "optout", "opt-out", 0};
	const char *const *w;
	const char *s, *p, *q;
	json_t *v;

	if (data == 0 || !json_is_object(data))
		return (0);
	if ((v = json_object_get(data, "link")) != 0 && json_is_string(v)
	    && strcasecmp(json_string_value(v), "unsubscribe") == 0)
		return (1);
	for (v = json_object_get(data, "link"); v; v = 0) {
		/* A default name is host/path; a URL is scheme://host/path. */
		if (!json_is_string(v))
			break;
		s = json_string_value(v);
		for (p = strchr(s, '/'); p; p = strchr(p + 1, '/'))
			for (w = words; *w; w++)
				if (strncasecmp(p + 1, *w, strlen(*w)) == 0)
					return (1);
	}
	if ((v = json_object_get(data, "url")) != 0 && json_is_string(v)) {
		s = json_string_value(v);
		if ((p = strstr(s, "://")) != 0)
			s = p + 3;
		/* The path only: the query and fragment end it. */
		q = s + strcspn(s, "?#");
		for (p = strchr(s, '/'); p && p < q; p = strchr(p + 1, '/')) {
			for (w = words; *w; w++)
				if (strncasecmp(p + 1, *w, strlen(*w)) == 0)
					return (1);
		}
	}
	return (0);
}

/* wf_match_has - does the match test this key? */

static int
wf_match_has(const WF_MATCH *m, const char *key)
{
	int	i;

	for (i = 0; i < m->nwhere; i++)
		if (strcasecmp(m->keys[i], key) == 0)
			return (1);
	return (0);
}

/* workflow_match - does an event match */

int
workflow_match(const WF_MATCH *m, const char *event_type, json_t *event_data)
{
	int	i;

	if (m->event == 0 || event_type == 0 || strcmp(m->event, event_type) != 0)
		return (0);
	if (strcmp(event_type, "clicked") == 0 && !wf_match_has(m, "link")
	    && workflow_click_unsub(event_data))
		return (0);
	for (i = 0; i < m->nwhere; i++)
		if (!wf_data_is(event_data, m->keys[i], m->values[i]))
			return (0);
	return (1);
}

/* workflow_trigger_match - does an event fire the trigger */

int
workflow_trigger_match(const WORKFLOW *wf, const char *event_type,
		               json_t *event_data)
{
	if (!wf->enabled || wf->trigger.kind != WF_TRIG_EVENT)
		return (0);
	return (workflow_match(&wf->trigger.match, event_type, event_data));
}

/* workflow_exit_match - does an arriving event end the enrolment */

int
workflow_exit_match(const WORKFLOW *wf, const char *event_type,
		            json_t *event_data)
{
	const WF_COND *c;
	int	i;

	for (i = 0; i < wf->nexit; i++) {
		c = wf->exits[i];
		if (c->kind != WF_COND_EVENT || event_type == 0
		    || strcmp(c->event, event_type) != 0)
			continue;
		if (c->key == 0 && strcmp(event_type, "clicked") == 0
		    && workflow_click_unsub(event_data))
			continue;
		if (c->key == 0 || wf_data_is(event_data, c->key, c->value))
			return (1);
	}
	return (0);
}
