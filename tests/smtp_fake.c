/*
 * smtp_fake - see smtp_fake.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "smtp_fake.h"
#include "util/strbuf.h"
#include "util/mymalloc.h"



typedef struct SESS {
	SERVER *srv;
	int	fd;
} SESS;

static int
srv_getline(int fd, char *buf, size_t size)
{
	size_t	n = 0;
	char	ch;

	while (n + 1 < size) {
		if (read(fd, &ch, 1) != 1)
			return (-1);
		buf[n++] = ch;
		if (ch == '\n')
			break;
	}
	buf[n] = 0;
	return ((int) n);
}

static void
srv_say(int fd, const char *s)
{
	ssize_t	n = write(fd, s, strlen(s));

	(void) n;
}

static void *
srv_session(void *arg)
{
	SESS   *s = arg;
	SERVER *srv = s->srv;
	char	line[2048], rcpt[256] = "", sender[256] = "";
	int	rcpt_ok = 0;

	srv_say(s->fd, "220 test ESMTP\r\n");
	if (srv->silent) {
		while (srv_getline(s->fd, line, sizeof(line)) > 0)
			 /* say nothing */ ;
		goto done;
	}
	while (srv_getline(s->fd, line, sizeof(line)) > 0) {
		if (strncasecmp(line, "EHLO", 4) == 0) {
			srv_say(s->fd, srv->pipelining ?
				"250-test\r\n250-PIPELINING\r\n250 8BITMIME\r\n" :
				"250-test\r\n250 8BITMIME\r\n");
		} else if (strncasecmp(line, "MAIL FROM:<", 11) == 0) {
			if (atomic_exchange(&srv->close_on_mail, 0)) {
				srv_say(s->fd, "421 4.4.2 test.test Error: timeout exceeded\r\n");
				break;
			}
			snprintf(sender, sizeof(sender), "%.*s",
				 (int) strcspn(line + 11, ">"), line + 11);
			rcpt_ok = 0;
			srv_say(s->fd, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
			snprintf(rcpt, sizeof(rcpt), "%.*s",
				 (int) strcspn(line + 9, ">"), line + 9);
			if (strncmp(rcpt, "defer", 5) == 0 || atomic_load(&srv->defer_all))
				srv_say(s->fd, "450 4.2.0 try later\r\n");
			else if (strncmp(rcpt, "reject", 6) == 0)
				srv_say(s->fd, "550 5.1.1 no such user\r\n");
			else if (strncmp(rcpt, "full", 4) == 0)
				srv_say(s->fd, "552 5.2.2 mailbox full\r\n");
			else {
				rcpt_ok = 1;
				srv_say(s->fd, "250 2.1.5 Ok\r\n");
			}
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			STRBUF	body = STRBUF_INIT;
			int	n;

			if (!rcpt_ok) {
				srv_say(s->fd, "554 5.5.1 no valid recipients\r\n");
				continue;
			}
			srv_say(s->fd, "354 go ahead\r\n");
			while ((n = srv_getline(s->fd, line, sizeof(line))) > 0) {
				if (strcmp(line, ".\r\n") == 0)
					break;
				strbuf_puts(&body, line[0] == '.' ? line + 1 : line);
			}
			pthread_mutex_lock(&srv->lock);
			n = atomic_fetch_add(&srv->nmsg, 1);
			if (n < MAXMSG) {
				srv->body[n] = strbuf_steal(&body);
				srv->rcpt[n] = mystrdup(rcpt);
				srv->sender[n] = mystrdup(sender);
			}
			pthread_mutex_unlock(&srv->lock);
			strbuf_free(&body);
			srv_say(s->fd, "250 2.0.0 Ok: queued\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0) {
			rcpt_ok = 0;
			srv_say(s->fd, "250 2.0.0 Ok\r\n");
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			srv_say(s->fd, "221 2.0.0 Bye\r\n");
			break;
		} else
			srv_say(s->fd, "502 5.5.2 unknown\r\n");
	}
done:
	close(s->fd);
	atomic_fetch_sub(&srv->active, 1);
	free(s);
	return (0);
}

static void *
srv_accept(void *arg)
{
	SERVER *srv = arg;
	int	fd;

	while ((fd = accept(srv->lfd, 0, 0)) >= 0) {
		SESS   *s = malloc(sizeof(*s));
		pthread_t t;

		s->srv = srv;
		s->fd = fd;
		atomic_fetch_add(&srv->conns, 1);
		atomic_fetch_add(&srv->active, 1);
		pthread_create(&t, 0, srv_session, s);
		pthread_detach(t);
	}
	return (0);
}

SERVER *
srv_start(int pipelining, int silent)
{
	SERVER *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	srv->pipelining = pipelining;
	srv->silent = silent;
	pthread_mutex_init(&srv->lock, 0);
	srv->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(srv->lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	assert_int_equal(listen(srv->lfd, 64), 0);
	getsockname(srv->lfd, (struct sockaddr *) &sin, &len);
	srv->port = ntohs(sin.sin_port);
	pthread_create(&srv->tid, 0, srv_accept, srv);
	return (srv);
}

void
srv_stop(SERVER *srv)
{
	int	i;

	shutdown(srv->lfd, SHUT_RDWR);
	close(srv->lfd);
	pthread_join(srv->tid, 0);
	for (i = 0; i < 500 && atomic_load(&srv->active) > 0; i++)
		usleep(10000);
	for (i = 0; i < MAXMSG; i++) {
		free(srv->body[i]);
		free(srv->rcpt[i]);
		free(srv->sender[i]);
	}
	free(srv);
}

