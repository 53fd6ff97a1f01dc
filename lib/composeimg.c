/* composeimg: compose files' images, interpolated (composeimg.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "composeimg.h"
#include "util.h"
#include "banned.h"

#define MAX_DEPTH 16	/* ${A:-${B:-...}} */

static int
is_name(int c, int first)
{
	return c == '_' || isalpha(c) || (!first && isdigit(c));
}

static int interp(const char *in, size_t len, composeimg_lookup fn,
    void *ctx, struct buf *out, struct buf *err, int depth);

/* The end of a ${...} starting at p (after "${"): its '}' or NULL. */
static const char *
brace_end(const char *p, const char *end)
{
	int nest = 1;

	for (; p < end; p++) {
		if (*p == '$' && p + 1 < end && p[1] == '$')
			p++;
		else if (*p == '$' && p + 1 < end && p[1] == '{') {
			nest++;
			p++;
		} else if (*p == '}' && --nest == 0)
			return p;
	}
	return NULL;
}

static int
braced(const char *p, const char *close, composeimg_lookup fn, void *ctx,
    struct buf *out, struct buf *err, int depth)
{
	const char *q = p, *v, *arg;
	int colon = 0, nlen;
	char op = 0;

	while (q < close && is_name((unsigned char)*q, q == p))
		q++;
	nlen = (int)(q - p);
	if (q == p) {
		buf_printf(err, "invalid interpolation '${%.*s}'",
		    (int)(close - p), p);
		return -1;
	}
	v = fn(ctx, p, (size_t)(q - p));
	if (q < close) {
		if (*q == ':') {
			colon = 1;
			q++;
		}
		if (q >= close || !strchr("-+?", *q)) {
			buf_printf(err, "invalid interpolation '${%.*s}'",
			    (int)(close - p), p);
			return -1;
		}
		op = *q++;
	}
	arg = q;
	switch (op) {
	case 0:
		buf_adds(out, v ? v : "");
		return 0;
	case '-':
		if (v && (!colon || *v)) {
			buf_adds(out, v);
			return 0;
		}
		return interp(arg, (size_t)(close - arg), fn, ctx, out, err,
		    depth + 1);
	case '+':
		if (v && (!colon || *v))
			return interp(arg, (size_t)(close - arg), fn, ctx, out,
			    err, depth + 1);
		return 0;
	default:
		if (v && (!colon || *v)) {
			buf_adds(out, v);
			return 0;
		}
		buf_printf(err, "required variable %.*s is missing a value%s"
		    "%.*s", nlen, p, close > arg ? ": " : "",
		    (int)(close - arg), arg);
		return -1;
	}
}

static int
interp(const char *in, size_t len, composeimg_lookup fn, void *ctx,
    struct buf *out, struct buf *err, int depth)
{
	const char *p = in, *end = in + len, *close, *q;

	if (depth > MAX_DEPTH) {
		buf_adds(err, "interpolation nested too deep");
		return -1;
	}
	while (p < end) {
		if (*p != '$') {
			buf_addc(out, *p++);
			continue;
		}
		if (p + 1 < end && p[1] == '$') {
			buf_addc(out, '$');
			p += 2;
		} else if (p + 1 < end && p[1] == '{') {
			if (!(close = brace_end(p + 2, end))) {
				buf_printf(err, "unterminated '${' in '%.*s'",
				    (int)len, in);
				return -1;
			}
			if (braced(p + 2, close, fn, ctx, out, err, depth) < 0)
				return -1;
			p = close + 1;
		} else if (p + 1 < end && is_name((unsigned char)p[1], 1)) {
			for (q = p + 1; q < end && is_name((unsigned char)*q, 0);
			    q++)
				;
			close = fn(ctx, p + 1, (size_t)(q - p - 1));
			buf_adds(out, close ? close : "");
			p = q;
		} else {
			buf_printf(err, "invalid interpolation: a lone '$' in "
			    "'%.*s' (write $$)", (int)len, in);
			return -1;
		}
	}
	return 0;
}

int
composeimg_interp(const char *in, size_t len, composeimg_lookup fn,
    void *ctx, struct buf *out, struct buf *err)
{
	return interp(in, len, fn, ctx, out, err, 0);
}

static yaml_node_t *
map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *pr;
	yaml_node_t *k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	    pr++) {
		k = yaml_document_get_node(d, pr->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, strlen(key)))
			return yaml_document_get_node(d, pr->value);
	}
	return NULL;
}

int
composeimg_parse(const char *name, const char *data, size_t len,
    composeimg_lookup fn, void *ctx, struct composeimg **out, size_t *n,
    struct buf *err)
{
	yaml_parser_t ps;
	yaml_document_t d;
	yaml_node_t *root, *svcs, *k, *v, *img;
	yaml_node_pair_t *pr;
	struct composeimg *r = NULL;
	struct buf b = BUF_INIT, e = BUF_INIT;
	size_t cap = 0, cnt = 0;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (len > COMPOSEIMG_MAX_FILE) {
		buf_printf(err, "%s: larger than 1 MiB", name);
		return -1;
	}
	if (!yaml_parser_initialize(&ps))
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
	if (!yaml_parser_load(&ps, &d)) {
		buf_printf(err, "%s:%zu:%zu: %s", name,
		    ps.problem_mark.line + 1, ps.problem_mark.column + 1,
		    ps.problem ? ps.problem : "invalid YAML");
		yaml_parser_delete(&ps);
		return -1;
	}
	if (d.nodes.top - d.nodes.start > COMPOSEIMG_MAX_NODES) {
		buf_printf(err, "%s: more than %d YAML nodes", name,
		    COMPOSEIMG_MAX_NODES);
		goto out;
	}
	root = yaml_document_get_root_node(&d);
	if (!root) {
		rc = 0;		/* an empty file names no image */
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		buf_printf(err, "%s:%zu:%zu: not a mapping", name,
		    root->start_mark.line + 1, root->start_mark.column + 1);
		goto out;
	}
	svcs = map_get(&d, root, "services");
	if (svcs && svcs->type != YAML_MAPPING_NODE) {
		buf_printf(err, "%s:%zu:%zu: 'services' is not a mapping",
		    name, svcs->start_mark.line + 1,
		    svcs->start_mark.column + 1);
		goto out;
	}
	for (pr = svcs ? svcs->data.mapping.pairs.start : NULL;
	    pr && pr < svcs->data.mapping.pairs.top; pr++) {
		k = yaml_document_get_node(&d, pr->key);
		v = yaml_document_get_node(&d, pr->value);
		if (!k || k->type != YAML_SCALAR_NODE)
			continue;
		img = map_get(&d, v, "image");
		if (!img)
			continue;
		if (img->type != YAML_SCALAR_NODE) {
			buf_printf(err, "%s:%zu:%zu: service '%.*s': image "
			    "is not a string", name, img->start_mark.line + 1,
			    img->start_mark.column + 1,
			    (int)k->data.scalar.length,
			    (const char *)k->data.scalar.value);
			goto out;
		}
		if (memchr(img->data.scalar.value, '\0',
		    img->data.scalar.length)) {
			buf_printf(err, "%s:%zu:%zu: service '%.*s': image "
			    "holds a NUL byte", name, img->start_mark.line + 1,
			    img->start_mark.column + 1,
			    (int)k->data.scalar.length,
			    (const char *)k->data.scalar.value);
			goto out;
		}
		buf_reset(&b);
		buf_reset(&e);
		if (composeimg_interp((const char *)img->data.scalar.value,
		    img->data.scalar.length, fn, ctx, &b, &e) < 0) {
			buf_printf(err, "%s:%zu:%zu: service '%.*s': %s", name,
			    img->start_mark.line + 1,
			    img->start_mark.column + 1,
			    (int)k->data.scalar.length,
			    (const char *)k->data.scalar.value, e.s);
			goto out;
		}
		KOM_GROW(r, cnt + 1, cap);
		r[cnt].service = xstrndup((const char *)k->data.scalar.value,
		    k->data.scalar.length);
		r[cnt].raw = xstrndup((const char *)img->data.scalar.value,
		    img->data.scalar.length);
		r[cnt].image = xstrdup(b.s);
		r[cnt].line = (int)img->start_mark.line + 1;
		cnt++;
	}
	rc = 0;
out:
	if (rc == 0) {
		*out = r;
		*n = cnt;
	} else
		composeimg_free(r, cnt);
	buf_free(&b);
	buf_free(&e);
	yaml_document_delete(&d);
	yaml_parser_delete(&ps);
	return rc;
}

void
composeimg_free(struct composeimg *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].service);
		free(v[i].image);
		free(v[i].raw);
	}
	free(v);
}
