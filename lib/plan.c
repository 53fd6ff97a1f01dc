#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonskim.h"
#include "pattern.h"
#include "plan.h"
#include "schema.h"
#include "state.h"
#include "util.h"
#include "banned.h"

enum { OP_KEEP, OP_CREATE, OP_UPDATE, OP_DELETE };
enum { CT_OTHER, CT_DEPLOYMENT, CT_STACK };
/* What a deployment or stack does, weakest first. */
enum { DEC_NONE, DEC_HOLD, DEC_WAIT, DEC_ENSURE, DEC_DEPLOY };
enum { SK_RECORD, SK_DESTROY, SK_DEPLOY };

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
	int tix, op, ctype, deploy, from_state;
	size_t eoff, ecnt;	/* parents (resolved `after`) in p->par */
	size_t coff, ccnt;	/* children in p->chl */
	int dec;
	const char *reason;	/* of the deploy/ensure/destroy step */
	const char *rec_reason;	/* of the record/remove step, when one */
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
	uint64_t pfx;		/* the name's first 8 bytes, big-endian */
	const char *name;
	size_t node;
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
	struct buf b1, b2, b3;	/* scratch */
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

static const char *
arena_str(struct plan *p, const char *s, size_t n)
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

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

struct plan *
plan_new(void)
{
	struct plan *p = xcalloc(1, sizeof(struct plan));

	jsonskim_init(&p->sk);
	buf_init(&p->b1);
	buf_init(&p->b2);
	buf_init(&p->b3);
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
	buf_free(&p->b1);
	buf_free(&p->b2);
	buf_free(&p->b3);
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

/* The record of a node as jansson, parsed on first use; owned by the node. */
static json_t *
node_rec(const struct plan *p, size_t i)
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
		return arena_str(p, v + 1, len - 2);
	jsonskim_string(v, len, &p->b3);
	return arena_str(p, p->b3.s, p->b3.len);
}

/* The deploy_changes strings of an update, ", "-joined, or NULL. */
static const char *
join_strings(struct plan *p, const char *a, size_t alen)
{
	struct buf *b = &p->b3, one = BUF_INIT;
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
	return b->len ? arena_str(p, b->s, b->len) : NULL;
}

static int
add_text(struct plan *p, const char *t, const struct jsonskim *sk,
    const char *where, int from_state, struct buf *err)
{
	struct buf *b = &p->b1;
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
			jsonskim_string(t + m->koff - 1, m->klen + 2, &p->b2);
			k = p->b2.s;
			klen = p->b2.len;
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
				    &p->b2);
			jsonskim_quote(b, p->b2.s, p->b2.len);
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
			char *d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
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
	n->type = type;
	n->name = name;
	n->src = src ? src : arena_str(p, where, strlen(where));
	n->after_src = asrc;
	n->res = arena_str(p, b->s, b->len);
	n->reslen = b->len;
	n->aoff = aoff;
	n->alen = alen;
	if (o == OP_UPDATE && ch) {
		n->changes = arena_str(p, ch, chlen);
		n->chlen = chlen;
	}
	if (o == OP_UPDATE && dc)
		n->dchanges = join_strings(p, dc, dclen);
	n->tix = plan_type_order(type);
	n->op = o;
	n->ctype = ctype_of(type);
	n->deploy = deploy;
	n->from_state = from_state;
	n->dep_id = n->rec_id = NO_ID;
	dup = hmap_put(p, &p->idx, node_eq, type, name, p->n);
	if (dup >= 0) {
		if (!from_state)
			errf(err, "%s: duplicate %s '%s' (first at %s)",
			    node_src(n), type, name,
			    node_src(&p->nodes[dup]));
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
static int
add_json(struct plan *p, const json_t *rec, const char *where, int from_state,
    struct buf *err)
{
	char *s = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	if (!s || jsonskim_object(&p->sk, s, strlen(s)) < 0) {
		errf(err, "%s: resource record is not an object of valid "
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
	return add_json(p, rec, where, 0, err);
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
	const char *after = n->res + n->aoff, *an;
	struct buf *nb = &p->b3;
	int deleted = n->op == OP_DELETE, rc = 0;
	long d, s;
	size_t pos = 0, eo, el;

	n->eoff = *npar;
	n->ecnt = 0;
	if (!n->alen || (n->alen == 4 && memcmp(after, "null", 4) == 0))
		return 0;
	if (after[0] != '[') {
		errf(err, "%s: 'after' of %s '%s' is not a list of names",
		    node_after_src(n), n->type, n->name);
		return -1;
	}
	while (jsonskim_next(after, n->alen, &pos, &eo, &el)) {
		if (jsonskim_string(after + eo, el, nb) < 0) {
			errf(err, "%s: 'after' of %s '%s' is not a list of "
			    "names", node_after_src(n), n->type, n->name);
			rc = -1;
			continue;
		}
		an = nb->s;
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
add_paths(struct buf *b, const struct node *n)
{
	json_t *ch, *c;
	size_t i, shown = 0;
	const char *path;

	if (!n->changes)
		return;
	ch = json_loadb(n->changes, n->chlen, JSON_REJECT_DUPLICATES, NULL);
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
	json_decref(ch);
}

static const char *
record_reason(struct plan *p, const struct node *n, const char *why)
{
	struct buf *b = &p->b2;

	buf_reset(b);
	buf_adds(b, n->op == OP_CREATE ? "create" : n->op == OP_UPDATE ?
	    "update" : "deleted from the sync");
	if (n->op == OP_UPDATE)
		add_paths(b, n);
	if (why)
		buf_printf(b, " (%s)", why);
	return arena_str(p, b->s, b->len);
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
 * Komodo's build check, the right way round: a deployment that runs the
 * build's latest version (pinned version 0.0.0) redeploys when the build's
 * version differs from the tag of the running image.  A pinned version is
 * part of the config: changing it is a config change.
 */
/*
 * Komodo's build check, the right way round: a deployment that runs the
 * build's latest version (pinned version 0.0.0) redeploys when the build's
 * version differs from the tag of the running image.  A pinned version is
 * part of the config: changing it is a config change.
 */
static const char *
build_reason(struct plan *p, size_t ni, const json_t *st)
{
	json_t *img = json_object_get(json_object_get(node_rec(p, ni),
	    "config"), "image");
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
	bver = jstr(json_object_get(node_rec(p, (size_t)b), "config"),
	    "version");
	if (!bver || !*bver || strcmp(bver, "0.0.0") == 0)
		return NULL;	/* never built */
	if (strcmp(image_tag(running), bver) == 0)
		return NULL;
	return acat(p, "build has new version: ", bver, NULL);
}

/* The decision for a declared deploy=true deployment or stack. */
static void
decide(struct plan *p, size_t ni)
{
	struct node *n = &p->nodes[ni];
	const char *t = n->ctype == CT_STACK ? "stack" : "deployment";
	const char *dc, *r, *state, *drift, *detail;
	json_t *st = NULL;
	long si;

	if (n->op == OP_CREATE) {
		n->dec = DEC_DEPLOY;
		n->reason = "deploy on creation";
		return;
	}
	dc = n->op == OP_UPDATE ? n->dchanges : NULL;
	if (!p->live) {
		if (dc) {
			n->dec = DEC_DEPLOY;
			n->reason = acat(p, t, " config has changed: ", dc,
			    NULL);
		} else {
			n->dec = DEC_ENSURE;
			n->reason = "unchanged: deploy only if not running as "
			    "applied (no live status given)";
		}
		return;
	}
	if ((si = hmap_get(p, &p->stidx, status_eq, n->type, n->name)) >= 0)
		st = p->sts[si].rec;
	state = st ? jstr(st, "state") : n->ctype == CT_STACK ? "down" :
	    "not_deployed";
	if (strcmp(state, "unknown") == 0) {
		n->dec = DEC_HOLD;
		n->reason = acat(p, "not deployed: ", t, " has unknown state",
		    NULL);
	} else if (strcmp(state, "running") != 0) {
		n->dec = DEC_DEPLOY;
		n->reason = acat(p, t, " has ", state, " state", NULL);
	} else if (dc) {
		n->dec = DEC_DEPLOY;
		n->reason = acat(p, t, " config has changed: ", dc, NULL);
	} else if ((drift = jstr(st, "drift")) != NULL) {
		detail = jstr(st, "drift_detail");
		n->dec = DEC_DEPLOY;
		n->reason = acat(p, t, " has drifted: ", drift,
		    detail && *detail ? " (" : "", detail ? detail : "",
		    detail && *detail ? ")" : "", NULL);
	} else if (n->ctype == CT_DEPLOYMENT && (r = build_reason(p, ni, st))) {
		n->dec = DEC_DEPLOY;
		n->reason = r;
	} else {
		n->dec = DEC_WAIT;
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
	if (x->tix != y->tix)
		return x->tix < y->tix ? -1 : 1;
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
static void
push_step(struct plan *p, long id, int stage, const char *action,
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
				n->reason = "deleted from the sync";
			} else {
				n->rec_reason = record_reason(p, n, NULL);
			}
			continue;
		}
		if (n->ctype == CT_OTHER || !n->deploy) {
			if (n->op != OP_KEEP)
				n->rec_reason = record_reason(p, n,
				    n->ctype == CT_OTHER ? NULL :
				    "deploy = false");
			continue;
		}
		decide(p, topo[k]);
		if (n->dec == DEC_WAIT || n->dec == DEC_ENSURE) {
			for (i = 0; i < n->ecnt; i++) {
				struct node *par = &p->nodes[p->par[n->eoff +
				    i]];

				if (par->dec == DEC_DEPLOY) {
					n->reason = acat(p, type_title(par),
					    " parent dependency '", par->name,
					    "' is deploying", NULL);
					n->dec = DEC_DEPLOY;
					break;
				}
			}
		}
		if (n->op == OP_UPDATE && n->dec != DEC_DEPLOY)
			n->rec_reason = record_reason(p, n, n->dec == DEC_HOLD ?
			    n->reason : "no deploy-relevant change");
		if (n->dec == DEC_WAIT || n->dec == DEC_HOLD) {
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
			    name_prefix(n->name), n->name, i };
		if (n->op == OP_DELETE && n->ctype != CT_OTHER)
			ss[nss++] = (struct sstep){ dbase + 1 + n->level,
			    n->tix, 0, SK_DESTROY, name_prefix(n->name),
			    n->name, i };
		else if (n->dec >= DEC_ENSURE)
			ss[nss++] = (struct sstep){ base + 1 + n->level,
			    n->tix, 0, SK_DEPLOY, name_prefix(n->name),
			    n->name, i };
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
		push_step(p, (long)k + 1, ss[k].stage, action, n->type,
		    n->name, ss[k].kind == SK_RECORD ? n->rec_reason :
		    n->reason, (long)ss[k].node, NULL);
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
		if (!(e = json_dumps(s->execution, JSON_COMPACT |
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

/* Load statedir/resources/<type>/ once, as nodes the stream lacks.  A
 * state dir that cannot be read fails the plan (after state's message). */
static void
load_state_type(struct pctx *c, const char *type)
{
	struct plan *p = c->p;
	int tix = plan_type_order(type);
	struct buf junk = BUF_INIT;
	json_t *recs, *rec;
	char *path;
	size_t i;

	if (!c->statedir || tix >= (int)KOM_NELEM(p->state_loaded) ||
	    p->state_loaded[tix])
		return;
	p->state_loaded[tix] = 1;
	if (state_load_type(c->statedir, type, &recs) < 0) {
		errf(c->err, "%s: the applied %s resources cannot be read",
		    c->statedir, type);
		c->failed = 1;
		return;
	}
	json_array_foreach(recs, i, rec) {
		if (!json_is_object(rec) || !jstr(rec, "name") ||
		    !jstr(rec, "type") || strcmp(jstr(rec, "type"), type) != 0)
			continue;
		json_object_del(rec, "applied_at");
		json_object_del(rec, "exec");
		path = state_path(c->statedir, type, jstr(rec, "name"));
		add_json(p, rec, path ? path : c->statedir, 1, &junk);
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
	json_t *empty, *exec;
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
	if (c->n >= PLAN_MAX_PROC_STEPS) {
		if (!c->failed)
			errf(c->err, "procedure '%s' expands to more than %d "
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
	c->steps[c->n] = (struct pstep){ action, arena_str(c->p, type,
	    strlen(type)), arena_str(c->p, name, strlen(name)),
	    arena_str(c->p, r.s, r.len), t ? (long)(t - c->p->nodes) : -1,
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
	stages = json_object_get(json_object_get(node_rec(c->p,
	    (size_t)(proc - c->p->nodes)), "config"), "stages");
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
		push_step(p, (long)i + 1, stage, s->action, s->type, s->name,
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
