/*
 * lmtp_proto_test - postdrip-milter's LMTP protocol: a pipelined session
 * whole and byte at a time, one reply per recipient after DATA, every
 * bound (line, size, recipients, errors), bad commands and XFORWARD, and a
 * replay of the fuzz corpus (fuzz/corpus/lmtp), which must give the same
 * replies whole and in pieces.
 */
#include "pdconfig.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "milter_lmtp_proto.h"

static const LMTP_LIMITS lim = {512, 1000, 3};

/* What the data callback saw last. */
static STRBUF seen_data;
static int seen_calls;

/* rcpt_fn - *@bounce.test is ours, nobody@bounce.test is not */

static int
rcpt_fn(void *ctx, LMTP_PROTO *p, const char *addr, int *kind, char *reply, size_t len)
{
	const char *at = strrchr(addr, '@');

	(void) ctx;
	(void) p;
	if (at == 0 || strcmp(at, "@bounce.test") != 0) {
		snprintf(reply, len, "550 5.1.2 <%s>: not here", addr);
		return (0);
	}
	if (strncmp(addr, "nobody@", 7) == 0) {
		snprintf(reply, len, "550 5.1.1 <%s>: no such address", addr);
		return (0);
	}
	*kind = 7;
	return (1);
}

/* data_fn - one reply per recipient, naming it and the size */

static void
data_fn(void *ctx, LMTP_PROTO *p)
{
	size_t	i;

	(void) ctx;
	seen_calls++;
	strbuf_reset(&seen_data);
	strbuf_append(&seen_data, strbuf_str(&p->data), strbuf_len(&p->data));
	for (i = 0; i < p->nrcpt; i++)
		lmtp_proto_reply(p, "250 2.0.0 <%s> ok %zu kind=%d xf=%s/%s", p->rcpt[i].addr,
				 strbuf_len(&p->data), p->rcpt[i].kind, p->xf.addr, p->xf.helo);
}

/* run - a session fed in pieces of step bytes (0: whole); its replies */

static char *
run(const char *input, size_t step, const LMTP_LIMITS *l, int *rc)
{
	LMTP_PROTO p;
	size_t	len = strlen(input), off, n;
	char   *out;

	seen_calls = 0;
	lmtp_proto_init(&p, "lmtp.test", l, rcpt_fn, data_fn, 0);
	lmtp_proto_greet(&p);
	*rc = 0;
	for (off = 0; off < len && *rc == 0; off += n) {
		n = step && len - off > step ? step : len - off;
		*rc = lmtp_proto_input(&p, input + off, n);
	}
	out = strbuf_steal(&p.out);
	lmtp_proto_free(&p);
	return (out ? out : mystrdup(""));
}

#define SESSION \
	"LHLO mx.test\r\n" \
	"XFORWARD NAME=client.example ADDR=192.0.2.7 HELO=[UNAVAILABLE]\r\n" \
	"MAIL FROM:<> SIZE=100 BODY=8BITMIME\r\n" \
	"RCPT TO:<bounces+abc@bounce.test>\r\n" \
	"RCPT TO:<nobody@bounce.test>\r\n" \
	"RCPT TO:<Reply+xyz@bounce.test>\r\n" \
	"DATA\r\n" \
	"Subject: hi\r\n" \
	"\r\n" \
	"..leading dot\r\n" \
	".\r\n" \
	"QUIT\r\n"

#define SESSION_REPLIES \
	"220 lmtp.test LMTP postdrip\r\n" \
	"250-lmtp.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-ENHANCEDSTATUSCODES\r\n" \
	"250-8BITMIME\r\n250 XFORWARD NAME ADDR PROTO HELO SOURCE IDENT\r\n" \
	"250 2.0.0 Ok\r\n" \
	"250 2.1.0 Ok\r\n" \
	"250 2.1.5 Ok\r\n" \
	"550 5.1.1 <nobody@bounce.test>: no such address\r\n" \
	"250 2.1.5 Ok\r\n" \
	"354 End data with <CR><LF>.<CR><LF>\r\n" \
	"250 2.0.0 <bounces+abc@bounce.test> ok 29 kind=7 xf=192.0.2.7/\r\n" \
	"250 2.0.0 <Reply+xyz@bounce.test> ok 29 kind=7 xf=192.0.2.7/\r\n" \
	"221 2.0.0 Bye\r\n"

static void
test_pipelined(void **state)
{
	char   *out;
	int	rc;

	(void) state;
	out = run(SESSION, 0, &lim, &rc);
	assert_string_equal(out, SESSION_REPLIES);
	assert_int_equal(rc, -1);
	assert_int_equal(seen_calls, 1);
	assert_string_equal(strbuf_str(&seen_data), "Subject: hi\r\n\r\n.leading dot\r\n");
	myfree(out);
}

static void
test_bytewise(void **state)
{
	char   *out;
	int	rc;
	size_t	step;

	(void) state;
	for (step = 1; step < 8; step++) {
		out = run(SESSION, step, &lim, &rc);
		assert_string_equal(out, SESSION_REPLIES);
		assert_int_equal(rc, -1);
		myfree(out);
	}
}

/* LF alone as line end (a lenient client) is read the same way. */
static void
test_bare_lf(void **state)
{
	char   *out;
	int	rc;

	(void) state;
	out = run("LHLO a\nMAIL FROM:<x@y>\nRCPT TO:<a@bounce.test>\nDATA\nb\n.\n", 0, &lim, &rc);
	assert_non_null(strstr(out, "250 2.0.0 <a@bounce.test> ok 3 kind=7"));
	assert_int_equal(rc, 0);
	myfree(out);
}

static void
test_order(void **state)
{
	char   *out;
	int	rc;

	(void) state;
	out = run("MAIL FROM:<>\r\nXFORWARD ADDR=1.2.3.4\r\nHELO x\r\nEHLO x\r\nLHLO x\r\n"
		  "RCPT TO:<a@bounce.test>\r\nDATA\r\nMAIL FROM:<>\r\nDATA\r\n"
		  "XFORWARD ADDR=1.2.3.4\r\nMAIL FROM:<>\r\nRSET\r\nRCPT TO:<a@bounce.test>\r\n"
		  "NOOP\r\nVRFY a\r\nFOO\r\n", 0, &lim, &rc);
	assert_string_equal(out,
			    "220 lmtp.test LMTP postdrip\r\n"
			    "503 5.5.1 Error: send LHLO first\r\n"
			    "503 5.5.1 Error: send LHLO first\r\n"
			    "500 5.5.1 Error: this is LMTP, use LHLO\r\n"
			    "500 5.5.1 Error: this is LMTP, use LHLO\r\n"
			    "250-lmtp.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
			    "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
			    "250 XFORWARD NAME ADDR PROTO HELO SOURCE IDENT\r\n"
			    "503 5.5.1 Error: need MAIL command\r\n"
			    "503 5.5.1 Error: need MAIL command\r\n"
			    "250 2.1.0 Ok\r\n"
			    "503 5.5.1 Error: no valid recipients\r\n"
			    "503 5.5.1 Error: MAIL transaction in progress\r\n"
			    "503 5.5.1 Error: nested MAIL command\r\n"
			    "250 2.0.0 Ok\r\n"
			    "503 5.5.1 Error: need MAIL command\r\n"
			    "250 2.0.0 Ok\r\n"
			    "252 2.5.2 Cannot VRFY user\r\n"
			    "500 5.5.2 Error: command not recognized\r\n");
	assert_int_equal(rc, 0);
	assert_int_equal(seen_calls, 0);
	myfree(out);
}

static void
test_syntax(void **state)
{
	char   *out;
	int	rc;

	(void) state;
	out = run("LHLO\r\nLHLO x\r\nMAIL FROM:x@y\r\nMAIL FROM:<x@y> SIZE=abc\r\n"
		  "MAIL FROM:<x@y> FOO=1\r\nMAIL FROM:<@r1,@r2:x@y>\r\nRCPT TO:<>\r\n"
		  "RCPT TO:<a@bounce.test> NOTIFY=NEVER\r\nRCPT TO:<a@other.test>\r\n"
		  "RCPT TO:<\"q>uoted\"@bounce.test>\r\n", 0, &lim, &rc);
	assert_non_null(strstr(out, "501 5.5.4 Syntax: LHLO hostname\r\n"));
	assert_non_null(strstr(out, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"));
	assert_non_null(strstr(out, "501 5.5.4 Bad SIZE parameter\r\n"));
	assert_non_null(strstr(out, "555 5.5.4 Unsupported option\r\n"));
	/* The source route is dropped; a quoted '>' does not end the path. */
	assert_non_null(strstr(out, "250 2.1.0 Ok\r\n"
			       "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
			       "555 5.5.4 Unsupported option\r\n"
			       "550 5.1.2 <a@other.test>: not here\r\n"
			       "250 2.1.5 Ok\r\n"));
	myfree(out);
}

static void
test_limits(void **state)
{
	STRBUF	in = STRBUF_INIT;
	char   *out;
	int	rc, i;

	(void) state;
	/* A command line over line_max: refused, the session goes on. */
	strbuf_puts(&in, "LHLO x\r\nNOOP ");
	for (i = 0; i < 600; i++)
		strbuf_putc(&in, 'a');
	strbuf_puts(&in, "\r\nNOOP\r\n");
	/* SIZE= over the limit. */
	strbuf_puts(&in, "MAIL FROM:<> SIZE=1001\r\n");
	/* Recipients over the limit: 452, the first three accepted. */
	strbuf_puts(&in, "MAIL FROM:<>\r\n");
	for (i = 0; i < 5; i++)
		strbuf_printf(&in, "RCPT TO:<r%d@bounce.test>\r\n", i);
	/* A message over size_max: 552 for each recipient, not kept. */
	strbuf_puts(&in, "DATA\r\n");
	for (i = 0; i < 40; i++)
		strbuf_puts(&in, "0123456789012345678901234567890123456789\r\n");
	strbuf_puts(&in, ".\r\nNOOP\r\n");
	out = run(strbuf_str(&in), 0, &lim, &rc);
	assert_non_null(strstr(out, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n"));
	assert_non_null(strstr(out, "552 5.3.4 Message size exceeds fixed limit\r\n250 2.1.0 Ok\r\n"));
	assert_non_null(strstr(out, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
			       "452 4.5.3 Error: too many recipients\r\n"
			       "452 4.5.3 Error: too many recipients\r\n354 "));
	assert_non_null(strstr(out, "552 5.3.4 Message size exceeds fixed limit\r\n"
			       "552 5.3.4 Message size exceeds fixed limit\r\n"
			       "552 5.3.4 Message size exceeds fixed limit\r\n250 2.0.0 Ok\r\n"));
	assert_int_equal(seen_calls, 0);
	myfree(out);

	/* One long data line, also over the limit, in small pieces. */
	strbuf_reset(&in);
	strbuf_puts(&in, "LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@bounce.test>\r\nDATA\r\n");
	for (i = 0; i < 3000; i++)
		strbuf_putc(&in, 'x');
	strbuf_puts(&in, "\r\n.\r\nQUIT\r\n");
	out = run(strbuf_str(&in), 7, &lim, &rc);
	assert_non_null(strstr(out, "354 End data with <CR><LF>.<CR><LF>\r\n"
			       "552 5.3.4 Message size exceeds fixed limit\r\n221 2.0.0 Bye\r\n"));
	assert_int_equal(rc, -1);
	myfree(out);
	strbuf_free(&in);
}

static void
test_errors(void **state)
{
	STRBUF	in = STRBUF_INIT;
	char   *out;
	int	rc, i;

	(void) state;
	for (i = 0; i < LMTP_ERRORS_MAX + 5; i++)
		strbuf_puts(&in, "BOGUS\r\n");
	out = run(strbuf_str(&in), 0, &lim, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(out, "421 4.7.0 lmtp.test Error: too many errors\r\n"));
	/* Nothing after the 421. */
	assert_string_equal(strstr(out, "421 "), "421 4.7.0 lmtp.test Error: too many errors\r\n");
	myfree(out);
	strbuf_free(&in);

	/* A NUL in a command. */
	{
		LMTP_PROTO p;

		lmtp_proto_init(&p, "lmtp.test", &lim, rcpt_fn, data_fn, 0);
		assert_int_equal(lmtp_proto_input(&p, "NO\0OP\r\n", 7), 0);
		assert_string_equal(strbuf_str(&p.out), "500 5.5.2 Error: bad character in command\r\n");
		lmtp_proto_free(&p);
	}
}

static void
test_xforward(void **state)
{
	char	buf[64];
	char   *out;
	int	rc;

	(void) state;
	assert_int_equal(lmtp_xtext_decode("a+20b+2Bc", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a b+c");
	assert_int_equal(lmtp_xtext_decode("a+2", buf, sizeof(buf)), -1);
	assert_int_equal(lmtp_xtext_decode("a+00", buf, sizeof(buf)), -1);
	assert_int_equal(lmtp_xtext_decode("a=b", buf, sizeof(buf)), -1);
	assert_int_equal(lmtp_xtext_decode("abcdef", buf, 4), -1);

	out = run("LHLO x\r\nXFORWARD ADDR=IPv6:2001:db8::1 HELO=mail+2Eexample\r\n"
		  "XFORWARD FOO=1\r\nXFORWARD ADDR\r\nXFORWARD\r\n"
		  "MAIL FROM:<>\r\nRCPT TO:<a@bounce.test>\r\nDATA\r\nx\r\n.\r\n"
		  /* Reset after the transaction. */
		  "MAIL FROM:<>\r\nRCPT TO:<a@bounce.test>\r\nDATA\r\nx\r\n.\r\n", 0, &lim, &rc);
	assert_non_null(strstr(out, "501 5.5.4 Bad XFORWARD attribute name\r\n"));
	assert_non_null(strstr(out, "501 5.5.4 Syntax: XFORWARD attribute=value...\r\n"
			       "501 5.5.4 Syntax: XFORWARD attribute=value...\r\n"));
	assert_non_null(strstr(out, "ok 3 kind=7 xf=2001:db8::1/mail.example\r\n"));
	assert_non_null(strstr(out, "ok 3 kind=7 xf=/\r\n"));
	myfree(out);
}

/* The corpus: whole and byte at a time give the same replies. */
static void
test_corpus(void **state)
{
	const char *dir = TOP_SRCDIR "/fuzz/corpus/lmtp";
	struct dirent *de;
	DIR    *d;
	FILE   *fp;
	char	path[1024], *a, *b;
	STRBUF	in = STRBUF_INIT;
	int	rc1, rc2, n = 0, ch;

	(void) state;
	if ((d = opendir(dir)) == 0)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "rb")) == 0)
			continue;
		strbuf_reset(&in);
		while ((ch = getc(fp)) != EOF && ch != 0)
			strbuf_putc(&in, ch);
		fclose(fp);
		a = run(strbuf_str(&in), 0, &lim, &rc1);
		b = run(strbuf_str(&in), 1, &lim, &rc2);
		assert_string_equal(a, b);
		assert_int_equal(rc1, rc2);
		myfree(a);
		myfree(b);
		n++;
	}
	closedir(d);
	strbuf_free(&in);
	assert_true(n >= 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_bare_lf),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_xforward),
		cmocka_unit_test(test_corpus),
	};
	int	rc = cmocka_run_group_tests(tests, 0, 0);

	strbuf_free(&seen_data);
	return (rc);
}
