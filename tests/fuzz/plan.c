/*
 * fuzz/plan: libFuzzer target for kom-plan's reading of kom-sync's
 * stream and the planning behind it: resource records skimmed into the
 * plan (lib/jsonskim, plan_add_skimmed), status records (plan_add_status),
 * then plan_build, or plan_procedure when the first byte is odd (its
 * next bits pick the procedure's name), and plan_write.
 *
 *	make tests/fuzz/plan
 *	sh tests/fuzz/run 300 tests/fuzz/plan
 *
 * The first byte picks the job, the rest is the stream, read as kom-plan
 * reads it (jsonl_slurp, jsonl_next_line).  Whatever the stream, the plan
 * must either be made or fail with a message; what it writes must be JSON
 * lines of "step" records with ids 1..n in order, as many as plan_write
 * says; nothing may crash, leak or trip the sanitizers.
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
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Read the stream into p: 0, or -1 when jsonl or jsonskim refused it. */
static int
read_stream(const uint8_t *data, size_t size, struct plan *p,
    struct buf *err)
{
	FILE *fp = fmemopen((void *)data, size, "r"), *saved = stderr;
	char *msg = NULL;
	size_t msglen = 0, len;
	struct jsonl_reader r;
	struct jsonskim sk;
	struct buf kind = BUF_INIT;
	const struct jsonskim_member *km;
	const char *s;
	json_t *j;
	int n = -1;

	if (fp == NULL)
		return -1;
	stderr = open_memstream(&msg, &msglen);
	CHECK(stderr != NULL);
	jsonl_reader_init(&r, fp, "in");
	jsonskim_init(&sk);
	if (jsonl_slurp(&r) < 0)
		goto out;
	while ((n = jsonl_next_line(&r, &s, &len)) > 0) {
		if (jsonskim_object(&sk, s, len) < 0 ||
		    (km = jsonskim_get(&sk, s, "kind")) == NULL ||
		    jsonskim_string(s + km->voff, km->vlen, &kind) < 0) {
			/* as kom-plan: jansson's words, else the skimmer's */
			if (jsonl_check_line(&r, s, len) == 0)
				fprintf(stderr, "skim: %s\n", sk.err ? sk.err :
				    "no kind");
			n = -1;
			break;
		}
		if (strcmp(kind.s, "end") == 0) {
			jsonl_end(&r);
		} else if (strcmp(kind.s, "resource") == 0) {
			plan_add_skimmed(p, s, &sk, "in:1", err);
		} else if (strcmp(kind.s, "status") == 0) {
			j = json_loadb(s, len, 0, NULL);
			CHECK(j != NULL);
			plan_add_status(p, j, "in:1", err);
			json_decref(j);
		}
	}
out:
	fclose(stderr);
	stderr = saved;
	CHECK(n == 0 || msglen > 0);	/* a refusal says why */
	free(msg);
	jsonskim_free(&sk);
	jsonl_reader_free(&r);
	buf_free(&kind);
	fclose(fp);
	return n < 0 ? -1 : 0;
}

/* plan_write's output: n "step" lines, ids 1..n. */
static void
check_steps(const char *out, size_t len, size_t n)
{
	const char *p = out, *e;
	size_t i = 0;

	while (p < out + len) {
		json_error_t je;
		json_t *j;

		e = memchr(p, '\n', (size_t)(out + len - p));
		CHECK(e != NULL);
		j = json_loadb(p, (size_t)(e - p), JSON_REJECT_DUPLICATES,
		    &je);
		CHECK(j != NULL);
		CHECK(strcmp(json_string_value(json_object_get(j, "kind")),
		    "step") == 0);
		CHECK(json_integer_value(json_object_get(j, "id")) ==
		    (json_int_t)++i);
		json_decref(j);
		p = e + 1;
	}
	CHECK(i == n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the procedures of tests/fixtures/plan/procs.jsonl, and one more */
	static const char *const procs[] = { "release", "maint", "state",
	    "loop1", "self", "badre", "lost", "p" };
	struct buf err = BUF_INIT;
	struct plan *p;
	char *out = NULL;
	size_t outlen = 0, n = 0;
	FILE *fp;
	int rc, proc;

	if (size == 0)
		return 0;
	proc = data[0] & 1;
	p = plan_new();
	if (read_stream(data + 1, size - 1, p, &err) == 0 && err.len == 0) {
		rc = proc ? plan_procedure(p, procs[data[0] >> 1 & 7], NULL,
		    &err) :
		    plan_build(p, &err);
		CHECK(rc == 0 || err.len > 0);
		if (rc == 0) {
			fp = open_memstream(&out, &outlen);
			CHECK(fp != NULL);
			CHECK(plan_write(p, fp, &n) == 0);
			fclose(fp);
			check_steps(out, outlen, n);
			free(out);
		}
	}
	buf_free(&err);
	plan_free(p);
	return 0;
}
