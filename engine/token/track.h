#ifndef PD_TRACK_H
#define PD_TRACK_H

/*
 * track - the tracker URLs, shared by the outbound rewriter (which builds
 * them) and the HTTP tracker (which parses and verifies them).
 *
 *	TRACKER/o/TOKEN			open pixel, TOKEN_OPEN
 *	TRACKER/c/TOKEN?l=NAME&u=URL	click, TOKEN_CLICK, aux = link number,
 *					bound to NAME "\n" URL
 *	TRACKER/u/TOKEN			unsubscribe, TOKEN_UNSUB
 *
 * TRACKER is tracker_url without a trailing slash. NAME and URL are
 * percent-encoded (RFC 3986 unreserved characters kept); the binding is
 * over the decoded bytes, so the tracker redirects to exactly the URL
 * that was signed.
 */
#include <stddef.h>
#include <stdint.h>

#include "token/tokens.h"
#include "util/strbuf.h"

#define TRACK_NAME_MAX	128		/* link name, decoded, without null */
#define TRACK_URL_MAX	4096		/* target URL, decoded, without null */

/* Append a URL; base is tracker_url (a trailing slash is dropped). */
void	track_open_url(STRBUF *out, const TOKENS *tk, const char *base,
		               uint64_t contact, uint64_t message);
void	track_unsub_url(STRBUF *out, const TOKENS *tk, const char *base,
		                uint64_t contact, uint64_t message);
void	track_click_url(STRBUF *out, const TOKENS *tk, const char *base,
		                uint64_t contact, uint64_t message, uint32_t linkno,
		                const char *name, const char *url);

/* Percent-encode (unreserved kept) / decode. track_decode() refuses (-1)
 * a bad escape, a NUL (raw or %00), or output over max bytes; else the
 * decoded length, with a null after it. plus_space: '+' means ' ' (forms). */
void	track_encode(STRBUF *out, const char *s, size_t len);
long	track_decode(const char *in, size_t len, char *out, size_t max, int plus_space);

/*
 * A request path (and query, without '?', or NULL) as the tracker sees it.
 * track_parse() fills kind ('o', 'c', 'u', or 0 when the path is not a
 * tracker URL) and the token text; for 'c' also the decoded name and url.
 * Returns 0, or -1 for a malformed request (refuse it: 404).
 */
typedef struct TRACK_REQ {
	int	kind;
	char	token[TOKEN_TEXT_MAX];
	char	name[TRACK_NAME_MAX + 1];
	char	url[TRACK_URL_MAX + 1];
} TRACK_REQ;

int	track_parse(const char *path, const char *query, TRACK_REQ *r);

/* Verify r's token for its kind (and binding, for clicks): TOKENS_OK with
 * *t, TOKENS_BAD (forged, wrong kind, altered link) or TOKENS_NOKEY. */
int	track_verify(const TOKENS *tk, const TRACK_REQ *r, TOKEN *t);

/* The host of an http(s) URL (not null-terminated: *hlen bytes) and where
 * its path starts (if path is not null); 0 if it has none. */
const char *track_url_host(const char *url, size_t *hlen, const char **path);

/* The name of a link by its URL: host and path (see track(3)); 0 if none. */
int	track_link_name(const char *url, STRBUF *name);

/* Is url safe to redirect to: http or https, no control characters? */
int	track_url_ok(const char *url);

#endif
