/*
 * vars.c: [[NAME]] interpolation at apply time, and masking of the secret
 * values it used (komodo-behaviour.md section 3).
 *
 * Names resolve to non-secret variables from the state dir
 * (STATE/resources/variable/NAME.json, config.value), else to secrets: a
 * secret variable's value, or any name at all, read from
 * $KOM_SECRETS_DIR/NAME, $CREDENTIALS_DIRECTORY/NAME or
 * /etc/kom/secrets/NAME (first found; one trailing newline dropped).
 * [[[X]]] is the escape for a literal [[X]].  Unlike Komodo, a name that
 * resolves nowhere is an error: kom never starts a container with literal
 * brackets where a value was meant.
 *
 * Every secret value substituted is remembered so that vars_mask() can
 * replace it by <NAME> in messages, results, logs and history.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"
#include "file.h"
#include "interp.h"
#include "state.h"
#include "util.h"
#include "banned.h"

#define SECRET_MAX (1u << 20)

struct kv {
	char *name, *value;
};

struct vars {
	json_t *plain;		/* name -> value (non-secret variables) */
	json_t *secret_names;	/* name -> true (variables marked secret) */
	struct kv *used;	/* secrets read from files (a cache) */
	size_t nused, capused;
	struct interp_masks masks;	/* secrets substituted so far */
};

struct vars *
vars_load(const char *statedir)
{
	struct vars *v = xcalloc(1, sizeof(*v));
	char *dir = xasprintf("%s/resources/variable", statedir);
	DIR *dp;
	struct dirent *de;

	v->plain = json_object();
	v->secret_names = json_object();
	/* Read the variables only: the whole state can be large. */
	if ((dp = opendir(dir))) {
		while ((de = readdir(dp))) {
			size_t n = strlen(de->d_name);
			json_t *rec, *cfg, *val;
			const char *name;
			char *enc;

			if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0 ||
			    de->d_name[0] == '.')
				continue;
			enc = xstrndup(de->d_name, n - 5);
			name = NULL;
			{
				char *dec = state_name_decode(enc);

				rec = dec ? state_load(statedir, "variable",
				    dec) : NULL;
				free(dec);
			}
			free(enc);
			if (!rec)
				continue;
			name = json_string_value(json_object_get(rec, "name"));
			cfg = json_object_get(rec, "config");
			val = json_object_get(cfg, "value");
			if (!name) {
				json_decref(rec);
				continue;
			}
			if (json_is_true(json_object_get(cfg, "is_secret")) ||
			    json_is_true(json_object_get(rec, "secret")))
				json_object_set_new(v->secret_names, name,
				    json_true());
			else if (json_is_string(val))
				json_object_set(v->plain, name, val);
			json_decref(rec);
		}
		closedir(dp);
	}
	free(dir);
	return v;
}

void
vars_free(struct vars *v)
{
	if (!v)
		return;
	json_decref(v->plain);
	json_decref(v->secret_names);
	for (size_t i = 0; i < v->nused; i++) {
		explicit_bzero(v->used[i].value, strlen(v->used[i].value));
		free(v->used[i].value);
		free(v->used[i].name);
	}
	free(v->used);
	interp_masks_free(&v->masks);
	free(v);
}

/* A secret's value from the files, or NULL. */
static char *
secret_read(const char *name)
{
	const char *dirs[3];
	struct buf b = BUF_INIT;
	size_t i;

	if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return NULL;
	dirs[0] = getenv("KOM_SECRETS_DIR");
	dirs[1] = getenv("CREDENTIALS_DIRECTORY");
	dirs[2] = "/etc/kom/secrets";
	for (i = 0; i < KOM_NELEM(dirs); i++) {
		char *path;
		int r;

		if (!dirs[i] || !*dirs[i])
			continue;
		path = xasprintf("%s/%s", dirs[i], name);
		buf_reset(&b);
		r = file_read(path, &b, SECRET_MAX);
		free(path);
		if (r == 0) {
			if (b.len && b.s[b.len - 1] == '\n')
				buf_truncate(&b, b.len - 1);
			if (b.len && b.s[b.len - 1] == '\r')
				buf_truncate(&b, b.len - 1);
			return buf_release(&b);
		}
	}
	buf_free(&b);
	return NULL;
}

static const char *
secret_get(struct vars *v, const char *name)
{
	char *val;
	size_t i;

	for (i = 0; i < v->nused; i++)
		if (strcmp(v->used[i].name, name) == 0)
			return v->used[i].value;
	if (!(val = secret_read(name)))
		return NULL;
	KOM_GROW(v->used, v->nused + 1, v->capused);
	v->used[v->nused].name = xstrdup(name);
	v->used[v->nused].value = val;
	return v->used[v->nused++].value;
}

/* interp's lookup: plain variables first, then secrets from files. */
static const char *
lookup(void *ctx, const char *name, size_t namelen, int *secret)
{
	struct vars *v = ctx;
	char *n = xstrndup(name, namelen);
	json_t *val = json_object_get(v->plain, n);
	const char *r;

	if (json_is_string(val)) {
		*secret = 0;
		r = json_string_value(val);
	} else {
		*secret = 1;
		r = secret_get(v, n);
	}
	free(n);
	return r;
}

int
vars_expand_str(struct vars *v, const char *in, char **out, struct buf *err)
{
	struct interp_ref *refs = NULL;
	struct interp_error ie;
	struct buf b = BUF_INIT;
	size_t len = strlen(in);
	long n, i;

	if (!strstr(in, "[[")) {
		*out = xstrdup(in);
		return 0;
	}
	if ((n = interp_refs(in, len, &refs, &ie)) < 0) {
		buf_printf(err, "%s at offset %zu", ie.msg, ie.off);
		return -1;
	}
	/* Unlike Komodo, an unknown name is an error, not literal text. */
	for (i = 0; i < n; i++) {
		int secret;

		if (!lookup(v, in + refs[i].name_off, refs[i].name_len,
		    &secret)) {
			buf_printf(err, "undefined variable '%.*s'",
			    (int)refs[i].name_len, in + refs[i].name_off);
			free(refs);
			return -1;
		}
	}
	free(refs);
	if (interp_expand(in, len, lookup, v, &b, &v->masks, &ie) < 0) {
		buf_printf(err, "%s at offset %zu", ie.msg, ie.off);
		buf_free(&b);
		return -1;
	}
	*out = buf_release(&b);
	return 0;
}

char *
vars_mask(struct vars *v, const char *s)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, s);
	if (v)
		interp_mask(&b, &v->masks);
	return buf_release(&b);
}

static int
mask_fn(void *ctx, const char *in, char **out, struct buf *err)
{
	*out = vars_mask(ctx, in);
	return 0;
}

void
vars_mask_json(struct vars *v, json_t *val)
{
	if (!v || !v->masks.n || !val)
		return;
	interp_json_strings(val, mask_fn, v, NULL);
}
