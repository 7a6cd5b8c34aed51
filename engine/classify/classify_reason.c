/*++
/* NAME
/*	classify_reason 3
/* SUMMARY
/*	why a delivery failed, and whether it is final
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	void	classify_reason(rcpt, context)
/*	CLASSIFY_RCPT *rcpt;
/*	const char *context;
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
/*	The SMTP stage the reply answered matters: "user unknown" after
/*	DATA (or with a status outside the address class, without the
/*	reply naming the address) is a content filter at the recipient's
/*	side, not a missing mailbox; anything refused at MAIL FROM is about
/*	the sender; a refusal before any command is a block of the
/*	connecting host.
/* DIAGNOSTICS
/*	None. When nothing decides, the reason is "onhold" (a status but
/*	no explanation), "expired" (a delay) or "undefined".
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
  * What remote servers say, grouped by reason. Matched as lower-case
  * substrings; the groups are tried in order, so a wording that would fit
  * two reasons sits under the more specific one, earlier.
  */
typedef struct REASON_RULE {
	const char *reason;
	const char *const *words;
} REASON_RULE;

 /*
  * Wordings that override a more general one found later: the sender was
  * refused (not the recipient), the message (not the address) was refused,
  * the delivery program failed.
  */
static const char *const w_first_policy[] = {
	"policy reasons", "protocol violation",
	0,
};
static const char *const w_first_hostunknown[] = {
	"account or domain may not exist",
	0,
};
static const char *const w_first_notaccept[] = {
	"doesn't receive email", "does not receive email", "doesn't receive mail",
	0,
};
static const char *const w_first_networkerror[] = {
	"host not found, try again", "dns query failed", "dns error:",
	0,
};
static const char *const w_first_filtered[] = {
	"recipient preferences", "rejected by the domain filter",
	0,
};
static const char *const w_first_userunknown[] = {
	"recipient address rejected: access denied", "not listed in",
	0,
};
static const char *const w_first_expired[] = {
	"message expired", "retry timeout exceeded", "delivery time expired",
	0,
};
static const char *const w_first_rejected[] = {
	"provide a valid from",
	"domain of sender address", "sender address rejected", "sender was rejected",
	"sender rejected", "sender verify failed", "sender verification failed",
	"sender domain", "rejected sender", "unverified sender", "invalid sender",
	"bad sender", "sender unknown", "sender denied", "mail from rejected",
	"sending to/from an address", "sender is not allowed",
	0,
};
static const char *const w_mailererror[] = {
	"command output:", "mailer error", "procmail", "x-unix", "program failed",
	"exit status", "command died", "unknown mailer", "pipe to |",
	0,
};
static const char *const w_hasmoved[] = {
	"has been moved", "address has changed", "user has moved",
	"mailbox has moved", "has moved to", "is no longer in use, please use",
	0,
};
static const char *const w_mailboxfull[] = {
	/* Japanese: over capacity; exceeds the capacity; mailbox is full. */
	"容量超過", "容量を超え", "メールボックスがいっぱい",
	"allowed quota", "over the allowed",
	"mailbox full", "mailbox is full", "mailbox has exceeded",
	"quota exceeded", "over quota", "overquota", "over the quota",
	"exceeded storage", "exceeds quota", "exceed quota",
	"exceeded its quota", "mailbox size limit", "inbox is full",
	"disk quota", "full mailbox", "mailbox is over", "mail quota",
	"account is full", "mailfolder is full", "quota full",
	"storage quota", "mailbox exceeds", "out of storage",
	"user's mailbox is full", "maildir over", "mailbox too full",
	"too much mail data", "not enough storage space", "insufficient storage",
	"quota limit", "maximum storage", "user is over", "has exceeded the storage",
	"exceeded the storage", "recipient exceeded", "mailbox exceeded",
	"mailbox is out of space", "quota has been exceeded", "their mailbox is full",
	"mailbox quota", "user over quota", "exceeds storage",
	0,
};
static const char *const w_exceedlimit[] = {
	"exceeds administrative limit",
	"exceeds the message size limit for this recipient",
	"message header size exceeds",
	0,
};
static const char *const w_mesgtoobig[] = {
	"message too large", "message is too large", "message size exceeds",
	"exceeds size limit", "message too big", "message is too big",
	"message length exceeds", "message file too big", "size exceeds",
	"exceeds the maximum size", "exceeds maximum allowed size",
	"larger than the maximum", "message size limit", "too large for",
	"mail size limit", "size limit exceeded", "message exceeds maximum",
	"line limit exceeded", "message size exceeds", "message exceeds the",
	0,
};
static const char *const w_norelaying[] = {
	"address is not verified",
	"relay denied", "relaying denied", "relay access denied",
	"relay not permitted", "not permitted to relay", "unable to relay",
	"relaying not allowed", "we do not relay", "not allowed to relay",
	"relay prohibited", "relay is not allowed", "no relaying",
	"not a gateway", "relaying mail to", "cannot relay", "can't relay",
	"relay not allowed", "relaying is prohibited", "configured to relay",
	"relay mail for", "is not permitted to relay",
	0,
};
static const char *const w_authfailure[] = {
	"pass authentication checks", "does not pass dmarc",
	"dmarc", "spf check", "spf fail", "spf validation", "spf record",
	"failed spf", "sender policy framework", "dkim",
	"unauthenticated email", "authentication checks failed",
	"authentication failure", "sender authentication", "domain authentication",
	"not pass authentication",
	0,
};
static const char *const w_requireptr[] = {
	"reverse dns", "ptr record", "no ptr", "reverse lookup",
	"reverse hostname", "cannot find your hostname", "cannot resolve your",
	"rdns", "reverse name", "dns ptr", "ip name lookup failed",
	"no reverse", "hostname lookup failed", "ptr lookup", "reverse mapping",
	"unverifyable sending ip", "unverifiable sending ip",
	"mismatches client ip", "does not match your ip",
	0,
};
static const char *const w_notcompliantrfc[] = {
	"missing a valid address in from", "no from: header", "invalid from: header",
	"rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "rfc822 spec",
	"not rfc compliant", "not compliant with rfc", "multiple from",
	"duplicate header", "multiple addresses in from",
	"message is not rfc", "addresses in from: header",
	0,
};
static const char *const w_badreputation[] = {
	"ip reputation", "low reputation", "poor reputation", "bad reputation",
	"sender reputation", "unexpected volume or user complaints",
	0,
};
static const char *const w_speeding[] = {
	"sending quota",
	"too many recipients this hour", "too many messages this hour",
	"sent too many", "receiving mail at a rate", "sending rate",
	"too many messages from", "exceeded the rate", "message rate",
	"daily sending quota", 
	0,
};
static const char *const w_toomanyconn[] = {
	"too many connections", "too many concurrent", "connection limit",
	"too many simultaneous", "too many sessions", "connections from your",
	"too many smtp sessions", "concurrent connections", "too many recipients",
	"connection rate limit", "frequency limited", "rate limit",
	"ratelimit", "throttl",
	0,
};
static const char *const w_policyviolation[] = {
	"denied by policy", "message was blocked because its content",
	"host network not allowed", "header error", "violates our policy",
	"policy violation", "violation of policy", "prohibited by policy",
	"content presents a potential",
	0,
};
static const char *const w_virusdetected[] = {
	"virus", "malware", "infected", "malicious",
	0,
};
static const char *const w_blocked_first[] = {
	"not authorized to send email directly", "not accepted from this ip", "permanently deferred",
	"server of your isp", "your isp",
	"banned", "remote protocol error",
	"weren't sent",
	"spamhaus", "spamcop", "barracudacentral", "dnsbl", "sorbs",
	"blocked for spamming", "blacklisted ip", "ip blacklisted",
	"on our block list", "blocked ip", "ip blocked",
	"my name was rejected", "refused to talk to me", 
	"invalid ip for sending", "client host rejected", "client host blocked",
	"your ip", "sender ip", "blacklisted by", "rbl",
	"not accepting connections",
	0,
};
static const char *const w_spamdetected[] = {
	"spam", "junk mail", "unsolicited", "bulk mail", "considered junk",
	"message content rejected", "message looks suspicious",
	"suspicious", "phish", "blacklisted url", "blacklisted link",
	"mail rejete", "mail rejected. ofr",
	0,
};
static const char *const w_suspend[] = {
	"tried to reach is disabled", "tried to reach is inactive", "is disabled", "is inactive",
	"account disabled", "account has been disabled", "account is disabled",
	"mailbox disabled", "mailbox has been disabled", "account is inactive",
	"inactive account", "account has been suspended", "account suspended",
	"mailbox suspended", "user suspended", "is suspended", "mailbox is inactive",
	"inactive mailbox", "disabled recipient", "deactivated",
	"temporarily disabled", "mailbox is frozen", "account is locked",
	"account locked", "temporary locked", "temporarily locked",
	"account is blocked", "has been terminated", "no longer active",
	"disabled or discontinued", "expired account", "account expired",
	"mailbox is disabled", "recipient is disabled",
	0,
};
static const char *const w_hostunknown[] = {
	"couldn't find any host", "domain couldn't be found", "no such host",
	"host unknown", "unknown host", "domain not found", "host not found",
	"no such domain", "name or service not known", "unrouteable mail domain",
	"unrouteable address", "domain does not exist", "host or domain name not found",
	"nxdomain", "unknown domain", "domain name not found",
	"point to non-existent hosts", "illegal host/domain", "invalid domain",
	"domain is not found", "unroutable domain", "host name lookup failure",
	"domain doesn't exist", "domain could not be found", "bad destination system",
	0,
};
static const char *const w_notaccept[] = {
	"does not accept mail", "does not accept email", "null mx",
	"not accepting mail", "accepts no mail", "domain does not receive",
	"not accept any mail", "no mx record", "no mx found",
	"couldn't find a mail exchanger", "not accepting network messages",
	0,
};
static const char *const w_userunknown[] = {
	"mailbox is not available", "mailbox not available",
	/* Japanese: not found; not in the directory list; does not exist;
	 * unknown address. */
	"見つかりません", "ディレクトリのリストにありません", "存在しません", "宛先不明",
	"recipnotfound", "recipientnotfound", "couldn't be found", "mailbox not found",
	"recipient address rejected.",
	"address couldn't be found", "recipient name is not recognized",
	"user unknown", "unknown user", "no such user", "user not found",
	"no such recipient", "recipient unknown", "unknown recipient",
	"does not exist", "doesn't exist", "mailbox not found", "no mailbox",
	"mailbox unavailable", "invalid recipient", "recipient not found",
	"unknown address", "not a valid mailbox", "no such mailbox",
	"address unknown", "unknown local part", "address does not exist",
	"no account by that name", "mailbox does not exist", "invalid mailbox",
	"user not exist", "bad destination mailbox", "unknown or illegal alias",
	"user invalid", "invalid user", "account does not exist",
	"no mailbox here by that name", "is not a valid", "user doesn't exist",
	"no such address", "addressee unknown", "unknown e-mail address",
	"invalid address", "mailbox unknown", "unknown mailbox", "no such account",
	"recipient invalid", "unknown in local recipient table",
	"unknown in virtual", "unknown in relay recipient table",
	"user does not exist", "no such person", "not a known user",
	"bad recipient", "nonexistent", "non-existent user", "invalid rcpt",
	"user is unknown", "recipient not found", "destination unknown",
	"does not have an account", "doesn't have a", "not registered",
	"no valid recipients", "recipient address is invalid",
	"not a registered", "unknown account", "address not found",
	0,
};
static const char *const w_rejected[] = {
	"sender address", "envelope sender", "from address", "rejected sender",
	"not verified", "sender not",
	0,
};
static const char *const w_securityerror[] = {
	"access denied",
	"authentication required", "tls required", "encryption required",
	"must issue a starttls", "starttls", "certificate",
	"must be authenticated", "authentication is required",
	"unauthenticated senders", "smtp authentication",
	"authentication credentials invalid", "secure connection",
	"not authorized", "delivery not authorized",
	0,
};
static const char *const w_blocked[] = {
	"blacklist", "blocklist", "block list", "black list", "blocked",
	"connection rejected", "host rejected", "not allowed to send",
	0,
};
static const char *const w_contenterror[] = {
	"content error", "improper use of 8-bit", "8-bit data",
	"invalid message content", "illegal character", "invalid characters",
	"media error", "mime error", "encoding error",
	0,
};
static const char *const w_syntaxerror[] = {
	"syntax error", "command unrecognized", "unrecognized command",
	"bad sequence", "line too long", "command not recognized",
	"command parameter not implemented", "malformed address",
	0,
};
static const char *const w_filtered[] = {
	"filtered", "content filter", "rejected by filter", "domain filter",
"not accepted", 
	"message rejected", "rejected by recipient",
	0,
};
static const char *const w_systemfull[] = {
	"system full", "insufficient system storage", "out of disk space",
	"disk full", "no space left", "insufficient disk space",
	0,
};
static const char *const w_networkerror[] = {
	"forwarding loop",
	
	"dns error", "host not found, try again", "malformed or unexpected name server",
	"dns query failed", "network is unreachable", "no route to host",
	"lost connection", "connection reset", "establish an smtp connection",
	"too many hops", "routing loop", "mail loop", "loop detected",
	"hop count", "temporary failure in name resolution", "network error",
	"unable to contact destination",
	0,
};
static const char *const w_systemerror[] = {
	"system error", "internal error", "server error", "local error",
	"temporary local problem", "local delivery failed", "local problem",
	"system problem", "service unavailable", "service not available",
	"server busy", "i/o error", "internal server", "queue file write error",
	"unable to contact ldap", "transaction failed", "service refused",
	"service currently unavailable", "mail system problem",
	0,
};
static const char *const w_expired[] = {
	"queue too long", "attempts:",
	"giving up",
	"queue time",
	"have been unable to deliver",
	"too long in queue", "retry time not reached", "will continue trying",
	"has not yet been delivered", "could not be delivered within",
	"was not delivered within", "not been delivered for",
	"unable to deliver for", "delivery period", "will be retried",
	"did not accept our requests to connect", "connection timed out",
	"timed out", "host not reachable", "could not connect",
	"unable to connect", "connection refused", 
	"message still undelivered", "delayed", "expired",
	0,
};

static const REASON_RULE rules[] = {
	{"policyviolation", w_first_policy},
	{"hostunknown", w_first_hostunknown},
	{"notaccept", w_first_notaccept},
	{"networkerror", w_first_networkerror},
	{"filtered", w_first_filtered},
	{"userunknown", w_first_userunknown},
	{"requireptr", w_requireptr},
	{"rejected", w_first_rejected},
	{"mailererror", w_mailererror},
	{"hasmoved", w_hasmoved},
	{"mailboxfull", w_mailboxfull},
	{"expired", w_first_expired},
	{"exceedlimit", w_exceedlimit},
	{"mesgtoobig", w_mesgtoobig},
	{"norelaying", w_norelaying},
	{"authfailure", w_authfailure},
	{"requireptr", w_requireptr},
	{"notcompliantrfc", w_notcompliantrfc},
	{"notaccept", w_notaccept},
	{"badreputation", w_badreputation},
	{"speeding", w_speeding},
	{"toomanyconn", w_toomanyconn},
	{"policyviolation", w_policyviolation},
	{"virusdetected", w_virusdetected},
	{"blocked", w_blocked_first},
	{"spamdetected", w_spamdetected},
	{"suspend", w_suspend},
	{"hostunknown", w_hostunknown},
	{"userunknown", w_userunknown},
	{"rejected", w_rejected},
	{"securityerror", w_securityerror},
	{"blocked", w_blocked},
	{"systemfull", w_systemfull},
	{"contenterror", w_contenterror},
	{"syntaxerror", w_syntaxerror},
	{"filtered", w_filtered},
	{"networkerror", w_networkerror},
	{"systemerror", w_systemerror},
	{"expired", w_expired},
	{0, 0},
};

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
	{"1.10", "notaccept", 0},
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
	{"4.4", "hostunknown", 0},
	{"4.5", "systemfull", 1},
	{"4.6", "networkerror", 0},
	{"4.7", "expired", 0},
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
	{"7.9", "policyviolation", 1},
	{"7.10", "securityerror", 1},
	{"7.11", "securityerror", 1},
	{"7.12", "securityerror", 1},
	{"7.13", "suspend", 0},
	{"7.14", "securityerror", 1},
	{"7.15", "securityerror", 1},
	{"7.16", "mailboxfull", 1},
	{"7.17", "hasmoved", 1},
	{"7.18", "suspend", 0},
	{"7.19", "suspend", 1},
	{"7.20", "authfailure", 0},
	{"7.21", "authfailure", 0},
	{"7.22", "authfailure", 0},
	{"7.23", "authfailure", 0},
	{"7.24", "authfailure", 0},
	{"7.25", "requireptr", 0},
	{"7.26", "authfailure", 0},
	{"7.27", "notaccept", 0},
	{"7.28", "spamdetected", 0},
	{"7.29", "authfailure", 0},
	{"7.30", "securityerror", 1},
	{0, 0, 0},
};

#define STAGE_NONE	0
#define STAGE_CONN	1
#define STAGE_MAIL	2
#define STAGE_RCPT	3
#define STAGE_DATA	4

/* match_words - first rule whose wording occurs in text */

static const char *
match_words(const char *text)
{
	char	low[1024];
	unsigned char pairs[65536 / 8];
	size_t	i;
	const REASON_RULE *rule;
	const char *const *wp;

	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = tolower((unsigned char) text[i]);
	low[i] = 0;
	if (i < 2)
		return (0);

	/*
	 * Which two-byte sequences occur: a wording whose first or last two
	 * bytes do not occur cannot match, and most do not; this spares most
	 * of the substring searches. Every wording is at least two bytes.
	 */
	memset(pairs, 0, sizeof(pairs));
	for (i = 0; low[i + 1]; i++) {
		unsigned p = ((unsigned char) low[i] << 8) | (unsigned char) low[i + 1];

		pairs[p >> 3] |= 1 << (p & 7);
	}
	for (rule = rules; rule->reason; rule++) {
		for (wp = rule->words; *wp; wp++) {
			const unsigned char *w = (const unsigned char *) *wp;
			size_t	wlen = strlen(*wp);
			unsigned p = (w[0] << 8) | w[1];
			unsigned q = (w[wlen - 2] << 8) | w[wlen - 1];

			/* Both the first and the last two bytes must occur. */
			if ((pairs[p >> 3] & (1 << (p & 7)))
			    && (pairs[q >> 3] & (1 << (q & 7))) && strstr(low, *wp))
				return (rule->reason);
		}
	}
	return (0);
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

/* smtp_stage - which SMTP command the remote reply answered */

static int
smtp_stage(const char *text)
{
	char	low[1024];
	size_t	i;

	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = tolower((unsigned char) text[i]);
	low[i] = 0;
	if (strstr(low, "end of data") || strstr(low, "after data")
	    || strstr(low, "data command") || strstr(low, ">>> data")
	    || strstr(low, "smtp command data") || strstr(low, "final data")
	    || strstr(low, "for text command"))
		return (STAGE_DATA);
	if (strstr(low, "rcpt to command") || strstr(low, "after rcpt")
	    || strstr(low, ">>> rcpt") || strstr(low, "rcpt_to]")
	    || strstr(low, "delivery error: dd "))
		return (STAGE_RCPT);
	if (strstr(low, "mail from command") || strstr(low, "after mail from")
	    || strstr(low, ">>> mail from"))
		return (STAGE_MAIL);
	if (strstr(low, "initial connection") || strstr(low, "refused to talk")
	    || strstr(low, "greeting"))
		return (STAGE_CONN);
	return (STAGE_NONE);
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

/* classify_reason - reason and class of one failed recipient */

void
classify_reason(CLASSIFY_RCPT *rcpt, const char *context)
{
	const char *reason = 0;
	const char *by_status;
	int	vague;
	int	stage;
	const char *st = rcpt->status;

	by_status = status_reason(st, &vague);
	stage = smtp_stage(rcpt->diagnostic);
	if (stage == STAGE_NONE && context)
		stage = smtp_stage(context);
	if (rcpt->diagnostic[0])
		reason = match_words(rcpt->diagnostic);
	if (reason == 0 && by_status && !vague)
		reason = by_status;
	if (reason == 0 && context && *context)
		reason = match_words(context);

	/* "<domain> does not exist" is about the domain. */
	if (reason && strcmp(reason, "userunknown") == 0 && domain_missing(rcpt->diagnostic))
		reason = "hostunknown";

	/*
	 * "User unknown" said to the message rather than to the address (after
	 * DATA, or with a status outside the address class) is a filter at the
	 * recipient's side refusing it: the address may well exist.
	 */
	if (reason && strcmp(reason, "userunknown") == 0 && stage != STAGE_RCPT
	    && !(st[0] && strncmp(st + 1, ".1.", 3) == 0)
	    && !local_word(rcpt->diagnostic)
	    && !(context && !has_reply_code(rcpt->diagnostic) && local_word(context))) {
		if (stage == STAGE_DATA || strncmp(st + 1, ".7.", 3) == 0)
			reason = "filtered";
		else if ((strcmp(st + 1, ".0.0") == 0 || strncmp(st + 1, ".2.", 3) == 0)
			 && !reply_heads_rcpt(rcpt))
			reason = "filtered";
		else if (st[0] == 0 && !reply_names_rcpt(rcpt))
			reason = "filtered";
	}
	/* Refused at MAIL FROM: the sender was refused, not the recipient. */
	if (stage == STAGE_MAIL && (reason == 0 || strcmp(reason, "userunknown") == 0
				    || strcmp(reason, "hostunknown") == 0
				    || strcmp(reason, "filtered") == 0))
		reason = "rejected";
	/* A domain that does not resolve just now is a network matter. */
	if (reason && strcmp(reason, "hostunknown") == 0 && st[0] == '4')
		reason = "networkerror";
	/* Refused before any command: the connecting host is what is refused. */
	if (stage == STAGE_CONN && (reason == 0 || strcmp(reason, "securityerror") == 0))
		reason = "blocked";
	if (reason == 0 && by_status)
		reason = by_status;
	if (reason == 0) {
		if (strncasecmp(rcpt->action, "delay", 5) == 0 || st[0] == '4'
		    || strncasecmp(rcpt->action, "expire", 6) == 0)
			reason = "expired";
		else
			reason = st[0] ? "onhold" : "undefined";
	}
	classify_copy(rcpt->reason, sizeof(rcpt->reason), reason);
	rcpt->class = reason_class(reason, st);
}
