#ifndef PD_CAPS_H
#define PD_CAPS_H

/*
 * caps - frequency caps per recipient and rate limits per recipient domain,
 * over the shared store.
 *
 * The policy daemon checks them for every marketing recipient; the workflow
 * engine checks them before it composes a message. Both use the same rules
 * (built from the same settings) and the same counters, so a recipient's
 * allowance is one number whichever program looks.
 *
 * Settings (postdrip.conf(5)):
 *   frequency_caps = 1/1d, 3/7d
 *	every marketing message, per recipient: at most 1 a day and 3 in any
 *	7 days (rolling windows).
 *   frequency_caps_sender = *@news.example.com 2/1d 5/7d; @shop.example.com 1/1d
 *	';'-separated entries: an envelope-sender pattern (addr_match) and its
 *	caps, counted separately for each entry: messages from senders that
 *	match, per recipient.
 *   domain_rate_limit = 100/1m
 *	marketing recipients in one domain, in any window of that length.
 *   domain_rate_limit_domains = gmail.com 500/1m; example.org none
 *	';'-separated overrides: a recipient pattern (addr_match: bare domain,
 *	@domain with subdomains) and its rate, or "none"; the first match wins.
 *
 * Counting. caps_check() only reads; caps_count() (inside a write
 * transaction) records one message to one recipient. Frequency caps keep,
 * per recipient and entry, the times of the last N messages (N the largest
 * cap of the entry), so a rolling window is exact. Domain rates, whose
 * limits can be thousands, keep two fixed windows and weigh the previous one
 * by how much of it still overlaps the rolling window (an estimate that is
 * exact when the traffic is even).
 *
 * Caps apply to the "marketing" stream only: other streams pass.
 *
 * Results: STORE_OK (under every cap), CAPS_OVER (res says which rule), or
 * a store result (STORE_RETRY: callers tempfail).
 */
#include <time.h>

#include "config/config.h"
#include "store/store.h"

#define CAPS_OVER	16		/* a cap is reached (not a store result) */

#define CAPS_LIMIT_MAX	1000		/* largest N of a frequency cap */

typedef struct CAPS CAPS;

typedef enum {
	CAPS_KIND_RECIPIENT,		/* frequency cap (frequency_caps*) */
	CAPS_KIND_DOMAIN,		/* domain rate (domain_rate_limit*) */
} CAPS_KIND;

typedef struct CAPS_RESULT {
	CAPS_KIND kind;
	char	rule[160];		/* e.g. "frequency_caps 1/1d" */
	char	what[160];		/* e.g. "1 message per 1d" */
	long	count;			/* messages (or estimate) in the window */
	long	limit;
	long	window;			/* seconds */
	long	retry;			/* seconds until there is room (estimate) */
} CAPS_RESULT;

/* Build from the settings; NULL with *err (caller frees) on a bad value. */
CAPS   *caps_create(const CONFIG *cf, char **err);
void	caps_free(CAPS *caps);
/* Are there any rules at all? */
int	caps_empty(const CAPS *caps);

/* Would one more message from sender to recipient exceed a cap? */
int	caps_check(STORE_TXN *txn, const CAPS *caps, const char *recipient,
		           const char *stream, const char *sender, time_t now,
		           CAPS_RESULT *res);

/* The same, with extra messages to recipient that passed but are not
 * counted yet (the policy daemon's messages in flight, from any sender):
 * they count at now against frequency_caps, not against the per-sender
 * entries, whose senders they may not match. */
int	caps_check_extra(STORE_TXN *txn, const CAPS *caps, const char *recipient,
			         const char *stream, const char *sender, time_t now,
			         long extra, CAPS_RESULT *res);

/* Write: record one message from sender to recipient at now. */
int	caps_count(STORE_TXN *txn, const CAPS *caps, const char *recipient,
		           const char *stream, const char *sender, time_t now);

/*
 * Stale counters. A counter whose every time is outside its entry's
 * longest window (or, for an entry no longer configured, older than the
 * longest window allowed) weighs nothing, nor does a domain rate whose
 * two windows are past: caps_purge() removes them, looking at no more
 * than max records per call and resuming where the last call stopped, so
 * that no write transaction grows with the store. Start with a zeroed
 * CAPS_PURGE; a pass is over when db is CAPS_PURGE_DONE.
 */
#define CAPS_PURGE_COUNTER 0
#define CAPS_PURGE_RATE	1
#define CAPS_PURGE_DONE	2

typedef struct CAPS_PURGE {
	int	db;			/* CAPS_PURGE_* */
	unsigned char key[512];		/* resume after this key */
	size_t	klen;			/* 0: from the first key */
	size_t	seen;			/* records looked at in this pass */
	size_t	removed;		/* records removed in this pass */
} CAPS_PURGE;

/* Write: look at up to max records from pos on; remove the stale ones. */
int	caps_purge(STORE_TXN *txn, const CAPS *caps, time_t now, CAPS_PURGE *pos,
		           size_t max);

/* Parse "N/DURATION" (N 1..max); 0 on success. */
int	caps_parse_rate(const char *text, long max, long *limit, long *window);

#endif
