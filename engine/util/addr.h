#ifndef PD_ADDR_H
#define PD_ADDR_H

/*
 * addr - e-mail addresses as postdrip compares them.
 *
 * One spelling per mailbox, as Postfix resolves it: surrounding white space
 * and <> removed, a quoted local part unquoted when it needs no quotes
 * ("v"@x is v@x), the trailing dot of the domain dropped (x.test. is
 * x.test), and the whole address folded to lower case (as Postfix's table
 * lookups do; no mail system in practice treats local parts as
 * case-sensitive). An address extension (user+tag) is kept: it is a
 * different address. Anything that is not a valid address (no '@', empty
 * or bad labels such as example..com or -bad-.com, controls, too long) has
 * no normalized form: callers that decide on consent then fail closed.
 */
#include <stddef.h>

#define ADDR_MAX 254

/* Normalize into buf (ADDR_MAX + 1 bytes). Returns buf, or NULL when the
 * text is not a valid address. */
char   *addr_normalize(const char *text, char *buf);

/* Postfix's routing hacks in a local part, as swap_bangpath and
 * allow_percent_hack do once the domain is found local. */
#define ADDR_ROUTE_BANGPATH	(1<<0)	/* site!user -> user@site */
#define ADDR_ROUTE_PERCENT	(1<<1)	/* user%site -> user@site */

/* The address that the local part of text routes to with the given
 * hacks (one step, normalized into buf), or NULL when it routes nowhere
 * else. text may lack a domain. */
char   *addr_route(const char *text, int flags, char *buf);

/* Domain part of a normalized address (after '@'). */
const char *addr_domain(const char *addr);

/* Does addr match pattern? Patterns: "*@news.example.com", "@example.com"
 * (the domain and its subdomains), "user@example.com" (exact), "*" (any). */
int	addr_match(const char *pattern, const char *addr);

#endif
