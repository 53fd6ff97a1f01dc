/*
 * plan_proc: procedures (plan.h: plan_procedure): a procedure's enabled
 * stages in order, Batch* executions expanded by pattern, RunProcedure
 * inline.  The plan itself is plan.c's (plan_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pattern.h"
#include "plan.h"
#include "plan_int.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/* ---- procedures ---- */

struct pstep {
	const char *action, *type, *name, *reason;	/* arena or static */
	long node;
	json_t *execution;
	int stage;
	size_t seq;		/* order of expansion, for a stable sort */
};

struct pctx {
	struct plan *p;
	const char *statedir;
	struct pstep *steps;
	size_t n, cap;
	size_t *chain;		/* procedure nodes being expanded */
	size_t depth, capchain;
	struct buf *err;
	int failed;
};

/* Batch executions: what they match and the single one they expand to. */
static const struct batch {
	const char *batch, *single, *type;
} batches[] = {
	{ "BatchDeploy", "Deploy", "deployment" },
	{ "BatchDestroyDeployment", "DestroyDeployment", "deployment" },
	{ "BatchDeployStack", "DeployStack", "stack" },
	{ "BatchDeployStackIfChanged", "DeployStackIfChanged", "stack" },
	{ "BatchPullStack", "PullStack", "stack" },
	{ "BatchDestroyStack", "DestroyStack", "stack" },
	{ "BatchRunBuild", "RunBuild", "build" },
	{ "BatchCloneRepo", "CloneRepo", "repo" },
	{ "BatchPullRepo", "PullRepo", "repo" },
	{ "BatchBuildRepo", "BuildRepo", "repo" },
	{ "BatchRunProcedure", "RunProcedure", "procedure" },
	{ "BatchRunAction", "RunAction", "action" },
};

/* Single executions kom-exec carries out itself. */
static const struct single {
	const char *exec, *action, *type;
} singles[] = {
	{ "Deploy", "deploy", "deployment" },
	{ "DeployStack", "deploy", "stack" },
	{ "DeployStackIfChanged", "deploy", "stack" },
	{ "StartDeployment", "start", "deployment" },
	{ "StartStack", "start", "stack" },
	{ "StopDeployment", "stop", "deployment" },
	{ "StopStack", "stop", "stack" },
	{ "RestartDeployment", "restart", "deployment" },
	{ "RestartStack", "restart", "stack" },
	{ "PauseDeployment", "pause", "deployment" },
	{ "PauseStack", "pause", "stack" },
	{ "UnpauseDeployment", "unpause", "deployment" },
	{ "UnpauseStack", "unpause", "stack" },
	{ "PullDeployment", "pull", "deployment" },
	{ "PullStack", "pull", "stack" },
	{ "DestroyDeployment", "destroy", "deployment" },
	{ "DestroyStack", "destroy", "stack" },
};

/*
 * The other executions kom-exec runs (cmd/kom-exec/run.c, executions[]):
 * action "execution", the target named by param (none: the procedure).
 * Any execution in neither table is refused here, at plan time.
 */
static const struct other {
	const char *exec, *param, *type;
} others[] = {
	{ "RunBuild", "build", "build" },
	{ "CloneRepo", "repo", "repo" },
	{ "PullRepo", "repo", "repo" },
	{ "RunSync", "sync", "resource_sync" },
	{ "SendAlert", NULL, NULL },
	{ "GlobalAutoUpdate", NULL, NULL },
	{ "StartContainer", "server", "server" },
	{ "RestartContainer", "server", "server" },
	{ "PauseContainer", "server", "server" },
	{ "UnpauseContainer", "server", "server" },
	{ "StopContainer", "server", "server" },
	{ "DestroyContainer", "server", "server" },
};

/* Load statedir/resources/<type>/ once, as nodes the stream lacks.  A
 * state dir that cannot be read fails the plan (after state's message). */
static void
load_state_type(struct pctx *c, const char *type)
{
	struct plan *p = c->p;
	int type_rank = plan_type_order(type);
	struct buf junk = BUF_INIT;
	json_t *recs, *rec;
	char *path;
	size_t i;

	if (!c->statedir || type_rank >= (int)KOM_NELEM(p->state_loaded) ||
	    p->state_loaded[type_rank])
		return;
	p->state_loaded[type_rank] = 1;
	if (state_load_type(c->statedir, type, &recs) < 0) {
		plan_errf(c->err, "%s: the applied %s resources cannot be read",
		    c->statedir, type);
		c->failed = 1;
		return;
	}
	json_array_foreach(recs, i, rec) {
		if (!json_is_object(rec) || !plan_jstr(rec, "name") ||
		    !plan_jstr(rec, "type") || strcmp(plan_jstr(rec, "type"), type) != 0)
			continue;
		json_object_del(rec, "applied_at");
		json_object_del(rec, "exec");
		path = state_path(c->statedir, type, plan_jstr(rec, "name"));
		plan_add_json(p, rec, path ? path : c->statedir, 1, &junk);
		free(path);
	}
	json_decref(recs);
	buf_free(&junk);
}

/* The declared (stream, else state dir) resource, or NULL. */
static struct node *
target(struct pctx *c, const char *type, const char *name)
{
	long i;

	load_state_type(c, type);
	i = plan_find(c->p, type, name);
	if (i < 0 || c->p->nodes[i].op == OP_DELETE)
		return NULL;
	return &c->p->nodes[i];
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int expand_procedure(struct pctx *c, struct node *proc, int stage);

static void
chain_text(struct pctx *c, struct buf *b)
{
	size_t i;

	buf_adds(b, "procedure ");
	for (i = 0; i < c->depth; i++)
		buf_printf(b, "%s'%s'", i ? " > " : "",
		    c->p->nodes[c->chain[i]].name);
}

/* One single execution of procedure stage sname at stage; its width. */
static int
add_execution(struct pctx *c, const char *sname, const char *etype,
    json_t *params, const char *batch_text, int stage)
{
	const struct single *s = NULL;
	struct node *t = NULL;
	const char *action = "execution", *type = NULL, *name = NULL, *v;
	struct buf r = BUF_INIT;
	int unknown = 0;
	json_t *empty, *exec;
	size_t i;

	if (strcmp(etype, "None") == 0)
		return 0;
	if (strcmp(etype, "RunProcedure") == 0) {
		v = plan_jstr(params, "procedure");
		if (!v || !(t = target(c, "procedure", v))) {
			plan_errf(c->err, "%s: procedure '%s' runs unknown "
			    "procedure '%s'", plan_node_src(&c->p->nodes[
			    c->chain[c->depth - 1]]), c->p->nodes[
			    c->chain[c->depth - 1]].name, v ? v : "");
			c->failed = 1;
			return 0;
		}
		return expand_procedure(c, t, stage);
	}
	for (i = 0; i < KOM_NELEM(singles); i++)
		if (strcmp(etype, singles[i].exec) == 0)
			s = &singles[i];
	if (s) {
		action = s->action;
		type = s->type;
		name = plan_jstr(params, s->type);
	} else if (strcmp(etype, "Sleep") == 0) {
		action = "sleep";
	} else {
		const struct other *o = NULL;

		for (i = 0; i < KOM_NELEM(others); i++)
			if (strcmp(etype, others[i].exec) == 0)
				o = &others[i];
		if (!o) {
			struct buf b = BUF_INIT;

			chain_text(c, &b);
			plan_errf(c->err, "%s: %s, stage '%s': kom-exec cannot "
			    "run %s executions%s%s (kom-plan(1) lists those it "
			    "runs)", plan_node_src(&c->p->nodes[c->chain[
			    c->depth - 1]]), b.s, sname, etype, batch_text ?
			    ", from " : "", batch_text ? batch_text : "");
			buf_free(&b);
			c->failed = 1;
			return 0;
		}
		if (o->param && !(name = plan_jstr(params, o->param))) {
			plan_errf(c->err, "%s: procedure '%s', stage '%s': %s "
			    "names no %s", plan_node_src(&c->p->nodes[c->chain[
			    c->depth - 1]]), c->p->nodes[c->chain[c->depth -
			    1]].name, sname, etype, o->param);
			c->failed = 1;
			return 0;
		}
		type = o->type;
	}
	if (name) {
		t = target(c, type, name);
		/* a server need not be declared (this host), as kom-sync;
		 * a sync is kom.toml's [[resource_sync]], for kom-exec */
		unknown = !t && strcmp(type, "server") != 0 &&
		    strcmp(type, "resource_sync") != 0;
	} else {
		type = "procedure";
		name = c->p->nodes[c->chain[c->depth - 1]].name;
	}
	chain_text(c, &r);
	buf_printf(&r, ", stage '%s': %s", sname, batch_text ? batch_text :
	    etype);
	if (strcmp(etype, "DeployStackIfChanged") == 0)
		buf_adds(&r, " (deploys only if the stack changed; kom-exec "
		    "decides)");
	/* kom-sync only warned: the target may have come from elsewhere;
	 * still unknown now, the step fails with the reason */
	if (unknown) {
		buf_printf(&r, "; refused: %s '%s' is neither in the plan's "
		    "input nor in the state dir", type, name);
		action = "refuse";
	}
	if (c->n >= PLAN_MAX_PROC_STEPS) {
		if (!c->failed)
			plan_errf(c->err, "procedure '%s' expands to more than %d "
			    "steps", c->p->nodes[c->chain[0]].name,
			    PLAN_MAX_PROC_STEPS);
		c->failed = 1;
		buf_free(&r);
		return 0;
	}
	empty = json_object();
	exec = json_pack("{s:s,s:O}", "type", etype, "params", params ?
	    params : empty);
	json_decref(empty);
	KOM_GROW(c->steps, c->n + 1, c->cap);
	c->steps[c->n] = (struct pstep){ action, plan_arena_str(c->p, type,
	    strlen(type)), plan_arena_str(c->p, name, strlen(name)),
	    plan_arena_str(c->p, r.s, r.len), t ? (long)(t - c->p->nodes) : -1,
	    exec, stage, c->n };
	c->n++;
	buf_free(&r);
	return 1;
}

/* A Batch* execution: one single execution per matching name. */
static int
add_batch(struct pctx *c, const char *sname, const struct batch *b,
    json_t *params, int stage)
{
	const char *spec = plan_jstr(params, "pattern");
	struct pattern *pat;
	char *perr, *text;
	const char **names = NULL;
	size_t n = 0, cap = 0, i;
	int w = 0, wi;

	if (!spec)
		spec = "";
	/* refused as a whole, even when nothing matches yet */
	if (strcmp(b->single, "RunAction") == 0) {
		struct buf t = BUF_INIT;

		buf_printf(&t, "%s '%s'", b->batch, spec);
		buf_replace_all(&t, "\n", ", ");
		add_execution(c, sname, b->single, params, t.s, stage);
		buf_free(&t);
		return 0;
	}
	if (!(pat = pattern_new(spec, &perr))) {
		plan_errf(c->err, "%s: procedure '%s', stage '%s': %s: %s",
		    plan_node_src(&c->p->nodes[c->chain[c->depth - 1]]),
		    c->p->nodes[c->chain[c->depth - 1]].name, sname, b->batch,
		    perr);
		free(perr);
		c->failed = 1;
		return 0;
	}
	load_state_type(c, b->type);
	for (i = 0; i < c->p->n; i++) {
		struct node *nd = &c->p->nodes[i];

		if (nd->op != OP_DELETE && strcmp(nd->type, b->type) == 0 &&
		    pattern_match(pat, nd->name)) {
			KOM_GROW(names, n + 1, cap);
			names[n++] = nd->name;
		}
	}
	pattern_free(pat);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	{
		struct buf t = BUF_INIT;
		char **items;
		size_t ni = pattern_split(spec, &items);

		buf_printf(&t, "%s '", b->batch);
		for (i = 0; i < ni; i++) {
			buf_printf(&t, "%s%s", i ? ", " : "", items[i]);
			free(items[i]);
		}
		free(items);
		buf_addc(&t, '\'');
		text = buf_release(&t);
	}
	for (i = 0; i < n && !c->failed; i++) {
		json_t *sp = json_object();

		json_object_set_new(sp, b->type, json_string(names[i]));
		if (strcmp(b->type, "stack") == 0 &&
		    strcmp(b->single, "DeployStackIfChanged") != 0)
			json_object_set_new(sp, "services", json_array());
		if (strcmp(b->single, "DestroyStack") == 0)
			json_object_set_new(sp, "remove_orphans", json_false());
		wi = add_execution(c, sname, b->single, sp, text, stage);
		if (wi > w)
			w = wi;
		json_decref(sp);
	}
	free(text);
	free(names);
	return w;
}

/* Expand proc's stages from stage on; returns how many stages it used. */
static int
expand_procedure(struct pctx *c, struct node *proc, int stage)
{
	json_t *stages, *st, *ex, *e, *execs;
	size_t i, j, k;
	int used = 0, w, wi;
	char sbuf[32];

	for (k = 0; k < c->depth; k++)
		if (&c->p->nodes[c->chain[k]] == proc) {
			struct buf b = BUF_INIT;

			buf_adds(&b, "cycle in procedures: ");
			for (; k < c->depth; k++) {
				struct node *n = &c->p->nodes[c->chain[k]];

				buf_printf(&b, "procedure '%s' (%s) -> ",
				    n->name, plan_node_src(n));
			}
			buf_printf(&b, "procedure '%s'", proc->name);
			plan_errf(c->err, "%s", b.s);
			buf_free(&b);
			c->failed = 1;
			return 0;
		}
	KOM_GROW(c->chain, c->depth + 1, c->capchain);
	c->chain[c->depth++] = (size_t)(proc - c->p->nodes);
	stages = json_object_get(json_object_get(plan_node_rec(c->p,
	    (size_t)(proc - c->p->nodes)), "config"), "stages");
	json_array_foreach(stages, i, st) {
		const char *sname = plan_jstr(st, "name");

		if (json_is_false(json_object_get(st, "enabled")))
			continue;
		if (!sname) {
			snprintf(sbuf, sizeof(sbuf), "#%zu", i + 1);
			sname = sbuf;
		}
		w = 0;
		execs = json_object_get(st, "executions");
		json_array_foreach(execs, j, e) {
			const char *et;
			json_t *params;
			size_t b;

			if (json_is_false(json_object_get(e, "enabled")))
				continue;
			ex = json_object_get(e, "execution");
			if (!(et = plan_jstr(ex, "type")))
				continue;
			params = json_object_get(ex, "params");
			for (b = 0; b < KOM_NELEM(batches); b++)
				if (strcmp(et, batches[b].batch) == 0)
					break;
			if (b < KOM_NELEM(batches))
				wi = add_batch(c, sname, &batches[b], params,
				    stage + used);
			else
				wi = add_execution(c, sname, et, params, NULL,
				    stage + used);
			if (wi > w)
				w = wi;
			if (c->failed)
				break;
		}
		used += w;
		if (c->failed)
			break;
	}
	c->depth--;
	return used;
}

static int
pstep_cmp(const void *a, const void *b)
{
	const struct pstep *x = a, *y = b;

	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int
plan_procedure(struct plan *p, const char *name, const char *statedir,
    struct buf *err)
{
	struct pctx c = { .p = p, .statedir = statedir, .err = err };
	struct node *proc;
	size_t i, prev_b = 0, prev_e = 0, cur_b = 0;
	int stage;

	if (!(proc = target(&c, "procedure", name))) {
		plan_errf(err, "unknown procedure '%s'", name);
		return -1;
	}
	expand_procedure(&c, proc, 1);
	free(c.chain);
	if (c.failed) {
		for (i = 0; i < c.n; i++)
			json_decref(c.steps[i].execution);
		free(c.steps);
		return -1;
	}
	if (c.n > 1)
		qsort(c.steps, c.n, sizeof(*c.steps), pstep_cmp);
	stage = 0;
	for (i = 0; i < c.n; i++) {
		struct pstep *s = &c.steps[i];
		size_t k;

		if (s->stage != stage) {
			prev_b = cur_b;
			prev_e = i;
			cur_b = i;
			stage = s->stage;
		}
		plan_push_step(p, (long)i + 1, stage, s->action, s->type, s->name,
		    s->reason, s->node, s->execution);
		for (k = prev_b; k < prev_e; k++) {
			KOM_GROW(p->needs, p->nneeds + 1, p->capneeds);
			p->needs[p->nneeds++] = (long)k + 1;
			p->steps[p->nsteps - 1].nneeds++;
		}
		p->stages = stage;
	}
	free(c.steps);
	return 0;
}
