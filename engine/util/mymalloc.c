/*++
/* NAME
/*	mymalloc 3
/* SUMMARY
/*	memory allocation that either succeeds or does not return
/* DESCRIPTION
/*	Wrappers around malloc() and friends: out of memory is msg_fatal(),
/*	so no caller tests for NULL.
/*--*/
#include "pdconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/msg.h"
#include "util/mymalloc.h"

void   *
mymalloc(size_t len)
{
	void   *p = malloc(len ? len : 1);

	if (p == 0)
		msg_fatal("out of memory allocating %zu bytes", len);
	return (p);
}

void   *
mycalloc(size_t n, size_t len)
{
	void   *p = calloc(n ? n : 1, len ? len : 1);

	if (p == 0)
		msg_fatal("out of memory allocating %zu x %zu bytes", n, len);
	return (p);
}

void   *
myrealloc(void *ptr, size_t len)
{
	void   *p = realloc(ptr, len ? len : 1);

	if (p == 0)
		msg_fatal("out of memory allocating %zu bytes", len);
	return (p);
}

char   *
mystrdup(const char *str)
{
	return (mymemdup(str, strlen(str) + 1));
}

char   *
mystrndup(const char *str, size_t len)
{
	const char *end = memchr(str, 0, len);
	char   *p;

	if (end)
		len = end - str;
	p = mymalloc(len + 1);
	memcpy(p, str, len);
	p[len] = 0;
	return (p);
}

void   *
mymemdup(const void *ptr, size_t len)
{
	void   *p = mymalloc(len);

	memcpy(p, ptr, len);
	return (p);
}

char   *
myasprintf(const char *fmt, ...)
{
	va_list	ap;
	char   *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		msg_fatal("out of memory formatting a string");
	va_end(ap);
	return (p);
}

void
myfree(void *ptr)
{
	free(ptr);
}
