/*
 * diff: declared resource records against applied ones (see diff.h).
 *
 * Configs are normalized by the resource layer (every field present with
 * its default), so comparing them field by field makes a sync fully
 * declarative per resource: a line removed from a file shows as a change
 * back to the default, as in Komodo (komodo-behaviour.md 0, 2.3).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "jsonl.h"
#include "schema.h"
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

static const char *
sget(const json_t *o, const char *key)
{
	return jsonl_str(o, key, "");
}

static int
is_secret(const json_t *rec)
{
	if (!rec)
		return 0;
	return json_is_true(json_object_get(rec, "secret")) ||
	    json_is_true(json_object_get(json_object_get(rec, "config"),
	    "is_secret"));
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

static const char *const record_order[] = {
	"kind", "type", "name", "op", "sync", "source", "description", "tags",
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
	return !strcmp(k, "applied_at") || !strcmp(k, "exec");
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
		op = json_array_size(changes) ? "update" : "keep";
		deploy_changes(dc, type, changes);
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

/* An output record with its sort key, worked out once. */
struct outrec {
	json_t *rec;
	int rank;
	const char *type, *name;
};

static int
cmp_rec(const void *a, const void *b)
{
	const struct outrec *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->rank == SCHEMA_NTYPES) {
		int c = strcmp(x->type, y->type);

		if (c)
			return c;
	}
	return strcmp(x->name, y->name);
}

static void
add_out(struct outrec **v, size_t *n, size_t *cap, json_t *rec)
{
	struct outrec *o;

	KOM_GROW(*v, *n + 1, *cap);
	o = &(*v)[(*n)++];
	o->rec = rec;
	o->type = sget(rec, "type");
	o->name = sget(rec, "name");
	o->rank = diff_type_rank(o->type);
}

int
diff_run_set(const json_t *declared, struct state_set *applied,
    const struct diff_opts *o, json_t **out, struct diff_counts *c)
{
	json_t *index = json_object(), *rec, *prev, *arec, *r;
	struct outrec *v = NULL;
	size_t i, n = 0, cap = 0, na;
	const char *type, *name, *op;

	*out = NULL;
	memset(c, 0, sizeof(*c));
	json_array_foreach(declared, i, rec) {
		type = json_string_value(json_object_get(rec, "type"));
		name = json_string_value(json_object_get(rec, "name"));
		if (!json_is_object(rec) || !type || !name || !*name) {
			kom_warn("%s%sresource record %zu has no type or name",
			    sget(rec, "source"), *sget(rec, "source") ? ": " :
			    "", i + 1);
			goto fail;
		}
		if ((prev = idx_get(index, type, name))) {
			kom_warn("%s: duplicate %s '%s' (first declared at %s)",
			    sget(rec, "source"), type, name,
			    sget(prev, "source"));
			goto fail;
		}
		idx_set(index, type, name, rec);
	}
	if (o->check_after && check_after(declared, index, applied) < 0)
		goto fail;

	json_array_foreach(declared, i, rec) {
		if (!included(rec, o, 0))
			continue;
		type = sget(rec, "type");
		name = sget(rec, "name");
		if (state_set_same(applied, rec)) {
			add_out(&v, &n, &cap, make_record(rec, NULL, o->sync,
			    1));
			continue;
		}
		if (!(arec = state_set_get(applied, type, name)) &&
		    errno != ENOENT)
			goto fail;
		add_out(&v, &n, &cap, diff_resource(rec, arec, o->sync));
	}
	na = o->delete ? state_set_count(applied) : 0;
	for (i = 0; i < na; i++) {
		const char *as;

		state_set_at(applied, i, &type, &name);
		/* declared (and taking part) here: not a delete */
		prev = idx_get(index, type, name);
		if (prev && included(prev, o, 0))
			continue;
		if (!(arec = state_set_get(applied, type, name)))
			goto fail;
		as = json_string_value(json_object_get(arec, "sync"));
		if (as && (!o->sync || strcmp(as, o->sync)))
			continue;
		if (!json_is_object(arec) || !json_object_get(arec, "type"))
			continue;
		if (!included(arec, o, 1))
			continue;
		add_out(&v, &n, &cap, diff_resource(NULL, arec, o->sync));
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_rec);
	*out = json_array();
	for (i = 0; i < n; i++) {
		r = v[i].rec;
		op = sget(r, "op");
		if (!strcmp(op, "create"))
			c->create++;
		else if (!strcmp(op, "update"))
			c->update++;
		else if (!strcmp(op, "delete"))
			c->delete++;
		else
			c->keep++;
		json_array_append_new(*out, r);
	}
	c->total = c->create + c->update + c->delete + c->keep;
	free(v);
	json_decref(index);
	return 0;
fail:
	for (i = 0; i < n; i++)
		json_decref(v[i].rec);
	free(v);
	json_decref(index);
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

/*
 * JSON text as jansson writes it with JSON_COMPACT (its order of keys, no
 * spaces, UTF-8 kept, only '"', '\\' and control characters escaped, as
 * \b \f \n \r \t or \u00XX), straight into one buffer: json_dumpb()
 * calls back per token and walks strings a code point at a time, which
 * made writing the records as slow as computing them.  Reals, and strings
 * that are not valid UTF-8 (json_dumpb() refuses those), go through
 * jansson.  Returns -1 when jansson cannot encode a value.
 */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		if (!(len = kom_utf8_len(s + i, n - i)))
			return 0;
		i += len;
	}
	return 1;
}

/* Room for n more bytes, then appends that cannot fail. */
static inline void
room(struct buf *b, size_t n)
{
	if (b->cap - b->len <= n)
		buf_grow(b, n);
}

static inline void
put(struct buf *b, const void *p, size_t n)
{
	room(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static inline void
putc1(struct buf *b, char c)
{
	room(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

static int
put_string(struct buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str, *run;
	size_t i;
	int hi = 0;

	for (i = 0; i < n; i++)
		hi |= s[i] & 0x80;
	if (hi && !utf8_ok(s, n))
		return -1;
	room(b, n + 2);
	putc1(b, '"');
	run = s;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, run, (size_t)(s + i - run));
		run = s + i + 1;
		switch (c) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4],
			    hex[c & 15] };

			put(b, u, 6);
		}
		}
	}
	put(b, run, (size_t)(s + n - run));
	putc1(b, '"');
	return 0;
}

static int
put_json(struct buf *b, const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i, klen, need;
	char num[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		putc1(b, '{');
		i = 0;
		json_object_keylen_foreach((json_t *)v, k, klen, x) {
			if (i++)
				putc1(b, ',');
			if (put_string(b, k, klen) < 0)
				return -1;
			putc1(b, ':');
			if (put_json(b, x) < 0)
				return -1;
		}
		putc1(b, '}');
		return 0;
	case JSON_ARRAY:
		putc1(b, '[');
		json_array_foreach(v, i, x) {
			if (i)
				putc1(b, ',');
			if (put_json(b, x) < 0)
				return -1;
		}
		putc1(b, ']');
		return 0;
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_TRUE:
		put(b, "true", 4);
		return 0;
	case JSON_FALSE:
		put(b, "false", 5);
		return 0;
	case JSON_NULL:
		put(b, "null", 4);
		return 0;
	default:	/* a real: jansson's own formatting */
		need = json_dumpb(v, num, sizeof(num), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		if (!need || need > sizeof(num))
			return -1;
		put(b, num, need);
		return 0;
	}
}

void
diff_format_records(const json_t *records, size_t from, size_t to,
    struct buf *out)
{
	size_t i, mark;
	json_t *r;

	for (i = from; i < to && i < json_array_size(records); i++) {
		r = json_array_get(records, i);
		mark = out->len;
		if (put_json(out, r) < 0) {
			/* what jansson makes of it, or the error it gives */
			char *s = json_dumps(r, JSON_COMPACT);

			if (!s)
				kom_die(KOM_EX_SOFTWARE, "cannot encode a record");
			buf_truncate(out, mark);
			buf_adds(out, s);
			free(s);
		}
		putc1(out, '\n');
	}
}

void
diff_write_records(FILE *fp, const json_t *records)
{
	struct buf b = BUF_INIT;
	size_t i, n = json_array_size(records);

	for (i = 0; i < n; i += 1024) {
		diff_format_records(records, i, i + 1024, &b);
		if (fwrite(b.s, 1, b.len, fp) != b.len)
			break;
		buf_reset(&b);
	}
	buf_free(&b);
}

json_t *
diff_end_record(const struct diff_counts *c)
{
	return json_pack("{s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I}}", "kind", "end",
	    "program", "kom-sync", "counts",
	    "create", (json_int_t)c->create, "update", (json_int_t)c->update,
	    "delete", (json_int_t)c->delete, "keep", (json_int_t)c->keep,
	    "total", (json_int_t)c->total);
}

/* ---- the human plan ---- */

static int
is_kv_entry(const json_t *e)
{
	return json_is_object(e) && ((json_object_get(e, "key") &&
	    json_object_get(e, "value")) || (json_object_get(e, "local") &&
	    json_object_get(e, "container")) || (json_object_get(e, "signal") &&
	    json_object_get(e, "label")));
}

static int
is_kv_list(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || !json_array_size(v))
		return 0;
	json_array_foreach(v, i, e)
		if (!is_kv_entry(e))
			return 0;
	return 1;
}

static void
add_kv_entry(struct buf *b, const json_t *e)
{
	if (json_object_get(e, "key"))
		buf_printf(b, "%s=%s", sget(e, "key"), sget(e, "value"));
	else if (json_object_get(e, "local"))
		buf_printf(b, "%s:%s", sget(e, "local"), sget(e, "container"));
	else
		buf_printf(b, "%s: %s", sget(e, "signal"), sget(e, "label"));
}

/* A kv list as one string; skip: entries also in other are left out. */
static void
kv_string(struct buf *b, const json_t *v, const json_t *other, int *elided)
{
	size_t i, j, shown = 0;
	json_t *e, *f;
	int in_other;

	json_array_foreach(v, i, e) {
		in_other = 0;
		if (other)
			json_array_foreach(other, j, f)
				if (json_equal(e, f))
					in_other = 1;
		if (in_other) {
			*elided = 1;
			continue;
		}
		if (shown++)
			buf_adds(b, ", ");
		add_kv_entry(b, e);
	}
}

static char *
quote(const char *s)
{
	json_t *j = json_string(s);
	char *q;

	if (!j)		/* not UTF-8: show it as bytes were lost */
		return xstrdup("\"<binary>\"");
	q = json_dumps(j, JSON_ENCODE_ANY);
	json_decref(j);
	return q ? q : xstrdup("\"\"");
}

static char *
plain(const json_t *v)
{
	char *s;

	if (!v || json_is_null(v))
		return xstrdup("(none)");
	if (json_is_string(v))
		return quote(json_string_value(v));
	if (is_kv_list(v)) {
		struct buf b = BUF_INIT;
		int el = 0;
		char *q;

		kv_string(&b, v, NULL, &el);
		q = quote(b.s);
		buf_free(&b);
		return q;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : xstrdup("?");
}

/* Elide the middle of s to about max columns. */
static char *
elide(char *s, size_t max)
{
	size_t len = strlen(s), keep;
	char *r;

	if (len <= max || max < 12)
		return s;
	keep = (max - 3) / 2;
	r = xasprintf("%.*s...%s", (int)keep, s, s + len - keep);
	free(s);
	return r;
}

char *
diff_render_value(const json_t *v, size_t max)
{
	return elide(plain(v), max);
}

/* Both sides of a change, cut around where they differ when long. */
static void
render_change(struct buf *out, const json_t *from, const json_t *to,
    size_t max)
{
	char *a = plain(from), *b = plain(to);
	size_t la, lb, p = 0, s = 0;

	if ((strlen(a) > max || strlen(b) > max) && is_kv_list(from) &&
	    is_kv_list(to)) {
		struct buf x = BUF_INIT, y = BUF_INIT;
		int ea = 0, eb = 0;

		kv_string(&x, from, to, &ea);
		kv_string(&y, to, from, &eb);
		if (ea)
			buf_adds(&x, x.len ? ", ..." : "...");
		if (eb)
			buf_adds(&y, y.len ? ", ..." : "...");
		free(a);
		free(b);
		a = quote(x.s);
		b = quote(y.s);
		buf_free(&x);
		buf_free(&y);
	}
	la = strlen(a);
	lb = strlen(b);
	if (la > max || lb > max) {
		while (p < la && p < lb && a[p] == b[p])
			p++;
		while (s < la - p && s < lb - p &&
		    a[la - 1 - s] == b[lb - 1 - s])
			s++;
		if (p > 16 || s > 16) {
			size_t pk = p > 16 ? p - 8 : 0;	/* drop a[0..pk) */
			size_t sk = s > 16 ? s - 8 : 0;	/* drop the last sk */
			char *na = xasprintf("%s%.*s%s", pk ? "..." : "",
			    (int)(la - pk - sk), a + pk, sk ? "..." : "");
			char *nb = xasprintf("%s%.*s%s", pk ? "..." : "",
			    (int)(lb - pk - sk), b + pk, sk ? "..." : "");

			free(a);
			free(b);
			a = na;
			b = nb;
		}
	}
	a = elide(a, max);
	b = elide(b, max);
	buf_printf(out, "%s -> %s", a, b);
	free(a);
	free(b);
}

#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED "\033[31m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

void
diff_render_human(FILE *fp, const json_t *records,
    const struct diff_counts *c, int color, int verbose)
{
	const json_t *r, *ch, *dc;
	const char *op, *type, *last = NULL, *mark, *col, *src;
	size_t i, j;
	struct buf b = BUF_INIT;

	json_array_foreach(records, i, r) {
		op = sget(r, "op");
		type = sget(r, "type");
		if (!strcmp(op, "keep") && !verbose)
			continue;
		if (last && strcmp(last, type))
			buf_addc(&b, '\n');
		last = type;
		if (!strcmp(op, "create"))
			mark = "+", col = C_GREEN;
		else if (!strcmp(op, "update"))
			mark = "~", col = C_YELLOW;
		else if (!strcmp(op, "delete"))
			mark = "-", col = C_RED;
		else
			mark = " ", col = "";
		src = sget(r, "source");
		buf_printf(&b, "%s%s %s %s '%s'%s", color ? col : "", mark, op,
		    type, sget(r, "name"), color && *col ? C_RESET : "");
		if (*src)
			buf_printf(&b, " (%s)", src);
		dc = json_object_get(r, "deploy_changes");
		if (json_array_size(dc)) {
			buf_adds(&b, " [deploy: ");
			for (j = 0; j < json_array_size(dc); j++)
				buf_printf(&b, "%s%s", j ? ", " : "",
				    json_string_value(json_array_get(dc, j)));
			buf_addc(&b, ']');
		}
		buf_addc(&b, '\n');
		json_array_foreach(json_object_get(r, "changes"), j, ch) {
			buf_printf(&b, "    %s: ", sget(ch, "path"));
			render_change(&b, json_object_get(ch, "from"),
			    json_object_get(ch, "to"), 60);
			buf_addc(&b, '\n');
		}
	}
	if (b.len)
		buf_addc(&b, '\n');
	buf_printf(&b, "%sPlan: %ld to create, %ld to update, %ld to delete, "
	    "%ld unchanged.%s\n", color ? C_BOLD : "", c->create, c->update,
	    c->delete, c->keep, color ? C_RESET : "");
	fwrite(b.s, 1, b.len, fp);
	buf_free(&b);
}
