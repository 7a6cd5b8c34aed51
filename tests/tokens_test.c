/*
 * tokens_test - signing, verification, tampering, key rotation, key files.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/mymalloc.h"
#include "testutil.h"
#include "token/tokens.h"
#include "token/track.h"

static const unsigned char secret1[] = "0123456789abcdef0123456789abcdef";
static const unsigned char secret2[] = "fedcba9876543210fedcba9876543210";

static void
test_roundtrip(void **state)
{
	TOKENS *tk = tokens_from_secret(1, secret1, 32);
	TOKEN	t = {TOKEN_CLICK, 123456789, 42, 3}, got;
	char	buf[TOKEN_TEXT_MAX], upper[TOKEN_TEXT_MAX];
	const char *url = "https://example.com/pricing";
	size_t	i;

	tokens_sign(tk, &t, url, strlen(url), buf);
	/* Local-part and URL safe: lower-case letters and digits only. */
	for (i = 0; buf[i]; i++)
		assert_true((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= '2' && buf[i] <= '7'));
	assert_true(strlen(buf) < 40);
	assert_int_equal(tokens_verify(tk, buf, strlen(buf), url, strlen(url), &got), TOKENS_OK);
	assert_int_equal(got.kind, TOKEN_CLICK);
	assert_int_equal(got.contact, 123456789);
	assert_int_equal(got.message, 42);
	assert_int_equal(got.aux, 3);
	/* Case-insensitive (mail systems fold local parts). */
	for (i = 0; buf[i]; i++)
		upper[i] = buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i];
	upper[i] = 0;
	assert_int_equal(tokens_verify(tk, upper, strlen(upper), url, strlen(url), &got), TOKENS_OK);
	/* Bound to its URL. */
	assert_int_equal(tokens_verify(tk, buf, strlen(buf), "https://evil.example", 20, &got), TOKENS_BAD);
	tokens_free(tk);
}

static void
test_tamper(void **state)
{
	TOKENS *tk = tokens_from_secret(1, secret1, 32);
	TOKEN	t = {TOKEN_VERP, 77, 99, 0}, got;
	char	buf[TOKEN_TEXT_MAX], bad[TOKEN_TEXT_MAX];
	size_t	len, i;
	const char *alphabet = "abcdefghijklmnopqrstuvwxyz234567";

	tokens_sign(tk, &t, 0, 0, buf);
	len = strlen(buf);
	/* Every single-character change at every position is refused. */
	for (i = 0; i < len; i++) {
		for (const char *a = alphabet; *a; a++) {
			if (*a == buf[i])
				continue;
			strcpy(bad, buf);
			bad[i] = *a;
			assert_int_not_equal(tokens_verify(tk, bad, len, 0, 0, &got), TOKENS_OK);
		}
	}
	/* Truncated, extended, junk. */
	assert_int_not_equal(tokens_verify(tk, buf, len - 1, 0, 0, &got), TOKENS_OK);
	strcpy(bad, buf);
	strcat(bad, "a");
	assert_int_not_equal(tokens_verify(tk, bad, len + 1, 0, 0, &got), TOKENS_OK);
	assert_int_equal(tokens_verify(tk, "hello-world", 11, 0, 0, &got), TOKENS_BAD);
	assert_int_equal(tokens_verify(tk, "", 0, 0, 0, &got), TOKENS_BAD);
	tokens_free(tk);
}

static void
test_rotation(void **state)
{
	char   *dir = test_mkdtemp();
	char   *path = myasprintf("%s/keys", dir);
	char   *err;
	TOKENS *old, *new;
	TOKEN	t = {TOKEN_UNSUB, 5, 6, 0}, got;
	char	buf[TOKEN_TEXT_MAX], buf2[TOKEN_TEXT_MAX];
	struct stat st;
	int	keyid;

	assert_int_equal(tokens_keygen(path, &keyid, &err), 0);
	assert_int_equal(keyid, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	old = tokens_load(path, &err);
	assert_non_null(old);
	tokens_sign(old, &t, 0, 0, buf);
	/* A new key signs; mail signed with the old one still verifies. */
	assert_int_equal(tokens_keygen(path, &keyid, &err), 0);
	assert_int_equal(keyid, 2);
	new = tokens_load(path, &err);
	assert_non_null(new);
	assert_int_equal(tokens_verify(new, buf, strlen(buf), 0, 0, &got), TOKENS_OK);
	tokens_sign(new, &t, 0, 0, buf2);
	assert_string_not_equal(buf, buf2);
	/* A key set without key 2 does not know it. */
	assert_int_equal(tokens_verify(old, buf2, strlen(buf2), 0, 0, &got), TOKENS_NOKEY);
	tokens_free(old);
	tokens_free(new);
	/* Readable by others: refused. */
	chmod(path, 0644);
	assert_null(tokens_load(path, &err));
	assert_non_null(strstr(err, "readable by others"));
	myfree(err);
	myfree(path);
	test_rmdir(dir);
}

static void
test_other_key(void **state)
{
	TOKENS *a = tokens_from_secret(1, secret1, 32);
	TOKENS *b = tokens_from_secret(1, secret2, 32);
	TOKEN	t = {TOKEN_OPEN, 1, 2, 0}, got;
	char	buf[TOKEN_TEXT_MAX];

	tokens_sign(a, &t, 0, 0, buf);
	assert_int_equal(tokens_verify(b, buf, strlen(buf), 0, 0, &got), TOKENS_BAD);
	tokens_free(a);
	tokens_free(b);
}

/*
 * Known answers: the text tokens_sign() makes, built here from the
 * format (tokens(3)) with OpenSSL's one-shot HMAC(), whether the MAC comes
 * from a thread's first context, its reused one, another key's, or
 * another thread's.
 */
typedef struct KAT {
	const unsigned char *secret;
	int	keyid;
	uint64_t contact, message;
	const char *bind;
	char	want[TOKEN_TEXT_MAX];
} KAT;

static void
kat_expect(KAT *k)
{
	unsigned char bin[64], msg[80], mac[32];
	unsigned int maclen = 0;
	size_t	n = 0, i, o = 0;
	unsigned acc = 0;
	int	bits = 0;
	uint64_t v[3] = {k->contact, k->message, 0};

	bin[n++] = TOKEN_OPEN;
	bin[n++] = (unsigned char) k->keyid;
	for (i = 0; i < 3; i++) {
		while (v[i] >= 0x80) {
			bin[n++] = (unsigned char) (v[i] | 0x80);
			v[i] >>= 7;
		}
		bin[n++] = (unsigned char) v[i];
	}
	memcpy(msg, "pdtok1", 6);
	memcpy(msg + 6, bin, n);
	memcpy(msg + 6 + n, k->bind, strlen(k->bind));
	assert_non_null(HMAC(EVP_sha256(), k->secret, 32, msg, 6 + n + strlen(k->bind), mac, &maclen));
	memcpy(bin + n, mac, 10);
	n += 10;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | bin[i];
		for (bits += 8; bits >= 5; bits -= 5)
			k->want[o++] = "abcdefghijklmnopqrstuvwxyz234567"[(acc >> (bits - 5)) & 31];
	}
	if (bits)
		k->want[o++] = "abcdefghijklmnopqrstuvwxyz234567"[(acc << (5 - bits)) & 31];
	k->want[o] = 0;
}

typedef struct {
	TOKENS *tk;
	const char *want;
} KAT_ARG;

/* kat_thread - a new thread signs with its copy of the keyed context */

static void *
kat_thread(void *arg)
{
	KAT_ARG *a = arg;
	TOKEN	t = {TOKEN_OPEN, 7, 300, 0};
	char	buf[TOKEN_TEXT_MAX];
	int	i, bad = 0;

	for (i = 0; i < 3; i++) {
		bad += strcmp(tokens_sign(a->tk, &t, "x", 1, buf), a->want) != 0;
		bad += tokens_verify(a->tk, buf, strlen(buf), "x", 1, &t) != TOKENS_OK;
	}
	return (bad ? "" : 0);
}

static void
test_known_answer(void **state)
{
	TOKENS *a = tokens_from_secret(1, secret1, 32);
	TOKENS *b = tokens_from_secret(2, secret2, 32);
	KAT	ka = {secret1, 1, 7, 300, "x", ""}, kb = {secret2, 2, 7, 300, "x", ""};
	TOKEN	t = {TOKEN_OPEN, 7, 300, 0};
	char	buf[TOKEN_TEXT_MAX];
	pthread_t th[8];
	KAT_ARG	arg;
	void   *res;
	int	i;

	kat_expect(&ka);
	kat_expect(&kb);
	assert_string_not_equal(ka.want, kb.want);
	for (i = 0; i < 3; i++) {
		assert_string_equal(tokens_sign(a, &t, "x", 1, buf), ka.want);
		assert_string_equal(tokens_sign(b, &t, "x", 1, buf), kb.want);
	}
	for (i = 0; i < 3; i++)
		assert_string_equal(tokens_sign(a, &t, "x", 1, buf), ka.want);
	/* Eight new threads at once, each copying the keyed context. */
	arg.tk = a;
	arg.want = ka.want;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(th + i, 0, kat_thread, &arg), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], &res), 0);
		assert_null(res);
	}
	/* A TOKENS freed and made again with another secret under the same
	 * key id is keyed afresh. */
	tokens_free(a);
	a = tokens_from_secret(1, secret2, 32);
	tokens_sign(a, &t, "x", 1, buf);
	assert_string_not_equal(buf, ka.want);
	tokens_free(a);
	tokens_free(b);
}

/* click - the click URL the milter makes of a link, taken apart again */

static void
click(const TOKENS *tk, const char *name, const char *url, STRBUF *out, TRACK_REQ *r)
{
	const char *q;
	char   *path;

	strbuf_reset(out);
	track_click_url(out, tk, "https://t.example/", 5, 9, 1, name, url);
	assert_int_equal(strncmp(strbuf_str(out), "https://t.example/c/", 20), 0);
	q = strchr(strbuf_str(out), '?');
	assert_non_null(q);
	path = mystrndup(strbuf_str(out) + 17, q - strbuf_str(out) - 17);
	assert_int_equal(track_parse(path, q + 1, r), 0);
	myfree(path);
}

/* test_click_url - names, encoding, and what may not be changed */

static void
test_click_url(void **state)
{
	TOKENS *tk = tokens_from_secret(1, secret1, 32);
	STRBUF	out = STRBUF_INIT;
	STRBUF	name = STRBUF_INIT;
	TRACK_REQ r;
	TOKEN	t;
	char	longurl[400];
	const char *u = "https://Shop.Example.COM.:8443/p/9?utm_source=news&x=a+b#top";

	(void) state;
	/* Named by the URL (host lower-cased, no port, no query): no l=. */
	assert_int_equal(track_link_name(u, &name), 1);
	assert_string_equal(strbuf_str(&name), "shop.example.com/p/9");
	assert_int_equal(track_link_name("https://user@pass@h.test", &name), 1);
	assert_string_equal(strbuf_str(&name), "h.test");
	assert_int_equal(track_link_name("https://[2001:db8::1]:80/a", &name), 1);
	assert_string_equal(strbuf_str(&name), "[2001:db8::1]/a");
	assert_int_equal(track_link_name("mailto:a@b.test", &name), 0);
	assert_int_equal(track_link_name("https:///x", &name), 0);
	click(tk, "shop.example.com/p/9", u, &out, &r);
	assert_null(strstr(strbuf_str(&out), "l="));
	assert_non_null(strstr(strbuf_str(&out), "?u=https://Shop.Example.COM.:8443/p/9"
			       "?utm_source=news%26x=a%2Bb%23top"));
	assert_string_equal(r.url, u);
	/* As older versions wrote it, "=" escaped: the same URL. */
	{
		TRACK_REQ old;
		char   *q = strchr(strbuf_str(&out), '?');
		STRBUF	o2 = STRBUF_INIT;
		const char *p;

		for (p = q + 1; *p; p++) {
			if (*p == '=' && p > q + 2)
				strbuf_puts(&o2, "%3D");
			else
				strbuf_putc(&o2, *p);
		}
		*q = 0;
		assert_int_equal(track_parse(strstr(strbuf_str(&out), "/c/"), strbuf_str(&o2), &old), 0);
		*q = '?';
		assert_string_equal(old.url, u);
		assert_int_equal(track_verify(tk, &old, &t), TOKENS_OK);
		strbuf_free(&o2);
	}
	assert_string_equal(r.name, "shop.example.com/p/9");
	assert_int_equal(track_verify(tk, &r, &t), TOKENS_OK);
	assert_int_equal(t.contact, 5);
	/* Another URL under the same token: its own name, refused. */
	snprintf(r.url, sizeof(r.url), "https://shop.example.com/p/8");
	snprintf(r.name, sizeof(r.name), "shop.example.com/p/8");
	assert_int_equal(track_verify(tk, &r, &t), TOKENS_BAD);
	/* A name of the sender's: sent as l=, and bound. */
	click(tk, "pricing", u, &out, &r);
	assert_non_null(strstr(strbuf_str(&out), "?l=pricing&u="));
	assert_string_equal(r.name, "pricing");
	assert_int_equal(track_verify(tk, &r, &t), TOKENS_OK);
	snprintf(r.name, sizeof(r.name), "shop.example.com/p/9");
	assert_int_equal(track_verify(tk, &r, &t), TOKENS_BAD);
	/* A path longer than a name may be: the name is cut, both ends
	 * agree, and the click verifies (it was refused at 129 bytes). */
	memset(longurl, 0, sizeof(longurl));
	strcpy(longurl, "https://shop.example.com/");
	memset(longurl + strlen(longurl), 'a', 300);
	assert_int_equal(track_link_name(longurl, &name), 1);
	assert_int_equal(strbuf_len(&name), TRACK_NAME_MAX);
	click(tk, strbuf_str(&name), longurl, &out, &r);
	assert_null(strstr(strbuf_str(&out), "l="));
	assert_int_equal(track_verify(tk, &r, &t), TOKENS_OK);
	/* No u=, or two: malformed. */
	assert_int_equal(track_parse("/c/aaaaaaaaaaaaaaaaaaaaaaaa", "l=x", &r), -1);
	assert_int_equal(track_parse("/c/aaaaaaaaaaaaaaaaaaaaaaaa", "u=https://a.test&u=https://b.test", &r), -1);
	strbuf_free(&out);
	strbuf_free(&name);
	tokens_free(tk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_click_url),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}
