#ifndef PD_TESTUTIL_H
#define PD_TESTUTIL_H

/*
 * testutil - small helpers for the cmocka tests: temp directories that are
 * removed afterwards, and files written from strings.
 */
#include <stddef.h>

/* A fresh directory under TMPDIR (or /tmp); caller frees with test_rmdir. */
char   *test_mkdtemp(void);
void	test_rmdir(char *dir);
/* Write text to dir/name; returns the malloc'd path. */
char   *test_write(const char *dir, const char *name, const char *text);

#endif
