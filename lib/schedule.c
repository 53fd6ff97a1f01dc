/*
 * schedule: Komodo's schedules, cron and English; see schedule.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schedule.h"
#include "util.h"
#include "banned.h"

static const char *const mon_names[] = { NULL, "jan", "feb", "mar", "apr",
    "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };
static const char *const dow_cal[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
    "Fri", "Sat" };
static const char *const dow_long[] = { "sunday", "monday", "tuesday",
    "wednesday", "thursday", "friday", "saturday" };

static uint64_t
range_bits(int lo, int hi, int step)
{
	uint64_t b = 0;
	int i;

	for (i = lo; i <= hi; i += step)
		b |= (uint64_t)1 << i;
	return b;
}

/* A number or a name (names[lo..hi], 3 letters); -1 when neither. */
static int
cron_value(const char *s, size_t n, int lo, int hi,
    const char *const *names)
{
	int v = 0;
	size_t i;

	if (n == 0)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		for (i = 0; i < n; i++) {
			if (!isdigit((unsigned char)s[i]) || v > 1000)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		return v;
	}
	if (names && n == 3)
		for (v = lo; v <= hi; v++)
			if (names[v] && strncasecmp(s, names[v], 3) == 0)
				return v;
	return -1;
}

/*
 * One cron field into *bits: lists of *, ?, A, A-B, each with /STEP.
 * dow: 7 is Sunday too.
 */
static int
cron_field(const char *f, const char *what, int lo, int hi,
    const char *const *names, int dow, uint64_t *bits, int *any,
    struct buf *err)
{
	const char *p = f, *e, *dash, *slash;
	int a, b, step, top = dow ? 7 : hi;

	*bits = 0;
	*any = f[0] == '*' || f[0] == '?';
	for (; *p; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		slash = memchr(p, '/', (size_t)(e - p));
		dash = memchr(p, '-', (size_t)((slash ? slash : e) - p));
		step = 1;
		if (slash) {
			step = cron_value(slash + 1, (size_t)(e - slash - 1),
			    0, 0, NULL);
			if (step < 1 || step > top) {
				buf_printf(err, "%s: step '%.*s' is not 1 to "
				    "%d", what, (int)(e - slash - 1), slash + 1,
				    top);
				return -1;
			}
		}
		if ((*p == '*' || *p == '?') && p + 1 == (slash ? slash : e)) {
			a = lo;
			b = top;
		} else {
			const char *ae = dash ? dash : slash ? slash : e;

			a = cron_value(p, (size_t)(ae - p), lo, hi, names);
			b = !dash ? (slash ? top : a) : cron_value(dash + 1,
			    (size_t)((slash ? slash : e) - dash - 1), lo, hi,
			    names);
			if (a < 0 || b < 0) {
				buf_printf(err, "%s: '%.*s' is not a value of "
				    "%d to %d%s (kom reads *, ?, lists, ranges "
				    "and steps; not L, W or #)", what,
				    (int)(e - p), p, lo, top, names ?
				    " or a name" : "");
				return -1;
			}
			if (a < lo || b > top || a > b) {
				buf_printf(err, "%s: '%.*s' is outside %d to %d",
				    what, (int)(e - p), p, lo, top);
				return -1;
			}
		}
		*bits |= range_bits(a, b, step);
		if (p == e) {
			buf_printf(err, "%s: an empty item", what);
			return -1;
		}
	}
	if (dow && (*bits & ((uint64_t)1 << 7)))
		*bits = (*bits | 1) & 0x7f;
	return 0;
}

static int
parse_cron(const char *text, struct schedule *s, struct buf *err)
{
	static const char *const what[] = { "seconds", "minutes", "hours",
	    "day of month", "month", "day of week" };
	static const int lo[] = { 0, 0, 0, 1, 1, 0 }, hi[] = { 59, 59, 23, 31,
	    12, 6 };
	char *copy = xstrdup(text), *f[7], *p = copy;
	uint64_t bits[6];
	int any[6], n = 0, i, rc = -1;

	while (n < 7) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		f[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	if (n != 6) {
		buf_printf(err, "cron schedule '%s' has %s fields: kom reads "
		    "six, with seconds first (SEC MIN HOUR DOM MON DOW)", text,
		    n > 6 ? "more than six" : n == 5 ? "five" : "too few");
		goto out;
	}
	for (i = 0; i < 6; i++)
		if (cron_field(f[i], what[i], lo[i], hi[i], i == 4 ? mon_names :
		    i == 5 ? dow_names : NULL, i == 5, &bits[i], &any[i],
		    err) < 0)
			goto out;
	s->sec = bits[0];
	s->min = bits[1];
	s->hour = (uint32_t)bits[2];
	s->dom = (uint32_t)bits[3];
	s->mon = (uint16_t)bits[4];
	s->dow = (uint8_t)bits[5];
	s->dom_any = any[3];
	s->dow_any = any[5];
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- English ---- */

struct words {
	char **v;
	size_t n, cap;
};

struct english {
	int every, unit;	/* "every N UNIT": unit 's','m','h','d', 0 */
	int hour, min, sec;	/* one time, or hour -1 */
	uint32_t hours;		/* more times at the same minute and second */
	uint32_t dom;
	uint8_t dow;
	int day;		/* "every day", "daily" */
};

static int
word_is(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(w, *list) == 0)
			return 1;
	return 0;
}

/* "9", "9:30", "09:30:15", with "am"/"pm" glued or in *next; -1: not. */
static int
parse_time(const char *w, const char *next, int *h, int *m, int *sec,
    int *used_next, int bare)
{
	const char *p = w, *suf;
	int v[3] = { 0, 0, 0 }, n = 0, digits;

	*used_next = 0;
	if (strcmp(w, "noon") == 0 || strcmp(w, "midnight") == 0) {
		*h = w[0] == 'n' ? 12 : 0;
		*m = *sec = 0;
		return 0;
	}
	while (n < 3) {
		digits = 0;
		while (isdigit((unsigned char)*p) && digits < 3) {
			v[n] = v[n] * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits || digits > 2)
			return -1;
		n++;
		if (*p != ':')
			break;
		p++;
	}
	suf = p;
	if (!*suf && next && (strcmp(next, "am") == 0 || strcmp(next, "pm") ==
	    0 || strcmp(next, "a.m.") == 0 || strcmp(next, "p.m.") == 0)) {
		suf = next;
		*used_next = 1;
	}
	if (*suf) {
		if (strcmp(suf, "am") && strcmp(suf, "pm") && strcmp(suf,
		    "a.m.") && strcmp(suf, "p.m."))
			return -1;
		if (v[0] < 1 || v[0] > 12)
			return -2;
		v[0] = v[0] % 12 + (suf[0] == 'p' ? 12 : 0);
	} else if (n == 1 && !bare) {
		return -1;	/* a bare number is no time unless after "at" */
	}
	if (v[0] > 23 || v[1] > 59 || v[2] > 59)
		return -2;
	*h = v[0];
	*m = v[1];
	*sec = v[2];
	return 0;
}

/* "1st", "2nd", "15th", "31st": the day, or -1. */
static int
ordinal(const char *w)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)w[0]))
		return -1;
	v = strtol(w, &end, 10);
	if (v < 1 || v > 31 || (strcmp(end, "st") && strcmp(end, "nd") &&
	    strcmp(end, "rd") && strcmp(end, "th")))
		return -1;
	return (int)v;
}

static int
weekday(const char *w)
{
	size_t n = strlen(w);
	int i;

	if (n > 1 && w[n - 1] == 's')
		n--;	/* mondays */
	for (i = 0; i < 7; i++)
		if ((n == 3 && strncmp(w, dow_names[i], 3) == 0) ||
		    (n == strlen(dow_long[i]) && strncmp(w, dow_long[i],
		    n) == 0))
			return i;
	return -1;
}

static int
unit_of(const char *w)
{
	static const char *const s[] = { "second", "seconds", "sec", "secs",
	    NULL }, *const m[] = { "minute", "minutes", "min", "mins", NULL },
	    *const h[] = { "hour", "hours", "hr", "hrs", NULL },
	    *const d[] = { "day", "days", NULL };

	return word_is(w, s) ? 's' : word_is(w, m) ? 'm' : word_is(w, h) ?
	    'h' : word_is(w, d) ? 'd' : 0;
}

#define HINT "kom reads phrases such as 'every day at 03:00', 'every 15 " \
	"minutes', 'every monday and friday at 9:30pm', 'on the 1st of the " \
	"month at noon'"

static int
parse_english(const char *text, struct schedule *s, struct buf *err)
{
	static const char *const filler[] = { "every", "each", "run", "on",
	    "the", "of", "and", "in", "month", "months", NULL };
	struct english e = { .hour = -1 };
	char *low = xstrdup(text), *w[64], *p = low;
	size_t n = 0, i;
	int at = 0, h, m, sc, used, k, rc = -1;

	for (p = low; *p; p++)
		*p = (char)(*p == ',' ? ' ' : tolower((unsigned char)*p));
	for (p = low; n < KOM_NELEM(w); ) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		w[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	if (n == KOM_NELEM(w)) {
		buf_printf(err, "schedule '%s' has too many words", text);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *nx = i + 1 < n ? w[i + 1] : NULL;

		if (strcmp(w[i], "at") == 0) {
			at = 1;
			continue;
		}
		if (word_is(w[i], filler))
			continue;
		k = parse_time(w[i], nx, &h, &m, &sc, &used, at);
		if (k == -2) {
			buf_printf(err, "schedule '%s': '%s' is not a time of "
			    "day", text, w[i]);
			goto out;
		}
		if (k == 0) {
			if (e.hour < 0) {
				e.hour = h;
				e.min = m;
				e.sec = sc;
			} else if (m != e.min || sc != e.sec) {
				buf_printf(err, "schedule '%s': times at "
				    "different minutes cannot be one schedule",
				    text);
				goto out;
			}
			e.hours |= (uint32_t)1 << h;
			i += (size_t)used;
			continue;
		}
		at = 0;
		if (isdigit((unsigned char)w[i][0]) && (k = ordinal(w[i])) > 0) {
			e.dom |= (uint32_t)1 << k;
			continue;
		}
		if (isdigit((unsigned char)w[i][0]) && nx && unit_of(nx) &&
		    !e.unit) {
			char *end;
			long v = strtol(w[i], &end, 10);
			int u = unit_of(nx);
			int top = u == 'h' ? 23 : u == 'd' ? 31 : 59;

			if (*end || v < 1 || v > top) {
				buf_printf(err, "schedule '%s': every '%s' %s: "
				    "kom reads 1 to %d", text, w[i], nx, top);
				goto out;
			}
			e.every = (int)v;
			e.unit = u;
			i++;
			continue;
		}
		if ((k = unit_of(w[i])) && !e.unit) {
			e.every = 1;
			e.unit = k;
			continue;
		}
		if (strcmp(w[i], "daily") == 0) {
			e.day = 1;
			continue;
		}
		if (strcmp(w[i], "hourly") == 0 || strcmp(w[i], "minutely") ==
		    0) {
			e.every = 1;
			e.unit = w[i][0] == 'h' ? 'h' : 'm';
			continue;
		}
		if (strcmp(w[i], "week") == 0 || strcmp(w[i], "weekly") == 0) {
			e.day = 2;
			continue;
		}
		if (strcmp(w[i], "monthly") == 0) {
			e.dom |= 1u << 1;
			continue;
		}
		if (strcmp(w[i], "weekday") == 0 || strcmp(w[i], "weekdays") ==
		    0) {
			e.dow |= 0x3e;
			continue;
		}
		if (strcmp(w[i], "weekend") == 0 || strcmp(w[i], "weekends") ==
		    0) {
			e.dow |= 0x41;
			continue;
		}
		if ((k = weekday(w[i])) >= 0) {
			e.dow |= (uint8_t)(1u << k);
			continue;
		}
		buf_printf(err, "schedule '%s': '%s' is not understood; "
		    HINT, text, w[i]);
		goto out;
	}
	if (e.unit == 0 && e.hour < 0 && !e.day && !e.dom && !e.dow) {
		buf_printf(err, "schedule '%s' says no time; " HINT, text);
		goto out;
	}
	if (e.unit == 'd' && e.every == 1) {
		e.unit = 0;
		e.day = 1;
	}
	memset(s, 0, sizeof(*s));
	s->mon = (uint16_t)range_bits(1, 12, 1);
	s->dom = (uint32_t)range_bits(1, 31, 1);
	s->dow = 0x7f;
	s->dom_any = s->dow_any = 1;
	if (e.unit == 's' || e.unit == 'm' || e.unit == 'h') {
		if (e.hour >= 0) {
			buf_printf(err, "schedule '%s': an interval of %s "
			    "cannot also be at a time of day", text,
			    e.unit == 's' ? "seconds" : e.unit == 'm' ?
			    "minutes" : "hours");
			goto out;
		}
		s->sec = e.unit == 's' ? range_bits(0, 59, e.every) : 1;
		s->min = e.unit == 'm' ? range_bits(0, 59, e.every) :
		    e.unit == 'h' ? 1 : range_bits(0, 59, 1);
		s->hour = (uint32_t)(e.unit == 'h' ? range_bits(0, 23, e.every) :
		    range_bits(0, 23, 1));
	} else {
		if (e.hour < 0)
			e.hours = 1, e.min = e.sec = 0;
		s->sec = (uint64_t)1 << e.sec;
		s->min = (uint64_t)1 << e.min;
		s->hour = e.hours;
		if (e.unit == 'd') {
			s->dom = (uint32_t)range_bits(1, 31, e.every);
			s->dom_any = 0;
		}
	}
	if (e.dom) {
		s->dom = e.dom;
		s->dom_any = 0;
	}
	if (e.dow || (e.day == 2 && !e.dom)) {
		s->dow = e.dow ? e.dow : 1;	/* "every week": Sunday */
		s->dow_any = 0;
	}
	rc = 0;
out:
	free(low);
	return rc;
}

int
schedule_parse(const char *format, const char *text, struct schedule *s,
    struct buf *err)
{
	size_t len = strlen(text);

	memset(s, 0, sizeof(*s));
	if (len > SCHEDULE_MAX) {
		buf_printf(err, "schedule is longer than %d bytes", SCHEDULE_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < ' ' && text[i] != '\t') {
			buf_adds(err, "schedule has a control character");
			return -1;
		}
	if (strspn(text, " \t") == len) {
		buf_adds(err, "schedule is empty");
		return -1;
	}
	if (format && strcmp(format, "Cron") == 0)
		return parse_cron(text, s, err);
	if (format && *format && strcmp(format, "English") != 0) {
		buf_printf(err, "schedule_format '%s' is not English or Cron",
		    format);
		return -1;
	}
	return parse_english(text, s, err);
}

/* ---- OnCalendar= ---- */

/* The set bits of b in lo..hi: "*", or a list with a..b runs. */
static void
field(struct buf *out, uint64_t b, int lo, int hi, int width,
    const char *const *names)
{
	int i, j, first = 1;

	if ((b & range_bits(lo, hi, 1)) == range_bits(lo, hi, 1)) {
		buf_addc(out, '*');
		return;
	}
	for (i = lo; i <= hi; i++) {
		if (!(b & ((uint64_t)1 << i)))
			continue;
		for (j = i; j < hi && (b & ((uint64_t)1 << (j + 1))); j++)
			;
		if (!first)
			buf_addc(out, ',');
		first = 0;
		if (names)
			buf_adds(out, names[i]);
		else
			buf_printf(out, "%0*d", width, i);
		if (j >= i + 2) {
			buf_adds(out, "..");
			if (names)
				buf_adds(out, names[j]);
			else
				buf_printf(out, "%0*d", width, j);
			i = j;
		}
	}
}

static void
line(struct buf *out, const struct schedule *s, int dow, int dom,
    const char *tz)
{
	if (dow && (s->dow & 0x7f) != 0x7f) {
		field(out, s->dow, 0, 6, 0, dow_cal);
		buf_addc(out, ' ');
	}
	buf_adds(out, "*-");
	field(out, s->mon, 1, 12, 2, NULL);
	buf_addc(out, '-');
	if (dom)
		field(out, s->dom, 1, 31, 2, NULL);
	else
		buf_addc(out, '*');
	buf_addc(out, ' ');
	field(out, s->hour, 0, 23, 2, NULL);
	buf_addc(out, ':');
	field(out, s->min, 0, 59, 2, NULL);
	buf_addc(out, ':');
	field(out, s->sec, 0, 59, 2, NULL);
	if (tz && *tz)
		buf_printf(out, " %s", tz);
	buf_addc(out, '\n');
}

void
schedule_calendar(const struct schedule *s, const char *tz, struct buf *out)
{
	if (!s->dom_any && !s->dow_any && (s->dow & 0x7f) != 0x7f) {
		/* cron: either day matches */
		line(out, s, 1, 0, tz);
		line(out, s, 0, 1, tz);
	} else {
		line(out, s, 1, 1, tz);
	}
}

int
schedule_zone_ok(const char *tz)
{
	struct stat st;
	char *path;
	int ok;

	if (!*tz)
		return 1;
	if (tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64 ||
	    tz[strspn(tz, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789/_+-")])
		return 0;
	path = xasprintf("/usr/share/zoneinfo/%s", tz);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}
