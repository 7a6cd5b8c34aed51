/*++
/* NAME
/*	msg 3
/* SUMMARY
/*	diagnostics to syslog and stderr
/* SYNOPSIS
/*	#include "util/msg.h"
/*
/*	void	msg_open(ident, to_stderr)
/*	void	msg_info(fmt, ...)
/*	void	msg_warn(fmt, ...)
/*	void	msg_fatal(fmt, ...)
/*	void	msg_panic(fmt, ...)
/*
/*	void	msg_info_lines(lines)
/*	char	*lines;
/* DESCRIPTION
/*	Every program logs through these functions. msg_open() names the
/*	program in syslog; with to_stderr (the -f option, or a command-line
/*	tool) each line also goes to stderr. Before msg_open() lines go to
/*	stderr only.
/*
/*	msg_fatal() exits with status 1; msg_panic() aborts.
/*	Lines are written whole (one write per line), so threads do not mix
/*	their output.
/*
/*	msg_info_lines() logs several lines at once, each ended by a
/*	newline (a daemon's decisions held back until its replies are
/*	written): one syslog record each, as msg_info() would, but one
/*	write to stderr for as many whole lines as fit in 16 KB. The
/*	newlines are overwritten.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/msg.h"

static const char *msg_ident = "postdrip";
static int msg_syslog;
static int msg_stderr = 1;
int msg_verbose;

void
msg_open(const char *ident, int to_stderr)
{
	const char *slash = strrchr(ident, '/');

	msg_ident = slash ? slash + 1 : ident;
	msg_stderr = to_stderr;

	/*
	 * Without a syslog socket, glibc's syslog() tries to reconnect for
	 * every line, which costs more than a policy decision. In the
	 * foreground, stderr then has every line anyway.
	 */
	if (to_stderr && access("/dev/log", F_OK) < 0)
		return;
	openlog(msg_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	msg_syslog = 1;
}

void
msg_verbose_set(int level)
{
	msg_verbose = level;
}

void
msg_vprintf(int level, const char *fmt, va_list ap)
{
	static const char *const tag[] = {
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ", [LOG_WARNING] = "warning: ",
		[LOG_CRIT] = "fatal: ", [LOG_ALERT] = "panic: ",
	};
	char	text[2048];
	char	line[2300];
	int	n;

	vsnprintf(text, sizeof(text), fmt, ap);
	if (msg_syslog)
		syslog(level, "%s%s", tag[level], text);
	if (msg_stderr) {
		n = snprintf(line, sizeof(line), "%s: %s%s\n", msg_ident, tag[level], text);
		if (n > (int) sizeof(line) - 1)
			n = sizeof(line) - 1;
		if (write(2, line, n) < 0) {
			/* nowhere left to report it */
		}
	}
}

void
msg_info_lines(char *lines)
{
	char	buf[16384];
	char   *line, *nl;
	size_t	len = 0, n;

	for (line = lines; (nl = strchr(line, '\n')) != 0; line = nl + 1) {
		*nl = 0;
		if (msg_syslog)
			syslog(LOG_INFO, "%s", line);
		if (!msg_stderr)
			continue;
		n = strlen(msg_ident) + 2 + (size_t) (nl - line) + 1;
		if (len + n > sizeof(buf) && len > 0) {
			if (write(2, buf, len) < 0) {
				/* nowhere left to report it */
			}
			len = 0;
		}
		if (n > sizeof(buf)) {
			/* Longer than the buffer: a write of its own. */
			struct iovec iov[4];

			iov[0].iov_base = (void *) msg_ident;
			iov[0].iov_len = strlen(msg_ident);
			iov[1].iov_base = (void *) ": ";
			iov[1].iov_len = 2;
			iov[2].iov_base = line;
			iov[2].iov_len = (size_t) (nl - line);
			iov[3].iov_base = (void *) "\n";
			iov[3].iov_len = 1;
			if (writev(2, iov, 4) < 0) {
				/* nowhere left to report it */
			}
			continue;
		}
		len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s: %s\n", msg_ident, line);
	}
	if (len > 0 && write(2, buf, len) < 0) {
		/* nowhere left to report it */
	}
}

#define MSG_FN(name, level) \
void name(const char *fmt, ...) \
{ \
	va_list	ap; \
	va_start(ap, fmt); \
	msg_vprintf(level, fmt, ap); \
	va_end(ap); \
}
MSG_FN(msg_info, LOG_INFO)
MSG_FN(msg_warn, LOG_WARNING)

void
msg_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!msg_verbose)
		return;
	va_start(ap, fmt);
	msg_vprintf(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

void
msg_fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	msg_vprintf(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}

void
msg_panic(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	msg_vprintf(LOG_ALERT, fmt, ap);
	va_end(ap);
	abort();
}
