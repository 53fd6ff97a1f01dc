/*
 * fuzz/toml: libFuzzer target for the TOML parser.
 *
 *	make fuzz
 *	sh tests/fuzz/run 600 tests/fuzz/toml
 *
 * The seeds in tests/fuzz/corpus/toml came from the toml-test valid
 * cases (../shared/toml-test/tests/valid), grown and merged by libFuzzer.
 * Every document must either parse or fail with a positioned message, and
 * the tree must be walkable and freed without leaks.  A document that
 * parses is also printed as JSON both ways, plain and tagged, by the
 * direct printer (toml_json) and through jansson (toml_json_tree and
 * json_dumps with the flags kom-sync toml used): the bytes must be the
 * same, a differential oracle like fuzz/jsonskim's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every node, so a dangling or half-built value trips ASan. */
static size_t
walk(const struct toml_value *v)
{
	size_t n = 1, i;

	if (v->type == TOML_TABLE) {
		for (i = 0; i < v->u.table.n; i++) {
			n += v->u.table.kv[i].keylen;
			if (toml_get_kv(v, v->u.table.kv[i].key) == NULL &&
			    strlen(v->u.table.kv[i].key) == v->u.table.kv[i].keylen)
				abort();	/* a key the index cannot find */
			n += walk(v->u.table.kv[i].val);
		}
	} else if (v->type == TOML_ARRAY) {
		for (i = 0; i < v->u.array.n; i++)
			n += walk(v->u.array.v[i]);
	} else if (v->type == TOML_STRING || v->type >= TOML_DATETIME) {
		n += v->u.str.len + (v->u.str.s[v->u.str.len] == '\0');
	}
	return n;
}

static void
same_json(const struct toml_value *root, int tagged)
{
	struct buf b = BUF_INIT;
	json_t *j = toml_json_tree(root, tagged);
	char *ref;

	if (!j)
		abort();
	ref = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!ref || toml_json(root, tagged, &b, NULL, NULL) != 0 ||
	    strlen(ref) != b.len || memcmp(ref, b.s, b.len) != 0)
		abort();	/* the printer and jansson disagree */
	free(ref);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_error err;
	struct toml_value *root;
	char *copy;

	/* A private copy without a terminator: the parser must respect len. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	root = toml_parse(copy, size, &err);
	if (root) {
		walk(root);
		same_json(root, 0);
		same_json(root, 1);
		toml_free(root);
	} else if (err.line < 1 || err.col < 1 || err.msg[0] == '\0' ||
	    strchr(err.msg, '\n')) {
		abort();	/* every error has a position and one line */
	}
	free(copy);
	return 0;
}
