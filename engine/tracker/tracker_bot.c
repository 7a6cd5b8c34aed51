/*++
/* NAME
/*	tracker_bot 3
/* SUMMARY
/*	machine opens and scanner clicks
/* SYNOPSIS
/*	#include "tracker/tracker_bot.h"
/*
/*	void	bot_label(b, r, l)
/*	BOT	*b;
/*	const BOT_REQ *r;
/*	BOT_LABEL *l;
/* DESCRIPTION
/*	bot_label() says whether an open or a click was made by a machine
/*	(a privacy proxy that fetches every image, a link scanner) and by
/*	which rule. The tracker never refuses such a request: a refused
/*	scanner reports the link as dead. The event is recorded with
/*	machine=true and the rule's name, and the engine lets no such event
/*	satisfy a condition, fire a trigger or wake a wait.
/*
/*	The rules, first match wins (sources in postdrip-engine(8)):
/* .IP apple-mpp
/*	User-Agent exactly "Mozilla/5.0": Apple Mail Privacy Protection
/*	fetches every image through its proxy when the message arrives.
/* .IP apple-range
/*	Client in the iCloud Private Relay egress list the administrator
/*	keeps (tracker_apple_ranges_file; Apple publishes it as
/*	egress-ip-ranges.csv). Opens only: a person clicking from behind
/*	Private Relay comes from these addresses too.
/* .IP "empty-user-agent, scanner-user-agent"
/*	No User-Agent, or one naming a link scanner or an HTTP tool.
/* .IP prefetch
/*	Sec-Purpose or Purpose says prefetch (browsers that preload links).
/* .IP microsoft-eop
/*	Client in Microsoft Exchange Online Protection's ranges
/*	(40.92.0.0/15, 40.107.0.0/16, 52.100.0.0/14, 104.47.0.0/17), which
/*	follow links in mail they scan.
/* .IP honeypot
/*	A click on the link named tracker_honeypot_link, which the rewriter
/*	hides from people, and every click of the same message for
/*	tracker_honeypot_window seconds after it.
/* .IP link-burst
/*	A click on a second, different link of one message from the same
/*	client within tracker_burst_window seconds of the first.
/* .PP
/*	GoogleImageProxy, YahooMailProxy and OneOutlook fetch images when
/*	the reader opens the message: such opens are human, with proxy
/*	set to google, yahoo or outlook. A click from them is a machine.
/*
/*	The timing rule (an open or a click too soon after the send) needs
/*	the send time and is applied by signal_web(3).
/*
/*	The recent clicks are kept in fixed tables (BOT_RECENT_SLOTS,
/*	hashed, overwritten): memory is bounded, and a collision can only
/*	forget a click, making a label less likely, never more.
/*
/*	The opens and clicks of a message recorded just before its
/*	honeypot click are relabelled by signal_web(3) when that click is
/*	recorded.
/* BUGS
/*	A trigger that an event relabelled by a honeypot click fired
/*	before the relabelling (postdrip-engine follows events within
/*	about a second) is not undone; reports, conditions and later
/*	triggers see the event as a machine's.
/* SEE ALSO
/*	signal_web(3), postdrip-engine(8)
/*--*/
#include "pdconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tracker/tracker_bot.h"
#include "util/msg.h"
#include "util/mymalloc.h"

/* bot_addr_parse - text address to 16 bytes (IPv4 mapped) */

int
bot_addr_parse(const char *text, unsigned char addr[16])
{
	struct in_addr a4;

	if (strchr(text, ':') != 0)
		return (inet_pton(AF_INET6, text, addr) == 1 ? 0 : -1);
	if (inet_pton(AF_INET, text, &a4) != 1)
		return (-1);
	memset(addr, 0, 10);
	addr[10] = addr[11] = 0xff;
	memcpy(addr + 12, &a4, 4);
	return (0);
}

/* bot_net_parse - "addr/bits" */

int
bot_net_parse(const char *text, size_t len, BOT_NET *net)
{
	char	buf[64], *slash, *end;
	long	bits;
	int	v4;

	if (len == 0 || len >= sizeof(buf))
		return (-1);
	memcpy(buf, text, len);
	buf[len] = 0;
	if ((slash = strchr(buf, '/')) != 0)
		*slash++ = 0;
	v4 = strchr(buf, ':') == 0;
	if (bot_addr_parse(buf, net->addr) < 0)
		return (-1);
	if (slash) {
		bits = strtol(slash, &end, 10);
		if (*end || end == slash || bits < 0 || bits > (v4 ? 32 : 128))
			return (-1);
	} else {
		bits = v4 ? 32 : 128;
	}
	net->bits = (int) bits + (v4 ? 96 : 0);
	return (0);
}

void
bot_nets_add(BOT_NETS *nets, const BOT_NET *net)
{
	if (nets->n == nets->cap) {
		nets->cap = nets->cap ? nets->cap * 2 : 16;
		nets->net = myrealloc(nets->net, nets->cap * sizeof(*nets->net));
	}
	nets->net[nets->n++] = *net;
}

/* bot_nets_match - linear: the lists are short or looked up rarely */

int
bot_nets_match(const BOT_NETS *nets, const unsigned char addr[16])
{
	size_t	i;
	int	full, rest;

	for (i = 0; i < nets->n; i++) {
		full = nets->net[i].bits / 8;
		rest = nets->net[i].bits % 8;
		if (memcmp(addr, nets->net[i].addr, full) != 0)
			continue;
		if (rest && ((addr[full] ^ nets->net[i].addr[full]) & (0xff00 >> rest) & 0xff))
			continue;
		return (1);
	}
	return (0);
}

long
bot_nets_load(BOT_NETS *nets, const char *path, long *bad)
{
	FILE   *fp;
	char	line[512];
	size_t	len;
	char   *p;
	BOT_NET net;
	long	n = 0;

	*bad = 0;
	if ((fp = fopen(path, "r")) == 0)
		return (-1);
	while (fgets(line, sizeof(line), fp) != 0) {
		for (p = line; isspace((unsigned char) *p); p++)
			;
		if (*p == 0 || *p == '#')
			continue;
		len = strcspn(p, ", \t\r\n");
		if (bot_net_parse(p, len, &net) < 0) {
			(*bad)++;
			continue;
		}
		bot_nets_add(nets, &net);
		n++;
	}
	fclose(fp);
	return (n);
}

void
bot_nets_free(BOT_NETS *nets)
{
	if (nets->net)
		myfree(nets->net);
	memset(nets, 0, sizeof(*nets));
}

/* Microsoft Exchange Online Protection, as the issue and Microsoft's
 * published Office 365 endpoint list give them. */
static const char *const bot_eop_nets[] = {
	"40.92.0.0/15", "40.107.0.0/16", "52.100.0.0/14", "104.47.0.0/17", 0,
};

void
bot_init(BOT *b)
{
	const char *const *cpp;
	BOT_NET net;

	memset(b, 0, sizeof(*b));
	for (cpp = bot_eop_nets; *cpp; cpp++) {
		if (bot_net_parse(*cpp, strlen(*cpp), &net) < 0)
			msg_panic("bot_init: bad built-in range %s", *cpp);
		bot_nets_add(&b->eop, &net);
	}
	b->multi_link_window = 5;
	b->honeypot_window = 10;
	b->honeypot_link = "";
	pthread_mutex_init(&b->lock, 0);
}

void
bot_free(BOT *b)
{
	bot_nets_free(&b->apple);
	bot_nets_free(&b->eop);
	pthread_mutex_destroy(&b->lock);
}

/* Words in a User-Agent that name a scanner, a security gateway or an
 * HTTP tool rather than a person's browser or mail client. */
static const char *const bot_ua_words[] = {
	"safelinks", "urldefense", "barracuda", "mimecast", "proofpoint",
	"bot", "crawler", "spider", "scanner", "curl", "wget", "python-requests",
	"python-urllib", "aiohttp", "go-http-client", "java/", "okhttp",
	"libwww-perl", "httpclient", "node-fetch", "axios", "headless",
	"phantomjs", "slurp", "fortiguard", "trendmicro", "symantec",
	"forcepoint", "cisco", "ironport", "sophos", "checkpoint", 0,
};	/* lower-case: see bot_lower() */

/*
 * The User-Agent is searched for a few dozen words on every open and
 * click: it is lowered once (ASCII, as strncasecmp() in the C locale) and
 * each word, lower-case already, is found with strstr(). A header longer
 * than the buffer is lowered into a heap copy.
 */
#define BOT_UA_BUF	512

/* bot_lower - ASCII lower-case copy of s into buf (or a new heap copy) */

static char *
bot_lower(const char *s, char *buf, size_t len)
{
	size_t	n = strlen(s), i;
	char   *out = n < len ? buf : mymalloc(n + 1);

	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + ('a' - 'A') : s[i];
	out[n] = 0;
	return (out);
}

/* bot_has - case-insensitive substring; word is lower-case */

static int
bot_has(const char *s, const char *word)
{
	char	buf[BOT_UA_BUF];
	char   *ls = bot_lower(s, buf, sizeof(buf));
	int	hit = strstr(ls, word) != 0;

	if (ls != buf)
		myfree(ls);
	return (hit);
}

/* bot_hash - slot of (message, client) */

static size_t
bot_hash(uint64_t message, const unsigned char *client)
{
	uint64_t h = message * 0x9E3779B97F4A7C15ULL;
	int	i;

	if (client)
		for (i = 0; i < 16; i++)
			h = (h ^ client[i]) * 0x100000001B3ULL;
	return ((size_t) (h >> 17) % BOT_RECENT_SLOTS);
}

/* bot_clicks - the burst and honeypot rules, and remember this click */

static const char *
bot_clicks(BOT *b, const BOT_REQ *r)
{
	BOT_RECENT *slot, *honey;
	const char *reason = 0;
	int	is_honey = b->honeypot_link[0] && r->link_name
	&& strcasecmp(r->link_name, b->honeypot_link) == 0;

	pthread_mutex_lock(&b->lock);
	honey = b->honey + bot_hash(r->message, 0);
	if (is_honey) {
		honey->message = r->message;
		honey->when = r->now;
		reason = "honeypot";
	} else if (honey->message == r->message && honey->when <= r->now
		   && r->now - honey->when < b->honeypot_window) {
		reason = "honeypot";
	}
	if (r->have_client) {
		slot = b->recent + bot_hash(r->message, r->client);
		if (reason == 0 && slot->message == r->message
		    && memcmp(slot->client, r->client, 16) == 0
		    && slot->link != r->link && slot->when <= r->now
		    && r->now - slot->when < b->multi_link_window)
			reason = "link-burst";
		slot->message = r->message;
		memcpy(slot->client, r->client, 16);
		slot->link = r->link;
		slot->when = r->now;
	}
	pthread_mutex_unlock(&b->lock);
	return (reason);
}

void
bot_label(BOT *b, const BOT_REQ *r, BOT_LABEL *l)
{
	const char *ua = r->user_agent;
	const char *const *cpp;
	const char *reason;
	char	ubuf[BOT_UA_BUF];
	char   *lua = 0;

	memset(l, 0, sizeof(*l));
	if (ua && strcmp(ua, "Mozilla/5.0") == 0) {
		l->reason = "apple-mpp";
	} else if (r->kind == 'o' && r->have_client && bot_nets_match(&b->apple, r->client)) {
		l->reason = "apple-range";
	} else if (ua == 0 || *ua == 0) {
		l->reason = "empty-user-agent";
	} else if (r->purpose && bot_has(r->purpose, "prefetch")) {
		l->reason = "prefetch";
	} else if (r->have_client && bot_nets_match(&b->eop, r->client)) {
		l->reason = "microsoft-eop";
	} else if (strstr(lua = bot_lower(ua, ubuf, sizeof(ubuf)), "googleimageproxy")) {
		l->proxy = "google";
	} else if (strstr(lua, "yahoomailproxy")) {
		l->proxy = "yahoo";
	} else if (strstr(lua, "oneoutlook")) {
		l->proxy = "outlook";
	} else {
		for (cpp = bot_ua_words; *cpp; cpp++)
			if (strstr(lua, *cpp)) {
				l->reason = "scanner-user-agent";
				break;
			}
	}
	if (lua && lua != ubuf)
		myfree(lua);
	if (l->proxy && r->kind == 'c')
		l->reason = "image-proxy-click";
	/* Clicks are remembered whatever their label, so that a burst that
	 * starts with a labelled click still labels its followers. */
	if (r->kind == 'c' && (reason = bot_clicks(b, r)) != 0 && l->reason == 0)
		l->reason = reason;
	l->machine = l->reason != 0;
}
