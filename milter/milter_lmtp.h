#ifndef PD_MILTER_LMTP_H
#define PD_MILTER_LMTP_H

/*
 * milter_lmtp - postdrip-milter's LMTP receiver for the bounce domain:
 * the protocol (milter_lmtp_proto.c, no I/O, fuzzed), the server that
 * reads sockets, records and forwards (milter_lmtp.c), and the SMTP
 * client that hands forwarded replies to Postfix (milter_lmtp_fwd.c).
 */
#include "milter_lmtp_proto.h"

/* milter_lmtp_fwd.c */
#define LMTP_FWD_OK	0
#define LMTP_FWD_DEFER	1		/* 4xx, or our trouble */
#define LMTP_FWD_REJECT	2		/* 5xx */
int	lmtp_forward(const char *address, int timeout, const char *helo,
		             const char *rcpt, const char *trace, const char *data,
		             size_t len, char *reply, size_t rlen);

/* milter_lmtp.c */
struct MILTER_SET;
/* Start the receiver threads on lmtp_listen (bound before the privilege
 * drop); 0, or -1 when lmtp_listen is empty. */
int	milter_lmtp_listen(const char *spec);
void	milter_lmtp_chown(const char *user);
void	milter_lmtp_start(void);
void	milter_lmtp_stop(void);

#endif
