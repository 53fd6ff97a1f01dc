/*
 * plan_int: what the files of the plan module share (plan.c: records,
 * deploy decisions and staging; plan_proc.c: procedures and batch
 * patterns).  Not for use outside lib/plan*.c.
 */
#ifndef KOM_PLAN_INT_H
#define KOM_PLAN_INT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "buf.h"
#include "jsonskim.h"

/* A record's "op". */
enum { OP_KEEP, OP_CREATE, OP_UPDATE, OP_DELETE };
/* What a resource runs: nothing, a container (deployment), a compose
 * project (stack).  Only what runs has `after` and deploy decisions. */
enum { RUNS_NOTHING, RUNS_DEPLOYMENT, RUNS_STACK };
/* The decision for a deployment or stack, weakest first. */
enum { DEC_NONE, DEC_HOLD, DEC_WAIT, DEC_ENSURE, DEC_DEPLOY, DEC_RESTART };
/* The kinds of step an apply plan sorts (STEP_DEPLOY: deploy or ensure). */
enum { STEP_RECORD, STEP_DESTROY, STEP_DEPLOY, STEP_REFUSE };

#define NO_ID (-1L)
#define ARENA_BLOCK (1u << 20)
#define OUT_CHUNK (1u << 20)

/*
 * A resource.  Its strings live in the plan's arena; its record is kept
 * as the JSON text a step carries ("resource"), parsed with jansson only
 * when something in its config is needed (procedures, builds).
 */
struct node {
	const char *type, *name, *src, *after_src;
	const char *res;	/* record minus kind/op/changes/deploy_changes */
	size_t reslen;
	size_t aoff, alen;	/* the "after" value inside res; alen 0: none */
	const char *changes;	/* the "changes" text of an update, or NULL */
	size_t chlen;
	const char *dchanges;	/* an update's deploy_changes, ", "-joined */
	json_t *rec;		/* res parsed, on demand (node_rec) */
	int type_rank;		/* Komodo's type order (plan_type_order) */
	int op;			/* OP_* */
	int runs;		/* RUNS_* */
	int deploy, from_state;
	/* its parents (resolved `after`): p->par[parents_at ..] */
	size_t parents_at, nparents;
	/* its children: p->chl[children_at ..] */
	size_t children_at, nchildren;
	int decision;		/* DEC_* */
	const char *reason;	/* of the deploy/ensure/destroy step */
	const char *refusal;	/* why kom cannot deploy it (support.h), or
				 * NULL: its step is a "refuse" */
	const char *rec_reason;	/* of the record/remove step, when one */
	int level;
	size_t built_by;	/* the build node (index + 1) whose record step
				 * builds what its deploy runs; 0: none */
	long dep_id, rec_id;
	long mark;
};

struct status {
	json_t *rec;
	const char *type, *name;
};

/* Open addressing, linear probing, keyed by (type, name). */
struct hslot {
	uint64_t h;
	size_t v;		/* index + 1; 0 = empty */
};

struct hmap {
	struct hslot *s;
	size_t cap, n;
};

/* A step, written out by plan_write (and as jansson by plan_steps). */
struct step {
	long id;
	int stage;
	const char *action, *type, *name, *reason;	/* arena or static */
	size_t noff, nneeds;	/* its needs in p->needs */
	long node;		/* the resource it carries, or -1 */
	json_t *execution;	/* procedure steps; owned */
};

struct ablock {
	struct ablock *next;
};

struct plan {
	struct node *nodes;
	size_t n, cap;
	struct hmap idx;
	struct status *sts;
	size_t nst, capst;
	struct hmap stidx;
	int live;
	size_t *par, *chl;
	struct step *steps;
	size_t nsteps, capsteps;
	long *needs;
	size_t nneeds, capneeds;
	json_t **jsteps;	/* plan_steps' records, built on demand */
	int stages;
	int state_loaded[16];
	struct ablock *blocks;	/* the arena: strings of nodes and steps */
	char *ap;
	size_t aleft;
	struct jsonskim sk;	/* scratch for plan_add_resource */
	/* scratch: a record's members being kept (add_text); a member key
	 * decoded, or a reason being written; a JSON string decoded, or
	 * strings joined */
	struct buf kept_text, key_or_reason, decoded;
};

/* Append one message line to err (printf format, newline added). */
void plan_errf(struct buf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A copy of s[0..n) in the plan's arena, NUL-terminated. */
const char *plan_arena_str(struct plan *p, const char *s, size_t n);
/* o's string member key, or NULL. */
const char *plan_jstr(const json_t *o, const char *key);
/* Where a node was declared, for messages. */
const char *plan_node_src(const struct node *n);
/* Node i's record parsed with jansson (owned by the node), or NULL. */
json_t *plan_node_rec(const struct plan *p, size_t i);
/* Add a jansson record (from_state: read from the state dir). */
int plan_add_json(struct plan *p, const json_t *rec, const char *where,
    int from_state, struct buf *err);
/* The node of type and name, or -1. */
long plan_find(const struct plan *p, const char *type, const char *name);
/* Append a step (strings borrowed: arena or static; execution owned). */
void plan_push_step(struct plan *p, long id, int stage, const char *action,
    const char *type, const char *name, const char *reason, long node,
    json_t *execution);

#endif
