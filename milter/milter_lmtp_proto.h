#ifndef PD_MILTER_LMTP_PROTO_H
#define PD_MILTER_LMTP_PROTO_H

/*
 * milter_lmtp_proto - the LMTP protocol of postdrip-milter's receiver
 * (milter_lmtp_proto.c): a state machine without I/O, fuzzed on its own.
 */
#include <stddef.h>

#include "util/addr.h"
#include "util/strbuf.h"

/* Bounds, from lmtp_* settings. */
typedef struct LMTP_LIMITS {
	size_t	line_max;		/* command line, CRLF included */
	size_t	size_max;		/* message bytes (SIZE) */
	size_t	rcpt_max;		/* recipients per transaction */
} LMTP_LIMITS;

#define LMTP_ERRORS_MAX		20	/* bad commands before 421 */
#define LMTP_XF_MAX		256	/* one XFORWARD value */

typedef enum {
	LMTP_ST_START,			/* before LHLO */
	LMTP_ST_READY,			/* LHLO done, no transaction */
	LMTP_ST_MAIL,			/* after MAIL FROM */
	LMTP_ST_DATA,			/* reading the message */
	LMTP_ST_QUIT,			/* the session is over */
} LMTP_STATE;

typedef struct LMTP_RCPT {
	char	addr[ADDR_MAX + 1];	/* as given in RCPT TO, without <> */
	int	kind;			/* set by the recipient check */
} LMTP_RCPT;

/* XFORWARD (Postfix's XFORWARD_README): "" when not given or unavailable. */
typedef struct LMTP_XFORWARD {
	char	name[LMTP_XF_MAX];
	char	addr[LMTP_XF_MAX];
	char	helo[LMTP_XF_MAX];
	char	proto[LMTP_XF_MAX];
	char	source[LMTP_XF_MAX];
	char	ident[LMTP_XF_MAX];
	int	seen;			/* at least one XFORWARD this transaction */
} LMTP_XFORWARD;

typedef struct LMTP_PROTO LMTP_PROTO;

/*
 * Callbacks. rcpt: 1 to accept addr (250 is then written), or 0 with a
 * full reply ("550 5.1.1 ...", no CRLF) in reply; it may set *kind.
 * data: the message is complete (p->data, p->nrcpt recipients): append
 * exactly one reply per recipient, in order, with lmtp_proto_reply().
 */
typedef int (*LMTP_RCPT_FN) (void *ctx, LMTP_PROTO *p, const char *addr,
			               int *kind, char *reply, size_t len);
typedef void (*LMTP_DATA_FN) (void *ctx, LMTP_PROTO *p);

struct LMTP_PROTO {
	LMTP_LIMITS lim;
	const char *hostname;		/* in the greeting and LHLO reply */
	LMTP_STATE state;
	char	lhlo[LMTP_XF_MAX];	/* the client's LHLO name */
	LMTP_XFORWARD xf;
	char	mail_from[ADDR_MAX + 1];	/* "" for the null sender */
	size_t	size_declared;		/* MAIL FROM SIZE=, or 0 */
	LMTP_RCPT *rcpt;		/* accepted recipients */
	size_t	nrcpt;
	STRBUF	data;			/* the message, CRLF, dots removed */
	size_t	data_bytes;		/* received, kept or not */
	int	data_over;		/* beyond size_max: not kept */
	STRBUF	line;			/* a line being received */
	int	line_over;		/* the current line is being dropped */
	int	errors;			/* bad commands so far */
	STRBUF	out;			/* replies not yet written */
	LMTP_RCPT_FN rcpt_fn;
	LMTP_DATA_FN data_fn;
	void   *ctx;
};

void	lmtp_proto_init(LMTP_PROTO *p, const char *hostname, const LMTP_LIMITS *lim,
			        LMTP_RCPT_FN rcpt_fn, LMTP_DATA_FN data_fn, void *ctx);
void	lmtp_proto_free(LMTP_PROTO *p);
void	lmtp_proto_greet(LMTP_PROTO *p);
/* Feed bytes as read; replies accumulate in p->out. Returns 0 to go on,
 * -1 when the session is over (QUIT, or too many errors): write p->out,
 * then close. */
int	lmtp_proto_input(LMTP_PROTO *p, const char *buf, size_t len);
void	lmtp_proto_reply(LMTP_PROTO *p, const char *fmt,...)
	__attribute__((format(printf, 2, 3)));
/* xtext (RFC 3461) decoding into dst (max bytes); -1 if malformed. */
int	lmtp_xtext_decode(const char *src, char *dst, size_t max);

#endif
