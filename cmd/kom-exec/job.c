/*
 * job.c: the job runtime under the resource kinds: a job's life (init,
 * failure, free), its masked messages, and the engine slots and pooled
 * handles a job talks to the engine through (job.h).  Nothing here
 * knows about plans or resource kinds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>
#include <unistd.h>

#include <curl/curl.h>

#include "alert.h"
#include "config.h"
#include "file.h"
#include "state.h"
#include "docker.h"
#include "interp.h"
#include "secrets.h"
#include "job.h"
#include "util.h"
#include "banned.h"

const char *
job_status_name(int status)
{
	static const char *const names[] = { "ok", "failed", "skipped", "noop" };

	return names[status];
}

void
job_init(struct job *j, struct exec_ctx *x, const char *action,
    const char *type, const char *name, json_t *step, json_t *resource)
{
	memset(j, 0, sizeof(*j));
	j->x = x;
	j->action = action;
	j->type = type;
	j->name = name;
	j->step = step;
	j->resource = resource;
	j->status = JOB_OK;
	buf_init(&j->err);
	buf_init(&j->note);
	j->detail = json_object();
}

void
job_free(struct job *j)
{
	buf_free(&j->err);
	buf_free(&j->note);
	json_decref(j->detail);
	vars_free(j->vars);
	free(j->reg_account);
	if (j->d)
		docker_close(j->d);
}

char *
job_registry_auth(struct job *j, const char *image, const char *account)
{
	const struct gitcfg_account *a;
	char domain[256], *token, *v;

	if (docker_registry_domain(image, domain, sizeof(domain)) < 0 ||
	    !(a = gitcfg_registry_account(&j->x->registries, domain, account,
	    j->x->secrets_dir, &token)))
		return NULL;
	v = docker_registry_auth_value(a->username, token, domain);
	secrets_wipe(token);
	return v;
}

void
job_fail(struct job *j, const char *fmt, ...)
{
	va_list ap;

	buf_reset(&j->err);
	va_start(ap, fmt);
	buf_vprintf(&j->err, fmt, ap);
	va_end(ap);
	j->status = JOB_FAILED;
}

char *
job_masked(struct job *j, const char *s)
{
	return j->vars ? vars_mask(j->vars, s) : xstrdup(s);
}


int
exec_ctx_init(struct exec_ctx *x)
{
	struct config cfg;

	memset(x, 0, sizeof(*x));
	x->jobs = 4;
	x->stop_timeout = -1;
	paths_get(&x->paths);
	if (config_load(x->paths.config, 0, &cfg) < 0) {
		paths_free(&x->paths);
		return KOM_EX_CONFIG;
	}
	x->server = config_server(&cfg);
	x->secrets_dir = cfg.secrets_dir ? xstrdup(cfg.secrets_dir) : NULL;
	x->git = cfg.git;
	memset(&cfg.git, 0, sizeof(cfg.git));
	x->registries = cfg.registries;
	memset(&cfg.registries, 0, sizeof(cfg.registries));
	config_free(&cfg);
	pthread_mutex_init(&x->git_mu, NULL);
	pthread_mutex_init(&x->mu, NULL);
	pthread_mutex_init(&x->hist_mu, NULL);
	pthread_cond_init(&x->slot_cv, NULL);
	pthread_cond_init(&x->rm_cv, NULL);
	x->removals = MAX_REMOVALS;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

void
exec_ctx_free(struct exec_ctx *x)
{
	free(x->server);
	free(x->secrets_dir);
	gitcfg_free(&x->git);
	gitcfg_free(&x->registries);
	pthread_mutex_destroy(&x->git_mu);
	paths_free(&x->paths);
	pthread_mutex_destroy(&x->mu);
	pthread_mutex_destroy(&x->hist_mu);
	pthread_cond_destroy(&x->slot_cv);
	pthread_cond_destroy(&x->rm_cv);
	curl_global_cleanup();
}

int
engine_open(struct exec_ctx *x, struct docker **d)
{
	struct docker_error err;

	*d = docker_open(&err);
	if (!*d) {
		kom_warn("%s", err.msg);
		return err.code == DOCKER_ETIMEOUT ? KOM_EX_TEMPFAIL :
		    KOM_EX_UNAVAILABLE;
	}
	return 0;
}

/* Did a call on j's handle run past its deadline since it was taken? */
static void
note_timeouts(struct job *j)
{
	if (j->d && docker_timeouts(j->d) != j->timeouts0)
		j->tempfail = 1;
}

int
job_engine_get(struct job *j)
{
	struct exec_ctx *x = j->x;
	struct docker *d = NULL;

	if (!x->pooled) {
		if (j->d)
			j->timeouts0 = docker_timeouts(j->d);
		return j->d ? 0 : -1;
	}
	if (j->d)
		return 0;
	pthread_mutex_lock(&x->mu);
	while (x->slots == 0)
		pthread_cond_wait(&x->slot_cv, &x->mu);
	x->slots--;
	if (x->nidle)
		d = x->idle[--x->nidle];
	pthread_mutex_unlock(&x->mu);
	if (!d && x->proto) {
		/* the version is negotiated once a run, not per handle */
		struct docker_error err;

		if (!(d = docker_clone(x->proto, &err)))
			kom_warn("%s", err.msg);
	}
	if (!d && (x->proto || engine_open(x, &d) != 0)) {
		pthread_mutex_lock(&x->mu);
		x->slots++;
		pthread_cond_signal(&x->slot_cv);
		pthread_mutex_unlock(&x->mu);
		j->tempfail = 1;
		return -1;
	}
	j->d = d;
	j->timeouts0 = docker_timeouts(d);
	return 0;
}

void
job_engine_put(struct job *j)
{
	struct exec_ctx *x = j->x;

	note_timeouts(j);
	if (!x->pooled || !j->d)
		return;
	pthread_mutex_lock(&x->mu);
	x->idle[x->nidle++] = j->d;	/* room for -j: one per slot */
	x->slots++;
	pthread_cond_signal(&x->slot_cv);
	pthread_mutex_unlock(&x->mu);
	j->d = NULL;
}

int
job_engine_stalled(struct job *j)
{
	note_timeouts(j);
	return j->tempfail;
}

int
job_remove_container(struct job *j, const char *id,
    struct docker_error *e)
{
	struct exec_ctx *x = j->x;
	int r;

	pthread_mutex_lock(&x->mu);
	while (x->removals == 0)
		pthread_cond_wait(&x->rm_cv, &x->mu);
	x->removals--;
	pthread_mutex_unlock(&x->mu);
	r = docker_container_remove(j->d, id, 1, 0, e);
	pthread_mutex_lock(&x->mu);
	x->removals++;
	pthread_cond_signal(&x->rm_cv);
	pthread_mutex_unlock(&x->mu);
	if (r < 0 && e->code == DOCKER_ENOTFOUND)
		r = 0;
	return r;
}

static int
expand_fn(void *ctx, const char *in, char **out, struct buf *err)
{
	return vars_expand_str(ctx, in, out, err);
}

/*
 * The interpolated config (komodo-behaviour.md 3.2: for a deployment
 * environment, ports, volumes, labels, command, extra_args; not image),
 * or NULL after job_fail.  Secrets used are remembered in j->vars for
 * masking.
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

		if (f && interp_json_strings(f, expand_fn, j->vars, &err) < 0) {
			job_fail(j, "%s: %s", fields[i], err.s);
			buf_free(&err);
			json_decref(cfg);
			return NULL;
		}
	}
	buf_free(&err);
	return cfg;
}

/* ---- deploy and build failures as alerts ---- */

/* The marker of an open deploy failure: STATE/deploy_failed/TYPE/NAME. */
static char *
failed_marker(struct job *j)
{
	char *enc = state_name_encode(j->name);
	char *p = xasprintf("%s/deploy_failed/%s/%s", j->x->paths.state,
	    j->type, enc);

	free(enc);
	return p;
}

/* The log lines a failed step kept: detail.log, else its last list. */
static json_t *
failed_log(const json_t *detail)
{
	const json_t *log = json_object_get(detail, "log"), *v;
	const char *k;

	if (!json_is_array(log))
		json_object_foreach((json_t *)detail, k, v)
			if (json_is_array(v))
				log = v;
	return json_is_array(log) ? json_deep_copy(log) : json_array();
}

/* Komodo's Version object of "x.y.z" in s ({0,0,0} when it is not). */
static json_t *
version_object(const char *s)
{
	long long v[3] = { 0, 0, 0 };

	if (s && sscanf(s, "%lld.%lld.%lld", &v[0], &v[1], &v[2]) != 3)
		v[0] = v[1] = v[2] = 0;
	return json_pack("{s:I, s:I, s:I}", "major", (json_int_t)v[0],
	    "minor", (json_int_t)v[1], "patch", (json_int_t)v[2]);
}

void
job_alert_deploy(struct job *j)
{
	int dep = strcmp(j->type, "deployment") == 0;
	int build = strcmp(j->type, "build") == 0;
	const char *ttype = dep ? "Deployment" : build ? "Build" : "Stack";
	const char *dtype = dep ? "DeploymentDeployFailed" : build ?
	    "BuildFailed" : "StackDeployFailed";
	const char *server = j->x->server ? j->x->server : "";
	char *marker, *err, *dir;
	json_t *a, *d;

	if (j->x->dry_run || (build ? strcmp(j->action, "record") != 0 :
	    (!dep && strcmp(j->type, "stack")) || (strcmp(j->action,
	    "deploy") && strcmp(j->action, "ensure"))))
		return;
	marker = failed_marker(j);
	if (j->status == JOB_FAILED) {
		/* a rollback to an old container raised its own alert */
		if (dep && json_object_get(j->detail, "rolled_back") &&
		    json_object_get(j->detail, "old_container")) {
			free(marker);
			return;
		}
		err = job_masked(j, j->err.s);
		d = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", j->name,
		    "name", j->name, "server_name", server, "error", err,
		    "log", failed_log(j->detail));
		if (build)
			json_object_set_new(d, "version", version_object(
			    json_string_value(json_object_get(j->detail,
			    "version"))));
		a = alert_new("WARNING", ttype, j->name, dtype, d);
		free(err);
		dir = file_dirname(marker);
		if (file_mkdir_p(dir, 0755) < 0 ||
		    file_write_atomic(marker, "", 0, 0644) < 0)
			kom_warne("%s", marker);
		free(dir);
	} else if (j->status == JOB_OK && access(marker, F_OK) == 0) {
		d = json_pack("{s:s, s:s, s:s}", "id", j->name, "name",
		    j->name, "server_name", server);
		if (build)
			json_object_set_new(d, "version", version_object(
			    json_string_value(json_object_get(json_object_get(
			    j->detail, "build"), "version"))));
		a = alert_new("OK", ttype, j->name, dtype, d);
		alert_set_resolved(a);
		if (unlink(marker) < 0)
			kom_warne("%s", marker);
	} else {
		free(marker);
		return;
	}
	if (j->vars)
		vars_mask_json(j->vars, a);
	if (alert_queue(j->x->paths.spool, a) < 0)
		kom_warne("%s/alert: alert for '%s' not queued",
		    j->x->paths.spool, j->name);
	json_decref(a);
	free(marker);
}
