#ifndef PD_INJECT_H
#define PD_INJECT_H

/*
 * inject - an SMTP client that hands the engine's messages to the local
 * Postfix (inject_address).
 *
 * One INJECT holds up to "conns" SMTP connections that are kept open and
 * reused across messages. inject_batch() spreads a batch of messages over
 * those connections, one thread per connection, and returns when every
 * message has an outcome. PIPELINING is used when the server offers it.
 *
 * Outcomes, per message: INJECT_OK (the server accepted the message with a
 * 2xx after DATA), INJECT_DEFER (a 4xx reply, or our own trouble: the server
 * cannot be reached, a timeout, a broken reply; try again later), and
 * INJECT_REJECT (a 5xx reply: the server refuses this message for good).
 * A reused connection that the server closed meanwhile costs no deferral:
 * the message is sent again at once on a fresh connection.
 * The reply text is kept for the caller's log and events.
 */
#include <stddef.h>

#define INJECT_OK	0
#define INJECT_DEFER	1
#define INJECT_REJECT	2

#define INJECT_REPLY_MAX	256

typedef struct INJECT_MSG {
	const char *sender;		/* envelope sender, without <> */
	const char *rcpt;		/* envelope recipient, without <> */
	const char *data;		/* the message: LF or CRLF line ends */
	size_t	len;
	/* Called, when not NULL, as soon as this message has its outcome, in
	 * the thread of its connection (so it must be thread-safe). */
	void	(*done) (struct INJECT_MSG *m, void *ctx);
	void   *ctx;
	/* Results. */
	int	status;			/* INJECT_OK, _DEFER, _REJECT */
	char	reply[INJECT_REPLY_MAX];	/* the deciding reply, one line */
	const char *command;		/* what it answered: "MAIL FROM",
					 * "RCPT TO", "DATA", "end of DATA",
					 * or 0 (no reply: our own trouble) */
} INJECT_MSG;

typedef struct INJECT INJECT;

/* address: host:port, [host]:port, inet:host:port or unix:/path.
 * conns >= 1; timeout in seconds for each read or write; helo is the
 * name given in EHLO. Nothing is connected until the first message. */
INJECT *inject_create(const char *address, int conns, int timeout,
		              const char *helo);
void	inject_free(INJECT *inj);		/* QUITs and closes */

/* Connections idle this many seconds are closed (QUIT) before their next
 * use or by inject_idle(); 0: kept until the server closes them. */
#define INJECT_IDLE_DEFAULT	5
void	inject_set_idle(INJECT *inj, int seconds);
void	inject_idle(INJECT *inj);		/* between batches */
/* Messages sent again at once on a fresh connection after a reused one
 * was found closed (421 or broken before the end of the body). */
unsigned long inject_retries(INJECT *inj);

/* Send msgs[0..n-1]; each gets its status and reply. Returns the number
 * of messages with INJECT_OK. */
size_t	inject_batch(INJECT *inj, INJECT_MSG *msgs, size_t n);

/* Copy data to out with CRLF line ends and dot-stuffing, ending with the
 * final ".\r\n" (exposed for tests). */
struct STRBUF;
void	inject_dotstuff(struct STRBUF *out, const char *data, size_t len);

#endif
