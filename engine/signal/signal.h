#ifndef PD_SIGNAL_H
#define PD_SIGNAL_H

/*
 * signal - what an inbound signal or an outbound send does in the
 * store (see signal.c): the one place for the rules of tying (token,
 * Message-ID, In-Reply-To/References, recipient, author), recording and
 * suppression. No libmilter here: the milter, the LMTP receiver and the
 * tracker gather the facts (a classified message, and where it came from),
 * these functions tie them to a contact and record them in one durable
 * write, and tell the caller what happened so that it can answer Postfix
 * (or the web) and log.
 */
#include <stdint.h>
#include <time.h>

#include "util/addr.h"
#include "classify/classify.h"
#include "store/store.h"
#include "token/tokens.h"
#include "token/verp.h"
#include "signal/spf.h"

typedef enum {
	SIG_BOUNCE,			/* a delivery failure report */
	SIG_COMPLAINT,			/* an ARF feedback report */
	SIG_AUTOREPLY,			/* RFC 3834 / vacation */
	SIG_OPEN,			/* an MDN read receipt */
	SIG_UNSUBSCRIBE,		/* mail to unsubscribe+TOKEN */
	SIG_REPLY,			/* a human message answering ours */
} SIG_KIND;

typedef struct SIG_PARAMS {
	int	soft_limit;		/* soft bounces that suppress ... */
	long	soft_window;		/* ... within this many seconds */
	int	forward_owner;		/* report the owner of a replying contact */
} SIG_PARAMS;

#define SIG_OUT_MAX	CLASSIFY_MAX_RCPT

/* One recorded event. Strings are static or point into SIG_MSG's input. */
typedef struct SIG_OUT {
	uint64_t contact;
	char	address[ADDR_MAX + 1];	/* the contact's address */
	const char *event;		/* event type recorded */
	const char *tie;		/* token, message-id, references,
					 * recipient, from */
	const char *suppressed;		/* suppression reason set now, or 0 */
	const char *why;		/* unverified / forged: why, or 0 */
	int	soft_count;		/* soft bounces in the window, this one
					 * included (soft bounces only) */
	const CLASSIFY_RCPT *row;	/* report row used, or 0 */
	STORE_SENT sent;		/* the message it answers, when known */
	int	have_sent;
	char	owner[ADDR_MAX + 1];	/* replied: forward to this, or "" */
} SIG_OUT;

typedef struct SIG_MSG {
	/* What the milter saw. */
	SIG_KIND kind;
	const char *queue_id;		/* for event data and suppression source */
	const CLASSIFY_RESULT *cr;	/* the classified message */
	int	have_token;		/* a verified token names the contact */
	TOKEN	token;
	int	bad_token;		/* an address of ours with a token that
					 * does not verify (added field) */
	const char *from;		/* author address (normalized), or "" */
	const char *spf;		/* SPF result of the From domain, or 0
					 * (then signal_record() checks it with
					 * spf_server when that is set) */
	int	strict;			/* tie only by token or Message-ID: the
					 * mail did not come to our address */
	time_t	now;
	const SIG_PARAMS *params;
	/* Where it came from (added fields; all optional). */
	const char *client_addr;	/* connecting client's IP address */
	const char *helo;		/* its HELO name */
	const char *mail_from;		/* envelope sender, "" for <> */
	SIGNAL_SPF *spf_server;		/* to check SPF of the From domain */
	/* What was done (reset on each run of the write). */
	SIG_OUT out[SIG_OUT_MAX];
	size_t	nout;
} SIG_MSG;

/*
 * Facts for SIG_MSG, the same for every caller (the milter, the LMTP
 * receiver): what a classified message is, given the kind of address of
 * ours it came to (VERP_NONE: none) and whether it names a message of
 * ours; 0 when it is no signal.
 */
int	signal_kind_of(const CLASSIFY_RESULT *cr, VERP_KIND to, int answers_ours,
		               SIG_KIND *kind);

/*
 * The token of an address of ours that the message came to: sets
 * m->have_token and m->token when it verifies, else m->bad_token (a
 * prefix of ours with a token that does not verify). Returns the
 * verp_verify() result, *kind the address's kind. Call it for each
 * envelope recipient on the bounce domain until one verifies, then
 * signal_token_report().
 */
int	signal_token_rcpt(SIG_MSG *m, const VERP *verp, const TOKENS *tk,
			          const char *addr, VERP_KIND *kind);

/* Without a verified token so far: the original return path shown inside
 * a report (a complaint, or a bounce relayed elsewhere). */
void	signal_token_report(SIG_MSG *m, const VERP *verp, const TOKENS *tk,
			            const CLASSIFY_RESULT *cr);

/* Tie and record in one durable write. STORE_OK (m->nout may be 0: nothing
 * could be tied), or STORE_RETRY: nothing was recorded, tempfail. */
int	signal_record(STORE *st, SIG_MSG *m);

/* The write operation itself (a STORE_WFN; exposed for tests). */
int	signal_apply(STORE_TXN *txn, void *ctx);

/* Is an SPF result bad enough to call the author forged? */
int	signal_spf_fails(const char *spf);

/* SPF aligned with the author, as DMARC does: check_host() for the From
 * address's domain and the connecting client. "none" without a checker. */
const char *signal_spf_author(SIGNAL_SPF *spf, const char *client_addr,
			              const char *helo, const char *from);

const char *signal_kind_name(SIG_KIND kind);

/*
 * Outbound: a marketing message passing through Postfix.
 */
typedef struct SENT_MSG {
	/* What the milter saw. */
	const char *queue_id;
	const char *message_id;		/* without <> */
	const char *workflow, *step;	/* X-Postdrip-Workflow / -Step, or "" */
	const char *stream;		/* marketing / transactional */
	int	have_token;		/* from a VERP MAIL FROM */
	TOKEN	token;
	const char *rcpt;		/* the one recipient, or 0 when several */
	int	no_create;		/* a recipient who is not a contact
					 * stays none (contact 0) */
	time_t	now;
	/* What was done. */
	int	duplicate;		/* proven a re-injection: drop this copy */
	int	reused;			/* the Message-ID was seen before, and
					 * this is not proven a re-injection
					 * of the same send: delivered */
	int	recorded;		/* a new STORE_SENT was made */
	uint64_t msgno;
	uint64_t contact;
	char	first_queue_id[32];	/* duplicate: the queue id of the first */
} SENT_MSG;

/*
 * Record the send (STORE_SENT when the engine did not already) and its
 * "handed to Postfix" mark, or find that the mark is there already.
 * STORE_OK or STORE_RETRY.
 */
int	signal_sent(STORE *st, SENT_MSG *m);
int	signal_sent_apply(STORE_TXN *txn, void *ctx);

/* The "handed to Postfix" marks are the store's (store_mark.c). */
#define SIG_HANDED_PREFIX	STORE_MARK_PREFIX
#define SIG_HANDED_MAX_AGE	STORE_MARK_MAX_AGE
#define SIG_HANDED_SWEEP	STORE_MARK_SWEEP

#endif
