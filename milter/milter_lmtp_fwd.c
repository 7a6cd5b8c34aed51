/*++
/* NAME
/*	milter_lmtp_fwd 3
/* SUMMARY
/*	hand a forwarded reply to Postfix by SMTP
/* SYNOPSIS
/*	#include "milter_lmtp.h"
/*
/*	int	lmtp_forward(address, timeout, helo, rcpt, trace, data, len,
/*			reply, rlen)
/* DESCRIPTION
/*	lmtp_forward() submits one message to the Postfix smtpd at
/*	address (inject_address: host:port, [host]:port, inet:host:port or
/*	unix:/path) for one recipient, with the null envelope sender: a
/*	forwarded reply is a notification, and a failure to deliver it must
/*	not come back to the bounce domain as a bounce of ours, nor loop.
/*	The trace text (header lines, each ending in CRLF) is written before
/*	the message, which is otherwise sent unchanged (dot-stuffed).
/*
/*	One connection per message, no pipelining: replies are few, and a
/*	private client keeps the milter free of the engine's injector
/*	(another library layer) and of a fork per reply (sendmail(1)).
/*
/*	Each read and write waits at most timeout seconds.
/* DIAGNOSTICS
/*	LMTP_FWD_OK, LMTP_FWD_DEFER (4xx, or no connection, a timeout, a
/*	broken reply) or LMTP_FWD_REJECT (5xx); reply holds the deciding
/*	reply line or what went wrong.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "milter_lmtp.h"

typedef struct FWD {
	int	fd;
	char	buf[4096];
	size_t	len;			/* bytes in buf */
	char   *reply;
	size_t	rlen;
} FWD;

/* fwd_connect - a connected socket, or -1 with reply set */

static int
fwd_connect(const char *address, int timeout, char *reply, size_t rlen)
{
	struct addrinfo hints, *res = 0, *ai;
	struct sockaddr_un sun;
	struct timeval tv;
	char	host[256];
	const char *port, *h = address;
	size_t	hlen;
	int	fd = -1, err;

	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	if (strncmp(address, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(address + 5) >= sizeof(sun.sun_path)) {
			snprintf(reply, rlen, "socket path too long: %s", address);
			return (-1);
		}
		strcpy(sun.sun_path, address + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0
		    || (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0)
		    || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
			snprintf(reply, rlen, "connect to %s: %s", address, strerror(errno));
			if (fd >= 0)
				close(fd);
			return (-1);
		}
	} else {
		if (strncmp(h, "inet:", 5) == 0)
			h += 5;
		if (*h == '[' && (port = strstr(h, "]:")) != 0) {
			h++;
			hlen = port - h;
			port += 2;
		} else if ((port = strrchr(h, ':')) != 0) {
			hlen = port - h;
			port++;
		} else {
			snprintf(reply, rlen, "bad address \"%s\" (host:port)", address);
			return (-1);
		}
		if (hlen == 0 || hlen >= sizeof(host)) {
			snprintf(reply, rlen, "bad address \"%s\" (host:port)", address);
			return (-1);
		}
		memcpy(host, h, hlen);
		host[hlen] = 0;
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
			snprintf(reply, rlen, "%s: %s", address, gai_strerror(err));
			return (-1);
		}
		for (ai = res; ai; ai = ai->ai_next) {
			if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
				continue;
			(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
				break;
			snprintf(reply, rlen, "connect to %s: %s", address, strerror(errno));
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd < 0)
			return (-1);
	}
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return (fd);
}

/* fwd_write - all of it, or -1 */

static int
fwd_write(FWD *f, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(f->fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(f->reply, f->rlen, "write: %s", strerror(errno));
			return (-1);
		}
		data += n;
		len -= n;
	}
	return (0);
}

/* fwd_reply - read one (multi-line) reply; its code, or -1 */

static int
fwd_reply(FWD *f)
{
	char   *nl;
	ssize_t	n;
	size_t	llen;
	int	lines = 0;

	for (;;) {
		while ((nl = memchr(f->buf, '\n', f->len)) == 0) {
			if (f->len >= sizeof(f->buf) - 1) {
				snprintf(f->reply, f->rlen, "reply line too long");
				return (-1);
			}
			if ((n = read(f->fd, f->buf + f->len, sizeof(f->buf) - 1 - f->len)) <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				snprintf(f->reply, f->rlen, "read: %s",
					 n == 0 ? "connection closed" : strerror(errno));
				return (-1);
			}
			f->len += n;
		}
		llen = nl - f->buf;
		if (llen > 0 && f->buf[llen - 1] == '\r')
			llen--;
		snprintf(f->reply, f->rlen, "%.*s", (int) llen, f->buf);
		memmove(f->buf, nl + 1, f->len - (nl + 1 - f->buf));
		f->len -= nl + 1 - f->buf;
		if (llen < 3 || f->reply[0] < '2' || f->reply[0] > '5'
		    || ++lines > 100) {
			snprintf(f->reply, f->rlen, "broken reply");
			return (-1);
		}
		if (llen == 3 || f->reply[3] == ' ')
			return (atoi(f->reply));
	}
}

/* fwd_cmd - a command and its reply; the reply code or -1 */

static int
fwd_cmd(FWD *f, const char *cmd)
{
	if (fwd_write(f, cmd, strlen(cmd)) < 0)
		return (-1);
	return (fwd_reply(f));
}

/* fwd_dotstuff - data with CRLF line ends and leading dots doubled */

static void
fwd_dotstuff(STRBUF *out, const char *data, size_t len)
{
	const char *end = data + len, *nl;
	size_t	n;

	while (data < end) {
		nl = memchr(data, '\n', end - data);
		n = nl ? (size_t) (nl - data) : (size_t) (end - data);
		if (n > 0 && data[n - 1] == '\r')
			n--;
		if (n > 0 && data[0] == '.')
			strbuf_putc(out, '.');
		strbuf_append(out, data, n);
		strbuf_append(out, "\r\n", 2);
		data = nl ? nl + 1 : end;
	}
	strbuf_append(out, ".\r\n", 3);
}

/* lmtp_forward - one message, one recipient */

int
lmtp_forward(const char *address, int timeout, const char *helo,
	             const char *rcpt, const char *trace, const char *data,
	             size_t len, char *reply, size_t rlen)
{
	FWD	f;
	STRBUF	cmd = STRBUF_INIT;
	int	code, ret = LMTP_FWD_DEFER;

	memset(&f, 0, sizeof(f));
	f.reply = reply;
	f.rlen = rlen;
	reply[0] = 0;
	if ((f.fd = fwd_connect(address, timeout, reply, rlen)) < 0)
		return (LMTP_FWD_DEFER);
#define STEP(c, want) do { \
		if ((code = (c)) < 0) goto done; \
		if (code / 100 != (want)) { \
			ret = code >= 500 ? LMTP_FWD_REJECT : LMTP_FWD_DEFER; goto done; } \
	} while (0)
	STEP(fwd_reply(&f), 2);
	strbuf_printf(&cmd, "EHLO %s\r\n", helo);
	STEP(fwd_cmd(&f, strbuf_str(&cmd)), 2);
	STEP(fwd_cmd(&f, "MAIL FROM:<>\r\n"), 2);
	strbuf_reset(&cmd);
	strbuf_printf(&cmd, "RCPT TO:<%s>\r\n", rcpt);
	STEP(fwd_cmd(&f, strbuf_str(&cmd)), 2);
	STEP(fwd_cmd(&f, "DATA\r\n"), 3);
	strbuf_reset(&cmd);
	strbuf_puts(&cmd, trace);
	fwd_dotstuff(&cmd, data, len);
	if (fwd_write(&f, strbuf_str(&cmd), strbuf_len(&cmd)) < 0)
		goto done;
	STEP(fwd_reply(&f), 2);
	ret = LMTP_FWD_OK;
	(void) fwd_cmd(&f, "QUIT\r\n");
#undef STEP
done:
	strbuf_free(&cmd);
	close(f.fd);
	return (ret);
}
