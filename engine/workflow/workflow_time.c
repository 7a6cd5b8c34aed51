/*++
/* NAME
/*	workflow_time 3
/* SUMMARY
/*	send windows, date triggers and waits in the contact's time zone
/* SYNOPSIS
/*	#include "workflow/workflow.h"
/*
/*	time_t	workflow_send_window(wf, tz, t)
/*	long	workflow_zone_offset(wf, tz, t)
/*	const char *workflow_contact_tz(wf, contact)
/*	time_t	workflow_trigger_next(wf, contact, after)
/*	time_t	workflow_wait_until(wf, step, contact)
/* DESCRIPTION
/*	Local time comes from tzone(3), our reader of the system's zoneinfo
/*	files, never from setenv("TZ"): any thread may call these functions.
/*	Each set keeps the zones it has loaded (at most WF_ZONE_CACHE_MAX,
/*	under a mutex); a zone name that is not in the cache and does not
/*	fit falls back to the default zone.
/*
/*	workflow_send_window() returns t when t is inside the allowed days
/*	and hours, else the start of the next allowed stretch. Days are
/*	those of the local calendar; hours are ranges of local wall-clock
/*	time, an end before the start spanning midnight.
/*
/*	Dates in contact fields: YYYY-MM-DD is local midnight in the
/*	contact's zone; YYYY-MM-DDTHH:MM[:SS] without an offset is local
/*	too; with Z or an offset it is that instant; a JSON number is seconds
/*	since the epoch (so "created" works). Yearly triggers also take
/*	--MM-DD and MM-DD.
/* DIAGNOSTICS
/*	(time_t) -1 when a field is missing or not a date.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/mymalloc.h"
#include "workflow/workflow_int.h"

/* wf_parse_hhmm - "09:30", "9:30", "24:00" into minutes */

int
wf_parse_hhmm(const char *s, int *minutes)
{
	int	h = 0, m = 0, n;

	for (n = 0; isdigit((unsigned char) *s) && n < 2; n++)
		h = h * 10 + *s++ - '0';
	if (n == 0 || *s++ != ':')
		return (-1);
	if (!isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) || s[2])
		return (-1);
	m = (s[0] - '0') * 10 + s[1] - '0';
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return (-1);
	*minutes = h * 60 + m;
	return (0);
}

/* wf_zone - a zone by name, loaded once per set; NULL if unknown */

const TZONE *
wf_zone(const WORKFLOW_SET *cset, const char *name)
{
	WORKFLOW_SET *set = (WORKFLOW_SET *) cset;	/* the cache only */
	TZONE  *tz = 0;
	int	i;

	if (name == 0 || !tzone_name_ok(name))
		return (0);
	pthread_mutex_lock(&set->zone_lock);
	for (i = 0; i < set->nzones; i++)
		if (strcmp(tzone_name(set->zones[i]), name) == 0) {
			tz = set->zones[i];
			break;
		}
	/* Contact fields are outside input: the cache is bounded. */
	if (tz == 0 && set->nzones < WF_ZONE_CACHE_MAX && (tz = tzone_load(name)) != 0) {
		set->zones = myrealloc(set->zones, (set->nzones + 1) * sizeof(TZONE *));
		set->zones[set->nzones++] = tz;
	}
	pthread_mutex_unlock(&set->zone_lock);
	return (tz);
}

/* wf_offset_at - offset east of UTC; no zone is UTC */

static long
wf_offset_at(const TZONE *tz, time_t t)
{
	return (tz ? tzone_offset(tz, t) : 0);
}

/* wf_mktime - instant of a local wall-clock time */

static time_t
wf_mktime(const TZONE *tz, time_t local)
{
	return (tz ? tzone_mktime(tz, local) : local);
}

/* wf_floor_day - day number of seconds, rounding down */

static long
wf_floor_day(time_t t)
{
	return ((long) (t / 86400 - (t % 86400 < 0)));
}

/* wf_default_zone - the workflow's zone, else the set's */

static const TZONE *
wf_default_zone(const WORKFLOW *wf)
{
	const TZONE *tz = 0;

	if (wf->send.timezone)
		tz = wf_zone(wf->set, wf->send.timezone);
	if (tz == 0 && wf->set)
		tz = wf_zone(wf->set, wf->set->default_tz);
	return (tz);
}

/* wf_contact_zone_name - the zone field of a contact, if it is a zone */

static const char *
wf_contact_zone_name(const WORKFLOW *wf, json_t *contact)
{
	json_t *fields, *v;
	const char *name = wf->send.timezone_field ? wf->send.timezone_field : "timezone";

	if (contact == 0 || (fields = json_object_get(contact, "fields")) == 0
	    || (v = json_object_get(fields, name)) == 0 || !json_is_string(v))
		return (0);
	return (wf_zone(wf->set, json_string_value(v)) ? json_string_value(v) : 0);
}

/* workflow_contact_tz - the zone name that applies to a contact */

const char *
workflow_contact_tz(const WORKFLOW *wf, json_t *contact)
{
	const char *name;

	if ((name = wf_contact_zone_name(wf, contact)) != 0)
		return (name);
	if (wf->send.timezone)
		return (wf->send.timezone);
	return (wf->set ? wf->set->default_tz : "UTC");
}

/* wf_contact_zone - the zone that applies to a contact */

static const TZONE *
wf_contact_zone(const WORKFLOW *wf, json_t *contact)
{
	const char *name = wf_contact_zone_name(wf, contact);

	return (name ? wf_zone(wf->set, name) : wf_default_zone(wf));
}

/* wf_allowed - is the instant inside the send window */

static int
wf_allowed(const WF_SEND *ss, const TZONE *tz, time_t t)
{
	time_t	local = t + wf_offset_at(tz, t);
	long	day = wf_floor_day(local);
	int	minute = (int) ((local - (time_t) day * 86400) / 60);
	int	i;

	if ((ss->days & (1u << tzone_weekday(day))) == 0)
		return (0);
	if (ss->nhours == 0)
		return (1);
	for (i = 0; i < ss->nhours; i++) {
		if (ss->hour_start[i] < ss->hour_end[i]) {
			if (minute >= ss->hour_start[i] && minute < ss->hour_end[i])
				return (1);
		} else if (minute >= ss->hour_start[i] || minute < ss->hour_end[i])
			return (1);
	}
	return (0);
}

/* workflow_zone_offset - the offset of the zone a send window uses */

long
workflow_zone_offset(const WORKFLOW *wf, const char *tzname, time_t t)
{
	const TZONE *tz = tzname ? wf_zone(wf->set, tzname) : 0;

	if (tz == 0)
		tz = wf_default_zone(wf);
	return (wf_offset_at(tz, t));
}

/* workflow_send_window - the next allowed send time >= t */

time_t
workflow_send_window(const WORKFLOW *wf, const char *tzname, time_t t)
{
	const WF_SEND *ss = &wf->send;
	const TZONE *tz = 0;
	time_t	best = (time_t) -1, c, local;
	long	day;
	int	d, i;

	if (tzname)
		tz = wf_zone(wf->set, tzname);
	if (tz == 0)
		tz = wf_default_zone(wf);
	if ((ss->days & WF_DAY_ALL) == 0 || wf_allowed(ss, tz, t))
		return (t);

	/*
	 * The window opens at a local midnight or at the start of an hour
	 * range. Try those of the next eight local days (a week, plus the
	 * day we are in) and take the earliest that is allowed; checking the
	 * candidate itself copes with DST gaps and overnight ranges.
	 */
	day = wf_floor_day(t + wf_offset_at(tz, t));
	for (d = 0; d <= 8; d++) {
		local = (time_t) (day + d) * 86400;
		for (i = -1; i < ss->nhours; i++) {
			c = wf_mktime(tz, local + (i < 0 ? 0 : ss->hour_start[i] * 60));
			if (c > t && (best == (time_t) -1 || c < best) && wf_allowed(ss, tz, c))
				best = c;
		}
		if (best != (time_t) -1)
			return (best);
	}
	return (t);
}

/* wf_digits - n digits at s into *v */

static int
wf_digits(const char *s, int n, int *v)
{
	int	i;

	for (*v = 0, i = 0; i < n; i++) {
		if (!isdigit((unsigned char) s[i]))
			return (-1);
		*v = *v * 10 + s[i] - '0';
	}
	return (0);
}

/* wf_month_day_ok - a valid month and day (29 February included) */

static int
wf_month_day_ok(int m, int d)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return (m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1]);
}

/*
 * wf_field_time - a contact field as an instant. Local forms use tz; with
 * at >= 0 a date without a time gets that time of day; offset moves the
 * local time (so whole days stay whole days across DST).
 */
static time_t
wf_field_time(json_t *v, const TZONE *tz, int at, long offset)
{
	const char *s;
	int	y, m, d, hh = 0, mm = 0, ss = 0;
	size_t	len;
	time_t	t;

	if (v == 0)
		return ((time_t) -1);
	if (json_is_integer(v))
		return ((time_t) json_integer_value(v) + offset);
	if (!json_is_string(v))
		return ((time_t) -1);
	s = json_string_value(v);
	len = strlen(s);
	if (len < 10 || wf_digits(s, 4, &y) < 0 || s[4] != '-' || wf_digits(s + 5, 2, &m) < 0
	    || s[7] != '-' || wf_digits(s + 8, 2, &d) < 0 || !wf_month_day_ok(m, d))
		return ((time_t) -1);
	if (len == 10) {
		if (at >= 0) {
			hh = at / 60;
			mm = at % 60;
		}
	} else if ((s[10] == 'T' || s[10] == ' ') && len >= 16
		   && wf_digits(s + 11, 2, &hh) == 0 && s[13] == ':'
		   && wf_digits(s + 14, 2, &mm) == 0 && hh < 24 && mm < 60) {
		if (len >= 19 && s[16] == ':' && wf_digits(s + 17, 2, &ss) == 0 && ss < 61) {
			if (len > 19) {
				/* An offset or Z: an instant, no zone involved. */
				if (clock_parse(s, &t) < 0)
					return ((time_t) -1);
				return (t + offset);
			}
		} else if (len > 16) {
			if (clock_parse(s, &t) < 0)
				return ((time_t) -1);
			return (t + offset);
		}
	} else
		return ((time_t) -1);
	t = (time_t) tzone_days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	return (wf_mktime(tz, t + offset));
}

/* wf_month_day - month and day of a yearly date field */

static int
wf_month_day(json_t *v, const TZONE *tz, int *m, int *d)
{
	const char *s;
	int	y;
	long	yy;
	time_t	t;

	/* Seconds since the epoch (the record's "created"): its local date. */
	if (json_is_integer(v)) {
		t = (time_t) json_integer_value(v);
		tzone_civil_from_days(wf_floor_day(t + wf_offset_at(tz, t)), &yy, m, d);
		return (0);
	}
	if (v == 0 || !json_is_string(v))
		return (-1);
	s = json_string_value(v);
	if (strncmp(s, "--", 2) == 0)
		s += 2;
	else if (strlen(s) >= 10 && wf_digits(s, 4, &y) == 0 && s[4] == '-')
		s += 5;
	if (wf_digits(s, 2, m) < 0 || s[2] != '-' || wf_digits(s + 3, 2, d) < 0
	    || (s[5] != 0 && s[5] != 'T' && s[5] != ' ') || !wf_month_day_ok(*m, *d))
		return (-1);
	return (0);
}

/* wf_contact_field - a field of the contact record */

static json_t *
wf_contact_field(json_t *contact, const char *name)
{
	json_t *fields;

	if (contact == 0)
		return (0);
	if (strcmp(name, "created") == 0)
		return (json_object_get(contact, "created"));
	fields = json_object_get(contact, "fields");
	return (fields ? json_object_get(fields, name) : 0);
}

/* workflow_trigger_next - when a date trigger fires next for a contact */

time_t
workflow_trigger_next(const WORKFLOW *wf, json_t *contact, time_t after)
{
	const WF_TRIGGER *tr = &wf->trigger;
	const TZONE *tz;
	json_t *v;
	long	y, y0, base;
	int	m, d, mo, da, leap, at;
	time_t	t;

	if (tr->kind != WF_TRIG_YEARLY && tr->kind != WF_TRIG_DATE)
		return ((time_t) -1);
	if ((v = wf_contact_field(contact, tr->field)) == 0)
		return ((time_t) -1);
	tz = wf_contact_zone(wf, contact);
	if (tr->kind == WF_TRIG_DATE) {
		t = wf_field_time(v, tz, -1, tr->offset);
		return (t != (time_t) -1 && t >= after ? t : (time_t) -1);
	}
	if (wf_month_day(v, tz, &m, &d) < 0)
		return ((time_t) -1);
	at = tr->at >= 0 ? tr->at : 0;
	tzone_civil_from_days(wf_floor_day(after + wf_offset_at(tz, after)), &y, &mo, &da);
	/* The offset may move the day into the year before or after. */
	for (y0 = y, y = y0 - 1; y <= y0 + 3; y++) {
		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		base = tzone_days_from_civil(y, m, (m == 2 && d == 29 && !leap) ? 28 : d);
		t = wf_mktime(tz, (time_t) base * 86400 + at * 60 + tr->offset);
		if (t >= after)
			return (t);
	}
	return ((time_t) -1);
}

/* workflow_wait_until - when a wait_until step ends for a contact */

time_t
workflow_wait_until(const WORKFLOW *wf, const WF_STEP *s, json_t *contact)
{
	if (s->kind != WF_STEP_WAIT_UNTIL)
		return ((time_t) -1);
	if (s->field == 0)
		return (s->date + s->offset);
	return (wf_field_time(wf_contact_field(contact, s->field),
			      wf_contact_zone(wf, contact), s->at, s->offset));
}
