/*++
/* NAME
/*	tokens 3
/* SUMMARY
/*	compact HMAC-signed tokens
/* SYNOPSIS
/*	#include "token/tokens.h"
/*
/*	TOKENS	*tokens_load(path, &err)
/*	char	*tokens_sign(tk, token, bind, bindlen, buf)
/*	int	tokens_verify(tk, text, len, bind, bindlen, &token)
/* DESCRIPTION
/*	Binary form: kind (1 byte), key id (1 byte), contact, message and
/*	aux as unsigned LEB128 varints, then the first TOKEN_MAC_LEN bytes of
/*	HMAC-SHA256(key, "pdtok1" || the bytes before || bind). Text form:
/*	that in RFC 4648 base32 with the lower-case alphabet and no padding.
/*
/*	80 bits of MAC: a forger must guess, one try per request that we
/*	answer, a value from 2^80; the tracker and the milter both log
/*	refusals, and that is far beyond what could be tried over SMTP or
/*	HTTP. The bind bytes (e.g. a click's target URL) are covered by the
/*	MAC without being carried, so a token cannot be moved to another URL.
/*
/*	Verification decodes case-insensitively, recomputes the MAC with the
/*	key named by the key id, and compares in constant time.
/* DIAGNOSTICS
/*	tokens_load() refuses a key file that others can read.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "token/tokens.h"

#define TOKEN_MAC_LEN	10
#define TOKEN_BIN_MAX	(2 + 10 + 10 + 5 + TOKEN_MAC_LEN)
#define TOKEN_KEY_MAX	64
#define TOKEN_DOMAIN	"pdtok1"

typedef struct TOKEN_KEY {
	int	id;
	unsigned char secret[TOKEN_KEY_MAX];
	size_t	len;
} TOKEN_KEY;

struct TOKENS {
	TOKEN_KEY keys[256];		/* by key id; len 0: none */
	int	current;		/* key id that signs */
	EVP_MAC *hmac;			/* fetched once: fetching is slow */
	EVP_MAC_CTX *keyed[256];	/* by key id: HMAC with its key set */
	uint64_t gen;			/* unique among the TOKENS of a process */
};

/*
 * Keying HMAC hashes the key's two pads, and a new OpenSSL context
 * looks its digest up again. Each key is keyed once, when the key file
 * is read (tk->keyed, never changed after). A thread that signs or
 * verifies tokens (the tracker's request threads, the milter's) keeps a
 * copy of the last keyed context and starts each MAC from it
 * (EVP_MAC_init() with no key starts over with the key already set); a
 * new thread copies it from tk->keyed (libmilter's worker threads come
 * and go under load). The cache names the TOKENS by its generation,
 * never reused, so a freed and reloaded key file is never served from a
 * stale context; the context is freed (and cleansed by OpenSSL) when the
 * thread ends or moves to another key.
 */
typedef struct TOKENS_TLS {
	uint64_t gen;
	int	keyid;
	EVP_MAC_CTX *ctx;
} TOKENS_TLS;

static pthread_key_t tokens_tls_key;
static pthread_once_t tokens_tls_once = PTHREAD_ONCE_INIT;
static uint64_t tokens_gen;

/* tokens_tls_free - a thread ends */

static void
tokens_tls_free(void *arg)
{
	TOKENS_TLS *c = arg;

	EVP_MAC_CTX_free(c->ctx);
	myfree(c);
}

static void
tokens_tls_init(void)
{
	if (pthread_key_create(&tokens_tls_key, tokens_tls_free) != 0)
		msg_fatal("tokens: pthread_key_create failed");
}

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* tokens_b32_encode - binary to lower-case base32, no padding */

static size_t
tokens_b32_encode(const unsigned char *in, size_t len, char *out)
{
	size_t	i, o = 0;
	unsigned int acc = 0;
	int	bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32[(acc << (5 - bits)) & 31];
	out[o] = 0;
	return (o);
}

/* tokens_b32_decode - base32 (either case) to binary; -1 if malformed */

static ssize_t
tokens_b32_decode(const char *in, size_t len, unsigned char *out, size_t max)
{
	size_t	i, o = 0;
	unsigned int acc = 0;
	int	bits = 0, v;
	char	c;

	for (i = 0; i < len; i++) {
		c = tolower((unsigned char) in[i]);
		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return (-1);
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			if (o >= max)
				return (-1);
			out[o++] = (acc >> (bits - 8)) & 0xff;
			bits -= 8;
		}
	}
	/* Leftover bits must be zero padding, or the text was altered. */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return (-1);
	return (o);
}

/* tokens_varint_put - unsigned LEB128 */

static size_t
tokens_varint_put(unsigned char *p, uint64_t v)
{
	size_t	n = 0;

	do {
		p[n] = v & 0x7f;
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return (n);
}

/* tokens_varint_get - parse LEB128, refusing non-minimal forms */

static int
tokens_varint_get(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t val = 0;
	int	shift = 0;

	for (;;) {
		if (p >= end || shift > 63)
			return (-1);
		val |= (uint64_t) (*p & 0x7f) << shift;
		if ((*p & 0x80) == 0)
			break;
		p++;
		shift += 7;
	}
	if (*p == 0 && shift > 0)		/* non-minimal: two texts for one token */
		return (-1);
	*pp = p + 1;
	*v = val;
	return (0);
}

/* tokens_mac - truncated HMAC over the payload and bound bytes */

static void
tokens_mac(const TOKENS *tk, const TOKEN_KEY *key, const unsigned char *payload,
	           size_t plen, const void *bind, size_t bindlen, unsigned char *mac)
{
	unsigned char full[EVP_MAX_MD_SIZE];
	size_t	flen = 0;
	TOKENS_TLS *c;
	int	ok;

	pthread_once(&tokens_tls_once, tokens_tls_init);
	if ((c = pthread_getspecific(tokens_tls_key)) == 0) {
		c = mycalloc(1, sizeof(*c));
		if (pthread_setspecific(tokens_tls_key, c) != 0)
			msg_fatal("tokens: pthread_setspecific failed");
	}
	if (c->ctx && c->gen == tk->gen && c->keyid == key->id) {
		ok = EVP_MAC_init(c->ctx, 0, 0, 0);
	} else {
		EVP_MAC_CTX_free(c->ctx);
		c->gen = tk->gen;
		c->keyid = key->id;
		ok = (c->ctx = EVP_MAC_CTX_dup(tk->keyed[key->id])) != 0
		    && EVP_MAC_init(c->ctx, 0, 0, 0);
	}
	if (!ok
	    || !EVP_MAC_update(c->ctx, (const unsigned char *) TOKEN_DOMAIN, sizeof(TOKEN_DOMAIN) - 1)
	    || !EVP_MAC_update(c->ctx, payload, plen)
	    || (bindlen && !EVP_MAC_update(c->ctx, bind, bindlen))
	    || !EVP_MAC_final(c->ctx, full, &flen, sizeof(full)))
		msg_fatal("HMAC-SHA256 failed");
	memcpy(mac, full, TOKEN_MAC_LEN);
	OPENSSL_cleanse(full, sizeof(full));
}

/* tokens_sign - make a token's text */

char   *
tokens_sign(const TOKENS *tk, const TOKEN *t, const void *bind, size_t bindlen,
	            char *buf)
{
	unsigned char bin[TOKEN_BIN_MAX];
	size_t	n = 0;

	bin[n++] = (unsigned char) t->kind;
	bin[n++] = (unsigned char) tk->current;
	n += tokens_varint_put(bin + n, t->contact);
	n += tokens_varint_put(bin + n, t->message);
	n += tokens_varint_put(bin + n, t->aux);
	tokens_mac(tk, tk->keys + tk->current, bin, n, bind, bindlen, bin + n);
	n += TOKEN_MAC_LEN;
	tokens_b32_encode(bin, n, buf);
	return (buf);
}

/* tokens_verify - check a token's text and return its fields */

int
tokens_verify(const TOKENS *tk, const char *text, size_t len,
	              const void *bind, size_t bindlen, TOKEN *t)
{
	unsigned char bin[TOKEN_BIN_MAX + 1];
	unsigned char mac[TOKEN_MAC_LEN];
	const unsigned char *p, *end;
	const TOKEN_KEY *key;
	uint64_t aux;
	ssize_t	n;

	if (len > TOKEN_TEXT_MAX - 1
	    || (n = tokens_b32_decode(text, len, bin, sizeof(bin))) < 0
	    || n < 2 + 3 + TOKEN_MAC_LEN)
		return (TOKENS_BAD);
	key = tk->keys + bin[1];
	if (key->len == 0)
		return (TOKENS_NOKEY);
	p = bin + 2;
	end = bin + n - TOKEN_MAC_LEN;
	if (tokens_varint_get(&p, end, &t->contact) < 0
	    || tokens_varint_get(&p, end, &t->message) < 0
	    || tokens_varint_get(&p, end, &aux) < 0
	    || p != end || aux > UINT32_MAX)
		return (TOKENS_BAD);
	tokens_mac(tk, key, bin, end - bin, bind, bindlen, mac);
	if (CRYPTO_memcmp(mac, end, TOKEN_MAC_LEN) != 0)
		return (TOKENS_BAD);
	if (bin[0] < TOKEN_VERP || bin[0] > TOKEN_API)
		return (TOKENS_BAD);
	t->kind = (TOKEN_KIND) bin[0];
	t->aux = (uint32_t) aux;
	return (TOKENS_OK);
}

/* tokens_hex - parse a hex secret */

static ssize_t
tokens_hex(const char *hex, unsigned char *out, size_t max)
{
	size_t	n = 0;
	unsigned int v;

	while (isxdigit((unsigned char) hex[0]) && isxdigit((unsigned char) hex[1])) {
		if (n >= max || sscanf(hex, "%2x", &v) != 1)
			return (-1);
		out[n++] = v;
		hex += 2;
	}
	while (isspace((unsigned char) *hex))
		hex++;
	return (*hex ? -1 : (ssize_t) n);
}

/* tokens_new - empty key set */

static TOKENS *
tokens_new(void)
{
	TOKENS *tk = mycalloc(1, sizeof(*tk));

	if ((tk->hmac = EVP_MAC_fetch(0, "HMAC", 0)) == 0)
		msg_fatal("OpenSSL has no HMAC");
	tk->gen = __atomic_add_fetch(&tokens_gen, 1, __ATOMIC_RELAXED);
	return (tk);
}

/* tokens_key_set - key an HMAC context for key id */

static void
tokens_key_set(TOKENS *tk, int id)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	EVP_MAC_CTX_free(tk->keyed[id]);
	if ((tk->keyed[id] = EVP_MAC_CTX_new(tk->hmac)) == 0
	    || !EVP_MAC_init(tk->keyed[id], tk->keys[id].secret, tk->keys[id].len, params))
		msg_fatal("HMAC-SHA256: cannot set a key");
}

/* tokens_load - read a key file */

TOKENS *
tokens_load(const char *path, char **err)
{
	TOKENS *tk;
	FILE   *fp;
	struct stat st;
	char	line[512], hex[300];
	int	id, lineno = 0;
	ssize_t	len;

	*err = 0;
	if ((fp = fopen(path, "r")) == 0) {
		*err = myasprintf("%s: %s (%s)", path, strerror(errno),
				  errno == ENOENT ? "make one with \"postdrip keygen\"" :
			    "it must be readable by the user the program runs as: chown it");
		return (0);
	}
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 077)) {
		*err = myasprintf("%s: readable by others (mode %04o): chmod 600 it",
				  path, (unsigned) (st.st_mode & 07777));
		fclose(fp);
		return (0);
	}
	tk = tokens_new();
	while (fgets(line, sizeof(line), fp)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (sscanf(line, "%d %299s", &id, hex) != 2 || id < 1 || id > 255
		    || (len = tokens_hex(hex, tk->keys[id].secret, TOKEN_KEY_MAX)) < 16) {
			*err = myasprintf("%s:%d: expected \"KEYID HEX-SECRET\" (key id 1-255, 16-64 bytes)",
					  path, lineno);
			break;
		}
		tk->keys[id].id = id;
		tk->keys[id].len = len;
		tk->current = id;
		tokens_key_set(tk, id);
	}
	fclose(fp);
	if (*err == 0 && tk->current == 0)
		*err = myasprintf("%s: no key (make one with \"postdrip keygen\")", path);
	if (*err) {
		tokens_free(tk);
		return (0);
	}
	return (tk);
}

/* tokens_from_secret - a single in-memory key, for tests */

TOKENS *
tokens_from_secret(int keyid, const unsigned char *secret, size_t len)
{
	TOKENS *tk = tokens_new();

	if (keyid < 1 || keyid > 255 || len == 0 || len > TOKEN_KEY_MAX)
		msg_panic("tokens_from_secret: bad key id %d or length %zu", keyid, len);
	memcpy(tk->keys[keyid].secret, secret, len);
	tk->keys[keyid].len = len;
	tk->keys[keyid].id = keyid;
	tk->current = keyid;
	tokens_key_set(tk, keyid);
	return (tk);
}

void
tokens_free(TOKENS *tk)
{
	int	i;

	if (tk) {
		for (i = 0; i < 256; i++)
			EVP_MAC_CTX_free(tk->keyed[i]);
		EVP_MAC_free(tk->hmac);
		OPENSSL_cleanse(tk, sizeof(*tk));
		myfree(tk);
	}
}

/* tokens_keygen - append a fresh key to the key file */

int
tokens_keygen(const char *path, int *keyid, char **err)
{
	unsigned char secret[32];
	char	line[512];
	int	fd, id, next = 1;
	FILE   *fp;
	size_t	i, n;

	*err = 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0) {
		*err = myasprintf("%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fchmod(fd, 0600) < 0) {
		*err = myasprintf("%s: chmod: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if ((fp = fdopen(dup(fd), "r")) != 0) {
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, "%d", &id) == 1 && id >= next)
				next = id + 1;
		fclose(fp);
	}
	if (next > 255) {
		*err = myasprintf("%s: key ids 1-255 are used up: remove retired keys", path);
		close(fd);
		return (-1);
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1)
		msg_fatal("RAND_bytes failed");
	n = snprintf(line, sizeof(line), "%d ", next);
	for (i = 0; i < sizeof(secret); i++)
		n += snprintf(line + n, sizeof(line) - n, "%02x", secret[i]);
	line[n++] = '\n';
	OPENSSL_cleanse(secret, sizeof(secret));
	if (write(fd, line, n) != (ssize_t) n || fsync(fd) < 0) {
		*err = myasprintf("%s: write: %s", path, strerror(errno));
		OPENSSL_cleanse(line, sizeof(line));
		close(fd);
		return (-1);
	}
	OPENSSL_cleanse(line, sizeof(line));
	close(fd);
	*keyid = next;
	return (0);
}
