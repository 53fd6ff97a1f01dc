#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonskim.h"
#include "util.h"
#include "banned.h"

/* The state of one jsonskim_object call. */
struct sk {
	struct jsonskim *js;
	const unsigned char *s;
	size_t i, n;
	int depth;
	size_t nc;		/* non-canonical things seen so far */
};

static int value(struct sk *k);

void
jsonskim_init(struct jsonskim *s)
{
	memset(s, 0, sizeof(*s));
}

void
jsonskim_free(struct jsonskim *s)
{
	free(s->m);
	free(s->keys);
	free(s->num);
	jsonskim_init(s);
}

static int
fail(struct sk *k, size_t at, const char *msg)
{
	k->js->err_off = at;
	k->js->err = msg;
	return -1;
}

/* JSON whitespace; inside a member's value it makes the value non-canonical. */
static void
ws(struct sk *k)
{
	size_t i0 = k->i;

	if (i0 < k->n && k->s[i0] > ' ')
		return;		/* the common case: compact JSON */
	while (k->i < k->n && (k->s[k->i] == ' ' || k->s[k->i] == '\t' ||
	    k->s[k->i] == '\n' || k->s[k->i] == '\r'))
		k->i++;
	if (k->i != i0 && k->depth >= 2)
		k->nc++;
}

static int
hex4(const unsigned char *p, size_t avail, unsigned *v)
{
	size_t i;
	unsigned x = 0, d;

	if (avail < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}


/* Bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x20: not the quote */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* 0x50-: not backslash */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* A string at k->i (its opening quote); *plain: no backslash in it. */
static int
string(struct sk *k, int *plain)
{
	const unsigned char *s = k->s;
	size_t i = k->i + 1, n = k->n, l;
	unsigned cp, lo;
	int pl = 1;

	for (;;) {
		while (i < n && plain_byte[s[i]])
			i++;
		if (i >= n)
			return fail(k, i, "premature end of input in a string");
		if (s[i] == '"')
			break;
		if (s[i] < 0x20)
			return fail(k, i, "control character in a string");
		if (s[i] >= 0x80) {
			if (!(l = kom_utf8_len(s + i, n - i)))
				return fail(k, i, "invalid UTF-8 in a string");
			i += l;
			continue;
		}
		pl = 0;
		if (i + 1 >= n)
			return fail(k, i, "premature end of input in a string");
		switch (s[i + 1]) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r':
		case 't':
			i += 2;
			continue;
		case '/':
			k->nc++;
			i += 2;
			continue;
		case 'u':
			break;
		default:
			return fail(k, i, "invalid escape in a string");
		}
		k->nc++;
		if (hex4(s + i + 2, n - i - 2, &cp) < 0)
			return fail(k, i, "invalid \\u escape in a string");
		if (cp == 0)
			return fail(k, i, "\\u0000 is not allowed in a string");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(k, i, "invalid Unicode escape (lone low "
			    "surrogate)");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
			    hex4(s + i + 8, n - i - 8, &lo) < 0 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return fail(k, i, "invalid Unicode escape (high "
				    "surrogate without a low one)");
			i += 6;
		}
		i += 6;
	}
	k->i = i + 1;
	*plain = pl;
	return 0;
}

static int
isdig(const struct sk *k, size_t i)
{
	return i < k->n && k->s[i] >= '0' && k->s[i] <= '9';
}

/* A NUL-terminated copy of s[0..len) in the scratch. */
static const char *
scratch(struct sk *k, size_t st, size_t len)
{
	struct jsonskim *js = k->js;

	KOM_GROW(js->num, len + 1, js->numcap);
	memcpy(js->num, k->s + st, len);
	js->num[len] = '\0';
	return js->num;
}

static int
number(struct sk *k)
{
	size_t st = k->i, i = st;
	int real = 0, neg = 0;
	const char *t;
	double d;

	if (k->s[i] == '-') {
		neg = 1;
		i++;
	}
	if (!isdig(k, i))
		return fail(k, st, "invalid number");
	if (k->s[i] == '0')
		i++;
	else
		while (isdig(k, i))
			i++;
	if (i < k->n && k->s[i] == '.') {
		real = 1;
		if (!isdig(k, ++i))
			return fail(k, st, "invalid number");
		while (isdig(k, i))
			i++;
	}
	if (i < k->n && (k->s[i] == 'e' || k->s[i] == 'E')) {
		real = 1;
		i++;
		if (i < k->n && (k->s[i] == '+' || k->s[i] == '-'))
			i++;
		if (!isdig(k, i))
			return fail(k, st, "invalid number");
		while (isdig(k, i))
			i++;
	}
	k->i = i;
	if (real) {
		/* jansson writes reals its own way (%.17g): never canonical */
		k->nc++;
		t = scratch(k, st, i - st);
		errno = 0;
		d = strtod(t, NULL);
		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
			return fail(k, st, "real number overflow");
		return 0;
	}
	if (neg && i - st == 2 && k->s[st + 1] == '0')
		k->nc++;	/* -0 is written 0 */
	if (i - st - (size_t)neg > 18) {
		t = scratch(k, st, i - st);
		errno = 0;
		(void)strtoll(t, NULL, 10);
		if (errno == ERANGE)
			return fail(k, st, neg ? "too big negative integer" :
			    "too big integer");
	}
	return 0;
}

static int
literal(struct sk *k, const char *word)
{
	size_t len = strlen(word);

	if (k->n - k->i < len || memcmp(k->s + k->i, word, len) != 0)
		return fail(k, k->i, "invalid token");
	k->i += len;
	return 0;
}

/* ---- duplicate keys ---- */

/* Decode a validated string body (no quotes) into out (appended). */
static void
decode_body(const unsigned char *p, size_t len, struct buf *out)
{
	size_t i = 0, j;
	unsigned cp, lo;
	char u[4];

	while (i < len) {
		for (j = i; j < len && p[j] != '\\'; j++)
			;
		buf_add(out, p + i, j - i);
		if (j >= len)
			break;
		i = j + 2;
		switch (p[j + 1]) {
		case 'b': buf_addc(out, '\b'); continue;
		case 'f': buf_addc(out, '\f'); continue;
		case 'n': buf_addc(out, '\n'); continue;
		case 'r': buf_addc(out, '\r'); continue;
		case 't': buf_addc(out, '\t'); continue;
		case 'u': break;
		default: buf_addc(out, p[j + 1]); continue;
		}
		(void)hex4(p + j + 2, len - j - 2, &cp);
		i = j + 6;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			(void)hex4(p + j + 8, len - j - 8, &lo);
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 6;
		}
		if (cp < 0x80) {
			buf_addc(out, (int)cp);
		} else if (cp < 0x800) {
			u[0] = (char)(0xc0 | cp >> 6);
			u[1] = (char)(0x80 | (cp & 0x3f));
			buf_add(out, u, 2);
		} else if (cp < 0x10000) {
			u[0] = (char)(0xe0 | cp >> 12);
			u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[2] = (char)(0x80 | (cp & 0x3f));
			buf_add(out, u, 3);
		} else {
			u[0] = (char)(0xf0 | cp >> 18);
			u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
			u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
			u[3] = (char)(0x80 | (cp & 0x3f));
			buf_add(out, u, 4);
		}
	}
}

struct keyctx {
	const unsigned char *s;
	struct buf a, b;
};

/* Compare two keys by their decoded bytes. */
static int
key_cmp(const void *x, const void *y, void *ctx)
{
	const struct jsonskim_key *ka = x, *kb = y;
	struct keyctx *c = ctx;
	const void *pa = c->s + ka->off, *pb = c->s + kb->off;
	size_t la = ka->len, lb = kb->len;
	int r;

	if (!ka->plain) {
		buf_reset(&c->a);
		decode_body(c->s + ka->off, ka->len, &c->a);
		pa = c->a.s;
		la = c->a.len;
	}
	if (!kb->plain) {
		buf_reset(&c->b);
		decode_body(c->s + kb->off, kb->len, &c->b);
		pb = c->b.s;
		lb = c->b.len;
	}
	r = memcmp(pa, pb, la < lb ? la : lb);
	return r ? r : la < lb ? -1 : la > lb;
}

/* The keys of one object, keys[0..n): -1 when two are equal. */
static int
has_duplicate(const unsigned char *s, struct jsonskim_key *keys, size_t n)
{
	struct keyctx c = { s, BUF_INIT, BUF_INIT };
	size_t i, j;
	int dup = 0;

	if (n <= 16) {
		for (i = 1; i < n && !dup; i++)
			for (j = 0; j < i && !dup; j++) {
				if (keys[i].plain && keys[j].plain &&
				    keys[i].len != keys[j].len)
					continue;
				dup = key_cmp(&keys[i], &keys[j], &c) == 0;
			}
	} else {
		qsort_r(keys, n, sizeof(*keys), key_cmp, &c);
		for (i = 1; i < n && !dup; i++)
			dup = key_cmp(&keys[i - 1], &keys[i], &c) == 0;
	}
	buf_free(&c.a);
	buf_free(&c.b);
	return dup;
}

/* ---- containers ---- */

static int
enter(struct sk *k)
{
	if (++k->depth > JSONSKIM_MAX_DEPTH)
		return fail(k, k->i, "maximum nesting depth reached");
	k->i++;
	ws(k);
	return 0;
}

static int
object(struct sk *k, int top)
{
	struct jsonskim *js = k->js;
	size_t base = js->nkeys, koff, voff, nc0, nc1, at = k->i;
	int plain;

	if (enter(k) < 0)
		return -1;
	if (k->i < k->n && k->s[k->i] == '}')
		goto done;
	for (;;) {
		if (k->i >= k->n || k->s[k->i] != '"')
			return fail(k, k->i, "string or '}' expected");
		koff = k->i + 1;
		nc0 = k->nc;
		if (string(k, &plain) < 0)
			return -1;
		KOM_GROW(js->keys, js->nkeys + 1, js->capkeys);
		js->keys[js->nkeys++] = (struct jsonskim_key){ koff,
		    k->i - 1 - koff, plain };
		nc1 = k->nc;
		ws(k);
		if (k->i >= k->n || k->s[k->i] != ':')
			return fail(k, k->i, "':' expected");
		k->i++;
		ws(k);
		voff = k->i;
		if (value(k) < 0)
			return -1;
		if (top) {
			KOM_GROW(js->m, js->n + 1, js->cap);
			js->m[js->n++] = (struct jsonskim_member){ koff,
			    js->keys[js->nkeys - 1].len, voff, k->i - voff,
			    (unsigned char)plain, nc1 == nc0, k->nc == nc1 };
		}
		ws(k);
		if (k->i < k->n && k->s[k->i] == ',') {
			k->i++;
			ws(k);
			continue;
		}
		if (k->i < k->n && k->s[k->i] == '}')
			break;
		return fail(k, k->i, "',' or '}' expected");
	}
done:
	if (js->nkeys - base > 1 && has_duplicate(k->s, js->keys + base,
	    js->nkeys - base))
		return fail(k, at, "duplicate object key");
	js->nkeys = base;
	k->i++;
	k->depth--;
	return 0;
}

static int
array(struct sk *k)
{
	if (enter(k) < 0)
		return -1;
	if (k->i < k->n && k->s[k->i] == ']')
		goto done;
	for (;;) {
		if (value(k) < 0)
			return -1;
		ws(k);
		if (k->i < k->n && k->s[k->i] == ',') {
			k->i++;
			ws(k);
			continue;
		}
		if (k->i < k->n && k->s[k->i] == ']')
			break;
		return fail(k, k->i, "',' or ']' expected");
	}
done:
	k->i++;
	k->depth--;
	return 0;
}

static int
value(struct sk *k)
{
	int plain;

	if (k->i >= k->n)
		return fail(k, k->i, "premature end of input");
	switch (k->s[k->i]) {
	case '{': return object(k, 0);
	case '[': return array(k);
	case '"': return string(k, &plain);
	case 't': return literal(k, "true");
	case 'f': return literal(k, "false");
	case 'n': return literal(k, "null");
	case '-': case '0': case '1': case '2': case '3': case '4': case '5':
	case '6': case '7': case '8': case '9':
		return number(k);
	default:
		return fail(k, k->i, "invalid token");
	}
}

int
jsonskim_object(struct jsonskim *js, const char *text, size_t len)
{
	struct sk k = { js, (const unsigned char *)text, 0, len, 0, 0 };

	js->n = 0;
	js->nkeys = 0;
	js->err = NULL;
	js->err_off = 0;
	ws(&k);
	if (k.i >= k.n || k.s[k.i] != '{')
		return fail(&k, k.i, "'{' expected");
	if (object(&k, 1) < 0) {
		js->n = 0;
		return -1;
	}
	ws(&k);
	if (k.i < k.n)
		return fail(&k, k.i, "end of input expected");
	return 0;
}

const struct jsonskim_member *
jsonskim_get(const struct jsonskim *s, const char *text, const char *key)
{
	size_t i, klen = strlen(key);
	struct buf b = BUF_INIT;
	const struct jsonskim_member *m, *found = NULL;

	for (i = 0; i < s->n && !found; i++) {
		m = &s->m[i];
		if (m->kplain) {
			if (m->klen == klen && memcmp(text + m->koff, key,
			    klen) == 0)
				found = m;
			continue;
		}
		buf_reset(&b);
		decode_body((const unsigned char *)text + m->koff, m->klen,
		    &b);
		if (b.len == klen && memcmp(b.s, key, klen) == 0)
			found = m;
	}
	buf_free(&b);
	return found;
}

int
jsonskim_string(const char *v, size_t len, struct buf *out)
{
	buf_reset(out);
	if (len < 2 || v[0] != '"')
		return -1;
	decode_body((const unsigned char *)v + 1, len - 2, out);
	return 0;
}

/* The end of the validated value at a[i]. */
static size_t
skip_value(const char *a, size_t alen, size_t i)
{
	int depth = 0, in_str = 0;

	for (; i < alen; i++) {
		char c = a[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"') {
				in_str = 0;
				if (!depth)
					return i + 1;
			}
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '[' || c == '{')
			depth++;
		else if (c == ']' || c == '}') {
			if (!depth)
				return i;
			if (!--depth)
				return i + 1;
		} else if (!depth && (c == ',' || c == ' ' || c == '\t' ||
		    c == '\n' || c == '\r'))
			return i;
	}
	return i;
}

static size_t
skip_ws(const char *a, size_t alen, size_t i)
{
	while (i < alen && (a[i] == ' ' || a[i] == '\t' || a[i] == '\n' ||
	    a[i] == '\r'))
		i++;
	return i;
}

int
jsonskim_next(const char *a, size_t alen, size_t *pos, size_t *eoff,
    size_t *elen)
{
	size_t i = *pos;

	if (i == 0) {
		if (alen == 0 || a[0] != '[')
			return 0;
		i = 1;
	}
	i = skip_ws(a, alen, i);
	if (i < alen && a[i] == ',')
		i = skip_ws(a, alen, i + 1);
	if (i >= alen || a[i] == ']') {
		*pos = alen;
		return 0;
	}
	*eoff = i;
	i = skip_value(a, alen, i);
	*elen = i - *eoff;
	*pos = i;
	return 1;
}

void
jsonskim_quote(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, j;
	char e[6];

	buf_grow(out, len + 2);
	out->s[out->len++] = '"';
	while (i < len) {
		for (j = i; j < len && (unsigned char)s[j] >= 0x20 &&
		    s[j] != '"' && s[j] != '\\'; j++)
			;
		buf_add(out, s + i, j - i);
		if (j >= len)
			break;
		e[0] = '\\';
		switch (s[j]) {
		case '"': buf_add(out, "\\\"", 2); break;
		case '\\': buf_add(out, "\\\\", 2); break;
		case '\b': buf_add(out, "\\b", 2); break;
		case '\f': buf_add(out, "\\f", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case '\t': buf_add(out, "\\t", 2); break;
		default:
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[(unsigned char)s[j] >> 4];
			e[5] = hex[(unsigned char)s[j] & 15];
			buf_add(out, e, 6);
		}
		i = j + 1;
	}
	buf_addc(out, '"');
}
