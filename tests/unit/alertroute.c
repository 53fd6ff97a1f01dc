/* Unit tests: lib/alertroute (filters in Komodo's order, maintenance
 * windows, record checks, open-alert keys). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alertroute.h"
#include "util.h"
#include "tap.h"

static json_t *
J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	if (!j) {
		diag("bad JSON in the test: %s: %s", s, e.text);
		exit(1);
	}
	return j;
}

static const char *
skip(const char *cfg, const char *alert, long long now)
{
	json_t *c = J(cfg), *a = J(alert);
	const char *why = alertroute_skip(c, a, now);

	json_decref(c);
	json_decref(a);
	return why ? why : "send";
}

#define WEB "{\"kind\":\"alert\",\"ts\":1,\"level\":\"WARNING\",\"resolved\":false," \
	"\"target\":{\"type\":\"Deployment\",\"id\":\"web\"},\"data\":{\"type\":\"ServerCpu\",\"data\":{}}}"
#define TEST "{\"kind\":\"alert\",\"ts\":1,\"level\":\"OK\",\"resolved\":false," \
	"\"target\":{\"type\":\"Alerter\",\"id\":\"a\"},\"data\":{\"type\":\"Test\",\"data\":{}}}"

static int
inwin(const char *w, const char *utc)
{
	struct tm tm;
	json_t *j = J(w);
	int r;

	memset(&tm, 0, sizeof(tm));
	strptime(utc, "%Y-%m-%d %H:%M:%S", &tm);
	r = alertroute_in_maintenance(j, (long long)timegm(&tm) * 1000);
	json_decref(j);
	return r;
}

int
main(void)
{
	const char *why;
	json_t *a;
	char *k;

	is_str(skip("{}", WEB, 0), "disabled", "enabled defaults to false");
	is_str(skip("{\"enabled\":true}", WEB, 0), "send", "enabled, no filters");
	is_str(skip("{\"enabled\":true,\"alert_types\":[\"ServerMem\"]}", WEB, 0),
	    "alert type not in alert_types", "alert_types");
	is_str(skip("{\"enabled\":true,\"alert_types\":[\"ServerCpu\"]}", WEB, 0),
	    "send", "alert_types has it");
	is_str(skip("{\"enabled\":true,\"except_resources\":[{\"type\":\"Deployment\",\"id\":\"web\"}],"
	    "\"resources\":[{\"type\":\"Deployment\",\"id\":\"web\"}]}", WEB, 0),
	    "target in except_resources", "the blacklist before the whitelist");
	is_str(skip("{\"enabled\":true,\"resources\":[{\"type\":\"Stack\",\"id\":\"web\"}]}", WEB, 0),
	    "target not in resources", "whitelist: type and id must both match");
	is_str(skip("{\"enabled\":true,\"resources\":[{\"type\":\"Deployment\",\"name\":\"web\"}]}", WEB, 0),
	    "send", "whitelist by name");
	is_str(skip("{\"enabled\":true,\"alert_types\":[\"ServerMem\"],\"resources\":[{\"type\":\"Stack\",\"id\":\"x\"}]}", TEST, 0),
	    "send", "Test bypasses types and resources");
	is_str(skip("{\"enabled\":true,\"maintenance_windows\":[{\"schedule_type\":\"Daily\",\"hour\":0,\"minute\":0,"
	    "\"duration_minutes\":1440,\"timezone\":\"UTC\"}]}", TEST, 0),
	    "in a maintenance window", "but not a maintenance window");

	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":3,\"minute\":0,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 1, "daily: inside");
	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":3,\"minute\":0,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 04:00:00"), 1, "daily: the end minute is inside (Komodo's <=)");
	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":3,\"minute\":0,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 04:00:01"), 0, "daily: after");
	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":23,\"minute\":30,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 00:10:00"), 1, "daily across midnight");
	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"Europe/Berlin\"}]",
	    "2026-05-05 01:30:00"), 1, "a zone: 03:30 in Berlin is 01:30 UTC in May");
	is_int(inwin("[{\"schedule_type\":\"Daily\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"Nowhere/Else\"}]",
	    "2026-05-05 03:30:00"), 0, "an unknown zone never matches");
	is_int(inwin("[{\"schedule_type\":\"Weekly\",\"day_of_week\":\"Tuesday\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 1, "weekly on its day (2026-05-05 is a Tuesday)");
	is_int(inwin("[{\"schedule_type\":\"Weekly\",\"day_of_week\":\"Monday\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 0, "weekly on another day");
	is_int(inwin("[{\"schedule_type\":\"OneTime\",\"date\":\"2026-05-05\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 1, "one time, that day");
	is_int(inwin("[{\"schedule_type\":\"OneTime\",\"date\":\"2026-05-06\",\"hour\":3,\"duration_minutes\":60,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 0, "one time, another day");
	is_int(inwin("[{\"enabled\":false,\"schedule_type\":\"Daily\",\"hour\":0,\"duration_minutes\":1440,\"timezone\":\"UTC\"}]",
	    "2026-05-05 03:30:00"), 0, "a disabled window");
	ok(getenv("TZ") == NULL, "TZ is put back as it was");

	a = J(WEB);
	is_int(alertroute_check(a, &why), 0, "a good record");
	k = alertroute_key(a);
	is_str(k, "Deployment/web/ServerCpu", "its key");
	free(k);
	json_object_set_new(json_object_get(json_object_get(a, "data"), "data"), "path", json_string("/data"));
	k = alertroute_key(a);
	is_str(k, "Deployment/web/ServerCpu//data", "a mount in the key");
	free(k);
	json_object_set_new(a, "level", json_string("LOW"));
	is_int(alertroute_check(a, &why), -1, "a bad level");
	is_str(why, "alert level is not OK, WARNING or CRITICAL", "says so");
	json_object_del(a, "target");
	json_object_set_new(a, "level", json_string("OK"));
	is_int(alertroute_check(a, &why), -1, "no target");
	json_decref(a);
	is_int(alertroute_level_rank("CRITICAL") > alertroute_level_rank("WARNING"), 1, "levels rank");
	return done_testing();
}
