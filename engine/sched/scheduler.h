#ifndef PD_SCHEDULER_H
#define PD_SCHEDULER_H

/*
 * sched - running workflows: enrolments, the schedule, triggers, steps and
 * the sends they make (the heart of postdrip-engine).
 *
 * State, all in the store:
 *   STORE_DB_ENROL	enrolment id(8) -> SCHED_ENROL (sched_store.c encoding)
 *   STORE_DB_ENROL_IDX	contact(8) workflow\0 -> latest enrolment id(8)
 *   STORE_DB_SCHEDULE	due(8) enrolment id(8) -> ""; an enrolment has at
 *			most one pending job, and its (due) is kept in the
 *			enrolment so the job can be moved or removed
 *   STORE_DB_META	"sched.events" (event cursor), "sched.day" (1 + the
 *			last day whose date triggers were fired, in days
 *			since the epoch), "sched.inactive.WF" and
 *			"sched.inactivec.WF" (inactivity cursor: time and
 *			contact); "enrolment" is the id sequence
 *   STORE_DB_MISC	"eng\0" time(8) contact(8) -> "" and "engc\0"
 *			contact(8) -> time(8): last engagement (inactivity);
 *			"out\0" enrolment(8) -> a message waiting for
 *			injection; "seg\0" segment\0 contact(8) -> "";
 *			"abp\0" workflow\0 step\0 -> arm: the arm of an A/B
 *			split promoted by "postdrip workflow promote".
 *
 * A tick (sched_tick) follows new events (triggers, exits, awakened waits),
 * fires date and inactivity triggers from their indexes, then runs the jobs
 * that are due: it reads the schedule from the start up to now, so its cost
 * is in proportion to the work due, never to the number of contacts.
 *
 * Crash safety of a send, in three steps:
 *   1. one transaction records the send (store_sent_put with the
 *	deterministic Message-ID <e.ENROL.N.HMAC@domain>, where N counts the
 *	steps the enrolment has run), appends the "sent" event, stores the
 *	composed message in the outbox and moves the job to "inject now";
 *   2. only after that commit is the message injected;
 *   3. one transaction records the outcome (removes the outbox entry and
 *	moves the enrolment to its next step, or reschedules with backoff).
 * Killed between 1 and 3, the engine finds the outbox entry on restart and
 * injects the very same bytes with the same Message-ID; a duplicate that
 * Postfix had already accepted is then dropped by the milter by Message-ID.
 * Killed before 1 commits, nothing was recorded and the step runs again.
 * So the engine never composes a step twice and never loses one.
 *
 * Results are STORE_* codes. The library does not log decisions: every
 * decision goes to the SCHED's log callback (the program logs it).
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "store/store.h"
#include "config/config.h"
#include "token/tokens.h"
#include "workflow/workflow.h"

/* Enrolment states. */
#define SCHED_ACTIVE	1		/* has a pending job */
#define SCHED_WAITING	2		/* waiting for an event (and a timeout job) */
#define SCHED_DONE	3		/* ran to its end */
#define SCHED_EXITED	4		/* ended by an exit rule or an error */

/* Phases of the current step. */
#define SCHED_PH_START	0		/* the step has not begun */
#define SCHED_PH_WAIT	1		/* a wait is running (timer job) */
#define SCHED_PH_INJECT	2		/* a message is in the outbox */

typedef struct SCHED_ENROL {
	uint64_t id;
	uint64_t contact;
	char	workflow[WF_ID_MAX];
	char	step[WF_ID_MAX];	/* current step id ("" when ended) */
	int	state;
	int	phase;
	uint32_t attempts;		/* retries of the current step */
	uint32_t nsteps;		/* steps begun so far (Message-ID part) */
	time_t	started;
	time_t	updated;
	time_t	due;			/* the pending job's time (0: none) */
	time_t	wait_since;		/* WAIT_FOR: events at or after count */
	uint64_t trigger_seq;		/* the event that enrolled, then the one
					 * that woke a wait_for: {{event}} (0: none) */
	char	reason[48];		/* why it ended */
} SCHED_ENROL;

/*
 * Store layer (sched_store.c). Readers work in any transaction, writers
 * inside a store_write() function.
 */
int	sched_enrol_get(STORE_TXN *txn, uint64_t id, SCHED_ENROL *e);
/* The latest enrolment of contact in workflow: OK or NOTFOUND. */
int	sched_enrol_find(STORE_TXN *txn, uint64_t contact, const char *workflow,
			         SCHED_ENROL *e);
/* Write: store e (assigning e->id when 0) and its index entry. */
int	sched_enrol_put(STORE_TXN *txn, SCHED_ENROL *e);
/* Write: move e's job to due (0 removes it); updates e, not stored. */
int	sched_job_set(STORE_TXN *txn, SCHED_ENROL *e, time_t due);
/* Up to max enrolment ids whose job is due at or before now, earliest
 * first, with the due times (dues may be NULL); returns the count. */
size_t	sched_due(STORE_TXN *txn, time_t now, uint64_t *ids, time_t *dues,
		          size_t max);
/* Write: remove a schedule entry by its key (a stale one). */
int	sched_job_del(STORE_TXN *txn, time_t due, uint64_t id);
/* Held enrolments (postdrip queue --hold): the scheduler runs no job of
 * one; due is the time its job had (0: none). get: OK or NOTFOUND; del:
 * OK or NOTFOUND; walk: fn returns non-zero to stop. */
int	sched_hold_get(STORE_TXN *txn, uint64_t id, time_t *due);
int	sched_hold_put(STORE_TXN *txn, uint64_t id, time_t due);
int	sched_hold_del(STORE_TXN *txn, uint64_t id);
int	sched_hold_walk(STORE_TXN *txn, int (*fn) (uint64_t id, time_t due, void *ctx),
			        void *ctx);
/* Time of the earliest job, or 0 when the schedule is empty. */
time_t	sched_next_due(STORE_TXN *txn);
/* The enrolments of a contact (latest per workflow); fn returns non-zero to
 * stop. */
int	sched_enrol_walk(STORE_TXN *txn, uint64_t contact,
			         int (*fn) (SCHED_ENROL *e, void *ctx), void *ctx);
/* Counters in META ("sched.events", ...): 0 when never set. */
uint64_t sched_meta_get(STORE_TXN *txn, const char *name);
int	sched_meta_put(STORE_TXN *txn, const char *name, uint64_t value);
/* Injection outcomes counted in META (shown by "postdrip stats"):
 * accepted by the MTA, refused (5xx, recorded as a bounce), deferred
 * (each 4xx or unreachable attempt), failed (retried past the limit). */
#define SCHED_COUNT_SENT	"engine.injected"
#define SCHED_COUNT_REFUSED	"engine.refused"
#define SCHED_COUNT_DEFERRED	"engine.deferred"
#define SCHED_COUNT_FAILED	"engine.failed"
/* Engagement index: write the contact's last engagement time. */
/* A/B splits: the arm promoted at (workflow, step), copied to arm (len
 * bytes with the null); STORE_NOTFOUND when the test still runs. put with
 * arm NULL removes the promotion (STORE_NOTFOUND when there was none). */
int	sched_promote_get(STORE_TXN *txn, const char *workflow, const char *step,
			          char *arm, size_t len);
int	sched_promote_put(STORE_TXN *txn, const char *workflow, const char *step,
			          const char *arm);
int	sched_engage_touch(STORE_TXN *txn, uint64_t contact, time_t when);
int	sched_engage_get(STORE_TXN *txn, uint64_t contact, time_t *when);
/* Contacts whose last engagement lies in (after, upto], in time order,
 * starting after the position (after, after_contact); fn returns non-zero
 * to stop. Returns the number visited. */
size_t	sched_engage_range(STORE_TXN *txn, time_t after, uint64_t after_contact,
			           time_t upto, int (*fn) (time_t t, uint64_t contact,
							           void *ctx), void *ctx);
/* Outbox: one message per enrolment waiting for injection. */
typedef struct SCHED_OUT {
	char   *sender;
	char   *rcpt;
	char   *message_id;
	char   *data;
	size_t	len;
	int	kind;			/* SCHED_OUT_SEND, SCHED_OUT_NOTIFY */
} SCHED_OUT;

#define SCHED_OUT_SEND		1
#define SCHED_OUT_NOTIFY	2

int	sched_out_put(STORE_TXN *txn, uint64_t enrol, const SCHED_OUT *o);
int	sched_out_get(STORE_TXN *txn, uint64_t enrol, SCHED_OUT *o);	/* copies */
int	sched_out_del(STORE_TXN *txn, uint64_t enrol);
void	sched_out_free(SCHED_OUT *o);

/* Date index (STORE_DB_DATEIDX) walk: contacts whose field falls on day,
 * "AMMDD" (any year) or "DYYYYMMDD" (that date). fn returns non-zero to
 * stop. */
int	sched_dateidx_walk(STORE_TXN *txn, const char *day, const char *field,
			           int (*fn) (uint64_t contact, void *ctx), void *ctx);

/*
 * The engine (sched.c and friends).
 */
typedef struct SCHED SCHED;

typedef void (*SCHED_LOG) (void *ctx, int warn, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));

typedef struct SCHED_STATS {
	size_t	events;			/* events followed */
	size_t	enrolled;
	size_t	jobs;			/* jobs run */
	size_t	steps;			/* steps run */
	size_t	sent;			/* messages accepted by the MTA */
	size_t	deferred;		/* 4xx or unreachable: retried later */
	size_t	refused;		/* 5xx */
	size_t	ended;			/* enrolments ended (done or exit) */
} SCHED_STATS;

/* The store, config and workflow set stay the caller's; they must outlive
 * the SCHED (sched_reload swaps config and workflows). tokens may be NULL
 * only in tests that do not send. */
SCHED  *sched_create(STORE *st, CONFIG *cf, WORKFLOW_SET *wfs, TOKENS *tk);
void	sched_reload(SCHED *s, CONFIG *cf, WORKFLOW_SET *wfs);
void	sched_set_log(SCHED *s, SCHED_LOG fn, void *ctx);
/* A flag that, once non-zero, ends a tick after the round under way. */
void	sched_set_stop(SCHED *s, volatile sig_atomic_t *stop);
void	sched_free(SCHED *s);

/* One tick at now: follow events, date and inactivity triggers, due jobs,
 * in rounds until nothing more is due at now (bounded). Adds to *stats
 * (may be NULL). STORE_OK, or STORE_RETRY when the store failed (the next
 * tick tries again; nothing is half-done). */
int	sched_tick(SCHED *s, time_t now, SCHED_STATS *stats);

/* After sched_reload(): queued jobs follow the new settings (a wait ends
 * at its start plus the new duration; a send put off by its window or a
 * cap is due at now and meets the new window again). The number moved
 * goes to *changed. STORE_OK or the store's failure. */
int	sched_retime(SCHED *s, time_t now, size_t *changed);

/* Enrol a contact at once (the CLI and tests); subject to the audience and
 * re-entry rules. STORE_OK, STORE_EXISTS (not allowed now), STORE_NOTFOUND
 * (no such workflow). */
int	sched_enrol(SCHED *s, uint64_t contact, const char *workflow,
		            time_t now, uint64_t *id);

#endif
