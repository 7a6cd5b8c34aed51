/*++
/* NAME
/*	tracker_form 3
/* SUMMARY
/*	form bodies: urlencoded and multipart/form-data
/* SYNOPSIS
/*	#include "tracker/tracker_int.h"
/*
/*	long	trk_form_get(ctype, body, len, name, buf, max)
/* DESCRIPTION
/*	trk_form_get() finds field name in a request body sent as
/*	application/x-www-form-urlencoded or multipart/form-data (RFC
/*	7578), as RFC 8058 allows for one-click unsubscribes, and copies
/*	its decoded value into buf (at most max bytes, null-terminated).
/*	The body is outside input: nothing is read past len, a value over
/*	max is refused, and a multipart body without its boundary is no
/*	form at all.
/* DIAGNOSTICS
/*	-1 when the field is absent or malformed, else the value's length.
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>

#include "tracker/tracker_int.h"
#include "token/track.h"

/* form_memmem - bounded search */

static const char *
form_memmem(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	size_t	i;

	if (nlen == 0 || nlen > hlen)
		return (0);
	for (i = 0; i + nlen <= hlen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
			return (hay + i);
	return (0);
}

/* form_urlencoded - name=value&... */

static long
form_urlencoded(const char *body, size_t len, const char *name, char *buf, size_t max)
{
	const char *p = body, *end = body + len, *e, *eq;
	size_t	nlen = strlen(name);
	char	key[128];
	long	klen;

	while (p < end) {
		if ((e = memchr(p, '&', end - p)) == 0)
			e = end;
		if ((eq = memchr(p, '=', e - p)) != 0
		    && (klen = track_decode(p, eq - p, key, sizeof(key) - 1, 1)) >= 0
		    && (size_t) klen == nlen && memcmp(key, name, nlen) == 0)
			return (track_decode(eq + 1, e - eq - 1, buf, max, 1));
		p = e + 1;
	}
	return (-1);
}

/* form_boundary - the boundary parameter of a multipart Content-Type */

static int
form_boundary(const char *ctype, char *b, size_t max)
{
	const char *p = strcasestr(ctype, "boundary=");
	size_t	n;

	if (p == 0)
		return (-1);
	p += 9;
	if (*p == '"') {
		p++;
		n = strcspn(p, "\"");
	} else
		n = strcspn(p, "; \t");
	if (n == 0 || n > 70 || n + 3 > max)
		return (-1);
	b[0] = '-';
	b[1] = '-';
	memcpy(b + 2, p, n);
	b[n + 2] = 0;
	return (0);
}

/* form_multipart - parts separated by --boundary */

static long
form_multipart(const char *ctype, const char *body, size_t len, const char *name,
	               char *buf, size_t max)
{
	char	bnd[80], want[160];
	const char *p, *end = body + len, *hend, *next, *n;
	size_t	blen, vlen;

	if (form_boundary(ctype, bnd, sizeof(bnd)) < 0)
		return (-1);
	blen = strlen(bnd);
	snprintf(want, sizeof(want), "name=\"%s\"", name);
	p = form_memmem(body, len, bnd, blen);
	while (p != 0) {
		p += blen;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			return (-1);		/* the closing boundary */
		if ((hend = form_memmem(p, end - p, "\r\n\r\n", 4)) == 0)
			return (-1);
		next = form_memmem(hend + 4, end - hend - 4, bnd, blen);
		if (next == 0)
			return (-1);
		if ((n = form_memmem(p, hend - p, want, strlen(want))) != 0) {
			/* The value ends with the CRLF before the boundary. */
			vlen = next - (hend + 4);
			if (vlen >= 2 && next[-2] == '\r' && next[-1] == '\n')
				vlen -= 2;
			if (vlen > max || memchr(hend + 4, 0, vlen))
				return (-1);
			memcpy(buf, hend + 4, vlen);
			buf[vlen] = 0;
			return ((long) vlen);
		}
		p = next;
	}
	return (-1);
}

long
trk_form_get(const char *ctype, const char *body, size_t len,
	             const char *name, char *buf, size_t max)
{
	if (ctype == 0 || body == 0)
		return (-1);
	if (strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
		return (form_urlencoded(body, len, name, buf, max));
	if (strncasecmp(ctype, "multipart/form-data", 19) == 0)
		return (form_multipart(ctype, body, len, name, buf, max));
	return (-1);
}
