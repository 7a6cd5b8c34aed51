#ifndef PD_MYMALLOC_H
#define PD_MYMALLOC_H

/*
 * mymalloc - memory allocation that either succeeds or does not return.
 * Callers never test for NULL.
 */
#include <stddef.h>

void   *mymalloc(size_t len);
void   *mycalloc(size_t n, size_t len);
void   *myrealloc(void *ptr, size_t len);
char   *mystrdup(const char *str);
char   *mystrndup(const char *str, size_t len);
void   *mymemdup(const void *ptr, size_t len);
char   *myasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void    myfree(void *ptr);

#endif
