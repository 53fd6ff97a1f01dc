/*
 * run.c: the plan runner: read kom-plan's whole stream, then run its
 * steps stage by stage, through the resource kinds (deployment.c,
 * stack.c) and the job runtime (job.c).
 *
 * Nothing is applied until the end record has been read: a truncated plan
 * or one that carries an error record changes nothing (exit 65).  Steps of
 * a stage run concurrently, each on its own thread; at most -j of them
 * hold an engine slot (and a pooled engine handle) at once, and a step
 * that only waits (grace period, healthcheck, sleep) holds none.  The
 * executions of procedures other than those of deployments and stacks
 * are one table at the end (executions[]).  A failed
 * step skips every step that needs it, and no later stage starts (Komodo
 * stops after the first failing round).  A failed step whose engine did
 * not answer in time makes the run exit 75.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "config.h"
#include "docker.h"
#include "proc.h"
#include "deployment.h"
#include "build.h"
#include "repo.h"
#include "rollback.h"
#include "run.h"
#include "settle.h"
#include "stack.h"
#include "file.h"
#include "jsonl.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/*
 * The whole plan is read, and kept, before anything is applied: a cap on
 * it.  kom-plan's bench plan of 100,000 steps is about 60 MiB.
 */
#define PLAN_MAX_STEPS 100000
#define PLAN_MAX_BYTES (256 << 20)

struct step {
	json_t *rec;
	long id;
	long stage;
	const char *action, *type, *name, *reason;
	size_t *needs;		/* indices into the step array */
	size_t nneeds;
	int done;
	int status;
	int deployed;
	int alone;		/* no other step of its stage on its resource */
};

struct plan {
	struct step *v;
	size_t n;
	struct exec_ctx *x;
	/* the stage being run */
	size_t *cur;
	size_t ncur, next;
	/* the stage's workers: as many as -j, and one more for each step
	 * that waits without an engine slot (so waits overlap), at most
	 * one a step; noops never need more than the first few */
	pthread_t *th;
	size_t nth, cap;
	int counts[4];
	int tempfail;		/* a step failed for an engine that did not answer */
	long within;		/* a sync's plan run inside step within */
};

static void
job_history(struct job *j, long id, const char *reason, long ms)
{
	json_t *e;
	char *err = NULL;

	if (j->x->dry_run)
		return;
	if (j->status == JOB_FAILED || j->status == JOB_SKIPPED)
		err = job_masked(j, j->err.s);
	e = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I}",
	    "ts", (json_int_t)kom_wall_ms(), "id", (json_int_t)id,
	    "action", j->action, "type", j->type, "name", j->name,
	    "reason", reason, "status", job_status_name(j->status),
	    "ms", (json_int_t)ms);
	if (!e) {
		/* A name or reason that is not UTF-8. */
		kom_warn("history not written for step %ld", id);
		free(err);
		return;
	}
	if (err)
		json_object_set_new(e, "error", json_string(err));
	if (j->detail && json_object_get(j->detail, "rolled_back"))
		json_object_set(e, "rolled_back",
		    json_object_get(j->detail, "rolled_back"));
	/* Not under mu: the fsync must not hold up slots and results. */
	pthread_mutex_lock(&j->x->hist_mu);
	if (j->status == JOB_NOOP && j->x->noops)
		json_array_append(j->x->noops, e);
	else if (state_history_append(j->x->paths.state, e) < 0)
		kom_warn("history not written for step %ld", id);
	pthread_mutex_unlock(&j->x->hist_mu);
	json_decref(e);
	free(err);
}

/*
 * The noops of a stage changed nothing, so nothing is lost if a kill
 * comes before their history lines: they are appended at the end of the
 * stage with one write and one fsync, not one each (200 fsyncs in a
 * row were most of a no-change rerun).  Same file as
 * state_history_append: STATE/history/YYYY-MM.jsonl (UTC, the time of
 * the first entry).
 */
static void
flush_noops(struct exec_ctx *x)
{
	struct buf b = BUF_INIT;
	json_t *e;
	size_t i;
	time_t t;
	struct tm tm;
	char *dir, *path, *text;

	if (!x->noops || !json_array_size(x->noops))
		return;
	t = (time_t)(json_integer_value(json_object_get(json_array_get(
	    x->noops, 0), "ts")) / 1000);
	json_array_foreach(x->noops, i, e) {
		if (!(text = json_dumps(e, JSON_COMPACT))) {
			kom_warn("history not written for step %lld",
			    json_integer_value(json_object_get(e, "id")));
			continue;
		}
		buf_adds(&b, text);
		buf_addc(&b, '\n');
		free(text);
	}
	json_array_clear(x->noops);
	if (!gmtime_r(&t, &tm)) {
		kom_warn("history not written: bad time %lld", (long long)t);
		buf_free(&b);
		return;
	}
	dir = xasprintf("%s/history", x->paths.state);
	path = xasprintf("%s/%04d-%02d.jsonl", dir, tm.tm_year + 1900,
	    tm.tm_mon + 1);
	if (file_mkdir_p(dir, 0755) < 0 ||
	    file_append_sync(path, b.s, b.len, 0644) < 0)
		kom_warne("%s", path);
	free(path);
	free(dir);
	buf_free(&b);
}

/* Write the step's result record; the caller holds no lock. */
int
write_result(struct exec_ctx *x, struct job *j, long id, const char *reason,
    long ms)
{
	json_t *r;
	char *err = NULL;
	int rc;

	if (j->note.len)
		reason = j->note.s;
	r = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I}",
	    "kind", "result", "id", (json_int_t)id,
	    "status", job_status_name(j->status), "action", j->action,
	    "type", j->type, "name", j->name, "reason", reason,
	    "ms", (json_int_t)ms);
	if (j->status == JOB_FAILED || j->status == JOB_SKIPPED) {
		err = job_masked(j, j->err.s);
		json_object_set_new(r, "error", json_string(err));
	}
	if (j->vars)
		vars_mask_json(j->vars, j->detail);
	if (json_object_size(j->detail))
		json_object_set(r, "detail", j->detail);
	if (x->dry_run)
		json_object_set_new(r, "dry_run", json_true());
	if (j->within)
		json_object_set_new(r, "within", json_integer(j->within));
	pthread_mutex_lock(&x->mu);
	rc = jsonl_write(stdout, r);
	if (rc == 0 && fflush(stdout) == EOF)
		rc = -1;
	pthread_mutex_unlock(&x->mu);
	if (j->status == JOB_FAILED) {
		kom_warn("step %ld: %s %s '%s': %s", id, j->action, j->type,
		    j->name, err);
	}
	job_alert_deploy(j);
	json_decref(r);
	free(err);
	return rc;
}

/* The executions of procedures kom-exec runs (action "execution"). */
struct execution {
	const char *type;	/* Komodo's Execution variant */
	void (*run)(struct job *);
	int engine;		/* takes an engine slot */
};

static int
is_container_type(const char *type)
{
	return strcmp(type, "deployment") == 0 || strcmp(type, "stack") == 0;
}

static const struct execution *find_execution(const json_t *step);

/* Steps that touch the engine; a plan without them never connects. */
static int
needs_engine(const char *action, const char *type, const json_t *step)
{
	const struct execution *e;

	if (strcmp(action, "record") == 0)
		return strcmp(type, "build") == 0;	/* a build builds */
	if (strcmp(action, "execution") == 0)
		return (e = find_execution(step)) && e->engine;
	if (strcmp(action, "remove") == 0 ||
	    strcmp(action, "sleep") == 0 || strcmp(action, "refuse") == 0)
		return 0;
	return is_container_type(type);
}

static void
run_record(struct job *j)
{
	json_t *rec, *old, *ex = NULL;

	if (!j->resource || !json_is_object(j->resource)) {
		job_fail(j, "step has no resource");
		return;
	}
	if (j->x->dry_run)
		return;
	/* A repo is its checkout: made first, recorded when it is there. */
	if (strcmp(j->type, "repo") == 0 && !(ex = repo_apply(j)))
		return;
	if (strcmp(j->type, "build") == 0 && !(ex = build_apply(j)))
		return;
	rec = json_deep_copy(j->resource);
	json_object_set_new(rec, "applied_at", json_integer(kom_wall_ms()));
	/* A record keeps what the last deploy learned about the engine. */
	old = state_load(j->x->paths.state, j->type, j->name);
	if (ex)
		json_object_set_new(rec, "exec", ex);
	else if (old && json_object_get(old, "exec"))
		json_object_set(rec, "exec", json_object_get(old, "exec"));
	json_decref(old);
	if (state_save(j->x->paths.state, rec) < 0)
		job_fail(j, "cannot record %s '%s' in %s", j->type, j->name,
		    j->x->paths.state);
	json_decref(rec);
}

static void
run_sleep(struct job *j)
{
	json_t *p = json_object_get(json_object_get(j->step, "execution"),
	    "params");
	json_int_t ms = json_integer_value(json_object_get(p, "duration_ms"));
	struct timespec ts;

	if (ms < 0)
		ms = 0;
	json_object_set_new(j->detail, "duration_ms", json_integer(ms));
	if (j->x->dry_run)
		return;
	job_waits(j);
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
job_run(struct job *j)
{
	const char *a = j->action;
	int dep = strcmp(j->type, "deployment") == 0;

	if (strcmp(a, "record") == 0) {
		run_record(j);
	} else if (strcmp(a, "remove") == 0) {
		if (!j->x->dry_run && state_remove(j->x->paths.state, j->type,
		    j->name) < 0)
			job_fail(j, "cannot remove %s '%s' from %s", j->type,
			    j->name, j->x->paths.state);
	} else if (strcmp(a, "sleep") == 0) {
		run_sleep(j);
	} else if (strcmp(a, "refuse") == 0) {
		/* kom-plan's verdict, with its reason: nothing is touched */
		const char *why = json_string_value(json_object_get(j->step,
		    "reason"));

		job_fail(j, "%s", why ? why : "refused by kom-plan");
	} else if (strcmp(a, "execution") == 0) {
		const struct execution *e = find_execution(j->step);

		if (e)
			e->run(j);
		else
			job_fail(j, "kom-exec cannot run execution %s",
			    jsonl_str(json_object_get(j->step, "execution"),
			    "type", "(none)"));
	} else if (!is_container_type(j->type)) {
		job_fail(j, "action '%s' is not supported for type %s", a,
		    j->type);
	} else if (strcmp(a, "deploy") == 0 || strcmp(a, "ensure") == 0) {
		int ensure = strcmp(a, "ensure") == 0;

		if (dep)
			deploy_deployment(j, ensure);
		else
			deploy_stack(j, ensure);
		release_record(j);
	} else if (strcmp(a, "destroy") == 0) {
		if (dep)
			destroy_deployment(j);
		else
			destroy_stack(j);
	} else if (strcmp(a, "start") == 0 || strcmp(a, "stop") == 0 ||
	    strcmp(a, "restart") == 0 || strcmp(a, "pause") == 0 ||
	    strcmp(a, "unpause") == 0 || strcmp(a, "pull") == 0) {
		if (dep)
			lifecycle_deployment(j);
		else
			lifecycle_stack(j);
	} else {
		job_fail(j, "unknown action '%s'", a);
	}
}

static size_t
find_id(struct plan *p, long id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->v[i].id == id)
			return i;
	return (size_t)-1;
}

static const char *
type_title(const char *type)
{
	return strcmp(type, "stack") == 0 ? "Stack" : "Deployment";
}

/* Run step i of the plan (on a worker thread). */
static void
run_step(struct plan *p, size_t i)
{
	struct step *s = &p->v[i];
	struct job j;
	const char *why = NULL;
	long long t0 = kom_mono_ms();
	size_t k;
	int force = 0;

	job_init(&j, p->x, s->action, s->type, s->name, s->rec,
	    json_object_get(s->rec, "resource"));
	j.within = p->within;
	j.runner = p;
	pthread_mutex_lock(&p->x->mu);
	for (k = 0; k < s->nneeds; k++) {
		struct step *n = &p->v[s->needs[k]];

		if (n->status == JOB_FAILED || n->status == JOB_SKIPPED) {
			buf_printf(&j.err, "needs step %ld (%s %s '%s'), which "
			    "%s", n->id, n->action, n->type, n->name,
			    n->status == JOB_FAILED ? "failed" : "was skipped");
			j.status = JOB_SKIPPED;
			break;
		}
		if (n->deployed && !force) {
			force = 1;
			why = n->name;
			if (strcmp(s->action, "ensure") == 0)
				buf_printf(&j.note, "%s parent dependency '%s' "
				    "is deploying", type_title(n->type), why);
		}
	}
	pthread_mutex_unlock(&p->x->mu);
	if (j.status != JOB_SKIPPED) {
		j.force = force;
		j.alone = s->alone;
		if (needs_engine(s->action, s->type, s->rec) &&
		    job_engine_get(&j) < 0)
			job_fail(&j, "cannot reach the docker engine");
		if (j.status == JOB_OK)
			job_run(&j);
		job_engine_put(&j);
	}
	if (j.status != JOB_SKIPPED)
		job_history(&j, s->id, j.note.len ? j.note.s : s->reason,
		    (long)(kom_mono_ms() - t0));
	write_result(p->x, &j, s->id, s->reason, (long)(kom_mono_ms() - t0));
	pthread_mutex_lock(&p->x->mu);
	s->status = j.status;
	s->deployed = j.deployed;
	s->done = 1;
	p->counts[j.status]++;
	if (j.status == JOB_FAILED && j.tempfail)
		p->tempfail = 1;
	pthread_mutex_unlock(&p->x->mu);
	job_free(&j);
}

static void *worker(void *arg);

/* One more worker for the stage, while steps are left and it has room. */
static void
more_workers(struct plan *p)
{
	pthread_attr_t at;

	pthread_mutex_lock(&p->x->mu);
	if (p->th && p->next < p->ncur && p->nth < p->cap) {
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 1u << 20);
		if (pthread_create(&p->th[p->nth], &at, worker, p) != 0)
			kom_die(KOM_EX_SOFTWARE, "cannot start a thread");
		p->nth++;
		pthread_attr_destroy(&at);
	}
	pthread_mutex_unlock(&p->x->mu);
}

void
job_waits(struct job *j)
{
	if (j->runner && !j->waited) {
		j->waited = 1;
		more_workers(j->runner);
	}
}

static void *
worker(void *arg)
{
	struct plan *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->x->mu);
		i = p->next < p->ncur ? p->cur[p->next++] : (size_t)-1;
		pthread_mutex_unlock(&p->x->mu);
		if (i == (size_t)-1)
			break;
		run_step(p, i);
	}
	return NULL;
}

static void
skip_rest(struct plan *p, size_t i, long failed_stage)
{
	struct step *s = &p->v[i];
	struct job j;

	job_init(&j, p->x, s->action, s->type, s->name, s->rec, NULL);
	j.within = p->within;
	j.status = JOB_SKIPPED;
	for (size_t k = 0; k < s->nneeds; k++) {
		struct step *n = &p->v[s->needs[k]];

		if (n->status == JOB_FAILED || n->status == JOB_SKIPPED) {
			buf_printf(&j.err, "needs step %ld (%s %s '%s'), which "
			    "%s", n->id, n->action, n->type, n->name,
			    n->status == JOB_FAILED ? "failed" : "was skipped");
			break;
		}
	}
	if (!j.err.len)
		buf_printf(&j.err, "stage %ld failed; later stages do not "
		    "start", failed_stage);
	write_result(p->x, &j, s->id, s->reason, 0);
	s->status = JOB_SKIPPED;
	s->done = 1;
	p->counts[JOB_SKIPPED]++;
	job_free(&j);
}

/* Threads of one stage at most; more steps queue for a free thread. */
#define MAX_THREADS 256

static int
is_deploy(const struct step *s)
{
	return strcmp(s->type, "deployment") == 0 &&
	    (strcmp(s->action, "deploy") == 0 ||
	    strcmp(s->action, "ensure") == 0);
}

/*
 * Before a stage with deploy or ensure steps: mark the steps that are
 * alone on their resource and list the deployment containers once
 * (x->snapshot).  Without the list (an engine error) every step asks
 * for its own.
 */
static void
take_snapshot(struct plan *p)
{
	struct exec_ctx *x = p->x;
	const char *labels[] = { "kom.managed=true", "kom.type=deployment",
	    NULL };
	json_t *seen = json_object(), *list = NULL, *c;
	struct docker_error e;
	struct job j;
	size_t i, n = 0;

	for (i = 0; i < p->ncur; i++) {
		struct step *s = &p->v[p->cur[i]];
		json_t *k = json_object_get(seen, s->name);

		if (strcmp(s->type, "deployment") != 0)
			continue;
		json_object_set_new(seen, s->name, json_integer(
		    k ? json_integer_value(k) + 1 : 1));
		n += is_deploy(s);
	}
	for (i = 0; i < p->ncur; i++) {
		struct step *s = &p->v[p->cur[i]];

		s->alone = is_deploy(s) && json_integer_value(
		    json_object_get(seen, s->name)) == 1;
	}
	json_decref(seen);
	json_decref(x->snapshot);
	x->snapshot = NULL;
	x->listless = 0;
	if (n < 2 || x->dry_run || !x->pooled)
		return;
	job_init(&j, x, "list", "deployment", "", NULL, NULL);
	if (job_engine_get(&j) == 0) {
		settle_look(x, j.d);
		x->listless = 1;
		for (i = 0; i < p->ncur && x->listless; i++) {
			struct step *s = &p->v[p->cur[i]];

			if (s->alone && !deployment_settled(x, s->name,
			    json_object_get(s->rec, "resource")))
				x->listless = 0;
		}
		x->list_ns = kom_wall_ns();
		if (!x->listless &&
		    docker_container_list(j.d, labels, 1, &list, &e) == 0) {
			x->snapshot = json_object();
			json_array_foreach(list, i, c) {
				const char *name = json_string_value(
				    json_object_get(json_object_get(c,
				    "Labels"), "kom.name"));
				json_t *a;

				if (!name)
					continue;
				if (!(a = json_object_get(x->snapshot, name))) {
					a = json_array();
					json_object_set_new(x->snapshot, name,
					    a);
				}
				json_array_append(a, c);
			}
			json_decref(list);
		}
		job_engine_put(&j);
	}
	job_free(&j);
}

static void
run_stage(struct plan *p)
{
	size_t nth, i;

	/* a sync's plan runs beside the outer stage's steps: its snapshot
	 * is theirs, so it asks the engine itself (alone stays 0) */
	if (!p->within)
		take_snapshot(p);
	p->next = 0;
	/* -j 1: strictly one step after another, waits included. */
	nth = p->x->jobs == 1 ? 1 : p->ncur < MAX_THREADS ? p->ncur :
	    MAX_THREADS;
	if (nth <= 1) {
		for (i = 0; i < p->ncur; i++)
			run_step(p, p->cur[i]);
		flush_noops(p->x);
		return;
	}
	p->cap = nth;
	p->th = xcalloc(nth, sizeof(*p->th));
	p->nth = 0;
	for (i = 0; i < nth && i < (size_t)p->x->jobs; i++)
		more_workers(p);
	for (i = 0;; i++) {
		pthread_t t;

		pthread_mutex_lock(&p->x->mu);
		if (i >= p->nth) {
			pthread_mutex_unlock(&p->x->mu);
			break;
		}
		t = p->th[i];
		pthread_mutex_unlock(&p->x->mu);
		pthread_join(t, NULL);
	}
	free(p->th);
	p->th = NULL;
	flush_noops(p->x);
}

/* Check one step record; returns 0 or -1 with a message in err. */
static int
parse_step(json_t *rec, struct step *s, struct buf *err)
{
	json_t *v;

	memset(s, 0, sizeof(*s));
	s->rec = rec;
	v = json_object_get(rec, "id");
	if (!json_is_integer(v)) {
		buf_adds(err, "step without an integer \"id\"");
		return -1;
	}
	s->id = (long)json_integer_value(v);
	v = json_object_get(rec, "stage");
	s->stage = json_is_integer(v) ? (long)json_integer_value(v) : 1;
	s->action = json_string_value(json_object_get(rec, "action"));
	s->type = json_string_value(json_object_get(rec, "type"));
	s->name = json_string_value(json_object_get(rec, "name"));
	s->reason = json_string_value(json_object_get(rec, "reason"));
	if (!s->reason)
		s->reason = "";
	if (!s->action || !s->type || !s->name || !*s->name) {
		buf_printf(err, "step %ld needs string \"action\", \"type\" and "
		    "\"name\"", s->id);
		return -1;
	}
	if (s->type[strspn(s->type, "abcdefghijklmnopqrstuvwxyz_")] != '\0') {
		buf_printf(err, "step %ld: bad type '%s'", s->id, s->type);
		return -1;
	}
	return 0;
}

static void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		json_decref(p->v[i].rec);
		free(p->v[i].needs);
	}
	free(p->v);
	free(p->cur);
}

/*
 * Read the whole plan; returns 0 or an exit status after a message
 * (negated when the file could not even be opened).
 */
static int
read_plan(FILE *fp, const char *name, struct plan *p)
{
	struct jsonl_reader r;
	struct buf err = BUF_INIT;
	json_t *rec;
	size_t cap = 0, i, k, bytes = 0;
	long *lines = NULL;
	int rc = 0, got;

	jsonl_reader_init(&r, fp, name);
	while ((got = jsonl_next(&r, &rec)) == 1) {
		const char *kind = jsonl_kind(rec);

		if (strcmp(kind, "error") == 0) {
			const char *m = json_string_value(json_object_get(rec,
			    "message"));
			const char *prog = json_string_value(json_object_get(rec,
			    "program"));

			kom_warn("%s:%ld: error from %s: %s", name, r.line,
			    prog ? prog : "an earlier stage", m ? m : "");
			/* Passed on, so that the last stage fails too. */
			if (jsonl_write(stdout, rec) < 0 ||
			    fflush(stdout) == EOF) {
				kom_warne("stdout");
				json_decref(rec);
				rc = KOM_EX_IOERR;
				break;
			}
			json_decref(rec);
			rc = KOM_EX_DATAERR;
			continue;
		}
		if (strcmp(kind, "step") != 0) {
			json_decref(rec);
			continue;
		}
		bytes += r.buf.len + 1;
		if (p->n >= PLAN_MAX_STEPS || bytes > PLAN_MAX_BYTES) {
			kom_warn("%s:%ld: a plan may have at most %d steps in "
			    "%d MiB: kom-exec holds it whole before it applies "
			    "anything", name, r.line, PLAN_MAX_STEPS,
			    PLAN_MAX_BYTES >> 20);
			json_decref(rec);
			rc = KOM_EX_DATAERR;
			break;
		}
		KOM_GROW(p->v, p->n + 1, cap);
		lines = xreallocarray(lines, cap, sizeof(*lines));
		lines[p->n] = r.line;
		if (parse_step(rec, &p->v[p->n], &err) < 0) {
			kom_warn("%s:%ld: %s", name, r.line, err.s);
			json_decref(rec);
			rc = KOM_EX_DATAERR;
			break;
		}
		p->n++;
	}
	if (got < 0)
		rc = KOM_EX_DATAERR;
	/* needs: known ids in earlier stages only. */
	for (i = 0; rc == 0 && i < p->n; i++) {
		struct step *s = &p->v[i];
		json_t *needs = json_object_get(s->rec, "needs"), *v;

		if (find_id(p, s->id) != i) {
			kom_warn("%s:%ld: duplicate step id %ld", name,
			    lines[i], s->id);
			rc = KOM_EX_DATAERR;
			break;
		}
		s->needs = xcalloc(json_array_size(needs) + 1, sizeof(size_t));
		json_array_foreach(needs, k, v) {
			size_t at = find_id(p, (long)json_integer_value(v));

			if (!json_is_integer(v) || at == (size_t)-1 ||
			    p->v[at].stage >= s->stage) {
				kom_warn("%s:%ld: step %ld needs step %lld, "
				    "which is not in an earlier stage", name,
				    lines[i], s->id, json_integer_value(v));
				rc = KOM_EX_DATAERR;
				break;
			}
			s->needs[s->nneeds++] = at;
		}
	}
	if (rc == 0 && got == 0) {
		/* Stable order by stage; needs hold indices, so map them. */
		struct step *sorted = xcalloc(p->n + 1, sizeof(*sorted));
		size_t *where = xcalloc(p->n + 1, sizeof(size_t));
		size_t o = 0;

		while (o < p->n) {
			long minst = -1;

			for (i = 0; i < p->n; i++)
				if (!p->v[i].done && (minst < 0 ||
				    p->v[i].stage < minst))
					minst = p->v[i].stage;
			for (i = 0; i < p->n; i++) {
				if (!p->v[i].done && p->v[i].stage == minst) {
					p->v[i].done = 1;
					where[i] = o;
					sorted[o++] = p->v[i];
				}
			}
		}
		for (i = 0; i < p->n; i++) {
			sorted[i].done = 0;
			for (k = 0; k < sorted[i].nneeds; k++)
				sorted[i].needs[k] = where[sorted[i].needs[k]];
		}
		free(p->v);
		free(where);
		p->v = sorted;
	}
	jsonl_reader_free(&r);
	buf_free(&err);
	free(lines);
	return rc;
}

/* Run p's stages; a failed stage skips the later ones. */
static void
run_stages(struct plan *p)
{
	size_t i, start;
	long failed_stage = -1;

	p->cur = xcalloc(p->n + 1, sizeof(size_t));
	for (start = 0; start < p->n; ) {
		long stage = p->v[start].stage;

		p->ncur = 0;
		for (i = start; i < p->n && p->v[i].stage == stage; i++)
			p->cur[p->ncur++] = i;
		if (failed_stage >= 0) {
			for (i = 0; i < p->ncur; i++)
				skip_rest(p, p->cur[i], failed_stage);
		} else {
			run_stage(p);
			for (i = 0; i < p->ncur; i++)
				if (p->v[p->cur[i]].status == JOB_FAILED)
					failed_stage = stage;
		}
		start += p->ncur;
	}
}

int
apply_main(struct exec_ctx *x, const char *file, int nowait)
{
	FILE *fp = stdin;
	int rc;

	if (file && !(fp = fopen(file, "re"))) {
		kom_warne("%s", file);
		return KOM_EX_IOERR;	/* nothing read: nothing to say */
	}
	rc = apply_stream(x, fp, file ? file : "<stdin>", nowait, NULL);
	if (file)
		fclose(fp);
	return rc;
}

int
apply_stream(struct exec_ctx *x, FILE *fp, const char *name, int nowait,
    int counts[4])
{
	struct plan p;
	struct docker *d = NULL;
	size_t i;
	int rc, lock = -1, engine = 0;
	json_t *end;

	memset(&p, 0, sizeof(p));
	p.x = x;
	rc = read_plan(fp, name, &p);
	if (rc) {
		kom_warn("nothing applied");
		plan_free(&p);
		return rc;
	}
	if (!x->dry_run) {
		if (file_mkdir_p(x->paths.state, 0755) < 0) {
			kom_warne("%s", x->paths.state);
			plan_free(&p);
			return KOM_EX_IOERR;
		}
		lock = state_lock(x->paths.state, !nowait);
		if (lock < 0 && errno == EWOULDBLOCK) {
			kom_warn("another kom-exec is applying (%s/lock)",
			    x->paths.state);
			plan_free(&p);
			return KOM_EX_NO;
		}
		if (lock < 0) {
			kom_warne("%s/lock", x->paths.state);
			plan_free(&p);
			return KOM_EX_IOERR;
		}
	}
	/* Reach the engine before anything changes, not halfway through. */
	for (i = 0; i < p.n; i++)
		engine |= needs_engine(p.v[i].action, p.v[i].type, p.v[i].rec);
	if (engine) {
		struct docker_error de;

		if (!(d = docker_open(&de))) {
			kom_warn("%s; nothing applied", de.msg);
			plan_free(&p);
			if (lock >= 0)
				close(lock);
			return de.code == DOCKER_ETIMEOUT ? KOM_EX_TEMPFAIL :
			    KOM_EX_UNAVAILABLE;
		}
	}
	x->idle = xcalloc((size_t)x->jobs, sizeof(*x->idle));
	if (d)
		x->idle[x->nidle++] = d;
	x->slots = x->jobs;
	x->pooled = 1;
	x->images = json_object();
	x->noops = json_array();
	x->proto = d;
	settle_load(x, d);
	run_stages(&p);
	settle_save(x, d, p.counts[JOB_OK] || p.counts[JOB_FAILED]);
	if (counts)
		memcpy(counts, p.counts, sizeof(p.counts));
	end = json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:i}}", "kind", "end",
	    "program", "kom-exec", "counts", "ok", p.counts[JOB_OK],
	    "failed", p.counts[JOB_FAILED], "skipped", p.counts[JOB_SKIPPED],
	    "noop", p.counts[JOB_NOOP]);
	if (x->dry_run)
		json_object_set_new(end, "dry_run", json_true());
	jsonl_write_steal(stdout, end);
	rc = p.tempfail ? KOM_EX_TEMPFAIL : p.counts[JOB_FAILED] ? KOM_EX_NO :
	    KOM_EX_OK;
	plan_free(&p);
	while (x->nidle)
		docker_close(x->idle[--x->nidle]);
	free(x->idle);
	x->idle = NULL;
	x->pooled = 0;
	json_decref(x->images);
	x->images = NULL;
	json_decref(x->snapshot);
	x->snapshot = NULL;
	json_decref(x->noops);
	x->noops = NULL;
	settle_free(x);
	x->proto = NULL;
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---- the executions of procedures ---- */

/* The step's execution params, or NULL (jansson's getters take NULL). */
static json_t *
exec_params(struct job *j)
{
	json_t *p = json_object_get(json_object_get(j->step, "execution"),
	    "params");

	return json_is_object(p) ? p : NULL;
}

/* SendAlert: a Custom alert into the spool, as Komodo's (an event). */
static void
run_send_alert(struct job *j)
{
	static const struct {
		const char *alias, *level;
	} levels[] = {
		{ "ok", "OK" }, { "low", "OK" }, { "l", "OK" },
		{ "warning", "WARNING" }, { "w", "WARNING" },
		{ "medium", "WARNING" }, { "m", "WARNING" },
		{ "critical", "CRITICAL" }, { "c", "CRITICAL" },
		{ "high", "CRITICAL" }, { "h", "CRITICAL" },
	};
	json_t *p = exec_params(j), *a, *al;
	const char *lv = jsonl_str(p, "level", "OK"), *level = NULL;
	size_t i;

	for (i = 0; i < KOM_NELEM(levels) && !level; i++)
		if (strcasecmp(lv, levels[i].alias) == 0)
			level = levels[i].level;
	if (!level) {
		job_fail(j, "SendAlert: level '%s' is not OK, WARNING or "
		    "CRITICAL", lv);
		return;
	}
	a = alert_new(level, "System", "", "Custom", json_pack("{s:s, s:s}",
	    "message", jsonl_str(p, "message", ""), "details",
	    jsonl_str(p, "details", "")));
	json_object_set_new(a, "resolved", json_true());
	json_object_set(a, "resolved_ts", json_object_get(a, "ts"));
	al = json_object_get(p, "alerters");
	if (json_array_size(al))
		json_object_set(a, "alerters", al);
	json_object_set_new(j->detail, "level", json_string(level));
	if (!j->x->dry_run && alert_queue(j->x->paths.spool, a) < 0)
		job_fail(j, "%s/alert: cannot queue the alert: %s",
		    j->x->paths.spool, strerror(errno));
	json_decref(a);
}

/*
 * StartContainer and the others: a container of this host's engine by
 * name, managed by kom or not, as Komodo's server actions.
 */
static void
run_container(struct job *j)
{
	json_t *p = exec_params(j);
	const char *t = jsonl_str(json_object_get(j->step, "execution"),
	    "type", ""), *c = jsonl_str(p, "container", ""), *sig;
	json_t *tv = json_object_get(p, "time");
	int secs = json_is_integer(tv) ? (int)json_integer_value(tv) : -1, r;
	struct docker_error e;

	sig = json_string_value(json_object_get(p, "signal"));
	if (!*c) {
		job_fail(j, "%s names no container", t);
		return;
	}
	if (j->x->server && strcmp(j->name, j->x->server) != 0) {
		job_fail(j, "%s: server '%s' is not this host ('%s'); kom-exec "
		    "acts on its own engine", t, j->name, j->x->server);
		return;
	}
	json_object_set_new(j->detail, "container", json_string(c));
	if (j->x->dry_run)
		return;
	if (strcmp(t, "StartContainer") == 0)
		r = docker_container_start(j->d, c, &e);
	else if (strcmp(t, "RestartContainer") == 0)
		r = docker_container_restart(j->d, c, secs, &e);
	else if (strcmp(t, "PauseContainer") == 0)
		r = docker_container_pause(j->d, c, &e);
	else if (strcmp(t, "UnpauseContainer") == 0)
		r = docker_container_unpause(j->d, c, &e);
	else if ((r = docker_container_stop(j->d, c, sig, secs, &e)) == 0 &&
	    strcmp(t, "DestroyContainer") == 0)
		r = job_remove_container(j, c, &e);
	if (r < 0) {
		job_fail(j, "%s '%s': %s", t, c, e.msg);
		j->tempfail = e.code == DOCKER_ETIMEOUT;
	}
}

/* One stage of a sync's pipeline: 0, or -1 after job_fail. */
static int
sync_stage(struct job *j, char *const argv[], const struct buf *in,
    struct buf *out)
{
	struct buf why = BUF_INIT;

	if (proc_stage(argv, argv[0], in, out, &why) != 0)
		job_fail(j, "RunSync '%s': %s", j->name, why.s);
	buf_free(&why);
	return j->status == JOB_FAILED ? -1 : 0;
}

/*
 * RunSync: that sync's pipeline, as kom-poll apply runs it, except that
 * its last stage is this process.  kom-poll fetch (for a sync in git),
 * kom-sync diff -y and kom-plan run as children; their plan runs here,
 * under the state dir's lock this run already holds.  A child kom-exec
 * would wait for that lock for ever (or, with -b, give up at once).
 * Its steps' results carry "within" (this step's id).
 */
static void
run_sync(struct job *j)
{
	char *poll = proc_tool("kom-poll"), *sync = proc_tool("kom-sync");
	char *plan = proc_tool("kom-plan"), *name = (char *)j->name;
	char *fetch_argv[] = { poll, "fetch", "-y", name, NULL };
	char *diff_argv[] = { sync, "diff", "-y", name, NULL };
	char *plan_argv[] = { plan, NULL };
	struct buf d = BUF_INIT, pl = BUF_INIT;
	const struct config_sync *sy;
	struct config cfg;
	struct plan sub;
	FILE *fp = NULL;
	int rc;

	memset(&sub, 0, sizeof(sub));
	if (config_load(j->x->paths.config, 0, &cfg) < 0) {
		job_fail(j, "RunSync '%s': %s cannot be read", name,
		    j->x->paths.config);
		goto out_nocfg;
	}
	if (!(sy = config_sync(&cfg, name))) {
		job_fail(j, "RunSync: %s declares no [[resource_sync]] '%s'",
		    j->x->paths.config, name);
		goto out;
	}
	if (!sy->files_on_host && (*sy->repo || *sy->linked_repo) &&
	    !j->x->dry_run && sync_stage(j, fetch_argv, NULL, NULL) < 0)
		goto out;
	if (sync_stage(j, diff_argv, NULL, &d) < 0 ||
	    sync_stage(j, plan_argv, &d, &pl) < 0)
		goto out;
	if (!(fp = fmemopen(pl.s, pl.len, "r"))) {
		job_fail(j, "RunSync '%s': %s", name, strerror(errno));
		goto out;
	}
	sub.x = j->x;
	sub.within = json_integer_value(json_object_get(j->step, "id"));
	if ((rc = read_plan(fp, name, &sub)) != 0) {
		job_fail(j, "RunSync '%s': kom-plan's plan cannot be read",
		    name);
		goto out;
	}
	run_stages(&sub);
	json_object_set_new(j->detail, "steps", json_pack("{s:i, s:i, s:i, "
	    "s:i}", "ok", sub.counts[JOB_OK], "failed", sub.counts[JOB_FAILED],
	    "skipped", sub.counts[JOB_SKIPPED], "noop", sub.counts[JOB_NOOP]));
	if (sub.counts[JOB_FAILED])
		job_fail(j, "RunSync '%s': %d of its %zu steps failed", name,
		    sub.counts[JOB_FAILED], sub.n);
	j->tempfail = sub.tempfail;
	j->deployed = sub.counts[JOB_OK] > 0;
out:
	config_free(&cfg);
out_nocfg:
	if (fp)
		fclose(fp);
	plan_free(&sub);
	buf_free(&d);
	buf_free(&pl);
	free(poll);
	free(sync);
	free(plan);
}

/*
 * GlobalAutoUpdate: kom-poll images, a child: it asks the registries for
 * the digests of what polls or auto-updates and queues the updates (alerts,
 * deploy events into SPOOL/sync/new for kom-poll apply, which deploys them
 * once this run has released the lock).
 */
static void
run_auto_update(struct job *j)
{
	char *poll = proc_tool("kom-poll");
	char *argv[] = { poll, "images", NULL };
	struct buf out = BUF_INIT, why = BUF_INIT;
	size_t n = 0, i;

	if (json_is_true(json_object_get(exec_params(j), "skip_auto_update"))) {
		job_fail(j, "GlobalAutoUpdate: skip_auto_update = true is not "
		    "supported (kom-poll images always queues auto-updates)");
	} else if (!j->x->dry_run &&
	    proc_stage(argv, "kom-poll images", NULL, &out, &why) != 0) {
		job_fail(j, "GlobalAutoUpdate: %s", why.s);
	} else {
		/* its image records, one a line (then its end record) */
		for (i = 0; i < out.len; i++)
			if ((i == 0 || out.s[i - 1] == '\n') && strncmp(out.s +
			    i, "{\"kind\":\"image\"", 15) == 0)
				n++;
		json_object_set_new(j->detail, "images", json_integer(
		    (json_int_t)n));
	}
	buf_free(&out);
	buf_free(&why);
	free(poll);
}

/*
 * RunBuild, CloneRepo, PullRepo: the branch as it is now, as Komodo's
 * executions take it.  The commit the last sync read (the record's "git"
 * member) is not a pin; a pinned commit is config's and still holds.
 */
static void
run_at_head(struct job *j)
{
	if (json_is_object(j->resource))
		json_object_del(j->resource, "git");
	run_record(j);
}

static const struct execution executions[] = {
	{ "RunBuild", run_at_head, 1 },
	{ "CloneRepo", run_at_head, 0 },
	{ "PullRepo", run_at_head, 0 },
	{ "RunSync", run_sync, 0 },
	{ "SendAlert", run_send_alert, 0 },
	{ "GlobalAutoUpdate", run_auto_update, 0 },
	{ "StartContainer", run_container, 1 },
	{ "RestartContainer", run_container, 1 },
	{ "PauseContainer", run_container, 1 },
	{ "UnpauseContainer", run_container, 1 },
	{ "StopContainer", run_container, 1 },
	{ "DestroyContainer", run_container, 1 },
};

static const struct execution *
find_execution(const json_t *step)
{
	const char *t = json_string_value(json_object_get(json_object_get(
	    step, "execution"), "type"));
	size_t i;

	for (i = 0; t && i < KOM_NELEM(executions); i++)
		if (strcmp(t, executions[i].type) == 0)
			return &executions[i];
	return NULL;
}
