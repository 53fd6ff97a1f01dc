/*
 * rollback.c: every successful deploy is a numbered release
 * (lib/release); a rollback redeploys one exactly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "docker.h"
#include "release.h"
#include "rollback.h"
#include "state.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

/* a string member, "" when absent */
#define str(o, k) jsonl_str((o), (k), "")

/*
 * The RepoDigests entry of image's repository ("repo@sha256:..."), or
 * NULL: an image built here and never pushed or pulled has none.
 */
static const char *
repo_digest(const json_t *in, const char *image)
{
	const char *slash = strrchr(image, '/'), *at, *colon, *s;
	size_t n = strlen(image), i;
	json_t *v;

	if ((at = strchr(image, '@')))
		n = (size_t)(at - image);
	else if ((colon = strrchr(image, ':')) && (!slash || colon > slash))
		n = (size_t)(colon - image);
	json_array_foreach(json_object_get(in, "RepoDigests"), i, v) {
		s = json_string_value(v);
		if (s && strncmp(s, image, n) == 0 && s[n] == '@')
			return s;
	}
	return NULL;
}

void
release_record(struct job *j)
{
	json_t *st, *ex, *rec, *in = NULL;
	const char *reason, *image_id, *image, *digest = NULL;
	struct docker_error e;
	long n;

	if (j->x->dry_run || !j->deployed || j->status != JOB_OK)
		return;
	if (!(st = state_load(j->x->paths.state, j->type, j->name)))
		return;		/* job_fail said so already */
	ex = json_incref(json_object_get(st, "exec"));
	image = str(ex, "image");
	image_id = str(ex, "image_id");
	if (*image_id && j->d &&
	    docker_image_inspect(j->d, image_id, &in, &e) == 0)
		digest = repo_digest(in, image);
	reason = j->note.len ? j->note.s : str(j->step, "reason");
	json_object_del(st, "exec");
	json_object_del(st, "applied_at");
	rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:O, s:O}",
	    "kind", "release", "type", j->type, "name", j->name,
	    "ts", (json_int_t)kom_wall_ms(), "reason", reason,
	    "commit", str(j->resource, "commit"), "image", image,
	    "image_id", image_id, "image_digest", digest ? digest : "",
	    "config_hash", str(ex, "config_hash"),
	    "exec", ex ? ex : json_null(), "applied", st);
	if (!rec || (n = release_append(j->x->paths.state, j->type, j->name,
	    rec)) < 0)
		json_object_set_new(j->detail, "warning", json_string(
		    "deployed, but the release is not recorded"));
	else
		json_object_set_new(j->detail, "release", json_integer(n));
	json_decref(rec);
	json_decref(in);
	json_decref(ex);
	json_decref(st);
}

int
releases_run(struct exec_ctx *x, const char *type, const char *name,
    int human)
{
	json_t *arr, *r;
	size_t i;
	int rc = KOM_EX_OK;

	if (release_load(x->paths.state, type, name, &arr) < 0)
		return KOM_EX_IOERR;
	if (human)
		printf("%-4s %-20s %-12s %-40s %s\n", "N", "TIME", "IMAGE ID",
		    "IMAGE", "REASON");
	json_array_foreach(arr, i, r) {
		if (human) {
			time_t t = (time_t)(json_integer_value(
			    json_object_get(r, "ts")) / 1000);
			struct tm tm;
			char when[32] = "-";
			const char *id = str(r, "image_id");

			if (gmtime_r(&t, &tm))
				strftime(when, sizeof(when),
				    "%Y-%m-%dT%H:%M:%SZ", &tm);
			if (strncmp(id, "sha256:", 7) == 0)
				id += 7;
			printf("%-4lld %-20s %-12.12s %-40s %s\n",
			    (long long)json_integer_value(json_object_get(r,
			    "release")), when, id, *str(r, "image_digest") ?
			    str(r, "image_digest") : str(r, "image"),
			    str(r, "reason"));
		} else {
			json_t *o = json_deep_copy(r);

			/* the list says what was released; `applied` is
			 * the record a rollback redeploys */
			json_object_del(o, "applied");
			if (json_dumpf(o, stdout, JSON_COMPACT) < 0 ||
			    putchar('\n') == EOF)
				rc = KOM_EX_IOERR;
			json_decref(o);
		}
	}
	json_decref(arr);
	return rc;
}

int
release_rollback_resource(struct exec_ctx *x, const char *type,
    const char *name, long n, long *got, json_t **out)
{
	json_t *arr, *r, *res, *config;
	const char *ref;
	size_t count;

	*out = NULL;
	if (release_load(x->paths.state, type, name, &arr) < 0)
		return KOM_EX_IOERR;
	count = json_array_size(arr);
	if (n == 0 && count < 2) {
		kom_warn("%s '%s' has %zu release%s in %s: nothing to roll "
		    "back to", type, name, count, count == 1 ? "" : "s",
		    x->paths.state);
		json_decref(arr);
		return KOM_EX_DATAERR;
	}
	if (n == 0)
		n = (long)count - 1;
	if (n < 1 || (size_t)n > count) {
		kom_warn("%s '%s' has no release %ld (releases 1 to %zu in %s)",
		    type, name, n, count, x->paths.state);
		json_decref(arr);
		return KOM_EX_DATAERR;
	}
	r = json_array_get(arr, (size_t)n - 1);
	res = json_object_get(r, "applied");
	config = json_object_get(res, "config");
	if (!json_is_object(config)) {
		kom_warn("release %ld of %s '%s' has no applied record", n,
		    type, name);
		json_decref(arr);
		return KOM_EX_DATAERR;
	}
	res = json_deep_copy(res);
	config = json_object_get(res, "config");
	if (strcmp(type, "deployment") == 0) {
		/* exactly that image: by digest, else by id */
		ref = *str(r, "image_digest") ? str(r, "image_digest") :
		    str(r, "image_id");
		if (!*ref) {
			kom_warn("release %ld of %s '%s' has no image id", n,
			    type, name);
			json_decref(res);
			json_decref(arr);
			return KOM_EX_DATAERR;
		}
		json_object_set_new(config, "image", json_pack(
		    "{s:s, s:{s:s}}", "type", "Image", "params", "image", ref));
	}
	*got = n;
	*out = res;
	json_decref(arr);
	return KOM_EX_OK;
}
