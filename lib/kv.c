/*
 * kv: Komodo's flexible value formats; see kv.h.  The rules follow
 * Komodo's parsers (komodo-behaviour.md section 0) step by step, so the
 * comments name the step rather than repeat it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "util.h"
#include "banned.h"

int
kv_is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/* Trim [*s, *e) in place. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && kv_is_space((unsigned char)**s))
		(*s)++;
	while (*e > *s && kv_is_space((unsigned char)(*e)[-1]))
		(*e)--;
}

/* The first occurrence of " #" in [s, e), or e. */
static const char *
comment_start(const char *s, const char *e)
{
	const char *p;

	for (p = s; p + 1 < e; p++)
		if (p[0] == ' ' && p[1] == '#')
			return p;
	return e;
}

/* Next line of [*p, end): sets [*ls, *le) and advances *p past '\n'. */
static int
next_line(const char **p, const char *end, const char **ls, const char **le)
{
	const char *nl;

	if (*p >= end)
		return 0;
	*ls = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*le = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	return 1;
}

const char *
kv_shape_first(enum kv_shape shape)
{
	return shape == KV_KEY_VALUE ? "key" :
	    shape == KV_LOCAL_CONTAINER ? "local" : "signal";
}

const char *
kv_shape_second(enum kv_shape shape)
{
	return shape == KV_KEY_VALUE ? "value" :
	    shape == KV_LOCAL_CONTAINER ? "container" : "label";
}

const char *
kv_shape_toml_first(enum kv_shape shape)
{
	return shape == KV_KEY_VALUE ? "variable" : kv_shape_first(shape);
}

void
kv_split_list(const char *s, size_t len, char ***v, size_t *n)
{
	const char *p = s, *end = s + len, *ls, *le, *q, *c;
	size_t cap = *n;

	while (next_line(&p, end, &ls, &le)) {
		trim(&ls, &le);
		if (ls == le || *ls == '#')
			continue;
		le = comment_start(ls, le);
		for (q = ls; q <= le; q = c + 1) {
			const char *is, *ie;

			c = memchr(q, ',', (size_t)(le - q));
			if (!c)
				c = le;
			is = q;
			ie = c;
			trim(&is, &ie);
			if (is < ie) {
				KOM_GROW(*v, *n + 1, cap);
				(*v)[(*n)++] = xstrndup(is, (size_t)(ie - is));
			}
		}
	}
}

void
kv_string_list(const char *s, size_t len, json_t *arr)
{
	char **v = NULL;
	size_t n = 0, i;

	kv_split_list(s, len, &v, &n);
	for (i = 0; i < n; i++) {
		json_array_append_new(arr, json_string(v[i]));
		free(v[i]);
	}
	free(v);
}

static int
is_quote(int c)
{
	return c == '"' || c == '\'';
}

/*
 * {"first": k, "second": v} appended to arr, what json_pack("{s:s%,s:s%}")
 * made at a tenth of its cost (a third of loading a resource file was the
 * format parsing); nothing when k or v is not UTF-8, as json_pack.
 */
static void
append_pair(json_t *arr, enum kv_shape shape, const char *k, size_t klen,
    const char *v, size_t vlen, int utf8)
{
	json_t *ks = utf8 ? json_stringn_nocheck(k, klen) : json_stringn(k, klen);
	json_t *vs = utf8 ? json_stringn_nocheck(v, vlen) : json_stringn(v, vlen);
	json_t *o;

	if (!ks || !vs) {
		json_decref(ks);
		json_decref(vs);
		return;
	}
	o = json_object();
	json_object_set_new_nocheck(o, kv_shape_first(shape), ks);
	json_object_set_new_nocheck(o, kv_shape_second(shape), vs);
	json_array_append_new(arr, o);
}

/* Steps 2-5 over s: the pairs into arr, or only checked when arr is
 * NULL; -1 with err on a line without an assignment. */
static int
scan(const char *s, size_t len, enum kv_shape shape, struct kv_error *err,
    json_t *arr)
{
	const char *p = s, *end = s + len, *ls, *le, *sep, *ks, *ke, *vs, *ve;
	int line = 0, utf8 = arr ? kom_utf8_valid(s, len) : 0;

	/* pieces of valid UTF-8 cut at ASCII bytes are valid UTF-8: checked
	 * once here rather than piece by piece */
	while (next_line(&p, end, &ls, &le)) {
		line++;
		/* step 2 */
		trim(&ls, &le);
		if (ls == le || *ls == '#' ||
		    (le - ls >= 2 && ls[0] == '/' && ls[1] == '/'))
			continue;
		/* step 3 */
		le = comment_start(ls, le);
		trim(&ls, &le);
		while (ls < le && *ls == '-')
			ls++;
		trim(&ls, &le);
		if (ls == le)
			continue;
		/* step 4 */
		for (sep = ls; sep < le && *sep != '=' && *sep != ':'; sep++)
			;
		if (sep == le) {
			err->line = line;
			snprintf(err->msg, sizeof(err->msg),
			    "line %d missing assignment character", line);
			return -1;
		}
		if (!arr)
			continue;
		/* step 5 */
		ks = ls;
		ke = sep;
		vs = sep + 1;
		ve = le;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ks < ke && is_quote((unsigned char)*ks) &&
		    !is_quote((unsigned char)ke[-1]) &&
		    vs < ve && is_quote((unsigned char)ve[-1])) {
			ks++;
			ve--;
		}
		append_pair(arr, shape, ks, (size_t)(ke - ks), vs,
		    (size_t)(ve - vs), utf8);
	}
	return 0;
}

json_t *
kv_list(const char *s, size_t len, enum kv_shape shape, struct kv_error *err)
{
	json_t *arr = json_array();

	if (scan(s, len, shape, err, arr) < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

int
kv_check(const char *s, size_t len, struct kv_error *err)
{
	return scan(s, len, KV_KEY_VALUE, err, NULL);
}

char *
kv_file_contents(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	while (len > 0 && kv_is_space((unsigned char)s[len - 1]))
		len--;
	if (len > 0) {
		buf_add(&b, s, len);
		buf_addc(&b, '\n');
	}
	return buf_release(&b);
}

char *
kv_join_command(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	const char *p = s, *end = s + len, *ls, *le;
	int cont = 0;

	while (next_line(&p, end, &ls, &le)) {
		trim(&ls, &le);
		if (ls == le || *ls == '#')
			continue;
		le = comment_start(ls, le);
		trim(&ls, &le);
		if (ls == le)
			continue;
		if (b.len > 0)
			buf_adds(&b, cont ? " " : " && ");
		cont = le - ls >= 2 && le[-1] == '\\' && le[-2] == ' ';
		if (cont) {
			le--;
			trim(&ls, &le);
		}
		buf_add(&b, ls, (size_t)(le - ls));
	}
	return buf_release(&b);
}

void
kv_version_parts(long long major, long long minor, long long patch,
    char *out, size_t outsz)
{
	snprintf(out, outsz, "%lld.%lld.%lld", major, minor, patch);
}

int
kv_version(const char *s, char *out, size_t outsz, struct kv_error *err)
{
	long long part[3] = { 0, 0, 0 };
	const char *p = s;
	int n = 0;

	for (;;) {
		long long v = 0;
		const char *d = p;

		while (*p >= '0' && *p <= '9' && v < 1000000000LL)
			v = v * 10 + (*p++ - '0');
		if (p == d || n == 3 || (*p >= '0' && *p <= '9'))
			goto bad;
		part[n++] = v;
		if (*p == '\0')
			break;
		if (*p != '.')
			goto bad;
		p++;
	}
	kv_version_parts(part[0], part[1], part[2], out, outsz);
	return 0;
bad:
	err->line = 0;
	snprintf(err->msg, sizeof(err->msg),
	    "'%.40s' is not a version (want MAJOR[.MINOR[.PATCH]])", s);
	return -1;
}

const char *
kv_signal(const char *s)
{
	static const char *const names[][2] = {
		{ "SIGHUP", "1" }, { "SIGINT", "2" }, { "SIGQUIT", "3" },
		{ "SIGTERM", "15" },
	};
	size_t i;

	for (i = 0; i < KOM_NELEM(names); i++)
		if (!strcmp(s, names[i][0]) || !strcmp(s, names[i][1]))
			return names[i][0];
	return NULL;
}

static int
is_hex24(const char *s)
{
	size_t i;

	for (i = 0; i < 24; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return s[24] == '\0';
}

char *
kv_name(const char *name, enum kv_name_style style, struct kv_error *err)
{
	const char *s = name, *e = name + strlen(name), *p;
	struct buf b = BUF_INIT;
	char *out;

	trim(&s, &e);
	for (p = s; p < e; p++) {
		unsigned char c = (unsigned char)*p;

		switch (style) {
		case KV_NAME_GENERAL:
			buf_addc(&b, c == '\n' ? '_' : c);
			break;
		case KV_NAME_PATH:
			buf_addc(&b, c == '\n' || c == ' ' ? '_' : c);
			break;
		case KV_NAME_CONTAINER:
		case KV_NAME_DOCKER:
			/* One '_' per character, not per UTF-8 byte. */
			if (c >= 0x80 && c < 0xc0)
				break;
			if (style == KV_NAME_DOCKER)
				c = (unsigned char)tolower(c);
			if (isalnum(c) && c < 0x80 &&
			    (style == KV_NAME_CONTAINER || !isupper(c)))
				buf_addc(&b, c);
			else if (c == '_' || c == '-' ||
			    (c == '.' && style == KV_NAME_CONTAINER))
				buf_addc(&b, c);
			else
				buf_addc(&b, '_');
			break;
		}
	}
	if (style == KV_NAME_CONTAINER || style == KV_NAME_DOCKER) {
		size_t skip = 0;

		while (skip < b.len && !isalnum((unsigned char)b.s[skip]))
			skip++;
		out = xstrdup(b.s + skip);
		buf_free(&b);
	} else
		out = buf_release(&b);
	err->line = 0;
	if (*out == '\0') {
		snprintf(err->msg, sizeof(err->msg), "name is empty%s",
		    *name ? " after normalization" : "");
		free(out);
		return NULL;
	}
	if (is_hex24(out)) {
		snprintf(err->msg, sizeof(err->msg),
		    "name '%s' looks like an object id (24 hex digits)", out);
		free(out);
		return NULL;
	}
	return out;
}

int
kv_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	int row[64], prev, tmp, best;

	if (lb >= KOM_NELEM(row) || la >= 64)
		return cap + 1;
	if ((la > lb ? la - lb : lb - la) > (size_t)cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			int sub = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			row[j] = sub;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}
