/*++
/* NAME
/*	postdrip-policyd 8
/* SUMMARY
/*	suppression and frequency caps for Postfix, by policy delegation
/* SYNOPSIS
/*	postdrip-policyd [-fnsv] [-c FILE]
/* DESCRIPTION
/*	postdrip-policyd answers Postfix's check_policy_service requests
/*	from the shared store: it refuses marketing mail to suppressed
/*	recipients, applies frequency caps and domain rates, and answers
/*	DUNNO to everything that is not its business. See
/*	postdrip-policyd(8) for the settings and the main.cf lines.
/*
/*	policyd_threads threads (0: one per CPU) each run an epoll loop
/*	over the client connections it accepted; they share the listening
/*	socket, and the kernel wakes one of them for each new client. Each
/*	connection may carry any number of requests, one after the other or
/*	pipelined, and stays with its thread. Lookups read an LMDB snapshot,
/*	which never waits for a writer; counter updates go to the store's
/*	writer thread and no request waits for them. The main thread
/*	handles signals and the purge of stale counters. With -s there is
/*	one loop, in the main thread.
/*
/*	Options:
/*	-c FILE	the configuration (default: /etc/postdrip/postdrip.conf).
/*	-f	stay in the foreground and log to stderr as well as syslog.
/*	-n	check the configuration as the daemon reads it, and exit.
/*	-s	serve one client on stdin/stdout and exit (Postfix spawn(8)).
/*	-v	verbose: also log every DUNNO (transactional mail, other
/*		stages, and marketing recipients that are counted later).
/*
/*	The daemon is the writer of the frequency counters, so it also
/*	removes the ones that weigh nothing any more (caps_purge()): a pass
/*	over them at start and every hour after, a bounded batch per write
/*	transaction, through the same writer and without fsync.
/* SECURITY
/*	The listening socket is opened first; then, when started as root
/*	and mail_owner is set, the daemon takes that user's identity
/*	(groups, gid, uid) before it opens the store or reads a request,
/*	and stops if any step fails.
/* DIAGNOSTICS
/*	One line per decision: "QUEUEID: VERDICT: STATE from CLIENT: TEXT;
/*	from=<SENDER> to=<RECIPIENT> proto=... helo=<...> stream=...": every
/*	refusal or other action at RCPT, and for accepted marketing mail the
/*	line that counts it (END-OF-MESSAGE, naming the recipients, or RCPT
/*	with policyd_count_stage = rcpt). A recipient that passes at RCPT
/*	but is counted only later is logged with -v, like all DUNNO.
/*	Malformed requests, idle clients and store trouble are logged with
/*	the peer's address.
/* SIGNALS
/*	SIGHUP reloads the configuration; a bad one is refused and the old
/*	one stays. Connections stay open. SIGTERM and SIGINT stop the
/*	daemon after the queued counter updates are written.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/daemon.h"
#include "util/msg.h"
#include "util/usage.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "policyd.h"

#define POLICYD_IN_START 4096		/* first input buffer per connection */
#define POLICYD_OUT_MAX	(64 * 1024)	/* replies queued before we stop reading */
#define POLICYD_EVENTS	256
#define POLICYD_PURGE_BATCH 2000	/* counter records per purge step */
#define POLICYD_PURGE_EVERY 3600	/* seconds from one pass to the next */
#define POLICYD_THREADS_MAX 64

typedef struct CONN {
	int	rfd, wfd;		/* the same socket, or stdin/stdout */
	char	peer[64];
	char   *in;
	size_t	in_len, in_cap;
	POLICY_REQ req;
	int	more;			/* the last parse wanted more bytes */
	STRBUF	out;
	size_t	out_off;
	int	want_out;		/* waiting for EPOLLOUT */
	long	last;			/* monotonic seconds of last activity */
	long	req_start;		/* first byte of an unfinished request, 0: none */
	struct CONN *prev, *next;	/* idle order, oldest first */
	POLICYD_PENDING pending;
	char	one_instance[64];	/* the message whose marketing recipient */
	int	one_passed;		/* ... passed already */
} CONN;

/*
 * One event loop: its epoll set, its connections (idle order), the
 * decision lines it holds back, and the configuration it decides with
 * (a reference, renewed when a reload changed the current one).
 */
typedef struct LOOP {
	int	epfd;
	CONN   *oldest, *newest;
	STRBUF	logbuf;
	POLICYD_RULES *rules;
	unsigned gen;			/* policyd_rules_gen of rules */
	long	last_warn;		/* accept() trouble, once a second */
	int	main;			/* the main thread's: signals, purge */
	pthread_t thr;
	atomic_int nconn;		/* its connections, for the balance */
	/* Connections another loop accepted for this one. */
	int	wake_fd;		/* eventfd, in its epoll set */
	char	wake_tag;		/* epoll data for it */
	pthread_mutex_t inbox_lock;
	struct INBOX {
		int	fd;
		char	peer[64];
	}      *inbox;
	size_t	inbox_len, inbox_cap;
} LOOP;

static LOOP *policyd_loops;		/* the daemon's event loops */
static int policyd_nloops;

static __thread LOOP *policyd_loop;	/* the calling thread's loop */

static pthread_mutex_t policyd_rules_lock = PTHREAD_MUTEX_INITIALIZER;
static POLICYD_RULES *policyd_rules;	/* the current configuration */
static atomic_uint policyd_rules_gen;	/* changes with policyd_rules */
static STORE *policyd_store;
static const char *policyd_conf_path;
static int policyd_listen_fd = -1;
static int policyd_sig_fd = -1;
static int policyd_stop_fd = -1;	/* eventfd: readable once stopping */
static pthread_mutex_t policyd_accept_lock = PTHREAD_MUTEX_INITIALIZER;
static int policyd_spare_fd = -1;	/* for accept() when out of descriptors */
static atomic_int policyd_nconn;
static atomic_int policyd_stopping;
static int policyd_single;		/* -s */
static atomic_ulong policyd_abandoned;	/* passed lists never counted */
static atomic_ulong policyd_eom_counted;	/* END-OF-MESSAGE lists counted */

/* A purge step in the writer; done is set there, read by the loop. */
typedef struct PURGE_STEP {
	POLICYD_RULES *rules;
	time_t	now;
	CAPS_PURGE start, end;
	int	status;
	atomic_int done;
} PURGE_STEP;

static PURGE_STEP *policyd_purge_step;	/* queued, or done and not seen */
static CAPS_PURGE policyd_purge_pos;	/* where the pass is */
static long policyd_purge_at;		/* monotonic time of the next step */

static void policyd_eom_check(void);
static void policyd_stop(void);
static void policyd_place(int, const char *);

/* Sentinels for epoll's data pointer. */
static char policyd_listen_tag, policyd_sig_tag, policyd_stop_tag;

/* policyd_mono - monotonic seconds (POSTDRIP_NOW does not stop timeouts) */

static long
policyd_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((long) ts.tv_sec);
}

/* policyd_touch - move a connection to the young end of the idle list */

static void
policyd_touch(CONN *c)
{
	LOOP   *L = policyd_loop;

	c->last = policyd_mono();
	if (L->newest == c)
		return;
	if (c->prev || c->next || L->oldest == c) {
		if (c->prev)
			c->prev->next = c->next;
		else
			L->oldest = c->next;
		if (c->next)
			c->next->prev = c->prev;
		else
			L->newest = c->prev;
	}
	c->prev = L->newest;
	c->next = 0;
	if (L->newest)
		L->newest->next = c;
	else
		L->oldest = c;
	L->newest = c;
}

/* policyd_close - end a connection */

static void
policyd_close(CONN *c)
{
	LOOP   *L = policyd_loop;

	if (c->prev)
		c->prev->next = c->next;
	else if (L->oldest == c)
		L->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else if (L->newest == c)
		L->newest = c->prev;
	if (c->rfd >= 0) {
		(void) epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->rfd, 0);
		close(c->rfd);
	}
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	if (c->pending.nrcpt) {
		atomic_fetch_add(&policyd_abandoned, 1);
		policyd_eom_check();
	}
	policyd_pending_clear(&c->pending);
	strbuf_free(&c->out);
	myfree(c->in);
	myfree(c);
	atomic_fetch_sub(&policyd_nconn, 1);
	atomic_fetch_sub(&L->nconn, 1);
	if (policyd_single)
		policyd_stopping = 1;
}

/* policyd_arm - what we wait for on a connection */

static void
policyd_arm(CONN *c, int want_out)
{
	struct epoll_event ev;

	if (policyd_single) {
		/* stdin and stdout may be different descriptors. */
		if (c->want_out != want_out) {
			ev.data.ptr = c;
			ev.events = EPOLLIN;
			if (c->wfd != c->rfd && want_out) {
				ev.events = EPOLLOUT;
				(void) epoll_ctl(policyd_loop->epfd, EPOLL_CTL_DEL, c->rfd, 0);
				(void) epoll_ctl(policyd_loop->epfd, EPOLL_CTL_ADD, c->wfd, &ev);
			} else if (c->wfd != c->rfd) {
				(void) epoll_ctl(policyd_loop->epfd, EPOLL_CTL_DEL, c->wfd, 0);
				(void) epoll_ctl(policyd_loop->epfd, EPOLL_CTL_ADD, c->rfd, &ev);
			} else {
				ev.events = want_out ? EPOLLOUT : EPOLLIN;
				(void) epoll_ctl(policyd_loop->epfd, EPOLL_CTL_MOD, c->rfd, &ev);
			}
		}
		c->want_out = want_out;
		return;
	}
	if (c->want_out == want_out)
		return;
	ev.data.ptr = c;
	ev.events = want_out ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(policyd_loop->epfd, EPOLL_CTL_MOD, c->rfd, &ev) < 0)
		msg_fatal("epoll_ctl: %m");
	c->want_out = want_out;
}

/* policyd_reply - queue "action=VALUE" */

static void
policyd_reply(CONN *c, const char *action)
{
	strbuf_puts(&c->out, "action=");
	strbuf_puts(&c->out, action);
	strbuf_puts(&c->out, "\n\n");
}

/*
 * Decision lines wait until the replies of the current read are written:
 * a syslog line costs more than the decision, and the client need not
 * wait for it. Values hold no newlines (the reader refuses control
 * bytes), so one separates the lines. Each loop holds its own.
 */

/* policyd_log_flush - write the decision lines held back */

static void
policyd_log_flush(void)
{
	STRBUF *lb = &policyd_loop->logbuf;

	if (strbuf_len(lb) == 0)
		return;
	msg_info_lines(lb->data);
	strbuf_reset(lb);
}

/* policyd_log - one line for one decision */

static void
policyd_log(const char *buf, const POLICY_REQ *req, const char *verdict,
	            const char *text, const char *stream, const char *detail)
{
	const char *qid = policy_value(req, buf, PA_QUEUE_ID);
	const char *name = policy_value(req, buf, PA_CLIENT_NAME);
	const char *state = policy_value(req, buf, PA_PROTOCOL_STATE);

	strbuf_printf(&policyd_loop->logbuf,
		      "%s: %s: %s from %s[%s]: %s; from=<%s> to=<%s> proto=%s helo=<%s> stream=%s%s\n",
		 *qid ? qid : "NOQUEUE", verdict, *state ? state : "UNKNOWN",
		 *name ? name : "unknown", policy_value(req, buf, PA_CLIENT_ADDRESS),
		 text, policy_value(req, buf, PA_SENDER),
		 policy_value(req, buf, PA_RECIPIENT),
		 policy_value(req, buf, PA_PROTOCOL_NAME),
		 policy_value(req, buf, PA_HELO_NAME), stream, detail);
}

/* policyd_end_of_message - count what this message passed at RCPT */

static void
policyd_end_of_message(CONN *c, POLICYD_RULES *r, const char *buf, const POLICY_REQ *req)
{
	const char *instance = policy_value(req, buf, PA_INSTANCE);
	long	accepted = atol(policy_value(req, buf, PA_RECIPIENT_COUNT));
	size_t	n, dropped;
	char	text[1200], rcpts[800];

	if (!policyd_pending_match(&c->pending, instance) || c->pending.nrcpt == 0) {
		policyd_pending_clear(&c->pending);
		return;
	}
	dropped = c->pending.dropped;
	atomic_fetch_add(&policyd_eom_counted, 1);
	/* Name a few, so that grepping the queue id shows whom it counted. */
	snprintf(rcpts, sizeof(rcpts), "%s%s%s%s%s%s", c->pending.rcpts[0],
		 c->pending.nrcpt > 1 ? ", " : "", c->pending.nrcpt > 1 ? c->pending.rcpts[1] : "",
		 c->pending.nrcpt > 2 ? ", " : "", c->pending.nrcpt > 2 ? c->pending.rcpts[2] : "",
		 c->pending.nrcpt > 3 ? ", ..." : "");
	n = policyd_pending_commit(&c->pending, r, policyd_store, clock_now());
	snprintf(text, sizeof(text), "%zu recipient%s counted for frequency caps (%s)",
		 n, n == 1 ? "" : "s", rcpts);
	if (dropped)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 ", %zu over policyd_pending_limit not counted", dropped);
	/* Fewer accepted than we passed: a later restriction refused some,
	 * and we cannot tell which. Counting them all errs towards less. */
	if (accepted >= 0 && (size_t) accepted < n)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " (Postfix accepted %ld: place check_policy_service last)", accepted);
	policyd_log(buf, req, "count", text, "marketing", "");
}

/* policyd_eom_check - warn once when END-OF-MESSAGE never comes */

static void
policyd_eom_check(void)
{
	static atomic_int warned;
	int	no = 0;
	unsigned long abandoned = atomic_load(&policyd_abandoned);

	/*
	 * Messages are abandoned now and then (RSET, a client that gives up),
	 * but when many are and none was ever counted, END-OF-MESSAGE
	 * requests do not reach us on the connection of the RCPT ones: caps
	 * would never apply, silently.
	 */
	if (atomic_load(&warned) || atomic_load(&policyd_eom_counted) || abandoned < 10
	    || !atomic_compare_exchange_strong(&warned, &no, 1))
		return;
	msg_warn("%lu marketing messages passed at RCPT and not one END-OF-MESSAGE "
		 "request of theirs arrived, so nothing is counted for frequency caps: "
		 "name check_policy_service in smtpd_end_of_data_restrictions with the "
		 "same text as in smtpd_recipient_restrictions, or set "
		 "policyd_count_stage = rcpt", abandoned);
}

/* policyd_handle - answer one request */

static void
policyd_handle(CONN *c)
{
	POLICYD_RULES *r = policyd_loop->rules;
	const char *buf = c->in;
	const POLICY_REQ *req = &c->req;
	const char *state, *sender, *rcpt, *instance;
	POLICYD_STREAM stream;
	POLICYD_DECISION d;
	long	inflight;
	int	track;

	state = policy_value(req, buf, PA_PROTOCOL_STATE);
	instance = policy_value(req, buf, PA_INSTANCE);
	/* A request of another message: the last one was abandoned, and its
	 * recipients are no longer in flight. */
	if (c->pending.nrcpt && *instance && !policyd_pending_match(&c->pending, instance)) {
		atomic_fetch_add(&policyd_abandoned, 1);
		policyd_eom_check();
		policyd_pending_clear(&c->pending);
	}
	sender = policy_value(req, buf, PA_SENDER);
	rcpt = policy_value(req, buf, PA_RECIPIENT);
	stream = policyd_stream(r, sender, policy_value(req, buf, PA_SASL_USERNAME),
				policy_value(req, buf, PA_CLIENT_ADDRESS));

	if (strcmp(state, "END-OF-MESSAGE") == 0) {
		if (stream == POLICYD_STREAM_MARKETING && !r->count_at_rcpt)
			policyd_end_of_message(c, r, buf, req);
		policyd_reply(c, "DUNNO");
		return;
	}
	if (stream != POLICYD_STREAM_MARKETING) {
		if (msg_verbose)
			policyd_log(buf, req, "dunno", "transactional mail", "transactional", "");
		policyd_reply(c, "DUNNO");
		return;
	}
	if (strcmp(state, "RCPT") != 0 || *rcpt == 0) {
		if (msg_verbose)
			policyd_log(buf, req, "dunno", "not a recipient check", "marketing", "");
		policyd_reply(c, "DUNNO");
		return;
	}
	/*
	 * One marketing recipient per transaction, so that each message
	 * carries one contact (its VERP return path, List-Unsubscribe and
	 * tracked links are that contact's). 452 4.5.3 is what RFC 5321
	 * clients take as "send the rest in another transaction", as they do
	 * for smtpd_recipient_limit. Counted per Postfix "instance" (one a
	 * message) on this connection, which one smtpd process holds.
	 */
	if (r->one_rcpt && *instance) {
		if (strcmp(c->one_instance, instance) != 0) {
			snprintf(c->one_instance, sizeof(c->one_instance), "%s", instance);
			c->one_passed = 0;
		}
		if (c->one_passed > 0) {
			policyd_log(buf, req, "defer",
				    "452 4.5.3 one marketing recipient per message: send again",
				    "marketing", " rule=policyd_one_marketing_recipient");
			policyd_reply(c, "452 4.5.3 Too many recipients: one marketing recipient "
				      "per message, send again");
			return;
		}
	}
	/*
	 * Other messages to rcpt that passed and are not counted yet; not
	 * this message, which may name the same recipient twice. Loops in
	 * other threads decide too: the table stays locked from the look to
	 * the recipient's entry in it, so that two messages to one recipient
	 * are decided one after the other, as with one loop.
	 */
	inflight = 0;
	if ((track = !r->count_at_rcpt && config_int(r->cf, "policyd_inflight_timeout") > 0)) {
		policyd_inflight_lock();
		inflight = policyd_inflight(rcpt);
		if (inflight > 0 && c->pending.inflight
		    && policyd_pending_has(&c->pending, instance, rcpt))
			inflight--;
	}
	policyd_decide(r, policyd_store, sender, rcpt, clock_now(), inflight, &d);
	if (d.count)
		c->one_passed++;
	if (d.count && r->count_at_rcpt) {
		policyd_count_one(r, policyd_store, sender, rcpt, clock_now());
		policyd_log(buf, req, d.verdict, "marketing recipient within its caps, counted",
			    policyd_stream_name(d.stream), d.detail);
	} else if (d.count) {
		/* Tentative until END-OF-MESSAGE, which logs what it counts. */
		policyd_pending_add(&c->pending, r, policy_value(req, buf, PA_INSTANCE),
				    sender, rcpt);
		if (msg_verbose)
			policyd_log(buf, req, d.verdict, d.reason,
				    policyd_stream_name(d.stream), d.detail);
	} else
		policyd_log(buf, req, d.verdict, d.action,
			    policyd_stream_name(d.stream), d.detail);
	if (track)
		policyd_inflight_unlock();
	policyd_reply(c, d.action);
}

/* policyd_flush - write queued replies; 0 when all are out, -1 on error */

static int
policyd_flush(CONN *c)
{
	ssize_t	n;

	while (c->out_off < strbuf_len(&c->out)) {
		n = write(c->wfd, strbuf_str(&c->out) + c->out_off,
			  strbuf_len(&c->out) - c->out_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (1);
			return (-1);
		}
		c->out_off += (size_t) n;
	}
	strbuf_reset(&c->out);
	c->out_off = 0;
	return (0);
}

/* policyd_work - answer every complete request, then write */

static void
policyd_work(CONN *c)
{
	POLICYD_RULES *r = policyd_loop->rules;
	int	rc;

	for (;;) {
		c->more = 0;
		while (strbuf_len(&c->out) - c->out_off < POLICYD_OUT_MAX) {
			rc = policy_parse(c->in, c->in_len, &r->limits, &c->req);
			if (rc == POLICY_MORE) {
				c->more = 1;
				break;
			}
			if (rc < 0) {
				msg_warn("%s: malformed policy request: %s (after %zu bytes, "
					 "%zu attributes); closing", c->peer, policy_strerror(rc),
					 c->req.pos, c->req.nattr);
				policyd_reply(c, "451 4.3.5 Malformed policy request (postdrip)");
				(void) policyd_flush(c);
				policyd_close(c);
				return;
			}
			if (strcmp(policy_value(&c->req, c->in, PA_REQUEST), "smtpd_access_policy") != 0) {
				msg_warn("%s: unknown policy request type \"%.100s\"; closing", c->peer,
					 policy_value(&c->req, c->in, PA_REQUEST));
				policyd_reply(c, "451 4.3.5 Unknown policy request (postdrip)");
				(void) policyd_flush(c);
				policyd_close(c);
				return;
			}
			policyd_handle(c);
			memmove(c->in, c->in + c->req.pos, c->in_len - c->req.pos);
			c->in_len -= c->req.pos;
			policy_reset(&c->req);
			/* What is left starts the next request's clock. */
			c->req_start = c->in_len ? policyd_mono() : 0;
		}
		/* A buffer grown by one large request does not stay large. */
		if (c->in_len == 0 && c->in_cap > POLICYD_IN_START) {
			myfree(c->in);
			c->in = 0;
			c->in_cap = 0;
		}
		switch (policyd_flush(c)) {
		case -1:
			if (msg_verbose)
				msg_info("%s: write: %m; closing", c->peer);
			policyd_close(c);
			return;
		case 1:
			policyd_arm(c, 1);
			return;
		}
		if (c->more) {
			policyd_arm(c, 0);
			return;
		}
		/* Replies were held back at POLICYD_OUT_MAX: go on. */
	}
}

/* policyd_read - bytes from a client */

static void
policyd_read(CONN *c)
{
	size_t	limit = policyd_loop->rules->limits.request_limit;
	ssize_t	n;

	if (c->in_len == c->in_cap) {
		if (c->in_cap >= limit) {
			/* policy_parse() refuses a request before this happens. */
			msg_warn("%s: request buffer full; closing", c->peer);
			policyd_close(c);
			return;
		}
		c->in_cap = c->in_cap ? 2 * c->in_cap : POLICYD_IN_START;
		if (c->in_cap > limit)
			c->in_cap = limit;
		c->in = myrealloc(c->in, c->in_cap + 1);
	}
	n = read(c->rfd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (msg_verbose)
			msg_info("%s: read: %m; closing", c->peer);
		policyd_close(c);
		return;
	}
	if (n == 0) {
		if (c->in_len > 0)
			msg_warn("%s: connection closed inside a request (%zu bytes, no "
				 "empty line)", c->peer, c->in_len);
		policyd_close(c);
		return;
	}
	c->in_len += (size_t) n;
	policyd_touch(c);
	if (c->req_start == 0)
		c->req_start = c->last;
	policyd_work(c);
}

/* policyd_conn_new - a connection on descriptors */

static CONN *
policyd_conn_new(int rfd, int wfd, const char *peer)
{
	CONN   *c = mycalloc(1, sizeof(*c));

	c->rfd = rfd;
	c->wfd = wfd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	policy_reset(&c->req);
	policyd_pending_init(&c->pending);
	policyd_touch(c);
	return (c);
}

/* policyd_peer - printable peer address */

static void
policyd_peer(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char	host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *) ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "local");
}

/* policyd_accept - every waiting client */

static void
policyd_accept(void)
{
	LOOP   *L = policyd_loop;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char	peer[64];
	int	fd, on = 1, n, max = (int) config_int(L->rules->cf, "policyd_max_connections");

	/*
	 * One loop accepts at a time: the spare descriptor is given up and
	 * taken back around an accept() of our own, and a loop that accepted
	 * in between would leave none (and every loop spinning on a listener
	 * that stays readable).
	 */
	pthread_mutex_lock(&policyd_accept_lock);
	for (;;) {
		sslen = sizeof(ss);
		fd = accept4(policyd_listen_fd, (struct sockaddr *) &ss, &sslen,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && policyd_spare_fd >= 0) {
				/* Out of descriptors: the listener stays readable, so
				 * take the client with the spare one and close it,
				 * or the loop would spin. */
				if (L->last_warn != policyd_mono()) {
					L->last_warn = policyd_mono();
					msg_warn("accept: %m: closing new connections");
				}
				close(policyd_spare_fd);
				fd = accept(policyd_listen_fd, 0, 0);
				if (fd >= 0)
					close(fd);
				policyd_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				/* EMFILE comes before the queue is looked at: stop
				 * once it is empty. */
				if (fd < 0)
					break;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				msg_warn("accept: %m");
			break;
		}
		policyd_peer(&ss, peer, sizeof(peer));
		if ((n = atomic_load(&policyd_nconn)) >= max) {
			if (L->last_warn != policyd_mono()) {
				L->last_warn = policyd_mono();
				msg_warn("%s: %d connections already (policyd_max_connections); "
					 "closing the new one", peer, n);
			}
			close(fd);
			continue;
		}
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
			(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		policyd_place(fd, peer);
	}
	pthread_mutex_unlock(&policyd_accept_lock);
}

/* policyd_adopt - serve a connection in this loop */

static void
policyd_adopt(int fd, const char *peer)
{
	struct epoll_event ev;
	CONN   *c;

	c = policyd_conn_new(fd, fd, peer);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(policyd_loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		msg_fatal("epoll_ctl: %m");
}

/*
 * policyd_place - give a new connection to the loop with the fewest.
 * Clients connect in bursts (an smtpd pool after a reload), and the loop
 * that wakes first would otherwise take the whole burst.
 */
static void
policyd_place(int fd, const char *peer)
{
	LOOP   *L = policyd_loop, *best = L;
	uint64_t one = 1;
	int	i;

	/* Counted at once against policyd_max_connections, wherever it goes:
	 * the rest of a burst is refused while some wait in an inbox. */
	atomic_fetch_add(&policyd_nconn, 1);
	for (i = 0; i < policyd_nloops; i++)
		if (atomic_load(&policyd_loops[i].nconn) < atomic_load(&best->nconn))
			best = policyd_loops + i;
	/* The loop's count too, so that the next of the burst goes elsewhere;
	 * policyd_close() takes both back. */
	atomic_fetch_add(&best->nconn, 1);
	if (best == L) {
		policyd_adopt(fd, peer);
		return;
	}
	pthread_mutex_lock(&best->inbox_lock);
	if (best->inbox_len == best->inbox_cap) {
		best->inbox_cap = best->inbox_cap ? 2 * best->inbox_cap : 16;
		best->inbox = myrealloc(best->inbox, best->inbox_cap * sizeof(*best->inbox));
	}
	best->inbox[best->inbox_len].fd = fd;
	snprintf(best->inbox[best->inbox_len].peer, sizeof(best->inbox->peer), "%s", peer);
	best->inbox_len++;
	pthread_mutex_unlock(&best->inbox_lock);
	if (write(best->wake_fd, &one, sizeof(one)) < 0)
		msg_warn("eventfd: %m");
}

/* policyd_inbox - the connections other loops gave this one */

static void
policyd_inbox(void)
{
	LOOP   *L = policyd_loop;
	struct INBOX *in;
	uint64_t n;
	size_t	i, len;

	if (read(L->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		msg_warn("eventfd: %m");
	pthread_mutex_lock(&L->inbox_lock);
	in = L->inbox;
	len = L->inbox_len;
	L->inbox = 0;
	L->inbox_len = L->inbox_cap = 0;
	pthread_mutex_unlock(&L->inbox_lock);
	for (i = 0; i < len; i++) {
		if (policyd_stopping) {
			close(in[i].fd);
			atomic_fetch_sub(&L->nconn, 1);
			atomic_fetch_sub(&policyd_nconn, 1);
		} else
			policyd_adopt(in[i].fd, in[i].peer);
	}
	myfree(in);
}

/* policyd_expire - close connections idle too long */

static void
policyd_expire(void)
{
	LOOP   *L = policyd_loop;
	long	timeout = (long) config_int(L->rules->cf, "policyd_idle_timeout");
	long	now = policyd_mono();

	long	reqtime = (long) config_int(L->rules->cf, "policyd_request_timeout");
	CONN   *c, *next;

	while (L->oldest && L->oldest->last + timeout <= now) {
		msg_info("%s: idle for %lds (policyd_idle_timeout); closing",
			 L->oldest->peer, now - L->oldest->last);
		policyd_close(L->oldest);
	}

	/*
	 * Activity does not excuse a request that never ends: a byte every
	 * few seconds would hold a slot for ever. Postfix writes a request
	 * at once, so a slow one is a broken or hostile client.
	 */
	for (c = L->oldest; c; c = next) {
		next = c->next;
		if (c->req_start && c->req_start + reqtime <= now) {
			msg_warn("%s: request not complete after %lds (%zu bytes; "
				 "policyd_request_timeout); closing", c->peer,
				 now - c->req_start, c->in_len);
			policyd_close(c);
		}
	}
}

/* policyd_purge_op - in the writer: one batch, from a copy of the start */

static int
policyd_purge_op(STORE_TXN *txn, void *ctx)
{
	PURGE_STEP *p = ctx;

	p->end = p->start;
	return (caps_purge(txn, p->rules->caps, p->now, &p->end, POLICYD_PURGE_BATCH));
}

/* policyd_purge_done - in the writer, after the commit */

static void
policyd_purge_done(void *ctx, int status)
{
	PURGE_STEP *p = ctx;

	p->status = status;
	atomic_store(&p->done, 1);
}

/* policyd_purge - take a finished step, or start the next one when due */

static void
policyd_purge(void)
{
	PURGE_STEP *p = policyd_purge_step;
	long	now = policyd_mono();

	if (p) {
		if (!atomic_load(&p->done))
			return;
		policyd_purge_step = 0;
		if (p->status == STORE_OK) {
			policyd_purge_pos = p->end;
			policyd_purge_at = now;
		} else {
			msg_warn("cannot remove stale frequency counters: %s; trying again "
				 "in a minute", store_strerror(p->status));
			policyd_purge_at = now + 60;
		}
		policyd_rules_unref(p->rules);
		myfree(p);
		if (policyd_purge_pos.db == CAPS_PURGE_DONE) {
			if (policyd_purge_pos.removed)
				msg_info("removed %zu stale frequency counter record%s of %zu",
					 policyd_purge_pos.removed,
					 policyd_purge_pos.removed == 1 ? "" : "s",
					 policyd_purge_pos.seen);
			memset(&policyd_purge_pos, 0, sizeof(policyd_purge_pos));
			policyd_purge_at = now + POLICYD_PURGE_EVERY;
		}
		return;
	}
	if (now < policyd_purge_at)
		return;
	p = mycalloc(1, sizeof(*p));
	pthread_mutex_lock(&policyd_rules_lock);
	p->rules = policyd_rules_ref(policyd_rules);
	pthread_mutex_unlock(&policyd_rules_lock);
	p->now = clock_now();
	p->start = policyd_purge_pos;
	atomic_init(&p->done, 0);
	policyd_purge_step = p;
	store_write_async(policyd_store, policyd_purge_op, p, policyd_purge_done,
			  STORE_W_NOSYNC);
}

/* policyd_settle - lists silent too long no longer count as in flight */

static void
policyd_settle(void)
{
	LOOP   *L = policyd_loop;
	long	timeout = (long) config_int(L->rules->cf, "policyd_inflight_timeout");
	long	now = policyd_mono();
	CONN   *c;

	/*
	 * Postfix does not say when a message is abandoned on a connection
	 * that then stays silent (RSET and QUIT, a refusal at DATA): its
	 * recipients stop counting as in flight after the timeout, but the
	 * list stays, so a slow DATA is still counted at END-OF-MESSAGE.
	 */
	for (c = L->oldest; c && c->last + timeout <= now; c = c->next)
		if (c->pending.inflight)
			policyd_pending_settle(&c->pending);
}

/* policyd_reload - SIGHUP */

static void
policyd_reload(void)
{
	CONFIG *cf;
	POLICYD_RULES *r, *old;
	char   *err;
	static const char *const fixed[] = {"data_directory", "policyd_listen", "mail_owner", 0};
	int	i;

	if ((cf = config_load(policyd_conf_path, &err)) == 0) {
		msg_warn("reload refused, the old configuration stays: %s", err);
		myfree(err);
		return;
	}
	r = policyd_rules_create(cf, &err);
	config_unref(cf);
	if (r == 0) {
		msg_warn("reload refused, the old configuration stays: %s", err);
		myfree(err);
		return;
	}
	pthread_mutex_lock(&policyd_rules_lock);
	old = policyd_rules;
	policyd_rules = r;
	atomic_fetch_add(&policyd_rules_gen, 1);
	pthread_mutex_unlock(&policyd_rules_lock);
	for (i = 0; fixed[i]; i++)
		if (strcmp(config_str(r->cf, fixed[i]), config_str(old->cf, fixed[i])) != 0)
			msg_warn("%s changed: it takes effect at the next start", fixed[i]);
	/* Each loop lets go of the old one at its next turn. */
	policyd_rules_unref(old);
	msg_info("configuration reloaded from %s", config_path(r->cf) ? config_path(r->cf) : "defaults");
}

/* policyd_signal - a signal from the signalfd */

static void
policyd_signal(void)
{
	struct signalfd_siginfo si;

	while (read(policyd_sig_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			policyd_reload();
		else {
			msg_info("signal %d: stopping", (int) si.ssi_signo);
			policyd_stop();
		}
	}
}

/* policyd_stop - every loop ends at its next turn */

static void
policyd_stop(void)
{
	uint64_t one = 1;

	policyd_stopping = 1;
	/* Never read: it stays readable and wakes every loop. */
	if (policyd_stop_fd >= 0 && write(policyd_stop_fd, &one, sizeof(one)) < 0)
		msg_warn("eventfd: %m");
}

/* policyd_epoll - an epoll set that wakes when the daemon stops */

static int
policyd_epoll(void)
{
	struct epoll_event ev;
	int	fd;

	if ((fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		msg_fatal("epoll_create1: %m");
	ev.events = EPOLLIN;
	ev.data.ptr = &policyd_stop_tag;
	if (epoll_ctl(fd, EPOLL_CTL_ADD, policyd_stop_fd, &ev) < 0)
		msg_fatal("epoll_ctl: %m");
	return (fd);
}

/* policyd_loop_rules - the loop takes the current configuration */

static void
policyd_loop_rules(LOOP *L)
{
	unsigned gen = atomic_load(&policyd_rules_gen);

	if (L->rules && L->gen == gen)
		return;
	pthread_mutex_lock(&policyd_rules_lock);
	if (L->rules)
		policyd_rules_unref(L->rules);
	L->rules = policyd_rules_ref(policyd_rules);
	L->gen = atomic_load(&policyd_rules_gen);
	pthread_mutex_unlock(&policyd_rules_lock);
}

/* policyd_run - one event loop until the daemon stops */

static void
policyd_run(LOOP *L)
{
	struct epoll_event events[POLICYD_EVENTS];
	int	i, n, timeout;
	CONN   *c;

	policyd_loop = L;
	while (!policyd_stopping) {
		/* Idle timeouts are whole seconds, and purge steps come a
		 * second apart when idle: one wakeup a second is enough. */
		timeout = L->oldest || !policyd_single ? 1000 : -1;
		n = epoll_wait(L->epfd, events, POLICYD_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("epoll_wait: %m");
		}
		policyd_loop_rules(L);
		for (i = 0; i < n && !policyd_stopping; i++) {
			if (events[i].data.ptr == &policyd_listen_tag)
				policyd_accept();
			else if (events[i].data.ptr == &policyd_sig_tag)
				policyd_signal();
			else if (events[i].data.ptr == &policyd_stop_tag)
				continue;
			else if (events[i].data.ptr == &L->wake_tag)
				policyd_inbox();
			else {
				c = events[i].data.ptr;
				if (c->want_out)
					policyd_work(c);
				else
					policyd_read(c);
				/* c may be gone: a closed connection ends -s. */
			}
			policyd_log_flush();
		}
		policyd_count_flush(policyd_store);
		policyd_loop_rules(L);
		policyd_expire();
		policyd_settle();
		/* The daemon's main thread purges (one process per client with
		 * -s: the daemon does it). */
		if (!policyd_single && !policyd_stopping && L->main)
			policyd_purge();
	}
	policyd_log_flush();
	while (L->oldest)
		policyd_close(L->oldest);
	policyd_log_flush();
	policyd_count_flush(policyd_store);
}

/* policyd_thread - a loop of the daemon's */

static void *
policyd_thread(void *arg)
{
	LOOP   *L = arg;
	sigset_t mask;

	/* Signals go to the main thread's signalfd. */
	sigfillset(&mask);
	pthread_sigmask(SIG_BLOCK, &mask, 0);
	policyd_loop = L;
	policyd_loop_rules(L);
	policyd_run(L);
	policyd_inbox();			/* closes what is left */
	policyd_rules_unref(L->rules);
	strbuf_free(&L->logbuf);
	store_thread_end(policyd_store);
	return (0);
}

/* policyd_nthreads - policyd_threads, 0 meaning one per CPU */

static int
policyd_nthreads(CONFIG *cf)
{
	long	n = (long) config_int(cf, "policyd_threads");

	if (n <= 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) <= 0)
		n = 1;
	return (n > POLICYD_THREADS_MAX ? POLICYD_THREADS_MAX : (int) n);
}

/* policyd_files - room for every connection */

static void
policyd_files(int max)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t) max + 32)
		return;
	rl.rlim_cur = (rlim_t) max + 32;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t) max + 32)
		msg_warn("policyd_max_connections = %d, but only %ld files may be open",
			 max, (long) rl.rlim_cur);
}

/* usage - and exit */

static void
usage(void)
{
	fprintf(stderr, "usage: postdrip-policyd [-fnsv] [-c FILE] (--help for more)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct epoll_event ev;
	CONFIG *cf;
	sigset_t mask;
	char   *err;
	int	ch, foreground = 0, verbose = 0, check = 0, i, nthreads, err_no;
	CONN   *c;
	LOOP	main_loop, *loops;

	memset(&main_loop, 0, sizeof(main_loop));
	main_loop.main = 1;
	policyd_conf_path = CONFIG_DEFAULT_PATH;
	usage_std(argc, argv, "postdrip-policyd", "postdrip-policyd [-fnsv] [-c FILE]",
		  "  -c FILE     the configuration (default " CONFIG_DEFAULT_PATH ")\n"
		  "  -f          stay in the foreground, log to stderr as well\n"
		  "  -n          check the configuration and exit (0: good)\n"
		  "  -s          single-threaded: one request at a time\n"
		  "  -v          more logging (repeat for more)\n");
	while ((ch = getopt(argc, argv, "c:fnsv")) != -1) {
		switch (ch) {
		case 'c':
			policyd_conf_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 's':
			policyd_single = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check) {
		/* Like "opendkim -n": errors on stderr, exit status. */
		if ((cf = config_load(policyd_conf_path, &err)) != 0) {
			policyd_rules = policyd_rules_create(cf, &err);
			config_unref(cf);
		}
		if (policyd_rules == 0) {
			fprintf(stderr, "%s\n", err);
			myfree(err);
			exit(1);
		}
		policyd_rules_unref(policyd_rules);
		exit(0);
	}
	/* With -s, stdout is the client: diagnostics never go there. */
	msg_open("postdrip-policyd", foreground);
	msg_verbose_set(verbose);
	if ((cf = config_load(policyd_conf_path, &err)) == 0)
		msg_fatal("%s", err);
	if ((policyd_rules = policyd_rules_create(cf, &err)) == 0)
		msg_fatal("%s", err);
	config_unref(cf);
	cf = policyd_rules->cf;

	/* Socket first, while we may still be root. */
	if (!policyd_single) {
		if ((policyd_listen_fd = config_socket_listen(config_str(cf, "policyd_listen"),
							      0666, &err)) < 0)
			msg_fatal("listen: %s", err);
		if (fcntl(policyd_listen_fd, F_SETFL, O_NONBLOCK) < 0)
			msg_fatal("fcntl: %m");
		if (!foreground)
			daemon_detach();
	}
	daemon_drop_privileges(config_str(cf, "mail_owner"));
	policyd_files((int) config_int(cf, "policyd_max_connections"));

	/* Signals arrive through a descriptor; block them before the store's
	 * writer thread starts, so that it inherits the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, 0) < 0)
		msg_fatal("sigprocmask: %m");
	if ((policyd_sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		msg_fatal("signalfd: %m");

	if ((policyd_store = store_open_config(cf, 0, &err)) == 0)
		msg_fatal("cannot open the store: %s", err);

	policyd_spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if ((policyd_stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		msg_fatal("eventfd: %m");
	main_loop.epfd = policyd_epoll();
	ev.events = EPOLLIN;
	ev.data.ptr = &policyd_sig_tag;
	if (epoll_ctl(main_loop.epfd, EPOLL_CTL_ADD, policyd_sig_fd, &ev) < 0)
		msg_fatal("epoll_ctl: %m");
	policyd_loop = &main_loop;
	policyd_loop_rules(&main_loop);
	if (policyd_single) {
		(void) fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		(void) fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
		atomic_fetch_add(&policyd_nconn, 1);
		atomic_fetch_add(&main_loop.nconn, 1);
		c = policyd_conn_new(0, 1, "stdin");
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(main_loop.epfd, EPOLL_CTL_ADD, 0, &ev) < 0)
			msg_fatal("epoll_ctl stdin: %m");
		policyd_run(&main_loop);
	} else {
		nthreads = policyd_nthreads(cf);
		loops = mycalloc((size_t) nthreads, sizeof(*loops));
		policyd_loops = loops;
		policyd_nloops = nthreads;
		for (i = 0; i < nthreads; i++) {
			loops[i].epfd = policyd_epoll();
			pthread_mutex_init(&loops[i].inbox_lock, 0);
			if ((loops[i].wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
				msg_fatal("eventfd: %m");
			ev.events = EPOLLIN;
			ev.data.ptr = &loops[i].wake_tag;
			if (epoll_ctl(loops[i].epfd, EPOLL_CTL_ADD, loops[i].wake_fd, &ev) < 0)
				msg_fatal("epoll_ctl: %m");
		}
		for (i = 0; i < nthreads; i++) {
			/* One of the loops is woken for a new client, not all. */
			ev.events = EPOLLIN | EPOLLEXCLUSIVE;
			ev.data.ptr = &policyd_listen_tag;
			if (epoll_ctl(loops[i].epfd, EPOLL_CTL_ADD, policyd_listen_fd, &ev) < 0)
				msg_fatal("epoll_ctl: %m");
			if ((err_no = pthread_create(&loops[i].thr, 0, policyd_thread, loops + i)) != 0)
				msg_fatal("pthread_create: %s", strerror(err_no));
		}
		msg_info("ready on %s, %d thread%s", config_str(cf, "policyd_listen"),
			 nthreads, nthreads == 1 ? "" : "s");
		/* The main thread: signals and the purge of stale counters. */
		policyd_run(&main_loop);
		for (i = 0; i < nthreads; i++)
			pthread_join(loops[i].thr, 0);
		for (i = 0; i < nthreads; i++) {
			close(loops[i].epfd);
			close(loops[i].wake_fd);
			pthread_mutex_destroy(&loops[i].inbox_lock);
		}
		policyd_loops = 0;
		policyd_nloops = 0;
		myfree(loops);
	}
	store_flush(policyd_store);
	store_close(policyd_store);
	policyd_count_forget();
	if (policyd_purge_step) {
		policyd_rules_unref(policyd_purge_step->rules);
		myfree(policyd_purge_step);
	}
	policyd_rules_unref(main_loop.rules);
	strbuf_free(&main_loop.logbuf);
	policyd_rules_unref(policyd_rules);
	return (0);
}
