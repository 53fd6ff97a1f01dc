#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "pattern.h"
#include "plan.h"
#include "util.h"
#include "banned.h"

enum { OP_KEEP, OP_CREATE, OP_UPDATE, OP_DELETE };
enum { CT_OTHER, CT_DEPLOYMENT, CT_STACK };
/* What a deployment or stack does, weakest first. */
enum { DEC_NONE, DEC_HOLD, DEC_WAIT, DEC_ENSURE, DEC_DEPLOY };
enum { SK_RECORD, SK_DESTROY, SK_DEPLOY };

#define NO_ID (-1L)
#define STATE_MAX_FILE (16u << 20)

struct node {
	json_t *rec;
	const char *type, *name, *src, *after_src;
	int tix, op, ctype, deploy, from_state;
	size_t eoff, ecnt;	/* parents (resolved `after`) in p->par */
	size_t coff, ccnt;	/* children in p->chl */
	int dec;
	char *reason;		/* of the deploy/ensure/destroy step */
	char *rec_reason;	/* of the record/remove step, when one */
	int level;
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

struct sstep {
	int stage, tix, sub, kind;
	const char *name;
	size_t node;
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
	json_t **steps;
	size_t nsteps, capsteps;
	int stages;
	int state_loaded[16];
};

static const char *const type_names[] = {
	"variable", "user_group", "server", "alerter", "action", "swarm",
	"builder", "repo", "build", "stack", "resource_sync", "deployment",
	"procedure"
};

int
plan_type_order(const char *type)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(type_names); i++)
		if (strcmp(type, type_names[i]) == 0)
			return (int)i;
	return (int)KOM_NELEM(type_names);
}

/* ---- hash ---- */

static uint64_t
hash2(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h ^ (h >> 29);
}

typedef int (*hmap_eq)(const struct plan *, size_t, const char *,
    const char *);

static int
node_eq(const struct plan *p, size_t i, const char *type, const char *name)
{
	return strcmp(p->nodes[i].name, name) == 0 &&
	    strcmp(p->nodes[i].type, type) == 0;
}

static int
status_eq(const struct plan *p, size_t i, const char *type, const char *name)
{
	return strcmp(p->sts[i].name, name) == 0 &&
	    strcmp(p->sts[i].type, type) == 0;
}

/* The slot for (type, name): the one holding it, or the empty one. */
static struct hslot *
hmap_slot(const struct plan *p, const struct hmap *m, hmap_eq eq,
    const char *type, const char *name, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;; i = (i + 1) & (m->cap - 1))
		if (!m->s[i].v || (m->s[i].h == h &&
		    eq(p, m->s[i].v - 1, type, name)))
			return &m->s[i];
}

static long
hmap_get(const struct plan *p, const struct hmap *m, hmap_eq eq,
    const char *type, const char *name)
{
	struct hslot *s;

	if (!m->cap)
		return -1;
	s = hmap_slot(p, m, eq, type, name, hash2(type, name));
	return s->v ? (long)(s->v - 1) : -1;
}

/* Insert v for (type, name); returns the existing index when present. */
static long
hmap_put(const struct plan *p, struct hmap *m, hmap_eq eq,
    const char *type, const char *name, size_t v)
{
	uint64_t h = hash2(type, name);
	struct hslot *s, *old;
	size_t i, ocap;

	if (st_mul(m->n + 1, 2) > m->cap) {
		old = m->s;
		ocap = m->cap;
		m->cap = ocap ? st_mul(ocap, 2) : 64;
		m->s = xcalloc(m->cap, sizeof(*m->s));
		for (i = 0; i < ocap; i++) {
			size_t j;

			if (!old[i].v)
				continue;
			for (j = (size_t)old[i].h & (m->cap - 1); m->s[j].v;
			    j = (j + 1) & (m->cap - 1))
				;
			m->s[j] = old[i];
		}
		free(old);
	}
	s = hmap_slot(p, m, eq, type, name, h);
	if (s->v)
		return (long)(s->v - 1);
	s->h = h;
	s->v = v + 1;
	m->n++;
	return -1;
}

/* ---- records ---- */

static void
errf(struct buf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
errf(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addc(err, '\n');
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct plan *
plan_new(void)
{
	return xcalloc(1, sizeof(struct plan));
}

void
plan_free(struct plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		json_decref(p->nodes[i].rec);
		free(p->nodes[i].reason);
		free(p->nodes[i].rec_reason);
	}
	for (i = 0; i < p->nst; i++)
		json_decref(p->sts[i].rec);
	for (i = 0; i < p->nsteps; i++)
		json_decref(p->steps[i]);
	free(p->nodes);
	free(p->sts);
	free(p->idx.s);
	free(p->stidx.s);
	free(p->par);
	free(p->chl);
	free(p->steps);
	free(p);
}

static int
ctype_of(const char *type)
{
	if (strcmp(type, "deployment") == 0)
		return CT_DEPLOYMENT;
	if (strcmp(type, "stack") == 0)
		return CT_STACK;
	return CT_OTHER;
}

/* "deployment 'web' (web.toml:3)": where the resource is declared. */
static const char *
node_src(const struct node *n)
{
	return n->src ? n->src : "?";
}

static const char *
node_after_src(const struct node *n)
{
	return n->after_src ? n->after_src : node_src(n);
}

static int
add_node(struct plan *p, json_t *rec, const char *where, int from_state,
    struct buf *err)
{
	struct node *n;
	const char *type = jstr(rec, "type"), *name = jstr(rec, "name");
	const char *op = jstr(rec, "op");
	long dup;
	int o;

	if (!type || !name || !*type || !*name) {
		errf(err, "%s: resource record without a \"type\" and "
		    "\"name\"", where);
		return -1;
	}
	if (!op || strcmp(op, "keep") == 0)
		o = OP_KEEP;
	else if (strcmp(op, "create") == 0)
		o = OP_CREATE;
	else if (strcmp(op, "update") == 0)
		o = OP_UPDATE;
	else if (strcmp(op, "delete") == 0)
		o = OP_DELETE;
	else {
		errf(err, "%s: %s '%s' has an unknown op '%s'", where, type,
		    name, op);
		return -1;
	}
	KOM_GROW(p->nodes, p->n + 1, p->cap);
	n = &p->nodes[p->n];
	memset(n, 0, sizeof(*n));
	n->rec = json_incref(rec);
	n->type = type;
	n->name = name;
	n->src = jstr(rec, "source") ? jstr(rec, "source") : where;
	n->after_src = jstr(rec, "after_source");
	n->tix = plan_type_order(type);
	n->op = o;
	n->ctype = ctype_of(type);
	n->deploy = json_is_true(json_object_get(rec, "deploy"));
	n->from_state = from_state;
	n->dep_id = n->rec_id = NO_ID;
	dup = hmap_put(p, &p->idx, node_eq, type, name, p->n);
	if (dup >= 0) {
		if (!from_state)
			errf(err, "%s: duplicate %s '%s' (first at %s)",
			    node_src(n), type, name,
			    node_src(&p->nodes[dup]));
		json_decref(n->rec);
		return from_state ? 0 : -1;
	}
	p->n++;
	return 0;
}

int
plan_add_resource(struct plan *p, json_t *rec, const char *where,
    struct buf *err)
{
	return add_node(p, rec, where, 0, err);
}

int
plan_add_status(struct plan *p, json_t *st, const char *where,
    struct buf *err)
{
	const char *type = jstr(st, "type"), *name = jstr(st, "name");
	long dup;

	p->live = 1;
	if (!type || !name || !jstr(st, "state")) {
		errf(err, "%s: status record without a \"type\", \"name\" "
		    "and \"state\"", where);
		return -1;
	}
	KOM_GROW(p->sts, p->nst + 1, p->capst);
	p->sts[p->nst].rec = json_incref(st);
	p->sts[p->nst].type = type;
	p->sts[p->nst].name = name;
	dup = hmap_put(p, &p->stidx, status_eq, type, name, p->nst);
	if (dup >= 0) {	/* the last one wins: it is the newest */
		json_decref(p->sts[dup].rec);
		p->sts[dup] = p->sts[p->nst];
		return 0;
	}
	p->nst++;
	return 0;
}

void
plan_set_live(struct plan *p)
{
	p->live = 1;
}

static long
find(const struct plan *p, const char *type, const char *name)
{
	return hmap_get(p, &p->idx, node_eq, type, name);
}

/* ---- `after` ---- */

/*
 * Resolve the `after` names of node i into p->par (appended).  Live nodes
 * look among declared (not deleted) deployments and stacks; deleted ones
 * among deleted ones only, and ignore what is not being deleted.
 */
static int
resolve_after(struct plan *p, size_t i, size_t *npar, size_t *cappar,
    struct buf *err)
{
	struct node *n = &p->nodes[i];
	json_t *after = json_object_get(n->rec, "after"), *v;
	int deleted = n->op == OP_DELETE, rc = 0;
	const char *an;
	long d, s;
	size_t k;

	n->eoff = *npar;
	n->ecnt = 0;
	if (!after || json_is_null(after))
		return 0;
	if (!json_is_array(after)) {
		errf(err, "%s: 'after' of %s '%s' is not a list of names",
		    node_after_src(n), n->type, n->name);
		return -1;
	}
	json_array_foreach(after, k, v) {
		if (!(an = json_string_value(v))) {
			errf(err, "%s: 'after' of %s '%s' is not a list of "
			    "names", node_after_src(n), n->type, n->name);
			rc = -1;
			continue;
		}
		d = find(p, "deployment", an);
		s = find(p, "stack", an);
		if (d >= 0 && (p->nodes[d].op == OP_DELETE) != deleted)
			d = -1;
		if (s >= 0 && (p->nodes[s].op == OP_DELETE) != deleted)
			s = -1;
		if (deleted && (d < 0) == (s < 0))
			continue;	/* still there, gone, or ambiguous */
		if (d >= 0 && s >= 0) {
			errf(err, "%s: 'after' of %s '%s' names '%s', which "
			    "is both deployment '%s' (%s) and stack '%s' (%s)",
			    node_after_src(n), n->type, n->name, an, an,
			    node_src(&p->nodes[d]), an,
			    node_src(&p->nodes[s]));
			rc = -1;
			continue;
		}
		if (d < 0 && s < 0) {
			d = find(p, "deployment", an);
			s = find(p, "stack", an);
			if (d >= 0 || s >= 0)
				errf(err, "%s: 'after' of %s '%s' names %s "
				    "'%s', which is being deleted",
				    node_after_src(n), n->type, n->name,
				    d >= 0 ? "deployment" : "stack", an);
			else
				errf(err, "%s: 'after' of %s '%s' names "
				    "unknown '%s' (no deployment or stack of "
				    "that name)", node_after_src(n), n->type,
				    n->name, an);
			rc = -1;
			continue;
		}
		KOM_GROW(p->par, *npar + 1, *cappar);
		p->par[(*npar)++] = (size_t)(d >= 0 ? d : s);
		n->ecnt++;
	}
	return rc;
}

static const char *
type_title(const struct node *n)
{
	return n->ctype == CT_STACK ? "Stack" : "Deployment";
}

/*
 * Print one cycle of the strongly connected component comp (the members
 * with p->nodes[].mark == comp): walk `after` inside it from start until a
 * node repeats, then print that loop from its smallest member.
 */
static void
report_cycle(struct plan *p, size_t start, long comp, size_t *path,
    long *seen, struct buf *err)
{
	size_t len = 0, i, first, best, k, v = start, L;
	struct buf b = BUF_INIT;

	while (seen[v] < 0) {
		struct node *n = &p->nodes[v];

		seen[v] = (long)len;
		path[len++] = v;
		for (k = 0; k < n->ecnt; k++)
			if (p->nodes[p->par[n->eoff + k]].mark == comp)
				break;
		v = p->par[n->eoff + k];	/* one exists: comp is a cycle */
	}
	first = (size_t)seen[v];
	L = len - first;
	best = first;
	for (i = first; i < len; i++) {
		struct node *x = &p->nodes[path[i]], *c = &p->nodes[path[best]];

		if (x->tix < c->tix || (x->tix == c->tix &&
		    strcmp(x->name, c->name) < 0))
			best = i;
	}
	buf_adds(&b, "cycle in 'after': ");
	for (k = 0; k < L; k++) {
		struct node *n = &p->nodes[path[first + (best - first + k) % L]];

		buf_printf(&b, "%s '%s' (%s) -> ", n->type, n->name,
		    node_after_src(n));
	}
	buf_printf(&b, "%s '%s'", p->nodes[path[best]].type,
	    p->nodes[path[best]].name);
	errf(err, "%s", b.s);
	buf_free(&b);
	for (i = 0; i < len; i++)
		seen[path[i]] = -1;
}

/*
 * Kahn's algorithm left the nodes in left unplaced: each is on a cycle or
 * downstream of one.  Find their strongly connected components (Tarjan,
 * iterative, over `after` edges) and report one cycle per component that
 * has one, so that disjoint cycles are all named.
 */
static void
report_cycles(struct plan *p, const char *left, struct buf *err)
{
	size_t n = p->n, i, sp = 0, cs = 0, *stk, *path;
	long *idx, *low, *seen, next = 0, comps = 0;
	struct frame { size_t v, k; } *call;
	char *on;

	idx = xcalloc(n, sizeof(*idx));
	low = xcalloc(n, sizeof(*low));
	seen = xcalloc(n, sizeof(*seen));
	stk = xcalloc(n, sizeof(*stk));
	path = xcalloc(n, sizeof(*path));
	call = xcalloc(n, sizeof(*call));
	on = xcalloc(n, 1);
	for (i = 0; i < n; i++) {
		idx[i] = -1;
		seen[i] = -1;
		p->nodes[i].mark = 0;
	}
	for (i = 0; i < n; i++) {
		if (!left[i] || idx[i] >= 0)
			continue;
		call[cs++] = (struct frame){ i, 0 };
		idx[i] = low[i] = next++;
		stk[sp++] = i;
		on[i] = 1;
		while (cs) {
			struct frame *f = &call[cs - 1];
			struct node *nd = &p->nodes[f->v];

			if (f->k < nd->ecnt) {
				size_t w = p->par[nd->eoff + f->k++];

				if (!left[w])
					continue;
				if (idx[w] < 0) {
					idx[w] = low[w] = next++;
					stk[sp++] = w;
					on[w] = 1;
					call[cs++] = (struct frame){ w, 0 };
				} else if (on[w] && idx[w] < low[f->v]) {
					low[f->v] = idx[w];
				}
				continue;
			}
			if (low[f->v] == idx[f->v]) {
				size_t w, size = 0, self = 0, k;

				comps++;
				do {
					w = stk[--sp];
					on[w] = 0;
					p->nodes[w].mark = comps;
					size++;
				} while (w != f->v);
				for (k = 0; k < nd->ecnt; k++)
					if (p->par[nd->eoff + k] == f->v)
						self = 1;
				if (size > 1 || self)
					report_cycle(p, f->v, comps, path, seen,
					    err);
			}
			cs--;
			if (cs && low[f->v] < low[call[cs - 1].v])
				low[call[cs - 1].v] = low[f->v];
		}
	}
	free(idx);
	free(low);
	free(seen);
	free(stk);
	free(path);
	free(call);
	free(on);
}

/* Komodo's `changes` paths, for reasons: "description, config.image". */
static void
add_paths(struct buf *b, const json_t *rec)
{
	json_t *ch = json_object_get(rec, "changes"), *c;
	size_t i, shown = 0;
	const char *path;

	json_array_foreach(ch, i, c) {
		if (!(path = jstr(c, "path")))
			continue;
		if (shown == 8) {
			buf_printf(b, " and %zu more",
			    json_array_size(ch) - i);
			break;
		}
		buf_printf(b, "%s%s", shown ? ", " : ": ", path);
		shown++;
	}
}

static char *
record_reason(const struct node *n, const char *why)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, n->op == OP_CREATE ? "create" : n->op == OP_UPDATE ?
	    "update" : "deleted from the sync");
	if (n->op == OP_UPDATE)
		add_paths(&b, n->rec);
	if (why)
		buf_printf(&b, " (%s)", why);
	return buf_release(&b);
}

/* "environment, image" from deploy_changes, or NULL when it is empty. */
static char *
deploy_changes(const struct node *n)
{
	json_t *dc = json_object_get(n->rec, "deploy_changes"), *v;
	struct buf b = BUF_INIT;
	size_t i;

	json_array_foreach(dc, i, v)
		if (json_string_value(v))
			buf_printf(&b, "%s%s", b.len ? ", " : "",
			    json_string_value(v));
	if (!b.len)
		return NULL;
	return buf_release(&b);
}

/* The tag of an image reference: after the last ':' past the last '/'. */
static const char *
image_tag(const char *image)
{
	const char *c = strrchr(image, ':'), *s = strrchr(image, '/');

	if (!c || (s && s > c))
		return "latest";
	return c + 1;
}

/*
 * Komodo's build check, the right way round: a deployment that runs the
 * build's latest version (pinned version 0.0.0) redeploys when the build's
 * version differs from the tag of the running image.  A pinned version is
 * part of the config: changing it is a config change.
 */
static char *
build_reason(const struct plan *p, const struct node *n, const json_t *st)
{
	json_t *img = json_object_get(json_object_get(n->rec, "config"),
	    "image");
	json_t *params = json_object_get(img, "params");
	const char *bname = jstr(params, "build"), *ver = jstr(params,
	    "version"), *bver, *running = jstr(st, "image");
	long b;

	if (!img || !jstr(img, "type") || strcmp(jstr(img, "type"),
	    "Build") != 0 || !bname || !running)
		return NULL;
	if (ver && *ver && strcmp(ver, "0.0.0") != 0)
		return NULL;
	if ((b = find(p, "build", bname)) < 0 || p->nodes[b].op == OP_DELETE)
		return NULL;
	bver = jstr(json_object_get(p->nodes[b].rec, "config"), "version");
	if (!bver || !*bver || strcmp(bver, "0.0.0") == 0)
		return NULL;	/* never built */
	if (strcmp(image_tag(running), bver) == 0)
		return NULL;
	return xasprintf("build has new version: %s", bver);
}

/* The decision for a declared deploy=true deployment or stack. */
static void
decide(struct plan *p, struct node *n)
{
	const char *t = n->ctype == CT_STACK ? "stack" : "deployment";
	char *dc, *r;
	const char *state, *drift, *detail;
	json_t *st = NULL;
	long si;

	if (n->op == OP_CREATE) {
		n->dec = DEC_DEPLOY;
		n->reason = xstrdup("deploy on creation");
		return;
	}
	dc = n->op == OP_UPDATE ? deploy_changes(n) : NULL;
	if (!p->live) {
		if (dc) {
			n->dec = DEC_DEPLOY;
			n->reason = xasprintf("%s config has changed: %s", t,
			    dc);
		} else {
			n->dec = DEC_ENSURE;
			n->reason = xstrdup("unchanged: deploy only if not "
			    "running as applied (no live status given)");
		}
		free(dc);
		return;
	}
	if ((si = hmap_get(p, &p->stidx, status_eq, n->type, n->name)) >= 0)
		st = p->sts[si].rec;
	state = st ? jstr(st, "state") : n->ctype == CT_STACK ? "down" :
	    "not_deployed";
	if (strcmp(state, "unknown") == 0) {
		n->dec = DEC_HOLD;
		n->reason = xasprintf("not deployed: %s has unknown state", t);
	} else if (strcmp(state, "running") != 0) {
		n->dec = DEC_DEPLOY;
		n->reason = xasprintf("%s has %s state", t, state);
	} else if (dc) {
		n->dec = DEC_DEPLOY;
		n->reason = xasprintf("%s config has changed: %s", t, dc);
	} else if ((drift = jstr(st, "drift")) != NULL) {
		detail = jstr(st, "drift_detail");
		n->dec = DEC_DEPLOY;
		n->reason = xasprintf("%s has drifted: %s%s%s%s", t, drift,
		    detail && *detail ? " (" : "", detail ? detail : "",
		    detail && *detail ? ")" : "");
	} else if (n->ctype == CT_DEPLOYMENT && (r = build_reason(p, n, st))) {
		n->dec = DEC_DEPLOY;
		n->reason = r;
	} else {
		n->dec = DEC_WAIT;
		n->reason = xasprintf("%s is running and unchanged", t);
	}
	free(dc);
}

static int
sstep_cmp(const void *a, const void *b)
{
	const struct sstep *x = a, *y = b;
	int c;

	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	if (x->tix != y->tix)
		return x->tix < y->tix ? -1 : 1;
	if (x->sub != y->sub)
		return x->sub < y->sub ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

static int
long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The resource record as a step carries it: no kind/op/changes. */
static void
strip_record(json_t *rec)
{
	json_object_del(rec, "kind");
	json_object_del(rec, "op");
	json_object_del(rec, "changes");
	json_object_del(rec, "deploy_changes");
}

static json_t *
needs_array(long *ids, size_t n)
{
	json_t *a = json_array();
	size_t i;

	if (n > 1)
		qsort(ids, n, sizeof(*ids), long_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			json_array_append_new(a, json_integer(ids[i]));
	return a;
}

static void
push_step(struct plan *p, json_t *step)
{
	KOM_GROW(p->steps, p->nsteps + 1, p->capsteps);
	p->steps[p->nsteps++] = step;
}

static json_t *
new_step(long id, int stage, const char *action, const char *type,
    const char *name, const char *reason, json_t *needs)
{
	json_t *s = json_object();

	json_object_set_new(s, "kind", json_string("step"));
	json_object_set_new(s, "id", json_integer(id));
	json_object_set_new(s, "stage", json_integer(stage));
	json_object_set_new(s, "action", json_string(action));
	json_object_set_new(s, "type", json_string(type));
	json_object_set_new(s, "name", json_string(name));
	json_object_set_new(s, "reason", json_string(reason));
	json_object_set_new(s, "needs", needs);
	return s;
}

int
plan_build(struct plan *p, struct buf *err)
{
	size_t i, k, npar = 0, cappar = 0, *indeg, *topo, head = 0, tail = 0;
	size_t nss = 0;
	struct sstep *ss;
	long *ids = NULL;
	size_t capids = 0;
	int rc = 0, has_rec = 0, max_dl = -1, dbase, base;

	/* Edges: deploy=true declared nodes, and deleted ones. */
	for (i = 0; i < p->n; i++) {
		struct node *n = &p->nodes[i];

		n->eoff = npar;
		if (n->ctype != CT_OTHER && (n->op == OP_DELETE || n->deploy))
			if (resolve_after(p, i, &npar, &cappar, err) < 0)
				rc = -1;
	}
	if (rc < 0)
		return -1;

	/* Children, for Kahn's algorithm and for destroy needs. */
	indeg = xcalloc(p->n + 1, sizeof(*indeg));
	for (k = 0; k < npar; k++)
		indeg[p->par[k]]++;
	for (i = 0, k = 0; i < p->n; i++) {
		p->nodes[i].coff = k;
		p->nodes[i].ccnt = 0;
		k += indeg[i];
	}
	p->chl = xcalloc(npar + 1, sizeof(*p->chl));
	for (i = 0; i < p->n; i++)
		for (k = 0; k < p->nodes[i].ecnt; k++) {
			struct node *par = &p->nodes[p->par[p->nodes[i].eoff +
			    k]];

			p->chl[par->coff + par->ccnt++] = i;
		}

	/* Kahn: a node is ready when all its parents are placed. */
	topo = xcalloc(p->n + 1, sizeof(*topo));
	for (i = 0; i < p->n; i++) {
		indeg[i] = p->nodes[i].ecnt;
		if (!indeg[i])
			topo[tail++] = i;
	}
	while (head < tail) {
		struct node *n = &p->nodes[topo[head++]];

		for (k = 0; k < n->ccnt; k++)
			if (--indeg[p->chl[n->coff + k]] == 0)
				topo[tail++] = p->chl[n->coff + k];
	}
	if (tail < p->n) {
		char *left = xcalloc(p->n, 1);

		for (i = 0; i < p->n; i++)
			left[i] = indeg[i] != 0;
		report_cycles(p, left, err);
		free(left);
		free(indeg);
		free(topo);
		return -1;
	}
	free(indeg);

	/* Decisions, parents first, then the cascade. */
	for (k = 0; k < p->n; k++) {
		struct node *n = &p->nodes[topo[k]];

		if (n->op == OP_DELETE) {
			if (n->ctype != CT_OTHER) {
				n->dec = DEC_DEPLOY;	/* a destroy */
				n->reason = xstrdup("deleted from the sync");
			} else {
				n->rec_reason = record_reason(n, NULL);
			}
			continue;
		}
		if (n->ctype == CT_OTHER || !n->deploy) {
			if (n->op != OP_KEEP)
				n->rec_reason = record_reason(n,
				    n->ctype == CT_OTHER ? NULL :
				    "deploy = false");
			continue;
		}
		decide(p, n);
		if (n->dec == DEC_WAIT || n->dec == DEC_ENSURE) {
			for (i = 0; i < n->ecnt; i++) {
				struct node *par = &p->nodes[p->par[n->eoff +
				    i]];

				if (par->dec == DEC_DEPLOY) {
					free(n->reason);
					n->reason = xasprintf("%s parent "
					    "dependency '%s' is deploying",
					    type_title(par), par->name);
					n->dec = DEC_DEPLOY;
					break;
				}
			}
		}
		if (n->op == OP_UPDATE && n->dec != DEC_DEPLOY)
			n->rec_reason = record_reason(n, n->dec == DEC_HOLD ?
			    n->reason : "no deploy-relevant change");
		if (n->dec == DEC_WAIT || n->dec == DEC_HOLD) {
			free(n->reason);
			n->reason = NULL;
			n->dec = DEC_NONE;
		}
	}

	/* Levels: deploys by their deploying ancestors, destroys by dependents. */
	for (k = 0; k < p->n; k++) {
		struct node *n = &p->nodes[topo[k]];

		if (n->rec_reason)
			has_rec = 1;
		if (n->op == OP_DELETE || n->dec < DEC_ENSURE)
			continue;
		for (i = 0; i < n->ecnt; i++) {
			struct node *par = &p->nodes[p->par[n->eoff + i]];

			if (par->dec >= DEC_ENSURE && par->level + 1 > n->level)
				n->level = par->level + 1;
		}
	}
	for (k = p->n; k-- > 0;) {
		struct node *n = &p->nodes[topo[k]];

		if (n->op != OP_DELETE || n->ctype == CT_OTHER)
			continue;
		if (n->level > max_dl)
			max_dl = n->level;
		for (i = 0; i < n->ecnt; i++) {
			struct node *par = &p->nodes[p->par[n->eoff + i]];

			if (n->level + 1 > par->level)
				par->level = n->level + 1;
		}
	}
	free(topo);
	dbase = has_rec ? 1 : 0;
	base = dbase + max_dl + 1;

	/* The steps, sorted by stage, type order, op, name. */
	ss = xcalloc(st_mul(p->n, 2) + 1, sizeof(*ss));
	for (i = 0; i < p->n; i++) {
		struct node *n = &p->nodes[i];

		if (n->rec_reason)
			ss[nss++] = (struct sstep){ 1, n->tix, n->op, SK_RECORD,
			    n->name, i };
		if (n->op == OP_DELETE && n->ctype != CT_OTHER)
			ss[nss++] = (struct sstep){ dbase + 1 + n->level,
			    n->tix, 0, SK_DESTROY, n->name, i };
		else if (n->dec >= DEC_ENSURE)
			ss[nss++] = (struct sstep){ base + 1 + n->level,
			    n->tix, 0, SK_DEPLOY, n->name, i };
	}
	qsort(ss, nss, sizeof(*ss), sstep_cmp);
	for (k = 0; k < nss; k++) {
		struct node *n = &p->nodes[ss[k].node];

		if (ss[k].kind == SK_RECORD)
			n->rec_id = (long)k + 1;
		else
			n->dep_id = (long)k + 1;
	}
	for (k = 0; k < nss; k++) {
		struct node *n = &p->nodes[ss[k].node];
		size_t nids = 0;
		const char *action;
		json_t *step;

		if (ss[k].kind == SK_DEPLOY) {
			for (i = 0; i < n->ecnt; i++) {
				struct node *par = &p->nodes[p->par[n->eoff +
				    i]];

				if (par->dec >= DEC_ENSURE) {
					KOM_GROW(ids, nids + 1, capids);
					ids[nids++] = par->dep_id;
				}
			}
			action = n->dec == DEC_DEPLOY ? "deploy" : "ensure";
		} else if (ss[k].kind == SK_DESTROY) {
			for (i = 0; i < n->ccnt; i++) {
				struct node *c = &p->nodes[p->chl[n->coff + i]];

				if (c->op == OP_DELETE) {
					KOM_GROW(ids, nids + 1, capids);
					ids[nids++] = c->dep_id;
				}
			}
			action = "destroy";
		} else {
			action = n->op == OP_DELETE ? "remove" : "record";
		}
		step = new_step((long)k + 1, ss[k].stage, action, n->type,
		    n->name, ss[k].kind == SK_RECORD ? n->rec_reason :
		    n->reason, needs_array(ids, nids));
		strip_record(n->rec);
		json_object_set(step, "resource", n->rec);
		push_step(p, step);
		if (ss[k].stage > p->stages)
			p->stages = ss[k].stage;
	}
	free(ids);
	free(ss);
	return 0;
}

json_t *const *
plan_steps(const struct plan *p, size_t *n)
{
	*n = p->nsteps;
	return p->steps;
}

int
plan_stages(const struct plan *p)
{
	return p->stages;
}

/* ---- procedures ---- */

struct pstep {
	json_t *step;
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

/* Params naming the target of any other execution. */
static const struct {
	const char *param, *type;
} targets[] = {
	{ "deployment", "deployment" }, { "stack", "stack" },
	{ "build", "build" }, { "repo", "repo" }, { "procedure", "procedure" },
	{ "action", "action" }, { "server", "server" },
	{ "alerter", "alerter" }, { "swarm", "swarm" },
	{ "sync", "resource_sync" },
};

/* Load statedir/resources/<type>/ once, as nodes the stream lacks. */
static void
load_state_type(struct pctx *c, const char *type)
{
	struct plan *p = c->p;
	int tix = plan_type_order(type);
	char *dir, *path;
	struct dirent *de;
	struct buf b = BUF_INIT, junk = BUF_INIT;
	json_error_t jerr;
	json_t *rec;
	DIR *d;
	size_t len;

	if (!c->statedir || tix >= (int)KOM_NELEM(p->state_loaded) ||
	    p->state_loaded[tix])
		return;
	p->state_loaded[tix] = 1;
	dir = xasprintf("%s/resources/%s", c->statedir, type);
	if (!(d = opendir(dir))) {
		free(dir);
		return;
	}
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		buf_reset(&b);
		if (file_read(path, &b, STATE_MAX_FILE) == 0 &&
		    (rec = json_loadb(b.s, b.len, 0, &jerr))) {
			if (json_is_object(rec) && jstr(rec, "name") &&
			    jstr(rec, "type") &&
			    strcmp(jstr(rec, "type"), type) == 0) {
				json_object_del(rec, "applied_at");
				json_object_del(rec, "exec");
				add_node(p, rec, path, 1, &junk);
			}
			json_decref(rec);
		}
		free(path);
	}
	closedir(d);
	buf_free(&b);
	buf_free(&junk);
	free(dir);
}

/* The declared (stream, else state dir) resource, or NULL. */
static struct node *
target(struct pctx *c, const char *type, const char *name)
{
	long i;

	load_state_type(c, type);
	i = find(c->p, type, name);
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
	json_t *step, *empty;
	size_t i;

	if (strcmp(etype, "None") == 0)
		return 0;
	if (strcmp(etype, "RunProcedure") == 0) {
		v = jstr(params, "procedure");
		if (!v || !(t = target(c, "procedure", v))) {
			errf(c->err, "%s: procedure '%s' runs unknown "
			    "procedure '%s'", node_src(&c->p->nodes[
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
		name = jstr(params, s->type);
	} else if (strcmp(etype, "Sleep") == 0) {
		action = "sleep";
	} else {
		for (i = 0; i < KOM_NELEM(targets) && !name; i++)
			if ((name = jstr(params, targets[i].param)))
				type = targets[i].type;
	}
	if (name) {
		t = target(c, type, name);
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
	step = new_step(0, stage, action, type, name, r.s, json_array());
	buf_free(&r);
	if (t) {
		strip_record(t->rec);
		json_object_set(step, "resource", t->rec);
	}
	empty = json_object();
	json_object_set_new(step, "execution", json_pack("{s:s,s:O}", "type",
	    etype, "params", params ? params : empty));
	json_decref(empty);
	if (c->n >= PLAN_MAX_PROC_STEPS) {
		if (!c->failed)
			errf(c->err, "procedure '%s' expands to more than %d "
			    "steps", c->p->nodes[c->chain[0]].name,
			    PLAN_MAX_PROC_STEPS);
		c->failed = 1;
		json_decref(step);
		return 0;
	}
	KOM_GROW(c->steps, c->n + 1, c->cap);
	c->steps[c->n].step = step;
	c->steps[c->n].seq = c->n;
	c->steps[c->n++].stage = stage;
	return 1;
}

/* A Batch* execution: one single execution per matching name. */
static int
add_batch(struct pctx *c, const char *sname, const struct batch *b,
    json_t *params, int stage)
{
	const char *spec = jstr(params, "pattern");
	struct pattern *pat;
	char *perr, *text;
	const char **names = NULL;
	size_t n = 0, cap = 0, i;
	int w = 0, wi;

	if (!spec)
		spec = "";
	if (!(pat = pattern_new(spec, &perr))) {
		errf(c->err, "%s: procedure '%s', stage '%s': %s: %s",
		    node_src(&c->p->nodes[c->chain[c->depth - 1]]),
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
				    n->name, node_src(n));
			}
			buf_printf(&b, "procedure '%s'", proc->name);
			errf(c->err, "%s", b.s);
			buf_free(&b);
			c->failed = 1;
			return 0;
		}
	KOM_GROW(c->chain, c->depth + 1, c->capchain);
	c->chain[c->depth++] = (size_t)(proc - c->p->nodes);
	stages = json_object_get(json_object_get(proc->rec, "config"),
	    "stages");
	json_array_foreach(stages, i, st) {
		const char *sname = jstr(st, "name");

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
			if (!(et = jstr(ex, "type")))
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
		errf(err, "unknown procedure '%s'", name);
		return -1;
	}
	expand_procedure(&c, proc, 1);
	free(c.chain);
	if (c.failed) {
		for (i = 0; i < c.n; i++)
			json_decref(c.steps[i].step);
		free(c.steps);
		return -1;
	}
	if (c.n > 1)
		qsort(c.steps, c.n, sizeof(*c.steps), pstep_cmp);
	stage = 0;
	for (i = 0; i < c.n; i++) {
		struct pstep *s = &c.steps[i];
		json_t *needs;
		size_t k;

		if (s->stage != stage) {
			prev_b = cur_b;
			prev_e = i;
			cur_b = i;
			stage = s->stage;
		}
		needs = json_object_get(s->step, "needs");
		for (k = prev_b; k < prev_e; k++)
			json_array_append_new(needs, json_integer((long)k + 1));
		json_object_set_new(s->step, "id", json_integer((long)i + 1));
		push_step(p, s->step);
		p->stages = stage;
	}
	free(c.steps);
	return 0;
}
