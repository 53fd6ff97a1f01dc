/*
 * resource_refs: the references between resources, checked once every
 * file is read (so that declaration order does not matter), the `after`
 * cycles (kom-plan's own check), and the pull-mode selection
 * (resource_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "jsonl.h"
#include "jsonskim.h"
#include "kv.h"
#include "plan.h"
#include "resource.h"
#include "resource_int.h"
#include "schema.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

void
res_add_ref(struct ctx *c, enum ref_kind kind, const char *type,
    const char *name, size_t namelen, int line, int col, json_t *slot)
{
	struct ref *r;

	if (c->pass)	/* rebuilding: checked already */
		return;
	KOM_GROW(c->refs, c->nrefs + 1, c->refcap);
	r = &c->refs[c->nrefs++];
	r->kind = kind;
	r->type = type;
	r->name = xstrndup(name, namelen);
	r->path = c->f->path;
	r->line = line;
	r->col = res_file_col(c->f, line, col);
	r->rtype = c->rtype;
	r->rname = c->rname ? c->rname : "";
	r->slot = slot;
}

static int
declared(struct ctx *c, const char *type, const char *name, char **norm)
{
	const struct schema_type *t = schema_type(type);
	struct kv_error err;
	char *n;
	int found;

	*norm = NULL;
	if (!t)
		return 0;
	n = kv_name(name, t->name_style, &err);
	if (!n)
		return 0;
	found = c->names[schema_rank(t)] &&
	    json_object_get(c->names[schema_rank(t)], n) != NULL;
	if (!found && c->opts->known &&
	    c->opts->known(c->opts->known_ctx, type, n))
		found = 1;
	if (found)
		*norm = n;
	else
		free(n);
	return found;
}

/* A secret file of that name exists (readable or not: a read error is
 * the deploy's to report, with the errno). */
static int
secret_file(struct ctx *c, const char *name)
{
	char *val, *where;
	int r = secrets_read(&c->sec, name, &val, &where);

	secrets_wipe(val);
	free(where);
	return r == 0 || errno != ENOENT;
}

/*
 * A warning of check_refs, held until all are known: the same problem
 * said once.  An undeclared [[NAME]] is one line for the whole load; a
 * reference to a resource declared elsewhere is one line per file, type,
 * name and kind.  The line is the first place's, with the count of the
 * others.
 */
struct held_warn {
	char *loc, *msg;
	long more;
	int is_var;
};

static void
hold_warn(json_t *groups, struct held_warn **v, size_t *n, size_t *cap,
    const char *key, char *loc, char *msg)
{
	json_t *at = json_object_get(groups, key);

	if (at) {
		(*v)[json_integer_value(at)].more++;
		free(loc);
		free(msg);
		return;
	}
	json_object_set_new(groups, key, json_integer((json_int_t)*n));
	KOM_GROW(*v, *n + 1, *cap);
	(*v)[*n].loc = loc;
	(*v)[*n].msg = msg;
	(*v)[*n].more = 0;
	(*v)[*n].is_var = !strncmp(key, "var ", 4);
	(*n)++;
}

void
res_check_refs(struct ctx *c)
{
	const struct schema_type *server = schema_type("server");
	int any_server = c->names[schema_rank(server)] != NULL;
	json_t *vars_ok = json_object(), *groups = json_object();
	struct held_warn *held = NULL;
	size_t i, nheld = 0, capheld = 0;

	for (i = 0; i < c->nrefs; i++) {
		struct ref *r = &c->refs[i];
		char *norm = NULL, *msg = NULL, *loc, *where, *key = NULL;
		int is_error = 1;

		/* the messages name the referrer as "TYPE 'NAME'" */

		switch (r->kind) {
		case REF_AFTER: {
			const char *as = "deployment";

			if (declared(c, as, r->name, &norm) ||
			    declared(c, as = "stack", r->name, &norm)) {
				json_string_set(r->slot, norm);
				if (!strcmp(as, r->rtype) &&
				    !strcmp(norm, r->rname)) {
					msg = xasprintf("%s '%s' is after "
					    "itself", r->rtype, r->rname);
					c->self_after = 1;
				}
				break;
			}
			msg = xasprintf("%s '%s' is after '%s', which is not "
			    "declared (no deployment or stack of that name)",
			    r->rtype, r->rname, r->name);
			break;
		}
		case REF_EXEC:
			/* the target may be another sync's, applied, or
			 * kom.toml's: kom-plan fails the step if it is still
			 * unknown then */
			if (declared(c, r->type, r->name, &norm))
				break;
			if (!strcmp(r->type, "server") && !any_server)
				break;
			is_error = 0;
			msg = xasprintf("%s '%s' runs an execution on %s "
			    "'%s', which is not declared here", r->rtype,
			    r->rname, r->type,
			    r->name);
			break;
		case REF_SERVER:
			if (!any_server || declared(c, r->type, r->name, &norm))
				break;
			is_error = 0;
			msg = xasprintf("%s '%s' is on %s '%s', which is not "
			    "declared", r->rtype, r->rname, r->type, r->name);
			break;
		case REF_SOFT:
		case REF_DISABLED:
			if (declared(c, r->type, r->name, &norm))
				break;
			is_error = 0;
			msg = xasprintf("%s '%s' %s %s '%s', which is not "
			    "declared", r->rtype, r->rname,
			    r->kind == REF_SOFT ? "uses" :
			    "has a disabled execution on", r->type, r->name);
			break;
		case REF_VAR:
			if (c->names[0] && json_object_get(c->names[0],
			    r->name))
				break;
			if (json_object_get(vars_ok, r->name))
				break;
			if (secret_file(c, r->name)) {
				json_object_set_new(vars_ok, r->name,
				    json_true());
				break;
			}
			is_error = 0;
			where = secrets_where(&c->sec);
			msg = xasprintf("%s '%s' uses [[%s]], but no variable "
			    "'%s' is declared and no secret file in %s has "
			    "that name", r->rtype, r->rname, r->name, r->name,
			    where);
			free(where);
			break;
		}
		if (msg) {
			loc = xasprintf("%s:%d:%d", r->path, r->line, r->col);
			if (is_error) {
				res_emit(c, 1, loc, msg);
				free(loc);
				free(msg);
			} else {
				key = r->kind == REF_VAR ?
				    xasprintf("var %s", r->name) :
				    xasprintf("%s\n%d\n%s\n%s", r->path,
				    (int)r->kind, r->type, r->name);
				hold_warn(groups, &held, &nheld, &capheld, key,
				    loc, msg);
				free(key);
			}
		}
		free(norm);
	}
	for (i = 0; i < nheld; i++) {
		char *m = !held[i].more ? xstrdup(held[i].msg) :
		    held[i].is_var ? xasprintf("%s (and %ld more use%s)",
		    held[i].msg, held[i].more, held[i].more == 1 ? "" : "s") :
		    xasprintf("%s (and %ld more in this file)", held[i].msg,
		    held[i].more);

		res_emit(c, 0, held[i].loc, m);
		free(m);
		free(held[i].loc);
		free(held[i].msg);
	}
	free(held);
	json_decref(groups);
	json_decref(vars_ok);
}

/*
 * Pull mode and match_tags.  A resource left out because it is another
 * server's sets *other to that server's name (borrowed from the records).
 */
int
res_keep(struct ctx *c, json_t *rec, int active, json_t *swarm_first,
    const char **other)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	json_t *cfg = json_object_get(rec, "config");
	const char *srv, *swm;
	size_t i, k;

	if (c->opts->nmatch_tags && strcmp(type, "variable") &&
	    strcmp(type, "user_group")) {
		json_t *tags = json_object_get(rec, "tags");

		for (i = 0; i < c->opts->nmatch_tags; i++) {
			for (k = 0; k < json_array_size(tags) &&
			    strcmp(json_string_value(json_array_get(tags, k)),
			    c->opts->match_tags[i]); k++)
				;
			if (k == json_array_size(tags))
				return 0;
		}
	}
	if (!active)
		return 1;
	if (!strcmp(type, "server")) {
		*other = json_string_value(json_object_get(rec, "name"));
		return !strcmp(*other, c->opts->server);
	}
	if (strcmp(type, "deployment") && strcmp(type, "stack") &&
	    strcmp(type, "repo"))
		return 1;
	srv = json_string_value(json_object_get(cfg, "server"));
	swm = json_string_value(json_object_get(cfg, "swarm"));
	if (swm && *swm && strcmp(type, "repo")) {
		json_t *first = json_object_get(swarm_first, swm);

		*other = first ? json_string_value(first) : swm;
		return first && !strcmp(json_string_value(first),
		    c->opts->server);
	}
	if (!srv || !*srv)
		return 1;
	*other = srv;
	return !strcmp(srv, c->opts->server);
}

/*
 * One line for everything pull mode left out: the count and the servers,
 * so that nothing vanishes without a word.  Not a warning: it is what
 * pull mode is for (and strict does not make it an error).  The first
 * eight servers are named, then how many others.
 */
#define OTHERS_SHOWN 8	/* servers named, in the order first seen */

void
res_note_others(struct ctx *c, json_t *others, size_t n)
{
	struct buf b = BUF_INIT;
	const char *k;
	json_t *v;
	size_t shown = 0;

	buf_printf(&b, "left out %zu resource%s of other servers (", n,
	    n == 1 ? "" : "s");
	json_object_foreach(others, k, v) {
		/* a fleet's worth of servers would make a line of pages */
		if (shown == OTHERS_SHOWN) {
			buf_printf(&b, " and %zu other servers",
			    json_object_size(others) - shown);
			break;
		}
		buf_printf(&b, "%s'%s': %lld", shown++ ? ", " : "", k,
		    (long long)json_integer_value(v));
	}
	buf_printf(&b, "); this host is '%s', -a includes them",
	    c->opts->server);
	if (c->opts->diag)
		c->opts->diag(c->opts->diag_ctx, 0, b.s);
	else
		kom_warn("%s", b.s);
	buf_free(&b);
}

/* v as compact JSON: strings and lists of strings written here, the
 * rest by jansson. */
static void
put_member(struct buf *t, const json_t *v)
{
	size_t i;

	if (json_is_string(v)) {
		jsonskim_quote(t, json_string_value(v), json_string_length(v));
		return;
	}
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				break;
		if (i == json_array_size(v)) {
			buf_addc(t, '[');
			for (i = 0; i < json_array_size(v); i++) {
				if (i)
					buf_addc(t, ',');
				put_member(t, json_array_get(v, i));
			}
			buf_addc(t, ']');
			return;
		}
	}
	{
		char *d = jsonl_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		buf_adds(t, d ? d : "null");
		free(d);
	}
}

/*
 * Which candidates (c->res indexes in cand) Kahn's algorithm cannot place
 * over their `after` edges among themselves: on a cycle or downstream of
 * one.  The rest can never be named in a cycle message, so the plan gets
 * only these (in the same order, so that its own Kahn leaves all of them
 * and its Tarjan walks them as before; edges to a dropped node were never
 * walked).  Sets *left[i] for cand[i]; returns how many are left, or -1
 * when a name is both a deployment's and a stack's among the candidates
 * (the plan reports that: then every candidate goes in).
 */
/* name -> candidate: an open-addressing index of names borrowed from the
 * records (a jansson object of 100,000 names was a tenth of validate) */
struct name_slot {
	const char *s;		/* NULL: empty */
	size_t len;
	size_t i;
};

static struct name_slot *
name_find(struct name_slot *ix, size_t mask, const char *s, size_t len)
{
	size_t h = (size_t)kom_fnv1a(s, len) & mask;

	while (ix[h].s && (ix[h].len != len || memcmp(ix[h].s, s, len)))
		h = (h + 1) & mask;
	return &ix[h];
}

static long
unplaceable(struct ctx *c, const size_t *cand, size_t n, char *left)
{
	struct name_slot *byname, *x;
	size_t mask = 15;
	size_t *indeg = xcalloc(n + 1, sizeof(*indeg));
	size_t *first = xcalloc(n + 1, sizeof(*first));
	size_t *edges = NULL, nedges = 0, ecap = 0, *queue, head = 0, tail = 0;
	size_t *chl, *at, i, k;
	long nleft = -1;

	/* name -> candidate; a duplicate (reported already) is not one */
	while (mask + 1 < st_mul(n, 2))
		mask = mask * 2 + 1;
	byname = xcalloc(mask + 1, sizeof(*byname));
	for (i = 0; i < n; i++) {
		const json_t *rec = c->res[cand[i]].rec;
		const json_t *nm = json_object_get(rec, "name");

		left[i] = 1;
		x = name_find(byname, mask, json_string_value(nm),
		    json_string_length(nm));
		if (x->s) {
			if (strcmp(json_string_value(json_object_get(
			    c->res[cand[x->i]].rec, "type")), json_string_value(
			    json_object_get(rec, "type"))))
				goto out;	/* deployment and stack */
			left[i] = 0;
			continue;
		}
		x->s = json_string_value(nm);
		x->len = json_string_length(nm);
		x->i = i;
	}
	/* edges parent -> child, as pairs */
	for (i = 0; i < n; i++) {
		const json_t *after = json_object_get(c->res[cand[i]].rec,
		    "after"), *a;

		if (!left[i])
			continue;
		json_array_foreach(after, k, a) {
			x = name_find(byname, mask, json_string_value(a),
			    json_string_length(a));
			if (!x->s)
				continue;
			KOM_GROW(edges, 2 * nedges + 2, ecap);
			edges[2 * nedges] = x->i;
			edges[2 * nedges + 1] = i;
			nedges++;
			indeg[i]++;
		}
	}
	/* children of each candidate, then Kahn */
	at = xcalloc(n + 1, sizeof(*at));
	chl = xcalloc(nedges + 1, sizeof(*chl));
	for (k = 0; k < nedges; k++)
		first[edges[2 * k]]++;
	for (i = 0, k = 0; i < n; i++) {
		size_t m = first[i];

		first[i] = k;
		at[i] = k;
		k += m;
	}
	for (k = 0; k < nedges; k++)
		chl[at[edges[2 * k]]++] = edges[2 * k + 1];
	queue = xcalloc(n + 1, sizeof(*queue));
	for (i = 0; i < n; i++)
		if (left[i] && !indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		size_t v = queue[head++];

		left[v] = 0;
		for (k = first[v]; k < at[v]; k++)
			if (--indeg[chl[k]] == 0)
				queue[tail++] = chl[k];
	}
	for (i = 0, nleft = 0; i < n; i++)
		nleft += left[i];
	free(queue);
	free(chl);
	free(at);
out:
	free(edges);
	free(first);
	free(indeg);
	free(byname);
	return nleft;
}

/*
 * Cycles in `after`: kom-plan's own check (plan_check_after), so that
 * validate rejects exactly what kom-plan would.
 */
void
res_check_cycles(struct ctx *c)
{
	/* what plan_check_after() reads of a record */
	static const char *const graph_members[] = { "type", "name", "source",
		"after_source", "deploy", "after" };
	struct plan *p = plan_new();
	struct buf err = BUF_INIT, t = BUF_INIT;
	struct jsonskim sk;
	size_t i, j, n = 0, *cand = NULL, ncand = 0, ccap = 0;
	char *line, *nl, *left;

	memset(&sk, 0, sizeof(sk));
	/* only a deploy=true resource with an `after` can be on a cycle (a
	 * name outside the plan is left alone: lenient) */
	for (i = 0; i < c->nres; i++) {
		const json_t *rec = c->res[i].rec;
		const char *type = json_string_value(json_object_get(rec,
		    "type"));

		if (c->res[i].drop || (strcmp(type, "deployment") &&
		    strcmp(type, "stack")) ||
		    !json_is_true(json_object_get(rec, "deploy")) ||
		    !json_array_size(json_object_get(rec, "after")))
			continue;
		KOM_GROW(cand, ncand + 1, ccap);
		cand[ncand++] = i;
	}
	left = xcalloc(ncand + 1, 1);
	if (unplaceable(c, cand, ncand, left) < 0)
		memset(left, 1, ncand);
	/* the plan gets the text of only the members the graph reads, not
	 * the whole record serialized */
	for (j = 0; j < ncand; j++) {
		const json_t *rec = c->res[cand[j]].rec;
		size_t k;

		if (!left[j])
			continue;
		buf_reset(&t);
		buf_addc(&t, '{');
		for (k = 0; k < KOM_NELEM(graph_members); k++) {
			const json_t *v = json_object_get(rec, graph_members[k]);

			if (!v)
				continue;
			if (t.len > 1)
				buf_addc(&t, ',');
			jsonskim_quote(&t, graph_members[k],
			    strlen(graph_members[k]));
			buf_addc(&t, ':');
			put_member(&t, v);
		}
		buf_addc(&t, '}');
		if (jsonskim_object(&sk, t.s, t.len) == 0 &&
		    plan_add_skimmed(p, t.s, &sk, "", &err) == 0)
			n++;
	}
	jsonskim_free(&sk);
	buf_free(&t);
	free(cand);
	free(left);
	/* duplicates were reported already; only the graph counts here */
	buf_reset(&err);
	if (n && plan_check_after(p, &err) < 0)
		for (line = err.s; line && *line; line = nl) {
			if ((nl = strchr(line, '\n')))
				*nl++ = '\0';
			res_emit(c, 1, NULL, line);
		}
	buf_free(&err);
	plan_free(p);
}
