/*
 * fuzz/jsonl: libFuzzer target for lib/jsonl, the reader of every JSON
 * lines stream, differential between its ways of reading:
 *
 *	make tests/fuzz/jsonl
 *	sh tests/fuzz/run 300 tests/fuzz/jsonl
 *
 * The first byte picks a line cap (and a stream limit just under the
 * stream's length), the rest is the stream.  jsonl_next line by line,
 * jsonl_next after jsonl_slurp, and the raw lines (jsonl_next_line,
 * jsonl_check_line, jsonl_end) streamed and slurped must give the same
 * result, the same records up to the first error, and byte for byte the
 * same message (over a limit: the streamed ways alike, the slurped ways
 * alike, refusing the stream at once).  kom-plan's way (raw lines
 * skimmed with lib/jsonskim, jansson's words only for a line it refuses)
 * must agree too, except on a NUL byte (jsonskim always refuses one,
 * jansson sometimes reads past it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "jsonl.h"
#include "jsonskim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

enum way { NEXT, NEXT_SLURP, RAW, RAW_SLURP, SKIM, NWAYS };

struct outcome {
	int rc;
	long records;
	char *msg;	/* what went to stderr */
	size_t msglen;
	struct buf kinds;	/* the kinds returned, one a line */
};

static void
read_one(const uint8_t *text, size_t len, enum way w, size_t max,
    size_t limit, struct outcome *o)
{
	FILE *fp = fmemopen((void *)text, len, "r"), *saved = stderr;
	struct jsonl_reader r;
	struct jsonskim sk;
	struct buf kind = BUF_INIT;
	const struct jsonskim_member *km;
	const char *s;
	size_t n;
	json_t *rec;
	int rc = 0;

	memset(o, 0, sizeof(*o));
	buf_init(&o->kinds);
	if (fp == NULL) {	/* fmemopen refuses a zero size */
		fp = fopen("/dev/null", "r");
		CHECK(fp != NULL);
	}
	stderr = open_memstream(&o->msg, &o->msglen);
	CHECK(stderr != NULL);
	jsonl_reader_init(&r, fp, "in");
	jsonskim_init(&sk);
	r.max = max;
	r.limit = limit;
	if (w == NEXT_SLURP || w == RAW_SLURP || w == SKIM)
		rc = jsonl_slurp(&r) < 0 ? -1 : 0;
	while (rc == 0) {
		if (w == NEXT || w == NEXT_SLURP) {
			if ((rc = jsonl_next(&r, &rec)) != 1)
				break;
			buf_printf(&o->kinds, "%s\n", jsonl_kind(rec));
			json_decref(rec);
			o->records++;
			rc = 0;
			continue;
		}
		if ((rc = jsonl_next_line(&r, &s, &n)) != 1)
			break;
		rc = 0;
		if (w == SKIM) {
			if (jsonskim_object(&sk, s, n) < 0) {
				if (jsonl_check_line(&r, s, n) == 0)
					fprintf(stderr, "skim: %s\n", sk.err);
				rc = -1;
				break;
			}
			km = jsonskim_get(&sk, s, "kind");
			if (!km || jsonskim_string(s + km->voff, km->vlen,
			    &kind) < 0) {
				if (jsonl_check_line(&r, s, n) == 0)
					fprintf(stderr, "skim: no kind\n");
				rc = -1;
				break;
			}
		} else {
			if (jsonl_check_line(&r, s, n) < 0) {
				rc = -1;
				break;
			}
			rec = json_loadb(s, n, 0, NULL);
			CHECK(rec != NULL);
			buf_reset(&kind);
			buf_adds(&kind, jsonl_kind(rec));
			json_decref(rec);
		}
		if (strcmp(kind.s, "end") == 0) {
			jsonl_end(&r);
		} else {
			buf_printf(&o->kinds, "%s\n", kind.s);
			o->records++;
		}
	}
	o->rc = rc;
	fclose(stderr);
	stderr = saved;
	jsonskim_free(&sk);
	jsonl_reader_free(&r);
	buf_free(&kind);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome o[NWAYS];
	size_t max, limit;
	int nul;

	if (size == 0)
		return 0;
	/* line caps from 1 byte up, limits around the stream's length */
	max = data[0] & 0x80 ? JSONL_MAX_LINE : (size_t)(data[0] & 0x3f) + 1;
	limit = data[0] & 0x40;
	data++;
	size--;
	limit = limit && size > 1 ? size - 1 : 0;	/* one byte short */
	nul = memchr(data, '\0', size) != NULL;
	for (int w = NEXT; w < NWAYS; w++)
		read_one(data, size, (enum way)w, max, limit, &o[w]);
	for (int w = NEXT_SLURP; w < NWAYS; w++) {
		/* over a limit, slurping refuses the stream before any line,
		   streaming only once it gets there: compare like with like */
		int ref = limit && w != RAW ? NEXT_SLURP : NEXT;

		if (w == ref || (w == SKIM && nul))
			continue;
		CHECK(o[w].rc == o[ref].rc);
		CHECK(o[w].msglen == o[ref].msglen &&
		    memcmp(o[w].msg, o[ref].msg, o[w].msglen) == 0);
		CHECK(o[w].records == o[ref].records);
		CHECK(strcmp(o[w].kinds.s, o[ref].kinds.s) == 0);
	}
	if (limit)
		CHECK(o[NEXT_SLURP].rc < 0 && o[NEXT_SLURP].records == 0 &&
		    strstr(o[NEXT_SLURP].msg, ": input longer than ") != NULL);
	for (int w = NEXT; w < NWAYS; w++) {
		/* one line per message, and every failure says why */
		CHECK((o[w].rc < 0) == (o[w].msglen > 0) || (w == SKIM && nul));
		free(o[w].msg);
		buf_free(&o[w].kinds);
	}
	return 0;
}
