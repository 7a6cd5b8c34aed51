#ifndef PD_MSG_H
#define PD_MSG_H

/*
 * msg - diagnostics: syslog, and stderr when in the foreground
 *
 * msg_info() reports a decision or a fact, msg_warn() our own trouble that we
 * carry on after, msg_fatal() trouble we cannot carry on after (exit 1), and
 * msg_panic() an internal inconsistency (abort, so that there is a core).
 * The engine library itself reports errors by return value and never logs
 * decisions; programs do.
 */
#include <stdarg.h>

#define PD_PRINTF(a, b) __attribute__((format(printf, a, b)))

void msg_open(const char *ident, int to_stderr);
void msg_verbose_set(int level);
extern int msg_verbose;
void msg_info(const char *fmt, ...) PD_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) PD_PRINTF(1, 2);
void msg_debug(const char *fmt, ...) PD_PRINTF(1, 2);
void msg_fatal(const char *fmt, ...) PD_PRINTF(1, 2) __attribute__((noreturn));
void msg_panic(const char *fmt, ...) PD_PRINTF(1, 2) __attribute__((noreturn));
void msg_vprintf(int level, const char *fmt, va_list ap);
void msg_info_lines(char *lines);	/* each ended by a newline */

#endif
