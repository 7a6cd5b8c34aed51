/*++
/* NAME
/*	postdrip-milter 8
/* SUMMARY
/*	record marketing sends and inbound signals from Postfix mail
/* SYNOPSIS
/*	postdrip-milter [-fv] [-c config_file]
/* DESCRIPTION
/*	postdrip-milter is a Sendmail/Postfix milter. It watches mail that
/*	Postfix receives (smtpd_milters) and mail that Postfix submits
/*	locally (non_smtpd_milters), and:
/* .IP \(bu
/*	records each marketing send (its Message-ID, contact, workflow,
/*	step and stream), and drops a re-injected duplicate of a workflow
/*	message (at most once);
/* .IP \(bu
/*	gives marketing mail from any sender a signed VERP return path,
/*	List-Unsubscribe (one-click), a Feedback-ID, and tracked links and
/*	opens (milter_out(3));
/* .IP \(bu
/*	turns mail to the bounce domain (VERP bounces, reply and
/*	unsubscribe addresses, feedback-loop reports) into events tied to
/*	a contact, and consumes that mail once its event is durable;
/* .IP \(bu
/*	counts replies to marketing mail when the author is the contact,
/*	and records auto-replies, read receipts and bounces that reach
/*	other addresses, without changing their delivery;
/* .IP \(bu
/*	with lmtp_listen set, runs the LMTP receiver to which Postfix
/*	delivers the bounce domain instead (milter_lmtp(3)); the milter
/*	then leaves that mail, and the replies the receiver forwards, alone.
/* .PP
/*	The full description, with the decisions and the Postfix settings,
/*	is in postdrip-milter(8) (man/postdrip-milter.8).
/*
/*	This file: main(), the libmilter callback table, and the
/*	per-connection and per-message contexts. Each connection context
/*	(MILTER_CONN) hangs off smfi_setpriv() from negotiation to close;
/*	a message context (MILTER_MSG) lives from MAIL FROM to end of
/*	message or abort. Both are freed by whoever ends them.
/*
/*	Options:
/* .IP "-c config_file"
/*	The postdrip.conf to read (default: the installed one).
/* .IP -f
/*	Stay in the foreground and log to stderr as well as syslog.
/* .IP -v
/*	More logging.
/* SECURITY
/*	Keys are read and the socket is made as root; then the process
/*	drops to mail_owner (setgroups, setresgid, setresuid, each fatal on
/*	failure) before it reads any mail or opens the store.
/*
/*	SIGHUP builds a new, reference-counted settings set (MILTER_SET);
/*	each connection keeps the set it started with until it closes.
/*	SIGTERM and SIGINT call smfi_stop() and connect to the listening
/*	socket, so that libmilter's listener, which waits up to 5 s for a
/*	connection before it looks at its stop flag, ends at once.
/*	libmilter's own signal thread, which would stop on SIGHUP too and
/*	take seconds over a stop, never gets these signals: the program
/*	defines the sigwait() that libmilter calls.
/* DIAGNOSTICS
/*	One log line per decision, starting with the queue id; problems of
/*	our own with msg_warn(). Exit status 0 after SIGTERM or SIGINT (a
/*	clean stop that drains the store's write queue), 1 on a fatal error.
/* SEE ALSO
/*	postdrip-milter(8), milter_eom(3), milter_out(3), milter_lmtp(3),
/*	signal(3), spf(3)
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#ifdef HAVE_MALLOC_H
#include <malloc.h>
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "util/clock.h"
#include "util/daemon.h"
#include "util/msg.h"
#include "util/usage.h"
#include "util/mymalloc.h"
#include "classify/classify.h"
#include "milter.h"
#include "milter_lmtp.h"

#define MILTER_NAME		"postdrip-milter"
#define MILTER_STORE_RETRY	10	/* seconds between store_open() tries */

MILTER_GLOBAL milter_global;

static char milter_socket_path[1024];	/* unix socket to remove at exit */

/* milter_store - the store, opened on first use; NULL when unusable now */

STORE  *
milter_store(void)
{
	MILTER_GLOBAL *g = &milter_global;
	STORE  *st;
	char   *err;
	time_t	now = time(0);

	pthread_mutex_lock(&g->st_mu);
	if (g->st == 0 && now >= g->st_next_try) {
		if ((g->st = store_open_config(g->store_cf, 0, &err)) == 0) {
			msg_warn("cannot open the store: %s; mail that needs it is deferred", err);
			myfree(err);
			g->st_next_try = now + MILTER_STORE_RETRY;
		}
	}
	st = g->st;
	pthread_mutex_unlock(&g->st_mu);
	return (st);
}

/* milter_set_load - settings from a file; NULL with *err */

static MILTER_SET *
milter_set_load(const char *path, MILTER_KEYS *old_keys, char **err)
{
	MILTER_SET *set;
	CONFIG *cf;
	char   *kerr;

	if ((cf = config_load(path, err)) == 0)
		return (0);
	/* The bounce vocabulary: a broken file refuses the start or reload. */
	if (classify_reasons_config(cf, err) < 0) {
		config_unref(cf);
		return (0);
	}
	set = mycalloc(1, sizeof(*set));
	set->refs = 1;
	set->cf = cf;
	verp_from_config(&set->verp, cf);
	set->keys = mycalloc(1, sizeof(*set->keys));
	set->keys->refs = 1;
	if ((set->keys->tk = tokens_load(config_str(cf, "token_key_file"), &kerr)) == 0) {
		if (old_keys && old_keys->tk) {
			/* After the privilege drop the file may be root's alone. */
			msg_warn("%s; keeping the keys read before", kerr);
			myfree(set->keys);
			pthread_mutex_lock(&milter_global.set_mu);
			old_keys->refs++;
			pthread_mutex_unlock(&milter_global.set_mu);
			set->keys = old_keys;
		} else {
			msg_warn("%s; tokens are not verified: bounces are tied by Message-ID "
				 "and recipient only", kerr);
		}
		myfree(kerr);
	}
	set->tk = set->keys->tk;
	set->spf_check = config_bool(cf, "spf_check");
	if ((set->stream = stream_rules_create(cf, &kerr)) == 0) {
		*err = myasprintf("%s: %s", path, kerr);
		myfree(kerr);
		milter_set_release(set);
		return (0);
	}
	set->header_limit = config_int(cf, "milter_header_limit");
	set->body_limit = config_int(cf, "milter_body_limit");
	set->rcpt_limit = config_int(cf, "milter_recipient_limit");
	set->params.soft_limit = config_int(cf, "soft_bounce_limit");
	set->params.soft_window = config_int(cf, "soft_bounce_window");
	set->params.forward_owner = config_bool(cf, "reply_forward_owner");
	set->lmtp = *config_str(cf, "lmtp_listen") != 0;
	set->tracker_url = config_str(cf, "tracker_url");
	set->track[0].links = config_bool(cf, "track_links");
	set->track[0].opens = config_bool(cf, "track_opens");
	set->track[0].text_links = config_bool(cf, "track_text_links");
	set->track[1].links = config_bool(cf, "transactional_track_links");
	set->track[1].opens = config_bool(cf, "transactional_track_opens");
	set->track[1].text_links = config_bool(cf, "transactional_track_text_links");
	set->rewrite_max = config_int(cf, "rewrite_max_size");
	set->exclude_domains = config_list(cf, "tracking_exclude_domains");
	set->dkim_domains = config_list(cf, "dkim_signing_domains");
	set->honeypot_link = config_str(cf, "tracker_honeypot_link");
	set->create_contacts = config_bool(cf, "milter_create_contacts");
	set->feedback_id = config_str(cf, "feedback_id_sender");
	if ((set->list_unsub = milter_out_list_unsub_mode(config_str(cf, "milter_list_unsubscribe"))) < 0) {
		*err = myasprintf("%s: milter_list_unsubscribe: \"%s\" is not add, keep or replace",
				  path, config_str(cf, "milter_list_unsubscribe"));
		milter_set_release(set);
		return (0);
	}
	return (set);
}

/* milter_set_release - drop a reference; the last one frees */

void
milter_set_release(MILTER_SET *set)
{
	int	last, last_keys = 0;

	if (set == 0)
		return;
	pthread_mutex_lock(&milter_global.set_mu);
	if ((last = (--set->refs == 0)) != 0)
		last_keys = (--set->keys->refs == 0);
	pthread_mutex_unlock(&milter_global.set_mu);
	if (!last)
		return;
	if (last_keys) {
		tokens_free(set->keys->tk);
		myfree(set->keys);
	}
	stream_rules_free(set->stream);
	config_unref(set->cf);
	myfree(set);
}

/* milter_set_current - a reference to the current settings */

MILTER_SET *
milter_set_current(void)
{
	MILTER_SET *set;

	pthread_mutex_lock(&milter_global.set_mu);
	set = milter_global.set;
	set->refs++;
	pthread_mutex_unlock(&milter_global.set_mu);
	return (set);
}

/* milter_reload - SIGHUP: new settings for new connections */

static void
milter_reload(void)
{
	MILTER_GLOBAL *g = &milter_global;
	MILTER_SET *set, *old;
	char   *err;

	if ((set = milter_set_load(g->config_path, g->set->keys, &err)) == 0) {
		msg_warn("reload refused, keeping the settings in use: %s", err);
		myfree(err);
		return;
	}
	if (strcmp(config_str(set->cf, "data_directory"),
		   config_str(g->store_cf, "data_directory")) != 0
	    || strcmp(config_str(set->cf, "milter_listen"),
		      config_str(g->store_cf, "milter_listen")) != 0
	    || strcmp(config_str(set->cf, "lmtp_listen"),
		      config_str(g->store_cf, "lmtp_listen")) != 0)
		msg_warn("data_directory, milter_listen and lmtp_listen change only with a restart");
	pthread_mutex_lock(&g->set_mu);
	old = g->set;
	g->set = set;
	pthread_mutex_unlock(&g->set_mu);
	milter_set_release(old);
	msg_info("reloaded %s", g->config_path);
}

/* milter_wake_listener - connect to our own socket until the listener ends */

static void *
milter_wake_listener(void *arg)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
	socklen_t len;
	int	fd = *(int *) arg, c, n, val;

	/*
	 * libmilter's listener holds its lock while it waits up to 5 s in
	 * select() for a connection, and smfi_stop() needs that lock to close
	 * the socket: a stop waited that long. A connection wakes it at once;
	 * libmilter then sees the stop flag and ends the loop. The first try
	 * waits a moment so that smfi_stop() has raised the flag by then.
	 */
	len = sizeof(ss);
	if (fd < 0 || getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
		return (0);
	if (ss.ss_family == AF_INET && sin->sin_addr.s_addr == htonl(INADDR_ANY))
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
		sin6->sin6_addr = in6addr_loopback;
	for (n = 0; n < 100; n++) {
		usleep(20000);
		pthread_mutex_lock(&milter_global.st_mu);
		val = milter_global.listener_done;
		pthread_mutex_unlock(&milter_global.st_mu);
		if (val)
			break;
		if ((c = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
			break;
		(void) connect(c, (struct sockaddr *) &ss, len);
		(void) close(c);
	}
	return (0);
}

/* milter_listen_fd - libmilter's listening socket, or -1 */

static int
milter_listen_fd(void)
{
	int	fd, val;
	socklen_t len;

	for (fd = 0; fd < 1024; fd++) {
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) == 0 && val)
			return (fd);
	}
	return (-1);
}

/*
 * libmilter starts a thread of its own that waits in sigwait() for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them (SIGHUP too,
 * where we reload), a stop that then waits up to 5 s for its listener.
 * The kernel gives a signal sent to the process to either waiting thread,
 * so a reload could stop the milter. This sigwait() is the one libmilter
 * calls (the program's own definition comes first): it gives these
 * signals to our thread alone and parks any other thread that asks for
 * them. A wait for other signals is left to sigwaitinfo().
 */
static __thread int milter_signal_thread;

int
sigwait(const sigset_t *set, int *sig)
{
	int	n;

	if (!milter_signal_thread
	    && (sigismember(set, SIGHUP) == 1 || sigismember(set, SIGTERM) == 1
		|| sigismember(set, SIGINT) == 1))
		for (;;)
			pause();
	do {
		n = sigwaitinfo(set, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno);
	*sig = n;
	return (0);
}

/* milter_signals - the thread that waits for SIGHUP, SIGTERM and SIGINT */

static void *
milter_signals(void *arg)
{
	sigset_t set;
	pthread_t waker;
	int	sig;

	(void) arg;
	milter_signal_thread = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			milter_reload();
			continue;
		}
		pthread_mutex_lock(&milter_global.st_mu);
		milter_global.stopping = 1;
		pthread_mutex_unlock(&milter_global.st_mu);
		if (pthread_create(&waker, 0, milter_wake_listener, &milter_global.listen_fd) == 0)
			(void) pthread_detach(waker);
		(void) smfi_stop();
		return (0);
	}
}

/* milter_queue_id - the queue id, from macro {i} when it is known */

const char *
milter_queue_id(SMFICTX *ctx, MILTER_MSG *msg)
{
	const char *qid;

	if ((qid = smfi_getsymval(ctx, "i")) != 0 && *qid)
		snprintf(msg->queue_id, sizeof(msg->queue_id), "%s", qid);
	return (msg->queue_id[0] ? msg->queue_id : "NOQUEUE");
}

/* milter_msg_free - end of a message */

static void
milter_msg_free(MILTER_CONN *conn)
{
	MILTER_MSG *msg = conn->msg;
	size_t	i;

	if (msg == 0)
		return;
	for (i = 0; i < msg->nrcpt; i++)
		myfree(msg->rcpt[i].raw);
	if (msg->sender_lu)
		myfree(msg->sender_lu);
	myfree(msg->rcpt);
	strbuf_free(&msg->text);
	strbuf_free(&msg->refs);
	myfree(msg);
	conn->msg = 0;
}

/* milter_conn - the connection context, made on first need */

static MILTER_CONN *
milter_conn(SMFICTX *ctx)
{
	MILTER_CONN *conn = smfi_getpriv(ctx);

	if (conn == 0) {
		conn = mycalloc(1, sizeof(*conn));
		conn->set = milter_set_current();
		smfi_setpriv(ctx, conn);
	}
	return (conn);
}

/* milter_reply - no reply where the MTA agreed to go without one */

static sfsistat
milter_reply(const MILTER_CONN *conn, unsigned long nr_flag)
{
	return ((conn->proto & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

/* milter_copy - bounded copy of a callback string */

static void
milter_copy(char *dst, size_t max, const char *src)
{
	snprintf(dst, max, "%s", src ? src : "");
}

/* milter_negotiate - what we need from Postfix, and fewer round trips */

static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		         unsigned long f2, unsigned long f3, unsigned long *pf0,
		         unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	MILTER_CONN *conn = milter_conn(ctx);

	/*
	 * Every decision is taken at end of message, so no earlier stage
	 * needs an answer: each reply not waited for is a round trip less
	 * per message (this is what keeps Postfix near its speed without a
	 * milter). Body chunks too: for mail that is no signal they are
	 * dropped on arrival, which costs less than a round trip for
	 * SMFIS_SKIP (the fallback when Postfix cannot do without replies).
	 * No end-of-header event either (its decision is taken at the
	 * first body chunk): each packet costs libmilter a handful of
	 * system calls, and a milter that reads the body pays for every
	 * one of them on every message.
	 */
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS
		     | SMFIF_CHGBODY | SMFIF_CHGFROM);
	*pf1 = f1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
		     | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN
		     | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_SKIP);
	*pf2 = *pf3 = 0;
	conn->proto = *pf1;
	(void) f2;
	(void) f3;
	return (SMFIS_CONTINUE);
}

/* milter_connect - the client */

static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	MILTER_CONN *conn = milter_conn(ctx);
	struct sockaddr *sa = (struct sockaddr *) hostaddr;

	milter_copy(conn->client_name, sizeof(conn->client_name), hostname);
	conn->client_addr[0] = 0;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *) sa)->sin_addr,
			  conn->client_addr, sizeof(conn->client_addr));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) sa)->sin6_addr,
			  conn->client_addr, sizeof(conn->client_addr));
	return (milter_reply(conn, SMFIP_NR_CONN));
}

/* milter_helo - the HELO name, for SPF */

static sfsistat
milter_helo(SMFICTX *ctx, char *helohost)
{
	MILTER_CONN *conn = milter_conn(ctx);

	milter_copy(conn->helo, sizeof(conn->helo), helohost);
	return (milter_reply(conn, SMFIP_NR_HELO));
}

/* milter_envfrom - a new message */

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	MILTER_CONN *conn = milter_conn(ctx);
	MILTER_MSG *msg;
	const char *from = argv && argv[0] ? argv[0] : "";

	milter_msg_free(conn);
	conn->msg = msg = mycalloc(1, sizeof(*msg));
	(void) milter_queue_id(ctx, msg);
	if (strcmp(from, "<>") == 0 || *from == 0
	    || addr_normalize(from, msg->mail_from) == 0) {
		msg->mail_from[0] = 0;
		msg->null_sender = (strcmp(from, "<>") == 0 || *from == 0);
	}
	milter_copy(msg->sasl_username, sizeof(msg->sasl_username),
		    smfi_getsymval(ctx, "{auth_authen}"));
	msg->stream = milter_eom_send_stream(conn->set, msg, conn->client_addr);
	return (milter_reply(conn, SMFIP_NR_MAIL));
}

/* milter_envrcpt - one recipient; bounded */

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	MILTER_CONN *conn = milter_conn(ctx);
	MILTER_MSG *msg = conn->msg;
	MILTER_RCPT *r;
	const char *to = argv && argv[0] ? argv[0] : "";

	if (msg == 0)
		return (milter_reply(conn, SMFIP_NR_RCPT));
	if (msg->nrcpt >= conn->set->rcpt_limit) {
		msg->rcpt_dropped++;
		return (milter_reply(conn, SMFIP_NR_RCPT));
	}
	msg->rcpt = myrealloc(msg->rcpt, (msg->nrcpt + 1) * sizeof(*msg->rcpt));
	r = msg->rcpt + msg->nrcpt++;
	r->raw = mystrdup(to);
	if (addr_normalize(to, r->addr) == 0)
		r->addr[0] = 0;
	r->kind = r->addr[0] ? verp_parse(&conn->set->verp, r->addr, 0, 0) : VERP_NONE;
	if (r->kind != VERP_NONE && conn->set->lmtp)
		msg->lmtp_skip = 1;		/* the LMTP receiver's, not ours */
	else if (r->kind != VERP_NONE)
		msg->nbounce_domain++;
	return (milter_reply(conn, SMFIP_NR_RCPT));
}

/* milter_msgid - the first <...> of a Message-ID value, without <> */

static void
milter_msgid(char *dst, size_t max, const char *value)
{
	const char *lt = strchr(value, '<'), *gt;
	size_t	len;

	dst[0] = 0;
	if (lt && (gt = strchr(lt + 1, '>')) != 0)
		value = lt + 1;
	else {
		while (*value == ' ' || *value == '\t')
			value++;
		gt = value + strcspn(value, " \t\r\n");
	}
	len = gt - value;
	if (len > 0 && len < max) {
		memcpy(dst, value, len);
		dst[len] = 0;
	}
}

/* milter_header - keep the header (bounded) and what we act on */

static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	MILTER_CONN *conn = milter_conn(ctx);
	MILTER_MSG *msg = conn->msg;
	size_t	nlen, vlen;

	if (msg == 0 || name == 0 || value == 0)
		return (milter_reply(conn, SMFIP_NR_HDR));
	nlen = strlen(name);
	vlen = strlen(value);
	if (!msg->header_over && msg->header_bytes + nlen + vlen + 4 <= conn->set->header_limit) {
		strbuf_append(&msg->text, name, nlen);
		strbuf_append(&msg->text, ": ", 2);
		strbuf_append(&msg->text, value, vlen);
		strbuf_append(&msg->text, "\r\n", 2);
		msg->header_bytes += nlen + vlen + 4;
	} else {
		msg->header_over = 1;
	}
	if (msg->stream)
		milter_out_header(msg, name, value);
	if (strcasecmp(name, "Message-ID") == 0 && msg->message_id[0] == 0) {
		milter_msgid(msg->message_id, sizeof(msg->message_id), value);
	} else if (strcasecmp(name, "In-Reply-To") == 0 || strcasecmp(name, "References") == 0) {
		if (strbuf_len(&msg->refs) + vlen + 1 <= MILTER_REFS_MAX) {
			strbuf_append(&msg->refs, value, vlen);
			strbuf_putc(&msg->refs, ' ');
		}
	} else if (strcasecmp(name, "X-Postdrip-Workflow") == 0) {
		milter_copy(msg->workflow, sizeof(msg->workflow), value + strspn(value, " \t"));
	} else if (strcasecmp(name, "X-Postdrip-Step") == 0) {
		milter_copy(msg->step, sizeof(msg->step), value + strspn(value, " \t"));
	} else if (strcasecmp(name, "X-Postdrip-Forwarded") == 0 && conn->set->lmtp) {
		if (milter_lmtp_mark_ok(conn->set, value))
			msg->lmtp_skip = 1;	/* a reply the LMTP receiver forwarded */
	}
	return (milter_reply(conn, SMFIP_NR_HDR));
}

/*
 * milter_headers_done - the headers are all in: decide whether the body
 * is needed. Called at end of headers, or, when Postfix agreed not to
 * send that event (SMFIP_NOEOH: two packets less per message), at the
 * first body chunk or at end of message, whichever comes first.
 */

static void
milter_headers_done(MILTER_CONN *conn, MILTER_MSG *msg)
{
	if (msg->headers_done)
		return;
	msg->headers_done = 1;
	strbuf_append(&msg->text, "\r\n", 2);
	if (msg->lmtp_skip) {
		msg->need_body = 0;
		return;
	}

	/*
	 * Only signals need the body: mail to the bounce domain, mail from
	 * the null sender (a DSN may reach a marketing sender's own
	 * address), and mail that names a Message-ID we sent. Everything
	 * else, the bulk of the traffic, is not copied at all.
	 */
	/*
	 * A send needs it too when its stream's links or opens are tracked:
	 * it is kept up to rewrite_max_size, beyond which it goes unchanged.
	 */
	if (msg->stream) {
		const MILTER_TRACK *tr = MILTER_TRACKS(conn->set, msg->stream);

		msg->out_body = msg->nbounce_domain == 0 && conn->set->tk
			&& *conn->set->tracker_url
			&& MILTER_TRACKS_ANY(tr);
	}
	msg->need_body = msg->out_body || msg->nbounce_domain > 0 || msg->null_sender
		|| (strbuf_len(&msg->refs) > 0 && !msg->stream
		    && milter_eom_refs_ours(msg));
}

/* milter_eoh - end of headers, when Postfix sends it */

static sfsistat
milter_eoh(SMFICTX *ctx)
{
	MILTER_CONN *conn = milter_conn(ctx);

	if (conn->msg)
		milter_headers_done(conn, conn->msg);
	return (milter_reply(conn, SMFIP_NR_EOH));
}

/* milter_body - keep the body of a signal, bounded */

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	MILTER_CONN *conn = milter_conn(ctx);
	MILTER_MSG *msg = conn->msg;
	size_t	room;

	if (msg)
		milter_headers_done(conn, msg);
	if (msg && msg->out_body && !msg->out_over) {
		/* The whole message counts against rewrite_max_size. */
		if (conn->set->rewrite_max
		    && strbuf_len(&msg->text) + len > conn->set->rewrite_max) {
			msg->out_over = 1;
			strbuf_truncate(&msg->text, msg->header_bytes + 2);
		} else {
			strbuf_append(&msg->text, chunk, len);
			msg->body_bytes += len;
			return (milter_reply(conn, SMFIP_NR_BODY));
		}
	} else if (msg && msg->need_body && !msg->out_body && !msg->body_over) {
		room = conn->set->body_limit - msg->body_bytes;
		if (len > room) {
			len = room;
			msg->body_over = 1;
		}
		strbuf_append(&msg->text, chunk, len);
		msg->body_bytes += len;
		if (!msg->body_over)
			return (milter_reply(conn, SMFIP_NR_BODY));
	}
	if (conn->proto & SMFIP_NR_BODY)
		return (SMFIS_NOREPLY);
	return ((conn->proto & SMFIP_SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE);
}

/* milter_eom_cb - all decisions */

static sfsistat
milter_eom_cb(SMFICTX *ctx)
{
	MILTER_CONN *conn = milter_conn(ctx);
	sfsistat rc = SMFIS_CONTINUE;

	if (conn->msg)
		milter_headers_done(conn, conn->msg);
	if (conn->msg && !conn->msg->lmtp_skip)
		rc = milter_eom(ctx, conn, conn->msg);
	milter_msg_free(conn);
	return (rc);
}

/* milter_abort - the message ends without end of message */

static sfsistat
milter_abort(SMFICTX *ctx)
{
	MILTER_CONN *conn = smfi_getpriv(ctx);

	if (conn)
		milter_msg_free(conn);
	return (SMFIS_CONTINUE);
}

/* milter_close - the connection ends */

static sfsistat
milter_close(SMFICTX *ctx)
{
	MILTER_CONN *conn = smfi_getpriv(ctx);
	STORE  *st;

	if (conn) {
		milter_msg_free(conn);
		milter_set_release(conn->set);
		myfree(conn);
		smfi_setpriv(ctx, 0);
	}
	/* libmilter ends this thread after close: drop its read txn slot. */
	pthread_mutex_lock(&milter_global.st_mu);
	st = milter_global.st;
	pthread_mutex_unlock(&milter_global.st_mu);
	if (st)
		store_thread_end(st);
	return (SMFIS_CONTINUE);
}

static struct smfiDesc milter_desc = {
	MILTER_NAME,
	SMFI_VERSION,
	SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_CHGBODY
	| SMFIF_CHGFROM,
	milter_connect,
	milter_helo,
	milter_envfrom,
	milter_envrcpt,
	milter_header,
	milter_eoh,
	milter_body,
	milter_eom_cb,
	milter_abort,
	milter_close,
	0,				/* unknown */
	0,				/* data */
	milter_negotiate,
};

/* milter_conn_spec - Postfix notation to libmilter notation */

static char *
milter_conn_spec(const char *spec)
{
	const char *rest, *colon;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		rest = strchr(spec, ':') + 1;
		snprintf(milter_socket_path, sizeof(milter_socket_path), "%s", rest);
		return (myasprintf("unix:%s", rest));
	}
	if (strncmp(spec, "inet:", 5) == 0) {
		rest = spec + 5;
		if (*rest == '[' && (colon = strstr(rest, "]:")) != 0)
			return (myasprintf("inet6:%s@%.*s", colon + 2,
					   (int) (colon - rest - 1), rest + 1));
		if ((colon = strrchr(rest, ':')) == 0)
			return (myasprintf("inet:%s", rest));
		return (myasprintf("inet:%s@%.*s", colon + 1, (int) (colon - rest), rest));
	}
	msg_fatal("milter_listen: unsupported socket \"%s\" (use unix:/path or inet:host:port)",
		  spec);
}

/* milter_socket_dir - make the unix socket's directory if it is missing */

static void
milter_socket_dir(const char *path)
{
	char   *dir = mystrdup(path), *slash;
	struct stat sb;

	/* /run/postdrip is often a tmpfs: gone after each boot. */
	if ((slash = strrchr(dir, '/')) != 0 && slash != dir) {
		*slash = 0;
		if (stat(dir, &sb) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0)
			msg_fatal("mkdir %s: %m", dir);
	}
	myfree(dir);
}

/* milter_nodelay - TCP_NODELAY on the listening sockets */

static void
milter_nodelay(void)
{
	int	fd, on = 1, val;
	socklen_t len;
	long	maxfd = sysconf(_SC_OPEN_MAX);

	/*
	 * libmilter makes and accepts on its own socket and hides the
	 * descriptor, so find it. Linux copies TCP_NODELAY from the
	 * listening socket to each accepted one. Without it, Nagle plus
	 * delayed ACKs cost up to 40 ms per milter reply (measured: about
	 * 107 messages/s against 480/s over a unix socket).
	 */
	for (fd = 0; fd < (maxfd > 0 && maxfd < 4096 ? maxfd : 4096); fd++) {
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 || !val)
			continue;
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) < 0
		    || (val != AF_INET && val != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
			msg_warn("cannot set TCP_NODELAY on the listening socket: %m");
	}
}

/* milter_drop_privileges - socket to mail_owner, then become it */

static void
milter_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == 0 || *user == 0 || geteuid() != 0)
		return;
	if ((pw = getpwnam(user)) == 0)
		msg_fatal("mail_owner: unknown user \"%s\"", user);
	/* Ours, so that we can remove it at exit. */
	if (*milter_socket_path && chown(milter_socket_path, pw->pw_uid, pw->pw_gid) < 0)
		msg_fatal("chown %s: %m", milter_socket_path);
	daemon_drop_privileges(user);
}

/* milter_usage - and exit */

static void
milter_usage(void)
{
	fprintf(stderr, "usage: %s [-fv] [-c FILE] (--help for more)\n", MILTER_NAME);
	exit(2);
}

int
main(int argc, char **argv)
{
	MILTER_GLOBAL *g = &milter_global;
	const char *path = 0, *spec, *spf_zone;
	int	ch, foreground = 0, verbose = 0, status;
	CONFIG *cf;
	char   *err, *conn;
	pthread_t sigthr;
	sigset_t sigs;
	STORE  *st;
	int	stopping;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &sigs, 0)) != 0)
		msg_fatal("pthread_sigmask: %m");
	usage_std(argc, argv, MILTER_NAME, MILTER_NAME " [-fv] [-c FILE]",
		  "  -c FILE     the configuration (default " CONFIG_DEFAULT_PATH ")\n"
		  "  -f          stay in the foreground, log to stderr as well\n"
		  "  -v          more logging (repeat for more)\n");
	while ((ch = getopt(argc, argv, "c:fv")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			milter_usage();
		}
	}
	if (optind != argc)
		milter_usage();
	msg_open(MILTER_NAME, foreground);
	msg_verbose_set(verbose);
#ifdef HAVE_MALLOPT

	/*
	 * Each message is held whole, with its rewritten copy: hundreds of
	 * KB taken and given back per message by every session thread. Keep
	 * that memory in the process instead of returning it to the kernel
	 * and faulting it in again for the next message (measured: a third
	 * of the milter's CPU time on 40 KB newsletters). Messages of
	 * several MB still get their own mappings.
	 */
	(void) mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	(void) mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
#endif
	g->config_path = path ? path : CONFIG_DEFAULT_PATH;
	pthread_mutex_init(&g->set_mu, 0);
	pthread_mutex_init(&g->st_mu, 0);
	if ((g->set = milter_set_load(g->config_path, 0, &err)) == 0)
		msg_fatal("%s", err);
	cf = g->store_cf = config_ref(g->set->cf);
	/* Tests publish SPF policies without a name server. */
	if ((spf_zone = getenv("POSTDRIP_SPF_ZONE")) != 0 && *spf_zone) {
		if ((g->spf = spf_create_file(spf_zone, &err)) == 0)
			msg_fatal("POSTDRIP_SPF_ZONE: %s", err);
		msg_warn("SPF records are read from %s, not from DNS (POSTDRIP_SPF_ZONE)",
			 spf_zone);
	} else if ((g->spf = spf_create()) == 0)
		msg_warn("libspf2 cannot be initialized; SPF is not checked");

	spec = config_str(cf, "milter_listen");
	if (spec == 0 || *spec == 0)
		msg_fatal("milter_listen is empty");
	conn = milter_conn_spec(spec);
	if (smfi_setconn(conn) != MI_SUCCESS)
		msg_fatal("milter_listen: libmilter refuses \"%s\"", conn);
	if (smfi_register(milter_desc) != MI_SUCCESS)
		msg_fatal("smfi_register failed");
	(void) smfi_setbacklog(128);
	if (*milter_socket_path)
		milter_socket_dir(milter_socket_path);
	if (smfi_opensocket(1) != MI_SUCCESS)
		msg_fatal("cannot listen on %s (%s)", spec, conn);
	/* libmilter makes the socket 0755: smtpd (user postfix) could not
	 * connect. Any local user may talk to it; it only observes mail. */
	if (*milter_socket_path && chmod(milter_socket_path, 0666) < 0)
		msg_fatal("chmod %s: %m", milter_socket_path);
	if (!*milter_socket_path)
		milter_nodelay();
	(void) milter_lmtp_listen(config_str(cf, "lmtp_listen"));
	milter_lmtp_chown(config_str(cf, "mail_owner"));
	if (!foreground)
		daemon_detach();
	milter_drop_privileges(config_str(cf, "mail_owner"));
	/* Open the store now, as the user that will use it, so that a store
	 * it cannot write (made by root, say) is logged at start, not at the
	 * first bounce; the milter runs on and tries again when mail needs it. */
	(void) milter_store();

	/*
	 * SIGHUP, SIGTERM and SIGINT are ours, taken by one thread with
	 * sigwait(). They were blocked at the start, before any thread
	 * existed, so that none kills the process by default action (a
	 * stop asked during start is done once the thread runs). libmilter's
	 * own signal thread never gets them (see sigwait() above); ours
	 * also wakes the listener, so a stop is prompt.
	 */
	g->listen_fd = milter_listen_fd();
	if ((errno = pthread_create(&sigthr, 0, milter_signals, 0)) != 0)
		msg_fatal("pthread_create: %m");
	milter_lmtp_start();
	msg_info("starting: listening on %s", spec);
	status = smfi_main();
	msg_info("stopping");
	milter_lmtp_stop();
	pthread_mutex_lock(&g->st_mu);
	g->listener_done = 1;
	stopping = g->stopping;
	st = g->st;
	g->st = 0;
	pthread_mutex_unlock(&g->st_mu);
	if (st)
		store_close(st);
	if (*milter_socket_path)
		(void) unlink(milter_socket_path);
	myfree(conn);
	config_unref(cf);
	/* A stop we asked for is clean even if libmilter saw its socket
	 * closed under it (its listener then reports a failure). */
	if (status != MI_SUCCESS && stopping)
		status = MI_SUCCESS;
	return (status == MI_SUCCESS ? 0 : 1);
}
