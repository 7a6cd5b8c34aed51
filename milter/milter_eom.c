/*++
/* NAME
/*	milter_eom 3
/* SUMMARY
/*	postdrip-milter's end-of-message decisions
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	sfsistat milter_eom(ctx, conn, msg)
/*
/*	const char *milter_eom_send_stream(set, msg, client_addr)
/*
/*	int	milter_eom_refs_ours(msg)
/* DESCRIPTION
/*	milter_eom() decides what a message is and what to answer, in
/*	this order:
/* .IP 1.
/*	A recipient on bounce_domain: a signal. The message is classified
/*	(classify(3)); the token of the recipient address (or of the
/*	original return path inside a report) is verified; the signal is
/*	recorded with the facts of the connection (signal(3) holds every
/*	rule: ties, unverified reports, SPF of the From domain); then the
/*	bounce-domain recipients are
/*	consumed: SMFIS_DISCARD when they are all the recipients, else
/*	they are deleted and the others get the mail. A reply to a
/*	reply+TOKEN address is delivered as Postfix routes it.
/* .IP 2.
/*	A marketing send: the stream of stream_decide() (stream(3)), as
/*	postdrip-policyd decides it: marketing_senders, marketing_lists, a
/*	VERP return path of the engine with a valid token,
/*	marketing_sasl_users ({auth_authen} at MAIL FROM) or
/*	marketing_clients; or the engine's transactional mail (its
/*	transactional return path with a valid token), recorded as such.
/*	The X-Postdrip-Workflow/-Step headers name its workflow and step.
/*	It is recorded (signal_sent()), or discarded when it is proven a
/*	re-injection of the engine's own send (same Message-ID, recipient
/*	and token, handed to Postfix before); a Message-ID seen before
/*	without that proof is delivered and logged as reused, except that
/*	a copy with one recipient (a sender sending one message to each
/*	contact in its own transaction) gets a Message-ID of its own and is
/*	recorded as that contact's send. A message without Message-ID gets
/*	one, so that its bounces can be tied. Then milter_out(3) changes
/*	what leaves: VERP, List-Unsubscribe, Feedback-ID, links and opens.
/* .IP 3.
/*	Mail from the null sender, or naming a Message-ID we sent in
/*	In-Reply-To/References: a bounce, complaint, auto-reply, read
/*	receipt or reply that reached another address. Recorded when it
/*	names one of our messages (by token or Message-ID: a recipient
/*	alone is not enough here, since this mail need not be about ours),
/*	and delivered unchanged.
/* .PP
/*	Whenever something must be recorded and the store cannot commit,
/*	the answer is SMFIS_TEMPFAIL: Postfix keeps the mail (or the
/*	client retries) and nothing is lost.
/* DIAGNOSTICS
/*	One line per decision, shaped like Postfix's:
/*	"QUEUEID: action: what from client[addr]: details; from=<> to=<>".
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify/classify.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "milter.h"

#define EOM_LOG_MAX	1024

/* milter_eom_send_stream - a send to record: its stream; else NULL */

const char *
milter_eom_send_stream(const MILTER_SET *set, const MILTER_MSG *msg,
		               const char *client_addr)
{
	VERP_KIND kind;
	TOKEN	t;

	/*
	 * Not the X-Postdrip-* headers alone: anyone on the Internet can
	 * write those. A return path with a valid token was signed here.
	 */
	if (msg->mail_from[0] == 0)
		return (NULL);
	if (verp_verify(&set->verp, set->tk, msg->mail_from, &kind, &t) == TOKENS_OK
	    && kind == VERP_BOUNCE_TX)
		return ("transactional");
	/* The policy daemon's decision: the same settings, the same rules. */
	if (stream_decide(set->stream, set->tk, msg->mail_from, msg->sasl_username,
			  client_addr, 0) == STREAM_MARKETING)
		return ("marketing");
	return (NULL);
}

/* milter_eom_refs_ours - does In-Reply-To/References name a sent message? */

int
milter_eom_refs_ours(MILTER_MSG *msg)
{
	const char *p = strbuf_str(&msg->refs), *gt;
	char	mid[MILTER_MSGID_MAX];
	STORE_SENT sent;
	STORE_TXN *txn;
	STORE  *st;
	int	found = 0, rc = STORE_NOTFOUND, n = 0;

	if ((st = milter_store()) == 0 || store_rbegin(st, &txn) != STORE_OK) {
		msg_warn("%s: store unavailable: cannot tell whether this answers our mail",
			 msg->queue_id[0] ? msg->queue_id : "NOQUEUE");
		return (0);
	}
	while (!found && n++ < CLASSIFY_MAX_REFS && (p = strchr(p, '<')) != 0) {
		if ((gt = strchr(++p, '>')) == 0)
			break;
		if ((size_t) (gt - p) < sizeof(mid)) {
			memcpy(mid, p, gt - p);
			mid[gt - p] = 0;
			rc = store_sent_by_msgid(txn, mid, &sent);
			found = (rc == STORE_OK);
		}
		p = gt + 1;
	}
	store_rend(txn);
	/* libmilter may end this thread before our close callback runs on
	 * it: do not leave it a cached read transaction to leak. */
	store_thread_end(st);
	return (found);
}

/* eom_rcpt_list - "to=<a>, <b>" for logging, bounded */

static void
eom_rcpt_list(const MILTER_MSG *msg, STRBUF *sb)
{
	size_t	i;

	for (i = 0; i < msg->nrcpt && strbuf_len(sb) < EOM_LOG_MAX; i++)
		strbuf_printf(sb, "%sto=<%s>", i ? " " : "", msg->rcpt[i].addr);
	if (msg->nrcpt > 1)
		strbuf_printf(sb, " nrcpt=%zu", msg->nrcpt + msg->rcpt_dropped);
}

/* eom_log - one decision line */

static void PD_PRINTF(5, 6)
eom_log(const char *qid, const MILTER_CONN *conn, const MILTER_MSG *msg,
	        const char *action, const char *fmt, ...)
{
	STRBUF	detail = STRBUF_INIT, to = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vprintf(&detail, fmt, ap);
	va_end(ap);
	eom_rcpt_list(msg, &to);
	msg_info("%s: %s: from %s[%s]: %s; from=<%s> %s", qid, action,
		 conn->client_name[0] && conn->client_name[0] != '[' ?
		 conn->client_name : "unknown",
		 conn->client_addr[0] ? conn->client_addr : "local",
		 strbuf_str(&detail), msg->mail_from, strbuf_str(&to));
	strbuf_free(&detail);
	strbuf_free(&to);
}

/* eom_token - a verified token from the envelope or the report */

static const MILTER_RCPT *
eom_token(const MILTER_SET *set, const MILTER_MSG *msg, const CLASSIFY_RESULT *cr,
	          const char *qid, SIG_MSG *m)
{
	const MILTER_RCPT *first = 0;
	VERP_KIND kind;
	size_t	i;
	int	rc;

	for (i = 0; i < msg->nrcpt; i++) {
		if (msg->rcpt[i].kind == VERP_NONE)
			continue;
		if (first == 0)
			first = msg->rcpt + i;
		if (msg->rcpt[i].kind == VERP_OTHER)
			continue;
		rc = signal_token_rcpt(m, &set->verp, set->tk, msg->rcpt[i].addr, &kind);
		if (rc == TOKENS_OK)
			return (msg->rcpt + i);
		msg_info("%s: refused token: %s address <%s>: %s", qid,
			 verp_kind_name(kind), msg->rcpt[i].addr,
			 rc == TOKENS_NOKEY ? "unknown key" : "bad or forged");
	}
	signal_token_report(m, &set->verp, set->tk, cr);
	return (first);
}

/* eom_log_outputs - one line per recorded event */

static void
eom_log_outputs(const char *qid, const MILTER_CONN *conn, const MILTER_MSG *msg,
		        const SIG_MSG *m)
{
	const SIG_OUT *o;
	size_t	i;

	for (i = 0; i < m->nout; i++) {
		o = m->out + i;
		eom_log(qid, conn, msg, o->event,
			"%s contact=<%s> tie=%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s",
			signal_kind_name(m->kind), o->address, o->tie,
			o->why ? " why=" : "", o->why ? o->why : "",
			o->row ? " status=" : "", o->row ? o->row->status : "",
			o->row && m->kind == SIG_BOUNCE ? " class=" : "",
			o->row && m->kind == SIG_BOUNCE ? classify_class_name(o->row->class) : "",
			o->row && m->kind == SIG_BOUNCE ? " reason=" : "",
			o->row && m->kind == SIG_BOUNCE ? o->row->reason : "",
			m->spf ? " spf=" : "", m->spf ? m->spf : "",
			o->suppressed ? " suppressed=" : "", o->suppressed ? o->suppressed : "",
			o->owner[0] ? " forward=" : "", o->owner);
	}
}

/* eom_forward - add the owners of genuine replies as recipients */

static int
eom_forward(SMFICTX *ctx, const char *qid, const SIG_MSG *m)
{
	char	rcpt[ADDR_MAX + 3];
	size_t	i;
	int	added = 0;

	for (i = 0; i < m->nout; i++) {
		if (m->out[i].owner[0] == 0)
			continue;
		snprintf(rcpt, sizeof(rcpt), "<%s>", m->out[i].owner);
		if (smfi_addrcpt(ctx, rcpt) != MI_SUCCESS)
			msg_warn("%s: cannot add recipient %s for the contact's owner", qid, rcpt);
		else
			added++;
	}
	return (added);
}

/* eom_signal - classify, tie and record a possible signal */

static sfsistat
eom_signal(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg, const char *qid)
{
	CLASSIFY_RESULT cr;
	SIG_MSG *m;
	const MILTER_RCPT *to;
	VERP_KIND to_kind;
	char	from[ADDR_MAX + 1];
	STORE  *st;
	int	is_signal, consumed, answers_ours, forwarded = 0;
	sfsistat rc = SMFIS_CONTINUE;
	size_t	i;

	(void) classify_message(strbuf_str(&msg->text), strbuf_len(&msg->text), &cr);
	m = mycalloc(1, sizeof(*m));
	to = eom_token(conn->set, msg, &cr, qid, m);
	to_kind = to ? to->kind : VERP_NONE;
	answers_ours = (msg->nbounce_domain == 0);
	is_signal = signal_kind_of(&cr, to_kind, answers_ours, &m->kind);
	consumed = msg->nbounce_domain > 0
		&& !(is_signal && m->kind == SIG_REPLY && to_kind == VERP_REPLY);

	if (!is_signal) {
		if (msg->nbounce_domain)
			eom_log(qid, conn, msg, "ignored", "%s mail to the bounce domain%s",
				classify_kind_name(cr.kind), consumed ? ", discarded" : "");
		goto answer;
	}
	if (msg->nbounce_domain == 0 && !m->have_token && cr.orig_message_id[0] == 0
	    && cr.nreferences == 0)
		goto answer;			/* names nothing of ours */

	m->queue_id = qid;
	m->cr = &cr;
	m->now = clock_now();
	m->params = &conn->set->params;
	m->strict = (msg->nbounce_domain == 0);
	m->from = cr.from[0] && addr_normalize(cr.from, from) ? from : "";
	/* signal_record() checks SPF for the From domain (aligned). */
	m->client_addr = conn->client_addr;
	m->helo = conn->helo;
	m->mail_from = msg->mail_from;
	if (conn->set->spf_check)
		m->spf_server = milter_global.spf;
	if ((st = milter_store()) == 0 && msg->nbounce_domain == 0) {
		/* Not ours for sure, and the mail itself goes on: do not hold it. */
		eom_log(qid, conn, msg, "skipped", "%s: the store is unavailable, not recorded",
			signal_kind_name(m->kind));
		goto done;
	}
	if (st == 0 || signal_record(st, m) != STORE_OK) {
		eom_log(qid, conn, msg, "tempfail", "%s: the store cannot record it now",
			signal_kind_name(m->kind));
		rc = SMFIS_TEMPFAIL;
		goto done;
	}
	if (m->nout == 0)
		eom_log(qid, conn, msg, "ignored", "%s not tied to a contact%s",
			signal_kind_name(m->kind), consumed ? ", discarded" : "");
	eom_log_outputs(qid, conn, msg, m);
	forwarded = eom_forward(ctx, qid, m);

answer:
	if (consumed) {
		/* Discard only when no recipient is left, an added owner included. */
		if (msg->rcpt_dropped == 0 && msg->nbounce_domain == msg->nrcpt && !forwarded) {
			rc = SMFIS_DISCARD;
		} else {
			for (i = 0; i < msg->nrcpt; i++)
				if (msg->rcpt[i].kind != VERP_NONE
				    && smfi_delrcpt(ctx, msg->rcpt[i].raw) != MI_SUCCESS)
					msg_warn("%s: cannot delete recipient %s", qid, msg->rcpt[i].raw);
		}
	}
done:
	classify_free(&cr);
	myfree(m);
	return (rc);
}

/* eom_new_msgid - a fresh Message-ID for a marketing message */

static int
eom_new_msgid(SMFICTX *ctx, const MILTER_SET *set, MILTER_MSG *msg, const char *qid,
	              int replace)
{
	const char *dom = set->verp.domain[0] ? set->verp.domain : "localhost";
	char	value[MILTER_MSGID_MAX + 2];
	unsigned long r = (unsigned long) random();
	int	rc;

	snprintf(msg->message_id, sizeof(msg->message_id), "%s.%lx.%lx@%.64s",
		 qid, (unsigned long) time(0), r, dom);
	snprintf(value, sizeof(value), "<%s>", msg->message_id);
	rc = replace ? smfi_chgheader(ctx, "Message-ID", 1, value) :
		smfi_addheader(ctx, "Message-ID", value);
	if (rc != MI_SUCCESS) {
		msg->message_id[0] = 0;
		return (-1);
	}
	return (0);
}

/* eom_sent_init - what signal_sent() needs */

static void
eom_sent_init(SENT_MSG *s, MILTER_CONN *conn, MILTER_MSG *msg, const char *qid,
	              const char *stream)
{
	VERP_KIND kind;

	memset(s, 0, sizeof(*s));
	s->queue_id = qid;
	s->message_id = msg->message_id;
	s->workflow = msg->workflow;
	s->step = msg->step;
	s->stream = stream;
	s->now = clock_now();
	s->rcpt = msg->nrcpt == 1 && msg->rcpt_dropped == 0 ? msg->rcpt[0].addr : 0;
	s->no_create = !conn->set->create_contacts;
	if (msg->mail_from[0] && conn->set->tk
	    && verp_verify(&conn->set->verp, conn->set->tk, msg->mail_from,
			   &kind, &s->token) == TOKENS_OK)
		s->have_token = 1;
}

/* eom_sent - record a marketing send, or drop a re-injected duplicate */

static sfsistat
eom_sent(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg, const char *qid,
	         const char *stream)
{
	SENT_MSG s;
	STORE  *st;
	STRBUF	done = STRBUF_INIT;
	char	orig[MILTER_MSGID_MAX];
	sfsistat rc = SMFIS_CONTINUE;

	orig[0] = 0;
	if (msg->message_id[0] == 0 && eom_new_msgid(ctx, conn->set, msg, qid, 0) < 0) {
		eom_log(qid, conn, msg, "skipped", "marketing message without Message-ID");
		return (SMFIS_CONTINUE);
	}
	eom_sent_init(&s, conn, msg, qid, stream);
	if ((st = milter_store()) == 0 || signal_sent(st, &s) != STORE_OK)
		goto tempfail;
	if (s.duplicate) {
		eom_log(qid, conn, msg, "discard", "duplicate message-id=<%s> already handed to Postfix as %s",
			msg->message_id, s.first_queue_id[0] ? s.first_queue_id : "?");
		return (SMFIS_DISCARD);
	}

	/*
	 * A sender that sends one message to several contacts, one
	 * transaction each (as postdrip-policyd asks with 452 4.5.3), gives
	 * each copy the same Message-ID. Each copy is a send to its own
	 * contact: it gets a Message-ID of its own, so that its bounces,
	 * replies and clicks are tied to that contact, not the first.
	 */
	if (s.reused && !s.have_token && s.rcpt) {
		snprintf(orig, sizeof(orig), "%s", msg->message_id);
		if (eom_new_msgid(ctx, conn->set, msg, qid, 1) < 0) {
			snprintf(msg->message_id, sizeof(msg->message_id), "%s", orig);
			orig[0] = 0;
		} else {
			eom_sent_init(&s, conn, msg, qid, stream);
			if (signal_sent(st, &s) != STORE_OK)
				goto tempfail;
		}
	}
	if (s.recorded || (s.have_token && !s.reused)
	    || (s.reused && !s.have_token && !s.rcpt))
		milter_out_apply(ctx, conn, msg, qid, s.contact, s.msgno, s.have_token, &done);
	eom_log(qid, conn, msg, "sent", "message-id=<%s> msgno=%llu contact=%llu address=<%s>"
		"%s stream=%s%s%s%s%s%s%s%s%s",
		msg->message_id, (unsigned long long) s.msgno,
		(unsigned long long) s.contact, s.contact && s.rcpt ? s.rcpt : "",
		s.recorded ? " recorded" :
		s.reused ? " reused" : " known", stream,
		msg->workflow[0] ? " workflow=" : "", msg->workflow,
		msg->step[0] ? " step=" : "", msg->step,
		orig[0] ? " replaces=<" : "", orig, orig[0] ? ">" : "", strbuf_str(&done));
	strbuf_free(&done);
	return (rc);

tempfail:
	eom_log(qid, conn, msg, "tempfail", "send message-id=<%s>: the store cannot record it now",
		msg->message_id);
	return (SMFIS_TEMPFAIL);
}

/* milter_eom - the decision */

sfsistat
milter_eom(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg)
{
	const char *qid = milter_queue_id(ctx, msg);
	const char *stream;

	if (msg->header_over || msg->body_over)
		msg_info("%s: message larger than the milter limits: examined %zu header and %zu body bytes",
			 qid, msg->header_bytes, msg->body_bytes);
	if (msg->nbounce_domain)
		return (eom_signal(ctx, conn, msg, qid));
	if ((stream = msg->stream) != 0)
		return (eom_sent(ctx, conn, msg, qid, stream));
	if (msg->need_body)
		return (eom_signal(ctx, conn, msg, qid));
	return (SMFIS_CONTINUE);
}
