#ifndef PD_ADDR_H
#define PD_ADDR_H

/*
 * addr - e-mail addresses as postdrip compares them.
 *
 * Like Postfix's table lookups, the whole address is folded to lower case
 * (the domain is case-insensitive by RFC 5321; no mail system in practice
 * treats local parts as case-sensitive, and two contacts that differ only in
 * case would be one person). Surrounding white space and <> are removed.
 * An address extension (user+tag) is kept: it is a different address.
 */
#include <stddef.h>

#define ADDR_MAX 254

/* Normalize into buf (ADDR_MAX + 1 bytes). Returns buf, or NULL when the
 * text is not a plausible address (no '@', empty parts, controls, spaces,
 * too long). */
char   *addr_normalize(const char *text, char *buf);

/* Domain part of a normalized address (after '@'). */
const char *addr_domain(const char *addr);

/* Does addr match pattern? Patterns: "*@news.example.com", "@example.com"
 * (the domain and its subdomains), "user@example.com" (exact), "*" (any). */
int	addr_match(const char *pattern, const char *addr);

#endif
