#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>

#include "alertroute.h"
#include "buf.h"
#include "util.h"
#include "banned.h"

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
has_target(const json_t *list, const json_t *target)
{
	const char *type = str(target, "type"), *id = str(target, "id");
	size_t i;
	json_t *t;

	if (!type || !id)
		return 0;
	json_array_foreach(list, i, t) {
		const char *tt = str(t, "type"), *ti = str(t, "id");

		if (!ti)
			ti = str(t, "name");
		if (tt && ti && !strcmp(tt, type) && !strcmp(ti, id))
			return 1;
	}
	return 0;
}

static int
has_string(const json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return 1;
	return 0;
}

const char *
alertroute_skip(const json_t *config, const json_t *alert, long long now_ms)
{
	const json_t *types = json_object_get(config, "alert_types");
	const json_t *only = json_object_get(config, "resources");
	const json_t *except = json_object_get(config, "except_resources");
	const json_t *target = json_object_get(alert, "target");
	const char *type = alertroute_type(alert);

	if (!json_is_true(json_object_get(config, "enabled")))
		return "disabled";
	if (alertroute_in_maintenance(json_object_get(config,
	    "maintenance_windows"), now_ms))
		return "in a maintenance window";
	if (type && !strcmp(type, "Test"))
		return NULL;
	if (json_array_size(types) && !(type && has_string(types, type)))
		return "alert type not in alert_types";
	if (has_target(except, target))
		return "target in except_resources";
	if (json_array_size(only) && !has_target(only, target))
		return "target not in resources";
	return NULL;
}

/* The broken-down time of t in zone tz ("" = local).  Switches TZ for
 * the call and puts it back: single-threaded callers only. */
static int
zone_time(time_t t, const char *tz, struct tm *out)
{
	char *saved = getenv("TZ") ? xstrdup(getenv("TZ")) : NULL;
	int rc = 0;

	if (*tz) {
		/* A name tzset does not know falls back to UTC silently:
		 * only accept UTC itself or a zone file that exists. */
		char *path = xasprintf("/usr/share/zoneinfo/%s", tz);

		if (strcmp(tz, "UTC") && (strstr(tz, "..") ||
		    access(path, R_OK) != 0))
			rc = -1;
		free(path);
		if (rc == 0)
			setenv("TZ", tz, 1);
	}
	if (rc == 0) {
		tzset();
		rc = localtime_r(&t, out) ? 0 : -1;
	}
	if (*tz) {
		if (saved)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
	}
	free(saved);
	return rc;
}

static int
weekday(const char *s)
{
	static const char *const days[] = { "sunday", "monday", "tuesday",
	    "wednesday", "thursday", "friday", "saturday" };

	if (!*s)
		return 1;	/* Komodo's default: Monday */
	for (int i = 0; i < 7; i++)
		if (!strcasecmp(s, days[i]) || (strlen(s) == 3 &&
		    !strncasecmp(s, days[i], 3)))
			return i;
	return 1;
}

static long long
intval(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int
window_active(const json_t *w, time_t now)
{
	const char *tz = str(w, "timezone"), *kind = str(w, "schedule_type");
	const char *date = str(w, "date"), *dow = str(w, "day_of_week");
	long long start, end, cur, dur = intval(w, "duration_minutes");
	struct tm tm;
	char today[48];

	if (json_is_false(json_object_get(w, "enabled")))
		return 0;
	if (zone_time(now, tz ? tz : "", &tm) < 0)
		return 0;
	start = intval(w, "hour") * 60 + intval(w, "minute");
	if (start < 0 || start >= 24 * 60)
		start = 0;
	end = ((start + dur) % (24 * 60) + 24 * 60) % (24 * 60);
	cur = tm.tm_hour * 60 + tm.tm_min;
	/* Komodo compares times of day to the second, end included. */
	if (!kind || !strcmp(kind, "Daily"))
		;
	else if (!strcmp(kind, "Weekly")) {
		if (tm.tm_wday != weekday(dow ? dow : ""))
			return 0;
	} else if (!strcmp(kind, "OneTime")) {
		snprintf(today, sizeof(today), "%04d-%02d-%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		if (!date || strcmp(date, today))
			return 0;
	} else
		return 0;
	if (end < start)
		return cur >= start || cur < end ||
		    (cur == end && tm.tm_sec == 0);
	return cur >= start && (cur < end || (cur == end && tm.tm_sec == 0));
}

int
alertroute_in_maintenance(const json_t *windows, long long now_ms)
{
	size_t i;
	json_t *w;

	json_array_foreach(windows, i, w)
		if (json_is_object(w) && window_active(w, (time_t)(now_ms /
		    1000)))
			return 1;
	return 0;
}

int
alertroute_level_rank(const char *level)
{
	if (!level)
		return -1;
	if (!strcmp(level, "OK"))
		return 0;
	if (!strcmp(level, "WARNING"))
		return 1;
	if (!strcmp(level, "CRITICAL"))
		return 2;
	return -1;
}

int
alertroute_check(const json_t *rec, const char **why)
{
	const json_t *target = json_object_get(rec, "target");
	const json_t *data = json_object_get(rec, "data");

	*why = NULL;
	if (!json_is_object(rec) || !str(rec, "kind") ||
	    strcmp(str(rec, "kind"), "alert"))
		*why = "not an alert record";
	else if (!json_is_integer(json_object_get(rec, "ts")))
		*why = "alert without an integer ts";
	else if (alertroute_level_rank(str(rec, "level")) < 0)
		*why = "alert level is not OK, WARNING or CRITICAL";
	else if (!json_is_boolean(json_object_get(rec, "resolved")))
		*why = "alert without a boolean resolved";
	else if (!str(target, "type") || !str(target, "id"))
		*why = "alert target is not {type, id}";
	else if (!str(data, "type") || !json_is_object(json_object_get(data,
	    "data")))
		*why = "alert data is not {type, data}";
	return *why ? -1 : 0;
}

const char *
alertroute_type(const json_t *rec)
{
	return str(json_object_get(rec, "data"), "type");
}

const char *
alertroute_level(const json_t *rec)
{
	return str(rec, "level");
}

char *
alertroute_key(const json_t *rec)
{
	const json_t *target = json_object_get(rec, "target");
	const json_t *d = json_object_get(json_object_get(rec, "data"),
	    "data");
	const char *sub = str(d, "path");
	struct buf b = BUF_INIT;

	if (!sub)
		sub = str(d, "service");
	buf_printf(&b, "%s/%s/%s", str(target, "type"), str(target, "id"),
	    alertroute_type(rec));
	if (sub)
		buf_printf(&b, "/%s", sub);
	return buf_release(&b);
}
