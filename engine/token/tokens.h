#ifndef PD_TOKENS_H
#define PD_TOKENS_H

/*
 * tokens - compact signed tokens for VERP return paths, reply addresses and
 * tracker URLs.
 *
 * A token carries (kind, key id, contact, message, aux) and a truncated
 * HMAC-SHA256 over those fields and over optional bound bytes (such as the
 * target URL of a click) that the token does not carry. The text is lower
 * case base32 (a-z, 2-7), so it is valid in an e-mail local part and in a URL
 * path and survives case folding. Verification is constant time; any altered
 * byte is refused.
 *
 * Keys live in a file (mode 0600, made by "postdrip keygen"): one line per key,
 * "KEYID HEX-SECRET", KEYID 1-255. The last line signs; every line verifies,
 * so a new key can be added while mail signed with the old one is in flight.
 */
#include <stddef.h>
#include <stdint.h>

typedef enum {
	TOKEN_VERP = 1,			/* return path: bounces */
	TOKEN_REPLY = 2,		/* reply address */
	TOKEN_OPEN = 3,			/* tracking pixel */
	TOKEN_CLICK = 4,		/* link redirect; aux = link number */
	TOKEN_UNSUB = 5,		/* unsubscribe URL or mailto */
	TOKEN_API = 6,			/* other */
} TOKEN_KIND;

typedef struct TOKEN {
	TOKEN_KIND kind;
	uint64_t contact;
	uint64_t message;
	uint32_t aux;
} TOKEN;

#define TOKENS_OK	0
#define TOKENS_BAD	1		/* malformed or forged */
#define TOKENS_NOKEY	2		/* key id unknown (retired key) */

#define TOKEN_TEXT_MAX	64		/* longest token text, with null */

typedef struct TOKENS TOKENS;

/* NULL with *err (caller frees) when the file cannot be read, is
 * group/world-readable, or holds no valid key. */
TOKENS *tokens_load(const char *path, char **err);
/* For tests: one key from memory. */
TOKENS *tokens_from_secret(int keyid, const unsigned char *secret, size_t len);
void	tokens_free(TOKENS *tk);

/* Append a fresh key (next key id) to path, creating it with mode 0600.
 * 0 on success, -1 with *err. */
int	tokens_keygen(const char *path, int *keyid, char **err);

/* Sign into buf (TOKEN_TEXT_MAX bytes); returns buf. */
char   *tokens_sign(const TOKENS *tk, const TOKEN *t, const void *bind,
		            size_t bindlen, char *buf);
/* TOKENS_OK and *t filled, or TOKENS_BAD / TOKENS_NOKEY. */
int	tokens_verify(const TOKENS *tk, const char *text, size_t len,
		              const void *bind, size_t bindlen, TOKEN *t);

#endif
