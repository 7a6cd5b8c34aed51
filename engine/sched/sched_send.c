/*++
/* NAME
/*	sched_send 3
/* SUMMARY
/*	send and notify steps: composing, recording, injecting
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	int	sched_step_send(s, txn, e, wf, st, contact)
/*
/*	int	sched_step_notify(s, txn, e, wf, st, contact)
/*
/*	void	sched_queue_parked(s, txn, e)
/*
/*	int	sched_inject_round(s)
/*
/*	time_t	sched_caps_next(s, txn, contact, now)
/* DESCRIPTION
/*	sched_step_send() runs a send step. For the marketing stream a
/*	suppressed address ends the enrolment. Outside the workflow's send
/*	window the step waits for the next allowed time in the contact's
/*	zone. Over a frequency cap or a domain rate (the policy daemon's
/*	rules, caps(3): its counters, and frequency_caps counted over the
/*	contact's "sent" events of the marketing stream) it waits until there
/*	is room, rather than being deferred by Postfix.
/*	Then it composes the message (compose_message(), template from
/*	template_directory) with
/* .IP \(bu
/*	the Message-ID <e.ENROL.N.HMAC@message_id_domain>: N counts the
/*	steps the enrolment began, the HMAC is a signed token over
/*	(contact, enrolment, N); the same step of the same enrolment always
/*	has the same Message-ID, which is what lets the milter drop a
/*	message that is injected again after a crash;
/* .IP \(bu
/*	the envelope sender verp_prefix+TOKEN@bounce_domain, TOKEN a
/*	signed TOKEN_VERP of (contact, message number), so that a bounce is
/*	tied to the exact message;
/* .IP \(bu
/*	List-Unsubscribe: tracker_url/u/TOKEN and
/*	mailto:unsubscribe+TOKEN@bounce_domain (TOKEN_UNSUB), with
/*	List-Unsubscribe-Post (compose(3)).
/* .PP
/*	The send is then recorded, in one transaction: the sent record
/*	(store_sent_put), the "sent" event, the message parked in the
/*	outbox, the enrolment in its inject phase. sched_inject_round()
/*	waits until those commits are durable (store_flush) and only then
/*	injects, all parked messages of the round in one batch over the
/*	injector's parallel connections, and records each outcome: accepted
/*	(the enrolment goes on), a 4xx or no answer (retried after
/*	engine_retry_backoff, the same bytes, until engine_retry_limit has
/*	passed since the first try: then "send_failed" and on), a 5xx
/*	("send_refused" on the enrolment's contact, and on).
/*
/*	sched_queue_parked() picks up a message that was parked by an
/*	earlier run (a retry, or a crash between recording and injecting).
/*
/*	sched_step_notify() sends an internal message about the contact to
/*	its owner (field "owner") or to a fixed address, through the same
/*	outbox and injector: the template when the step names one, else a
/*	plain list of the contact's details and what triggered it.
/* BUGS
/*	Message numbers are reserved in blocks (at most 64, at most the
/*	jobs left in the round); numbers reserved by an engine that stops
/*	are never used (gaps, no harm).
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sched/sched_int.h"
#include "message/compose.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/clock.h"
#include "util/addr.h"
#include "token/verp.h"

typedef struct RESERVE {
	uint64_t *ids;
	int	n;
} RESERVE;

/* reserve_write - a block of message numbers from the "sent" sequence */

static int
reserve_write(STORE_TXN *txn, void *ctx)
{
	RESERVE *r = ctx;
	int	i;

	for (i = 0; i < r->n; i++)
		r->ids[i] = store_next_id(txn, "sent");
	return (STORE_OK);
}

/* send_msgno - the next reserved message number; 0 on store trouble */

static uint64_t
send_msgno(SCHED *s)
{
	RESERVE r;

	if (s->nmsgno == 0) {
		/* As many as this round may send, so that few go unused. */
		r.ids = s->msgno_pool;
		r.n = (int) (sizeof(s->msgno_pool) / sizeof(s->msgno_pool[0]));
		if (s->reserve_hint > 0 && s->reserve_hint < (size_t) r.n)
			r.n = (int) s->reserve_hint;
		if (store_write(s->st, reserve_write, &r) != STORE_OK)
			return (0);
		/* Hand them out in increasing order. */
		for (s->nmsgno = 0; s->nmsgno < r.n / 2; s->nmsgno++) {
			uint64_t t = r.ids[s->nmsgno];

			r.ids[s->nmsgno] = r.ids[r.n - 1 - s->nmsgno];
			r.ids[r.n - 1 - s->nmsgno] = t;
		}
		s->nmsgno = r.n;
	}
	if (s->reserve_hint > 0)
		s->reserve_hint--;
	return (s->msgno_pool[--s->nmsgno]);
}

/* send_message_id - the deterministic Message-ID of a step */

static void
send_message_id(SCHED *s, const SCHED_ENROL *e, char prefix, char *buf, size_t len)
{
	TOKEN	t;
	char	tok[TOKEN_TEXT_MAX];

	t.kind = TOKEN_API;
	t.contact = e->contact;
	t.message = e->id;
	t.aux = e->nsteps;
	tokens_sign(s->tk, &t, &prefix, 1, tok);
	snprintf(buf, len, "%c%llu.%u.%s@%s", prefix, (unsigned long long) e->id,
		 e->nsteps, tok, config_str(s->cf, "message_id_domain"));
}

/* send_token - a signed token of kind for (contact, msgno) */

static char *
send_token(SCHED *s, TOKEN_KIND kind, uint64_t contact, uint64_t msgno, char *buf)
{
	TOKEN	t;

	t.kind = kind;
	t.contact = contact;
	t.message = msgno;
	t.aux = 0;
	return (tokens_sign(s->tk, &t, 0, 0, buf));
}

/* send_reply_routed - does this stream carry Reply-To: reply+TOKEN? */

static int
send_reply_routed(SCHED *s, const char *stream)
{
	char  **p;

	for (p = config_list(s->cf, "reply_routing_streams"); p && *p; p++)
		if (strcasecmp(*p, stream) == 0)
			return (1);
	return (0);
}

typedef struct CLICKS {
	json_t *clicked;
	time_t	since;
} CLICKS;

/* send_clicks - links the contact clicked: {"name": true} */

static int
send_clicks(const STORE_EVENT *ev, void *ctx)
{
	CLICKS *c = ctx;
	const char *link;
	char	key[128];
	size_t	i;

	/*
	 * Conditions and triggers compare link names without regard to case;
	 * a template looks its key up exactly. Lower-casing the key here keeps
	 * "clicked: Pricing" and {{#clicked.pricing}} in agreement. A longer
	 * name than any template could usefully write is left out.
	 */
	if (strcmp(ev->type, "clicked") == 0 && ev->data
	    && !json_is_true(json_object_get(ev->data, "machine"))
	    && (link = json_string_value(json_object_get(ev->data, "link"))) != 0
	    && strlen(link) < sizeof(key)) {
		for (i = 0; link[i]; i++)
			key[i] = tolower((unsigned char) link[i]);
		key[i] = 0;
		json_object_set_new(c->clicked, key, json_true());
	}
	return (0);
}

/* send_owner_name - {{owner.name}}: a rep's contact record has first and
 * last names like any contact; templates greet them by "name" */

static void
send_owner_name(json_t *owner)
{
	const char *first = json_string_value(json_object_get(owner, "first_name"));
	const char *last = json_string_value(json_object_get(owner, "last_name"));
	const char *name = json_string_value(json_object_get(owner, "name"));
	STRBUF	sb = STRBUF_INIT;

	if (name && *name)
		return;
	if (first && *first)
		strbuf_puts(&sb, first);
	if (last && *last) {
		if (strbuf_len(&sb))
			strbuf_putc(&sb, ' ');
		strbuf_puts(&sb, last);
	}
	if (strbuf_len(&sb))
		json_object_set_new(owner, "name", json_string(strbuf_str(&sb)));
	strbuf_free(&sb);
}

/* sched_context - what a template sees */

json_t *
sched_context(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, const WF_STEP *st,
	             json_t *rec)
{
	json_t *ctx = json_object(), *contact, *owner = 0, *tags, *v, *orec;
	json_t *fields = json_object_get(rec, "fields");
	const char *oaddr;
	STORE_EVENT ev;
	CLICKS	c;
	size_t	i;

	contact = json_is_object(fields) ? json_deep_copy(fields) : json_object();
	json_object_set(contact, "email", json_object_get(rec, "email"));
	json_object_set(contact, "id", json_object_get(rec, "id"));
	if ((v = json_object_get(rec, "score")) != 0)
		json_object_set(contact, "score", v);
	json_object_set_new(ctx, "contact", contact);

	/* The owner (sales rep) is a contact too when known: name, signature. */
	if ((oaddr = json_string_value(json_object_get(fields, "owner"))) != 0) {
		if (store_contact_get_by_addr(txn, oaddr, &orec) == STORE_OK) {
			json_t *of = json_object_get(orec, "fields");

			owner = json_is_object(of) ? json_deep_copy(of) : json_object();
			json_object_set(owner, "email", json_object_get(orec, "email"));
			send_owner_name(owner);
			json_decref(orec);
		} else
			owner = json_pack("{s:s}", "email", oaddr);
		json_object_set_new(ctx, "owner", owner);
	}
	tags = json_object();
	json_array_foreach(json_object_get(rec, "tags"), i, v)
		if (json_is_string(v))
		json_object_set_new(tags, json_string_value(v), json_true());
	json_object_set_new(ctx, "tags", tags);
	c.clicked = json_object();
	c.since = 0;
	(void) store_timeline_walk(txn, e->contact, send_clicks, &c);
	json_object_set_new(ctx, "clicked", c.clicked);
	if (e->trigger_seq && store_event_get(txn, e->trigger_seq, &ev) == STORE_OK) {
		json_t *evj = ev.data ? json_deep_copy(ev.data) : json_object();

		json_object_set_new(evj, "type", json_string(ev.type));
		json_object_set_new(ctx, "event", evj);
		store_event_free(&ev);
	}
	json_object_set_new(ctx, "workflow", json_string(e->workflow));
	json_object_set_new(ctx, "step", json_string(st->id));
	return (ctx);
}

/* pend_push - keep a message for this round's injection */

static SCHED_PEND *
pend_push(SCHED *s)
{
	SCHED_PEND *p = mycalloc(1, sizeof(*p));

	p->s = s;
	if (s->npend == s->apend) {
		s->apend = s->apend ? 2 * s->apend : 64;
		s->pend = myrealloc(s->pend, s->apend * sizeof(*s->pend));
	}
	s->pend[s->npend++] = p;
	return (p);
}

/* pend_free - one pending message */

static void
pend_free(SCHED_PEND *p)
{
	sched_out_free(&p->out);
	myfree(p);
}

/*
 * send_commit_inject - commit a composed message (p->out) with the step's
 * transition, the enrolment waiting in the inject phase; the injector takes
 * p once the commit is durable.
 */
static int
send_commit_inject(SCHED *s, SCHED_TR *tr, SCHED_ENROL *e, SCHED_PEND *p)
{
	tr->out_put = &p->out;
	tr->committed = &p->committed;
	tr->after.phase = SCHED_PH_INJECT;
	tr->after.attempts = 0;
	tr->after.wait_since = s->now;
	tr->due = s->now;
	(void) sched_commit(tr, e);
	p->e = *e;
	return (0);
}

/* send_later - the step waits until t (window, cap, retry) */

static int
send_later(SCHED *s, SCHED_ENROL *e, time_t t, uint32_t attempts,
	           const char *addr, const char *to, const char *why, long off)
{
	SCHED_TR tr;
	char	until[CLOCK_ISO_OFF_LEN];

	sched_tr_init(&tr, s, e);
	if (why)
		sched_tr_log(&tr, 0, "delayed: contact=%llu address=<%s> to=<%s> workflow=%s step=%s "
			     "enrolment=%llu reason=%s until=%s",
			     (unsigned long long) e->contact, addr, to, e->workflow, e->step,
			     (unsigned long long) e->id, why, clock_format_offset(t, off, until));
	tr.after.attempts = attempts;
	tr.due = t;
	(void) sched_commit(&tr, e);
	return (0);
}

typedef struct SENDS {
	time_t	since;
	time_t *t;
	size_t	n, a;
} SENDS;

/* caps_walk_add - one marketing send at time t */

static int
caps_walk_add(SENDS *c, time_t t)
{
	if (c->n == c->a) {
		c->a = c->a ? 2 * c->a : 16;
		c->t = myrealloc(c->t, c->a * sizeof(*c->t));
	}
	c->t[c->n++] = t;
	return (0);
}

/* caps_walk - collect the marketing sends of a contact */

static int
caps_walk(const STORE_EVENT *ev, void *ctx)
{
	SENDS  *c = ctx;
	const char *stream;

	if (ev->time <= c->since || strcmp(ev->type, "sent") != 0)
		return (0);
	stream = ev->data ? json_string_value(json_object_get(ev->data, "stream")) : 0;
	if (stream && strcmp(stream, "marketing") != 0)
		return (0);
	return (caps_walk_add(c, ev->time));
}

/* sched_caps_next - when one more marketing send fits every cap */

time_t
sched_caps_next(SCHED *s, STORE_TXN *txn, uint64_t contact, const char *addr,
		        time_t now)
{
	SENDS	c;
	CAPS_RESULT res;
	char   *sender;
	long	longest = 0;
	time_t	next = now, t;
	size_t	in;
	int	i, rc;

	/*
	 * The policy daemon's counters see all marketing mail to the address,
	 * from any sender; the contact's "sent" events see the engine's own
	 * sends even when no policy daemon counts them. Both are looked at:
	 * the same sends in two views, never added up.
	 */
	if (s->caps && !caps_empty(s->caps)) {
		sender = myasprintf("%s@%s", config_str(s->cf, "verp_prefix"),
				    config_str(s->cf, "bounce_domain"));
		memset(&res, 0, sizeof(res));
		rc = caps_check(txn, s->caps, addr, "marketing", sender, now, &res);
		myfree(sender);
		if (rc == CAPS_OVER)
			next = now + (res.retry > 60 ? res.retry : 60);
		else if (rc != STORE_OK)
			return (now + 60);		/* cannot tell: look again soon */
	}
	if (s->ncaps == 0)
		return (next);
	for (i = 0; i < s->ncaps; i++)
		if (s->caps_period[i] > longest)
			longest = s->caps_period[i];
	memset(&c, 0, sizeof(c));
	c.since = now - longest;
	if (store_timeline_walk(txn, contact, caps_walk, &c) != STORE_OK) {
		myfree(c.t);
		return (now + 60);		/* cannot tell: look again soon */
	}
	/* Sends of this round are not committed yet: they count too. */
	for (in = 0; in < s->npend; in++)
		if (s->pend[in]->e.contact == contact && s->pend[in]->out.kind == SCHED_OUT_SEND)
			(void) caps_walk_add(&c, now);
	/* c.t is in time order (the timeline is, and now comes last). */
	for (i = 0; i < s->ncaps; i++) {
		size_t	first;

		for (first = 0; first < c.n && c.t[first] <= now - s->caps_period[i]; first++)
			 /* skip those outside this period */ ;
		in = c.n - first;
		if (in >= (size_t) s->caps_n[i]) {
			t = c.t[first + in - s->caps_n[i]] + s->caps_period[i] + 1;
			if (t > next)
				next = t;
		}
	}
	myfree(c.t);
	return (next);
}

/* sched_step_send - a send step up to parking the composed message */

int
sched_step_send(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e, const WORKFLOW *wf,
		        const WF_STEP *st, json_t *rec)
{
	const char *addr = json_string_value(json_object_get(rec, "email"));
	const char *tzname;
	int	marketing = wf->stream == WF_STREAM_MARKETING;
	char	msgid[256], verp[TOKEN_TEXT_MAX], unsub[TOKEN_TEXT_MAX];
	char	reply[TOKEN_TEXT_MAX], reply_addr[ADDR_MAX + 1], reply_orig[ADDR_MAX + 1];
	char   *url, *mailto, *sender, *err = 0;
	char	addrbuf[ADDR_MAX + 1];
	json_t *sent_data;
	VERP	vp;
	STORE_SUPPRESSION sup;
	COMPOSE_IN in;
	STRBUF	out = STRBUF_INIT;
	SCHED_PEND *p;
	SCHED_TR tr;
	json_t *ctx;
	uint64_t msgno;
	time_t	t;
	int	rc;

	if (addr == 0) {
		sched_tr_init(&tr, s, e);
		sched_end(s, &tr, SCHED_EXITED, "no_address");
		return (sched_commit(&tr, e));
	}
	if (marketing && (rc = store_suppress_get(txn, addr, &sup)) == STORE_OK) {
		sched_tr_init(&tr, s, e);
		sched_tr_log(&tr, 0, "exited: contact=%llu address=<%s> workflow=%s enrolment=%llu "
			     "reason=suppressed (%s)", (unsigned long long) e->contact, addr,
			     wf->name, (unsigned long long) e->id, sup.reason);
		sched_end(s, &tr, SCHED_EXITED, "suppressed");
		return (sched_commit(&tr, e));
	}
	/* A double opt-in not yet confirmed is no consent to marketing. */
	if (marketing && json_is_string(json_object_get(rec, "optin"))
	    && strcmp(json_string_value(json_object_get(rec, "optin")), "pending") == 0) {
		sched_tr_init(&tr, s, e);
		sched_tr_log(&tr, 0, "exited: contact=%llu address=<%s> workflow=%s enrolment=%llu "
			     "reason=unconfirmed", (unsigned long long) e->contact, addr,
			     wf->name, (unsigned long long) e->id);
		sched_end(s, &tr, SCHED_EXITED, "unconfirmed");
		return (sched_commit(&tr, e));
	}
	/* Times in the log are the contact's wall clock, as the window is. */
	tzname = workflow_contact_tz(wf, rec);
	t = workflow_send_window(wf, tzname, s->now);
	if (t > s->now) {
		return (send_later(s, e, t, e->attempts, addr, addr, "send window",
				   workflow_zone_offset(wf, tzname, t)));
	}
	if (marketing && (t = sched_caps_next(s, txn, e->contact, addr, s->now)) > s->now) {
		return (send_later(s, e, t, e->attempts, addr, addr, "frequency cap",
				   workflow_zone_offset(wf, tzname, t)));
	}
	if ((msgno = send_msgno(s)) == 0)
		return (send_later(s, e, s->now + 60, e->attempts, addr, addr, 0, 0));

	send_message_id(s, e, 'e', msgid, sizeof(msgid));
	send_token(s, TOKEN_VERP, e->contact, msgno, verp);
	send_token(s, TOKEN_UNSUB, e->contact, msgno, unsub);
	/*
	 * The return path tells the policy daemon the stream: marketing mail
	 * goes out from verp_prefix+TOKEN, transactional workflow mail from
	 * verp_transactional_prefix+TOKEN (suppression and caps do not apply).
	 */
	verp_from_config(&vp, s->cf);
	sender = mystrdup(verp_format(&vp, marketing ? VERP_BOUNCE : VERP_BOUNCE_TX,
				      verp, addrbuf) ?: "");
	url = myasprintf("%s/u/%s", config_str(s->cf, "tracker_url"), unsub);
	mailto = mystrdup(verp_format(&vp, VERP_UNSUBSCRIBE, unsub, addrbuf) ?: "");
	ctx = sched_context(s, txn, e, st, rec);
	memset(&in, 0, sizeof(in));
	in.template_dir = config_str(s->cf, "template_directory");
	in.template = st->template;
	in.context = ctx;
	in.message_id = msgid;
	in.from_default = config_str(s->cf, "engine_from_address");
	in.to = addr;
	in.list_unsubscribe_url = url;
	in.list_unsubscribe_mailto = *mailto ? mailto : 0;
	in.workflow = wf->name;
	in.step = st->id;
	in.stream = workflow_stream_name(wf->stream);
	in.date = s->now;
	reply_orig[0] = 0;
	if (send_reply_routed(s, in.stream)) {
		send_token(s, TOKEN_REPLY, e->contact, msgno, reply);
		if (verp_format(&vp, VERP_REPLY, reply, reply_addr)) {
			in.reply_address = reply_addr;
			in.reply_original = reply_orig;
		}
	}
	rc = compose_message(&in, &out, &err);
	json_decref(ctx);
	myfree(url);
	myfree(mailto);
	if (rc < 0) {
		/* A template problem is ours to fix: retry, never skip silently. */
		sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: cannot compose "
			  "template %s: %s; retrying", (unsigned long long) e->id,
			  wf->name, st->id, st->template, err ? err : "?");
		myfree(err);
		myfree(sender);
		strbuf_free(&out);
		return (send_later(s, e, s->now + sched_backoff(s, e->attempts + 1),
				   e->attempts + 1, addr, addr, 0, 0));
	}
	p = pend_push(s);
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->out.kind = SCHED_OUT_SEND;
	p->out.sender = sender;
	p->out.rcpt = mystrdup(addr);
	p->out.message_id = mystrdup(msgid);
	p->out.len = strbuf_len(&out);
	p->out.data = strbuf_steal(&out);

	sched_tr_init(&tr, s, e);
	tr.has_sent = 1;
	tr.sent.msgno = msgno;
	snprintf(tr.sent.message_id, sizeof(tr.sent.message_id), "%s", msgid);
	tr.sent.contact = e->contact;
	tr.sent.enrolment = e->id;
	snprintf(tr.sent.workflow, sizeof(tr.sent.workflow), "%s", wf->name);
	snprintf(tr.sent.step, sizeof(tr.sent.step), "%s", st->id);
	snprintf(tr.sent.stream, sizeof(tr.sent.stream), "%s", workflow_stream_name(wf->stream));
	tr.sent.time = s->now;
	sent_data = json_pack("{s:s, s:s, s:s, s:s, s:I}",
			      "workflow", wf->name, "step", st->id,
			      "message_id", msgid,
			      "stream", workflow_stream_name(wf->stream),
			      "msgno", (json_int_t) msgno);
	/* The A/B arm this send belongs to, for the report. */
	if (st->arm)
		json_object_set_new(sent_data, "arm", json_string(st->arm));
	/* Where a reply to reply+TOKEN@ is forwarded without an owner. */
	if (reply_orig[0])
		json_object_set_new(sent_data, "reply_to", json_string(reply_orig));
	sched_tr_event(&tr, "sent", sent_data);
	return (send_commit_inject(s, &tr, e, p));
}

/* notify_text - a plain message about the contact for its owner */

static void
notify_text(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, const WORKFLOW *wf,
	            const WF_STEP *st, json_t *rec, const char *to, const char *msgid,
	            STRBUF *out)
{
	const char *addr = json_string_value(json_object_get(rec, "email"));
	const char *key;
	char	date[64], when[CLOCK_ISO_LEN];
	struct tm tm;
	STORE_EVENT ev;
	json_t *v;
	size_t	i;
	int	first = 1;

	gmtime_r(&s->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strbuf_printf(out, "From: postdrip <%s>\n", config_str(s->cf, "engine_from_address"));
	strbuf_printf(out, "To: <%s>\n", to);
	strbuf_printf(out, "Subject: [postdrip] %s: %s\n", wf->name, addr ? addr : "?");
	strbuf_printf(out, "Date: %s\nMessage-ID: <%s>\n", date, msgid);
	strbuf_printf(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
		      "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n"
		      "%s: %s\n%s: %s\n\n", COMPOSE_HDR_WORKFLOW, wf->name,
		      COMPOSE_HDR_STEP, st->id);
	strbuf_printf(out, "Workflow %s, step %s.\n\nContact: %s\nScore: %lld\nTags:",
		      wf->name, st->id, addr ? addr : "?",
		      (long long) json_integer_value(json_object_get(rec, "score")));
	json_array_foreach(json_object_get(rec, "tags"), i, v)
		if (json_is_string(v))
		strbuf_printf(out, "%s %.100s", first ? "" : ",", json_string_value(v)), first = 0;
	strbuf_puts(out, "\nFields:\n");
	json_object_foreach(json_object_get(rec, "fields"), key, v) {
		char   *text = json_is_string(v) ? mystrdup(json_string_value(v))
		: json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char   *p;

		/* A field never makes a line of its own, nor a very long one. */
		for (p = text; p && *p; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		strbuf_printf(out, "  %.64s: %.200s\n", key, text ? text : "");
		free(text);
	}
	if (e->trigger_seq && store_event_get(txn, e->trigger_seq, &ev) == STORE_OK) {
		char   *text = ev.data ? json_dumps(ev.data, JSON_COMPACT) : 0;

		strbuf_printf(out, "\nTriggered by: %s at %s %.300s\n", ev.type,
			      clock_format(ev.time, when), text ? text : "");
		free(text);
		store_event_free(&ev);
	}
}

/* sched_step_notify - an internal message about the contact */

int
sched_step_notify(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e, const WORKFLOW *wf,
		          const WF_STEP *st, json_t *rec)
{
	const char *owner = json_string_value(json_object_get(json_object_get(rec, "fields"),
							      "owner"));
	char	to[ADDR_MAX + 1], msgid[256];
	char   *err = 0;
	STRBUF	out = STRBUF_INIT;
	SCHED_PEND *p;
	SCHED_TR tr;
	COMPOSE_IN in;
	json_t *ctx;

	if (!(st->to_owner && owner && addr_normalize(owner, to))
	    && !(st->to && addr_normalize(st->to, to))) {
		sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: no owner and no address "
			  "to notify; step skipped", (unsigned long long) e->id, wf->name, st->id);
		sched_tr_init(&tr, s, e);
		sched_tr_event(&tr, "notify_skipped", json_pack("{s:s, s:s}", "workflow",
							   wf->name, "step", st->id));
		sched_goto(s, &tr, wf, st->next);
		return (sched_commit(&tr, e));
	}
	send_message_id(s, e, 'n', msgid, sizeof(msgid));
	if (st->template) {
		ctx = sched_context(s, txn, e, st, rec);
		memset(&in, 0, sizeof(in));
		in.template_dir = config_str(s->cf, "template_directory");
		in.template = st->template;
		in.context = ctx;
		in.message_id = msgid;
		in.from_default = config_str(s->cf, "engine_from_address");
		in.to = to;
		in.workflow = wf->name;
		in.step = st->id;
		in.stream = COMPOSE_STREAM_TRANSACTIONAL;
		in.date = s->now;
		if (compose_message(&in, &out, &err) < 0) {
			sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: cannot compose "
				  "template %s: %s; retrying", (unsigned long long) e->id,
				  wf->name, st->id, st->template, err ? err : "?");
			myfree(err);
			json_decref(ctx);
			strbuf_free(&out);
			return (send_later(s, e, s->now + sched_backoff(s, e->attempts + 1),
					   e->attempts + 1, "", to, 0, 0));
		}
		json_decref(ctx);
	} else
		notify_text(s, txn, e, wf, st, rec, to, msgid, &out);

	p = pend_push(s);
	(void) sched_addr(0, e->contact, rec, p->addr);
	p->out.kind = SCHED_OUT_NOTIFY;
	p->out.sender = mystrdup(config_str(s->cf, "engine_from_address"));
	p->out.rcpt = mystrdup(to);
	p->out.message_id = mystrdup(msgid);
	p->out.len = strbuf_len(&out);
	p->out.data = strbuf_steal(&out);
	sched_tr_init(&tr, s, e);
	return (send_commit_inject(s, &tr, e, p));
}

/* sched_queue_parked - a message parked by an earlier run */

void
sched_queue_parked(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e)
{
	const WORKFLOW *wf = workflow_find(s->wfs, e->workflow);
	SCHED_PEND *p;
	SCHED_OUT out;
	SCHED_TR tr;
	int	idx;

	if (sched_out_get(txn, e->id, &out) != STORE_OK) {
		/* Should not happen: the phase and the message go together. */
		sched_log(s, 1, "enrolment=%llu workflow=%s step=%s: parked message missing; "
			  "going on", (unsigned long long) e->id, e->workflow, e->step);
		sched_tr_init(&tr, s, e);
		idx = wf ? workflow_step_find(wf, e->step) : -1;
		if (idx >= 0)
			sched_goto(s, &tr, wf, wf->steps[idx].next);
		else
			sched_end(s, &tr, SCHED_EXITED, "step_removed");
		(void) sched_commit(&tr, 0);
		return;
	}
	p = pend_push(s);
	if (out.kind == SCHED_OUT_SEND)
		snprintf(p->addr, sizeof(p->addr), "%s", out.rcpt);
	else
		(void) sched_addr(txn, e->contact, 0, p->addr);
	p->out = out;
	p->e = *e;
	p->committed = 1;
}

/*
 * send_bounce - a 5xx at injection is a bounce of the message, judged as
 * a DSN would be (classify_reply()) and recorded by the bounce rules
 * (signal_apply(): a hard one suppresses, soft ones count) in the same
 * transaction as the outcome. Returns the event data for the exit rules.
 */
static json_t *
send_bounce(SCHED *s, SCHED_PEND *p, SCHED_TR *tr)
{
	SCHED_BOUNCE *b = mycalloc(1, sizeof(*b));

	snprintf(b->message_id, sizeof(b->message_id), "%s", p->out.message_id);
	snprintf(b->rcpt, sizeof(b->rcpt), "%s", p->out.rcpt);
	classify_reply(p->msg.reply, p->msg.command, p->out.rcpt, &b->row);
	b->cr.kind = CLASSIFY_BOUNCE;
	b->cr.rcpt = &b->row;
	b->cr.nrcpt = 1;
	snprintf(b->cr.orig_message_id, sizeof(b->cr.orig_message_id), "%s",
		 p->out.message_id);
	b->params = s->sig;
	b->m.kind = SIG_BOUNCE;
	b->m.queue_id = "injection";
	b->m.cr = &b->cr;
	b->m.have_token = 1;
	b->m.token.kind = TOKEN_VERP;
	b->m.token.contact = p->e.contact;
	b->m.from = "";
	b->m.strict = 1;			/* this message only */
	b->m.now = s->now;
	b->m.params = &b->params;
	tr->bounce = b;
	return (json_pack("{s:s, s:s, s:s, s:s}", "class",
			  classify_class_name(b->row.class), "reason", b->row.reason,
			  "status", b->row.status, "recipient", b->rcpt));
}

#define SEND_QID_MAX	64		/* Postfix's long ids are 12 to 17 */

/*
 * send_queue_id - Postfix's queue id from "250 2.0.0 Ok: queued as ID", so
 * that the engine's line starts as Postfix's own lines about the message
 * do; "NOQUEUE" (Postfix's word) when the reply names none.
 */
static const char *
send_queue_id(const char *reply, char *buf)
{
	const char *p = strstr(reply, "queued as ");
	size_t	n = 0;

	if (p != 0)
		for (p += 10; n < SEND_QID_MAX && isalnum((unsigned char) p[n]); n++)
			 /* void */ ;
	if (n == 0)
		return ("NOQUEUE");
	memcpy(buf, p, n);
	buf[n] = 0;
	return (buf);
}

/* send_outcome - record what the MTA said about one message (the
 * injector's threads call this: it only reads the SCHED, and queues) */

static void
send_outcome(SCHED *s, SCHED_PEND *p)
{
	const WORKFLOW *wf = workflow_find(s->wfs, p->e.workflow);
	int	idx = wf ? workflow_step_find(wf, p->e.step) : -1;
	int	notify = p->out.kind == SCHED_OUT_NOTIFY;
	const char *what;
	json_t *bounce = 0;
	SCHED_TR tr;
	char	qid[SEND_QID_MAX + 1];

	sched_tr_init(&tr, s, &p->e);
	switch (p->msg.status) {
	case INJECT_OK:
		what = "sent";
		tr.out_del = 1;
		if (notify)
			sched_tr_event(&tr, "notified", json_pack("{s:s, s:s, s:s}",
					    "to", p->out.rcpt, "workflow", p->e.workflow,
							  "step", p->e.step));
		if (s->stats)
			__atomic_fetch_add(&s->stats->sent, 1, __ATOMIC_RELAXED);
		tr.counter = SCHED_COUNT_SENT;
		break;
	case INJECT_REJECT:
		what = "refused";
		tr.out_del = 1;
		tr.counter = SCHED_COUNT_REFUSED;
		if (!notify)
			bounce = send_bounce(s, p, &tr);
		sched_tr_event(&tr, notify ? "notify_refused" : "send_refused",
			       json_pack("{s:s, s:s, s:s, s:s}", "workflow", p->e.workflow,
					 "step", p->e.step, "message_id", p->out.message_id,
					 "reply", p->msg.reply));
		if (s->stats)
			__atomic_fetch_add(&s->stats->refused, 1, __ATOMIC_RELAXED);
		break;
	default:
		if (s->stats)
			__atomic_fetch_add(&s->stats->deferred, 1, __ATOMIC_RELAXED);
		if (s->now - p->e.wait_since < s->retry_limit && wf && idx >= 0) {
			what = "deferred";
			tr.counter = SCHED_COUNT_DEFERRED;
			tr.after.attempts++;
			tr.due = s->now + sched_backoff(s, tr.after.attempts);
			sched_tr_event(&tr, "send_deferred",
				 json_pack("{s:s, s:s, s:s, s:s, s:i}", "workflow", p->e.workflow,
				      "step", p->e.step, "message_id", p->out.message_id,
					   "reply", p->msg.reply, "attempt", tr.after.attempts));
			break;
		}
		what = "failed";
		tr.out_del = 1;
		tr.counter = SCHED_COUNT_FAILED;
		sched_tr_event(&tr, "send_failed", json_pack("{s:s, s:s, s:s, s:s}",
			      "workflow", p->e.workflow, "step", p->e.step,
				       "message_id", p->out.message_id, "reply", p->msg.reply));
		break;
	}
	sched_log(s, 0, "%s: %s: contact=%llu address=<%s> to=<%s> from=<%s> message-id=<%s> "
		  "workflow=%s step=%s enrolment=%llu reply=%s",
		  send_queue_id(p->msg.status == INJECT_OK ? p->msg.reply : "", qid), what,
		  (unsigned long long) p->e.contact, p->addr, p->out.rcpt, p->out.sender,
		  p->out.message_id, p->e.workflow, p->e.step,
		  (unsigned long long) p->e.id, p->msg.reply);
	if (tr.out_del) {
		if (bounce && wf && workflow_exit_match(wf, "bounced", bounce)) {
			/* The hard-bounce exit rule, at once: no later step runs. */
			sched_end(s, &tr, SCHED_EXITED, "bounced");
			sched_tr_log(&tr, 0, "exited: contact=%llu address=<%s> to=<%s> workflow=%s "
				     "enrolment=%llu reason=bounced (%s %s)",
				     (unsigned long long) p->e.contact, p->addr, p->out.rcpt,
				     p->e.workflow, (unsigned long long) p->e.id,
				     tr.bounce->row.status, tr.bounce->row.reason);
		} else if (wf && idx >= 0)
			sched_goto(s, &tr, wf, wf->steps[idx].next);
		else
			sched_end(s, &tr, SCHED_EXITED, wf ? "step_removed" : "workflow_removed");
	}
	if (bounce)
		json_decref(bounce);
	(void) sched_commit(&tr, 0);
}

/* send_done - one message's outcome, from an injector thread */

static void
send_done(INJECT_MSG *m, void *ctx)
{
	SCHED_PEND *p = ctx;

	p->msg.status = m->status;
	memcpy(p->msg.reply, m->reply, sizeof(p->msg.reply));
	send_outcome(p->s, p);
}

/* sched_inject_round - inject what this round parked, record outcomes */

int
sched_inject_round(SCHED *s)
{
	INJECT_MSG *msgs;
	size_t	i, n, lost = 0;

	if (s->npend == 0)
		return (STORE_OK);

	/* Nothing goes out before its record is durable. */
	store_flush(s->st);
	if (s->inj == 0) {
		s->inj = inject_create(config_str(s->cf, "inject_address"),
				       (int) config_int(s->cf, "inject_connections"),
				       (int) config_int(s->cf, "inject_timeout"),
				       config_str(s->cf, "message_id_domain"));
		inject_set_idle(s->inj, (int) config_int(s->cf, "inject_idle_timeout"));
	}
	msgs = mycalloc(s->npend, sizeof(*msgs));
	for (i = n = 0; i < s->npend; i++) {
		SCHED_PEND *p = s->pend[i];

		if (!p->committed) {
			lost++;
			continue;
		}
		p->msg.sender = p->out.sender;
		p->msg.rcpt = p->out.rcpt;
		p->msg.data = p->out.data;
		p->msg.len = p->out.len;
		p->msg.done = send_done;
		p->msg.ctx = p;
		msgs[n++] = p->msg;
	}
	/*
	 * Each outcome is queued for commit the moment the server answers,
	 * so that a crash leaves as few accepted-but-unrecorded messages
	 * (injected again on restart) as possible.
	 */
	(void) inject_batch(s->inj, msgs, n);
	store_flush(s->st);
	for (i = 0; i < s->npend; i++)
		pend_free(s->pend[i]);
	s->npend = 0;
	myfree(msgs);
	return (lost ? STORE_RETRY : STORE_OK);
}
