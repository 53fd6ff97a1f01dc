/*
 * plan: kom-plan's engine.  From kom-sync's resource records (and, when
 * given, kom-exec's live status records) decide which steps kom-exec runs
 * and in which stages (kom-plan(1), kom-json(5) "step").
 *
 *	struct plan *p = plan_new();
 *	plan_add_resource(p, rec, "in.jsonl:3", &err);	   for each record
 *	plan_add_status(p, st, "status.jsonl:1", &err);	   with -l
 *	plan_build(p, &err)  or  plan_procedure(p, "nightly", statedir, &err)
 *	steps = plan_steps(p, &n);  ...  plan_free(p);
 *
 * The deploy set follows Komodo's sync rules (deploy on creation, config
 * changed, not running, new build version, parent deploying), ordered by
 * `after` with Kahn's algorithm into the fewest stages.  Unlike Komodo, a
 * cycle in `after` is an error that names every member, a name in `after`
 * that is both a deployment and a stack is an error, and a dependency is
 * typed by what is declared.
 *
 * Errors: functions that can fail return -1 and append one message per
 * line ("FILE:LINE: message" where a place is known, newline-terminated)
 * to err; the caller prints them.  Nothing is printed by this module.
 *
 * Resources are kept as text, not jansson trees: each record's members
 * other than kind/op/changes/deploy_changes are copied (compact, in input
 * order) into the plan's arena and spliced into the steps that carry it;
 * a record is parsed with jansson only when its config is read (builds,
 * procedures).  This is what makes 100,000 resources plan in well under a
 * second (bench/plan).
 *
 * Ownership: plan_add_resource and plan_add_skimmed copy what they keep
 * (the caller keeps the record or text); plan_add_status takes a new
 * reference to the record.  plan_steps returns records owned by the plan,
 * valid until plan_free.  No globals: plans are independent.
 */
#ifndef KOM_PLAN_H
#define KOM_PLAN_H

#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#include "buf.h"
#include "jsonskim.h"

struct plan;

/* Cap on the steps a procedure may expand to (nested RunProcedure). */
#define PLAN_MAX_PROC_STEPS 100000

struct plan *plan_new(void);
void plan_free(struct plan *p);

/*
 * Add a resource record.  where names it for messages when it has no
 * "source" of its own.  Returns -1 for a record without string "type" and
 * "name", a bad "op", or a second record of the same type and name.
 */
int plan_add_resource(struct plan *p, json_t *rec, const char *where,
    struct buf *err);

/*
 * Add a resource record from its text, skimmed by the caller
 * (jsonskim_object(sk, text, len) returned 0): the fast way for a whole
 * stream.  The plan copies what it keeps.  Errors as plan_add_resource.
 */
int plan_add_skimmed(struct plan *p, const char *text,
    const struct jsonskim *sk, const char *where, struct buf *err);

/* Size the plan's tables for n resources (optional, saves regrowing). */
void plan_reserve(struct plan *p, size_t n);

/*
 * Add a live status record ({"kind":"status","type":..,"name":..,
 * "state":..,"drift":..,"image":..}).  The first call switches the plan
 * to live mode: unchanged deploy=true resources are then checked against
 * their status instead of becoming "ensure" steps; a resource with no
 * status record counts as not deployed.
 */
int plan_add_status(struct plan *p, json_t *st, const char *where,
    struct buf *err);

/* Switch to live mode without any status record (an empty status stream). */
void plan_set_live(struct plan *p);

/*
 * Decide and order the steps of an apply.  Returns 0, or -1 when `after`
 * names something unknown or ambiguous or has a cycle (every cycle found
 * is reported, each on its own line, its members in order).
 */
int plan_build(struct plan *p, struct buf *err);

/*
 * The `after` check of plan_build alone, for kom-sync validate: every
 * cycle among the deploy=true (and deleted) deployments and stacks is
 * reported, each on its own line, and so is a name that is both a
 * deployment and a stack; names of neither are left to the caller (they
 * may be applied already).  Returns 0, or -1.  The plan can still be
 * built afterwards.
 */
int plan_check_after(struct plan *p, struct buf *err);

/*
 * The steps to run procedure name: its enabled stages in order, their
 * enabled executions in parallel, Batch* executions expanded against the
 * resource names of the stream and of statedir/resources/TYPE/NAME.json
 * (statedir may be NULL), RunProcedure expanded inline.  Returns 0, or -1
 * for an unknown procedure, recursion (named as a chain), an invalid
 * regex in a pattern, or more than PLAN_MAX_PROC_STEPS steps.
 */
int plan_procedure(struct plan *p, const char *name, const char *statedir,
    struct buf *err);

/*
 * Write the steps after plan_build or plan_procedure, in id order, as JSON
 * lines on fp (what plan_steps returns, written compactly, in chunks of a
 * MiB) and set *n to their number.  Returns 0, or -1 on a write error.
 */
int plan_write(const struct plan *p, FILE *fp, size_t *n);

/*
 * The same steps as jansson records (built on the first call; for -H, -g
 * and tests).
 */
json_t *const *plan_steps(struct plan *p, size_t *n);

/* The number of stages (the largest "stage" of any step, 0 for none). */
int plan_stages(const struct plan *p);

/* Komodo's apply order of a type (§2.5), 0-based; unknown types sort last. */
int plan_type_order(const char *type);

#endif
