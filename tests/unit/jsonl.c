/* Unit tests: lib/jsonl (records, the end rule, caps, errors). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "jsonl.h"
#include "util.h"
#include "tap.h"

/* Read all of text; returns the last jsonl_next result, counts records. */
static int
read_all(const char *text, int *nrec, struct jsonl_reader *r, size_t max)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	json_t *rec;
	int rc;

	jsonl_reader_init(r, fp, "in");
	if (max)
		r->max = max;
	*nrec = 0;
	while ((rc = jsonl_next(r, &rec)) == 1) {
		(*nrec)++;
		json_decref(rec);
	}
	fclose(fp);
	return rc;
}

/*
 * The four ways to read a stream: jsonl_next line by line or after
 * jsonl_slurp, and raw lines checked as kom-plan does (jsonl_next_line,
 * jsonl_check_line, jsonl_end on the end record), streamed or slurped.
 */
enum way { NEXT, NEXT_SLURP, RAW, RAW_SLURP };
static const char *const way_name[] = { "jsonl_next", "slurp+jsonl_next",
    "jsonl_next_line", "slurp+jsonl_next_line" };

/* Read text one way: the result, the records and stderr's lines. */
static int
read_way(const char *text, size_t textlen, enum way w, size_t max,
    size_t limit, int *nrec, struct buf *msgs)
{
	FILE *fp = fmemopen((void *)text, textlen, "r"), *errf = tmpfile();
	struct jsonl_reader r;
	const char *s;
	size_t len;
	json_t *rec, *j;
	int rc = 0, saved = dup(2);

	fflush(stderr);
	dup2(fileno(errf), 2);
	jsonl_reader_init(&r, fp, "in");
	if (max)
		r.max = max;
	r.limit = limit;
	*nrec = 0;
	if ((w == NEXT_SLURP || w == RAW_SLURP) && jsonl_slurp(&r) < 0)
		rc = -1;
	while (rc == 0 && (w == NEXT || w == NEXT_SLURP)) {
		if ((rc = jsonl_next(&r, &rec)) == 1) {
			(*nrec)++;
			json_decref(rec);
			rc = 0;
		} else {
			break;
		}
	}
	while (rc == 0 && (w == RAW || w == RAW_SLURP)) {
		if ((rc = jsonl_next_line(&r, &s, &len)) != 1)
			break;
		rc = 0;
		if (jsonl_check_line(&r, s, len) < 0) {
			rc = -1;
			break;
		}
		j = json_loadb(s, len, 0, NULL);
		if (strcmp(jsonl_kind(j), "end") == 0)
			jsonl_end(&r);
		else
			(*nrec)++;
		json_decref(j);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(errf);
	buf_reset(msgs);
	file_read_fd(fileno(errf), msgs, 1 << 20);
	fclose(errf);
	fclose(fp);
	jsonl_reader_free(&r);
	return rc;
}

/* Every way gives the same result, records and message as jsonl_next. */
static void
same_ways(const char *what, const char *text, size_t textlen, size_t max,
    size_t limit, int want_rc, const char *want_msg)
{
	struct buf m = BUF_INIT;
	int n, n0 = -1;

	if (textlen == SIZE_MAX)
		textlen = strlen(text);

	for (int w = NEXT; w <= RAW_SLURP; w++) {
		int rc = read_way(text, textlen, (enum way)w, max, limit, &n,
		    &m);

		if (w == NEXT)
			n0 = n;
		/* slurping refuses a stream over the limit before any record */
		if (!ok(rc == want_rc && (n == n0 || (limit && w % 2)) &&
		    strcmp(m.s, want_msg) == 0,
		    "%s: %s", what, way_name[w]))
			diag("rc %d, %d records (want %d, %d): '%s', want '%s'",
			    rc, n, want_rc, n0, m.s, want_msg);
	}
	buf_free(&m);
}

static void
test_ways(void)
{
	static const char nul[] = "{\"kind\":\"a\",\"s\":\"\0\"}\n"
	    "{\"kind\":\"end\"}\n";

	same_ways("complete", "{\"kind\":\"a\"}\n\n{\"kind\":\"end\"}\n",
	    SIZE_MAX, 0, 0, 0, "");
	same_ways("no end", "{\"kind\":\"a\"}\n", SIZE_MAX, 0, 0, -1,
	    "jsonl.t: in:1: truncated input: no end record\n");
	same_ways("empty", "", 0, 0, 0, -1,
	    "jsonl.t: in:0: truncated input: no end record\n");
	same_ways("no newline", "{\"kind\":\"a\"}\n{\"kind\":\"end\"}",
	    SIZE_MAX, 0, 0, -1,
	    "jsonl.t: in:2: truncated input: last line has no newline\n");
	same_ways("after end", "{\"kind\":\"end\"}\n\n{\"kind\":\"a\"}\n",
	    SIZE_MAX, 0, 0, -1, "jsonl.t: in:3: data after the end record\n");
	same_ways("invalid", "{\"kind\":\"a\"\n", SIZE_MAX, 0, 0, -1,
	    "jsonl.t: in:1:11: invalid JSON: '}' expected near end of file\n");
	same_ways("no kind", "\n{\"k\":1}\n", SIZE_MAX, 0, 0, -1,
	    "jsonl.t: in:2: record is not an object with a \"kind\"\n");
	same_ways("an array", "[1]\n", SIZE_MAX, 0, 0, -1,
	    "jsonl.t: in:1: record is not an object with a \"kind\"\n");
	same_ways("a NUL byte", nul, sizeof(nul) - 1, 0, 0, -1,
	    "jsonl.t: in:1:17: invalid JSON: control character 0x0 near "
	    "'\"'\n");
	same_ways("long line", "{\"kind\":\"a\"}\n{\"kind\":\"a\",\"x\":1}\n",
	    SIZE_MAX, 14, 0, -1, "jsonl.t: in:2: record longer than 14 "
	    "bytes\n");
	same_ways("long last line", "{\"kind\":\"end\"}\n{\"kind\":\"abcd\"}",
	    SIZE_MAX, 14, 0, -1, "jsonl.t: in:2: record longer than 14 "
	    "bytes\n");
	same_ways("at the limit", "{\"kind\":\"a\"}\n{\"kind\":\"end\"}\n",
	    SIZE_MAX, 0, 28, 0, "");
	same_ways("over the limit", "{\"kind\":\"a\"}\n{\"kind\":\"end\"}\n",
	    SIZE_MAX, 0, 27, -1, "jsonl.t: in:2: input longer than 27 "
	    "bytes\n");
}

/* jsonl_dumps gives json_dumps' bytes, in memory the caller free()s,
 * even when jansson has an allocator of its own (here one whose memory
 * free() would reject: it hands out 16 bytes into a malloc'd block). */
static void *
offset_malloc(size_t n)
{
	char *p = malloc(n + 16);

	return p ? p + 16 : NULL;
}

static void
offset_free(void *p)
{
	if (p)
		free((char *)p - 16);
}

static void
test_dumps(void)
{
	static const char *const docs[] = { "{\"a\":[1,2.5,\"x\\u00e9\"],"
		"\"b\":{\"c\":null,\"d\":true}}", "[]", "\"\\u0001/\"",
		"{\"z\":1,\"a\":2}" };
	const size_t flags[] = { JSON_COMPACT, JSON_COMPACT | JSON_SORT_KEYS,
		JSON_INDENT(2), JSON_COMPACT | JSON_ENCODE_ANY };
	size_t i, k;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_t *v = json_loads(docs[i], JSON_DECODE_ANY, NULL);

		for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
			char *want = json_dumps(v, flags[k]);
			char *got = jsonl_dumps(v, flags[k]);

			is_str(got, want, "jsonl_dumps %zu, flags %zu", i, k);
			free(got);
			free(want);
		}
		json_decref(v);
	}
	json_set_alloc_funcs(offset_malloc, offset_free);
	{
		json_t *v = json_pack("{s:[i,s]}", "a", 1, "b");
		char *s = jsonl_dumps(v, JSON_COMPACT);

		is_str(s, "{\"a\":[1,\"b\"]}",
		    "jsonl_dumps with another allocator");
		free(s);	/* crashes if s were jansson's */
		json_decref(v);
	}
	json_set_alloc_funcs(malloc, free);
}

int
main(void)
{
	struct jsonl_reader r;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *fp;
	int n;

	test_dumps();
	is_int(read_all("{\"kind\":\"a\"}\n{\"kind\":\"b\"}\n"
	    "{\"kind\":\"end\",\"n\":2}\n", &n, &r, 0), 0,
	    "a complete stream ends with 0");
	is_int(n, 2, "two records before end");
	is_int(json_integer_value(json_object_get(r.end, "n")), 2,
	    "the end record is kept");
	jsonl_reader_free(&r);

	is_int(read_all("{\"kind\":\"a\"}\n", &n, &r, 0), -1,
	    "EOF without end is truncated");
	jsonl_reader_free(&r);
	is_int(read_all("", &n, &r, 0), -1, "empty input is truncated");
	jsonl_reader_free(&r);
	is_int(read_all("{\"kind\":\"a\"}\n{\"kind\":\"end\"}", &n, &r, 0), -1,
	    "a last line without newline is truncated");
	jsonl_reader_free(&r);
	is_int(read_all("{\"kind\":\"end\"}\n{\"kind\":\"a\"}\n", &n, &r, 0),
	    -1, "data after end is an error");
	jsonl_reader_free(&r);
	is_int(read_all("{\"kind\":\"a\"\n{\"kind\":\"end\"}\n", &n, &r, 0),
	    -1, "invalid JSON is an error");
	jsonl_reader_free(&r);
	is_int(read_all("[1]\n{\"kind\":\"end\"}\n", &n, &r, 0), -1,
	    "a record must be an object");
	jsonl_reader_free(&r);
	is_int(read_all("{\"k\":1}\n{\"kind\":\"end\"}\n", &n, &r, 0), -1,
	    "a record must have a kind");
	jsonl_reader_free(&r);
	is_int(read_all("{\"kind\":\"a\",\"x\":\"0123456789\"}\n"
	    "{\"kind\":\"end\"}\n", &n, &r, 10), -1, "a line over the cap");
	jsonl_reader_free(&r);
	is_int(read_all("\n{\"kind\":\"error\",\"message\":\"m\"}\n\n"
	    "{\"kind\":\"end\"}\n", &n, &r, 0), 0, "blank lines are skipped");
	is_int(r.errors, 1, "error records are counted");
	is_int(n, 1, "and returned");
	jsonl_reader_free(&r);

	fp = open_memstream(&mem, &memlen);
	jsonl_write_steal(fp, json_pack("{s:s,s:i,s:s}", "kind", "x", "n", 1,
	    "s", "a\nb"));
	jsonl_write_error(fp, "boom");
	fclose(fp);
	is_str(mem, "{\"kind\":\"x\",\"n\":1,\"s\":\"a\\nb\"}\n"
	    "{\"kind\":\"error\",\"program\":\"jsonl.t\",\"message\":\"boom\"}\n",
	    "written compact, one per line, in order");
	free(mem);
	test_ways();
	return done_testing();
}
