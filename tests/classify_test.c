/*
 * classify_test - the inbound classifier as a library.
 *
 * The messages are files of tests/classify/. Each recipient row they give
 * (kind, recipient, status, class, reason) is a line of
 * tests/classify/cases.tsv, which classify_table.sh checks through
 * "postdrip classify"; what such a row cannot say (how many rows, their
 * order, the action, remote MTA and diagnostic, and the fields of the
 * message: From, Subject, In-Reply-To, References, the original's
 * Message-ID and return path, ARF feedback type, MDN disposition) is a line
 * of tests/classify/fields.tsv, checked here against classify_message().
 * What stays in C cannot be a file and a row: input that is not a message,
 * broken MIME, the field and recipient bounds, classify_free(), and the
 * names of kinds and classes.
 *
 * A failing line of fields.tsv is reported as "got" and "want".
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <cmocka.h>
#include <pthread.h>

#include <unistd.h>

#include "util/strbuf.h"
#include "classify/classify.h"

#define FIELDS_LINE_MAX	1024		/* one line of fields.tsv */
#define MESSAGE_MAX	(1024 * 1024)	/* one test message */

/* srcpath - a file of the source tree's tests/ folder; caller frees */

static char *
srcpath(const char *name)
{
	const char *top = getenv("top_srcdir");
	size_t	len;
	char   *path;

	if (top == 0 || *top == 0)
		top = "..";
	len = strlen(top) + strlen("/tests/") + strlen(name) + 1;
	path = malloc(len);
	assert_non_null(path);
	snprintf(path, len, "%s/tests/%s", top, name);
	return (path);
}

/* slurp - a whole file (name from tests/), or NULL; *len is its size */

static char *
slurp(const char *name, size_t *len)
{
	char   *path = srcpath(name);
	FILE   *fp = fopen(path, "rb");
	char   *buf;

	free(path);
	if (fp == 0)
		return (0);
	buf = malloc(MESSAGE_MAX);
	assert_non_null(buf);
	*len = fread(buf, 1, MESSAGE_MAX, fp);
	assert_false(ferror(fp));
	assert_true(feof(fp));			/* test messages are small */
	fclose(fp);
	return (buf);
}

/* classify_file - classify a message of tests/; it must be a message */

static int
classify_file(const char *name, CLASSIFY_RESULT *res)
{
	size_t	len;
	char   *text = slurp(name, &len);

	if (text == 0)
		return (-1);
	assert_int_equal(classify_message(text, len, res), 0);
	free(text);
	return (0);
}

/* field_value - the text of a field of fields.tsv; NULL if there is none */

static const char *
field_value(const CLASSIFY_RESULT *res, const char *field, char *buf, size_t size)
{
	const CLASSIFY_RCPT *r;
	char   *end;
	unsigned long n;
	size_t	i, used;

	static const struct {
		const char *name;
		size_t	offset;
	} msgf[] = {
		{"from", offsetof(CLASSIFY_RESULT, from)},
		{"subject", offsetof(CLASSIFY_RESULT, subject)},
		{"in_reply_to", offsetof(CLASSIFY_RESULT, in_reply_to)},
		{"orig_message_id", offsetof(CLASSIFY_RESULT, orig_message_id)},
		{"orig_return_path", offsetof(CLASSIFY_RESULT, orig_return_path)},
		{"feedback_type", offsetof(CLASSIFY_RESULT, feedback_type)},
		{"mdn_disposition", offsetof(CLASSIFY_RESULT, mdn_disposition)},
		{"new_address", offsetof(CLASSIFY_RESULT, new_address)},
	}, rcptf[] = {
		{"recipient", offsetof(CLASSIFY_RCPT, recipient)},
		{"status", offsetof(CLASSIFY_RCPT, status)},
		{"reason", offsetof(CLASSIFY_RCPT, reason)},
		{"action", offsetof(CLASSIFY_RCPT, action)},
		{"remote_mta", offsetof(CLASSIFY_RCPT, remote_mta)},
		{"diagnostic", offsetof(CLASSIFY_RCPT, diagnostic)},
	};

	if (strcmp(field, "nrcpt") == 0) {
		snprintf(buf, size, "%zu", res->nrcpt);
		return (buf);
	}
	if (strcmp(field, "references") == 0) {
		for (used = 0, *buf = 0, i = 0; i < res->nreferences && used < size; i++)
			used += snprintf(buf + used, size - used, "%s%s", i ? " " : "",
					 res->references[i]);
		return (buf);
	}
	for (i = 0; i < sizeof(msgf) / sizeof(msgf[0]); i++)
		if (strcmp(field, msgf[i].name) == 0)
			return ((const char *) res + msgf[i].offset);
	/* N.name: a recipient row's field. */
	n = strtoul(field, &end, 10);
	if (end == field || *end != '.')
		fail_msg("fields.tsv: unknown field \"%s\"", field);
	if (n >= res->nrcpt)
		return (0);
	r = res->rcpt + n;
	if (strcmp(end + 1, "class") == 0)
		return (classify_class_name(r->class));
	for (i = 0; i < sizeof(rcptf) / sizeof(rcptf[0]); i++)
		if (strcmp(end + 1, rcptf[i].name) == 0)
			return ((const char *) r + rcptf[i].offset);
	fail_msg("fields.tsv: unknown field \"%s\"", field);
	return (0);
}

/* test_fields - every line of tests/classify/fields.tsv */

static void
test_fields(void **state)
{
	char   *path = srcpath("classify/fields.tsv");
	FILE   *fp = fopen(path, "r");
	char	line[FIELDS_LINE_MAX], file[FIELDS_LINE_MAX] = "", buf[1024];
	char   *name, *field, *want = 0, *nl;
	const char *got;
	CLASSIFY_RESULT res;
	int	have = 0, rows = 0, bad = 0, lineno = 0, sub;

	if (fp == 0)
		fail_msg("open %s", path);
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		if ((nl = strchr(line, '\n')) == 0)
			fail_msg("%s:%d: line too long", path, lineno);
		*nl = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		name = line;
		if ((field = strchr(name, '\t')) == 0 || (want = strchr(field + 1, '\t')) == 0)
			fail_msg("%s:%d: want file<TAB>field<TAB>value", path, lineno);
		*field++ = 0;
		*want++ = 0;
		/* Rows of one file stand together: classify it once. */
		if (!have || strcmp(name, file) != 0) {
			if (have)
				classify_free(&res);
			if (classify_file(name, &res) < 0)
				fail_msg("%s:%d: cannot read %s", path, lineno, name);
			snprintf(file, sizeof(file), "%s", name);
			have = 1;
		}
		rows++;
		sub = field[strlen(field) - 1] == '~';
		if (sub)
			field[strlen(field) - 1] = 0;
		got = field_value(&res, field, buf, sizeof(buf));
		if (got == 0 || (sub ? strstr(got, want) == 0 : strcmp(got, want) != 0)) {
			printf("%s: %s%s:\n  want: %s\n  got:  %s\n", name, field,
			       sub ? " (contains)" : "", want, got ? got : "(no such row)");
			bad++;
		}
	}
	fclose(fp);
	free(path);
	if (have)
		classify_free(&res);
	printf("classify_test: %d rows of fields.tsv\n", rows);
	assert_true(rows > 0);
	assert_int_equal(bad, 0);
}

/* test_result_free - classify_free() leaves an empty, reusable result */

static void
test_result_free(void **state)
{
	CLASSIFY_RESULT res;

	assert_int_equal(classify_file("classify/userunknown-postfix.eml", &res), 0);
	assert_true(res.nrcpt > 0);
	classify_free(&res);
	assert_int_equal(res.nrcpt, 0);
	classify_free(&res);
}

/* test_not_message - input that is no message at all */

static void
test_not_message(void **state)
{
	static const struct {
		const char *text;
		size_t	len;
	} cases[] = {
		{"", 0},
		{"no header here", 14},
	};
	CLASSIFY_RESULT res;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(classify_message(cases[i].text, cases[i].len, &res), -1);
		assert_int_equal(res.kind, CLASSIFY_OTHER);
		assert_int_equal(res.nrcpt, 0);
		classify_free(&res);
	}
}

/* test_malformed - broken input: no crash, a sane result */

static void
test_malformed(void **state)
{
	static const struct {
		const char *text;
		size_t	len;			/* 0: strlen */
	} bad[] = {
		{"From: x\n\n--no boundary\n", 0},
		{"Content-Type: multipart/report; report-type=delivery-status; boundary=z\n"
			"\n--z\nContent-Type: message/delivery-status\n\n"
			"Final-Recipient: rfc822; \nAction: failed\nStatus: 9.9\n"
		"Diagnostic-Code: smtp;\n--z\nContent-Type: message/rfc822\n\n", 0},
		{"Subject: =?utf-8?B?====?=\nFrom: <@>\nReferences: <<<<>>>>\n\n", 0},
		{"From: MAILER-DAEMON@x\nSubject: Undelivered\n\n<@>:\n<a@>:\n@@@@\n", 0},
		{"Content-Type: message/feedback-report\n\nOriginal-Rcpt-To:\n", 0},
		{"Content-Type: text/plain; charset=x-unknown-charset\n"
		"Content-Transfer-Encoding: quoted-printable\n\n=ZZ=\n", 0},
		/* An embedded NUL ends nothing early and breaks nothing. */
		{"From: a@b\0x\n\nbody", 18},
	};
	CLASSIFY_RESULT res;
	char	junk[4096];
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		classify_message(bad[i].text, bad[i].len ? bad[i].len : strlen(bad[i].text), &res);
		assert_true(res.kind >= CLASSIFY_OTHER && res.kind <= CLASSIFY_MDN);
		assert_true(res.nrcpt <= CLASSIFY_MAX_RCPT);
		classify_free(&res);
	}
	srand(7);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = rand() & 0xff;
	memcpy(junk, "From: a@b\n\n", 11);
	classify_message(junk, sizeof(junk), &res);
	assert_true(res.nrcpt <= CLASSIFY_MAX_RCPT);
	classify_free(&res);
}

/*
 * test_field_bound - a DSN field whose continuation lines run past the field
 * bound: the value is cut, the rest skipped, the row kept.
 */
static void
test_field_bound(void **state)
{
	CLASSIFY_RESULT res;
	char   *big = malloc(20000);
	size_t	n;

	assert_non_null(big);
	n = (size_t) sprintf(big, "Content-Type: message/delivery-status\n\n"
			     "Final-Recipient: rfc822; a@example.org\n"
			     "Action: failed\nDiagnostic-Code: smtp; 550");
	while (n < 19000)
		n += (size_t) sprintf(big + n, "\n %.*s", (int) (n % 97) + 1,
				      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	classify_message(big, n, &res);
	assert_int_equal(res.nrcpt, 1);
	assert_true(strlen(res.rcpt[0].diagnostic) < sizeof(res.rcpt[0].diagnostic));
	classify_free(&res);
	free(big);
}

/* test_names - the names the CLI, the logs and the store use */

static void
test_names(void **state)
{
	static const struct {
		CLASSIFY_KIND kind;
		const char *name;
	} kinds[] = {
		{CLASSIFY_BOUNCE, "bounce"},
		{CLASSIFY_AUTOREPLY, "autoreply"},
		{CLASSIFY_COMPLAINT, "complaint"},
		{CLASSIFY_REPLY, "reply"},
		{CLASSIFY_MDN, "mdn"},
		{CLASSIFY_OTHER, "other"},
	};
	static const struct {
		CLASSIFY_CLASS class;
		const char *name;
	} classes[] = {
		{CLASSIFY_HARD, "hard"},
		{CLASSIFY_SOFT, "soft"},
		{CLASSIFY_NONE, "none"},
	};
	size_t	i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		assert_string_equal(classify_kind_name(kinds[i].kind), kinds[i].name);
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		assert_string_equal(classify_class_name(classes[i].class), classes[i].name);
}


/* dsn_with - a DSN for one recipient, Status 5.0.0, with this diagnostic */

static void
dsn_with(const char *diag, CLASSIFY_RESULT *res)
{
	char	msg[4096];

	snprintf(msg, sizeof(msg),
		 "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
		 "To: news@sender.example\n"
		 "Subject: Undelivered Mail Returned to Sender\n"
		 "MIME-Version: 1.0\n"
		 "Content-Type: multipart/report; report-type=delivery-status;"
		 " boundary=\"B\"\n\n"
		 "--B\nContent-Type: text/plain\n\nIt failed.\n\n"
		 "--B\nContent-Type: message/delivery-status\n\n"
		 "Reporting-MTA: dns; mx.example.net\n\n"
		 "Final-Recipient: rfc822; who@example.org\n"
		 "Action: failed\nStatus: 5.0.0\n"
		 "Diagnostic-Code: smtp; %s\n\n--B--\n", diag);
	assert_int_equal(classify_message(msg, strlen(msg), res), 0);
	assert_int_equal(res->nrcpt, 1);
}

/* assert_reason - the reason a diagnostic gets */

static void
assert_reason(const char *diag, const char *want)
{
	CLASSIFY_RESULT res;

	dsn_with(diag, &res);
	if (strcmp(res.rcpt[0].reason, want) != 0)
		fail_msg("\"%s\": got %s, want %s", diag, res.rcpt[0].reason, want);
	classify_free(&res);
}

/*
 * The SMTP stage a reply answered, from the words of the report about one
 * recipient when its reply does not say: "user unknown" with a status
 * outside the address class is a filter refusing the message after DATA,
 * unless the report says that RCPT TO was refused. A ">>> DATA" line of a
 * transcript says nothing (with PIPELINING the replies to RCPT TO follow
 * it).
 */
static void
test_stage_from_report(void **state)
{
	static const struct {
		const char *words;
		const char *want;
	}	cases[] = {
		{"The server refused the recipient after RCPT TO.", "userunknown"},
		{"The remote server refused the message in reply to end of DATA command.",
		"filtered"},
		{"Transcript:\n>>> DATA\n<<< 550 User unknown", "filtered"},
		{"Something went wrong.", "filtered"},
	};
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CLASSIFY_RESULT res;
		char	msg[4096];

		snprintf(msg, sizeof(msg),
			 "From: MAILER-DAEMON@mx.example.net\n"
			 "To: news@sender.example\n"
			 "Subject: Undelivered Mail Returned to Sender\n"
			 "MIME-Version: 1.0\n"
			 "Content-Type: multipart/report; report-type=delivery-status;"
			 " boundary=\"B\"\n\n"
			 "--B\nContent-Type: text/plain\n\n%s\n\n"
			 "<who@example.org>: 550 User unknown\n\n"
			 "--B\nContent-Type: message/delivery-status\n\n"
			 "Reporting-MTA: dns; mx.example.net\n\n"
			 "Final-Recipient: rfc822; who@example.org\n"
			 "Action: failed\nStatus: 5.0.0\n"
			 "Diagnostic-Code: smtp; 550 User unknown\n\n--B--\n",
			 cases[i].words);
		assert_int_equal(classify_message(msg, strlen(msg), &res), 0);
		assert_int_equal(res.nrcpt, 1);
		if (strcmp(res.rcpt[0].reason, cases[i].want) != 0)
			fail_msg("\"%s\": got %s (%s), want %s", cases[i].words,
				 res.rcpt[0].reason, res.rcpt[0].rule, cases[i].want);
		classify_free(&res);
	}
}

/*
 * Each thread keeps its own parser, buffers and converters from message
 * to message. Several threads classify the same messages (parts in more
 * character sets than a thread keeps converters for, base64, quoted-
 * printable) over and over, and each result is the one a single call gives.
 */
#define THREADS		4
#define THREAD_ROUNDS	25

static const char *const thread_charsets[] = {
	"iso-8859-1", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5",
	"iso-8859-7", "iso-8859-9", "iso-8859-15", "windows-1252", "koi8-r",
	"utf-8", "us-ascii",
};
#define NCHARSETS (sizeof(thread_charsets) / sizeof(thread_charsets[0]))

static char thread_msgs[NCHARSETS][2048];
static CLASSIFY_RCPT thread_want[NCHARSETS];

/* thread_msg - a bounce whose text is in one character set */

static void
thread_msg(char *buf, size_t size, const char *charset, int n)
{
	snprintf(buf, size,
		 "From: MAILER-DAEMON@mx.example.net\n"
		 "To: news@sender.example\n"
		 "Subject: =?%s?Q?Undelivered_mail_=E9?=\n"
		 "MIME-Version: 1.0\n"
		 "Content-Type: multipart/mixed; boundary=\"B\"\n\n"
		 "--B\nContent-Type: text/plain; charset=%s\n"
		 "Content-Transfer-Encoding: %s\n\n%s\n"
		 "--B\nContent-Type: message/rfc822\n\n"
		 "From: news@sender.example\nTo: who%d@example.org\n"
		 "Message-ID: <m%d@sender.example>\n\nHello\n--B--\n",
		 charset, charset, n % 2 ? "base64" : "quoted-printable",
		 n % 2 ? "PHdob0BleGFtcGxlLm9yZz46IDU1MiA1LjIuMiBNYWlsYm94IGZ1bGw="
		 : "<who@example.org>: 552 5.2.2 Mailbox =\nfull =E9", n, n);
}

/* thread_main - classify every message, many times, and compare */

static void *
thread_main(void *arg)
{
	int	round;
	size_t	i;
	long	bad = 0;

	(void) arg;
	for (round = 0; round < THREAD_ROUNDS; round++) {
		for (i = 0; i < NCHARSETS; i++) {
			CLASSIFY_RESULT res;

			classify_message(thread_msgs[i], strlen(thread_msgs[i]), &res);
			if (res.nrcpt != 1
			    || strcmp(res.rcpt[0].reason, thread_want[i].reason) != 0
			    || strcmp(res.rcpt[0].recipient, thread_want[i].recipient) != 0
			    || strcmp(res.rcpt[0].diagnostic, thread_want[i].diagnostic) != 0)
				bad++;
			classify_free(&res);
		}
	}
	return ((void *) bad);
}

static void
test_threads(void **state)
{
	pthread_t tid[THREADS];
	size_t	i;
	void   *bad;

	for (i = 0; i < NCHARSETS; i++) {
		CLASSIFY_RESULT res;

		thread_msg(thread_msgs[i], sizeof(thread_msgs[i]), thread_charsets[i], i);
		assert_int_equal(classify_message(thread_msgs[i], strlen(thread_msgs[i]),
						  &res), 0);
		assert_int_equal(res.kind, CLASSIFY_BOUNCE);
		assert_int_equal(res.nrcpt, 1);
		assert_string_equal(res.rcpt[0].recipient, "who@example.org");
		assert_string_equal(res.rcpt[0].reason, "mailboxfull");
		thread_want[i] = res.rcpt[0];
		classify_free(&res);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(tid + i, 0, thread_main, 0), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], &bad), 0);
		assert_int_equal((long) bad, 0);
	}
}

/* write_file - a small file in the current directory */

static void
write_file(const char *path, const char *text)
{
	FILE   *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/*
 * Phrase families of the vocabulary (bounce-reasons(5)): "{a|b}" and
 * "A * B", and the reply codes of a multi-line reply left out. Runs last:
 * it replaces the vocabulary in use.
 */
static void
test_vocab_patterns(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	char	path[64];
	static const char *const bad[] = {
		"mailboxfull generic {mailbox|inbox full\n",
		"mailboxfull generic {mailbox||inbox} full\n",
		"mailboxfull generic {} full\n",
		"mailboxfull generic mailbox *full\n",
		"mailboxfull generic mb * full\n",
		"mailboxfull generic {a|b|c|d|e|f|g} {a|b|c|d|e|f|g} {a|b|c|d|e|f|g} xyz\n",
		0,
	};
	const char *const *bp;

	snprintf(path, sizeof(path), "classify_test.%ld.reasons", (long) getpid());
	for (bp = bad; *bp; bp++) {
		write_file(path, *bp);
		strbuf_reset(&errs);
		if (classify_reasons_check(path, &errs) == 0)
			fail_msg("accepted: %s", *bp);
		assert_non_null(strstr(strbuf_str(&errs), ":1: "));
	}
	write_file(path,
		   "# families\n"
		   "mailboxfull generic {mailbox|inbox} * {is full|over quota}\n"
		   "suspend     generic {account|mailbox} * {disabled|suspended}\n"
		   "rejected    generic pipe to |\n"
		   "notcompliantrfc generic multiple addresses in from\n"
		   "systemerror generic over * over * over\n"
		   "mailboxfull generic quota\n"
		   "suspend     generic spf record\n"
		   "rejected    generic \xe6\x8b\x92\xe5\x90\xa6\n");
	strbuf_reset(&errs);
	assert_int_equal(classify_reasons_load(path, 0, &errs), 0);
	remove(path);
	strbuf_free(&errs);

	assert_reason("552 The mailbox of <who@example.org> is full", "mailboxfull");
	assert_reason("552 Inbox over quota", "mailboxfull");
	/* The parts in order, and B no more than 64 bytes after A. */
	assert_reason("550 Is full: the mailbox", "onhold");
	assert_reason("550 mailbox 0123456789012345678901234567890123456789"
		      "01234567890123456789012 is full", "onhold");
	assert_reason("550 mailbox 0123456789012345678901234567890123456789"
		      "0123456789012345678901 is full", "mailboxfull");
	assert_reason("550 This account has been disabled", "suspend");
	/* "|" outside braces is a byte like any other. */
	assert_reason("550 pipe to |/usr/bin/x failed", "rejected");
	/* "550-5.7.1 " between the lines of a reply is no part of the words. */
	assert_reason("550-5.7.1 Messages with multiple 550 5.7.1 addresses in From:"
		      " are not accepted", "notcompliantrfc");
	/* Three parts: each within reach of the last. */
	assert_reason("550 over and over and over", "systemerror");
	assert_reason("550 over and over", "onhold");

	/*
	 * Whole words: a phrase is not found inside a longer word, at either
	 * end; its last word stands for its plural in -s too. Bytes that are
	 * no ASCII letter or digit need no edge (a language written without
	 * spaces).
	 */
	assert_reason("550 quota exceeded", "mailboxfull");
	assert_reason("550 user is overquota", "onhold");
	assert_reason("550 quotation marks not allowed", "onhold");
	assert_reason("550 quotas exceeded", "mailboxfull");
	assert_reason("550 Bad SPF records for example.org", "suspend");
	assert_reason("550 Bad SPF recorded", "onhold");
	assert_reason("550 over and over and overtime", "onhold");
	assert_reason("550 takeover and over", "onhold");
	assert_reason("550 \xe5\x8f\x97\xe4\xbf\xa1\xe6\x8b\x92\xe5\x90\xa6", "rejected");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_result_free),
		cmocka_unit_test(test_not_message),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_field_bound),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_stage_from_report),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_vocab_patterns),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
