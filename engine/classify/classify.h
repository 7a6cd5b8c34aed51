#ifndef PD_CLASSIFY_H
#define PD_CLASSIFY_H

/*
 * classify - what an inbound message is: a bounce (RFC 3464 or one of the
 * many non-standard texts), an auto-reply (RFC 3834, vacation), a complaint
 * (ARF, RFC 5965), a read receipt (MDN, RFC 8098), a human reply, or other.
 *
 * classify_message() reads only the message text, never where it came from.
 * It is thread-safe and never logs; the caller decides what to do.
 */
#include <stddef.h>

#include "util/strbuf.h"
#include "config/config.h"

typedef enum {
	CLASSIFY_OTHER,
	CLASSIFY_BOUNCE,
	CLASSIFY_AUTOREPLY,
	CLASSIFY_COMPLAINT,
	CLASSIFY_REPLY,
	CLASSIFY_MDN
} CLASSIFY_KIND;

typedef enum {
	CLASSIFY_NONE,				/* not a failure */
	CLASSIFY_HARD,				/* the address will not work again */
	CLASSIFY_SOFT				/* may work later */
} CLASSIFY_CLASS;

typedef struct CLASSIFY_RCPT {
	char	recipient[255];			/* lower case */
	char	status[16];			/* x.y.z or "" */
	CLASSIFY_CLASS class;
	char	reason[32];			/* Sisimai reason name */
	char	diagnostic[512];		/* remote SMTP reply / diagnostic, one line */
	char	remote_mta[256];
	char	action[16];			/* DSN Action: failed, delayed, ... or "" */
	char	rule[48];			/* what decided the reason (bounce-reasons(5)) */
} CLASSIFY_RCPT;

typedef struct CLASSIFY_RESULT {
	CLASSIFY_KIND kind;
	CLASSIFY_RCPT *rcpt;			/* failed / complaining / auto-replying */
	size_t	nrcpt;
	char	orig_message_id[256];		/* of the original, without <> */
	char	orig_return_path[256];		/* envelope sender of the original */
	char	from[256];			/* author address, lower case */
	char	in_reply_to[256];		/* without <> */
	char	subject[256];			/* decoded, UTF-8 */
	char  **references;			/* In-Reply-To + References, no <> */
	size_t	nreferences;
	char	feedback_type[32];		/* ARF: abuse, fraud, ... */
	char	mdn_disposition[64];		/* MDN: displayed, deleted, ... */
	char	new_address[256];		/* auto-reply: "I have left, write
						 * to ..." (lower case) or "" */
} CLASSIFY_RESULT;

/* Upper bounds on what one message may make us do. */
#define CLASSIFY_MAX_RCPT	100		/* recipient rows kept */
#define CLASSIFY_MAX_REFS	50		/* references kept */
#define CLASSIFY_MAX_TEXT	(64 * 1024)	/* report text examined */

/* Classify one message (RFC 5322 text, LF or CRLF lines, optionally with an
 * mbox "From " line first). Fills res, which owns its memory until the
 * caller releases it with classify_free(). Returns 0, or -1 when data is
 * not a message at all (res is then kind OTHER with nothing in it, and
 * still safe to free). The whole input is parsed: callers bound its size
 * (the milter by its message size limit). */
int	classify_message(const char *data, size_t len, CLASSIFY_RESULT *res);
void	classify_free(CLASSIFY_RESULT *res);

/* A reply an SMTP server gave us (the injector) as a DSN row would be:
 * status (the enhanced code, or x.0.0), class and reason; command is the
 * one it answered ("RCPT TO", "DATA", "end of DATA"). classify_reply.c */
void	classify_reply(const char *reply, const char *command,
		               const char *recipient, CLASSIFY_RCPT *row);

/* The phrase vocabulary of reasons (classify_vocab.c, bounce-reasons(5)). */
int	classify_reasons_load(const char *path, int optional, STRBUF *errs);
int	classify_reasons_check(const char *path, STRBUF *errs);
int	classify_reasons_config(const CONFIG *cf, char **err);

const char *classify_kind_name(CLASSIFY_KIND kind);
const char *classify_class_name(CLASSIFY_CLASS class);

#endif
