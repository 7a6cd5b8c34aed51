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

#include "sched/inject.h"
#include "smtp_fake.h"
#include "util/strbuf.h"
#include "util/mymalloc.h"

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

/* one_msg - a message to rcpt */

static void
one_msg(INJECT_MSG *m, const char *rcpt)
{
	static const char body[] = "Subject: hi\n\nline\n";

	memset(m, 0, sizeof(*m));
	m->sender = "bounces+tok@bounce.test";
	m->rcpt = rcpt;
	m->data = body;
	m->len = strlen(body);
}

/* A kept connection that the server ends with 421 at the next MAIL (its
 * idle timeout): the message goes out at once on a fresh connection. */
static void
run_retry(int pipelining)
{
	SERVER *srv = srv_start(pipelining, 0);
	INJECT *inj = client(srv, 1, 5);
	INJECT_MSG m;

	inject_set_idle(inj, 0);
	one_msg(&m, "a@x.test");
	assert_int_equal(inject_batch(inj, &m, 1), 1);
	atomic_store(&srv->close_on_mail, 1);
	one_msg(&m, "b@x.test");
	assert_int_equal(inject_batch(inj, &m, 1), 1);
	assert_int_equal(m.status, INJECT_OK);
	assert_int_equal(inject_retries(inj), 1);
	assert_int_equal(atomic_load(&srv->conns), 2);
	assert_int_equal(atomic_load(&srv->nmsg), 2);
	assert_string_equal(srv->rcpt[1], "b@x.test");
	inject_free(inj);
	srv_stop(srv);
}

static void
test_retry_pipelining(void **state)
{
	(void) state;
	run_retry(1);
}

static void
test_retry_plain(void **state)
{
	(void) state;
	run_retry(0);
}

/* A connection idle past the limit is closed with QUIT between batches
 * and the next message opens a fresh one. */
static void
test_idle_close(void **state)
{
	SERVER *srv = srv_start(1, 0);
	INJECT *inj = client(srv, 1, 5);
	INJECT_MSG m;
	int	i;

	(void) state;
	inject_set_idle(inj, 1);
	one_msg(&m, "a@x.test");
	assert_int_equal(inject_batch(inj, &m, 1), 1);
	inject_idle(inj);			/* not idle yet: kept */
	assert_int_equal(atomic_load(&srv->active), 1);
	sleep(2);
	inject_idle(inj);
	/* The server's session ends on our QUIT (bounded wait). */
	for (i = 0; i < 200 && atomic_load(&srv->active) > 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&srv->active), 0);
	one_msg(&m, "b@x.test");
	assert_int_equal(inject_batch(inj, &m, 1), 1);
	assert_int_equal(atomic_load(&srv->conns), 2);
	assert_int_equal(inject_retries(inj), 0);
	inject_free(inj);
	srv_stop(srv);
}

/* The command a refusal answered is kept for the bounce rules. */
static void
test_refused_command(void **state)
{
	SERVER *srv = srv_start(1, 0);
	INJECT *inj = client(srv, 1, 5);
	INJECT_MSG m[2];

	(void) state;
	one_msg(m, "reject@x.test");
	one_msg(m + 1, "c@x.test");
	assert_int_equal(inject_batch(inj, m, 2), 1);
	assert_int_equal(m[0].status, INJECT_REJECT);
	assert_non_null(m[0].command);
	assert_string_equal(m[0].command, "RCPT TO");
	assert_int_equal(m[1].status, INJECT_OK);
	assert_string_equal(m[1].command, "end of DATA");
	inject_free(inj);
	srv_stop(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dotstuff),
		cmocka_unit_test(test_retry_pipelining),
		cmocka_unit_test(test_retry_plain),
		cmocka_unit_test(test_idle_close),
		cmocka_unit_test(test_refused_command),
		cmocka_unit_test(test_outcomes_pipelining),
		cmocka_unit_test(test_outcomes_plain),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_timeout),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
