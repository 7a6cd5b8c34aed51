/*++
/* NAME
/*	milter_lmtp 3
/* SUMMARY
/*	postdrip-milter's LMTP receiver for the bounce domain
/* SYNOPSIS
/*	#include "milter_lmtp.h"
/*
/*	int	milter_lmtp_listen(spec)
/*
/*	void	milter_lmtp_chown(user)
/*
/*	void	milter_lmtp_start()
/*
/*	void	milter_lmtp_stop()
/* DESCRIPTION
/*	Postfix delivers the bounce domain here (transport_maps:
/*	"bounce.example.com lmtp:unix:/path"), so that VERP returns,
/*	unsubscribe+TOKEN mail, feedback-loop reports and replies to
/*	reply+TOKEN addresses wait in Postfix's queue while postdrip is
/*	down, instead of holding other mail or being lost.
/*
/*	milter_lmtp_listen() binds lmtp_listen (unix: or inet:) as root;
/*	milter_lmtp_chown() gives a unix socket to mail_owner (mode 0666,
/*	as the milter's: Postfix's lmtp(8) runs as mail_owner);
/*	milter_lmtp_start() starts the listener thread after the privilege
/*	drop; milter_lmtp_stop() stops accepting, ends idle connections and
/*	waits (bounded) for those that are recording, before the store is
/*	closed.
/*
/*	One thread per connection, at most lmtp_max_connections (more wait
/*	in the listen queue). Threads, not one event loop: each message
/*	waits for its durable store commit before its replies, and the
/*	store's single writer merges the commits of waiting threads into
/*	one transaction (group commit); a thread per connection keeps
/*	that wait simple, and Postfix opens few LMTP connections (its
/*	destination concurrency).
/*
/*	Recipients (RCPT TO): verp_prefix+, verp_transactional_prefix+,
/*	reply_address_prefix+ and unsubscribe_address_prefix+ addresses
/*	on bounce_domain, with any token (a bad token is ours too: it is
/*	recorded as unverified), and the lmtp_feedback_addresses. Any other
/*	local part on bounce_domain gets "550 5.1.1", another domain "550
/*	5.1.2".
/*
/*	After DATA each recipient gets its own reply, 250 only after the
/*	signal is committed (signal_record()), 451 4.3.0 when the store
/*	cannot commit: Postfix keeps the message and tries again.
/*
/*	Replies (a human message to reply+TOKEN@): recorded with the same
/*	rules as the milter's (From must be the contact, SPF with the From
/*	domain must not fail), then forwarded, unchanged but for trace
/*	headers, to the contact's owner (contact field owner), else to the
/*	Reply-To (or From) the message had before reply routing (the "sent"
/*	event's reply_to), else to reply_forward_address, by SMTP to
/*	inject_address. The forward is made before the record: a failure
/*	of either answers 451, and Postfix's retry may forward a reply
/*	twice but never counts it twice on a failed forward. A reply that
/*	fails the checks is forwarded with X-Postdrip-Warning and triggers
/*	nothing. Auto-replies are recorded and forwarded only to
/*	autoreply_forward_address when set.
/*
/*	The client (for SPF and the log) is the one Postfix names with
/*	XFORWARD; without XFORWARD, the top Received header, which the
/*	Postfix that delivers here wrote. The queue id is read from that
/*	header.
/* DIAGNOSTICS
/*	One line per recipient decision:
/*	"QUEUEID: action: lmtp from client[addr]: details; from=<> to=<>".
/* SEE ALSO
/*	milter_lmtp_proto(3), signal(3), postdrip-milter(8)
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <jansson.h>

#include "classify/classify.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "milter.h"
#include "milter_lmtp.h"

#define LMTP_STOP_WAIT	100		/* x 100 ms for recording connections */
#define LMTP_LOG_MAX	512

static struct {
	int	fd;			/* listening socket, -1: none */
	char	path[sizeof(((struct sockaddr_un *) 0)->sun_path)];
	char	spec[256];
	int	stop_pipe[2];
	pthread_t listener;
	int	started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int	nconn;			/* under mu */
	int	stopping;		/* under mu */
	int	fds[4096];		/* connections, to end them at stop */
} lmtp = {.fd = -1, .stop_pipe = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER};

/* One connection. */
typedef struct LMTP_SESS {
	int	fd;
	int	slot;			/* in lmtp.fds */
	MILTER_SET *set;
	char	peer[64];		/* the lmtp(8) client, for warnings */
	char	hostname[256];
	LMTP_PROTO p;
} LMTP_SESS;

/* What one message says, shared by its recipients. */
typedef struct LMTP_MSG {
	char	qid[32];
	char	client_name[LMTP_XF_MAX];
	char	client_addr[LMTP_XF_MAX];
	char	helo[LMTP_XF_MAX];
	char	from[ADDR_MAX + 1];	/* author, normalized, or "" */
	CLASSIFY_RESULT cr;
} LMTP_MSG;

/* lmtp_log - one decision line */

static void PD_PRINTF(5, 6)
lmtp_log(const LMTP_MSG *lm, const LMTP_PROTO *p, const char *rcpt,
	         const char *action, const char *fmt,...)
{
	char	detail[LMTP_LOG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	msg_info("%s: %s: lmtp from %s[%s]: %s; from=<%s> to=<%s>",
		 lm->qid[0] ? lm->qid : "NOQUEUE", action,
		 lm->client_name[0] ? lm->client_name : "unknown",
		 lm->client_addr[0] ? lm->client_addr : "local",
		 detail, p->mail_from, rcpt);
}

/* lmtp_feedback - is addr one of lmtp_feedback_addresses? */

static int
lmtp_feedback(const MILTER_SET *set, const char *addr)
{
	char	norm[ADDR_MAX + 1];
	char  **fa;

	for (fa = config_list(set->cf, "lmtp_feedback_addresses"); fa && *fa; fa++)
		if (addr_normalize(*fa, norm) && strcmp(norm, addr) == 0)
			return (1);
	return (0);
}

/* lmtp_rcpt_check - is this recipient postdrip's? */

static int
lmtp_rcpt_check(void *ctx, LMTP_PROTO *p, const char *raw, int *kind,
		        char *reply, size_t len)
{
	LMTP_SESS *s = ctx;
	char	addr[ADDR_MAX + 1];
	VERP_KIND k;

	(void) p;
	if (addr_normalize(raw, addr) == 0) {
		snprintf(reply, len, "501 5.1.3 <%s>: Bad recipient address syntax", raw);
		return (0);
	}
	k = verp_parse(&s->set->verp, addr, 0, 0);
	if (k == VERP_NONE) {
		snprintf(reply, len, "550 5.1.2 <%s>: Recipient address rejected: "
			 "not on the bounce domain %s", raw, s->set->verp.domain);
		return (0);
	}
	if (k == VERP_OTHER && !lmtp_feedback(s->set, addr)) {
		snprintf(reply, len, "550 5.1.1 <%s>: Recipient address rejected: "
			 "no such address on the bounce domain", raw);
		return (0);
	}
	*kind = (int) k;
	return (1);
}

/* lmtp_hdr_value - the first header named name, unfolded, into buf */

static int
lmtp_hdr_value(const char *data, size_t len, const char *name, char *buf, size_t max)
{
	const char *p = data, *end = data + len, *nl;
	size_t	nlen = strlen(name), n = 0;
	int	in = 0;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if (nl == 0)
			nl = end;
		if (nl == p || (nl == p + 1 && *p == '\r'))
			break;			/* end of headers */
		if (in && (*p == ' ' || *p == '\t')) {
			/* a continuation line */ ;
		} else if (in) {
			break;
		} else if ((size_t) (nl - p) > nlen && strncasecmp(p, name, nlen) == 0
			   && p[nlen] == ':') {
			in = 1;
			p += nlen + 1;
		} else {
			p = nl + 1;
			continue;
		}
		while (p < nl && n + 1 < max) {
			if (*p != '\r')
				buf[n++] = (*p == '\t' ? ' ' : *p);
			p++;
		}
		if (n + 1 < max)
			buf[n++] = ' ';
		p = nl + 1;
	}
	buf[n] = 0;
	return (in);
}

/* lmtp_word - copy the word after key in text (up to a char of stop) */

static void
lmtp_word(const char *text, const char *key, const char *stop, char *dst, size_t max)
{
	const char *p = strstr(text, key);
	size_t	n;

	dst[0] = 0;
	if (p == 0)
		return;
	p += strlen(key);
	n = strcspn(p, stop);
	if (n > 0 && n < max) {
		memcpy(dst, p, n);
		dst[n] = 0;
	}
}

/* lmtp_client - the original client: XFORWARD, else the top Received */

static void
lmtp_client(const LMTP_PROTO *p, LMTP_MSG *lm)
{
	char	rcvd[1024], *lb, *rb, *q;
	size_t	n;

	/*
	 * "Received: from HELO (NAME [ADDR])\n\tby HOST (Postfix) with ESMTP
	 * id QID\n\tfor <...>; DATE", the line Postfix's cleanup(8) put on
	 * top before delivering here: the only Received header we trust.
	 */
	if (lmtp_hdr_value(strbuf_str(&p->data), strbuf_len(&p->data), "Received",
			   rcvd, sizeof(rcvd))) {
		lmtp_word(rcvd, " id ", " ;\r\n", lm->qid, sizeof(lm->qid));
		for (q = lm->qid; *q; q++)
			if (!isalnum((unsigned char) *q)) {
				lm->qid[0] = 0;
				break;
			}
		if (!p->xf.seen && strncmp(rcvd + strspn(rcvd, " "), "from ", 5) == 0) {
			lmtp_word(rcvd, "from ", " ", lm->helo, sizeof(lm->helo));
			if ((lb = strchr(rcvd, '(')) != 0 && (rb = strchr(lb, '[')) != 0
			    && (q = strchr(lb, ')')) != 0 && rb < q) {
				n = rb - lb - 1;
				if (n > 0 && lb[n] == ' ')
					n--;
				snprintf(lm->client_name, sizeof(lm->client_name), "%.*s",
					 (int) n, lb + 1);
				lmtp_word(rb, "[", "]", lm->client_addr, sizeof(lm->client_addr));
				if (strncasecmp(lm->client_addr, "IPv6:", 5) == 0)
					memmove(lm->client_addr, lm->client_addr + 5,
						strlen(lm->client_addr + 5) + 1);
			}
		}
	}
	if (p->xf.seen) {
		snprintf(lm->client_name, sizeof(lm->client_name), "%s", p->xf.name);
		snprintf(lm->client_addr, sizeof(lm->client_addr), "%s", p->xf.addr);
		snprintf(lm->helo, sizeof(lm->helo), "%s", p->xf.helo);
	}
}

/*
 * lmtp_sig_kind - what the message is, given the address it came to: the
 * signal module's rule, except that an auto-reply or a read receipt sent
 * to an address of the bounce domain that is none of ours (postmaster,
 * the feedback-loop box) answers nothing we sent and is consumed.
 */

static int
lmtp_sig_kind(const CLASSIFY_RESULT *cr, VERP_KIND to, SIG_KIND *kind)
{
	if (!signal_kind_of(cr, to, 0, kind))
		return (0);
	return (to != VERP_OTHER || (*kind != SIG_AUTOREPLY && *kind != SIG_OPEN));
}

/*
 * lmtp_record - the one call into the signal module: record what one
 * recipient's copy means. STORE_OK or STORE_RETRY (also: no store).
 */
static int
lmtp_record(MILTER_SET *set, LMTP_MSG *lm, SIG_KIND kind, int have_token,
	            const TOKEN *token, const char *spf, SIG_MSG *m)
{
	STORE  *st;

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->queue_id = lm->qid[0] ? lm->qid : "NOQUEUE";
	m->cr = &lm->cr;
	m->have_token = have_token;
	if (have_token)
		m->token = *token;
	m->from = lm->from;
	m->spf = spf;
	m->strict = 0;			/* it came to one of our addresses */
	m->now = clock_now();
	m->params = &set->params;
	if ((st = milter_store()) == 0)
		return (STORE_RETRY);
	return (signal_record(st, m));
}

/* lmtp_sent_reply_to - the "sent" event's reply_to for msgno */

typedef struct {
	uint64_t msgno;
	char   *out;
} LMTP_FIND;

static int
lmtp_find_sent(const STORE_EVENT *ev, void *ctx)
{
	LMTP_FIND *f = ctx;
	json_t *v;
	const char *s;

	if (strcmp(ev->type, "sent") != 0
	    || (v = json_object_get(ev->data, "msgno")) == 0
	    || (uint64_t) json_integer_value(v) != f->msgno)
		return (0);
	if ((s = json_string_value(json_object_get(ev->data, "reply_to"))) != 0)
		(void) addr_normalize(s, f->out);
	return (1);				/* stop */
}

/*
 * lmtp_reply_target - where a reply goes, and the contact's address:
 * the owner, else the original Reply-To/From, else reply_forward_address.
 * STORE_OK or STORE_RETRY.
 */
static int
lmtp_reply_target(MILTER_SET *set, int have_token, const TOKEN *t,
		          char *contact, char *target, size_t tmax)
{
	STORE  *st;
	STORE_TXN *txn;
	STORE_SENT sent;
	LMTP_FIND f;
	json_t *rec = 0;
	const char *s;
	char	owner[ADDR_MAX + 1], orig[ADDR_MAX + 1];
	int	rc = STORE_OK;

	contact[0] = owner[0] = orig[0] = 0;
	if (have_token) {
		if ((st = milter_store()) == 0 || store_rbegin(st, &txn) != STORE_OK)
			return (STORE_RETRY);
		if ((rc = store_contact_get(txn, t->contact, &rec)) == STORE_OK) {
			if ((s = json_string_value(json_object_get(rec, "email"))) != 0)
				(void) addr_normalize(s, contact);
			s = json_string_value(json_object_get(json_object_get(rec, "fields"),
							      "owner"));
			if (s == 0 || addr_normalize(s, owner) == 0)
				owner[0] = 0;
			json_decref(rec);
		}
		if (rc != STORE_RETRY && owner[0] == 0 && t->message
		    && (rc = store_sent_get(txn, t->message, &sent)) == STORE_OK) {
			f.msgno = t->message;
			f.out = orig;
			rc = store_timeline_walk_since(txn, t->contact, sent.time, lmtp_find_sent, &f);
		}
		store_rend(txn);
		store_thread_end(st);
		if (rc == STORE_RETRY)
			return (rc);
	}
	snprintf(target, tmax, "%s", owner[0] ? owner : orig[0] ? orig :
		 config_str(set->cf, "reply_forward_address"));
	return (STORE_OK);
}

/* lmtp_forward_copy - forward with trace headers; reply line on failure */

static int
lmtp_forward_copy(LMTP_SESS *s, LMTP_MSG *lm, const TOKEN *t, int have_token,
		          const char *rcpt, const char *target, const char *verdict,
		          const char *warning, char *why, size_t wlen)
{
	STRBUF	trace = STRBUF_INIT;
	char	mark[ADDR_MAX + 1];
	int	rc;

	/*
	 * The mark is a reply address signed now: the milter on the
	 * injection smtpd leaves mail that carries a valid one alone, so the
	 * forwarded copy is not taken for a second signal. Nobody without
	 * the keys can make one.
	 */
	if (s->set->tk == 0
	    || verp_sign(&s->set->verp, s->set->tk, VERP_REPLY,
			 have_token ? t->contact : 0, have_token ? t->message : 0, mark) == 0)
		mark[0] = 0;
	strbuf_printf(&trace, "X-Postdrip-Forwarded: <%s> for <%s> by %s; %s; queue_id=%s\r\n",
		      mark, target, s->hostname, verdict, lm->qid[0] ? lm->qid : "NOQUEUE");
	if (warning)
		strbuf_printf(&trace, "X-Postdrip-Warning: %s\r\n", warning);
	(void) rcpt;
	rc = lmtp_forward(config_str(s->set->cf, "inject_address"),
			  config_int(s->set->cf, "inject_timeout"), s->hostname, target,
			  strbuf_str(&trace), strbuf_str(&s->p.data), strbuf_len(&s->p.data),
			  why, wlen);
	strbuf_free(&trace);
	return (rc);
}

/* lmtp_deliver - one recipient of a complete message: its reply */

static void
lmtp_deliver(LMTP_SESS *s, LMTP_MSG *lm, const LMTP_RCPT *r)
{
	MILTER_SET *set = s->set;
	LMTP_PROTO *p = &s->p;
	VERP_KIND to = (VERP_KIND) r->kind, vk;
	SIG_KIND kind;
	SIG_MSG *m;
	TOKEN	t;
	char	addr[ADDR_MAX + 1], contact[ADDR_MAX + 1], target[ADDR_MAX + 1];
	char	why[256], verdict[128];
	const char *spf = 0, *warning = 0, *fwd_to = 0;
	int	have_token = 0, rc, forged;
	size_t	i;

	if (addr_normalize(r->addr, addr) == 0)
		addr[0] = 0;
	if (!lmtp_sig_kind(&lm->cr, to, &kind)) {
		lmtp_log(lm, p, addr, "ignored", "%s mail to the bounce domain, consumed",
			 classify_kind_name(lm->cr.kind));
		lmtp_proto_reply(p, "250 2.0.0 <%s> Ok: ignored, not a signal", r->addr);
		return;
	}
	if (to != VERP_OTHER && set->tk) {
		rc = verp_verify(&set->verp, set->tk, addr, &vk, &t);
		if (rc == TOKENS_OK)
			have_token = 1;
		else
			lmtp_log(lm, p, addr, "refused token", "%s address: %s",
				 verp_kind_name(vk), rc == TOKENS_NOKEY ? "unknown key" : "bad or forged");
	}
	if (!have_token && lm->cr.orig_return_path[0] && set->tk
	    && addr_normalize(lm->cr.orig_return_path, contact)
	    && verp_verify(&set->verp, set->tk, contact, &vk, &t) == TOKENS_OK)
		have_token = 1;

	/* SPF: a reply must come from where the author's domain sends. */
	if (set->spf_check && milter_global.spf && lm->client_addr[0]) {
		if (kind == SIG_REPLY)
			spf = spf_check(milter_global.spf, lm->client_addr, lm->helo, lm->from);
		else if (kind == SIG_UNSUBSCRIBE)
			spf = spf_check(milter_global.spf, lm->client_addr, lm->helo, p->mail_from);
	}

	/* Forward first: see DESCRIPTION for why. */
	if (to == VERP_REPLY && kind == SIG_REPLY) {
		if (lmtp_reply_target(set, have_token, &t, contact, target, sizeof(target))
		    != STORE_OK) {
			lmtp_log(lm, p, addr, "tempfail", "reply: the store cannot be read now");
			lmtp_proto_reply(p, "451 4.3.0 <%s> Error: the store cannot be read now",
					 r->addr);
			return;
		}
		forged = !have_token || contact[0] == 0 || strcmp(lm->from, contact) != 0
			|| signal_spf_fails(spf);
		if (forged) {
			snprintf(verdict, sizeof(verdict), "verdict=forged (%s)",
				 !have_token || contact[0] == 0 ? "no valid token" :
				 strcmp(lm->from, contact) != 0 ? "From is not the contact" :
				 "SPF fail for the From domain");
			warning = "this reply failed postdrip's checks (see X-Postdrip-Forwarded); "
				"it was not counted and triggered nothing";
		} else {
			snprintf(verdict, sizeof(verdict), "verdict=reply spf=%s", spf ? spf : "none");
		}
		fwd_to = target;
	} else if (to == VERP_REPLY && kind == SIG_AUTOREPLY
		   && *config_str(set->cf, "autoreply_forward_address")) {
		snprintf(target, sizeof(target), "%s",
			 config_str(set->cf, "autoreply_forward_address"));
		snprintf(verdict, sizeof(verdict), "verdict=autoreply");
		fwd_to = target;
	}
	if (fwd_to && *fwd_to) {
		rc = lmtp_forward_copy(s, lm, &t, have_token, addr, fwd_to, verdict, warning,
				       why, sizeof(why));
		/* An owner address Postfix refuses: the reply still reaches someone. */
		if (rc == LMTP_FWD_REJECT && kind == SIG_REPLY
		    && *config_str(set->cf, "reply_forward_address")
		    && strcmp(fwd_to, config_str(set->cf, "reply_forward_address")) != 0) {
			lmtp_log(lm, p, addr, "forward refused", "%s: <%s>: %s; trying <%s>",
				 signal_kind_name(kind), fwd_to, why,
				 config_str(set->cf, "reply_forward_address"));
			snprintf(target, sizeof(target), "%s",
				 config_str(set->cf, "reply_forward_address"));
			fwd_to = target;
			rc = lmtp_forward_copy(s, lm, &t, have_token, addr, fwd_to, verdict,
					       warning, why, sizeof(why));
		}
		if (rc != LMTP_FWD_OK) {
			lmtp_log(lm, p, addr, rc == LMTP_FWD_REJECT ? "forward refused" : "tempfail",
				 "%s: cannot forward to <%s>: %s", signal_kind_name(kind), fwd_to, why);
			if (rc == LMTP_FWD_DEFER) {
				lmtp_proto_reply(p, "451 4.3.0 <%s> Error: cannot forward the reply now",
						 r->addr);
				return;
			}
			/* Refused for good: record all the same, say so. */
		}
	}

	m = mymalloc(sizeof(*m));
	if (lmtp_record(set, lm, kind, have_token, &t, spf, m) != STORE_OK) {
		lmtp_log(lm, p, addr, "tempfail", "%s: the store cannot record it now",
			 signal_kind_name(kind));
		lmtp_proto_reply(p, "451 4.3.0 <%s> Error: the store cannot record it now", r->addr);
		myfree(m);
		return;
	}
	if (m->nout == 0)
		lmtp_log(lm, p, addr, "ignored", "%s not tied to a contact%s%s",
			 signal_kind_name(kind), fwd_to ? ", forwarded to " : "",
			 fwd_to ? fwd_to : "");
	for (i = 0; i < m->nout; i++)
		lmtp_log(lm, p, addr, m->out[i].event,
			 "%s contact=<%s> tie=%s%s%s%s%s%s%s%s%s%s%s",
			 signal_kind_name(kind), m->out[i].address, m->out[i].tie,
			 m->out[i].row ? " status=" : "", m->out[i].row ? m->out[i].row->status : "",
			 m->out[i].row && kind == SIG_BOUNCE ? " reason=" : "",
			 m->out[i].row && kind == SIG_BOUNCE ? m->out[i].row->reason : "",
			 spf ? " spf=" : "", spf ? spf : "",
			 m->out[i].suppressed ? " suppressed=" : "",
			 m->out[i].suppressed ? m->out[i].suppressed : "",
			 fwd_to ? " forward=" : "", fwd_to ? fwd_to : "");
	lmtp_proto_reply(p, "250 2.0.0 <%s> Ok: %s", r->addr,
			 m->nout ? m->out[0].event : "not tied to a contact");
	myfree(m);
}

/* lmtp_data - a complete message: one reply per recipient */

static void
lmtp_data(void *ctx, LMTP_PROTO *p)
{
	LMTP_SESS *s = ctx;
	LMTP_MSG *lm = mycalloc(1, sizeof(*lm));
	size_t	i;

	lmtp_client(p, lm);
	(void) classify_message(strbuf_str(&p->data), strbuf_len(&p->data), &lm->cr);
	if (lm->cr.from[0] == 0 || addr_normalize(lm->cr.from, lm->from) == 0)
		lm->from[0] = 0;
	for (i = 0; i < p->nrcpt; i++)
		lmtp_deliver(s, lm, p->rcpt + i);
	classify_free(&lm->cr);
	myfree(lm);
}

/* lmtp_write - all of p->out */

static int
lmtp_write(LMTP_SESS *s)
{
	const char *b = strbuf_str(&s->p.out);
	size_t	len = strbuf_len(&s->p.out);
	ssize_t	n;

	while (len > 0) {
		if ((n = write(s->fd, b, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		b += n;
		len -= n;
	}
	strbuf_reset(&s->p.out);
	return (0);
}

/* lmtp_session - one connection, in its own thread */

static void *
lmtp_session(void *arg)
{
	LMTP_SESS *s = arg;
	LMTP_LIMITS lim;
	struct timeval tv;
	char	buf[8192];
	ssize_t	n;
	STORE  *st;

	s->set = milter_set_current();
	lim.line_max = config_int(s->set->cf, "lmtp_line_limit");
	lim.size_max = config_int(s->set->cf, "lmtp_message_size_limit");
	lim.rcpt_max = config_int(s->set->cf, "lmtp_recipient_limit");
	tv.tv_sec = config_int(s->set->cf, "lmtp_idle_timeout");
	tv.tv_usec = 0;
	(void) setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (gethostname(s->hostname, sizeof(s->hostname) - 1) < 0 || !*s->hostname)
		snprintf(s->hostname, sizeof(s->hostname), "localhost");
	lmtp_proto_init(&s->p, s->hostname, &lim, lmtp_rcpt_check, lmtp_data, s);
	lmtp_proto_greet(&s->p);
	for (;;) {
		if (lmtp_write(s) < 0)
			break;
		if ((n = read(s->fd, buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			msg_info("lmtp: timeout after %s from %s", s->p.state == LMTP_ST_DATA ?
				 "DATA" : "a command", s->peer);
			lmtp_proto_reply(&s->p, "421 4.4.2 %s Error: timeout exceeded", s->hostname);
			(void) lmtp_write(s);
			break;
		}
		if (n <= 0)
			break;
		if (lmtp_proto_input(&s->p, buf, n) < 0) {
			(void) lmtp_write(s);
			break;
		}
	}
	lmtp_proto_free(&s->p);
	milter_set_release(s->set);
	pthread_mutex_lock(&lmtp.mu);
	lmtp.fds[s->slot] = -1;
	lmtp.nconn--;
	pthread_cond_broadcast(&lmtp.cv);
	pthread_mutex_unlock(&lmtp.mu);
	close(s->fd);
	if ((st = milter_store()) != 0)
		store_thread_end(st);
	myfree(s);
	return (0);
}

/* lmtp_listener - accept, bounded by lmtp_max_connections */

static void *
lmtp_listener(void *arg)
{
	struct pollfd pf[2];
	LMTP_SESS *s;
	pthread_attr_t attr;
	pthread_t thr;
	int	fd, max, slot, on = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	(void) arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		MILTER_SET *set = milter_set_current();

		max = config_int(set->cf, "lmtp_max_connections");
		milter_set_release(set);
		if (max > (int) (sizeof(lmtp.fds) / sizeof(lmtp.fds[0])))
			max = sizeof(lmtp.fds) / sizeof(lmtp.fds[0]);
		/* Full: leave new clients in the listen queue until one ends. */
		pthread_mutex_lock(&lmtp.mu);
		while (lmtp.nconn >= max && !lmtp.stopping)
			pthread_cond_wait(&lmtp.cv, &lmtp.mu);
		if (lmtp.stopping) {
			pthread_mutex_unlock(&lmtp.mu);
			break;
		}
		pthread_mutex_unlock(&lmtp.mu);
		pf[0].fd = lmtp.fd;
		pf[0].events = POLLIN;
		pf[1].fd = lmtp.stop_pipe[0];
		pf[1].events = POLLIN;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("lmtp: poll: %m");
		}
		if (pf[1].revents)
			break;
		len = sizeof(ss);
		if ((fd = accept(lmtp.fd, (struct sockaddr *) &ss, &len)) < 0) {
			if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
				msg_warn("lmtp: accept: %m");
			continue;
		}
		s = mycalloc(1, sizeof(*s));
		s->fd = fd;
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
			(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
			(void) getnameinfo((struct sockaddr *) &ss, len, s->peer, sizeof(s->peer),
					   0, 0, NI_NUMERICHOST);
		} else {
			snprintf(s->peer, sizeof(s->peer), "%.60s", lmtp.path);
		}
		pthread_mutex_lock(&lmtp.mu);
		for (slot = 0; lmtp.fds[slot] >= 0; slot++)
			 /* nconn < max <= size: a free slot exists */ ;
		lmtp.fds[slot] = fd;
		s->slot = slot;
		lmtp.nconn++;
		pthread_mutex_unlock(&lmtp.mu);
		if ((errno = pthread_create(&thr, &attr, lmtp_session, s)) != 0) {
			msg_warn("lmtp: cannot start a connection thread: %m");
			pthread_mutex_lock(&lmtp.mu);
			lmtp.fds[slot] = -1;
			lmtp.nconn--;
			pthread_mutex_unlock(&lmtp.mu);
			close(fd);
			myfree(s);
		}
	}
	pthread_attr_destroy(&attr);
	return (0);
}

/* milter_lmtp_listen - bind lmtp_listen; -1 when it is empty */

int
milter_lmtp_listen(const char *spec)
{
	struct sockaddr_un sun;
	struct addrinfo hints, *res, *ai;
	char	host[256], *slash, *dir;
	const char *h, *port;
	struct stat sb;
	int	fd = -1, on = 1, err;
	size_t	i;

	for (i = 0; i < sizeof(lmtp.fds) / sizeof(lmtp.fds[0]); i++)
		lmtp.fds[i] = -1;
	if (spec == 0 || *spec == 0)
		return (-1);
	snprintf(lmtp.spec, sizeof(lmtp.spec), "%s", spec);
	if (strncmp(spec, "unix:", 5) == 0) {
		if (strlen(spec + 5) >= sizeof(sun.sun_path))
			msg_fatal("lmtp_listen: socket path too long: %s", spec);
		snprintf(lmtp.path, sizeof(lmtp.path), "%s", spec + 5);
		dir = mystrdup(lmtp.path);
		if ((slash = strrchr(dir, '/')) != 0 && slash != dir) {
			*slash = 0;
			if (stat(dir, &sb) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0)
				msg_fatal("mkdir %s: %m", dir);
		}
		myfree(dir);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, lmtp.path);
		/* A socket left by a crash; a live receiver would answer. */
		(void) unlink(lmtp.path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
		    || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
			msg_fatal("lmtp_listen: cannot bind %s: %m", spec);
		/* Postfix's lmtp(8) runs as mail_owner; it only hands us mail
		 * that any local user could send to the bounce domain anyway. */
		if (chmod(lmtp.path, 0666) < 0)
			msg_fatal("chmod %s: %m", lmtp.path);
	} else if (strncmp(spec, "inet:", 5) == 0) {
		h = spec + 5;
		if (*h == '[' && (port = strstr(h, "]:")) != 0) {
			snprintf(host, sizeof(host), "%.*s", (int) (port - h - 1), h + 1);
			port += 2;
		} else if ((port = strrchr(h, ':')) != 0) {
			snprintf(host, sizeof(host), "%.*s", (int) (port - h), h);
			port++;
		} else {
			msg_fatal("lmtp_listen: \"%s\": use inet:host:port or unix:/path", spec);
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if ((err = getaddrinfo(*host ? host : 0, port, &hints, &res)) != 0)
			msg_fatal("lmtp_listen: %s: %s", spec, gai_strerror(err));
		for (ai = res; ai; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
				continue;
			(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			msg_fatal("lmtp_listen: cannot bind %s: %m", spec);
	} else {
		msg_fatal("lmtp_listen: \"%s\": use inet:host:port or unix:/path", spec);
	}
	if (listen(fd, 128) < 0)
		msg_fatal("lmtp_listen: listen %s: %m", spec);
	(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (pipe(lmtp.stop_pipe) < 0)
		msg_fatal("pipe: %m");
	lmtp.fd = fd;
	return (0);
}

/* milter_lmtp_chown - the unix socket to mail_owner, before the drop */

void
milter_lmtp_chown(const char *user)
{
	struct passwd *pw;

	if (lmtp.fd < 0 || !*lmtp.path || user == 0 || *user == 0 || geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == 0)
		msg_fatal("mail_owner: unknown user \"%s\"", user);
	if (chown(lmtp.path, pw->pw_uid, pw->pw_gid) < 0)
		msg_fatal("chown %s: %m", lmtp.path);
}

/* milter_lmtp_start - the listener thread */

void
milter_lmtp_start(void)
{
	if (lmtp.fd < 0)
		return;
	if ((errno = pthread_create(&lmtp.listener, 0, lmtp_listener, 0)) != 0)
		msg_fatal("pthread_create: %m");
	lmtp.started = 1;
	msg_info("lmtp: listening on %s", lmtp.spec);
}

/* milter_lmtp_stop - stop accepting; let recording connections finish */

void
milter_lmtp_stop(void)
{
	int	i, n;

	if (!lmtp.started)
		return;
	pthread_mutex_lock(&lmtp.mu);
	lmtp.stopping = 1;
	pthread_cond_broadcast(&lmtp.cv);
	pthread_mutex_unlock(&lmtp.mu);
	(void) write(lmtp.stop_pipe[1], "x", 1);
	pthread_join(lmtp.listener, 0);
	lmtp.started = 0;
	close(lmtp.fd);
	lmtp.fd = -1;
	if (*lmtp.path)
		(void) unlink(lmtp.path);

	/*
	 * A connection reading its next command ends at once (its read sees
	 * end of file); one that is recording finishes, answers, and then
	 * ends the same way. Postfix retries whatever got no answer.
	 */
	pthread_mutex_lock(&lmtp.mu);
	for (i = 0; i < (int) (sizeof(lmtp.fds) / sizeof(lmtp.fds[0])); i++)
		if (lmtp.fds[i] >= 0)
			(void) shutdown(lmtp.fds[i], SHUT_RD);
	pthread_mutex_unlock(&lmtp.mu);
	for (n = 0; n < LMTP_STOP_WAIT; n++) {
		pthread_mutex_lock(&lmtp.mu);
		i = lmtp.nconn;
		pthread_mutex_unlock(&lmtp.mu);
		if (i == 0)
			break;
		usleep(100000);
	}
	if (i > 0)
		msg_warn("lmtp: %d connections still busy at stop", i);
}

/* milter_lmtp_mark_ok - does an X-Postdrip-Forwarded value carry our mark? */

int
milter_lmtp_mark_ok(const MILTER_SET *set, const char *value)
{
	const char *lt = strchr(value, '<'), *gt;
	char	addr[ADDR_MAX + 1];
	VERP_KIND kind;
	TOKEN	t;

	if (lt == 0 || (gt = strchr(lt + 1, '>')) == 0 || gt - lt - 1 > ADDR_MAX)
		return (0);
	memcpy(addr, lt + 1, gt - lt - 1);
	addr[gt - lt - 1] = 0;
	return (set->tk && verp_verify(&set->verp, set->tk, addr, &kind, &t) == TOKENS_OK
		&& kind == VERP_REPLY);
}
