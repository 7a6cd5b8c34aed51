/*++
/* NAME
/*	caps 3
/* SUMMARY
/*	frequency caps per recipient, rate limits per recipient domain
/* SYNOPSIS
/*	#include "caps/caps.h"
/*
/*	CAPS	*caps_create(cf, &err)
/*	int	caps_check(txn, caps, recipient, stream, sender, now, &res)
/*	int	caps_check_extra(txn, caps, recipient, stream, sender, now,
/*				extra, &res)
/*	int	caps_count(txn, caps, recipient, stream, sender, now)
/*
/*	int	caps_purge(txn, caps, now, pos, max)
/* DESCRIPTION
/*	caps_create() compiles frequency_caps, frequency_caps_sender,
/*	domain_rate_limit and domain_rate_limit_domains (see caps.h for the
/*	syntax). The result is immutable: the policy daemon shares one
/*	between its event loop and its store writer.
/*
/*	Frequency counters live in STORE_DB_COUNTER under "g\0RECIPIENT"
/*	(frequency_caps) or "s\0PATTERN\0RECIPIENT" (one entry of
/*	frequency_caps_sender); the value is the ascending times (8 bytes
/*	each, big-endian) of the last N messages, N the entry's largest cap.
/*	Times older than the entry's longest window are dropped when the
/*	counter is next written. Editing a sender pattern starts its counts
/*	afresh, since the pattern is part of the key.
/*
/*	Domain counters live in STORE_DB_RATE under the domain: window
/*	start, window length, count in this window, count in the previous
/*	one (8 bytes each). Windows are aligned to multiples of their length
/*	so that every process agrees on where they start.
/*
/*	The clock may move backwards (tests set it): times after now count
/*	as inside every window, which errs towards sending less.
/*
/*	caps_purge() removes the counters of recipients (and the rates of
/*	domains) that are no longer mailed: a counter goes when its newest
/*	time is outside its entry's longest window, a domain rate when both
/*	of its windows are past; either would read as zero anyway. A
/*	counter of an entry that is no longer configured stays for the
/*	longest window any entry may have (CAPS_WINDOW_MAX), in case the
/*	entry comes back. Records it cannot read are removed: the readers
/*	treat them as absent too. It reads first and deletes after, as a
/*	store write operation must, and it changes only *pos, so that a
/*	replayed batch starts from a copy of the same position.
/* DIAGNOSTICS
/*	caps_create() names the setting and the value it cannot parse.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "caps/caps.h"
#include "util/clock.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define CAPS_PATTERN_MAX 200		/* keeps counter keys under 511 bytes */
#define CAPS_WINDOW_MAX	(400L * 86400)	/* longest window */
#define CAPS_RATE_MAX	1000000000L	/* largest domain rate */

typedef struct CAPS_RATE {
	long	limit;
	long	window;
	char	text[40];		/* as written: "3/7d" */
} CAPS_RATE;

typedef struct CAPS_SET {
	const char *setting;		/* for messages */
	char   *pattern;		/* sender pattern, or 0: every sender */
	CAPS_RATE *rates;
	int	nrates;
	long	keep;			/* times to keep: the largest limit */
	long	span;			/* the longest window */
} CAPS_SET;

typedef struct CAPS_DOMAIN {
	char   *pattern;
	int	none;			/* no limit for this domain */
	CAPS_RATE rate;
} CAPS_DOMAIN;

struct CAPS {
	CAPS_SET global;
	CAPS_SET *senders;
	int	nsenders;
	int	have_domain_rate;
	CAPS_RATE domain_rate;
	CAPS_DOMAIN *domains;
	int	ndomains;
};

/* caps_parse_rate - "N/DURATION" */

int
caps_parse_rate(const char *text, long max, long *limit, long *window)
{
	char   *end;
	long	n, secs;

	if (!isdigit((unsigned char) *text))
		return (-1);
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end != '/' || n < 1 || n > max)
		return (-1);
	if (clock_parse_duration(end + 1, &secs) < 0 || secs < 1 || secs > CAPS_WINDOW_MAX)
		return (-1);
	*limit = n;
	*window = secs;
	return (0);
}

/* caps_words - split one entry on white space and commas */

static int
caps_words(char *entry, char **words, int max)
{
	int	n = 0;
	char   *p = entry;

	for (;;) {
		while (*p && (isspace((unsigned char) *p) || *p == ','))
			p++;
		if (*p == 0)
			return (n);
		if (n == max)
			return (-1);
		words[n++] = p;
		while (*p && !isspace((unsigned char) *p) && *p != ',')
			p++;
		if (*p)
			*p++ = 0;
	}
}

/* caps_set_add - add one "N/DURATION" to a set, or explain */

static int
caps_set_add(CAPS_SET *set, const char *word, STRBUF *errs)
{
	CAPS_RATE *r;

	set->rates = myrealloc(set->rates, (set->nrates + 1) * sizeof(*set->rates));
	r = set->rates + set->nrates;
	if (strlen(word) >= sizeof(r->text)
	    || caps_parse_rate(word, CAPS_LIMIT_MAX, &r->limit, &r->window) < 0) {
		strbuf_printf(errs, "%s: \"%s\": expected N/DURATION such as 3/7d "
			      "(N from 1 to %d)\n", set->setting, word, CAPS_LIMIT_MAX);
		return (-1);
	}
	strcpy(r->text, word);
	set->nrates++;
	if (r->limit > set->keep)
		set->keep = r->limit;
	if (r->window > set->span)
		set->span = r->window;
	return (0);
}

/* caps_entries - split a ';'-separated setting into words per entry */

static void
caps_entries(const CONFIG *cf, const char *name, STRBUF *errs,
	             void (*fn) (CAPS *, char **, int, STRBUF *), CAPS *caps)
{
	char   *copy = mystrdup(config_str(cf, name)), *entry, *save = 0;
	char   *words[CAPS_LIMIT_MAX];
	int	n;

	for (entry = strtok_r(copy, ";", &save); entry; entry = strtok_r(0, ";", &save)) {
		if ((n = caps_words(entry, words, CAPS_LIMIT_MAX)) < 0) {
			strbuf_printf(errs, "%s: entry too long\n", name);
			continue;
		}
		if (n == 0)
			continue;
		if (n < 2) {
			strbuf_printf(errs, "%s: \"%s\": expected a pattern and a rate\n",
				      name, words[0]);
			continue;
		}
		if (strlen(words[0]) > CAPS_PATTERN_MAX) {
			strbuf_printf(errs, "%s: pattern longer than %d characters\n",
				      name, CAPS_PATTERN_MAX);
			continue;
		}
		fn(caps, words, n, errs);
	}
	myfree(copy);
}

/* caps_add_sender - one frequency_caps_sender entry */

static void
caps_add_sender(CAPS *caps, char **words, int n, STRBUF *errs)
{
	CAPS_SET *set;
	int	i;

	caps->senders = myrealloc(caps->senders, (caps->nsenders + 1) * sizeof(*caps->senders));
	set = caps->senders + caps->nsenders++;
	memset(set, 0, sizeof(*set));
	set->setting = "frequency_caps_sender";
	set->pattern = mystrdup(words[0]);
	for (i = 1; i < n; i++)
		(void) caps_set_add(set, words[i], errs);
}

/* caps_add_domain - one domain_rate_limit_domains entry */

static void
caps_add_domain(CAPS *caps, char **words, int n, STRBUF *errs)
{
	CAPS_DOMAIN *d;

	if (n != 2) {
		strbuf_printf(errs, "domain_rate_limit_domains: \"%s\": expected one rate "
			      "or \"none\"\n", words[0]);
		return;
	}
	caps->domains = myrealloc(caps->domains, (caps->ndomains + 1) * sizeof(*caps->domains));
	d = caps->domains + caps->ndomains++;
	memset(d, 0, sizeof(*d));
	d->pattern = mystrdup(words[0]);
	if (strcasecmp(words[1], "none") == 0)
		d->none = 1;
	else if (strlen(words[1]) >= sizeof(d->rate.text)
		 || caps_parse_rate(words[1], CAPS_RATE_MAX, &d->rate.limit, &d->rate.window) < 0)
		strbuf_printf(errs, "domain_rate_limit_domains: \"%s\": expected N/DURATION "
			      "such as 100/1m, or none\n", words[1]);
	else
		strcpy(d->rate.text, words[1]);
}

/* caps_create - compile the settings */

CAPS   *
caps_create(const CONFIG *cf, char **err)
{
	CAPS   *caps = mycalloc(1, sizeof(*caps));
	STRBUF	errs = STRBUF_INIT;
	char  **list;
	const char *v;

	*err = 0;
	caps->global.setting = "frequency_caps";
	for (list = config_list(cf, "frequency_caps"); *list; list++)
		(void) caps_set_add(&caps->global, *list, &errs);
	caps_entries(cf, "frequency_caps_sender", &errs, caps_add_sender, caps);
	v = config_str(cf, "domain_rate_limit");
	while (isspace((unsigned char) *v))
		v++;
	if (*v && strcasecmp(v, "none") != 0) {
		if (strlen(v) >= sizeof(caps->domain_rate.text)
		    || caps_parse_rate(v, CAPS_RATE_MAX, &caps->domain_rate.limit,
				       &caps->domain_rate.window) < 0)
			strbuf_printf(&errs, "domain_rate_limit: \"%s\": expected N/DURATION "
				      "such as 100/1m\n", v);
		else {
			strcpy(caps->domain_rate.text, v);
			caps->have_domain_rate = 1;
		}
	}
	caps_entries(cf, "domain_rate_limit_domains", &errs, caps_add_domain, caps);
	if (strbuf_len(&errs)) {
		strbuf_truncate(&errs, strbuf_len(&errs) - 1);
		*err = strbuf_steal(&errs);
		caps_free(caps);
		return (0);
	}
	strbuf_free(&errs);
	return (caps);
}

/* caps_free - release */

void
caps_free(CAPS *caps)
{
	int	i;

	if (caps == 0)
		return;
	myfree(caps->global.rates);
	for (i = 0; i < caps->nsenders; i++) {
		myfree(caps->senders[i].pattern);
		myfree(caps->senders[i].rates);
	}
	myfree(caps->senders);
	for (i = 0; i < caps->ndomains; i++)
		myfree(caps->domains[i].pattern);
	myfree(caps->domains);
	myfree(caps);
}

/* caps_empty - no rules at all? */

int
caps_empty(const CAPS *caps)
{
	int	i;

	if (caps->global.nrates || caps->have_domain_rate)
		return (0);
	for (i = 0; i < caps->nsenders; i++)
		if (caps->senders[i].nrates)
			return (0);
	for (i = 0; i < caps->ndomains; i++)
		if (!caps->domains[i].none)
			return (0);
	return (1);
}

/* caps_key - the counter key of a set and recipient */

static size_t
caps_key(const CAPS_SET *set, const char *rcpt, char *key)
{
	size_t	len;

	if (set->pattern == 0) {
		memcpy(key, "g", 2);
		len = 2;
	} else {
		key[0] = 's';
		key[1] = 0;
		len = strlen(set->pattern);
		memcpy(key + 2, set->pattern, len + 1);
		len += 3;
	}
	strcpy(key + len, rcpt);
	return (len + strlen(rcpt));
}

/* caps_set_check - one set against its counter */

static int
caps_set_check(STORE_TXN *txn, const CAPS_SET *set, const char *rcpt,
	               time_t now, long extra, CAPS_RESULT *res)
{
	char	key[512];
	STORE_VAL val;
	const unsigned char *p;
	size_t	n, i, first;
	long	count;
	int	rc, r;
	time_t	t;

	if (set->nrates == 0)
		return (STORE_OK);
	rc = store_get(txn, STORE_DB_COUNTER, key, caps_key(set, rcpt, key), &val);
	if (rc == STORE_NOTFOUND) {
		if (extra == 0)
			return (STORE_OK);
		p = 0;
		n = 0;
	} else if (rc != STORE_OK) {
		return (rc);
	} else {
		p = val.data;
		n = val.size / 8;
	}
	for (r = 0; r < set->nrates; r++) {
		const CAPS_RATE *rate = set->rates + r;

		/* Times ascend: find the first one inside the window. */
		for (first = n; first > 0; first--) {
			t = (time_t) store_u64_get(p + 8 * (first - 1));
			if (t <= now - rate->window)
				break;
		}
		/* Messages not counted yet are sent now, after every stored one. */
		count = (long) (n - first) + extra;
		if (count < rate->limit)
			continue;
		if (res) {
			memset(res, 0, sizeof(*res));
			res->kind = CAPS_KIND_RECIPIENT;
			if (set->pattern)
				snprintf(res->rule, sizeof(res->rule), "%s %s %s",
					 set->setting, set->pattern, rate->text);
			else
				snprintf(res->rule, sizeof(res->rule), "%s %s",
					 set->setting, rate->text);
			snprintf(res->what, sizeof(res->what), "%ld message%s per %s",
				 rate->limit, rate->limit == 1 ? "" : "s",
				 strchr(rate->text, '/') + 1);
			res->count = count;
			res->limit = rate->limit;
			res->window = rate->window;
			/* Room comes when the oldest that must go leaves. */
			i = first + (size_t) (count - rate->limit);
			t = (i < n ? (time_t) store_u64_get(p + 8 * i) : now) + rate->window;
			res->retry = t > now ? (long) (t - now) : 1;
		}
		return (CAPS_OVER);
	}
	return (STORE_OK);
}

/* caps_domain_rate - the rate that applies to a recipient, or 0 */

static const CAPS_RATE *
caps_domain_rate(const CAPS *caps, const char *rcpt, const char **rule)
{
	int	i;

	for (i = 0; i < caps->ndomains; i++) {
		if (addr_match(caps->domains[i].pattern, rcpt)) {
			*rule = caps->domains[i].pattern;
			return (caps->domains[i].none ? 0 : &caps->domains[i].rate);
		}
	}
	*rule = 0;
	return (caps->have_domain_rate ? &caps->domain_rate : 0);
}

typedef struct CAPS_WIN {
	uint64_t start, window, cur, prev;
} CAPS_WIN;

/* caps_win_load - a domain's windows, moved forward to now */

static int
caps_win_load(STORE_TXN *txn, const char *domain, const CAPS_RATE *rate,
	              time_t now, CAPS_WIN *w)
{
	STORE_VAL val;
	uint64_t start;
	int	rc;

	start = (uint64_t) now - (uint64_t) now % (uint64_t) rate->window;
	memset(w, 0, sizeof(*w));
	w->start = start;
	w->window = rate->window;
	rc = store_get(txn, STORE_DB_RATE, domain, strlen(domain), &val);
	if (rc == STORE_NOTFOUND)
		return (STORE_OK);
	if (rc != STORE_OK)
		return (rc);
	if (val.size != 32 || store_u64_get((const unsigned char *) val.data + 8) != w->window)
		return (STORE_OK);		/* another rate: start afresh */
	{
		uint64_t rstart = store_u64_get(val.data);
		uint64_t rcur = store_u64_get((const unsigned char *) val.data + 16);
		uint64_t rprev = store_u64_get((const unsigned char *) val.data + 24);

		if (rstart == start) {
			w->cur = rcur;
			w->prev = rprev;
		} else if (rstart + w->window == start) {
			w->prev = rcur;
		} else if (rstart > start) {
			/* The clock went back: keep the counts, err towards less. */
			w->cur = rcur;
			w->prev = rprev;
		}
	}
	return (STORE_OK);
}

/* caps_win_estimate - messages in the rolling window ending now */

static double
caps_win_estimate(const CAPS_WIN *w, time_t now)
{
	double	elapsed = (double) ((uint64_t) now - w->start);

	if (elapsed < 0 || elapsed > w->window)
		elapsed = 0;
	return (w->prev * ((double) w->window - elapsed) / (double) w->window + w->cur);
}

/* caps_domain_check - the recipient domain's rate */

static int
caps_domain_check(STORE_TXN *txn, const CAPS *caps, const char *rcpt,
		          time_t now, CAPS_RESULT *res)
{
	const CAPS_RATE *rate;
	const char *rule, *domain = addr_domain(rcpt);
	CAPS_WIN w;
	double	est, elapsed, need;
	int	rc;

	if ((rate = caps_domain_rate(caps, rcpt, &rule)) == 0)
		return (STORE_OK);
	if ((rc = caps_win_load(txn, domain, rate, now, &w)) != STORE_OK)
		return (rc);
	est = caps_win_estimate(&w, now);
	if (est + 1 <= (double) rate->limit)
		return (STORE_OK);
	if (res) {
		memset(res, 0, sizeof(*res));
		res->kind = CAPS_KIND_DOMAIN;
		if (rule)
			snprintf(res->rule, sizeof(res->rule), "domain_rate_limit_domains %s %s",
				 rule, rate->text);
		else
			snprintf(res->rule, sizeof(res->rule), "domain_rate_limit %s", rate->text);
		snprintf(res->what, sizeof(res->what), "%ld message%s per %s to %s",
			 rate->limit, rate->limit == 1 ? "" : "s",
			 strchr(rate->text, '/') + 1, domain);
		res->count = (long) est;
		res->limit = rate->limit;
		res->window = rate->window;
		elapsed = (double) ((uint64_t) now - w.start);
		if ((double) w.cur + 1 > (double) rate->limit || w.prev == 0) {
			/* Only the next window has room. */
			res->retry = (long) (w.window - elapsed);
		} else {
			/* prev * (window - e) / window + cur <= limit - 1 */
			need = (double) w.window - ((double) rate->limit - 1 - w.cur)
				* w.window / w.prev;
			res->retry = (long) (need - elapsed) + 1;
		}
		if (res->retry < 1)
			res->retry = 1;
	}
	return (CAPS_OVER);
}

/* caps_check - would one more message exceed a cap? */

int
caps_check(STORE_TXN *txn, const CAPS *caps, const char *recipient,
	           const char *stream, const char *sender, time_t now,
	           CAPS_RESULT *res)
{
	return (caps_check_extra(txn, caps, recipient, stream, sender, now, 0, res));
}

/* caps_check_extra - the same, with messages passed but not yet counted */

int
caps_check_extra(STORE_TXN *txn, const CAPS *caps, const char *recipient,
		         const char *stream, const char *sender, time_t now,
		         long extra, CAPS_RESULT *res)
{
	char	rcpt[ADDR_MAX + 1], from[ADDR_MAX + 1];
	int	rc, i;

	if (strcmp(stream, "marketing") != 0 || addr_normalize(recipient, rcpt) == 0)
		return (STORE_OK);
	if ((rc = caps_set_check(txn, &caps->global, rcpt, now, extra, res)) != STORE_OK)
		return (rc);
	if (caps->nsenders && sender && addr_normalize(sender, from)) {
		for (i = 0; i < caps->nsenders; i++) {
			if (!addr_match(caps->senders[i].pattern, from))
				continue;
			rc = caps_set_check(txn, caps->senders + i, rcpt, now, 0, res);
			if (rc != STORE_OK)
				return (rc);
		}
	}
	return (caps_domain_check(txn, caps, rcpt, now, res));
}

/* caps_set_count - append now to a set's counter */

static int
caps_set_count(STORE_TXN *txn, const CAPS_SET *set, const char *rcpt, time_t now)
{
	char	key[512];
	size_t	klen = caps_key(set, rcpt, key);
	STORE_VAL val;
	unsigned char *buf;
	size_t	n = 0, i, keep, start;
	uint64_t t;
	int	rc;

	if (set->nrates == 0)
		return (STORE_OK);
	rc = store_get(txn, STORE_DB_COUNTER, key, klen, &val);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return (rc);
	if (rc == STORE_OK)
		n = val.size / 8;
	buf = mymalloc((n + 1) * 8);
	/* Keep the times inside the longest window, in order, then now. */
	for (keep = 0, i = 0; i < n; i++) {
		t = store_u64_get((const unsigned char *) val.data + 8 * i);
		if ((time_t) t > now - set->span)
			memcpy(buf + 8 * keep++, (const unsigned char *) val.data + 8 * i, 8);
	}
	/* Insert in order (the clock can move back in tests). */
	for (i = keep; i > 0 && (time_t) store_u64_get(buf + 8 * (i - 1)) > now; i--)
		memcpy(buf + 8 * i, buf + 8 * (i - 1), 8);
	store_u64_put(buf + 8 * i, (uint64_t) now);
	keep++;
	start = keep > (size_t) set->keep ? keep - (size_t) set->keep : 0;
	rc = store_put(txn, STORE_DB_COUNTER, key, klen, buf + 8 * start,
		       8 * (keep - start), 0);
	myfree(buf);
	return (rc);
}

/* caps_count - record one message */

int
caps_count(STORE_TXN *txn, const CAPS *caps, const char *recipient,
	           const char *stream, const char *sender, time_t now)
{
	char	rcpt[ADDR_MAX + 1], from[ADDR_MAX + 1];
	unsigned char buf[32];
	const CAPS_RATE *rate;
	const char *rule, *domain;
	CAPS_WIN w;
	int	rc, i;

	if (strcmp(stream, "marketing") != 0 || addr_normalize(recipient, rcpt) == 0)
		return (STORE_OK);
	if ((rc = caps_set_count(txn, &caps->global, rcpt, now)) != STORE_OK)
		return (rc);
	if (caps->nsenders && sender && addr_normalize(sender, from)) {
		for (i = 0; i < caps->nsenders; i++) {
			if (!addr_match(caps->senders[i].pattern, from))
				continue;
			if ((rc = caps_set_count(txn, caps->senders + i, rcpt, now)) != STORE_OK)
				return (rc);
		}
	}
	if ((rate = caps_domain_rate(caps, rcpt, &rule)) == 0)
		return (STORE_OK);
	domain = addr_domain(rcpt);
	if ((rc = caps_win_load(txn, domain, rate, now, &w)) != STORE_OK)
		return (rc);
	w.cur++;
	store_u64_put(buf, w.start);
	store_u64_put(buf + 8, w.window);
	store_u64_put(buf + 16, w.cur);
	store_u64_put(buf + 24, w.prev);
	return (store_put(txn, STORE_DB_RATE, domain, strlen(domain), buf, sizeof(buf), 0));
}

/* caps_counter_stale - does a counter record weigh nothing at now? */

static int
caps_counter_stale(const CAPS *caps, const unsigned char *key, size_t klen,
		           const unsigned char *val, size_t vlen, time_t now)
{
	const char *pattern;
	long	span = CAPS_WINDOW_MAX;
	size_t	plen;
	int	i;

	if (vlen == 0 || vlen % 8 != 0)
		return (1);
	if (klen >= 2 && key[0] == 'g' && key[1] == 0) {
		if (caps->global.nrates)
			span = caps->global.span;
	} else if (klen >= 3 && key[0] == 's' && key[1] == 0) {
		pattern = (const char *) key + 2;
		if ((plen = strnlen(pattern, klen - 2)) == klen - 2)
			return (1);			/* no end to the pattern */
		for (i = 0; i < caps->nsenders; i++)
			if (caps->senders[i].nrates && strlen(caps->senders[i].pattern) == plen
			    && memcmp(caps->senders[i].pattern, pattern, plen) == 0) {
				span = caps->senders[i].span;
				break;
			}
	} else
		return (0);				/* not one of ours: leave it */
	/* Times ascend: the newest is the last. */
	return ((time_t) store_u64_get(val + vlen - 8) <= now - span);
}

/* caps_rate_stale - does a domain rate record weigh nothing at now? */

static int
caps_rate_stale(const unsigned char *val, size_t vlen, time_t now)
{
	uint64_t start, window;

	if (vlen != 32)
		return (1);
	start = store_u64_get(val);
	window = store_u64_get(val + 8);
	if (window == 0)
		return (1);
	/* Both the window that starts at start and the next are past. */
	return (now >= 0 && start + 2 * window <= (uint64_t) now);
}

/* Where caps_purge() is, and what it found to remove. */
typedef struct CAPS_SWEEP {
	const CAPS *caps;
	time_t	now;
	STORE_DB db;
	CAPS_PURGE *pos;
	size_t	seen;
	unsigned char *keys;		/* the stale keys, one after another */
	size_t	*lens;
	size_t	nkeys;
	size_t	used;
} CAPS_SWEEP;

/* caps_sweep_one - look at one record; keep its key when it is stale */

static int
caps_sweep_one(void *ctx, const void *key, size_t klen, const void *val,
	               size_t vlen)
{
	CAPS_SWEEP *sw = ctx;
	CAPS_PURGE *pos = sw->pos;

	if (klen > sizeof(pos->key))		/* LMDB keys are shorter */
		return (0);
	sw->seen++;
	memcpy(pos->key, key, klen);
	pos->klen = klen;
	if (sw->db == STORE_DB_COUNTER ?
	    caps_counter_stale(sw->caps, key, klen, val, vlen, sw->now) :
	    caps_rate_stale(val, vlen, sw->now)) {
		sw->keys = myrealloc(sw->keys, sw->used + klen);
		sw->lens = myrealloc(sw->lens, (sw->nkeys + 1) * sizeof(*sw->lens));
		memcpy(sw->keys + sw->used, key, klen);
		sw->used += klen;
		sw->lens[sw->nkeys++] = klen;
	}
	return (0);
}

/* caps_purge - remove stale counters, a bounded batch at a time */

int
caps_purge(STORE_TXN *txn, const CAPS *caps, time_t now, CAPS_PURGE *pos, size_t max)
{
	CAPS_SWEEP sw;
	unsigned char after[sizeof(pos->key)];
	size_t	alen, i, off;
	int	rc, end;

	if (pos->db == CAPS_PURGE_DONE)
		return (STORE_OK);
	memset(&sw, 0, sizeof(sw));
	sw.caps = caps;
	sw.now = now;
	sw.pos = pos;
	sw.db = pos->db == CAPS_PURGE_COUNTER ? STORE_DB_COUNTER : STORE_DB_RATE;
	/* The walk moves pos->key on; it resumes after a copy. */
	memcpy(after, pos->key, alen = pos->klen);
	if ((rc = store_scan(txn, sw.db, after, alen, max, caps_sweep_one, &sw, &end)) != STORE_OK)
		goto out;
	/* Every read is done: now the deletions. */
	for (off = 0, i = 0; i < sw.nkeys; off += sw.lens[i], i++) {
		rc = store_del(txn, sw.db, sw.keys + off, sw.lens[i]);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			goto out;
	}
	rc = STORE_OK;
	pos->seen += sw.seen;
	pos->removed += sw.nkeys;
	if (end) {
		pos->db++;
		pos->klen = 0;
	}
out:
	myfree(sw.keys);
	myfree(sw.lens);
	return (rc);
}
