/*++
/* NAME
/*	tzone 3
/* SUMMARY
/*	IANA time zones from the system's TZif files
/* SYNOPSIS
/*	#include "util/tzone.h"
/*
/*	TZONE	*tzone_load(name)
/*	long	tzone_offset(tz, t)
/*	time_t	tzone_mktime(tz, local)
/*	void	tzone_free(tz)
/* DESCRIPTION
/*	tzone_load() reads the zoneinfo file of an IANA zone name
/*	(Europe/Paris) from $TZDIR or /usr/share/zoneinfo. It reads the
/*	64-bit part of a version 2+ file (the 32-bit part of a version 1
/*	file) and the POSIX TZ rule of the footer, which covers every
/*	instant after the last transition: Debian's "slim" files stop their
/*	transitions early and rely on that rule.
/*
/*	Why not localtime_r() with TZ switched: setenv("TZ") and tzset()
/*	change process-wide state that other threads read at any moment
/*	(syslog, strftime); a lock of our own would not cover them.
/*
/*	tzone_offset() gives the offset east of UTC at an instant;
/*	tzone_mktime() the instant of a local wall-clock time.
/* DIAGNOSTICS
/*	tzone_load() returns NULL for a malformed name, a missing file, a
/*	file over 1 MB or one that is not TZif. The library does not log.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/tzone.h"

#define TZONE_FILE_MAX	(1024 * 1024)	/* real files are under 10 kB */
#define TZONE_NAME_MAX	128

/* A POSIX TZ rule date: Jn, n, or Mm.w.d, and a time of day in seconds. */
typedef struct TZ_RULE_DATE {
	char	kind;			/* 'J', 'N' (zero-based day), 'M' */
	int	day, week, month;
	long	secs;			/* may be negative or over 24h (v3) */
} TZ_RULE_DATE;

typedef struct TZ_POSIX {
	int	valid;
	long	std_off;		/* seconds east of UTC */
	int	has_dst;
	long	dst_off;
	TZ_RULE_DATE start, end;
} TZ_POSIX;

struct TZONE {
	char   *name;
	int	ntrans;
	int64_t *trans;			/* transition instants, ascending */
	unsigned char *trans_type;	/* index into off[] per transition */
	int	ntypes;
	long   *off;			/* seconds east of UTC per type */
	long	first_off;		/* before the first transition */
	TZ_POSIX rule;
};

/* tzone_name_ok - is this shaped like a zone name */

int
tzone_name_ok(const char *name)
{
	const char *p;

	if (name == 0 || *name == 0 || *name == '/' || *name == '.'
	    || strlen(name) >= TZONE_NAME_MAX)
		return (0);
	for (p = name; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
		      || (*p >= '0' && *p <= '9') || strchr("/_+-.", *p)))
			return (0);
		/* No path climbing out of the zoneinfo directory. */
		if (*p == '.' && (p[1] == '.' || p[-1] == '/'))
			return (0);
	}
	return (1);
}

/* tzone_days_from_civil - days since the epoch of a Gregorian date */

long
tzone_days_from_civil(long y, int m, int d)
{
	long	era, yoe, doy, doe;

	/* Count years from March, so that the leap day ends the year. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

/* tzone_civil_from_days - Gregorian date of a day number */

void
tzone_civil_from_days(long days, long *yp, int *mp, int *dp)
{
	long	z = days + 719468;
	long	era = (z >= 0 ? z : z - 146096) / 146097;
	long	doe = z - era * 146097;
	long	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long	mp0 = (5 * doy + 2) / 153;
	int	d = doy - (153 * mp0 + 2) / 5 + 1;
	int	m = mp0 < 10 ? mp0 + 3 : mp0 - 9;

	*yp = yoe + era * 400 + (m <= 2);
	*mp = m;
	*dp = d;
}

/* tzone_weekday - 0 Sunday .. 6 Saturday */

int
tzone_weekday(long days)
{
	/* 1970-01-01 was a Thursday. */
	return ((int) (((days % 7) + 7 + 4) % 7));
}

/* be32 - read a big-endian 32-bit signed value */

static int32_t
be32(const unsigned char *p)
{
	return ((int32_t) ((uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
			   | (uint32_t) p[2] << 8 | p[3]));
}

/* be64 - read a big-endian 64-bit signed value */

static int64_t
be64(const unsigned char *p)
{
	return ((int64_t) ((uint64_t) (uint32_t) be32(p) << 32
			   | (uint32_t) be32(p + 4)));
}

/* posix_name - skip a zone abbreviation (ABC or <+03>) */

static const char *
posix_name(const char *p)
{
	const char *start;

	if (*p == '<') {
		for (start = ++p; *p && *p != '>'; p++)
			 /* void */ ;
		return (*p == '>' && p - start >= 1 ? p + 1 : 0);
	}
	for (start = p; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
		 /* void */ ;
	return (p - start >= 3 ? p : 0);
}

/* posix_time - [+-]hh[:mm[:ss]] into seconds */

static const char *
posix_time(const char *p, long *secs, int hours_max)
{
	int	sign = 1;
	long	h = 0, m = 0, s = 0;
	int	n;

	if (*p == '+' || *p == '-')
		sign = (*p++ == '-') ? -1 : 1;
	if (*p < '0' || *p > '9')
		return (0);
	for (n = 0; *p >= '0' && *p <= '9' && n < 3; n++)
		h = h * 10 + *p++ - '0';
	if (h > hours_max)
		return (0);
	if (*p == ':') {
		p++;
		if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9')
			return (0);
		m = (p[0] - '0') * 10 + p[1] - '0';
		p += 2;
		if (*p == ':') {
			p++;
			if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9')
				return (0);
			s = (p[0] - '0') * 10 + p[1] - '0';
			p += 2;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + s);
	return (p);
}

/* posix_num - a bounded decimal number */

static const char *
posix_num(const char *p, int *val, int min, int max)
{
	int	v = 0, n;

	for (n = 0; *p >= '0' && *p <= '9' && n < 4; n++)
		v = v * 10 + *p++ - '0';
	if (n == 0 || v < min || v > max)
		return (0);
	*val = v;
	return (p);
}

/* posix_date - a rule date with its optional /time */

static const char *
posix_date(const char *p, TZ_RULE_DATE *d)
{
	d->secs = 7200;				/* default 02:00 */
	if (*p == 'J') {
		d->kind = 'J';
		if ((p = posix_num(p + 1, &d->day, 1, 365)) == 0)
			return (0);
	} else if (*p == 'M') {
		d->kind = 'M';
		if ((p = posix_num(p + 1, &d->month, 1, 12)) == 0 || *p++ != '.'
		    || (p = posix_num(p, &d->week, 1, 5)) == 0 || *p++ != '.'
		    || (p = posix_num(p, &d->day, 0, 6)) == 0)
			return (0);
	} else {
		d->kind = 'N';
		if ((p = posix_num(p, &d->day, 0, 365)) == 0)
			return (0);
	}
	if (*p == '/' && (p = posix_time(p + 1, &d->secs, 167)) == 0)
		return (0);
	return (p);
}

/* posix_parse - parse the footer rule, e.g. CET-1CEST,M3.5.0,M10.5.0/3 */

static int
posix_parse(const char *p, TZ_POSIX *r)
{
	long	off;

	memset(r, 0, sizeof(*r));
	if ((p = posix_name(p)) == 0 || (p = posix_time(p, &off, 24)) == 0)
		return (-1);
	/* POSIX offsets count west of UTC; ours east. */
	r->std_off = -off;
	if (*p == 0) {
		r->valid = 1;
		return (0);
	}
	if ((p = posix_name(p)) == 0)
		return (-1);
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		if ((p = posix_time(p, &off, 24)) == 0)
			return (-1);
		r->dst_off = -off;
	}
	if (*p == 0) {
		/* No rule: the historical US default. */
		r->start = (TZ_RULE_DATE) {'M', 0, 2, 3, 7200};
		r->end = (TZ_RULE_DATE) {'M', 0, 1, 11, 7200};
	} else if (*p++ != ',' || (p = posix_date(p, &r->start)) == 0
		   || *p++ != ',' || (p = posix_date(p, &r->end)) == 0
		   || *p != 0)
		return (-1);
	r->valid = 1;
	return (0);
}

/* rule_day - day number of a rule date in a year */

static long
rule_day(const TZ_RULE_DATE *d, long year)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int	leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	long	jan1 = tzone_days_from_civil(year, 1, 1);
	long	first;
	int	mday, dim;

	switch (d->kind) {
	case 'J':
		/* 1..365, 29 February never counted. */
		return (jan1 + d->day - 1 + (leap && d->day >= 60));
	case 'N':
		return (jan1 + d->day);
	default:
		first = tzone_days_from_civil(year, d->month, 1);
		dim = mdays[d->month - 1] + (d->month == 2 && leap);
		mday = 1 + (d->day - tzone_weekday(first) + 7) % 7 + (d->week - 1) * 7;
		while (mday > dim)
			mday -= 7;
		return (first + mday - 1);
	}
}

/* posix_offset - offset at t under the footer rule */

static long
posix_offset(const TZ_POSIX *r, time_t t)
{
	long	y;
	int	m, d;
	int64_t	start, end;
	long	days;

	if (!r->has_dst)
		return (r->std_off);
	days = (long) ((t - r->std_off) / 86400 - ((t - r->std_off) % 86400 < 0));
	tzone_civil_from_days(days, &y, &m, &d);
	/* The start is written in standard time, the end in daylight time. */
	start = (int64_t) rule_day(&r->start, y) * 86400 + r->start.secs - r->std_off;
	end = (int64_t) rule_day(&r->end, y) * 86400 + r->end.secs - r->dst_off;
	if (start < end)
		return (t >= start && t < end ? r->dst_off : r->std_off);
	/* Southern hemisphere: daylight time spans the new year. */
	return (t >= end && t < start ? r->std_off : r->dst_off);
}

/* tzif_parse - fill tz from a TZif image; -1 if malformed */

static int
tzif_parse(TZONE *tz, const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf, *end = buf + len;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
	size_t	tsize = 4, block;
	int	version, pass, i;

	for (pass = 1;; pass++) {
		if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
			return (-1);
		version = p[4];
		isutcnt = (uint32_t) be32(p + 20);
		isstdcnt = (uint32_t) be32(p + 24);
		leapcnt = (uint32_t) be32(p + 28);
		timecnt = (uint32_t) be32(p + 32);
		typecnt = (uint32_t) be32(p + 36);
		charcnt = (uint32_t) be32(p + 40);
		if (timecnt > 100000 || typecnt == 0 || typecnt > 256
		    || leapcnt > 10000 || charcnt > 100000
		    || isutcnt > 256 || isstdcnt > 256)
			return (-1);
		p += 44;
		block = timecnt * tsize + timecnt + typecnt * 6 + charcnt
		    + leapcnt * (tsize + 4) + isstdcnt + isutcnt;
		if ((size_t) (end - p) < block)
			return (-1);
		/* Version 1 data is read only when there is nothing better. */
		if (pass == 1 && version >= '2') {
			p += block;
			tsize = 8;
			continue;
		}
		break;
	}
	tz->ntrans = timecnt;
	tz->ntypes = typecnt;
	tz->trans = mymalloc((timecnt + 1) * sizeof(*tz->trans));
	tz->trans_type = mymalloc(timecnt + 1);
	tz->off = mymalloc(typecnt * sizeof(*tz->off));
	for (i = 0; i < (int) timecnt; i++)
		tz->trans[i] = tsize == 8 ? be64(p + i * 8) : be32(p + i * 4);
	p += timecnt * tsize;
	for (i = 0; i < (int) timecnt; i++) {
		if (p[i] >= typecnt)
			return (-1);
		tz->trans_type[i] = p[i];
	}
	p += timecnt;
	for (i = 0; i < (int) typecnt; i++) {
		tz->off[i] = be32(p + i * 6);
		if (tz->off[i] < -26 * 3600 || tz->off[i] > 26 * 3600)
			return (-1);
	}
	p += typecnt * 6;
	for (i = 1; i < (int) timecnt; i++)
		if (tz->trans[i] <= tz->trans[i - 1])
			return (-1);
	/* RFC 8536: local time before the first transition is type 0. */
	tz->first_off = tz->off[0];
	p += charcnt + leapcnt * (tsize + 4) + isstdcnt + isutcnt;
	if (tsize == 8 && end - p >= 2 && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', end - p - 1);
		char	footer[256];

		if (nl && (size_t) (nl - p - 1) < sizeof(footer)) {
			memcpy(footer, p + 1, nl - p - 1);
			footer[nl - p - 1] = 0;
			if (*footer && posix_parse(footer, &tz->rule) < 0)
				return (-1);
		}
	}
	return (0);
}

/* tzone_free - destroy a zone */

void
tzone_free(TZONE *tz)
{
	if (tz == 0)
		return;
	myfree(tz->name);
	myfree(tz->trans);
	myfree(tz->trans_type);
	myfree(tz->off);
	myfree(tz);
}

/* tzone_load - read a zone file */

TZONE  *
tzone_load(const char *name)
{
	const char *dir = getenv("TZDIR");
	char   *path;
	unsigned char *buf;
	struct stat st;
	TZONE  *tz;
	ssize_t	n;
	size_t	got = 0;
	int	fd;

	if (!tzone_name_ok(name))
		return (0);
	if (dir == 0 || *dir == 0)
		dir = "/usr/share/zoneinfo";
	path = myasprintf("%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	myfree(path);
	if (fd < 0)
		return (0);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
	    || st.st_size < 44 || st.st_size > TZONE_FILE_MAX) {
		close(fd);
		return (0);
	}
	buf = mymalloc(st.st_size);
	while (got < (size_t) st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	tz = mycalloc(1, sizeof(*tz));
	tz->name = mystrdup(name);
	if (got != (size_t) st.st_size || tzif_parse(tz, buf, got) < 0) {
		myfree(buf);
		tzone_free(tz);
		return (0);
	}
	myfree(buf);
	return (tz);
}

/* tzone_name - the name it was loaded by */

const char *
tzone_name(const TZONE *tz)
{
	return (tz->name);
}

/* tzone_offset - seconds east of UTC at t */

long
tzone_offset(const TZONE *tz, time_t t)
{
	int	lo, hi, mid;

	if (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]) {
		if (tz->rule.valid)
			return (posix_offset(&tz->rule, t));
		return (tz->ntrans ? tz->off[tz->trans_type[tz->ntrans - 1]]
			: tz->first_off);
	}
	if (t < tz->trans[0])
		return (tz->first_off);
	/* The last transition at or before t. */
	lo = 0;
	hi = tz->ntrans - 1;
	while (lo < hi) {
		mid = (lo + hi + 1) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return (tz->off[tz->trans_type[lo]]);
}

/* tzone_mktime - the instant of a local wall-clock time */

time_t
tzone_mktime(const TZONE *tz, time_t local)
{
	long	o1, o2;
	time_t	u1, u2;

	/*
	 * Try the offsets in force around the time; an overlap has two
	 * answers (take the earlier), a gap none (take the instant that the
	 * offset before the gap gives: it reads as a time after the gap).
	 */
	o1 = tzone_offset(tz, local - 86400);
	o2 = tzone_offset(tz, local + 86400);
	u1 = local - o1;
	u2 = local - o2;
	if (o1 == o2)
		return (u1);
	if (tzone_offset(tz, u1) == o1 && tzone_offset(tz, u2) == o2)
		return (u1 < u2 ? u1 : u2);
	if (tzone_offset(tz, u1) == o1)
		return (u1);
	if (tzone_offset(tz, u2) == o2)
		return (u2);
	return (u1 > u2 ? u1 : u2);
}
