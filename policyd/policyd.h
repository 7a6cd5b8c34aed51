#ifndef PD_POLICYD_H
#define PD_POLICYD_H

/*
 * policyd - what the files of postdrip-policyd share.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "util/addr.h"
#include "caps/caps.h"
#include "caps/stream.h"
#include "config/config.h"
#include "store/store.h"
#include "token/verp.h"
#include "policyd_proto.h"

/* A compiled configuration: immutable, reference counted. A reload makes a
 * new one; requests and queued counter updates hold the one they began
 * with. */
typedef struct POLICYD_RULES {
	atomic_int refcount;
	CONFIG *cf;
	STREAM_RULES *stream;		/* marketing or not, and the list */
	CAPS   *caps;
	char   *cap_action;		/* frequency_cap_action, compiled */
	char   *rate_action;		/* domain_rate_action, compiled */
	const char *fail_action;	/* policyd_store_fail_action */
	int	count_at_rcpt;		/* policyd_count_stage = rcpt */
	int	one_rcpt;		/* policyd_one_marketing_recipient */
	int	route_flags;		/* swap_bangpath, allow_percent_hack */
	size_t	pending_limit;
	POLICY_LIMITS limits;
} POLICYD_RULES;

/* policyd_rules.c */
POLICYD_RULES *policyd_rules_create(CONFIG *cf, char **err);
POLICYD_RULES *policyd_rules_ref(POLICYD_RULES *r);
void	policyd_rules_unref(POLICYD_RULES *r);

typedef enum {
	POLICYD_STREAM_TRANSACTIONAL,
	POLICYD_STREAM_MARKETING,
} POLICYD_STREAM;

POLICYD_STREAM policyd_stream(const POLICYD_RULES *r, const char *sender,
			              const char *sasl_username, const char *client_address);
const char *policyd_stream_name(POLICYD_STREAM s);

/* One decision about one request. */
typedef struct POLICYD_DECISION {
	POLICYD_STREAM stream;
	char	action[512];		/* the value of action= */
	char	reason[256];		/* why, for the log */
	char	detail[256];		/* key=value extras for the log */
	const char *verdict;		/* log word: dunno, reject, defer, hold, ... */
	int	count;			/* a marketing recipient that passed */
} POLICYD_DECISION;

/* Decide about a RCPT-stage request of the marketing stream (the caller has
 * classified it). st is read through store_rbegin(). inflight: messages to
 * recipient that passed and are not in the store yet. */
void	policyd_decide(const POLICYD_RULES *r, STORE *st, const char *sender,
		               const char *recipient, time_t now, long inflight,
		               POLICYD_DECISION *d);

/* The log word of an action value. */
const char *policyd_verdict(const char *action);

/* policyd_counter.c: recipients that passed at RCPT, counted at
 * END-OF-MESSAGE (or at once with policyd_count_stage = rcpt). */
typedef struct POLICYD_PENDING {
	char   *instance;		/* Postfix's message instance, or 0 */
	char   *sender;
	char  **rcpts;
	size_t	nrcpt;
	size_t	dropped;		/* over policyd_pending_limit */
	int	inflight;		/* its recipients are in the table */
} POLICYD_PENDING;

void	policyd_pending_init(POLICYD_PENDING *p);
void	policyd_pending_clear(POLICYD_PENDING *p);
/* Remember a recipient of instance (a new instance drops the old list). */
void	policyd_pending_add(POLICYD_PENDING *p, const POLICYD_RULES *r,
			            const char *instance, const char *sender,
			            const char *recipient);
/* Is this list for instance? */
int	policyd_pending_match(const POLICYD_PENDING *p, const char *instance);
/* Count the list (asynchronously, no fsync wait) and clear it; returns
 * how many recipients were queued. */
size_t	policyd_pending_commit(POLICYD_PENDING *p, POLICYD_RULES *r, STORE *st,
			               time_t now);
/* Its recipients no longer count as in flight (the list stays). */
void	policyd_pending_settle(POLICYD_PENDING *p);
/* Is recipient in the list of instance already? */
int	policyd_pending_has(const POLICYD_PENDING *p, const char *instance,
			            const char *recipient);
/* Messages to recipient in some list of this process (passed at RCPT,
 * not yet handed to the writer). */
long	policyd_inflight(const char *recipient);
/* Hold the table across a look and an add (several event loops). */
void	policyd_inflight_lock(void);
void	policyd_inflight_unlock(void);
/* Counts cannot be committed: caps cannot hold (see policyd_counter.c). */
int	policyd_count_failing(STORE *st, time_t now);
void	policyd_count_forget(void);	/* at exit, after the store is closed */
/* Count one recipient at once. */
/* Counts wait in the calling thread until this hands them to the writer
 * (an event loop: once per turn). */
void	policyd_count_flush(STORE *st);
void	policyd_count_one(POLICYD_RULES *r, STORE *st, const char *sender,
			          const char *recipient, time_t now);

#endif
