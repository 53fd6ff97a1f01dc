/* Unit tests for lib/schedule: Komodo's schedules as OnCalendar= lines. */
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "tap.h"
#include "banned.h"

/* The OnCalendar= lines of text ('|' between lines), or "error: ..." */
static char *
cal(const char *format, const char *text, const char *tz)
{
	struct schedule s;
	struct buf out = BUF_INIT, err = BUF_INIT;

	if (schedule_parse(format, text, &s, &err) < 0) {
		buf_reset(&out);
		buf_printf(&out, "error: %s", err.s);
	} else {
		schedule_calendar(&s, tz, &out);
		buf_truncate(&out, out.len - 1);
		buf_replace_all(&out, "\n", "|");
	}
	buf_free(&err);
	return buf_release(&out);
}

static void
cal_is(const char *format, const char *text, const char *want)
{
	char *got = cal(format, text, "");

	is_str(got, want, "%s '%s'", format ? format : "English", text);
	free(got);
}

static void
err_has(const char *format, const char *text, const char *want)
{
	char *got = cal(format, text, "");

	ok(strncmp(got, "error: ", 7) == 0 && strstr(got, want) != NULL,
	    "%s '%s' is an error naming '%s'", format ? format : "English",
	    text, want);
	if (!strstr(got, want))
		diag("got: %s", got);
	free(got);
}

int
main(void)
{
	char *got;

	/* Komodo's own default schedule, and the common phrases */
	cal_is(NULL, "Every day at 03:00", "*-*-* 03:00:00");
	cal_is("English", "every day at 4:00 pm", "*-*-* 16:00:00");
	cal_is(NULL, "at 10:00 am", "*-*-* 10:00:00");
	cal_is(NULL, "daily", "*-*-* 00:00:00");
	cal_is(NULL, "every day", "*-*-* 00:00:00");
	cal_is(NULL, "at midnight", "*-*-* 00:00:00");
	cal_is(NULL, "every day at noon", "*-*-* 12:00:00");
	cal_is(NULL, "at 12am", "*-*-* 00:00:00");
	cal_is(NULL, "at 12 p.m.", "*-*-* 12:00:00");
	cal_is(NULL, "at 9:30:15pm", "*-*-* 21:30:15");
	cal_is(NULL, "every 15 seconds", "*-*-* *:*:00,15,30,45");
	cal_is(NULL, "every second", "*-*-* *:*:*");
	cal_is(NULL, "every minute", "*-*-* *:*:00");
	cal_is(NULL, "every 20 minutes", "*-*-* *:00,20,40:00");
	cal_is(NULL, "every hour", "*-*-* *:00:00");
	cal_is(NULL, "hourly", "*-*-* *:00:00");
	cal_is(NULL, "every 6 hours", "*-*-* 00,06,12,18:00:00");
	cal_is(NULL, "every 10 days at 01:00",
	    "*-*-01,11,21,31 01:00:00");
	cal_is(NULL, "every monday at 9am", "Mon *-*-* 09:00:00");
	cal_is(NULL, "Every Monday and Friday at 9:30",
	    "Mon,Fri *-*-* 09:30:00");
	cal_is(NULL, "on sat, sun at 10 a.m.", "Sun,Sat *-*-* 10:00:00");
	cal_is(NULL, "every weekday at 18:00", "Mon..Fri *-*-* 18:00:00");
	cal_is(NULL, "weekends", "Sun,Sat *-*-* 00:00:00");
	cal_is(NULL, "on Sundays at 12:00", "Sun *-*-* 12:00:00");
	cal_is(NULL, "every week", "Sun *-*-* 00:00:00");
	cal_is(NULL, "monthly", "*-*-01 00:00:00");
	cal_is(NULL, "Run at midnight on the 1st and 15th of the month",
	    "*-*-01,15 00:00:00");
	cal_is(NULL, "at 9am and 5pm", "*-*-* 09,17:00:00");

	/* six fields, seconds first */
	cal_is("Cron", "0 0 3 * * *", "*-*-* 03:00:00");
	cal_is("Cron", "*/10 * * * * *", "*-*-* *:*:00,10,20,30,40,50");
	cal_is("Cron", "0 30 9 * * MON-FRI", "Mon..Fri *-*-* 09:30:00");
	cal_is("Cron", "0 30 9 * * 1-5", "Mon..Fri *-*-* 09:30:00");
	cal_is("Cron", "0 0 0 ? * 7", "Sun *-*-* 00:00:00");
	cal_is("Cron", "0 0 0 1 JAN,jul ?", "*-01,07-01 00:00:00");
	cal_is("Cron", "0 0 12 1-3 * *", "*-*-01..03 12:00:00");
	cal_is("Cron", "15 0-10/5 * * * *", "*-*-* *:00,05,10:15");
	cal_is("Cron", "0 0 0 1 * MON",
	    "Mon *-*-* 00:00:00|*-*-01 00:00:00");
	cal_is("Cron", "  0   0 3   * *   * ", "*-*-* 03:00:00");

	got = cal("Cron", "0 0 3 * * *", "Europe/Berlin");
	is_str(got, "*-*-* 03:00:00 Europe/Berlin", "timezone appended");
	free(got);

	/* errors */
	err_has("Cron", "0 3 * * *", "five");
	err_has("Cron", "0 0 3 * * * 2030", "more than six");
	err_has("Cron", "60 * * * * *", "outside 0 to 59");
	err_has("Cron", "0 0 25 * * *", "hours");
	err_has("Cron", "0 0 0 L * *", "not L, W or #");
	err_has("Cron", "0 0 0 * * 1#2", "day of week");
	err_has("Cron", "*/0 * * * * *", "step");
	err_has("Cron", "0 5-1 * * * *", "outside");
	err_has("Cron", "0 0 0 , * *", "day of month");
	err_has(NULL, "every fortnight", "'fortnight' is not understood");
	err_has(NULL, "", "empty");
	err_has(NULL, "every 5 minutes at 10:00", "cannot also be at");
	err_has(NULL, "at 9:00 and 5:30pm", "different minutes");
	err_has(NULL, "at 25:00", "not a time of day");
	err_has(NULL, "at 13pm", "not a time of day");
	err_has(NULL, "every 0 hours", "1 to 23");
	err_has(NULL, "the", "says no time");
	err_has("Weekly", "x", "not English or Cron");

	ok(schedule_zone_ok(""), "zone: empty is the host's");
	ok(schedule_zone_ok("UTC") && schedule_zone_ok("Europe/Berlin") &&
	    schedule_zone_ok("America/Argentina/Buenos_Aires"),
	    "zone: tzdata names");
	ok(!schedule_zone_ok("Mars/Olympus") && !schedule_zone_ok("../etc/passwd")
	    && !schedule_zone_ok("/etc/localtime") &&
	    !schedule_zone_ok("Europe"), "zone: unknown, paths, directories");
	return done_testing();
}
