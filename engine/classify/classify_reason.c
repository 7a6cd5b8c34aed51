/*++
/* NAME
/*	classify_reason 3
/* SUMMARY
/*	why a delivery failed, and whether it is final
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	void	classify_reason(rcpt, context, report, report_len)
/*	CLASSIFY_RCPT *rcpt;
/*	const char *context;
/*	const char *report;
/*	size_t	report_len;
/* DESCRIPTION
/*	classify_reason() sets the reason of a failed recipient (a name
/*	from Sisimai's vocabulary: userunknown, mailboxfull, hostunknown,
/*	filtered, rejected, blocked, spamdetected, expired, ...) and its
/*	class, hard or soft.
/*
/*	The remote reply in rcpt->diagnostic is read first: the wording
/*	of a reply is more precise than its status code (a "5.7.1" may be
/*	a block list, a spam verdict, a missing PTR record or a relay
/*	denial). Then the status code (RFC 3463 and its later additions).
/*	When both are silent, context (the report text around the
/*	recipient) is read for the same wordings.
/*
/*	A failure is hard when the address itself is bad: unknown user or
/*	domain, a mailbox that has moved, or a domain that accepts no mail
/*	(permanently). Everything else may work another day and is soft:
/*	full mailboxes, blocks, filters, policy and temporary trouble.
/*
/*	report (lower case, report_len bytes, or null) is the whole report
/*	text when it is about this recipient alone: what the reporting MTA
/*	says there ("after RCPT TO", "in reply to end of DATA command")
/*	tells which command was refused when the reply itself does not (the
/*	">>> DATA" of a transcript does not: with PIPELINING the replies to
/*	RCPT TO follow it).
/*
/*	The SMTP stage the reply answered matters: "user unknown" after
/*	DATA (or with a status outside the address class, without the
/*	reply naming the address) is a content filter at the recipient's
/*	side, not a missing mailbox; anything refused at MAIL FROM is about
/*	the sender; a refusal before any command is a block of the
/*	connecting host.
/*
/*	A permanent refusal that quotes the recipient and gives no other
/*	reason is about the address: userunknown.
/* DIAGNOSTICS
/*	None. When nothing decides, the reason is "onhold" (a status but
/*	no explanation, also a 4.x.x that the reporting MTA calls failed),
/*	"expired" (a delay) or "undefined".
/* SEE ALSO
/*	RFC 3463, RFC 7372, RFC 7505, RFC 8098
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>

#include "classify/classify_int.h"

 /*
  * Status codes (RFC 3463 and later registrations) to reasons. A "vague"
  * code says only that something is wrong in a large area (x.7.1 "not
  * authorised" covers spam verdicts, block lists and relay denials); its
  * reason is used only when no wording decides.
  */
typedef struct STATUS_RULE {
	const char *code;			/* "1.1" for x.1.1 */
	const char *reason;
	int	vague;
} STATUS_RULE;

static const STATUS_RULE status_rules[] = {
	{"1.0", "userunknown", 1},
	{"1.1", "userunknown", 0},
	{"1.2", "hostunknown", 0},
	{"1.3", "userunknown", 0},
	{"1.4", "userunknown", 1},
	{"1.5", "delivered", 1},
	{"1.6", "hasmoved", 0},
	{"1.7", "rejected", 0},
	{"1.8", "rejected", 0},
	{"1.9", "systemerror", 1},
	{"1.10", "notaccept", 1},
	{"2.0", "filtered", 1},
	{"2.1", "filtered", 1},
	{"2.2", "mailboxfull", 0},
	{"2.3", "exceedlimit", 0},
	{"2.4", "systemerror", 1},
	{"3.0", "systemerror", 1},
	{"3.1", "systemfull", 0},
	{"3.2", "notaccept", 1},
	{"3.3", "systemerror", 1},
	{"3.4", "mesgtoobig", 0},
	{"3.5", "systemerror", 1},
	{"4.0", "expired", 1},
	{"4.1", "expired", 1},
	{"4.2", "networkerror", 1},
	{"4.3", "systemerror", 1},
	{"4.4", "hostunknown", 1},
	{"4.5", "systemfull", 1},
	{"4.6", "networkerror", 1},
	{"4.7", "expired", 1},
	{"5.0", "syntaxerror", 1},
	{"5.1", "syntaxerror", 1},
	{"5.2", "syntaxerror", 1},
	{"5.3", "toomanyconn", 1},
	{"5.4", "syntaxerror", 1},
	{"5.5", "syntaxerror", 1},
	{"6.0", "contenterror", 1},
	{"6.1", "contenterror", 1},
	{"6.2", "contenterror", 1},
	{"6.3", "contenterror", 1},
	{"6.4", "contenterror", 1},
	{"6.5", "contenterror", 1},
	{"6.6", "contenterror", 1},
	{"6.7", "contenterror", 1},
	{"6.8", "contenterror", 1},
	{"6.9", "contenterror", 1},
	{"6.10", "contenterror", 1},
	{"7.0", "securityerror", 1},
	{"7.1", "securityerror", 1},
	{"7.2", "securityerror", 1},
	{"7.3", "securityerror", 1},
	{"7.4", "securityerror", 1},
	{"7.5", "securityerror", 1},
	{"7.6", "securityerror", 1},
	{"7.7", "securityerror", 1},
	{"7.8", "securityerror", 1},
	{"7.9", "securityerror", 1},
	{"7.10", "securityerror", 1},
	{"7.11", "securityerror", 1},
	{"7.12", "securityerror", 1},
	{"7.13", "suspend", 1},
	{"7.14", "securityerror", 1},
	{"7.15", "securityerror", 1},
	{"7.16", "mesgtoobig", 1},
	{"7.17", "hasmoved", 1},
	{"7.18", "hasmoved", 1},
	{"7.19", "suspend", 1},
	{"7.20", "authfailure", 0},
	{"7.21", "authfailure", 0},
	{"7.22", "authfailure", 0},
	{"7.23", "authfailure", 0},
	{"7.24", "authfailure", 0},
	{"7.25", "requireptr", 0},
	{"7.26", "authfailure", 0},
	{"7.27", "rejected", 1},
	{"7.28", "spamdetected", 1},
	{"7.29", "authfailure", 0},
	{"7.30", "securityerror", 1},
	{0, 0, 0},
};

#define STAGE_NONE	0
#define STAGE_CONN	1
#define STAGE_MAIL	2
#define STAGE_RCPT	3
#define STAGE_DATA	4

/* match_words - the first vocabulary entry found in text */

static const char *
match_words(const char *text, char *rule, size_t size)
{
	const CLASSIFY_PHRASE *e;

	if ((e = classify_vocab_match(text)) == 0)
		return (0);
	snprintf(rule, size, "bounce-reasons:%d", e->line);
	return (e->reason);
}

/* status_reason - reason of a status code, and whether it is vague */

static const char *
status_reason(const char *status, int *vague)
{
	const STATUS_RULE *sr;

	*vague = 1;
	if (status[0] == 0 || status[1] != '.')
		return (0);
	for (sr = status_rules; sr->code; sr++) {
		if (strcmp(status + 2, sr->code) == 0) {
			*vague = sr->vague;
			return (sr->reason);
		}
	}
	return (0);
}

/* reason_class - hard when the address itself is bad */

static CLASSIFY_CLASS
reason_class(const char *reason, const char *status)
{
	if (strcmp(reason, "userunknown") == 0 || strcmp(reason, "hostunknown") == 0
	    || strcmp(reason, "hasmoved") == 0)
		return (CLASSIFY_HARD);
	if (strcmp(reason, "notaccept") == 0)
		return (status[0] == '4' ? CLASSIFY_SOFT : CLASSIFY_HARD);
	if (strcmp(reason, "delivered") == 0 || strcmp(reason, "feedback") == 0
	    || strcmp(reason, "vacation") == 0)
		return (CLASSIFY_NONE);
	return (CLASSIFY_SOFT);
}

/* stage_low - which SMTP command a lower-case text says was answered */

 /*
  * low is null-terminated, at len or after it (the report text goes on
  * with the copy of the original, which does not count).
  */

static int
stage_low(const char *low, size_t len, int whole_report)
{
	static const struct {
		const char *words;
		int	stage;
	}	stages[] = {
		/* What MTAs write before the reply they quote, or in a transcript. */
		{"end of data", STAGE_DATA}, {"after data", STAGE_DATA},
		{"data command", STAGE_DATA}, {">>> data", STAGE_DATA},
		{"smtp command data", STAGE_DATA}, {"final data", STAGE_DATA},
		{"for text command", STAGE_DATA},
		{"rcpt to command", STAGE_RCPT}, {"after rcpt", STAGE_RCPT},
		{">>> rcpt", STAGE_RCPT}, {"<<< rcpt", STAGE_RCPT},
		{"rcpt_to]", STAGE_RCPT}, {"delivery error: dd ", STAGE_RCPT},
		{"mail from command", STAGE_MAIL}, {"after mail from", STAGE_MAIL},
		{">>> mail from", STAGE_MAIL},
		{"initial connection", STAGE_CONN}, {"refused to talk", STAGE_CONN},
		{"greeting", STAGE_CONN},
	};
	size_t	i;

	/*
	 * In this order: the last command of a session is the one refused.
	 * Not so in a whole transcript: with PIPELINING (RFC 2920) the
	 * replies to RCPT TO come after ">>> DATA" was sent, so there only
	 * what the MTA says in words counts.
	 */
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		if (whole_report && (stages[i].words[0] == '>' || stages[i].words[0] == '<'))
			continue;
		const char *hit = strstr(low, stages[i].words);

		if (hit && hit < low + len)
			return (stages[i].stage);
	}
	return (STAGE_NONE);
}

/* smtp_stage - which SMTP command the remote reply answered */

static int
smtp_stage(const char *text)
{
	char	low[1024];
	size_t	i;

	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = tolower((unsigned char) text[i]);
	low[i] = 0;
	return (stage_low(low, i, 0));
}

/*
 * How a reporting MTA itself says that an address does not exist, as
 * opposed to quoting a remote reply: about the address whatever the SMTP
 * stage.
 */
static const char *const local_words[] = {
	"recipient name is not recognized", "address couldn't be found",
	"not listed in", "unknown user:", "invalid user address",
	"no valid recipients",
	"見つかりません", "ディレクトリのリストにありません",	/* not found */
	0,
};

/* local_word - the report's own statement that the address is unknown */

static int
local_word(const char *text)
{
	const char *const *wp;

	for (wp = local_words; *wp; wp++)
		if (classify_icase(text, strlen(text), *wp))
			return (1);
	return (0);
}

/* reply_code - where an SMTP reply code (4xx, 5xx) starts in text, or null */

static const char *
reply_code(const char *d)
{
	const char *cp;

	for (cp = d; *cp; cp++) {
		if ((cp[0] == '4' || cp[0] == '5') && isdigit((unsigned char) cp[1])
		    && isdigit((unsigned char) cp[2]) && (cp == d || !isalnum((unsigned char) cp[-1]))
		    && (cp[3] == ' ' || cp[3] == '-' || cp[3] == ':'))
			return (cp);
	}
	return (0);
}

/* has_reply_code - text quotes an SMTP reply */

static int
has_reply_code(const char *d)
{
	return (reply_code(d) != 0);
}

/* reply_names_rcpt - the remote reply quotes the recipient address */

static int
reply_names_rcpt(const CLASSIFY_RCPT *rcpt)
{
	const char *cp;

	/*
	 * A reply to RCPT TO usually repeats the address it refuses; a reply
	 * to the message (after DATA) has no address to repeat.
	 */
	if ((cp = reply_code(rcpt->diagnostic)) == 0 || rcpt->recipient[0] == 0)
		return (0);
	return (classify_icase(cp, strlen(cp), rcpt->recipient) != 0);
}

/* domain_missing - "<domain> does not exist", a domain and no address */

static int
domain_missing(const char *text)
{
	const char *hit = classify_icase(text, strlen(text), " does not exist");
	const char *cp;
	int	dots = 0;

	if (hit == 0)
		return (0);
	for (cp = hit; cp > text && cp[-1] != ' '; cp--) {
		if (cp[-1] == '@' || cp[-1] == '>' || cp[-1] == ':')
			return (0);
		if (cp[-1] == '.')
			dots++;
	}
	return (dots > 0 && hit - cp > 3);
}

/* reply_heads_rcpt - "NNN <rcpt>: text", the form of a reply to RCPT TO */

static int
reply_heads_rcpt(const CLASSIFY_RCPT *rcpt)
{
	const char *cp = reply_code(rcpt->diagnostic);
	size_t	alen = strlen(rcpt->recipient);

	if (cp == 0 || alen == 0)
		return (0);
	for (cp += 3; *cp == ' ' || *cp == '-' || *cp == ':'; cp++)
		 /* void */ ;
	/* An enhanced status code may come first. */
	if ((*cp == '4' || *cp == '5') && cp[1] == '.') {
		cp += strcspn(cp, " ");
		while (*cp == ' ')
			cp++;
	}
	return (*cp == '<' && strncasecmp(cp + 1, rcpt->recipient, alen) == 0
		&& cp[alen + 1] == '>' && cp[alen + 2] == ':');
}

/* reply_reason - what a bare SMTP reply code says (RFC 5321, RFC 7504) */

static const char *
reply_reason(const char *text, int *vague)
{
	const char *cp = reply_code(text);

	*vague = 1;
	if (cp == 0)
		return (0);
	/* 521 and 556: the domain accepts no mail at all (RFC 7504). */
	if (strncmp(cp, "521", 3) == 0 || strncmp(cp, "556", 3) == 0)
		return ("notaccept");
	if (strncmp(cp, "552", 3) == 0)
		return ("mailboxfull");		/* exceeded storage allocation */
	if (strncmp(cp, "551", 3) == 0)
		return ("hasmoved");		/* user not local; please try */
	if (strncmp(cp, "553", 3) == 0)
		return ("userunknown");		/* mailbox name not allowed */
	if (strncmp(cp, "421", 3) == 0)
		return ("systemerror");		/* service not available */
	if (strncmp(cp, "452", 3) == 0)
		return ("systemfull");		/* insufficient system storage */
	return (0);
}

/* set_reason - the decision and what made it */

static void
set_reason(CLASSIFY_RCPT *rcpt, const char *reason, const char *rule)
{
	classify_copy(rcpt->reason, sizeof(rcpt->reason), reason);
	classify_copy(rcpt->rule, sizeof(rcpt->rule), rule);
	rcpt->class = reason_class(reason, rcpt->status);
}

/* classify_reason - reason and class of one failed recipient */

void
classify_reason(CLASSIFY_RCPT *rcpt, const char *context,
		        const char *report, size_t report_len)
{
	const char *reason = 0;
	const char *by_status;
	const char *by_reply;
	char	rule[48];
	char	dstatus[16];
	int	vague, rvague;
	int	stage;
	const char *st = rcpt->status;

	/*
	 * 0. A success (Action delivered, relayed or expanded, or a 2.x.x
	 * status) is no failure, whatever its text says.
	 */
	if (strncasecmp(rcpt->action, "deliver", 7) == 0
	    || strncasecmp(rcpt->action, "relay", 5) == 0
	    || strncasecmp(rcpt->action, "expand", 6) == 0
	    || (st[0] == '2' && st[1] == '.')) {
		set_reason(rcpt, "delivered", "action");
		rcpt->class = CLASSIFY_NONE;
		return;
	}
	rule[0] = 0;
	stage = smtp_stage(rcpt->diagnostic);
	if (stage == STAGE_NONE && context)
		stage = smtp_stage(context);

	/*
	 * 1. The status detail code, where RFC 3463 (and RFC 7372, 7505)
	 * gives it one meaning: x.1.1 no such mailbox, x.2.2 mailbox full,
	 * x.3.4 message too big, ...
	 */
	/*
	 * The remote server's own enhanced code, quoted in the diagnostic,
	 * is what it said; the DSN's Status is the reporting MTA's summary
	 * of it, often coarser (5.0.0) or of its own making (4.4.7 for a
	 * delay that began as 4.7.1). The remote's code wins in its class.
	 */
	if (classify_find_status(rcpt->diagnostic, dstatus, sizeof(dstatus))
	    && dstatus[0] == st[0] && strcmp(dstatus + 1, ".0.0") != 0
	    && strcmp(dstatus, st) != 0)
		classify_copy(rcpt->status, sizeof(rcpt->status), dstatus);
	by_status = status_reason(st, &vague);
	if (by_status && !vague) {
		reason = by_status;
		snprintf(rule, sizeof(rule), "status:%s", st);
	}

	/*
	 * A status that says "no such mailbox" gives way when the remote's
	 * own words say that the mailbox is there but something else is
	 * wrong with it (full, disabled, filtering, a failing program).
	 */
	if (reason && strcmp(reason, "userunknown") == 0 && rcpt->diagnostic[0]) {
		char	wrule[48];
		const char *w = match_words(rcpt->diagnostic, wrule, sizeof(wrule));

		if (w && (strcmp(w, "mailboxfull") == 0 || strcmp(w, "suspend") == 0
			  || strcmp(w, "filtered") == 0 || strcmp(w, "mailererror") == 0
			  || strcmp(w, "speeding") == 0 || strcmp(w, "blocked") == 0
			  || strcmp(w, "hasmoved") == 0)) {
			reason = w;
			classify_copy(rule, sizeof(rule), wrule);
		}
	}

	/*
	 * 2. The enhanced code quoted in the diagnostic, when it is more
	 * precise than the DSN's status, then the SMTP reply code.
	 */
	if (reason == 0 && classify_find_status(rcpt->diagnostic, dstatus, sizeof(dstatus))
	    && dstatus[0] != '2') {
		const char *r = status_reason(dstatus, &vague);

		if (r && !vague) {
			reason = r;
			snprintf(rule, sizeof(rule), "diagnostic-status:%s", dstatus);
		}
	}
	by_reply = reply_reason(rcpt->diagnostic, &rvague);
	if (reason == 0 && by_reply && !rvague) {
		reason = by_reply;
		snprintf(rule, sizeof(rule), "reply-code");
	}

	/* 3. The wording of the diagnostic, then of the text around it. */
	if (reason == 0 && rcpt->diagnostic[0])
		reason = match_words(rcpt->diagnostic, rule, sizeof(rule));
	if (reason == 0 && context && *context)
		reason = match_words(context, rule, sizeof(rule));

	/* "<domain> does not exist" is about the domain. */
	if (reason && strcmp(reason, "userunknown") == 0 && strncmp(rule, "status", 6) != 0
	    && domain_missing(rcpt->diagnostic)) {
		reason = "hostunknown";
		snprintf(rule, sizeof(rule), "domain-named");
	}

	/*
	 * The whole report is searched for the stage only when the stage can
	 * change the reason below.
	 */
	if (stage == STAGE_NONE && report
	    && (reason == 0 || strcmp(reason, "userunknown") == 0
		|| strcmp(reason, "hostunknown") == 0 || strcmp(reason, "filtered") == 0
		|| strcmp(reason, "securityerror") == 0))
		stage = stage_low(report, report_len, 1);

	/*
	 * 4. The SMTP stage (RFC 5321). "User unknown" said to the message
	 * rather than to the address (after DATA, or with a status outside
	 * the address class) is a filter at the recipient's side refusing
	 * it: the address may well exist.
	 */
	if (reason && strcmp(reason, "userunknown") == 0 && stage != STAGE_RCPT
	    && !(st[0] && strncmp(st + 1, ".1.", 3) == 0)
	    && !local_word(rcpt->diagnostic)
	    && !(context && !has_reply_code(rcpt->diagnostic) && local_word(context))) {
		const char *was = reason;

		if (stage == STAGE_DATA || strncmp(st + 1, ".7.", 3) == 0)
			reason = "filtered";
		else if ((strcmp(st + 1, ".0.0") == 0 || strncmp(st + 1, ".2.", 3) == 0)
			 && !reply_heads_rcpt(rcpt))
			reason = "filtered";
		else if (st[0] == 0 && !reply_names_rcpt(rcpt))
			reason = "filtered";
		if (reason != was)
			snprintf(rule, sizeof(rule), "stage:not-rcpt");
	}
	/* Refused at MAIL FROM: the sender was refused, not the recipient. */
	if (stage == STAGE_MAIL && (reason == 0 || strcmp(reason, "userunknown") == 0
				    || strcmp(reason, "hostunknown") == 0
				    || strcmp(reason, "filtered") == 0)) {
		reason = "rejected";
		snprintf(rule, sizeof(rule), "stage:mail-from");
	}
	/* A domain that does not resolve just now is a network matter. */
	if (reason && strcmp(reason, "hostunknown") == 0 && st[0] == '4') {
		reason = "networkerror";
		snprintf(rule, sizeof(rule), "temporary-dns");
	}
	/* Refused before any command: the connecting host is what is refused. */
	if (stage == STAGE_CONN && (reason == 0 || strcmp(reason, "securityerror") == 0)) {
		reason = "blocked";
		snprintf(rule, sizeof(rule), "stage:connect");
	}

	/*
	 * A permanent refusal that names the recipient and gives no other
	 * reason ("550 <rcpt>: Recipient address rejected."): the address
	 * is what was refused.
	 */
	if (reason == 0 && reply_names_rcpt(rcpt) && (st[0] == '5' || st[0] == 0) && (by_status == 0 || vague)
	    && (st[0] == 0 || strcmp(st + 1, ".0.0") == 0 || strncmp(st + 1, ".1.", 3) == 0)) {
		const char *rc = reply_code(rcpt->diagnostic);

		if (rc && rc[0] == '5') {
			reason = "userunknown";
			snprintf(rule, sizeof(rule), "stage:rcpt");
		}
	}

	/* 5. Vague codes, when nothing more precise was said. */
	if (reason == 0 && by_status) {
		reason = by_status;
		snprintf(rule, sizeof(rule), "status-class:%s", st);
	}
	if (reason == 0 && by_reply) {
		reason = by_reply;
		snprintf(rule, sizeof(rule), "reply-code");
	}

	/*
	 * 6. Nothing applies: a delay is a delay; a failure with a status
	 * but no explanation is on hold (also a 4.x.x that the reporting
	 * MTA says has "failed": it gave up without saying why); without
	 * either, undefined.
	 */
	if (reason == 0) {
		if (strncasecmp(rcpt->action, "delay", 5) == 0
		    || strncasecmp(rcpt->action, "expire", 6) == 0
		    || (st[0] == '4' && strncasecmp(rcpt->action, "failed", 6) != 0))
			reason = "expired";
		else
			reason = st[0] ? "onhold" : "undefined";
		snprintf(rule, sizeof(rule), "none");
	}
	set_reason(rcpt, reason, rule);

	/* A delay is never final, whatever its reason (RFC 3464 Action). */
	if (strncasecmp(rcpt->action, "delay", 5) == 0 && rcpt->class == CLASSIFY_HARD)
		rcpt->class = CLASSIFY_SOFT;
}
