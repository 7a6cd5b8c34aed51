/*++
/* NAME
/*	track 3
/* SUMMARY
/*	tracker URLs: build, parse, verify
/* SYNOPSIS
/*	#include "token/track.h"
/*
/*	void	track_click_url(out, tk, base, contact, message, linkno, name, url)
/*
/*	int	track_parse(path, query, r)
/*	TRACK_REQ *r;
/*
/*	int	track_verify(tk, r, t)
/* DESCRIPTION
/*	The outbound rewriter builds the open, click and unsubscribe URLs of
/*	a message with track_open_url(), track_click_url() and
/*	track_unsub_url(); the HTTP tracker takes them apart with
/*	track_parse() and checks them with track_verify().
/*
/*	A click token is signed over the link's name and target URL
/*	(tokens(3) bind bytes: NAME "\n" URL, decoded), so that neither can
/*	be changed without the token failing: the tracker is no open
/*	redirect, and a click is recorded under the name the sender gave.
/*
/*	A click URL is /c/TOKEN?u=URL, with l=NAME before u= only when the
/*	name is not the one track_link_name() makes of the URL (a name the
/*	sender gave): the tracker makes that one itself. URL keeps the
/*	characters a query value may hold as they are ("/", ":", "@", "?",
/*	"=": the tracker splits its query at "&" and at the first "=" of
/*	each parameter) and percent-encodes the rest that is not
/*	unreserved; a URL with "=" escaped, as older versions wrote it,
/*	decodes to the same bytes. Every byte counts:
/*	a newsletter carries dozens of these, and what it gains in size
/*	Postfix carries to every recipient.
/*
/*	Parsing is strict where it matters and lenient where mail clients
/*	and proxies are known to add noise: the path must be exactly
/*	/K/TOKEN (a trailing slash is tolerated), TOKEN lower-case base32
/*	of bounded length (upper case is folded: some clients upper-case
/*	URLs); the query of a click must carry u= once and may carry l=
/*	once; other query parameters (tracking suffixes added by proxies)
/*	are ignored.
/*
/*	track_link_name() names a link by its URL: the host, lower-cased,
/*	without user information, port or trailing dots, then the path
/*	(no query, no fragment), cut at TRACK_NAME_MAX bytes. It returns
/*	0 (and names nothing) for a URL that is not http(s) or has no host.
/*	track_url_host() finds that host (its first byte and length) and
/*	where the path starts, or returns 0.
/* DIAGNOSTICS
/*	None: results are returned.
/* SEE ALSO
/*	tokens(3), postdrip-engine(8)
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "token/track.h"
#include "util/mymalloc.h"

static const char track_hex[] = "0123456789ABCDEF";

/* track_escape - percent-encode all but RFC 3986 unreserved and keep */

static void
track_escape(STRBUF *out, const char *s, size_t len, const char *keep)
{
	size_t	i;
	unsigned char c;

	strbuf_reserve(out, 3 * len);
	for (i = 0; i < len; i++) {
		c = (unsigned char) s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
		    || (c != 0 && strchr(keep, c) != 0)) {
			out->data[out->len++] = c;
		} else {
			out->data[out->len++] = '%';
			out->data[out->len++] = track_hex[c >> 4];
			out->data[out->len++] = track_hex[c & 15];
		}
	}
	out->data[out->len] = 0;
}

/* track_encode - percent-encode all but RFC 3986 unreserved */

void
track_encode(STRBUF *out, const char *s, size_t len)
{
	track_escape(out, s, len, "");
}

/* track_url_host - the host of an http(s) URL, and where its path starts */

const char *
track_url_host(const char *url, size_t *hlen, const char **path)
{
	const char *auth, *end, *host, *at;
	size_t	len;

	if (strncasecmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return (0);
	/* Authority: [userinfo@]host[:port]; an '@' later on is data. */
	end = auth + strcspn(auth, "/?#\\");
	host = auth;
	for (at = auth; at < end; at++)
		if (*at == '@')
			host = at + 1;
	len = end - host;
	if (len > 0 && host[0] == '[') {
		const char *rb = memchr(host, ']', len);

		if (rb)
			len = rb + 1 - host;
	} else {
		const char *colon = memchr(host, ':', len);

		if (colon)
			len = colon - host;
	}
	while (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return (0);
	*hlen = len;
	if (path)
		*path = end;
	return (host);
}

/* track_link_name - the name of a link without one of its own */

int
track_link_name(const char *url, STRBUF *name)
{
	const char *host, *path;
	size_t	hlen, i, plen;

	if ((host = track_url_host(url, &hlen, &path)) == 0)
		return (0);
	strbuf_reset(name);
	for (i = 0; i < hlen && i < TRACK_NAME_MAX; i++)
		strbuf_putc(name, tolower((unsigned char) host[i]));
	plen = strcspn(path, "?#");
	if (plen > TRACK_NAME_MAX - strbuf_len(name))
		plen = TRACK_NAME_MAX - strbuf_len(name);
	strbuf_append(name, path, plen);
	return (1);
}

/* track_hexval - one hex digit, or -1 */

static int
track_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* track_decode - percent-decode, bounded */

long
track_decode(const char *in, size_t len, char *out, size_t max, int plus_space)
{
	size_t	i, n = 0;
	int	hi, lo, c;

	for (i = 0; i < len; i++) {
		c = (unsigned char) in[i];
		if (c == '%') {
			if (i + 2 >= len || (hi = track_hexval(in[i + 1])) < 0
			    || (lo = track_hexval(in[i + 2])) < 0)
				return (-1);
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		if (c == 0 || n >= max)
			return (-1);
		out[n++] = (char) c;
	}
	out[n] = 0;
	return ((long) n);
}

/* track_base - append base without its trailing slashes */

static void
track_base(STRBUF *out, const char *base)
{
	size_t	len = strlen(base);

	while (len > 0 && base[len - 1] == '/')
		len--;
	strbuf_append(out, base, len);
}

/* track_simple - /K/TOKEN */

static void
track_simple(STRBUF *out, const TOKENS *tk, const char *base, TOKEN_KIND kind,
	             int letter, uint64_t contact, uint64_t message)
{
	TOKEN	t;
	char	buf[TOKEN_TEXT_MAX];

	memset(&t, 0, sizeof(t));
	t.kind = kind;
	t.contact = contact;
	t.message = message;
	track_base(out, base);
	strbuf_printf(out, "/%c/%s", letter, tokens_sign(tk, &t, 0, 0, buf));
}

void
track_open_url(STRBUF *out, const TOKENS *tk, const char *base,
	               uint64_t contact, uint64_t message)
{
	track_simple(out, tk, base, TOKEN_OPEN, 'o', contact, message);
}

void
track_unsub_url(STRBUF *out, const TOKENS *tk, const char *base,
		        uint64_t contact, uint64_t message)
{
	track_simple(out, tk, base, TOKEN_UNSUB, 'u', contact, message);
}

/* track_bind - NAME "\n" URL, the bytes a click token is bound to */

static char *
track_bind(const char *name, const char *url, size_t *len)
{
	STRBUF	b = STRBUF_INIT;

	strbuf_puts(&b, name);
	strbuf_putc(&b, '\n');
	strbuf_puts(&b, url);
	*len = b.len;
	return (strbuf_steal(&b));
}

void
track_click_url(STRBUF *out, const TOKENS *tk, const char *base,
		        uint64_t contact, uint64_t message, uint32_t linkno,
		        const char *name, const char *url)
{
	TOKEN	t;
	char	buf[TOKEN_TEXT_MAX];
	char   *bind;
	size_t	blen;
	STRBUF	own = STRBUF_INIT;

	memset(&t, 0, sizeof(t));
	t.kind = TOKEN_CLICK;
	t.contact = contact;
	t.message = message;
	t.aux = linkno;
	bind = track_bind(name, url, &blen);
	track_base(out, base);
	strbuf_printf(out, "/c/%s?", tokens_sign(tk, &t, bind, blen, buf));
	myfree(bind);
	/* The tracker names the link itself when it has the URL's name. */
	if (!track_link_name(url, &own) || strcmp(strbuf_str(&own), name) != 0) {
		strbuf_puts(out, "l=");
		track_encode(out, name, strlen(name));
		strbuf_putc(out, '&');
	}
	strbuf_free(&own);
	strbuf_puts(out, "u=");
	/* As a query value may hold them (RFC 3986 3.4). */
	track_escape(out, url, strlen(url), "/:@?=");
}

/* track_parse - take a request path and query apart */

int
track_parse(const char *path, const char *query, TRACK_REQ *r)
{
	const char *tok, *p, *e, *v;
	size_t	len, i;
	int	have_l = 0, have_u = 0;

	memset(r, 0, sizeof(*r));
	if (path[0] != '/' || strchr("ocu", path[1]) == 0 || path[1] == 0
	    || path[2] != '/')
		return (0);
	tok = path + 3;
	len = strcspn(tok, "/");
	if (tok[len] == '/' && tok[len + 1] != 0)
		return (-1);
	if (len == 0 || len >= TOKEN_TEXT_MAX)
		return (-1);
	for (i = 0; i < len; i++) {
		int	c = tolower((unsigned char) tok[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return (-1);
		r->token[i] = (char) c;
	}
	r->token[len] = 0;
	r->kind = path[1];
	if (r->kind != 'c')
		return (0);
	for (p = query ? query : ""; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, "&");
		if ((v = memchr(p, '=', e - p)) == 0)
			continue;
		if (v - p == 1 && *p == 'l') {
			if (have_l++ || track_decode(v + 1, e - v - 1, r->name, TRACK_NAME_MAX, 0) < 0)
				return (-1);
		} else if (v - p == 1 && *p == 'u') {
			if (have_u++ || track_decode(v + 1, e - v - 1, r->url, TRACK_URL_MAX, 0) < 0)
				return (-1);
		}
	}
	if (!have_u || !track_url_ok(r->url))
		return (-1);
	if (!have_l) {
		STRBUF	own = STRBUF_INIT;

		if (!track_link_name(r->url, &own)) {
			strbuf_free(&own);
			return (-1);
		}
		memcpy(r->name, strbuf_str(&own), strbuf_len(&own) + 1);
		strbuf_free(&own);
	}
	return (0);
}

/* track_url_ok - http(s), no controls, no spaces */

int
track_url_ok(const char *url)
{
	const unsigned char *p;

	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return (0);
	for (p = (const unsigned char *) url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return (0);
	return (1);
}

/* track_verify - the token, of the kind its path says, and its binding */

int
track_verify(const TOKENS *tk, const TRACK_REQ *r, TOKEN *t)
{
	TOKEN_KIND want;
	char   *bind = 0;
	size_t	blen = 0;
	int	rc;

	switch (r->kind) {
	case 'o':
		want = TOKEN_OPEN;
		break;
	case 'c':
		want = TOKEN_CLICK;
		bind = track_bind(r->name, r->url, &blen);
		break;
	case 'u':
		want = TOKEN_UNSUB;
		break;
	default:
		return (TOKENS_BAD);
	}
	rc = tokens_verify(tk, r->token, strlen(r->token), bind, blen, t);
	if (bind)
		myfree(bind);
	if (rc == TOKENS_OK && t->kind != want)
		return (TOKENS_BAD);
	return (rc);
}
