/* Unit tests for lib/buildver.c: a build's versions, and what kom-sync
 * adds to the records from the state dir. */
#include <string.h>

#include <jansson.h>

#include "buildver.h"
#include "jsonl.h"
#include "state.h"
#include "tap.h"
#include "banned.h"

static const char *
next(const char *cfg, const char *last, char *out, size_t n)
{
	json_t *c = json_loads(cfg, 0, NULL);
	long v[3];

	if (buildver_next(c, last, v) < 0)
		snprintf(out, n, "error");
	else
		snprintf(out, n, "%ld.%ld.%ld", v[0], v[1], v[2]);
	json_decref(c);
	return out;
}

int
main(void)
{
	char b[64];
	long v[3];
	const char *pinned, *name;
	json_t *cfg, *recs, *all;
	struct state_set *set;

	ok(buildver_parse("1.2.3", v) == 0 && v[0] == 1 && v[2] == 3,
	    "x.y.z");
	ok(buildver_parse("", v) == 0 && !v[0] && !v[1] && !v[2], "'': 0.0.0");
	ok(buildver_parse("1.2", v) < 0 && buildver_parse("1.2.3x", v) < 0 &&
	    buildver_parse("-1.2.3", v) < 0 && buildver_parse(" 1.2.3", v) < 0,
	    "anything else is refused");
	is_str(next("{\"version\":\"1.0.0\"}", NULL, b, sizeof(b)), "1.0.0",
	    "never built: the floor");
	is_str(next("{\"version\":\"1.0.0\"}", "1.0.4", b, sizeof(b)), "1.0.5",
	    "auto_increment_version (the default): last patch + 1");
	is_str(next("{\"version\":\"2.0.0\"}", "1.0.4", b, sizeof(b)), "2.0.0",
	    "the TOML's version is a floor");
	is_str(next("{\"version\":\"1.0.0\",\"auto_increment_version\":false}",
	    "1.0.4", b, sizeof(b)), "1.0.0", "without auto_increment_version");
	is_str(next("{\"version\":\"one\"}", NULL, b, sizeof(b)), "error",
	    "a bad version");

	cfg = json_loads("{\"image\":{\"type\":\"Build\",\"params\":{\"build\":"
	    "\"app\",\"version\":\"0.0.0\"}}}", 0, NULL);
	name = buildver_of(cfg, &pinned);
	ok(name && !strcmp(name, "app") && !pinned, "0.0.0: the latest");
	json_object_set_new(json_object_get(json_object_get(cfg, "image"),
	    "params"), "version", json_string("1.2.0"));
	name = buildver_of(cfg, &pinned);
	ok(pinned && !strcmp(pinned, "1.2.0"), "a pinned version");
	json_decref(cfg);

	recs = json_loads("[{\"type\":\"deployment\",\"name\":\"web\","
	    "\"config\":{\"image\":{\"type\":\"Build\",\"params\":{\"build\":"
	    "\"app\"}}}},{\"type\":\"build\",\"name\":\"app\",\"config\":"
	    "{\"builder\":\"b\"}},{\"type\":\"builder\",\"name\":\"b\","
	    "\"source\":\"b.toml:1\",\"config\":{\"type\":\"Server\","
	    "\"params\":{\"servers\":[\"h1\"]}}}]", 0, NULL);
	all = json_loads("{\"build\":{\"app\":{\"type\":\"build\",\"name\":"
	    "\"app\",\"exec\":{\"version\":\"1.0.3\"}}},\"deployment\":{\"web\":"
	    "{\"type\":\"deployment\",\"name\":\"web\",\"exec\":"
	    "{\"build_version\":\"1.0.2\"}}}}", 0, NULL);
	set = state_set_wrap(all);
	buildver_annotate(recs, set);
	cfg = json_object_get(json_array_get(recs, 0), "build");
	is_str(jsonl_str(cfg, "version", "?"), "1.0.3",
	    "the deployment: the build's recorded version");
	is_str(jsonl_str(cfg, "deployed", "?"), "1.0.2",
	    "and the one its last deploy ran");
	cfg = json_object_get(json_array_get(recs, 1), "builder");
	is_str(jsonl_str(cfg, "type", "?"), "Server", "the build: its builder");
	is_str(json_string_value(json_array_get(json_object_get(cfg,
	    "servers"), 0)), "h1", "with its servers");
	is_str(jsonl_str(cfg, "source", "?"), "b.toml:1", "and where it is");
	state_set_free(set);
	json_decref(all);
	json_decref(recs);
	return done_testing();
}
