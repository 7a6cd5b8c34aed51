#ifndef PD_CLOCK_H
#define PD_CLOCK_H

/*
 * clock - the one source of "now" for all time-dependent logic.
 *
 * POSTDRIP_NOW (ISO 8601, e.g. 2026-03-01T09:00:00Z) in the environment fixes
 * it, so that tests and the demo walk months in seconds and never sleep.
 * clock_set() does the same from code (tests); clock_set(0) undoes it.
 */
#include <time.h>

time_t	clock_now(void);
void	clock_set(time_t t);
int	clock_is_fixed(void);

/* 0 on success, -1 if the text is not an ISO 8601 date or date-time. A date
 * alone (YYYY-MM-DD) is midnight UTC; an offset (+02:00, Z) is honoured. */
int	clock_parse(const char *text, time_t *t);

/* YYYY-MM-DDTHH:MM:SSZ into buf (at least CLOCK_ISO_LEN bytes). */
#define CLOCK_ISO_LEN 21
char   *clock_format(time_t t, char *buf);

/* YYYY-MM-DDTHH:MM:SS+HH:MM, the wall clock at offset seconds east of UTC
 * (Z when the offset is 0), into buf (at least CLOCK_ISO_OFF_LEN bytes):
 * a time as the contact or the send window sees it. */
#define CLOCK_ISO_OFF_LEN 26
char   *clock_format_offset(time_t t, long offset, char *buf);

/* Durations: "90", "90s", "15m", "2h", "7d", "2w", combinations "1d12h".
 * 0 on success, -1 if malformed. */
int	clock_parse_duration(const char *text, long *seconds);

#endif
