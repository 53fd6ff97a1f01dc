/*
 * rollback.c: every successful deploy is a numbered release
 * (lib/release); a rollback redeploys one exactly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker.h"
#include "file.h"
#include "release.h"
#include "rollback.h"
#include "state.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

/* a string member, "" when absent */
#define str(o, k) jsonl_str((o), (k), "")

const char *
release_repo_digest(const json_t *in, const char *image)
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
	const char *reason, *image_id, *image, *digest = NULL, *commit;
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
		digest = release_repo_digest(in, image);
	reason = j->note.len ? j->note.s : str(j->step, "reason");
	json_object_del(st, "exec");
	json_object_del(st, "applied_at");
	/* a stack from git: its commit (kom-sync's "git" member) */
	commit = *str(j->resource, "commit") ? str(j->resource, "commit") :
	    str(json_object_get(j->resource, "git"), "commit");
	rec = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
	    "s:O, s:O}",
	    "kind", "release", "type", j->type, "name", j->name,
	    "ts", (json_int_t)kom_wall_ms(), "reason", reason,
	    "commit", commit, "image", image,
	    "image_id", image_id, "image_digest", digest ? digest : "",
	    "config_hash", str(ex, "config_hash"),
	    "exec", ex ? ex : json_null(), "applied", st);
	/* a stack: the hashes of its files and the images compose ran */
	if (rec && json_object_get(ex, "files"))
		json_object_set(rec, "files", json_object_get(ex, "files"));
	if (rec && json_object_get(ex, "images"))
		json_object_set(rec, "images", json_object_get(ex, "images"));
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
			char commit[48];

			/* a stack has no one image: its commit */
			snprintf(commit, sizeof(commit), "commit %.12s",
			    str(r, "commit"));

			if (gmtime_r(&t, &tm))
				strftime(when, sizeof(when),
				    "%Y-%m-%dT%H:%M:%SZ", &tm);
			if (strncmp(id, "sha256:", 7) == 0)
				id += 7;
			printf("%-4lld %-20s %-12.12s %-40s %s\n",
			    (long long)json_integer_value(json_object_get(r,
			    "release")), when, id, *str(r, "image_digest") ?
			    str(r, "image_digest") : *str(r, "image") ?
			    str(r, "image") : *str(r, "commit") ? commit :
			    "", str(r, "reason"));
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

/*
 * A stack's release, exactly: the images compose ran, by digest where the
 * registry gave one ("pinned_images" in res, stack.c writes them as one
 * more compose file); the files at the release's commit (res keeps its
 * "git" member), or, for files that are not in git, only while they hash
 * as they did.  0, or -1 after a message.
 */
static int
stack_exactly(const json_t *r, json_t *res, long n,
    const char *name)
{
	const json_t *files = json_object_get(r, "files"), *v;
	const char *dir = str(json_object_get(r, "exec"), "run_directory");
	const char *path, *svc;
	json_t *pins = json_object();

	json_object_foreach((json_t *)json_object_get(r, "images"), svc, v)
		if (*str(v, "digest"))
			json_object_set_new(pins, svc, json_string(str(v,
			    "digest")));
	if (json_object_size(pins))
		json_object_set_new(res, "pinned_images", pins);
	else {
		json_object_del(res, "pinned_images");
		json_decref(pins);
	}
	if (json_object_get(res, "git") ||
	    *str(json_object_get(res, "config"), "file_contents"))
		return 0;
	if (!json_is_object(files)) {
		kom_warn("stack '%s': release %ld was recorded without the "
		    "hashes of its files, which are not in git: cannot "
		    "redeploy it exactly", name, n);
		return -1;
	}
	json_object_foreach((json_t *)files, path, v) {
		char *f = *path == '/' ? xstrdup(path) : xasprintf("%s/%s",
		    dir, path), sum[65];
		struct buf b = BUF_INIT;
		int same = file_read(f, &b, 16u << 20) == 0;

		if (same) {
			kom_sha256_hex(b.s ? b.s : "", b.len, sum);
			same = json_is_string(v) &&
			    !strcmp(sum, json_string_value(v));
		}
		buf_free(&b);
		if (!same) {
			kom_warn("stack '%s': %s is not what release %ld "
			    "deployed (its files are not in git): cannot "
			    "redeploy it exactly", name, f, n);
			free(f);
			return -1;
		}
		free(f);
	}
	return 0;
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
	} else if (stack_exactly(r, res, n, name) < 0) {
		json_decref(res);
		json_decref(arr);
		return KOM_EX_DATAERR;
	}
	*got = n;
	*out = res;
	json_decref(arr);
	return KOM_EX_OK;
}
