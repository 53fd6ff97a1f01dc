/*
 * diff: declared resource records against applied ones (see diff.h).
 *
 * Configs are normalized by the resource layer (every field present with
 * its default), so comparing them field by field makes a sync fully
 * declarative per resource: a line removed from a file shows as a change
 * back to the default, as in Komodo (komodo-behaviour.md 0, 2.3).
 *
 * This file is the diff itself; diff_json.c writes the records as JSON
 * lines, diff_human.c renders the plan for a person (diff_int.h: what
 * they share).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "diff_int.h"
#include "interp.h"
#include "jsonl.h"
#include "schema.h"
#include "secrets.h"
#include "state.h"
#include "util.h"
#include "banned.h"


/* The fields of Komodo's redeploy rule (komodo-behaviour.md 2.7). */
static const char *const deploy_fields_deployment[] = {
	"server", "image", "image_registry_account", "skip_secret_interp",
	"network", "restart", "command", "extra_args", "ports", "volumes",
	"environment", "labels", NULL
};
static const char *const deploy_fields_stack[] = {
	"server", "project_name", "run_directory", "file_paths",
	"file_contents", "skip_secret_interp", "extra_args", "environment",
	"env_file_path", "additional_env_files", "linked_repo", "repo",
	"branch", "commit", "compose_cmd_wrapper", NULL
};

int
diff_type_rank(const char *type)
{
	return schema_type_rank(type);
}

static int
is_secret(const json_t *rec)
{
	return secrets_record_is_secret(rec);
}

static json_t *
mask(const char *name)
{
	char *s = xasprintf("<%s>", name);
	json_t *j = json_string(s);

	free(s);
	return j;
}

/* Sorted copy of an array of strings (tags, after): order means nothing. */
static json_t *
sorted_set(const json_t *a)
{
	json_t *out = json_array();
	const char **v;
	size_t i, n = json_array_size(a), m = 0, j;

	if (!n)
		return out;
	v = xreallocarray(NULL, n, sizeof(*v));
	for (i = 0; i < n; i++)
		if (json_is_string(json_array_get(a, i)))
			v[m++] = json_string_value(json_array_get(a, i));
	for (i = 1; i < m; i++)	/* insertion sort: these lists are short */
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = 0; i < m; i++)
		if (!i || strcmp(v[i - 1], v[i]))
			json_array_append_new(out, json_string(v[i]));
	free(v);
	return out;
}

static void
add_change(json_t *changes, const char *path, const json_t *from,
    const json_t *to)
{
	json_array_append_new(changes, json_pack("{s:s,s:O,s:O}", "path", path,
	    "from", from ? (json_t *)from : json_null(),
	    "to", to ? (json_t *)to : json_null()));
}

/* Both untagged, or tagged {type, params} with the same type. */
static int
same_variant(const json_t *a, const json_t *b)
{
	json_t *ta = json_object_get(a, "type"), *tb = json_object_get(b, "type");

	if (!ta && !tb)
		return 1;
	return ta && tb && json_equal(ta, tb);
}

/*
 * Compare values at path (a buf the walk extends and restores, so that
 * only changes allocate); objects of the same variant are walked into.
 */
static void
compare_at(json_t *changes, struct buf *path, const json_t *from,
    const json_t *to)
{
	const char *k;
	json_t *v;
	size_t len = path->len;

	if (from && to && json_equal((json_t *)from, (json_t *)to))
		return;
	if (!json_is_object(from) || !json_is_object(to) ||
	    !same_variant(from, to)) {
		add_change(changes, path->s, from, to);
		return;
	}
	json_object_foreach((json_t *)to, k, v) {
		buf_addc(path, '.');
		buf_adds(path, k);
		compare_at(changes, path, json_object_get(from, k), v);
		buf_truncate(path, len);
	}
	json_object_foreach((json_t *)from, k, v) {
		if (json_object_get(to, k))
			continue;
		buf_addc(path, '.');
		buf_adds(path, k);
		compare_at(changes, path, v, NULL);
		buf_truncate(path, len);
	}
}

static void
compare(json_t *changes, const char *path, const json_t *from,
    const json_t *to)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, path);
	compare_at(changes, &b, from, to);
	buf_free(&b);
}

static void
compare_meta(json_t *changes, const json_t *decl, const json_t *appl)
{
	json_t *a, *b;
	static const char *const sets[] = { "tags", "after" };
	static const char *const flags[] = { "template", "deploy" };
	size_t i;

	a = json_string(sget(appl, "description"));
	b = json_string(sget(decl, "description"));
	compare(changes, "description", a, b);
	json_decref(a);
	json_decref(b);
	for (i = 0; i < KOM_NELEM(sets); i++) {
		a = sorted_set(json_object_get(appl, sets[i]));
		b = sorted_set(json_object_get(decl, sets[i]));
		if (!json_equal(a, b))
			add_change(changes, sets[i],
			    json_object_get(appl, sets[i]) ?
			    json_object_get(appl, sets[i]) : a,
			    json_object_get(decl, sets[i]) ?
			    json_object_get(decl, sets[i]) : b);
		json_decref(a);
		json_decref(b);
	}
	for (i = 0; i < KOM_NELEM(flags); i++) {
		a = json_boolean(json_is_true(json_object_get(appl, flags[i])));
		b = json_boolean(json_is_true(json_object_get(decl, flags[i])));
		compare(changes, flags[i], a, b);
		json_decref(a);
		json_decref(b);
	}
}

static void
deploy_changes(json_t *dc, const char *type, const json_t *changes)
{
	const char *const *fields;
	const char *path, *f, *end;
	size_t i, j, len;
	json_t *c;

	if (!strcmp(type, "deployment"))
		fields = deploy_fields_deployment;
	else if (!strcmp(type, "stack"))
		fields = deploy_fields_stack;
	else
		return;
	json_array_foreach(changes, i, c) {
		path = sget(c, "path");
		if (strncmp(path, "config.", 7))
			continue;
		f = path + 7;
		end = strchr(f, '.');
		len = end ? (size_t)(end - f) : strlen(f);
		for (j = 0; fields[j]; j++) {
			size_t k;
			int dup = 0;

			if (strlen(fields[j]) != len || strncmp(fields[j], f, len))
				continue;
			for (k = 0; k < json_array_size(dc); k++)
				if (!strcmp(json_string_value(
				    json_array_get(dc, k)), fields[j]))
					dup = 1;
			if (!dup)
				json_array_append_new(dc,
				    json_string(fields[j]));
		}
	}
}

/* Replace every secret value in a variable record by <NAME>. */
static void
mask_record(json_t *rec, json_t *changes)
{
	const char *name = sget(rec, "name");
	json_t *cfg = json_object_get(rec, "config"), *c;
	size_t i;

	if (json_is_object(cfg) && json_object_get(cfg, "value")) {
		cfg = json_deep_copy(cfg);	/* shared with the input */
		json_object_set_new(cfg, "value", mask(name));
		json_object_set_new(rec, "config", cfg);
	}
	json_object_set_new(rec, "secret", json_true());
	json_array_foreach(changes, i, c) {
		if (strcmp(sget(c, "path"), "config.value"))
			continue;
		if (!json_is_null(json_object_get(c, "from")))
			json_object_set_new(c, "from", mask(name));
		if (!json_is_null(json_object_get(c, "to")))
			json_object_set_new(c, "to", mask(name));
	}
}

/*
 * A secret's value is <NAME> on both sides: its keyed hash tells a change
 * (secrets.h).  Declared without one (no host key), nothing is known;
 * applied without one (before kom hashed them), the change shows once.
 */
static void
compare_secret(json_t *changes, const json_t *decl, const json_t *appl)
{
	const char *dh = json_string_value(json_object_get(decl,
	    "secret_hash"));
	const char *ah = json_string_value(json_object_get(appl,
	    "secret_hash"));
	json_t *m, *c;
	size_t i;

	if (!dh || (ah && !strcmp(dh, ah)))
		return;
	json_array_foreach(changes, i, c)
		if (!strcmp(sget(c, "path"), "config.value"))
			return;
	m = mask(sget(decl, "name"));
	add_change(changes, "config.value", m, m);
	json_decref(m);
}

/* The short form of a commit, as Komodo shows it (git rev-parse --short). */
static char *
short_commit(const char *hex)
{
	return hex && *hex ? xstrndup(hex, 7) : xstrdup("none");
}

/*
 * A stack from git (resource_git()): the files it tracks against those
 * applied.  A new commit that changes none of them is no change of this
 * stack (Komodo #773); one that does is a change of each such file and of
 * git.commit, and a deploy change with Komodo's reason and the commit
 * range for each file that requires a redeploy (into dc) or a restart
 * (into restart).  A repo's "git" has no files: a new commit is a change
 * of git.commit.
 */
static void
compare_git(json_t *changes, json_t *dc, json_t *restart,
    const json_t *decl, const json_t *appl)
{
	const json_t *dg = json_object_get(decl, "git");
	const json_t *ag = json_object_get(appl, "git");
	const json_t *af = json_object_get(ag, "files"), *f, *a;
	const char *path, *before = sget(ag, "commit"), *after;
	char *b7, *a7, *p, *why;
	size_t n = 0;

	if (!dg)
		return;
	after = sget(dg, "commit");
	/* a build or a repo: its commit (a repo holds its whole tree) */
	if (!json_object_get(dg, "files")) {
		if (strcmp(before, after))
			add_change(changes, "git.commit", json_object_get(ag,
			    "commit"), json_object_get(dg, "commit"));
		return;
	}
	b7 = short_commit(before);
	a7 = short_commit(after);
	json_object_foreach((json_t *)json_object_get(dg, "files"), path, f) {
		const json_t *dh = json_object_get(f, "sha256");
		const json_t *ah;

		a = json_object_get(af, path);
		ah = json_object_get(a, "sha256");
		if (a && json_equal((json_t *)dh, (json_t *)ah))
			continue;
		n++;
		p = xasprintf("git.files.%s", path);
		add_change(changes, p, ah, dh);
		free(p);
		if (!strcmp(sget(f, "requires"), "None"))
			continue;
		if (!ah || json_is_null(ah))
			why = xasprintf("New file contents at %s (%s..%s)",
			    path, b7, a7);
		else
			why = xasprintf("File contents for %s have changed "
			    "(%s..%s)", path, b7, a7);
		json_array_append_new(strcmp(sget(f, "requires"), "Restart") ?
		    dc : restart, json_string(why));
		free(why);
	}
	if (n)
		add_change(changes, "git.commit", json_object_get(ag,
		    "commit"), json_object_get(dg, "commit"));
	free(b7);
	free(a7);
}

static const char *const record_order[] = {
	"kind", "type", "name", "op", "sync", "source", "root", "description",
	"tags",
	"template", "deploy", "after", "after_source", "changes",
	"deploy_changes", "config"
};

static int
is_own_key(const char *k)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(record_order); i++)
		if (!strcmp(k, record_order[i]))
			return 1;
	return !strcmp(k, "applied_at") || !strcmp(k, "exec") ||
	    !strcmp(k, "restart_changes");
}

/*
 * same: decl is known to equal the applied record in every compared field
 * (their state hashes match), appl is NULL and the op is keep: what the
 * full comparison would give, without it.
 */
static json_t *
make_record(const json_t *decl, const json_t *appl, const char *sync,
    int same)
{
	const json_t *base = decl ? decl : appl;
	const char *type = sget(base, "type"), *op, *k;
	json_t *out, *changes = json_array(), *dc = json_array(), *cfg, *v;
	json_t *restart = json_array();
	json_t *av;
	size_t i;

	/* The record shares the input's config unless it must change it. */
	cfg = json_object_get(base, "config");
	cfg = cfg ? json_incref(cfg) : json_object();
	/* Build: a declared version 0.0.0 never overwrites the applied one. */
	if (!same && decl && appl && !strcmp(type, "build") &&
	    !strcmp(sget(cfg, "version"), "0.0.0") &&
	    (av = json_object_get(json_object_get(appl, "config"), "version"))) {
		v = json_deep_copy(cfg);
		json_decref(cfg);
		cfg = v;
		json_object_set(cfg, "version", av);
	}

	if (same)
		op = "keep";
	else if (!appl)
		op = "create";
	else if (!decl)
		op = "delete";
	else {
		compare_meta(changes, decl, appl);
		compare(changes, "config", json_object_get(appl, "config"),
		    cfg);
		if (!strcmp(type, "variable"))
			compare_secret(changes, decl, appl);
		deploy_changes(dc, type, changes);
		compare_git(changes, dc, restart, decl, appl);
		op = json_array_size(changes) ? "update" : "keep";
	}

	out = json_object();
	/* keys are literals or come from records: no UTF-8 check needed */
	json_object_set_new_nocheck(out, "kind", json_string_nocheck(
	    "resource"));
	json_object_set_new_nocheck(out, "type", json_string(type));
	json_object_set_new_nocheck(out, "name", json_string(sget(base,
	    "name")));
	json_object_set_new_nocheck(out, "op", json_string_nocheck(op));
	if (decl ? sync != NULL : json_object_get(appl, "sync") != NULL)
		json_object_set_new(out, "sync", json_string(decl ? sync :
		    sget(appl, "sync")));
	for (i = 5; i < KOM_NELEM(record_order) - 3; i++) {
		k = record_order[i];
		if ((v = json_object_get(base, k)))
			json_object_set_nocheck(out, k, v);
	}
	json_object_set_new_nocheck(out, "changes", changes);
	json_object_set_new_nocheck(out, "deploy_changes", dc);
	json_object_set_new_nocheck(out, "config", cfg);
	if (json_array_size(restart) && !json_array_size(dc))
		json_object_set_nocheck(out, "restart_changes", restart);
	json_decref(restart);
	json_object_foreach((json_t *)base, k, v)
		if (!is_own_key(k))
			json_object_set_nocheck(out, k, v);
	if (!strcmp(type, "variable") && (is_secret(decl) || is_secret(appl)))
		mask_record(out, changes);
	return out;
}

json_t *
diff_resource(const json_t *decl, const json_t *appl, const char *sync)
{
	return make_record(decl, appl, sync, 0);
}

/* The declared records by type, then name. */
static json_t *
idx_get(const json_t *index, const char *type, const char *name)
{
	return json_object_get(json_object_get(index, type), name);
}

static void
idx_set(json_t *index, const char *type, const char *name, json_t *rec)
{
	json_t *byname = json_object_get(index, type);

	if (!byname) {
		byname = json_object();
		json_object_set_new(index, type, byname);
	}
	json_object_set(byname, name, rec);
}

static int
has_all_tags(const json_t *rec, const struct diff_opts *o)
{
	json_t *tags = json_object_get(rec, "tags"), *t;
	size_t i, j;
	int found;

	for (i = 0; i < o->nmatch_tags; i++) {
		found = 0;
		json_array_foreach(tags, j, t)
			if (json_is_string(t) &&
			    !strcmp(json_string_value(t), o->match_tags[i]))
				found = 1;
		if (!found)
			return 0;
	}
	return 1;
}

static int
included(const json_t *rec, const struct diff_opts *o, int applied)
{
	const char *type = sget(rec, "type"), *srv;

	if (!strcmp(type, "variable"))
		return o->include_variables;
	if (!strcmp(type, "user_group"))
		return o->include_user_groups;
	if (!o->include_resources || !has_all_tags(rec, o))
		return 0;
	/* Which declared resources are this host's is the resource layer's
	 * call (pull mode); here only keep other hosts' applied ones from
	 * being deleted. */
	if (applied && o->server) {
		if (!strcmp(type, "server"))
			return !strcmp(sget(rec, "name"), o->server);
		if (!strcmp(type, "deployment") || !strcmp(type, "stack") ||
		    !strcmp(type, "repo")) {
			srv = sget(json_object_get(rec, "config"), "server");
			if (*srv && strcmp(srv, o->server))
				return 0;
		}
	}
	return 1;
}

/* The [[NAME]] references in the strings of v, each name once, as keys
 * of names (syntax errors were the resource layer's to report). */
void
diff_collect_refs(const json_t *v, json_t *names)
{
	struct interp_ref *refs = NULL;
	struct interp_error err;
	const char *k;
	json_t *x;
	size_t i;
	long n;

	if (json_is_string(v)) {
		n = interp_refs(json_string_value(v), json_string_length(v),
		    &refs, &err);
		for (i = 0; n > 0 && i < (size_t)n; i++) {
			char *name = xstrndup(json_string_value(v) +
			    refs[i].name_off, refs[i].name_len);

			json_object_set_new(names, name, json_true());
			free(name);
		}
		free(refs);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			diff_collect_refs(x, names);
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			diff_collect_refs(x, names);
	}
}

/* An after name must be a deployment or stack, declared or applied. */
static int
check_after(const json_t *declared, const json_t *index,
    const struct state_set *applied)
{
	const json_t *rec, *n;
	size_t i, j;
	const char *name, *where;
	int found;

	json_array_foreach(declared, i, rec) {
		json_array_foreach(json_object_get(rec, "after"), j, n) {
			name = json_string_value(n);
			if (!name)
				continue;
			found = idx_get(index, "deployment", name) ||
			    idx_get(index, "stack", name) ||
			    state_set_has(applied, "deployment", name) ||
			    state_set_has(applied, "stack", name);
			if (found)
				continue;
			where = sget(rec, "after_source");
			if (!*where)
				where = sget(rec, "source");
			kom_warn("%s%s%s '%s' is after '%s', which is neither "
			    "a declared nor an applied deployment or stack",
			    where, *where ? ": " : "", sget(rec, "type"),
			    sget(rec, "name"), name);
			return -1;
		}
	}
	return 0;
}

/*
 * The diff as a stream (diff.h): what it keeps of the declared records is
 * their index (type, name, whether they take part, where a variable is
 * declared), and of the output records their sort key, op and text.
 */
struct decl {
	char *source;		/* for messages */
	char *root;		/* a variable's, for the left-out warning */
	int included;
};

/* A variable used but left out: its first user in declared order. */
struct use {
	char *var;
	size_t at, k;		/* declared index of the first user, and the
				 * place of var among that one's names */
	long n;
	char *type, *name, *source;
};

struct diff_stream {
	struct state_set *applied;
	const struct diff_opts *o;
	enum diff_format fmt;
	int color, verbose;
	json_t *index;		/* type -> name -> position in d */
	struct decl *d;
	size_t nd, dcap;
	struct diff_entry *v;
	size_t n, cap;
	struct buf text;	/* the entries' text */
	struct buf refs;	/* -H: their [[NAME]]s */
	json_t *uses;		/* variable name -> position in u */
	struct use *u;
	size_t nu, ucap;
	json_t *names;		/* scratch */
	struct diff_counts c;
	/* what diff_stream_add() shares: all above but applied's hashes,
	 * o, fmt, color, verbose and the declared records (d, index) */
	pthread_mutex_t mu;
};

struct diff_stream *
diff_stream_new(struct state_set *applied, const struct diff_opts *o,
    enum diff_format fmt, int color, int verbose)
{
	struct diff_stream *s = xcalloc(1, sizeof(*s));

	s->applied = applied;
	s->o = o;
	s->fmt = fmt;
	s->color = color;
	s->verbose = verbose;
	s->index = json_object();
	s->uses = json_object();
	s->names = json_object();
	buf_init(&s->text);
	buf_init(&s->refs);
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void
diff_stream_lock(struct diff_stream *s)
{
	pthread_mutex_lock(&s->mu);
}

void
diff_stream_unlock(struct diff_stream *s)
{
	pthread_mutex_unlock(&s->mu);
}

void
diff_stream_free(struct diff_stream *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nd; i++) {
		free(s->d[i].source);
		free(s->d[i].root);
	}
	free(s->d);
	for (i = 0; i < s->n; i++) {
		json_decref(s->v[i].rec);
		free(s->v[i].type);
		free(s->v[i].name);
	}
	free(s->v);
	for (i = 0; i < s->nu; i++) {
		free(s->u[i].var);
		free(s->u[i].type);
		free(s->u[i].name);
		free(s->u[i].source);
	}
	free(s->u);
	pthread_mutex_destroy(&s->mu);
	json_decref(s->index);
	json_decref(s->uses);
	json_decref(s->names);
	buf_free(&s->text);
	buf_free(&s->refs);
	free(s);
}

static const struct decl *
decl_get(const struct diff_stream *s, const char *type, const char *name)
{
	json_t *at = idx_get(s->index, type, name);

	return at ? &s->d[json_integer_value(at)] : NULL;
}

int
diff_stream_declare(struct diff_stream *s, const json_t *rec)
{
	const char *type = json_string_value(json_object_get(rec, "type"));
	const char *name = json_string_value(json_object_get(rec, "name"));
	const struct decl *prev;
	json_t *at;
	struct decl *d;

	if (!json_is_object(rec) || !type || !name || !*name) {
		kom_warn("%s%sresource record %zu has no type or name",
		    sget(rec, "source"), *sget(rec, "source") ? ": " : "",
		    s->nd + 1);
		return -1;
	}
	if ((prev = decl_get(s, type, name))) {
		kom_warn("%s: duplicate %s '%s' (first declared at %s)",
		    sget(rec, "source"), type, name, prev->source);
		return -1;
	}
	at = json_integer((json_int_t)s->nd);
	idx_set(s->index, type, name, at);
	json_decref(at);
	KOM_GROW(s->d, s->nd + 1, s->dcap);
	d = &s->d[s->nd++];
	d->source = xstrdup(sget(rec, "source"));
	d->root = strcmp(type, "variable") ? NULL : xstrdup(sget(rec, "root"));
	d->included = included(rec, s->o, 0);
	return 0;
}

/*
 * A resource that takes part uses [[NAME]] of a declared variable that the
 * sync's filters leave out (include_variables false): noted here, said
 * once per variable at the end (left_out_warn()).
 */
static void
left_out_note(struct diff_stream *s, const json_t *rec, size_t at)
{
	const char *name;
	json_t *x, *p;
	struct use *u;
	size_t k = 0;

	json_object_clear(s->names);
	diff_collect_refs(json_object_get(rec, "config"), s->names);
	json_object_foreach(s->names, name, x) {
		k++;
		if (!decl_get(s, "variable", name))
			continue;
		if ((p = json_object_get(s->uses, name))) {
			u = &s->u[json_integer_value(p)];
			u->n++;
			if (u->at < at) 
				continue;
			free(u->type);
			free(u->name);
			free(u->source);
		} else {
			json_object_set_new(s->uses, name,
			    json_integer((json_int_t)s->nu));
			KOM_GROW(s->u, s->nu + 1, s->ucap);
			u = &s->u[s->nu++];
			u->var = xstrdup(name);
			u->n = 1;
		}
		u->at = at;
		u->k = k;
		u->type = xstrdup(sget(rec, "type"));
		u->name = xstrdup(sget(rec, "name"));
		u->source = xstrdup(sget(rec, "source"));
	}
}

static int
use_cmp(const void *a, const void *b)
{
	const struct use *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

/*
 * One warning per variable, in the order of their first use, with the
 * number of resources that use it and the first one.  Applied before, the
 * applied value is used; never applied, the deploy fails with "undefined
 * variable".
 */
static void
left_out_warn(struct diff_stream *s)
{
	const struct diff_opts *o = s->o;
	size_t i;

	if (s->nu)
		qsort(s->u, s->nu, sizeof(*s->u), use_cmp);
	for (i = 0; i < s->nu; i++) {
		const struct use *u = &s->u[i];
		const struct decl *var = decl_get(s, "variable", u->var);
		int was = state_set_has(s->applied, "variable", u->var);
		struct buf m = BUF_INIT;

		if (*var->root && var->source[0] != '/')
			buf_printf(&m, "%s/", var->root);
		buf_printf(&m, "%s: warning: variable '%s' is used by %s '%s' "
		    "(%s)", var->source, u->var, u->type, u->name, u->source);
		if (u->n > 1)
			buf_printf(&m, " and %ld more", u->n - 1);
		if (o->sync)
			buf_printf(&m, ", but sync '%s'", o->sync);
		else
			buf_adds(&m, ", but this diff");
		buf_printf(&m, " leaves variables out (include_variables = "
		    "false): %s", was ? "the value applied before is used, "
		    "not this one" : "it was never applied, so the deploy "
		    "fails; set include_variables = true in kom.toml(5)");
		kom_warn("%s", m.s);
		buf_free(&m);
	}
}

/* An output record: kept whole, or as its text (a JSON line made before
 * the stream is locked). */
static void
sink(struct diff_stream *s, json_t *r)
{
	struct diff_entry *e;
	const char *op = sget(r, "op");
	struct buf line = BUF_INIT;

	if (s->fmt == DIFF_JSON)
		diff_format_one(r, &line);
	pthread_mutex_lock(&s->mu);
	KOM_GROW(s->v, s->n + 1, s->cap);
	e = &s->v[s->n++];
	memset(e, 0, sizeof(*e));
	e->type = xstrdup(sget(r, "type"));
	e->name = xstrdup(sget(r, "name"));
	e->rank = diff_type_rank(e->type);
	e->op = op[0];
	if (!strcmp(op, "create"))
		s->c.create++;
	else if (!strcmp(op, "update"))
		s->c.update++;
	else if (!strcmp(op, "delete"))
		s->c.delete++;
	else
		s->c.keep++;
	if (s->fmt == DIFF_RECORDS) {
		e->rec = r;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	e->off = s->text.len;
	if (s->fmt == DIFF_JSON)
		buf_add(&s->text, line.s, line.len);
	else
		diff_human_entry(e, r, &s->text, &s->refs, s->color,
		    s->verbose);
	e->len = s->text.len - e->off;
	pthread_mutex_unlock(&s->mu);
	buf_free(&line);
	json_decref(r);
}

int
diff_stream_add(struct diff_stream *s, const json_t *rec, size_t at)
{
	const char *type = sget(rec, "type"), *name = sget(rec, "name");
	json_t *arec;

	if (!included(rec, s->o, 0))
		return 0;
	if (!s->o->include_variables && strcmp(type, "variable")) {
		pthread_mutex_lock(&s->mu);
		left_out_note(s, rec, at);
		pthread_mutex_unlock(&s->mu);
	}
	/* the hashes are only read: no lock */
	if (!json_object_get(rec, "git") && state_set_same(s->applied, rec)) {
		sink(s, make_record(rec, NULL, s->o->sync, 1));
		return 0;
	}
	/* the applied record: held by the set if a reader on another thread
	 * (buildver) made it parse it, else parsed here without the lock */
	pthread_mutex_lock(&s->mu);
	arec = state_set_held(s->applied, type, name);
	pthread_mutex_unlock(&s->mu);
	if (!arec && !(arec = state_set_read(s->applied, type, name)) &&
	    errno != ENOENT)
		return -1;
	sink(s, diff_resource(rec, arec, s->o->sync));
	if (arec) {
		json_decref(arec);
		pthread_mutex_lock(&s->mu);
		state_set_forget(s->applied, type, name);
		pthread_mutex_unlock(&s->mu);
	}
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct diff_entry *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->rank == SCHEMA_NTYPES) {
		int c = strcmp(x->type, y->type);

		if (c)
			return c;
	}
	return strcmp(x->name, y->name);
}

int
diff_stream_end(struct diff_stream *s, struct diff_counts *c)
{
	const struct diff_opts *o = s->o;
	const struct decl *prev;
	const char *type, *name, *as;
	json_t *arec;
	size_t i, na;

	left_out_warn(s);
	na = o->delete ? state_set_count(s->applied) : 0;
	for (i = 0; i < na; i++) {
		state_set_at(s->applied, i, &type, &name);
		/* declared (and taking part) here: not a delete */
		prev = decl_get(s, type, name);
		if (prev && prev->included)
			continue;
		if (!(arec = state_set_get(s->applied, type, name)))
			return -1;
		as = json_string_value(json_object_get(arec, "sync"));
		if (as && (!o->sync || strcmp(as, o->sync)))
			continue;
		if (!json_is_object(arec) || !json_object_get(arec, "type"))
			continue;
		if (!included(arec, o, 1))
			continue;
		sink(s, diff_resource(NULL, arec, o->sync));
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_entry);
	s->c.total = s->c.create + s->c.update + s->c.delete + s->c.keep;
	*c = s->c;
	return 0;
}

void
diff_stream_write(struct diff_stream *s, FILE *fp)
{
	size_t i;

	if (s->fmt == DIFF_HUMAN) {
		diff_human_plan(fp, s->v, s->n, s->text.s, s->refs.s, &s->c,
		    s->color, s->verbose);
		return;
	}
	for (i = 0; i < s->n; i++)
		if (fwrite(s->text.s + s->v[i].off, 1, s->v[i].len, fp) !=
		    s->v[i].len)
			return;
	jsonl_write_steal(fp, diff_end_record(&s->c));
}

int
diff_run_set(const json_t *declared, struct state_set *applied,
    const struct diff_opts *o, json_t **out, struct diff_counts *c)
{
	struct diff_stream *s = diff_stream_new(applied, o, DIFF_RECORDS, 0,
	    0);
	const json_t *rec;
	size_t i;

	*out = NULL;
	memset(c, 0, sizeof(*c));
	json_array_foreach(declared, i, rec)
		if (diff_stream_declare(s, rec) < 0)
			goto fail;
	if (o->check_after && check_after(declared, s->index, applied) < 0)
		goto fail;
	json_array_foreach(declared, i, rec)
		if (diff_stream_add(s, rec, i) < 0)
			goto fail;
	if (diff_stream_end(s, c) < 0)
		goto fail;
	*out = json_array();
	for (i = 0; i < s->n; i++) {
		json_array_append_new(*out, s->v[i].rec);
		s->v[i].rec = NULL;
	}
	diff_stream_free(s);
	return 0;
fail:
	memset(c, 0, sizeof(*c));
	diff_stream_free(s);
	return -1;
}

int
diff_run(const json_t *declared, const json_t *applied,
    const struct diff_opts *o, json_t **out, struct diff_counts *c)
{
	struct state_set *set = state_set_wrap((json_t *)applied);
	int rc = diff_run_set(declared, set, o, out, c);

	state_set_free(set);
	return rc;
}
