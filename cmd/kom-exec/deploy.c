/*
 * deploy.c: a deployment's container, replaced health-gated.
 *
 *	create NAME-kom-new; stop the old one (its termination signal and
 *	timeout); start the new one; rename old -> NAME-kom-old and
 *	new -> NAME; wait until it is healthy (or, without a healthcheck,
 *	has kept running for the grace period); remove the old one.
 *
 * The old one is stopped before the new one starts because with host
 * networking (Komodo's default) both cannot bind the same port.  When the
 * new one exits, turns unhealthy or times out, it is removed, the old one
 * gets its name back and is started again, and a DeploymentRollback alert
 * goes into the spool.  Every deploy first repairs what a killed kom-exec
 * can leave behind, so that a rerun converges: a NAME-kom-new is removed,
 * a NAME-kom-old without a NAME is renamed back, extra containers carrying
 * the deployment's labels are removed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "container.h"
#include "docker.h"
#include "exec.h"
#include "jsonl.h"
#include "spool.h"
#include "state.h"
#include "util.h"
#include "banned.h"

#define LOG_LINES 20

static long
env_ms(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0)
		return def;
	return v;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
dfail(struct job *j, const char *what, const struct docker_error *e)
{
	job_fail(j, "%s: %s", what, e->msg);
}

/* Expand every string inside val in place. */
static int
expand_json(struct vars *v, json_t *val, struct buf *err)
{
	size_t i;
	const char *k;
	json_t *x;

	if (json_is_string(val)) {
		char *out;

		if (vars_expand_str(v, json_string_value(val), &out, err) < 0)
			return -1;
		json_string_set(val, out);
		explicit_bzero(out, strlen(out));
		free(out);
	} else if (json_is_array(val)) {
		json_array_foreach(val, i, x)
			if (expand_json(v, x, err) < 0)
				return -1;
	} else if (json_is_object(val)) {
		json_object_foreach(val, k, x)
			if (expand_json(v, x, err) < 0)
				return -1;
	}
	return 0;
}

/*
 * The interpolated config (komodo-behaviour.md 3.2: environment, ports,
 * volumes, labels, command, extra_args; not image), or NULL after
 * job_fail.  Secrets used are remembered in j->vars for masking.
 */
json_t *
config_interpolated(struct job *j, const json_t *config,
    const char *const *fields)
{
	json_t *cfg = json_deep_copy(config);
	struct buf err = BUF_INIT;
	size_t i;

	if (!j->vars)
		j->vars = vars_load(j->x->paths.state, j->x->secrets_dir);
	if (json_is_true(json_object_get(cfg, "skip_secret_interp")))
		return cfg;
	for (i = 0; fields[i]; i++) {
		json_t *f = json_object_get(cfg, fields[i]);

		if (f && expand_json(j->vars, f, &err) < 0) {
			job_fail(j, "%s: %s", fields[i], err.s);
			buf_free(&err);
			json_decref(cfg);
			return NULL;
		}
	}
	buf_free(&err);
	return cfg;
}

static const char *const dep_fields[] = {
	"environment", "ports", "volumes", "labels", "command", "extra_args",
	NULL,
};

char *
deployment_container_name(const json_t *resource)
{
	const char *n = json_string_value(json_object_get(resource, "name"));
	json_t *ex = json_object_get(resource, "exec");
	const char *dn = json_string_value(json_object_get(ex, "deployed_name"));

	if (dn && *dn)
		return xstrdup(dn);
	return container_name(json_object_get(resource, "config"), n ? n : "");
}

/* The spec for j->resource: body and hash; -1 after job_fail. */
static int
build_spec(struct job *j, json_t **body, char hash[CONTAINER_HASH_LEN])
{
	json_t *config = json_object_get(j->resource, "config"), *cfg;
	struct container_spec_opts o;
	char err[512];
	int r;

	if (!json_is_object(config)) {
		job_fail(j, "step has no resource config");
		return -1;
	}
	if (!(cfg = config_interpolated(j, config, dep_fields)))
		return -1;
	memset(&o, 0, sizeof(o));
	o.name = j->name;
	o.type = "deployment";
	o.sync = json_string_value(json_object_get(j->resource, "sync"));
	r = container_spec(cfg, &o, body, hash, err, sizeof(err));
	json_decref(cfg);
	if (r < 0)
		job_fail(j, "%s", err);
	return r;
}

static const char *
cname_of(json_t *summary)
{
	const char *n = json_string_value(json_array_get(
	    json_object_get(summary, "Names"), 0));

	return n ? (*n == '/' ? n + 1 : n) : "";
}

static const char *
id_of(json_t *c)
{
	return jsonl_str(c, "Id", "");
}

static const char *
label_of(json_t *summary, const char *key)
{
	const char *s = json_string_value(json_object_get(
	    json_object_get(summary, "Labels"), key));

	return s ? s : "";
}

/* The deployment's containers, by label; NULL after job_fail. */
static json_t *
list_managed(struct job *j, const char *type, const char *name)
{
	char *l1 = xasprintf("kom.type=%s", type);
	char *l2 = xasprintf("kom.name=%s", name);
	const char *labels[] = { "kom.managed=true", l1, l2, NULL };
	struct docker_error e;
	json_t *out = NULL;

	if (j->alone && j->x->snapshot && strcmp(type, "deployment") == 0) {
		json_t *v = json_object_get(j->x->snapshot, name);

		free(l1);
		free(l2);
		/* A copy: converge edits what it finds. */
		return v ? json_deep_copy(v) : json_array();
	}
	if (docker_container_list(j->d, labels, 1, &out, &e) < 0)
		dfail(j, "cannot list containers", &e);
	free(l1);
	free(l2);
	return out;
}

static int
has_registry(const char *image)
{
	const char *slash = strchr(image, '/');
	size_t n;

	if (!slash)
		return 0;
	n = (size_t)(slash - image);
	return memchr(image, '.', n) || memchr(image, ':', n) ||
	    (n == 9 && strncmp(image, "localhost", 9) == 0);
}

/* "SIGTERM" from the config, unless -s overrides it. */
static const char *
stop_signal(struct job *j, const json_t *config)
{
	const char *s = j->x->stop_signal;

	if (!s)
		s = json_string_value(json_object_get(config,
		    "termination_signal"));
	return s && *s ? s : NULL;
}

static int
stop_timeout(struct job *j, const json_t *config)
{
	json_t *t = json_object_get(config, "termination_timeout");

	if (j->x->stop_timeout >= 0)
		return j->x->stop_timeout;
	return json_is_integer(t) ? (int)json_integer_value(t) : 10;
}

/* Last log lines of a container as a JSON array of strings. */
static json_t *
last_logs(struct job *j, const char *id)
{
	struct buf b = BUF_INIT;
	struct docker_error e;
	json_t *a = json_array();
	char *p, *nl, *save = NULL;

	if (docker_container_logs(j->d, id, LOG_LINES, &b, &e) == 0) {
		for (p = strtok_r(b.s, "\n", &save); p;
		    p = strtok_r(NULL, "\n", &save)) {
			if ((nl = strchr(p, '\r')))
				*nl = '\0';
			json_array_append_new(a, json_string(p));
		}
	}
	buf_free(&b);
	return a;
}

/*
 * Wait until the new container is ready.  Returns 0 with its last
 * inspect in *last (the caller's), or -1 with a reason in why: it exited
 * or restarted, turned unhealthy or did not get healthy in time.  Between
 * looks it gives its engine slot back: waiting is not engine work, and
 * the grace period must not cap how many steps run at once.  Without a
 * healthcheck it looks at 100, 300, 700, 1500 ms... and at the end of the
 * grace period; a restart in between shows in RestartCount.
 */
static int
wait_ready(struct job *j, const char *id, struct buf *why, json_t **last)
{
	long grace = env_ms("KOM_GRACE_MS", 2000);
	long timeout = env_ms("KOM_HEALTH_TIMEOUT_MS", 60000);
	long long t0 = kom_mono_ms(), el;
	long gap = 100, nap;
	struct docker_error e;
	int computed = 0;

	*last = NULL;
	for (;;) {
		json_t *in = NULL, *st, *h;
		const char *hs = NULL;

		if (docker_container_inspect(j->d, id, &in, &e) < 0) {
			buf_printf(why, "cannot inspect the new container: %s",
			    e.msg);
			return -1;
		}
		st = json_object_get(in, "State");
		h = json_object_get(st, "Health");
		if (h)
			hs = json_string_value(json_object_get(h, "Status"));
		if (!computed && hs && !getenv("KOM_HEALTH_TIMEOUT_MS")) {
			/* Long enough for the healthcheck's own settings. */
			json_t *hc = json_object_get(json_object_get(in,
			    "Config"), "Healthcheck");
			json_int_t iv = json_integer_value(json_object_get(hc,
			    "Interval")), to = json_integer_value(
			    json_object_get(hc, "Timeout")), sp =
			    json_integer_value(json_object_get(hc,
			    "StartPeriod")), re = json_integer_value(
			    json_object_get(hc, "Retries"));
			long need;

			if (!iv)
				iv = 30000000000LL;
			if (!to)
				to = 30000000000LL;
			if (!re)
				re = 3;
			need = (long)((sp + (iv + to) * re) / 1000000) + 5000;
			if (need > timeout)
				timeout = need;
			computed = 1;
		}
		el = kom_mono_ms() - t0;
		if (!json_is_true(json_object_get(st, "Running")) ||
		    json_is_true(json_object_get(st, "Restarting"))) {
			buf_printf(why, "the new container exited with status "
			    "%lld", json_integer_value(json_object_get(st,
			    "ExitCode")));
			json_decref(in);
			return -1;
		}
		if (json_integer_value(json_object_get(in, "RestartCount"))) {
			buf_printf(why, "the new container restarted (%lld "
			    "times, last exit status %lld)", json_integer_value(
			    json_object_get(in, "RestartCount")),
			    json_integer_value(json_object_get(st, "ExitCode")));
			json_decref(in);
			return -1;
		}
		if (hs && strcmp(hs, "healthy") == 0) {
			*last = in;
			return 0;
		}
		if (hs && strcmp(hs, "unhealthy") == 0) {
			json_t *log = json_object_get(h, "Log");
			const char *o = json_string_value(json_object_get(
			    json_array_get(log, json_array_size(log) - 1),
			    "Output"));

			buf_adds(why, "the new container is unhealthy");
			if (o && *o) {
				size_t n = strcspn(o, "\n");

				buf_adds(why, ": ");
				buf_add(why, o, n > 200 ? 200 : n);
			}
			json_decref(in);
			return -1;
		}
		if (!hs && el >= grace) {
			*last = in;
			return 0;
		}
		json_decref(in);
		if (el >= timeout) {
			buf_printf(why, "the new container was not healthy after "
			    "%ld ms", timeout);
			return -1;
		}
		if (hs)
			nap = 250;
		else {
			nap = gap < grace - el + 1 ? gap : grace - el + 1;
			gap *= 2;
		}
		job_engine_put(j);
		sleep_ms(nap);
		if (job_engine_get(j) < 0) {
			buf_adds(why, "cannot reach the docker engine");
			return -1;
		}
	}
}

void
alert_rollback(struct job *j, const char *from, const char *to,
    const char *error, json_t *log)
{
	json_t *a;
	char *s, *m;

	a = json_pack("{s:s, s:I, s:s, s:b, s:{s:s, s:s}, s:{s:s, s:{s:s, "
	    "s:s, s:s, s:s, s:s, s:s, s:O}}}",
	    "kind", "alert", "ts", (json_int_t)kom_wall_ms(), "level", "WARNING",
	    "resolved", 0, "target", "type", "Deployment", "id", j->name,
	    "data", "type", "DeploymentRollback", "data", "id", j->name,
	    "name", j->name, "server_name", j->x->server, "from", from,
	    "to", to, "error", error, "log", log);
	vars_mask_json(j->vars, a);
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	m = xasprintf("%s\n", s);
	if (spool_init(j->x->paths.spool, "alert") < 0 ||
	    spool_put(j->x->paths.spool, "alert", m, strlen(m), NULL) < 0)
		kom_warne("%s/alert: alert for '%s' not queued",
		    j->x->paths.spool, j->name);
	free(s);
	free(m);
}

/* Save the resource as applied, with what the engine gave us. */
static void
save_applied(struct job *j, const char *cid, const char *hash,
    const char *cname, const char *image, const char *image_id)
{
	json_t *rec = json_deep_copy(j->resource);

	json_object_del(rec, "kind");
	json_object_set_new(rec, "applied_at", json_integer(kom_wall_ms()));
	json_object_set_new(rec, "exec", json_pack("{s:s, s:s, s:s, s:s, "
	    "s:s}", "container", cid, "config_hash", hash, "deployed_name",
	    cname, "image", image, "image_id", image_id ? image_id : ""));
	if (state_save(j->x->paths.state, rec) < 0 && j->status == JOB_OK)
		job_fail(j, "deployed, but not recorded in %s",
		    j->x->paths.state);
	json_decref(rec);
}

/* Does the state record already say exactly this? */
static int
state_matches(struct job *j, const char *cid, const char *hash)
{
	json_t *old = state_load(j->x->paths.state, "deployment", j->name);
	json_t *ex = json_object_get(old, "exec");
	int same;

	same = old && json_equal(json_object_get(old, "config"),
	    json_object_get(j->resource, "config")) &&
	    strcmp(json_string_value(json_object_get(ex, "container")) ?
	    json_string_value(json_object_get(ex, "container")) : "", cid) == 0 &&
	    strcmp(json_string_value(json_object_get(ex, "config_hash")) ?
	    json_string_value(json_object_get(ex, "config_hash")) : "",
	    hash) == 0;
	json_decref(old);
	return same;
}

struct found {
	json_t *list;
	json_t *cur;		/* named NAME */
	json_t *newc;		/* NAME-kom-new */
	json_t *oldc;		/* NAME-kom-old */
	json_t *prev;		/* the one to replace (cur, or another name) */
};

/*
 * Find the deployment's containers and repair what an interrupted run
 * left.  Returns 0, or -1 after job_fail.
 */
static int
converge(struct job *j, const char *cname, struct found *f)
{
	char *newn = xasprintf("%s-kom-new", cname);
	char *oldn = xasprintf("%s-kom-old", cname);
	struct docker_error e;
	json_t *c, *fixes = json_array();
	size_t i;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (!(f->list = list_managed(j, "deployment", j->name))) {
		rc = -1;
		goto out;
	}
	json_array_foreach(f->list, i, c) {
		const char *n = cname_of(c);

		if (strcmp(n, cname) == 0)
			f->cur = c;
		else if (strcmp(n, newn) == 0)
			f->newc = c;
		else if (strcmp(n, oldn) == 0)
			f->oldc = c;
	}
	/* A fresh deployment is created under its name at once, and a
	 * name in use shows as a conflict then; -n must say it now. */
	if (!f->cur && (json_array_size(f->list) || j->x->dry_run)) {
		json_t *in = NULL;

		if (docker_container_inspect(j->d, cname, &in, &e) == 0) {
			json_decref(in);
			job_fail(j, "container name '%s' is in use by a "
			    "container kom does not manage", cname);
			rc = -1;
			goto out;
		} else if (e.code != DOCKER_ENOTFOUND) {
			dfail(j, "cannot inspect container", &e);
			rc = -1;
			goto out;
		}
	}
	if (j->x->dry_run) {
		f->prev = f->cur ? f->cur : f->oldc;
		goto out;
	}
	if (f->newc) {
		if (docker_container_remove(j->d, id_of(f->newc), 1, 0, &e) < 0 &&
		    e.code != DOCKER_ENOTFOUND) {
			dfail(j, "cannot remove a leftover container", &e);
			rc = -1;
			goto out;
		}
		json_array_append_new(fixes, json_sprintf("removed %s", newn));
	}
	if (f->oldc && !f->cur) {
		if (docker_container_rename(j->d, id_of(f->oldc), cname,
		    &e) < 0) {
			dfail(j, "cannot rename a leftover container back", &e);
			rc = -1;
			goto out;
		}
		json_array_append_new(fixes, json_sprintf("renamed %s to %s",
		    oldn, cname));
		f->cur = f->oldc;
		f->oldc = NULL;
		/* Its name in the summary is stale now; only the id is used. */
		json_object_set_new(f->cur, "Names", json_pack("[s+]", "/",
		    cname));
	} else if (f->oldc) {
		if (docker_container_remove(j->d, id_of(f->oldc), 1, 0, &e) < 0 &&
		    e.code != DOCKER_ENOTFOUND) {
			dfail(j, "cannot remove a leftover container", &e);
			rc = -1;
			goto out;
		}
		json_array_append_new(fixes, json_sprintf("removed %s", oldn));
	}
	f->prev = f->cur;
	/* Others with our labels: a renamed deployment's old container is
	 * the one to replace; any more are duplicates. */
	json_array_foreach(f->list, i, c) {
		const char *n = cname_of(c);

		if (c == f->cur || c == f->newc || c == f->oldc ||
		    strcmp(n, newn) == 0 || strcmp(n, oldn) == 0)
			continue;
		if (!f->prev) {
			f->prev = c;
			continue;
		}
		if (docker_container_remove(j->d, id_of(c), 1, 0, &e) < 0 &&
		    e.code != DOCKER_ENOTFOUND) {
			dfail(j, "cannot remove a duplicate container", &e);
			rc = -1;
			goto out;
		}
		json_array_append_new(fixes, json_sprintf("removed duplicate %s",
		    n));
	}
out:
	if (json_array_size(fixes))
		json_object_set(j->detail, "repaired", fixes);
	json_decref(fixes);
	free(newn);
	free(oldn);
	return rc;
}

static int
is_running(json_t *summary)
{
	const char *s = json_string_value(json_object_get(summary, "State"));

	return s && (strcmp(s, "running") == 0);
}

/* Is the image there, or can it be pulled, without pulling it? */
static int
image_resolvable(struct job *j, const char *image)
{
	struct docker_error e;
	json_t *out = NULL;
	char *path;
	char *esc;
	int r;

	if (docker_image_inspect(j->d, image, &out, &e) == 0) {
		json_decref(out);
		return 0;
	}
	esc = curl_easy_escape(NULL, image, 0);
	path = xasprintf("/distribution/%s/json", esc);
	r = docker_request(j->d, "GET", path, NULL, &out, &e);
	curl_free(esc);
	free(path);
	json_decref(out);
	if (r < 0)
		job_fail(j, "image '%s' is not present and cannot be pulled: "
		    "%s", image, e.msg);
	return r;
}

/*
 * The image ids this run has learned, so that 50 deployments of one
 * image cost one inspect, not 50 (explicit registries are pulled anyway).
 * Returns {"Id": ...} (the caller's) or NULL.
 */
static json_t *
image_known(struct job *j, const char *image)
{
	json_t *r = NULL, *v;

	if (!j->x->images)
		return NULL;
	pthread_mutex_lock(&j->x->mu);
	v = json_object_get(j->x->images, image);
	if (v)
		r = json_pack("{s:O}", "Id", v);
	pthread_mutex_unlock(&j->x->mu);
	return r;
}

static void
image_learn(struct job *j, const char *image, const char *id)
{
	if (!j->x->images || !id)
		return;
	pthread_mutex_lock(&j->x->mu);
	json_object_set_new(j->x->images, image, json_string(id));
	pthread_mutex_unlock(&j->x->mu);
}

void
deploy_deployment(struct job *j, int ensure)
{
	json_t *config = json_object_get(j->resource, "config");
	json_t *body = NULL, *newin = NULL;
	char hash[CONTAINER_HASH_LEN], newid[DOCKER_ID_LEN];
	char *cname = NULL, *oldname = NULL, *tmpname = NULL, *keepname = NULL;
	const char *image, *prev_id = NULL, *image_id = NULL;
	struct docker_error e;
	struct found f;
	struct buf why = BUF_INIT, drift_why = BUF_INIT;
	json_t *imgin = NULL;
	int pulled = 0, prev_running = 0, explicit_reg, same;

	memset(&f, 0, sizeof(f));
	if (build_spec(j, &body, hash) < 0)
		return;
	image = json_string_value(json_object_get(body, "Image"));
	if (!image || !*image) {
		job_fail(j, "deployment has no image");
		goto out;
	}
	cname = container_name(config, j->name);
	if (converge(j, cname, &f) < 0)
		goto out;
	if (f.prev) {
		prev_id = id_of(f.prev);
		prev_running = is_running(f.prev);
		json_object_set_new(j->detail, "old_container",
		    json_string(prev_id));
	}
	explicit_reg = has_registry(image);
	same = f.prev && f.prev == f.cur && prev_running &&
	    strcmp(label_of(f.prev, "kom.config-hash"), hash) == 0;
	if (same && !j->force) {
		/* The label says unchanged; a hand change (docker update)
		 * shows only in the container itself. */
		json_t *in = NULL;
		char why2[512];

		if (docker_container_inspect(j->d, prev_id, &in, &e) == 0 &&
		    container_drift(in, body, why2, sizeof(why2)) !=
		    CONTAINER_DRIFT_NONE) {
			same = 0;
			buf_printf(&drift_why, "deployment has drifted: %s",
			    why2);
		}
		json_decref(in);
	}
	if (same && !j->force && !explicit_reg) {
		j->status = JOB_NOOP;
		json_object_set_new(j->detail, "container",
		    json_string(prev_id));
		if (!j->x->dry_run && !state_matches(j, prev_id, hash))
			save_applied(j, prev_id, hash, cname, image,
			    json_string_value(json_object_get(f.prev,
			    "ImageID")));
		goto out;
	}
	if (j->x->dry_run) {
		if (image_resolvable(j, image) < 0)
			goto out;
		json_object_set_new(j->detail, "would", json_string(
		    same && !j->force ? "pull, then deploy if the image "
		    "changed" : f.prev ? "replace" : "create"));
		goto out;
	}
	/* Pull: when absent, and always from an explicit registry, whose
	 * tags move. */
	if (!explicit_reg)
		imgin = image_known(j, image);
	if (!imgin && (explicit_reg || docker_image_inspect(j->d, image,
	    &imgin, &e) < 0)) {
		if (docker_image_pull(j->d, image, &e) < 0) {
			if (same && ensure) {
				j->status = JOB_NOOP;
				json_object_set_new(j->detail, "pull_error",
				    json_string(e.msg));
				goto out;
			}
			job_fail(j, "cannot pull '%s': %s", image, e.msg);
			goto out;
		}
		pulled = 1;
		json_decref(imgin);
		imgin = NULL;
		if (docker_image_inspect(j->d, image, &imgin, &e) < 0) {
			dfail(j, "cannot inspect the image", &e);
			goto out;
		}
	}
	image_id = json_string_value(json_object_get(imgin, "Id"));
	if (!explicit_reg)
		image_learn(j, image, image_id);
	if (same && !j->force && image_id && strcmp(image_id,
	    json_string_value(json_object_get(f.prev, "ImageID")) ?
	    json_string_value(json_object_get(f.prev, "ImageID")) : "") == 0) {
		j->status = JOB_NOOP;
		json_object_set_new(j->detail, "container",
		    json_string(prev_id));
		if (!state_matches(j, prev_id, hash))
			save_applied(j, prev_id, hash, cname, image, image_id);
		goto out;
	}
	if (pulled)
		json_object_set_new(j->detail, "pulled", json_true());
	if (ensure && !j->note.len) {
		char *used = vars_names_used(j->vars);

		buf_adds(&j->note, !f.prev ? "deployment has not_deployed state"
		    : !prev_running ? "deployment is not running" :
		    drift_why.len ? drift_why.s :
		    "deployment has drifted from what was applied");
		/* ensure: the record is unchanged, so the hash moved with a
		 * value it interpolates (a rotated secret, say) */
		if (f.prev && prev_running && !drift_why.len && used)
			buf_printf(&j->note, ": the record is unchanged, a "
			    "value it interpolates changed (%s)", used);
		free(used);
	}

	/* 1. the new container beside the old one (a first one takes its
	 * name at once: nothing to rename, nothing to roll back to) */
	tmpname = f.prev ? xasprintf("%s-kom-new", cname) : xstrdup(cname);
	if (docker_container_create(j->d, tmpname, body, newid, &e) < 0) {
		if (!f.prev && e.code == DOCKER_ECONFLICT)
			job_fail(j, "container name '%s' is in use by a "
			    "container kom does not manage", cname);
		else
			dfail(j, "cannot create the container", &e);
		goto out;
	}
	json_object_set_new(j->detail, "container", json_string(newid));
	/* 2. stop the old one: the new one may need its ports */
	if (f.prev && prev_running && docker_container_stop(j->d, prev_id,
	    stop_signal(j, config), stop_timeout(j, config), &e) < 0) {
		dfail(j, "cannot stop the old container", &e);
		docker_container_remove(j->d, newid, 1, 0, &e);
		goto out;
	}
	/* 3. start, 4. rename, 5. wait */
	if (docker_container_start(j->d, newid, &e) < 0) {
		buf_printf(&why, "cannot start the new container: %s", e.msg);
		goto rollback;
	}
	if (f.prev) {
		oldname = xstrdup(cname_of(f.prev));
		keepname = xasprintf("%s-kom-old", cname);
		if (docker_container_rename(j->d, prev_id, keepname, &e) < 0) {
			buf_printf(&why, "cannot rename the old container: %s",
			    e.msg);
			free(keepname);
			keepname = NULL;
			goto rollback;
		}
	}
	if (f.prev && docker_container_rename(j->d, newid, cname, &e) < 0) {
		buf_printf(&why, "cannot rename the new container: %s", e.msg);
		goto rollback;
	}
	if (wait_ready(j, newid, &why, &newin) < 0) {
		if (!j->d) {
			/* The engine went away while we waited. */
			job_fail(j, "%s; the new container %s is left as it is",
			    why.s, cname);
			goto out;
		}
		goto rollback;
	}
	/* 6. done: the old one goes */
	if (f.prev && docker_container_remove(j->d, prev_id, 1, 0, &e) < 0 &&
	    e.code != DOCKER_ENOTFOUND)
		json_object_set_new(j->detail, "warning", json_sprintf(
		    "old container not removed: %s", e.msg));
	j->deployed = 1;
	if (json_string_value(json_object_get(newin, "Image")))
		image_id = json_string_value(json_object_get(newin, "Image"));
	save_applied(j, newid, hash, cname, image, image_id);
	goto out;

rollback:
	{
		json_t *log = last_logs(j, newid);
		int tries;

		/* The engine copies output asynchronously: a container that
		 * died at once may not have its lines in the log yet. */
		for (tries = 0; tries < 5 && !json_array_size(log); tries++) {
			sleep_ms(100);
			json_decref(log);
			log = last_logs(j, newid);
		}
		const char *from = f.prev ? json_string_value(json_object_get(
		    f.prev, "Image")) : "";
		int back = 0;

		docker_container_remove(j->d, newid, 1, 0, &e);
		if (f.prev) {
			if (keepname && docker_container_rename(j->d, prev_id,
			    oldname, &e) < 0)
				buf_printf(&why, "; the old container kept the "
				    "name %s: %s", keepname, e.msg);
			if (prev_running && docker_container_start(j->d, prev_id,
			    &e) < 0)
				buf_printf(&why, "; the old container did not "
				    "start again: %s", e.msg);
			else
				back = 1;
		}
		json_object_set_new(j->detail, "rolled_back",
		    json_boolean(back));
		json_object_set_new(j->detail, "log", log);
		json_object_set_new(j->detail, "container", json_null());
		job_fail(j, "%s", why.s);
		if (f.prev)
			alert_rollback(j, from ? from : "", image, why.s, log);
	}
out:
	json_decref(body);
	json_decref(newin);
	json_decref(imgin);
	json_decref(f.list);
	buf_free(&why);
	buf_free(&drift_why);
	free(cname);
	free(oldname);
	free(tmpname);
	free(keepname);
}

void
destroy_deployment(struct job *j)
{
	json_t *config = json_object_get(j->resource, "config");
	json_t *list, *c, *gone = json_array();
	struct docker_error e;
	size_t i;

	if (!(list = list_managed(j, "deployment", j->name))) {
		json_decref(gone);
		return;
	}
	json_array_foreach(list, i, c) {
		if (!j->x->dry_run) {
			if (is_running(c) && docker_container_stop(j->d,
			    id_of(c), stop_signal(j, config),
			    stop_timeout(j, config), &e) < 0 &&
			    e.code != DOCKER_ENOTFOUND) {
				dfail(j, "cannot stop the container", &e);
				break;
			}
			if (docker_container_remove(j->d, id_of(c), 1, 0,
			    &e) < 0 && e.code != DOCKER_ENOTFOUND) {
				dfail(j, "cannot remove the container", &e);
				break;
			}
		}
		json_array_append_new(gone, json_string(cname_of(c)));
	}
	json_object_set_new(j->detail, "removed", gone);
	json_decref(list);
	if (j->status == JOB_OK && !j->x->dry_run &&
	    state_remove(j->x->paths.state, "deployment", j->name) < 0)
		job_fail(j, "cannot remove '%s' from %s", j->name,
		    j->x->paths.state);
}

void
lifecycle_deployment(struct job *j)
{
	json_t *config = json_object_get(j->resource, "config");
	char *cname = deployment_container_name(j->resource);
	const char *a = j->action;
	struct docker_error e;
	json_t *in = NULL;
	int r = 0;

	if (strcmp(a, "pull") == 0) {
		const char *image = json_string_value(json_object_get(
		    json_object_get(json_object_get(config, "image"), "params"),
		    "image"));

		if (!image || !*image)
			job_fail(j, "deployment has no image");
		else if (j->x->dry_run)
			image_resolvable(j, image);
		else if (docker_image_pull(j->d, image, &e) < 0)
			job_fail(j, "cannot pull '%s': %s", image, e.msg);
		free(cname);
		return;
	}
	if (docker_container_inspect(j->d, cname, &in, &e) < 0) {
		if (e.code == DOCKER_ENOTFOUND)
			job_fail(j, "no container '%s'", cname);
		else
			dfail(j, "cannot inspect the container", &e);
		free(cname);
		return;
	}
	json_object_set(j->detail, "container", json_object_get(in, "Id"));
	json_decref(in);
	if (j->x->dry_run) {
		free(cname);
		return;
	}
	if (strcmp(a, "start") == 0)
		r = docker_container_start(j->d, cname, &e);
	else if (strcmp(a, "stop") == 0)
		r = docker_container_stop(j->d, cname, stop_signal(j, config),
		    stop_timeout(j, config), &e);
	else if (strcmp(a, "restart") == 0)
		r = docker_container_restart(j->d, cname,
		    stop_timeout(j, config), &e);
	else if (strcmp(a, "pause") == 0)
		r = docker_container_pause(j->d, cname, &e);
	else if (strcmp(a, "unpause") == 0)
		r = docker_container_unpause(j->d, cname, &e);
	if (r < 0)
		job_fail(j, "cannot %s '%s': %s", a, cname, e.msg);
	free(cname);
}

json_t *
deployment_status(struct job *j)
{
	json_t *st, *in = NULL, *body = NULL, *state, *h;
	char *cname = deployment_container_name(j->resource);
	char hash[CONTAINER_HASH_LEN], why[512];
	struct docker_error e;
	const char *hs, *chash;
	int drift;

	st = json_pack("{s:s, s:s, s:s}", "kind", "status", "type",
	    "deployment", "name", j->name);
	if (!j->d) {
		json_object_set_new(st, "state", json_string("unknown"));
		json_object_set_new(st, "drift", json_null());
		goto out;
	}
	if (docker_container_inspect(j->d, cname, &in, &e) < 0) {
		if (e.code != DOCKER_ENOTFOUND) {
			json_object_set_new(st, "state", json_string("unknown"));
			json_object_set_new(st, "drift", json_null());
			json_object_set_new(st, "drift_detail",
			    json_string(e.msg));
			goto out;
		}
		in = NULL;
	}
	why[0] = '\0';
	if (build_spec(j, &body, hash) == 0) {
		drift = container_drift(in, body, why, sizeof(why));
	} else {
		/* No spec (a secret is missing): compare the hash labels. */
		const char *want = json_string_value(json_object_get(
		    json_object_get(j->resource, "exec"), "config_hash"));
		const char *have = json_string_value(json_object_get(
		    json_object_get(json_object_get(in, "Config"), "Labels"),
		    "kom.config-hash"));

		drift = !in ? CONTAINER_DRIFT_REMOVED : !have ?
		    CONTAINER_DRIFT_UNMANAGED : want && strcmp(want, have) ?
		    CONTAINER_DRIFT_CHANGED : !json_is_true(json_object_get(
		    json_object_get(in, "State"), "Running")) ?
		    CONTAINER_DRIFT_STOPPED : CONTAINER_DRIFT_NONE;
		snprintf(why, sizeof(why), "%s", j->err.s);
		j->status = JOB_OK;
	}
	if (!in) {
		json_object_set_new(st, "state", json_string("not_deployed"));
		json_object_set_new(st, "container", json_null());
		json_object_set_new(st, "health", json_string("none"));
		if (!why[0])
			snprintf(why, sizeof(why), "applied, but there is no "
			    "container '%s'", cname);
	} else {
		state = json_object_get(in, "State");
		h = json_object_get(state, "Health");
		hs = h ? json_string_value(json_object_get(h, "Status")) : NULL;
		json_object_set(st, "state", json_object_get(state, "Status"));
		json_object_set(st, "image", json_object_get(json_object_get(in,
		    "Config"), "Image"));
		json_object_set(st, "container", json_object_get(in, "Id"));
		json_object_set_new(st, "health", json_string(hs ? hs :
		    "none"));
		chash = json_string_value(json_object_get(json_object_get(
		    json_object_get(in, "Config"), "Labels"),
		    "kom.config-hash"));
		if (chash)
			json_object_set_new(st, "config_hash",
			    json_string(chash));
	}
	json_object_set_new(st, "drift", drift == CONTAINER_DRIFT_NONE ?
	    json_null() : json_string(container_drift_name(drift)));
	if (drift != CONTAINER_DRIFT_NONE && why[0])
		json_object_set_new(st, "drift_detail", json_string(why));
	vars_mask_json(j->vars, st);
out:
	json_decref(in);
	json_decref(body);
	free(cname);
	return st;
}
