/*
 * policyd_proto_test - the policy request reader: whole, pipelined and
 * byte-at-a-time requests, every limit, bad bytes, and a replay of the fuzz
 * corpus (fuzz/corpus/policy), which must parse without a fault and give
 * the same answer whole and in pieces.
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
#include "policyd_proto.h"

static const POLICY_LIMITS lim = {4096, 200, 64 * 1024};

#define REQ \
	"request=smtpd_access_policy\n" \
	"protocol_state=RCPT\n" \
	"protocol_name=ESMTP\n" \
	"queue_id=4XyzAB12\n" \
	"sender=news@news.example.com\n" \
	"recipient=Bob@Example.org\n" \
	"client_address=192.0.2.7\n" \
	"client_name=mx.example.net\n" \
	"instance=123.abc.1\n" \
	"sasl_username=\n" \
	"ccert_subject=\n" \
	"size=1234\n" \
	"\n"

/* parse - a whole buffer, on a writable copy */

static int
parse(const char *text, size_t len, const POLICY_LIMITS *l, POLICY_REQ *req, char **copy)
{
	*copy = mymalloc(len + 1);
	memcpy(*copy, text, len);
	policy_reset(req);
	return (policy_parse(*copy, len, l, req));
}

static void
test_whole(void **state)
{
	POLICY_REQ req;
	char   *buf;

	assert_int_equal(parse(REQ, strlen(REQ), &lim, &req, &buf), POLICY_DONE);
	assert_int_equal(req.pos, strlen(REQ));
	assert_int_equal(req.nattr, 12);
	assert_string_equal(policy_value(&req, buf, PA_REQUEST), "smtpd_access_policy");
	assert_string_equal(policy_value(&req, buf, PA_PROTOCOL_STATE), "RCPT");
	assert_string_equal(policy_value(&req, buf, PA_SENDER), "news@news.example.com");
	assert_string_equal(policy_value(&req, buf, PA_RECIPIENT), "Bob@Example.org");
	assert_string_equal(policy_value(&req, buf, PA_INSTANCE), "123.abc.1");
	assert_string_equal(policy_value(&req, buf, PA_SASL_USERNAME), "");
	assert_string_equal(policy_value(&req, buf, PA_HELO_NAME), "");	/* absent */
	assert_int_equal(req.off[PA_HELO_NAME], POLICY_ABSENT);
	myfree(buf);
}

static void
test_pipelined_and_crlf(void **state)
{
	const char *two = "request=smtpd_access_policy\r\nrecipient=a@b.c\r\n\r\n"
	"request=smtpd_access_policy\nrecipient=d@e.f\nrecipient=g@h.i\n\nrequest=";
	POLICY_REQ req;
	char   *buf;
	size_t	len = strlen(two), used;

	assert_int_equal(parse(two, len, &lim, &req, &buf), POLICY_DONE);
	assert_string_equal(policy_value(&req, buf, PA_RECIPIENT), "a@b.c");
	used = req.pos;
	policy_reset(&req);
	assert_int_equal(policy_parse(buf + used, len - used, &lim, &req), POLICY_DONE);
	/* A repeated attribute: the last one counts. */
	assert_string_equal(policy_value(&req, buf + used, PA_RECIPIENT), "g@h.i");
	used += req.pos;
	policy_reset(&req);
	assert_int_equal(policy_parse(buf + used, len - used, &lim, &req), POLICY_MORE);
	myfree(buf);
}

static void
test_byte_at_a_time(void **state)
{
	POLICY_REQ req;
	char	buf[sizeof(REQ)];
	size_t	i, len = strlen(REQ);
	int	rc = POLICY_MORE;

	policy_reset(&req);
	for (i = 1; i <= len; i++) {
		memcpy(buf, REQ, i);
		rc = policy_parse(buf, i, &lim, &req);
		if (i < len)
			assert_int_equal(rc, POLICY_MORE);
	}
	assert_int_equal(rc, POLICY_DONE);
	assert_string_equal(policy_value(&req, buf, PA_QUEUE_ID), "4XyzAB12");
	assert_int_equal(req.nattr, 12);
}

static void
test_no_terminator(void **state)
{
	const char *t = "request=smtpd_access_policy\nrecipient=a@b.c\n";
	POLICY_REQ req;
	char   *buf;

	assert_int_equal(parse(t, strlen(t), &lim, &req, &buf), POLICY_MORE);
	/* Nothing was changed in place: values are not terminated yet. */
	assert_memory_equal(buf, t, strlen(t));
	myfree(buf);
}

static void
test_long_line(void **state)
{
	POLICY_LIMITS l = lim;
	POLICY_REQ req;
	size_t	n = 1024 * 1024;
	char   *big = mymalloc(n + 32), *buf;

	/* A megabyte line is refused as soon as line_limit is passed, with or
	 * without its newline. */
	memcpy(big, "recipient=", 10);
	memset(big + 10, 'x', n);
	assert_int_equal(parse(big, 5000, &lim, &req, &buf), POLICY_ERR_LINE);
	myfree(buf);
	big[n] = '\n';
	l.request_limit = 2 * n;
	assert_int_equal(parse(big, n + 1, &l, &req, &buf), POLICY_ERR_LINE);
	myfree(buf);
	/* Exactly line_limit is fine. */
	l = lim;
	l.line_limit = 20;
	assert_int_equal(parse("recipient=0123456789\n\n", 22, &l, &req, &buf), POLICY_DONE);
	myfree(buf);
	assert_int_equal(parse("recipient=01234567890\n\n", 23, &l, &req, &buf), POLICY_ERR_LINE);
	myfree(buf);
	myfree(big);
}

static void
test_many_attributes(void **state)
{
	STRBUF	sb = STRBUF_INIT;
	POLICY_LIMITS l = lim;
	POLICY_REQ req;
	char   *buf;
	int	i;

	for (i = 0; i < 10000; i++)
		strbuf_printf(&sb, "a%d=%d\n", i, i);
	strbuf_puts(&sb, "\n");
	l.request_limit = 1024 * 1024;
	assert_int_equal(parse(sb.data, sb.len, &l, &req, &buf), POLICY_ERR_ATTRS);
	assert_int_equal(req.nattr, 201);
	myfree(buf);
	l.attr_limit = 10000;
	assert_int_equal(parse(sb.data, sb.len, &l, &req, &buf), POLICY_DONE);
	myfree(buf);
	strbuf_free(&sb);
}

static void
test_request_size(void **state)
{
	STRBUF	sb = STRBUF_INIT;
	POLICY_LIMITS l = {4096, 100000, 2000};
	POLICY_REQ req;
	char   *buf;
	int	i;

	for (i = 0; i < 400; i++)
		strbuf_printf(&sb, "n%d=v\n", i);
	assert_true(sb.len > 2000);
	/* Incomplete and already at the limit: refused without more input. */
	assert_int_equal(parse(sb.data, 2000, &l, &req, &buf), POLICY_ERR_SIZE);
	myfree(buf);
	strbuf_puts(&sb, "\n");
	assert_int_equal(parse(sb.data, sb.len, &l, &req, &buf), POLICY_ERR_SIZE);
	myfree(buf);
	strbuf_free(&sb);
}

static void
test_bad_bytes(void **state)
{
	static const struct {
		const char *text;
		size_t	len;
		int	want;
	}	cases[] = {
		{"recipient=a\0b\n\n", 15, POLICY_ERR_BYTE},
		{"recipient=a\rb\n\n", 15, POLICY_ERR_BYTE},
		{"recipient=a\033b\n\n", 15, POLICY_ERR_BYTE},
		{"recipient=a\177b\n\n", 15, POLICY_ERR_BYTE},
		{"recipient=a\tb\n\n", 15, POLICY_DONE},
		{"recipient=j\xc3\xbcrgen@example.de\n\n", 30, POLICY_DONE},
		{"no equals sign\n\n", 16, POLICY_ERR_SYNTAX},
		{"=value\n\n", 8, POLICY_ERR_SYNTAX},
		{"\n", 1, POLICY_DONE},
	};
	POLICY_REQ req;
	char   *buf;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int	got = parse(cases[i].text, cases[i].len, &lim, &req, &buf);

		if (got != cases[i].want)
			fail_msg("case %zu: got %s, want %s", i, policy_strerror(got),
				 policy_strerror(cases[i].want));
		myfree(buf);
	}
}

/* run_pieces - parse in chunks of n bytes, as a socket might deliver */

static int
run_pieces(const char *data, size_t len, size_t n, size_t *done_count)
{
	char   *buf = mymalloc(len + 1);
	POLICY_REQ req;
	size_t	have = 0, start = 0;
	int	rc = POLICY_MORE;

	*done_count = 0;
	policy_reset(&req);
	while (have < len) {
		size_t	take = len - have < n ? len - have : n;

		memcpy(buf + have, data + have, take);
		have += take;
		while ((rc = policy_parse(buf + start, have - start, &lim, &req)) == POLICY_DONE) {
			(*done_count)++;
			start += req.pos;
			policy_reset(&req);
		}
		if (rc < 0)
			break;
	}
	myfree(buf);
	return (rc);
}

static void
test_corpus(void **state)
{
	char	dir[4096], path[8192];
	DIR    *dp;
	struct dirent *de;
	FILE   *fp;
	char   *data;
	size_t	len, whole, pieces;
	int	files = 0, a, b;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/policy", TOP_SRCDIR);
	if ((dp = opendir(dir)) == 0)
		fail_msg("%s: cannot open", dir);
	data = mymalloc(1024 * 1024);
	while ((de = readdir(dp)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "rb")) == 0)
			fail_msg("%s: cannot open", path);
		len = fread(data, 1, 1024 * 1024, fp);
		fclose(fp);
		a = run_pieces(data, len, len ? len : 1, &whole);
		b = run_pieces(data, len, 7, &pieces);
		/* Which limit trips first may differ; that one does must not. */
		if ((a < 0) != (b < 0) || whole != pieces)
			fail_msg("%s: whole gives %s after %zu requests, in pieces %s after %zu",
				 de->d_name, policy_strerror(a), whole, policy_strerror(b), pieces);
		files++;
	}
	closedir(dp);
	myfree(data);
	assert_true(files >= 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_pipelined_and_crlf),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_no_terminator),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_many_attributes),
		cmocka_unit_test(test_request_size),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_corpus),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
