/*
 * fuzz/evlog: libFuzzer target for lib/evlog, the reader of the Docker
 * engine's event stream (GET /events) and what it vouches for:
 *
 *	make tests/fuzz/evlog
 *	sh tests/fuzz/run 300 tests/fuzz/evlog
 *
 * Any bytes: evlog_parse either refuses them or gives events every one
 * of which has an anchor; a log covers the anchor of its first event and
 * not that of a later one with another time; the touched containers are
 * at most the events' number, the stirred keys at most twice that.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "evlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *ev = NULL, *t, *a, *e;
	size_t i, n;

	if (evlog_parse((const char *)data, size, &ev) < 0) {
		CHECK(ev == NULL);
		return 0;
	}
	CHECK(json_is_array(ev));
	n = json_array_size(ev);
	json_array_foreach(ev, i, e) {
		a = evlog_anchor(e);
		CHECK(evlog_anchor_valid(a));
		if (i == 0)
			CHECK(evlog_covers(ev, a));
		else if (json_integer_value(json_object_get(e, "timeNano")) !=
		    json_integer_value(json_object_get(json_array_get(ev, 0),
		    "timeNano")))
			CHECK(!evlog_covers(ev, a));
		json_decref(a);
	}
	t = evlog_touched(ev);
	CHECK(json_object_size(t) <= n);
	json_decref(t);
	/* at most an id and a name key an event, each at a time it had */
	t = evlog_stirred(ev);
	CHECK(json_object_size(t) <= 2 * n);
	{
		const char *k;
		json_t *v;

		json_object_foreach(t, k, v)
			CHECK(evlog_stirred_at(t, k) > 0);
	}
	json_decref(t);
	json_decref(ev);
	return 0;
}
