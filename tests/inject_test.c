/*
 * inject_test - the SMTP injector against a small scripted SMTP server in
 * this process: pipelining and not, dot-stuffing and CRLF, 4xx and 5xx
 * outcomes, connection reuse after a failed transaction, parallel
 * connections, an unreachable server, a server that stops answering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inject.h"
#include "strbuf.h"
#include "mymalloc.h"

#define MAXMSG 256

typedef struct SERVER {
	int	lfd;
	int	port;
	int	pipelining;
	int	silent;			/* greet, then never answer */
	atomic_int conns;		/* connections accepted */
	atomic_int active;		/* sessions running */
	atomic_int nmsg;
	pthread_mutex_t lock;
	char   *body[MAXMSG];		/* received, dot-unstuffed */
	char   *rcpt[MAXMSG];
	char   *sender[MAXMSG];
	pthread_t tid;
} SERVER;

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
			snprintf(sender, sizeof(sender), "%.*s",
				 (int) strcspn(line + 11, ">"), line + 11);
			rcpt_ok = 0;
			srv_say(s->fd, "250 2.1.0 Ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:<", 9) == 0) {
			snprintf(rcpt, sizeof(rcpt), "%.*s",
				 (int) strcspn(line + 9, ">"), line + 9);
			if (strncmp(rcpt, "defer", 5) == 0)
				srv_say(s->fd, "450 4.2.0 try later\r\n");
			else if (strncmp(rcpt, "reject", 6) == 0)
				srv_say(s->fd, "550 5.1.1 no such user\r\n");
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

static SERVER *
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

static void
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

static INJECT *
client(SERVER *srv, int conns, int timeout)
{
	char	addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", srv->port);
	return (inject_create(addr, conns, timeout, "client.test"));
}

static void
test_dotstuff(void **state)
{
	STRBUF	out = STRBUF_INIT;

	inject_dotstuff(&out, ".a\n..b\nc\r\n.\nd", 13);
	assert_string_equal(strbuf_str(&out), "..a\r\n...b\r\nc\r\n..\r\nd\r\n.\r\n");
	strbuf_reset(&out);
	inject_dotstuff(&out, "x\ry\n", 4);
	assert_string_equal(strbuf_str(&out), "x\r\ny\r\n.\r\n");
	strbuf_reset(&out);
	inject_dotstuff(&out, "", 0);
	assert_string_equal(strbuf_str(&out), ".\r\n");
	strbuf_free(&out);
}

static void
run_outcomes(int pipelining)
{
	SERVER *srv = srv_start(pipelining, 0);
	INJECT *inj = client(srv, 1, 5);
	const char *body = "Subject: hi\n\n.leading dot\nline\n";
	INJECT_MSG m[4];
	int	i;

	memset(m, 0, sizeof(m));
	m[0].rcpt = "a@x.test";
	m[1].rcpt = "defer@x.test";
	m[2].rcpt = "reject@x.test";
	m[3].rcpt = "b@x.test";
	for (i = 0; i < 4; i++) {
		m[i].sender = "bounces+tok@bounce.test";
		m[i].data = body;
		m[i].len = strlen(body);
	}
	assert_int_equal(inject_batch(inj, m, 4), 2);
	assert_int_equal(m[0].status, INJECT_OK);
	assert_int_equal(m[1].status, INJECT_DEFER);
	assert_true(strncmp(m[1].reply, "450", 3) == 0);
	assert_int_equal(m[2].status, INJECT_REJECT);
	assert_true(strncmp(m[2].reply, "550", 3) == 0);
	assert_int_equal(m[3].status, INJECT_OK);
	/* One connection served all four, RSET after each failure. */
	assert_int_equal(atomic_load(&srv->conns), 1);
	assert_int_equal(atomic_load(&srv->nmsg), 2);
	assert_string_equal(srv->body[0], "Subject: hi\r\n\r\n.leading dot\r\nline\r\n");
	assert_string_equal(srv->sender[1], "bounces+tok@bounce.test");
	assert_string_equal(srv->rcpt[1], "b@x.test");

	/* The connection is kept for the next batch. */
	assert_int_equal(inject_batch(inj, m, 1), 1);
	assert_int_equal(atomic_load(&srv->conns), 1);
	inject_free(inj);
	srv_stop(srv);
}

static void
test_outcomes_pipelining(void **state)
{
	run_outcomes(1);
}

static void
test_outcomes_plain(void **state)
{
	run_outcomes(0);
}

static void
test_parallel(void **state)
{
	SERVER *srv = srv_start(1, 0);
	INJECT *inj = client(srv, 4, 5);
	INJECT_MSG m[200];
	char	rcpt[200][32];
	int	i, seen[200];

	memset(m, 0, sizeof(m));
	for (i = 0; i < 200; i++) {
		snprintf(rcpt[i], sizeof(rcpt[i]), "u%d@x.test", i);
		m[i].sender = "s@bounce.test";
		m[i].rcpt = rcpt[i];
		m[i].data = rcpt[i];
		m[i].len = strlen(rcpt[i]);
	}
	assert_int_equal(inject_batch(inj, m, 200), 200);
	assert_int_equal(atomic_load(&srv->nmsg), 200);
	assert_true(atomic_load(&srv->conns) <= 4);
	assert_true(atomic_load(&srv->conns) >= 1);
	/* Every message arrived once, with its own body. */
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 200; i++) {
		int	k = atoi(srv->rcpt[i] + 1);

		assert_true(k >= 0 && k < 200);
		seen[k]++;
		assert_int_equal(strncmp(srv->body[i], srv->rcpt[i], strlen(srv->rcpt[i])), 0);
	}
	for (i = 0; i < 200; i++)
		assert_int_equal(seen[i], 1);
	inject_free(inj);
	srv_stop(srv);
}

static void
test_unreachable(void **state)
{
	SERVER *srv = srv_start(1, 0);
	int	port = srv->port;
	char	addr[64];
	INJECT *inj;
	INJECT_MSG m;

	srv_stop(srv);				/* nobody listens there now */
	snprintf(addr, sizeof(addr), "[127.0.0.1]:%d", port);
	inj = inject_create(addr, 2, 2, 0);
	memset(&m, 0, sizeof(m));
	m.sender = "s@b.test";
	m.rcpt = "a@x.test";
	m.data = "x\n";
	m.len = 2;
	assert_int_equal(inject_batch(inj, &m, 1), 0);
	assert_int_equal(m.status, INJECT_DEFER);
	assert_true(strncmp(m.reply, "451", 3) == 0);
	inject_free(inj);
}

static void
test_timeout(void **state)
{
	SERVER *srv = srv_start(1, 1);
	INJECT *inj = client(srv, 1, 1);
	INJECT_MSG m;

	memset(&m, 0, sizeof(m));
	m.sender = "s@b.test";
	m.rcpt = "a@x.test";
	m.data = "x\n";
	m.len = 2;
	assert_int_equal(inject_batch(inj, &m, 1), 0);
	assert_int_equal(m.status, INJECT_DEFER);
	inject_free(inj);
	srv_stop(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotstuff),
		cmocka_unit_test(test_outcomes_pipelining),
		cmocka_unit_test(test_outcomes_plain),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_timeout),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
