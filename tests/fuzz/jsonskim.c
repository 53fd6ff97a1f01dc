/*
 * fuzz/jsonskim: libFuzzer target for lib/jsonskim, differential against
 * jansson (the reference):
 *
 *	make tests/fuzz/jsonskim
 *	sh tests/fuzz/run 600 tests/fuzz/jsonskim
 *
 * The seeds in tests/fuzz/corpus/jsonskim came from the lines of the plan
 * fixtures, grown and merged by libFuzzer.  Whatever json_loadb(...,
 * JSON_REJECT_DUPLICATES) accepts as an object the skimmer must accept,
 * with the same top-level keys in the same order, and vice versa, except
 * that a NUL byte is always an error for the skimmer (jansson's reader
 * skips a NUL after some tokens and takes others for the end).  For
 * each member: a value marked canonical must be byte for byte what
 * json_dumps writes for it; any value must parse with jansson to the same
 * value; strings decode and arrays iterate to what jansson decodes; a key
 * marked canonical must be what jsonskim_quote writes for it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "jsonskim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void
check_member(const char *t, const struct jsonskim_member *m, const char *key,
    json_t *v)
{
	struct buf b = BUF_INIT;
	json_error_t e;
	json_t *w, *ew;
	char *d;
	size_t pos = 0, eo, el, i = 0;

	/* the key */
	CHECK(jsonskim_string(t + m->koff - 1, m->klen + 2, &b) == 0);
	CHECK(b.len == strlen(key) && memcmp(b.s, key, b.len) == 0);
	CHECK(m->kplain == !memchr(t + m->koff, '\\', m->klen));
	if (m->kcanon) {
		buf_reset(&b);
		jsonskim_quote(&b, key, strlen(key));
		CHECK(b.len == m->klen + 2 && memcmp(b.s + 1, t + m->koff,
		    m->klen) == 0);
	}
	/* the value */
	w = json_loadb(t + m->voff, m->vlen, JSON_DECODE_ANY |
	    JSON_REJECT_DUPLICATES, &e);
	CHECK(w && json_equal(w, v));
	json_decref(w);
	if (m->canon) {
		d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		CHECK(d && strlen(d) == m->vlen && memcmp(d, t + m->voff,
		    m->vlen) == 0);
		free(d);
	}
	if (json_is_string(v)) {
		CHECK(jsonskim_string(t + m->voff, m->vlen, &b) == 0);
		CHECK(b.len == json_string_length(v) && memcmp(b.s,
		    json_string_value(v), b.len) == 0);
		buf_reset(&b);
		jsonskim_quote(&b, json_string_value(v), json_string_length(v));
		d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		CHECK(d && strlen(d) == b.len && memcmp(d, b.s, b.len) == 0);
		free(d);
	} else {
		CHECK(jsonskim_string(t + m->voff, m->vlen, &b) < 0);
	}
	while (jsonskim_next(t + m->voff, m->vlen, &pos, &eo, &el)) {
		CHECK(json_is_array(v) && i < json_array_size(v));
		ew = json_loadb(t + m->voff + eo, el, JSON_DECODE_ANY |
		    JSON_REJECT_DUPLICATES, &e);
		CHECK(ew && json_equal(ew, json_array_get(v, i)));
		json_decref(ew);
		i++;
	}
	CHECK(i == json_array_size(v));	/* 0 for a non-array */
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct jsonskim s;
	json_error_t e;
	json_t *j, *v;
	const char *key;
	size_t i = 0;
	int rc;

	jsonskim_init(&s);
	j = json_loadb(t, size, JSON_REJECT_DUPLICATES, &e);
	rc = jsonskim_object(&s, t, size);
	if (!j || !json_is_object(j) || memchr(data, '\0', size)) {
		CHECK(rc < 0 && s.err && s.err_off <= size);
	} else {
		CHECK(rc == 0 && s.n == json_object_size(j));
		json_object_foreach(j, key, v) {
			CHECK(jsonskim_get(&s, t, key) == &s.m[i]);
			check_member(t, &s.m[i], key, v);
			i++;
		}
	}
	json_decref(j);
	jsonskim_free(&s);
	return 0;
}
