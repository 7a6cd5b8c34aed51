/*++
/* NAME
/*	classify_text 3
/* SUMMARY
/*	text helpers for the message classifier
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	const char *classify_find_addr(text, end, start, len)
/*	int	classify_addr_copy(buf, size, addr, len)
/*	int	classify_first_addr(text, buf, size)
/*	int	classify_find_status(text, buf, size)
/*	const char *classify_field(block, name, len)
/*	void	classify_copy_field(block, name, buf, size)
/*	void	classify_oneline(buf, size, text, len)
/*	const char *classify_icase(hay, haylen, needle)
/*	void	classify_strip_id(buf, size, text)
/*	int	classify_is_admin_addr(addr)
/* DESCRIPTION
/*	classify_find_addr() finds the next thing in text that looks like
/*	an e-mail address (local@domain) before end, and returns where it
/*	starts and how long it is; null when there is none.
/*
/*	classify_addr_copy() copies an address in lower case; 0 when it
/*	does not fit or is not plausible. classify_first_addr() copies the
/*	first address found in a string.
/*
/*	classify_find_status() finds the first enhanced status code
/*	(RFC 3463: class.subject.detail with class 2, 4 or 5) in text.
/*
/*	classify_field() finds a "Name: value" field in a block of header
/*	lines (start of a line, case-insensitive name) and returns its value
/*	and length up to the end of that line (continuations not included);
/*	classify_copy_field() copies it unfolded, as one line.
/*
/*	classify_oneline() copies text as one line: runs of white space,
/*	line ends included, become one space; the result is truncated to
/*	fit.
/*
/*	classify_icase() is a case-insensitive search for an ASCII needle
/*	in a bounded haystack.
/*
/*	classify_strip_id() copies the first <id> of text without <>, or
/*	the trimmed text when it has no <>.
/*
/*	classify_is_admin_addr() is true for the addresses of mail
/*	systems themselves (MAILER-DAEMON, postmaster, ...), which are
/*	never failed recipients.
/* DIAGNOSTICS
/*	None; functions that can fail say so by their result.
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "classify/classify_int.h"

#define IS_LOCAL_CHAR(c) (isalnum((unsigned char)(c)) || ((c) && strchr("!#$%&'*+/=?^_`{|}~.-", (c))))
#define IS_DOMAIN_CHAR(c) (isalnum((unsigned char)(c)) || (c) == '.' || (c) == '-')

/* classify_find_addr - next address-like token */

const char *
classify_find_addr(const char *text, const char *end, const char **start,
		           size_t *len)
{
	const char *at;
	const char *l;
	const char *r;

	for (at = text; at < end && (at = memchr(at, '@', end - at)) != 0; at++) {
		if (at > text && at[-1] == '"') {
			/* "quoted local part"@domain */
			for (l = at - 1; l > text && l[-1] != '"' && l[-1] != '\n'
			     && at - l < 128; l--)
				 /* void */ ;
			if (l > text && l[-1] == '"')
				l--;
			else
				l = at;
		} else {
			for (l = at; l > text && IS_LOCAL_CHAR(l[-1]); l--)
				 /* void */ ;
		}
		while (l < at && (*l == '.' || *l == '/'))
			l++;
		for (r = at + 1; r < end && IS_DOMAIN_CHAR(*r); r++)
			 /* void */ ;
		while (r > at + 1 && (r[-1] == '.' || r[-1] == '-'))
			r--;
		if (l == at || r == at + 1 || at[1] == '.' || at[1] == '-')
			continue;
		if (r - l > 254)
			continue;
		*start = l;
		*len = r - l;
		return (l);
	}
	return (0);
}

/* classify_addr_copy - lower-case copy of a plausible address */

int
classify_addr_copy(char *buf, size_t size, const char *addr, size_t len)
{
	size_t	i;

	if (len == 0 || len >= size)
		return (0);
	for (i = 0; i < len; i++)
		buf[i] = tolower((unsigned char) addr[i]);
	buf[len] = 0;
	return (1);
}

/* classify_first_addr - first address in a string */

int
classify_first_addr(const char *text, char *buf, size_t size)
{
	const char *start;
	size_t	len;

	buf[0] = 0;
	if (classify_find_addr(text, text + strlen(text), &start, &len) == 0)
		return (0);
	return (classify_addr_copy(buf, size, start, len));
}

/* classify_find_status - first x.y.z status code in text */

int
classify_find_status(const char *text, char *buf, size_t size)
{
	const char *cp;
	const char *q;
	int	n1, n2;

	buf[0] = 0;
	for (cp = text; *cp; cp++) {
		if ((*cp != '2' && *cp != '4' && *cp != '5') || cp[1] != '.')
			continue;
		/* Not the tail of a longer number, an IP address or a version. */
		if (cp > text && (isalnum((unsigned char) cp[-1]) || cp[-1] == '.'
				  || cp[-1] == '-'))
			continue;
		for (q = cp + 2, n1 = 0; isdigit((unsigned char) *q); q++)
			n1++;
		/* The subject is 0 to 7 (RFC 3463): "Exim 4.92.3" is no status. */
		if (n1 != 1 || cp[2] > '7' || *q != '.')
			continue;
		for (q++, n2 = 0; isdigit((unsigned char) q[n2]); n2++)
			 /* void */ ;
		if (n2 < 1 || n2 > 3)
			continue;
		q += n2;
		if (*q == '.' && isdigit((unsigned char) q[1]))
			continue;
		if (isalpha((unsigned char) *q))
			continue;
		if ((size_t) (q - cp) >= size)
			continue;
		memcpy(buf, cp, q - cp);
		buf[q - cp] = 0;
		return (1);
	}
	return (0);
}

/* classify_field - value of a header-style field in a block */

const char *
classify_field(const char *block, const char *name, size_t *len)
{
	size_t	nlen = strlen(name);
	const char *cp;
	const char *val;
	const char *eol;

	for (cp = block; cp && *cp; cp = strchr(cp, '\n'), cp = cp ? cp + 1 : 0) {
		if (strncasecmp(cp, name, nlen) != 0)
			continue;
		for (val = cp + nlen; *val == ' ' || *val == '\t'; val++)
			 /* void */ ;
		if (*val != ':')
			continue;
		for (val++; *val == ' ' || *val == '\t'; val++)
			 /* void */ ;
		if ((eol = strchr(val, '\n')) == 0)
			eol = val + strlen(val);
		/* Continuation lines belong to the value. */
		while (eol[0] == '\n' && (eol[1] == ' ' || eol[1] == '\t')) {
			const char *next = strchr(eol + 1, '\n');

			eol = next ? next : eol + 1 + strlen(eol + 1);
		}
		*len = eol - val;
		return (val);
	}
	return (0);
}

/* classify_copy_field - one-line copy of a field's value */

void
classify_copy_field(const char *block, const char *name, char *buf,
		            size_t size)
{
	const char *val;
	size_t	len;

	buf[0] = 0;
	if ((val = classify_field(block, name, &len)) != 0)
		classify_oneline(buf, size, val, len);
}

/* classify_oneline - white space folded to single spaces */

void
classify_oneline(char *buf, size_t size, const char *text, size_t len)
{
	size_t	i, o = 0;
	int	space = 1;

	for (i = 0; i < len && text[i] && o + 1 < size; i++) {
		unsigned char c = text[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (!space)
				buf[o++] = ' ';
			space = 1;
		} else if (c < 0x20 || c == 0x7f) {
			continue;
		} else {
			buf[o++] = c;
			space = 0;
		}
	}
	while (o > 0 && buf[o - 1] == ' ')
		o--;
	/* Do not leave half a UTF-8 sequence at the end. */
	if (o + 1 >= size) {
		while (o > 0 && ((unsigned char) buf[o - 1] & 0xC0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char) buf[o - 1] & 0xC0) == 0xC0)
			o--;
	}
	buf[o] = 0;
}

/* classify_icase - case-insensitive bounded search */

const char *
classify_icase(const char *hay, size_t haylen, const char *needle)
{
	size_t	nlen = strlen(needle);
	size_t	i;
	int	first;

	if (nlen == 0 || nlen > haylen)
		return (0);
	first = tolower((unsigned char) needle[0]);
	for (i = 0; i + nlen <= haylen; i++) {
		if (tolower((unsigned char) hay[i]) == first
		    && strncasecmp(hay + i, needle, nlen) == 0)
			return (hay + i);
	}
	return (0);
}

/* classify_strip_id - first <id>, without the brackets */

void
classify_strip_id(char *buf, size_t size, const char *text)
{
	const char *lt;
	const char *gt;

	buf[0] = 0;
	if ((lt = strchr(text, '<')) != 0 && (gt = strchr(lt, '>')) != 0)
		classify_oneline(buf, size, lt + 1, gt - lt - 1);
	else
		classify_oneline(buf, size, text, strlen(text));
	/* An id never has spaces; a trailing comment is not part of it. */
	buf[strcspn(buf, " ")] = 0;
}

/* classify_is_admin_addr - an address of the mail system itself */

int
classify_is_admin_addr(const char *addr)
{
	static const char *const admin[] = {
		"mailer-daemon@", "postmaster@", "mail-daemon@", "maildaemon@",
		"mailerdaemon@", "root@", "abuse@", "noreply@", "no-reply@",
		"double-bounce@", "mdaemon@", 0,
	};
	const char *const *cpp;

	for (cpp = admin; *cpp; cpp++)
		if (strncasecmp(addr, *cpp, strlen(*cpp)) == 0)
			return (1);
	return (0);
}

/* classify_copy - bounded string copy; truncation is intended */

void
classify_copy(char *dst, size_t size, const char *src)
{
	size_t	len = strlen(src);

	if (size == 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}
