/*
 * report_test - report_build() over a real LMDB store in a temporary
 * directory, with events written through the store API as the scheduler,
 * the tracker and the LMTP receiver write them: A/B arms (data "arm" on
 * sends) and their Wilson intervals, goals per arm, an event tied to its
 * step only through the message number, and the HTML page's numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/report.h"
#include "workflow/workflow.h"
#include "testutil.h"

typedef struct EV {
	uint64_t contact;
	time_t	when;
	const char *type;
	json_t *data;
} EV;

static int
put_ev(STORE_TXN *txn, void *ctx)
{
	EV     *e = ctx;

	return (store_event_append(txn, e->contact, e->when, e->type, e->data, 0));
}

static void
ev(STORE *st, uint64_t contact, time_t when, const char *type, json_t *data)
{
	EV	e = {contact, when, type, data};

	assert_int_equal(store_write(st, put_ev, &e), STORE_OK);
	json_decref(data);
}

typedef struct SENTOP {
	STORE_SENT s;
} SENTOP;

static int
put_sent(STORE_TXN *txn, void *ctx)
{
	return (store_sent_put(txn, &((SENTOP *) ctx)->s));
}

#define T0 1772442000			/* 2026-03-02T09:00:00Z */

static const char wf_text[] =
"workflow: ab\n"
"trigger:\n"
"  event: subscribed\n"
"goal:\n"
"  event: purchased\n"
"steps:\n"
"  - send: offer\n"
"    label: offer\n";

static json_t *
find_arm(json_t *w, const char *name)
{
	size_t	i;
	json_t *a;

	json_array_foreach(json_object_get(w, "arms"), i, a)
		if (strcmp(json_string_value(json_object_get(a, "arm")), name) == 0)
		return (a);
	fail_msg("no arm %s", name);
	return (0);
}

static void
test_arms(void **state)
{
	char   *dir = test_mkdtemp();
	STORE  *st;
	STRBUF	errs = STRBUF_INIT, html = STRBUF_INIT;
	WORKFLOW_SET *wfs;
	REPORT_OPTS o;
	SENTOP	so;
	json_t *rep, *w, *a, *b, *s;
	char   *err = 0, msgid[sizeof(so.s.message_id)];
	uint64_t c, msgno_b1 = 0;
	double	p, lo, hi;

	(void) state;
	assert_non_null(st = store_open(dir, 0, &err));
	wfs = workflow_load_string("ab.yaml", wf_text, strlen(wf_text), &errs);
	assert_non_null(wfs);

	/* 20 contacts: even ones in arm A, odd ones in B. A: 10 sent, 6
	 * opened by people (and 4 by a proxy), 3 clicked, 2 bought. B: 10
	 * sent, 2 opened, 1 bought. */
	for (c = 1; c <= 20; c++) {
		const char *arm = c % 2 ? "B" : "A";

		memset(&so, 0, sizeof(so));
		snprintf(so.s.message_id, sizeof(so.s.message_id), "e.%llu@news.example",
			 (unsigned long long) c);
		so.s.contact = c;
		snprintf(so.s.workflow, sizeof(so.s.workflow), "ab");
		snprintf(so.s.step, sizeof(so.s.step), "offer");
		so.s.time = T0;
		assert_int_equal(store_write(st, put_sent, &so), STORE_OK);
		if (c == 1)
			msgno_b1 = so.s.msgno;
		snprintf(msgid, sizeof(msgid), "%s", so.s.message_id);
		ev(st, c, T0, "workflow_enrolled", json_pack("{s:s}", "workflow", "ab"));
		ev(st, c, T0, "sent", json_pack("{s:s, s:s, s:s, s:I, s:s}", "workflow", "ab",
					   "step", "offer", "message_id", msgid,
					   "msgno", (json_int_t) so.s.msgno, "arm", arm));
		if ((c % 2 == 0 && c <= 12) || c == 3 || c == 5)
			ev(st, c, T0 + 3600, "opened", json_pack("{s:s, s:s, s:I, s:b}",
				 "workflow", "ab", "step", "offer", "msgno", (json_int_t) so.s.msgno,
							  "machine", 0));
		if (c % 2 == 0 && c > 12)
			ev(st, c, T0 + 60, "opened", json_pack("{s:s, s:s, s:I, s:b}",
				 "workflow", "ab", "step", "offer", "msgno", (json_int_t) so.s.msgno,
							  "machine", 1));
		if (c % 2 == 0 && c <= 6)
			ev(st, c, T0 + 3700, "clicked", json_pack("{s:s, s:s, s:I, s:b, s:s}",
				 "workflow", "ab", "step", "offer", "msgno", (json_int_t) so.s.msgno,
							 "machine", 0, "link", "buy"));
		if (c == 2 || c == 4 || c == 7) {
			ev(st, c, T0 + 86400, "purchased", json_object());
			ev(st, c, T0 + 86400, "workflow_exited", json_pack("{s:s, s:s}",
						 "workflow", "ab", "reason", "purchased"));
		}
	}
	/* A soft bounce that names only its message (as an unverified-free
	 * DSN tied by the VERP token does), a day later. */
	ev(st, 1, T0 + 86400, "bounced", json_pack("{s:I, s:s, s:s}", "msgno",
			    (json_int_t) msgno_b1, "class", "soft", "reason", "mailboxfull"));

	memset(&o, 0, sizeof(o));
	o.now = T0 + 2 * 86400;
	o.wfs = wfs;
	assert_int_equal(report_build(st, &o, &rep), STORE_OK);
	assert_int_equal(json_array_size(json_object_get(rep, "workflows")), 1);
	w = json_array_get(json_object_get(rep, "workflows"), 0);
	if (getenv("REPORT_TEST_DUMP"))
		json_dumpf(rep, stderr, JSON_INDENT(1));
	assert_int_equal(json_integer_value(json_object_get(w, "enrolled")), 20);
	assert_int_equal(json_integer_value(json_object_get(w, "goals")), 3);
	s = json_array_get(json_object_get(w, "steps"), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "sent")), 20);
	assert_int_equal(json_integer_value(json_object_get(s, "bounced_soft")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "delivered")), 19);
	assert_int_equal(json_integer_value(json_object_get(s, "opens_machine")), 4);
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(json_object_get(s, "bounce_reasons"), "soft"), "mailboxfull")), 1);

	a = find_arm(w, "A");
	b = find_arm(w, "B");
	assert_int_equal(json_integer_value(json_object_get(a, "sent")), 10);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "open"), "count")), 6);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "click"), "count")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "goal"), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "open"), "count")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "goal"), "count")), 1);
	/* Wilson, 6 of 10, z = 1.96: 0.3127 .. 0.8318. */
	p = json_real_value(json_object_get(json_object_get(a, "open"), "rate"));
	lo = json_real_value(json_object_get(json_object_get(a, "open"), "low"));
	hi = json_real_value(json_object_get(json_object_get(a, "open"), "high"));
	assert_true(fabs(p - 0.6) < 1e-9);
	assert_true(fabs(lo - 0.3127) < 5e-4);
	assert_true(fabs(hi - 0.8318) < 5e-4);

	/* The page shows both arms side by side. */
	report_html(rep, &html);
	assert_non_null(strstr(strbuf_str(&html), "<tr class=\"arm\" data-arm=\"A\">"));
	assert_non_null(strstr(strbuf_str(&html), "<tr class=\"arm\" data-arm=\"B\">"));
	assert_non_null(strstr(strbuf_str(&html), "data-k=\"open\" data-count=\"6\" data-base=\"10\""));
	assert_null(strstr(strbuf_str(&html), "<script"));
	json_decref(rep);

	/* Since the day after: only the bounce and the goals. */
	o.since = T0 + 86400;
	assert_int_equal(report_build(st, &o, &rep), STORE_OK);
	w = json_array_get(json_object_get(rep, "workflows"), 0);
	s = json_array_get(json_object_get(w, "steps"), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "sent")), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "bounced")), 1);
	assert_int_equal(json_integer_value(json_object_get(w, "goals")), 3);
	json_decref(rep);

	strbuf_free(&html);
	strbuf_free(&errs);
	workflow_set_free(wfs);
	store_close(st);
	test_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arms),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
