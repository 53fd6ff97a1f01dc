/*
 * schedule: a procedure's (or action's) `schedule` as Komodo reads it
 * (komodo-behaviour.md 1.8): with schedule_format "Cron" six fields with
 * seconds, "SEC MIN HOUR DOM MON DOW"; with "English" (the default) a
 * phrase such as "every day at 03:00", "every 15 minutes" or "every
 * monday and friday at 9:30pm".  The result is a set of matching times,
 * written out as systemd OnCalendar= lines for the timers that run the
 * procedure (kom-exec(1) timers).
 *
 * Cron keeps its rule that a restricted day of the month and a
 * restricted day of the week match either (OnCalendar= would need both):
 * that schedule becomes two OnCalendar= lines.
 *
 * Errors: -1 with one line in err (no file:line: the caller has it),
 * nothing printed, *s unspecified.  The text is outside input: bounded
 * (SCHEDULE_MAX bytes), every number range-checked.
 */
#ifndef KOM_SCHEDULE_H
#define KOM_SCHEDULE_H

#include <stdint.h>

#include "buf.h"

#define SCHEDULE_MAX 512

struct schedule {
	uint64_t sec, min;	/* bit n: second, minute n (0..59) */
	uint32_t hour;		/* bit n: hour n (0..23) */
	uint32_t dom;		/* bit n: day n of the month (1..31) */
	uint16_t mon;		/* bit n: month n (1..12) */
	uint8_t dow;		/* bit n: weekday n, 0 = Sunday */
	int dom_any, dow_any;	/* not restricted ("*" or "?") */
};

/* Parse text in format ("English", "Cron"; NULL or "" = English). */
int schedule_parse(const char *format, const char *text, struct schedule *s,
    struct buf *err);
/*
 * Append the OnCalendar= values of s to out, one a line, each ending in
 * " TZ" when tz is not empty.
 */
void schedule_calendar(const struct schedule *s, const char *tz,
    struct buf *out);
/*
 * Is tz "" (the host's zone) or a zone of the tz database installed at
 * /usr/share/zoneinfo (tzdata)?  1 or 0; a name with ".." or a leading
 * '/' is never one.
 */
int schedule_zone_ok(const char *tz);

#endif
