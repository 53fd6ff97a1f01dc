/*
 * jsonl: JSON lines in and out (jsonl.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "jsonl.h"
#include "util.h"
#include "banned.h"

void
jsonl_reader_init(struct jsonl_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name;
	r->max = JSONL_MAX_LINE;
	buf_init(&r->buf);
}

void
jsonl_reader_free(struct jsonl_reader *r)
{
	json_decref(r->end);
	r->end = NULL;
	buf_free(&r->buf);
}

static int
too_long(struct jsonl_reader *r)
{
	kom_warn("%s:%ld: record longer than %zu bytes", r->name, r->line + 1,
	    r->max);
	return -1;
}

static int
over_limit(struct jsonl_reader *r, long line)
{
	kom_warn("%s:%ld: input longer than %zu bytes", r->name, line,
	    r->limit);
	return -1;
}

/*
 * Read one line without its '\n' into r->buf: 1, 0 at EOF, -1 error.
 * getc_unlocked straight into the buffer keeps this cheap per byte; the
 * cap bounds what one line may cost in memory.
 */
static int
read_line(struct jsonl_reader *r)
{
	struct buf *b = &r->buf;
	int c = EOF;

	buf_reset(b);
	for (;;) {
		size_t room;

		if (b->cap - b->len < 4096)
			buf_grow(b, b->cap > 4096 ? b->cap : 4096); /* doubles */
		room = b->cap - b->len - 1;
		while (room-- && (c = getc_unlocked(r->fp)) != EOF && c != '\n')
			b->s[b->len++] = (char)c;
		b->s[b->len] = '\0';
		if (c == EOF || c == '\n')
			break;
		if (b->len > r->max)
			return too_long(r);
	}
	if (ferror(r->fp)) {
		kom_warne("%s: read error", r->name);
		return -1;
	}
	if (b->len > r->max)
		return too_long(r);
	if (c == EOF && b->len == 0)
		return 0;
	r->total += b->len + (c == '\n');
	if (r->limit && r->total > r->limit)
		return over_limit(r, r->line + 1);
	r->line++;
	if (c == EOF) {
		kom_warn("%s:%ld: truncated input: last line has no newline",
		    r->name, r->line);
		return -1;
	}
	return 1;
}

/* The next line of a slurped stream, the same way: 1, 0 at EOF, -1. */
static int
take_line(struct jsonl_reader *r, const char **s, size_t *len)
{
	const char *p = r->buf.s + r->pos, *e;
	size_t rest = r->buf.len - r->pos;

	if (rest == 0 || (e = memchr(p, '\n', rest)) == NULL) {
		if (r->rerr) {
			errno = r->rerr;
			kom_warne("%s: read error", r->name);
			return -1;
		}
		if (rest == 0)
			return 0;
		if (rest > r->max)
			return too_long(r);
		r->line++;
		kom_warn("%s:%ld: truncated input: last line has no newline",
		    r->name, r->line);
		return -1;
	}
	if ((size_t)(e - p) > r->max)
		return too_long(r);
	r->line++;
	r->pos += (size_t)(e - p) + 1;
	*s = p;
	*len = (size_t)(e - p);
	return 1;
}

int
jsonl_next_line(struct jsonl_reader *r, const char **s, size_t *len)
{
	int n;

	for (;;) {
		if (r->whole) {
			n = take_line(r, s, len);
		} else if ((n = read_line(r)) > 0) {
			*s = r->buf.s;
			*len = r->buf.len;
		}
		if (n < 0)
			return -1;
		if (n == 0) {
			if (r->ended)
				return 0;
			kom_warn("%s:%ld: truncated input: no end record",
			    r->name, r->line);
			return -1;
		}
		if (*len == 0)
			continue;
		if (r->ended) {
			kom_warn("%s:%ld: data after the end record",
			    r->name, r->line);
			return -1;
		}
		return 1;
	}
}

void
jsonl_end(struct jsonl_reader *r)
{
	r->ended = 1;
}

/* Line s as a record into *rec: 0, or -1 after the message. */
static int
parse_line(struct jsonl_reader *r, const char *s, size_t len, json_t **rec)
{
	json_error_t jerr;
	json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);

	*rec = NULL;
	if (!j) {
		kom_warn("%s:%ld:%d: invalid JSON: %s", r->name, r->line,
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(j) || !json_is_string(json_object_get(j,
	    "kind"))) {
		kom_warn("%s:%ld: record is not an object with a \"kind\"",
		    r->name, r->line);
		json_decref(j);
		return -1;
	}
	*rec = j;
	return 0;
}

int
jsonl_check_line(struct jsonl_reader *r, const char *s, size_t len)
{
	json_t *j;

	if (parse_line(r, s, len, &j) < 0)
		return -1;
	json_decref(j);
	return 0;
}

int
jsonl_next(struct jsonl_reader *r, json_t **rec)
{
	const char *s;
	size_t len;
	json_t *j;
	int n;

	*rec = NULL;
	for (;;) {
		if ((n = jsonl_next_line(r, &s, &len)) <= 0)
			return n;
		if (parse_line(r, s, len, &j) < 0)
			return -1;
		if (strcmp(jsonl_kind(j), "end") == 0) {
			r->end = j;
			jsonl_end(r);
			continue;	/* EOF must follow */
		}
		if (strcmp(jsonl_kind(j), "error") == 0)
			r->errors++;
		*rec = j;
		return 1;
	}
}

long
jsonl_slurp(struct jsonl_reader *r)
{
	struct buf *t = &r->buf;
	struct stat sb;
	size_t got, want, lim = r->limit ? r->limit : SIZE_MAX - 1;
	long nl = 0;
	const char *q, *e, *p;

	buf_reset(t);
	if (fstat(fileno(r->fp), &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size > 0)
		buf_grow(t, (size_t)sb.st_size < lim ? (size_t)sb.st_size + 1 :
		    lim + 1);
	for (;;) {
		if (t->cap - t->len < 4096)
			buf_grow(t, t->cap > 4096 ? t->cap : 4096);	/* doubles */
		want = t->cap - t->len - 1;
		if (want > lim + 1 - t->len)
			want = lim + 1 - t->len;
		got = fread(t->s + t->len, 1, want, r->fp);
		t->len += got;
		t->s[t->len] = '\0';
		if (t->len > lim) {
			for (q = t->s, e = t->s + lim; (q = memchr(q, '\n',
			    (size_t)(e - q))) != NULL; q++)
				nl++;
			return over_limit(r, r->line + nl + 1);
		}
		if (got == 0)
			break;
	}
	if (ferror(r->fp))
		r->rerr = errno ? errno : EIO;
	r->whole = 1;
	r->pos = 0;
	r->total = t->len;
	for (q = t->s, e = t->s + t->len; (p = memchr(q, '\n',
	    (size_t)(e - q))) != NULL; q = p + 1)
		nl += p > q;
	return nl;
}

const char *
jsonl_kind(const json_t *rec)
{
	return jsonl_str(rec, "kind", "");
}

const char *
jsonl_str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

int
jsonl_write(FILE *fp, const json_t *rec)
{
	if (json_dumpf(rec, fp, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 ||
	    putc('\n', fp) == EOF)
		return -1;
	return 0;
}

char *
jsonl_dumps(const json_t *v, size_t flags)
{
	size_t n = json_dumpb(v, NULL, 0, flags);
	char *s;

	if (!n)
		return NULL;
	s = xmalloc(n + 1);
	if (json_dumpb(v, s, n, flags) != n) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

int
jsonl_write_steal(FILE *fp, json_t *rec)
{
	int rc = jsonl_write(fp, rec);

	json_decref(rec);
	return rc;
}

int
jsonl_write_error(FILE *fp, const char *msg)
{
	return jsonl_write_steal(fp, json_pack("{s:s,s:s,s:s}", "kind",
	    "error", "program", program_invocation_short_name, "message", msg));
}
