#ifndef PD_SIGNAL_WEB_H
#define PD_SIGNAL_WEB_H

/*
 * signal_web - what the HTTP tracker records (see signal_web.c): opens,
 * clicks, unsubscribes, re-subscriptions, preference changes, opt-in
 * requests and consent, and external events of the events API. Each is one
 * durable write; the tracker answers only after it returns.
 */
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "util/addr.h"
#include "store/store.h"
#include "token/tokens.h"

typedef enum {
	WEB_OPEN,			/* pixel */
	WEB_CLICK,			/* redirect */
	WEB_UNSUB,			/* one-click or page: suppress */
	WEB_RESUB,			/* lift an unsubscribe */
	WEB_PREFS,			/* per-list preferences */
	WEB_SUBSCRIBE,			/* opt-in request: contact pending */
	WEB_CONSENT,			/* confirmed opt-in */
	WEB_EVENT,			/* events API */
	WEB_CONTACT,			/* contacts API: create or update */
} WEB_KIND;

typedef struct WEB_SIG {
	WEB_KIND kind;
	/* Who: a verified token, else an address. */
	int	have_token;
	TOKEN	token;
	const char *address;
	/* What. */
	const char *type;		/* WEB_EVENT: event type recorded */
	json_t *data;			/* event data (not stolen; may be 0) */
	/* Opens and clicks: the request, borrowed; their data is made from
	 * these in the writer (beside a copy of data, if any). */
	const char *user_agent;		/* or 0 */
	const char *client;		/* or 0 */
	const char *proxy;		/* image proxy, or 0 */
	const char *link;		/* click: link name */
	const char *url;		/* click: target */
	uint32_t link_number;		/* click: link number */
	json_t *fields;			/* WEB_CONTACT: fields to set; WEB_PREFS:
					 * {"list": true|false} */
	const char *idem_key;		/* Idempotency-Key, or 0 */
	int	machine;		/* open/click labelled as a machine */
	const char *machine_reason;	/* the rule that said so */
	long	open_window;		/* an open sooner after the send ... */
	long	click_window;		/* ... or a click: a machine (0: off) */
	int	honeypot;		/* a click on the hidden honeypot link */
	long	honeypot_window;	/* its message's opens and clicks this
					 * soon before it become a machine's */
	time_t	now;
	/* What was done (reset on each run of the write). */
	uint64_t contact;
	char	addr[ADDR_MAX + 1];		/* "" for opens and clicks */
	int	have_sent;
	STORE_SENT sent;
	int	duplicate;		/* idempotency key seen: nothing done */
	int	created;		/* a new contact */
	int	changed;		/* something was recorded */
	uint64_t seq;			/* the main event's sequence number */
	const char *result;		/* short word for the log */
	int	labelled;		/* machine, after the timing rule */
	const char *label_reason;	/* its rule, or 0 */
	int	relabelled;		/* earlier events made a machine's */
} WEB_SIG;

/* Look up the contact and sent message of a token, for labelling and
 * pages: STORE_OK, STORE_NOTFOUND (no such contact) or STORE_RETRY. */
int	signal_web_lookup(STORE *st, const TOKEN *t, json_t **contact,
			          STORE_SENT *sent, int *have_sent,
			          STORE_SUPPRESSION *sup, int *suppressed);

/* Record in one durable write: STORE_OK, STORE_NOTFOUND (the token's
 * contact is gone; an API event names no address), STORE_CONFIG (bad
 * address) or STORE_RETRY (nothing recorded: answer 5xx). */
int	signal_web_record(STORE *st, WEB_SIG *w);
int	signal_web_apply(STORE_TXN *txn, void *ctx);

/* The contact's lists, made an array in rec["lists"] (from the field
 * "lists" when needed); borrowed reference. */
json_t *signal_web_lists(json_t *rec);

/* The prefix of idempotency records in STORE_DB_MISC. */
#define SIGWEB_IDEM_PREFIX	"web.idem:"
#define SIGWEB_IDEM_MAX		200	/* longest Idempotency-Key */
/* The mark of a message's first human open, in STORE_DB_MISC. */
#define SIGWEB_OPENED_PREFIX	"web.opened:"
/* Events relabelled by one honeypot click, at most. */
#define SIGWEB_RELABEL_MAX	256

#endif
