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
/*	void	inject_free(inj)
/* DESCRIPTION
/*	inject_create() prepares up to conns connections to address
/*	(host:port, [host]:port, inet:host:port or unix:/path); they are
/*	opened on first use, kept open across messages and across batches,
/*	and reopened after an error.
/*
/*	inject_batch() sends a batch in parallel: one thread per connection
/*	takes the next unsent message until none is left. On each connection
/*	the client says EHLO once; with PIPELINING it sends MAIL, RCPT and
/*	DATA in one write and reads the three replies, otherwise it waits for
/*	each. The body is sent with CRLF line ends and dot-stuffing. After a
/*	failed transaction the connection is reset with RSET before the next
/*	message; a 421 or an I/O error closes it. A message's done callback
/*	runs as soon as its outcome is known, so that the caller can record
/*	it without waiting for the rest of the batch.
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

typedef struct INJECT_CONN {
	int	fd;			/* -1: not connected */
	int	pipelining;		/* server offered PIPELINING */
	int	dirty;			/* a transaction failed: RSET first */
	char	buf[4096];		/* read buffer */
	size_t	pos, len;
} INJECT_CONN;

struct INJECT {
	char   *address;
	char   *helo;
	int	timeout;
	int	nconn;
	INJECT_CONN *conn;
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
 * inject_data_refused - read the reply to a pipelined DATA whose MAIL or
 * RCPT failed. A server that answers 354 anyway (RFC 2920 says it must
 * not) gets an empty message ended at once, so the dialogue stays in step;
 * RSET then discards it. -1 on an I/O or protocol error.
 */
static int
inject_data_refused(const INJECT *inj, INJECT_CONN *c)
{
	int	code;

	if ((code = inject_reply(inj, c, 0, 0, 0)) != 354)
		return (code < 0 ? -1 : 0);
	if (inject_write(inj, c, ".\r\n", 3) < 0 || inject_reply(inj, c, 0, 0, 0) < 0)
		return (-1);
	return (0);
}

/* inject_refused - a command before the end of DATA failed: never OK */

static void
inject_refused(INJECT_MSG *m, int code, const char *text)
{
	inject_outcome(m, code, text);
	/* A 2xx or 3xx where another reply was due is a protocol error. */
	if (m->status == INJECT_OK)
		m->status = INJECT_DEFER;
}

/* inject_one - one SMTP transaction on c; returns -1 if c was dropped */

static int
inject_one(const INJECT *inj, INJECT_CONN *c, INJECT_MSG *m, STRBUF *buf)
{
	char	text[INJECT_REPLY_MAX];
	int	code_mail, code_rcpt, code_data, code;

	/* A reused connection may have been closed by the server meanwhile. */
	if (c->fd < 0 && inject_open(inj, c, text, sizeof(text)) < 0) {
		inject_outcome(m, 451, text);
		return (-1);
	}
	strbuf_reset(buf);
	if (c->dirty)
		strbuf_puts(buf, "RSET\r\n");
	strbuf_printf(buf, "MAIL FROM:<%s>\r\n", m->sender);
	if (c->pipelining) {
		strbuf_printf(buf, "RCPT TO:<%s>\r\nDATA\r\n", m->rcpt);
		if (inject_write(inj, c, strbuf_str(buf), strbuf_len(buf)) < 0)
			goto ioerr;
		if (c->dirty && inject_reply(inj, c, 0, 0, 0) < 0)
			goto ioerr;
		c->dirty = 0;
		if ((code_mail = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
		if (code_mail != 250) {
			inject_refused(m, code_mail, text);
			/* RCPT and DATA replies are still due. */
			if (inject_reply(inj, c, 0, 0, 0) < 0
			    || inject_data_refused(inj, c) < 0)
				goto ioerr_keep;
			goto failed;
		}
		if ((code_rcpt = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
		if (code_rcpt != 250 && code_rcpt != 251) {
			inject_refused(m, code_rcpt, text);
			if (inject_data_refused(inj, c) < 0)
				goto ioerr_keep;
			goto failed;
		}
		if ((code_data = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
	} else {
		if (inject_write(inj, c, strbuf_str(buf), strbuf_len(buf)) < 0)
			goto ioerr;
		if (c->dirty && inject_reply(inj, c, 0, 0, 0) < 0)
			goto ioerr;
		c->dirty = 0;
		if ((code_mail = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
		if (code_mail != 250) {
			inject_refused(m, code_mail, text);
			goto failed;
		}
		strbuf_reset(buf);
		strbuf_printf(buf, "RCPT TO:<%s>\r\n", m->rcpt);
		if (inject_write(inj, c, strbuf_str(buf), strbuf_len(buf)) < 0
		    || (code_rcpt = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
		if (code_rcpt != 250 && code_rcpt != 251) {
			inject_refused(m, code_rcpt, text);
			goto failed;
		}
		if (inject_write(inj, c, "DATA\r\n", 6) < 0
		    || (code_data = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
			goto ioerr;
	}
	if (code_data != 354) {
		inject_refused(m, code_data, text);
		goto failed;
	}
	strbuf_reset(buf);
	inject_dotstuff(buf, m->data, m->len);
	if (inject_write(inj, c, strbuf_str(buf), strbuf_len(buf)) < 0
	    || (code = inject_reply(inj, c, text, sizeof(text), 0)) < 0)
		goto ioerr;
	inject_outcome(m, code, text);
	if (code == 421)
		goto drop;
	if (m->status != INJECT_OK)
		c->dirty = 1;
	return (0);

failed:
	c->dirty = 1;
	if (strncmp(m->reply, "421", 3) == 0)
		goto drop;
	return (0);

ioerr:
	inject_outcome(m, 451, "451 4.4.2 lost connection or timeout while injecting");
ioerr_keep:
	m->status = m->status == INJECT_OK ? INJECT_DEFER : m->status;
drop:
	inject_drop(c);
	return (-1);
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
		(void) inject_one(run->inj, w->conn, run->msgs + i, &buf);
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
