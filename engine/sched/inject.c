/*++
/* NAME
/*	inject 3
/* SUMMARY
/*	SMTP client that hands messages to the local Postfix
/* SYNOPSIS
/*	#include "sched/inject.h"
/*
/*	INJECT	*inject_create(address, conns, timeout, helo)
/*
/*	size_t	inject_batch(inj, msgs, n)
/*
/*	void	inject_set_idle(inj, seconds)
/*
/*	void	inject_idle(inj)
/*
/*	void	inject_free(inj)
/* DESCRIPTION
/*	inject_create() prepares up to conns connections to address
/*	(host:port, [host]:port, inet:host:port or unix:/path); they are
/*	opened on first use, kept open across messages and across batches,
/*	and reopened after an error.
/*
/*	inject_batch() sends a batch in parallel: one thread per connection
/*	takes the next unsent message until none is left. On each connection
/*	the client says EHLO once. One state loop runs the dialogue (as
/*	Postfix's smtp_proto.c does): with PIPELINING it sends MAIL, RCPT and
/*	DATA in one write and reads the three replies, otherwise it waits for
/*	each. The body is sent with CRLF line ends and dot-stuffing. After a
/*	failed transaction the connection is reset with RSET before the next
/*	message; a 421 or an I/O error closes it. A message's done callback
/*	runs as soon as its outcome is known, so that the caller can record
/*	it without waiting for the rest of the batch.
/*
/*	A kept connection is not used again once it has been idle for the
/*	idle limit (inject_set_idle(), default 5 seconds), or when the
/*	server has spoken or hung up between transactions: it is closed
/*	with QUIT and a fresh one is opened, so that an smtpd timeout or a
/*	"postfix reload" never costs a deferral; a connection in constant
/*	use is closed the same way after 300 seconds, so that a busy engine
/*	also meets the settings of a reload. When a reused connection
/*	turns out to be closed anyway (a 421, or a broken connection before
/*	the end of the message body), the message is sent again at once on
/*	a fresh connection; inject_retries() counts those. inject_idle()
/*	closes idle connections between batches.
/*
/*	Every read and write is bounded by the timeout; a reply line longer
/*	than 1000 bytes or a reply of more than 100 lines is a protocol
/*	error. A failure of our own (connect, timeout, protocol) is a
/*	deferral, never a refusal: only a 5xx from the server refuses.
/* DIAGNOSTICS
/*	Nothing is logged: each message carries its outcome and the reply
/*	that decided it.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include "sched/inject.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define INJECT_LINE_MAX		1000	/* RFC 5321 text line limit */
#define INJECT_LINES_MAX	100	/* lines in one multi-line reply */
#define INJECT_REUSE_TIME	300	/* seconds a connection is used for,
					 * as Postfix's smtp_connection_reuse_
					 * time_limit: settings changed by
					 * "postfix reload" reach a busy
					 * engine too */

typedef struct INJECT_CONN {
	int	fd;			/* -1: not connected */
	int	pipelining;		/* server offered PIPELINING */
	int	dirty;			/* a transaction failed: RSET first */
	time_t	last;			/* end of its last transaction */
	time_t	opened;			/* when it was connected */
	char	buf[4096];		/* read buffer */
	size_t	pos, len;
} INJECT_CONN;

struct INJECT {
	char   *address;
	char   *helo;
	int	timeout;
	int	idle;			/* close after this many idle seconds */
	int	nconn;
	INJECT_CONN *conn;
	atomic_ulong retries;		/* sends again on a fresh connection */
};

typedef struct INJECT_RUN {
	INJECT *inj;
	INJECT_MSG *msgs;
	size_t	n;
	atomic_size_t next;
	atomic_size_t ok;
} INJECT_RUN;

typedef struct INJECT_WORKER {
	INJECT_RUN *run;
	INJECT_CONN *conn;
} INJECT_WORKER;

/* inject_create - prepare the connections */

INJECT *
inject_create(const char *address, int conns, int timeout, const char *helo)
{
	INJECT *inj = mycalloc(1, sizeof(*inj));
	int	i;

	if (conns < 1)
		conns = 1;
	inj->address = mystrdup(address);
	inj->helo = mystrdup(helo && *helo ? helo : "localhost");
	inj->timeout = timeout > 0 ? timeout : 60;
	inj->idle = INJECT_IDLE_DEFAULT;
	atomic_init(&inj->retries, 0);
	inj->nconn = conns;
	inj->conn = mycalloc(conns, sizeof(*inj->conn));
	for (i = 0; i < conns; i++)
		inj->conn[i].fd = -1;
	return (inj);
}

/* inject_connect - open a socket to the address; -1 on failure */

static int
inject_connect(const INJECT *inj)
{
	const char *spec = inj->address;
	char	host[256];
	const char *port;
	struct addrinfo hints, *res, *ai;
	int	fd = -1;
	int	one = 1;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;

		if (strlen(spec + 5) >= sizeof(sun.sun_path))
			return (-1);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, spec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return (-1);
		if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
			close(fd);
			return (-1);
		}
		return (fd);
	}
	if (strncmp(spec, "inet:", 5) == 0)
		spec += 5;
	if (*spec == '[') {
		const char *end = strchr(spec, ']');

		if (end == 0 || end[1] != ':' || (size_t) (end - spec - 1) >= sizeof(host))
			return (-1);
		memcpy(host, spec + 1, end - spec - 1);
		host[end - spec - 1] = 0;
		port = end + 2;
	} else {
		const char *colon = strrchr(spec, ':');

		if (colon == 0) {
			snprintf(host, sizeof(host), "127.0.0.1");
			port = spec;
		} else {
			if ((size_t) (colon - spec) >= sizeof(host))
				return (-1);
			memcpy(host, spec, colon - spec);
			host[colon - spec] = 0;
			port = colon + 1;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(*host ? host : "127.0.0.1", port, &hints, &res) != 0)
		return (-1);
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				 ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);

	/*
	 * With pipelining our writes are whole commands, and Nagle plus the
	 * peer's delayed ACK would add tens of milliseconds per message.
	 */
	if (fd >= 0)
		(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return (fd);
}

/* inject_drop - close a connection after an error or 421 */

static void
inject_drop(INJECT_CONN *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->pos = c->len = 0;
	c->pipelining = 0;
	c->dirty = 0;
}

/* inject_write - write all of buf within the timeout; -1 on failure */

static int
inject_write(const INJECT *inj, INJECT_CONN *c, const char *buf, size_t len)
{
	struct pollfd pfd;
	ssize_t	n;

	while (len > 0) {
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, inj->timeout * 1000) <= 0)
			return (-1);
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		buf += n;
		len -= n;
	}
	return (0);
}

/* inject_getline - read one reply line (without CRLF) into line */

static int
inject_getline(const INJECT *inj, INJECT_CONN *c, char *line, size_t size)
{
	size_t	used = 0;
	struct pollfd pfd;
	ssize_t	n;
	int	ch;

	for (;;) {
		while (c->pos < c->len) {
			ch = c->buf[c->pos++];
			if (ch == '\n') {
				if (used > 0 && line[used - 1] == '\r')
					used--;
				line[used] = 0;
				return (0);
			}
			if (used + 1 >= size)
				return (-1);	/* over INJECT_LINE_MAX */
			line[used++] = ch;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, inj->timeout * 1000) <= 0)
			return (-1);
		n = recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			return (-1);
		c->pos = 0;
		c->len = n;
	}
}

/*
 * inject_reply - read one (possibly multi-line) reply. Returns the code,
 * or -1 on a protocol or I/O error. The last line goes to text (bounded);
 * with ehlo, the PIPELINING keyword is noted.
 */
static int
inject_reply(const INJECT *inj, INJECT_CONN *c, char *text, size_t tsize,
	             int ehlo)
{
	char	line[INJECT_LINE_MAX + 2];
	int	lines, code = -1;

	for (lines = 0; lines < INJECT_LINES_MAX; lines++) {
		if (inject_getline(inj, c, line, sizeof(line)) < 0)
			return (-1);
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5'
		    || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9'
		    || (line[3] != 0 && line[3] != ' ' && line[3] != '-'))
			return (-1);
		code = atoi(line);
		if (ehlo && strncasecmp(line + 4, "PIPELINING", 10) == 0
		    && (line[14] == 0 || line[14] == ' '))
			c->pipelining = 1;
		if (line[3] != '-') {
			if (text)
				snprintf(text, tsize, "%s", line);
			return (code);
		}
	}
	return (-1);
}

/*
 * inject_stale - should a kept connection be closed before use? It has
 * been idle longer than the idle limit (the server's own timeout may
 * have ended it, and a connection kept across "postfix reload" talks to
 * an smtpd with the old settings), or the server has already said
 * something or hung up (a 421 on its timeout): nothing is due from it
 * between transactions.
 */
static int
inject_stale(const INJECT *inj, const INJECT_CONN *c)
{
	struct pollfd pfd;

	if (inj->idle > 0 && time(0) - c->last >= inj->idle)
		return (1);
	/* A busy connection is never idle: bound its age as well. */
	if (time(0) - c->opened >= INJECT_REUSE_TIME)
		return (1);
	if (c->pos < c->len)
		return (1);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return (poll(&pfd, 1, 0) != 0);
}

/* inject_open - connect and greet; 0 or -1 with reply text */

static int
inject_open(const INJECT *inj, INJECT_CONN *c, char *text, size_t tsize)
{
	STRBUF	cmd = STRBUF_INIT;
	int	code;

	if ((c->fd = inject_connect(inj)) < 0) {
		snprintf(text, tsize, "451 4.4.1 cannot connect to %s: %s",
			 inj->address, strerror(errno));
		return (-1);
	}
	c->pos = c->len = 0;
	c->pipelining = 0;
	c->dirty = 0;
	c->opened = c->last = time(0);
	if ((code = inject_reply(inj, c, text, tsize, 0)) != 220)
		goto fail;
	strbuf_printf(&cmd, "EHLO %s\r\n", inj->helo);
	if (inject_write(inj, c, strbuf_str(&cmd), strbuf_len(&cmd)) < 0)
		code = -1;
	else
		code = inject_reply(inj, c, text, tsize, 1);
	strbuf_free(&cmd);
	if (code == 250)
		return (0);
fail:
	if (code < 0)
		snprintf(text, tsize, "451 4.4.2 lost connection to %s during greeting",
			 inj->address);
	inject_drop(c);
	return (-1);
}

/* inject_dotstuff - CRLF line ends, leading dots doubled, final dot */

void
inject_dotstuff(STRBUF *out, const char *data, size_t len)
{
	size_t	i, start;
	int	bol = 1;

	strbuf_reserve(out, len + len / 32 + 8);
	for (i = start = 0; i < len; i++) {
		if (bol && data[i] == '.') {
			strbuf_append(out, data + start, i - start);
			strbuf_putc(out, '.');
			start = i;
		}
		bol = 0;
		if (data[i] == '\n') {
			/* Lone LF becomes CRLF; an existing CRLF is kept. */
			if (i == 0 || data[i - 1] != '\r') {
				strbuf_append(out, data + start, i - start);
				strbuf_puts(out, "\r\n");
				start = i + 1;
			}
			bol = 1;
		} else if (data[i] == '\r' && (i + 1 >= len || data[i + 1] != '\n')) {
			/* A bare CR is not allowed in SMTP: make it a line end. */
			strbuf_append(out, data + start, i - start);
			strbuf_puts(out, "\r\n");
			start = i + 1;
			bol = 1;
		}
	}
	strbuf_append(out, data + start, i - start);
	if (!bol)
		strbuf_puts(out, "\r\n");
	strbuf_puts(out, ".\r\n");
}

/* inject_outcome - map a reply code to a message status */

static void
inject_outcome(INJECT_MSG *m, int code, const char *text)
{
	m->status = code >= 200 && code < 300 ? INJECT_OK :
		code >= 500 && code < 600 ? INJECT_REJECT : INJECT_DEFER;
	snprintf(m->reply, sizeof(m->reply), "%s", text);
}

/*
 * The dialogue of one transaction is one loop over states, as in
 * Postfix's smtp_proto.c: "send" is the next command to write and "recv"
 * the next reply to read. Without PIPELINING a command is written only
 * when every earlier reply has been read (lock-step); with it, RSET, MAIL,
 * RCPT and DATA go out in one write. The message body is written only
 * after the 354 to DATA. After a refusal nothing more is sent, but the
 * replies already due are still read, so that the connection stays in
 * step and can carry the next message.
 */
#define ST_RSET		0
#define ST_MAIL		1
#define ST_RCPT		2
#define ST_DATA		3
#define ST_DOT		4
#define ST_DONE		5

static const char *inject_command_name[] = {
	"RSET", "MAIL FROM", "RCPT TO", "DATA", "end of DATA",
};

/* Results of inject_one(). */
#define ONE_KEPT	0		/* outcome known, connection kept */
#define ONE_DROPPED	1		/* outcome known, connection closed */
#define ONE_RETRY	2		/* the server did not take the message
					 * and closed: a fresh connection may */

/* inject_refused - a command before the end of DATA failed: never OK */

static void
inject_refused(INJECT_MSG *m, int code, const char *text)
{
	inject_outcome(m, code, text);
	/* A 2xx or 3xx where another reply was due is a protocol error. */
	if (m->status == INJECT_OK)
		m->status = INJECT_DEFER;
}

/* inject_command - append the command of state st to buf */

static void
inject_command(STRBUF *buf, int st, const INJECT_MSG *m, int failed)
{
	switch (st) {
	case ST_RSET:
		strbuf_puts(buf, "RSET\r\n");
		break;
	case ST_MAIL:
		strbuf_printf(buf, "MAIL FROM:<%s>\r\n", m->sender);
		break;
	case ST_RCPT:
		strbuf_printf(buf, "RCPT TO:<%s>\r\n", m->rcpt);
		break;
	case ST_DATA:
		strbuf_puts(buf, "DATA\r\n");
		break;
	case ST_DOT:
		/* A refused transaction whose DATA got 354 anyway (RFC 2920
		 * says it must not) sends an empty message; RSET drops it. */
		if (failed)
			strbuf_puts(buf, ".\r\n");
		else
			inject_dotstuff(buf, m->data, m->len);
		break;
	}
}

/*
 * inject_one - one SMTP transaction on c. A reused connection that the
 * server closed meanwhile (its idle timeout, a 421, postfix reload) gives
 * ONE_RETRY when nothing of the message can have been accepted.
 */
static int
inject_one(const INJECT *inj, INJECT_CONN *c, INJECT_MSG *m, STRBUF *buf)
{
	char	text[INJECT_REPLY_MAX];
	int	send, recv, code, failed = 0, need_dot = 0, reused, dot_sent = 0;

	if (c->fd >= 0 && inject_stale(inj, c)) {
		(void) inject_write(inj, c, "QUIT\r\n", 6);
		inject_drop(c);
	}
	reused = c->fd >= 0;
	if (c->fd < 0 && inject_open(inj, c, text, sizeof(text)) < 0) {
		inject_outcome(m, 451, text);
		m->command = 0;
		return (ONE_DROPPED);
	}
	send = recv = c->dirty ? ST_RSET : ST_MAIL;
	while (recv < ST_DONE) {
		strbuf_reset(buf);
		while (send < ST_DONE && !failed
		       && (send == recv || (c->pipelining && send < ST_DOT))) {
			inject_command(buf, send, m, failed);
			if (send == ST_DOT)
				dot_sent = 1;
			send++;
		}
		if (need_dot && send == ST_DOT && recv == ST_DOT) {
			inject_command(buf, send, m, failed);
			send++;
		}
		if (strbuf_len(buf) > 0
		    && inject_write(inj, c, strbuf_str(buf), strbuf_len(buf)) < 0)
			goto ioerr;
		if ((code = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
		if (!failed)
			m->command = inject_command_name[recv];
		switch (recv) {
		case ST_RSET:
			c->dirty = 0;
			break;
		case ST_MAIL:
			if (code != 250) {
				inject_refused(m, code, text);
				failed = 1;
			}
			break;
		case ST_RCPT:
			if (!failed && code != 250 && code != 251) {
				inject_refused(m, code, text);
				failed = 1;
			}
			break;
		case ST_DATA:
			if (code == 354) {
				need_dot = failed;	/* "." and its reply */
				break;
			}
			if (!failed)
				inject_refused(m, code, text);
			failed = 1;		/* no body follows */
			break;
		case ST_DOT:
			if (!failed)
				inject_outcome(m, code, text);
			break;
		}
		recv++;
		/* Lock-step after a refusal: nothing else was sent. */
		if (failed && recv >= send && !need_dot)
			break;
	}
	if (failed || m->status != INJECT_OK)
		c->dirty = 1;
	if (strncmp(m->reply, "421", 3) == 0) {
		inject_drop(c);
		/* 421 is the server closing: the message was not taken. */
		return (reused ? ONE_RETRY : ONE_DROPPED);
	}
	return (ONE_KEPT);

ioerr:
	inject_drop(c);
	/* A refusal read before the connection broke stands. */
	if (failed && strncmp(m->reply, "421", 3) != 0) {
		if (m->status == INJECT_OK)
			m->status = INJECT_DEFER;
		return (ONE_DROPPED);
	}
	/* Broken before the body was complete: the server has nothing. */
	if (reused && !dot_sent)
		return (ONE_RETRY);
	inject_outcome(m, 451, "451 4.4.2 lost connection or timeout while injecting");
	m->command = 0;
	return (ONE_DROPPED);
}

/* inject_send - one message, again on a fresh connection if need be */

static void
inject_send(INJECT *inj, INJECT_CONN *c, INJECT_MSG *m, STRBUF *buf)
{
	m->status = INJECT_DEFER;
	m->reply[0] = 0;
	m->command = 0;
	if (inject_one(inj, c, m, buf) == ONE_RETRY) {
		m->status = INJECT_DEFER;
		m->reply[0] = 0;
		m->command = 0;
		atomic_fetch_add(&inj->retries, 1);
		if (inject_one(inj, c, m, buf) == ONE_RETRY)
			inject_outcome(m, 451, m->reply[0] ? m->reply :
				       "451 4.4.2 connection closed by the server");
	}
	c->last = time(0);
}

/* inject_worker - one connection's share of a batch */

static void *
inject_worker(void *arg)
{
	INJECT_WORKER *w = arg;
	INJECT_RUN *run = w->run;
	STRBUF	buf = STRBUF_INIT;
	size_t	i;

	while ((i = atomic_fetch_add(&run->next, 1)) < run->n) {
		inject_send(run->inj, w->conn, run->msgs + i, &buf);
		if (run->msgs[i].status == INJECT_OK)
			atomic_fetch_add(&run->ok, 1);
		if (run->msgs[i].done)
			run->msgs[i].done(run->msgs + i, run->msgs[i].ctx);
	}
	strbuf_free(&buf);
	return (0);
}

/* inject_batch - send a batch over the connections in parallel */

size_t
inject_batch(INJECT *inj, INJECT_MSG *msgs, size_t n)
{
	INJECT_RUN run;
	INJECT_WORKER *w;
	pthread_t *tid;
	int	nthreads, i;

	if (n == 0)
		return (0);
	run.inj = inj;
	run.msgs = msgs;
	run.n = n;
	atomic_init(&run.next, 0);
	atomic_init(&run.ok, 0);
	nthreads = (size_t) inj->nconn < n ? inj->nconn : (int) n;
	if (nthreads == 1) {
		INJECT_WORKER one = {&run, inj->conn};

		inject_worker(&one);
		return (atomic_load(&run.ok));
	}
	w = mycalloc(nthreads, sizeof(*w));
	tid = mycalloc(nthreads, sizeof(*tid));
	for (i = 0; i < nthreads; i++) {
		w[i].run = &run;
		w[i].conn = inj->conn + i;
		if (pthread_create(tid + i, 0, inject_worker, w + i) != 0) {
			/* Fewer threads still finish the batch. */
			nthreads = i;
			break;
		}
	}
	if (nthreads == 0)
		inject_worker(w);
	for (i = 0; i < nthreads; i++)
		pthread_join(tid[i], 0);
	myfree(w);
	myfree(tid);
	return (atomic_load(&run.ok));
}

/* inject_set_idle - close connections idle this long (0: never) */

void
inject_set_idle(INJECT *inj, int seconds)
{
	inj->idle = seconds > 0 ? seconds : 0;
}

/* inject_idle - QUIT the connections idle past the limit (between batches) */

void
inject_idle(INJECT *inj)
{
	int	i;

	for (i = 0; i < inj->nconn; i++) {
		INJECT_CONN *c = inj->conn + i;

		if (c->fd >= 0 && inject_stale(inj, c)) {
			(void) inject_write(inj, c, "QUIT\r\n", 6);
			inject_drop(c);
		}
	}
}

/* inject_retries - messages sent again on a fresh connection so far */

unsigned long
inject_retries(INJECT *inj)
{
	return (atomic_load(&inj->retries));
}

/* inject_free - QUIT and close every connection */

void
inject_free(INJECT *inj)
{
	int	i;

	for (i = 0; i < inj->nconn; i++) {
		INJECT_CONN *c = inj->conn + i;

		if (c->fd >= 0) {
			(void) inject_write(inj, c, "QUIT\r\n", 6);
			inject_drop(c);
		}
	}
	myfree(inj->conn);
	myfree(inj->address);
	myfree(inj->helo);
	myfree(inj);
}
