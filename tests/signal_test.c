/*
 * signal_test - what inbound signals and outbound sends do, on a
 * real LMDB store in a temporary directory: VERP addresses, the tie order
 * (token, Message-ID, references, recipient, author), suppression by hard
 * bounce, soft bounces in a window, complaint and mailed unsubscribe,
 * replies (author, and SPF of the From domain), reports tied to no send
 * of ours (unverified, changing nothing), the at-most-once guard for
 * sends (only a proven re-injection is dropped), and SPF results from a
 * fixed zone.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/mymalloc.h"
#include "store/store.h"
#include "token/tokens.h"
#include "token/verp.h"
#include "signal/signal.h"
#include "signal/spf.h"
#include "testutil.h"

#define T0	1767225600		/* 2026-01-01T00:00:00Z */
#define DAY	86400

static TOKENS *tk;
static VERP verp;

typedef struct FIX {
	char   *dir;
	STORE  *st;
	uint64_t alice, bob;		/* contacts */
	uint64_t msg1;			/* a message sent to alice */
} FIX;

/* fixture writes */

typedef struct SETUP {
	const char *addr;
	const char *owner;
	uint64_t id;
	STORE_SENT sent;
} SETUP;

static int
setup_contact(STORE_TXN *txn, void *ctx)
{
	SETUP  *s = ctx;
	json_t *rec;
	int	rc;

	if ((rc = store_contact_ensure(txn, s->addr, T0, &s->id, 0)) != STORE_OK)
		return (rc);
	if (s->owner == 0)
		return (STORE_OK);
	if ((rc = store_contact_get(txn, s->id, &rec)) != STORE_OK)
		return (rc);
	if (json_object_get(rec, "fields") == 0)
		json_object_set_new(rec, "fields", json_object());
	json_object_set_new(json_object_get(rec, "fields"), "owner", json_string(s->owner));
	rc = store_contact_put(txn, rec, &s->id);
	json_decref(rec);
	return (rc);
}

static int
setup_sent(STORE_TXN *txn, void *ctx)
{
	return (store_sent_put(txn, &((SETUP *) ctx)->sent));
}

static uint64_t
add_contact(FIX *f, const char *addr, const char *owner)
{
	SETUP	s;

	memset(&s, 0, sizeof(s));
	s.addr = addr;
	s.owner = owner;

	assert_int_equal(store_write(f->st, setup_contact, &s), STORE_OK);
	return (s.id);
}

static uint64_t
add_sent_enrol(FIX *f, const char *mid, uint64_t contact, uint64_t enrolment)
{
	SETUP	s;

	memset(&s, 0, sizeof(s));
	snprintf(s.sent.message_id, sizeof(s.sent.message_id), "%s", mid);
	s.sent.contact = contact;
	s.sent.enrolment = enrolment;
	snprintf(s.sent.workflow, sizeof(s.sent.workflow), "welcome");
	snprintf(s.sent.step, sizeof(s.sent.step), "day1");
	snprintf(s.sent.stream, sizeof(s.sent.stream), "marketing");
	s.sent.time = T0;
	assert_int_equal(store_write(f->st, setup_sent, &s), STORE_OK);
	return (s.sent.msgno);
}

static uint64_t
add_sent(FIX *f, const char *mid, uint64_t contact)
{
	return (add_sent_enrol(f, mid, contact, 0));
}

static int
setup(void **state)
{
	FIX    *f = mycalloc(1, sizeof(*f));
	char   *err = 0;

	f->dir = test_mkdtemp();
	if ((f->st = store_open(f->dir, 0, &err)) == 0)
		fail_msg("store_open: %s", err);
	f->alice = add_contact(f, "alice@example.org", "rep@sales.example.com");
	f->bob = add_contact(f, "bob@example.net", 0);
	f->msg1 = add_sent(f, "m1.welcome@news.example.com", f->alice);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	FIX    *f = *state;

	store_close(f->st);
	test_rmdir(f->dir);
	myfree(f);
	return (0);
}

/* reading back */

typedef struct TL {
	char	types[16][48];
	json_t *data[16];
	int	n;
} TL;

static int
tl_add(const STORE_EVENT *ev, void *ctx)
{
	TL     *tl = ctx;

	if (tl->n < 16) {
		snprintf(tl->types[tl->n], sizeof(tl->types[0]), "%s", ev->type);
		tl->data[tl->n] = json_incref(ev->data);
		tl->n++;
	}
	return (0);
}

static void
timeline(FIX *f, uint64_t contact, TL *tl)
{
	STORE_TXN *txn;

	memset(tl, 0, sizeof(*tl));
	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	assert_int_equal(store_timeline_walk(txn, contact, tl_add, tl), STORE_OK);
	store_rend(txn);
}

static void
tl_free(TL *tl)
{
	int	i;

	for (i = 0; i < tl->n; i++)
		json_decref(tl->data[i]);
}

static const char *
tl_str(TL *tl, int i, const char *key)
{
	return (json_string_value(json_object_get(tl->data[i], key)));
}

/* suppressed - the reason, or NULL */

static const char *
suppressed(FIX *f, const char *addr)
{
	static STORE_SUPPRESSION s;
	STORE_TXN *txn;
	int	rc;

	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	rc = store_suppress_get(txn, addr, &s);
	store_rend(txn);
	return (rc == STORE_OK ? s.reason : 0);
}

/* building classified messages by hand */

static CLASSIFY_RCPT rows[4];

static void
cr_init(CLASSIFY_RESULT *cr, CLASSIFY_KIND kind)
{
	memset(cr, 0, sizeof(*cr));
	memset(rows, 0, sizeof(rows));
	cr->kind = kind;
	cr->rcpt = rows;
}

static void
cr_row(CLASSIFY_RESULT *cr, const char *rcpt, const char *status,
       CLASSIFY_CLASS class, const char *reason)
{
	CLASSIFY_RCPT *r = rows + cr->nrcpt++;

	snprintf(r->recipient, sizeof(r->recipient), "%s", rcpt);
	snprintf(r->status, sizeof(r->status), "%s", status);
	r->class = class;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->action, sizeof(r->action), "failed");
}

static SIG_PARAMS params = {3, 10 * DAY, 1};

static void
sig_init(SIG_MSG *m, SIG_KIND kind, const CLASSIFY_RESULT *cr, time_t now)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->cr = cr;
	m->queue_id = "4Qtest";
	m->from = "";
	m->now = now;
	m->params = &params;
}

static void
sig_token(SIG_MSG *m, VERP_KIND kind, uint64_t contact, uint64_t msgno)
{
	char	addr[ADDR_MAX + 1];
	VERP_KIND got;

	assert_non_null(verp_sign(&verp, tk, kind, contact, msgno, addr));
	assert_int_equal(verp_verify(&verp, tk, addr, &got, &m->token), TOKENS_OK);
	assert_int_equal(got, kind);
	m->have_token = 1;
}

/* The tests. */

static void
test_verp(void **state)
{
	char	addr[ADDR_MAX + 1], bad[ADDR_MAX + 16];
	const char *tok;
	size_t	tlen, pos;
	VERP_KIND kind;
	TOKEN	t;

	assert_non_null(verp_sign(&verp, tk, VERP_BOUNCE, 42, 7, addr));
	assert_int_equal(strncmp(addr, "bounces+", 8), 0);
	assert_non_null(strstr(addr, "@bounce.example.com"));
	assert_int_equal(verp_parse(&verp, addr, &tok, &tlen), VERP_BOUNCE);
	assert_true(tlen > 0 && tok == addr + 8);
	assert_int_equal(verp_verify(&verp, tk, addr, &kind, &t), TOKENS_OK);
	assert_int_equal(t.contact, 42);
	assert_int_equal(t.message, 7);

	/* A bounce token moved to the unsubscribe prefix is refused. */
	snprintf(bad, sizeof(bad), "unsubscribe+%s", addr + 8);
	assert_int_equal(verp_verify(&verp, tk, bad, &kind, &t), TOKENS_BAD);
	assert_int_equal(kind, VERP_UNSUBSCRIBE);
	/* One altered character. */
	snprintf(bad, sizeof(bad), "%s", addr);
	pos = strchr(bad, '@') - bad - 2;	/* inside the MAC */
	bad[pos] = bad[pos] == 'a' ? 'b' : 'a';
	assert_int_equal(verp_verify(&verp, tk, bad, &kind, &t), TOKENS_BAD);
	/* Other domains, a subdomain, no token, no prefix. */
	assert_int_equal(verp_parse(&verp, "bounces+abc@example.com", 0, 0), VERP_NONE);
	assert_int_equal(verp_parse(&verp, "bounces+abc@x.bounce.example.com", 0, 0), VERP_NONE);
	assert_int_equal(verp_parse(&verp, "bounces+@bounce.example.com", 0, 0), VERP_OTHER);
	assert_int_equal(verp_parse(&verp, "postmaster@bounce.example.com", 0, 0), VERP_OTHER);
	assert_int_equal(verp_parse(&verp, "reply+abc@BOUNCE.example.com", 0, 0), VERP_REPLY);
	assert_int_equal(verp_verify(&verp, 0, addr, &kind, &t), TOKENS_BAD);
}

static void
test_facts(void **state)
{
	CLASSIFY_RESULT cr;
	SIG_MSG m;
	SIG_KIND kind;
	VERP_KIND vk;
	char	addr[ADDR_MAX + 1], bad[ADDR_MAX + 1];
	size_t	pos;

	(void) state;
	/* What a message is, from its class and the address it came to. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	assert_true(signal_kind_of(&cr, VERP_NONE, 0, &kind));
	assert_int_equal(kind, SIG_BOUNCE);
	cr_init(&cr, CLASSIFY_OTHER);
	assert_true(signal_kind_of(&cr, VERP_UNSUBSCRIBE, 0, &kind));
	assert_int_equal(kind, SIG_UNSUBSCRIBE);
	assert_false(signal_kind_of(&cr, VERP_BOUNCE, 0, &kind));
	assert_true(signal_kind_of(&cr, VERP_NONE, 1, &kind));
	assert_int_equal(kind, SIG_REPLY);
	cr_init(&cr, CLASSIFY_REPLY);
	assert_true(signal_kind_of(&cr, VERP_BOUNCE, 0, &kind));
	assert_int_equal(kind, SIG_REPLY);

	/* Tokens of the addresses it came to. */
	assert_non_null(verp_sign(&verp, tk, VERP_BOUNCE, 42, 7, addr));
	snprintf(bad, sizeof(bad), "%s", addr);
	pos = strchr(bad, '@') - bad - 2;
	bad[pos] = bad[pos] == 'a' ? 'b' : 'a';
	cr_init(&cr, CLASSIFY_BOUNCE);
	sig_init(&m, SIG_BOUNCE, &cr, T0);
	assert_int_equal(signal_token_rcpt(&m, &verp, tk, bad, &vk), TOKENS_BAD);
	assert_int_equal(vk, VERP_BOUNCE);
	assert_false(m.have_token);
	assert_true(m.bad_token);
	assert_int_equal(signal_token_rcpt(&m, &verp, tk, "postmaster@bounce.example.com", &vk),
			 TOKENS_BAD);
	assert_int_equal(vk, VERP_OTHER);
	assert_int_equal(signal_token_rcpt(&m, &verp, tk, addr, &vk), TOKENS_OK);
	assert_true(m.have_token);
	assert_false(m.bad_token);
	assert_int_equal(m.token.contact, 42);
	assert_int_equal(m.token.message, 7);

	/* The original return path shown inside a report. */
	sig_init(&m, SIG_COMPLAINT, &cr, T0);
	snprintf(cr.orig_return_path, sizeof(cr.orig_return_path), "%s", bad);
	signal_token_report(&m, &verp, tk, &cr);
	assert_false(m.have_token);
	assert_true(m.bad_token);
	sig_init(&m, SIG_COMPLAINT, &cr, T0);
	snprintf(cr.orig_return_path, sizeof(cr.orig_return_path), "<%.*s>", (int) sizeof(cr.orig_return_path) - 3, addr);
	signal_token_report(&m, &verp, tk, &cr);
	assert_true(m.have_token);
	assert_int_equal(m.token.contact, 42);
	/* Someone else's return path is no claim about ours. */
	sig_init(&m, SIG_COMPLAINT, &cr, T0);
	snprintf(cr.orig_return_path, sizeof(cr.orig_return_path), "news@example.com");
	signal_token_report(&m, &verp, tk, &cr);
	assert_false(m.have_token);
	assert_false(m.bad_token);
}

static void
test_hard_bounce_token(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;
	TL	tl;

	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "alice@example.org", "5.1.1", CLASSIFY_HARD, "userunknown");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	sig_token(&m, VERP_BOUNCE, f->alice, f->msg1);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "bounced");
	assert_string_equal(m.out[0].tie, "token");
	assert_string_equal(m.out[0].suppressed, "hardbounce");
	assert_string_equal(suppressed(f, "alice@example.org"), "hardbounce");
	assert_null(suppressed(f, "bob@example.net"));

	timeline(f, f->alice, &tl);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.types[0], "bounced");
	assert_string_equal(tl_str(&tl, 0, "class"), "hard");
	assert_string_equal(tl_str(&tl, 0, "status"), "5.1.1");
	assert_string_equal(tl_str(&tl, 0, "reason"), "userunknown");
	assert_string_equal(tl_str(&tl, 0, "message_id"), "m1.welcome@news.example.com");
	assert_string_equal(tl_str(&tl, 0, "workflow"), "welcome");
	assert_string_equal(tl_str(&tl, 0, "queue_id"), "4Qtest");
	tl_free(&tl);
}

/* has_type - does the contact's timeline hold an event of this type? */

static int
has_type(FIX *f, uint64_t contact, const char *type, const char *why)
{
	TL	tl;
	int	i, found = 0;

	timeline(f, contact, &tl);
	for (i = 0; i < tl.n; i++)
		if (strcmp(tl.types[i], type) == 0
		    && (why == 0 || (tl_str(&tl, i, "why") && strcmp(tl_str(&tl, i, "why"), why) == 0)))
			found = 1;
	tl_free(&tl);
	return (found);
}

static void
test_bounce_message_id(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	/* No token: the original Message-ID inside the report ties it
	 * when the report names the recipient it was sent to. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "m1.welcome@news.example.com");
	cr_row(&cr, "Alice@Example.org", "5.2.2", CLASSIFY_SOFT, "mailboxfull");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_int_equal(m.out[0].contact, f->alice);
	assert_string_equal(m.out[0].tie, "message-id");
	assert_string_equal(m.out[0].event, "bounced");
	assert_null(m.out[0].suppressed);
	assert_int_equal(m.out[0].soft_count, 1);
	assert_null(suppressed(f, "alice@example.org"));
}

static void
test_bounce_other_recipient(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	/* alice's Message-ID, but the report says bob failed: whoever wrote
	 * it knew a Message-ID, not who it went to. Unverified; neither is
	 * suppressed nor counted. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "m1.welcome@news.example.com");
	cr_row(&cr, "bob@example.net", "5.1.1", CLASSIFY_HARD, "userunknown");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_int_equal(m.out[0].contact, f->bob);
	assert_string_equal(m.out[0].event, "bounce_unverified");
	assert_string_equal(m.out[0].why, "other_recipient");
	assert_null(m.out[0].suppressed);
	assert_null(suppressed(f, "bob@example.net"));
	assert_null(suppressed(f, "alice@example.org"));
	assert_true(has_type(f, f->bob, "bounce_unverified", "other_recipient"));
	assert_false(has_type(f, f->alice, "bounced", 0));
	assert_false(has_type(f, f->bob, "bounced", 0));

	/* A forwarded address in the report: the same (the forwarding
	 * target failed, not the contact). */
	cr_init(&cr, CLASSIFY_BOUNCE);
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "m1.welcome@news.example.com");
	cr_row(&cr, "alice.forward@elsewhere.example", "5.2.2", CLASSIFY_SOFT, "mailboxfull");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_int_equal(m.out[0].contact, 0);
	assert_string_equal(m.out[0].event, "bounce_unverified");
	assert_false(has_type(f, f->alice, "bounced", 0));
}

static void
test_bounce_recipient(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;
	TL	tl;

	/* Neither token nor Message-ID of ours: a known recipient is not
	 * enough (anyone can write a DSN naming any address). */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "stranger@example.com", "5.1.1", CLASSIFY_HARD, "userunknown");
	cr_row(&cr, "bob@example.net", "5.1.1", CLASSIFY_HARD, "userunknown");
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "never.sent@example.com");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_int_equal(m.out[0].contact, f->bob);
	assert_string_equal(m.out[0].tie, "none");
	assert_string_equal(m.out[0].event, "bounce_unverified");
	assert_string_equal(m.out[0].why, "no_recorded_send");
	assert_null(suppressed(f, "bob@example.net"));
	assert_null(suppressed(f, "stranger@example.com"));
	timeline(f, f->bob, &tl);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.types[0], "bounce_unverified");
	assert_string_equal(tl_str(&tl, 0, "recipient"), "bob@example.net");
	assert_string_equal(tl_str(&tl, 0, "message_id"), "never.sent@example.com");
	tl_free(&tl);

	/* Soft ones do not count towards soft_bounce_limit either. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "bob@example.net", "4.2.2", CLASSIFY_SOFT, "mailboxfull");
	for (int i = 0; i < 4; i++) {
		sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY + i);
		assert_int_equal(signal_record(f->st, &m), STORE_OK);
		assert_null(m.out[0].suppressed);
	}
	assert_null(suppressed(f, "bob@example.net"));
}

static void
test_bounce_bad_token(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	/* To a VERP address whose token does not verify: no fallback to the
	 * recipient, though bob is a contact. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "bob@example.net", "5.1.1", CLASSIFY_HARD, "userunknown");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	m.bad_token = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "bounce_unverified");
	assert_string_equal(m.out[0].why, "bad_token");
	assert_null(suppressed(f, "bob@example.net"));
	/* Even where the mail did not come to our address. */
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	m.bad_token = 1;
	m.strict = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "bounce_unverified");
	assert_null(suppressed(f, "bob@example.net"));
}

static void
test_bounce_strict_untied(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;
	TL	tl;

	/* Mail that did not come to our address: a recipient is not enough. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "bob@example.net", "5.1.1", CLASSIFY_HARD, "userunknown");
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "someone.else@example.com");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + DAY);
	m.strict = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 0);
	assert_null(suppressed(f, "bob@example.net"));
	timeline(f, f->bob, &tl);
	assert_int_equal(tl.n, 0);
	tl_free(&tl);
}

static void
test_soft_bounces(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;
	time_t	when[] = {T0, T0 + 20 * DAY, T0 + 25 * DAY, T0 + 28 * DAY};
	int	i;

	/* Limit 3 in 10 days: the first is out of the window by then. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "alice@example.org", "4.2.2", CLASSIFY_SOFT, "mailboxfull");
	for (i = 0; i < 4; i++) {
		sig_init(&m, SIG_BOUNCE, &cr, when[i]);
		sig_token(&m, VERP_BOUNCE, f->alice, f->msg1);
		assert_int_equal(signal_record(f->st, &m), STORE_OK);
		assert_int_equal(m.nout, 1);
		if (i < 3) {
			assert_null(m.out[0].suppressed);
			assert_null(suppressed(f, "alice@example.org"));
		}
	}
	assert_int_equal(m.out[0].soft_count, 3);
	assert_string_equal(m.out[0].suppressed, "softbounce");
	assert_string_equal(suppressed(f, "alice@example.org"), "softbounce");
}

static void
test_delayed(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "alice@example.org", "4.4.1", CLASSIFY_SOFT, "expired");
	snprintf(rows[0].action, sizeof(rows[0].action), "delayed");
	sig_init(&m, SIG_BOUNCE, &cr, T0);
	sig_token(&m, VERP_BOUNCE, f->alice, f->msg1);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "delayed");
	assert_null(m.out[0].suppressed);
}

static void
test_complaint_keeps_first_reason(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	cr_init(&cr, CLASSIFY_COMPLAINT);
	snprintf(cr.feedback_type, sizeof(cr.feedback_type), "abuse");
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "<m1.welcome@news.example.com>");
	sig_init(&m, SIG_COMPLAINT, &cr, T0);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "complained");
	assert_string_equal(suppressed(f, "alice@example.org"), "complaint");

	/* A later hard bounce records its event but keeps the reason. */
	cr_init(&cr, CLASSIFY_BOUNCE);
	cr_row(&cr, "alice@example.org", "5.1.1", CLASSIFY_HARD, "userunknown");
	sig_init(&m, SIG_BOUNCE, &cr, T0 + 1);
	sig_token(&m, VERP_BOUNCE, f->alice, f->msg1);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_null(m.out[0].suppressed);
	assert_string_equal(suppressed(f, "alice@example.org"), "complaint");

	/* An ARF report about a message never sent, naming bob as the
	 * Original-Rcpt-To: unverified, bob not suppressed. */
	cr_init(&cr, CLASSIFY_COMPLAINT);
	snprintf(cr.feedback_type, sizeof(cr.feedback_type), "abuse");
	snprintf(cr.orig_message_id, sizeof(cr.orig_message_id), "never.sent@example.com");
	cr_row(&cr, "bob@example.net", "", CLASSIFY_NONE, "feedback");
	sig_init(&m, SIG_COMPLAINT, &cr, T0 + 2);
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "complaint_unverified");
	assert_null(m.out[0].suppressed);
	assert_null(suppressed(f, "bob@example.net"));
	assert_true(has_type(f, f->bob, "complaint_unverified", "no_recorded_send"));
}

static void
test_autoreply_and_mdn(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	char   *refs[] = {"unknown@example.com", "m1.welcome@news.example.com"};
	SIG_MSG m;
	TL	tl;

	cr_init(&cr, CLASSIFY_AUTOREPLY);
	cr.references = refs;
	cr.nreferences = 2;
	snprintf(cr.subject, sizeof(cr.subject), "Out of office");
	sig_init(&m, SIG_AUTOREPLY, &cr, T0);
	m.from = "alice@example.org";
	m.strict = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "autoreplied");
	assert_string_equal(m.out[0].tie, "references");
	assert_null(m.out[0].suppressed);
	assert_string_equal(m.out[0].owner, "");

	/* An MDN tied by its author when nothing else names us. */
	cr_init(&cr, CLASSIFY_MDN);
	snprintf(cr.mdn_disposition, sizeof(cr.mdn_disposition), "displayed");
	sig_init(&m, SIG_OPEN, &cr, T0 + 1);
	m.from = "bob@example.net";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "opened");
	assert_string_equal(m.out[0].tie, "from");
	assert_int_equal(m.out[0].contact, f->bob);

	timeline(f, f->alice, &tl);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.types[0], "autoreplied");
	assert_string_equal(tl_str(&tl, 0, "subject"), "Out of office");
	tl_free(&tl);
	timeline(f, f->bob, &tl);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl_str(&tl, 0, "via"), "mdn");
	assert_string_equal(tl_str(&tl, 0, "disposition"), "displayed");
	tl_free(&tl);
}

static void
test_replies(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	char   *refs[] = {"m1.welcome@news.example.com"};
	SIG_MSG m;
	TL	tl;

	cr_init(&cr, CLASSIFY_REPLY);
	cr.references = refs;
	cr.nreferences = 1;

	/* The contact, SPF unknown (no DNS): a reply, forwarded to the owner. */
	sig_init(&m, SIG_REPLY, &cr, T0);
	m.from = "alice@example.org";
	m.spf = "temperror";
	m.strict = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "replied");
	assert_string_equal(m.out[0].owner, "rep@sales.example.com");

	/* Someone else writing as a reply to alice's message. */
	sig_init(&m, SIG_REPLY, &cr, T0 + 1);
	m.from = "mallory@evil.example";
	m.spf = "pass";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "reply_forged");
	assert_string_equal(m.out[0].owner, "");

	/* alice's address, but SPF says the client may not send for it. */
	sig_init(&m, SIG_REPLY, &cr, T0 + 2);
	m.from = "alice@example.org";
	m.spf = "fail";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_string_equal(m.out[0].event, "reply_forged");

	/* Through the reply address, by token. */
	cr.nreferences = 0;
	sig_init(&m, SIG_REPLY, &cr, T0 + 3);
	sig_token(&m, VERP_REPLY, f->alice, f->msg1);
	m.from = "alice@example.org";
	m.spf = "pass";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_string_equal(m.out[0].event, "replied");
	assert_string_equal(m.out[0].tie, "token");

	timeline(f, f->alice, &tl);
	assert_int_equal(tl.n, 4);
	assert_string_equal(tl.types[0], "replied");
	assert_string_equal(tl_str(&tl, 0, "spf"), "temperror");
	assert_string_equal(tl.types[1], "reply_forged");
	assert_string_equal(tl_str(&tl, 1, "why"), "from");
	assert_string_equal(tl_str(&tl, 1, "from"), "mallory@evil.example");
	assert_string_equal(tl.types[2], "reply_forged");
	assert_string_equal(tl_str(&tl, 2, "why"), "spf");
	assert_string_equal(tl.types[3], "replied");
	tl_free(&tl);
	assert_null(suppressed(f, "alice@example.org"));

	/* A reply naming nothing of ours is not recorded. */
	cr.nreferences = 0;
	sig_init(&m, SIG_REPLY, &cr, T0 + 4);
	m.from = "alice@example.org";
	m.strict = 1;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 0);
}

static void
test_unsubscribe(void **state)
{
	FIX    *f = *state;
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	cr_init(&cr, CLASSIFY_OTHER);
	/* SPF fail: recorded as forged, nothing suppressed. */
	sig_init(&m, SIG_UNSUBSCRIBE, &cr, T0);
	sig_token(&m, VERP_UNSUBSCRIBE, f->bob, 0);
	m.spf = "fail";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.out[0].event, "unsubscribe_forged");
	assert_null(suppressed(f, "bob@example.net"));

	/* From another address of the contact's: the token is the proof. */
	sig_init(&m, SIG_UNSUBSCRIBE, &cr, T0 + 1);
	sig_token(&m, VERP_UNSUBSCRIBE, f->bob, 0);
	m.from = "bob.private@example.org";
	m.spf = "none";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_string_equal(m.out[0].event, "unsubscribed");
	assert_string_equal(suppressed(f, "bob@example.net"), "unsubscribed");

	/* Without a token nobody is unsubscribed. */
	sig_init(&m, SIG_UNSUBSCRIBE, &cr, T0 + 2);
	m.from = "alice@example.org";
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 0);
	assert_null(suppressed(f, "alice@example.org"));
}

/* handed - whether the "handed to Postfix" mark of mid is there */

static int
handed(FIX *f, const char *mid)
{
	STORE_TXN *txn;
	int	rc;

	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	rc = store_mark_get(txn, mid, 0);
	store_rend(txn);
	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	return (rc == STORE_OK);
}

/* engine_copy - a SENT_MSG as the engine's injection of msgno shows it */

static void
engine_copy(SENT_MSG *s, const char *qid, const char *mid, const char *rcpt,
	            uint64_t contact, uint64_t msgno, time_t now)
{
	char	addr[ADDR_MAX + 1];
	VERP_KIND kind;

	memset(s, 0, sizeof(*s));
	s->queue_id = qid;
	s->message_id = mid;
	s->workflow = "welcome";
	s->step = "day1";
	s->stream = "marketing";
	s->rcpt = rcpt;
	s->now = now;
	assert_non_null(verp_sign(&verp, tk, VERP_BOUNCE, contact, msgno, addr));
	assert_int_equal(verp_verify(&verp, tk, addr, &kind, &s->token), TOKENS_OK);
	s->have_token = 1;
}

/* sent_news - an engine send of mid to alice, handed to Postfix at now */

static void
sent_news(FIX *f, const char *mid, time_t now)
{
	SENT_MSG s;
	uint64_t msgno = add_sent_enrol(f, mid, f->alice, 7);

	engine_copy(&s, "4Qnews", mid, "alice@example.org", f->alice, msgno, now);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_false(s.reused);
}

static void
test_sent_marks_expire(void **state)
{
	FIX    *f = *state;
	int	i;
	char	mid[64];

	/* Marks made at T0, a month and more before the next sends. */
	sent_news(f, "b-old-1@news.example.com", T0);
	sent_news(f, "b-old-2@news.example.com", T0);
	sent_news(f, "b-recent@news.example.com", T0 + 20 * DAY);
	assert_true(handed(f, "b-old-1@news.example.com"));
	/* New sends after the age: the old marks near them go, a recent one
	 * stays, and the new ones are there. "a-" sorts before "b-", "c-"
	 * after (the sweep wraps to the first mark). */
	sent_news(f, "a-new@news.example.com", T0 + SIG_HANDED_MAX_AGE + DAY);
	sent_news(f, "c-new@news.example.com", T0 + SIG_HANDED_MAX_AGE + DAY);
	assert_false(handed(f, "b-old-1@news.example.com"));
	assert_false(handed(f, "b-old-2@news.example.com"));
	assert_true(handed(f, "b-recent@news.example.com"));
	assert_true(handed(f, "a-new@news.example.com"));
	assert_true(handed(f, "c-new@news.example.com"));
	/* Not yet expired at exactly the age. */
	sent_news(f, "d-edge@news.example.com", T0 + 20 * DAY + SIG_HANDED_MAX_AGE);
	assert_true(handed(f, "b-recent@news.example.com"));
	/* Bounded: many expired marks, one new send deletes a few only. */
	for (i = 0; i < 10; i++) {
		snprintf(mid, sizeof(mid), "e-%02d@news.example.com", i);
		sent_news(f, mid, T0);
	}
	sent_news(f, "e-.new@news.example.com", T0 + 3 * SIG_HANDED_MAX_AGE);	/* before e-00 */
	{
		int	left = 0;

		for (i = 0; i < 10; i++) {
			snprintf(mid, sizeof(mid), "e-%02d@news.example.com", i);
			left += handed(f, mid);
		}
		assert_int_equal(left, 10 - SIG_HANDED_SWEEP);
		assert_false(handed(f, "e-00@news.example.com"));
		assert_true(handed(f, "e-09@news.example.com"));
	}
}

static void
test_sent_guard(void **state)
{
	FIX    *f = *state;
	const char *mid = "e12.1.sig@news.example.com";
	uint64_t msgno = add_sent_enrol(f, mid, f->alice, 12);
	SENT_MSG s;
	STORE_TXN *txn;
	STORE_SENT sent;
	TL	tl;

	/* The engine recorded its send before injecting: first sight marks it. */
	engine_copy(&s, "4QfirstA", mid, "alice@example.org", f->alice, msgno, T0);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_false(s.reused);
	assert_false(s.recorded);
	assert_int_equal(s.msgno, msgno);
	assert_int_equal(s.contact, f->alice);
	assert_true(handed(f, mid));

	/* The engine crashed before it saw the 250 and injects again. */
	engine_copy(&s, "4QsecondB", mid, "ALICE@example.org", f->alice, msgno, T0 + 60);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_true(s.duplicate);
	assert_string_equal(s.first_queue_id, "4QfirstA");

	/* The same Message-ID short of proof is delivered: to another
	 * recipient, to several, without the token, with a token for
	 * another message or contact. */
	engine_copy(&s, "4QotherC", mid, "bob@example.net", f->alice, msgno, T0 + 61);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_true(s.reused);
	engine_copy(&s, "4QmanyD", mid, 0, f->alice, msgno, T0 + 62);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_true(s.reused);
	engine_copy(&s, "4QnotokE", mid, "alice@example.org", f->alice, msgno, T0 + 63);
	s.have_token = 0;
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	engine_copy(&s, "4QmsgF", mid, "alice@example.org", f->alice, msgno + 1, T0 + 64);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	engine_copy(&s, "4QbobG", mid, "alice@example.org", f->bob, msgno, T0 + 65);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);

	/* A send not made by the engine (no enrolment) is never dropped. */
	engine_copy(&s, "4Qm1H", "m1.welcome@news.example.com", "alice@example.org",
		    f->alice, f->msg1, T0);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	engine_copy(&s, "4Qm1I", "m1.welcome@news.example.com", "alice@example.org",
		    f->alice, f->msg1, T0 + 1);
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_true(s.reused);
	assert_false(handed(f, "m1.welcome@news.example.com"));

	/* Marketing mail the engine did not make: recorded, its recipient
	 * becomes a contact, and the send is on the timeline. */
	memset(&s, 0, sizeof(s));
	s.queue_id = "4QnewsC";
	s.message_id = "news-42@news.example.com";
	s.workflow = "";
	s.step = "";
	s.stream = "marketing";
	s.rcpt = "carol@example.com";
	s.now = T0;
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_true(s.recorded);
	assert_true(s.contact != 0);
	assert_int_equal(store_rbegin(f->st, &txn), STORE_OK);
	assert_int_equal(store_sent_by_msgid(txn, "<news-42@news.example.com>", &sent), STORE_OK);
	assert_int_equal(sent.contact, s.contact);
	assert_string_equal(sent.stream, "marketing");
	store_rend(txn);
	timeline(f, s.contact, &tl);
	assert_int_equal(tl.n, 1);
	assert_string_equal(tl.types[0], "sent");
	assert_string_equal(tl_str(&tl, 0, "message_id"), "news-42@news.example.com");
	tl_free(&tl);

	/* The same Message-ID again, to the same recipient (a client that
	 * sends again after a 452, or a newsletter tool's retry): delivered,
	 * and not recorded twice. */
	memset(&s, 0, sizeof(s));
	s.queue_id = "4QnewsD";
	s.message_id = "news-42@news.example.com";
	s.rcpt = "carol@example.com";
	s.now = T0 + 1;
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_false(s.duplicate);
	assert_true(s.reused);
	assert_false(s.recorded);
	timeline(f, s.contact, &tl);
	assert_int_equal(tl.n, 1);
	tl_free(&tl);

	/* A VERP return path names the contact of a new send. */
	memset(&s, 0, sizeof(s));
	s.queue_id = "4QverpE";
	s.message_id = "verp-1@news.example.com";
	s.now = T0;
	{
		char	addr[ADDR_MAX + 1];
		VERP_KIND kind;

		assert_non_null(verp_sign(&verp, tk, VERP_BOUNCE, f->bob, 0, addr));
		assert_int_equal(verp_verify(&verp, tk, addr, &kind, &s.token), TOKENS_OK);
		s.have_token = 1;
	}
	assert_int_equal(signal_sent(f->st, &s), STORE_OK);
	assert_true(s.recorded);
	assert_int_equal(s.contact, f->bob);
}

static void
test_spf_zone(void **state)
{
	const char *zone[] = {
		"strict.example v=spf1 ip4:192.0.2.10 -all",
		"soft.example v=spf1 ~all",
		0,
	};
	SIGNAL_SPF *spf = spf_create_zone(zone);

	assert_non_null(spf);
	assert_string_equal(spf_check(spf, "192.0.2.99", "mx.strict.example",
					     "alice@strict.example"), "fail");
	assert_string_equal(spf_check(spf, "192.0.2.10", "mx.strict.example",
					     "alice@strict.example"), "pass");
	assert_string_equal(spf_check(spf, "192.0.2.99", "mx.soft.example",
					     "alice@soft.example"), "softfail");
	assert_false(signal_spf_fails("softfail"));
	assert_true(signal_spf_fails("fail"));
	/* No record (and no DNS behind the zone): none, not fail. */
	assert_string_equal(spf_check(spf, "192.0.2.99", "mx.nospf.example",
					     "alice@nospf.example"), "none");
	assert_string_equal(spf_check(spf, "", "h", "a@b.example"), "none");
	spf_free(spf);
}

static void
test_spf_aligned(void **state)
{
	FIX    *f = *state;
	const char *zone[] = {
		"strict.example v=spf1 ip4:192.0.2.10 -all",
		"open.example v=spf1 ip4:192.0.2.99 -all",
		0,
	};
	SIGNAL_SPF *spf = spf_create_zone(zone);
	uint64_t gina = add_contact(f, "gina@strict.example", "rep@sales.example.com");
	char   *refs[] = {"g1@news.example.com"};
	CLASSIFY_RESULT cr;
	SIG_MSG m;

	assert_non_null(spf);
	add_sent(f, "g1@news.example.com", gina);
	/* The author's domain decides, not the envelope sender's. */
	assert_string_equal(signal_spf_author(spf, "192.0.2.99", "mx.open.example",
					      "gina@strict.example"), "fail");
	assert_string_equal(signal_spf_author(spf, "192.0.2.10", "mx.strict.example",
					      "gina@strict.example"), "pass");
	assert_string_equal(signal_spf_author(0, "192.0.2.10", "h", "gina@strict.example"),
			    "none");

	/* gina's From from a client strict.example does not allow, MAIL FROM
	 * on a domain that passes for it: forged. */
	cr_init(&cr, CLASSIFY_REPLY);
	cr.references = refs;
	cr.nreferences = 1;
	sig_init(&m, SIG_REPLY, &cr, T0);
	m.from = "gina@strict.example";
	m.strict = 1;
	m.client_addr = "192.0.2.99";
	m.helo = "mx.open.example";
	m.mail_from = "bulk@open.example";
	m.spf_server = spf;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_int_equal(m.nout, 1);
	assert_string_equal(m.spf, "fail");
	assert_string_equal(m.out[0].event, "reply_forged");
	assert_string_equal(m.out[0].owner, "");
	assert_true(has_type(f, gina, "reply_forged", "spf"));
	assert_false(has_type(f, gina, "replied", 0));

	/* From the host strict.example names: a reply. */
	sig_init(&m, SIG_REPLY, &cr, T0 + 1);
	m.from = "gina@strict.example";
	m.strict = 1;
	m.client_addr = "192.0.2.10";
	m.helo = "mx.strict.example";
	m.mail_from = "bulk@open.example";
	m.spf_server = spf;
	assert_int_equal(signal_record(f->st, &m), STORE_OK);
	assert_string_equal(m.spf, "pass");
	assert_string_equal(m.out[0].event, "replied");
	spf_free(spf);
}

int
main(void)
{
	static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verp),
		cmocka_unit_test(test_facts),
		cmocka_unit_test_setup_teardown(test_hard_bounce_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_message_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_other_recipient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_recipient, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_bad_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounce_strict_untied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_soft_bounces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complaint_keeps_first_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_autoreply_and_mdn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_guard, setup, teardown),
		cmocka_unit_test(test_spf_zone),
		cmocka_unit_test_setup_teardown(test_spf_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_marks_expire, setup, teardown),
	};
	int	rc;

	tk = tokens_from_secret(1, secret, sizeof(secret));
	verp_init(&verp, "bounce.example.com", "bounces", "reply", "unsubscribe", "txbounces");
	rc = cmocka_run_group_tests(tests, 0, 0);
	tokens_free(tk);
	return (rc);
}
