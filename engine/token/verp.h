#ifndef PD_VERP_H
#define PD_VERP_H

/*
 * verp - the addresses of postdrip mail on the bounce domain.
 *
 * Three local-part prefixes, each followed by '+' and a signed token
 * (tokens.h), all on bounce_domain:
 *
 *	bounces+TOKEN@bounce_domain	return path (MAIL FROM); token kind
 *					TOKEN_VERP, contact, message = the
 *					STORE_SENT msgno
 *	reply+TOKEN@bounce_domain	Reply-To; TOKEN_REPLY, same fields
 *	unsubscribe+TOKEN@bounce_domain	List-Unsubscribe mailto;
 *					TOKEN_UNSUB, same fields
 *
 * The prefixes are settings (verp_prefix, reply_address_prefix,
 * unsubscribe_address_prefix). Every program that signs or reads such an
 * address uses this module, so the engine (which signs) and the milter
 * (which reads) cannot disagree on the format. A token in an address of
 * one kind that was signed for another kind is refused.
 */
#include <stddef.h>

#include "util/addr.h"
#include "config/config.h"
#include "token/tokens.h"

typedef enum {
	VERP_NONE,			/* not on the bounce domain */
	VERP_BOUNCE,			/* bounces+TOKEN */
	VERP_REPLY,			/* reply+TOKEN */
	VERP_UNSUBSCRIBE,		/* unsubscribe+TOKEN */
	VERP_BOUNCE_TX,			/* txbounces+TOKEN: the return path of
					 * the engine's transactional mail */
	VERP_OTHER,			/* on the bounce domain, no known prefix
					 * (postmaster@, a feedback-loop
					 * address, a bare prefix) */
} VERP_KIND;

#define VERP_PREFIX_MAX	64

typedef struct VERP {
	char	domain[ADDR_MAX + 1];	/* lower case */
	char	prefix[VERP_OTHER][VERP_PREFIX_MAX];	/* by kind; [0] unused */
} VERP;

#define VERP_DELIM	'+'

/* From explicit values (lower-cased; too long values are cut). */
void	verp_init(VERP *v, const char *domain, const char *bounce,
		          const char *reply, const char *unsubscribe,
		          const char *bounce_tx);
/* From bounce_domain and the prefix settings. */
void	verp_from_config(VERP *v, const CONFIG *cf);

/* A return path (BOUNCE or BOUNCE_TX): where bounces come back. */
#define verp_is_return_path(k) ((k) == VERP_BOUNCE || (k) == VERP_BOUNCE_TX)

/* The token kind that addresses of this kind carry (0 for NONE/OTHER). */
TOKEN_KIND verp_token_kind(VERP_KIND kind);
const char *verp_kind_name(VERP_KIND kind);

/* PREFIX+TOKEN@domain into buf (ADDR_MAX + 1 bytes); NULL if the kind has
 * no prefix or the result would be too long. */
char   *verp_format(const VERP *v, VERP_KIND kind, const char *token, char *buf);

/* Sign (contact, msgno) for an address of this kind into buf. */
char   *verp_sign(const VERP *v, const TOKENS *tk, VERP_KIND kind,
		          uint64_t contact, uint64_t msgno, char *buf);

/* What a normalized address is. For BOUNCE/REPLY/UNSUBSCRIBE, *token and
 * *tlen (may be NULL) give the token text inside addr. */
VERP_KIND verp_parse(const VERP *v, const char *addr, const char **token,
		             size_t *tlen);

/* verp_parse() and tokens_verify() together: TOKENS_OK with *t, or
 * TOKENS_BAD (no token, wrong kind, forged) / TOKENS_NOKEY. *kind is set
 * whatever the result. tk may be NULL (no keys: every token is bad). */
int	verp_verify(const VERP *v, const TOKENS *tk, const char *addr,
		            VERP_KIND *kind, TOKEN *t);

#endif
