/*
 * diff_json: the records of kom-sync diff as JSON lines (diff.h:
 * diff_write_records, diff_format_records, diff_end_record).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diff.h"
#include "diff_int.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

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
diff_format_one(const json_t *r, struct buf *out)
{
	size_t mark = out->len;

	if (put_json(out, r) < 0) {
		/* what jansson makes of it, or the error it gives */
		char *s = jsonl_dumps(r, JSON_COMPACT);

		if (!s)
			kom_die(KOM_EX_SOFTWARE, "cannot encode a record");
		buf_truncate(out, mark);
		buf_adds(out, s);
		free(s);
	}
	putc1(out, '\n');
}

void
diff_format_records(const json_t *records, size_t from, size_t to,
    struct buf *out)
{
	size_t i;

	for (i = from; i < to && i < json_array_size(records); i++)
		diff_format_one(json_array_get(records, i), out);
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
