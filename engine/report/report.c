/*++
/* NAME
/*	report 3
/* SUMMARY
/*	per workflow and step counts and rates from the recorded events
/* SYNOPSIS
/*	#include "report/report.h"
/*
/*	int	report_build(st, opts, out)
/*	STORE	*st;
/*	const REPORT_OPTS *opts;
/*	json_t	**out;
/* DESCRIPTION
/*	report_build() reads every event recorded at or after opts->since
/*	(one read snapshot, in sequence order) and counts, per workflow
/*	and per step:
/* .IP \(bu
/*	enrolled, completed, exits by reason and goals reached (an exit
/*	whose reason is the event of one of the workflow's goal: rules,
/*	when opts->wfs is given);
/* .IP \(bu
/*	sent (messages composed and handed to Postfix), delivered (sent
/*	less the messages that bounced and those given up after
/*	engine_retry_limit; one still being retried counts as delivered),
/*	deferred (the MTA's temporary answers at injection and DSN delay
/*	notices), failed,
/*	bounced, hard and soft, by reason;
/* .IP \(bu
/*	opens, human and machine (privacy proxies, scanners, open timing:
/*	data "machine") apart, and the messages opened by a person;
/*	clicks per named link, human and scanner apart, and the messages
/*	clicked by a person; a person's click on an unsubscribe link
/*	(workflow_click_unsub()) counts as clicks_unsubscribe, not as a
/*	click;
/* .IP \(bu
/*	replies, complaints and unsubscribes.
/* .PP
/*	An event is given to a workflow and step by its data "workflow"
/*	and "step", else through the message its "msgno" names. Each rate
/*	comes as {count, base, rate}: opens, clicks, replies, complaints
/*	and unsubscribes are over the messages delivered, bounces over the
/*	messages sent, goals over the enrolments.
/*
/*	Beside the workflows: a daily series of sends, human opens and
/*	human clicks (UTC days); the bounce reasons; the A/B arms of each
/*	workflow (the "arm" of its sent events) with each arm's human
/*	open, click and goal rates and their 95% Wilson intervals; and per
/*	sender domain (the domain of the Message-ID of the message, which
/*	message_id_domain sets for the engine's own mail) the complaint
/*	rate against Gmail's 0.3% line, aiming under 0.1%.
/* DIAGNOSTICS
/*	STORE_RETRY when the store cannot be read.
/* SEE ALSO
/*	report_html(3), postdrip(1)
/*--*/
#include "pdconfig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "workflow/workflow.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"

/* A set of 64-bit keys (message numbers with a kind in the low bits). */
typedef struct RSET {
	uint64_t *slot;
	size_t	size;			/* power of two */
	size_t	used;
} RSET;

#define RK_OPEN		1
#define RK_CLICK	2
#define RK_BOUNCE	3

/* rset_add - add key; 1 if it was new */

static int
rset_add(RSET *s, uint64_t key)
{
	size_t	i, j;
	uint64_t *old;
	size_t	oldsize;

	key += 1;				/* 0 marks an empty slot */
	if (2 * (s->used + 1) > s->size) {
		old = s->slot;
		oldsize = s->size;
		s->size = s->size ? 2 * s->size : 1024;
		s->slot = mymalloc(s->size * sizeof(*s->slot));
		memset(s->slot, 0, s->size * sizeof(*s->slot));
		s->used = 0;
		for (i = 0; i < oldsize; i++) {
			if (old[i] == 0)
				continue;
			for (j = (old[i] * 0x9E3779B97F4A7C15ULL) >> 20 & (s->size - 1);
			     s->slot[j]; j = (j + 1) & (s->size - 1))
				;
			s->slot[j] = old[i];
			s->used++;
		}
		if (old)
			myfree(old);
	}
	for (j = (key * 0x9E3779B97F4A7C15ULL) >> 20 & (s->size - 1); s->slot[j];
	     j = (j + 1) & (s->size - 1))
		if (s->slot[j] == key)
			return (0);
	s->slot[j] = key;
	s->used++;
	return (1);
}

typedef struct RCTX {
	const REPORT_OPTS *o;
	STORE_TXN *txn;
	json_t *wfs;			/* name -> workflow being counted */
	json_t *daily;			/* YYYY-MM-DD -> {sent, ...} */
	json_t *reasons;		/* reason -> {hard, soft} */
	json_t *domains;		/* domain -> {sent, complaints, ...} */
	json_t *arm_of;			/* "msgno" and "contact/workflow" -> arm */
	RSET	seen;
	time_t	first, last;
} RCTX;

/* inc - obj[key] += n */

static void
inc(json_t *obj, const char *key, json_int_t n)
{
	json_t *v = json_object_get(obj, key);

	json_object_set_new(obj, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

/* num - obj[key] as an integer (0 when missing) */

static json_int_t
num(const json_t *obj, const char *key)
{
	return (json_integer_value(json_object_get(obj, key)));
}

/* child - obj[key] as an object, created when missing */

static json_t *
child(json_t *obj, const char *key)
{
	json_t *c = json_object_get(obj, key);

	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(obj, key, c);
	}
	return (c);
}

static const char *const step_counts[] = {
	"sent", "delivered", "deferred", "failed", "bounced", "bounced_hard", "bounced_soft",
	"opens_human", "opens_machine", "opened", "clicks_human", "clicks_scanner",
	"clicks_unsubscribe", "clicked", "replies", "complaints", "unsubscribes", 0,
};

/* new_step - a step's counters, all zero */

static json_t *
new_step(const char *id)
{
	json_t *s = json_pack("{s:s}", "step", id);
	int	i;

	for (i = 0; step_counts[i]; i++)
		json_object_set_new(s, step_counts[i], json_integer(0));
	json_object_set_new(s, "bounce_reasons", json_pack("{s:{}, s:{}}", "hard", "soft"));
	json_object_set_new(s, "links", json_object());
	return (s);
}

/* get_wf - the workflow's counters, made when first seen */

static json_t *
get_wf(RCTX *c, const char *name)
{
	json_t *w = json_object_get(c->wfs, name), *steps;
	const WORKFLOW *wf;
	int	i;

	if (w)
		return (w);
	w = json_pack("{s:s, s:I, s:I, s:I, s:{}, s:{}, s:{}, s:{}}", "workflow", name,
		      "enrolled", (json_int_t) 0, "completed", (json_int_t) 0,
		      "goals", (json_int_t) 0, "exits", "goals_by_reason", "steps", "arms");
	/* The steps in the order of the file, when it is known. */
	steps = json_object_get(w, "steps");
	if (c->o->wfs && (wf = workflow_find(c->o->wfs, name)) != 0)
		for (i = 0; i < wf->nsteps; i++)
			if (wf->steps[i].kind == WF_STEP_SEND)
				json_object_set_new(steps, wf->steps[i].id, new_step(wf->steps[i].id));
	json_object_set_new(c->wfs, name, w);
	return (w);
}

/* get_step - a step's counters in workflow w */

static json_t *
get_step(json_t *w, const char *id)
{
	json_t *steps = json_object_get(w, "steps"), *s;

	if ((s = json_object_get(steps, id)) == 0) {
		s = new_step(id);
		json_object_set_new(steps, id, s);
	}
	return (s);
}

/* str - data[key] as a string, or "" */

static const char *
str(const json_t *data, const char *key)
{
	const char *s = json_string_value(json_object_get(data, key));

	return (s ? s : "");
}

/* is_goal - is reason the event of one of the workflow's goals? */

static int
is_goal(RCTX *c, const char *name, const char *reason)
{
	const WORKFLOW *wf;
	int	i;

	if (c->o->wfs == 0 || (wf = workflow_find(c->o->wfs, name)) == 0)
		return (0);
	for (i = 0; i < wf->ngoal; i++)
		if (wf->goals[i]->kind == WF_COND_EVENT && wf->goals[i]->event
		    && strcmp(wf->goals[i]->event, reason) == 0)
			return (1);
	return (0);
}

/* day_of - the UTC day of t */

static void
day_of(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

/* domain_of - the domain of a Message-ID, lower case */

static void
domain_of(const char *msgid, char *buf, size_t len)
{
	const char *at = strrchr(msgid, '@');
	size_t	i;

	snprintf(buf, len, "%s", at && at[1] ? at + 1 : "(unknown)");
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '>') {
			buf[i] = 0;
			break;
		}
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 'a' - 'A';
	}
}

/* arm_key - the key of an arm-of entry */

static void
arm_key(char *buf, size_t len, const char *what, uint64_t a, const char *b)
{
	snprintf(buf, len, "%s/%llu/%s", what, (unsigned long long) a, b);
}

/* arm_inc - count for the arm that key names, if any */

static void
arm_inc(RCTX *c, json_t *w, const char *key, const char *counter)
{
	const char *arm = json_string_value(json_object_get(c->arm_of, key));

	if (arm)
		inc(child(child(w, "arms"), arm), counter, 1);
}

/* step_event - is type counted at a step (a send step's message)? */

static int
step_event(const char *type)
{
	static const char *const types[] = {
		"sent", "send_deferred", "delayed", "send_failed", "bounced", "opened",
		"clicked", "replied", "complained", "unsubscribed", 0,
	};
	int	i;

	for (i = 0; types[i]; i++)
		if (strcmp(types[i], type) == 0)
			return (1);
	return (0);
}

/* msgno_of - data "msgno": a number, or digits ("postdrip event" gives text) */

static uint64_t
msgno_of(const json_t *d)
{
	const json_t *v = json_object_get(d, "msgno");
	const char *p;

	if (json_is_integer(v))
		return (json_integer_value(v) > 0 ? (uint64_t) json_integer_value(v) : 0);
	if ((p = json_string_value(v)) == 0 || *p == 0 || strspn(p, "0123456789") != strlen(p)
	    || strlen(p) > 19)
		return (0);
	return ((uint64_t) strtoull(p, 0, 10));
}

/* one_event - count one event */

static int
one_event(RCTX *c, STORE_EVENT *ev)
{
	json_t *d = ev->data, *w, *s, *dom;
	const char *type = ev->type, *wfname, *stepname, *msgid;
	STORE_SENT sent;
	uint64_t msgno;
	char	day[16], domain[256], key[400];
	int	human, have_sent = 0, rc;

	msgno = msgno_of(d);
	wfname = str(d, "workflow");
	stepname = str(d, "step");
	msgid = str(d, "message_id");
	if (msgno && (!*wfname || !*msgid)
	    && strcmp(type, "sent") != 0) {
		if ((rc = store_sent_get(c->txn, msgno, &sent)) == STORE_OK) {
			have_sent = 1;
			if (!*wfname) {
				wfname = sent.workflow;
				stepname = sent.step;
			}
			if (!*msgid)
				msgid = sent.message_id;
		} else if (rc != STORE_NOTFOUND)
			return (STORE_RETRY);
	}
	(void) have_sent;
	if (c->o->workflow && strcmp(c->o->workflow, wfname) != 0)
		return (STORE_OK);
	if (c->first == 0 || ev->time < c->first)
		c->first = ev->time;
	if (ev->time > c->last)
		c->last = ev->time;
	day_of(ev->time, day, sizeof(day));
	domain_of(msgid, domain, sizeof(domain));
	human = !json_is_true(json_object_get(d, "machine"));
	w = *wfname ? get_wf(c, wfname) : 0;
	s = w && *stepname && step_event(type) ? get_step(w, stepname) : 0;

	if (strcmp(type, "workflow_enrolled") == 0) {
		if (w)
			inc(w, "enrolled", 1);
	} else if (strcmp(type, "workflow_completed") == 0) {
		if (w)
			inc(w, "completed", 1);
	} else if (strcmp(type, "workflow_exited") == 0) {
		if (w) {
			inc(child(w, "exits"), str(d, "reason"), 1);
			if (is_goal(c, wfname, str(d, "reason"))) {
				inc(w, "goals", 1);
				inc(child(w, "goals_by_reason"), str(d, "reason"), 1);
				arm_key(key, sizeof(key), "c", ev->contact, wfname);
				arm_inc(c, w, key, "goals");
			}
		}
	} else if (strcmp(type, "sent") == 0) {
		if (strcmp(str(d, "stream"), "transactional") == 0 && !w)
			return (STORE_OK);
		inc(child(c->daily, day), "sent", 1);
		dom = child(c->domains, domain);
		inc(dom, "sent", 1);
		if (s)
			inc(s, "sent", 1);
		if (w && *str(d, "arm")) {
			arm_key(key, sizeof(key), "m", msgno, "");
			json_object_set_new(c->arm_of, key, json_string(str(d, "arm")));
			arm_key(key, sizeof(key), "c", ev->contact, wfname);
			json_object_set_new(c->arm_of, key, json_string(str(d, "arm")));
			inc(child(child(w, "arms"), str(d, "arm")), "sent", 1);
		}
	} else if (strcmp(type, "send_deferred") == 0 || strcmp(type, "delayed") == 0) {
		if (s)
			inc(s, "deferred", 1);
	} else if (strcmp(type, "send_failed") == 0) {
		if (s)
			inc(s, "failed", 1);
	} else if (strcmp(type, "bounced") == 0) {
		const char *cls = strcmp(str(d, "class"), "hard") == 0 ? "hard" : "soft";
		const char *reason = *str(d, "reason") ? str(d, "reason") : "undefined";

		inc(child(c->reasons, reason), cls, 1);
		if (msgno && rset_add(&c->seen, msgno << 2 | RK_BOUNCE)) {
			inc(child(c->domains, domain), "bounced", 1);
			if (s)
				inc(s, "bounced", 1);
		}
		if (s) {
			inc(s, strcmp(cls, "hard") == 0 ? "bounced_hard" : "bounced_soft", 1);
			inc(child(child(s, "bounce_reasons"), cls), reason, 1);
		}
	} else if (strcmp(type, "opened") == 0) {
		if (human)
			inc(child(c->daily, day), "human_opens", 1);
		if (s) {
			inc(s, human ? "opens_human" : "opens_machine", 1);
			if (human && msgno && rset_add(&c->seen, msgno << 2 | RK_OPEN)) {
				inc(s, "opened", 1);
				arm_key(key, sizeof(key), "m", msgno, "");
				arm_inc(c, w, key, "opened");
			}
		}
	} else if (strcmp(type, "clicked") == 0) {
		const char *link = *str(d, "link") ? str(d, "link") : "(unnamed)";

		/*
		 * A person's way out is no interest in the message: a click on
		 * an unsubscribe link counts apart, as it does not for the
		 * engagement index or a wait_for (workflow_click_unsub()).
		 */
		if (human && workflow_click_unsub(d)) {
			if (s) {
				inc(s, "clicks_unsubscribe", 1);
				inc(child(json_object_get(s, "links"), link), "human", 1);
			}
			return (STORE_OK);
		}
		if (human)
			inc(child(c->daily, day), "human_clicks", 1);
		if (s) {
			inc(s, human ? "clicks_human" : "clicks_scanner", 1);
			inc(child(json_object_get(s, "links"), link), human ? "human" : "scanner", 1);
			if (human && msgno && rset_add(&c->seen, msgno << 2 | RK_CLICK)) {
				inc(s, "clicked", 1);
				arm_key(key, sizeof(key), "m", msgno, "");
				arm_inc(c, w, key, "clicked");
			}
		}
	} else if (strcmp(type, "replied") == 0) {
		if (s)
			inc(s, "replies", 1);
	} else if (strcmp(type, "complained") == 0) {
		inc(child(c->domains, domain), "complaints", 1);
		if (s)
			inc(s, "complaints", 1);
	} else if (strcmp(type, "unsubscribed") == 0) {
		if (s)
			inc(s, "unsubscribes", 1);
	}
	return (STORE_OK);
}

/* rate - {count, base, rate} */

static json_t *
rate(json_int_t count, json_int_t base)
{
	return (json_pack("{s:I, s:I, s:o}", "count", count, "base", base, "rate",
		     base > 0 ? json_real((double) count / (double) base) : json_null()));
}

/* wilson - a rate with its 95% Wilson score interval */

static json_t *
wilson(json_int_t count, json_int_t base)
{
	json_t *r = rate(count, base);
	double	n = (double) base, p, z = 1.96, den, mid, half;

	if (base > 0) {
		p = (double) count / n;
		den = 1 + z * z / n;
		mid = (p + z * z / (2 * n)) / den;
		half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
		json_object_set_new(r, "low", json_real(mid - half < 0 ? 0 : mid - half));
		json_object_set_new(r, "high", json_real(mid + half > 1 ? 1 : mid + half));
	}
	return (r);
}

/* step_rates - a step's (or total's) derived counts and rates */

static void
step_rates(json_t *s)
{
	json_int_t sent = num(s, "sent");
	json_int_t delivered = sent - num(s, "bounced") - num(s, "failed");

	if (delivered < 0)
		delivered = 0;
	json_object_set_new(s, "delivered", json_integer(delivered));
	json_object_set_new(s, "rates", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			   "delivery", rate(delivered, sent),
			   "bounce", rate(num(s, "bounced"), sent),
			   "open", rate(num(s, "opened"), delivered),
			   "click", rate(num(s, "clicked"), delivered),
			   "click_to_open", rate(num(s, "clicked"), num(s, "opened")),
			   "reply", rate(num(s, "replies"), delivered),
			   "complaint", rate(num(s, "complaints"), delivered),
			   "unsubscribe", rate(num(s, "unsubscribes"), delivered)));
}

/* add_into - sum the counters of s into t */

static void
add_into(json_t *t, const json_t *s)
{
	const char *k, *r;
	json_t *v, *rv;
	int	i;

	for (i = 0; step_counts[i]; i++)
		inc(t, step_counts[i], num(s, step_counts[i]));
	json_object_foreach((json_t *) json_object_get(s, "bounce_reasons"), k, v)
		json_object_foreach(v, r, rv)
		inc(child(json_object_get(t, "bounce_reasons"), k), r, json_integer_value(rv));
	json_object_foreach((json_t *) json_object_get(s, "links"), k, v) {
		inc(child(json_object_get(t, "links"), k), "human", num(v, "human"));
		inc(child(json_object_get(t, "links"), k), "scanner", num(v, "scanner"));
	}
}

/* finish_wf - steps as an array, totals and rates */

static json_t *
finish_wf(json_t *w)
{
	json_t *steps = json_object_get(w, "steps"), *arr = json_array(), *tot, *v;
	json_t *arms = json_object_get(w, "arms"), *arr2 = json_array();
	const char *k;

	tot = new_step("total");
	json_object_del(tot, "step");
	json_object_foreach(steps, k, v) {
		add_into(tot, v);
		step_rates(v);
		json_array_append(arr, v);
	}
	step_rates(tot);
	json_object_set_new(w, "steps", arr);
	json_object_set_new(w, "totals", tot);
	json_object_set_new(w, "goal_rate", rate(num(w, "goals"), num(w, "enrolled")));
	json_object_foreach(arms, k, v) {
		json_array_append_new(arr2, json_pack("{s:s, s:I, s:o, s:o, s:o}", "arm", k,
					  "sent", num(v, "sent"),
					  "open", wilson(num(v, "opened"), num(v, "sent")),
					  "click", wilson(num(v, "clicked"), num(v, "sent")),
					  "goal", wilson(num(v, "goals"), num(v, "sent"))));
	}
	json_object_set_new(w, "arms", arr2);
	return (w);
}

/* report_build - count the events into the report */

int
report_build(STORE *st, const REPORT_OPTS *o, json_t **out)
{
	RCTX	c;
	STORE_EVENT ev;
	uint64_t after = 0;
	json_t *rep, *arr, *v;
	const char *k;
	char	iso[CLOCK_ISO_LEN + 1], day[16];
	time_t	t;
	int	rc = STORE_OK, n;
	json_int_t sent, comp, base;
	double	r;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.wfs = json_object();
	c.daily = json_object();
	c.reasons = json_object();
	c.domains = json_object();
	c.arm_of = json_object();
	if (store_rbegin(st, &c.txn) != STORE_OK) {
		rc = STORE_RETRY;
		goto out;
	}
	while ((rc = store_event_next(c.txn, after, &ev)) == STORE_OK) {
		after = ev.seq;
		if (ev.time >= o->since)
			rc = one_event(&c, &ev);
		store_event_free(&ev);
		if (rc != STORE_OK)
			break;
	}
	store_rend(c.txn);
	if (rc != STORE_NOTFOUND) {
		msg_warn("report: cannot read the events after %llu: %s",
			 (unsigned long long) after, store_strerror(rc));
		rc = STORE_RETRY;
		goto out;
	}
	rc = STORE_OK;

	/* Workflows named but never seen still get a line. */
	if (o->workflow)
		get_wf(&c, o->workflow);
	else if (o->wfs)
		for (n = 0; n < workflow_count(o->wfs); n++)
			get_wf(&c, workflow_at(o->wfs, n)->name);

	rep = json_object();
	json_object_set_new(rep, "generated", json_string(clock_format(o->now, iso)));
	json_object_set_new(rep, "since", o->since ? json_string(clock_format(o->since, iso))
			    : json_null());
	if (o->workflow)
		json_object_set_new(rep, "workflow", json_string(o->workflow));
	arr = json_array();
	json_object_foreach(c.wfs, k, v)
		json_array_append(arr, finish_wf(v));
	json_object_set_new(rep, "workflows", arr);

	/* Every day from the first event to the last (a bounded span). */
	arr = json_array();
	if (c.first && (c.last - c.first) / 86400 < REPORT_DAYS_MAX) {
		for (t = c.first - c.first % 86400; t <= c.last; t += 86400) {
			day_of(t, day, sizeof(day));
			v = json_object_get(c.daily, day);
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}", "date", day,
					   "sent", num(v, "sent"), "human_opens", num(v, "human_opens"),
					     "human_clicks", num(v, "human_clicks")));
		}
	} else {
		json_object_foreach(c.daily, k, v)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}", "date", k,
					   "sent", num(v, "sent"), "human_opens", num(v, "human_opens"),
					     "human_clicks", num(v, "human_clicks")));
	}
	json_object_set_new(rep, "daily", arr);

	arr = json_array();
	json_object_foreach(c.reasons, k, v)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I}", "reason", k,
				 "hard", num(v, "hard"), "soft", num(v, "soft"),
				   "total", num(v, "hard") + num(v, "soft")));
	json_object_set_new(rep, "bounce_reasons", arr);

	arr = json_array();
	json_object_foreach(c.domains, k, v) {
		sent = num(v, "sent");
		comp = num(v, "complaints");
		base = sent - num(v, "bounced");
		if (base < 0)
			base = 0;
		r = base > 0 ? (double) comp / (double) base : 0;
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:o, s:f, s:f, s:s}",
				     "domain", k, "sent", sent, "delivered", base,
						"complaints", comp,
						 "complaint_rate", rate(comp, base),
						 "gmail_limit", REPORT_GMAIL_LIMIT,
						 "aim", REPORT_COMPLAINT_AIM,
						 "status", r >= REPORT_GMAIL_LIMIT ? "over" :
					      r >= REPORT_COMPLAINT_AIM ? "watch" : "ok"));
	}
	json_object_set_new(rep, "sender_domains", arr);
	*out = rep;

out:
	json_decref(c.wfs);
	json_decref(c.daily);
	json_decref(c.reasons);
	json_decref(c.domains);
	json_decref(c.arm_of);
	if (c.seen.slot)
		myfree(c.seen.slot);
	return (rc);
}
