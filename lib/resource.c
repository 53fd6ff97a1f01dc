/*
 * resource: load, check and normalize Komodo resource files; see
 * resource.h.  One pass per file builds the records and remembers every
 * reference between resources; the references are checked once all files
 * are read, so that declaration order does not matter.  This file loads
 * and walks the files and checks each resource; resource_convert.c
 * converts the field formats, resource_refs.c checks the references
 * (resource_int.h: what they share).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "interp.h"
#include "kv.h"
#include "resource.h"
#include "resource_int.h"
#include "plan.h"
#include "schedule.h"
#include "schema.h"
#include "secrets.h"
#include "support.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

/*
 * A schedule kom-exec's timers could not read is an error here, at its
 * line, not a timer that never fires (lib/schedule.h).
 */
static void
check_schedule(struct ctx *c, const struct toml_value *cfg, json_t *config)
{
	const struct toml_kv *kv = toml_get_kv(cfg, "schedule");
	const struct toml_kv *tz = toml_get_kv(cfg, "schedule_timezone");
	const char *text = json_string_value(json_object_get(config,
	    "schedule"));
	const char *zone = json_string_value(json_object_get(config,
	    "schedule_timezone"));
	struct schedule s;
	struct buf err = BUF_INIT;

	if (kv && text && *text && schedule_parse(json_string_value(
	    json_object_get(config, "schedule_format")), text, &s, &err) < 0)
		res_diag(c, 1, kv->line, kv->col, "%s", err.s);
	if (tz && zone && !schedule_zone_ok(zone))
		res_diag(c, 1, tz->line, tz->col, "schedule_timezone '%s' is "
		    "not a zone of the tz database (/usr/share/zoneinfo)", zone);
	buf_free(&err);
}

/* Diagnostics */

void
res_emit(struct ctx *c, int is_error, const char *loc, const char *msg)
{
	struct buf b = BUF_INIT;

	if (!is_error && c->opts->strict)
		is_error = 1;
	else if (!is_error)
		buf_printf(&b, "%s: warning: %s", loc, msg);
	if (is_error) {
		if (loc)
			buf_printf(&b, "%s: ", loc);
		buf_adds(&b, msg);
		c->errors++;
	}
	if (c->opts->diag)
		c->opts->diag(c->opts->diag_ctx, is_error, b.s);
	else
		kom_warn("%s", b.s);
	buf_free(&b);
}

/* A note: neither a warning nor an error, whatever strict says. */
void
res_note(struct ctx *c, const char *loc, const char *msg)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s: note: %s", loc, msg);
	if (c->opts->diag)
		c->opts->diag(c->opts->diag_ctx, 0, b.s);
	else
		kom_warn("%s", b.s);
	buf_free(&b);
}

/* Map a column of the pre-processed text back to the file's. */
int
res_file_col(const struct file *f, int line, int col)
{
	size_t start, pos, lo, hi, n = 0;

	if (!f || line < 1 || (size_t)line > f->nlines || f->nins == 0)
		return col;
	start = f->lines[line - 1];
	pos = start + (size_t)(col > 0 ? col - 1 : 0);
	/* count inserted bytes in [start, pos) */
	lo = 0;
	hi = f->nins;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->ins[mid] < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo + n < f->nins && f->ins[lo + n] < pos)
		n++;
	return col - (int)n;
}

/*
 * "PREFIX:LINE" as a new JSON string: a record's "source" and
 * "after_source", two per record, for which vasprintf was a twentieth of
 * a load; utf8: the prefix is known to be valid UTF-8 (checked once per
 * file, not per record).
 */
static json_t *
path_line(const char *prefix, int line, int utf8)
{
	char num[16], *p = num + sizeof(num), small[256], *t = small;
	size_t n = strlen(prefix), k;
	unsigned v = line > 0 ? (unsigned)line : 0;
	json_t *j;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	*--p = ':';
	k = (size_t)(num + sizeof(num) - p);
	if (n + k > sizeof(small))
		t = xmalloc(n + k);
	memcpy(t, prefix, n);
	memcpy(t + n, p, k);
	j = utf8 ? json_stringn_nocheck(t, n + k) : json_stringn(t, n + k);
	if (t != small)
		free(t);
	return j;
}

char *
res_loc_str(struct ctx *c, int line, int col)
{
	if (line <= 0)
		return xstrdup(c->f->path);
	return xasprintf("%s:%d:%d", c->f->path, line,
	    res_file_col(c->f, line, col));
}

void
res_diag(struct ctx *c, int is_error, int line, int col, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	char *loc = res_loc_str(c, line, col);
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	res_emit(c, is_error, loc, msg.s);
	buf_free(&msg);
	free(loc);
}

const char *
res_article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

void
res_type_error(struct ctx *c, const struct toml_value *v, const char *key,
    const char *want)
{
	const char *got = toml_type_name(v->type);

	ERR(c, v, "'%s' must be %s, not %s %s", key, want, res_article(got), got);
}

void
res_suggest_init(struct suggest *s, const char *key)
{
	size_t n = strlen(key);

	s->best = NULL;
	s->cap = n <= 3 ? 1 : n <= 6 ? 2 : 3;
	s->dist = s->cap + 1;
}

void
res_suggest_try(struct suggest *s, const char *key, const char *cand)
{
	int d = kv_distance(key, cand, s->cap);

	if (d < s->dist) {
		s->dist = d;
		s->best = cand;
	}
}

void
res_suggest_table(struct suggest *s, const char *key,
    const struct schema_table *t)
{
	size_t i;

	for (i = 0; i < t->nfields; i++)
		res_suggest_try(s, key, t->fields[i].name);
	for (i = 0; i < t->naliases; i++)
		res_suggest_try(s, key, t->aliases[i].alias);
}

void
res_unknown_key(struct ctx *c, const struct toml_kv *kv, const char *where,
    struct suggest *s)
{
	char hint[96] = "";

	if (s && s->best)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", s->best);
	res_diag(c, 0, kv->line, kv->col, "unknown key '%s' in %s%s", kv->key,
	    where, hint);
}

/* Resources */

/* Rebuilding checked files: what resource_check() kept for it. */
struct path;
struct resource_pass {
	struct resource_opts opts;	/* the rebuild's: quiet, whole */
	struct path *v;		/* the files, with their bytes */
	size_t n;
	size_t *index;		/* per record (seq): index in the records,
				 * or SIZE_MAX when not among them */
	json_t **after;		/* per record: its checked `after` */
	size_t nseq;
	int (*fn)(void *ctx, json_t *rec, size_t i);
	void *ctx;
};

static json_t *
names_of(struct ctx *c, const struct schema_type *t)
{
	int r = schema_rank(t);

	if (!c->names[r])
		c->names[r] = json_object();
	return c->names[r];
}

static const char *const meta_common[] = { "name", "description", "tags",
	"template", "deploy", "after", "config", NULL };
static const char *const meta_variable[] = { "name", "description", NULL };
static const char *const meta_user_group[] = { "name", NULL };

/* the config members the checks across records read (and support_check():
 * swarm) */
static const char *const slim_cfg[] = { "server", "swarm", "servers" };

int
res_lean_keeps(const char *field)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(slim_cfg); i++)
		if (!strcmp(field, slim_cfg[i]))
			return 1;
	return 0;
}

/*
 * A record cut down to the members finish() and the checks across files
 * read (resource_opts.check_only).  The `after` array moves over whole:
 * its elements are the slots references rewrite.
 */
static json_t *
slim(json_t *rec)
{
	static const char *const top[] = { "type", "name", "source",
		"after_source", "deploy", "after", "tags" };
	json_t *s = json_object(), *c = json_object(), *from, *v;
	size_t i;

	for (i = 0; i < KOM_NELEM(top); i++)
		if ((v = json_object_get(rec, top[i])))
			json_object_set_nocheck(s, top[i], v);
	from = json_object_get(rec, "config");
	for (i = 0; i < KOM_NELEM(slim_cfg); i++)
		if ((v = json_object_get(from, slim_cfg[i])))
			json_object_set_nocheck(c, slim_cfg[i], v);
	json_object_set_new_nocheck(s, "config", c);
	json_decref(rec);
	return s;
}

/* A type resource_opts.whole keeps whole. */
static int
is_whole(const struct ctx *c, const struct schema_type *t)
{
	const char *const *w;

	for (w = c->opts->whole; w && *w; w++)
		if (!strcmp(*w, t->name))
			return 1;
	return 0;
}

/* A record rebuilt: to the caller when it is one of the records, with
 * the `after` its check rewrote. */
static void
rebuilt(struct ctx *c, json_t *rec)
{
	struct resource_pass *p = c->pass;
	size_t seq = c->seq++;

	if (seq >= p->nseq || p->index[seq] == SIZE_MAX) {
		json_decref(rec);
		return;
	}
	json_object_set_nocheck(rec, "after", p->after[seq]);
	c->stop = p->fn(p->ctx, rec, p->index[seq]);
}

static void defer_name(struct ctx *c, const struct schema_type *t,
    const char *norm, const struct toml_value *name,
    const struct toml_value *tbl);

static void
parse_resource(struct ctx *c, const struct schema_type *t,
    const struct toml_value *tbl)
{
	const struct toml_value *name = NULL, *cfg = NULL, *v;
	const char *const *meta = t->flags & SCHEMA_TOPLEVEL ?
	    (!strcmp(t->name, "variable") ? meta_variable : meta_user_group) :
	    meta_common;
	struct kv_error kerr;
	json_t *rec, *seen, *x, *config;
	char *norm = NULL;
	size_t i, k;
	struct res *r;

	/*
	 * Check only: a field's default is checked by nobody, and adding
	 * thirty of them to every config was a third of a load; nor are the
	 * members slim() lets go made.  Not for what the checks below read
	 * from the config (schedules, secret variables).
	 */
	c->lean = c->opts->check_only && strcmp(t->name, "procedure") &&
	    strcmp(t->name, "action") && strcmp(t->name, "variable") &&
	    !is_whole(c, t);
	rec = json_object();
	if (!c->lean)
		json_object_set_new_nocheck(rec, "kind",
		    json_string_nocheck("resource"));
	json_object_set_new_nocheck(rec, "type", json_string(t->name));
	json_object_set_new_nocheck(rec, "name", json_string_nocheck(""));
	json_object_set_new_nocheck(rec, "source",
	    path_line(c->f->source, tbl->line, c->f->utf8));
	if (c->f->root && !c->lean)
		json_object_set_new_nocheck(rec, "root", json_string(c->f->root));
	if (!c->lean)
		json_object_set_new_nocheck(rec, "description", json_string(""));
	json_object_set_new_nocheck(rec, "tags", json_array());
	if (!c->lean)
		json_object_set_new_nocheck(rec, "template", json_false());
	json_object_set_new_nocheck(rec, "deploy", json_false());
	json_object_set_new_nocheck(rec, "after", json_array());
	c->rtype = t->name;
	c->rname = NULL;

	/* name first, so that messages can name the resource */
	name = toml_get(tbl, "name");
	if (!name) {
		ERR(c, tbl, "%s without a name", t->name);
	} else if (res_want_type(c, name, TOML_STRING, "name")) {
		norm = kv_name(name->u.str.s, t->name_style, &kerr);
		if (!norm)
			ERR(c, name, "%s %s", t->name, kerr.msg);
		else if (strcmp(norm, name->u.str.s))
			WARN(c, name, "%s name '%s' becomes '%s'", t->name,
			    name->u.str.s, norm);
	}
	if (norm && !c->pass && c->out)
		defer_name(c, t, norm, name, tbl);
	else if (norm && !c->pass) {
		seen = names_of(c, t);
		if ((x = json_object_get(seen, norm)))
			ERR(c, name, "duplicate %s '%s' (also at %s)", t->name,
			    norm, json_string_value(x));
		else	/* "PATH:LINE" of the header */
			json_object_set_new(seen, norm,
			    path_line(c->f->path, tbl->line, c->f->utf8));
	}
	if (norm) {
		json_object_set_new_nocheck(rec, "name", json_string(norm));
		c->rname = json_string_value(json_object_get(rec, "name"));
	}
	/* is interpolation on for this resource? */
	c->interp = 1;
	cfg = t->flags & SCHEMA_TOPLEVEL ? tbl : toml_get(tbl, "config");
	if (cfg && cfg->type == TOML_TABLE &&
	    (v = toml_get(cfg, "skip_secret_interp")) && v->type == TOML_BOOL &&
	    v->u.b)
		c->interp = 0;

	for (i = 0; i < tbl->u.table.n; i++) {
		const struct toml_kv *kv = &tbl->u.table.kv[i];

		for (k = 0; meta[k] && strcmp(meta[k], kv->key); k++)
			;
		if (!meta[k]) {
			struct suggest s;
			char *where;

			/* res_parse_fields_skip() reports these */
			if (t->flags & SCHEMA_TOPLEVEL)
				continue;
			if (t->config && !(t->flags & SCHEMA_TOPLEVEL) &&
			    schema_field(t->config, kv->key)) {
				res_diag(c, 0, kv->line, kv->col, "unknown key "
				    "'%s' in [[%s]] (did you mean to put it "
				    "under [%s.config]?)", kv->key, t->name,
				    t->name);
				continue;
			}
			res_suggest_init(&s, kv->key);
			for (k = 0; meta[k]; k++)
				res_suggest_try(&s, kv->key, meta[k]);
			if (t->flags & SCHEMA_TOPLEVEL)
				res_suggest_table(&s, kv->key, t->config);
			where = xasprintf("[[%s]]", t->name);
			res_unknown_key(c, kv, where, &s);
			free(where);
			continue;
		}
		v = kv->val;
		if (!strcmp(kv->key, "description")) {
			if (res_want_type(c, v, TOML_STRING, kv->key) &&
			    !c->lean)
				json_object_set_new_nocheck(rec, "description",
				    json_string(v->u.str.s));
		} else if (!strcmp(kv->key, "template") ||
		    !strcmp(kv->key, "deploy")) {
			if (res_want_type(c, v, TOML_BOOL, kv->key) &&
			    (!c->lean || !strcmp(kv->key, "deploy")))
				json_object_set_new(rec, kv->key,
				    json_boolean(v->u.b));
			if (!strcmp(kv->key, "deploy") && v->type == TOML_BOOL &&
			    v->u.b && strcmp(t->name, "deployment") &&
			    strcmp(t->name, "stack"))
				res_diag(c, 0, kv->line, kv->col, "'deploy' only "
				    "means something for deployments and "
				    "stacks");
		} else if (!strcmp(kv->key, "tags")) {
			if ((x = res_string_list(c, v, kv->key, 0)))
				json_object_set_new_nocheck(rec, "tags", x);
		} else if (!strcmp(kv->key, "after")) {
			if (strcmp(t->name, "deployment") &&
			    strcmp(t->name, "stack"))
				res_diag(c, 0, kv->line, kv->col, "'after' only "
				    "means something for deployments and "
				    "stacks");
			if (!(x = res_string_list(c, v, kv->key, 0)))
				continue;
			json_object_set_new_nocheck(rec, "after", x);
			for (k = 0; k < json_array_size(x); k++) {
				json_t *e = json_array_get(x, k);

				res_add_ref(c, REF_AFTER, "deployment",
				    json_string_value(e), json_string_length(e),
				    v->type == TOML_ARRAY ?
				    v->u.array.v[k]->line : v->line,
				    v->type == TOML_ARRAY ?
				    v->u.array.v[k]->col : v->col, e);
			}
			json_object_set_new_nocheck(rec, "after_source",
			    path_line(c->f->source, kv->line, c->f->utf8));
		} else if (!strcmp(kv->key, "config")) {
			if (!res_want_type(c, v, TOML_TABLE, "config"))
				cfg = NULL;
		}
	}

	config = json_object();
	if (t->flags & SCHEMA_TAGGED) {
		json_decref(config);
		config = res_builder_config(c, cfg && cfg->type == TOML_TABLE ?
		    cfg : NULL);
	} else if (t->flags & SCHEMA_TOPLEVEL) {
		c->lean_out = config;
		res_parse_fields_skip(c, t->config, tbl, config, meta);
		c->lean_out = NULL;
	} else if (cfg && cfg->type == TOML_TABLE) {
		c->lean_out = config;
		res_parse_fields(c, t->config, cfg, config);
		c->lean_out = NULL;
	} else if (!c->lean) {
		for (i = 0; i < t->config->nfields; i++)
			json_object_set_new_nocheck(config, t->config->fields[i].name,
			    res_fdefault(c, &t->config->fields[i]));
	}
	if ((!strcmp(t->name, "procedure") || !strcmp(t->name, "action")) &&
	    cfg && cfg->type == TOML_TABLE)
		check_schedule(c, cfg, config);
	if (!strcmp(t->name, "variable") &&
	    json_is_true(json_object_get(config, "is_secret")))
		res_secret_variable(c, tbl, rec, config, name != NULL);
	json_object_set_new_nocheck(rec, "config", config);
	free(norm);
	if (c->rname && c->opts->notes) {
		struct buf what = BUF_INIT, m = BUF_INIT;
		char *at;

		if (support_check(rec, &what, NULL, NULL)) {
			at = res_loc_str(c, tbl->line, tbl->col);
			buf_printf(&m, "%s '%s': kom does not act on these yet: "
			    "%s", t->name, c->rname, what.s);
			res_note(c, at, m.s);
			free(at);
		}
		buf_free(&what);
		buf_free(&m);
	}
	if (c->pass) {
		rebuilt(c, rec);
		return;
	}
	/* a lean record is made slim, but for a builder's tagged config */
	if (c->opts->check_only && !is_whole(c, t) &&
	    (!c->lean || (t->flags & SCHEMA_TAGGED)))
		rec = slim(rec);
	/* kept even without a name: references point into it */
	KOM_GROW(c->res, c->nres + 1, c->cap);
	r = &c->res[c->nres++];
	r->rec = rec;
	r->rank = schema_rank(t);
	r->seq = c->seq++;
	r->drop = !name || !c->rname;
}

/* The first \"\"\" in [p, end), or end: memchr is many times memmem's speed
 * for a needle of three bytes. */
static const char *
triple_quote(const char *p, const char *end)
{
	while (end - p >= 3 && (p = memchr(p, '"', (size_t)(end - p - 2)))) {
		if (p[1] == '"' && p[2] == '"')
			return p;
		p += p[1] == '"' ? 2 : 1;
	}
	return end;
}

/*
 * resource_escape_triple(), also noting in *ins the offset in out of each
 * backslash it inserted (the second of each pair) when ins is not NULL.
 */
static size_t
escape_triple(const char *in, size_t len, struct buf *out, size_t **ins,
    size_t *nins)
{
	const char *p = in, *end = in + len, *q;
	size_t n = 0, icap = 0;
	int inside = 0;

	/* the input, and a sixteenth for doubled backslashes, in one go */
	buf_grow(out, len + len / 16);
	while (p < end) {
		q = triple_quote(p, end);
		if (!inside)
			buf_add(out, p, (size_t)(q - p));
		else
			/* a span up to each backslash, then the backslash twice */
			while (p < q) {
				const char *bs = memchr(p, '\\', (size_t)(q - p));

				if (!bs) {
					buf_add(out, p, (size_t)(q - p));
					p = q;
					break;
				}
				buf_add(out, p, (size_t)(bs - p));
				buf_add(out, "\\\\", 2);
				if (ins) {
					KOM_GROW(*ins, *nins + 1, icap);
					(*ins)[(*nins)++] = out->len - 1;
				}
				n++;
				p = bs + 1;
			}
		if (q == end)
			break;
		buf_add(out, "\"\"\"", 3);
		p = q + 3;
		inside = !inside;
	}
	return n;
}

size_t
resource_escape_triple(const char *in, size_t len, struct buf *out)
{
	return escape_triple(in, len, out, NULL, NULL);
}

/* A file or directory that cannot be read: an error, counted apart. */
static void
path_error(struct ctx *c, const char *path, const char *msg)
{
	c->read_errors++;
	res_emit(c, 1, path, msg);
}

static void
path_errno(struct ctx *c, const char *path, int err)
{
	char *m = err == EFBIG ? xstrdup("file too large (over 16 MiB)") :
	    xasprintf("%s", strerror(err));

	path_error(c, path, m);
	free(m);
}

static void load_text(struct ctx *c, const char *path, const char *source,
    const char *rootdir, const char *data, size_t len);

/* keep: the file's bytes are moved there (for a rebuild) when not NULL. */
static void
load_file(struct ctx *c, const char *path, const char *source,
    const char *root, struct buf *keep)
{
	struct buf raw = BUF_INIT;

	if (file_read(path, &raw, RESOURCE_MAX_FILE) < 0) {
		path_errno(c, path, errno);
		buf_free(&raw);
		return;
	}
	load_text(c, path, source, root, raw.s, raw.len);
	if (keep) {	/* file_read() leaves room for 64 KiB more */
		raw.s = xrealloc(raw.s, raw.len + 1);
		raw.cap = raw.len + 1;
		*keep = raw;
	} else
		buf_free(&raw);
}

static void
load_text(struct ctx *c, const char *path, const char *source,
    const char *rootdir, const char *data, size_t len)
{
	struct file f = { path, source, rootdir, BUF_INIT, NULL, 0, NULL, 0,
		kom_utf8_valid(path, strlen(path)) &&
		kom_utf8_valid(source, strlen(source)) };
	struct toml_error terr;
	struct toml_value *root;
	const char *p, *end;
	size_t i, j, cap = 0;

	/* a record names its file in JSON, which carries only UTF-8 */
	if (!f.utf8) {
		res_emit(c, 1, path, "the file's name is not valid UTF-8, "
		    "and records name their file in JSON, which must be: "
		    "rename it");
		return;
	}
	escape_triple(data, len, &f.text, &f.ins, &f.nins);
	/* line starts */
	KOM_GROW(f.lines, 1, cap);
	f.lines[f.nlines++] = 0;
	for (p = f.text.s, end = f.text.s + f.text.len; p && p < end &&
	    (p = memchr(p, '\n', (size_t)(end - p))); p++) {
		KOM_GROW(f.lines, f.nlines + 1, cap);
		f.lines[f.nlines++] = (size_t)(p - f.text.s) + 1;
	}
	c->f = &f;
	root = toml_parse(f.text.s, f.text.len, &terr);
	if (!root) {
		res_diag(c, 1, terr.line, terr.col, "%s", terr.msg);
		goto out;
	}
	for (i = 0; i < root->u.table.n && !c->stop; i++) {
		const struct toml_kv *kv = &root->u.table.kv[i];
		const struct schema_type *t = schema_type(kv->key);
		const struct toml_value *v = kv->val;

		if (!t) {
			struct suggest s;
			const struct schema_type *all;
			size_t n, k;

			if (!strcmp(kv->key, "server_template") ||
			    !strcmp(kv->key, "server_templates")) {
				res_diag(c, 0, kv->line, kv->col, "[[%s]] is not "
				    "supported (Komodo removed it in 1.17.5); "
				    "ignored", kv->key);
				continue;
			}
			res_suggest_init(&s, kv->key);
			all = schema_types(&n);
			for (k = 0; k < n; k++) {
				res_suggest_try(&s, kv->key, all[k].name);
				res_suggest_try(&s, kv->key, all[k].plural);
			}
			res_unknown_key(c, kv, "the resource file", &s);
			continue;
		}
		if (v->type != TOML_ARRAY) {
			res_diag(c, 1, kv->line, kv->col, "'%s' must be an array of "
			    "tables ([[%s]]), not %s %s", kv->key, t->name,
			    res_article(toml_type_name(v->type)),
			    toml_type_name(v->type));
			continue;
		}
		for (j = 0; j < v->u.array.n && !c->stop; j++) {
			if (v->u.array.v[j]->type != TOML_TABLE) {
				res_type_error(c, v->u.array.v[j], kv->key,
				    "an array of tables");
				continue;
			}
			parse_resource(c, t, v->u.array.v[j]);
		}
	}
	toml_free(root);
out:
	c->f = NULL;
	buf_free(&f.text);
	free(f.lines);
	free(f.ins);
}

/* Files */

/*
 * Checking files on several threads: each file's check says its
 * diagnostics into its own list and leaves its records, references and
 * the names it declares there; the lists are then merged in the order of
 * the files, the duplicate names found as they would have been one file
 * after the other, so that what is said, and in what order, is the same.
 */
struct said_ev {
	char *text;		/* a diagnostic; NULL: a name */
	int is_error;
	int rank;		/* the name's type, its words, where */
	const char *tname;
	char *norm, *loc;
	json_t *where;		/* "PATH:LINE" */
};

struct file_out {
	struct said_ev *ev;
	size_t nev, evcap;
	struct res *res;
	size_t nres;
	struct ref *refs;
	size_t nrefs;
	size_t nseq;
	long errors, read_errors;
};

static struct said_ev *
said_add(struct file_out *o)
{
	KOM_GROW(o->ev, o->nev + 1, o->evcap);
	memset(&o->ev[o->nev], 0, sizeof(o->ev[0]));
	return &o->ev[o->nev++];
}

/* A worker's diagnostics: into the list of the file at hand. */
static void
said_diag(void *ctx, int is_error, const char *line)
{
	struct said_ev *e = said_add(*(struct file_out **)ctx);

	e->is_error = is_error;
	e->text = xstrdup(line);
}

static void
defer_name(struct ctx *c, const struct schema_type *t, const char *norm,
    const struct toml_value *name, const struct toml_value *tbl)
{
	struct said_ev *e = said_add(c->out);

	e->rank = schema_rank(t);
	e->tname = t->name;
	e->norm = xstrdup(norm);
	e->loc = res_loc_str(c, name->line, name->col);
	e->where = path_line(c->f->path, tbl->line, c->f->utf8);
}

/* File o's check into c, as if c had checked it. */
static void
merge_file(struct ctx *c, struct file_out *o)
{
	struct buf m = BUF_INIT;
	size_t i, base = c->seq;
	json_t *seen, *x;

	for (i = 0; i < o->nev; i++) {
		struct said_ev *e = &o->ev[i];

		if (e->text) {
			if (c->opts->diag)
				c->opts->diag(c->opts->diag_ctx, e->is_error,
				    e->text);
			else
				kom_warn("%s", e->text);
			free(e->text);
			continue;
		}
		if (!c->names[e->rank])
			c->names[e->rank] = json_object();
		seen = c->names[e->rank];
		if ((x = json_object_get(seen, e->norm))) {
			buf_reset(&m);
			buf_printf(&m, "duplicate %s '%s' (also at %s)", e->tname,
			    e->norm, json_string_value(x));
			res_emit(c, 1, e->loc, m.s);
			json_decref(e->where);
		} else
			json_object_set_new(seen, e->norm, e->where);
		free(e->norm);
		free(e->loc);
	}
	buf_free(&m);
	free(o->ev);
	c->errors += o->errors;
	c->read_errors += o->read_errors;
	for (i = 0; i < o->nres; i++)
		o->res[i].seq += base;
	KOM_GROW(c->res, c->nres + o->nres, c->cap);
	if (o->nres)
		memcpy(c->res + c->nres, o->res, o->nres * sizeof(*o->res));
	c->nres += o->nres;
	free(o->res);
	KOM_GROW(c->refs, c->nrefs + o->nrefs, c->refcap);
	if (o->nrefs)
		memcpy(c->refs + c->nrefs, o->refs, o->nrefs * sizeof(*o->refs));
	c->nrefs += o->nrefs;
	free(o->refs);
	c->seq = base + o->nseq;
}

struct path {
	char *path;
	char *source;
	char *root;	/* see struct file; NULL for none */
	struct buf raw;	/* the file's bytes, kept for a rebuild */
	size_t seq0;	/* the number of its first resource */
};

struct paths {
	struct path *v;
	size_t n, cap;
};

static void
add_path(struct paths *ps, const char *path, const char *source,
    const char *root)
{
	KOM_GROW(ps->v, ps->n + 1, ps->cap);
	ps->v[ps->n].path = xstrdup(path);
	ps->v[ps->n].source = xstrdup(source);
	ps->v[ps->n].root = root ? xstrdup(root) : NULL;
	buf_init(&ps->v[ps->n].raw);
	ps->n++;
}

/* The directories being walked, outermost first: a link back to one of
 * them is a loop. */
struct walk_dir {
	dev_t dev;
	ino_t ino;
	const char *path;
};

static void
walk(struct ctx *c, struct paths *ps, const char *dir, size_t skip,
    const char *root, struct walk_dir *up, int depth)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	int i;

	if (depth >= WALK_MAX_DEPTH) {
		res_emit(c, 1, dir, "directories nested too deep");
		return;
	}
	if (!(d = opendir(dir))) {
		path_errno(c, dir, errno);
		return;
	}
	while ((de = readdir(d))) {
		char *p;
		size_t n = strlen(de->d_name);
		int toml = n > 5 && !strcmp(de->d_name + n - 5, ".toml");

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* "./x.toml" is shown as "x.toml" */
		p = strcmp(dir, ".") ? xasprintf("%s/%s", dir, de->d_name) :
		    xstrdup(de->d_name);
		if (stat(p, &st) < 0) {
			/* a resource file that is not there: its resources
			 * would look deleted */
			if (toml)
				path_errno(c, p, errno == ENOENT ? ENOENT :
				    errno);
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			for (i = 0; i <= depth; i++)
				if (up[i].dev == st.st_dev &&
				    up[i].ino == st.st_ino)
					break;
			if (i <= depth) {
				char *m = xasprintf("symbolic link loop back "
				    "to '%s'", up[i].path);

				path_error(c, p, m);
				free(m);
			} else {
				up[depth + 1].dev = st.st_dev;
				up[depth + 1].ino = st.st_ino;
				up[depth + 1].path = p;
				walk(c, ps, p, skip, root, up, depth + 1);
			}
		} else if (S_ISREG(st.st_mode) && toml)
			add_path(ps, p, p + skip, root);
		free(p);
	}
	closedir(d);
}

/* Walk the directory PATH dir for *.toml files. */
static void
walk_top(struct ctx *c, struct paths *ps, const char *dir,
    const struct stat *st)
{
	struct walk_dir up[WALK_MAX_DEPTH + 1];
	char real[PATH_MAX];
	char *d = xstrdup(dir);
	size_t n = strlen(d);

	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	if (!realpath(d, real)) {
		path_errno(c, d, errno);
		free(d);
		return;
	}
	up[0].dev = st->st_dev;
	up[0].ino = st->st_ino;
	up[0].path = d;
	walk(c, ps, d, !strcmp(d, ".") ? 0 : !strcmp(d, "/") ? 1 : n + 1,
	    real, up, 0);
	free(d);
}

/* A file PATH: its source is the path as given, relative to the current
 * directory when it is not absolute. */
static void
add_file(struct ctx *c, struct paths *ps, const char *path)
{
	char real[PATH_MAX];

	if (path[0] == '/')
		add_path(ps, path, path, NULL);
	else if (!realpath(".", real))
		path_errno(c, ".", errno);
	else
		add_path(ps, path, path, real);
}

static int
path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct path *)a)->path,
	    ((const struct path *)b)->path);
}

static int
res_cmp(const void *a, const void *b)
{
	const struct res *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static long finish(struct ctx *c, json_t **records_out,
    struct resource_pass *pass);
static void resource_pass_free(struct resource_pass *p);
static void ctx_free(struct ctx *c);

static void
path_clear(struct path *p)
{
	free(p->path);
	free(p->source);
	free(p->root);
	buf_free(&p->raw);
}

static void
paths_free(struct path *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		path_clear(&v[i]);
	free(v);
}

struct check_job {
	struct paths *ps;
	struct file_out *outs;
	int keep;
	const struct resource_opts *opts;
	pthread_mutex_t mu;
	size_t next;
};

static void *
check_files(void *arg)
{
	struct check_job *j = arg;
	struct resource_opts o = *j->opts;
	struct file_out *cur = NULL;
	struct ctx c;
	size_t i;

	o.diag = said_diag;
	o.diag_ctx = &cur;
	memset(&c, 0, sizeof(c));
	c.opts = &o;
	c.enabled = 1;
	secrets_init(&c.sec, o.secrets_dir);
	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next < j->ps->n ? j->next++ : SIZE_MAX;
		pthread_mutex_unlock(&j->mu);
		if (i == SIZE_MAX)
			break;
		cur = c.out = &j->outs[i];
		c.seq = 0;
		c.errors = c.read_errors = 0;
		load_file(&c, j->ps->v[i].path, j->ps->v[i].source,
		    j->ps->v[i].root, j->keep ? &j->ps->v[i].raw : NULL);
		cur->res = c.res;
		cur->nres = c.nres;
		cur->refs = c.refs;
		cur->nrefs = c.nrefs;
		cur->nseq = c.seq;
		cur->errors = c.errors;
		cur->read_errors = c.read_errors;
		c.res = NULL;
		c.nres = c.cap = 0;
		c.refs = NULL;
		c.nrefs = c.refcap = 0;
	}
	ctx_free(&c);
	return NULL;
}

/* The files of ps checked on nthreads threads (this one among them),
 * then merged into c in their order. */
static void
check_parallel(struct ctx *c, struct paths *ps, int keep, int nthreads)
{
	struct check_job j;
	size_t i;

	memset(&j, 0, sizeof(j));
	j.ps = ps;
	j.outs = xcalloc(ps->n, sizeof(*j.outs));
	j.keep = keep;
	j.opts = c->opts;
	pthread_mutex_init(&j.mu, NULL);
	kom_run_threads(check_files, &j, nthreads);
	pthread_mutex_destroy(&j.mu);
	for (i = 0; i < ps->n; i++) {
		ps->v[i].seq0 = c->seq;
		merge_file(c, &j.outs[i]);
	}
	free(j.outs);
}

/* resource_load(), and with pass a resource_check(). */
static long
load_paths(const char *const *paths, size_t npaths,
    const struct resource_opts *opts, json_t **records_out,
    struct resource_pass **pass)
{
	struct ctx c;
	struct paths ps = { NULL, 0, 0 };
	struct stat st;
	size_t i, w;
	long errors;
	int nthreads;

	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.enabled = 1;
	secrets_init(&c.sec, opts->secrets_dir);
	for (i = 0; i < npaths; i++) {
		if (stat(paths[i], &st) < 0)
			path_errno(&c, paths[i], errno);
		else if (S_ISDIR(st.st_mode))
			walk_top(&c, &ps, paths[i], &st);
		else
			add_file(&c, &ps, paths[i]);
	}
	if (ps.n)
		qsort(ps.v, ps.n, sizeof(*ps.v), path_cmp);
	for (i = 0, w = 0; i < ps.n; i++) {
		if (w > 0 && !strcmp(ps.v[w - 1].path, ps.v[i].path)) {
			path_clear(&ps.v[i]);
			continue;
		}
		ps.v[w++] = ps.v[i];
	}
	ps.n = w;
	nthreads = opts->threads;
	if ((size_t)nthreads > ps.n / RESOURCE_FILES_PER_THREAD)
		nthreads = (int)(ps.n / RESOURCE_FILES_PER_THREAD);
	if (nthreads > 1)
		check_parallel(&c, &ps, pass != NULL, nthreads);
	else
		for (i = 0; i < ps.n; i++) {
			ps.v[i].seq0 = c.seq;
			load_file(&c, ps.v[i].path, ps.v[i].source,
			    ps.v[i].root, pass ? &ps.v[i].raw : NULL);
		}
	if (pass) {
		*pass = xcalloc(1, sizeof(**pass));
		(*pass)->v = ps.v;
		(*pass)->n = ps.n;
	}
	/* references borrow the paths */
	errors = finish(&c, records_out, pass ? *pass : NULL);
	if (pass && errors) {
		resource_pass_free(*pass);
		*pass = NULL;
	} else if (!pass)
		paths_free(ps.v, ps.n);
	return errors;
}

long
resource_load(const char *const *paths, size_t npaths,
    const struct resource_opts *opts, json_t **records_out)
{
	return load_paths(paths, npaths, opts, records_out, NULL);
}

long
resource_check(const char *const *paths, size_t npaths,
    const struct resource_opts *opts, json_t **records_out,
    struct resource_pass **pass)
{
	return load_paths(paths, npaths, opts, records_out, pass);
}

static void
resource_pass_free(struct resource_pass *p)
{
	size_t i;

	if (!p)
		return;
	paths_free(p->v, p->n);
	for (i = 0; p->after && i < p->nseq; i++)
		json_decref(p->after[i]);
	free(p->after);
	free(p->index);
	free(p);
}

size_t
resource_pass_bytes(const struct resource_pass *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->v[i].raw.len;
	return n;
}

/* The workers of a rebuild take the files one at a time. */
struct rebuild {
	struct resource_pass *p;
	pthread_mutex_t mu;
	size_t next;		/* the next file to take */
	int stop;		/* the smallest nonzero fn value, or 0 */
	int stopped;
};

static void *
rebuild_files(void *arg)
{
	struct rebuild *r = arg;
	struct resource_pass *p = r->p;
	struct ctx c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.opts = &p->opts;
	c.enabled = 1;
	c.pass = p;
	secrets_init(&c.sec, p->opts.secrets_dir);
	for (;;) {
		pthread_mutex_lock(&r->mu);
		if (c.stop && (!r->stopped || c.stop < r->stop)) {
			r->stop = c.stop;
			r->stopped = 1;
		}
		i = r->stopped || r->next == p->n ? SIZE_MAX : r->next++;
		pthread_mutex_unlock(&r->mu);
		if (i == SIZE_MAX)
			break;
		if (!p->v[i].raw.s)
			continue;
		/* the records of file i are numbered from its first */
		c.seq = p->v[i].seq0;
		load_text(&c, p->v[i].path, p->v[i].source, p->v[i].root,
		    p->v[i].raw.s, p->v[i].raw.len);
	}
	ctx_free(&c);
	return NULL;
}

int
resource_rebuild(struct resource_pass *p, int nthreads,
    int (*fn)(void *ctx, json_t *rec, size_t i), void *ctx)
{
	struct rebuild r;

	if (!fn) {
		resource_pass_free(p);
		return 0;
	}
	p->fn = fn;
	p->ctx = ctx;
	memset(&r, 0, sizeof(r));
	r.p = p;
	pthread_mutex_init(&r.mu, NULL);
	kom_run_threads(rebuild_files, &r, (size_t)nthreads > p->n ? (int)p->n :
	    nthreads);
	pthread_mutex_destroy(&r.mu);
	resource_pass_free(p);
	return r.stop;
}

long
resource_load_mem(const char *name, const char *data, size_t len,
    const struct resource_opts *opts, json_t **records_out)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.opts = opts;
	c.enabled = 1;
	secrets_init(&c.sec, opts->secrets_dir);
	if (len > RESOURCE_MAX_FILE)
		res_emit(&c, 1, name, "file too large (over 16 MiB)");
	else
		load_text(&c, name, name, NULL, data, len);
	return finish(&c, records_out, NULL);
}

/* What a load holds besides its records. */
static void
ctx_free(struct ctx *c)
{
	size_t i;

	for (i = 0; i < c->nres; i++)
		json_decref(c->res[i].rec);
	free(c->res);
	for (i = 0; i < c->nrefs; i++)
		free(c->refs[i].name);
	free(c->refs);
	for (i = 0; i < MAX_TYPES; i++)
		json_decref(c->names[i]);
	for (i = 0; i < DEF_SLOTS; i++)
		json_decref(c->defs[i].v);
	secrets_free(&c->sec);
}

/* The rebuild's options: the load's, quiet, nothing cut. */
static void
quiet(void *ctx, int is_error, const char *line)
{
	(void)ctx;
	(void)is_error;
	(void)line;
}

/*
 * Check the references, order, select: the records of a whole load; with
 * pass, what a rebuild needs of them.
 */
static long
finish(struct ctx *cp, json_t **records_out, struct resource_pass *pass)
{
	struct ctx c = *cp;
	const struct resource_opts *opts = c.opts;
	json_t *out = json_array(), *swarm_first = json_object(), *others;
	size_t i, nother = 0;
	int active = 0;

	res_check_refs(&c);
	if (!c.self_after)
		res_check_cycles(&c);

	if (c.nres)
		qsort(c.res, c.nres, sizeof(*c.res), res_cmp);
	for (i = 0; i < c.nres; i++) {
		json_t *rec = c.res[i].rec, *cfg = json_object_get(rec, "config");
		const char *type = json_string_value(json_object_get(rec,
		    "type"));
		const char *s;

		if (!strcmp(type, "swarm")) {
			json_t *srvs = json_object_get(cfg, "servers");

			if (json_array_size(srvs))
				json_object_set(swarm_first, json_string_value(
				    json_object_get(rec, "name")),
				    json_array_get(srvs, 0));
		}
		if (strcmp(type, "deployment") && strcmp(type, "stack") &&
		    strcmp(type, "repo"))
			continue;
		if (((s = json_string_value(json_object_get(cfg, "server"))) &&
		    *s) || ((s = json_string_value(json_object_get(cfg,
		    "swarm"))) && *s))
			active = 1;
	}
	if (!opts->server)
		active = 0;
	others = json_object();
	if (pass) {
		pass->nseq = c.seq;
		pass->index = xreallocarray(NULL, c.seq ? c.seq : 1,
		    sizeof(*pass->index));
		for (i = 0; i < c.seq; i++)
			pass->index[i] = SIZE_MAX;
	}
	for (i = 0; i < c.nres; i++) {
		const char *other = NULL;

		if (c.res[i].drop)
			;
		else if (res_keep(&c, c.res[i].rec, active, swarm_first,
		    &other)) {
			if (pass)
				pass->index[c.res[i].seq] =
				    json_array_size(out);
			json_array_append(out, c.res[i].rec);
		}
		else if (other) {
			json_t *k = json_object_get(others, other);

			json_object_set_new(others, other, json_integer(
			    json_integer_value(k) + 1));
			nother++;
		}
	}
	if (nother)
		res_note_others(&c, others, nother);
	json_decref(others);
	if (pass && !c.errors) {
		pass->opts = *opts;
		pass->opts.diag = quiet;
		pass->opts.notes = 0;
		pass->opts.known = NULL;
		pass->opts.check_only = 0;
		pass->opts.whole = NULL;
		pass->opts.read_errors = NULL;
		pass->after = xcalloc(c.seq ? c.seq : 1, sizeof(*pass->after));
		for (i = 0; i < c.nres; i++)
			pass->after[c.res[i].seq] = json_incref(json_object_get(
			    c.res[i].rec, "after"));
	}
	json_decref(swarm_first);
	ctx_free(&c);
	*records_out = out;
	if (opts->read_errors)
		*opts->read_errors = c.read_errors;
	return c.errors;
}
