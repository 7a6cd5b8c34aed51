#ifndef PD_POLICYD_PROTO_H
#define PD_POLICYD_PROTO_H

/*
 * policyd_proto - the Postfix policy delegation protocol, request side.
 *
 * A request is "name=value" lines ended by an empty line (SMTPD_POLICY_README).
 * policy_parse() is a pure function over bytes with limits, so that a fuzz
 * target can drive it: it keeps no state outside its POLICY_REQ and calls
 * nothing but libc.
 */
#include <stddef.h>

/* The attributes that postdrip looks at; others are counted and skipped. */
typedef enum {
	PA_REQUEST,
	PA_PROTOCOL_STATE,
	PA_PROTOCOL_NAME,
	PA_HELO_NAME,
	PA_QUEUE_ID,
	PA_SENDER,
	PA_RECIPIENT,
	PA_RECIPIENT_COUNT,
	PA_CLIENT_ADDRESS,
	PA_CLIENT_NAME,
	PA_INSTANCE,
	PA_SASL_USERNAME,
	PA_COUNT
} POLICY_ATTR;

typedef struct POLICY_LIMITS {
	size_t	line_limit;		/* bytes in one line, without its newline */
	size_t	attr_limit;		/* attributes in one request */
	size_t	request_limit;		/* bytes in one request, newlines included */
} POLICY_LIMITS;

/* Parse state and result. Offsets index the caller's buffer. */
typedef struct POLICY_REQ {
	size_t	pos;			/* bytes of complete lines consumed */
	size_t	nattr;			/* attributes seen */
	size_t	off[PA_COUNT];		/* value offset, or POLICY_ABSENT */
	size_t	len[PA_COUNT];		/* value length */
} POLICY_REQ;

#define POLICY_ABSENT	((size_t) -1)

/* Results. */
#define POLICY_MORE	0		/* need more bytes */
#define POLICY_DONE	1		/* a whole request: pos bytes */
#define POLICY_ERR_LINE	(-1)		/* a line longer than line_limit */
#define POLICY_ERR_ATTRS (-2)		/* more than attr_limit attributes */
#define POLICY_ERR_SIZE	(-3)		/* a request larger than request_limit */
#define POLICY_ERR_SYNTAX (-4)		/* a line without name=value */
#define POLICY_ERR_BYTE	(-5)		/* a control byte (NUL, CR alone, ...) */

/* Start a request. */
void	policy_reset(POLICY_REQ *req);

/*
 * Continue parsing buf[0..len) from req->pos, where the request starts at
 * buf[0]. On POLICY_DONE the request is buf[0..req->pos) and each known
 * value is null-terminated in place (its newline, or "\r\n", is replaced);
 * otherwise buf is not changed. After an error the connection cannot be
 * resynchronized: the caller answers or closes it.
 */
int	policy_parse(char *buf, size_t len, const POLICY_LIMITS *lim, POLICY_REQ *req);

/* A known value after POLICY_DONE; "" when absent. */
const char *policy_value(const POLICY_REQ *req, const char *buf, POLICY_ATTR attr);

/* Name of a result, for logging. */
const char *policy_strerror(int status);

#endif
