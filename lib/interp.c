/*
 * interp: [[NAME]] interpolation and secret masking; see interp.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "interp.h"
#include "util.h"
#include "banned.h"

static const char *
find(const char *s, const char *end, const char *pat, size_t n)
{
	if ((size_t)(end - s) < n)
		return NULL;
	return memmem(s, (size_t)(end - s), pat, n);
}

/*
 * The one scanner behind refs and expand.  For each piece calls emit:
 * literal text (name NULL) or a reference (name set, text the whole
 * "[[NAME]]").
 */
typedef void (*piece_fn)(void *ctx, const char *text, size_t len,
    const char *name, size_t namelen, size_t off);

static int
scan(const char *in, size_t len, piece_fn emit, void *ctx,
    struct interp_error *err)
{
	const char *p = in, *end = in + len, *o, *c;

	while ((o = find(p, end, "[[", 2)) != NULL) {
		size_t k = 2;

		while (o + k < end && o[k] == '[')
			k++;
		if (o > p)
			emit(ctx, p, (size_t)(o - p), NULL, 0, 0);
		if (k >= 4) {
			err->off = (size_t)(o - in);
			snprintf(err->msg, sizeof(err->msg),
			    "'[[[[' is not valid (use [[[NAME]]] for a literal "
			    "[[NAME]])");
			return -1;
		}
		if (k == 3) {
			c = find(o + 3, end, "]]]", 3);
			if (!c)
				goto unclosed;
			emit(ctx, "[[", 2, NULL, 0, 0);
			emit(ctx, o + 3, (size_t)(c - o - 3), NULL, 0, 0);
			emit(ctx, "]]", 2, NULL, 0, 0);
			p = c + 3;
			continue;
		}
		c = find(o + 2, end, "]]", 2);
		if (!c)
			goto unclosed;
		emit(ctx, o, (size_t)(c + 2 - o), o + 2, (size_t)(c - o - 2),
		    (size_t)(o - in));
		p = c + 2;
	}
	if (p < end)
		emit(ctx, p, (size_t)(end - p), NULL, 0, 0);
	return 0;
unclosed:
	err->off = (size_t)(o - in);
	snprintf(err->msg, sizeof(err->msg), "'[[' without closing ']]'");
	return -1;
}

struct refs_ctx {
	const char *in;
	struct interp_ref *v;
	size_t n, cap;
};

static void
refs_piece(void *vctx, const char *text, size_t len, const char *name,
    size_t namelen, size_t off)
{
	struct refs_ctx *r = vctx;

	if (!name)
		return;
	KOM_GROW(r->v, r->n + 1, r->cap);
	r->v[r->n].off = off;
	r->v[r->n].len = len;
	r->v[r->n].name_off = (size_t)(name - r->in);
	r->v[r->n].name_len = namelen;
	r->n++;
}

long
interp_refs(const char *in, size_t len, struct interp_ref **refs,
    struct interp_error *err)
{
	struct refs_ctx r = { in, NULL, 0, 0 };

	*refs = NULL;
	if (scan(in, len, refs_piece, &r, err) < 0) {
		free(r.v);
		return -1;
	}
	*refs = r.v;
	return (long)r.n;
}

void
interp_masks_free(struct interp_masks *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].value);
		free(m->v[i].name);
	}
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

void
interp_masks_add(struct interp_masks *m, const char *value, const char *name)
{
	size_t i;

	if (!value || !*value)
		return;
	for (i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].value, value))
			return;
	KOM_GROW(m->v, m->n + 1, m->cap);
	m->v[m->n].value = xstrdup(value);
	m->v[m->n].name = xstrdup(name);
	m->n++;
}

struct expand_ctx {
	interp_lookup_fn lookup;
	void *ctx;
	struct buf *out;
	struct interp_masks *masks;
	long count;
};

static void
expand_piece(void *vctx, const char *text, size_t len, const char *name,
    size_t namelen, size_t off)
{
	struct expand_ctx *x = vctx;
	const char *val;
	int secret = 0;

	if (!name) {
		buf_add(x->out, text, len);
		return;
	}
	val = x->lookup(x->ctx, name, namelen, &secret);
	if (!val) {
		buf_add(x->out, text, len);
		return;
	}
	buf_adds(x->out, val);
	x->count++;
	if (secret && x->masks) {
		char *n = xstrndup(name, namelen);

		interp_masks_add(x->masks, val, n);
		free(n);
	}
}

long
interp_expand(const char *in, size_t len, interp_lookup_fn lookup, void *ctx,
    struct buf *out, struct interp_masks *masks, struct interp_error *err)
{
	struct expand_ctx x = { lookup, ctx, out, masks, 0 };

	if (scan(in, len, expand_piece, &x, err) < 0)
		return -1;
	return x.count;
}

static int
by_length_desc(const void *a, const void *b)
{
	const struct interp_mask *ma = a, *mb = b;
	size_t la = strlen(ma->value), lb = strlen(mb->value);

	return la < lb ? 1 : la > lb ? -1 : strcmp(ma->value, mb->value);
}

void
interp_mask(struct buf *b, const struct interp_masks *masks)
{
	struct interp_mask *sorted;
	size_t i;

	if (!masks || masks->n == 0)
		return;
	sorted = xreallocarray(NULL, masks->n, sizeof(*sorted));
	memcpy(sorted, masks->v, masks->n * sizeof(*sorted));
	qsort(sorted, masks->n, sizeof(*sorted), by_length_desc);
	for (i = 0; i < masks->n; i++) {
		char *to = xasprintf("<%s>", sorted[i].name);

		buf_replace_all(b, sorted[i].value, to);
		free(to);
	}
	free(sorted);
}

/* ---- JSON values (kom-exec) ---- */

int
interp_json_strings(json_t *val, interp_string_fn fn, void *ctx,
    struct buf *err)
{
	const char *k;
	json_t *x;
	size_t i;
	void *tmp;

	if (json_is_string(val)) {
		char *out;

		if (fn(ctx, json_string_value(val), &out, err) < 0)
			return -1;
		json_string_set(val, out);
		explicit_bzero(out, strlen(out));
		free(out);
	} else if (json_is_array(val)) {
		json_array_foreach(val, i, x)
			if (interp_json_strings(x, fn, ctx, err) < 0)
				return -1;
	} else if (json_is_object(val)) {
		json_object_foreach_safe(val, tmp, k, x)
			if (interp_json_strings(x, fn, ctx, err) < 0)
				return -1;
	}
	return 0;
}
