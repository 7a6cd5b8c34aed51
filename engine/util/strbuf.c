/*++
/* NAME
/*	strbuf 3
/* SUMMARY
/*	growable null-terminated byte strings, and bounded string copies
/* DESCRIPTION
/*	A STRBUF holds len bytes plus a terminating null byte. The data may
/*	contain null bytes; strbuf_str() is then only the first part.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

void
strbuf_reserve(STRBUF *sb, size_t more)
{
	size_t	need = sb->len + more + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap == 0)
		sb->cap = 64;
	while (sb->cap < need)
		sb->cap *= 2;
	sb->data = myrealloc(sb->data, sb->cap);
}

void
strbuf_append(STRBUF *sb, const void *data, size_t len)
{
	strbuf_reserve(sb, len);
	if (len)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = 0;
}

void
strbuf_puts(STRBUF *sb, const char *str)
{
	strbuf_append(sb, str, strlen(str));
}

void
strbuf_putc(STRBUF *sb, int ch)
{
	char	c = ch;

	strbuf_append(sb, &c, 1);
}

void
strbuf_vprintf(STRBUF *sb, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	strbuf_reserve(sb, 64);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	if (n >= 0 && (size_t) n >= sb->cap - sb->len) {
		strbuf_reserve(sb, n);
		vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap2);
	}
	va_end(ap2);
	if (n > 0)
		sb->len += n;
}

void
strbuf_printf(STRBUF *sb, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

void
strbuf_truncate(STRBUF *sb, size_t len)
{
	if (len < sb->len) {
		sb->len = len;
		sb->data[len] = 0;
	}
}

void
strbuf_reset(STRBUF *sb)
{
	strbuf_truncate(sb, 0);
}

void
strbuf_free(STRBUF *sb)
{
	myfree(sb->data);
	sb->data = 0;
	sb->len = sb->cap = 0;
}

char   *
strbuf_steal(STRBUF *sb)
{
	char   *p;

	strbuf_reserve(sb, 0);
	sb->data[sb->len] = 0;		/* a buffer that never grew has none yet */
	p = sb->data;
	sb->data = 0;
	sb->len = sb->cap = 0;
	return (p);
}

/* str_lower_copy - lower-case ASCII copy, bounded */

void
str_lower_copy(char *dst, size_t size, const char *src)
{
	size_t	i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = tolower((unsigned char) src[i]);
	dst[i] = 0;
}
