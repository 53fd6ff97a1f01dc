/*
 * resource_convert: Komodo's flexible formats into normalized JSON, field
 * by field against lib/schema.h (resource_int.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "interp.h"
#include "kv.h"
#include "resource.h"
#include "resource_int.h"
#include "schema.h"
#include "secrets.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

/* Line and column of byte off of the string value v. */
static void
str_pos(struct ctx *c, const struct toml_value *v, size_t off, int *line,
    int *col)
{
	const char *s = v->u.str.s, *raw = NULL, *nl;
	size_t i, last = 0, nls = 0;
	int l = v->line, co = v->col, skip = 1;

	if (v->line >= 1 && (size_t)v->line <= c->f->nlines) {
		raw = c->f->text.s + c->f->lines[v->line - 1] + v->col - 1;
		if (!strncmp(raw, "\"\"\"", 3) || !strncmp(raw, "'''", 3)) {
			skip = 3;
			if (raw[3] == '\n' || (raw[3] == '\r' && raw[4] == '\n')) {
				l++;
				co = 1;
				skip = 0;
			}
		}
	}
	for (i = 0; i < off && i < v->u.str.len; i++)
		if (s[i] == '\n') {
			nls++;
			last = i + 1;
		}
	nl = NULL;
	(void)nl;
	if (nls == 0) {
		*line = l;
		*col = co + skip + (int)off;
	} else {
		*line = l + (int)nls;
		*col = 1 + (int)(off - last);
	}
}

/* Check [[NAME]] syntax in an interpolated string; remember the names. */
static void
check_interp(struct ctx *c, const struct toml_value *v, const char *s,
    size_t len, const char *key)
{
	struct interp_ref *refs;
	struct interp_error err;
	long n, i;
	int line, col;

	if (!c->interp || !memchr(s, '[', len))
		return;
	n = interp_refs(s, len, &refs, &err);
	if (n < 0) {
		if (s == v->u.str.s)
			str_pos(c, v, err.off, &line, &col);
		else {
			line = v->line;
			col = v->col;
		}
		res_diag(c, 1, line, col, "%s in '%s'", err.msg, key);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *name = s + refs[i].name_off;
		size_t nl = refs[i].name_len;

		if ((nl == 15 && !strncmp(name, "COMPOSE_COMMAND", 15) &&
		    !strcmp(key, "compose_cmd_wrapper")) ||
		    (!strcmp(c->rtype, "action") &&
		    ((nl == 14 && !strncmp(name, "ACTION_API_KEY", 14)) ||
		    (nl == 17 && !strncmp(name, "ACTION_API_SECRET", 17)))))
			continue;
		if (s == v->u.str.s)
			str_pos(c, v, refs[i].off, &line, &col);
		else {
			line = v->line;
			col = v->col;
		}
		res_add_ref(c, REF_VAR, "variable", name, nl, line, col, NULL);
	}
	free(refs);
}

/* TOML to JSON, for values kept as they are. */
static json_t *
to_json(const struct toml_value *v)
{
	json_t *j;
	size_t i;

	switch (v->type) {
	case TOML_TABLE:
		j = json_object();
		for (i = 0; i < v->u.table.n; i++)
			json_object_set_new(j, v->u.table.kv[i].key,
			    to_json(v->u.table.kv[i].val));
		return j;
	case TOML_ARRAY:
		j = json_array();
		for (i = 0; i < v->u.array.n; i++)
			json_array_append_new(j, to_json(v->u.array.v[i]));
		return j;
	case TOML_INTEGER:
		return json_integer(v->u.i);
	case TOML_FLOAT:
		return json_real(v->u.f);
	case TOML_BOOL:
		return json_boolean(v->u.b);
	default:
		return json_stringn_nocheck(v->u.str.s, v->u.str.len);
	}
}

static json_t *field_default(const struct schema_field *f);
static json_t *convert(struct ctx *c, const struct schema_field *f,
    const struct toml_value *v, const char *key);

/* {"type":type,"params":{key:val}} (val stolen; NULL: NULL) */
static json_t *
tagged1(const char *type, const char *key, json_t *val)
{
	json_t *j, *p;

	if (!val)
		return NULL;
	j = json_object();
	p = json_object();
	json_object_set_new_nocheck(p, key, val);
	json_object_set_new_nocheck(j, "type", json_string_nocheck(type));
	json_object_set_new_nocheck(j, "params", p);
	return j;
}

static json_t *
syscmd_default(void)
{
	json_t *j = json_object();

	json_object_set_new_nocheck(j, "path", json_string_nocheck(""));
	json_object_set_new_nocheck(j, "command", json_string_nocheck(""));
	json_object_set_new_nocheck(j, "shell_mode", json_false());
	return j;
}

static json_t *
field_default(const struct schema_field *f)
{
	switch (f->kind) {
	case SK_STRING:
	case SK_ENUM:
	case SK_REF:
	case SK_VERSION:
	case SK_SIGNAL:
		return json_string(f->def ? f->def : "");
	case SK_FILE:
		return json_string("");
	case SK_BOOL:
		return json_boolean(f->def && !strcmp(f->def, "true"));
	case SK_INT:
		return json_integer(f->def ? strtoll(f->def, NULL, 10) : 0);
	case SK_FLOAT:
		return json_real(f->def ? strtod(f->def, NULL) : 0);
	case SK_SYSCMD:
		return syscmd_default();
	case SK_IMAGE:
		return tagged1("Image", "image", json_string_nocheck(""));
	case SK_ENDPOINT:
		return json_pack("{s:s,s:{s:s}}", "type", "Custom", "params",
		    "url", "http://localhost:7000");
	case SK_PERMALL:
		return json_object();
	case SK_ANY:
		return f->def && !strcmp(f->def, "{}") ? json_object() :
		    json_array();
	default:
		return json_array();
	}
}

/*
 * f's default, a new reference.  Scalars are made once per load and
 * shared between records: a deployment has some thirty fields, most of
 * them defaults, and allocating (then freeing) each one was a good part
 * of a load.  Containers are always fresh (callers may fill them).
 */
json_t *
res_fdefault(struct ctx *c, const struct schema_field *f)
{
	size_t h, i;
	json_t *v;

	switch (f->kind) {
	case SK_STRING:
	case SK_ENUM:
	case SK_REF:
	case SK_VERSION:
	case SK_SIGNAL:
	case SK_FILE:
	case SK_INT:
	case SK_FLOAT:
		break;
	default:
		return field_default(f);
	}
	h = ((uintptr_t)f >> 3) % DEF_SLOTS;
	for (i = 0; i < DEF_SLOTS; i++, h = (h + 1) % DEF_SLOTS) {
		if (c->defs[h].f == f)
			return json_incref(c->defs[h].v);
		if (!c->defs[h].f)
			break;
	}
	v = field_default(f);
	if (i < DEF_SLOTS && v) {
		c->defs[h].f = f;
		c->defs[h].v = json_incref(v);
	}
	return v;
}

int
res_want_type(struct ctx *c, const struct toml_value *v, enum toml_type t,
    const char *key)
{
	const char *name;

	if (v->type == t || (t == TOML_FLOAT && v->type == TOML_INTEGER))
		return 1;
	name = t == TOML_STRING ? "a string" : t == TOML_BOOL ? "a boolean" :
	    t == TOML_INTEGER ? "an integer" : t == TOML_FLOAT ? "a number" :
	    t == TOML_TABLE ? "a table" : "an array";
	res_type_error(c, v, key, name);
	return 0;
}

json_t *
res_string_list(struct ctx *c, const struct toml_value *v, const char *key,
    int interp)
{
	json_t *arr = json_array();
	size_t i;

	if (v->type == TOML_STRING) {
		if (interp)
			check_interp(c, v, v->u.str.s, v->u.str.len, key);
		kv_string_list(v->u.str.s, v->u.str.len, arr);
		return arr;
	}
	if (v->type != TOML_ARRAY) {
		res_type_error(c, v, key, "an array of strings or a string");
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i];

		if (e->type != TOML_STRING) {
			res_type_error(c, e, key, "an array of strings");
			continue;
		}
		if (interp)
			check_interp(c, e, e->u.str.s, e->u.str.len, key);
		json_array_append_new(arr, json_stringn_nocheck(e->u.str.s,
		    e->u.str.len));
	}
	return arr;
}

static json_t *
kv_field(struct ctx *c, const struct schema_field *f,
    const struct toml_value *v, const char *key)
{
	enum kv_shape shape = !strcmp(f->arg, "lc") ? KV_LOCAL_CONTAINER :
	    !strcmp(f->arg, "sl") ? KV_SIGNAL_LABEL : KV_KEY_VALUE;
	const char *k1 = kv_shape_toml_first(shape), *k2 = kv_shape_second(shape);
	struct kv_error err;
	json_t *arr;
	size_t i, j;

	if (v->type == TOML_STRING) {
		int line, col;
		size_t off = 0, n = 1;

		check_interp(c, v, v->u.str.s, v->u.str.len, key);
		/* check only: the list is checked and let go (no check
		 * across records reads one) */
		if (c->lean) {
			if (kv_check(v->u.str.s, v->u.str.len, &err) == 0)
				return NULL;
		} else if ((arr = kv_list(v->u.str.s, v->u.str.len, shape,
		    &err)))
			return arr;
		/* the offset of line err.line of the string */
		for (i = 0; i < v->u.str.len && n < (size_t)err.line; i++)
			if (v->u.str.s[i] == '\n') {
				n++;
				off = i + 1;
			}
		str_pos(c, v, off, &line, &col);
		/* point at the text, not the indentation */
		while (off < v->u.str.len && (v->u.str.s[off] == ' ' ||
		    v->u.str.s[off] == '\t')) {
			off++;
			col++;
		}
		res_diag(c, 1, line, col, "'%s' %s", key, err.msg);
		return NULL;
	}
	if (v->type != TOML_ARRAY) {
		res_type_error(c, v, key, "a string or an array of tables");
		return NULL;
	}
	arr = json_array();
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i], *a = NULL, *b = NULL;

		if (e->type != TOML_TABLE) {
			res_type_error(c, e, key, "an array of tables");
			continue;
		}
		for (j = 0; j < e->u.table.n; j++) {
			const struct toml_kv *kv = &e->u.table.kv[j];

			if (!strcmp(kv->key, k1))
				a = kv->val;
			else if (!strcmp(kv->key, k2))
				b = kv->val;
			else {
				struct suggest s;
				char *where = xasprintf("'%s' item", key);

				res_suggest_init(&s, kv->key);
				res_suggest_try(&s, kv->key, k1);
				res_suggest_try(&s, kv->key, k2);
				res_unknown_key(c, kv, where, &s);
				free(where);
			}
		}
		if (!a || !b) {
			ERR(c, e, "'%s' item needs '%s' and '%s'", key, k1, k2);
			continue;
		}
		if (!res_want_type(c, a, TOML_STRING, k1) ||
		    !res_want_type(c, b, TOML_STRING, k2))
			continue;
		check_interp(c, a, a->u.str.s, a->u.str.len, key);
		check_interp(c, b, b->u.str.s, b->u.str.len, key);
		json_array_append_new(arr, json_pack("{s:s%,s:s%}",
		    kv_shape_first(shape), a->u.str.s, a->u.str.len,
		    kv_shape_second(shape), b->u.str.s, b->u.str.len));
	}
	return arr;
}

static json_t *
enum_value(struct ctx *c, const struct toml_value *v, const char *key,
    const char *list, int nocase)
{
	struct buf b = BUF_INIT;
	const char *p, *q;

	if (!res_want_type(c, v, TOML_STRING, key))
		return NULL;
	if (schema_in(list, v->u.str.s))
		return json_string(v->u.str.s);
	for (p = list; nocase && p; p = q ? q + 1 : NULL) {
		size_t n;

		q = strchr(p, '|');
		n = q ? (size_t)(q - p) : strlen(p);
		if (n == v->u.str.len && !strncasecmp(p, v->u.str.s, n))
			return json_stringn(p, n);
	}
	buf_adds(&b, list);
	buf_replace_all(&b, "|", ", ");
	ERR(c, v, "'%s' must be one of %s, not '%s'", key, b.s, v->u.str.s);
	buf_free(&b);
	return NULL;
}

static json_t *
syscmd(struct ctx *c, const struct toml_value *v, const char *key)
{
	const struct toml_value *path = NULL, *cmd = NULL, *shell = NULL;
	json_t *j;
	size_t i;
	char *s;

	if (!res_want_type(c, v, TOML_TABLE, key))
		return NULL;
	for (i = 0; i < v->u.table.n; i++) {
		const struct toml_kv *kv = &v->u.table.kv[i];

		if (!strcmp(kv->key, "path"))
			path = kv->val;
		else if (!strcmp(kv->key, "command"))
			cmd = kv->val;
		else if (!strcmp(kv->key, "shell_mode"))
			shell = kv->val;
		else {
			struct suggest sg;
			char *where = xasprintf("'%s'", key);

			res_suggest_init(&sg, kv->key);
			res_suggest_try(&sg, kv->key, "path");
			res_suggest_try(&sg, kv->key, "command");
			res_suggest_try(&sg, kv->key, "shell_mode");
			res_unknown_key(c, kv, where, &sg);
			free(where);
		}
	}
	if ((path && !res_want_type(c, path, TOML_STRING, "path")) ||
	    (cmd && !res_want_type(c, cmd, TOML_STRING, "command")) ||
	    (shell && !res_want_type(c, shell, TOML_BOOL, "shell_mode")))
		return NULL;
	j = syscmd_default();
	if (path)
		json_object_set_new_nocheck(j, "path", json_stringn(path->u.str.s,
		    path->u.str.len));
	if (shell)
		json_object_set_new_nocheck(j, "shell_mode", json_boolean(shell->u.b));
	if (cmd) {
		check_interp(c, cmd, cmd->u.str.s, cmd->u.str.len, key);
		if (shell && shell->u.b)
			s = kv_file_contents(cmd->u.str.s, cmd->u.str.len);
		else
			s = kv_join_command(cmd->u.str.s, cmd->u.str.len);
		json_object_set_new_nocheck(j, "command", json_string(s));
		free(s);
	}
	return j;
}

static json_t *
version(struct ctx *c, const struct toml_value *v, const char *key)
{
	char out[64];
	struct kv_error err;

	if (v->type == TOML_STRING) {
		if (kv_version(v->u.str.s, out, sizeof(out), &err) < 0) {
			ERR(c, v, "'%s': %s", key, err.msg);
			return NULL;
		}
		return json_string(out);
	}
	if (v->type == TOML_TABLE) {
		long long part[3] = { 0, 0, 0 };
		static const char *const names[] = { "major", "minor", "patch" };
		size_t i, k;

		for (i = 0; i < v->u.table.n; i++) {
			const struct toml_kv *kv = &v->u.table.kv[i];

			for (k = 0; k < 3 && strcmp(kv->key, names[k]); k++)
				;
			if (k == 3) {
				res_unknown_key(c, kv, "version", NULL);
				continue;
			}
			if (!res_want_type(c, kv->val, TOML_INTEGER, kv->key))
				return NULL;
			if (kv->val->u.i < 0) {
				ERR(c, kv->val, "'%s' must not be negative",
				    kv->key);
				return NULL;
			}
			part[k] = kv->val->u.i;
		}
		kv_version_parts(part[0], part[1], part[2], out, sizeof(out));
		return json_string(out);
	}
	res_type_error(c, v, key, "a string (\"1.2.3\") or a table");
	return NULL;
}

/* A tagged {type, params} value: returns the variant's params table. */
static const char *
tagged(struct ctx *c, const struct toml_value *v, const char *key,
    const char *deftype, const struct toml_value **params)
{
	const char *type = deftype;
	size_t i;

	*params = NULL;
	for (i = 0; i < v->u.table.n; i++) {
		const struct toml_kv *kv = &v->u.table.kv[i];

		if (!strcmp(kv->key, "type")) {
			if (!res_want_type(c, kv->val, TOML_STRING, "type"))
				return NULL;
			type = kv->val->u.str.s;
		} else if (!strcmp(kv->key, "params")) {
			if (!res_want_type(c, kv->val, TOML_TABLE, "params"))
				return NULL;
			*params = kv->val;
		} else {
			struct suggest sg;
			char *where = xasprintf("'%s' (only type and params)",
			    key);

			res_suggest_init(&sg, kv->key);
			res_suggest_try(&sg, kv->key, "type");
			res_suggest_try(&sg, kv->key, "params");
			res_unknown_key(c, kv, where, &sg);
			free(where);
		}
	}
	return type;
}

static json_t *
image(struct ctx *c, const struct toml_value *v, const char *key)
{
	const struct toml_value *params, *img = NULL, *build = NULL, *ver = NULL;
	const char *type;
	json_t *p, *j;
	size_t i;

	if (v->type == TOML_STRING) {
		ERR(c, v, "'%s' must be a table: write image.type = \"Image\" "
		    "and image.params.image = \"%s\"", key, v->u.str.s);
		return NULL;
	}
	if (!res_want_type(c, v, TOML_TABLE, key))
		return NULL;
	type = tagged(c, v, key, "Image", &params);
	if (!type)
		return NULL;
	if (strcmp(type, "Image") && strcmp(type, "Build")) {
		ERR(c, v, "'%s.type' must be one of Image, Build, not '%s'",
		    key, type);
		return NULL;
	}
	for (i = 0; params && i < params->u.table.n; i++) {
		const struct toml_kv *kv = &params->u.table.kv[i];

		if (!strcmp(type, "Image") && !strcmp(kv->key, "image"))
			img = kv->val;
		else if (!strcmp(type, "Build") && (!strcmp(kv->key, "build") ||
		    !strcmp(kv->key, "build_id")))
			build = kv->val;
		else if (!strcmp(type, "Build") && !strcmp(kv->key, "version"))
			ver = kv->val;
		else {
			struct suggest sg;

			res_suggest_init(&sg, kv->key);
			res_suggest_try(&sg, kv->key, *type == 'I' ? "image" :
			    "build");
			if (*type == 'B')
				res_suggest_try(&sg, kv->key, "version");
			res_unknown_key(c, kv, *type == 'I' ?
			    "image.params (type Image)" :
			    "image.params (type Build)", &sg);
		}
	}
	if (*type == 'I') {
		if (img && !res_want_type(c, img, TOML_STRING, "image"))
			return NULL;
		return tagged1("Image", "image",
		    json_string(img ? img->u.str.s : ""));
	}
	if (build && !res_want_type(c, build, TOML_STRING, "build"))
		return NULL;
	if (build && build->u.str.len)
		res_add_ref(c, REF_SOFT, "build", build->u.str.s, build->u.str.len,
		    build->line, build->col, NULL);
	p = ver ? version(c, ver, "version") : json_string("0.0.0");
	if (!p)
		return NULL;
	j = json_pack("{s:s,s:{s:s,s:o}}", "type", "Build", "params",
	    "build", build ? build->u.str.s : "", "version", p);
	return j;
}

static json_t *
registry(struct ctx *c, const struct toml_value *v, const char *key)
{
	static const struct schema_field regf[] = {
		{ "account", SK_STRING, "", NULL, 0 },
		{ "domain", SK_STRING, "", NULL, 0 },
		{ "organization", SK_STRING, "", NULL, 0 },
	};
	static const struct schema_table regt = { "image_registry", regf, 3,
	    NULL, 0 };
	json_t *arr = json_array(), *o;
	size_t i;

	if (v->type == TOML_TABLE) {
		if (toml_get(v, "type") || toml_get(v, "params")) {
			WARN(c, v, "legacy '%s.type'/'%s.params' (Komodo before "
			    "1.15) ignored; use [[build.config.image_registry]] "
			    "with domain, account, organization", key, key);
			return arr;
		}
		o = json_object();
		res_parse_fields(c, &regt, v, o);
		json_array_append_new(arr, o);
		return arr;
	}
	if (v->type != TOML_ARRAY) {
		res_type_error(c, v, key, "a table or an array of tables");
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		if (!res_want_type(c, v->u.array.v[i], TOML_TABLE, key))
			continue;
		o = json_object();
		res_parse_fields(c, &regt, v->u.array.v[i], o);
		json_array_append_new(arr, o);
	}
	return arr;
}

static const char *const weekdays[] = { "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday", "Sunday" };

static json_t *
mwindows(struct ctx *c, const struct toml_value *v, const char *key)
{
	json_t *arr = json_array(), *o, *x;
	size_t i, k;

	if (!res_want_type(c, v, TOML_ARRAY, key)) {
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i], *d;

		if (!res_want_type(c, e, TOML_TABLE, key))
			continue;
		o = json_object();
		res_parse_fields(c, schema_mwindow(), e, o);
		x = json_object_get(o, "hour");
		if ((d = toml_get(e, "hour")) && (json_integer_value(x) < 0 ||
		    json_integer_value(x) > 23))
			ERR(c, d, "'hour' must be 0 to 23");
		x = json_object_get(o, "minute");
		if ((d = toml_get(e, "minute")) && (json_integer_value(x) < 0 ||
		    json_integer_value(x) > 59))
			ERR(c, d, "'minute' must be 0 to 59");
		x = json_object_get(o, "duration_minutes");
		if ((d = toml_get(e, "duration_minutes")) &&
		    (json_integer_value(x) < 0 ||
		    json_integer_value(x) > 4294967295LL))
			ERR(c, d, "'duration_minutes' must be 0 or more");
		if ((d = toml_get(e, "day_of_week")) && d->type == TOML_STRING &&
		    d->u.str.len) {
			for (k = 0; k < KOM_NELEM(weekdays) &&
			    strcasecmp(weekdays[k], d->u.str.s); k++)
				;
			if (k == KOM_NELEM(weekdays))
				ERR(c, d, "'day_of_week' must be a day of the "
				    "week (Monday ... Sunday), not '%s'",
				    d->u.str.s);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
targets(struct ctx *c, const struct toml_value *v, const char *key)
{
	json_t *arr = json_array();
	size_t i;

	if (!res_want_type(c, v, TOML_ARRAY, key)) {
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i], *t, *id;
		json_t *type;

		if (!res_want_type(c, e, TOML_TABLE, key))
			continue;
		t = toml_get(e, "type");
		id = toml_get(e, "id");
		if (!t || !id) {
			ERR(c, e, "'%s' item needs 'type' and 'id'", key);
			continue;
		}
		if (!(type = enum_value(c, t, "type", schema_target_types, 0)))
			continue;
		if (!res_want_type(c, id, TOML_STRING, "id")) {
			json_decref(type);
			continue;
		}
		json_array_append_new(arr, json_pack("{s:o,s:s}", "type", type,
		    "id", id->u.str.s));
	}
	return arr;
}

static json_t *
endpoint(struct ctx *c, const struct toml_value *v, const char *key)
{
	const struct toml_value *params;
	const struct schema_table *t;
	const char *type;
	json_t *p;

	if (!res_want_type(c, v, TOML_TABLE, key))
		return NULL;
	if (!(type = tagged(c, v, key, "Custom", &params)))
		return NULL;
	if (!(t = schema_endpoint(type))) {
		ERR(c, v, "'%s.type' must be one of Custom, Slack, Discord, "
		    "Ntfy, Pushover, Email, not '%s'", key, type);
		return NULL;
	}
	p = json_object();
	if (params)
		res_parse_fields(c, t, params, p);
	else {
		size_t i;

		for (i = 0; i < t->nfields; i++)
			json_object_set_new_nocheck(p, t->fields[i].name,
			    res_fdefault(c, &t->fields[i]));
	}
	return json_pack("{s:s,s:o}", "type", type, "params", p);
}

/* [string or {path, ...}] with the given extra members. */
static json_t *
path_items(struct ctx *c, const struct toml_value *v, const char *key,
    int config_files)
{
	json_t *arr = json_array();
	size_t i, j;

	if (!res_want_type(c, v, TOML_ARRAY, key)) {
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i];
		json_t *o;

		o = config_files ? json_pack("{s:s,s:[],s:s}", "path", "",
		    "services", "requires", "None") :
		    json_pack("{s:s,s:b}", "path", "", "track", 1);
		if (e->type == TOML_STRING) {
			json_object_set_new_nocheck(o, "path", json_string(e->u.str.s));
			json_array_append_new(arr, o);
			continue;
		}
		if (e->type != TOML_TABLE) {
			res_type_error(c, e, key, "an array of strings or tables");
			json_decref(o);
			continue;
		}
		for (j = 0; j < e->u.table.n; j++) {
			const struct toml_kv *kv = &e->u.table.kv[j];
			json_t *x;

			if (!strcmp(kv->key, "path")) {
				if (res_want_type(c, kv->val, TOML_STRING, "path"))
					json_object_set_new_nocheck(o, "path",
					    json_string(kv->val->u.str.s));
			} else if (!config_files && !strcmp(kv->key, "track")) {
				if (res_want_type(c, kv->val, TOML_BOOL, "track"))
					json_object_set_new_nocheck(o, "track",
					    json_boolean(kv->val->u.b));
			} else if (config_files && (!strcmp(kv->key,
			    "services") || !strcmp(kv->key, "service"))) {
				if ((x = res_string_list(c, kv->val, kv->key, 0)))
					json_object_set_new_nocheck(o, "services", x);
			} else if (config_files && (!strcmp(kv->key,
			    "requires") || !strcmp(kv->key, "req"))) {
				if ((x = enum_value(c, kv->val, kv->key,
				    "None|Restart|Redeploy", 1)))
					json_object_set_new_nocheck(o, "requires", x);
			} else {
				char *where = xasprintf("'%s' item", key);

				res_unknown_key(c, kv, where, NULL);
				free(where);
			}
		}
		if (!toml_get(e, "path"))
			ERR(c, e, "'%s' item needs 'path'", key);
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *
perm_level(struct ctx *c, const struct toml_value *v, const char *key,
    int check)
{
	const struct toml_value *level = v, *spec = NULL;
	json_t *l, *s = json_array();
	size_t i;

	if (v->type == TOML_TABLE) {
		level = toml_get(v, "level");
		spec = toml_get(v, "specific");
		for (i = 0; check && i < v->u.table.n; i++)
			if (strcmp(v->u.table.kv[i].key, "level") &&
			    strcmp(v->u.table.kv[i].key, "specific"))
				res_unknown_key(c, &v->u.table.kv[i], key, NULL);
		if (!level) {
			ERR(c, v, "'%s' needs a 'level'", key);
			json_decref(s);
			return NULL;
		}
	}
	if (!(l = enum_value(c, level, key, schema_levels, 0))) {
		json_decref(s);
		return NULL;
	}
	if (spec) {
		if (!res_want_type(c, spec, TOML_ARRAY, "specific"))
			goto out;
		for (i = 0; i < spec->u.array.n; i++) {
			json_t *x = enum_value(c, spec->u.array.v[i], "specific",
			    schema_specific, 0);

			if (x)
				json_array_append_new(s, x);
		}
	}
out:
	return json_pack("{s:o,s:o}", "level", l, "specific", s);
}

static json_t *
perm_all(struct ctx *c, const struct toml_value *v, const char *key)
{
	json_t *o = json_object(), *x;
	size_t i;

	if (!res_want_type(c, v, TOML_TABLE, key)) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < v->u.table.n; i++) {
		const struct toml_kv *kv = &v->u.table.kv[i];

		if (!schema_in(schema_target_types, kv->key)) {
			struct buf b = BUF_INIT;

			buf_adds(&b, schema_target_types);
			buf_replace_all(&b, "|", ", ");
			res_diag(c, 1, kv->line, kv->col, "'%s.%s': '%s' must be one "
			    "of %s", key, kv->key, kv->key, b.s);
			buf_free(&b);
			continue;
		}
		if ((x = perm_level(c, kv->val, kv->key, 1)))
			json_object_set_new(o, kv->key, x);
	}
	return o;
}

static json_t *
perms(struct ctx *c, const struct toml_value *v, const char *key)
{
	json_t *arr = json_array();
	size_t i;

	if (!res_want_type(c, v, TOML_ARRAY, key)) {
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *e = v->u.array.v[i], *t;
		json_t *tj, *lv, *one;

		if (!res_want_type(c, e, TOML_TABLE, key))
			continue;
		if (!(t = toml_get(e, "target"))) {
			ERR(c, e, "'%s' item needs a 'target'", key);
			continue;
		}
		if (t->type != TOML_TABLE) {
			res_type_error(c, t, "target", "a table");
			continue;
		}
		{
			struct toml_value arr1;
			const struct toml_value *pv = t;

			/* reuse targets() on a one-element array */
			arr1.type = TOML_ARRAY;
			arr1.line = t->line;
			arr1.col = t->col;
			arr1.u.array.v = (struct toml_value **)&pv;
			arr1.u.array.n = 1;
			tj = targets(c, &arr1, "target");
		}
		if (!tj || json_array_size(tj) != 1) {
			json_decref(tj);
			continue;
		}
		if (!(lv = perm_level(c, e, key, 0))) {
			json_decref(tj);
			continue;
		}
		one = json_pack("{s:O,s:O,s:O}", "target",
		    json_array_get(tj, 0), "level", json_object_get(lv, "level"),
		    "specific", json_object_get(lv, "specific"));
		json_decref(tj);
		json_decref(lv);
		for (size_t j = 0; j < e->u.table.n; j++) {
			const char *k = e->u.table.kv[j].key;

			if (strcmp(k, "target") && strcmp(k, "level") &&
			    strcmp(k, "specific"))
				res_unknown_key(c, &e->u.table.kv[j],
				    "permissions item", NULL);
		}
		json_array_append_new(arr, one);
	}
	return arr;
}

/* One procedure execution {type, params}. */
static json_t *
execution(struct ctx *c, const struct toml_value *v)
{
	const struct toml_value *params;
	const struct schema_exec *x;
	const char *type, *p;
	json_t *out;
	size_t i;

	if (!res_want_type(c, v, TOML_TABLE, "execution"))
		return NULL;
	if (!toml_get(v, "type")) {
		ERR(c, v, "execution without a 'type'");
		return NULL;
	}
	if (!(type = tagged(c, v, "execution", NULL, &params)))
		return NULL;
	if (!(x = schema_exec(type))) {
		struct suggest sg;
		const struct schema_exec *all;
		size_t n;

		res_suggest_init(&sg, type);
		all = schema_execs(&n);
		for (i = 0; i < n; i++)
			res_suggest_try(&sg, type, all[i].name);
		if (sg.best)
			ERR(c, toml_get(v, "type"), "unknown execution type "
			    "'%s' (did you mean '%s'?)", type, sg.best);
		else
			ERR(c, toml_get(v, "type"), "unknown execution type "
			    "'%s'", type);
		return NULL;
	}
	out = json_object();
	/* params in spec order; given keys not in the spec are warned */
	for (p = x->params; *p; ) {
		char name[40], kind[40], *def;
		const char *e = strchr(p, ' '), *colon;
		const struct toml_value *pv;
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int optional;
		json_t *val = NULL;

		colon = memchr(p, ':', n);
		snprintf(name, sizeof(name), "%.*s", (int)(colon - p), p);
		snprintf(kind, sizeof(kind), "%.*s", (int)(n - (size_t)(colon -
		    p) - 1), colon + 1);
		p += n;
		while (*p == ' ')
			p++;
		optional = name[strlen(name) - 1] == '?';
		if (optional)
			name[strlen(name) - 1] = '\0';
		def = strchr(kind, '=');
		if (def)
			*def++ = '\0';
		pv = params ? toml_get(params, name) : NULL;
		if (!pv && optional)
			continue;
		if (!strcmp(kind, "s") || kind[0] == '@') {
			if (!pv)
				val = json_string(def ? def : "");
			else if (res_want_type(c, pv, TOML_STRING, name)) {
				val = json_string(pv->u.str.s);
				if (kind[0] == '@' && pv->u.str.len)
					res_add_ref(c, c->enabled ? REF_EXEC :
					    REF_DISABLED, schema_type(kind + 1)->name,
					    pv->u.str.s,
					    pv->u.str.len, pv->line, pv->col,
					    NULL);
				if (kind[0] == '@' && !strcmp(kind + 1,
				    "procedure") && !strcmp(c->rtype,
				    "procedure") && c->rname &&
				    !strcmp(pv->u.str.s, c->rname))
					ERR(c, pv, "procedure '%s' runs itself "
					    "(self referential procedure)",
					    c->rname);
			}
		} else if (!strcmp(kind, "i")) {
			if (!pv)
				val = json_integer(0);
			else if (res_want_type(c, pv, TOML_INTEGER, name))
				val = json_integer(pv->u.i);
		} else if (!strcmp(kind, "b")) {
			if (!pv)
				val = json_false();
			else if (res_want_type(c, pv, TOML_BOOL, name))
				val = json_boolean(pv->u.b);
		} else if (!strcmp(kind, "l")) {
			val = pv ? res_string_list(c, pv, name, 0) : json_array();
		} else if (!strcmp(kind, "sig")) {
			if (!pv)
				val = json_string("SIGTERM");
			else if (res_want_type(c, pv, TOML_STRING, name)) {
				const char *sg = kv_signal(pv->u.str.s);

				if (sg)
					val = json_string(sg);
				else
					ERR(c, pv, "'%s' must be one of SIGHUP, "
					    "SIGINT, SIGQUIT, SIGTERM, not '%s'",
					    name, pv->u.str.s);
			}
		} else {
			val = pv ? to_json(pv) : json_array();
		}
		if (val)
			json_object_set_new(out, name, val);
	}
	for (i = 0; params && i < params->u.table.n; i++) {
		const struct toml_kv *kv = &params->u.table.kv[i];
		char pat[48];

		snprintf(pat, sizeof(pat), "%s:", kv->key);
		if (!strstr(x->params, pat) && (snprintf(pat, sizeof(pat),
		    "%s?:", kv->key), !strstr(x->params, pat))) {
			char *where = xasprintf("params of %s", x->name);

			res_unknown_key(c, kv, where, NULL);
			free(where);
		}
	}
	return json_pack("{s:s,s:o}", "type", x->name, "params", out);
}

static json_t *
stages(struct ctx *c, const struct toml_value *v, const char *key)
{
	json_t *arr = json_array();
	size_t i, j, k;

	if (!res_want_type(c, v, TOML_ARRAY, key)) {
		json_decref(arr);
		return NULL;
	}
	for (i = 0; i < v->u.array.n; i++) {
		const struct toml_value *st = v->u.array.v[i], *ex;
		json_t *o, *execs;

		if (!res_want_type(c, st, TOML_TABLE, key))
			continue;
		o = json_object();
		res_parse_fields(c, schema_stage(), st, o);
		execs = json_array();
		ex = toml_get(st, "executions");
		if (!ex)
			ex = toml_get(st, "execution");
		if (ex && res_want_type(c, ex, TOML_ARRAY, "executions")) {
			for (j = 0; j < ex->u.array.n; j++) {
				const struct toml_value *e = ex->u.array.v[j],
				    *xv = NULL, *en = NULL;
				json_t *xj;

				if (!res_want_type(c, e, TOML_TABLE, "executions"))
					continue;
				for (k = 0; k < e->u.table.n; k++) {
					const struct toml_kv *kv =
					    &e->u.table.kv[k];

					if (!strcmp(kv->key, "execution"))
						xv = kv->val;
					else if (!strcmp(kv->key, "enabled"))
						en = kv->val;
					else
						res_unknown_key(c, kv, "executions "
						    "item", NULL);
				}
				if (!xv) {
					ERR(c, e, "executions item without an "
					    "'execution'");
					continue;
				}
				if (en && !res_want_type(c, en, TOML_BOOL, "enabled"))
					continue;
				c->enabled = (!en || en->u.b) && json_is_true(
				    json_object_get(o, "enabled"));
				xj = execution(c, xv);
				c->enabled = 1;
				if (!xj)
					continue;
				json_array_append_new(execs, json_pack(
				    "{s:b,s:o}", "enabled", en ? en->u.b : 1,
				    "execution", xj));
			}
		}
		json_object_set_new_nocheck(o, "executions", execs);
		json_array_append_new(arr, o);
	}
	return arr;
}

/* TOML strings are valid UTF-8 (toml.h): made with json_stringn_nocheck(). */
static json_t *
convert(struct ctx *c, const struct schema_field *f, const struct toml_value *v,
    const char *key)
{
	int interp = f->flags & SCHEMA_INTERP;
	const char *sig;
	json_t *j;
	char *s;

	switch (f->kind) {
	case SK_STRING:
		if (!res_want_type(c, v, TOML_STRING, key))
			return NULL;
		if (interp)
			check_interp(c, v, v->u.str.s, v->u.str.len, key);
		return json_stringn_nocheck(v->u.str.s, v->u.str.len);
	case SK_BOOL:
		return res_want_type(c, v, TOML_BOOL, key) ? json_boolean(v->u.b) :
		    NULL;
	case SK_INT:
		return res_want_type(c, v, TOML_INTEGER, key) ?
		    json_integer(v->u.i) : NULL;
	case SK_FLOAT:
		if (!res_want_type(c, v, TOML_FLOAT, key))
			return NULL;
		return json_real(v->type == TOML_INTEGER ? (double)v->u.i :
		    v->u.f);
	case SK_STRLIST:
		return res_string_list(c, v, key, interp);
	case SK_KV:
		return kv_field(c, f, v, key);
	case SK_FILE:
		if (!res_want_type(c, v, TOML_STRING, key))
			return NULL;
		if (interp)
			check_interp(c, v, v->u.str.s, v->u.str.len, key);
		s = kv_file_contents(v->u.str.s, v->u.str.len);
		j = json_string(s);
		free(s);
		return j;
	case SK_SYSCMD:
		return syscmd(c, v, key);
	case SK_VERSION:
		return version(c, v, key);
	case SK_SIGNAL:
		if (!res_want_type(c, v, TOML_STRING, key))
			return NULL;
		if ((sig = kv_signal(v->u.str.s)))
			return json_string(sig);
		ERR(c, v, "'%s' must be one of SIGHUP, SIGINT, SIGQUIT, SIGTERM "
		    "(or 1, 2, 3, 15), not '%s'", key, v->u.str.s);
		return NULL;
	case SK_ENUM:
		return enum_value(c, v, key, f->arg, 0);
	case SK_REF:
		if (!res_want_type(c, v, TOML_STRING, key))
			return NULL;
		if (v->u.str.len)
			res_add_ref(c, !strcmp(f->arg, "server") ? REF_SERVER :
			    REF_SOFT, f->arg, v->u.str.s, v->u.str.len,
			    v->line, v->col, NULL);
		return json_stringn_nocheck(v->u.str.s, v->u.str.len);
	case SK_REFLIST:
		if ((j = res_string_list(c, v, key, 0))) {
			size_t i;

			for (i = 0; i < json_array_size(j); i++)
				res_add_ref(c, REF_SERVER, f->arg,
				    json_string_value(json_array_get(j, i)),
				    json_string_length(json_array_get(j, i)),
				    v->line, v->col, NULL);
		}
		return j;
	case SK_IMAGE:
		return image(c, v, key);
	case SK_REGISTRY:
		return registry(c, v, key);
	case SK_MWINDOWS:
		return mwindows(c, v, key);
	case SK_STAGES:
		return stages(c, v, key);
	case SK_TARGETS:
		return targets(c, v, key);
	case SK_ENDPOINT:
		return endpoint(c, v, key);
	case SK_ENVFILES:
		return path_items(c, v, key, 0);
	case SK_CONFIGFILES:
		return path_items(c, v, key, 1);
	case SK_PERMALL:
		return perm_all(c, v, key);
	case SK_PERMS:
		return perms(c, v, key);
	case SK_ANY:
		return to_json(v);
	}
	return NULL;
}

/*
 * Every field of t into out: the given ones converted, the others their
 * defaults.  Unknown keys are warnings; the same field given twice (by
 * name and by alias) is an error.  skip lists keys handled by the caller.
 */
void
res_parse_fields_skip(struct ctx *c, const struct schema_table *t,
    const struct toml_value *tbl, json_t *out, const char *const *skip)
{
	const struct toml_kv *given[MAX_FIELDS] = { 0 };
	size_t i, k;

	for (i = 0; i < tbl->u.table.n; i++) {
		const struct toml_kv *kv = &tbl->u.table.kv[i];
		const struct schema_field *f = schema_field(t, kv->key);
		size_t idx;

		for (k = 0; skip && skip[k] && strcmp(skip[k], kv->key); k++)
			;
		if (skip && skip[k])
			continue;
		if (!f) {
			struct suggest s;
			char *where = t->what[0] == '[' ? xstrdup(t->what) :
			    xasprintf("[%s]", t->what);

			res_suggest_init(&s, kv->key);
			res_suggest_table(&s, kv->key, t);
			res_unknown_key(c, kv, where, &s);
			free(where);
			continue;
		}
		idx = (size_t)(f - t->fields);
		if (given[idx]) {
			res_diag(c, 1, kv->line, kv->col, "'%s' given twice (also "
			    "as '%s' at line %d)", kv->key, given[idx]->key,
			    given[idx]->line);
			continue;
		}
		given[idx] = kv;
	}
	for (i = 0; i < t->nfields; i++) {
		const struct schema_field *f = &t->fields[i];
		json_t *v = NULL;

		if (given[i])
			v = convert(c, f, given[i]->val, given[i]->key);
		else if (f->flags & SCHEMA_REQUIRED)
			ERR(c, tbl, t->what[0] == '[' ? "%s needs '%s'" :
			    "[%s] needs '%s'", t->what, f->name);
		if (!v && c->lean)
			continue;
		if (c->lean && out == c->lean_out && !res_lean_keeps(f->name)) {
			json_decref(v);
			continue;
		}
		if (!v)
			v = res_fdefault(c, f);
		json_object_set_new_nocheck(out, f->name, v);
	}
}

void
res_parse_fields(struct ctx *c, const struct schema_table *t,
    const struct toml_value *tbl, json_t *out)
{
	res_parse_fields_skip(c, t, tbl, out, NULL);
}

json_t *
res_builder_config(struct ctx *c, const struct toml_value *cfg)
{
	const struct toml_value *params = NULL;
	const struct schema_table *t;
	const char *type = "Aws";
	json_t *p = json_object();
	size_t i;

	if (cfg) {
		type = tagged(c, cfg, "builder.config", "Aws", &params);
		if (!type)
			type = "Aws";
	}
	if (!(t = schema_builder(type))) {
		ERR(c, toml_get(cfg, "type"), "'config.type' must be one of "
		    "Aws, Server, Url, not '%s'", type);
		type = "Aws";
		t = schema_builder(type);
	}
	if (params)
		res_parse_fields(c, t, params, p);
	else
		for (i = 0; i < t->nfields; i++)
			json_object_set_new_nocheck(p, t->fields[i].name,
			    res_fdefault(c, &t->fields[i]));
	return json_pack("{s:s,s:o}", "type", type, "params", p);
}

/* The host key for inline secret values, read (or made) on first use;
 * NULL when there is none (no state dir given, or it cannot be had). */
static const unsigned char *
host_key(struct ctx *c)
{
	char *path = NULL;

	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	int rc;

	if (!c->key_state && c->opts->statedir) {
		c->key_state = -1;
		/* files may be checked on several threads: one makes it */
		pthread_mutex_lock(&mu);
		rc = secrets_key(c->opts->statedir, 1, c->key, &path);
		pthread_mutex_unlock(&mu);
		if (rc == 0)
			c->key_state = 1;
		else {
			struct buf m = BUF_INIT;

			buf_printf(&m, "%s; inline secret values are neither "
			    "compared nor passed on", strerror(errno));
			res_emit(c, 0, path, m.s);
			buf_free(&m);
		}
		free(path);
	}
	return c->key_state == 1 ? c->key : NULL;
}

/*
 * A secret variable: its value never leaves as text (config.value is
 * <NAME>).  A value in the file is used unless a secret file of that name
 * overrides it, and is passed on sealed; the value in force is passed on
 * as a keyed hash so that a change shows in the diff (secrets.h).
 */
void
res_secret_variable(struct ctx *c, const struct toml_value *tbl, json_t *rec,
    json_t *config, int named)
{
	const char *name = c->rname ? c->rname : "";
	const char *inl = json_string_value(json_object_get(config, "value"));
	const struct toml_value *at = toml_get(tbl, "value");
	const unsigned char *key;
	char *fval = NULL, *where = NULL, *mask, hash[SECRETS_HASH_HEX];
	const char *val = NULL;
	int found = *name && secrets_read(&c->sec, name, &fval, &where) == 0;
	int e = errno;

	if (!inl || !*inl)
		inl = NULL;
	if (!found && !inl && named) {
		/* the deploy would fail on it: say so now */
		const struct toml_value *nv = toml_get(tbl, "name");
		char *dirs = secrets_where(&c->sec);

		if (where)
			WARN(c, nv, "secret variable '%s': %s: %s", name, where,
			    strerror(e));
		else
			WARN(c, nv, "secret variable '%s' has no value: no "
			    "secret file in %s has that name", name, dirs);
		free(dirs);
	} else if (inl && named && found)
		WARN(c, at, "secret variable '%s' has a value in git, "
		    "unused: %s overrides it", name, where);
	else if (inl && named)
		WARN(c, at, "secret variable '%s' has its value in git; kom "
		    "uses it, but it belongs in %s/%s", name, c->sec.dir,
		    name);
	val = found ? fval : inl;
	if (val && named && (key = host_key(c))) {
		secrets_hash(key, name, val, hash);
		json_object_set_new_nocheck(rec, "secret_hash",
		    json_string(hash));
		if (!found) {
			char *sealed = secrets_seal(key, name, inl);

			json_object_set_new_nocheck(rec, "secret_sealed",
			    json_string(sealed));
			free(sealed);
		}
	}
	secrets_wipe(fval);
	free(where);
	mask = xasprintf("<%s>", name);
	json_object_set_new_nocheck(config, "value", json_string(mask));
	free(mask);
	json_object_set_new_nocheck(rec, "secret", json_true());
}
