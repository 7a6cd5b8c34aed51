/*++
/* NAME
/*	milter_lmtp_proto 3
/* SUMMARY
/*	the LMTP protocol (RFC 2033) of postdrip-milter's receiver
/* SYNOPSIS
/*	#include "milter_lmtp_proto.h"
/*
/*	void	lmtp_proto_init(p, hostname, lim, rcpt_fn, data_fn, ctx)
/*
/*	void	lmtp_proto_greet(p)
/*
/*	int	lmtp_proto_input(p, buf, len)
/*
/*	void	lmtp_proto_reply(p, fmt, ...)
/*
/*	void	lmtp_proto_free(p)
/* DESCRIPTION
/*	The server side of LMTP as a state machine without I/O: the
/*	caller feeds whatever it read with lmtp_proto_input() and writes
/*	p->out when it has no more input at hand. Because replies are
/*	only queued, a client that pipelines (Postfix's lmtp(8) does)
/*	gets all the replies of its group in one write.
/*
/*	Commands: LHLO, MAIL FROM (SIZE=, BODY=7BIT/8BITMIME), RCPT TO,
/*	DATA, RSET, NOOP, QUIT, VRFY, HELP and XFORWARD (NAME, ADDR,
/*	PROTO, HELO, SOURCE, IDENT; xtext values; only outside a
/*	transaction, kept for the next one). The LHLO reply offers
/*	PIPELINING, SIZE, ENHANCEDSTATUSCODES, 8BITMIME and XFORWARD.
/*	After DATA the data callback gives one reply per accepted
/*	recipient, as RFC 2033 requires.
/*
/*	Bounds: a command line longer than lim->line_max is dropped and
/*	answered "500 5.5.2"; a message over lim->size_max is read to its
/*	end, not kept, and each recipient gets "552 5.3.4" (also at MAIL
/*	when SIZE= says so); recipients beyond lim->rcpt_max get "452
/*	4.5.3" (the client sends them in another transaction); after
/*	LMTP_ERRORS_MAX bad commands the session ends with 421.
/* DIAGNOSTICS
/*	None: the protocol never logs; replies say what went wrong.
/* SEE ALSO
/*	RFC 2033, RFC 5321, RFC 3461 (xtext), milter_lmtp(3)
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "milter_lmtp_proto.h"

/* lmtp_proto_init - a new session */

void
lmtp_proto_init(LMTP_PROTO *p, const char *hostname, const LMTP_LIMITS *lim,
		        LMTP_RCPT_FN rcpt_fn, LMTP_DATA_FN data_fn, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->lim = *lim;
	if (p->lim.line_max < 512)
		p->lim.line_max = 512;
	if (p->lim.rcpt_max < 1)
		p->lim.rcpt_max = 1;
	p->hostname = hostname;
	p->rcpt_fn = rcpt_fn;
	p->data_fn = data_fn;
	p->ctx = ctx;
	p->rcpt = mycalloc(p->lim.rcpt_max, sizeof(*p->rcpt));
}

/* lmtp_proto_free - end of a session */

void
lmtp_proto_free(LMTP_PROTO *p)
{
	myfree(p->rcpt);
	strbuf_free(&p->data);
	strbuf_free(&p->line);
	strbuf_free(&p->out);
}

/* lmtp_proto_reply - queue one reply line; CRLF is added */

void
lmtp_proto_reply(LMTP_PROTO *p, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	strbuf_vprintf(&p->out, fmt, ap);
	va_end(ap);
	strbuf_append(&p->out, "\r\n", 2);
}

/* lmtp_proto_greet - the 220 greeting */

void
lmtp_proto_greet(LMTP_PROTO *p)
{
	lmtp_proto_reply(p, "220 %s LMTP postdrip", p->hostname);
}

/* lmtp_reset - end of a transaction */

static void
lmtp_reset(LMTP_PROTO *p)
{
	p->mail_from[0] = 0;
	p->size_declared = 0;
	p->nrcpt = 0;
	strbuf_reset(&p->data);
	p->data_bytes = 0;
	p->data_over = 0;
	memset(&p->xf, 0, sizeof(p->xf));
	if (p->state != LMTP_ST_START && p->state != LMTP_ST_QUIT)
		p->state = LMTP_ST_READY;
}

/* lmtp_xtext_decode - RFC 3461 xtext: "+XX" is a byte */

int
lmtp_xtext_decode(const char *src, char *dst, size_t max)
{
	size_t	n = 0;
	unsigned v;

	for (; *src; src++) {
		if (n + 1 >= max)
			return (-1);
		if (*src == '+') {
			if (!isxdigit((unsigned char) src[1]) || !isxdigit((unsigned char) src[2])
			    || sscanf(src + 1, "%2x", &v) != 1 || v == 0)
				return (-1);
			dst[n++] = (char) v;
			src += 2;
		} else if ((unsigned char) *src < 33 || (unsigned char) *src > 126 || *src == '=') {
			return (-1);
		} else {
			dst[n++] = *src;
		}
	}
	dst[n] = 0;
	return (0);
}

/* lmtp_path - "<addr>" at s into addr; returns what follows, or NULL */

static const char *
lmtp_path(const char *s, char *addr, size_t max)
{
	const char *start;
	int	quoted = 0;

	while (*s == ' ')
		s++;
	if (*s != '<')
		return (0);
	start = ++s;
	for (; *s; s++) {
		if (*s == '\\' && quoted && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (*s == '>' && !quoted)
			break;
	}
	if (*s != '>' || (size_t) (s - start) >= max)
		return (0);
	memcpy(addr, start, s - start);
	addr[s - start] = 0;
	/* Source routes (RFC 5321 4.1.2): "<@a,@b:user@dom>" means user@dom. */
	if (addr[0] == '@' && (start = strchr(addr, ':')) != 0)
		memmove(addr, start + 1, strlen(start + 1) + 1);
	return (s + 1);
}

/* lmtp_error - a bad command; counts towards the limit */

static void
lmtp_error(LMTP_PROTO *p, const char *reply)
{
	lmtp_proto_reply(p, "%s", reply);
	if (++p->errors >= LMTP_ERRORS_MAX) {
		lmtp_proto_reply(p, "421 4.7.0 %s Error: too many errors", p->hostname);
		p->state = LMTP_ST_QUIT;
	}
}

/* lmtp_lhlo - LHLO domain */

static void
lmtp_lhlo(LMTP_PROTO *p, const char *arg)
{
	if (*arg == 0) {
		lmtp_error(p, "501 5.5.4 Syntax: LHLO hostname");
		return;
	}
	snprintf(p->lhlo, sizeof(p->lhlo), "%s", arg);
	p->state = LMTP_ST_READY;
	lmtp_reset(p);
	lmtp_proto_reply(p, "250-%s", p->hostname);
	lmtp_proto_reply(p, "250-PIPELINING");
	lmtp_proto_reply(p, "250-SIZE %zu", p->lim.size_max);
	lmtp_proto_reply(p, "250-ENHANCEDSTATUSCODES");
	lmtp_proto_reply(p, "250-8BITMIME");
	lmtp_proto_reply(p, "250 XFORWARD NAME ADDR PROTO HELO SOURCE IDENT");
}

/* lmtp_mail - MAIL FROM:<addr> [SIZE=n] [BODY=...] */

static void
lmtp_mail(LMTP_PROTO *p, const char *arg)
{
	const char *rest, *sp;
	char	param[64];
	unsigned long long size;
	size_t	len;
	char   *end;

	if (p->state == LMTP_ST_START) {
		lmtp_error(p, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (p->state != LMTP_ST_READY) {
		lmtp_error(p, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (strncasecmp(arg, "FROM:", 5) != 0
	    || (rest = lmtp_path(arg + 5, p->mail_from, sizeof(p->mail_from))) == 0) {
		p->mail_from[0] = 0;
		lmtp_error(p, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	p->size_declared = 0;
	while (*rest) {
		while (*rest == ' ')
			rest++;
		if (*rest == 0)
			break;
		sp = rest + strcspn(rest, " ");
		len = sp - rest;
		if (len >= sizeof(param)) {
			lmtp_error(p, "555 5.5.4 Unsupported option");
			p->mail_from[0] = 0;
			return;
		}
		memcpy(param, rest, len);
		param[len] = 0;
		rest = sp;
		if (strncasecmp(param, "SIZE=", 5) == 0) {
			size = strtoull(param + 5, &end, 10);
			if (*end != 0 || end == param + 5) {
				lmtp_error(p, "501 5.5.4 Bad SIZE parameter");
				p->mail_from[0] = 0;
				return;
			}
			if (size > p->lim.size_max) {
				lmtp_proto_reply(p, "552 5.3.4 Message size exceeds fixed limit");
				p->mail_from[0] = 0;
				return;
			}
			p->size_declared = (size_t) size;
		} else if (strcasecmp(param, "BODY=7BIT") == 0
			   || strcasecmp(param, "BODY=8BITMIME") == 0) {
			 /* 8-bit data is kept as it came */ ;
		} else {
			lmtp_error(p, "555 5.5.4 Unsupported option");
			p->mail_from[0] = 0;
			return;
		}
	}
	p->state = LMTP_ST_MAIL;
	lmtp_proto_reply(p, "250 2.1.0 Ok");
}

/* lmtp_rcpt - RCPT TO:<addr> */

static void
lmtp_rcpt(LMTP_PROTO *p, const char *arg)
{
	char	addr[ADDR_MAX + 1], reply[512];
	const char *rest;
	int	kind = 0;

	if (p->state != LMTP_ST_MAIL) {
		lmtp_error(p, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (strncasecmp(arg, "TO:", 3) != 0
	    || (rest = lmtp_path(arg + 3, addr, sizeof(addr))) == 0 || addr[0] == 0) {
		lmtp_error(p, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	while (*rest == ' ')
		rest++;
	if (*rest) {
		/* No DSN offered: Postfix sends no NOTIFY or ORCPT. */
		lmtp_error(p, "555 5.5.4 Unsupported option");
		return;
	}
	if (p->nrcpt >= p->lim.rcpt_max) {
		lmtp_proto_reply(p, "452 4.5.3 Error: too many recipients");
		return;
	}
	reply[0] = 0;
	if (p->rcpt_fn && !p->rcpt_fn(p->ctx, p, addr, &kind, reply, sizeof(reply))) {
		lmtp_proto_reply(p, "%s", reply[0] ? reply : "550 5.1.1 Recipient address rejected");
		return;
	}
	snprintf(p->rcpt[p->nrcpt].addr, sizeof(p->rcpt[p->nrcpt].addr), "%s", addr);
	p->rcpt[p->nrcpt].kind = kind;
	p->nrcpt++;
	lmtp_proto_reply(p, "250 2.1.5 Ok");
}

/* lmtp_xforward - XFORWARD attr=value ... */

static void
lmtp_xforward(LMTP_PROTO *p, char *arg)
{
	LMTP_XFORWARD xf = p->xf;
	char   *tok, *save = 0, *eq;
	char	value[LMTP_XF_MAX];
	char   *dst;

	if (p->state == LMTP_ST_START) {
		lmtp_error(p, "503 5.5.1 Error: send LHLO first");
		return;
	}
	if (p->state != LMTP_ST_READY) {
		lmtp_error(p, "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	if (*arg == 0) {
		lmtp_error(p, "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return;
	}
	for (tok = strtok_r(arg, " ", &save); tok; tok = strtok_r(0, " ", &save)) {
		if ((eq = strchr(tok, '=')) == 0) {
			lmtp_error(p, "501 5.5.4 Syntax: XFORWARD attribute=value...");
			return;
		}
		*eq = 0;
		if (strcasecmp(tok, "NAME") == 0)
			dst = xf.name;
		else if (strcasecmp(tok, "ADDR") == 0)
			dst = xf.addr;
		else if (strcasecmp(tok, "HELO") == 0)
			dst = xf.helo;
		else if (strcasecmp(tok, "PROTO") == 0)
			dst = xf.proto;
		else if (strcasecmp(tok, "SOURCE") == 0)
			dst = xf.source;
		else if (strcasecmp(tok, "IDENT") == 0)
			dst = xf.ident;
		else {
			lmtp_error(p, "501 5.5.4 Bad XFORWARD attribute name");
			return;
		}
		if (lmtp_xtext_decode(eq + 1, value, sizeof(value)) < 0) {
			lmtp_error(p, "501 5.5.4 Bad XFORWARD attribute value");
			return;
		}
		if (strcmp(value, "[UNAVAILABLE]") == 0 || strcmp(value, "[TEMPUNAVAIL]") == 0)
			value[0] = 0;
		/* Postfix writes "IPv6:" before an IPv6 ADDR. */
		if (dst == xf.addr && strncasecmp(value, "IPv6:", 5) == 0)
			memmove(value, value + 5, strlen(value + 5) + 1);
		memcpy(dst, value, sizeof(value));
	}
	xf.seen = 1;
	p->xf = xf;
	lmtp_proto_reply(p, "250 2.0.0 Ok");
}

/* lmtp_data_end - the final dot */

static void
lmtp_data_end(LMTP_PROTO *p)
{
	size_t	i, before = strbuf_len(&p->out);

	if (p->data_over) {
		for (i = 0; i < p->nrcpt; i++)
			lmtp_proto_reply(p, "552 5.3.4 Message size exceeds fixed limit");
	} else if (p->data_fn) {
		p->data_fn(p->ctx, p);
	}
	/* A callback that forgot a recipient would hang the client. */
	if (strbuf_len(&p->out) == before)
		for (i = 0; i < p->nrcpt; i++)
			lmtp_proto_reply(p, "451 4.3.0 Error: internal error");
	p->state = LMTP_ST_READY;
	lmtp_reset(p);
}

/* lmtp_data_line - one line of the message (without its line end) */

static void
lmtp_data_line(LMTP_PROTO *p, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.') {
		lmtp_data_end(p);
		return;
	}
	if (len > 0 && line[0] == '.') {
		line++;
		len--;
	}
	p->data_bytes += len + 2;
	if (p->data_over || p->data_bytes > p->lim.size_max) {
		p->data_over = 1;
		strbuf_reset(&p->data);
		return;
	}
	strbuf_append(&p->data, line, len);
	strbuf_append(&p->data, "\r\n", 2);
}

/* lmtp_command - one command line (without its line end) */

static void
lmtp_command(LMTP_PROTO *p, char *line)
{
	char   *arg;
	size_t	vlen;

	vlen = strcspn(line, " ");
	arg = line + vlen;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ')
		arg++;
#define IS(v) (strcasecmp(line, (v)) == 0)
	if (IS("LHLO")) {
		lmtp_lhlo(p, arg);
	} else if (IS("MAIL")) {
		lmtp_mail(p, arg);
	} else if (IS("RCPT")) {
		lmtp_rcpt(p, arg);
	} else if (IS("DATA")) {
		if (p->state != LMTP_ST_MAIL) {
			lmtp_error(p, "503 5.5.1 Error: need MAIL command");
		} else if (p->nrcpt == 0) {
			lmtp_error(p, "503 5.5.1 Error: no valid recipients");
		} else if (*arg) {
			lmtp_error(p, "501 5.5.4 Syntax: DATA");
		} else {
			p->state = LMTP_ST_DATA;
			lmtp_proto_reply(p, "354 End data with <CR><LF>.<CR><LF>");
		}
	} else if (IS("RSET")) {
		lmtp_reset(p);
		lmtp_proto_reply(p, "250 2.0.0 Ok");
	} else if (IS("NOOP")) {
		lmtp_proto_reply(p, "250 2.0.0 Ok");
	} else if (IS("QUIT")) {
		lmtp_proto_reply(p, "221 2.0.0 Bye");
		p->state = LMTP_ST_QUIT;
	} else if (IS("VRFY")) {
		lmtp_proto_reply(p, "252 2.5.2 Cannot VRFY user");
	} else if (IS("HELP")) {
		lmtp_proto_reply(p, "214 2.0.0 See RFC 2033");
	} else if (IS("XFORWARD")) {
		lmtp_xforward(p, arg);
	} else if (IS("HELO") || IS("EHLO")) {
		lmtp_error(p, "500 5.5.1 Error: this is LMTP, use LHLO");
	} else {
		lmtp_error(p, "500 5.5.2 Error: command not recognized");
	}
#undef IS
}

/* lmtp_line - one complete line */

static void
lmtp_line(LMTP_PROTO *p, char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = 0;
	if (p->state == LMTP_ST_DATA) {
		lmtp_data_line(p, line, len);
		return;
	}
	if (memchr(line, 0, len) != 0) {
		lmtp_error(p, "500 5.5.2 Error: bad character in command");
		return;
	}
	lmtp_command(p, line);
}

/* lmtp_proto_input - bytes from the client */

int
lmtp_proto_input(LMTP_PROTO *p, const char *buf, size_t len)
{
	const char *nl;
	size_t	n, room;

	while (len > 0 && p->state != LMTP_ST_QUIT) {
		nl = memchr(buf, '\n', len);
		n = nl ? (size_t) (nl - buf) : len;

		/*
		 * Bound what one line may hold: a command line by line_max; a
		 * data line by what is left of size_max (the message is then
		 * over the limit anyway, and its bytes are only counted; the
		 * 2 bytes left then still let the final "." through).
		 */
		if (p->state == LMTP_ST_DATA)
			room = p->data_over ? 2 : p->lim.size_max + 2 - strbuf_len(&p->data);
		else
			room = p->lim.line_max;
		if (!p->line_over && strbuf_len(&p->line) + n > room) {
			p->line_over = 1;
			if (p->state == LMTP_ST_DATA) {
				p->data_over = 1;
				strbuf_reset(&p->data);
			}
		}
		if (p->line_over) {
			if (p->state == LMTP_ST_DATA)
				p->data_bytes += n;
		} else {
			strbuf_append(&p->line, buf, n);
		}
		if (nl == 0)
			break;
		buf += n + 1;
		len -= n + 1;
		if (p->line_over) {
			p->line_over = 0;
			if (p->state != LMTP_ST_DATA)
				lmtp_error(p, "500 5.5.2 Error: line too long");
			strbuf_reset(&p->line);
			continue;
		}
		strbuf_putc(&p->line, 0);
		lmtp_line(p, (char *) strbuf_str(&p->line), strbuf_len(&p->line) - 1);
		strbuf_reset(&p->line);
	}
	return (p->state == LMTP_ST_QUIT ? -1 : 0);
}
