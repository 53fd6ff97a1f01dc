/*
 * alert: alert records and the spool's alert queue (alert.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "spool.h"
#include "util.h"
#include "banned.h"

json_t *
alert_new(const char *level, const char *target_type, const char *target_id,
    const char *data_type, json_t *data)
{
	struct timespec ts;
	json_t *a;

	clock_gettime(CLOCK_REALTIME, &ts);
	a = json_pack("{s:s, s:I, s:s, s:b, s:{s:s, s:s}, s:{s:s, s:o}}",
	    "kind", "alert", "ts", (json_int_t)ts.tv_sec * 1000 +
	    ts.tv_nsec / 1000000, "level", level, "resolved", 0,
	    "target", "type", target_type, "id", target_id,
	    "data", "type", data_type, "data", data ? data : json_object());
	if (!a)
		kom_die(KOM_EX_SOFTWARE, "cannot build an alert record");
	return a;
}

void
alert_set_resolved(json_t *alert)
{
	json_object_set_new(alert, "level", json_string("OK"));
	json_object_set_new(alert, "resolved", json_true());
}

int
alert_queue(const char *spool, const json_t *alert)
{
	char *s = json_dumps(alert, JSON_COMPACT);
	size_t n;
	int r;

	if (!s) {
		errno = EINVAL;
		return -1;
	}
	n = strlen(s);
	s = xrealloc(s, n + 2);
	s[n++] = '\n';
	s[n] = '\0';
	r = spool_init(spool, "alert") < 0 ? -1 :
	    spool_put(spool, "alert", s, n, NULL);
	free(s);
	return r;
}
