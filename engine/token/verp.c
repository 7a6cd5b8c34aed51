/*++
/* NAME
/*	verp 3
/* SUMMARY
/*	VERP, reply and unsubscribe addresses on the bounce domain
/* SYNOPSIS
/*	#include "token/verp.h"
/*
/*	void	verp_from_config(v, cf)
/*	char	*verp_sign(v, tk, kind, contact, msgno, buf)
/*	VERP_KIND verp_parse(v, addr, &token, &tlen)
/*	int	verp_verify(v, tk, addr, &kind, &token)
/* DESCRIPTION
/*	An address of postdrip mail is PREFIX+TOKEN@bounce_domain, where
/*	PREFIX names what the address is for and TOKEN is a tokens(3)
/*	token of the matching kind naming the contact and the sent message
/*	number. verp_sign() makes one, verp_verify() reads and checks one.
/*
/*	Matching is on the normalized (lower-case) address: the domain must
/*	equal bounce_domain exactly (a subdomain is not ours), and the
/*	local part must be PREFIX, '+', then a non-empty token. Tokens are
/*	lower-case base32, so case folding by a remote MTA does not hurt.
/* DIAGNOSTICS
/*	None: results are returned. A token of another kind than its
/*	prefix says is refused like a forged one, so that a bounce token
/*	cannot be replayed as an unsubscribe.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "token/verp.h"

/* verp_copy_lower - bounded lower-case copy */

static void
verp_copy_lower(char *dst, size_t max, const char *src)
{
	size_t	i;

	for (i = 0; src && src[i] && i + 1 < max; i++)
		dst[i] = tolower((unsigned char) src[i]);
	dst[i] = 0;
}

/* verp_init - set up from explicit values */

void
verp_init(VERP *v, const char *domain, const char *bounce,
	          const char *reply, const char *unsubscribe, const char *bounce_tx)
{
	memset(v, 0, sizeof(*v));
	verp_copy_lower(v->domain, sizeof(v->domain), domain);
	verp_copy_lower(v->prefix[VERP_BOUNCE], VERP_PREFIX_MAX, bounce);
	verp_copy_lower(v->prefix[VERP_REPLY], VERP_PREFIX_MAX, reply);
	verp_copy_lower(v->prefix[VERP_UNSUBSCRIBE], VERP_PREFIX_MAX, unsubscribe);
	verp_copy_lower(v->prefix[VERP_BOUNCE_TX], VERP_PREFIX_MAX, bounce_tx);
}

/* verp_from_config - set up from the settings */

void
verp_from_config(VERP *v, const CONFIG *cf)
{
	verp_init(v, config_str(cf, "bounce_domain"),
		  config_str(cf, "verp_prefix"),
		  config_str(cf, "reply_address_prefix"),
		  config_str(cf, "unsubscribe_address_prefix"),
		  config_str(cf, "verp_transactional_prefix"));
}

/* verp_token_kind - token kind of an address kind */

TOKEN_KIND
verp_token_kind(VERP_KIND kind)
{
	switch (kind) {
	case VERP_BOUNCE:
	case VERP_BOUNCE_TX:
		return (TOKEN_VERP);
	case VERP_REPLY:
		return (TOKEN_REPLY);
	case VERP_UNSUBSCRIBE:
		return (TOKEN_UNSUB);
	default:
		return ((TOKEN_KIND) 0);
	}
}

/* verp_kind_name - for logging */

const char *
verp_kind_name(VERP_KIND kind)
{
	static const char *const names[] = {
		"none", "bounce", "reply", "unsubscribe", "bounce-tx", "other",
	};

	return ((unsigned) kind <= VERP_OTHER ? names[kind] : "?");
}

/* verp_format - PREFIX+TOKEN@domain */

char   *
verp_format(const VERP *v, VERP_KIND kind, const char *token, char *buf)
{
	int	n;

	if (kind <= VERP_NONE || kind >= VERP_OTHER || v->prefix[kind][0] == 0
	    || v->domain[0] == 0 || token == 0 || *token == 0)
		return (0);
	n = snprintf(buf, ADDR_MAX + 1, "%s%c%s@%s", v->prefix[kind], VERP_DELIM,
		     token, v->domain);
	return (n > 0 && n <= ADDR_MAX ? buf : 0);
}

/* verp_sign - a signed address */

char   *
verp_sign(const VERP *v, const TOKENS *tk, VERP_KIND kind,
	          uint64_t contact, uint64_t msgno, char *buf)
{
	char	text[TOKEN_TEXT_MAX];
	TOKEN	t;

	if (verp_token_kind(kind) == 0)
		return (0);
	memset(&t, 0, sizeof(t));
	t.kind = verp_token_kind(kind);
	t.contact = contact;
	t.message = msgno;
	return (verp_format(v, kind, tokens_sign(tk, &t, 0, 0, text), buf));
}

/* verp_parse - what an address is */

VERP_KIND
verp_parse(const VERP *v, const char *addr, const char **token, size_t *tlen)
{
	const char *at = strrchr(addr, '@');
	size_t	llen, plen;
	int	k;

	if (token)
		*token = 0;
	if (tlen)
		*tlen = 0;
	if (at == 0 || v->domain[0] == 0 || strcasecmp(at + 1, v->domain) != 0)
		return (VERP_NONE);
	llen = at - addr;
	for (k = VERP_BOUNCE; k < VERP_OTHER; k++) {
		plen = strlen(v->prefix[k]);
		if (plen == 0 || llen < plen + 2 || addr[plen] != VERP_DELIM
		    || strncasecmp(addr, v->prefix[k], plen) != 0)
			continue;
		if (token)
			*token = addr + plen + 1;
		if (tlen)
			*tlen = llen - plen - 1;
		return ((VERP_KIND) k);
	}
	return (VERP_OTHER);
}

/* verp_verify - parse and check the token */

int
verp_verify(const VERP *v, const TOKENS *tk, const char *addr,
	            VERP_KIND *kind, TOKEN *t)
{
	const char *text;
	size_t	len;
	int	rc;

	*kind = verp_parse(v, addr, &text, &len);
	if (text == 0 || tk == 0)
		return (TOKENS_BAD);
	if ((rc = tokens_verify(tk, text, len, 0, 0, t)) != TOKENS_OK)
		return (rc);
	return (t->kind == verp_token_kind(*kind) ? TOKENS_OK : TOKENS_BAD);
}
