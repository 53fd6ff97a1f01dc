/*
 * fuzz/schedule: libFuzzer target for schedule_parse() (lib/schedule.h),
 * a procedure's schedule from the user's files:
 *
 *	make tests/fuzz/schedule
 *	tests/fuzz/schedule -max_total_time=600 tests/fuzz/corpus/schedule
 *
 * The first byte picks the format (odd: Cron), the rest is the text.
 * Properties: a parsed schedule fires at some time (no field is empty,
 * every bit inside its range), and its OnCalendar= lines are one or two
 * lines of printable ASCII.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schedule s;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char *text;
	size_t i, lines = 0;

	if (size < 1 || memchr(data + 1, '\0', size - 1))
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (schedule_parse(data[0] & 1 ? "Cron" : "English", text, &s,
	    &err) == 0) {
		if (!s.sec || s.sec >> 60 || !s.min || s.min >> 60 || !s.hour ||
		    s.hour >> 24 || !(s.dom >> 1) || (s.dom & 1) ||
		    !(s.mon >> 1) || (s.mon & 1) || s.mon >> 13 || !s.dow ||
		    s.dow >> 7)
			abort();
		schedule_calendar(&s, "", &out);
		for (i = 0; i < out.len; i++) {
			if (out.s[i] == '\n')
				lines++;
			else if (out.s[i] < ' ' || out.s[i] > '~')
				abort();
		}
		if (lines < 1 || lines > 2 || out.s[out.len - 1] != '\n')
			abort();
	} else if (!err.len || memchr(err.s, '\n', err.len)) {
		abort();	/* one line, always */
	}
	buf_free(&err);
	buf_free(&out);
	free(text);
	return 0;
}
