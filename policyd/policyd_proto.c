/*++
/* NAME
/*	policyd_proto 3
/* SUMMARY
/*	Postfix policy request reader, bounded
/* SYNOPSIS
/*	#include "policyd_proto.h"
/*
/*	void	policy_reset(req)
/*	int	policy_parse(buf, len, lim, req)
/*	const char *policy_value(req, buf, attr)
/* DESCRIPTION
/*	policy_parse() reads one request of the Postfix policy delegation
/*	protocol: "name=value" lines, then an empty line. It may be called
/*	again as more bytes arrive; it resumes after the last complete line
/*	(req->pos), so a client that sends a byte at a time costs linear,
/*	not quadratic, work.
/*
/*	Limits: a line longer than line_limit, more than attr_limit
/*	attributes, or a request that cannot end within request_limit bytes
/*	is an error as soon as it is certain, before the caller buffers more.
/*	Control bytes other than tab (NUL above all) are errors: Postfix
/*	never sends them, and letting them through would truncate values
/*	silently. Bytes from 0x80 up pass (SMTPUTF8 addresses). A "\r\n"
/*	line end is accepted for people who test with telnet.
/*
/*	A repeated attribute: the last one counts, as in Postfix's own
/*	attribute reader.
/* DIAGNOSTICS
/*	policy_strerror() names each error for the log.
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "policyd_proto.h"

static const struct {
	const char *name;
	size_t	len;
}	policy_names[PA_COUNT] = {
#define N(s) { s, sizeof(s) - 1 }
	[PA_REQUEST] = N("request"),
	[PA_PROTOCOL_STATE] = N("protocol_state"),
	[PA_PROTOCOL_NAME] = N("protocol_name"),
	[PA_HELO_NAME] = N("helo_name"),
	[PA_QUEUE_ID] = N("queue_id"),
	[PA_SENDER] = N("sender"),
	[PA_RECIPIENT] = N("recipient"),
	[PA_RECIPIENT_COUNT] = N("recipient_count"),
	[PA_CLIENT_ADDRESS] = N("client_address"),
	[PA_CLIENT_NAME] = N("client_name"),
	[PA_INSTANCE] = N("instance"),
	[PA_SASL_USERNAME] = N("sasl_username"),
#undef N
};

/* policy_reset - start a request */

void
policy_reset(POLICY_REQ *req)
{
	int	i;

	req->pos = 0;
	req->nattr = 0;
	for (i = 0; i < PA_COUNT; i++) {
		req->off[i] = POLICY_ABSENT;
		req->len[i] = 0;
	}
}

/* policy_strerror - a result's name */

const char *
policy_strerror(int status)
{
	switch (status) {
	case POLICY_MORE:
		return ("incomplete request");
	case POLICY_DONE:
		return ("complete request");
	case POLICY_ERR_LINE:
		return ("line too long");
	case POLICY_ERR_ATTRS:
		return ("too many attributes");
	case POLICY_ERR_SIZE:
		return ("request too large");
	case POLICY_ERR_SYNTAX:
		return ("line is not name=value");
	case POLICY_ERR_BYTE:
		return ("control byte in request");
	default:
		return ("unknown result");
	}
}

/* policy_line - check and record one complete line (without newline) */

static int
policy_line(const char *line, size_t llen, size_t start, const POLICY_LIMITS *lim,
	            POLICY_REQ *req)
{
	const unsigned char *p = (const unsigned char *) line;
	const char *eq = 0;
	size_t	i, nlen;
	int	a;

	for (i = 0; i < llen; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return (POLICY_ERR_BYTE);
		if (p[i] == '=' && eq == 0)
			eq = line + i;
	}
	if (eq == 0 || eq == line)
		return (POLICY_ERR_SYNTAX);
	if (++req->nattr > lim->attr_limit)
		return (POLICY_ERR_ATTRS);
	nlen = (size_t) (eq - line);
	for (a = 0; a < PA_COUNT; a++) {
		if (policy_names[a].len == nlen && memcmp(policy_names[a].name, line, nlen) == 0) {
			req->off[a] = start + nlen + 1;
			req->len[a] = llen - nlen - 1;
			break;
		}
	}
	return (POLICY_MORE);
}

/* policy_parse - continue reading a request */

int
policy_parse(char *buf, size_t len, const POLICY_LIMITS *lim, POLICY_REQ *req)
{
	const char *line, *nl;
	size_t	avail, look, llen, start;
	int	rc, a;

	while (req->pos < len) {
		start = req->pos;
		line = buf + start;
		avail = len - start;
		/* Look no further than a legal line can reach ("\r\n" included). */
		look = avail < lim->line_limit + 2 ? avail : lim->line_limit + 2;
		if ((nl = memchr(line, '\n', look)) == 0) {
			if (avail > lim->line_limit + 1)
				return (POLICY_ERR_LINE);
			break;
		}
		llen = (size_t) (nl - line);
		if (start + llen + 1 > lim->request_limit)
			return (POLICY_ERR_SIZE);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > lim->line_limit)
			return (POLICY_ERR_LINE);
		if (llen == 0) {
			req->pos = start + (size_t) (nl - line) + 1;
			for (a = 0; a < PA_COUNT; a++)
				if (req->off[a] != POLICY_ABSENT)
					buf[req->off[a] + req->len[a]] = 0;
			return (POLICY_DONE);
		}
		if ((rc = policy_line(line, llen, start, lim, req)) != POLICY_MORE)
			return (rc);
		req->pos = start + (size_t) (nl - line) + 1;
	}
	/* Incomplete. Can it still end within the limit? It needs at least
	 * one more newline. */
	if (len + 1 > lim->request_limit)
		return (POLICY_ERR_SIZE);
	return (POLICY_MORE);
}

/* policy_value - a known value, "" when absent */

const char *
policy_value(const POLICY_REQ *req, const char *buf, POLICY_ATTR attr)
{
	if (req->off[attr] == POLICY_ABSENT)
		return ("");
	return (buf + req->off[attr]);
}
