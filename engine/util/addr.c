/*++
/* NAME
/*	addr 3
/* SUMMARY
/*	e-mail addresses as postdrip compares them
/* SYNOPSIS
/*	#include "util/addr.h"
/*
/*	char	*addr_normalize(text, buf)
/*
/*	char	*addr_route(text, flags, buf)
/*
/*	const char *addr_domain(addr)
/*
/*	int	addr_match(pattern, addr)
/* DESCRIPTION
/*	addr_normalize() gives the one spelling of an address that is used
/*	as a key everywhere in the store, so that every spelling Postfix
/*	delivers to one mailbox finds the same contact and the same
/*	suppression: no surrounding white space or <>; a quoted local part
/*	("v"@x.test) unquoted when its text is a dot-atom, else quoted with
/*	only the escapes it needs; one trailing dot of the domain dropped,
/*	as Postfix's trivial-rewrite does (x.test. and x.test are one
/*	domain; x.test.. is not an address); all in lower case. The domain
/*	must be a host name (labels of letters, digits, '-' and '_', none
/*	empty, none starting or ending with '-'; UTF-8 allowed) or an
/*	address literal in brackets.
/*
/*	addr_route() applies one step of Postfix's routing hacks to the
/*	local part of an address, as resolve(8) does once the domain is
/*	found to be local: with ADDR_ROUTE_BANGPATH (swap_bangpath),
/*	site!user becomes user@site (the first '!'); with ADDR_ROUTE_PERCENT
/*	(allow_percent_hack), user%site becomes user@site (the last '%').
/*	The result is normalized; callers repeat it, with a bound, to
/*	follow a chain.
/*
/*	addr_match() matches a normalized address against a pattern of
/*	marketing_senders and similar settings.
/* DIAGNOSTICS
/*	addr_normalize() and addr_route() return NULL for text that has no
/*	normalized form; a caller deciding on consent must then refuse,
/*	never treat the address as unknown.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <string.h>

#include "util/addr.h"

#define ADDR_ATEXT_SPECIALS "!#$%&'*+-/=?^_`{|}~"

/* addr_atext - a character of an unquoted local part (RFC 5322 atext) */

static int
addr_atext(unsigned char c)
{
	return (isalnum(c) || c >= 0x80 || (c && strchr(ADDR_ATEXT_SPECIALS, c)));
}

/* addr_dot_atom - can this local part go without quotes? */

static int
addr_dot_atom(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return (0);
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return (0);
		} else if (!addr_atext((unsigned char) s[i]))
			return (0);
	}
	return (1);
}

/* addr_domain_ok - a host name or an address literal */

static int
addr_domain_ok(const char *d, size_t len)
{
	size_t	i, label = 0;
	unsigned char c;

	if (len == 0)
		return (0);
	if (d[0] == '[')
		return (len > 2 && d[len - 1] == ']'
			&& strspn(d + 1, "0123456789abcdefABCDEF:.IPvV-") == len - 2);
	for (i = 0; i <= len; i++) {
		c = i < len ? (unsigned char) d[i] : '.';
		if (c == '.') {
			if (label == 0 || d[i - 1] == '-' || d[i - label] == '-' || label > 63)
				return (0);
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_' || c >= 0x80) {
			label++;
		} else
			return (0);
	}
	return (1);
}

/* addr_build - lower-case local part (raw text) and domain into buf */

static char *
addr_build(const char *local, size_t llen, const char *dom, size_t dlen, char *buf)
{
	size_t	n = 0, i;
	int	quote;

	/* One trailing dot is the root, as in Postfix; two are an error. */
	if (dlen > 0 && dom[dlen - 1] == '.')
		dlen--;
	if (llen == 0 || !addr_domain_ok(dom, dlen))
		return (0);
	quote = !addr_dot_atom(local, llen);
	if (quote)
		buf[n++] = '"';
	for (i = 0; i < llen; i++) {
		unsigned char c = local[i];

		if (c < ' ' || c == 0x7f)
			return (0);
		if (n + 4 > ADDR_MAX)
			return (0);
		if (quote && (c == '"' || c == '\\'))
			buf[n++] = '\\';
		buf[n++] = tolower(c);
	}
	if (quote)
		buf[n++] = '"';
	if (n + 1 + dlen > ADDR_MAX)
		return (0);
	buf[n++] = '@';
	for (i = 0; i < dlen; i++)
		buf[n++] = tolower((unsigned char) dom[i]);
	buf[n] = 0;
	return (buf);
}

/* addr_split - local part (unquoted, into lbuf) and domain of text */

static int
addr_split(const char *text, char *lbuf, size_t *llen, const char **dom, size_t *dlen)
{
	const char *start = text, *end, *p;
	size_t	n = 0;

	while (isspace((unsigned char) *start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char) end[-1]))
		end--;
	if (end > start && *start == '<' && end[-1] == '>')
		start++, end--;
	if (end - start > 2 * ADDR_MAX)
		return (-1);
	p = start;
	if (p < end && *p == '"') {
		/* A quoted string, then '@' or the end. */
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (n >= ADDR_MAX)
				return (-1);
			lbuf[n++] = *p;
		}
		if (p >= end)
			return (-1);
		p++;
		if (p < end && *p != '@')
			return (-1);
	} else {
		for (; p < end && *p != '@'; p++) {
			if (isspace((unsigned char) *p) || *p == '"' || *p == '<' || *p == '>'
			    || *p == ',' || *p == '(' || *p == ')' || *p == '[' || *p == ']'
			    || *p == ':' || *p == ';' || *p == '\\')
				return (-1);
			if (n >= ADDR_MAX)
				return (-1);
			lbuf[n++] = *p;
		}
	}
	lbuf[n] = 0;
	*llen = n;
	if (p < end) {				/* p is at '@' */
		*dom = p + 1;
		*dlen = end - p - 1;
		if (memchr(*dom, '@', *dlen))
			return (-1);
	} else {
		*dom = 0;
		*dlen = 0;
	}
	return (0);
}

/* addr_normalize - fold an address to its key form */

char   *
addr_normalize(const char *text, char *buf)
{
	char	local[ADDR_MAX + 1];
	const char *dom;
	size_t	llen, dlen;

	if (addr_split(text, local, &llen, &dom, &dlen) < 0 || dom == 0)
		return (0);
	return (addr_build(local, llen, dom, dlen, buf));
}

/* addr_route - one step of swap_bangpath / allow_percent_hack */

char   *
addr_route(const char *text, int flags, char *buf)
{
	char	local[ADDR_MAX + 1];
	const char *dom, *hack;
	size_t	llen, dlen;

	if (addr_split(text, local, &llen, &dom, &dlen) < 0)
		return (0);
	/* As Postfix's rewrite: the bang path first, else the percent hack. */
	if ((flags & ADDR_ROUTE_BANGPATH) && (hack = strchr(local, '!')) != 0)
		return (addr_build(hack + 1, llen - (hack + 1 - local), local, hack - local, buf));
	if ((flags & ADDR_ROUTE_PERCENT) && (hack = strrchr(local, '%')) != 0)
		return (addr_build(local, hack - local, hack + 1, llen - (hack + 1 - local), buf));
	return (0);
}

/* addr_domain - the domain of a normalized address */

const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return (at ? at + 1 : "");
}

/* addr_match - match a pattern against a normalized address */

int
addr_match(const char *pattern, const char *addr)
{
	const char *dom = addr_domain(addr);
	size_t	plen, dlen;

	if (strcmp(pattern, "*") == 0)
		return (1);
	if (strncmp(pattern, "*@", 2) == 0)
		return (strcasecmp(pattern + 2, dom) == 0);
	if (pattern[0] == '@' || pattern[0] == '.') {
		/* the domain or any subdomain */
		pattern++;
		if (strcasecmp(pattern, dom) == 0)
			return (1);
		plen = strlen(pattern);
		dlen = strlen(dom);
		return (dlen > plen && dom[dlen - plen - 1] == '.'
			&& strcasecmp(dom + dlen - plen, pattern) == 0);
	}
	if (strchr(pattern, '@') == 0)		/* bare domain */
		return (strcasecmp(pattern, dom) == 0);
	return (strcasecmp(pattern, addr) == 0);
}
