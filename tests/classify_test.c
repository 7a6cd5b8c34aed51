/*
 * classify_test - the inbound classifier on small hand-written messages:
 * one or more of each kind, and input that is not a message at all.
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

#include <unistd.h>

#include "util/strbuf.h"
#include "classify/classify.h"

/* classify - run the classifier on a string; must not fail */

static void
classify(const char *text, CLASSIFY_RESULT *res)
{
	assert_int_equal(classify_message(text, strlen(text), res), 0);
}

static const char dsn_3464[] =
"Return-Path: <>\n"
"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\n"
"To: news@sender.example\n"
"Subject: Undelivered Mail Returned to Sender\n"
"Auto-Submitted: auto-replied\n"
"MIME-Version: 1.0\n"
"Content-Type: multipart/report; report-type=delivery-status;\n"
"\tboundary=\"BOUND\"\n"
"\n"
"--BOUND\n"
"Content-Type: text/plain; charset=us-ascii\n"
"\n"
"I'm sorry to have to inform you that your message could not\n"
"be delivered to one or more recipients.\n"
"\n"
"<Nobody@Example.ORG>: host mx.example.org[192.0.2.1] said: 550 5.1.1\n"
"    <nobody@example.org>: Recipient address rejected: User unknown in\n"
"    local recipient table (in reply to RCPT TO command)\n"
"\n"
"--BOUND\n"
"Content-Type: message/delivery-status\n"
"\n"
"Reporting-MTA: dns; mx.example.net\n"
"\n"
"Final-Recipient: rfc822; Nobody@Example.ORG\n"
"Original-Recipient: rfc822;nobody@example.org\n"
"Action: failed\n"
"Status: 5.1.1\n"
"Remote-MTA: dns; mx.example.org\n"
"Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address\n"
"    rejected: User unknown in local recipient table\n"
"\n"
"Final-Recipient: rfc822; full@example.org\n"
"Action: failed\n"
"Status: 5.2.2\n"
"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\n"
"\n"
"--BOUND\n"
"Content-Type: text/rfc822-headers\n"
"\n"
"Return-Path: <bounce-123@sender.example>\n"
"From: News <news@sender.example>\n"
"To: nobody@example.org\n"
"Message-ID: <abc.123@sender.example>\n"
"Subject: Our offer\n"
"\n"
"--BOUND--\n";

static void
test_rfc3464(void **state)
{
	CLASSIFY_RESULT res;

	classify(dsn_3464, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 2);
	assert_string_equal(res.rcpt[0].recipient, "nobody@example.org");
	assert_string_equal(res.rcpt[0].status, "5.1.1");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_HARD);
	assert_string_equal(res.rcpt[0].reason, "userunknown");
	assert_string_equal(res.rcpt[0].remote_mta, "mx.example.org");
	assert_non_null(strstr(res.rcpt[0].diagnostic, "User unknown in local"));
	assert_string_equal(res.rcpt[1].recipient, "full@example.org");
	assert_string_equal(res.rcpt[1].reason, "mailboxfull");
	assert_int_equal(res.rcpt[1].class, CLASSIFY_SOFT);
	assert_string_equal(res.orig_message_id, "abc.123@sender.example");
	assert_string_equal(res.orig_return_path, "bounce-123@sender.example");
	classify_free(&res);
	assert_int_equal(res.nrcpt, 0);
}

static const char dsn_delayed[] =
"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
"To: news@sender.example\n"
"Subject: Delayed Mail (still being retried)\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n"
"\n"
"--b\n"
"Content-Type: text/plain\n"
"\n"
"<slow@example.com>: connect to mx.example.com[192.0.2.9]:25: Connection\n"
"    timed out\n"
"\n"
"--b\n"
"Content-Type: message/delivery-status\n"
"\n"
"Final-Recipient: rfc822; slow@example.com\n"
"Action: delayed\n"
"Status: 4.4.1\n"
"Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.9]:25:\n"
"    Connection timed out\n"
"\n"
"--b--\n";

static void
test_delayed(void **state)
{
	CLASSIFY_RESULT res;

	classify(dsn_delayed, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].status, "4.4.1");
	assert_string_equal(res.rcpt[0].action, "delayed");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_SOFT);
	assert_string_equal(res.rcpt[0].reason, "expired");
	classify_free(&res);
}

static const char qmail_text[] =
"From: MAILER-DAEMON@mail.example.jp\n"
"To: news@sender.example\n"
"Subject: failure notice\n"
"\n"
"Hi. This is the qmail-send program at mail.example.jp.\n"
"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
"This is a permanent error; I've given up. Sorry it didn't work out.\n"
"\n"
"<Full@Example.JP>:\n"
"192.0.2.1 does not like recipient.\n"
"Remote host said: 552 5.2.2 Mailbox quota exceeded\n"
"Giving up on 192.0.2.1.\n"
"\n"
"<gone@example.jp>:\n"
"Sorry, no mailbox here by that name. (#5.1.1)\n"
"\n"
"--- Below this line is a copy of the message.\n"
"\n"
"Return-Path: <news@sender.example>\n"
"Received: (qmail 1 invoked by uid 1); 1 Jan 2026 00:00:00 -0000\n"
"Message-ID: <m1@sender.example>\n"
"From: news@sender.example\n"
"To: someone-else@example.jp\n"
"\n"
"Hello someone-else@example.jp\n";

static void
test_text_bounce(void **state)
{
	CLASSIFY_RESULT res;

	classify(qmail_text, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 2);
	assert_string_equal(res.rcpt[0].recipient, "full@example.jp");
	assert_string_equal(res.rcpt[0].status, "5.2.2");
	assert_string_equal(res.rcpt[0].reason, "mailboxfull");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_SOFT);
	assert_string_equal(res.rcpt[1].recipient, "gone@example.jp");
	assert_string_equal(res.rcpt[1].status, "5.1.1");
	assert_string_equal(res.rcpt[1].reason, "userunknown");
	assert_int_equal(res.rcpt[1].class, CLASSIFY_HARD);
	assert_string_equal(res.orig_message_id, "m1@sender.example");
	classify_free(&res);
}

/* Two failures, one named again in a stronger place ("RCPT TO:<a>:"). */
static const char exim_two[] =
"From: Mail Delivery System <Mailer-Daemon@mail.example.net>\n"
"To: news@sender.example\n"
"Subject: Mail delivery failed: returning message to sender\n"
"X-Failed-Recipients: a@full.example, b@spam.example\n"
"\n"
"This message was created automatically by mail delivery software.\n"
"\n"
"A message that you sent could not be delivered to one or more of its\n"
"recipients. This is a permanent error. The following address(es) failed:\n"
"\n"
"  a@full.example\n"
"    host mx.full.example [192.0.2.3]\n"
"    SMTP error from remote mail server after RCPT TO:<a@full.example>:\n"
"    552 5.2.2 Mailbox quota exceeded\n"
"  b@spam.example\n"
"    host mx.spam.example [192.0.2.4]\n"
"    SMTP error from remote mail server after end of data:\n"
"    550 5.7.1 Message rejected as spam by Content Filtering\n"
"\n"
"------ This is a copy of the message, including all the headers. ------\n"
"\n"
"Return-path: <news@sender.example>\n"
"Message-Id: <E1abc-0001@sender.example>\n"
"From: news@sender.example\n"
"To: a@full.example, b@spam.example\n";

static void
test_text_bounce_two(void **state)
{
	CLASSIFY_RESULT res;

	classify(exim_two, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 2);
	assert_string_equal(res.rcpt[0].recipient, "a@full.example");
	assert_string_equal(res.rcpt[0].status, "5.2.2");
	assert_string_equal(res.rcpt[0].reason, "mailboxfull");
	assert_string_equal(res.rcpt[1].recipient, "b@spam.example");
	assert_string_equal(res.rcpt[1].status, "5.7.1");
	assert_string_equal(res.rcpt[1].reason, "spamdetected");
	assert_string_equal(res.orig_message_id, "E1abc-0001@sender.example");
	classify_free(&res);
}

static const char exim_b64[] =
"From: Mail Delivery System <Mailer-Daemon@relay.example.net>\n"
"To: news@sender.example\n"
"Subject: Mail delivery failed: returning message to sender\n"
"X-Failed-Recipients: user@example.net\n"
"Content-Type: text/plain; charset=utf-8\n"
"Content-Transfer-Encoding: base64\n"
"\n"
/* "This message was created automatically by mail delivery software.\n\n
 * A message that you sent could not be delivered to one or more of its\n
 * recipients. This is a permanent error. The following address(es) failed:\n\n
 *   user@example.net\n    host mx.example.net [192.0.2.7]\n
 *     SMTP error from remote mail server after RCPT TO:<user@example.net>:\n
 *     550 5.7.1 Service unavailable; client host blocked using Spamhaus\n" */
"VGhpcyBtZXNzYWdlIHdhcyBjcmVhdGVkIGF1dG9tYXRpY2FsbHkgYnkgbWFpbCBkZWxpdmVy\n"
"eSBzb2Z0d2FyZS4KCkEgbWVzc2FnZSB0aGF0IHlvdSBzZW50IGNvdWxkIG5vdCBiZSBkZWxp\n"
"dmVyZWQgdG8gb25lIG9yIG1vcmUgb2YgaXRzCnJlY2lwaWVudHMuIFRoaXMgaXMgYSBwZXJt\n"
"YW5lbnQgZXJyb3IuIFRoZSBmb2xsb3dpbmcgYWRkcmVzcyhlcykgZmFpbGVkOgoKICB1c2Vy\n"
"QGV4YW1wbGUubmV0CiAgICBob3N0IG14LmV4YW1wbGUubmV0IFsxOTIuMC4yLjddCiAgICBT\n"
"TVRQIGVycm9yIGZyb20gcmVtb3RlIG1haWwgc2VydmVyIGFmdGVyIFJDUFQgVE86PHVzZXJA\n"
"ZXhhbXBsZS5uZXQ+OgogICAgNTUwIDUuNy4xIFNlcnZpY2UgdW5hdmFpbGFibGU7IGNsaWVu\n"
"dCBob3N0IGJsb2NrZWQgdXNpbmcgU3BhbWhhdXMK\n";

static void
test_base64_bounce(void **state)
{
	CLASSIFY_RESULT res;

	classify(exim_b64, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "user@example.net");
	assert_string_equal(res.rcpt[0].status, "5.7.1");
	assert_string_equal(res.rcpt[0].reason, "blocked");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_SOFT);
	classify_free(&res);
}

/* A Japanese report in ISO-2022-JP, in a DSN part that declares no charset. */
static const char jp_dsn[] =
"From: Postmaster <postmaster@example.jp>\n"
"Subject: DELIVERY FAILURE\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"j\"\n"
"\n"
"--j\n"
"Content-Type: text/plain; charset=ISO-2022-JP\n"
"\n"
"Your message was not delivered to neko@example.jp\n"
"--j\n"
"Content-Type: message/delivery-status\n"
"\n"
"Reporting-MTA: dns; mx.example.jp\n"
"\n"
"Final-Recipient: rfc822;neko@example.jp\n"
"Action: failed\n"
"Status: 5.0.0\n"
"Diagnostic-Code: X-Notes; \033$B%f!<%6!<\033(B Neko (neko@example.jp) \033$B$O\033(B \033$B%G%#%l%/%H%j$K$O8+$D$+$j$^$;$s!#\033(B\n"
"--j--\n";

static void
test_charset(void **state)
{
	CLASSIFY_RESULT res;

	classify(jp_dsn, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "neko@example.jp");
	/* Decoded to UTF-8: the Japanese "not found" is understood. */
	assert_non_null(strstr(res.rcpt[0].diagnostic, "\xe8\xa6\x8b\xe3\x81\xa4\xe3\x81\x8b"));
	assert_string_equal(res.rcpt[0].reason, "userunknown");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_HARD);
	classify_free(&res);
}

static const char vacation_en[] =
"From: Alice Example <Alice@Example.com>\n"
"To: news@sender.example\n"
"Subject: Out of Office: Our offer\n"
"In-Reply-To: <abc.123@sender.example>\n"
"References: <abc.123@sender.example>\n"
"Auto-Submitted: auto-replied\n"
"\n"
"I am out of the office until Monday.\n";

static const char vacation_de[] =
"From: bob@example.de\n"
"To: news@sender.example\n"
"Subject: =?ISO-8859-1?Q?Abwesenheitsnotiz=3A_Ihr_Angebot?=\n"
"In-Reply-To: <abc.124@sender.example>\n"
"\n"
"Ich bin bis zum 3. Januar nicht im B=FCro.\n";

static const char vacation_fr[] =
"From: claire@example.fr\n"
"To: news@sender.example\n"
"Subject: =?UTF-8?B?UsOpcG9uc2UgYXV0b21hdGlxdWUgOiBWb3RyZSBvZmZyZQ==?=\n"
"\n"
"Je suis absente.\n";

static void
test_vacation(void **state)
{
	CLASSIFY_RESULT res;

	classify(vacation_en, &res);
	assert_int_equal(res.kind, CLASSIFY_AUTOREPLY);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "alice@example.com");
	assert_string_equal(res.rcpt[0].reason, "vacation");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_NONE);
	assert_string_equal(res.in_reply_to, "abc.123@sender.example");
	classify_free(&res);

	/* Only the subject says so; it is RFC 2047-encoded. Never a reply. */
	classify(vacation_de, &res);
	assert_int_equal(res.kind, CLASSIFY_AUTOREPLY);
	assert_string_equal(res.from, "bob@example.de");
	classify_free(&res);

	classify(vacation_fr, &res);
	assert_int_equal(res.kind, CLASSIFY_AUTOREPLY);
	classify_free(&res);
}

static const char arf[] =
"From: feedback@fbl.example.net\n"
"To: fbl@sender.example\n"
"Subject: FW: Our offer\n"
"MIME-Version: 1.0\n"
"Content-Type: multipart/report; report-type=feedback-report; boundary=\"part\"\n"
"\n"
"--part\n"
"Content-Type: text/plain\n"
"\n"
"This is an email abuse report.\n"
"\n"
"--part\n"
"Content-Type: message/feedback-report\n"
"\n"
"Feedback-Type: abuse\n"
"User-Agent: ExampleFBL/1.0\n"
"Version: 1\n"
"Original-Mail-From: <bounce-9@sender.example>\n"
"Original-Rcpt-To: <Carol@Example.net>\n"
"Arrival-Date: Thu, 1 Jan 2026 10:00:00 +0000\n"
"\n"
"--part\n"
"Content-Type: message/rfc822\n"
"\n"
"From: news@sender.example\n"
"To: carol@example.net\n"
"Message-ID: <offer-9@sender.example>\n"
"Subject: Our offer\n"
"\n"
"Buy now.\n"
"--part--\n";

static void
test_arf(void **state)
{
	CLASSIFY_RESULT res;

	classify(arf, &res);
	assert_int_equal(res.kind, CLASSIFY_COMPLAINT);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "carol@example.net");
	assert_string_equal(res.rcpt[0].reason, "feedback");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_NONE);
	assert_string_equal(res.feedback_type, "abuse");
	assert_string_equal(res.orig_message_id, "offer-9@sender.example");
	assert_string_equal(res.orig_return_path, "bounce-9@sender.example");
	classify_free(&res);
}

static const char mdn[] =
"From: dave@example.org\n"
"To: news@sender.example\n"
"Subject: Read: Our offer\n"
"MIME-Version: 1.0\n"
"Content-Type: multipart/report; report-type=disposition-notification;\n"
"    boundary=\"m\"\n"
"\n"
"--m\n"
"Content-Type: text/plain\n"
"\n"
"Your message was displayed.\n"
"--m\n"
"Content-Type: message/disposition-notification\n"
"\n"
"Reporting-UA: mail.example.org; ExampleMail\n"
"Final-Recipient: rfc822; Dave@example.org\n"
"Original-Message-ID: <offer-10@sender.example>\n"
"Disposition: manual-action/MDN-sent-manually; displayed\n"
"--m--\n";

static void
test_mdn(void **state)
{
	CLASSIFY_RESULT res;

	classify(mdn, &res);
	assert_int_equal(res.kind, CLASSIFY_MDN);
	assert_string_equal(res.mdn_disposition, "displayed");
	assert_string_equal(res.orig_message_id, "offer-10@sender.example");
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "dave@example.org");
	assert_string_equal(classify_kind_name(res.kind), "mdn");
	classify_free(&res);
}

static const char reply[] =
"From: \"Erin\" <erin@example.com>\n"
"To: sales@sender.example\n"
"Subject: Re: Our offer\n"
"In-Reply-To: <offer-11@sender.example>\n"
"References: <thread-1@sender.example>\n"
"  <offer-11@sender.example>\n"
"\n"
"Yes, please call me.\n";

/* A person's answer that talks about a delivery is still an answer. */
static const char reply_delivery[] =
"From: grace@example.com\n"
"To: shop@sender.example\n"
"Subject: Re: Your order\n"
"In-Reply-To: <order-12@sender.example>\n"
"\n"
"Hello, the parcel could not be delivered to my old address.\n"
"Please send it to my office instead.\n"
"\n"
"Grace\n"
"grace.office@example.com\n";

static void
test_reply(void **state)
{
	CLASSIFY_RESULT res;

	classify(reply_delivery, &res);
	assert_int_equal(res.kind, CLASSIFY_REPLY);
	assert_int_equal(res.nrcpt, 0);
	classify_free(&res);

	classify(reply, &res);
	assert_int_equal(res.kind, CLASSIFY_REPLY);
	assert_string_equal(res.from, "erin@example.com");
	assert_string_equal(res.in_reply_to, "offer-11@sender.example");
	assert_int_equal(res.nreferences, 2);
	assert_string_equal(res.references[0], "offer-11@sender.example");
	assert_string_equal(res.references[1], "thread-1@sender.example");
	assert_string_equal(res.subject, "Re: Our offer");
	assert_int_equal(res.nrcpt, 0);
	classify_free(&res);
}

static const char plain[] =
"From: frank@example.com\n"
"To: info@sender.example\n"
"Subject: A question about delivery times\n"
"\n"
"When will my order be delivered?\n";

static void
test_plain(void **state)
{
	CLASSIFY_RESULT res;

	classify(plain, &res);
	assert_int_equal(res.kind, CLASSIFY_OTHER);
	assert_int_equal(res.nrcpt, 0);
	classify_free(&res);
}

static void
test_malformed(void **state)
{
	CLASSIFY_RESULT res;
	static const char *const bad[] = {
		"From: x\n\n--no boundary\n",
		"Content-Type: multipart/report; report-type=delivery-status; boundary=z\n"
		"\n--z\nContent-Type: message/delivery-status\n\n"
		"Final-Recipient: rfc822; \nAction: failed\nStatus: 9.9\n"
		"Diagnostic-Code: smtp;\n--z\nContent-Type: message/rfc822\n\n",
		"Subject: =?utf-8?B?====?=\nFrom: <@>\nReferences: <<<<>>>>\n\n",
		"From: MAILER-DAEMON@x\nSubject: Undelivered\n\n<@>:\n<a@>:\n@@@@\n",
		"Content-Type: message/feedback-report\n\nOriginal-Rcpt-To:\n",
		"Content-Type: text/plain; charset=x-unknown-charset\n"
		"Content-Transfer-Encoding: quoted-printable\n\n=ZZ=\n",
	};
	char	junk[4096];
	size_t	i;

	/* Not a message at all. */
	assert_int_equal(classify_message("", 0, &res), -1);
	assert_int_equal(res.kind, CLASSIFY_OTHER);
	classify_free(&res);
	assert_int_equal(classify_message("no header here", 14, &res), -1);
	classify_free(&res);

	/* Broken, but must not crash and must give a sane result. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		classify_message(bad[i], strlen(bad[i]), &res);
		assert_true(res.kind >= CLASSIFY_OTHER && res.kind <= CLASSIFY_MDN);
		assert_true(res.nrcpt <= CLASSIFY_MAX_RCPT);
		classify_free(&res);
	}
	srand(7);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = rand() & 0xff;
	memcpy(junk, "From: a@b\n\n", 11);
	classify_message(junk, sizeof(junk), &res);
	classify_free(&res);

	/*
	 * A DSN field whose continuation lines run past the field bound (the
	 * value is cut, the rest skipped).
	 */
	{
		char   *big = malloc(20000);
		size_t	n;

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

	/* An embedded NUL ends nothing early and breaks nothing. */
	classify_message("From: a@b\0x\n\nbody", 18, &res);
	classify_free(&res);
}

/* Auto-reply headers other than Auto-Submitted; "Auto-Submitted: no" is a person. */
static const char autoreply_x[] =
"From: henry@example.com\n"
"To: news@sender.example\n"
"Subject: Re: Our offer\n"
"X-Autoreply: yes\n"
"In-Reply-To: <offer-20@sender.example>\n"
"\n"
"Thank you for your mail.\n";

static const char autoreply_prec[] =
"From: ida@example.com\n"
"To: news@sender.example\n"
"Subject: Re: Our offer\n"
"Precedence: auto_reply\n"
"\n"
"Your message has been received.\n";

static const char reply_not_auto[] =
"From: jack@example.com\n"
"To: news@sender.example\n"
"Subject: Re: Our offer\n"
"Auto-Submitted: no\n"
"In-Reply-To: <offer-21@sender.example>\n"
"\n"
"Sounds good.\n";

static void
test_autoreply_headers(void **state)
{
	CLASSIFY_RESULT res;

	classify(autoreply_x, &res);
	assert_int_equal(res.kind, CLASSIFY_AUTOREPLY);
	assert_string_equal(res.from, "henry@example.com");
	classify_free(&res);

	classify(autoreply_prec, &res);
	assert_int_equal(res.kind, CLASSIFY_AUTOREPLY);
	classify_free(&res);

	classify(reply_not_auto, &res);
	assert_int_equal(res.kind, CLASSIFY_REPLY);
	classify_free(&res);
}

/*
 * A report inside a multipart/mixed (as some gateways forward them): the
 * text part quoted-printable, the status part as usual, the original's
 * headers as text/rfc822-headers with an RFC 2047 subject.
 */
static const char nested_qp[] =
"From: postmaster@gw.example.com\n"
"To: bounce-7@sender.example\n"
"Subject: Delivery failure\n"
"MIME-Version: 1.0\n"
"Content-Type: multipart/mixed; boundary=\"outer\"\n"
"\n"
"--outer\n"
"Content-Type: multipart/report; report-type=delivery-status; boundary=\"inner\"\n"
"\n"
"--inner\n"
"Content-Type: text/plain; charset=iso-8859-1\n"
"Content-Transfer-Encoding: quoted-printable\n"
"\n"
"Die Nachricht konnte nicht zugestellt werden an <kim@example.de>:=\n"
" Postfach voll (552 5.2.2 Mailbox =FCberf=FCllt)\n"
"--inner\n"
"Content-Type: message/delivery-status\n"
"\n"
"Reporting-MTA: dns; gw.example.com\n"
"\n"
"Final-Recipient: rfc822; kim@example.de\n"
"Action: failed\n"
"Status: 5.2.2\n"
"Diagnostic-Code: smtp; 552 5.2.2 mailbox full\n"
"\n"
"--inner\n"
"Content-Type: text/rfc822-headers\n"
"\n"
"From: news@sender.example\n"
"To: kim@example.de\n"
"Message-ID: <offer-30@sender.example>\n"
"Subject: =?UTF-8?Q?Unser_Angebot_f=C3=BCr_Sie?=\n"
"\n"
"--inner--\n"
"--outer--\n";

static void
test_nested_qp(void **state)
{
	CLASSIFY_RESULT res;

	classify(nested_qp, &res);
	assert_int_equal(res.kind, CLASSIFY_BOUNCE);
	assert_int_equal(res.nrcpt, 1);
	assert_string_equal(res.rcpt[0].recipient, "kim@example.de");
	assert_string_equal(res.rcpt[0].status, "5.2.2");
	assert_string_equal(res.rcpt[0].reason, "mailboxfull");
	assert_int_equal(res.rcpt[0].class, CLASSIFY_SOFT);
	assert_string_equal(res.orig_message_id, "offer-30@sender.example");
	classify_free(&res);
}

static void
test_names(void **state)
{
	assert_string_equal(classify_kind_name(CLASSIFY_BOUNCE), "bounce");
	assert_string_equal(classify_kind_name(CLASSIFY_AUTOREPLY), "autoreply");
	assert_string_equal(classify_kind_name(CLASSIFY_COMPLAINT), "complaint");
	assert_string_equal(classify_kind_name(CLASSIFY_REPLY), "reply");
	assert_string_equal(classify_kind_name(CLASSIFY_OTHER), "other");
	assert_string_equal(classify_class_name(CLASSIFY_HARD), "hard");
	assert_string_equal(classify_class_name(CLASSIFY_SOFT), "soft");
	assert_string_equal(classify_class_name(CLASSIFY_NONE), "none");
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
	classify(msg, res);
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
		   "systemerror generic over * over * over\n");
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
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3464),
		cmocka_unit_test(test_delayed),
		cmocka_unit_test(test_text_bounce),
		cmocka_unit_test(test_text_bounce_two),
		cmocka_unit_test(test_base64_bounce),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_vacation),
		cmocka_unit_test(test_arf),
		cmocka_unit_test(test_mdn),
		cmocka_unit_test(test_reply),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_autoreply_headers),
		cmocka_unit_test(test_nested_qp),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_vocab_patterns),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
