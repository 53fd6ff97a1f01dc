/*
 * exec.h: what the parts of kom-exec share (not a library interface).
 *
 * kom-exec.c	main, dispatch, lock
 * apply.c	reads kom-plan's steps, runs them stage by stage
 * deploy.c	deployments: health-gated replacement with rollback
 * stack.c	stacks, through lib/compose
 * status.c	kom-exec status: live state and drift
 * vars.c	[[VAR]] interpolation with secrets from files, masking
 */
#ifndef KOM_EXEC_H
#define KOM_EXEC_H

#include <pthread.h>
#include <jansson.h>

#include "buf.h"
#include "paths.h"

struct docker;

struct exec_ctx {
	struct kom_paths paths;
	int dry_run;		/* -n */
	int jobs;		/* -j */
	char *server;		/* this host's name (config_server) */
	char *secrets_dir;	/* kom.toml's secrets_dir, or NULL */
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
	pthread_mutex_t hist_mu;	/* history appends (fsync), noops */
	json_t *noops;		/* the stage's noop history entries */
};

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
};

enum { JOB_OK, JOB_FAILED, JOB_SKIPPED, JOB_NOOP };

/* apply.c */
int apply_main(struct exec_ctx *x, const char *file, int nowait);
/* Open an engine handle; -1 after a message. */
int engine_open(struct exec_ctx *x, struct docker **d);
/*
 * Take an engine slot and a handle into j->d (blocks while -j steps hold
 * one); -1 after a message when no handle can be opened.  Without a pool
 * (x->pooled 0) j->d is the job's own handle: 0 when it has one.
 */
int job_engine_get(struct job *j);
/* Give the slot and the handle back (j->d becomes NULL); no-op unpooled. */
void job_engine_put(struct job *j);
/* Write the step's result record (masked). */
int write_result(struct exec_ctx *x, struct job *j, long id,
    const char *reason, long ms);
/* Run one job (also used by the lifecycle commands). */
void job_run(struct job *j);
void job_init(struct job *j, struct exec_ctx *x, const char *action,
    const char *type, const char *name, json_t *step, json_t *resource);
void job_free(struct job *j);
void job_fail(struct job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append a carried-out step to the history log (masked). */
void job_history(struct job *j, long id, const char *reason, long ms);
const char *job_status_name(int status);

/* deploy.c */
void deploy_deployment(struct job *j, int ensure);
void destroy_deployment(struct job *j);
void lifecycle_deployment(struct job *j);
/* The container name of a deployment resource (custom_name or name). */
char *deployment_container_name(const json_t *resource);
/* Write a DeploymentRollback alert into the spool. */
void alert_rollback(struct job *j, const char *from, const char *to,
    const char *error, json_t *log);

/*
 * A copy of config with [[VAR]] expanded in the listed fields (unless
 * skip_secret_interp), or NULL after job_fail.  Secrets used go to j->vars.
 */
json_t *config_interpolated(struct job *j, const json_t *config,
    const char *const *fields);

/* The status record of an applied deployment (j->resource, j->d). */
json_t *deployment_status(struct job *j);

/* stack.c */
json_t *stack_status(struct job *j);
void deploy_stack(struct job *j, int ensure);
void destroy_stack(struct job *j);
void lifecycle_stack(struct job *j);
/* The stack's state from its containers (komodo-behaviour.md 5.3). */
const char *stack_live_state(struct docker *d, const char *project,
    json_t **containers);

/* status.c */
int status_main(struct exec_ctx *x, int human);

/* vars.c: interpolation with the state dir's variables and secret files. */
struct vars;
struct vars *vars_load(const char *statedir, const char *secrets_dir);
void vars_free(struct vars *v);
/*
 * Expand [[NAME]] in every string of the JSON value in place (the keys of
 * the listed fields only; see deploy.c and stack.c).  Returns 0, or -1
 * with err set ("undefined variable 'X'").
 */
int vars_expand_str(struct vars *v, const char *in, char **out,
    struct buf *err);
/* The names substituted so far ("[[A]], [[B]]", fresh), or NULL. */
char *vars_names_used(const struct vars *v);
/* Replace every secret value used so far by <NAME>, in a fresh string. */
char *vars_mask(struct vars *v, const char *s);
/* Mask every string inside a JSON value, in place. */
void vars_mask_json(struct vars *v, json_t *val);

#endif
