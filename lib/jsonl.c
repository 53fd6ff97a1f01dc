#include <errno.h>
#include <string.h>

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

		buf_grow(b, 65536);
		room = b->cap - b->len - 1;
		while (room-- && (c = getc_unlocked(r->fp)) != EOF && c != '\n')
			b->s[b->len++] = (char)c;
		b->s[b->len] = '\0';
		if (c == EOF || c == '\n')
			break;
		if (b->len > r->max) {
			kom_warn("%s:%ld: record longer than %zu bytes",
			    r->name, r->line + 1, r->max);
			return -1;
		}
	}
	if (ferror(r->fp)) {
		kom_warne("%s: read error", r->name);
		return -1;
	}
	if (b->len > r->max) {
		kom_warn("%s:%ld: record longer than %zu bytes",
		    r->name, r->line + 1, r->max);
		return -1;
	}
	if (c == EOF && b->len == 0)
		return 0;
	r->line++;
	if (c == EOF) {
		kom_warn("%s:%ld: truncated input: last line has no newline",
		    r->name, r->line);
		return -1;
	}
	return 1;
}

int
jsonl_next(struct jsonl_reader *r, json_t **rec)
{
	json_error_t jerr;
	json_t *j;
	int n;

	*rec = NULL;
	for (;;) {
		if ((n = read_line(r)) < 0)
			return -1;
		if (n == 0) {
			if (r->end)
				return 0;
			kom_warn("%s:%ld: truncated input: no end record",
			    r->name, r->line);
			return -1;
		}
		if (r->buf.len == 0)
			continue;
		if (r->end) {
			kom_warn("%s:%ld: data after the end record",
			    r->name, r->line);
			return -1;
		}
		j = json_loadb(r->buf.s, r->buf.len, JSON_REJECT_DUPLICATES,
		    &jerr);
		if (!j) {
			kom_warn("%s:%ld:%d: invalid JSON: %s", r->name,
			    r->line, jerr.column, jerr.text);
			return -1;
		}
		if (!json_is_object(j) || !json_is_string(json_object_get(j,
		    "kind"))) {
			kom_warn("%s:%ld: record is not an object with a "
			    "\"kind\"", r->name, r->line);
			json_decref(j);
			return -1;
		}
		if (strcmp(jsonl_kind(j), "end") == 0) {
			r->end = j;
			continue;	/* EOF must follow */
		}
		if (strcmp(jsonl_kind(j), "error") == 0)
			r->errors++;
		*rec = j;
		return 1;
	}
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
