#ifndef PD_STRBUF_H
#define PD_STRBUF_H

/*
 * strbuf - a growable byte string that is always null-terminated.
 * Grow failures are fatal (mymalloc). Readers of outside input bound
 * what they append themselves before appending.
 */
#include <stddef.h>
#include <stdarg.h>

typedef struct STRBUF {
	char   *data;
	size_t	len;
	size_t	cap;
} STRBUF;

#define STRBUF_INIT { 0, 0, 0 }
#define strbuf_str(sb)	((sb)->data ? (sb)->data : "")
#define strbuf_len(sb)	((sb)->len)

void	strbuf_reserve(STRBUF *sb, size_t more);
void	strbuf_append(STRBUF *sb, const void *data, size_t len);
void	strbuf_puts(STRBUF *sb, const char *str);
void	strbuf_putc(STRBUF *sb, int ch);
void	strbuf_printf(STRBUF *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	strbuf_vprintf(STRBUF *sb, const char *fmt, va_list ap);
void	strbuf_truncate(STRBUF *sb, size_t len);
void	strbuf_reset(STRBUF *sb);
void	strbuf_free(STRBUF *sb);
char   *strbuf_steal(STRBUF *sb);	/* caller owns the result; sb is empty */

/* A lower-case ASCII copy of src in dst (size > 0), cut to fit; other
 * bytes are copied as they are. */
void	str_lower_copy(char *dst, size_t size, const char *src);

#endif
