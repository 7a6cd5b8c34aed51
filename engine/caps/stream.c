/*++
/* NAME
/*	stream 3
/* SUMMARY
/*	marketing or transactional, and which list: one decision
/* SYNOPSIS
/*	#include "caps/stream.h"
/*
/*	STREAM_RULES *stream_rules_create(cf, &err)
/*
/*	int	stream_decide(r, tk, sender, sasl_username, client_address, &rule)
/*
/*	const char *stream_list(r, sender)
/* DESCRIPTION
/*	postdrip-policyd refuses suppressed recipients and counts caps for
/*	the marketing stream, and postdrip-milter gives the same mail its
/*	return path, List-Unsubscribe and tracked links: both must agree on
/*	what is marketing, so both ask stream_decide(), built from the same
/*	settings. A message is marketing when any of these holds, first
/*	match named in *rule:
/* .IP marketing_senders
/*	Its envelope sender matches a pattern (addr_match(): *@domain,
/*	@domain with subdomains, user@domain).
/* .IP marketing_lists
/*	Its envelope sender matches a pattern of marketing_lists: list mail
/*	is marketing.
/* .IP verp
/*	Its envelope sender is the engine's marketing return path,
/*	verp_prefix+TOKEN@bounce_domain; with tk the token must verify,
/*	without (the policy daemon holds no keys) its form is enough, which
/*	errs towards applying consent. The engine's transactional return
/*	path and its notifications are not marketing.
/* .IP marketing_sasl_users
/*	Its SASL login is one of these.
/* .IP marketing_clients
/*	Its client address is in one of these networks.
/* .PP
/*	The null sender (bounces, notifications) is always transactional.
/*
/*	stream_list() names the list of a message from marketing_lists:
/*	"PATTERN LIST" entries separated by ";", the first whose envelope
/*	sender pattern matches wins. The preference page lets a contact
/*	leave one list (the contact's unsubscribed_lists) and stay on the
/*	others; postdrip-policyd refuses the mail of a list the recipient
/*	left.
/* DIAGNOSTICS
/*	stream_rules_create() reports every bad network and list entry.
/* SEE ALSO
/*	postdrip-policyd(8), postdrip-milter(8), postdrip.conf(5)
/*--*/
#include "pdconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caps/stream.h"
#include "token/verp.h"
#include "util/addr.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

typedef struct STREAM_NET {
	int	family;
	unsigned char addr[16];
	int	bits;
} STREAM_NET;

typedef struct STREAM_LIST {
	char   *pattern;
	char   *list;
} STREAM_LIST;

struct STREAM_RULES {
	char  **senders;		/* marketing_senders */
	char  **sasl_users;		/* marketing_sasl_users */
	STREAM_NET *nets;		/* marketing_clients */
	int	nnets;
	STREAM_LIST *lists;		/* marketing_lists */
	int	nlists;
	const char *bounce_domain;
	VERP	verp;
};

/* stream_net_parse - "192.0.2.0/24", "2001:db8::/32" or one address */

static int
stream_net_parse(const char *text, STREAM_NET *net)
{
	char	buf[64], *slash, *end;
	long	bits;
	int	max, i;

	if (strlen(text) >= sizeof(buf))
		return (-1);
	strcpy(buf, text);
	if ((slash = strchr(buf, '/')) != 0)
		*slash++ = 0;
	if (buf[0] == '[' && buf[strlen(buf) - 1] == ']') {
		memmove(buf, buf + 1, strlen(buf));
		buf[strlen(buf) - 1] = 0;
	}
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = AF_INET6, max = 128;
	else
		return (-1);
	bits = max;
	if (slash) {
		bits = strtol(slash, &end, 10);
		if (end == slash || *end || bits < 0 || bits > max)
			return (-1);
	}
	net->bits = (int) bits;
	/* A network written with host bits set is a typo: refuse it. */
	for (i = net->bits; i < max; i++)
		if (net->addr[i / 8] & (0x80 >> (i % 8)))
			return (-1);
	return (0);
}

/* stream_net_match - is addr inside net? */

static int
stream_net_match(const STREAM_NET *net, int family, const unsigned char *addr)
{
	int	full = net->bits / 8, rest = net->bits % 8;

	if (family != net->family)
		return (0);
	if (memcmp(addr, net->addr, full) != 0)
		return (0);
	return (rest == 0 || ((addr[full] ^ net->addr[full]) & (0xff00 >> rest)) == 0);
}

/* stream_lists_parse - "PATTERN LIST; PATTERN LIST" */

static void
stream_lists_parse(STREAM_RULES *r, const char *value, STRBUF *errs)
{
	const char *p = value, *semi, *end, *sp;
	char   *entry, *pat, *list;

	for (; *p; p = *semi ? semi + 1 : semi) {
		semi = p + strcspn(p, ";");
		while (p < semi && isspace((unsigned char) *p))
			p++;
		for (end = semi; end > p && isspace((unsigned char) end[-1]); end--)
			;
		if (end == p)
			continue;
		entry = mystrndup(p, end - p);
		for (sp = entry; *sp && !isspace((unsigned char) *sp); sp++)
			;
		pat = mystrndup(entry, sp - entry);
		while (isspace((unsigned char) *sp))
			sp++;
		list = mystrdup(sp);
		if (*list == 0 || strpbrk(list, " \t,") || strchr(pat, '@') == 0) {
			strbuf_printf(errs, "marketing_lists: \"%s\": expected a sender pattern "
				      "(*@domain, @domain or user@domain) and one list name\n", entry);
			myfree(pat);
			myfree(list);
		} else {
			r->lists = myrealloc(r->lists, (r->nlists + 1) * sizeof(*r->lists));
			r->lists[r->nlists].pattern = pat;
			r->lists[r->nlists].list = list;
			r->nlists++;
		}
		myfree(entry);
	}
}

/* stream_rules_create - compile the settings */

STREAM_RULES *
stream_rules_create(const CONFIG *cf, char **err)
{
	STREAM_RULES *r = mycalloc(1, sizeof(*r));
	STRBUF	errs = STRBUF_INIT;
	char  **list;

	*err = 0;
	r->senders = config_list(cf, "marketing_senders");
	r->sasl_users = config_list(cf, "marketing_sasl_users");
	r->bounce_domain = config_str(cf, "bounce_domain");
	verp_from_config(&r->verp, cf);
	for (list = config_list(cf, "marketing_clients"); *list; list++) {
		r->nets = myrealloc(r->nets, (r->nnets + 1) * sizeof(*r->nets));
		if (stream_net_parse(*list, r->nets + r->nnets) < 0)
			strbuf_printf(&errs, "marketing_clients: \"%s\": expected an address "
				      "or network such as 192.0.2.0/24\n", *list);
		else
			r->nnets++;
	}
	stream_lists_parse(r, config_str(cf, "marketing_lists"), &errs);
	if (strbuf_len(&errs)) {
		strbuf_truncate(&errs, strbuf_len(&errs) - 1);
		*err = strbuf_steal(&errs);
		stream_rules_free(r);
		return (0);
	}
	strbuf_free(&errs);
	return (r);
}

void
stream_rules_free(STREAM_RULES *r)
{
	int	i;

	if (r == 0)
		return;
	for (i = 0; i < r->nlists; i++) {
		myfree(r->lists[i].pattern);
		myfree(r->lists[i].list);
	}
	myfree(r->lists);
	myfree(r->nets);
	myfree(r);
}

/* stream_list_norm - the list of a normalized sender */

static const char *
stream_list_norm(const STREAM_RULES *r, const char *norm)
{
	int	i;

	for (i = 0; i < r->nlists; i++)
		if (addr_match(r->lists[i].pattern, norm))
			return (r->lists[i].list);
	return (0);
}

const char *
stream_list(const STREAM_RULES *r, const char *sender)
{
	char	norm[ADDR_MAX + 1];

	if (sender == 0 || *sender == 0 || addr_normalize(sender, norm) == 0)
		return (0);
	return (stream_list_norm(r, norm));
}

int
stream_decide(const STREAM_RULES *r, const TOKENS *tk, const char *sender,
	              const char *sasl_username, const char *client_address,
	              const char **rule)
{
	char	norm[ADDR_MAX + 1];
	unsigned char addr[16];
	VERP_KIND kind;
	TOKEN	t;
	char  **p;
	int	family, i;
	const char *dummy;

	if (rule == 0)
		rule = &dummy;
	*rule = 0;
	if (sender == 0 || *sender == 0) {
		/* The null sender: a bounce or notification, never marketing. */
		return (STREAM_TRANSACTIONAL);
	}
	if (addr_normalize(sender, norm)) {
		for (p = r->senders; *p; p++)
			if (addr_match(*p, norm))
				return (*rule = "marketing_senders", STREAM_MARKETING);
		if (stream_list_norm(r, norm))
			return (*rule = "marketing_lists", STREAM_MARKETING);
		/* The engine's marketing return path; its transactional one and
		 * its notifications (engine_from_address) are not marketing. */
		if (*r->bounce_domain && strcasecmp(addr_domain(norm), r->bounce_domain) == 0) {
			if (tk ? (verp_verify(&r->verp, tk, norm, &kind, &t) == TOKENS_OK
				  && kind == VERP_BOUNCE)
			    : verp_parse(&r->verp, norm, 0, 0) == VERP_BOUNCE)
				return (*rule = "verp", STREAM_MARKETING);
		}
	}
	if (sasl_username && *sasl_username)
		for (p = r->sasl_users; *p; p++)
			if (strcmp(*p, sasl_username) == 0)
				return (*rule = "marketing_sasl_users", STREAM_MARKETING);
	if (r->nnets && client_address && *client_address) {
		if (inet_pton(AF_INET, client_address, addr) == 1)
			family = AF_INET;
		else if (inet_pton(AF_INET6, client_address, addr) == 1)
			family = AF_INET6;
		else
			return (STREAM_TRANSACTIONAL);
		for (i = 0; i < r->nnets; i++)
			if (stream_net_match(r->nets + i, family, addr))
				return (*rule = "marketing_clients", STREAM_MARKETING);
	}
	return (STREAM_TRANSACTIONAL);
}

const char *
stream_name(int stream)
{
	return (stream == STREAM_MARKETING ? "marketing" : "transactional");
}
