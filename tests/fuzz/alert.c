/*
 * fuzz/alert: libFuzzer target for what kom-alert reads from outside: a
 * Retry-After value from a receiver (lib/http) and an alert record from
 * the spool (lib/alertroute's checks, then every lib/alertfmt body).
 *
 *	make tests/fuzz/alert && tests/fuzz/alert -max_total_time=600 \
 *	    tests/fuzz/corpus/alert
 *
 * Oracles: a Retry-After that parses is within [0, max]; a record the
 * check accepts renders in every style without a crash, a leak or
 * undefined behaviour, and its bodies are JSON where JSON is promised.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "alertfmt.h"
#include "alertroute.h"
#include "buf.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char cfg[] = "{\"enabled\":true,\"alert_types\":[\"ServerCpu\","
    "\"Test\"],\"resources\":[{\"type\":\"Server\",\"id\":\"h1\"}],"
    "\"except_resources\":[{\"type\":\"Stack\",\"id\":\"x\"}],"
    "\"maintenance_windows\":[{\"schedule_type\":\"Weekly\",\"day_of_week\":"
    "\"Friday\",\"hour\":3,\"minute\":0,\"duration_minutes\":90,"
    "\"timezone\":\"UTC\"}]}";

static void
is_json(char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	CHECK(j != NULL);
	json_decref(j);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why, *rcpt[] = { "a@x", NULL };
	json_t *rec, *c;
	struct buf b = BUF_INIT;
	long ms = -1;

	if (http_retry_after((const char *)data, size, 1700000000, 86400000,
	    &ms) == 0)
		CHECK(ms >= 0 && ms <= 86400000);
	rec = json_loadb((const char *)data, size, 0, NULL);
	if (!rec)
		return 0;
	if (alertroute_check(rec, &why) == 0) {
		c = json_loads(cfg, 0, NULL);
		(void)alertroute_skip(c, rec, 1700000000000LL);
		json_decref(c);
		free(alertroute_key(rec));
		for (int st = ALERTFMT_PLAIN; st <= ALERTFMT_SLACK; st++)
			free(alertfmt_text(rec, (enum alertfmt_style)st,
			    "https://k"));
		is_json(alertfmt_custom(rec));
		is_json(alertfmt_slack(rec, "https://k"));
		is_json(alertfmt_discord(rec, NULL));
		alertfmt_mail(&b, rec, "f@x", rcpt, "id", NULL, 0);
		buf_free(&b);
	} else {
		CHECK(why != NULL);
	}
	json_decref(rec);
	return 0;
}
