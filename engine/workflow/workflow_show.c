/*++
/* NAME
/*	workflow_show 3
/* SUMMARY
/*	workflows as text, for people
/* SYNOPSIS
/*	#include "workflow/workflow.h"
/*
/*	void	workflow_show_trigger(wf, out)
/*	void	workflow_show_cond(c, out)
/*	void	workflow_show_steps(wf, out)
/* DESCRIPTION
/*	"postdrip workflows" and the programs' logs describe workflows with
/*	these. workflow_show_steps() prints the flat step array that the
/*	scheduler runs, one line per step:
/*
/* .nf
/*	file:line<TAB>id<TAB>what<TAB>where next
/* .fi
/*
/*	so that an administrator sees the ids that enrolments record before
/*	editing a running workflow. Conditions come out in the words of the
/*	file format, on one line.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "workflow/workflow_int.h"

/* wf_show_duration - seconds as 180d, 1d2h, 1m30s */

static void
wf_show_duration(STRBUF *out, long secs)
{
	static const struct {
		long	unit;
		char	name;
	}	units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t	i;

	if (secs == 0) {
		strbuf_puts(out, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs >= units[i].unit) {
			strbuf_printf(out, "%ld%c", secs / units[i].unit, units[i].name);
			secs %= units[i].unit;
		}
	}
}

/* wf_show_offset - " before 3d" / " after 2h" */

static void
wf_show_offset(STRBUF *out, long offset)
{
	if (offset == 0)
		return;
	strbuf_puts(out, offset < 0 ? " before " : " after ");
	wf_show_duration(out, offset < 0 ? -offset : offset);
}

/* wf_show_at - " at 09:00" */

static void
wf_show_at(STRBUF *out, int at)
{
	if (at >= 0)
		strbuf_printf(out, " at %02d:%02d", at / 60, at % 60);
}

/* wf_show_match - type and where pairs */

static void
wf_show_match(STRBUF *out, const WF_MATCH *m)
{
	int	i;

	strbuf_puts(out, m->event ? m->event : "?");
	for (i = 0; i < m->nwhere; i++)
		strbuf_printf(out, " %s=%s", m->keys[i], m->values[i]);
}

/* workflow_show_trigger - the trigger in a few words */

void
workflow_show_trigger(const WORKFLOW *wf, STRBUF *out)
{
	const WF_TRIGGER *t = &wf->trigger;

	switch (t->kind) {
	case WF_TRIG_EVENT:
		strbuf_puts(out, "event ");
		wf_show_match(out, &t->match);
		break;
	case WF_TRIG_YEARLY:
	case WF_TRIG_DATE:
		strbuf_printf(out, "%s %s", t->kind == WF_TRIG_YEARLY ? "yearly" : "date", t->field);
		wf_show_offset(out, t->offset);
		wf_show_at(out, t->at);
		break;
	case WF_TRIG_SEGMENT:
		strbuf_printf(out, "segment %s", t->segment);
		break;
	case WF_TRIG_INACTIVE:
		strbuf_puts(out, "inactive ");
		wf_show_duration(out, t->inactive);
		break;
	case WF_TRIG_MANUAL:
		strbuf_puts(out, "manual");
		break;
	}
}

/* workflow_show_cond - a condition on one line */

void
workflow_show_cond(const WF_COND *c, STRBUF *out)
{
	static const char *const ops[] = {
		[WF_OP_EQ] = "=", [WF_OP_NE] = "!=", [WF_OP_LT] = "<", [WF_OP_LE] = "<=",
		[WF_OP_GT] = ">", [WF_OP_GE] = ">=", [WF_OP_CONTAINS] = "contains",
		[WF_OP_EXISTS] = "exists", [WF_OP_MISSING] = "missing",
	};
	int	i;

	switch (c->kind) {
	case WF_COND_ALL:
	case WF_COND_ANY:
		strbuf_puts(out, c->kind == WF_COND_ALL ? "all(" : "any(");
		for (i = 0; i < c->nsub; i++) {
			if (i)
				strbuf_puts(out, ", ");
			workflow_show_cond(c->sub[i], out);
		}
		strbuf_putc(out, ')');
		break;
	case WF_COND_NOT:
		strbuf_puts(out, "not(");
		if (c->nsub)
			workflow_show_cond(c->sub[0], out);
		strbuf_putc(out, ')');
		break;
	case WF_COND_EVENT:
		strbuf_puts(out, c->event);
		if (c->key)
			strbuf_printf(out, " %s=%s", c->key, c->value);
		if (c->within) {
			strbuf_puts(out, " within ");
			wf_show_duration(out, c->within);
		}
		break;
	case WF_COND_FIELD:
	case WF_COND_SCORE:
		strbuf_printf(out, "%s %s", c->field, ops[c->op]);
		if (c->operand)
			strbuf_printf(out, " %s", c->operand);
		break;
	case WF_COND_TAG:
		strbuf_printf(out, "tag %s", c->name);
		break;
	case WF_COND_LIST:
		strbuf_printf(out, "list %s", c->name);
		break;
	case WF_COND_SEGMENT:
		strbuf_printf(out, "segment %s", c->name);
		break;
	case WF_COND_ACTIVE:
	case WF_COND_INACTIVE:
		strbuf_puts(out, c->kind == WF_COND_ACTIVE ? "active " : "inactive ");
		wf_show_duration(out, c->within);
		break;
	}
}

/* wf_show_id - the id of a step index, or "end" */

static const char *
wf_show_id(const WORKFLOW *wf, int i)
{
	return (i == WF_END ? "end" : wf->steps[i].id);
}

/* workflow_show_steps - one line per step */

void
workflow_show_steps(const WORKFLOW *wf, STRBUF *out)
{
	const WF_STEP *s;
	char	date[32];
	struct tm tm;
	int	i, j;

	for (i = 0; i < wf->nsteps; i++) {
		s = wf->steps + i;
		strbuf_printf(out, "%s:%d\t%s\t%s", s->pos.file, s->pos.line, s->id,
			      workflow_step_kind_name(s->kind));
		switch (s->kind) {
		case WF_STEP_SEND:
			strbuf_printf(out, " %s", s->template);
			break;
		case WF_STEP_WAIT:
			strbuf_putc(out, ' ');
			wf_show_duration(out, s->duration);
			break;
		case WF_STEP_WAIT_UNTIL:
			if (s->field)
				strbuf_printf(out, " %s", s->field);
			else {
				gmtime_r(&s->date, &tm);
				strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
				strbuf_printf(out, " %s", date);
			}
			wf_show_offset(out, s->offset);
			wf_show_at(out, s->at);
			break;
		case WF_STEP_WAIT_FOR:
			strbuf_putc(out, ' ');
			wf_show_match(out, &s->match);
			strbuf_puts(out, " timeout ");
			wf_show_duration(out, s->duration);
			break;
		case WF_STEP_IF:
			strbuf_putc(out, ' ');
			workflow_show_cond(s->cond, out);
			break;
		case WF_STEP_SET:
			{
				const char *key;
				json_t *v;
				char   *text;

				json_object_foreach(s->values, key, v) {
					text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
					strbuf_printf(out, " %s=%s", key, text ? text : "?");
					free(text);
				}
			}
			break;
		case WF_STEP_ADD_TAG:
		case WF_STEP_REMOVE_TAG:
		case WF_STEP_UNSUBSCRIBE:
			strbuf_printf(out, " %s", s->name);
			break;
		case WF_STEP_ADD_SCORE:
			strbuf_printf(out, " %+ld", s->score);
			break;
		case WF_STEP_NOTIFY:
			strbuf_printf(out, " %s%s%s template %s", s->to_owner ? "owner" : "",
				      s->to_owner && s->to ? " or " : "", s->to ? s->to : "",
				      s->template);
			break;
		case WF_STEP_WEBHOOK:
			strbuf_printf(out, " %s", s->url);
			for (j = 0; j < s->nheaders; j++)
				strbuf_printf(out, " %s:", s->headers[j].name);
			if (s->save) {
				const char *key;
				json_t *v;

				json_object_foreach(s->save, key, v)
					strbuf_printf(out, " save %s=%s", key, json_string_value(v));
			}
			break;
		case WF_STEP_GOTO:
			strbuf_printf(out, " %s", s->target);
			break;
		case WF_STEP_SPLIT:
			for (j = 0; j < s->narms; j++)
				strbuf_printf(out, " %s=%d", s->arms[j].name, s->arms[j].weight);
			if (s->promote)
				strbuf_printf(out, " promote %s", s->promote);
			break;
		case WF_STEP_END:
			break;
		}
		if (s->kind == WF_STEP_SPLIT) {
			for (j = 0; j < s->narms; j++)
				strbuf_printf(out, "%s%s %s", j ? " " : "\t", s->arms[j].name,
					      wf_show_id(wf, s->arms[j].next));
			strbuf_putc(out, '\n');
		} else if (s->kind == WF_STEP_IF)
			strbuf_printf(out, "\tthen %s else %s\n", wf_show_id(wf, s->then_next),
				      wf_show_id(wf, s->else_next));
		else if (s->kind == WF_STEP_WAIT_FOR)
			strbuf_printf(out, "\tevent %s timeout %s\n", wf_show_id(wf, s->on_event),
				      wf_show_id(wf, s->on_timeout));
		else
			strbuf_printf(out, "\t%s\n", wf_show_id(wf, s->next));
	}
}
