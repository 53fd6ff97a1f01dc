/*
 * vars.c: [[NAME]] interpolation at apply time, and masking of the secret
 * values it used (komodo-behaviour.md section 3).
 *
 * Names resolve to non-secret variables from the state dir
 * (STATE/resources/variable/NAME.json, config.value), else to secrets: a
 * secret variable's value, or any name at all, read through lib/secrets
 * ($CREDENTIALS_DIRECTORY, then $KOM_SECRETS_DIR, kom.toml's secrets_dir
 * or /etc/kom/secrets), else to the value a sync file gave the secret
 * variable, recorded sealed (secrets.h) and opened with the host key.
 * [[[X]]] is the escape for a literal [[X]].  Unlike Komodo, a name that
 * resolves nowhere is an error: kom never starts a container with literal
 * brackets where a value was meant.
 *
 * Every secret value substituted is remembered so that vars_mask() can
 * replace it by <NAME> in messages, results, logs and history.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vars.h"
#include "file.h"
#include "interp.h"
#include "secrets.h"
#include "state.h"
#include "util.h"
#include "banned.h"

struct kv {
	char *name, *value;
};

struct vars {
	json_t *plain;		/* name -> value (non-secret variables) */
	json_t *secret_names;	/* name -> true (variables marked secret) */
	json_t *sealed;		/* name -> inline value, sealed (secrets.h) */
	json_t *names_used;	/* name -> true, every name substituted */
	char *statedir;		/* where the host key is */
	unsigned char key[SECRETS_KEY_LEN];
	int key_state;		/* 0 not read yet, 1 read, -1 none */
	int key_errno;		/* why there is none */
	struct kv *used;	/* secrets read from files (a cache) */
	size_t nused, capused;
	struct interp_masks masks;	/* secrets substituted so far */
	struct secrets sec;	/* where secret files are */
	struct buf err;		/* why the last secret could not be read */
};

struct vars *
vars_load(const char *statedir, const char *secrets_dir)
{
	struct vars *v = xcalloc(1, sizeof(*v));
	json_t *recs, *rec, *cfg, *val;
	const char *name;
	size_t i;

	v->plain = json_object();
	v->secret_names = json_object();
	v->sealed = json_object();
	v->names_used = json_object();
	v->statedir = xstrdup(statedir);
	secrets_init(&v->sec, secrets_dir);
	buf_init(&v->err);
	/* Read the variables only: the whole state can be large.  A state
	 * dir that cannot be read leaves them undefined (after a message):
	 * the steps that use one fail naming it. */
	if (state_load_type(statedir, "variable", &recs) < 0)
		return v;
	json_array_foreach(recs, i, rec) {
		name = json_string_value(json_object_get(rec, "name"));
		cfg = json_object_get(rec, "config");
		val = json_object_get(cfg, "value");
		if (!name)
			continue;
		if (secrets_record_is_secret(rec)) {
			json_object_set_new(v->secret_names, name,
			    json_true());
			if (json_is_string(json_object_get(rec,
			    "secret_sealed")))
				json_object_set(v->sealed, name,
				    json_object_get(rec, "secret_sealed"));
		} else if (json_is_string(val))
			json_object_set(v->plain, name, val);
	}
	json_decref(recs);
	return v;
}

void
vars_free(struct vars *v)
{
	if (!v)
		return;
	json_decref(v->plain);
	json_decref(v->secret_names);
	json_decref(v->sealed);
	json_decref(v->names_used);
	free(v->statedir);
	explicit_bzero(v->key, sizeof(v->key));
	for (size_t i = 0; i < v->nused; i++) {
		secrets_wipe(v->used[i].value);
		free(v->used[i].name);
	}
	free(v->used);
	secrets_free(&v->sec);
	buf_free(&v->err);
	interp_masks_free(&v->masks);
	free(v);
}

/* The inline value of a secret variable, unsealed, or NULL. */
static char *
secret_unseal(struct vars *v, const char *name)
{
	const char *sealed = json_string_value(json_object_get(v->sealed,
	    name));
	char *path = NULL, *val;

	if (!sealed)
		return NULL;
	if (!v->key_state) {
		v->key_state = secrets_key(v->statedir, 0, v->key, &path) ?
		    -1 : 1;
		v->key_errno = errno;
		free(path);
	}
	if (v->key_state < 0) {
		buf_reset(&v->err);
		buf_printf(&v->err, "secret '%s': %s/secret.key: %s", name,
		    v->statedir, strerror(v->key_errno));
		return NULL;
	}
	if (!(val = secrets_unseal(v->key, name, sealed))) {
		buf_reset(&v->err);
		buf_printf(&v->err, "secret '%s': the value recorded from "
		    "git cannot be unsealed with %s/secret.key", name,
		    v->statedir);
	}
	return val;
}

/* A secret's value from the files, else the inline value, or NULL (v->err
 * says why when a file exists but could not be read). */
static char *
secret_read(struct vars *v, const char *name)
{
	char *val, *where;

	if (secrets_read(&v->sec, name, &val, &where) == 0) {
		free(where);
		return val;
	}
	if (where) {
		buf_reset(&v->err);
		buf_printf(&v->err, "secret '%s': %s: %s", name, where,
		    strerror(errno));
		free(where);
		return NULL;
	}
	return secret_unseal(v, name);
}

static const char *
secret_get(struct vars *v, const char *name)
{
	char *val;
	size_t i;

	for (i = 0; i < v->nused; i++)
		if (strcmp(v->used[i].name, name) == 0)
			return v->used[i].value;
	if (!(val = secret_read(v, name)))
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
	if (r)
		json_object_set_new(v->names_used, n, json_true());
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

		buf_reset(&v->err);
		if (!lookup(v, in + refs[i].name_off, refs[i].name_len,
		    &secret)) {
			if (v->err.len)
				buf_adds(err, v->err.s);
			else
				buf_printf(err, "undefined variable '%.*s'",
				    (int)refs[i].name_len,
				    in + refs[i].name_off);
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

char *
vars_names_used(const struct vars *v)
{
	struct buf b = BUF_INIT;
	const char *k;
	json_t *x;

	if (!v || !json_object_size(v->names_used))
		return NULL;
	json_object_foreach(v->names_used, k, x)
		buf_printf(&b, "%s[[%s]]", b.len ? ", " : "", k);
	return buf_release(&b);
}
