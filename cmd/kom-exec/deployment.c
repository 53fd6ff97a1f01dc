/*
 * deployment.c: the deployment kind: a container, replaced health-gated,
 * in named phases (see "the replacement, in named phases" below):
 *
 *	pull; create NAME-kom-new; stop the old one (its termination signal
 *	and timeout); swap: old -> NAME-kom-old, new -> NAME; start the new
 *	one; gate: wait until it is healthy (or, without a healthcheck, has
 *	kept running for the grace period); finish: remove the old one.
 *
 * The old one is stopped before the new one starts because with host
 * networking (Komodo's default) both cannot bind the same port.  When the
 * new one cannot start, exits, turns unhealthy or times out, it is
 * removed, the old one gets its name back and is started again, and a
 * DeploymentRollback alert goes into the spool (lib/alert).  Every deploy
 * first resumes a replacement a killed (or stalled) kom-exec left half
 * done, from its journal and the containers' names, and repairs the rest,
 * so that a rerun converges.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "container.h"
#include "container_drift.h"
#include "settle.h"
#include "build.h"
#include "deployment.h"
#include "docker.h"
#include "file.h"
#include "jsonl.h"
#include "secrets.h"
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

static const char *const dep_fields[] = {
	"environment", "ports", "volumes", "labels", "command", "extra_args",
	NULL,
};

static char *
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
	char err[CONTAINER_ERR_MAX];
	int r;

	if (!json_is_object(config)) {
		job_fail(j, "step has no resource config");
		return -1;
	}
	if (!(cfg = config_interpolated(j, config, dep_fields)))
		return -1;
	if (build_deployment_image(j, cfg) < 0) {
		json_decref(cfg);
		return -1;
	}
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

		/* the log vouches until its look, before the list */
		j->seen_ns = j->x->look_ns ? j->x->look_ns : j->x->list_ns;

		free(l1);
		free(l2);
		/* A copy: converge edits what it finds. */
		return v ? json_deep_copy(v) : json_array();
	}
	j->seen_ns = kom_wall_ns();
	if (docker_container_list(j->d, labels, 1, &out, &e) < 0)
		dfail(j, "cannot list containers", &e);
	free(l1);
	free(l2);
	return out;
}

/* Does the reference name its registry (whose tags move)? */
static int
has_registry(const char *image)
{
	return docker_registry_len(image) != 0;
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

		j->seen_ns = kom_wall_ns();
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
		job_waits(j);
		sleep_ms(nap);
		if (job_engine_get(j) < 0) {
			buf_adds(why, "cannot reach the docker engine");
			return -1;
		}
	}
}

/* ---- what a run knows before a replacement ---- */

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
	if (json_object_get(j->detail, "build_version"))
		json_object_set(json_object_get(rec, "exec"), "build_version",
		    json_object_get(j->detail, "build_version"));
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

/*
 * May the stage's container list stand for an inspect of id?  Only when
 * the list is the stage's own look (alone), the state says kom created
 * id with this config hash (applied), and the engine's event log has
 * nothing since the last run that changes a container in place and
 * none for id (x->touched): what the list does not carry (restart
 * policy, memory, CPUs: docker update) is then as kom created it.
 */
static int
log_vouches(struct job *j, const char *id, int applied)
{
	return applied && j->alone && j->x->snapshot &&
	    settle_unchanged(j->x, j->name, id);
}

static int
is_running(json_t *summary)
{
	const char *s = json_string_value(json_object_get(summary, "State"));

	return s && (strcmp(s, "running") == 0);
}

/* ---- the replacement, in named phases ----
 *
 *	pull	the image (nothing changes yet)
 *	create	the new container, NAME-kom-new (a first one: NAME)
 *	stop	the old one, with its signal and timeout
 *	swap	old -> NAME-kom-old ("parked"), new -> NAME; both are
 *		stopped, so no rename races a container that dies at once
 *	start	the new one
 *	gate	wait until it is healthy (or ran for the grace period)
 *	finish	remove the old one, record the deployment
 *	rollback remove the new one, the old one gets its name back and is
 *		started again, a DeploymentRollback alert
 *
 * Before create, start and rollback the journal,
 * STATE/journal/deployment/NAME.json, is written atomically with the
 * phase and what the replacement knows (the old container, whether it
 * ran, the new one, its hash, the cause of a rollback); the names tell
 * the rest.  It goes when the replacement is done.  A
 * run killed (or whose engine stopped answering) in any phase leaves the
 * journal and the containers' names; the next deploy of the deployment
 * resumes from them before it decides anything (resume()).
 */
enum phase {
	PH_PULL, PH_CREATE, PH_STOP, PH_SWAP, PH_START, PH_GATE, PH_FINISH,
	PH_ROLLBACK, PH_NONE
};

static const char *const phase_names[] = {
	"pull", "create", "stop", "swap", "start", "gate", "finish",
	"rollback",
};

static int
phase_of(const char *s)
{
	int i;

	for (i = 0; i < PH_NONE; i++)
		if (strcmp(s, phase_names[i]) == 0)
			return i;
	return PH_NONE;
}

struct repl {
	struct job *j;
	const json_t *config;
	const json_t *body;	/* the create request, or NULL (resumed) */
	char hash[CONTAINER_HASH_LEN];
	const char *image;
	const char *cname;	/* NAME */
	char *newname;		/* NAME-kom-new, or NAME for a first one */
	char *parkname;		/* NAME-kom-old */
	char *old_name;		/* the old one's own name (a renamed one's) */
	char *old_image;	/* for the alert's "from" */
	char newid[DOCKER_ID_LEN];
	char oldid[DOCKER_ID_LEN];	/* empty: a first deployment */
	int old_running;	/* the old one ran before the replacement */
	int parked;		/* the old one is NAME-kom-old now */
	int phase;
	struct buf why;		/* why it rolls back */
};

static void
repl_init(struct repl *r, struct job *j, const char *cname)
{
	memset(r, 0, sizeof(*r));
	r->j = j;
	r->config = json_object_get(j->resource, "config");
	r->cname = cname;
	r->parkname = xasprintf("%s-kom-old", cname);
	r->phase = PH_NONE;
	buf_init(&r->why);
}

static void
repl_free(struct repl *r)
{
	free(r->newname);
	free(r->parkname);
	free(r->old_name);
	free(r->old_image);
	buf_free(&r->why);
}

static char *
journal_path(struct job *j)
{
	char *enc = state_name_encode(j->name);
	char *p = xasprintf("%s/journal/deployment/%s.json",
	    j->x->paths.state, enc);

	free(enc);
	return p;
}

static json_t *
journal_load(struct job *j)
{
	char *path = journal_path(j);
	struct buf b = BUF_INIT;
	json_t *o = NULL;

	if (file_read(path, &b, 1u << 20) == 0)
		o = json_loadb(b.s, b.len, 0, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	buf_free(&b);
	free(path);
	return o;
}

static void
journal_remove(struct job *j)
{
	char *path = journal_path(j);

	if (unlink(path) < 0 && errno != ENOENT)
		kom_warne("%s", path);
	free(path);
}

static int
journal_write(struct repl *r)
{
	struct job *j = r->j;
	char *path = journal_path(j), *dir = file_dirname(path), *s, *err;
	json_t *o;
	int rc;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:s}", "kind", "replacement", "name", j->name, "phase",
	    phase_names[r->phase], "container_name", r->cname, "new",
	    r->newid, "config_hash", r->hash, "image", r->image ? r->image :
	    "", "old", r->oldid, "old_name", r->old_name ? r->old_name : "",
	    "old_running", r->old_running, "old_image", r->old_image ?
	    r->old_image : "");
	if (r->why.len) {
		err = job_masked(j, r->why.s);
		json_object_set_new(o, "error", json_string(err));
		free(err);
	}
	s = json_dumps(o, JSON_COMPACT);
	rc = file_mkdir_p(dir, 0755) < 0 ||
	    file_write_atomic(path, s, strlen(s), 0644) < 0 ? -1 : 0;
	if (rc < 0)
		json_object_set_new(j->detail, "warning", json_sprintf(
		    "%s: %s", path, strerror(errno)));
	json_decref(o);
	free(s);
	free(dir);
	free(path);
	return rc;
}

/*
 * For tests of resumed replacements: KOM_TEST_KILL_AT=PHASE kills this
 * process with SIGKILL as it enters PHASE (its journal written),
 * KOM_TEST_STOP_AT=PHASE stops it with SIGSTOP, once.
 */
static void
test_hook(int p)
{
	static atomic_int stopped;
	const char *k = getenv("KOM_TEST_KILL_AT");
	const char *s = getenv("KOM_TEST_STOP_AT");

	if (k && strcmp(k, phase_names[p]) == 0)
		raise(SIGKILL);
	if (s && strcmp(s, phase_names[p]) == 0 &&
	    !atomic_exchange(&stopped, 1))
		raise(SIGSTOP);
}

/*
 * Enter phase p: journal, hook.  The journal is written where the names
 * cannot tell what the next run needs: before create (the old one, and
 * whether it ran), before start (the new one's id: a first container has
 * no parked twin) and before a rollback (its cause); an fsync'ed write
 * per phase made a replacement of 50 a fifth slower.  -1 (after
 * job_fail) when the journal of a replacement that has not changed
 * anything yet cannot be written.
 */
static int
enter(struct repl *r, int p)
{
	r->phase = p;
	if ((p == PH_CREATE || p == PH_START || p == PH_ROLLBACK) &&
	    journal_write(r) < 0 && p == PH_CREATE) {
		job_fail(r->j, "cannot write the replacement's journal: %s",
		    jsonl_str(r->j->detail, "warning", ""));
		return -1;
	}
	test_hook(p);
	return 0;
}

/* Write a DeploymentRollback alert into the spool. */
static void
alert_rollback(struct job *j, const char *from, const char *to,
    const char *error, json_t *log)
{
	json_t *a;

	a = alert_new("WARNING", "Deployment", j->name, "DeploymentRollback",
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "id", j->name,
	    "name", j->name, "server_name", j->x->server, "from", from,
	    "to", to, "error", error, "log", log));
	vars_mask_json(j->vars, a);
	if (alert_queue(j->x->paths.spool, a) < 0)
		kom_warne("%s/alert: alert for '%s' not queued",
		    j->x->paths.spool, j->name);
	json_decref(a);
}

/*
 * Roll back: the new container goes, the old one gets its name back and
 * runs again (when it ran before), an alert when there was an old one.
 * Fills detail.rolled_back and detail.log; r->why says why.  Returns
 * whether the old one is back.
 */
static int
rollback(struct repl *r)
{
	struct job *j = r->j;
	struct docker_error e;
	json_t *log;
	int tries, back = 0;

	enter(r, PH_ROLLBACK);
	log = last_logs(j, r->newid);
	/* The engine copies output asynchronously: a container that died
	 * at once may not have its lines in the log yet. */
	for (tries = 0; tries < 5 && !json_array_size(log) &&
	    !job_engine_stalled(j); tries++) {
		sleep_ms(100);
		json_decref(log);
		log = last_logs(j, r->newid);
	}
	if (*r->newid && job_remove_container(j, r->newid, &e) < 0)
		buf_printf(&r->why, "; the new container was not removed: %s",
		    e.msg);
	if (*r->oldid) {
		const char *name = r->old_name && *r->old_name ? r->old_name :
		    r->cname;

		if (r->parked && docker_container_rename(j->d, r->oldid, name,
		    &e) < 0)
			buf_printf(&r->why, "; the old container kept the "
			    "name %s: %s", r->parkname, e.msg);
		if (r->old_running && docker_container_start(j->d, r->oldid,
		    &e) < 0)
			buf_printf(&r->why, "; the old container did not "
			    "start again: %s", e.msg);
		else
			back = 1;
	}
	json_object_set_new(j->detail, "rolled_back", json_boolean(back));
	json_object_set_new(j->detail, "log", json_incref(log));
	json_object_set_new(j->detail, "container", json_null());
	if (*r->oldid)
		alert_rollback(j, r->old_image ? r->old_image : "", r->image ?
		    r->image : "", r->why.s, log);
	json_decref(log);
	if (!job_engine_stalled(j))
		journal_remove(j);
	return back;
}

/* The gate passed: the old one goes; 0, or -1 when stopped by a stall. */
static void
finish(struct repl *r)
{
	struct job *j = r->j;
	struct docker_error e;

	enter(r, PH_FINISH);
	if (*r->oldid && job_remove_container(j, r->oldid, &e) < 0)
		json_object_set_new(j->detail, "warning", json_sprintf(
		    "old container not removed: %s", e.msg));
	j->deployed = 1;
	journal_remove(j);
}

/*
 * The new container is NAME (or about to be): start it unless it runs,
 * wait for the gate, finish or roll back.  Returns 0 when it passed, -1
 * when it was rolled back or the engine stopped answering (job_fail).
 */
static int
start_and_gate(struct repl *r, int started, json_t **newin)
{
	struct job *j = r->j;
	struct docker_error e;

	if (!started) {
		enter(r, PH_START);
		if (docker_container_start(j->d, r->newid, &e) < 0) {
			buf_printf(&r->why, "cannot start the new container: %s",
			    e.msg);
			goto bad;
		}
	}
	enter(r, PH_GATE);
	if (wait_ready(j, r->newid, &r->why, newin) == 0) {
		finish(r);
		return 0;
	}
bad:
	if (!j->d || job_engine_stalled(j)) {
		/* Nothing can be undone now; the journal stays. */
		job_fail(j, "%s; the new container %s is left as it is, the "
		    "next run resumes its replacement", r->why.s, r->cname);
		return -1;
	}
	rollback(r);
	job_fail(j, "%s", r->why.s);
	return -1;
}

/* Does the container called name carry this deployment's labels? */
static int
ours(struct job *j, const char *name)
{
	struct docker_error e;
	json_t *in = NULL, *l;
	int r;

	if (docker_container_inspect(j->d, name, &in, &e) < 0)
		return 0;
	l = json_object_get(json_object_get(in, "Config"), "Labels");
	r = strcmp(jsonl_str(l, "kom.managed", ""), "true") == 0 &&
	    strcmp(jsonl_str(l, "kom.type", ""), "deployment") == 0 &&
	    strcmp(jsonl_str(l, "kom.name", ""), j->name) == 0;
	json_decref(in);
	return r;
}

/*
 * Replace (or create) the deployment's container: create, stop, swap,
 * start, gate, finish or roll back.  *newin gets the new one's last
 * inspect.  -1 after job_fail.
 */
static int
replace(struct repl *r, json_t **newin)
{
	struct job *j = r->j;
	struct docker_error e;
	int first = !*r->oldid, retried = 0;

	r->newname = first ? xstrdup(r->cname) : xasprintf("%s-kom-new",
	    r->cname);
	if (enter(r, PH_CREATE) < 0)
		return -1;
create:
	if (docker_container_create(j->d, r->newname, r->body, r->newid,
	    &e) < 0) {
		if (e.code == DOCKER_ECONFLICT && !retried &&
		    ours(j, r->newname)) {
			/* A create of a run that lost its engine, done late:
			 * a leftover like any other. */
			retried = 1;
			if (job_remove_container(j, r->newname, &e) == 0)
				goto create;
		}
		if (first && e.code == DOCKER_ECONFLICT)
			job_fail(j, "container name '%s' is in use by a "
			    "container kom does not manage", r->cname);
		else
			dfail(j, "cannot create the container", &e);
		if (!job_engine_stalled(j))
			journal_remove(j);
		return -1;
	}
	json_object_set_new(j->detail, "container", json_string(r->newid));
	/* the new one may need the old one's ports */
	if (!first && r->old_running) {
		enter(r, PH_STOP);
		if (docker_container_stop(j->d, r->oldid, stop_signal(j,
		    r->config), stop_timeout(j, r->config), &e) < 0) {
			dfail(j, "cannot stop the old container", &e);
			if (!job_engine_stalled(j)) {
				job_remove_container(j, r->newid, &e);
				journal_remove(j);
			}
			return -1;
		}
	}
	if (!first) {
		enter(r, PH_SWAP);
		if (docker_container_rename(j->d, r->oldid, r->parkname,
		    &e) < 0) {
			buf_printf(&r->why, "cannot rename the old container: "
			    "%s", e.msg);
			goto bad;
		}
		r->parked = 1;
		if (docker_container_rename(j->d, r->newid, r->cname, &e) < 0) {
			buf_printf(&r->why, "cannot rename the new container: "
			    "%s", e.msg);
			goto bad;
		}
	}
	return start_and_gate(r, 0, newin);
bad:
	if (job_engine_stalled(j)) {
		job_fail(j, "%s; the next run resumes the replacement",
		    r->why.s);
		return -1;
	}
	rollback(r);
	job_fail(j, "%s", r->why.s);
	return -1;
}

/* ---- a half-done replacement ---- */

struct found {
	json_t *list;
	json_t *cur;		/* named NAME */
	json_t *newc;		/* NAME-kom-new */
	json_t *oldc;		/* NAME-kom-old */
	json_t *prev;		/* the one to replace (cur, or another name) */
};

static void
rename_summary(json_t *c, const char *name)
{
	json_object_set_new(c, "Names", json_pack("[s+]", "/", name));
}

static void
fixed(json_t *fixes, const char *fmt, const char *a, const char *b)
{
	json_array_append_new(fixes, json_sprintf(fmt, a, b));
}

/*
 * Resume what a run killed in a replacement (or stopped by a stalled
 * engine) left, from the journal and the names:
 *	past the swap (NAME and a parked NAME-kom-old, or the journal's
 *	new NAME at start, gate or finish): start the new one if it never
 *	ran, gate it, finish or roll back (with the alert);
 *	cut between the swap's renames: finish the swap, then as above;
 *	a rollback cut short: the old one gets its name back and runs;
 *	before the swap: the new one goes, the old one runs again.
 * Returns 0 to go on (f updated, *resumed 1 when a replacement was
 * finished), -1 when the step is decided: the resumed new container is
 * the one this step deploys and it failed its gate (job_fail).
 */
static int
resume(struct job *j, const char *cname, const char *hash, struct found *f,
    json_t *fixes, int *resumed)
{
	json_t *jr = journal_load(j), *newin = NULL;
	struct docker_error e;
	struct repl r;
	int ph = jr ? phase_of(jsonl_str(jr, "phase", "")) : PH_NONE;
	int past, rc = 0;

	*resumed = 0;
	if (!jr && !f->oldc)
		return 0;
	repl_init(&r, j, cname);
	r.old_running = jr ? json_is_true(json_object_get(jr, "old_running")) :
	    1;
	r.old_name = xstrdup(jr && *jsonl_str(jr, "old_name", "") ?
	    jsonl_str(jr, "old_name", "") : cname);
	if (jr && *jsonl_str(jr, "old_image", ""))
		r.old_image = xstrdup(jsonl_str(jr, "old_image", ""));
	if (f->oldc && f->newc && !f->cur) {
		if (docker_container_rename(j->d, id_of(f->newc), cname,
		    &e) < 0) {
			dfail(j, "cannot finish an interrupted swap", &e);
			rc = -1;
			goto out;
		}
		fixed(fixes, "renamed %s-kom-new to %s", cname, cname);
		f->cur = f->newc;
		f->newc = NULL;
		rename_summary(f->cur, cname);
	}
	past = f->cur && (f->oldc || (jr && ph >= PH_START && ph <= PH_FINISH &&
	    strcmp(jsonl_str(jr, "new", ""), id_of(f->cur)) == 0));
	if (past) {
		const char *st = jsonl_str(f->cur, "State", "");

		snprintf(r.newid, sizeof(r.newid), "%s", id_of(f->cur));
		snprintf(r.hash, sizeof(r.hash), "%s", label_of(f->cur,
		    "kom.config-hash"));
		r.image = jsonl_str(f->cur, "Image", "");
		if (f->oldc) {
			snprintf(r.oldid, sizeof(r.oldid), "%s", id_of(f->oldc));
			r.parked = 1;
			if (!r.old_image)
				r.old_image = xstrdup(jsonl_str(f->oldc,
				    "Image", ""));
		}
		if (ph == PH_FINISH) {
			/* The gate had passed. */
			finish(&r);
		} else if (ph == PH_ROLLBACK || start_and_gate(&r,
		    strcmp(st, "created") != 0, &newin) < 0) {
			if (ph == PH_ROLLBACK) {
				/* Decided already: finish it. */
				buf_adds(&r.why, jsonl_str(jr, "error", ""));
				rollback(&r);
				job_fail(j, "%s", r.why.s);
			}
			json_object_set_new(j->detail, "resumed", json_pack(
			    "{s:s, s:s, s:s}", "phase", ph == PH_NONE ? "gate" :
			    phase_names[ph], "outcome", "rolled back", "error",
			    j->err.s));
			if (job_engine_stalled(j) || strcmp(r.hash, hash) == 0) {
				rc = -1;
				goto out;
			}
			/* Rolled back; this step deploys something else. */
			j->status = JOB_OK;
			buf_reset(&j->err);
			json_object_del(j->detail, "container");
			rename_summary(f->cur, "");	/* gone */
			f->cur = f->oldc;
			f->oldc = NULL;
			if (f->cur) {
				rename_summary(f->cur, cname);
				json_object_set_new(f->cur, "State",
				    json_string(r.old_running ? "running" :
				    "exited"));
			}
			goto out;
		}
		json_object_set_new(j->detail, "resumed", json_pack("{s:s, "
		    "s:s}", "phase", ph == PH_NONE ? "gate" : phase_names[ph],
		    "outcome", "finished"));
		json_object_set_new(f->cur, "State", json_string("running"));
		f->oldc = NULL;
		*resumed = 1;
	} else if (f->oldc && !f->cur && jr) {
		/* A rollback (or a swap) cut short: the old one comes back. */
		snprintf(r.oldid, sizeof(r.oldid), "%s", id_of(f->oldc));
		if (docker_container_rename(j->d, r.oldid, r.old_name, &e) < 0) {
			dfail(j, "cannot rename a parked container back", &e);
			rc = -1;
			goto out;
		}
		fixed(fixes, "renamed %s to %s", r.parkname, r.old_name);
		if (r.old_running && docker_container_start(j->d, r.oldid,
		    &e) < 0) {
			dfail(j, "cannot start the old container again", &e);
			rc = -1;
			goto out;
		}
		if (ph == PH_ROLLBACK)
			alert_rollback(j, r.old_image ? r.old_image : "",
			    jsonl_str(jr, "image", ""),
			    jsonl_str(jr, "error", ""), json_array());
		json_object_set_new(j->detail, "resumed", json_pack("{s:s, "
		    "s:s}", "phase", phase_names[ph == PH_NONE ? PH_SWAP : ph],
		    "outcome", "rolled back"));
		f->cur = f->oldc;
		f->oldc = NULL;
		rename_summary(f->cur, r.old_name);
		if (r.old_running)
			json_object_set_new(f->cur, "State",
			    json_string("running"));
		if (ph == PH_ROLLBACK && strcmp(jsonl_str(jr, "config_hash",
		    ""), hash) == 0) {
			job_fail(j, "%s", jsonl_str(jr, "error", ""));
			rc = -1;
			goto out;
		}
	} else if (jr && f->cur && ph <= PH_SWAP && strcmp(jsonl_str(jr,
	    "old", ""), id_of(f->cur)) == 0 && r.old_running &&
	    !is_running(f->cur)) {
		/* Stopped for a replacement that never got further. */
		if (f->newc) {
			if (job_remove_container(j, id_of(f->newc), &e) < 0) {
				dfail(j, "cannot remove a leftover container",
				    &e);
				rc = -1;
				goto out;
			}
			fixed(fixes, "removed %s-kom-new%s", cname, "");
			f->newc = NULL;
		}
		if (docker_container_start(j->d, id_of(f->cur), &e) < 0) {
			dfail(j, "cannot start the old container again", &e);
			rc = -1;
			goto out;
		}
		fixed(fixes, "started %s again%s", cname, "");
		json_object_set_new(f->cur, "State", json_string("running"));
		json_object_set_new(j->detail, "resumed", json_pack("{s:s, "
		    "s:s}", "phase", phase_names[ph], "outcome",
		    "rolled back"));
	}
out:
	if (rc == 0 && jr && !job_engine_stalled(j))
		journal_remove(j);
	json_decref(newin);
	json_decref(jr);
	repl_free(&r);
	return rc;
}

/*
 * Find the deployment's containers, resume a half-done replacement and
 * repair what else an interrupted run left.  Returns 0, or -1 after
 * job_fail.
 */
static int
converge(struct job *j, const char *cname, const char *hash, struct found *f,
    int *resumed)
{
	char *newn = xasprintf("%s-kom-new", cname);
	char *oldn = xasprintf("%s-kom-old", cname);
	struct docker_error e;
	json_t *c, *fixes = json_array();
	size_t i;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	*resumed = 0;
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
	if ((rc = resume(j, cname, hash, f, fixes, resumed)) < 0)
		goto out;
	if (f->newc) {
		if (job_remove_container(j, id_of(f->newc), &e) < 0) {
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
		rename_summary(f->cur, cname);
	} else if (f->oldc) {
		if (job_remove_container(j, id_of(f->oldc), &e) < 0) {
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
		if (job_remove_container(j, id_of(c), &e) < 0) {
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

/* Is the image there, or can it be pulled, without pulling it? */
static int
image_resolvable(struct job *j, const char *image)
{
	struct docker_error e;
	json_t *out = NULL;

	if (docker_image_inspect(j->d, image, &out, &e) == 0) {
		json_decref(out);
		return 0;
	}
	if (docker_image_probe(j->d, image, NULL, &e) == 0)
		return 0;
	job_fail(j, "image '%s' is not present and cannot be pulled: %s",
	    image, e.msg);
	return -1;
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

/*
 * A noop without a list or an inspect (settle.h): the stage has no list,
 * the deployment is settled with the container its state records for
 * this config and hash, the log has nothing of it, no replacement is
 * half done, and the image is named without a registry.
 */
int
deployment_settled(struct exec_ctx *x, const char *name,
    const json_t *resource)
{
	const json_t *img = json_object_get(json_object_get(resource,
	    "config"), "image");
	const char *ref = json_string_value(json_object_get(
	    json_object_get(img, "params"), "image"));

	return settle_quiet(x, name) && ref && *ref &&
	    strcmp(jsonl_str(img, "type", ""), "Image") == 0 &&
	    !has_registry(ref);
}

static int
settled_noop(struct job *j, const char *hash)
{
	const char *id;
	json_t *jr;

	if (!j->alone || j->force || j->x->dry_run || !j->x->listless ||
	    !deployment_settled(j->x, j->name, j->resource) ||
	    !(id = settle_cid(j->x, j->name)) || !state_matches(j, id, hash))
		return 0;
	if ((jr = journal_load(j))) {
		json_decref(jr);
		return 0;
	}
	j->status = JOB_NOOP;
	json_object_set_new(j->detail, "container", json_string(id));
	settle_known(j->x, j->name, id, j->x->look_ns);
	return 1;
}

void
deploy_deployment(struct job *j, int ensure)
{
	json_t *config = json_object_get(j->resource, "config");
	json_t *body = NULL, *newin = NULL, *imgin = NULL;
	char hash[CONTAINER_HASH_LEN];
	char *cname = NULL;
	const char *image, *prev_id = NULL, *image_id = NULL;
	struct docker_error e;
	struct found f;
	struct repl r;
	struct buf drift_why = BUF_INIT;
	int pulled = 0, prev_running = 0, explicit_reg, same, resumed = 0;
	int applied = 0;

	memset(&f, 0, sizeof(f));
	if (build_spec(j, &body, hash) < 0)
		return;
	image = json_string_value(json_object_get(body, "Image"));
	if (!image || !*image) {
		job_fail(j, "deployment has no image");
		goto out;
	}
	cname = container_name(config, j->name);
	repl_init(&r, j, cname);
	if (settled_noop(j, hash))
		goto out;
	if (converge(j, cname, hash, &f, &resumed) < 0)
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
	if (same && !j->force && !resumed)
		applied = state_matches(j, prev_id, hash);
	if (same && !j->force && !resumed && !log_vouches(j, prev_id,
	    applied)) {
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
	if (same && resumed) {
		/* A killed run's replacement, finished now. */
		j->deployed = 1;
		json_object_set_new(j->detail, "container",
		    json_string(prev_id));
		save_applied(j, prev_id, hash, cname, image,
		    json_string_value(json_object_get(f.prev, "ImageID")));
		goto out;
	}
	if (same && !j->force && !explicit_reg) {
		j->status = JOB_NOOP;
		json_object_set_new(j->detail, "container",
		    json_string(prev_id));
		settle_known(j->x, j->name, prev_id, j->seen_ns);
		if (!j->x->dry_run && !applied)
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
	enter(&r, PH_PULL);
	if (!explicit_reg)
		imgin = image_known(j, image);
	if (!imgin && (explicit_reg || docker_image_inspect(j->d, image,
	    &imgin, &e) < 0)) {
		const char *acct = jsonl_str(json_object_get(j->resource,
		    "config"), "image_registry_account", "");
		char *auth = job_registry_auth(j, image, *acct ? acct :
		    j->reg_account);
		int pr = docker_image_pull_auth(j->d, image, auth, &e);

		secrets_wipe(auth);
		if (pr < 0) {
			if (same && ensure && !job_engine_stalled(j)) {
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
	    jsonl_str(f.prev, "ImageID", "")) == 0) {
		j->status = JOB_NOOP;
		json_object_set_new(j->detail, "container",
		    json_string(prev_id));
		settle_known(j->x, j->name, prev_id, j->seen_ns);
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
	r.body = body;
	snprintf(r.hash, sizeof(r.hash), "%s", hash);
	r.image = image;
	if (f.prev) {
		snprintf(r.oldid, sizeof(r.oldid), "%s", prev_id);
		r.old_running = prev_running;
		r.old_name = xstrdup(cname_of(f.prev));
		r.old_image = xstrdup(jsonl_str(f.prev, "Image", ""));
	}
	if (replace(&r, &newin) < 0)
		goto out;
	if (json_string_value(json_object_get(newin, "Image")))
		image_id = json_string_value(json_object_get(newin, "Image"));
	save_applied(j, r.newid, hash, cname, image, image_id);
	settle_known(j->x, j->name, r.newid, j->seen_ns);
out:
	if (cname)
		repl_free(&r);
	json_decref(body);
	json_decref(newin);
	json_decref(imgin);
	json_decref(f.list);
	buf_free(&drift_why);
	free(cname);
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
	json_t *st, *in = NULL, *body = NULL, *state, *h, *jr;
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
	if ((drift == CONTAINER_DRIFT_NONE || drift ==
	    CONTAINER_DRIFT_CHANGED) && (jr = journal_load(j))) {
		/* What runs may be a new version that never passed its gate. */
		drift = CONTAINER_DRIFT_CHANGED;
		snprintf(why, sizeof(why), "a replacement was cut short at "
		    "or after its %s phase; the next deploy resumes it",
		    jsonl_str(jr, "phase", ""));
		json_decref(jr);
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
