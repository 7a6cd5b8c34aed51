/*
 * sched_test - the scheduler on a real LMDB store in a temp directory, with
 * the clock set by the test: the schedule's order and bounds, event
 * triggers, steps (tags, fields, score, wait, if on a click, wait_for and
 * its timeout), exit rules, re-entry, date and inactivity triggers, sends
 * through a scripted SMTP server (VERP token, deferral with backoff and
 * the same Message-ID, a crash between recording and injecting), and
 * frequency caps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sched/sched_int.h"
#include "token/verp.h"
#include "util/addr.h"
#include "util/clock.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "testutil.h"
#include "smtp_fake.h"

#define DAY	86400

typedef struct T {
	char   *dir;
	CONFIG *cf;
	STORE  *st;
	TOKENS *tk;
	WORKFLOW_SET *wfs;
	SCHED  *s;
	SERVER *srv;
	time_t	t0;
} T;

/* t_open - a store, config and workflow set; smtp: start a fake server */

static void
t_open(T *t, const char *yaml, const char *extra_conf, int smtp)
{
	STRBUF	conf = STRBUF_INIT, errs = STRBUF_INIT;
	char   *path, *err = 0, *p;
	static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";

	memset(t, 0, sizeof(*t));
	t->dir = test_mkdtemp();
	if (smtp)
		t->srv = srv_start(1, 0);
	p = test_write(t->dir, "x.tmpl", "From: Acme <news@acme.test>\n"
		       "Subject: Hello {{contact.first_name|there}}\n\n"
		       "Body for {{contact.email}}.\n.dot line\n");
	free(p);
	strbuf_printf(&conf, "data_directory = %s\ntemplate_directory = %s\n"
		      "workflow_directory = %s\ninject_address = 127.0.0.1:%d\n"
		      "bounce_domain = bounce.test\ntracker_url = https://t.test\n"
		      "inject_timeout = 5s\nengine_batch_size = 7\n%s",
		      t->dir, t->dir, t->dir, t->srv ? t->srv->port : 9,
		      extra_conf ? extra_conf : "");
	path = test_write(t->dir, "postdrip.conf", strbuf_str(&conf));
	t->cf = config_load(path, &err);
	if (t->cf == 0)
		fail_msg("config: %s", err);
	free(path);
	strbuf_free(&conf);
	t->st = store_open(t->dir, 0, &err);
	assert_non_null(t->st);
	t->tk = tokens_from_secret(1, secret, sizeof(secret));
	t->wfs = workflow_load_string("test.yaml", yaml, strlen(yaml), &errs);
	if (t->wfs == 0)
		fail_msg("workflow: %s", strbuf_str(&errs));
	strbuf_free(&errs);
	t->s = sched_create(t->st, t->cf, t->wfs, t->tk);
	clock_parse("2026-03-02T09:00:00Z", &t->t0);	/* a Monday */
}

static void
t_close(T *t)
{
	sched_free(t->s);
	store_close(t->st);
	workflow_set_free(t->wfs);
	tokens_free(t->tk);
	config_unref(t->cf);
	if (t->srv)
		srv_stop(t->srv);
	test_rmdir(t->dir);
	clock_set(0);
}

typedef struct OP {
	const char *addr;
	json_t *fields;
	const char *type;
	json_t *data;
	time_t	when;
	uint64_t id;
} OP;

static int
op_contact(STORE_TXN *txn, void *ctx)
{
	OP     *op = ctx;
	json_t *rec = json_pack("{s:s, s:I, s:O, s:[], s:i}", "email", op->addr,
				"created", (json_int_t) op->when, "fields", op->fields,
				"tags", "score", 0);
	int	rc = store_contact_put(txn, rec, &op->id);

	json_decref(rec);
	return (rc);
}

/* contact - add a contact with fields (JSON text) */

static uint64_t
contact(T *t, const char *addr, const char *fields)
{
	OP	op = {addr, json_loads(fields ? fields : "{}", 0, 0), 0, 0, t->t0, 0};

	assert_int_equal(store_write(t->st, op_contact, &op), STORE_OK);
	json_decref(op.fields);
	return (op.id);
}

static int
op_event(STORE_TXN *txn, void *ctx)
{
	OP     *op = ctx;

	return (store_event_append(txn, op->id, op->when, op->type, op->data, 0));
}

/* event - record an event for a contact at when */

static void
event(T *t, uint64_t id, time_t when, const char *type, const char *data)
{
	OP	op = {0, 0, type, data ? json_loads(data, 0, 0) : 0, when, id};

	assert_int_equal(store_write(t->st, op_event, &op), STORE_OK);
	if (op.data)
		json_decref(op.data);
}

/* tick - run the scheduler at when */

static SCHED_STATS
tick(T *t, time_t when)
{
	SCHED_STATS st;

	memset(&st, 0, sizeof(st));
	clock_set(when);
	assert_int_equal(sched_tick(t->s, when, &st), STORE_OK);
	return (st);
}

/* enrol - the latest enrolment of a contact in a workflow */

static int
enrol(T *t, uint64_t id, const char *wf, SCHED_ENROL *e)
{
	STORE_TXN *txn;
	int	rc;

	assert_int_equal(store_rbegin(t->st, &txn), STORE_OK);
	rc = sched_enrol_find(txn, id, wf, e);
	store_rend(txn);
	return (rc);
}

typedef struct COUNT {
	const char *type;
	int	n;
	char	last[512];
} COUNT;

static int
count_fn(const STORE_EVENT *ev, void *ctx)
{
	COUNT  *c = ctx;
	char   *d;

	if (strcmp(ev->type, c->type) == 0) {
		c->n++;
		d = ev->data ? json_dumps(ev->data, JSON_COMPACT | JSON_SORT_KEYS) : 0;
		snprintf(c->last, sizeof(c->last), "%s", d ? d : "");
		free(d);
	}
	return (0);
}

/* count - events of a type in a contact's timeline (and the last one) */

static int
count(T *t, uint64_t id, const char *type, char *last)
{
	STORE_TXN *txn;
	COUNT	c;

	memset(&c, 0, sizeof(c));
	c.type = type;
	assert_int_equal(store_rbegin(t->st, &txn), STORE_OK);
	assert_int_equal(store_timeline_walk(txn, id, count_fn, &c), STORE_OK);
	store_rend(txn);
	if (last)
		strcpy(last, c.last);
	return (c.n);
}

static json_t *
get_contact(T *t, uint64_t id)
{
	STORE_TXN *txn;
	json_t *rec = 0;

	assert_int_equal(store_rbegin(t->st, &txn), STORE_OK);
	assert_int_equal(store_contact_get(txn, id, &rec), STORE_OK);
	store_rend(txn);
	return (rec);
}

typedef struct JOBS {
	SCHED_ENROL e[16];
	time_t	due[16];
} JOBS;

static int
jobs_write(STORE_TXN *txn, void *ctx)
{
	JOBS   *j = ctx;
	int	i, rc;

	for (i = 0; i < 16; i++) {
		memset(&j->e[i], 0, sizeof(j->e[i]));
		j->e[i].contact = i + 1;
		snprintf(j->e[i].workflow, sizeof(j->e[i].workflow), "w");
		snprintf(j->e[i].step, sizeof(j->e[i].step), "1");
		j->e[i].state = SCHED_ACTIVE;
		j->e[i].id = store_next_id(txn, "enrolment");
		if ((rc = sched_job_set(txn, &j->e[i], 1000 + 100 * (i % 8))) != STORE_OK)
			return (rc);
		/* Moving the job must leave one key, at the new time. */
		if (i % 2 && (rc = sched_job_set(txn, &j->e[i], 1000 + 100 * (i % 8) + 1)) != STORE_OK)
			return (rc);
		if ((rc = sched_enrol_put(txn, &j->e[i])) != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
}

/* The schedule: time order, only what is due, bounded, moves leave no trace. */
static void
test_schedule_order(void **state)
{
	T	t;
	JOBS	j;
	STORE_TXN *txn;
	uint64_t ids[32];
	time_t	dues[32];
	SCHED_ENROL e;
	size_t	n, i;

	t_open(&t, "workflow: w\ntrigger:\n  event: x\nsteps:\n  - end: yes\n", 0, 0);
	assert_int_equal(store_write(t.st, jobs_write, &j), STORE_OK);
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_SCHEDULE), 16);
	n = sched_due(txn, 1200, ids, dues, 32);
	/* i % 8 in {0, 1, 2}: six jobs at 1000, 1101, 1200; 1301 is not due. */
	assert_int_equal(n, 6);
	for (i = 1; i < n; i++)
		assert_true(dues[i - 1] <= dues[i]);
	assert_int_equal(sched_due(txn, 1200, ids, dues, 3), 3);
	assert_int_equal(sched_due(txn, 999, ids, dues, 32), 0);
	assert_int_equal(sched_next_due(txn), 1000);
	assert_int_equal(sched_enrol_get(txn, j.e[3].id, &e), STORE_OK);
	assert_int_equal(e.due, 1301);
	assert_string_equal(e.workflow, "w");
	assert_int_equal(sched_enrol_find(txn, 4, "w", &e), STORE_OK);
	assert_int_equal(e.id, j.e[3].id);
	assert_int_equal(sched_enrol_find(txn, 4, "v", &e), STORE_NOTFOUND);
	store_rend(txn);
	t_close(&t);
}

static const char *flow_yaml =
"workflow: flow\n"
"trigger:\n"
"  event: subscribed\n"
"reentry: once\n"
"exit:\n"
"  - event: purchased\n"
"steps:\n"
"  - add_tag: new\n"
"  - add_score: 5\n"
"  - wait: 2d\n"
"  - if:\n"
"      clicked: pricing\n"
"    then:\n"
"      - set:\n"
"          interest: pricing\n"
"    else:\n"
"      - add_score: -1\n"
"  - wait_for: replied\n"
"    timeout: 3d\n"
"    on_event:\n"
"      - add_tag: replied\n"
"    on_timeout:\n"
"      - add_tag: silent\n";

/* An event trigger, tags, score, a wait, a branch on a click, wait_for. */
static void
test_flow(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	uint64_t a, b, c;
	json_t *rec;

	t_open(&t, flow_yaml, 0, 0);
	a = contact(&t, "a@x.test", 0);
	b = contact(&t, "b@x.test", 0);
	c = contact(&t, "c@x.test", 0);
	event(&t, a, t.t0, "subscribed", 0);
	event(&t, b, t.t0, "subscribed", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.enrolled, 2);
	assert_int_equal(enrol(&t, c, "flow", &e), STORE_NOTFOUND);
	assert_int_equal(enrol(&t, a, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_ACTIVE);
	assert_int_equal(e.phase, SCHED_PH_WAIT);
	assert_int_equal(e.due, t.t0 + 1 + 2 * DAY);
	rec = get_contact(&t, a);
	assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "tags"), 0)), "new");
	assert_int_equal(json_integer_value(json_object_get(rec, "score")), 5);
	json_decref(rec);
	assert_int_equal(count(&t, a, "tag_added", 0), 1);

	/* Nothing is due in between: a tick does nothing. */
	st = tick(&t, t.t0 + DAY);
	assert_int_equal(st.jobs, 0);

	/* a clicks pricing; b does not. */
	event(&t, a, t.t0 + DAY + 60, "clicked", "{\"link\": \"pricing\"}");
	st = tick(&t, t.t0 + 2 * DAY + 1);
	assert_int_equal(st.jobs, 2);
	rec = get_contact(&t, a);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "fields"),
							  "interest")), "pricing");
	assert_int_equal(json_integer_value(json_object_get(rec, "score")), 5);
	json_decref(rec);
	rec = get_contact(&t, b);
	assert_null(json_object_get(json_object_get(rec, "fields"), "interest"));
	assert_int_equal(json_integer_value(json_object_get(rec, "score")), 4);
	json_decref(rec);
	assert_int_equal(count(&t, a, "field_changed", 0), 1);

	/* Both now wait for a reply; a replies, b times out. */
	assert_int_equal(enrol(&t, a, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_WAITING);
	event(&t, a, t.t0 + 3 * DAY, "replied", 0);
	st = tick(&t, t.t0 + 3 * DAY + 1);
	assert_int_equal(enrol(&t, a, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	assert_int_equal(e.due, 0);
	assert_int_equal(enrol(&t, b, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_WAITING);
	st = tick(&t, t.t0 + 6 * DAY);
	assert_int_equal(enrol(&t, b, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	rec = get_contact(&t, a);
	assert_int_equal(json_array_size(json_object_get(rec, "tags")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "tags"), 1)), "replied");
	json_decref(rec);
	rec = get_contact(&t, b);
	assert_string_equal(json_string_value(json_array_get(json_object_get(rec, "tags"), 1)), "silent");
	json_decref(rec);

	/* Re-entry "once": subscribing again enrols no one. */
	event(&t, a, t.t0 + 7 * DAY, "subscribed", 0);
	st = tick(&t, t.t0 + 7 * DAY + 1);
	assert_int_equal(st.enrolled, 0);
	assert_int_equal(count(&t, a, "workflow_enrolled", 0), 1);
	assert_int_equal(count(&t, a, "workflow_completed", 0), 1);

	/* The schedule is empty: every job was consumed. */
	{
		STORE_TXN *txn;

		assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
		assert_int_equal(store_count(txn, STORE_DB_SCHEDULE), 0);
		store_rend(txn);
	}
	t_close(&t);
}

static const char *early_yaml =
"workflow: early\n"
"trigger:\n"
"  event: visited\n"
"steps:\n"
"  - wait_for: visited\n"
"    timeout: 1d\n"
"    on_event:\n"
"      - add_tag: twice\n"
"    on_timeout:\n"
"      - add_tag: once\n";

static const char *late_yaml =
"workflow: late\n"
"trigger:\n"
"  event: signed_up\n"
"steps:\n"
"  - wait: 1h\n"
"  - wait_for: booked\n"
"    timeout: 1d\n"
"    on_event:\n"
"      - add_tag: booked\n"
"    on_timeout:\n"
"      - add_tag: not_booked\n";

/* tag_of - the contact's only tag, or "" */

static const char *
tag_of(T *t, uint64_t id, char *buf, size_t len)
{
	json_t *rec = get_contact(t, id);
	json_t *tags = json_object_get(rec, "tags");

	snprintf(buf, len, "%s", json_array_size(tags) == 1 ?
		 json_string_value(json_array_get(tags, 0)) : "");
	json_decref(rec);
	return (buf);
}

/* event_url - the "url" of event seq, or "" */

static const char *
event_url(T *t, uint64_t seq, char *buf, size_t len)
{
	STORE_TXN *txn;
	STORE_EVENT ev;

	buf[0] = 0;
	assert_int_equal(store_rbegin(t->st, &txn), STORE_OK);
	if (store_event_get(txn, seq, &ev) == STORE_OK) {
		snprintf(buf, len, "%s", json_string_value(json_object_get(ev.data, "url")) ?
			 json_string_value(json_object_get(ev.data, "url")) : "");
		store_event_free(&ev);
	}
	store_rend(txn);
	return (buf);
}

/*
 * wait_for counts the events since its step logically began, also those
 * the follower passed before the step ran: a second visit recorded before
 * the engine followed the first (the first step of a workflow that the
 * first visit triggered), and an event after a wait ended but before the
 * tick that ran on. Not an event before either.
 */
static void
test_wait_early(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a, b, c, d, f;
	char	buf[64];

	(void) state;
	t_open(&t, early_yaml, 0, 0);
	a = contact(&t, "a@x.test", 0);
	b = contact(&t, "b@x.test", 0);
	c = contact(&t, "c@x.test", 0);
	/* a: two visits, then the engine's tick. */
	event(&t, a, t.t0, "visited", "{\"url\": \"/1\"}");
	event(&t, a, t.t0 + 60, "visited", "{\"url\": \"/2\"}");
	/* b: one visit, the tick, a second visit, a tick. c: one visit. */
	event(&t, b, t.t0, "visited", 0);
	event(&t, c, t.t0, "visited", 0);
	tick(&t, t.t0 + 120);
	assert_string_equal(tag_of(&t, a, buf, sizeof(buf)), "twice");
	assert_int_equal(enrol(&t, a, "early", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	/* The steps of on_event see the second visit as {{event}}. */
	assert_string_equal(event_url(&t, e.trigger_seq, buf, sizeof(buf)), "/2");
	assert_int_equal(enrol(&t, b, "early", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_WAITING);
	event(&t, b, t.t0 + 300, "visited", "{\"url\": \"/b2\"}");
	tick(&t, t.t0 + 301);
	assert_string_equal(tag_of(&t, b, buf, sizeof(buf)), "twice");
	assert_int_equal(enrol(&t, b, "early", &e), STORE_OK);
	assert_string_equal(event_url(&t, e.trigger_seq, buf, sizeof(buf)), "/b2");
	/* The visit that enrolled c is not the one it waits for. */
	tick(&t, t.t0 + DAY + 121);
	assert_string_equal(tag_of(&t, c, buf, sizeof(buf)), "once");
	t_close(&t);

	t_open(&t, late_yaml, 0, 0);
	d = contact(&t, "d@x.test", 0);
	f = contact(&t, "f@x.test", 0);
	event(&t, d, t.t0, "signed_up", 0);
	event(&t, f, t.t0, "signed_up", 0);
	tick(&t, t.t0 + 1);
	/* d books after the hour, f within it; the next tick comes late. */
	event(&t, d, t.t0 + 5000, "booked", 0);
	event(&t, f, t.t0 + 1800, "booked", 0);
	tick(&t, t.t0 + 7200);
	assert_string_equal(tag_of(&t, d, buf, sizeof(buf)), "booked");
	assert_int_equal(enrol(&t, f, "late", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_WAITING);
	tick(&t, t.t0 + DAY + 7201);
	assert_string_equal(tag_of(&t, f, buf, sizeof(buf)), "not_booked");
	t_close(&t);
}

/* An exit event ends the enrolment at once and removes its job. */
static void
test_exit(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a;
	STORE_TXN *txn;
	char	last[512];

	t_open(&t, flow_yaml, 0, 0);
	a = contact(&t, "a@x.test", 0);
	event(&t, a, t.t0, "subscribed", 0);
	tick(&t, t.t0 + 1);
	event(&t, a, t.t0 + 3600, "purchased", 0);
	tick(&t, t.t0 + 3601);
	assert_int_equal(enrol(&t, a, "flow", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_EXITED);
	assert_string_equal(e.reason, "purchased");
	assert_int_equal(count(&t, a, "workflow_exited", last), 1);
	assert_non_null(strstr(last, "\"reason\":\"purchased\""));
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_SCHEDULE), 0);
	store_rend(txn);
	/* Later ticks do nothing more for it. */
	tick(&t, t.t0 + 10 * DAY);
	assert_int_equal(count(&t, a, "tag_added", 0), 1);
	t_close(&t);
}

/* Re-entry after an interval; many contacts in batches smaller than them. */
static void
test_reentry_batches(void **state)
{
	T	t;
	SCHED_STATS st;
	uint64_t id[20];
	char	addr[32];
	int	i;

	t_open(&t, "workflow: r\ntrigger:\n  event: ping\nreentry: once per 10d\n"
	       "steps:\n  - add_score: 1\n", 0, 0);
	for (i = 0; i < 20; i++) {
		snprintf(addr, sizeof(addr), "u%d@x.test", i);
		id[i] = contact(&t, addr, 0);
		event(&t, id[i], t.t0, "ping", 0);
	}
	/* engine_batch_size is 7: the tick goes round until all are done. */
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.enrolled, 20);
	assert_int_equal(st.events >= 20, 1);
	event(&t, id[0], t.t0 + 5 * DAY, "ping", 0);
	st = tick(&t, t.t0 + 5 * DAY + 1);
	assert_int_equal(st.enrolled, 0);
	event(&t, id[0], t.t0 + 11 * DAY, "ping", 0);
	st = tick(&t, t.t0 + 11 * DAY + 1);
	assert_int_equal(st.enrolled, 1);
	assert_int_equal(count(&t, id[0], "score_changed", 0), 2);
	assert_int_equal(count(&t, id[1], "score_changed", 0), 1);
	t_close(&t);
}

/* reentry: restart: a new trigger ends the running enrolment and starts
 * another from the top; a contact the audience leaves out keeps its own. */
static void
test_reentry_restart(void **state)
{
	T	t;
	SCHED_STATS st;
	uint64_t a, b;
	char	last[256];

	t_open(&t, "workflow: r\ntrigger:\n  event: bought\nreentry: restart\n"
	       "audience:\n  not:\n    tag: frozen\n"
	       "steps:\n  - wait: 15d\n  - add_score: 1\n", 0, 0);
	a = contact(&t, "a@x.test", 0);
	b = contact(&t, "b@x.test", 0);
	event(&t, a, t.t0, "bought", 0);
	event(&t, b, t.t0, "bought", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.enrolled, 2);
	/* Day 10: a buys again; b buys again but is frozen by then. */
	event(&t, a, t.t0 + 10 * DAY, "bought", 0);
	event(&t, b, t.t0 + 10 * DAY, "tag_added", "{\"tag\": \"frozen\"}");
	st = tick(&t, t.t0 + 10 * DAY + 1);
	assert_int_equal(count(&t, a, "workflow_exited", last), 1);
	assert_non_null(strstr(last, "restarted"));
	assert_int_equal(count(&t, a, "workflow_enrolled", 0), 2);
	/* Day 15: a's first wait would have ended; only b's does. */
	st = tick(&t, t.t0 + 15 * DAY + 2);
	assert_int_equal(count(&t, a, "score_changed", 0), 0);
	assert_int_equal(count(&t, b, "score_changed", 0), 1);
	/* Day 25: a's second one ends its wait. */
	st = tick(&t, t.t0 + 25 * DAY + 2);
	assert_int_equal(count(&t, a, "score_changed", 0), 1);
	assert_int_equal(count(&t, a, "workflow_completed", 0), 1);
	t_close(&t);
}

/* Yearly date trigger from the date index, at the given hour. */
static void
test_birthday(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	uint64_t a, b;

	t_open(&t, "workflow: bday\ntrigger:\n  yearly: birthday\n  at: \"10:00\"\n"
	       "reentry: always\nsteps:\n  - add_tag: bday\n", 0, 0);
	a = contact(&t, "a@x.test", "{\"birthday\": \"1990-03-04\"}");
	b = contact(&t, "b@x.test", "{\"birthday\": \"1985-07-01\"}");
	tick(&t, t.t0);				/* 2 March: first run */
	assert_int_equal(enrol(&t, a, "bday", &e), STORE_NOTFOUND);
	tick(&t, t.t0 + DAY);
	assert_int_equal(enrol(&t, a, "bday", &e), STORE_NOTFOUND);
	/* 4 March, 00:30: enrolled, first job at 10:00. */
	st = tick(&t, t.t0 + 2 * DAY - 9 * 3600 + 1800);
	assert_int_equal(st.enrolled, 1);
	assert_int_equal(enrol(&t, a, "bday", &e), STORE_OK);
	assert_int_equal(e.due, t.t0 + 2 * DAY + 3600);
	assert_int_equal(count(&t, a, "tag_added", 0), 0);
	tick(&t, t.t0 + 2 * DAY + 3600);
	assert_int_equal(count(&t, a, "tag_added", 0), 1);
	assert_int_equal(enrol(&t, b, "bday", &e), STORE_NOTFOUND);
	/* A day is done once: no second enrolment the same day. */
	st = tick(&t, t.t0 + 2 * DAY + 7200);
	assert_int_equal(st.enrolled, 0);
	t_close(&t);
}

/*
 * A date trigger whose field is set after its day was done (registered at
 * 15:00 for a webinar tomorrow at 10:00, reminded a day before): caught
 * from the event, at once when the instant has passed, else at it.
 */
static void
test_date_same_day(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a, b, c, d;

	t_open(&t, "workflow: webinar\ntrigger:\n  date: webinar_at\n  before: 1d\n"
	       "steps:\n  - add_tag: reminded\n", 0, 0);
	tick(&t, t.t0);				/* Monday 09:00: the day is done */
	a = contact(&t, "a@x.test", "{\"webinar_at\": \"2026-03-03T10:00:00Z\"}");
	b = contact(&t, "b@x.test", "{\"webinar_at\": \"2026-03-03T20:00:00Z\"}");
	c = contact(&t, "c@x.test", "{\"webinar_at\": \"2026-03-02T08:00:00Z\"}");
	d = contact(&t, "d@x.test", "{\"webinar_at\": \"2026-03-05T10:00:00Z\"}");
	event(&t, a, t.t0 + 6 * 3600, "field_changed", "{\"field\": \"webinar_at\"}");
	event(&t, b, t.t0 + 6 * 3600, "subscribed", 0);
	event(&t, c, t.t0 + 6 * 3600, "subscribed", 0);
	event(&t, d, t.t0 + 6 * 3600, "subscribed", 0);
	tick(&t, t.t0 + 6 * 3600 + 1);
	/* a: due at 10:00 today, already past: at once. */
	assert_int_equal(count(&t, a, "tag_added", 0), 1);
	/* b: at 20:00. */
	assert_int_equal(enrol(&t, b, "webinar", &e), STORE_OK);
	assert_int_equal(e.due, t.t0 + 11 * 3600);
	assert_int_equal(count(&t, b, "tag_added", 0), 0);
	tick(&t, t.t0 + 11 * 3600);
	assert_int_equal(count(&t, b, "tag_added", 0), 1);
	/* c: the webinar was this morning: too late. */
	assert_int_equal(enrol(&t, c, "webinar", &e), STORE_NOTFOUND);
	/* d: a later day, found by that day's pass over the date index. */
	assert_int_equal(enrol(&t, d, "webinar", &e), STORE_NOTFOUND);
	tick(&t, t.t0 + 2 * DAY);
	assert_int_equal(enrol(&t, d, "webinar", &e), STORE_OK);
	assert_int_equal(e.due, t.t0 + 2 * DAY + 3600);
	/* The event again: no second enrolment. */
	event(&t, a, t.t0 + 2 * DAY, "field_changed", "{\"field\": \"webinar_at\"}");
	tick(&t, t.t0 + 2 * DAY + 1);
	assert_int_equal(count(&t, a, "workflow_enrolled", 0), 1);
	t_close(&t);
}

/* Inactivity from the engagement index: enrolled when N days pass. */
static void
test_inactive(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a, b;

	t_open(&t, "workflow: sleepy\ntrigger:\n  inactive: 30d\nreentry: once\n"
	       "steps:\n  - add_tag: sleepy\n", 0, 0);
	a = contact(&t, "a@x.test", 0);
	b = contact(&t, "b@x.test", 0);
	event(&t, a, t.t0, "subscribed", 0);
	event(&t, b, t.t0, "subscribed", 0);
	tick(&t, t.t0 + 1);
	event(&t, b, t.t0 + 20 * DAY, "clicked", "{\"link\": \"x\"}");
	/* A machine open is not a person engaging. */
	event(&t, a, t.t0 + 20 * DAY, "opened", "{\"machine\": true}");
	tick(&t, t.t0 + 20 * DAY + 1);
	tick(&t, t.t0 + 29 * DAY);
	assert_int_equal(enrol(&t, a, "sleepy", &e), STORE_NOTFOUND);
	tick(&t, t.t0 + 30 * DAY + 1);
	assert_int_equal(enrol(&t, a, "sleepy", &e), STORE_OK);
	assert_int_equal(enrol(&t, b, "sleepy", &e), STORE_NOTFOUND);
	tick(&t, t.t0 + 50 * DAY + 1);
	assert_int_equal(enrol(&t, b, "sleepy", &e), STORE_OK);
	assert_int_equal(count(&t, a, "workflow_enrolled", 0), 1);
	t_close(&t);
}

static const char *send_yaml =
"workflow: news\n"
"trigger:\n"
"  event: subscribed\n"
"steps:\n"
"  - send: x\n"
"  - wait: 1d\n"
"  - send: x\n";

/* verp_check - the envelope sender carries a VERP token for the contact */

static void
verp_check(T *t, const char *sender, uint64_t contact_id, uint64_t *msgno)
{
	const char *plus = strchr(sender, '+'), *at = strchr(sender, '@');
	TOKEN	tok;

	assert_non_null(plus);
	assert_non_null(at);
	assert_int_equal(strncmp(sender, "bounces+", 8), 0);
	assert_string_equal(at, "@bounce.test");
	assert_int_equal(tokens_verify(t->tk, plus + 1, at - plus - 1, 0, 0, &tok), TOKENS_OK);
	assert_int_equal(tok.kind, TOKEN_VERP);
	assert_int_equal(tok.contact, contact_id);
	*msgno = tok.message;
}

/* Sends: VERP, headers, the sent record, then a deferral with backoff. */
static void
test_send(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	STORE_TXN *txn;
	STORE_SENT sent;
	uint64_t a, msgno;
	char	last[512], mid[256];
	const char *p;

	t_open(&t, send_yaml, "engine_retry_backoff = 5m, 1h\n", 1);
	a = contact(&t, "a@x.test", "{\"first_name\": \"Ann\"}");
	event(&t, a, t.t0, "subscribed", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.sent, 1);
	assert_int_equal(atomic_load(&t.srv->nmsg), 1);
	assert_string_equal(t.srv->rcpt[0], "a@x.test");
	verp_check(&t, t.srv->sender[0], a, &msgno);
	assert_non_null(strstr(t.srv->body[0], "Subject: Hello Ann"));
	assert_non_null(strstr(t.srv->body[0], "List-Unsubscribe: <https://t.test/u/"));
	assert_non_null(strstr(t.srv->body[0], "List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
	assert_non_null(strstr(t.srv->body[0], "\r\n.dot line\r\n"));
	p = strcasestr(t.srv->body[0], "Message-Id: <");
	assert_non_null(p);
	snprintf(mid, sizeof(mid), "%.*s", (int) strcspn(p + 13, ">"), p + 13);
	assert_int_equal(strncmp(mid, "e", 1), 0);
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_sent_by_msgid(txn, mid, &sent), STORE_OK);
	assert_int_equal(sent.msgno, msgno);
	assert_int_equal(sent.contact, a);
	assert_string_equal(sent.workflow, "news");
	assert_string_equal(sent.stream, "marketing");
	store_rend(txn);
	assert_int_equal(count(&t, a, "sent", last), 1);
	assert_non_null(strstr(last, mid));

	/* The second send is deferred by the server: retried after 5m with
	 * the same bytes and Message-ID, then accepted. */
	atomic_store(&t.srv->defer_all, 1);
	st = tick(&t, t.t0 + DAY + 1);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(enrol(&t, a, "news", &e), STORE_OK);
	assert_int_equal(e.phase, SCHED_PH_INJECT);
	assert_int_equal(e.due, t.t0 + DAY + 1 + 300);
	assert_int_equal(count(&t, a, "send_deferred", 0), 1);
	st = tick(&t, t.t0 + DAY + 200);
	assert_int_equal(st.jobs, 0);
	atomic_store(&t.srv->defer_all, 0);
	st = tick(&t, t.t0 + DAY + 301);
	assert_int_equal(st.sent, 1);
	assert_int_equal(atomic_load(&t.srv->nmsg), 2);
	assert_int_equal(count(&t, a, "sent", 0), 2);
	assert_int_equal(enrol(&t, a, "news", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	t_close(&t);
}

/* reply_routing_streams: marketing mail carries Reply-To: reply+TOKEN (a
 * reply token for the contact and message), and the "sent" event keeps
 * where replies would have gone (the template has no Reply-To: its From). */
static void
test_reply_routing(void **state)
{
	T	t;
	SCHED_STATS st;
	uint64_t a, msgno;
	char	last[512], addr[ADDR_MAX + 1];
	const char *p;
	VERP	v;
	VERP_KIND kind;
	TOKEN	tok;

	t_open(&t, send_yaml, "reply_routing_streams = marketing\n", 1);
	a = contact(&t, "a@x.test", "{\"first_name\": \"Ann\"}");
	event(&t, a, t.t0, "subscribed", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.sent, 1);
	verp_check(&t, t.srv->sender[0], a, &msgno);
	p = strstr(t.srv->body[0], "\r\nReply-To: ");
	assert_non_null(p);
	p += 12 + (p[12] == '<');
	snprintf(addr, sizeof(addr), "%.*s", (int) strcspn(p, ">\r"), p);
	verp_from_config(&v, t.cf);
	assert_int_equal(verp_verify(&v, t.tk, addr, &kind, &tok), TOKENS_OK);
	assert_int_equal(kind, VERP_REPLY);
	assert_int_equal(tok.contact, a);
	assert_int_equal(tok.message, msgno);
	assert_int_equal(count(&t, a, "sent", last), 1);
	assert_non_null(strstr(last, "\"reply_to\":\"news@acme.test\""));
	t_close(&t);

	/* Not for a stream that is not listed. */
	t_open(&t, send_yaml, "reply_routing_streams = transactional\n", 1);
	a = contact(&t, "a@x.test", "{\"first_name\": \"Ann\"}");
	event(&t, a, t.t0, "subscribed", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.sent, 1);
	assert_null(strstr(t.srv->body[0], "Reply-To:"));
	assert_int_equal(count(&t, a, "sent", last), 1);
	assert_null(strstr(last, "reply_to"));
	t_close(&t);
}

/*
 * What a template sees of the contact's clicks: one key per link name,
 * lower case, so that a click recorded as link=Pricing shows the block
 * {{#clicked.pricing}}, as the condition "clicked: pricing" holds for it.
 */
static void
test_context_clicks(void **state)
{
	T	t;
	SCHED_ENROL e;
	STORE_TXN *txn;
	json_t *rec, *ctx, *clicked;
	uint64_t a;

	t_open(&t, send_yaml, 0, 0);
	a = contact(&t, "a@x.test", 0);
	event(&t, a, t.t0, "clicked", "{\"link\": \"Pricing\"}");
	event(&t, a, t.t0 + 1, "clicked", "{\"link\": \"docs\"}");
	event(&t, a, t.t0 + 2, "clicked", "{\"url\": \"https://x.test/\"}");
	event(&t, a, t.t0 + 3, "opened", "{\"link\": \"nope\"}");
	memset(&e, 0, sizeof(e));
	e.contact = a;
	snprintf(e.workflow, sizeof(e.workflow), "news");
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_contact_get(txn, a, &rec), STORE_OK);
	ctx = sched_context(t.s, txn, &e, &workflow_find(t.wfs, "news")->steps[0], rec);
	clicked = json_object_get(ctx, "clicked");
	assert_true(json_is_true(json_object_get(clicked, "pricing")));
	assert_true(json_is_true(json_object_get(clicked, "docs")));
	assert_null(json_object_get(clicked, "Pricing"));
	assert_null(json_object_get(clicked, "nope"));
	assert_int_equal(json_object_size(clicked), 2);
	json_decref(ctx);
	json_decref(rec);
	store_rend(txn);
	t_close(&t);
}

/* A crash after the send is recorded and before it is injected: the next
 * engine injects the parked message, with the same Message-ID, once. */
static void
test_crash_between(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED  *s2;
	STORE_TXN *txn;
	uint64_t a;
	size_t	n;
	size_t	i;
	char	last[512];

	t_open(&t, send_yaml, 0, 1);
	a = contact(&t, "a@x.test", 0);
	event(&t, a, t.t0, "subscribed", 0);
	clock_set(t.t0 + 1);
	t.s->now = t.t0 + 1;
	assert_int_equal(sched_follow(t.s, &n), STORE_OK);
	assert_int_equal(sched_run_due(t.s, &n), STORE_OK);
	store_flush(t.st);
	/* The engine dies here: its pending list is lost. */
	for (i = 0; i < t.s->npend; i++) {
		sched_out_free(&t.s->pend[i]->out);
		myfree(t.s->pend[i]);
	}
	t.s->npend = 0;
	assert_int_equal(atomic_load(&t.srv->nmsg), 0);
	assert_int_equal(count(&t, a, "sent", last), 1);
	assert_int_equal(enrol(&t, a, "news", &e), STORE_OK);
	assert_int_equal(e.phase, SCHED_PH_INJECT);
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_SENT), 1);
	store_rend(txn);

	/* A new engine over the same store. */
	s2 = sched_create(t.st, t.cf, t.wfs, t.tk);
	clock_set(t.t0 + 5);
	assert_int_equal(sched_tick(s2, t.t0 + 5, 0), STORE_OK);
	assert_int_equal(atomic_load(&t.srv->nmsg), 1);
	{
		json_t *d = json_loads(last, 0, 0);
		char	want[300];

		snprintf(want, sizeof(want), "Message-Id: <%s>",
			 json_string_value(json_object_get(d, "message_id")));
		assert_non_null(strcasestr(t.srv->body[0], want));
		json_decref(d);
	}
	assert_int_equal(count(&t, a, "sent", 0), 1);
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_count(txn, STORE_DB_SENT), 1);
	store_rend(txn);
	/* Nothing more to inject at that time. */
	assert_int_equal(sched_tick(s2, t.t0 + 6, 0), STORE_OK);
	assert_int_equal(atomic_load(&t.srv->nmsg), 1);
	sched_free(s2);
	t_close(&t);
}

/* Frequency caps: a second marketing send the same day waits a day. */
static void
test_caps(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	uint64_t a;

	t_open(&t, "workflow: one\ntrigger:\n  event: go\nsteps:\n  - send: x\n---\n"
	       "workflow: two\ntrigger:\n  event: go\nsteps:\n  - send: x\n",
	       "frequency_caps = 1/1d\n", 1);
	a = contact(&t, "a@x.test", 0);
	event(&t, a, t.t0, "go", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.enrolled, 2);
	assert_int_equal(st.sent, 1);
	assert_int_equal(enrol(&t, a, "two", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_ACTIVE);
	assert_int_equal(e.phase, SCHED_PH_START);
	assert_int_equal(e.due, t.t0 + 1 + DAY + 1);
	st = tick(&t, t.t0 + DAY + 2);
	assert_int_equal(st.sent, 1);
	assert_int_equal(atomic_load(&t.srv->nmsg), 2);
	t_close(&t);
}

typedef struct COUNTED {
	CAPS   *caps;
	time_t	when;
} COUNTED;

static int
counted_write(STORE_TXN *txn, void *ctx)
{
	COUNTED *c = ctx;

	return (caps_count(txn, c->caps, "a@x.test", "marketing", "news@other.test", c->when));
}

/* The policy daemon's counters: mail it counted from another sender
 * holds the engine's send back too. */
static void
test_caps_policyd(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	COUNTED	c;
	char   *err = 0;
	uint64_t a;

	t_open(&t, "workflow: one\ntrigger:\n  event: go\nsteps:\n  - send: x\n",
	       "frequency_caps = 1/1d\n", 1);
	a = contact(&t, "a@x.test", 0);
	c.caps = caps_create(t.cf, &err);
	assert_non_null(c.caps);
	c.when = t.t0 - 3600;
	assert_int_equal(store_write(t.st, counted_write, &c), STORE_OK);
	event(&t, a, t.t0, "go", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.sent, 0);
	assert_int_equal(enrol(&t, a, "one", &e), STORE_OK);
	assert_true(e.due > t.t0 + 1 && e.due <= t.t0 - 3600 + DAY + 120);
	st = tick(&t, e.due);
	assert_int_equal(st.sent, 1);
	caps_free(c.caps);
	t_close(&t);
}

/* Segment trigger fed by another workflow's score change, then a notify
 * step: the owner gets the contact's details through the injector. */
static void
test_segment_notify(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a, b;
	char	last[512];
	int	i, found = 0;

	t_open(&t, "segment: hot\nwhere:\n  score: \">= 10\"\n---\n"
	       "workflow: bump\ntrigger:\n  event: ping\nreentry: always\n"
	       "steps:\n  - add_score: 10\n---\n"
	       "workflow: alert\nstream: transactional\ntrigger:\n  segment: hot\n"
	       "reentry: once\nsteps:\n  - notify: owner\n    to: sales@x.test\n    template: alert\n"
	       "  - add_tag: hot\n", 0, 1);
	free(test_write(t.dir, "alert.tmpl", "From: postdrip <engine@x.test>\n"
			"Subject: Hot lead {{contact.email}}\n\nContact: {{contact.email}}\n"
			"Score: {{contact.score}}\nplan: {{contact.plan}}\n"
			"Triggered by: {{event.type}}\n"));
	a = contact(&t, "a@x.test", "{\"owner\": \"rep@x.test\", \"plan\": \"pro\"}");
	b = contact(&t, "b@x.test", 0);
	event(&t, a, t.t0, "ping", 0);
	event(&t, b, t.t0, "hello", 0);
	tick(&t, t.t0 + 1);
	assert_int_equal(enrol(&t, a, "alert", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	assert_int_equal(enrol(&t, b, "alert", &e), STORE_NOTFOUND);
	assert_int_equal(count(&t, a, "notified", last), 1);
	assert_non_null(strstr(last, "rep@x.test"));
	for (i = 0; i < atomic_load(&t.srv->nmsg); i++) {
		if (strcmp(t.srv->rcpt[i], "rep@x.test") != 0)
			continue;
		found++;
		assert_non_null(strstr(t.srv->body[i], "Contact: a@x.test"));
		assert_non_null(strstr(t.srv->body[i], "Score: 10"));
		assert_non_null(strstr(t.srv->body[i], "plan: pro"));
		assert_non_null(strstr(t.srv->body[i], "Triggered by: score_changed"));
	}
	assert_int_equal(found, 1);
	/* Still in the segment: no second alert on the next event. */
	event(&t, a, t.t0 + 60, "ping", 0);
	tick(&t, t.t0 + 61);
	assert_int_equal(count(&t, a, "notified", 0), 1);
	t_close(&t);
}

typedef struct HTTPD {
	int	lfd, port;
	int	status;
	atomic_int hits;
	char	body[2048];
	char	sig[128];
	char	delivery[128];
	atomic_int *watch;		/* a counter read when a request comes */
	int	seen;
	pthread_t tid;
} HTTPD;

static void *
httpd_loop(void *arg)
{
	HTTPD  *h = arg;
	char	req[8192], reply[128];
	int	fd;

	while ((fd = accept(h->lfd, 0, 0)) >= 0) {
		size_t	n = 0;
		ssize_t	r;
		char   *end, *cl, *sig;
		long	want = -1;

		while (n < sizeof(req) - 1 && (r = read(fd, req + n, sizeof(req) - 1 - n)) > 0) {
			n += r;
			req[n] = 0;
			if ((end = strstr(req, "\r\n\r\n")) != 0) {
				if (want < 0 && (cl = strcasestr(req, "Content-Length:")) != 0)
					want = atol(cl + 15);
				if ((long) (n - (end + 4 - req)) >= want)
					break;
			}
		}
		if (h->watch)
			h->seen = atomic_load(h->watch);
		if ((end = strstr(req, "\r\n\r\n")) != 0)
			snprintf(h->body, sizeof(h->body), "%s", end + 4);
		if ((sig = strcasestr(req, "X-Postdrip-Signature: ")) != 0)
			snprintf(h->sig, sizeof(h->sig), "%.*s", (int) strcspn(sig + 22, "\r"), sig + 22);
		if ((sig = strcasestr(req, "X-Postdrip-Delivery: ")) != 0)
			snprintf(h->delivery, sizeof(h->delivery), "%.*s",
				 (int) strcspn(sig + 21, "\r"), sig + 21);
		snprintf(reply, sizeof(reply), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
			 "Connection: close\r\n\r\n", h->status);
		(void) !write(fd, reply, strlen(reply));
		atomic_fetch_add(&h->hits, 1);
		close(fd);
	}
	return (0);
}

static void
httpd_start(HTTPD *h, int status)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(h, 0, sizeof(*h));
	h->status = status;
	h->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(h->lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(listen(h->lfd, 8), 0);
	getsockname(h->lfd, (struct sockaddr *) &sin, &len);
	h->port = ntohs(sin.sin_port);
	pthread_create(&h->tid, 0, httpd_loop, h);
}

static void
httpd_stop(HTTPD *h)
{
	shutdown(h->lfd, SHUT_RDWR);
	close(h->lfd);
	pthread_join(h->tid, 0);
}

/* Webhook: POST of the rendered JSON, signed; retried, then given up. */
static void
test_webhook(void **state)
{
	T	t;
	HTTPD	h;
	SCHED_ENROL e;
	char	yaml[1024], last[512], first[128], want[128];
	uint64_t a;

	httpd_start(&h, 200);
	snprintf(yaml, sizeof(yaml), "workflow: hook\ntrigger:\n  event: go\n"
		 "reentry: always\nsteps:\n  - webhook: http://127.0.0.1:%d/hook\n"
		 "    secret: s3cret\n    retries: 1\n    timeout: 5s\n    body:\n"
		 "      email: \"{{contact.email}}\"\n      plan: \"{{contact.plan}}\"\n"
		 "  - add_tag: hooked\n", h.port);
	t_open(&t, yaml, "engine_retry_backoff = 10m\n", 0);
	a = contact(&t, "a@x.test", "{\"plan\": \"pro\"}");
	event(&t, a, t.t0, "go", 0);
	tick(&t, t.t0 + 1);
	assert_int_equal(atomic_load(&h.hits), 1);
	assert_string_equal(h.body, "{\"email\":\"a@x.test\",\"plan\":\"pro\"}");
	assert_int_equal(strncmp(h.sig, "sha256=", 7), 0);
	assert_int_equal(strlen(h.sig), 7 + 64);
	assert_int_equal(count(&t, a, "webhook", last), 1);
	assert_non_null(strstr(last, "\"status\":200"));
	assert_int_equal(count(&t, a, "tag_added", 0), 1);
	assert_int_equal(enrol(&t, a, "hook", &e), STORE_OK);
	snprintf(want, sizeof(want), "%llu.1", (unsigned long long) e.id);
	assert_string_equal(h.delivery, want);
	snprintf(first, sizeof(first), "%s", h.delivery);

	/* The endpoint fails: one retry after the backoff, then given up.
	 * Both attempts carry one delivery id, not the first enrolment's. */
	h.status = 500;
	event(&t, a, t.t0 + 3600, "go", 0);
	tick(&t, t.t0 + 3601);
	assert_int_equal(atomic_load(&h.hits), 2);
	assert_int_equal(enrol(&t, a, "hook", &e), STORE_OK);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.due, t.t0 + 3601 + 600);
	assert_string_not_equal(h.delivery, first);
	snprintf(first, sizeof(first), "%s", h.delivery);
	tick(&t, t.t0 + 3601 + 600);
	assert_int_equal(atomic_load(&h.hits), 3);
	assert_string_equal(h.delivery, first);
	assert_int_equal(count(&t, a, "webhook_failed", last), 1);
	assert_non_null(strstr(last, "HTTP status 500"));
	assert_int_equal(enrol(&t, a, "hook", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	t_close(&t);
	httpd_stop(&h);
}

/*
 * A webhook due in the same round as a send is called after the send is
 * injected, so a slow endpoint does not hold the mail back (the webhook's
 * enrolment is the older one and its job would otherwise run first).
 */
static void
test_webhook_after_sends(void **state)
{
	T	t;
	HTTPD	h;
	char	yaml[1024];
	uint64_t a;

	httpd_start(&h, 200);
	snprintf(yaml, sizeof(yaml), "workflow: hook\ntrigger:\n  event: go\n"
		 "steps:\n  - webhook: http://127.0.0.1:%d/hook\n  - send: x\n---\n"
		 "workflow: mail\ntrigger:\n  event: go\nsteps:\n  - send: x\n", h.port);
	t_open(&t, yaml, 0, 1);
	h.watch = &t.srv->nmsg;
	a = contact(&t, "a@x.test", 0);
	event(&t, a, t.t0, "go", 0);
	tick(&t, t.t0 + 1);
	assert_int_equal(atomic_load(&h.hits), 1);
	assert_int_equal(h.seen, 1);
	assert_int_equal(count(&t, a, "webhook", 0), 1);
	/* The send that follows the webhook goes out in the same tick. */
	assert_int_equal(atomic_load(&t.srv->nmsg), 2);
	assert_int_equal(count(&t, a, "sent", 0), 2);
	t_close(&t);
	httpd_stop(&h);
}

/* A 5xx is a bounce of the message, judged as a DSN would be: a hard one
 * (550 5.1.1) suppresses the contact and ends the enrolment by the
 * hard-bounce exit rule; a soft one (552 5.2.2) is counted and the
 * enrolment goes on. A 4xx for longer than engine_retry_limit:
 * "send_failed" and on. The outcomes are counted apart in META. */
static void
test_refused_failed(void **state)
{
	T	t;
	SCHED_ENROL e;
	SCHED_STATS st;
	STORE_SUPPRESSION sup;
	STORE_TXN *txn;
	uint64_t r, f, d;
	char	last[512];

	t_open(&t, "workflow: two\ntrigger:\n  event: go\nsteps:\n  - send: x\n"
	       "  - add_tag: after\n", "engine_retry_limit = 60s\n"
	       "engine_retry_backoff = 5m\n", 1);
	r = contact(&t, "reject-me@x.test", 0);
	f = contact(&t, "full-me@x.test", 0);
	d = contact(&t, "defer-me@x.test", 0);
	event(&t, r, t.t0, "go", 0);
	event(&t, f, t.t0, "go", 0);
	event(&t, d, t.t0, "go", 0);
	st = tick(&t, t.t0 + 1);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(count(&t, r, "send_refused", last), 1);
	assert_non_null(strstr(last, "550 5.1.1"));
	/* Hard: a bounced event as from a DSN, suppressed, exited. */
	assert_int_equal(count(&t, r, "bounced", last), 1);
	assert_non_null(strstr(last, "\"class\":\"hard\""));
	assert_non_null(strstr(last, "\"reason\":\"userunknown\""));
	assert_non_null(strstr(last, "\"status\":\"5.1.1\""));
	assert_int_equal(count(&t, r, "tag_added", 0), 0);
	assert_int_equal(enrol(&t, r, "two", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_EXITED);
	assert_string_equal(e.reason, "bounced");
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(store_suppress_get(txn, "reject-me@x.test", &sup), STORE_OK);
	assert_string_equal(sup.reason, "hardbounce");
	/* Soft: counted, not suppressed (soft_bounce_limit), goes on. */
	assert_int_equal(store_suppress_get(txn, "full-me@x.test", &sup), STORE_NOTFOUND);
	assert_int_equal(sched_meta_get(txn, SCHED_COUNT_REFUSED), 2);
	assert_int_equal(sched_meta_get(txn, SCHED_COUNT_DEFERRED), 1);
	assert_int_equal(sched_meta_get(txn, SCHED_COUNT_SENT), 0);
	store_rend(txn);
	assert_int_equal(count(&t, f, "bounced", last), 1);
	assert_non_null(strstr(last, "\"class\":\"soft\""));
	assert_int_equal(count(&t, f, "tag_added", 0), 1);
	assert_int_equal(enrol(&t, f, "two", &e), STORE_OK);
	assert_int_equal(e.state, SCHED_DONE);
	assert_int_equal(enrol(&t, d, "two", &e), STORE_OK);
	assert_int_equal(e.phase, SCHED_PH_INJECT);
	st = tick(&t, t.t0 + 301);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(count(&t, d, "send_failed", last), 1);
	assert_non_null(strstr(last, "450 4.2.0"));
	assert_int_equal(count(&t, d, "tag_added", 0), 1);
	assert_int_equal(count(&t, d, "bounced", 0), 0);
	assert_int_equal(atomic_load(&t.srv->nmsg), 0);
	assert_int_equal(store_rbegin(t.st, &txn), STORE_OK);
	assert_int_equal(sched_meta_get(txn, SCHED_COUNT_FAILED), 1);
	store_rend(txn);
	t_close(&t);
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* log_keep - the scheduler's log, kept for the test (any thread) */

static void
log_keep(void *ctx, int warn, const char *fmt,...)
{
	STRBUF *sb = ctx;
	va_list	ap;

	(void) warn;
	pthread_mutex_lock(&log_lock);
	va_start(ap, fmt);
	strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
	strbuf_putc(sb, '\n');
	pthread_mutex_unlock(&log_lock);
}

/* A decision is logged only once its transition commits: one computed
 * from a stale read is dropped by the writer and leaves no line. */
static void
test_log_after_commit(void **state)
{
	T	t;
	SCHED_ENROL e, now;
	SCHED_TR a, b;
	STRBUF	log = STRBUF_INIT;
	uint64_t c, id;
	const WORKFLOW *wf;

	(void) state;
	t_open(&t, "workflow: br\ntrigger:\n  manual: yes\nsteps:\n  - add_tag: one\n"
	       "  - add_tag: two\n", 0, 0);
	sched_set_log(t.s, log_keep, &log);
	c = contact(&t, "log@x.test", 0);
	assert_int_equal(sched_enrol(t.s, c, "br", t.t0, &id), STORE_OK);
	assert_non_null(strstr(strbuf_str(&log), "enrolled: "));
	assert_int_equal(enrol(&t, c, "br", &e), STORE_OK);
	wf = workflow_find(t.wfs, "br");

	/* Two changes computed from the same read: the first wins. */
	sched_tr_init(&a, t.s, &e);
	sched_goto(t.s, &a, wf, 1);
	sched_tr_log(&a, 0, "branch: contact=%llu first", (unsigned long long) c);
	sched_tr_init(&b, t.s, &e);
	sched_end(t.s, &b, SCHED_EXITED, "exit_rule");
	sched_tr_log(&b, 0, "exited: contact=%llu second", (unsigned long long) c);
	(void) sched_commit(&a, 0);
	store_flush(t.st);
	(void) sched_commit(&b, 0);
	store_flush(t.st);

	assert_int_equal(enrol(&t, c, "br", &now), STORE_OK);
	assert_int_equal(now.state, SCHED_ACTIVE);
	assert_string_equal(now.step, wf->steps[1].id);
	pthread_mutex_lock(&log_lock);
	assert_non_null(strstr(strbuf_str(&log), "branch: contact="));
	/* The dropped transition claims nothing. */
	assert_null(strstr(strbuf_str(&log), "exited: "));
	pthread_mutex_unlock(&log_lock);
	assert_int_equal(count(&t, c, "workflow_exited", 0), 0);
	sched_set_log(t.s, 0, 0);
	strbuf_free(&log);
	t_close(&t);
}

/* wait_until a contact's date field, with an offset and an hour; a
 * missing field goes on at once. */
static void
test_wait_until(void **state)
{
	T	t;
	SCHED_ENROL e;
	uint64_t a, b;

	t_open(&t, "workflow: trial\ntrigger:\n  event: trial_started\nsteps:\n"
	       "  - wait_until: trial_end\n    before: 3d\n  - add_tag: reminded\n"
	       "  - wait_until: trial_end\n    at: \"09:00\"\n  - add_tag: lastday\n", 0, 0);
	a = contact(&t, "a@x.test", "{\"trial_end\": \"2026-03-20\"}");
	b = contact(&t, "b@x.test", 0);
	event(&t, a, t.t0, "trial_started", 0);
	event(&t, b, t.t0, "trial_started", 0);
	tick(&t, t.t0 + 1);
	assert_int_equal(enrol(&t, a, "trial", &e), STORE_OK);
	assert_int_equal(e.due, t.t0 + 15 * DAY - 9 * 3600);	/* 17 March 00:00 */
	assert_int_equal(count(&t, a, "tag_added", 0), 0);
	/* b has no trial_end: both waits pass at once. */
	assert_int_equal(count(&t, b, "tag_added", 0), 2);
	tick(&t, t.t0 + 15 * DAY - 9 * 3600);
	assert_int_equal(count(&t, a, "tag_added", 0), 1);
	assert_int_equal(enrol(&t, a, "trial", &e), STORE_OK);
	assert_int_equal(e.due, t.t0 + 18 * DAY);		/* 20 March 09:00 */
	tick(&t, t.t0 + 18 * DAY);
	assert_int_equal(count(&t, a, "tag_added", 0), 2);
	t_close(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schedule_order),
		cmocka_unit_test(test_flow),
		cmocka_unit_test(test_exit),
		cmocka_unit_test(test_wait_early),
		cmocka_unit_test(test_wait_until),
		cmocka_unit_test(test_reentry_batches),
		cmocka_unit_test(test_reentry_restart),
		cmocka_unit_test(test_birthday),
		cmocka_unit_test(test_date_same_day),
		cmocka_unit_test(test_inactive),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_reply_routing),
		cmocka_unit_test(test_context_clicks),
		cmocka_unit_test(test_crash_between),
		cmocka_unit_test(test_refused_failed),
		cmocka_unit_test(test_log_after_commit),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_caps_policyd),
		cmocka_unit_test(test_segment_notify),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_webhook_after_sends),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
