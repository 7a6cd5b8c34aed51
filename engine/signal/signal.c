/*++
/* NAME
/*	signal 3
/* SUMMARY
/*	what inbound signals and outbound sends do in the store
/* SYNOPSIS
/*	#include "signal/signal.h"
/*
/*	int	signal_record(st, m)
/*	STORE	*st;
/*	SIG_MSG	*m;
/*
/*	int	signal_sent(st, s)
/*	STORE	*st;
/*	SENT_MSG *s;
/* DESCRIPTION
/*	This is the one module where signals become facts: the milter,
/*	the LMTP receiver and the tracker gather a classified message (or
/*	an HTTP event) and where it came from (queue id, client address and
/*	HELO name, envelope, tokens of the addresses it came to), and call
/*	it; none of them repeats a rule.
/*
/*	signal_record() ties a classified inbound message to a
/*	contact and records what it means, in one durable store_write():
/*	the caller answers Postfix only after it returns.
/*
/*	A bounce or a complaint is a claim made by whoever sent it, so it
/*	counts against a contact only when it is tied to a send postdrip
/*	recorded: a verified token (from the VERP address the mail came to,
/*	or the original return path shown inside the report), or the
/*	Message-ID of a recorded send (the original's, then In-Reply-To /
/*	References) whose contact is a recipient the report names (a
/*	complaint that names none, as feedback loops that redact it, is
/*	tied by the Message-ID alone). Anything else, a report with a token
/*	that does not verify included, never falls back to the recipients
/*	it names: it is recorded as "bounce_unverified" or
/*	"complaint_unverified" on the timeline of each named recipient that
/*	is a contact (or on no timeline, in the event log), with "why"
/*	(bad_token, other_recipient: our Message-ID sent to someone else,
/*	no_recorded_send), and changes nothing: no suppression, no
/*	soft-bounce count, no workflow trigger. With m->strict (the mail did
/*	not come to one of our addresses, so it need not be about our mail)
/*	a report that names nothing of ours is not recorded at all.
/*
/*	Other signals tie, first that works: a verified token; the
/*	In-Reply-To/References Message-IDs, looked up among the messages
/*	sent; for auto-replies and read receipts (not with m->strict), the
/*	author, then a named recipient, if a known contact. Otherwise
/*	nothing is recorded (m->nout is 0) and the caller logs that.
/*
/*	SPF of replies and mailed unsubscribes is for the domain of the
/*	author (From), as DMARC aligns it, never for the envelope sender,
/*	which the client chooses: when m->spf is 0 and m->spf_server is
/*	set, signal_record() runs check_host() for the From domain and
/*	m->client_addr before its write (signal_spf_author()).
/*
/*	Events (type, then data keys beside queue_id, tie, message_id,
/*	msgno, workflow and step of the message answered):
/* .IP "bounced"
/*	recipient, status, class (hard/soft/none), reason, diagnostic,
/*	remote_mta, action; a hard bounce suppresses the address at once
/*	(reason hardbounce); a soft one when it makes soft_limit soft
/*	bounces within soft_window (reason softbounce; soft_count says how
/*	many). A DSN whose action is "delayed" is recorded as "delayed" and
/*	does nothing else: it is a warning, not a failure.
/* .IP "complained"
/*	feedback_type, recipient; suppresses (reason complaint).
/* .IP "autoreplied"
/*	subject, new_address (when the text names one instead of the
/*	contact's: "I have left, write to ..."). Never a reply. Such an
/*	address is also recorded as an "address_offered" event (address,
/*	old_address, subject) for a person to decide on; the contact is
/*	not changed.
/* .IP "opened"
/*	via=mdn, disposition, machine=false.
/* .IP "unsubscribed"
/*	via=mailto, spf; suppresses (reason unsubscribed). The token is
/*	the proof: the author need not be the contact (people answer from
/*	another address), but an SPF fail makes it "unsubscribe_forged",
/*	which does nothing.
/* .IP "replied"
/*	from, spf, subject: only when the author (From) is the contact's
/*	address and SPF is not "fail". Otherwise "reply_forged" with why
/*	(from or spf), which triggers nothing.
/* .PP
/*	An address already suppressed keeps its first reason.
/*
/*	signal_sent() records an outbound marketing message and
/*	implements the at-most-once guard: see postdrip-milter(8), "SENDS
/*	AND RE-INJECTED DUPLICATES". A copy is a duplicate (s->duplicate:
/*	drop it) only when it is proven a re-injection of the same send:
/*	the engine recorded the Message-ID for an enrolment and step, the
/*	one envelope recipient is that send's contact, the envelope sender's
/*	VERP token is signed for that contact and message, and the send was
/*	handed to Postfix before (its mark, store_mark(3)). A Message-ID
/*	seen before without that proof (a client re-sending to the
/*	recipients a 452 refused, another sender copying it) is delivered
/*	and reported as s->reused; nothing new is recorded for it. The
/*	write is durable for a message the engine recorded (the guard's
/*	promise); for other marketing mail it is committed without waiting
/*	for fsync.
/*
/*	Both write operations do every lookup before their first write, as
/*	store(3) requires, and reset their outputs on entry because the
/*	store may run them again after a failed commit.
/* DIAGNOSTICS
/*	None: the caller logs. STORE_RETRY means nothing was recorded.
/* SEE ALSO
/*	postdrip-milter(8), store(3), verp(3)
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "signal/signal.h"
#include "store/store_stat.h"

/* signal_kind_name - for logging */

const char *
signal_kind_name(SIG_KIND kind)
{
	static const char *const names[] = {
		"bounce", "complaint", "autoreply", "open", "unsubscribe", "reply",
	};

	return ((unsigned) kind <= SIG_REPLY ? names[kind] : "?");
}

/* signal_kind_of - what a classified message is, given where it came to */

int
signal_kind_of(const CLASSIFY_RESULT *cr, VERP_KIND to, int answers_ours,
	               SIG_KIND *kind)
{
	switch (cr->kind) {
	case CLASSIFY_BOUNCE:
		*kind = SIG_BOUNCE;
		return (1);
	case CLASSIFY_COMPLAINT:
		*kind = SIG_COMPLAINT;
		return (1);
	case CLASSIFY_AUTOREPLY:
		*kind = SIG_AUTOREPLY;
		return (1);
	case CLASSIFY_MDN:
		*kind = SIG_OPEN;
		return (1);
	default:
		/* A human message: what its address or its references say. */
		if (to == VERP_UNSUBSCRIBE) {
			*kind = SIG_UNSUBSCRIBE;
			return (1);
		}
		if (to == VERP_REPLY || answers_ours) {
			*kind = SIG_REPLY;
			return (1);
		}
		/* At the return path only an answer is a reply; anything else
		 * there is more likely a bounce nobody could read. */
		if (verp_is_return_path(to) && cr->kind == CLASSIFY_REPLY) {
			*kind = SIG_REPLY;
			return (1);
		}
		return (0);
	}
}

/* signal_token_rcpt - the token of an address of ours the message came to */

int
signal_token_rcpt(SIG_MSG *m, const VERP *verp, const TOKENS *tk,
		          const char *addr, VERP_KIND *kind)
{
	TOKEN	t;
	int	rc;

	*kind = verp_parse(verp, addr, 0, 0);
	if (*kind == VERP_NONE || *kind == VERP_OTHER)
		return (TOKENS_BAD);
	if ((rc = verp_verify(verp, tk, addr, kind, &t)) == TOKENS_OK) {
		if (!m->have_token) {
			m->token = t;
			m->have_token = 1;
		}
		m->bad_token = 0;
	} else if (!m->have_token) {
		m->bad_token = 1;
	}
	return (rc);
}

/* signal_token_report - the original return path inside a report */

void
signal_token_report(SIG_MSG *m, const VERP *verp, const TOKENS *tk,
		            const CLASSIFY_RESULT *cr)
{
	char	addr[ADDR_MAX + 1];
	VERP_KIND kind;

	if (m->have_token || cr->orig_return_path[0] == 0
	    || addr_normalize(cr->orig_return_path, addr) == 0
	    || !verp_is_return_path(verp_parse(verp, addr, 0, 0)))
		return;
	(void) signal_token_rcpt(m, verp, tk, addr, &kind);
}

/* signal_spf_fails - only a definite fail: no DNS is not forgery */

int
signal_spf_fails(const char *spf)
{
	return (spf != 0 && strcmp(spf, "fail") == 0);
}

/* signal_spf_author - SPF of the From domain for the connecting client */

const char *
signal_spf_author(SIGNAL_SPF *spf, const char *client_addr, const char *helo,
		          const char *from)
{
	/*
	 * Aligned, as DMARC does: the envelope sender is the client's own
	 * choice, so a pass for it says nothing about who wrote From.
	 */
	if (spf == 0 || from == 0 || strchr(from, '@') == 0)
		return ("none");
	return (spf_check(spf, client_addr, helo, from));
}

/* sig_contact - the contact's address and owner; OK, NOTFOUND or RETRY */

static int
sig_contact(STORE_TXN *txn, uint64_t id, char *addr, char *owner)
{
	json_t *rec, *fields;
	const char *s;
	int	rc;

	if ((rc = store_contact_get(txn, id, &rec)) != STORE_OK)
		return (rc);
	addr[0] = 0;
	if ((s = json_string_value(json_object_get(rec, "email"))) == 0
	    || addr_normalize(s, addr) == 0) {
		json_decref(rec);
		return (STORE_NOTFOUND);
	}
	if (owner) {
		owner[0] = 0;
		fields = json_object_get(rec, "fields");
		if ((s = json_string_value(json_object_get(fields, "owner"))) == 0
		    || addr_normalize(s, owner) == 0)
			owner[0] = 0;
	}
	json_decref(rec);
	return (STORE_OK);
}

/* sig_sent_by_id - a sent message by Message-ID that names a contact */

static int
sig_sent_by_id(STORE_TXN *txn, const char *mid, STORE_SENT *sent)
{
	int	rc;

	if (mid == 0 || *mid == 0)
		return (STORE_NOTFOUND);
	rc = store_sent_by_msgid(txn, mid, sent);
	if (rc == STORE_OK && sent->contact == 0)
		rc = STORE_NOTFOUND;
	return (rc);
}

/*
 * sig_tie_token - tie by the token the message came with, when its contact
 * has the address (or the owner) the signal came from. Fills o->contact,
 * o->tie and, when the token names a send that is on record, o->sent.
 * OK; NOTFOUND without a token or when it does not fit; RETRY.
 */
static int
sig_tie_token(STORE_TXN *txn, const SIG_MSG *m, SIG_OUT *o)
{
	int	rc;

	if (!m->have_token)
		return (STORE_NOTFOUND);
	if ((rc = sig_contact(txn, m->token.contact, o->address, o->owner)) != STORE_OK)
		return (rc);
	o->contact = m->token.contact;
	o->tie = "token";
	if (m->token.message) {
		if ((rc = store_sent_get(txn, m->token.message, &o->sent)) == STORE_RETRY)
			return (rc);
		o->have_sent = (rc == STORE_OK);
	}
	return (STORE_OK);
}

/*
 * sig_tie_sent - tie by token, then by the Message-IDs the message names.
 * Fills o->contact, o->address, o->sent and o->tie. OK, NOTFOUND, RETRY.
 */
static int
sig_tie_sent(STORE_TXN *txn, const SIG_MSG *m, SIG_OUT *o)
{
	const CLASSIFY_RESULT *cr = m->cr;
	size_t	i;
	int	rc;

	if ((rc = sig_tie_token(txn, m, o)) == STORE_OK || rc == STORE_RETRY)
		return (rc);
	rc = sig_sent_by_id(txn, cr->orig_message_id, &o->sent);
	o->tie = "message-id";
	for (i = 0; rc == STORE_NOTFOUND && i < cr->nreferences; i++) {
		rc = sig_sent_by_id(txn, cr->references[i], &o->sent);
		o->tie = "references";
	}
	if (rc != STORE_OK) {
		o->tie = 0;
		return (rc);
	}
	o->have_sent = 1;
	o->contact = o->sent.contact;
	rc = sig_contact(txn, o->contact, o->address, o->owner);
	if (rc != STORE_OK) {
		o->tie = 0;
		o->have_sent = 0;
	}
	return (rc);
}

/* sig_tie_addr - a known contact by address */

static int
sig_tie_addr(STORE_TXN *txn, const char *text, const char *tie, SIG_OUT *o)
{
	char	addr[ADDR_MAX + 1];
	uint64_t id;
	int	rc;

	if (text == 0 || addr_normalize(text, addr) == 0)
		return (STORE_NOTFOUND);
	if ((rc = store_contact_find(txn, addr, &id)) != STORE_OK)
		return (rc);
	if ((rc = sig_contact(txn, id, o->address, o->owner)) != STORE_OK)
		return (rc);
	o->contact = id;
	o->tie = tie;
	return (STORE_OK);
}

/* sig_pick_row - the report row about the contact, else the first */

static const CLASSIFY_RCPT *
sig_pick_row(const CLASSIFY_RESULT *cr, const char *addr)
{
	size_t	i;

	for (i = 0; i < cr->nrcpt; i++)
		if (strcasecmp(cr->rcpt[i].recipient, addr) == 0)
			return (cr->rcpt + i);
	return (cr->nrcpt ? cr->rcpt : 0);
}

/* sig_soft_ctx - counting soft bounces in a contact's timeline */

typedef struct SIG_SOFT_CTX {
	time_t	since;
	int	count;
} SIG_SOFT_CTX;

static int
sig_soft_count(const STORE_EVENT *ev, void *ctx)
{
	SIG_SOFT_CTX *sc = ctx;
	const char *class;

	if (ev->time >= sc->since && strcmp(ev->type, "bounced") == 0
	    && (class = json_string_value(json_object_get(ev->data, "class"))) != 0
	    && strcmp(class, "soft") == 0)
		sc->count++;
	return (0);
}

/* sig_is_delay - a DSN row that only warns of a delay */

static int
sig_is_delay(const CLASSIFY_RCPT *row)
{
	return (row && strcasecmp(row->action, "delayed") == 0);
}

/* sig_bounce_plan - event and suppression of one bounce row */

static int
sig_bounce_plan(STORE_TXN *txn, const SIG_MSG *m, SIG_OUT *o)
{
	SIG_SOFT_CTX sc;
	int	rc;

	if (sig_is_delay(o->row)) {
		o->event = "delayed";
		return (STORE_OK);
	}
	o->event = "bounced";
	if (o->row == 0)
		return (STORE_OK);
	if (o->row->class == CLASSIFY_HARD) {
		o->suppressed = "hardbounce";
	} else if (o->row->class == CLASSIFY_SOFT) {
		sc.since = m->now - m->params->soft_window;
		sc.count = 1;			/* this one */
		if ((rc = store_timeline_walk_since(txn, o->contact, sc.since,
					       sig_soft_count, &sc)) != STORE_OK)
			return (rc);
		o->soft_count = sc.count;
		if (sc.count >= m->params->soft_limit)
			o->suppressed = "softbounce";
	}
	return (STORE_OK);
}

/* sig_new_out - the next output slot, or 0 when full */

static SIG_OUT *
sig_new_out(SIG_MSG *m)
{
	SIG_OUT *o;

	if (m->nout >= SIG_OUT_MAX)
		return (0);
	o = m->out + m->nout;
	memset(o, 0, sizeof(*o));
	return (o);
}

/* sig_seen - is this contact already in the outputs? */

static int
sig_seen(const SIG_MSG *m, uint64_t contact)
{
	size_t	i;

	for (i = 0; i < m->nout; i++)
		if (m->out[i].contact == contact)
			return (1);
	return (0);
}

/* sig_row_for - the report row that names addr, or 0 */

static const CLASSIFY_RCPT *
sig_row_for(const CLASSIFY_RESULT *cr, const char *addr)
{
	char	a[ADDR_MAX + 1];
	size_t	i;

	for (i = 0; i < cr->nrcpt; i++)
		if (addr_normalize(cr->rcpt[i].recipient, a) && strcmp(a, addr) == 0)
			return (cr->rcpt + i);
	return (0);
}

/*
 * sig_tie_report - tie a bounce or complaint to a send we recorded: a
 * verified token, or a Message-ID of a recorded send whose contact is a
 * recipient the report names (a complaint may name none: feedback loops
 * redact it). *ours says that a Message-ID of ours was named, for the
 * wrong recipient. Fills o. OK, NOTFOUND or RETRY.
 */
static int
sig_tie_report(STORE_TXN *txn, const SIG_MSG *m, SIG_OUT *o, int *ours)
{
	const CLASSIFY_RESULT *cr = m->cr;
	const CLASSIFY_RCPT *row;
	const char *mid;
	size_t	i;
	int	rc;

	*ours = 0;
	if ((rc = sig_tie_token(txn, m, o)) != STORE_NOTFOUND) {
		if (rc == STORE_OK)
			o->row = sig_pick_row(cr, o->address);
		return (rc);
	}
	for (i = 0; i <= cr->nreferences; i++) {
		mid = i == 0 ? cr->orig_message_id : cr->references[i - 1];
		if ((rc = sig_sent_by_id(txn, mid, &o->sent)) == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return (rc);
		*ours = 1;
		if ((rc = sig_contact(txn, o->sent.contact, o->address, o->owner)) == STORE_NOTFOUND)
			continue;
		if (rc != STORE_OK)
			return (rc);
		row = sig_row_for(cr, o->address);
		if (row == 0 && !(m->kind == SIG_COMPLAINT && cr->nrcpt == 0))
			continue;
		o->row = row;
		o->contact = o->sent.contact;
		o->have_sent = 1;
		o->tie = i == 0 ? "message-id" : "references";
		return (STORE_OK);
	}
	memset(o, 0, sizeof(*o));
	return (STORE_NOTFOUND);
}

/* sig_plan_unverified - a report tied to no send of ours: record, change nothing */

static int
sig_plan_unverified(STORE_TXN *txn, SIG_MSG *m, const char *why)
{
	const CLASSIFY_RESULT *cr = m->cr;
	const char *event = m->kind == SIG_COMPLAINT ?
		"complaint_unverified" : "bounce_unverified";
	SIG_OUT *o;
	size_t	i;
	int	rc;

	/*
	 * On the timeline of each named recipient that is a contact, so that
	 * an administrator sees it; anything a report names is only a claim,
	 * so nothing else happens: no suppression, no soft-bounce count (it
	 * counts "bounced" events only), no workflow trigger or exit.
	 */
	for (i = 0; i < cr->nrcpt && (o = sig_new_out(m)) != 0; i++) {
		rc = sig_tie_addr(txn, cr->rcpt[i].recipient, "none", o);
		if (rc == STORE_RETRY)
			return (rc);
		if (rc == STORE_OK && !sig_seen(m, o->contact)) {
			o->owner[0] = 0;
			o->row = cr->rcpt + i;
			o->event = event;
			o->why = why;
			m->nout++;
		}
	}
	if (m->nout == 0 && (o = sig_new_out(m)) != 0) {
		/* In the event log all the same, tied to no contact. */
		o->tie = "none";
		o->row = cr->nrcpt ? cr->rcpt : 0;
		o->event = event;
		o->why = why;
		m->nout++;
	}
	return (STORE_OK);
}

/* sig_plan_report - bounces and complaints */

static int
sig_plan_report(STORE_TXN *txn, SIG_MSG *m)
{
	SIG_OUT *o = sig_new_out(m);
	int	rc, ours;

	if ((rc = sig_tie_report(txn, m, o, &ours)) == STORE_RETRY)
		return (rc);
	if (rc == STORE_NOTFOUND) {
		/* Mail that did not come to our address need not be about ours. */
		if (m->strict && !ours && !m->bad_token)
			return (STORE_OK);
		return (sig_plan_unverified(txn, m, m->bad_token ? "bad_token" :
				ours ? "other_recipient" : "no_recorded_send"));
	}
	m->nout++;
	if (m->kind == SIG_COMPLAINT) {
		o->event = "complained";
		o->suppressed = "complaint";
		return (STORE_OK);
	}
	return (sig_bounce_plan(txn, m, o));
}

/* sig_plan_one - auto-replies, receipts, unsubscribes, replies */

static int
sig_plan_one(STORE_TXN *txn, SIG_MSG *m)
{
	const CLASSIFY_RESULT *cr = m->cr;
	SIG_OUT *o = sig_new_out(m);
	size_t	i;
	int	rc;

	if (m->kind == SIG_UNSUBSCRIBE) {
		/* Only the token can say whose unsubscribe this is. */
		if (!m->have_token)
			return (STORE_OK);
		if ((rc = sig_contact(txn, m->token.contact, o->address, 0)) != STORE_OK)
			return (rc == STORE_NOTFOUND ? STORE_OK : rc);
		o->contact = m->token.contact;
		o->tie = "token";
		if (m->token.message
		    && (rc = store_sent_get(txn, m->token.message, &o->sent)) == STORE_RETRY)
			return (rc);
		o->have_sent = (m->token.message && rc == STORE_OK);
		if (signal_spf_fails(m->spf)) {
			o->event = "unsubscribe_forged";
		} else {
			o->event = "unsubscribed";
			o->suppressed = "unsubscribed";
		}
		m->nout++;
		return (STORE_OK);
	}
	rc = sig_tie_sent(txn, m, o);
	if (rc == STORE_NOTFOUND && m->kind != SIG_REPLY && !m->strict) {
		/* Auto-replies and receipts come from the contact's address. */
		rc = sig_tie_addr(txn, m->from, "from", o);
		for (i = 0; rc == STORE_NOTFOUND && i < cr->nrcpt; i++)
			rc = sig_tie_addr(txn, cr->rcpt[i].recipient, "recipient", o);
	}
	if (rc != STORE_OK)
		return (rc == STORE_NOTFOUND ? STORE_OK : rc);
	switch (m->kind) {
	case SIG_AUTOREPLY:
		o->event = "autoreplied";
		break;
	case SIG_OPEN:
		o->event = "opened";
		break;
	case SIG_REPLY:
		if (m->from == 0 || strcmp(m->from, o->address) != 0) {
			o->event = "reply_forged";
			o->suppressed = 0;
		} else if (signal_spf_fails(m->spf)) {
			o->event = "reply_forged";
		} else {
			o->event = "replied";
		}
		break;
	default:
		return (STORE_OK);
	}
	if (!(m->kind == SIG_REPLY && strcmp(o->event, "replied") == 0
	      && m->params->forward_owner))
		o->owner[0] = 0;
	m->nout++;
	return (STORE_OK);
}

/* sig_set - add a string to event data when not empty */

static void
sig_set(json_t *data, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(data, key, json_string(value));
}

/* sig_event_data - what the event says */

static json_t *
sig_event_data(const SIG_MSG *m, const SIG_OUT *o)
{
	const CLASSIFY_RESULT *cr = m->cr;
	json_t *data = json_object();

	sig_set(data, "queue_id", m->queue_id);
	sig_set(data, "tie", o->tie);
	if (o->have_sent) {
		sig_set(data, "message_id", o->sent.message_id);
		json_object_set_new(data, "msgno", json_integer((json_int_t) o->sent.msgno));
		sig_set(data, "workflow", o->sent.workflow);
		sig_set(data, "step", o->sent.step);
	} else if (m->have_token && m->token.message) {
		json_object_set_new(data, "msgno", json_integer((json_int_t) m->token.message));
	}
	if (o->row) {
		sig_set(data, "recipient", o->row->recipient);
		sig_set(data, "status", o->row->status);
		if (m->kind == SIG_BOUNCE) {
			json_object_set_new(data, "class",
				json_string(classify_class_name(o->row->class)));
			sig_set(data, "reason", o->row->reason);
			sig_set(data, "diagnostic", o->row->diagnostic);
			sig_set(data, "remote_mta", o->row->remote_mta);
			sig_set(data, "action", o->row->action);
		}
	}
	if (o->soft_count)
		json_object_set_new(data, "soft_count", json_integer(o->soft_count));
	switch (m->kind) {
	case SIG_COMPLAINT:
		sig_set(data, "feedback_type", cr->feedback_type);
		break;
	case SIG_AUTOREPLY:
		sig_set(data, "subject", cr->subject);
		sig_set(data, "new_address", cr->new_address);
		break;
	case SIG_OPEN:
		json_object_set_new(data, "via", json_string("mdn"));
		sig_set(data, "disposition", cr->mdn_disposition);
		json_object_set_new(data, "machine", json_false());
		break;
	case SIG_UNSUBSCRIBE:
		json_object_set_new(data, "via", json_string("mailto"));
		sig_set(data, "spf", m->spf);
		break;
	case SIG_REPLY:
		sig_set(data, "from", m->from);
		sig_set(data, "spf", m->spf);
		sig_set(data, "subject", cr->subject);
		if (strcmp(o->event, "reply_forged") == 0)
			json_object_set_new(data, "why", json_string(
				m->from && strcmp(m->from, o->address) == 0 ? "spf" : "from"));
		break;
	default:
		break;
	}
	if (o->why) {
		sig_set(data, "why", o->why);
		if (!o->have_sent)
			sig_set(data, "message_id", cr->orig_message_id);
	}
	sig_set(data, "suppressed", o->suppressed);
	return (data);
}

/*
 * sig_tally - the counters /metrics shows (store_tally()): each event
 * type, and bounces by class, so that the tracker, which sees no mail,
 * can say how many bounces the LMTP receiver and the milter recorded.
 */
static void
sig_tally(STORE_TXN *txn, const SIG_OUT *o)
{
	store_tally(txn, o->event);
	if (strcmp(o->event, "bounced") == 0)
		store_tally(txn, o->row == 0 ? "bounced.unclassified"
			    : o->row->class == CLASSIFY_HARD ? "bounced.hard"
			    : o->row->class == CLASSIFY_SOFT ? "bounced.soft"
			    : "bounced.unclassified");
}

/* signal_apply - the write operation: plan, then write */

int
signal_apply(STORE_TXN *txn, void *ctx)
{
	SIG_MSG *m = ctx;
	STORE_SUPPRESSION old;
	char	source[128];
	json_t *data;
	SIG_OUT *o;
	size_t	i;
	int	rc;

	m->nout = 0;
	if (m->kind == SIG_BOUNCE || m->kind == SIG_COMPLAINT)
		rc = sig_plan_report(txn, m);
	else
		rc = sig_plan_one(txn, m);
	if (rc != STORE_OK)
		return (STORE_RETRY);
	/* An address already suppressed keeps its first reason. */
	for (i = 0; i < m->nout; i++) {
		o = m->out + i;
		if (o->suppressed == 0)
			continue;
		rc = store_suppress_get(txn, o->address, &old);
		if (rc == STORE_OK)
			o->suppressed = 0;
		else if (rc != STORE_NOTFOUND)
			return (STORE_RETRY);
	}

	/* Writes: from here on a failure poisons the whole batch. */
	snprintf(source, sizeof(source), "milter:%s", m->queue_id ? m->queue_id : "");
	for (i = 0; i < m->nout; i++) {
		o = m->out + i;
		data = sig_event_data(m, o);
		rc = store_event_append(txn, o->contact, m->now, o->event, data, 0);
		json_decref(data);
		if (rc != STORE_OK)
			return (STORE_RETRY);
		/*
		 * An auto-reply that names another address: offered to a
		 * person (workflows trigger on address_offered), never put in
		 * the contact's place, since an auto-reply proves nothing
		 * about who reads the other mailbox.
		 */
		if (m->kind == SIG_AUTOREPLY && m->cr->new_address[0]
		    && strcmp(o->event, "autoreplied") == 0
		    && strcmp(m->cr->new_address, o->address) != 0) {
			data = json_pack("{s:s, s:s}", "address", m->cr->new_address,
					 "old_address", o->address);
			sig_set(data, "subject", m->cr->subject);
			sig_set(data, "queue_id", m->queue_id);
			rc = store_event_append(txn, o->contact, m->now, "address_offered", data, 0);
			json_decref(data);
			if (rc != STORE_OK)
				return (STORE_RETRY);
		}
		sig_tally(txn, o);
		if (o->suppressed
		    && store_suppress_put(txn, o->address, o->suppressed, source,
					  m->now) != STORE_OK)
			return (STORE_RETRY);
	}
	return (STORE_OK);
}

/* signal_record - tie and record, durably */

int
signal_record(STORE *st, SIG_MSG *m)
{
	int	rc;

	/* Before the write: a DNS wait must not hold the store's writer. */
	if (m->spf == 0 && m->spf_server
	    && (m->kind == SIG_REPLY || m->kind == SIG_UNSUBSCRIBE))
		m->spf = signal_spf_author(m->spf_server, m->client_addr, m->helo, m->from);
	if ((rc = store_write(st, signal_apply, m)) != STORE_OK) {
		m->nout = 0;
		return (STORE_RETRY);
	}
	return (STORE_OK);
}

/*
 * sent_proven - is this the engine's own send, to its own recipient? A
 * send the engine recorded (an enrolment), one envelope recipient that is
 * that send's contact, and the envelope sender's VERP token signed for
 * that contact and message. Anything less proves nothing: a client may
 * reuse a Message-ID in several transactions (RFC 5321 asks it to send
 * again to the recipients a 452 refused), or another sender may copy it.
 * 1, 0, or -1 when the store cannot tell.
 */
static int
sent_proven(STORE_TXN *txn, const SENT_MSG *s, const STORE_SENT *sent)
{
	char	rcpt[ADDR_MAX + 1], addr[ADDR_MAX + 1];
	int	rc;

	if (sent->enrolment == 0 || sent->contact == 0 || s->rcpt == 0
	    || !s->have_token || s->token.contact != sent->contact
	    || s->token.message != sent->msgno
	    || addr_normalize(s->rcpt, rcpt) == 0)
		return (0);
	if ((rc = sig_contact(txn, sent->contact, addr, 0)) == STORE_NOTFOUND)
		return (0);
	if (rc != STORE_OK)
		return (-1);
	return (strcmp(addr, rcpt) == 0);
}

/* signal_sent_apply - record a send, or find it is a duplicate */

int
signal_sent_apply(STORE_TXN *txn, void *ctx)
{
	SENT_MSG *s = ctx;
	char	addr[ADDR_MAX + 1];
	STORE_SENT sent;
	STORE_MARK mark;
	json_t *rec, *data;
	int	rc, known, marked, proven = 0, need_contact = 0, created;

	s->duplicate = s->recorded = s->reused = 0;
	s->msgno = s->contact = 0;
	s->first_queue_id[0] = 0;
	if (s->message_id == 0 || *s->message_id == 0)
		return (STORE_CONFIG);

	/* Lookups. */
	if ((rc = store_mark_get(txn, s->message_id, &mark)) != STORE_OK
	    && rc != STORE_NOTFOUND)
		return (STORE_RETRY);
	marked = (rc == STORE_OK);
	rc = store_sent_by_msgid(txn, s->message_id, &sent);
	if (rc == STORE_OK) {
		known = 1;
		/* The engine's send (or a resend): its mark needs the disk. */
		store_sync_needed(txn);
		s->msgno = sent.msgno;
		s->contact = sent.contact;
		if ((proven = sent_proven(txn, s, &sent)) < 0)
			return (STORE_RETRY);
		if (marked && proven) {
			s->duplicate = 1;
			snprintf(s->first_queue_id, sizeof(s->first_queue_id), "%s",
				 mark.queue_id);
			return (STORE_OK);
		}
		/* Not the engine's first hand-off of its own send: deliver. */
		if (marked || !proven) {
			s->reused = 1;
			return (STORE_OK);
		}
	} else if (rc == STORE_NOTFOUND) {
		known = 0;
		if (s->have_token) {
			rc = store_contact_get(txn, s->token.contact, &rec);
			if (rc == STORE_OK) {
				json_decref(rec);
				s->contact = s->token.contact;
			} else if (rc != STORE_NOTFOUND)
				return (STORE_RETRY);
		}
		if (s->contact == 0 && s->rcpt && addr_normalize(s->rcpt, addr)) {
			rc = store_contact_find(txn, addr, &s->contact);
			if (rc == STORE_NOTFOUND)
				need_contact = !s->no_create;
			else if (rc != STORE_OK)
				return (STORE_RETRY);
		}
	} else
		return (STORE_RETRY);

	/* Writes. */
	if (need_contact
	    && store_contact_ensure(txn, addr, s->now, &s->contact, &created) != STORE_OK)
		return (STORE_RETRY);
	if (!known) {
		memset(&sent, 0, sizeof(sent));
		snprintf(sent.message_id, sizeof(sent.message_id), "%s", s->message_id);
		sent.contact = s->contact;
		snprintf(sent.workflow, sizeof(sent.workflow), "%s", s->workflow ? s->workflow : "");
		snprintf(sent.step, sizeof(sent.step), "%s", s->step ? s->step : "");
		snprintf(sent.stream, sizeof(sent.stream), "%s", s->stream ? s->stream : "marketing");
		sent.time = s->now;
		if (store_sent_put(txn, &sent) != STORE_OK)
			return (STORE_RETRY);
		s->msgno = sent.msgno;
		s->recorded = 1;
		if (s->contact) {
			data = json_object();
			sig_set(data, "message_id", sent.message_id);
			json_object_set_new(data, "msgno", json_integer((json_int_t) sent.msgno));
			sig_set(data, "workflow", sent.workflow);
			sig_set(data, "step", sent.step);
			sig_set(data, "stream", sent.stream);
			sig_set(data, "queue_id", s->queue_id);
			rc = store_event_append(txn, s->contact, s->now, "sent", data, 0);
			json_decref(data);
			if (rc != STORE_OK)
				return (STORE_RETRY);
		}
		return (STORE_OK);
	}
	/* The engine's own send, handed to Postfix the first time. */
	return (store_mark_put(txn, s->message_id, s->now, s->queue_id) == STORE_OK ?
		STORE_OK : STORE_RETRY);
}

/* signal_sent - record a send; durably when the guard needs it */

int
signal_sent(STORE *st, SENT_MSG *s)
{

	/*
	 * The "handed to Postfix" mark of a message the engine recorded is
	 * what keeps it at most once, across a crash of the machine too: it
	 * is durable before the answer (signal_sent_apply() finds the
	 * message known and asks for the disk). Other marketing mail (found
	 * by marketing_senders) has no such promise to keep; its record only
	 * ties later bounces, so it is committed before the answer but
	 * without waiting for the disk (a crash of this process loses
	 * nothing; one of the machine, the last moment's records). Measured
	 * under load: an fsync-wait per message costs Postfix 10-30% of its
	 * throughput with the milter, even with group commit.
	 */
	return (store_write_flags(st, signal_sent_apply, s, STORE_W_NOSYNC) == STORE_OK ?
		STORE_OK : STORE_RETRY);
}
