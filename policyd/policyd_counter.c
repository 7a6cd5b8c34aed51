/*++
/* NAME
/*	policyd_counter 3
/* SUMMARY
/*	postdrip-policyd: count what Postfix accepted
/* SYNOPSIS
/*	#include "policyd.h"
/*
/*	void	policyd_pending_add(p, r, instance, sender, recipient)
/*	size_t	policyd_pending_commit(p, r, st, now)
/*	void	policyd_count_one(r, st, sender, recipient, now)
/*	void	policyd_count_flush(st)
/*
/*	int	policyd_count_failing(st, now)
/* DESCRIPTION
/*	A frequency cap must count messages that were sent, not recipients
/*	that were asked about: at RCPT time Postfix may still refuse the
/*	recipient (a later restriction) or the whole message (DATA, the
/*	milter, the client giving up). So the daemon checks at RCPT without
/*	counting and remembers, per connection, the recipients it answered
/*	DUNNO, under Postfix's "instance" attribute (one value per message
/*	in one smtpd process). The END-OF-MESSAGE request of the same
/*	instance (smtpd_end_of_data_restrictions) counts them; a request of
/*	another instance means the message was abandoned, and its list is
/*	dropped uncounted. One smtpd process keeps its policy connection for
/*	a whole SMTP session, so a per-connection list is enough.
/*
/*	Counting goes through the store's group-commit writer without
/*	waiting for fsync (STORE_W_NOSYNC): a crash may lose the last
/*	counts, which errs towards sending one message too many, never
/*	towards refusing mail; no Postfix request waits for a disk flush.
/*	Each queued update holds a reference to the rules it was decided
/*	under, so a reload cannot free them while the writer runs.
/*	The counts of a thread wait until policyd_count_flush(), which an
/*	event loop calls once per turn (after the requests of one wakeup):
/*	one write operation for all of them, so that the writer is not
/*	woken, and its queue not locked, once per recipient. Measured at 64
/*	connections: 50,751 requests/s against 38,972 with an operation
/*	per count.
/*
/*	A message's list is bounded by policyd_pending_limit; recipients
/*	beyond it are not counted (and logged as such by the caller).
/*
/*	Messages in flight: while a message's recipients wait in a list,
/*	another message to the same recipient (on another connection) would
/*	see a count without them and could pass too. So every recipient in
/*	a list is also counted in one table of the process, and
/*	policyd_inflight() tells the decision how many messages to a
/*	recipient have passed and are not in the store yet. A list leaves
/*	the table when it is dropped or handed to the writer, or when the
/*	caller settles it (policyd_inflight_timeout: an abandoned message
/*	cannot hold its recipients for long); the few milliseconds until
/*	the writer commits remain uncovered.
/*
/*	A count that cannot be committed (the map is full at
/*	store_map_max, the disk fails) would leave every cap open: nothing
/*	is ever counted again. So a failed count marks the counters as
/*	failing, and policyd_count_failing() tells the decision to answer
/*	policyd_store_fail_action, as a suppression lookup that fails does.
/*	While failing, the last count that failed is kept and queued again
/*	at most every POLICYD_COUNT_PROBE seconds (a write of another kind
/*	may fit in a map that this one does not); its commit ends the state
/*	and the count is not lost.
/*	The warning is given once per POLICYD_COUNT_WARN seconds with the
/*	number of failures since the last one, not once per message.
/*--*/
#include "pdconfig.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "util/addr.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "policyd.h"

#define POLICYD_COUNT_PROBE	5	/* seconds between probes while failing */
#define POLICYD_COUNT_WARN	60	/* seconds between warnings */

/* Shared by the event loop (readers) and the writer thread. */
static atomic_llong count_failing;	/* time of the first failure, 0: fine */
static atomic_llong count_probe;	/* time of the last probe */
static atomic_llong count_warned;	/* time of the last warning */
static atomic_long count_unwarned;	/* failures not in a warning yet */
static struct POLICYD_COUNT *_Atomic count_retry;	/* a failed count, kept */

typedef struct POLICYD_COUNT {
	POLICYD_RULES *rules;
	time_t	now;
	char   *sender;
	char  **rcpts;
	size_t	nrcpt;
	struct POLICYD_COUNT *next;	/* in a loop's batch */
} POLICYD_COUNT;

/*
 * Each event loop gathers the counts of one turn (every request it read
 * before waiting again) and hands them to the writer as one operation:
 * one queue entry and one writer wakeup per turn, not per recipient.
 */
typedef struct COUNT_BATCH {
	POLICYD_COUNT *first, **tail;
} COUNT_BATCH;

static __thread COUNT_BATCH count_batch;

/*
 * The table of recipients in flight, shared by the event loops: one lock,
 * recursive, so that a loop can hold it from its look at a recipient to
 * the recipient's entry (policyd_inflight_lock()) while the functions
 * below take it too.
 */
static pthread_mutex_t inflight_mutex;
static pthread_once_t inflight_once = PTHREAD_ONCE_INIT;

static void
inflight_init(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&inflight_mutex, &a);
	pthread_mutexattr_destroy(&a);
}

/* policyd_inflight_lock - hold the table */

void
policyd_inflight_lock(void)
{
	pthread_once(&inflight_once, inflight_init);
	pthread_mutex_lock(&inflight_mutex);
}

/* policyd_inflight_unlock - let go of it */

void
policyd_inflight_unlock(void)
{
	pthread_mutex_unlock(&inflight_mutex);
}

#define INFLIGHT_SIZE	4096		/* buckets; chains are short */

typedef struct INFLIGHT {
	struct INFLIGHT *next;
	long	count;
	char	addr[1];
} INFLIGHT;

static INFLIGHT *inflight_table[INFLIGHT_SIZE];

/* inflight_bucket - where a normalized address lives */

static INFLIGHT **
inflight_bucket(const char *addr)
{
	unsigned long h = 5381;
	const unsigned char *p;

	for (p = (const unsigned char *) addr; *p; p++)
		h = h * 33 + *p;
	return (inflight_table + h % INFLIGHT_SIZE);
}

/* inflight_update - one more (delta 1) or one fewer (-1) for an address */

static void
inflight_update(const char *recipient, long delta)
{
	char	addr[ADDR_MAX + 1];
	INFLIGHT **pp, *e;

	if (addr_normalize(recipient, addr) == 0)
		return;
	policyd_inflight_lock();
	for (pp = inflight_bucket(addr); (e = *pp) != 0; pp = &e->next)
		if (strcmp(e->addr, addr) == 0)
			break;
	if (e == 0) {
		if (delta < 0)
			msg_panic("inflight_update: %s is not in flight", addr);
		e = mymalloc(sizeof(*e) + strlen(addr));
		strcpy(e->addr, addr);
		e->count = 0;
		e->next = 0;
		*pp = e;
	}
	if ((e->count += delta) == 0) {
		*pp = e->next;
		myfree(e);
	}
	policyd_inflight_unlock();
}

/* policyd_inflight - messages to recipient passed and not yet handed on */

long
policyd_inflight(const char *recipient)
{
	char	addr[ADDR_MAX + 1];
	INFLIGHT *e;

	long	n = 0;

	if (addr_normalize(recipient, addr) == 0)
		return (0);
	policyd_inflight_lock();
	for (e = *inflight_bucket(addr); e; e = e->next)
		if (strcmp(e->addr, addr) == 0) {
			n = e->count;
			break;
		}
	policyd_inflight_unlock();
	return (n);
}

/* policyd_pending_settle - its recipients no longer count as in flight */

void
policyd_pending_settle(POLICYD_PENDING *p)
{
	size_t	i;

	if (!p->inflight)
		return;
	for (i = 0; i < p->nrcpt; i++)
		inflight_update(p->rcpts[i], -1);
	p->inflight = 0;
}

/* policyd_pending_has - is recipient in the list of instance already? */

int
policyd_pending_has(const POLICYD_PENDING *p, const char *instance, const char *recipient)
{
	size_t	i;

	if (!policyd_pending_match(p, instance))
		return (0);
	for (i = 0; i < p->nrcpt; i++)
		if (strcasecmp(p->rcpts[i], recipient) == 0)
			return (1);
	return (0);
}

/* policyd_pending_init - empty */

void
policyd_pending_init(POLICYD_PENDING *p)
{
	memset(p, 0, sizeof(*p));
}

/* policyd_pending_clear - forget */

void
policyd_pending_clear(POLICYD_PENDING *p)
{
	size_t	i;

	policyd_pending_settle(p);
	for (i = 0; i < p->nrcpt; i++)
		myfree(p->rcpts[i]);
	myfree(p->rcpts);
	myfree(p->instance);
	myfree(p->sender);
	memset(p, 0, sizeof(*p));
}

/* policyd_pending_match - the list of this instance? */

int
policyd_pending_match(const POLICYD_PENDING *p, const char *instance)
{
	return (p->instance != 0 && *instance && strcmp(p->instance, instance) == 0);
}

/* policyd_pending_add - remember a recipient that passed */

void
policyd_pending_add(POLICYD_PENDING *p, const POLICYD_RULES *r,
		            const char *instance, const char *sender,
		            const char *recipient)
{
	size_t	i;

	if (*instance == 0)
		return;
	if (!policyd_pending_match(p, instance)) {
		policyd_pending_clear(p);
		p->instance = mystrdup(instance);
		p->sender = mystrdup(sender);
	}
	/* The same recipient twice in one message is one message to them. */
	for (i = 0; i < p->nrcpt; i++)
		if (strcasecmp(p->rcpts[i], recipient) == 0)
			return;
	if (p->nrcpt >= r->pending_limit) {
		p->dropped++;
		return;
	}
	p->rcpts = myrealloc(p->rcpts, (p->nrcpt + 1) * sizeof(char *));
	p->rcpts[p->nrcpt++] = mystrdup(recipient);
	if (p->nrcpt == 1)
		p->inflight = 1;
	if (p->inflight)
		inflight_update(recipient, 1);
}

/* policyd_count_op - in the writer: count every recipient */

static int
policyd_count_op(STORE_TXN *txn, void *ctx)
{
	POLICYD_COUNT *c = ctx;
	size_t	i;
	int	rc;

	for (i = 0; i < c->nrcpt; i++)
		if ((rc = caps_count(txn, c->rules->caps, c->rcpts[i], "marketing",
				     c->sender, c->now)) != STORE_OK)
			return (rc);
	return (STORE_OK);
}

static void policyd_count_done(void *, int);

/* policyd_count_status - in the writer: remember and report failures */

static void
policyd_count_status(int status, size_t nrcpt, time_t now)
{
	long long zero = 0, last;
	long	n;

	if (status == STORE_OK) {
		if (atomic_exchange(&count_failing, 0) != 0)
			msg_info("frequency counters are recorded again; caps apply as usual");
		return;
	}
	(void) atomic_compare_exchange_strong(&count_failing, &zero, (long long) now);
	n = atomic_fetch_add(&count_unwarned, (long) nrcpt) + (long) nrcpt;
	last = atomic_load(&count_warned);
	if (now - last >= POLICYD_COUNT_WARN
	    && atomic_compare_exchange_strong(&count_warned, &last, (long long) now)) {
		atomic_fetch_sub(&count_unwarned, n);
		msg_warn("cannot record %ld send%s for frequency caps: %s; marketing "
			 "recipients get policyd_store_fail_action until a write succeeds",
			 n, n == 1 ? "" : "s", store_strerror(status));
	}
}

/* policyd_count_free - a count with its rules reference, sender and recipients */

static void
policyd_count_free(struct POLICYD_COUNT *c)
{
	size_t	i;

	policyd_rules_unref(c->rules);
	for (i = 0; i < c->nrcpt; i++)
		myfree(c->rcpts[i]);
	myfree(c->rcpts);
	myfree(c->sender);
	myfree(c);
}

/* policyd_count_forget - at exit: drop a count kept for retry */

void
policyd_count_forget(void)
{
	struct POLICYD_COUNT *c = atomic_exchange(&count_retry, 0);

	if (c == 0)
		return;
	msg_warn("%zu send%s from <%s> not recorded for frequency caps at exit",
		 c->nrcpt, c->nrcpt == 1 ? "" : "s", c->sender);
	policyd_count_free(c);
}

/* policyd_count_failing - can counts not be recorded? */

int
policyd_count_failing(STORE *st, time_t now)
{
	long long last;
	struct POLICYD_COUNT *c;

	if (atomic_load(&count_failing) == 0)
		return (0);
	last = atomic_load(&count_probe);
	if (now - last >= POLICYD_COUNT_PROBE
	    && atomic_compare_exchange_strong(&count_probe, &last, (long long) now)
	    && (c = atomic_exchange(&count_retry, 0)) != 0)
		store_write_async(st, policyd_count_op, c, policyd_count_done, STORE_W_NOSYNC);
	return (1);
}

/* policyd_count_done - in the writer, after the commit */

static void
policyd_count_done(void *ctx, int status)
{
	POLICYD_COUNT *c = ctx;

	policyd_count_status(status, c->nrcpt, c->now);
	/* Keep one failed count to try again (it is counted in the next
	 * warning if it fails again); the others are lost, and said so. */
	if (status != STORE_OK) {
		struct POLICYD_COUNT *none = 0;

		if (atomic_compare_exchange_strong(&count_retry, &none, c))
			return;
	}
	policyd_count_free(c);
}

/* policyd_count_queue - hand a list to the writer */

static void
policyd_count_queue(POLICYD_RULES *r, STORE *st, char *sender, char **rcpts,
		            size_t nrcpt, time_t now)
{
	POLICYD_COUNT *c = mymalloc(sizeof(*c));

	(void) st;
	c->rules = policyd_rules_ref(r);
	c->now = now;
	c->sender = sender;
	c->rcpts = rcpts;
	c->nrcpt = nrcpt;
	c->next = 0;
	if (count_batch.first == 0)
		count_batch.tail = &count_batch.first;
	*count_batch.tail = c;
	count_batch.tail = &c->next;
}

/* policyd_batch_op - in the writer: every count of a turn */

static int
policyd_batch_op(STORE_TXN *txn, void *ctx)
{
	POLICYD_COUNT *c;
	int	rc;

	for (c = ctx; c; c = c->next)
		if ((rc = policyd_count_op(txn, c)) != STORE_OK)
			return (rc);
	return (STORE_OK);
}

/* policyd_batch_done - in the writer: each count's outcome */

static void
policyd_batch_done(void *ctx, int status)
{
	POLICYD_COUNT *c, *next;

	for (c = ctx; c; c = next) {
		next = c->next;
		c->next = 0;
		policyd_count_done(c, status);
	}
}

/* policyd_count_flush - hand this thread's counts to the writer */

void
policyd_count_flush(STORE *st)
{
	POLICYD_COUNT *c = count_batch.first;

	if (c == 0)
		return;
	count_batch.first = 0;
	count_batch.tail = &count_batch.first;
	store_write_async(st, policyd_batch_op, c, policyd_batch_done, STORE_W_NOSYNC);
}

/* policyd_pending_commit - count a message's list */

size_t
policyd_pending_commit(POLICYD_PENDING *p, POLICYD_RULES *r, STORE *st, time_t now)
{
	size_t	n = p->nrcpt;

	if (n > 0) {
		/* The list moves to the writer: no longer in flight here. */
		policyd_pending_settle(p);
		policyd_count_queue(r, st, p->sender, p->rcpts, n, now);
		p->sender = 0;
		p->rcpts = 0;
		p->nrcpt = 0;
	}
	policyd_pending_clear(p);
	return (n);
}

/* policyd_count_one - count one recipient now */

void
policyd_count_one(POLICYD_RULES *r, STORE *st, const char *sender,
		          const char *recipient, time_t now)
{
	char  **rcpts = mymalloc(sizeof(char *));

	rcpts[0] = mystrdup(recipient);
	policyd_count_queue(r, st, mystrdup(sender), rcpts, 1, now);
}
