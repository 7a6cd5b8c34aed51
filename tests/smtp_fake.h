#ifndef PD_SMTP_FAKE_H
#define PD_SMTP_FAKE_H

/*
 * smtp_fake - a small scripted SMTP server inside a test process. It
 * accepts every recipient except those whose address starts with "defer"
 * (450), "reject" (550 5.1.1) or "full" (552 5.2.2), keeps each message it accepts (dot-unstuffed)
 * with its envelope, and counts connections. "silent" greets and then
 * never answers (timeouts). Not for anything but tests.
 */
#include <pthread.h>
#include <stdatomic.h>

#define MAXMSG 256

typedef struct SERVER {
	int	lfd;
	int	port;
	int	pipelining;
	int	silent;			/* greet, then never answer */
	atomic_int conns;		/* connections accepted */
	atomic_int active;		/* sessions running */
	atomic_int nmsg;
	atomic_int defer_all;		/* answer 451 to every RCPT */
	atomic_int close_on_mail;	/* once: 421 to MAIL FROM, hang up */
	pthread_mutex_t lock;
	char   *body[MAXMSG];		/* received, dot-unstuffed */
	char   *rcpt[MAXMSG];
	char   *sender[MAXMSG];
	pthread_t tid;
} SERVER;

SERVER *srv_start(int pipelining, int silent);
void	srv_stop(SERVER *srv);

#endif
