/*
 * buildver: a build's versions (see buildver.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buildver.h"
#include "jsonl.h"
#include "state.h"
#include "banned.h"

#define str(o, k) jsonl_str((o), (k), "")

int
buildver_parse(const char *s, long v[3])
{
	int n = 0;

	v[0] = v[1] = v[2] = 0;
	if (!s || !*s)
		return 0;
	if (sscanf(s, "%ld.%ld.%ld%n", &v[0], &v[1], &v[2], &n) != 3 ||
	    s[n] || v[0] < 0 || v[1] < 0 || v[2] < 0 || s[0] < '0' ||
	    s[0] > '9')
		return -1;
	return 0;
}

int
buildver_cmp(const long a[3], const long b[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

int
buildver_next(const json_t *cfg, const char *last, long v[3])
{
	long l[3];

	if (buildver_parse(str(cfg, "version"), v) < 0)
		return -1;
	if (last && *last && !json_is_false(json_object_get(cfg,
	    "auto_increment_version")) && buildver_parse(last, l) == 0) {
		l[2]++;
		if (buildver_cmp(l, v) > 0)
			memcpy(v, l, sizeof(l));
	}
	return 0;
}

const char *
buildver_of(const json_t *cfg, const char **pinned)
{
	const json_t *img = json_object_get(cfg, "image");
	const json_t *params = json_object_get(img, "params");
	const char *want = str(params, "version");
	long v[3];

	*pinned = NULL;
	if (strcmp(str(img, "type"), "Build") != 0 || !*str(params, "build"))
		return NULL;
	if (buildver_parse(want, v) == 0 && (v[0] || v[1] || v[2]))
		*pinned = want;
	return str(params, "build");
}

/* The builder record called name: declared among records, else applied. */
static void
builder_of(json_t *build, const json_t *records, struct state_set *applied)
{
	const char *name = str(json_object_get(build, "config"), "builder");
	json_t *rec, *found = NULL, *cfg, *sv;
	const char *src = "";
	size_t i;

	if (!*name)
		return;
	json_array_foreach(records, i, rec)
		if (!strcmp(str(rec, "type"), "builder") &&
		    !strcmp(str(rec, "name"), name)) {
			found = rec;
			src = str(rec, "source");
			break;
		}
	if (!found) {
		errno = 0;
		found = state_set_get(applied, "builder", name);
	}
	if (!found)
		return;		/* kom-exec says so */
	cfg = json_object_get(found, "config");
	sv = json_object_get(json_object_get(cfg, "params"), "servers");
	json_object_set_new(build, "builder", json_pack("{s:s, s:s, s:s, "
	    "s:o}", "name", name, "source", src, "type", str(cfg, "type"),
	    "servers", json_is_array(sv) ? json_incref(sv) : json_array()));
}

void
buildver_annotate_one(json_t *rec, const json_t *records,
    struct state_set *applied)
{
	json_t *b, *d;
	const char *name, *pinned, *latest, *ran;

	if (!strcmp(str(rec, "type"), "build")) {
		builder_of(rec, records, applied);
		return;
	}
	if (strcmp(str(rec, "type"), "deployment") != 0 ||
	    !(name = buildver_of(json_object_get(rec, "config"), &pinned)))
		return;
	errno = 0;
	b = state_set_get(applied, "build", name);
	latest = str(json_object_get(b, "exec"), "version");
	d = state_set_get(applied, "deployment", str(rec, "name"));
	ran = str(json_object_get(d, "exec"), "build_version");
	json_object_set_new(rec, "build", json_pack("{s:s, s:s, s:s}",
	    "name", name, "version", pinned ? pinned : latest,
	    "deployed", ran));
}

void
buildver_annotate(json_t *records, struct state_set *applied)
{
	json_t *rec;
	size_t i;

	json_array_foreach(records, i, rec)
		buildver_annotate_one(rec, records, applied);
}
