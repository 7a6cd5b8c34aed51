/*++
/* NAME
/*	addr 3
/* SUMMARY
/*	e-mail addresses as postdrip compares them
/* SYNOPSIS
/*	#include "util/addr.h"
/*
/*	char	*addr_normalize(text, buf)
/*	const char *addr_domain(addr)
/*	int	addr_match(pattern, addr)
/* DESCRIPTION
/*	addr_normalize() folds an address to the form used as a key
/*	everywhere in the store: no surrounding white space or <>, all in
/*	lower case (as Postfix's table lookups do). Quoted local parts are
/*	kept as they are apart from case.
/*
/*	addr_match() matches a normalized address against a pattern of
/*	marketing_senders and similar settings.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <string.h>

#include "util/addr.h"

/* addr_normalize - fold an address to its key form */

char   *
addr_normalize(const char *text, char *buf)
{
	const char *start = text, *end;
	size_t	len, i;
	char   *at;

	while (isspace((unsigned char) *start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char) end[-1]))
		end--;
	if (end > start && *start == '<' && end[-1] == '>')
		start++, end--;
	len = end - start;
	if (len == 0 || len > ADDR_MAX)
		return (0);
	for (i = 0; i < len; i++) {
		unsigned char c = start[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',')
			return (0);
		buf[i] = tolower(c);
	}
	buf[len] = 0;
	at = strrchr(buf, '@');
	if (at == 0 || at == buf || at[1] == 0 || (strchr(buf, '@') != at && buf[0] != '"')
	    || at[1] == '.' || buf[len - 1] == '.')
		return (0);
	return (buf);
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
