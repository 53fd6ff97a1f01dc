/*
 * Unit tests for lib/evlog: reading the engine's event stream, anchors,
 * whether a log reaches back to its anchor, and which container events
 * count as a change in place.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "evlog.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

#define EV(type, action, id, t) "{\"Type\":\"" type "\",\"Action\":\"" \
	action "\",\"Actor\":{\"ID\":\"" id "\",\"Attributes\":{}}," \
	"\"scope\":\"local\",\"time\":1,\"timeNano\":" #t "}\n"

static json_t *
parse(const char *s)
{
	json_t *a = NULL;

	return evlog_parse(s, strlen(s), &a) == 0 ? a : NULL;
}

static void
test_parse(void)
{
	json_t *a = parse(EV("container", "create", "c1", 10) "\r\n\n"
	    EV("network", "connect", "n1", 11));
	json_t *b = NULL;

	ok(a && json_array_size(a) == 2, "two events, blank lines skipped");
	is_str(json_string_value(json_object_get(json_array_get(a, 1),
	    "Action")), "connect", "oldest first");
	json_decref(a);
	a = parse("");
	ok(a && json_array_size(a) == 0, "an empty answer is no events");
	json_decref(a);
	ok(evlog_parse("[1]\n", 4, &b) < 0 && !b, "an array is not an event");
	ok(evlog_parse("{\"Type\":\"container\",\"Action\":\"x\"}", 34, &b) <
	    0, "no timeNano: refused");
	ok(evlog_parse("{\"Type\":\"container\",\"Action\":\"x\","
	    "\"timeNano\":\"1\"}", 48, &b) < 0, "a string timeNano: refused");
	ok(evlog_parse(EV("container", "start", "c", 1) "{", 
	    strlen(EV("container", "start", "c", 1)) + 1, &b) < 0 && !b,
	    "a torn last line: refused");
}

static void
test_anchor(void)
{
	json_t *a = parse(EV("container", "start", "c1", 100)
	    EV("container", "die", "c2", 200)), *an, *bad;

	an = evlog_anchor(json_array_get(a, 0));
	ok(evlog_anchor_valid(an), "an event's anchor is valid");
	ok(evlog_covers(a, an), "a log starting with the anchor covers it");
	json_decref(an);
	an = evlog_anchor(json_array_get(a, 1));
	ok(!evlog_covers(a, an), "a later anchor: not covered");
	json_object_set_new(an, "time_nano", json_integer(100));
	ok(!evlog_covers(a, an), "same time, another event: not covered");
	json_decref(an);
	an = json_pack("{s:I, s:s, s:s, s:s}", "time_nano", (json_int_t)100,
	    "type", "container", "action", "start", "id", "c1");
	ok(evlog_covers(a, an), "a saved anchor read back covers");
	json_array_remove(a, 0);
	ok(!evlog_covers(a, an), "the anchor gone from the log (wrapped)");
	json_array_clear(a);
	ok(!evlog_covers(a, an), "an empty log (a restart) covers nothing");
	bad = json_pack("{s:s}", "time_nano", "1");
	ok(!evlog_anchor_valid(bad) && !evlog_anchor_valid(NULL),
	    "a malformed anchor is not valid");
	ok(!evlog_anchor(NULL), "no event, no anchor");
	json_decref(bad);
	json_decref(an);
	json_decref(a);
}

static void
test_touched(void)
{
	json_t *a = parse(EV("container", "update", "c1", 1)
	    EV("container", "start", "c2", 2)
	    EV("container", "exec_start: sh -c true", "c2", 3)
	    EV("container", "health_status: healthy", "c2", 4)
	    EV("container", "rename", "c3", 5)
	    EV("network", "update", "n1", 6)
	    EV("container", "someday-new", "c4", 7)
	    EV("container", "create", "c5", 8)
	    EV("container", "exec_starting", "c6", 9));
	json_t *t = evlog_touched(a);

	ok(json_object_get(t, "c1") != NULL, "docker update changes");
	ok(!json_object_get(t, "c2"), "start, exec, health status do not");
	ok(json_object_get(t, "c3") != NULL, "a rename changes");
	ok(!json_object_get(t, "n1"), "a network event is no container's");
	ok(json_object_get(t, "c4") != NULL, "an unknown action counts");
	ok(!json_object_get(t, "c5"), "a create does not");
	ok(json_object_get(t, "c6") != NULL,
	    "a prefix of a known action is not that action");
	is_int((long long)json_object_size(t), 4, "four touched");
	json_decref(t);
	json_decref(a);
}

#define EVA(action, id, t, name) "{\"Type\":\"container\",\"Action\":\"" \
	action "\",\"Actor\":{\"ID\":\"" id "\",\"Attributes\":{" \
	"\"kom.managed\":\"true\",\"kom.name\":\"" name "\"}}," \
	"\"timeNano\":" #t "}\n"

static void
test_stirred(void)
{
	json_t *a = parse(EVA("create", "c1", 10, "web")
	    EVA("start", "c1", 11, "web")
	    EVA("exec_start: sh", "c2", 12, "db")
	    EVA("health_status: healthy", "c2", 13, "db")
	    EVA("kill", "old", 14, "api")
	    EVA("die", "old", 15, "api")
	    EVA("destroy", "old", 16, "api")
	    EV("container", "update", "c3", 17)
	    EV("network", "connect", "c4", 18));
	json_t *t = evlog_stirred(a);

	is_int(evlog_stirred_at(t, "c1"), 11, "the newest event of an id");
	is_int(evlog_stirred_at(t, "kom.name=web"), 11,
	    "and of the name it is labelled with");
	ok(!evlog_stirred_at(t, "c2") && !evlog_stirred_at(t, "kom.name=db"),
	    "exec and health status stir nothing");
	is_int(evlog_stirred_at(t, "old"), 16, "a destroyed id still counts");
	ok(!evlog_stirred_at(t, "kom.name=api"),
	    "but not for its name: it is gone");
	is_int(evlog_stirred_at(t, "c3"), 17, "an update without labels");
	ok(!evlog_stirred_at(t, "c4"), "a network event is no container's");
	ok(!evlog_stirred_at(t, "nothing"), "an id without events: 0");
	json_decref(t);
	json_decref(a);
}

int
main(void)
{
	test_parse();
	test_anchor();
	test_touched();
	test_stirred();
	return done_testing();
}
