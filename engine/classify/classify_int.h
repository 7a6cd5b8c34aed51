#ifndef PD_CLASSIFY_INT_H
#define PD_CLASSIFY_INT_H

/*
 * classify_int - what the parts of the classifier share. Not for callers.
 */
#include <stddef.h>

#include "util/strbuf.h"
#include "classify/classify.h"

/* Bounds on each collected piece, so that a hostile message costs a fixed
 * amount of work whatever its size. */
#define CLASSIFY_MAX_PARTS	200		/* MIME parts visited */
#define CLASSIFY_MAX_DEPTH	10		/* nesting of multiparts/messages */
#define CLASSIFY_MAX_FIELDS	(32 * 1024)	/* DSN / ARF / MDN fields */
#define CLASSIFY_MAX_ORIG	(16 * 1024)	/* original message headers */

typedef struct CLASSIFY_CTX {
	CLASSIFY_RESULT *res;
	struct CLASSIFY_TLS *tls;		/* kept by the thread (classify.c) */
	/* Top-level header facts. */
	char	from_name[128];			/* display name of From */
	char	to[256];			/* first To address, lower case */
	char	return_path[256];
	char	auto_submitted[64];
	char	precedence[32];
	char	report_type[64];		/* multipart/report; report-type= */
	char	content_type[64];		/* top-level type/subtype */
	int	x_autoreply;			/* X-Autoreply, X-Autorespond, ... */
	int	list_header;			/* List-Id / List-Unsubscribe */
	int	unsubscribe_request;		/* a mail client's unsubscribe message */
	int	has_orig_part;			/* message/rfc822 or rfc822-headers */
	STRBUF	failed;				/* X-Failed-Recipients values */
	STRBUF	text;				/* human-readable text, UTF-8 */
	char   *low;				/* text in lower case, same length */
	STRBUF	dsn;				/* delivery-status fields */
	STRBUF	arf;				/* feedback-report fields */
	STRBUF	mdn;				/* disposition-notification fields */
	STRBUF	orig;				/* headers of the original message */
	size_t	text_cut;			/* report text ends here */
	size_t	orig_start;			/* an inline original starts here */
	int	nparts;
} CLASSIFY_CTX;

/* classify_text.c: text helpers shared by the other parts. */
extern const char *classify_find_addr(const char *text, const char *end,
				              const char **start, size_t *len);
extern int classify_addr_copy(char *buf, size_t size, const char *addr, size_t len);
extern int classify_first_addr(const char *text, char *buf, size_t size);
extern int classify_find_status(const char *text, char *buf, size_t size);
extern const char *classify_field(const char *block, const char *name,
				          size_t *len);
extern void classify_copy_field(const char *block, const char *name,
				        char *buf, size_t size);
extern void classify_oneline(char *buf, size_t size, const char *text,
			             size_t len);
extern const char *classify_icase(const char *hay, size_t haylen,
				          const char *needle);
extern void classify_copy(char *dst, size_t size, const char *src);
extern void classify_strip_id(char *buf, size_t size, const char *text);
extern int classify_is_admin_addr(const char *addr);

/* classify_rcpt.c: result rows. */
extern CLASSIFY_RCPT *classify_add_rcpt(CLASSIFY_RESULT *res, const char *addr);
extern CLASSIFY_RCPT *classify_find_rcpt(CLASSIFY_RESULT *res, const char *addr);

/* classify_dsn.c: delivery reports, standard and not. */
extern int classify_dsn(CLASSIFY_CTX *ctx, const char *fields, size_t len);
extern int classify_text_bounce(CLASSIFY_CTX *ctx);
extern int classify_looks_bounce(CLASSIFY_CTX *ctx);
extern size_t classify_find_cut(const char *text, const char *low, size_t len,
				         size_t *orig_start);

/* classify_vocab.c: one entry of the phrase vocabulary. */
typedef struct CLASSIFY_PHRASE {
	const char *reason;			/* interned reason name */
	char   *tags;				/* formats the wording is from */
	char   *phrase;				/* lower case, one line */
	size_t	len;
	int	gaps;				/* " * " in the pattern */
	int	line;				/* in the vocabulary file */
	unsigned first, last;			/* first and last 3 bytes, hashed */
} CLASSIFY_PHRASE;

extern const CLASSIFY_PHRASE *classify_vocab_match(const char *text);

/* classify_reason.c: status and wording to reason and class. */
extern void classify_reason(CLASSIFY_RCPT *rcpt, const char *context,
			            const char *report, size_t report_len);

/* classify_json.c: JSON notices of sending services. */
extern int classify_json(CLASSIFY_CTX *ctx);

/* classify_auto.c: auto-replies, complaints, read receipts. */
extern int classify_autoreply(CLASSIFY_CTX *ctx);
extern int classify_arf(CLASSIFY_CTX *ctx);
extern int classify_mdn(CLASSIFY_CTX *ctx);

#endif
