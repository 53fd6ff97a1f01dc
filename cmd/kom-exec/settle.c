/*
 * settle: what the engine's event log vouches for between two runs
 * (settle.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "docker.h"
#include "evlog.h"
#include "file.h"
#include "jsonl.h"
#include "settle.h"
#include "util.h"
#include "banned.h"

/* The engine keeps this many events; a full answer may have lost some. */
#define EVLOG_KEPT 256

static char *
settled_path(struct exec_ctx *x)
{
	return xasprintf("%s/settled.json", x->paths.state);
}

static long long
time_of(const json_t *anchor)
{
	return (long long)json_integer_value(json_object_get(anchor,
	    "time_nano"));
}

void
settle_load(struct exec_ctx *x, struct docker *d)
{
	char *path = settled_path(x);
	json_t *o = json_load_file(path, 0, NULL);
	json_t *a = json_object_get(o, "anchor");

	if (d && docker_is_local(d) && evlog_anchor_valid(a) &&
	    json_is_object(json_object_get(o, "settled")) &&
	    strcmp(jsonl_str(o, "engine", ""), docker_endpoint(d)) == 0) {
		x->anchor = json_incref(a);
		x->settled = json_incref(json_object_get(o, "settled"));
	}
	json_decref(o);
	free(path);
	x->known = json_object();
}

void
settle_look(struct exec_ctx *x, struct docker *d)
{
	json_t *ev = NULL;
	struct docker_error e;
	int first = !x->looked;

	json_decref(x->touched);
	json_decref(x->stirred);
	x->touched = x->stirred = NULL;
	x->looked = 1;
	x->look_ns = kom_wall_ns();
	if (!docker_is_local(d) || docker_events(d, x->anchor ?
	    time_of(x->anchor) : 1, x->look_ns, &ev, &e) < 0) {
		/* without a look, nothing is vouched for, now or next run */
		json_decref(x->settled);
		x->settled = NULL;
		x->looked = 0;
		return;
	}
	if (first)
		x->first = evlog_anchor(json_array_get(ev,
		    json_array_size(ev) - 1));
	if (x->anchor && evlog_covers(ev, x->anchor)) {
		/* the anchor itself was weighed by the run that kept it */
		json_array_remove(ev, 0);
		x->touched = evlog_touched(ev);
		x->stirred = evlog_stirred(ev);
	} else {
		json_decref(x->settled);
		x->settled = NULL;
	}
	json_decref(ev);
}

const char *
settle_cid(struct exec_ctx *x, const char *name)
{
	if (!x->settled || !x->stirred)
		return NULL;
	return json_string_value(json_object_get(x->settled, name));
}

int
settle_quiet(struct exec_ctx *x, const char *name)
{
	const char *id = settle_cid(x, name);
	char *k;
	int quiet;

	if (!id)
		return 0;
	k = xasprintf("kom.name=%s", name);
	quiet = !evlog_stirred_at(x->stirred, id) &&
	    !evlog_stirred_at(x->stirred, k);
	free(k);
	return quiet;
}

int
settle_unchanged(struct exec_ctx *x, const char *name, const char *id)
{
	const char *sid = settle_cid(x, name);

	return sid && x->touched && strcmp(sid, id) == 0 &&
	    !json_object_get(x->touched, id);
}

void
settle_known(struct exec_ctx *x, const char *name, const char *id,
    long long seen_ns)
{
	if (!x->known || !id || !*id || seen_ns <= 0)
		return;
	pthread_mutex_lock(&x->mu);
	json_object_set_new(x->known, name, json_pack("[s, I]", id,
	    (json_int_t)seen_ns));
	pthread_mutex_unlock(&x->mu);
}

/*
 * The settled set: each deployment looked at this run whose container
 * nothing stirred since that look.  NULL when the log is not whole since
 * the run's first look (it wrapped during the run: nothing is vouched).
 */
static json_t *
settled_now(struct exec_ctx *x, const json_t *ev)
{
	json_t *st, *out, *v;
	const char *name;

	if (x->first ? !evlog_covers(ev, x->first) :
	    json_array_size(ev) >= EVLOG_KEPT)
		return NULL;
	st = evlog_stirred(ev);
	out = json_object();
	json_object_foreach(x->known, name, v) {
		const char *id = json_string_value(json_array_get(v, 0));
		long long seen = (long long)json_integer_value(
		    json_array_get(v, 1));
		char *k = xasprintf("kom.name=%s", name);

		if (evlog_stirred_at(st, id) < seen &&
		    evlog_stirred_at(st, k) < seen)
			json_object_set_new(out, name, json_string(id));
		free(k);
	}
	json_decref(st);
	return out;
}

/*
 * A run that changed nothing: the deployments it looked at after the
 * newest event of its first look (nothing came between that event and
 * the look; a look before it, of a stage without a list, is left out).
 */
static json_t *
settled_unchanged(struct exec_ctx *x)
{
	json_t *out = json_object(), *v;
	const char *name;

	json_object_foreach(x->known, name, v)
		if (json_integer_value(json_array_get(v, 1)) >
		    time_of(x->first))
			json_object_set(out, name, json_array_get(v, 0));
	return out;
}

void
settle_save(struct exec_ctx *x, struct docker *d, int changed)
{
	json_t *ev = NULL, *settled, *a, *o;
	struct docker_error e;
	char *path, *s;

	if (x->dry_run || !d || !x->looked || !json_object_size(x->known))
		return;
	if (!changed && x->first) {
		/* nothing of this run is in the log after its first look:
		 * the next run sees all that comes after */
		settled = settled_unchanged(x);
		a = json_incref(x->first);
	} else {
		if (docker_events(d, x->first ? time_of(x->first) : 1,
		    kom_wall_ns(), &ev, &e) < 0)
			return;
		settled = settled_now(x, ev);
		a = evlog_anchor(json_array_get(ev, json_array_size(ev) - 1));
	}
	path = settled_path(x);
	if (settled && a) {
		o = json_pack("{s:s, s:O, s:O}", "engine", docker_endpoint(d),
		    "anchor", a, "settled", settled);
		s = json_dumps(o, JSON_COMPACT);
		if (!s || file_replace_nosync(path, s, strlen(s), 0644) < 0)
			kom_warne("%s", path);
		free(s);
		json_decref(o);
	} else if (unlink(path) < 0 && errno != ENOENT) {
		/* an older anchor is gone from the log too: harmless */
		kom_warne("%s", path);
	}
	free(path);
	json_decref(a);
	json_decref(settled);
	json_decref(ev);
}

void
settle_free(struct exec_ctx *x)
{
	json_decref(x->anchor);
	json_decref(x->settled);
	json_decref(x->touched);
	json_decref(x->stirred);
	json_decref(x->first);
	json_decref(x->known);
	x->anchor = x->settled = x->touched = x->stirred = x->first = NULL;
	x->known = NULL;
	x->looked = x->listless = 0;
	x->look_ns = x->list_ns = 0;
}
