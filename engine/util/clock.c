/*++
/* NAME
/*	clock 3
/* SUMMARY
/*	the one clock
/* SYNOPSIS
/*	#include "util/clock.h"
/*
/*	time_t	clock_now(void)
/*	void	clock_set(t)
/*	int	clock_parse(text, &t)
/*	char	*clock_format(t, buf)
/*	char	*clock_format_offset(t, offset, buf)
/*	int	clock_parse_duration(text, &seconds)
/* DESCRIPTION
/*	clock_now() returns the time that every time-dependent decision
/*	uses. When POSTDRIP_NOW is set in the environment (read once), or
/*	clock_set() was called, that fixed time is returned instead of the
/*	system time. A fixed clock does not advance: tests and the demo move
/*	it by running programs again with another POSTDRIP_NOW.
/* DIAGNOSTICS
/*	A malformed POSTDRIP_NOW is fatal: running with the wrong time would
/*	send mail at the wrong moment.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "util/clock.h"
#include "util/msg.h"

static time_t clock_fixed;
static pthread_once_t clock_once = PTHREAD_ONCE_INIT;

/* clock_init - read POSTDRIP_NOW once */

static void
clock_init(void)
{
	const char *env = getenv("POSTDRIP_NOW");
	time_t	t;

	if (env && *env && clock_fixed == 0) {
		if (clock_parse(env, &t) < 0)
			msg_fatal("POSTDRIP_NOW: not an ISO 8601 time: \"%s\"", env);
		clock_fixed = t;
	}
}

/* clock_now - the current time */

time_t
clock_now(void)
{
	pthread_once(&clock_once, clock_init);
	return (clock_fixed ? clock_fixed : time((time_t *) 0));
}

/* clock_set - fix the clock (0: follow the system clock again) */

void
clock_set(time_t t)
{
	pthread_once(&clock_once, clock_init);
	clock_fixed = t;
}

/* clock_is_fixed - is the clock set by POSTDRIP_NOW or clock_set()? */

int
clock_is_fixed(void)
{
	pthread_once(&clock_once, clock_init);
	return (clock_fixed != 0);
}

/* clock_digits - parse exactly n digits */

static int
clock_digits(const char **pp, int n, int *val)
{
	const char *p = *pp;
	int	v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char) *p))
			return (-1);
		v = v * 10 + (*p++ - '0');
	}
	*val = v;
	*pp = p;
	return (0);
}

/* clock_parse - ISO 8601 date or date-time to time_t */

int
clock_parse(const char *text, time_t *t)
{
	const char *p = text;
	struct tm tm;
	int	y, mo, d, h = 0, mi = 0, s = 0, oh, om, sign;
	long	off = 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	while (isspace((unsigned char) *p))
		p++;
	if (clock_digits(&p, 4, &y) < 0 || *p++ != '-'
	    || clock_digits(&p, 2, &mo) < 0 || *p++ != '-'
	    || clock_digits(&p, 2, &d) < 0)
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return (-1);
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (clock_digits(&p, 2, &h) < 0 || *p++ != ':'
		    || clock_digits(&p, 2, &mi) < 0)
			return (-1);
		if (*p == ':') {
			p++;
			if (clock_digits(&p, 2, &s) < 0)
				return (-1);
			if (*p == '.' || *p == ',')	/* fractions are dropped */
				for (p++; isdigit((unsigned char) *p); p++)
					 /* void */ ;
		}
		if (h > 23 || mi > 59 || s > 60)
			return (-1);
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = (*p++ == '-') ? -1 : 1;
			if (clock_digits(&p, 2, &oh) < 0)
				return (-1);
			if (*p == ':')
				p++;
			if (clock_digits(&p, 2, &om) < 0 || oh > 14 || om > 59)
				return (-1);
			off = sign * (oh * 3600L + om * 60L);
		}
	}
	while (isspace((unsigned char) *p))
		p++;
	if (*p)
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*t = timegm(&tm) - off;
	return (0);
}

/* clock_format - time_t to YYYY-MM-DDTHH:MM:SSZ */

char   *
clock_format(time_t t, char *buf)
{
	struct tm tm;
	char	tmp[64];

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* Only years past 9999 are longer; they are cut, not overflowed. */
	memcpy(buf, tmp, CLOCK_ISO_LEN - 1);
	buf[CLOCK_ISO_LEN - 1] = 0;
	return (buf);
}

/* clock_format_offset - time_t to local ISO 8601 with its offset */

char   *
clock_format_offset(time_t t, long offset, char *buf)
{
	struct tm tm;
	time_t	lt = t + offset;
	long	a = offset < 0 ? -offset : offset;
	char	tmp[64];

	if (offset == 0)
		return (clock_format(t, buf));
	gmtime_r(&lt, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, offset < 0 ? '-' : '+',
		 a / 3600, a % 3600 / 60);
	/* Only years past 9999 are longer; they are cut, not overflowed. */
	memcpy(buf, tmp, CLOCK_ISO_OFF_LEN - 1);
	buf[CLOCK_ISO_OFF_LEN - 1] = 0;
	return (buf);
}

/* clock_parse_duration - "1d12h", "90s", "15m", "2w", or plain seconds */

int
clock_parse_duration(const char *text, long *seconds)
{
	const char *p = text;
	long long total = 0, n;
	int	any = 0;

	while (isspace((unsigned char) *p))
		p++;
	while (*p && !isspace((unsigned char) *p)) {
		if (!isdigit((unsigned char) *p))
			return (-1);
		for (n = 0; isdigit((unsigned char) *p); p++) {
			n = n * 10 + (*p - '0');
			if (n > 100000000LL)
				return (-1);
		}
		switch (*p) {
		case 's':
			p++;
			/* FALLTHROUGH */
		case 0:
		case ' ':
		case '\t':
			break;
		case 'm':
			n *= 60, p++;
			break;
		case 'h':
			n *= 3600, p++;
			break;
		case 'd':
			n *= 86400, p++;
			break;
		case 'w':
			n *= 7 * 86400, p++;
			break;
		default:
			return (-1);
		}
		total += n;
		if (total > 100LL * 365 * 86400)
			return (-1);
		any = 1;
	}
	while (isspace((unsigned char) *p))
		p++;
	if (!any || *p)
		return (-1);
	*seconds = (long) total;
	return (0);
}
