#ifndef PD_TZONE_H
#define PD_TZONE_H

/*
 * tzone - IANA time zones read from the system's TZif files.
 *
 * Our own reader of zoneinfo files (TZif versions 1 to 4, with the POSIX TZ
 * rule in the footer for instants after the last transition), so that
 * offsets are computed without setenv("TZ")/tzset(): no process-wide state,
 * safe in any thread. A loaded TZONE is immutable.
 *
 * The directory is $TZDIR when set, else /usr/share/zoneinfo.
 */
#include <time.h>

typedef struct TZONE TZONE;

/* Is the text shaped like a zone name (Area/City, UTC, Etc/GMT+3)? It does
 * not say whether the zone exists. */
int	tzone_name_ok(const char *name);
/* Load a zone; NULL if the name is malformed, unknown or the file broken. */
TZONE  *tzone_load(const char *name);
void	tzone_free(TZONE *tz);
const char *tzone_name(const TZONE *tz);
/* Seconds east of UTC at the instant t. */
long	tzone_offset(const TZONE *tz, time_t t);
/* The instant at which the local wall clock reads `local` (seconds since the
 * epoch as if the wall clock were UTC). In a gap (spring forward), a time
 * after the gap; in an overlap (fall back), the earlier instant. */
time_t	tzone_mktime(const TZONE *tz, time_t local);

/* Calendar helpers in proleptic Gregorian, no time zone involved. */
long	tzone_days_from_civil(long y, int m, int d);	/* days since 1970-01-01 */
void	tzone_civil_from_days(long days, long *y, int *m, int *d);
int	tzone_weekday(long days);			/* 0 Sunday .. 6 Saturday */

#endif
