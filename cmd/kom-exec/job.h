/*
 * job.h: the job runtime of kom-exec (job.c), the bottom layer of the
 * program above lib/; not a library interface.  kom-exec reads one way
 * down:
 *
 *	kom-exec.c, status.c	main and the subcommands
 *	check.c			kom-exec check: live state and host, alerts
 *	procedure.c		kom-exec procedure and timers
 *	run.c			the plan runner: stages, threads, results, history
 *	deployment.c, stack.c	one file per resource kind
 *	job.c			this header: a job, engine slots
 *	lib/			docker, container, compose, state, alert, vars
 *				([[VAR]]s), ...
 *
 * No file calls up into a file that includes it.
 */
#ifndef KOM_EXEC_JOB_H
#define KOM_EXEC_JOB_H

#include <pthread.h>
#include <jansson.h>

#include "buf.h"
#include "gitcfg.h"
#include "paths.h"
#include "vars.h"

struct docker;
struct docker_error;

struct exec_ctx {
	struct kom_paths paths;
	int dry_run;		/* -n */
	int jobs;		/* -j */
	char *server;		/* this host's name (config_server) */
	char *secrets_dir;	/* kom.toml's secrets_dir, or NULL */
	struct gitcfg git;	/* kom.toml's [[git_provider]]s */
	struct gitcfg registries;	/* and [[docker_registry]]s */
	/* kgit_fetch forks: no other thread may be inside libgit2 then */
	pthread_mutex_t git_mu;
	const char *stop_signal;/* -s override, or NULL */
	int stop_timeout;	/* -t override, or -1 */
	pthread_mutex_t mu;	/* stdout, history, slots, images */
	/*
	 * Engine slots (an apply): every step of a stage has a thread, but
	 * at most -j of them talk to the engine (or run compose) at once.
	 * A slot comes with an engine handle from a pool, so the handles
	 * (and their version negotiation) number at most -j.  A step that
	 * waits (a new container's grace period or healthcheck, a sleep)
	 * holds no slot while it waits.
	 */
	int pooled;		/* slots in use: apply, not the one-step commands */
	int slots;		/* free slots */
	pthread_cond_t slot_cv;
	struct docker **idle;	/* open handles not in use */
	size_t nidle;
	json_t *images;		/* image name -> id, learned this run */
	/*
	 * The stage's deployment containers, from one list taken before the
	 * stage starts: kom.name -> array of container summaries.  A deploy
	 * or ensure step whose deployment no other step of the stage touches
	 * reads its containers here instead of asking the engine (200
	 * filtered lists cost the engine a scan of every container each).
	 */
	json_t *snapshot;
	/* What the engine's event log vouches for (settle.h). */
	json_t *anchor;		/* the last run's newest event, or NULL */
	json_t *settled;	/* its settled deployments while the log is
				   whole since the anchor, else NULL */
	json_t *touched;	/* since the anchor: changed in place, by id */
	json_t *stirred;	/* anything at all, by id and kom.name= */
	json_t *first;		/* the newest event the run's first look saw */
	int looked;		/* the log was asked this run */
	long long look_ns;	/* this stage's look (wall clock, ns) */
	long long list_ns;	/* when this stage's list was asked for */
	int listless;		/* no list this stage: every step settled */
	json_t *known;		/* NAME -> [id, seen_ns], this run's looks */
	struct docker *proto;	/* the run's first handle: clones of it */
	pthread_mutex_t hist_mu;	/* history appends (fsync), noops */
	json_t *noops;		/* the stage's noop history entries */
	/*
	 * Container removals under way, at most MAX_REMOVALS at once
	 * whatever -j says: Debian's dockerd 20.10 wedged under 50
	 * parallel removals.
	 */
	int removals;		/* free removal places */
	pthread_cond_t rm_cv;
};

#define MAX_REMOVALS 2

/* One step's execution: what a handler reads and fills in. */
struct job {
	struct exec_ctx *x;
	struct docker *d;	/* this thread's engine handle */
	const char *action;
	const char *type;
	const char *name;
	json_t *step;		/* the step record (borrowed) */
	json_t *resource;	/* step.resource (borrowed), may be NULL */
	int force;		/* a parent really deployed: deploy even if fine */
	int alone;		/* the only step of its stage on this resource */
	/* out */
	int status;		/* JOB_OK ... */
	int deployed;		/* something was really (re)deployed */
	struct buf err;		/* failure message */
	struct buf note;	/* a reason override (e.g. the cascade) */
	json_t *detail;		/* result detail object (owned) */
	struct vars *vars;	/* secrets to mask (owned) */
	int tempfail;		/* the engine did not answer in time */
	long within;		/* a RunSync step's id when run inside it */
	unsigned timeouts0;	/* docker_timeouts(d) when d was taken */
	char *reg_account;	/* a Build image's registry account, or NULL */
	long long seen_ns;	/* the job's last look at its container */
	void *runner;		/* the stage running it (run.c), or NULL */
	int waited;		/* job_waits was called */
};

enum { JOB_OK, JOB_FAILED, JOB_SKIPPED, JOB_NOOP };

/* job.c */
void job_init(struct job *j, struct exec_ctx *x, const char *action,
    const char *type, const char *name, json_t *step, json_t *resource);
void job_free(struct job *j);
void job_fail(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *job_status_name(int status);
/* s with the secrets the job used replaced by <NAME>: a fresh string. */
char *job_masked(struct job *j, const char *s);
/*
 * Open an engine handle: 0, or after a message the exit status: 75 when
 * the engine does not answer in time, else 69.
 */
int engine_open(struct exec_ctx *x, struct docker **d);
/*
 * Take an engine slot and a handle into j->d (blocks while -j steps hold
 * one); -1 after a message when no handle can be opened.  Without a pool
 * (x->pooled 0) j->d is the job's own handle: 0 when it has one.
 */
int job_engine_get(struct job *j);
/* Give the slot and the handle back (j->d becomes NULL); no-op unpooled. */
void job_engine_put(struct job *j);
/*
 * The job is about to wait without its slot (a grace period, a sleep):
 * its stage may start another worker for the steps left (run.c).
 */
void job_waits(struct job *j);
/*
 * Has an engine call of this job run past its deadline (j->tempfail)?
 * A job that sees it makes no more calls it can do without.
 */
int job_engine_stalled(struct job *j);
/*
 * The X-Registry-Auth value for image's registry from kom.toml's
 * [[docker_registry]] account (Komodo's lookup by domain and account),
 * fresh, for the caller to wipe (secrets_wipe); NULL when account is
 * empty, not declared for that domain, or has no token (config.json may
 * still have credentials: the engine calls try it first).
 */
char *job_registry_auth(struct job *j, const char *image,
    const char *account);
/*
 * Remove a container (forced) through j->d, at most MAX_REMOVALS at once
 * in the whole run; one already gone is no error.  0, or -1 with *e.
 */
int job_remove_container(struct job *j, const char *id,
    struct docker_error *e);
/*
 * The context of a run: defaults, paths, and from kom.toml this host's
 * name and the secrets directory.  0, or after a message 78 (kom.toml).
 */
int exec_ctx_init(struct exec_ctx *x);
void exec_ctx_free(struct exec_ctx *x);

/*
 * After a deploy or ensure of a deployment or stack, or the record step
 * of a build (the build itself): a failure queues a
 * DeploymentDeployFailed / StackDeployFailed / BuildFailed alert
 * (masked, with the log lines the step kept; not when a rollback raised
 * DeploymentRollback), the next success its resolve.  Marker:
 * STATE/deploy_failed/TYPE/NAME.
 */
void job_alert_deploy(struct job *j);

/* job.c: a job's configs */
/*
 * A copy of config with [[VAR]] expanded in the listed fields (unless
 * skip_secret_interp), or NULL after job_fail.  Secrets used go to j->vars.
 */
json_t *config_interpolated(struct job *j, const json_t *config,
    const char *const *fields);

#endif
