/*
 * build.c: a [[build]] is an image built from its repo (or files on the
 * host) by the engine's classic builder and pushed to its registry.
 *
 * The context is the commit's checkout copied to STATE/builds/NAME (so
 * that pre_build may change it), then build_path inside it, sent as a
 * tar to POST /build with dockerfile_path, build_args and labels; the
 * tags are Komodo's (komodo-behaviour 1.6): image_tag, latest, x.y.z,
 * x.y, x and the commit, each with -image_tag when it is set.  The
 * version is the TOML's (a floor) or, with auto_increment_version, the
 * last built version's patch plus one when that is not below the floor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "buildver.h"
#include "docker.h"
#include "gitsrc.h"
#include "proc.h"
#include "repo.h"
#include "secrets.h"
#include "state.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

#define TAR_MAX (512u << 20)

static const char *const build_fields[] = { "build_args", "labels",
    "pre_build", NULL };

/* a string member, "" when absent */
#define str(o, k) jsonl_str((o), (k), "")

/* Percent-encode s onto b (RFC 3986 unreserved kept). */
static void
qadd(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf_addc(b, c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* A kv array [{key, value}] as a JSON object string onto the query. */
static void
qkv(struct buf *q, const char *name, const json_t *kv)
{
	json_t *o = json_object(), *v;
	size_t i;
	char *s;

	json_array_foreach(kv, i, v)
		json_object_set_new(o, str(v, "key"), json_string(str(v,
		    "value")));
	if (json_object_size(o) && (s = json_dumps(o, JSON_COMPACT))) {
		buf_printf(q, "&%s=", name);
		qadd(q, s);
		free(s);
	}
	json_decref(o);
}

/* Komodo's full image name: domain/org-or-account/name, else name. */
static char *
image_name(const json_t *cfg, const char *name, const char **domain)
{
	const json_t *reg = json_object_get(cfg, "image_registry");
	const char *n = *str(cfg, "image_name") ? str(cfg, "image_name") : name;
	const char *dom, *acc, *org;

	if (json_is_array(reg))
		reg = json_array_get(reg, 0);
	dom = str(reg, "domain");
	acc = str(reg, "account");
	org = str(reg, "organization");
	*domain = *dom && *acc ? dom : NULL;
	if (*dom && *acc)
		return xasprintf("%s/%s/%s", dom, *org ? org : acc, n);
	return xstrdup(n);
}

/* The account of a build's first image_registry entry ("" when none). */
static const char *
registry_account(const json_t *cfg)
{
	const json_t *reg = json_object_get(cfg, "image_registry");

	if (json_is_array(reg))
		reg = json_array_get(reg, 0);
	return str(reg, "account");
}

/* What the classic builder of dockerd 20.10 cannot do: one line. */
static int
refused(struct job *j, const json_t *cfg)
{
	const char *why = NULL;

	if (json_array_size(json_object_get(cfg, "secret_args")))
		why = "secret_args needs BuildKit, which the engine's classic "
		    "builder (the Engine API's POST /build) does not have";
	else if (json_is_true(json_object_get(cfg, "use_buildx")))
		why = "use_buildx: kom builds through the Engine API, not "
		    "docker buildx";
	else if (json_array_size(json_object_get(cfg, "extra_args")))
		why = "extra_args are docker build flags, which kom does not "
		    "pass to the Engine API";
	else if (*str(cfg, "dockerfile"))
		why = "dockerfile (contents given in the UI) is not supported: "
		    "commit the Dockerfile";
	if (why)
		job_fail(j, "%s: build '%s': %s", str(j->resource, "source"),
		    j->name, why);
	return why ? -1 : 0;
}

/*
 * Where the build runs (kom-sync's "builder" member): here when it names
 * no builder, or a Server builder whose first server is this host (pull
 * mode: each host builds its own).  1: build here; 0: another host's
 * (j->note says so, the step is a noop); -1 after job_fail.
 */
static int
builds_here(struct job *j, const json_t *cfg)
{
	const json_t *b = json_object_get(j->resource, "builder");
	const char *name = str(cfg, "builder"), *type = str(b, "type");
	const char *first = json_string_value(json_array_get(json_object_get(b,
	    "servers"), 0));

	if (!*name)
		return 1;
	if (!*type) {
		job_fail(j, "%s: build '%s': builder '%s' is neither declared "
		    "nor applied", str(j->resource, "source"), j->name, name);
		return -1;
	}
	if (strcmp(type, "Server") != 0) {
		job_fail(j, "%s: build '%s': builder '%s' is of type %s: kom "
		    "builds only with Server builders (or none: on this host)",
		    str(j->resource, "source"), j->name, name, type);
		return -1;
	}
	if (!first || !*first) {
		job_fail(j, "%s: build '%s': builder '%s' names no server",
		    str(j->resource, "source"), j->name, name);
		return -1;
	}
	if (j->x->server && strcmp(first, j->x->server) == 0)
		return 1;
	buf_printf(&j->note, "not built here: builder '%s' builds on server "
	    "'%s', this host is '%s'", name, first, j->x->server ?
	    j->x->server : "");
	j->status = JOB_NOOP;
	return 0;
}

/* The tags of version v at commit hex. */
static json_t *
tags(const json_t *cfg, const long v[3], const char *hex)
{
	const char *t = str(cfg, "image_tag");
	json_t *a = json_array();
	char sfx[256];

	snprintf(sfx, sizeof(sfx), "%s%s", *t ? "-" : "", t);
	if (*t)
		json_array_append_new(a, json_string(t));
	if (!json_is_false(json_object_get(cfg, "include_latest_tag")))
		json_array_append_new(a, json_sprintf("latest%s", sfx));
	if (!json_is_false(json_object_get(cfg, "include_version_tags"))) {
		json_array_append_new(a, json_sprintf("%ld.%ld.%ld%s", v[0],
		    v[1], v[2], sfx));
		json_array_append_new(a, json_sprintf("%ld.%ld%s", v[0], v[1],
		    sfx));
		json_array_append_new(a, json_sprintf("%ld%s", v[0], sfx));
	}
	if (*hex && !json_is_false(json_object_get(cfg, "include_commit_tag")))
		json_array_append_new(a, json_sprintf("%.7s%s", hex, sfx));
	return a;
}

static void
efail(struct job *j, const char *what, const struct docker_error *e)
{
	if (e->code == DOCKER_ETIMEOUT || e->code == DOCKER_EUNREACHABLE ||
	    e->http >= 500)
		j->tempfail = 1;
	job_fail(j, "%s: build '%s': %s: %s", str(j->resource, "source"),
	    j->name, what, e->msg);
}

json_t *
build_apply(struct job *j)
{
	json_t *config = json_object_get(j->resource, "config"), *cfg = NULL;
	json_t *old, *tg = NULL, *v, *ex = NULL, *digests = json_object();
	struct gitsrc src;
	struct buf err = BUF_INIT, q = BUF_INIT, tar = BUF_INIT;
	char hex[41] = "", *dir = NULL, *work = NULL, *ctx = NULL, *img = NULL;
	char *id = NULL, *dg, *auth = NULL;
	const char *bp, *domain;
	long ver[3];
	struct docker_error e;
	struct proc_opts o;
	size_t i;
	int k, st, known = 0;

	memset(&src, 0, sizeof(src));
	if (!(cfg = config_interpolated(j, config, build_fields)) ||
	    builds_here(j, cfg) <= 0 || refused(j, cfg) < 0)
		goto out;
	old = state_load(j->x->paths.state, "build", j->name);
	k = buildver_next(cfg, str(json_object_get(old, "exec"), "version"),
	    ver);
	json_decref(old);
	if (k < 0) {
		job_fail(j, "%s: build '%s': version '%s' is not x.y.z",
		    str(j->resource, "source"), j->name, str(cfg, "version"));
		goto out;
	}
	known = 1;
	bp = *str(cfg, "build_path") ? str(cfg, "build_path") : ".";
	if (json_is_true(json_object_get(cfg, "files_on_host"))) {
		ctx = *bp == '/' ? xstrdup(bp) : xasprintf("%s/%s",
		    str(j->resource, "root"), bp);
	} else {
		if ((k = gitsrc_record(&j->x->git, j->resource, NULL, &src,
		    &err)) <= 0) {
			job_fail(j, "%s: build '%s': %s", str(j->resource,
			    "source"), j->name, k < 0 ? err.s :
			    "no repo and not files_on_host");
			goto out;
		}
		/* exactly the commit kom-sync read (its "git" member) */
		if (*str(json_object_get(j->resource, "git"), "commit")) {
			free(src.commit);
			src.commit = xstrdup(str(json_object_get(j->resource,
			    "git"), "commit"));
		}
		if (repo_fetch(j, &src, hex, &dir) < 0)
			goto out;
		work = xasprintf("%s/builds/%s", j->x->paths.state, j->name);
		if (repo_place(j, dir, work) < 0)
			goto out;
		ctx = xasprintf("%s/%s", work, bp);
	}
	if (repo_hook(j, cfg, "pre_build", ctx) < 0)
		goto out;
	/* the context as a tar */
	{
		char *argv[] = { "tar", "-C", ctx, "-cf", "-", ".", NULL };

		memset(&o, 0, sizeof(o));
		o.out = &tar;
		o.err = &err;
		o.max = TAR_MAX;
		if (proc_run(argv, &o, &st) < 0 || st != 0) {
			job_fail(j, "%s: build '%s': cannot read the context "
			    "%s: %s", str(j->resource, "source"), j->name,
			    ctx, err.len ? err.s : "tar failed");
			goto out;
		}
	}
	img = image_name(cfg, j->name, &domain);
	tg = tags(cfg, ver, hex);
	buf_adds(&q, "rm=1&forcerm=1&dockerfile=");
	qadd(&q, *str(cfg, "dockerfile_path") ? str(cfg, "dockerfile_path") :
	    "Dockerfile");
	json_array_foreach(tg, i, v) {
		buf_adds(&q, "&t=");
		qadd(&q, img);
		buf_addc(&q, ':');
		qadd(&q, json_string_value(v));
	}
	qkv(&q, "buildargs", json_object_get(cfg, "build_args"));
	qkv(&q, "labels", json_object_get(cfg, "labels"));
	if (docker_image_build(j->d, q.s, tar.s, tar.len, &id, &e) < 0) {
		efail(j, "the build failed", &e);
		goto out;
	}
	if (domain) {
		auth = job_registry_auth(j, img, registry_account(cfg));
		json_array_foreach(tg, i, v) {
			if (docker_image_push(j->d, img, json_string_value(v),
			    auth, &dg, &e) < 0) {
				efail(j, "the push failed", &e);
				goto out;
			}
			json_object_set_new(digests, json_string_value(v),
			    json_string(dg ? dg : ""));
			free(dg);
		}
	}
	j->deployed = 1;
	ex = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}",
	    "version", "", "commit", hex, "image", img, "id", id ? id : "",
	    "tags", tg, "digests", digests);
	json_object_set_new(ex, "version", json_sprintf("%ld.%ld.%ld", ver[0],
	    ver[1], ver[2]));
	json_object_set(j->detail, "build", ex);
out:
	if (!ex && known)	/* the version that failed, for BuildFailed */
		json_object_set_new(j->detail, "version", json_sprintf(
		    "%ld.%ld.%ld", ver[0], ver[1], ver[2]));
	secrets_wipe(auth);
	json_decref(cfg);
	json_decref(tg);
	json_decref(digests);
	gitsrc_free(&src);
	buf_free(&err);
	buf_free(&q);
	buf_free(&tar);
	free(dir);
	free(work);
	free(ctx);
	free(img);
	free(id);
	return ex;
}

int
build_deployment_image(struct job *j, json_t *cfg)
{
	json_t *b, *bc, *ex;
	const char *name, *want, *tag;
	char base[96];

	if (!(name = buildver_of(cfg, &want)))
		return 0;
	if (!(b = state_load(j->x->paths.state, "build", name))) {
		job_fail(j, "%s: deployment '%s': build '%s' has not been "
		    "built on this host", str(j->resource, "source"), j->name,
		    name);
		return -1;
	}
	if (!want)
		want = str(json_object_get(b, "exec"), "version");
	/* Komodo: no image_registry_account of its own: the build's */
	if (!*str(cfg, "image_registry_account")) {
		free(j->reg_account);
		j->reg_account = xstrdup(registry_account(json_object_get(b,
		    "config")));
	}
	/* the deployment's record keeps it (exec.build_version) */
	json_object_set_new(j->detail, "build_version", json_string(want));
	/* Komodo's tag (4.1): the version, else the commit, else latest */
	bc = json_object_get(b, "config");
	ex = json_object_get(b, "exec");
	tag = str(bc, "image_tag");
	if (!json_is_false(json_object_get(bc, "include_version_tags")))
		snprintf(base, sizeof(base), "%s", want);
	else if (*str(ex, "commit") && !json_is_false(json_object_get(bc,
	    "include_commit_tag")))
		snprintf(base, sizeof(base), "%.7s", str(ex, "commit"));
	else
		snprintf(base, sizeof(base), "latest");
	json_object_set_new(cfg, "image", json_pack("{s:s, s:{s:o}}",
	    "type", "Image", "params", "image", json_sprintf("%s:%s%s%s",
	    str(ex, "image"), base, *tag ? "-" : "", tag)));
	json_decref(b);
	return 0;
}
