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
/*	signal_record() ties a classified inbound message to a
/*	contact and records what it means, in one durable store_write():
/*	the caller answers Postfix only after it returns.
/*
/*	Ties, first that works: a verified token (from the VERP, reply or
/*	unsubscribe address the mail came to, or from the original return
/*	path shown inside a report); the original Message-ID inside the
/*	report, then the In-Reply-To/References Message-IDs, looked up
/*	among the messages sent; for bounces and complaints, each failed
/*	recipient that is a known contact; for auto-replies and read
/*	receipts, the author if a known contact. With m->strict (the mail
/*	did not come to one of our addresses, so it need not be about our
/*	mail) only the token and Message-ID ties count. Otherwise nothing
/*	is recorded (m->nout is 0) and the caller logs that.
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
/*	subject. Never a reply.
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
/*	AND RE-INJECTED DUPLICATES". Each new "handed to Postfix" mark
/*	deletes the expired ones (older than SIG_HANDED_MAX_AGE) among the
/*	few that follow it in key order. The write is durable for a message the
/*	engine recorded (the guard's promise); for other marketing mail it
/*	is committed without waiting for fsync.
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

/* signal_kind_name - for logging */

const char *
signal_kind_name(SIG_KIND kind)
{
	static const char *const names[] = {
		"bounce", "complaint", "autoreply", "open", "unsubscribe", "reply",
	};

	return ((unsigned) kind <= SIG_REPLY ? names[kind] : "?");
}

/* signal_spf_fails - only a definite fail: no DNS is not forgery */

int
signal_spf_fails(const char *spf)
{
	return (spf != 0 && strcmp(spf, "fail") == 0);
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
 * sig_tie_sent - tie by token, then by the Message-IDs the message names.
 * Fills o->contact, o->address, o->sent and o->tie. OK, NOTFOUND, RETRY.
 */
static int
sig_tie_sent(STORE_TXN *txn, const SIG_MSG *m, SIG_OUT *o)
{
	const CLASSIFY_RESULT *cr = m->cr;
	size_t	i;
	int	rc;

	if (m->have_token) {
		rc = sig_contact(txn, m->token.contact, o->address, o->owner);
		if (rc == STORE_RETRY)
			return (rc);
		if (rc == STORE_OK) {
			o->contact = m->token.contact;
			o->tie = "token";
			if (m->token.message) {
				rc = store_sent_get(txn, m->token.message, &o->sent);
				if (rc == STORE_RETRY)
					return (rc);
				o->have_sent = (rc == STORE_OK);
			}
			return (STORE_OK);
		}
	}
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

/* sig_plan_report - bounces and complaints: possibly several contacts */

static int
sig_plan_report(STORE_TXN *txn, SIG_MSG *m)
{
	const CLASSIFY_RESULT *cr = m->cr;
	SIG_OUT *o = sig_new_out(m);
	size_t	i;
	int	rc;

	if ((rc = sig_tie_sent(txn, m, o)) == STORE_OK) {
		o->row = sig_pick_row(cr, o->address);
		m->nout++;
	} else if (rc != STORE_NOTFOUND) {
		return (rc);
	} else if (!m->strict) {
		/* No message named: each failed recipient we know of. */
		for (i = 0; i < cr->nrcpt && (o = sig_new_out(m)) != 0; i++) {
			rc = sig_tie_addr(txn, cr->rcpt[i].recipient, "recipient", o);
			if (rc == STORE_RETRY)
				return (rc);
			if (rc == STORE_OK && !sig_seen(m, o->contact)) {
				o->row = cr->rcpt + i;
				m->nout++;
			}
		}
	}
	for (i = 0; i < m->nout; i++) {
		o = m->out + i;
		if (m->kind == SIG_COMPLAINT) {
			o->event = "complained";
			o->suppressed = "complaint";
		} else if ((rc = sig_bounce_plan(txn, m, o)) != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
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
	sig_set(data, "suppressed", o->suppressed);
	return (data);
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

	if ((rc = store_write(st, signal_apply, m)) != STORE_OK) {
		m->nout = 0;
		return (STORE_RETRY);
	}
	return (STORE_OK);
}

/* sent_handed_key - the mark's key */

static size_t
sent_handed_key(const char *mid, char *key, size_t max)
{
	int	n = snprintf(key, max, "%s%s", SIG_HANDED_PREFIX, mid);

	return (n > 0 && (size_t) n < max ? (size_t) n : 0);
}

/* sent_handed_sweep - expired marks near a new one, to delete; a count */

static int
sent_handed_sweep(STORE_TXN *txn, const char *key, size_t klen, time_t now,
		          char old[][sizeof(SIG_HANDED_PREFIX) + 256], size_t *olen)
{
	MDB_cursor *cur;
	MDB_val k, v;
	size_t	plen = sizeof(SIG_HANDED_PREFIX) - 1;
	int	rc, seen = 0, n = 0, wrapped = 0;

	/*
	 * Without an index by time, look at the few marks that follow the
	 * new one in key order (wrapping to the first): new Message-IDs land
	 * all over the key space, so each mark is looked at again and again
	 * as mail goes on, and the marks stay about as many as a month of
	 * sends. Engine Message-IDs that grow in order wrap to the oldest.
	 */
	if (store_cursor(txn, STORE_DB_MISC, &cur) != STORE_OK)
		return (0);
	k.mv_size = klen;
	k.mv_data = (void *) key;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (seen < SIG_HANDED_SWEEP) {
		if (rc != 0 || k.mv_size < plen || memcmp(k.mv_data, SIG_HANDED_PREFIX, plen) != 0) {
			if (wrapped++)
				break;
			k.mv_size = plen;
			k.mv_data = (void *) SIG_HANDED_PREFIX;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			continue;
		}
		if (k.mv_size == klen && memcmp(k.mv_data, key, klen) == 0)
			break;				/* back at our own place */
		seen++;
		if (v.mv_size >= 8 && k.mv_size < sizeof(old[0])
		    && now - (time_t) store_u64_get(v.mv_data) > SIG_HANDED_MAX_AGE) {
			memcpy(old[n], k.mv_data, k.mv_size);
			olen[n++] = k.mv_size;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return (n);
}

/* signal_sent_apply - record a send, or find it is a duplicate */

int
signal_sent_apply(STORE_TXN *txn, void *ctx)
{
	SENT_MSG *s = ctx;
	char	key[sizeof(SIG_HANDED_PREFIX) + 256];
	char	old[SIG_HANDED_SWEEP][sizeof(SIG_HANDED_PREFIX) + 256];
	size_t	olen[SIG_HANDED_SWEEP];
	unsigned char val[8 + 32];
	char	addr[ADDR_MAX + 1];
	size_t	klen, qlen;
	STORE_SENT sent;
	MDB_val mv;
	json_t *rec, *data;
	int	rc, known, need_contact = 0, created, nold, i;

	s->duplicate = s->recorded = 0;
	s->msgno = s->contact = 0;
	s->first_queue_id[0] = 0;
	if ((klen = sent_handed_key(s->message_id, key, sizeof(key))) == 0)
		return (STORE_CONFIG);

	/* Lookups. */
	rc = store_get(txn, STORE_DB_MISC, key, klen, &mv);
	if (rc == STORE_OK) {
		s->duplicate = 1;
		if (mv.mv_size > 8)
			snprintf(s->first_queue_id, sizeof(s->first_queue_id), "%.*s",
				 (int) (mv.mv_size - 8), (char *) mv.mv_data + 8);
		return (STORE_OK);
	}
	if (rc != STORE_NOTFOUND)
		return (STORE_RETRY);
	rc = store_sent_by_msgid(txn, s->message_id, &sent);
	if (rc == STORE_OK) {
		known = 1;
		s->msgno = sent.msgno;
		s->contact = sent.contact;
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
				need_contact = 1;
			else if (rc != STORE_OK)
				return (STORE_RETRY);
		}
	} else
		return (STORE_RETRY);
	nold = sent_handed_sweep(txn, key, klen, s->now, old, olen);

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
	}
	store_u64_put(val, (uint64_t) s->now);
	qlen = s->queue_id ? strnlen(s->queue_id, sizeof(val) - 8) : 0;
	if (qlen)
		memcpy(val + 8, s->queue_id, qlen);
	if (store_put(txn, STORE_DB_MISC, key, klen, val, 8 + qlen, 0) != STORE_OK)
		return (STORE_RETRY);
	for (i = 0; i < nold; i++)
		if (store_del(txn, STORE_DB_MISC, old[i], olen[i]) == STORE_RETRY)
			return (STORE_RETRY);
	return (STORE_OK);
}

/* signal_sent - record a send; durably when the guard needs it */

int
signal_sent(STORE *st, SENT_MSG *s)
{
	STORE_TXN *txn;
	STORE_SENT sent;
	int	flags = STORE_W_NOSYNC, rc;

	/*
	 * The "handed to Postfix" mark of a message the engine recorded is
	 * what keeps it at most once, across a crash of the machine too: it
	 * is durable before the answer. Other marketing mail (found by
	 * marketing_senders) has no such promise to keep; its record only
	 * ties later bounces, so it is committed before the answer but
	 * without waiting for the disk (a crash of this process loses
	 * nothing; one of the machine, the last moment's records). Measured
	 * under load: an fsync-wait per message costs Postfix 10-30% of its
	 * throughput with the milter, even with group commit.
	 */
	if (store_rbegin(st, &txn) != STORE_OK)
		return (STORE_RETRY);
	rc = store_sent_by_msgid(txn, s->message_id, &sent);
	store_rend(txn);
	/* As in milter_eom.c: no cached read transaction left to this thread. */
	store_thread_end(st);
	if (rc != STORE_NOTFOUND)
		flags = 0;			/* known, or cannot tell: durable */
	return (store_write_flags(st, signal_sent_apply, s, flags) == STORE_OK ?
		STORE_OK : STORE_RETRY);
}
