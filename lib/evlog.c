/*
 * evlog: what the Docker engine's event log can vouch for (evlog.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "evlog.h"
#include "util.h"
#include "banned.h"

/*
 * Container actions that leave its config and name as they were; the
 * part before ':' ("exec_start: sh -c ...", "health_status: healthy").
 * State shows in a container list; an unknown action counts as a change.
 */
static const char *const keeps[] = {
	"archive-path", "attach", "commit", "copy", "create", "destroy",
	"detach", "die", "exec_create", "exec_detach", "exec_die",
	"exec_start", "export", "extract-to-dir", "health_status", "kill",
	"oom", "pause", "resize", "restart", "start", "stop", "top",
	"unpause"
};

/* What only looks at a container, or runs something beside it. */
static const char *const looks[] = {
	"archive-path", "attach", "commit", "copy", "detach", "exec_create",
	"exec_detach", "exec_die", "exec_start", "export", "extract-to-dir",
	"health_status", "resize", "top"
};

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int
is_event(const json_t *e)
{
	return json_is_object(e) && str(e, "Type") && str(e, "Action") &&
	    json_is_integer(json_object_get(e, "timeNano")) &&
	    json_integer_value(json_object_get(e, "timeNano")) > 0;
}

int
evlog_parse(const char *s, size_t n, json_t **out)
{
	const char *end = s + n, *nl;
	json_t *a = json_array();

	*out = NULL;
	for (; s < end; s = nl + 1) {
		json_t *e;

		if (!(nl = memchr(s, '\n', (size_t)(end - s))))
			nl = end;
		if (nl == s || (nl == s + 1 && *s == '\r'))
			continue;
		e = json_loadb(s, (size_t)(nl - s), 0, NULL);
		if (!is_event(e)) {
			json_decref(e);
			json_decref(a);
			return -1;
		}
		json_array_append_new(a, e);
	}
	*out = a;
	return 0;
}

/* The event's actor id: Actor.ID, or the old top-level "id". */
static const char *
actor(const json_t *e)
{
	const char *id = str(json_object_get(e, "Actor"), "ID");

	return id ? id : str(e, "id") ? str(e, "id") : "";
}

json_t *
evlog_anchor(const json_t *event)
{
	if (!is_event(event))
		return NULL;
	return json_pack("{s:I, s:s, s:s, s:s}", "time_nano",
	    (json_int_t)json_integer_value(json_object_get(event,
	    "timeNano")), "type", str(event, "Type"), "action",
	    str(event, "Action"), "id", actor(event));
}

int
evlog_anchor_valid(const json_t *a)
{
	return json_is_object(a) && json_integer_value(json_object_get(a,
	    "time_nano")) > 0 && str(a, "type") && str(a, "action") &&
	    str(a, "id");
}

int
evlog_covers(const json_t *events, const json_t *anchor)
{
	const json_t *e = json_array_get(events, 0);

	if (!evlog_anchor_valid(anchor) || !is_event(e))
		return 0;
	return json_integer_value(json_object_get(e, "timeNano")) ==
	    json_integer_value(json_object_get(anchor, "time_nano")) &&
	    strcmp(str(e, "Type"), str(anchor, "type")) == 0 &&
	    strcmp(str(e, "Action"), str(anchor, "action")) == 0 &&
	    strcmp(actor(e), str(anchor, "id")) == 0;
}

/* Is action (up to its ':') one of the n words of set? */
static int
one_of(const char *action, const char *const *set, size_t n)
{
	size_t len = strcspn(action, ":");

	for (size_t i = 0; i < n; i++)
		if (strlen(set[i]) == len && memcmp(set[i], action, len) == 0)
			return 1;
	return 0;
}

static int
keeps_config(const char *action)
{
	return one_of(action, keeps, KOM_NELEM(keeps));
}

json_t *
evlog_touched(const json_t *events)
{
	json_t *t = json_object();
	const json_t *e;
	size_t i;

	json_array_foreach(events, i, e) {
		const char *id = actor(e);

		if (!is_event(e) || strcmp(str(e, "Type"), "container") != 0 ||
		    !*id || keeps_config(str(e, "Action")))
			continue;
		json_object_set_new(t, id, json_string(str(e, "Action")));
	}
	return t;
}

static void
stir(json_t *t, const char *key, json_int_t at)
{
	if (json_integer_value(json_object_get(t, key)) < at)
		json_object_set_new(t, key, json_integer(at));
}

json_t *
evlog_stirred(const json_t *events)
{
	json_t *t = json_object(), *gone = json_object();
	const json_t *e, *attrs;
	const char *id, *name, *action;
	size_t i;

	json_array_foreach(events, i, e)
		if (is_event(e) && strcmp(str(e, "Type"), "container") == 0 &&
		    strcmp(str(e, "Action"), "destroy") == 0 && *actor(e))
			json_object_set_new(gone, actor(e), json_true());
	json_array_foreach(events, i, e) {
		json_int_t at;

		if (!is_event(e) || strcmp(str(e, "Type"), "container") != 0)
			continue;
		action = str(e, "Action");
		if (one_of(action, looks, KOM_NELEM(looks)))
			continue;
		at = json_integer_value(json_object_get(e, "timeNano"));
		if (*(id = actor(e)))
			stir(t, id, at);
		attrs = json_object_get(json_object_get(e, "Actor"),
		    "Attributes");
		name = str(attrs, "kom.name");
		if (name && strcmp(str(attrs, "kom.managed") ?
		    str(attrs, "kom.managed") : "", "true") == 0 &&
		    !json_object_get(gone, id)) {
			char *k = xasprintf("kom.name=%s", name);

			stir(t, k, at);
			free(k);
		}
	}
	json_decref(gone);
	return t;
}

long long
evlog_stirred_at(const json_t *stirred, const char *key)
{
	return json_integer_value(json_object_get(stirred, key));
}
