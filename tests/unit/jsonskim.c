/*
 * Unit tests for lib/jsonskim: members and their raw text, the canonical
 * flag, every rejection jansson makes (checked against jansson on the same
 * text), duplicate keys at any depth and through escapes, the depth cap,
 * string decoding, array iteration and jansson-identical quoting.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "jsonskim.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

static struct jsonskim sk;

static int
skim(const char *t)
{
	return jsonskim_object(&sk, t, strlen(t));
}

static char *
val(const char *t, size_t i)
{
	return xstrndup(t + sk.m[i].voff, sk.m[i].vlen);
}

static int
jansson_accepts(const char *t, size_t len)
{
	json_error_t e;
	json_t *j = json_loadb(t, len, JSON_REJECT_DUPLICATES, &e);
	int r = j && json_is_object(j);

	json_decref(j);
	return r;
}

static void
test_members(void)
{
	const char *t = " {\"kind\":\"resource\", \"n\" : 12 ,\"cfg\":{\"a\":"
	    "[1,{\"b\":null}],\"c\":\"x\\\"y\"},\"t\":true} ";
	char *v;

	is_int(skim(t), 0, "record: accepted");
	is_int(sk.n, 4, "record: four members");
	ok(sk.m[0].klen == 4 && memcmp(t + sk.m[0].koff, "kind", 4) == 0,
	    "first key is kind");
	v = val(t, 1);
	is_str(v, "12", "spaced member: value without the spaces");
	free(v);
	v = val(t, 2);
	is_str(v, "{\"a\":[1,{\"b\":null}],\"c\":\"x\\\"y\"}", "nested value "
	    "raw");
	free(v);
	ok(sk.m[1].canon && sk.m[2].canon && sk.m[3].canon,
	    "compact values are canonical (\\\" included)");
	ok(jsonskim_get(&sk, t, "t") == &sk.m[3] &&
	    !jsonskim_get(&sk, t, "x"), "get by key");
	is_int(skim("{}"), 0, "empty object");
	is_int(sk.n, 0, "no members");
}

static void
test_canon(void)
{
	static const struct {
		const char *text;
		int canon;
	} c[] = {
		{ "{\"v\":[1, 2]}", 0 }, { "{\"v\":{\"a\" :1}}", 0 },
		{ "{\"v\":\"a\\/b\"}", 0 }, { "{\"v\":\"\\u00e9\"}", 0 },
		{ "{\"v\":1.5}", 0 }, { "{\"v\":1e2}", 0 }, { "{\"v\":-0}", 0 },
		{ "{\"v\":{\"\\u0061\":1}}", 0 }, { "{\"v\":0}", 1 },
		{ "{\"v\":-10}", 1 }, { "{\"v\":\"\\n\\t\\\\\"}", 1 },
		{ "{\"v\":\"\xc3\xa9\"}", 1 }, { "{ \"v\" : [1,2] }", 1 },
	};
	size_t i;
	json_error_t e;

	for (i = 0; i < KOM_NELEM(c); i++) {
		json_t *j = json_loads(c[i].text, 0, &e);
		char *d = json_dumps(json_object_get(j, "v"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		char *v;

		if (skim(c[i].text) < 0) {
			ok(0, "canon %s: skims", c[i].text);
			continue;
		}
		v = val(c[i].text, 0);
		is_int(sk.m[0].canon, c[i].canon, "canon %s", c[i].text);
		ok(!sk.m[0].canon || strcmp(v, d) == 0, "canon %s: as jansson "
		    "writes it", c[i].text);
		free(v);
		free(d);
		json_decref(j);
	}
	is_int(skim("{\"a\\\"b\":1,\"\\u0063\":2}"), 0, "escaped keys");
	ok(sk.m[0].kcanon && !sk.m[0].kplain && !sk.m[1].kcanon,
	    "key flags: \\\" canonical, \\u not");
	ok(jsonskim_get(&sk, "{\"a\\\"b\":1,\"\\u0063\":2}", "c") == &sk.m[1],
	    "get decodes keys");
}

static void
test_reject(void)
{
	static const struct {
		const char *text;
		size_t len;	/* 0: strlen */
		size_t off;
	} c[] = {
		{ "", 0, 0 }, { "   ", 0, 3 }, { "[1]", 0, 0 },
		{ "\"s\"", 0, 0 }, { "{", 0, 1 }, { "{\"a\"}", 0, 4 },
		{ "{\"a\":}", 0, 5 }, { "{\"a\":1,}", 0, 7 },
		{ "{\"a\":1} x", 0, 8 }, { "{\"a\":01}", 0, 6 },
		{ "{\"a\":1.}", 0, 5 }, { "{\"a\":-}", 0, 5 },
		{ "{\"a\":.5}", 0, 5 }, { "{\"a\":1e}", 0, 5 },
		{ "{\"a\":tru}", 0, 5 }, { "{\"a\":nul}", 0, 5 },
		{ "{\"a\":\"\\x\"}", 0, 6 }, { "{\"a\":\"\\u12\"}", 0, 6 },
		{ "{\"a\":\"\\u0000\"}", 0, 6 },
		{ "{\"a\":\"\\udc00\"}", 0, 6 },
		{ "{\"a\":\"\\ud800\"}", 0, 6 },
		{ "{\"a\":\"\\ud800\\u0041\"}", 0, 6 },
		{ "{\"a\":\"\t\"}", 0, 6 }, { "{\"a\":\"\xc0\x80\"}", 0, 6 },
		{ "{\"a\":\"\xed\xa0\x80\"}", 0, 6 },
		{ "{\"a\":\"\xe0\x80\xaf\"}", 0, 6 },
		{ "{\"a\":\"\xf5\x80\x80\x80\"}", 0, 6 },
		{ "{\"a\":\"\xc3\"}", 0, 6 }, { "{\"a\":\"abc", 0, 9 },
		{ "{\"a\":1,\"a\":2}", 0, 0 }, { "{\"a\":1,\"\\u0061\":2}", 0, 0 },
		{ "{\"o\":{\"b\":1,\"b\":2}}", 0, 5 },
		{ "{\"a\":9223372036854775808}", 0, 5 },
		{ "{\"a\":-9223372036854775809}", 0, 5 },
		{ "{\"a\":1e400}", 0, 5 }, { "{\"a\":[1\0]}", 10, 7 },
		{ "{\"a\" 1}", 0, 5 }, { "{1:2}", 0, 1 }, { "{\"a\":[1 2]}", 0, 8 },
	};
	size_t i, len;

	for (i = 0; i < KOM_NELEM(c); i++) {
		len = c[i].len ? c[i].len : strlen(c[i].text);
		ok(jsonskim_object(&sk, c[i].text, len) < 0 && sk.err,
		    "reject #%zu: %s", i, sk.err ? sk.err : "(accepted)");
		is_int(sk.err_off, c[i].off, "reject #%zu: offset", i);
		if (!memchr(c[i].text, '\0', len))
			ok(!jansson_accepts(c[i].text, len), "reject #%zu: "
			    "jansson rejects it too", i);
	}
	is_int(skim("{\"a\":-9223372036854775808,\"b\":1e-400,\"c\":"
	    "9223372036854775807}"), 0, "int64 limits and underflow accepted");
}

static void
test_duplicates_big(void)
{
	struct buf b = BUF_INIT;
	int i;

	buf_addc(&b, '{');
	for (i = 0; i < 40; i++)
		buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_addc(&b, '}');
	is_int(jsonskim_object(&sk, b.s, b.len), 0, "40 distinct keys");
	is_int(sk.n, 40, "40 members");
	buf_truncate(&b, b.len - 1);
	buf_adds(&b, ",\"k\\u00317\":0}");	/* k17 again */
	ok(jsonskim_object(&sk, b.s, b.len) < 0 && !jansson_accepts(b.s,
	    b.len), "a duplicate among 41 keys, escaped");
	buf_free(&b);
}

static void
test_depth(void)
{
	struct buf b = BUF_INIT;
	int i, d;

	for (d = JSONSKIM_MAX_DEPTH; d <= JSONSKIM_MAX_DEPTH + 1; d++) {
		buf_reset(&b);
		buf_adds(&b, "{\"a\":");
		for (i = 1; i < d; i++)
			buf_addc(&b, '[');
		for (i = 1; i < d; i++)
			buf_addc(&b, ']');
		buf_addc(&b, '}');
		is_int(jsonskim_object(&sk, b.s, b.len) == 0, d ==
		    JSONSKIM_MAX_DEPTH, "depth %d", d);
		is_int(jansson_accepts(b.s, b.len), d == JSONSKIM_MAX_DEPTH,
		    "depth %d: jansson agrees", d);
	}
	buf_free(&b);
}

static void
test_string_next(void)
{
	const char *t = "{\"s\":\"a\\u00e9\\ud83d\\ude00\\n\\/\",\"l\":[ \"x\" , "
	    "{\"y\":[1,\"]\"]} ,3 ],\"e\":[]}";
	struct buf b = BUF_INIT;
	size_t pos = 0, eo, el, n = 0;
	const char *want[] = { "\"x\"", "{\"y\":[1,\"]\"]}", "3" };
	const struct jsonskim_member *m;

	is_int(skim(t), 0, "strings and arrays");
	m = &sk.m[0];
	is_int(jsonskim_string(t + m->voff, m->vlen, &b), 0, "decode");
	is_str(b.s, "a\xc3\xa9\xf0\x9f\x98\x80\n/", "decoded: BMP, surrogate "
	    "pair, escapes");
	ok(jsonskim_string(t + sk.m[1].voff, sk.m[1].vlen, &b) < 0,
	    "an array is not a string");
	m = &sk.m[1];
	while (jsonskim_next(t + m->voff, m->vlen, &pos, &eo, &el)) {
		ok(n < 3 && el == strlen(want[n]) && memcmp(t + m->voff + eo,
		    want[n], el) == 0, "element %zu", n);
		n++;
	}
	is_int(n, 3, "three elements");
	pos = 0;
	ok(!jsonskim_next(t + sk.m[2].voff, sk.m[2].vlen, &pos, &eo, &el),
	    "empty array");
	pos = 0;
	ok(!jsonskim_next(t + sk.m[0].voff, sk.m[0].vlen, &pos, &eo, &el),
	    "a string has no elements");
	buf_free(&b);
}

static void
test_quote(void)
{
	char s[160];
	size_t i, n = 0;
	struct buf b = BUF_INIT;
	json_t *j;
	char *d;

	for (i = 1; i < 128; i++)
		s[n++] = (char)i;
	memcpy(s + n, "\xc3\xa9\xe2\x80\xa8", 5);
	n += 5;
	jsonskim_quote(&b, s, n);
	j = json_stringn(s, n);
	d = json_dumps(j, JSON_ENCODE_ANY);
	is_str(b.s, d, "quote: every ASCII byte and some UTF-8 as jansson");
	free(d);
	json_decref(j);
	buf_free(&b);
}

int
main(void)
{
	jsonskim_init(&sk);
	test_members();
	test_canon();
	test_reject();
	test_duplicates_big();
	test_depth();
	test_string_next();
	test_quote();
	jsonskim_free(&sk);
	return done_testing();
}
