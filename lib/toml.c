/*
 * toml: a single-pass TOML 1.0.0 parser (see toml.h for the contract).
 *
 * The input is read once, left to right, with no lookahead beyond a few
 * bytes and no regular expressions.  Arrays and inline tables are parsed
 * with an explicit stack instead of recursion, so a deeply nested document
 * costs heap, not C stack, and the depth cap is a plain comparison.
 *
 * Every value is attached to the tree as soon as it is allocated, before it
 * is filled in.  On error the parser therefore only has to free the root:
 * nothing can leak from half-parsed containers.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <jansson.h>

#include "buf.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

/* Table flags: how a table came to exist decides what may extend it later. */
enum {
	T_IMPLICIT = 1,	/* parent of a [header], not yet defined itself */
	T_DEFINED = 2,	/* defined by [header], [[header]] or as the root */
	T_DOTTED = 4,	/* made by a dotted key: only dotted keys extend it */
	T_INLINE = 8,	/* { ... }: frozen once closed */
	T_ROOT = 16	/* the root: the struct toml_doc that owns the arena */
};

/* Tables with more keys than this get a hash index; below it a linear scan
 * over a few short keys beats hashing. */
#define INDEX_MIN 8

struct tindex {
	size_t mask;
	uint32_t slot[];	/* kv position + 1; 0 is an empty slot */
};

/*
 * A document's nodes, keys, strings and arrays all come from one arena of
 * large blocks: parsing a resource file makes hundreds of thousands of
 * small objects, and malloc/free per object cost more than the parsing.
 * toml_free() of the root releases the blocks in one sweep.
 */
#define ARENA_FIRST (16u << 10)
#define ARENA_MAX (2u << 20)

struct ablock {
	struct ablock *next;
	size_t cap, used;
	max_align_t data[];
};

struct toml_doc {
	struct ablock *blocks;
	size_t next_cap;	/* blocks double up to ARENA_MAX */
	struct toml_value root;
};

struct keypart {
	const char *src;	/* the text in the input, or NULL: */
	size_t off, len;	/* at off in parser.keys */
	int line, col;
};

/* One open array or inline table. */
struct frame {
	struct toml_value *v;
	int depth;
};

struct parser {
	const char *p, *end;
	const char *bol;	/* first byte of the current line */
	int line;
	struct toml_error *err;
	struct toml_doc *doc;
	struct toml_value *root;
	struct toml_value *cur;	/* table that key/value pairs go into */
	int cur_depth;
	struct buf keys;	/* decoded text of the key being parsed */
	struct keypart *part;
	size_t nparts, partcap;
	struct frame *stack;
	size_t nstack, stackcap;
	struct buf str;		/* decoded text of the string value */
};

/* Where a parsed value goes: appended to an array, or into kv[idx]. */
struct slot {
	struct toml_value *t;
	size_t idx;
	int depth;		/* depth a container placed here would have */
};

static int
colof(const struct parser *p, const char *at)
{
	ptrdiff_t c = at - p->bol + 1;

	return c > INT_MAX ? INT_MAX : c < 1 ? 1 : (int)c;
}

static int perr_at(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
perr_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		p->err->line = line;
		p->err->col = col;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define perr(p, ...) perr_at((p), (p)->line, colof((p), (p)->p), __VA_ARGS__)

/* A key quoted for a message: control bytes become '?' and long keys are
 * cut at a character boundary, so the message stays one readable line. */
static const char *
keyname(char *out, size_t outsz, const char *k, size_t len)
{
	size_t i, n = len < outsz - 4 ? len : outsz - 4;

	if (n < len)
		while (n > 0 && ((unsigned char)k[n] & 0xC0) == 0x80)
			n--;
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)k[i] < 0x20 || k[i] == 0x7f ? '?' : k[i];
	if (n < len)
		out[i++] = '.', out[i++] = '.', out[i++] = '.';
	out[i] = '\0';
	return out;
}

/* ---- the arena ---- */

/* Big documents fill many ARENA_MAX blocks; asking for huge pages there
 * saves a page fault per 4 KiB, which would otherwise cost a quarter of
 * the parse. */
static struct ablock *
new_block(size_t cap)
{
	size_t sz = st_add(sizeof(struct ablock), cap);
	struct ablock *b;

#ifdef MADV_HUGEPAGE
	if (sz == ARENA_MAX && (b = aligned_alloc(ARENA_MAX, sz)) != NULL)
		madvise(b, sz, MADV_HUGEPAGE);
	else
#endif
		b = xmalloc(sz);
	b->cap = cap;
	return b;
}

static void *
aalloc(struct parser *p, size_t n)
{
	struct ablock *b = p->doc->blocks, *nb;
	size_t cap;

	n = st_add(n, 7) & ~(size_t)7;
	if (b && b->cap - b->used >= n) {
		b->used += n;
		return (char *)b->data + b->used - n;
	}
	cap = p->doc->next_cap;
	if (n > cap / 4)
		nb = new_block(n);
	else {
		nb = new_block(cap - sizeof(*nb));
		if (cap < ARENA_MAX)
			p->doc->next_cap = cap * 2;
	}
	nb->used = n;
	/* A big one-off object gets its own block behind the current one,
	 * so the space left in the current block is not thrown away. */
	if (b && n > cap / 4) {
		nb->next = b->next;
		b->next = nb;
	} else {
		nb->next = b;
		p->doc->blocks = nb;
	}
	return nb->data;
}

/* Room for need elements of size at *arr; the old copy stays in the arena
 * as garbage, at most as much again as the arrays themselves. */
static void *
agrow(struct parser *p, void *arr, size_t need, size_t *cap, size_t size)
{
	size_t nc = *cap ? *cap : 4;
	void *na;

	if (need <= *cap)
		return arr;
	while (nc < need)
		nc = st_mul(nc, 2);
	na = aalloc(p, st_mul(nc, size));
	if (*cap)
		memcpy(na, arr, *cap * size);
	*cap = nc;
	return na;
}

/* ---- values and tables ---- */

static struct toml_value *
new_value(struct parser *p, enum toml_type type, int line, int col)
{
	struct toml_value *v = aalloc(p, sizeof(*v));

	memset(v, 0, sizeof(*v));
	v->type = type;
	v->line = line;
	v->col = col;
	return v;
}

/* Strings carry their text in the same allocation as the value. */
static struct toml_value *
new_string(struct parser *p, enum toml_type type, int line, int col,
    const char *s, size_t len)
{
	struct toml_value *v = aalloc(p, st_add(sizeof(*v), st_add(len, 1)));

	memset(v, 0, sizeof(*v));
	v->type = type;
	v->line = line;
	v->col = col;
	v->u.str.s = (char *)(v + 1);
	v->u.str.len = len;
	memcpy(v->u.str.s, s, len);
	v->u.str.s[len] = '\0';
	return v;
}

static void
index_put(struct tindex *ix, const struct toml_kv *kv, size_t pos)
{
	size_t i = kom_fnv1a(kv[pos].key, kv[pos].keylen) & ix->mask;

	while (ix->slot[i])
		i = (i + 1) & ix->mask;
	ix->slot[i] = (uint32_t)pos + 1;
}

/* Keep the load factor under one half so probes stay short. */
static void
index_rebuild(struct parser *p, struct toml_value *t)
{
	size_t cap = 16, i;
	struct tindex *ix;

	while (cap < st_mul(t->u.table.n, 3))
		cap = st_mul(cap, 2);
	ix = aalloc(p, st_add(sizeof(*ix), st_mul(cap, sizeof(uint32_t))));
	memset(ix->slot, 0, cap * sizeof(uint32_t));
	ix->mask = cap - 1;
	for (i = 0; i < t->u.table.n; i++)
		index_put(ix, t->u.table.kv, i);
	t->u.table.index = ix;
}

static struct toml_kv *
tbl_find(const struct toml_value *t, const char *k, size_t len)
{
	const struct tindex *ix = t->u.table.index;
	struct toml_kv *kv = t->u.table.kv;
	size_t i, pos;

	if (!ix) {
		for (i = 0; i < t->u.table.n; i++)
			if (kv[i].keylen == len && !memcmp(kv[i].key, k, len))
				return &kv[i];
		return NULL;
	}
	for (i = kom_fnv1a(k, len) & ix->mask; (pos = ix->slot[i]);
	    i = (i + 1) & ix->mask)
		if (kv[pos - 1].keylen == len && !memcmp(kv[pos - 1].key, k, len))
			return &kv[pos - 1];
	return NULL;
}

/* Append key (known to be absent) with value v, which may be NULL for
 * "filled in later"; returns its position. */
static size_t
tbl_add(struct parser *p, struct toml_value *t, const char *k, size_t len,
    int line, int col, struct toml_value *v)
{
	size_t pos = t->u.table.n;
	struct toml_kv *kv;

	t->u.table.kv = agrow(p, t->u.table.kv, pos + 1, &t->u.table.cap,
	    sizeof(*kv));
	kv = &t->u.table.kv[pos];
	kv->key = aalloc(p, st_add(len, 1));
	memcpy(kv->key, k, len);
	kv->key[len] = '\0';
	kv->keylen = len;
	kv->line = line;
	kv->col = col;
	kv->val = v;
	t->u.table.n = pos + 1;
	if (t->u.table.n > INDEX_MIN) {
		struct tindex *ix = t->u.table.index;

		if (!ix || t->u.table.n * 2 > ix->mask + 1)
			index_rebuild(p, t);
		else
			index_put(ix, t->u.table.kv, pos);
	}
	return pos;
}

static void
arr_add(struct parser *p, struct toml_value *a, struct toml_value *v)
{
	a->u.array.v = agrow(p, a->u.array.v, a->u.array.n + 1,
	    &a->u.array.cap, sizeof(*a->u.array.v));
	a->u.array.v[a->u.array.n++] = v;
}

static void
place(struct parser *p, const struct slot *s, struct toml_value *v)
{
	if (s->t->type == TOML_ARRAY)
		arr_add(p, s->t, v);
	else
		s->t->u.table.kv[s->idx].val = v;
}

/* ---- bytes, whitespace, newlines, comments ---- */

static int
peek(const struct parser *p)
{
	return p->p < p->end ? (unsigned char)*p->p : -1;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *s, const unsigned char *e)
{
	return kom_utf8_len(s, (size_t)(e - s));
}

/*
 * Skip 8 bytes at a time while none of them needs a closer look: no
 * control byte, DEL, non-ASCII byte, c1 or c2.  Strings and comments are
 * most of a resource file, so this loop is where the parser spends its
 * time.  The byte loops after it decide about the rest exactly.
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HASZERO(x) (((x) - ONES) & ~(x))

static const unsigned char *
skip_plain(const unsigned char *s, const unsigned char *e, unsigned c1,
    unsigned c2)
{
	uint64_t x, bad;

	while (e - s >= 8) {
		memcpy(&x, s, 8);
		bad = ((x - ONES * 0x20) & ~x) | HASZERO(x ^ (ONES * c1)) |
		    HASZERO(x ^ (ONES * c2)) | HASZERO(x ^ (ONES * 0x7f)) | x;
		if (bad & HIGHS)
			break;
		s += 8;
	}
	return s;
}

static void
skip_ws(struct parser *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t'))
		p->p++;
}

/* At '\n' or '\r': consume one newline.  A CR must be part of CRLF. */
static int
newline(struct parser *p)
{
	if (*p->p == '\r') {
		if (p->end - p->p < 2 || p->p[1] != '\n')
			return perr(p, "carriage return not followed by newline");
		p->p++;
	}
	p->p++;
	p->line += p->line < INT_MAX;
	p->bol = p->p;
	return 0;
}

/* At '#': skip to the end of line, leaving the newline.  Comments are
 * validated like strings: UTF-8 and no control characters but tab. */
static int
comment(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->p + 1;
	const unsigned char *e = (const unsigned char *)p->end;
	size_t n;

	for (;;) {
		s = skip_plain(s, e, 0x7f, 0x7f);
		while (s < e && ((*s >= 0x20 && *s < 0x7f) || *s == '\t'))
			s++;
		if (s == e || *s == '\n')
			break;
		if (*s == '\r' && e - s >= 2 && s[1] == '\n')
			break;
		p->p = (const char *)s;
		if (*s < 0x80 || !(n = utf8_len(s, e)))
			return *s < 0x80 ?
			    perr(p, "control character U+%04X in comment", *s) :
			    perr(p, "invalid utf-8 in comment");
		s += n;
	}
	p->p = (const char *)s;
	return 0;
}

/* Whitespace, newlines and comments: what may sit between array elements. */
static int
skip_wsnl(struct parser *p)
{
	for (;;) {
		skip_ws(p);
		if (p->p == p->end)
			return 0;
		if (*p->p == '#') {
			if (comment(p) < 0)
				return -1;
		} else if (*p->p == '\n' || *p->p == '\r') {
			if (newline(p) < 0)
				return -1;
		} else
			return 0;
	}
}

/* After a key/value pair or a header: an optional comment, then the end
 * of the line or of the document. */
static int
end_of_line(struct parser *p, const char *what)
{
	skip_ws(p);
	if (p->p < p->end && *p->p == '#' && comment(p) < 0)
		return -1;
	if (p->p == p->end)
		return 0;
	if (*p->p == '\n' || *p->p == '\r')
		return newline(p);
	return perr(p, "expected newline after %s", what);
}

/* ---- strings ---- */

static void
add_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = 0xC0 | cp >> 6;
		u[1] = 0x80 | (cp & 0x3F);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = 0xE0 | cp >> 12;
		u[1] = 0x80 | (cp >> 6 & 0x3F);
		u[2] = 0x80 | (cp & 0x3F);
		n = 3;
	} else {
		u[0] = 0xF0 | cp >> 18;
		u[1] = 0x80 | (cp >> 12 & 0x3F);
		u[2] = 0x80 | (cp >> 6 & 0x3F);
		u[3] = 0x80 | (cp & 0x3F);
		n = 4;
	}
	buf_add(b, u, n);
}

/* \uXXXX or \UXXXXXXXX at p->p (the backslash): a Unicode scalar value. */
static int
unicode_escape(struct parser *p, struct buf *out, int ndig)
{
	uint32_t cp = 0;
	int i, h;

	if (p->end - p->p < 2 + ndig)
		return perr(p, "\\%c escape needs %d hex digits", p->p[1], ndig);
	for (i = 0; i < ndig; i++) {
		if ((h = kom_hexval((unsigned char)p->p[2 + i])) < 0)
			return perr(p, "\\%c escape needs %d hex digits",
			    p->p[1], ndig);
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return perr(p, "\\%c%.*s is not a unicode scalar value",
		    p->p[1], ndig, p->p + 2);
	add_utf8(out, cp);
	p->p += 2 + ndig;
	return 0;
}

/* An escape sequence at p->p (the backslash) of a basic string. */
static int
escape(struct parser *p, struct buf *out)
{
	int c = p->end - p->p >= 2 ? (unsigned char)p->p[1] : -1;
	const char *rep;

	switch (c) {
	case 'b': rep = "\b"; break;
	case 't': rep = "\t"; break;
	case 'n': rep = "\n"; break;
	case 'f': rep = "\f"; break;
	case 'r': rep = "\r"; break;
	case '"': rep = "\""; break;
	case '\\': rep = "\\"; break;
	case 'u': return unicode_escape(p, out, 4);
	case 'U': return unicode_escape(p, out, 8);
	case -1: return perr(p, "unterminated string");
	default:
		if (c >= 0x20 && c < 0x7f)
			return perr(p, "invalid escape '\\%c' in string", c);
		return perr(p, "invalid escape '\\' followed by byte 0x%02X "
		    "in string", c);
	}
	buf_add(out, rep, 1);
	p->p += 2;
	return 0;
}

/* A byte that can never appear raw in a string: control or non-ASCII. */
static int
bad_string_byte(struct parser *p, struct buf *out, const unsigned char *s)
{
	size_t n;

	p->p = (const char *)s;
	if (*s >= 0x80) {
		if (!(n = utf8_len(s, (const unsigned char *)p->end)))
			return perr(p, "invalid utf-8 in string");
		buf_add(out, s, n);
		p->p += n;
		return 0;
	}
	if (*s == '\n' || *s == '\r')
		return perr(p, "newline in single-line string");
	return perr(p, "control character U+%04X in string", *s);
}

static int
plain_basic(unsigned c)
{
	return (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') || c == '\t';
}

static int
plain_literal(unsigned c)
{
	return (c >= 0x20 && c < 0x7f && c != '\'') || c == '\t';
}

/* "...", p->p just after the opening quote. */
static int
basic_string(struct parser *p, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)p->p;
	const unsigned char *e = (const unsigned char *)p->end;
	const unsigned char *run;

	for (;;) {
		run = s;
		for (s = skip_plain(s, e, '"', '\\'); s < e && plain_basic(*s); s++)
			;
		buf_add(out, run, s - run);
		p->p = (const char *)s;
		if (s == e)
			return perr(p, "unterminated string");
		if (*s == '"') {
			p->p++;
			return 0;
		}
		if (*s == '\\') {
			if (escape(p, out) < 0)
				return -1;
		} else if (bad_string_byte(p, out, s) < 0)
			return -1;
		s = (const unsigned char *)p->p;
	}
}

/* '...', p->p just after the opening quote. */
static int
literal_string(struct parser *p, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)p->p;
	const unsigned char *e = (const unsigned char *)p->end;
	const unsigned char *run;

	for (;;) {
		run = s;
		for (s = skip_plain(s, e, '\'', '\''); s < e && plain_literal(*s);
		    s++)
			;
		buf_add(out, run, s - run);
		p->p = (const char *)s;
		if (s == e)
			return perr(p, "unterminated string");
		if (*s == '\'') {
			p->p++;
			return 0;
		}
		if (bad_string_byte(p, out, s) < 0)
			return -1;
		s = (const unsigned char *)p->p;
	}
}

/* A newline inside a multi-line string is kept as LF whatever the file
 * used, so a value does not change with the checkout's line ends. */
static int
ml_newline(struct parser *p, struct buf *out)
{
	if (newline(p) < 0)
		return -1;
	buf_addc(out, '\n');
	return 0;
}

/* At the closing-quote candidate q: 1 or 2 quotes are content; 3 to 5
 * close the string, the extra ones being content; more is an error. */
static int
ml_quotes(struct parser *p, struct buf *out, char q, int *done)
{
	size_t n = 0, i;

	while (p->p + n < p->end && p->p[n] == q)
		n++;
	if (n > 5)
		return perr(p, "too many quotes in multi-line string");
	*done = n >= 3;
	for (i = *done ? 3 : 0; i < n; i++)
		buf_addc(out, q);
	p->p += n;
	return 0;
}

/* A backslash at the end of a line: drop it, the newline and all
 * whitespace and newlines up to the next other character. */
static int
line_continuation(struct parser *p)
{
	const char *s = p->p + 1;

	while (s < p->end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == p->end || (*s != '\n' && *s != '\r'))
		return 1;
	p->p = s;
	for (;;) {
		skip_ws(p);
		if (p->p == p->end || (*p->p != '\n' && *p->p != '\r'))
			return 0;
		if (newline(p) < 0)
			return -1;
	}
}

/* """...""" or '''...''', p->p just after the opening delimiter. */
static int
ml_string(struct parser *p, struct buf *out, char q)
{
	const unsigned char *s, *run, *e = (const unsigned char *)p->end;
	int done = 0, r;

	if (p->p < p->end && (*p->p == '\n' || *p->p == '\r') && newline(p) < 0)
		return -1;
	for (;;) {
		run = (const unsigned char *)p->p;
		s = skip_plain(run, e, q, q == '"' ? '\\' : q);
		for (; s < e && *s != q && (q == '\'' ? plain_literal(*s) :
		    plain_basic(*s)); s++)
			;
		buf_add(out, run, s - run);
		p->p = (const char *)s;
		if (s == e)
			return perr(p, "unterminated multi-line string");
		if (*s == q) {
			if (ml_quotes(p, out, q, &done) < 0)
				return -1;
			if (done)
				return 0;
		} else if (*s == '\n' || *s == '\r') {
			if (ml_newline(p, out) < 0)
				return -1;
		} else if (*s == '\\' && q == '"') {
			if ((r = line_continuation(p)) < 0)
				return -1;
			if (r > 0 && escape(p, out) < 0)
				return -1;
		} else if (bad_string_byte(p, out, s) < 0)
			return -1;
	}
}

/* Any of the four string kinds at p->p, decoded into out. */
static int
string(struct parser *p, struct buf *out, int allow_ml)
{
	char q = *p->p;

	if (p->end - p->p >= 3 && p->p[1] == q && p->p[2] == q) {
		if (!allow_ml)
			return perr(p, "multi-line string cannot be a key");
		p->p += 3;
		return ml_string(p, out, q);
	}
	p->p++;
	return q == '"' ? basic_string(p, out) : literal_string(p, out);
}

static int
too_deep(struct parser *p)
{
	return perr(p, "nesting too deep (max %d levels)", TOML_MAX_DEPTH);
}

/* What sits at p->p where something else was expected. */
static int
unexpected(struct parser *p, const char *expected)
{
	int c = peek(p);

	if (c == -1)
		return perr(p, "expected %s, found end of input", expected);
	if (c == '\n' || c == '\r')
		return perr(p, "expected %s, found end of line", expected);
	if (c < 0x20 || c == 0x7f)
		return perr(p, "control character U+%04X, expected %s", c,
		    expected);
	if (c >= 0x80)
		return utf8_len((const unsigned char *)p->p,
		    (const unsigned char *)p->end) ?
		    perr(p, "unexpected non-ascii character, expected %s",
		    expected) : perr(p, "invalid utf-8");
	return perr(p, "unexpected '%c', expected %s", c, expected);
}

/* ---- keys ---- */

static int
bare_key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* A possibly dotted key, split into p->part[0 .. p->nparts). */
static int
key_path(struct parser *p)
{
	struct keypart *kp;
	const char *s;
	int c;

	p->nparts = 0;
	buf_reset(&p->keys);
	for (;;) {
		skip_ws(p);
		if (p->nparts >= TOML_MAX_DEPTH)
			return too_deep(p);
		KOM_GROW(p->part, p->nparts + 1, p->partcap);
		kp = &p->part[p->nparts++];
		kp->off = p->keys.len;
		kp->src = NULL;
		kp->line = p->line;
		kp->col = colof(p, p->p);
		c = peek(p);
		if (c == '"' || c == '\'') {
			if (string(p, &p->keys, 0) < 0)
				return -1;
		} else if (c >= 0 && bare_key_char(c)) {
			for (s = p->p; s < p->end && bare_key_char(*s); s++)
				;
			kp->src = p->p;
			kp->len = s - p->p;
			p->p = s;
		} else
			return unexpected(p, "key");
		if (!kp->src)
			kp->len = p->keys.len - kp->off;
		skip_ws(p);
		if (p->p == p->end || *p->p != '.')
			return 0;
		p->p++;
	}
}

static const char *
partkey(const struct parser *p, size_t i)
{
	return p->part[i].src ? p->part[i].src : p->keys.s + p->part[i].off;
}

/* Why an existing value cannot be entered by a dotted key or header. */
static int
not_extensible(struct parser *p, size_t i, const struct toml_kv *kv)
{
	const struct toml_value *v = kv->val;
	char kn[80];

	keyname(kn, sizeof(kn), kv->key, kv->keylen);
	if (v && v->type == TOML_TABLE && (v->u.table.flags & T_INLINE))
		return perr_at(p, p->part[i].line, p->part[i].col,
		    "cannot extend inline table '%s' (defined at %d:%d)",
		    kn, kv->line, kv->col);
	if (v && v->type == TOML_TABLE)
		return perr_at(p, p->part[i].line, p->part[i].col,
		    "cannot add to table '%s' with dotted keys "
		    "(defined at %d:%d)", kn, kv->line, kv->col);
	if (v && v->type == TOML_ARRAY)
		return perr_at(p, p->part[i].line, p->part[i].col,
		    "cannot extend array '%s' (defined at %d:%d)",
		    kn, kv->line, kv->col);
	return perr_at(p, p->part[i].line, p->part[i].col,
	    "key '%s' is not a table (%s defined at %d:%d)", kn,
	    v ? toml_type_name(v->type) : "value", kv->line, kv->col);
}

static int
duplicate(struct parser *p, size_t i, const struct toml_kv *kv)
{
	char kn[80];

	return perr_at(p, p->part[i].line, p->part[i].col,
	    "duplicate key '%s' (first defined at %d:%d)",
	    keyname(kn, sizeof(kn), kv->key, kv->keylen), kv->line, kv->col);
}

/* Resolve a parsed key/value key inside table t at depth: walk or create
 * the dotted tables, and add the last part with no value yet. */
static int
dotted_slot(struct parser *p, struct toml_value *t, int depth, struct slot *out)
{
	struct toml_value *nt;
	struct toml_kv *kv;
	struct keypart *kp;
	size_t i;

	for (i = 0; i + 1 < p->nparts; i++) {
		kp = &p->part[i];
		if (++depth > TOML_MAX_DEPTH)
			return too_deep(p);
		kv = tbl_find(t, partkey(p, i), kp->len);
		if (!kv) {
			nt = new_value(p, TOML_TABLE, kp->line, kp->col);
			nt->u.table.flags = T_DOTTED;
			tbl_add(p, t, partkey(p, i), kp->len, kp->line, kp->col,
			    nt);
			t = nt;
		} else if (kv->val && kv->val->type == TOML_TABLE &&
		    (kv->val->u.table.flags & (T_DOTTED | T_INLINE)) == T_DOTTED)
			t = kv->val;
		else
			return not_extensible(p, i, kv);
	}
	kp = &p->part[i];
	if ((kv = tbl_find(t, partkey(p, i), kp->len)))
		return duplicate(p, i, kv);
	out->t = t;
	out->idx = tbl_add(p, t, partkey(p, i), kp->len, kp->line, kp->col,
	    NULL);
	out->depth = depth + 1;
	return 0;
}

/* ---- scalars ---- */

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
digits(const char *s, const char *e, int n)
{
	int i;

	if (e - s < n)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_digit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* HH:MM:SS[.frac] at s; returns the end or NULL with the error set. */
static const char *
time_part(struct parser *p, const char *s)
{
	if (!digits(s, p->end, 2) || p->end - s < 3 || s[2] != ':' ||
	    !digits(s + 3, p->end, 2) || p->end - s < 6 || s[5] != ':' ||
	    !digits(s + 6, p->end, 2)) {
		perr_at(p, p->line, colof(p, s),
		    "invalid time: expected HH:MM:SS");
		return NULL;
	}
	if (num2(s) > 23 || num2(s + 3) > 59 || num2(s + 6) > 60) {
		perr_at(p, p->line, colof(p, s), "%s out of range in time",
		    num2(s) > 23 ? "hour" : num2(s + 3) > 59 ? "minute" :
		    "second");
		return NULL;
	}
	s += 8;
	if (s < p->end && *s == '.') {
		if (s + 1 == p->end || !is_digit((unsigned char)s[1])) {
			perr_at(p, p->line, colof(p, s),
			    "expected digits after '.' in time");
			return NULL;
		}
		for (s++; s < p->end && is_digit((unsigned char)*s); s++)
			;
	}
	return s;
}

/* Z, or +HH:MM / -HH:MM, at s. */
static const char *
offset_part(struct parser *p, const char *s)
{
	if (s < p->end && (*s == 'Z' || *s == 'z'))
		return s + 1;
	if (!digits(s + 1, p->end, 2) || p->end - s < 6 || s[3] != ':' ||
	    !digits(s + 4, p->end, 2)) {
		perr_at(p, p->line, colof(p, s),
		    "invalid time offset: expected Z or +HH:MM");
		return NULL;
	}
	if (num2(s + 1) > 23 || num2(s + 4) > 59) {
		perr_at(p, p->line, colof(p, s), "time offset out of range");
		return NULL;
	}
	return s + 6;
}

/* A date, date-time or time starting at p->p, known to begin with
 * "DDDD-" (date) or "DD:" (time). */
static struct toml_value *
datetime(struct parser *p, int line, int col)
{
	const char *s = p->p, *t;
	enum toml_type type = TOML_TIME_LOCAL;
	int y, m, d;

	if (s[2] != ':') {
		if (!digits(s + 5, p->end, 2) || p->end - s < 8 || s[7] != '-' ||
		    !digits(s + 8, p->end, 2)) {
			perr(p, "invalid date: expected YYYY-MM-DD");
			return NULL;
		}
		y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + num2(s + 2);
		m = num2(s + 5);
		d = num2(s + 8);
		if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
			perr(p, "%s out of range in date",
			    m < 1 || m > 12 ? "month" : "day");
			return NULL;
		}
		t = s + 10;
		type = TOML_DATE_LOCAL;
		if (t < p->end && (*t == 'T' || *t == 't' || (*t == ' ' &&
		    t + 1 < p->end && is_digit((unsigned char)t[1])))) {
			t++;
			type = TOML_DATETIME_LOCAL;
		}
	} else
		t = s;
	if (type != TOML_DATE_LOCAL) {
		if (!(t = time_part(p, t)))
			return NULL;
		if (type == TOML_DATETIME_LOCAL && t < p->end &&
		    (*t == 'Z' || *t == 'z' || *t == '+' || *t == '-')) {
			if (!(t = offset_part(p, t)))
				return NULL;
			type = TOML_DATETIME;
		}
	}
	p->p = t;
	return new_string(p, type, line, col, s, t - s);
}

/* Digits of base with single '_' between digits, from s to e, into *out.
 * Returns 0, or -1 with a message in *why. */
static int
int_digits(const char *s, const char *e, int base, uint64_t limit,
    uint64_t *out, const char **why)
{
	uint64_t v = 0;
	int d, prev_digit = 0;

	if (s == e) {
		*why = "expected digits";
		return -1;
	}
	for (; s < e; s++) {
		if (*s == '_') {
			if (!prev_digit || s + 1 == e) {
				*why = "'_' must be between digits";
				return -1;
			}
			prev_digit = 0;
			continue;
		}
		d = kom_hexval((unsigned char)*s);
		if (d < 0 || d >= base) {
			*why = "invalid digit in number";
			return -1;
		}
		if (v > (limit - d) / base) {
			*why = "integer out of range";
			return -1;
		}
		v = v * base + d;
		prev_digit = 1;
	}
	*out = v;
	return 0;
}

/* Decimal digits with '_' allowed between them, and no leading zero. */
static int
dec_ok(const char *s, const char *e, int leading_zero_ok)
{
	int prev = 0;

	if (s == e || !is_digit((unsigned char)*s))
		return 0;
	if (!leading_zero_ok && *s == '0' && e - s > 1)
		return 0;
	for (; s < e; s++) {
		if (*s == '_') {
			if (!prev || s + 1 == e)
				return 0;
			prev = 0;
		} else if (is_digit((unsigned char)*s))
			prev = 1;
		else
			return 0;
	}
	return 1;
}

static struct toml_value *
float_value(struct parser *p, const char *s, const char *e, int line, int col)
{
	const char *q = s + (*s == '+' || *s == '-'), *dot, *exp, *ie;
	struct toml_value *v;
	char *end;

	dot = memchr(q, '.', e - q);
	for (exp = q; exp < e && *exp != 'e' && *exp != 'E'; exp++)
		;
	ie = dot ? dot : exp;
	if (dot && dot > exp)
		dot = NULL, ie = exp;
	if (!dec_ok(q, ie, 0) ||
	    (dot && !dec_ok(dot + 1, exp, 1)) ||
	    (exp < e && !dec_ok(exp + 1 + (exp + 1 < e && (exp[1] == '+' ||
	    exp[1] == '-')), e, 1))) {
		perr_at(p, line, col, "invalid float");
		return NULL;
	}
	buf_reset(&p->str);
	for (q = s; q < e; q++)
		if (*q != '_')
			buf_addc(&p->str, *q);
	v = new_value(p, TOML_FLOAT, line, col);
	v->u.f = strtod(p->str.s, &end);
	return v;
}

/* An integer or float: the token is every byte that can belong to one. */
static struct toml_value *
number(struct parser *p, int line, int col)
{
	const char *s = p->p, *e = s, *why = NULL, *q;
	int neg = *s == '-', base = 10;
	struct toml_value *v;
	uint64_t u;

	if (*e == '+' || *e == '-')
		e++;
	for (; e < p->end; e++) {
		if (bare_key_char((unsigned char)*e) && *e != '-')
			continue;
		if (*e == '.' || ((*e == '+' || *e == '-') &&
		    (e[-1] == 'e' || e[-1] == 'E')))
			continue;
		break;
	}
	p->p = e;
	q = s + (*s == '+' || *s == '-');
	if (e - q > 1 && q[0] == '0' && (q[1] == 'x' || q[1] == 'o' ||
	    q[1] == 'b')) {
		base = q[1] == 'x' ? 16 : q[1] == 'o' ? 8 : 2;
		if (q != s) {
			perr_at(p, line, col, "sign not allowed on %s integer",
			    base == 16 ? "hexadecimal" : base == 8 ? "octal" :
			    "binary");
			return NULL;
		}
		q += 2;
	} else if (memchr(q, '.', e - q) || memchr(q, 'e', e - q) ||
	    memchr(q, 'E', e - q))
		return float_value(p, s, e, line, col);
	else if (e - q > 1 && q[0] == '0') {
		perr_at(p, line, col, "leading zero in integer");
		return NULL;
	}
	if (int_digits(q, e, base, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX,
	    &u, &why) < 0) {
		perr_at(p, line, col, "%s", why);
		return NULL;
	}
	v = new_value(p, TOML_INTEGER, line, col);
	v->u.i = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u) :
	    (int64_t)u;
	return v;
}

static int
word(const struct parser *p, const char *w, size_t n)
{
	return (size_t)(p->end - p->p) >= n && !memcmp(p->p, w, n);
}

static struct toml_value *
special(struct parser *p, int line, int col)
{
	struct toml_value *v;
	const char *s = p->p + (*p->p == '+' || *p->p == '-');
	int neg = *p->p == '-';

	if (p->end - s >= 3 && (!memcmp(s, "inf", 3) || !memcmp(s, "nan", 3))) {
		v = new_value(p, TOML_FLOAT, line, col);
		v->u.f = *s == 'i' ? (neg ? -INFINITY : INFINITY) :
		    (neg ? -NAN : NAN);
		p->p = s + 3;
		return v;
	}
	if (*p->p == 't' && word(p, "true", 4)) {
		v = new_value(p, TOML_BOOL, line, col);
		v->u.b = 1;
		p->p += 4;
		return v;
	}
	if (*p->p == 'f' && word(p, "false", 5)) {
		v = new_value(p, TOML_BOOL, line, col);
		p->p += 5;
		return v;
	}
	perr(p, "expected value");
	return NULL;
}

/* Most strings need no decoding: take those straight from the input. */
static struct toml_value *
plain_string(struct parser *p, int line, int col)
{
	const unsigned char *b = (const unsigned char *)p->p + 1, *s;
	const unsigned char *e = (const unsigned char *)p->end;
	unsigned q = (unsigned char)*p->p;

	if (b < e && *b == q)
		return NULL;	/* "" or a multi-line opener: the slow path */
	s = skip_plain(b, e, q, q == '"' ? '\\' : q);
	while (s < e && (q == '"' ? plain_basic(*s) : plain_literal(*s)))
		s++;
	if (s == e || *s != q)
		return NULL;
	p->p = (const char *)s + 1;
	return new_string(p, TOML_STRING, line, col, (const char *)b, s - b);
}

static struct toml_value *
scalar(struct parser *p)
{
	int line = p->line, col = colof(p, p->p), c = peek(p);
	const char *s = p->p;
	struct toml_value *v;

	if (c == '"' || c == '\'') {
		if ((v = plain_string(p, line, col)))
			return v;
		buf_reset(&p->str);
		if (string(p, &p->str, 1) < 0)
			return NULL;
		return new_string(p, TOML_STRING, line, col, p->str.s, p->str.len);
	}
	if (is_digit(c)) {
		if ((digits(s, p->end, 4) && p->end - s > 4 && s[4] == '-') ||
		    (digits(s, p->end, 2) && p->end - s > 2 && s[2] == ':'))
			return datetime(p, line, col);
		return number(p, line, col);
	}
	if ((c == '+' || c == '-') && p->end - s > 1 && is_digit((unsigned char)s[1]))
		return number(p, line, col);
	if (c == '+' || c == '-' || c == 'i' || c == 'n' || c == 't' || c == 'f')
		return special(p, line, col);
	unexpected(p, "value");
	return NULL;
}

/* ---- arrays and inline tables ---- */

static void
push(struct parser *p, struct toml_value *v, int depth)
{
	KOM_GROW(p->stack, p->nstack + 1, p->stackcap);
	p->stack[p->nstack].v = v;
	p->stack[p->nstack].depth = depth;
	p->nstack++;
}

/* "key =" inside an inline table whose frame is f. */
static int
inline_key(struct parser *p, const struct frame *f, struct slot *s)
{
	if (p->p < p->end && *p->p == '}')
		return perr(p, "trailing comma not allowed in inline table");
	if (key_path(p) < 0)
		return -1;
	if (p->p == p->end || *p->p != '=')
		return perr(p, "expected '=' after key");
	p->p++;
	skip_ws(p);
	return dotted_slot(p, f->v, f->depth, s);
}

/* Open an array or inline table at p->p ('[' or '{') placed at s.
 * Returns 1 when the container is still open and s now says where its
 * first element goes, 0 when it was empty and is already closed. */
static int
open_container(struct parser *p, struct slot *s)
{
	int c = *p->p, line = p->line, col = colof(p, p->p);
	struct toml_value *v;

	if (s->depth > TOML_MAX_DEPTH)
		return too_deep(p);
	v = new_value(p, c == '[' ? TOML_ARRAY : TOML_TABLE, line, col);
	if (c == '{')
		v->u.table.flags = T_INLINE | T_DEFINED;
	place(p, s, v);
	p->p++;
	push(p, v, s->depth);
	if (c == '[') {
		if (skip_wsnl(p) < 0)
			return -1;
		if (p->p < p->end && *p->p == ']') {
			p->p++;
			p->nstack--;
			return 0;
		}
		s->t = v;
		s->depth++;
		return 1;
	}
	skip_ws(p);
	if (p->p < p->end && *p->p == '}') {
		p->p++;
		p->nstack--;
		return 0;
	}
	if (inline_key(p, &p->stack[p->nstack - 1], s) < 0)
		return -1;
	return 1;
}

/* After a complete value inside the innermost open container: ',' and
 * the next slot (returns 1), or the closing bracket (pops, returns 0). */
static int
next_in_container(struct parser *p, struct slot *s)
{
	struct frame *f = &p->stack[p->nstack - 1];
	int c;

	if (f->v->type == TOML_ARRAY) {
		if (skip_wsnl(p) < 0)
			return -1;
		c = peek(p);
		if (c == ',') {
			p->p++;
			if (skip_wsnl(p) < 0)
				return -1;
			c = peek(p);
			if (c != ']') {
				s->t = f->v;
				s->depth = f->depth + 1;
				return 1;
			}
		}
		if (c != ']')
			return perr(p, c == -1 ? "unterminated array" :
			    "expected ',' or ']' after array element");
	} else {
		skip_ws(p);
		c = peek(p);
		if (c == ',') {
			p->p++;
			skip_ws(p);
			return inline_key(p, f, s) < 0 ? -1 : 1;
		}
		if (c == '\n' || c == '\r')
			return perr(p, "newline not allowed in inline table");
		if (c != '}')
			return perr(p, c == -1 ? "unterminated inline table" :
			    "expected ',' or '}' after inline table value");
	}
	p->p++;
	p->nstack--;
	return 0;
}

/* One value, however deeply nested, at p->p, placed at s. */
static int
value(struct parser *p, struct slot s)
{
	struct toml_value *v;
	int r;

	p->nstack = 0;
	for (;;) {
		if (p->p < p->end && (*p->p == '[' || *p->p == '{')) {
			if ((r = open_container(p, &s)) < 0)
				return -1;
			if (r)
				continue;
		} else {
			if (!(v = scalar(p)))
				return -1;
			place(p, &s, v);
		}
		for (;;) {
			if (p->nstack == 0)
				return 0;
			if ((r = next_in_container(p, &s)) < 0)
				return -1;
			if (r)
				break;
		}
	}
}

/* ---- the document ---- */

static int
keyval(struct parser *p)
{
	struct slot s;

	if (key_path(p) < 0)
		return -1;
	if (p->p == p->end || *p->p != '=')
		return perr(p, "expected '=' after key");
	p->p++;
	skip_ws(p);
	if (dotted_slot(p, p->cur, p->cur_depth, &s) < 0)
		return -1;
	if (value(p, s) < 0)
		return -1;
	return end_of_line(p, "value");
}

/* Walk the header's parent keys from the root, creating implicit tables;
 * a header may pass through the last table of an array of tables. */
static int
header_parent(struct parser *p, struct toml_value **tp, int *depth)
{
	struct toml_value *t = p->root, *nt, *v;
	struct toml_kv *kv;
	struct keypart *kp;
	size_t i;

	for (i = 0; i + 1 < p->nparts; i++) {
		kp = &p->part[i];
		kv = tbl_find(t, partkey(p, i), kp->len);
		if (!kv) {
			nt = new_value(p, TOML_TABLE, kp->line, kp->col);
			nt->u.table.flags = T_IMPLICIT;
			tbl_add(p, t, partkey(p, i), kp->len, kp->line, kp->col,
			    nt);
			t = nt;
		} else if ((v = kv->val)->type == TOML_TABLE &&
		    !(v->u.table.flags & T_INLINE))
			t = v;
		else if (v->type == TOML_ARRAY && v->u.array.of_tables) {
			t = v->u.array.v[v->u.array.n - 1];
			++*depth;
		} else
			return not_extensible(p, i, kv);
		if (++*depth > TOML_MAX_DEPTH)
			return too_deep(p);
	}
	*tp = t;
	return 0;
}

static int
header(struct parser *p)
{
	int aot, line = p->line, col = colof(p, p->p), depth = 0;
	struct toml_value *t = NULL, *v;
	struct toml_kv *kv;
	struct keypart *kp;
	char kn[80];
	size_t i;

	aot = p->end - p->p >= 2 && p->p[1] == '[';
	p->p += 1 + aot;
	if (key_path(p) < 0)
		return -1;
	if (aot ? !word(p, "]]", 2) : peek(p) != ']')
		return perr(p, aot ? "expected ']]' after array of tables name" :
		    "expected ']' after table name");
	p->p += 1 + aot;
	if (header_parent(p, &t, &depth) < 0)
		return -1;
	if (depth + 1 + aot > TOML_MAX_DEPTH)
		return too_deep(p);
	i = p->nparts - 1;
	kp = &p->part[i];
	kv = tbl_find(t, partkey(p, i), kp->len);
	if (!kv) {
		v = new_value(p, aot ? TOML_ARRAY : TOML_TABLE, line, col);
		tbl_add(p, t, partkey(p, i), kp->len, kp->line, kp->col, v);
	} else if (aot && kv->val->type == TOML_ARRAY &&
	    kv->val->u.array.of_tables)
		v = kv->val;
	else if (!aot && kv->val->type == TOML_TABLE &&
	    kv->val->u.table.flags == T_IMPLICIT) {
		v = kv->val;
		v->line = line;
		v->col = col;
	} else if (kv->val->type == TOML_TABLE &&
	    !(kv->val->u.table.flags & T_INLINE))
		return perr_at(p, line, col, "table '%s' already defined "
		    "at %d:%d", keyname(kn, sizeof(kn), kv->key, kv->keylen),
		    kv->val->line, kv->val->col);
	else if (aot)
		return perr_at(p, line, col, "cannot define array of tables "
		    "'%s': key already defined at %d:%d as %s", keyname(kn,
		    sizeof(kn), kv->key, kv->keylen), kv->line, kv->col,
		    kv->val->u.table.flags & T_INLINE ? "an inline table" :
		    kv->val->type == TOML_ARRAY ? "an array" : "a value");
	else
		return duplicate(p, i, kv);
	if (aot) {
		v->u.array.of_tables = 1;
		arr_add(p, v, new_value(p, TOML_TABLE, line, col));
		v = v->u.array.v[v->u.array.n - 1];
	}
	v->u.table.flags = T_DEFINED;
	p->cur = v;
	p->cur_depth = depth + 1 + aot;
	return end_of_line(p, "table header");
}

static int
document(struct parser *p)
{
	if (p->end - p->p >= 3 && !memcmp(p->p, "\xEF\xBB\xBF", 3))
		p->p += 3, p->bol = p->p;
	for (;;) {
		skip_ws(p);
		if (p->p == p->end)
			return 0;
		switch (*p->p) {
		case '#':
			if (comment(p) < 0)
				return -1;
			break;
		case '\n':
		case '\r':
			if (newline(p) < 0)
				return -1;
			break;
		case '[':
			if (header(p) < 0)
				return -1;
			break;
		default:
			if (keyval(p) < 0)
				return -1;
		}
	}
}

struct toml_value *
toml_parse(const char *data, size_t len, struct toml_error *err)
{
	struct parser p;
	int r;

	memset(&p, 0, sizeof(p));
	p.p = p.bol = data;
	p.end = data + len;
	p.line = 1;
	p.err = err;
	buf_init(&p.keys);
	buf_init(&p.str);
	p.doc = xcalloc(1, sizeof(*p.doc));
	p.doc->next_cap = ARENA_FIRST;
	p.root = p.cur = &p.doc->root;
	p.root->type = TOML_TABLE;
	p.root->line = p.root->col = 1;
	p.root->u.table.flags = T_DEFINED | T_ROOT;
	if (err) {
		err->line = err->col = 0;
		err->msg[0] = '\0';
	}
	r = document(&p);
	buf_free(&p.keys);
	buf_free(&p.str);
	free(p.part);
	free(p.stack);
	if (r < 0) {
		toml_free(p.root);
		return NULL;
	}
	return p.root;
}

void
toml_free(struct toml_value *v)
{
	struct toml_doc *doc;
	struct ablock *b, *next;

	if (!v || v->type != TOML_TABLE || !(v->u.table.flags & T_ROOT))
		return;
	doc = (struct toml_doc *)((char *)v - offsetof(struct toml_doc, root));
	for (b = doc->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

const struct toml_kv *
toml_get_kv(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE || !key)
		return NULL;
	return tbl_find(t, key, strlen(key));
}

const struct toml_value *
toml_get(const struct toml_value *t, const char *key)
{
	const struct toml_kv *kv = toml_get_kv(t, key);

	return kv ? kv->val : NULL;
}

const char *
toml_type_name(enum toml_type t)
{
	static const char *const names[] = {
		[TOML_TABLE] = "table",
		[TOML_ARRAY] = "array",
		[TOML_STRING] = "string",
		[TOML_INTEGER] = "integer",
		[TOML_FLOAT] = "float",
		[TOML_BOOL] = "boolean",
		[TOML_DATETIME] = "datetime",
		[TOML_DATETIME_LOCAL] = "local datetime",
		[TOML_DATE_LOCAL] = "local date",
		[TOML_TIME_LOCAL] = "local time",
	};

	if ((unsigned)t >= KOM_NELEM(names))
		return "unknown";
	return names[t];
}

/*
 * JSON output (toml.h).  toml_json_tree() is the reference: the jansson
 * tree that kom-sync toml printed with json_dumpf(JSON_COMPACT |
 * JSON_PRESERVE_ORDER) until the direct printer below replaced it, kept
 * so that tests and the fuzzer can hold the printer to its bytes.
 */

static const char *
json_tag(enum toml_type t)
{
	switch (t) {
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "bool";
	case TOML_DATETIME: return "datetime";
	case TOML_DATETIME_LOCAL: return "datetime-local";
	case TOML_DATE_LOCAL: return "date-local";
	case TOML_TIME_LOCAL: return "time-local";
	default: return "?";
	}
}

/* RFC 3339 spelling of a date/time into tmp (64 bytes): 'T' between date
 * and time, upper-case 'Z'.  The parser keeps the text as written; only
 * those two letters vary.  Text that does not fit is returned as is. */
static const char *
json_datetime(const struct toml_value *v, char *tmp)
{
	size_t n = v->u.str.len;

	if (n >= 64)
		return v->u.str.s;
	memcpy(tmp, v->u.str.s, n);
	if ((v->type == TOML_DATETIME || v->type == TOML_DATETIME_LOCAL) &&
	    n > 10)
		tmp[10] = 'T';
	if (n > 0 && tmp[n - 1] == 'z')
		tmp[n - 1] = 'Z';
	return tmp;
}

/* A float as toml-test's tagged form spells it. */
static size_t
json_float_text(double f, char *tmp, size_t sz)
{
	const char *s;

	if (isnan(f))
		s = "nan";
	else if (isinf(f))
		s = f < 0 ? "-inf" : "inf";
	else
		return (size_t)snprintf(tmp, sz, "%.17g", f);
	return strlen(memcpy(tmp, s, strlen(s) + 1));
}

static json_t *
tree_text(const struct toml_value *v)
{
	char tmp[64];

	switch (v->type) {
	case TOML_STRING:
		return json_stringn(v->u.str.s, v->u.str.len);
	case TOML_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
		return json_string(tmp);
	case TOML_FLOAT:
		json_float_text(v->u.f, tmp, sizeof(tmp));
		return json_string(tmp);
	case TOML_BOOL:
		return json_string(v->u.b ? "true" : "false");
	default:
		return json_stringn(json_datetime(v, tmp), v->u.str.len);
	}
}

/* Recursion is bounded by TOML_MAX_DEPTH. */
json_t *
toml_json_tree(const struct toml_value *v, int tagged)
{
	json_t *j;
	size_t i;

	switch (v->type) {
	case TOML_TABLE:
		j = json_object();
		for (i = 0; i < v->u.table.n; i++)
			json_object_setn_new_nocheck(j, v->u.table.kv[i].key,
			    v->u.table.kv[i].keylen,
			    toml_json_tree(v->u.table.kv[i].val, tagged));
		return j;
	case TOML_ARRAY:
		j = json_array();
		for (i = 0; i < v->u.array.n; i++)
			json_array_append_new(j,
			    toml_json_tree(v->u.array.v[i], tagged));
		return j;
	default:
		break;
	}
	if (tagged)
		return json_pack("{s:s, s:o}", "type", json_tag(v->type),
		    "value", tree_text(v));
	switch (v->type) {
	case TOML_INTEGER:
		return json_integer(v->u.i);
	case TOML_FLOAT:
		return isfinite(v->u.f) ? json_real(v->u.f) : tree_text(v);
	case TOML_BOOL:
		return json_boolean(v->u.b);
	default:
		return tree_text(v);
	}
}

struct jout {
	struct buf *b;
	int (*flush)(struct buf *, void *);
	void *arg;
};

/* The bytes that jansson writes as an escape; 0 for those it copies. */
static const char json_esc[256] = {
	['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
	['"'] = '"', ['\\'] = '\\',
	[0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u',
	[6] = 'u', [7] = 'u', [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u',
	[17] = 'u', [18] = 'u', [19] = 'u', [20] = 'u', [21] = 'u', [22] = 'u',
	[23] = 'u', [24] = 'u', [25] = 'u', [26] = 'u', [27] = 'u', [28] = 'u',
	[29] = 'u', [30] = 'u', [31] = 'u'
};

static inline void
jroom(struct buf *b, size_t n)
{
	if (b->cap - b->len <= n)
		buf_grow(b, n);
}

static inline void
jput(struct buf *b, const void *p, size_t n)
{
	jroom(b, n);
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * A JSON string the way jansson's encoder writes it without
 * JSON_ENSURE_ASCII: UTF-8 copied (the parser admits only valid UTF-8),
 * '"', '\\' and control characters escaped, the rest as \u00XX in upper
 * case.  Room for the worst case is made once.
 */
static void
jstring(struct buf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	char *o;
	size_t i;

	if (n > (SIZE_MAX - 3) / 6)
		kom_die(KOM_EX_SOFTWARE, "string too long for json");
	jroom(b, 6 * n + 2);
	o = b->s + b->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		char e = json_esc[c];

		if (!e) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		*o++ = e;
		if (e == 'u') {
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '"';
	*o = '\0';
	b->len = (size_t)(o - b->s);
}

static void
jint(struct buf *b, int64_t i)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = i < 0 ? -(uint64_t)i : (uint64_t)i;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (i < 0)
		*--p = '-';
	jput(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * A finite real as jansson 2.14 encodes it (jsonp_dtostr): "%.17g", ".0"
 * added when the text has neither '.' nor 'e', and the exponent stripped
 * of its '+' and leading zeros.
 */
static void
jreal(struct buf *b, double f)
{
	char tmp[40], *e, *p, *q;
	int n = snprintf(tmp, sizeof(tmp) - 2, "%.17g", f);

	if (n < 0 || (size_t)n >= sizeof(tmp) - 2)
		kom_die(KOM_EX_SOFTWARE, "cannot format a float");
	if (!strchr(tmp, '.') && !strchr(tmp, 'e')) {
		memcpy(tmp + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(tmp, 'e'))) {
		p = e + 1;
		if (*p == '-')
			p++;
		for (q = e + 2; *q == '0'; q++)
			;
		if (q != p) {
			memmove(p, q, (size_t)(tmp + n - q) + 1);
			n -= (int)(q - p);
		}
	}
	jput(b, tmp, (size_t)n);
}

static void
jtext(struct buf *b, const struct toml_value *v)
{
	char tmp[64];

	switch (v->type) {
	case TOML_STRING:
		jstring(b, v->u.str.s, v->u.str.len);
		break;
	case TOML_INTEGER:
		jput(b, "\"", 1);
		jint(b, v->u.i);
		jput(b, "\"", 1);
		break;
	case TOML_FLOAT:
		jstring(b, tmp, json_float_text(v->u.f, tmp, sizeof(tmp)));
		break;
	case TOML_BOOL:
		jstring(b, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
		break;
	default:
		jstring(b, json_datetime(v, tmp), v->u.str.len);
		break;
	}
}

static void
jscalar(struct buf *b, const struct toml_value *v, int tagged)
{
	const char *tag;

	if (tagged) {
		tag = json_tag(v->type);
		jput(b, "{\"type\":\"", 9);
		jput(b, tag, strlen(tag));
		jput(b, "\",\"value\":", 10);
		jtext(b, v);
		jput(b, "}", 1);
		return;
	}
	switch (v->type) {
	case TOML_INTEGER:
		jint(b, v->u.i);
		break;
	case TOML_FLOAT:
		if (isfinite(v->u.f))
			jreal(b, v->u.f);
		else
			jtext(b, v);
		break;
	case TOML_BOOL:
		if (v->u.b)
			jput(b, "true", 4);
		else
			jput(b, "false", 5);
		break;
	default:
		jtext(b, v);
		break;
	}
}

static int
jflush(struct jout *o)
{
	if (o->flush && o->b->len >= TOML_JSON_CHUNK)
		return o->flush(o->b, o->arg);
	return 0;
}

/* Recursion is bounded by TOML_MAX_DEPTH. */
static int
jvalue(struct jout *o, const struct toml_value *v, int tagged)
{
	size_t i;

	if (v->type == TOML_TABLE) {
		jput(o->b, "{", 1);
		for (i = 0; i < v->u.table.n; i++) {
			if (i)
				jput(o->b, ",", 1);
			jstring(o->b, v->u.table.kv[i].key,
			    v->u.table.kv[i].keylen);
			jput(o->b, ":", 1);
			if (jvalue(o, v->u.table.kv[i].val, tagged) < 0 ||
			    jflush(o) < 0)
				return -1;
		}
		jput(o->b, "}", 1);
		return 0;
	}
	if (v->type == TOML_ARRAY) {
		jput(o->b, "[", 1);
		for (i = 0; i < v->u.array.n; i++) {
			if (i)
				jput(o->b, ",", 1);
			if (jvalue(o, v->u.array.v[i], tagged) < 0 ||
			    jflush(o) < 0)
				return -1;
		}
		jput(o->b, "]", 1);
		return 0;
	}
	jscalar(o->b, v, tagged);
	return 0;
}

int
toml_json(const struct toml_value *v, int tagged, struct buf *out,
    int (*flush)(struct buf *, void *), void *arg)
{
	struct jout o = { out, flush, arg };

	return jvalue(&o, v, tagged);
}
