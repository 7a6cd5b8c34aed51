/*++
/* NAME
/*	policyd_rules 3
/* SUMMARY
/*	postdrip-policyd decisions: stream, suppression, caps
/* SYNOPSIS
/*	#include "policyd.h"
/*
/*	POLICYD_RULES *policyd_rules_create(cf, &err)
/*	POLICYD_STREAM policyd_stream(r, sender, sasl_username, client_address)
/*	void	policyd_decide(r, st, sender, recipient, now, inflight, &decision)
/* DESCRIPTION
/*	policyd_rules_create() compiles the settings that decisions use and
/*	checks them, so that a bad reload is refused before it replaces a
/*	working configuration. The result holds a reference to the CONFIG.
/*
/*	Stream: stream_decide() (stream(3)), which postdrip-milter asks
/*	too: marketing_senders, marketing_lists, the engine's marketing
/*	return path, marketing_sasl_users, marketing_clients; the null
/*	sender is always transactional.
/*
/*	Reply texts do not name the recipient: at RCPT, Postfix itself puts
/*	"<recipient>: Recipient address rejected: " before them.
/*
/*	policyd_decide() answers for one marketing recipient, in this order:
/*	a recipient that has no normalized form (addr_normalize()) is
/*	refused with 550 5.1.3, since whether it is suppressed cannot be
/*	known; a suppressed recipient is refused with 550 5.7.1 and a text
/*	naming the reason, where the recipient is any spelling of a
/*	suppressed address (trailing dot, quotes, case) or routes to one by
/*	the bang path or percent hack (swap_bangpath, allow_percent_hack,
/*	as in main.cf: Postfix applies them when the domain is local, which
/*	the policy request does not say, so both routes are followed); a
/*	recipient who left the list of the message (stream_list(): the
/*	sender's entry of marketing_lists is among the contact's
/*	unsubscribed_lists, which the preference page sets) is refused with
/*	550 5.7.1 "recipient left the list NAME"; a recipient over a
/*	frequency cap or in a domain over its
/*	rate gets the configured action; anything else gets DUNNO and is
/*	marked to be counted. Every lookup is in one read snapshot. Messages
/*	in flight (passed, not yet counted) count against frequency_caps.
/*
/*	Our own failure (the store cannot be read, or the last frequency
/*	count could not be committed) answers
/*	policyd_store_fail_action, which may not be a permit: a recipient
/*	that may be suppressed is never let through because we could not
/*	look.
/* DIAGNOSTICS
/*	policyd_rules_create() returns every problem it finds, one a line.
/*--*/
#include "pdconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "policyd.h"

/* policyd_action_compile - an over-cap action setting, or 0 */

static char *
policyd_action_compile(const char *name, const char *v, STRBUF *errs)
{
	while (isspace((unsigned char) *v))
		v++;
	if (strcasecmp(v, "defer") == 0)
		return (mystrdup("450 4.7.1"));
	if (strcasecmp(v, "reject") == 0)
		return (mystrdup("550 5.7.1"));
	if (strcasecmp(v, "hold") == 0)
		return (mystrdup("HOLD"));
	if (strcasecmp(v, "discard") == 0)
		return (mystrdup("DISCARD"));
	if (strncasecmp(v, "FILTER", 6) == 0 && isspace((unsigned char) v[6])) {
		const char *dest = v + 7;

		while (isspace((unsigned char) *dest))
			dest++;
		if (strchr(dest, ':') && !strpbrk(dest, " \t"))
			return (myasprintf("FILTER %s", dest));
	} else if (strncasecmp(v, "REDIRECT", 8) == 0 && isspace((unsigned char) v[8])) {
		const char *dest = v + 9;
		char	norm[ADDR_MAX + 1];

		while (isspace((unsigned char) *dest))
			dest++;
		if (addr_normalize(dest, norm))
			return (myasprintf("REDIRECT %s", dest));
	}
	strbuf_printf(errs, "%s = %s: expected defer, reject, hold, discard, "
		      "FILTER transport:destination or REDIRECT address\n", name, v);
	return (0);
}

/* policyd_fail_action_ok - a store-failure answer that is not a permit */

static int
policyd_fail_action_ok(const char *v)
{
	static const char *const words[] = {"DEFER_IF_PERMIT", "DEFER", "REJECT", "HOLD", 0};
	size_t	len;
	int	i;

	if ((v[0] == '4' || v[0] == '5') && isdigit((unsigned char) v[1])
	    && isdigit((unsigned char) v[2]) && (v[3] == 0 || v[3] == ' '))
		return (1);
	for (i = 0; words[i]; i++) {
		len = strlen(words[i]);
		if (strncasecmp(v, words[i], len) == 0 && (v[len] == 0 || v[len] == ' '))
			return (1);
	}
	return (0);
}

/* policyd_rules_create - compile and check */

POLICYD_RULES *
policyd_rules_create(CONFIG *cf, char **err)
{
	POLICYD_RULES *r = mycalloc(1, sizeof(*r));
	STRBUF	errs = STRBUF_INIT;
	char   *cerr;
	const char *stage;

	*err = 0;
	atomic_init(&r->refcount, 1);
	r->cf = config_ref(cf);
	if ((r->stream = stream_rules_create(cf, &cerr)) == 0) {
		strbuf_printf(&errs, "%s\n", cerr);
		myfree(cerr);
	}
	if ((r->caps = caps_create(cf, &cerr)) == 0) {
		strbuf_printf(&errs, "%s\n", cerr);
		myfree(cerr);
	}
	r->cap_action = policyd_action_compile("frequency_cap_action",
				    config_str(cf, "frequency_cap_action"), &errs);
	r->rate_action = policyd_action_compile("domain_rate_action",
				     config_str(cf, "domain_rate_action"), &errs);
	r->fail_action = config_str(cf, "policyd_store_fail_action");
	if (!policyd_fail_action_ok(r->fail_action))
		strbuf_printf(&errs, "policyd_store_fail_action = %s: expected a 4xx or 5xx "
			      "reply, DEFER_IF_PERMIT, DEFER, REJECT or HOLD (never a permit)\n",
			      r->fail_action);
	stage = config_str(cf, "policyd_count_stage");
	r->one_rcpt = config_bool(cf, "policyd_one_marketing_recipient");
	if (strcasecmp(stage, "rcpt") == 0)
		r->count_at_rcpt = 1;
	else if (strcasecmp(stage, "end-of-message") != 0)
		strbuf_printf(&errs, "policyd_count_stage = %s: expected end-of-message or rcpt\n",
			      stage);
	r->route_flags = (config_bool(cf, "swap_bangpath") ? ADDR_ROUTE_BANGPATH : 0)
	    | (config_bool(cf, "allow_percent_hack") ? ADDR_ROUTE_PERCENT : 0);
	r->pending_limit = (size_t) config_int(cf, "policyd_pending_limit");
	r->limits.line_limit = (size_t) config_int(cf, "policyd_line_limit");
	r->limits.attr_limit = (size_t) config_int(cf, "policyd_attr_limit");
	r->limits.request_limit = (size_t) config_int(cf, "policyd_request_limit");
	if (strbuf_len(&errs)) {
		strbuf_truncate(&errs, strbuf_len(&errs) - 1);
		*err = strbuf_steal(&errs);
		policyd_rules_unref(r);
		return (0);
	}
	strbuf_free(&errs);
	return (r);
}

/* policyd_rules_ref - one more user */

POLICYD_RULES *
policyd_rules_ref(POLICYD_RULES *r)
{
	atomic_fetch_add(&r->refcount, 1);
	return (r);
}

/* policyd_rules_unref - one user less; the last one frees */

void
policyd_rules_unref(POLICYD_RULES *r)
{
	if (atomic_fetch_sub(&r->refcount, 1) != 1)
		return;
	caps_free(r->caps);
	myfree(r->cap_action);
	myfree(r->rate_action);
	stream_rules_free(r->stream);
	config_unref(r->cf);
	myfree(r);
}

/* policyd_stream - marketing or transactional: stream(3) */

POLICYD_STREAM
policyd_stream(const POLICYD_RULES *r, const char *sender,
	               const char *sasl_username, const char *client_address)
{
	return (stream_decide(r->stream, 0, sender, sasl_username, client_address, 0)
		== STREAM_MARKETING ? POLICYD_STREAM_MARKETING : POLICYD_STREAM_TRANSACTIONAL);
}

/* policyd_stream_name - for the log */

const char *
policyd_stream_name(POLICYD_STREAM s)
{
	return (stream_name(s == POLICYD_STREAM_MARKETING ? STREAM_MARKETING : STREAM_TRANSACTIONAL));
}

/* policyd_verdict - the log word of an action value */

const char *
policyd_verdict(const char *action)
{
	if (action[0] == '4')
		return ("defer");
	if (action[0] == '5')
		return ("reject");
	if (strncasecmp(action, "DUNNO", 5) == 0)
		return ("dunno");
	if (strncasecmp(action, "HOLD", 4) == 0)
		return ("hold");
	if (strncasecmp(action, "DISCARD", 7) == 0)
		return ("discard");
	if (strncasecmp(action, "FILTER", 6) == 0)
		return ("filter");
	if (strncasecmp(action, "REDIRECT", 8) == 0)
		return ("redirect");
	if (strncasecmp(action, "DEFER", 5) == 0)
		return ("defer");
	if (strncasecmp(action, "REJECT", 6) == 0)
		return ("reject");
	return ("action");
}

/* policyd_suppress_text - words for a suppression reason */

static const char *
policyd_suppress_text(const char *reason, char *buf, size_t len)
{
	static const struct {
		const char *reason;
		const char *text;
	}	texts[] = {
		{"unsubscribed", "recipient unsubscribed"},
		{"unsubscribe", "recipient unsubscribed"},
		{"hardbounce", "recipient address bounced (hard bounce)"},
		{"hard_bounce", "recipient address bounced (hard bounce)"},
		{"bounce", "recipient address bounced (hard bounce)"},
		{"complaint", "recipient complained (spam report)"},
		{"complained", "recipient complained (spam report)"},
		{"manual", "recipient suppressed by the administrator"},
		{0},
	};
	const char *p;
	int	i;

	for (i = 0; texts[i].reason; i++)
		if (strcasecmp(reason, texts[i].reason) == 0)
			return (texts[i].text);
	/* Any other reason word goes out as is, if it is tame. */
	for (p = reason; *p; p++)
		if (!isalnum((unsigned char) *p) && *p != '_' && *p != '-')
			return ("recipient suppressed");
	snprintf(buf, len, "recipient suppressed (%s)", *reason ? reason : "no reason");
	return (buf);
}

/* policyd_over_action - the answer for a reached cap */

static void
policyd_over_action(const char *action, const char *rcpt, const char *why,
		            POLICYD_DECISION *d)
{
	if (isdigit((unsigned char) action[0]))
		snprintf(d->action, sizeof(d->action), "%s %s (postdrip)", action, why);
	else if (strcmp(action, "HOLD") == 0 || strcmp(action, "DISCARD") == 0)
		snprintf(d->action, sizeof(d->action), "%s %s for <%s> (postdrip)", action, why, rcpt);
	else
		snprintf(d->action, sizeof(d->action), "%s", action);
}

/*
 * policyd_left_list - STORE_OK when the contact of addr has list among its
 * unsubscribed_lists (set by the tracker's preference page), STORE_NOTFOUND
 * when not (or no such contact), else a store error.
 */
static int
policyd_left_list(STORE_TXN *txn, const char *addr, const char *list)
{
	json_t *rec, *off, *v;
	uint64_t id;
	size_t	i;
	int	rc;

	if ((rc = store_contact_find(txn, addr, &id)) != STORE_OK)
		return (rc);
	if ((rc = store_contact_get(txn, id, &rec)) != STORE_OK)
		return (rc);
	rc = STORE_NOTFOUND;
	off = json_object_get(rec, "unsubscribed_lists");
	json_array_foreach(json_is_array(off) ? off : 0, i, v)
		if (json_is_string(v) && strcasecmp(json_string_value(v), list) == 0) {
			rc = STORE_OK;
			break;
		}
	json_decref(rec);
	return (rc);
}

/* policyd_decide - one marketing recipient at RCPT */

void
policyd_decide(const POLICYD_RULES *r, STORE *st, const char *sender,
	               const char *recipient, time_t now, long inflight,
	               POLICYD_DECISION *d)
{
	STORE_TXN *txn;
	STORE_SUPPRESSION s;
	CAPS_RESULT cr;
	char	buf[128], norm[ADDR_MAX + 1], hop[ADDR_MAX + 1], via[ADDR_MAX + 1];
	char	when[CLOCK_ISO_LEN];
	const char *look, *list;
	int	rc, n;

	d->stream = POLICYD_STREAM_MARKETING;
	d->count = 0;
	d->reason[0] = 0;
	d->detail[0] = 0;
	if (addr_normalize(recipient, norm) == 0) {
		/* Consent fails closed: no key, no way to know. */
		snprintf(d->reason, sizeof(d->reason), "%s",
			 "recipient address cannot be checked against the suppression list");
		snprintf(d->action, sizeof(d->action), "550 5.1.3 %s (postdrip)", d->reason);
		d->verdict = "reject";
		return;
	}
	if (store_rbegin(st, &txn) != STORE_OK) {
		rc = STORE_RETRY;
		goto fail;
	}

	/*
	 * The address, then where Postfix's routing hacks would take it, a
	 * few hops at most (each hop shortens the local part, but a bound
	 * costs nothing). A hop that has no normalized form ends the chain:
	 * Postfix would not deliver there either.
	 */
	look = norm;
	via[0] = 0;
	for (n = 0; n < 8; n++) {
		rc = store_suppress_get(txn, look, &s);
		if (rc != STORE_NOTFOUND)
			break;
		if (addr_route(look, r->route_flags, hop) == 0)
			break;
		snprintf(via, sizeof(via), "%s", hop);
		look = via;
	}
	if (rc == STORE_OK) {
		store_rend(txn);
		snprintf(d->reason, sizeof(d->reason), "%s",
			 policyd_suppress_text(s.reason, buf, sizeof(buf)));
		snprintf(d->action, sizeof(d->action), "550 5.7.1 %s (postdrip)", d->reason);
		snprintf(d->detail, sizeof(d->detail), " reason=%s suppressed=%s%s%s%s",
			 s.reason, clock_format(s.time, when), via[0] ? " via=<" : "", via,
			 via[0] ? ">" : "");
		d->verdict = "reject";
		return;
	}
	if (rc != STORE_NOTFOUND) {
		store_rend(txn);
		goto fail;
	}
	/* The list the recipient left on the preference page. */
	if ((list = stream_list(r->stream, sender)) != 0) {
		if ((rc = policyd_left_list(txn, norm, list)) == STORE_OK) {
			store_rend(txn);
			snprintf(d->reason, sizeof(d->reason), "recipient left the list %s", list);
			snprintf(d->action, sizeof(d->action), "550 5.7.1 %s (postdrip)", d->reason);
			snprintf(d->detail, sizeof(d->detail), " reason=list list=%s", list);
			d->verdict = "reject";
			return;
		}
		if (rc != STORE_NOTFOUND) {
			store_rend(txn);
			goto fail;
		}
	}
	rc = caps_check_extra(txn, r->caps, recipient, "marketing", sender, now,
			      inflight, &cr);
	store_rend(txn);
	/* A cap that cannot count is no cap: fail as a lookup does. */
	if (rc == STORE_OK && policyd_count_failing(st, now)) {
		snprintf(d->action, sizeof(d->action), "%s", r->fail_action);
		snprintf(d->reason, sizeof(d->reason), "%s",
			 "frequency counters cannot be recorded (store write failed)");
		snprintf(d->detail, sizeof(d->detail), " cause=\"%s\"",
			 "frequency counters cannot be recorded");
		d->verdict = policyd_verdict(d->action);
		return;
	}
	if (rc == CAPS_OVER) {
		if (cr.kind == CAPS_KIND_DOMAIN) {
			snprintf(d->reason, sizeof(d->reason), "domain rate limit reached (%s)", cr.what);
			policyd_over_action(r->rate_action, recipient, d->reason, d);
		} else {
			snprintf(d->reason, sizeof(d->reason), "frequency cap reached (%s)", cr.what);
			policyd_over_action(r->cap_action, recipient, d->reason, d);
		}
		snprintf(d->detail, sizeof(d->detail), " rule=\"%s\" count=%ld retry=%lds",
			 cr.rule, cr.count, cr.retry);
		d->verdict = policyd_verdict(d->action);
		return;
	}
	if (rc != STORE_OK)
		goto fail;
	snprintf(d->action, sizeof(d->action), "DUNNO");
	snprintf(d->reason, sizeof(d->reason), "marketing recipient within its caps");
	d->verdict = "dunno";
	d->count = 1;
	return;

fail:
	snprintf(d->action, sizeof(d->action), "%s", r->fail_action);
	snprintf(d->reason, sizeof(d->reason), "store lookup failed: %s", store_strerror(rc));
	d->verdict = policyd_verdict(d->action);
}
