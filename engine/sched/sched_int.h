#ifndef PD_SCHED_INT_H
#define PD_SCHED_INT_H

/*
 * sched_int - what the files of the scheduler share (sched.c, sched_run.c,
 * sched_follow.c, sched_send.c, sched_webhook.c). Not for other modules.
 */
#include "sched/scheduler.h"
#include "sched/inject.h"
#include "caps/caps.h"
#include "util/strbuf.h"
#include "util/addr.h"
#include "classify/classify.h"
#include "signal/signal.h"

#define SCHED_EV_MAX	16		/* events one transition may append */

typedef struct SCHED_EV {
	char	type[48];
	json_t *data;			/* owned */
} SCHED_EV;

/* A message waiting for injection in this round. */
typedef struct SCHED_PEND {
	struct SCHED *s;
	SCHED_ENROL e;			/* as stored with the message parked */
	char	addr[ADDR_MAX + 1];	/* the contact's, for the log */
	SCHED_OUT out;
	INJECT_MSG msg;
	volatile int committed;		/* the parking is durable */
} SCHED_PEND;

struct SCHED {
	STORE  *st;
	CONFIG *cf;
	WORKFLOW_SET *wfs;
	TOKENS *tk;
	INJECT *inj;			/* made on first send */
	SCHED_LOG log;
	void   *logctx;
	volatile sig_atomic_t *stop;	/* end the tick after this round */
	size_t	batch;			/* engine_batch_size */
	long	backoff[16];		/* engine_retry_backoff, seconds */
	int	nbackoff;
	long	retry_limit;		/* engine_retry_limit, seconds */
	CAPS   *caps;			/* the policy daemon's rules (caps.h) */
	int	caps_n[8];		/* frequency_caps: count ... */
	long	caps_period[8];		/* ... per period */
	int	ncaps;
	SCHED_STATS *stats;		/* of the running tick */
	time_t	now;			/* of the running tick */
	SCHED_PEND **pend;
	size_t	npend, apend;
	uint64_t msgno_pool[64];	/* reserved message numbers */
	int	nmsgno;
	size_t	reserve_hint;		/* jobs left in this round */
	volatile int write_failed;	/* a queued transition failed */
	STRBUF	txnlog;			/* decisions of a transaction under way */
	uint64_t *later_id;		/* webhook jobs run after the round's sends */
	time_t *later_due;
	size_t	nlater;
	SIG_PARAMS sig;			/* soft_bounce_limit, soft_bounce_window */
};

/* A refusal at injection, recorded as a bounce of the message (the same
 * rules as a DSN that comes back by mail: signal_apply()). */
typedef struct SCHED_BOUNCE {
	SIG_MSG	m;
	CLASSIFY_RESULT cr;
	CLASSIFY_RCPT row;
	SIG_PARAMS params;
	char	message_id[256];
	char	rcpt[256];
} SCHED_BOUNCE;

/* A change of one enrolment, committed in one transaction. The enrolment
 * is compared with "before" inside the transaction: if another change got
 * there first, nothing is written and the result is STORE_EXISTS. */
typedef struct SCHED_TR {
	SCHED  *s;
	SCHED_ENROL before;		/* id 0: a new enrolment */
	SCHED_ENROL after;		/* due is ignored; see due */
	time_t	due;			/* the job of "after" (0: none) */
	int	nev;
	SCHED_EV ev[SCHED_EV_MAX];
	int	has_sent;
	STORE_SENT sent;		/* msgno already reserved */
	const SCHED_OUT *out_put;	/* park this message */
	int	out_del;		/* remove the parked message */
	/* A change of the contact made inside the transaction, so that it is
	 * applied to the current record; it may append events. */
	int	(*contact_op) (struct SCHED_TR *tr, json_t *contact);
	const WF_STEP *step;
	json_t *values;			/* owned: the fields that sched_op_set()
					 * sets (a rendered set, a webhook's
					 * answer); NULL: step->values */
	const char *suppress;		/* suppress the contact with this reason */
	int	nev_base;		/* events before contact_op (replays) */
	volatile int *committed;	/* set to 1 after a successful commit */
	STRBUF	log;			/* decision lines, logged after commit */
	SCHED_BOUNCE *bounce;		/* owned: record this refusal as a bounce */
	const char *counter;		/* SCHED_COUNT_*: add one */
} SCHED_TR;

/* sched_kernel.c */
void	sched_log(SCHED *s, int warn, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));
/* Decisions made inside a write transaction are logged only once it has
 * committed (a failed batch is replayed, and must not log twice):
 * sched_log_txn() keeps a line, sched_txnlog_reset() starts the
 * transaction function, sched_txnlog_flush() follows store_write(). */
void	sched_log_txn(SCHED *s, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));
void	sched_txnlog_reset(SCHED *s);
/* The contact's address for a log line (beside its id): from rec, else
 * read in txn; "" when neither has it. Returns buf (ADDR_MAX + 1 bytes). */
const char *sched_addr(STORE_TXN *txn, uint64_t contact, const json_t *rec, char *buf);
void	sched_txnlog_flush(SCHED *s, int status);
void	sched_tr_init(SCHED_TR *tr, SCHED *s, const SCHED_ENROL *e);
/* A decision of a queued transition: logged once it has committed, never
 * when it is dropped as stale or cannot be written. */
void	sched_tr_log(SCHED_TR *tr, int warn, const char *fmt,...)
	__attribute__((format(printf, 3, 4)));
void	sched_tr_event(SCHED_TR *tr, const char *type, json_t *data);
/* Queue the transition for the store's group commit (the events move
 * with it). e, when not NULL, becomes the enrolment as it will be stored.
 * Returns 1 when the enrolment is to run its next step at once. The
 * commit is durable after store_flush(); a stale transition is dropped
 * by the writer. */
int	sched_commit(SCHED_TR *tr, SCHED_ENROL *e);
/* The same inside a write transaction that the caller runs; the caller
 * frees the transition after (sched_tr_free). */
int	sched_tr_apply(STORE_TXN *txn, SCHED_TR *tr);
void	sched_tr_free(SCHED_TR *tr);
/* Move an enrolment to step index next (WF_END: it is done). */
void	sched_goto(SCHED *s, SCHED_TR *tr, const WORKFLOW *wf, int next);
void	sched_end(SCHED *s, SCHED_TR *tr, int state, const char *reason);
/* Facts for conditions, read in txn. */
typedef struct SCHED_FACTS {
	WF_FACTS f;
	STORE_TXN *txn;
	uint64_t contact;
} SCHED_FACTS;
void	sched_facts_init(SCHED_FACTS *sf, SCHED *s, STORE_TXN *txn,
			         json_t *contact, time_t since);
/* Enrol inside a write transaction (follower, dates, inactivity). */
int	sched_enrol_txn(SCHED *s, STORE_TXN *txn, const WORKFLOW *wf,
			        uint64_t contact, json_t *rec, uint64_t trigger_seq,
			        time_t first_due, uint64_t *id);
time_t	sched_backoff(SCHED *s, uint32_t attempts);

/* sched_follow.c */
int	sched_follow(SCHED *s, size_t *n);
int	sched_dates(SCHED *s);
int	sched_inactive(SCHED *s, size_t *n);

/* sched_run.c */
int	sched_run_due(SCHED *s, size_t *n);
/* contact_op of a set step: tr->values (or the step's) on the contact;
 * a field_changed event per change. Returns the number of changes. */
int	sched_op_set(SCHED_TR *tr, json_t *contact);
int	sched_run_later(SCHED *s);

/* sched_send.c: each returns 1 when the enrolment went on to another step
 * (run it now), 0 when it stopped (waiting or queued for injection). */
int	sched_step_send(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e,
			        const WORKFLOW *wf, const WF_STEP *st, json_t *contact);
int	sched_step_notify(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e,
			          const WORKFLOW *wf, const WF_STEP *st, json_t *contact);
/* The context a template sees: contact, owner, tags, clicked, event. */
json_t *sched_context(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e,
			      const WF_STEP *st, json_t *contact);
void	sched_queue_parked(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e);
int	sched_inject_round(SCHED *s);
/* Caps: the first time >= now at which one more marketing send to addr
 * is within every frequency cap and domain rate (now when it is). */
time_t	sched_caps_next(SCHED *s, STORE_TXN *txn, uint64_t contact,
			        const char *addr, time_t now);

/* sched_webhook.c */
/* Render, in place, the strings of v that hold "{{" as Mustache templates
 * against ctx (sched_context()). -1 with *err (to free) on a bad one. */
int	sched_render_json(json_t *v, json_t *ctx, char **err);
int	sched_step_webhook(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e,
			           const WORKFLOW *wf, const WF_STEP *st, json_t *contact);

#endif
