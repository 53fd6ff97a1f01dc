/*
 * plan: kom-plan's engine (plan.h).  This file: the records, the deploy
 * decisions (Komodo's rules), `after` and the stages, writing the steps;
 * plan_proc.c: procedures and batch patterns (plan_int.h: what they
 * share).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildver.h"
#include "jsonl.h"
#include "jsonskim.h"
#include "plan.h"
#include "plan_int.h"
#include "schema.h"
#include "support.h"
#include "util.h"
#include "banned.h"

struct sstep {
	int stage, type_rank, sub, kind;
	uint64_t pfx;		/* the name's first 8 bytes, big-endian */
	const char *name;
	size_t node;
};

int
plan_type_order(const char *type)
{
	return schema_type_rank(type);
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

void
plan_errf(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	buf_addc(err, '\n');
}


/* ---- arena ---- */

/* n bytes that live until plan_free (strings only: no alignment). */
static char *
arena_alloc(struct plan *p, size_t n)
{
	struct ablock *b;
	char *r;

	if (n > p->aleft) {
		size_t sz = n > ARENA_BLOCK / 8 ? n : ARENA_BLOCK;

		b = xmalloc(st_add(sizeof(*b), sz));
		b->next = p->blocks;
		p->blocks = b;
		if (sz != ARENA_BLOCK)
			return (char *)(b + 1);	/* a big one, on its own */
		p->ap = (char *)(b + 1);
		p->aleft = sz;
	}
	r = p->ap;
	p->ap += n;
	p->aleft -= n;
	return r;
}

const char *
plan_arena_str(struct plan *p, const char *s, size_t n)
{
	char *r = arena_alloc(p, st_add(n, 1));

	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* The concatenation of the strings up to a NULL, in the arena. */
static const char *
acat(struct plan *p, ...)
{
	va_list ap;
	const char *s;
	size_t len = 0, l;
	char *r, *q;

	va_start(ap, p);
	while ((s = va_arg(ap, const char *)))
		len = st_add(len, strlen(s));
	va_end(ap);
	q = r = arena_alloc(p, st_add(len, 1));
	va_start(ap, p);
	while ((s = va_arg(ap, const char *))) {
		l = strlen(s);
		memcpy(q, s, l);
		q += l;
	}
	va_end(ap);
	*q = '\0';
	return r;
}

static void
buf_addl(struct buf *b, long v)
{
	char t[24], *e = t + sizeof(t), *q = e;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		*--q = '-';
	buf_add(b, q, (size_t)(e - q));
}

const char *
plan_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct plan *
plan_new(void)
{
	struct plan *p = xcalloc(1, sizeof(struct plan));

	jsonskim_init(&p->sk);
	buf_init(&p->kept_text);
	buf_init(&p->key_or_reason);
	buf_init(&p->decoded);
	return p;
}

void
plan_free(struct plan *p)
{
	struct ablock *b, *next;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		json_decref(p->nodes[i].rec);
	for (i = 0; i < p->nst; i++)
		json_decref(p->sts[i].rec);
	for (i = 0; i < p->nsteps; i++) {
		json_decref(p->steps[i].execution);
		if (p->jsteps)
			json_decref(p->jsteps[i]);
	}
	for (b = p->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(p->nodes);
	free(p->sts);
	free(p->idx.s);
	free(p->stidx.s);
	free(p->par);
	free(p->chl);
	free(p->steps);
	free(p->needs);
	free(p->jsteps);
	jsonskim_free(&p->sk);
	buf_free(&p->kept_text);
	buf_free(&p->key_or_reason);
	buf_free(&p->decoded);
	free(p);
}

void
plan_reserve(struct plan *p, size_t n)
{
	size_t cap = 64;

	KOM_GROW(p->nodes, n, p->cap);
	while (cap < st_mul(n, 2) + 2)
		cap = st_mul(cap, 2);
	if (cap > p->idx.cap && p->idx.n == 0) {
		free(p->idx.s);
		p->idx.s = xcalloc(cap, sizeof(*p->idx.s));
		p->idx.cap = cap;
	}
}

static int
runs_of(const char *type)
{
	if (strcmp(type, "deployment") == 0)
		return RUNS_DEPLOYMENT;
	if (strcmp(type, "stack") == 0)
		return RUNS_STACK;
	return RUNS_NOTHING;
}

/* "deployment 'web' (web.toml:3)": where the resource is declared. */
const char *
plan_node_src(const struct node *n)
{
	return n->src ? n->src : "?";
}

static const char *
node_after_src(const struct node *n)
{
	return n->after_src ? n->after_src : plan_node_src(n);
}

/* The record of a node as jansson, parsed on first use; owned by the node. */
json_t *
plan_node_rec(const struct plan *p, size_t i)
{
	struct node *n = &p->nodes[i];

	if (!n->rec)
		n->rec = json_loadb(n->res, n->reslen, JSON_REJECT_DUPLICATES,
		    NULL);
	return n->rec;
}

/* The members of a resource record kom-plan reads or leaves out. */
enum { M_OTHER, M_KIND, M_OP, M_CHANGES, M_DEPLOY_CHANGES, M_TYPE, M_NAME,
	M_SOURCE, M_AFTER_SOURCE, M_DEPLOY, M_AFTER };

static int
member_of(const char *k, size_t len)
{
#define KEY(s, m) { s, sizeof(s) - 1, m }
	static const struct {
		const char *key;
		size_t len;
		int m;
	} keys[] = {
		KEY("kind", M_KIND), KEY("op", M_OP), KEY("changes", M_CHANGES),
		KEY("deploy_changes", M_DEPLOY_CHANGES), KEY("type", M_TYPE),
		KEY("name", M_NAME), KEY("source", M_SOURCE),
		KEY("after_source", M_AFTER_SOURCE), KEY("deploy", M_DEPLOY),
		KEY("after", M_AFTER),
	};
#undef KEY
	size_t i;

	for (i = 0; i < KOM_NELEM(keys); i++)
		if (keys[i].len == len && keys[i].key[0] == k[0] &&
		    memcmp(keys[i].key, k, len) == 0)
			return keys[i].m;
	return M_OTHER;
}

/* A string value (v, len) of a skimmed text in the arena, or NULL. */
static const char *
skim_str(struct plan *p, const char *v, size_t len)
{
	if (v[0] != '"')
		return NULL;
	if (!memchr(v, '\\', len))
		return plan_arena_str(p, v + 1, len - 2);
	jsonskim_string(v, len, &p->decoded);
	return plan_arena_str(p, p->decoded.s, p->decoded.len);
}

/* The deploy_changes strings of an update, ", "-joined, or NULL. */
static const char *
join_strings(struct plan *p, const char *a, size_t alen)
{
	struct buf *b = &p->decoded, one = BUF_INIT;
	size_t pos = 0, eo, el;

	buf_reset(b);
	while (jsonskim_next(a, alen, &pos, &eo, &el)) {
		if (jsonskim_string(a + eo, el, &one) < 0)
			continue;
		if (b->len)
			buf_add(b, ", ", 2);
		buf_add(b, one.s, one.len);
	}
	buf_free(&one);
	return b->len ? plan_arena_str(p, b->s, b->len) : NULL;
}

static int
add_text(struct plan *p, const char *t, const struct jsonskim *sk,
    const char *where, int from_state, struct buf *err)
{
	struct buf *b = &p->kept_text;
	struct node *n;
	const char *type = NULL, *name = NULL, *op = NULL, *src = NULL;
	const char *asrc = NULL, *dc = NULL, *ch = NULL, *k;
	size_t i, klen, aoff = 0, alen = 0, chlen = 0, dclen = 0;
	int deploy = 0, o, which;
	long dup;

	buf_reset(b);
	buf_addc(b, '{');
	for (i = 0; i < sk->n; i++) {
		const struct jsonskim_member *m = &sk->m[i];
		const char *v = t + m->voff;

		if (m->kplain) {
			k = t + m->koff;
			klen = m->klen;
		} else {
			jsonskim_string(t + m->koff - 1, m->klen + 2, &p->key_or_reason);
			k = p->key_or_reason.s;
			klen = p->key_or_reason.len;
		}
		switch ((which = member_of(k, klen))) {
		case M_KIND:
			continue;
		case M_OP:
			op = skim_str(p, v, m->vlen);
			continue;
		case M_CHANGES:
			ch = v;
			chlen = m->vlen;
			continue;
		case M_DEPLOY_CHANGES:
			dc = v;
			dclen = m->vlen;
			continue;
		case M_TYPE:
			type = skim_str(p, v, m->vlen);
			break;
		case M_NAME:
			name = skim_str(p, v, m->vlen);
			break;
		case M_SOURCE:
			src = skim_str(p, v, m->vlen);
			break;
		case M_AFTER_SOURCE:
			asrc = skim_str(p, v, m->vlen);
			break;
		case M_DEPLOY:
			deploy = m->vlen == 4 && memcmp(v, "true", 4) == 0;
			break;
		}
		if (b->len > 1)
			buf_addc(b, ',');
		if (m->kcanon) {
			buf_add(b, t + m->koff - 1, m->klen + 2);
		} else {
			if (m->kplain)	/* else decoded above */
				jsonskim_string(t + m->koff - 1, m->klen + 2,
				    &p->key_or_reason);
			jsonskim_quote(b, p->key_or_reason.s, p->key_or_reason.len);
		}
		buf_addc(b, ':');
		if (which == M_AFTER)
			aoff = b->len;
		if (m->canon) {
			buf_add(b, v, m->vlen);
		} else {
			/* spaced or escaped otherwise: as jansson writes it */
			json_t *j = json_loadb(v, m->vlen, JSON_DECODE_ANY |
			    JSON_REJECT_DUPLICATES, NULL);
			char *d = jsonl_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
			    JSON_PRESERVE_ORDER);

			if (!d)
				kom_die(KOM_EX_SOFTWARE, "%s: cannot re-encode "
				    "a member", where);
			buf_adds(b, d);
			free(d);
			json_decref(j);
		}
		if (which == M_AFTER)
			alen = b->len - aoff;
	}
	buf_addc(b, '}');

	if (!type || !name || !*type || !*name) {
		plan_errf(err, "%s: resource record without a \"type\" and "
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
		plan_errf(err, "%s: %s '%s' has an unknown op '%s'", where, type,
		    name, op);
		return -1;
	}
	KOM_GROW(p->nodes, p->n + 1, p->cap);
	n = &p->nodes[p->n];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->name = name;
	n->src = src ? src : plan_arena_str(p, where, strlen(where));
	n->after_src = asrc;
	n->res = plan_arena_str(p, b->s, b->len);
	n->reslen = b->len;
	n->aoff = aoff;
	n->alen = alen;
	if (o == OP_UPDATE && ch) {
		n->changes = plan_arena_str(p, ch, chlen);
		n->chlen = chlen;
	}
	if (o == OP_UPDATE && dc)
		n->dchanges = join_strings(p, dc, dclen);
	n->type_rank = plan_type_order(type);
	n->op = o;
	n->runs = runs_of(type);
	n->deploy = deploy;
	n->from_state = from_state;
	n->dep_id = n->rec_id = NO_ID;
	dup = hmap_put(p, &p->idx, node_eq, type, name, p->n);
	if (dup >= 0) {
		if (!from_state)
			plan_errf(err, "%s: duplicate %s '%s' (first at %s)",
			    plan_node_src(n), type, name,
			    plan_node_src(&p->nodes[dup]));
		return from_state ? 0 : -1;
	}
	p->n++;
	return 0;
}

int
plan_add_skimmed(struct plan *p, const char *text, const struct jsonskim *sk,
    const char *where, struct buf *err)
{
	return add_text(p, text, sk, where, 0, err);
}

/* A jansson record: through its compact text, like a skimmed one. */
int
plan_add_json(struct plan *p, const json_t *rec, const char *where,
    int from_state, struct buf *err)
{
	char *s = jsonl_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	if (!s || jsonskim_object(&p->sk, s, strlen(s)) < 0) {
		plan_errf(err, "%s: resource record is not an object of valid "
		    "strings", where);
		free(s);
		return -1;
	}
	rc = add_text(p, s, &p->sk, where, from_state, err);
	free(s);
	return rc;
}

int
plan_add_resource(struct plan *p, json_t *rec, const char *where,
    struct buf *err)
{
	return plan_add_json(p, rec, where, 0, err);
}

int
plan_add_status(struct plan *p, json_t *st, const char *where,
    struct buf *err)
{
	const char *type = plan_jstr(st, "type"), *name = plan_jstr(st, "name");
	long dup;

	p->live = 1;
	if (!type || !name || !plan_jstr(st, "state")) {
		plan_errf(err, "%s: status record without a \"type\", \"name\" "
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

long
plan_find(const struct plan *p, const char *type, const char *name)
{
	return hmap_get(p, &p->idx, node_eq, type, name);
}

/* ---- `after` ---- */


/* ---- `after` ---- */

/*
 * Resolve the `after` names of node i into p->par (appended).  Live nodes
 * look among declared (not deleted) deployments and stacks; deleted ones
 * among deleted ones only, and ignore what is not being deleted.
 */
static int
resolve_after(struct plan *p, size_t i, size_t *npar, size_t *cappar,
    int lenient, struct buf *err)
{
	struct node *n = &p->nodes[i];
	const char *after = n->res + n->aoff, *an;
	struct buf *nb = &p->decoded;
	int deleted = n->op == OP_DELETE, rc = 0;
	long d, s;
	size_t pos = 0, eo, el;

	n->parents_at = *npar;
	n->nparents = 0;
	if (!n->alen || (n->alen == 4 && memcmp(after, "null", 4) == 0))
		return 0;
	if (after[0] != '[') {
		plan_errf(err, "%s: 'after' of %s '%s' is not a list of names",
		    node_after_src(n), n->type, n->name);
		return -1;
	}
	while (jsonskim_next(after, n->alen, &pos, &eo, &el)) {
		if (jsonskim_string(after + eo, el, nb) < 0) {
			plan_errf(err, "%s: 'after' of %s '%s' is not a list of "
			    "names", node_after_src(n), n->type, n->name);
			rc = -1;
			continue;
		}
		an = nb->s;
		d = plan_find(p, "deployment", an);
		s = plan_find(p, "stack", an);
		if (d >= 0 && (p->nodes[d].op == OP_DELETE) != deleted)
			d = -1;
		if (s >= 0 && (p->nodes[s].op == OP_DELETE) != deleted)
			s = -1;
		if (deleted && (d < 0) == (s < 0))
			continue;	/* still there, gone, or ambiguous */
		if (d >= 0 && s >= 0) {
			plan_errf(err, "%s: 'after' of %s '%s' names '%s', which "
			    "is both deployment '%s' (%s) and stack '%s' (%s)",
			    node_after_src(n), n->type, n->name, an, an,
			    plan_node_src(&p->nodes[d]), an,
			    plan_node_src(&p->nodes[s]));
			rc = -1;
			continue;
		}
		if (d < 0 && s < 0 && lenient)
			continue;	/* the caller's to report */
		if (d < 0 && s < 0) {
			d = plan_find(p, "deployment", an);
			s = plan_find(p, "stack", an);
			if (d >= 0 || s >= 0)
				plan_errf(err, "%s: 'after' of %s '%s' names %s "
				    "'%s', which is being deleted",
				    node_after_src(n), n->type, n->name,
				    d >= 0 ? "deployment" : "stack", an);
			else
				plan_errf(err, "%s: 'after' of %s '%s' names "
				    "unknown '%s' (no deployment or stack of "
				    "that name)", node_after_src(n), n->type,
				    n->name, an);
			rc = -1;
			continue;
		}
		KOM_GROW(p->par, *npar + 1, *cappar);
		p->par[(*npar)++] = (size_t)(d >= 0 ? d : s);
		n->nparents++;
	}
	return rc;
}

static const char *
type_title(const struct node *n)
{
	return n->runs == RUNS_STACK ? "Stack" : "Deployment";
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
		for (k = 0; k < n->nparents; k++)
			if (p->nodes[p->par[n->parents_at + k]].mark == comp)
				break;
		v = p->par[n->parents_at + k];	/* one exists: comp is a cycle */
	}
	first = (size_t)seen[v];
	L = len - first;
	best = first;
	for (i = first; i < len; i++) {
		struct node *x = &p->nodes[path[i]], *c = &p->nodes[path[best]];

		if (x->type_rank < c->type_rank || (x->type_rank == c->type_rank &&
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
	plan_errf(err, "%s", b.s);
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

			if (f->k < nd->nparents) {
				size_t w = p->par[nd->parents_at + f->k++];

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
				for (k = 0; k < nd->nparents; k++)
					if (p->par[nd->parents_at + k] == f->v)
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
add_paths(struct buf *b, const struct node *n)
{
	json_t *ch, *c;
	size_t i, shown = 0;
	const char *path;

	if (!n->changes)
		return;
	ch = json_loadb(n->changes, n->chlen, JSON_REJECT_DUPLICATES, NULL);
	json_array_foreach(ch, i, c) {
		if (!(path = plan_jstr(c, "path")))
			continue;
		if (shown == 8) {
			buf_printf(b, " and %zu more",
			    json_array_size(ch) - i);
			break;
		}
		buf_printf(b, "%s%s", shown ? ", " : ": ", path);
		/* a new commit says which (a repo that was pulled) */
		if (!strcmp(path, "git.commit"))
			buf_printf(b, " (%.7s..%.7s)", plan_jstr(c, "from") ?
			    plan_jstr(c, "from") : "none", plan_jstr(c, "to") ?
			    plan_jstr(c, "to") : "none");
		shown++;
	}
	json_decref(ch);
}

static const char *
record_reason(struct plan *p, const struct node *n, const char *why)
{
	struct buf *b = &p->key_or_reason;

	buf_reset(b);
	buf_adds(b, n->op == OP_CREATE ? "create" : n->op == OP_UPDATE ?
	    "update" : "deleted from the sync");
	if (n->op == OP_UPDATE)
		add_paths(b, n);
	if (why)
		buf_printf(b, " (%s)", why);
	return plan_arena_str(p, b->s, b->len);
}

static const char *
image_tag(const char *image)
{
	const char *c = strrchr(image, ':'), *s = strrchr(image, '/');

	if (!c || (s && s > c))
		return "latest";
	return c + 1;
}

/*
 * Komodo's build check (2.7), from what kom-sync read in the state dir
 * (the record's "build", lib/buildver): a deployment that runs its
 * build's latest version redeploys when the build's recorded version is
 * not the one its last deploy ran (or, deployed before kom recorded that,
 * the tag of the running image).  With redeploy_on_build, a build whose
 * record step builds in this run redeploys it after that step, at the
 * version that build will get.  A pinned version is part of the config:
 * changing it is a config change.  The reason, or NULL.
 */
static const char *
build_reason(struct plan *p, size_t ni, const json_t *st)
{
	struct node *n = &p->nodes[ni];
	const json_t *rec, *b, *bcfg;
	const char *bname, *pinned, *ver, *ran, *running;
	char v[64];
	long b_i, nv[3];

	if (!memmem(n->res, n->reslen, "\"Build\"", 7) ||
	    !(rec = plan_node_rec(p, ni)) || !(bname = buildver_of(
	    json_object_get(rec, "config"), &pinned)) || pinned)
		return NULL;
	b = json_object_get(rec, "build");
	ver = plan_jstr(b, "version");
	ran = plan_jstr(b, "deployed");
	if ((!ran || !*ran) && (running = plan_jstr(st, "image")))
		ran = image_tag(running);
	if (!ran)
		ran = "";
	b_i = plan_find(p, "build", bname);
	if (b_i >= 0 && (p->nodes[b_i].op == OP_CREATE ||
	    p->nodes[b_i].op == OP_UPDATE))
		n->built_by = (size_t)b_i + 1;	/* its deploy comes after */
	if (n->built_by && json_is_true(json_object_get(
	    json_object_get(rec, "config"), "redeploy_on_build")) &&
	    (n->deploy || *ran) && (bcfg = json_object_get(plan_node_rec(p,
	    (size_t)b_i), "config")) && buildver_next(bcfg, ver, nv) == 0) {
		snprintf(v, sizeof(v), "%ld.%ld.%ld", nv[0], nv[1], nv[2]);
		return acat(p, "build has new version: ", v, NULL);
	}
	if (!n->deploy && !json_is_true(json_object_get(json_object_get(rec,
	    "config"), "redeploy_on_build")))
		return NULL;
	if (!ver || !*ver || !*ran || strcmp(ver, ran) == 0)
		return NULL;	/* never built here, never deployed, or same */
	return acat(p, "build has new version: ", ver, NULL);
}

/*
 * Why kom cannot deploy node ni yet (support.h's table), or NULL.  The
 * record is parsed only when its text could hold such a thing.
 */
static const char *
refusal(struct plan *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	struct buf what = BUF_INIT, blocker = BUF_INIT;
	const char *r = NULL;
	int refuse = 0;

	if (!memmem(n->res, n->reslen, "\"swarm\":\"", 9) &&
	    !memmem(n->res, n->reslen, "repo\":\"", 7))
		return NULL;
	if (plan_node_rec(p, ni) && support_check(n->rec, &what, &refuse,
	    &blocker) && refuse)
		r = acat(p, n->reason ? n->reason : "deploy", "; refused: kom "
		    "cannot deploy this yet: ", blocker.s, NULL);
	buf_free(&what);
	buf_free(&blocker);
	return r;
}

/*
 * A stack from git whose changed files all ask for a restart only
 * (kom-sync's "restart_changes"): the reason, or NULL.
 */
static const char *
restart_reason(struct plan *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	json_t *rec, *v;
	struct buf b = BUF_INIT;
	const char *r = NULL;
	size_t i;

	if (n->runs != RUNS_STACK || n->op != OP_UPDATE ||
	    !memmem(n->res, n->reslen, "\"restart_changes\"", 17) ||
	    !(rec = plan_node_rec(p, ni)))
		return NULL;
	json_array_foreach(json_object_get(rec, "restart_changes"), i, v) {
		if (!json_is_string(v))
			continue;
		if (b.len)
			buf_adds(&b, ", ");
		buf_adds(&b, json_string_value(v));
	}
	if (b.len)
		r = acat(p, "stack config files have changed: ", b.s, NULL);
	buf_free(&b);
	return r;
}

/* The decision for a declared deploy=true deployment or stack. */
static void
decide(struct plan *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	const char *t = n->runs == RUNS_STACK ? "stack" : "deployment";
	const char *dc, *r, *state, *drift, *detail;
	json_t *st = NULL;
	long si;

	if (n->op == OP_CREATE) {
		n->decision = DEC_DEPLOY;
		n->reason = "deploy on creation";
		if (n->runs == RUNS_DEPLOYMENT)
			(void)build_reason(p, ni, NULL);	/* built_by */
		return;
	}
	dc = n->op == OP_UPDATE ? n->dchanges : NULL;
	if (!p->live) {
		if (dc) {
			n->decision = DEC_DEPLOY;
			n->reason = acat(p, t, " config has changed: ", dc,
			    NULL);
		} else if (n->runs == RUNS_DEPLOYMENT &&
		    (r = build_reason(p, ni, NULL))) {
			n->decision = DEC_DEPLOY;
			n->reason = r;
		} else if ((r = restart_reason(p, ni))) {
			n->decision = DEC_RESTART;
			n->reason = r;
		} else {
			n->decision = DEC_ENSURE;
			n->reason = "unchanged: deploy only if not running as "
			    "applied (no live status given)";
		}
		return;
	}
	if ((si = hmap_get(p, &p->stidx, status_eq, n->type, n->name)) >= 0)
		st = p->sts[si].rec;
	state = st ? plan_jstr(st, "state") : n->runs == RUNS_STACK ? "down" :
	    "not_deployed";
	if (strcmp(state, "unknown") == 0) {
		n->decision = DEC_HOLD;
		n->reason = acat(p, "not deployed: ", t, " has unknown state",
		    NULL);
	} else if (strcmp(state, "running") != 0) {
		n->decision = DEC_DEPLOY;
		n->reason = acat(p, t, " has ", state, " state", NULL);
	} else if (dc) {
		n->decision = DEC_DEPLOY;
		n->reason = acat(p, t, " config has changed: ", dc, NULL);
	} else if ((drift = plan_jstr(st, "drift")) != NULL) {
		detail = plan_jstr(st, "drift_detail");
		n->decision = DEC_DEPLOY;
		n->reason = acat(p, t, " has drifted: ", drift,
		    detail && *detail ? " (" : "", detail ? detail : "",
		    detail && *detail ? ")" : "", NULL);
	} else if (n->runs == RUNS_DEPLOYMENT && (r = build_reason(p, ni, st))) {
		n->decision = DEC_DEPLOY;
		n->reason = r;
	} else if ((r = restart_reason(p, ni))) {
		n->decision = DEC_RESTART;
		n->reason = r;
	} else {
		n->decision = DEC_WAIT;
		n->reason = acat(p, t, " is running and unchanged", NULL);
	}
}

/* Ordered as strcmp orders the names (which hold no NUL) when different. */
static uint64_t
name_prefix(const char *s)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		v <<= 8;
		if (*s)
			v |= (unsigned char)*s++;
	}
	return v;
}

static int
sstep_cmp(const void *a, const void *b)
{
	const struct sstep *x = a, *y = b;
	int c;

	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	if (x->type_rank != y->type_rank)
		return x->type_rank < y->type_rank ? -1 : 1;
	if (x->sub != y->sub)
		return x->sub < y->sub ? -1 : 1;
	if (x->pfx != y->pfx)	/* as strcmp, without visiting the names */
		return x->pfx < y->pfx ? -1 : 1;
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


/* A step without needs (add_needs gives them); execution is taken. */
void
plan_push_step(struct plan *p, long id, int stage, const char *action,
    const char *type, const char *name, const char *reason, long node,
    json_t *execution)
{
	struct step *s;

	KOM_GROW(p->steps, p->nsteps + 1, p->capsteps);
	s = &p->steps[p->nsteps++];
	s->id = id;
	s->stage = stage;
	s->action = action;
	s->type = type;
	s->name = name;
	s->reason = reason;
	s->noff = p->nneeds;
	s->nneeds = 0;
	s->node = node;
	s->execution = execution;
}

/* The needs of the last step: ids, sorted and without repeats. */
static void
add_needs(struct plan *p, long *ids, size_t n)
{
	struct step *s = &p->steps[p->nsteps - 1];
	size_t i;

	if (n > 1)
		qsort(ids, n, sizeof(*ids), long_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1]) {
			KOM_GROW(p->needs, p->nneeds + 1, p->capneeds);
			p->needs[p->nneeds++] = ids[i];
			s->nneeds++;
		}
}

/*
 * The `after` graph: parents and children of the deploy=true declared and
 * the deleted deployments and stacks, in an order where parents come
 * first (Kahn).  Returns that order (p->n entries, the caller's to free),
 * or NULL after reporting bad names (unless lenient: unknown ones are then
 * left out) and every cycle.
 */
static size_t *
after_order(struct plan *p, int lenient, struct buf *err)
{
	size_t i, k, npar = 0, cappar = 0, *indeg, *topo, head = 0, tail = 0;
	int rc = 0;

	/* Edges: deploy=true declared nodes, and deleted ones. */
	for (i = 0; i < p->n; i++) {
		struct node *n = &p->nodes[i];

		n->parents_at = npar;
		if (n->runs != RUNS_NOTHING && (n->op == OP_DELETE || n->deploy))
			if (resolve_after(p, i, &npar, &cappar, lenient,
			    err) < 0)
				rc = -1;
	}
	if (rc < 0)
		return NULL;

	/* Children, for Kahn's algorithm and for destroy needs. */
	indeg = xcalloc(p->n + 1, sizeof(*indeg));
	for (k = 0; k < npar; k++)
		indeg[p->par[k]]++;
	for (i = 0, k = 0; i < p->n; i++) {
		p->nodes[i].children_at = k;
		p->nodes[i].nchildren = 0;
		k += indeg[i];
	}
	free(p->chl);
	p->chl = xcalloc(npar + 1, sizeof(*p->chl));
	for (i = 0; i < p->n; i++)
		for (k = 0; k < p->nodes[i].nparents; k++) {
			struct node *par = &p->nodes[p->par[p->nodes[i].parents_at +
			    k]];

			p->chl[par->children_at + par->nchildren++] = i;
		}

	/* Kahn: a node is ready when all its parents are placed. */
	topo = xcalloc(p->n + 1, sizeof(*topo));
	for (i = 0; i < p->n; i++) {
		indeg[i] = p->nodes[i].nparents;
		if (!indeg[i])
			topo[tail++] = i;
	}
	while (head < tail) {
		struct node *n = &p->nodes[topo[head++]];

		for (k = 0; k < n->nchildren; k++)
			if (--indeg[p->chl[n->children_at + k]] == 0)
				topo[tail++] = p->chl[n->children_at + k];
	}
	if (tail < p->n) {
		char *left = xcalloc(p->n, 1);

		for (i = 0; i < p->n; i++)
			left[i] = indeg[i] != 0;
		report_cycles(p, left, err);
		free(left);
		free(indeg);
		free(topo);
		return NULL;
	}
	free(indeg);
	return topo;
}

int
plan_check_after(struct plan *p, struct buf *err)
{
	size_t *topo = after_order(p, 1, err);

	free(topo);
	return topo ? 0 : -1;
}

int
plan_build(struct plan *p, struct buf *err)
{
	size_t i, k, *topo;
	size_t nss = 0;
	struct sstep *ss;
	long *ids = NULL;
	size_t capids = 0;
	int has_rec = 0, max_dl = -1, max_level = -1;
	int dbase, base, last;

	if (!(topo = after_order(p, 0, err)))
		return -1;

	/* Decisions, parents first, then the cascade. */
	for (k = 0; k < p->n; k++) {
		struct node *n = &p->nodes[topo[k]];

		if (n->op == OP_DELETE) {
			if (n->runs != RUNS_NOTHING) {
				n->decision = DEC_DEPLOY;	/* a destroy */
				n->reason = "deleted from the sync";
			} else {
				n->rec_reason = record_reason(p, n, NULL);
			}
			continue;
		}
		/* redeploy_on_build without deploy = true: only for that */
		if (n->runs == RUNS_DEPLOYMENT && !n->deploy &&
		    n->op != OP_CREATE && (n->reason = build_reason(p,
		    topo[k], NULL))) {
			n->decision = DEC_DEPLOY;
			continue;
		}
		if (n->runs == RUNS_NOTHING || !n->deploy) {
			if (n->op != OP_KEEP)
				n->rec_reason = record_reason(p, n,
				    n->runs == RUNS_NOTHING ? NULL :
				    "deploy = false");
			continue;
		}
		decide(p, topo[k]);
		if (n->decision == DEC_WAIT || n->decision == DEC_ENSURE) {
			for (i = 0; i < n->nparents; i++) {
				struct node *par = &p->nodes[p->par[n->parents_at +
				    i]];

				if (par->decision == DEC_DEPLOY) {
					n->reason = acat(p, type_title(par),
					    " parent dependency '", par->name,
					    "' is deploying", NULL);
					n->decision = DEC_DEPLOY;
					break;
				}
			}
		}
		if (n->op == OP_UPDATE && n->decision != DEC_DEPLOY)
			n->rec_reason = record_reason(p, n, n->decision == DEC_HOLD ?
			    n->reason : "no deploy-relevant change");
		if (n->decision == DEC_WAIT || n->decision == DEC_HOLD) {
			n->reason = NULL;
			n->decision = DEC_NONE;
		}
	}

	/*
	 * What kom cannot deploy yet is refused, and so is what is after it:
	 * "refuse" steps in a stage of their own after all others, so that
	 * their failure skips no unrelated work.
	 */
	for (k = 0; k < p->n; k++) {
		struct node *n = &p->nodes[topo[k]];

		if (n->op == OP_DELETE || n->decision < DEC_ENSURE)
			continue;
		n->refusal = refusal(p, topo[k]);
		for (i = 0; !n->refusal && i < n->nparents; i++) {
			struct node *par = &p->nodes[p->par[n->parents_at + i]];

			if (par->refusal)
				n->refusal = acat(p, n->reason ? n->reason :
				    "deploy", "; refused: it is after ",
				    par->type, " '", par->name, "', which kom "
				    "cannot deploy yet", NULL);
		}
	}

	/* Levels: deploys by their deploying ancestors, destroys by dependents. */
	for (k = 0; k < p->n; k++) {
		struct node *n = &p->nodes[topo[k]];

		if (n->rec_reason)
			has_rec = 1;
		if (n->op == OP_DELETE || n->decision < DEC_ENSURE || n->refusal)
			continue;
		for (i = 0; i < n->nparents; i++) {
			struct node *par = &p->nodes[p->par[n->parents_at + i]];

			if (par->decision >= DEC_ENSURE && par->level + 1 > n->level)
				n->level = par->level + 1;
		}
		if (n->level > max_level)
			max_level = n->level;
	}
	for (k = p->n; k-- > 0;) {
		struct node *n = &p->nodes[topo[k]];

		if (n->op != OP_DELETE || n->runs == RUNS_NOTHING)
			continue;
		if (n->level > max_dl)
			max_dl = n->level;
		for (i = 0; i < n->nparents; i++) {
			struct node *par = &p->nodes[p->par[n->parents_at + i]];

			if (n->level + 1 > par->level)
				par->level = n->level + 1;
		}
	}
	free(topo);
	dbase = has_rec ? 1 : 0;
	base = dbase + max_dl + 1;
	/* after every other stage (the last one that has steps) */
	last = (max_level >= 0 ? base + 1 + max_level : max_dl >= 0 ?
	    dbase + 1 + max_dl : dbase) + 1;

	/* The steps, sorted by stage, type order, op, name. */
	ss = xcalloc(st_mul(p->n, 2) + 1, sizeof(*ss));
	for (i = 0; i < p->n; i++) {
		struct node *n = &p->nodes[i];

		if (n->rec_reason)
			ss[nss++] = (struct sstep){ 1, n->type_rank, n->op, STEP_RECORD,
			    name_prefix(n->name), n->name, i };
		if (n->op == OP_DELETE && n->runs != RUNS_NOTHING)
			ss[nss++] = (struct sstep){ dbase + 1 + n->level,
			    n->type_rank, 0, STEP_DESTROY, name_prefix(n->name),
			    n->name, i };
		else if (n->decision >= DEC_ENSURE && n->refusal)
			ss[nss++] = (struct sstep){ last, n->type_rank, 0, STEP_REFUSE,
			    name_prefix(n->name), n->name, i };
		else if (n->decision >= DEC_ENSURE)
			ss[nss++] = (struct sstep){ base + 1 + n->level,
			    n->type_rank, 0, STEP_DEPLOY, name_prefix(n->name),
			    n->name, i };
	}
	qsort(ss, nss, sizeof(*ss), sstep_cmp);
	for (k = 0; k < nss; k++) {
		struct node *n = &p->nodes[ss[k].node];

		if (ss[k].kind == STEP_RECORD)
			n->rec_id = (long)k + 1;
		else
			n->dep_id = (long)k + 1;
	}
	for (k = 0; k < nss; k++) {
		struct node *n = &p->nodes[ss[k].node];
		size_t nids = 0;
		const char *action;

		if (ss[k].kind == STEP_DEPLOY) {
			for (i = 0; i < n->nparents; i++) {
				struct node *par = &p->nodes[p->par[n->parents_at +
				    i]];

				if (par->decision >= DEC_ENSURE) {
					KOM_GROW(ids, nids + 1, capids);
					ids[nids++] = par->dep_id;
				}
			}
			/* after the build it runs, when that builds now */
			if (n->built_by && p->nodes[n->built_by - 1].rec_id > 0) {
				KOM_GROW(ids, nids + 1, capids);
				ids[nids++] = p->nodes[n->built_by - 1].rec_id;
			}
			action = n->decision == DEC_DEPLOY ? "deploy" :
			    n->decision == DEC_RESTART ? "restart" : "ensure";
		} else if (ss[k].kind == STEP_REFUSE) {
			action = "refuse";
		} else if (ss[k].kind == STEP_DESTROY) {
			for (i = 0; i < n->nchildren; i++) {
				struct node *c = &p->nodes[p->chl[n->children_at + i]];

				if (c->op == OP_DELETE) {
					KOM_GROW(ids, nids + 1, capids);
					ids[nids++] = c->dep_id;
				}
			}
			action = "destroy";
		} else {
			action = n->op == OP_DELETE ? "remove" : "record";
		}
		plan_push_step(p, (long)k + 1, ss[k].stage, action, n->type,
		    n->name, ss[k].kind == STEP_RECORD ? n->rec_reason :
		    ss[k].kind == STEP_REFUSE ? n->refusal : n->reason,
		    (long)ss[k].node, NULL);
		add_needs(p, ids, nids);
		if (ss[k].stage > p->stages)
			p->stages = ss[k].stage;
	}
	free(ids);
	free(ss);
	return 0;
}


#define buf_lit(b, s) buf_add((b), (s), sizeof(s) - 1)

/* One step as a JSON line (without the newline), as jansson would write it. */
static void
step_text(const struct plan *p, const struct step *s, struct buf *o)
{
	const struct node *n;
	size_t i;
	char *e;

	buf_lit(o, "{\"kind\":\"step\",\"id\":");
	buf_addl(o, s->id);
	buf_lit(o, ",\"stage\":");
	buf_addl(o, s->stage);
	buf_lit(o, ",\"action\":");
	jsonskim_quote(o, s->action, strlen(s->action));
	buf_lit(o, ",\"type\":");
	jsonskim_quote(o, s->type, strlen(s->type));
	buf_lit(o, ",\"name\":");
	jsonskim_quote(o, s->name, strlen(s->name));
	buf_lit(o, ",\"reason\":");
	jsonskim_quote(o, s->reason, strlen(s->reason));
	buf_lit(o, ",\"needs\":[");
	for (i = 0; i < s->nneeds; i++) {
		if (i)
			buf_addc(o, ',');
		buf_addl(o, p->needs[s->noff + i]);
	}
	buf_addc(o, ']');
	if (s->node >= 0) {
		n = &p->nodes[s->node];
		buf_lit(o, ",\"resource\":");
		buf_add(o, n->res, n->reslen);
	}
	if (s->execution) {
		if (!(e = jsonl_dumps(s->execution, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)))
			kom_die(KOM_EX_SOFTWARE, "out of memory writing a step");
		buf_lit(o, ",\"execution\":");
		buf_adds(o, e);
		free(e);
	}
	buf_addc(o, '}');
}

int
plan_write(const struct plan *p, FILE *fp, size_t *n)
{
	struct buf o = BUF_INIT;
	size_t i;
	int rc = 0;

	buf_grow(&o, OUT_CHUNK + 4096);
	for (i = 0; i < p->nsteps && !rc; i++) {
		step_text(p, &p->steps[i], &o);
		buf_addc(&o, '\n');
		if (o.len >= OUT_CHUNK) {
			if (fwrite(o.s, 1, o.len, fp) != o.len)
				rc = -1;
			buf_reset(&o);
		}
	}
	if (!rc && o.len && fwrite(o.s, 1, o.len, fp) != o.len)
		rc = -1;
	buf_free(&o);
	*n = p->nsteps;
	return rc;
}

json_t *const *
plan_steps(struct plan *p, size_t *n)
{
	struct buf o = BUF_INIT;
	size_t i;

	if (!p->jsteps && p->nsteps) {
		p->jsteps = xcalloc(p->nsteps, sizeof(*p->jsteps));
		for (i = 0; i < p->nsteps; i++) {
			buf_reset(&o);
			step_text(p, &p->steps[i], &o);
			if (!(p->jsteps[i] = json_loadb(o.s, o.len, 0, NULL)))
				kom_die(KOM_EX_SOFTWARE, "step %zu: invalid "
				    "JSON", i + 1);
		}
		buf_free(&o);
	}
	*n = p->nsteps;
	return p->jsteps;
}

int
plan_stages(const struct plan *p)
{
	return p->stages;
}
