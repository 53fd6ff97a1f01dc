/*
 * container_drift: does a live container still match the body kom would
 * create (container_drift.h)?
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "container_drift.h"
#include "runval.h"
#include "util.h"
#include "banned.h"

/* Short names for the body helpers of runval.h. */
#define str runval_str

static int
is_zero(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 1;
	if (json_is_integer(v))
		return json_integer_value(v) == 0;
	if (json_is_string(v))
		return *json_string_value(v) == '\0';
	if (json_is_array(v))
		return json_array_size(v) == 0;
	if (json_is_object(v))
		return json_object_size(v) == 0;
	return 0;
}

static int
same(const json_t *want, const json_t *got)
{
	if (is_zero(want))
		return is_zero(got);
	return json_equal((json_t *)want, (json_t *)got);
}

static void
whyf(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
whyf(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static char *
short_json(const json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_SORT_KEYS) : NULL;
	char *r;

	if (s == NULL)
		return xstrdup("null");
	if (strlen(s) > 120) {
		r = xasprintf("%.117s...", s);
		free(s);
		return r;
	}
	r = xstrdup(s);
	free(s);
	return r;
}

int
container_drift(const json_t *inspect, const json_t *body, char *why,
    size_t whylen)
{
	static const char *const hckeys[] = {
		"NetworkMode", "Binds", "PortBindings", "Memory",
		"MemoryReservation", "NanoCpus", "CpuShares", "CpusetCpus",
		"PidsLimit", "Privileged", "ReadonlyRootfs",
	};
	const json_t *cfg, *hc, *bhc, *labels, *blabels, *v, *env;
	const char *k, *want, *got;
	size_t i;

	whyf(why, whylen, "%s", "");
	if (inspect == NULL) {
		whyf(why, whylen, "the container does not exist");
		return CONTAINER_DRIFT_REMOVED;
	}
	cfg = json_object_get(inspect, "Config");
	hc = json_object_get(inspect, "HostConfig");
	bhc = json_object_get(body, "HostConfig");
	labels = json_object_get(cfg, "Labels");
	blabels = json_object_get(body, "Labels");
	if (strcmp(str(labels, "kom.managed"), "true") != 0) {
		whyf(why, whylen, "the container has no kom.managed=true "
		    "label: it was not created by kom");
		return CONTAINER_DRIFT_UNMANAGED;
	}
	want = str(blabels, "kom.config-hash");
	got = str(labels, "kom.config-hash");
	if (*got == '\0') {
		whyf(why, whylen, "the container has no kom.config-hash label");
		return CONTAINER_DRIFT_CHANGED;
	}
	if (strcmp(want, got) != 0) {
		whyf(why, whylen, "config hash %.12s differs from the "
		    "deployment's %.12s: the spec changed since the container "
		    "was created", got, want);
		return CONTAINER_DRIFT_CHANGED;
	}
	if (strcmp(str(cfg, "Image"), str(body, "Image")) != 0) {
		whyf(why, whylen, "image is '%s', want '%s'", str(cfg, "Image"),
		    str(body, "Image"));
		return CONTAINER_DRIFT_CHANGED;
	}
	v = json_object_get(body, "Cmd");
	if (v != NULL && !json_equal((json_t *)v, json_object_get(cfg, "Cmd"))) {
		whyf(why, whylen, "command differs");
		return CONTAINER_DRIFT_CHANGED;
	}
	/* The image's own Env and Labels are merged in: look for ours. */
	env = json_object_get(cfg, "Env");
	json_array_foreach(json_object_get(body, "Env"), i, v) {
		const char *e = json_string_value(v);
		const json_t *g;
		size_t j;
		int found = 0;

		json_array_foreach(env, j, g)
			if (json_is_string(g) &&
			    strcmp(json_string_value(g), e) == 0)
				found = 1;
		if (!found) {
			const char *eq = strchr(e, '=');

			whyf(why, whylen, "environment variable %.*s differs",
			    (int)(eq ? eq - e : (long)strlen(e)), e);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	json_object_foreach((json_t *)blabels, k, v) {
		if (!json_equal(v, json_object_get(labels, k))) {
			whyf(why, whylen, "label %s differs", k);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	for (i = 0; i < KOM_NELEM(hckeys); i++) {
		const json_t *w = json_object_get(bhc, hckeys[i]);
		const json_t *g = json_object_get(hc, hckeys[i]);

		if (!same(w, g)) {
			char *ws = short_json(w), *gs = short_json(g);

			whyf(why, whylen, "HostConfig.%s is %s, want %s",
			    hckeys[i], gs, ws);
			free(ws);
			free(gs);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	{
		const json_t *w = json_object_get(bhc, "RestartPolicy");
		const json_t *g = json_object_get(hc, "RestartPolicy");
		const char *wn = str(w, "Name"), *gn = str(g, "Name");
		json_int_t wc = json_integer_value(json_object_get(w,
		    "MaximumRetryCount"));
		json_int_t gc = json_integer_value(json_object_get(g,
		    "MaximumRetryCount"));

		if (*wn == '\0')
			wn = "no";
		if (*gn == '\0')
			gn = "no";
		if (strcmp(wn, gn) != 0 || wc != gc) {
			whyf(why, whylen, "restart policy is %s:%lld, want "
			    "%s:%lld", gn, (long long)gc, wn, (long long)wc);
			return CONTAINER_DRIFT_CHANGED;
		}
	}
	if (!json_is_true(json_object_get(json_object_get(inspect, "State"),
	    "Running"))) {
		whyf(why, whylen, "the container is %s",
		    *str(json_object_get(inspect, "State"), "Status") ?
		    str(json_object_get(inspect, "State"), "Status") :
		    "not running");
		return CONTAINER_DRIFT_STOPPED;
	}
	return CONTAINER_DRIFT_NONE;
}

const char *
container_drift_name(int drift)
{
	switch (drift) {
	case CONTAINER_DRIFT_CHANGED: return "changed";
	case CONTAINER_DRIFT_STOPPED: return "stopped";
	case CONTAINER_DRIFT_REMOVED: return "removed";
	case CONTAINER_DRIFT_UNMANAGED: return "unmanaged";
	default: return NULL;
	}
}
