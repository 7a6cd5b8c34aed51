/*++
/* NAME
/*	classify_dsn 3
/* SUMMARY
/*	delivery reports: RFC 3464 fields and non-standard bounce texts
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	int	classify_dsn(ctx, fields, len)
/*	CLASSIFY_CTX *ctx;
/*	const char *fields;
/*	size_t	len;
/*
/*	int	classify_looks_bounce(ctx)
/*	CLASSIFY_CTX *ctx;
/*
/*	int	classify_text_bounce(ctx)
/*	CLASSIFY_CTX *ctx;
/* DESCRIPTION
/*	classify_dsn() reads the per-message and per-recipient fields of a
/*	delivery-status report (RFC 3464; also the fields some MTAs put in
/*	plain text) and adds one row per failed or delayed recipient. A
/*	report whose recipients were all delivered, relayed or expanded
/*	gives rows with reason "delivered" and kind OTHER. It returns the
/*	number of rows added, and sets the kind.
/*
/*	classify_looks_bounce() is true when the headers say the message
/*	is a delivery report: a mail-system author, a report content type,
/*	X-Failed-Recipients, or a subject in the wording MTAs use.
/*
/*	classify_text_bounce() reads a bounce that has no usable report
/*	part: it finds the failed addresses in the human-readable text
/*	(before the copy of the original message), the SMTP reply or
/*	explanation that goes with each, and the status code in it. It
/*	returns the number of rows added; with strong bounce signs and no
/*	address found it still sets kind BOUNCE, using the To of the
/*	original as the recipient when there is one.
/*
/*	classify_find_cut() returns where the report text ends in a text
/*	that also carries a copy of the original message (a marker line
/*	such as "Below this line is a copy of the message", or a block of
/*	header lines), and sets orig_start to where that copy begins.
/* DIAGNOSTICS
/*	None: a report that cannot be read gives fewer rows, not an error.
/* SEE ALSO
/*	RFC 3464, RFC 3463, RFC 5321
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "classify/classify_int.h"

 /*
  * One per-recipient block while it is read.
  */
typedef struct DSN_REC {
	char	final[256];
	char	orig[256];
	char	action[16];
	char	status[16];
	char	diag[512];
	char	remote[256];
} DSN_REC;

#define DSN_MAX_FIELD	2048

/* status_ok - a usable x.y.z code */

static int
status_ok(const char *status)
{
	return ((status[0] == '2' || status[0] == '4' || status[0] == '5')
		&& status[1] == '.');
}

/* strip_type - "rfc822; addr" and "smtp; text" without the type */

static const char *
strip_type(const char *value)
{
	const char *semi = strchr(value, ';');
	const char *cp;

	if (semi == 0)
		return (value);
	for (cp = value; cp < semi; cp++)
		if (!isalnum((unsigned char) *cp) && *cp != '-' && *cp != ' '
		    && *cp != '.')
			return (value);
	for (semi++; *semi == ' '; semi++)
		 /* void */ ;
	return (semi);
}

/* paragraph_of - the text paragraph that names an address */

static void
paragraph_of(CLASSIFY_CTX *ctx, const char *addr, char *buf, size_t size)
{
	const char *text = strbuf_str(&ctx->text);
	const char *hit;
	const char *start;
	const char *end;
	const char *cp;

	buf[0] = 0;
	/* Addresses are in lower case already. */
	if (addr[0] == 0 || ctx->low == 0
	    || (hit = memmem(ctx->low, ctx->text.len, addr, strlen(addr))) == 0)
		return;
	hit = text + (hit - ctx->low);
	/* The paragraph: from the blank line before to the blank line after. */
	for (start = hit; start > text; start--)
		if (start[-1] == '\n' && start - 1 > text && start[-2] == '\n')
			break;
	for (end = hit, cp = hit; *cp; cp++) {
		end = cp + 1;
		if (cp[0] == '\n' && cp[1] == '\n') {
			/* Keep the next paragraph when this one only names it. */
			if (cp - start < (long) strlen(addr) + 40)
				continue;
			break;
		}
		if (cp - start > 1200)
			break;
	}
	classify_oneline(buf, size, start, end - start);
}

/* quoted_reply - a relay's own words around the remote reply it quotes */

static void
quoted_reply(CLASSIFY_RCPT *rcpt)
{
	const char *d = rcpt->diagnostic;
	const char *open;
	const char *close;
	char	inner[512];
	char	st[16];

	/*
	 * "5.1.0 - Unknown address error 550-'5.7.1 <x>... Access denied'":
	 * the relay's status and description first, the remote server's reply
	 * in quotes. The reply is what the remote said; the description is
	 * the relay's guess.
	 */
	if (!(d[0] == '4' || d[0] == '5') || d[1] != '.' || strstr(d, " - ") == 0)
		return;
	if ((open = strstr(d, "-'")) == 0 && (open = strstr(d, " '")) == 0)
		return;
	if ((close = strchr(open + 2, '\'')) == 0 || close - open < 4)
		return;
	classify_oneline(inner, sizeof(inner), open - 3, close - open + 3);
	if (classify_find_status(inner, st, sizeof(st)) && st[0] != '2')
		classify_copy(rcpt->status, sizeof(rcpt->status), st);
	classify_copy(rcpt->diagnostic, sizeof(rcpt->diagnostic), inner);
}

/* has_reply - text quotes an SMTP reply code (4xx or 5xx) */

static int
has_reply(const char *text)
{
	const char *cp;

	for (cp = text; *cp; cp++)
		if ((cp[0] == '4' || cp[0] == '5') && isdigit((unsigned char) cp[1])
		    && isdigit((unsigned char) cp[2])
		    && (cp == text || !isalnum((unsigned char) cp[-1]))
		    && (cp[3] == ' ' || cp[3] == '-'))
			return (1);
	return (0);
}

/* emit - one DSN record becomes a row */

static void
emit(CLASSIFY_CTX *ctx, DSN_REC *rec, int delivered, int alone)
{
	CLASSIFY_RCPT *rcpt;
	char	addr[256];
	char	para[4096];
	char	oaddr[256];

	/*
	 * Final-Recipient is the address as the reporting MTA last saw it;
	 * when that is a local form (no dot in the domain, a source route)
	 * the original address is the one the sender knows.
	 */
	classify_first_addr(rec->orig, oaddr, sizeof(oaddr));
	if (!classify_first_addr(rec->final, addr, sizeof(addr))
	    || (oaddr[0] && strchr(strchr(addr, '@'), '.') == 0))
		classify_copy(addr, sizeof(addr), oaddr);
	if (addr[0] == 0)
		return;
	if (classify_find_rcpt(ctx->res, addr))
		return;
	if ((rcpt = classify_add_rcpt(ctx->res, addr)) == 0)
		return;
	classify_copy(rcpt->action, sizeof(rcpt->action), rec->action);
	classify_copy(rcpt->remote_mta, sizeof(rcpt->remote_mta), rec->remote);
	classify_copy(rcpt->diagnostic, sizeof(rcpt->diagnostic), rec->diag);
	if (status_ok(rec->status))
		classify_copy(rcpt->status, sizeof(rcpt->status), rec->status);
	if (delivered) {
		snprintf(rcpt->reason, sizeof(rcpt->reason), "delivered");
		rcpt->class = CLASSIFY_NONE;
		return;
	}
	paragraph_of(ctx, addr, para, sizeof(para));
	if (rcpt->diagnostic[0] == 0)
		classify_copy(rcpt->diagnostic, sizeof(rcpt->diagnostic), para);

	/*
	 * A bare x.0.0 is what MTAs say when they know no better; the remote
	 * reply often carries the precise code.
	 */
	if (rcpt->status[0] == 0 || strcmp(rcpt->status + 1, ".0.0") == 0) {
		char	better[16];

		if (classify_find_status(rcpt->diagnostic, better, sizeof(better))
		    && better[0] != '2' && strcmp(better + 1, ".0.0") != 0
		    && (rcpt->status[0] == 0 || better[0] == rcpt->status[0]))
			classify_copy(rcpt->status, sizeof(rcpt->status), better);
	}
	quoted_reply(rcpt);
	/*
	 * A paragraph that only names the address (Sendmail's "permanent
	 * fatal errors" list) leaves the explanation to the rest of the
	 * report: the session transcript that follows it.
	 */
	if (para[0] == 0 || !has_reply(para))
		classify_oneline(para, sizeof(para), strbuf_str(&ctx->text),
				 ctx->text_cut);
	/* A report about one recipient only: its transcript is about it. */
	if (alone && ctx->low)
		classify_reason(rcpt, para, ctx->low, ctx->text_cut);
	else
		classify_reason(rcpt, para, 0, 0);
}

/* next_rec - start the next record, growing the array as needed */

static DSN_REC *
next_rec(DSN_REC **recs, size_t *cap, size_t *nrec)
{
	if (*nrec + 1 >= *cap) {
		*recs = myrealloc(*recs, *cap * 2 * sizeof(**recs));
		memset(*recs + *cap, 0, *cap * sizeof(**recs));
		*cap *= 2;
	}
	return (*recs + ++*nrec);
}

/* rec_failed - a failure, a delay or an expiry, not a success */

static int
rec_failed(const DSN_REC *rec)
{
	if (rec->action[0])
		return (strncasecmp(rec->action, "fail", 4) == 0
			|| strncasecmp(rec->action, "delay", 5) == 0
			|| strncasecmp(rec->action, "expire", 6) == 0);
	return (rec->status[0] == '4' || rec->status[0] == '5'
		|| rec->status[0] == 0);
}

/* classify_dsn - rows from delivery-status fields */

int
classify_dsn(CLASSIFY_CTX *ctx, const char *fields, size_t len)
{
	DSN_REC *recs;
	DSN_REC *cur;
	size_t	nrec = 0;
	const char *cp = fields;
	const char *end = fields + len;
	char	name[64];
	char	value[DSN_MAX_FIELD];
	size_t	vlen;
	int	nfailed = 0;
	int	nadded;
	size_t	before = ctx->res->nrcpt;
	size_t	i;

	size_t	cap = 4;

	recs = mycalloc(cap, sizeof(*recs));
	cur = recs;
	while (cp < end) {
		const char *eol;
		const char *colon;
		size_t	nlen;

		if ((eol = memchr(cp, '\n', end - cp)) == 0)
			eol = end;
		/* A blank line ends a recipient block. */
		if (eol == cp || (eol == cp + 1 && *cp == '\r')) {
			if ((cur->final[0] || cur->orig[0]) && nrec < CLASSIFY_MAX_RCPT)
				cur = next_rec(&recs, &cap, &nrec);
			cp = eol + 1;
			continue;
		}
		colon = memchr(cp, ':', eol - cp);
		if (colon == 0 || colon == cp || (nlen = colon - cp) >= sizeof(name)
		    || memchr(cp, ' ', nlen) != 0 || *cp == ' ' || *cp == '\t') {
			cp = eol + 1;
			continue;
		}
		memcpy(name, cp, nlen);
		name[nlen] = 0;
		/* The value with its continuation lines, bounded. */
		vlen = 0;
		cp = colon + 1;
		for (;;) {
			size_t	n = eol - cp;
			size_t	room = sizeof(value) - 2 - vlen;	/* vlen <= size - 2 */

			/* Beyond the bound, continuation lines are skipped. */
			if (n > room)
				n = room;
			memcpy(value + vlen, cp, n);
			vlen += n;
			if (vlen < sizeof(value) - 2)
				value[vlen++] = ' ';
			cp = eol + 1;
			if (cp >= end || (*cp != ' ' && *cp != '\t'))
				break;
			if ((eol = memchr(cp, '\n', end - cp)) == 0)
				eol = end;
		}
		value[vlen] = 0;
		classify_oneline(value, sizeof(value), value, vlen);

		if (strcasecmp(name, "Final-Recipient") == 0
		    || strcasecmp(name, "X-Actual-Recipient") == 0) {
			if (strcasecmp(name, "X-Actual-Recipient") == 0 && cur->final[0])
				continue;
			if (cur->final[0] && strcasecmp(name, "Final-Recipient") == 0
			    && nrec < CLASSIFY_MAX_RCPT)
				cur = next_rec(&recs, &cap, &nrec);
			classify_copy(cur->final, sizeof(cur->final), strip_type(value));
		} else if (strcasecmp(name, "Original-Recipient") == 0) {
			/* It may come before or after its Final-Recipient. */
			if (cur->orig[0] && nrec < CLASSIFY_MAX_RCPT)
				cur = next_rec(&recs, &cap, &nrec);
			classify_copy(cur->orig, sizeof(cur->orig), strip_type(value));
		} else if (strcasecmp(name, "Action") == 0) {
			classify_copy(cur->action, sizeof(cur->action), value);
		} else if (strcasecmp(name, "Status") == 0) {
			classify_find_status(value, cur->status, sizeof(cur->status));
		} else if (strcasecmp(name, "Remote-MTA") == 0) {
			classify_copy(cur->remote, sizeof(cur->remote), strip_type(value));
		} else if (strcasecmp(name, "Diagnostic-Code") == 0) {
			classify_copy(cur->diag, sizeof(cur->diag), strip_type(value));
		} else if (strcasecmp(name, "X-Original-Message-ID") == 0) {
			classify_strip_id(ctx->res->orig_message_id,
					  sizeof(ctx->res->orig_message_id), value);
		}
	}
	if (cur->final[0] || cur->orig[0])
		nrec++;

	for (i = 0; i < nrec; i++)
		if (rec_failed(recs + i))
			nfailed++;
	for (i = 0; i < nrec; i++)
		if (nfailed == 0 || rec_failed(recs + i))
			emit(ctx, recs + i, nfailed == 0, nfailed == 1);
	myfree(recs);
	nadded = ctx->res->nrcpt - before;
	if (nadded > 0)
		ctx->res->kind = nfailed ? CLASSIFY_BOUNCE : CLASSIFY_OTHER;
	return (nadded);
}

 /*
  * How MTAs and people say that a message is a delivery report. These are
  * matched in lower case against the subject; the list is about wording,
  * not about any one product.
  */
static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "delivery status notification",
	"delivery failure", "delivery failed", "failure notice",
	"returned mail", "mail delivery", "not delivered", "could not be delivered",
	"couldn't be delivered", "delivery notification", "nondeliverable",
	"non-deliverable", "non deliverable", "delivery problem",
	"returned to sender", "delivery error", "failed delivery",
	"permanent failure", "temporary failure", "delivery has failed",
	"message delayed", "delivery delayed", "delayed mail",
	"could not send message", "message status", "mail system error",
	"returned message", "message not delivered", "delivery report",
	"rejected", "bounce", "error sending", "mail failure",
	"unzustellbar", "non remis", "non recapitabile", "no entregado",
	"niet bezorgd", "onbestelbaar", "mail could not", "undeliverable",
	"warning: message", "nicht zugestellt", "error en la entrega",
	"message you sent", "delivery notice", "notice of delivery failure",
	"delivery final failure", "mail error", "sending failed",
	0,
};

/* mail_system_author - From names a mail system, not a person */

static int
mail_system_author(CLASSIFY_CTX *ctx)
{
	char	from[256];
	char	name[128];
	static const char *const locals[] = {
		"mailer-daemon", "mailer_daemon", "mail-daemon", "maildaemon",
		"mailerdaemon", "postmaster", "mdaemon", "mail.delivery",
		"mail-delivery", "bounce", "mailer@", "nobody@", "mail-router",
		"daemon@", "mailadmin", "smtp@", "post_master", "mailerdaemon", 0,
	};
	static const char *const names[] = {
		"mail delivery", "mailer-daemon", "mailer daemon", "postmaster",
		"mail administrator", "delivery subsystem", "mail system",
		"delivery status", "mail router", "mailer", "mail service",
		0,
	};
	const char *const *cpp;

	str_lower_copy(from, sizeof(from), ctx->res->from);
	str_lower_copy(name, sizeof(name), ctx->from_name);
	for (cpp = locals; *cpp; cpp++)
		if (strstr(from, *cpp))
			return (1);
	for (cpp = names; *cpp; cpp++)
		if (strstr(name, *cpp))
			return (1);
	return (0);
}

/* bounce_subject - a subject in delivery-report wording */

static int
bounce_subject(CLASSIFY_CTX *ctx)
{
	char	subj[256];
	const char *const *cpp;

	str_lower_copy(subj, sizeof(subj), ctx->res->subject);
	for (cpp = bounce_subjects; *cpp; cpp++)
		if (strstr(subj, *cpp))
			return (1);
	return (0);
}


 /*
  * How bounce texts open. Only the start of the text is read, where a
  * report says what it is; a person quoting a bounce further down is not
  * a bounce.
  */
static const char *const bounce_openings[] = {
	"could not be delivered", "couldn't be delivered", "was not delivered",
	"undeliverable", "delivery has failed", "delivery failed",
	"failed to deliver", "unable to deliver", "not able to deliver",
	"wasn't able to deliver", "permanent fatal error", "permanent error",
	"the following address(es) failed", "error message below",
	"invalid user address", "could not deliver", "non-delivery",
	"transcript of session follows", "error delivering", "delivery failure",
	"message could not be", "mail delivery failed", "not be delivered",
	"delivery to the following", "has not been delivered",
	"cannot be delivered", "was undeliverable", "delivery problem",
	0,
};

/* text_says_bounce - the report text opens like a bounce */

static int
text_says_bounce(CLASSIFY_CTX *ctx)
{
	char	head[2048];
	const char *const *cpp;

	classify_copy(head, sizeof(head), ctx->low ? ctx->low : "");
	for (cpp = bounce_openings; *cpp; cpp++)
		if (strstr(head, *cpp))
			return (1);
	return (0);
}

/* classify_looks_bounce - signs of a delivery report */

int
classify_looks_bounce(CLASSIFY_CTX *ctx)
{
	if (ctx->failed.len > 0)
		return (1);
	if (strcasecmp(ctx->report_type, "delivery-status") == 0)
		return (1);
	if (mail_system_author(ctx))
		return (1);
	if (bounce_subject(ctx))
		return (2);
	if (text_says_bounce(ctx))
		return (2);
	return (0);
}

 /*
  * Where the copy of the original message starts in a bounce text. After
  * this nothing is report text. Matched in lower case within a line.
  */
static const char *const cut_markers[] = {
	"below this line is a copy of the message",
	"this is a copy of the message",
	"copy of the message, including",
	"original message follows",
	"original message headers",
	"message headers follow",
	"headers of the original message",
	"original message header",
	"unsent message follows",
	"the text you sent follows",
	"your message reads",
	"------ original message",
	"----- original message",
	"--- original message",
	"-----original message-----",
	"returned message follows",
	"content-type: message/rfc822",
	"this is the header of the original",
	"header of the original message",
	"the original message was:",
	"original message:",
	"included is a copy of the message",
	"---- the message header",
	"your message follows",
	"following is a copy of your message",
	"message rejected follows",
	"------- returned message",
	"original message text",
	0,
};

#define CUT_MARKER_MAX	64		/* no marker is longer */
#define CUT_MARKERS	(sizeof(cut_markers) / sizeof(cut_markers[0]))

static const char *const header_names[] = {
	"return-path", "received", "message-id", "mime-version",
	"dkim-signature", "delivered-to", "authentication-results",
	"x-original-to", "arc-seal", "received-spf",
	0,
};

/* header_line - "Name: value" with a name from the header list */

static int
header_line(const char *line, const char *eol, int known)
{
	const char *cp;
	const char *const *cpp;

	for (cp = line; cp < eol && (isalnum((unsigned char) *cp) || *cp == '-'); cp++)
		 /* void */ ;
	if (cp == line || cp >= eol || *cp != ':' || cp - line > 40)
		return (0);
	if (!known)
		return (1);
	for (cpp = header_names; *cpp; cpp++)
		if ((size_t) (cp - line) == strlen(*cpp)
		    && strncasecmp(line, *cpp, cp - line) == 0)
			return (1);
	return (strncasecmp(line, "X-", 2) == 0);
}

/* classify_find_cut - offset where the report text ends */

size_t
classify_find_cut(const char *text, const char *low, size_t len,
		          size_t *orig_start)
{
	const char *cp = text;
	const char *end = text + len;
	const char *const *cpp;
	static const char *const anchors[2] = {"message", "original"};
	const char *where[CUT_MARKERS][2];
	size_t	i, n;
	int	a;
	size_t	best = len;
	int	prev_blank = 1;

	/*
	 * The earliest marker line. Nearly every marker has the word
	 * "message" or "original" in it: the text is searched for those two
	 * words only, and the markers are compared where they occur; the few
	 * others are searched for each.
	 */
	for (cpp = cut_markers, n = 0; *cpp; cpp++, n++) {
		const char *hit;

		where[n][0] = strstr(*cpp, anchors[0]);
		where[n][1] = strstr(*cpp, anchors[1]);
		if (where[n][0] || where[n][1])
			continue;
		if ((hit = strstr(low, *cpp)) != 0 && (size_t) (hit - low) < best)
			best = hit - low;
	}
	for (a = 0; a < 2; a++) {
		size_t	alen = strlen(anchors[a]);
		const char *hit;

		for (hit = low; (hit = strstr(hit, anchors[a])) != 0
		     && (size_t) (hit - low) < best + CUT_MARKER_MAX; hit += alen) {
			for (i = 0; i < n; i++) {
				size_t	off;

				if (where[i][a] == 0)
					continue;
				off = where[i][a] - cut_markers[i];
				if ((size_t) (hit - low) >= off
				    && (size_t) (hit - low) - off < best
				    && strncmp(hit - off, cut_markers[i],
					       strlen(cut_markers[i])) == 0)
					best = hit - low - off;
			}
		}
	}
	if (best < len) {
		const char *ls = text + best;
		const char *nl;

		while (ls > text && ls[-1] != '\n')
			ls--;
		nl = memchr(text + best, '\n', len - best);
		*orig_start = nl ? (size_t) (nl + 1 - text) : len;
		end = ls;
		best = ls - text;
	}

	/* A block of header lines starts the original too. */
	while (cp < end) {
		const char *eol = memchr(cp, '\n', end - cp);
		const char *next;

		if (eol == 0)
			eol = end;
		next = eol < end ? eol + 1 : end;
		if (prev_blank && header_line(cp, eol, 1) && next < end) {
			const char *eol2 = memchr(next, '\n', end - next);

			if (eol2 == 0)
				eol2 = end;
			if (header_line(next, eol2, 0) || *next == ' ' || *next == '\t') {
				*orig_start = cp - text;
				return (cp - text);
			}
		}
		prev_blank = (eol == cp || (eol == cp + 1 && *cp == '\r'));
		cp = next;
	}
	if (best == len)
		*orig_start = len;
	return (best);
}

 /*
  * An address in the report text, with how sure we are that it is a
  * failed recipient.
  */
typedef struct CAND {
	char	addr[256];
	size_t	line_start;			/* offset of its line */
	size_t	pos;				/* offset of the address */
	int	score;
} CAND;

#define MAX_CAND 32

 /*
  * Kept: the best-placed addresses, and any that heads an entry of its own
  * (a report that lists several failures names each alike, but may name
  * one of them again in a stronger place, "RCPT TO:<addr>:").
  */
#define KEPT(score, best) ((score) >= (best) || (score) >= 4)

/* same_addr - equal, case-insensitive, and not empty */

static int
same_addr(const char *a, const char *b)
{
	return (a[0] && b[0] && strcasecmp(a, b) == 0);
}

/* excluded - addresses that are never the failed recipient */

static int
excluded(CLASSIFY_CTX *ctx, const char *addr, const char *orig_from)
{
	char	rp[256];

	if (classify_is_admin_addr(addr))
		return (1);
	if (same_addr(addr, ctx->res->from) || same_addr(addr, ctx->to))
		return (1);
	if (same_addr(addr, orig_from))
		return (1);
	classify_first_addr(ctx->return_path, rp, sizeof(rp));
	if (same_addr(addr, rp))
		return (1);
	if (strstr(addr, "mailer-daemon") || strstr(addr, "postmaster@"))
		return (1);
	return (0);
}

/* context_score - how much the surroundings say "failed recipient" */

static int
context_score(const char *text, size_t pos, size_t alen, size_t line_start,
	              const char *eol)
{
	const char *addr = text + pos;
	const char *after = addr + alen;
	char	before[80];
	size_t	blen;
	int	score = 1;
	const char *cp;

	/* Part of a URL or a Message-ID is not an address. */
	if (pos > 0 && (addr[-1] == '/' || addr[-1] == '='))
		return (0);
	if (pos > 0 && addr[-1] == '<' && *after == '>' && after + 1 < eol
	    && after[1] == ':')
		score += 3;			/* "<addr>:" heads a paragraph */
	blen = pos - line_start > sizeof(before) - 1 ? sizeof(before) - 1 : pos - line_start;
	str_lower_copy(before, blen + 1, text + pos - blen);
	/* Only white space and brackets before it on its line. */
	for (cp = before; *cp == ' ' || *cp == '\t' || *cp == '<' || *cp == '"'
	     || *cp == '*' || *cp == '-'; cp++)
		 /* void */ ;
	if (*cp == 0) {
		score += 2;
		/* ... and nothing but a colon or the line end after it. */
		for (cp = after; cp < eol && (*cp == '>' || *cp == ':' || *cp == ' '
					     || *cp == '\r' || *cp == ','); cp++)
			 /* void */ ;
		if (cp == eol || *cp == '(')
			score += 1;
	}
	/* "550 <addr>... User unknown", "554 5.1.1 <addr>: ..." */
	if (isdigit((unsigned char) before[0]) && isdigit((unsigned char) before[1])
	    && isdigit((unsigned char) before[2]) && (before[3] == ' ' || before[3] == '-')
	    && blen >= 5 && before[blen - 1] == '<')
		score += 3;
	if (strstr(before, "rcpt to") || strstr(before, "recipient")
	    || strstr(before, " to:") || strstr(before, "to <")
	    || strstr(before, "for <") || strstr(before, "address:")
	    || strstr(before, "to ") || strstr(before, "user "))
		score += 1;
	if (strstr(before, "message-id") || strstr(before, "from:")
	    || strstr(before, "mail from") || strstr(before, "sender")
	    || strstr(before, "envelope-from") || strstr(before, "return-path")
	    || strstr(before, "by ") || strstr(before, "id <"))
		score -= 2;
	return (score);
}

/* first_status - the first failure status code (4.x.x or 5.x.x) in text */

static void
first_status(const char *text, char *buf, size_t size)
{
	const char *s = text;
	char	st[16];

	while (classify_find_status(s, st, sizeof(st))) {
		if (st[0] != '2') {
			classify_copy(buf, size, st);
			return;
		}
		s = strstr(s, st) + strlen(st);
	}
}

/* classify_text_bounce - rows from a bounce text */

int
classify_text_bounce(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	const char *text = strbuf_str(&ctx->text);
	size_t	cut, orig_start;
	CAND	cands[MAX_CAND];
	int	ncand = 0;
	int	best = 0;
	int	i, j, added = 0;
	int	nkept = 0;
	char	whole[2048];
	char	orig_from[256];
	const char *cp;
	const char *start;
	size_t	alen;

	/* A report with DSN fields in a text part. */
	if ((strstr(ctx->low, "\nfinal-recipient:")
	     || strstr(ctx->low, "\noriginal-recipient:"))
	    && classify_dsn(ctx, text, ctx->text.len) > 0)
		return (res->nrcpt);

	cut = ctx->text_cut;
	orig_start = ctx->orig_start;
	if (ctx->orig.len == 0 && orig_start < ctx->text.len) {
		const char *o = text + orig_start;

		while (*o == '\n' || *o == '\r' || *o == ' ')
			o++;
		strbuf_append(&ctx->orig, o,
			      strlen(o) > CLASSIFY_MAX_ORIG ? CLASSIFY_MAX_ORIG : strlen(o));
	}
	orig_from[0] = 0;
	if (ctx->orig.len) {
		char	buf[512];

		classify_copy_field(ctx->orig.data, "From", buf, sizeof(buf));
		classify_first_addr(buf, orig_from, sizeof(orig_from));
	}

	for (cp = text; ncand < MAX_CAND
	     && classify_find_addr(cp, text + cut, &start, &alen) != 0;
	     cp = start + alen) {
		CAND   *c = cands + ncand;
		const char *ls;
		const char *eol;
		int	score;

		if (!classify_addr_copy(c->addr, sizeof(c->addr), start, alen))
			continue;
		if (classify_is_admin_addr(c->addr))
			continue;
		for (ls = start; ls > text && ls[-1] != '\n'; ls--)
			 /* void */ ;
		if ((eol = memchr(start, '\n', text + cut - start)) == 0)
			eol = text + cut;
		score = context_score(text, start - text, alen, ls - text, eol);

		/*
		 * The sender and the bounce's own addresses are mentioned in
		 * passing ("your message from ..."); only an address that heads
		 * its own entry is taken even then.
		 */
		if (score < 4 && excluded(ctx, c->addr, orig_from))
			continue;
		for (j = 0; j < ncand; j++)
			if (same_addr(cands[j].addr, c->addr))
				break;
		if (j < ncand) {
			/* Its text starts where it is first named. */
			if (score > cands[j].score)
				cands[j].score = score;
			if (cands[j].pos == (size_t) -1) {
				cands[j].pos = start - text;
				cands[j].line_start = ls - text;
			}
			continue;
		}
		if (score <= 0)
			continue;
		c->score = score;
		c->pos = start - text;
		c->line_start = ls - text;
		ncand++;
	}
	for (i = 0; i < ncand; i++)
		if (cands[i].score > best)
			best = cands[i].score;

	/*
	 * X-Failed-Recipients (Exim) is used when the text does not name the
	 * recipients clearly: the text is what the reporting MTA wrote for the
	 * sender, and the header is sometimes the rewritten address.
	 */
	if (best < 3) {
		for (cp = strbuf_str(&ctx->failed);
		     ncand < MAX_CAND && classify_find_addr(cp, cp + strlen(cp), &start, &alen);
		     cp = start + alen) {
			CAND   *c = cands + ncand;

			if (!classify_addr_copy(c->addr, sizeof(c->addr), start, alen))
				continue;
			for (j = 0; j < ncand; j++)
				if (same_addr(cands[j].addr, c->addr))
					break;
			if (j < ncand) {
				cands[j].score = 10;
				continue;
			}
			c->score = 10;
			c->pos = c->line_start = (size_t) -1;
			ncand++;
		}
	}
	for (i = 0; i < ncand; i++)
		if (cands[i].score > best)
			best = cands[i].score;

	for (i = 0; i < ncand; i++)
		if (KEPT(cands[i].score, best))
			nkept++;

	/*
	 * Keep the best-placed addresses: a report lists its failed
	 * recipients alike, and an address mentioned in passing (a contact
	 * for help, a forwarding target) is placed differently.
	 */
	for (i = 0; i < ncand; i++) {
		CLASSIFY_RCPT *rcpt;
		size_t	from, to;
		char	seg[2048];

		if (!KEPT(cands[i].score, best))
			continue;
		if ((rcpt = classify_add_rcpt(res, cands[i].addr)) == 0)
			break;
		added++;

		/*
		 * The text that goes with this address: from its line to the
		 * line of the next kept address; the whole report when it is
		 * the only one.
		 */
		from = cands[i].pos == (size_t) -1 ? 0 : cands[i].line_start;
		to = cut;
		for (j = 0; j < ncand; j++) {
			if (j == i || cands[j].pos == (size_t) -1)
				continue;
			if (KEPT(cands[j].score, best)
			    && cands[j].line_start > from && cands[j].line_start < to
			    && !same_addr(cands[j].addr, cands[i].addr))
				to = cands[j].line_start;
		}
		if (to - from > sizeof(seg) - 1)
			to = from + sizeof(seg) - 1;
		classify_oneline(seg, sizeof(seg), text + from, to - from);
		classify_copy(rcpt->diagnostic, sizeof(rcpt->diagnostic), seg);
		first_status(seg, rcpt->status, sizeof(rcpt->status));

		/*
		 * With one recipient the whole report is about it, and some
		 * reports give the reason before the address.
		 */
		whole[0] = 0;
		if (nkept == 1 && from > 0) {
			classify_oneline(whole, sizeof(whole), text, cut);
			if (rcpt->status[0] == 0)
				first_status(whole, rcpt->status, sizeof(rcpt->status));
		}
		if (nkept == 1)
			classify_reason(rcpt, whole[0] ? whole : 0, ctx->low, cut);
		else
			classify_reason(rcpt, 0, 0, 0);
	}

	if (added == 0) {
		char	to[256];
		char	buf[512];
		CLASSIFY_RCPT *rcpt;

		/*
		 * No address in the text: the To of the original, when the
		 * report carries one; or strong signs alone.
		 */
		to[0] = 0;
		if (ctx->orig.len) {
			classify_copy_field(ctx->orig.data, "To", buf, sizeof(buf));
			classify_first_addr(buf, to, sizeof(to));
		}
		if (to[0] == 0 && classify_looks_bounce(ctx) != 1)
			return (0);
		res->kind = CLASSIFY_BOUNCE;
		if (to[0] && (rcpt = classify_add_rcpt(res, to)) != 0) {
			char	seg[2048];

			classify_oneline(seg, sizeof(seg), text, cut);
			classify_copy(rcpt->diagnostic, sizeof(rcpt->diagnostic), seg);
			classify_find_status(seg, rcpt->status, sizeof(rcpt->status));
			if (rcpt->status[0] == '2')
				rcpt->status[0] = 0;
			classify_reason(rcpt, 0, ctx->low, cut);
		}
		return (1);
	}
	res->kind = CLASSIFY_BOUNCE;
	return (added);
}
