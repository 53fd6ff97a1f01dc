/* Unit tests: lib/jsonl (records, the end rule, caps, errors). */
#include <stdio.h>
#include <string.h>

#include "jsonl.h"
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

int
main(void)
{
	struct jsonl_reader r;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *fp;
	int n;

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
	return done_testing();
}
