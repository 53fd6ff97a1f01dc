/*
 * Unit tests of lib/toml: positions, lookups, types, pinned error
 * messages with their positions, and nesting depth at and over the cap.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

static struct toml_value *
parse(const char *s)
{
	struct toml_error err;
	struct toml_value *v = toml_parse(s, strlen(s), &err);

	if (!v)
		diag("unexpected error %d:%d: %s", err.line, err.col, err.msg);
	return v;
}

/* Pin one error: its line, column and exact message. */
static void
error_is(const char *doc, int line, int col, const char *msg)
{
	struct toml_error err;
	struct toml_value *v = toml_parse(doc, strlen(doc), &err);
	char got[300], want[300];

	if (v) {
		ok(0, "rejects: %s", msg);
		toml_free(v);
		return;
	}
	snprintf(got, sizeof(got), "%d:%d: %s", err.line, err.col, err.msg);
	snprintf(want, sizeof(want), "%d:%d: %s", line, col, msg);
	is_str(got, want, "error %s", want);
}

static void
test_positions(void)
{
	const char *doc =
	    "title = \"x\"\n"
	    "\n"
	    "[server]\n"
	    "  port =   8080\n"
	    "  tls.on = true\n"
	    "[[svc]]\n"
	    "[[svc]]\n"
	    "  name = 'b'   # two\n";
	struct toml_value *root = parse(doc);
	const struct toml_value *srv, *svc, *tls;
	const struct toml_kv *kv;

	ok(root != NULL, "positions document parses");
	if (!root)
		return;
	kv = toml_get_kv(root, "title");
	ok(kv && kv->line == 1 && kv->col == 1, "key 'title' at 1:1");
	ok(kv && kv->val->line == 1 && kv->val->col == 9, "its value at 1:9");
	srv = toml_get(root, "server");
	ok(srv && srv->type == TOML_TABLE && srv->line == 3 && srv->col == 1,
	    "[server] table at 3:1");
	kv = toml_get_kv(srv, "port");
	ok(kv && kv->line == 4 && kv->col == 3, "key 'port' at 4:3");
	ok(kv && kv->val->line == 4 && kv->val->col == 12 &&
	    kv->val->type == TOML_INTEGER && kv->val->u.i == 8080,
	    "port = 8080 at 4:12");
	tls = toml_get(srv, "tls");
	kv = toml_get_kv(tls, "on");
	ok(tls && tls->line == 5 && tls->col == 3, "dotted table 'tls' at 5:3");
	ok(kv && kv->line == 5 && kv->col == 7 && kv->val->u.b == 1,
	    "key 'on' at 5:7");
	svc = toml_get(root, "svc");
	ok(svc && svc->type == TOML_ARRAY && svc->u.array.n == 2,
	    "[[svc]] twice makes two tables");
	if (svc && svc->u.array.n == 2) {
		ok(svc->u.array.v[1]->line == 7, "second [[svc]] on line 7");
		kv = toml_get_kv(svc->u.array.v[1], "name");
		ok(kv && kv->line == 8 && kv->val->col == 10 &&
		    !strcmp(kv->val->u.str.s, "b"), "name = 'b' at 8:10");
	}
	ok(toml_get(root, "nope") == NULL, "missing key is NULL");
	ok(toml_get(toml_get(root, "title"), "x") == NULL,
	    "toml_get on a non-table is NULL");
	ok(root->u.table.n == 3 && !strcmp(root->u.table.kv[0].key, "title") &&
	    !strcmp(root->u.table.kv[2].key, "svc"), "keys in document order");
	toml_free(root);
}

static void
test_types(void)
{
	const char *doc =
	    "s = \"\"\"\\\n   a\\u00e9\\U0001F600\"\"\"\n"
	    "i = -0 \n"
	    "h = 0xdead_BEEF\n"
	    "o = 0o777\n"
	    "b = 0b1010\n"
	    "min = -9223372036854775808\n"
	    "f = 6.626e-34\n"
	    "ninf = -inf\n"
	    "nan = nan\n"
	    "t = false\n"
	    "odt = 1979-05-27 07:32:00.999-07:00\n"
	    "ldt = 1979-05-27T07:32:00\n"
	    "ld = 2024-02-29\n"
	    "lt = 23:59:60\n"
	    "a = [1, 'two', [3.0], {x = 4}]\n"
	    "nul = \"a\\u0000b\"\n"
	    "\"k\\u0000ey\" = 1\n";
	static const struct {
		const char *key;
		enum toml_type type;
		const char *name;
	} want[] = {
		{ "s", TOML_STRING, "string" },
		{ "h", TOML_INTEGER, "integer" },
		{ "f", TOML_FLOAT, "float" },
		{ "t", TOML_BOOL, "boolean" },
		{ "odt", TOML_DATETIME, "datetime" },
		{ "ldt", TOML_DATETIME_LOCAL, "local datetime" },
		{ "ld", TOML_DATE_LOCAL, "local date" },
		{ "lt", TOML_TIME_LOCAL, "local time" },
		{ "a", TOML_ARRAY, "array" },
	};
	struct toml_value *root = parse(doc);
	const struct toml_value *v;
	size_t i;

	ok(root != NULL, "types document parses");
	if (!root)
		return;
	for (i = 0; i < KOM_NELEM(want); i++) {
		v = toml_get(root, want[i].key);
		ok(v && v->type == want[i].type, "%s is a %s", want[i].key,
		    want[i].name);
		is_str(toml_type_name(want[i].type), want[i].name,
		    "type name %s", want[i].name);
	}
	is_str(toml_type_name(TOML_TABLE), "table", "type name table");
	is_str(toml_get(root, "s")->u.str.s, "a\xc3\xa9\xf0\x9f\x98\x80",
	    "multi-line string: trimmed, unicode escapes decoded");
	is_int(toml_get(root, "i")->u.i, 0, "-0 is zero");
	is_int(toml_get(root, "h")->u.i, 0xdeadbeef, "hex with underscore");
	is_int(toml_get(root, "o")->u.i, 0777, "octal");
	is_int(toml_get(root, "b")->u.i, 10, "binary");
	ok(toml_get(root, "min")->u.i == INT64_MIN, "int64 minimum");
	ok(toml_get(root, "f")->u.f == 6.626e-34, "float exponent");
	ok(isinf(toml_get(root, "ninf")->u.f) && toml_get(root, "ninf")->u.f < 0,
	    "-inf");
	ok(isnan(toml_get(root, "nan")->u.f), "nan");
	is_str(toml_get(root, "odt")->u.str.s, "1979-05-27 07:32:00.999-07:00",
	    "datetime text kept as written");
	v = toml_get(root, "a");
	ok(v && v->u.array.n == 4 && v->u.array.v[2]->type == TOML_ARRAY &&
	    toml_get(v->u.array.v[3], "x")->u.i == 4, "mixed array");
	v = toml_get(root, "nul");
	ok(v && v->u.str.len == 3 && !memcmp(v->u.str.s, "a\0b", 4),
	    "string with NUL keeps its length");
	ok(root->u.table.n == 17 && root->u.table.kv[16].keylen == 4 &&
	    !memcmp(root->u.table.kv[16].key, "k\0ey", 5),
	    "key with NUL keeps its length");
	toml_free(root);
}

/* Tables with many keys use the hash index: every key must be found,
 * and a duplicate far from the first definition must still be caught. */
static void
test_big_table(void)
{
	struct buf b = BUF_INIT;
	struct toml_value *root;
	struct toml_error err;
	char key[32];
	int i, found = 0;

	for (i = 0; i < 5000; i++)
		buf_printf(&b, "k%d = %d\n", i, i);
	root = parse(b.s);
	ok(root && root->u.table.n == 5000, "5000 keys parse");
	for (i = 0; root && i < 5000; i++) {
		const struct toml_value *v;

		snprintf(key, sizeof(key), "k%d", i);
		v = toml_get(root, key);
		found += v && v->u.i == i;
	}
	is_int(found, 5000, "every key found through the index");
	toml_free(root);
	buf_adds(&b, "k4321 = 0\n");
	root = toml_parse(b.s, b.len, &err);
	ok(!root && err.line == 5001 &&
	    !strcmp(err.msg, "duplicate key 'k4321' (first defined at 4322:1)"),
	    "duplicate found in an indexed table: %s", err.msg);
	toml_free(root);
	buf_free(&b);
}

static void
test_errors(void)
{
	error_is("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)");
	error_is("[t]\nname = 1\n\n name = 2", 4, 2,
	    "duplicate key 'name' (first defined at 2:1)");
	error_is("a 1\n", 1, 3, "expected '=' after key");
	error_is("s = \"x\\qy\"\n", 1, 7, "invalid escape '\\q' in string");
	error_is("i = 9223372036854775808\n", 1, 5, "integer out of range");
	error_is("i = -9223372036854775809\n", 1, 5, "integer out of range");
	error_is("i = 012\n", 1, 5, "leading zero in integer");
	error_is("i = 1__2\n", 1, 5, "'_' must be between digits");
	error_is("d = 2023-02-29\n", 1, 5, "day out of range in date");
	error_is("d = 1979-13-01\n", 1, 5, "month out of range in date");
	error_is("t = 24:00:00\n", 1, 5, "hour out of range in time");
	error_is("d = 1979-05-27T07:32:00+24:00\n", 1, 24,
	    "time offset out of range");
	error_is("[a]\nx = 1\n[a]\n", 3, 1, "table 'a' already defined at 1:1");
	error_is("a = {x = 1}\na.y = 2\n", 2, 1,
	    "cannot extend inline table 'a' (defined at 1:1)");
	error_is("a = [1 2]\n", 1, 8, "expected ',' or ']' after array element");
	error_is("a = {x = 1,}\n", 1, 12,
	    "trailing comma not allowed in inline table");
	error_is("a = {x = 1,\n y = 2}\n", 1, 12, "expected key, found end of line");
	error_is("a = \"x", 1, 7, "unterminated string");
	error_is("a = 1 b = 2\n", 1, 7, "expected newline after value");
	error_is("a = 1\r\rb = 2\n", 1, 6, "carriage return not followed by newline");
	error_is("# ok\n# \x01\n", 2, 3, "control character U+0001 in comment");
	error_is("a = \"\xff\"\n", 1, 6, "invalid utf-8 in string");
	error_is("a = \n", 1, 5, "expected value, found end of line");
	error_is("fruit = []\n[[fruit]]\n", 2, 1, "cannot define array of tables "
	    "'fruit': key already defined at 1:1 as an array");
	error_is("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 1,
	    "cannot add to table 'b' with dotted keys (defined at 1:4)");
	error_is("a = 1\na.b = 2\n", 2, 1,
	    "key 'a' is not a table (integer defined at 1:1)");
	error_is("\xef\xbb\xbf" "a = 1\n\xef\xbb\xbf", 2, 1,
	    "unexpected non-ascii character, expected key");
}

/* n levels of "[" (or "{a=") around 1, closed again. */
static char *
nested(int n, int inline_table)
{
	struct buf b = BUF_INIT;
	int i;

	buf_adds(&b, "x = ");
	for (i = 0; i < n; i++)
		buf_adds(&b, inline_table ? "{a=" : "[");
	buf_adds(&b, "1");
	for (i = 0; i < n; i++)
		buf_adds(&b, inline_table ? "}" : "]");
	buf_adds(&b, "\n");
	return buf_release(&b);
}

static int
depth_of(const struct toml_value *v)
{
	int d = 0;

	while (v && (v->type == TOML_ARRAY || v->type == TOML_TABLE)) {
		v = v->type == TOML_ARRAY ? v->u.array.v[0] :
		    v->u.table.kv[0].val;
		d++;
	}
	return d;
}

static void
test_depth(void)
{
	static const int ns[] = { 1000, TOML_MAX_DEPTH - 1, 10000, 100000 };
	struct toml_error err;
	struct toml_value *v;
	char *doc, want[64];
	size_t i;
	int inl;

	snprintf(want, sizeof(want), "nesting too deep (max %d levels)",
	    TOML_MAX_DEPTH);
	for (inl = 0; inl < 2; inl++) {
		for (i = 0; i < KOM_NELEM(ns); i++) {
			doc = nested(ns[i], inl);
			v = toml_parse(doc, strlen(doc), &err);
			if (ns[i] < TOML_MAX_DEPTH)
				ok(v && depth_of(v) == ns[i] + 1,
				    "%d nested %s parse", ns[i],
				    inl ? "inline tables" : "arrays");
			else
				ok(!v && !strcmp(err.msg, want) && err.line == 1,
				    "%d nested %s: %s", ns[i],
				    inl ? "inline tables" : "arrays", err.msg);
			toml_free(v);
			free(doc);
		}
	}
	/* A header deeper than the cap is refused the same way. */
	{
		struct buf b = BUF_INIT;
		int k;

		buf_adds(&b, "[a");
		for (k = 0; k < TOML_MAX_DEPTH; k++)
			buf_adds(&b, ".a");
		buf_adds(&b, "]\n");
		v = toml_parse(b.s, b.len, &err);
		ok(!v && !strcmp(err.msg, want), "deep [table] header: %s",
		    err.msg);
		toml_free(v);
		buf_free(&b);
	}
}

static void
free_null(void *unused)
{
	toml_free(NULL);
}

/* A value inside a document belongs to it: freeing one frees nothing. */
static void
test_free_inner(void)
{
	static const char doc[] = "a = \"x\"\n[t]\nb = [1, 2]\n";
	struct toml_error err;
	struct toml_value *root = toml_parse(doc, sizeof(doc) - 1, &err);
	const struct toml_value *t, *a;

	if (!ok(root != NULL, "parse for toml_free of an inner value"))
		return;
	t = toml_get(root, "t");
	toml_free((struct toml_value *)toml_get(t, "b"));
	toml_free((struct toml_value *)t);
	a = toml_get(root, "a");
	ok(a && a->type == TOML_STRING && strcmp(a->u.str.s, "x") == 0 &&
	    toml_get(toml_get(root, "t"), "b") != NULL &&
	    toml_get(toml_get(root, "t"), "b")->u.array.n == 2,
	    "toml_free of inner values leaves the document whole");
	toml_free(root);
}

int
main(void)
{
	struct toml_error err;
	struct toml_value *root;

	test_positions();
	test_types();
	test_big_table();
	test_errors();
	test_depth();
	root = toml_parse("", 0, &err);
	ok(root && root->type == TOML_TABLE && root->u.table.n == 0,
	    "empty document is an empty table");
	toml_free(root);
	ok(survives(free_null, NULL), "toml_free(NULL) is fine");
	test_free_inner();
	return done_testing();
}
