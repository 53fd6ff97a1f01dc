/*
 * toml: a TOML 1.0.0 parser that keeps, for every value and every key, the
 * line and column where it was defined.
 *
 * toml_parse() reads a whole document held in memory and returns its root
 * table, owned by the caller and released with toml_free().  The tree does
 * not point into the input, which may be freed right after parsing.  On error it
 * returns NULL and fills *err with the 1-based line and column of the
 * problem and a message saying what was expected; nothing needs freeing.
 * The input need not be NUL-terminated; it may start with a UTF-8 BOM and
 * use LF or CRLF line ends.  Invalid UTF-8 is an error.
 *
 * Bounds: nesting (arrays and inline tables inside each other, and dotted
 * or [table] key depth) is capped at TOML_MAX_DEPTH; a document deeper
 * than that is an error, never a stack overflow.
 */
#ifndef KOM_TOML_H
#define KOM_TOML_H

#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_DEPTH 4096

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,		/* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL,	/* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,	/* 1979-05-27 */
	TOML_TIME_LOCAL		/* 07:32:00 */
};

struct toml_value;

/* One key of a table, in the order the document defined them. */
struct toml_kv {
	char *key;		/* NUL-terminated; keylen excludes the NUL */
	size_t keylen;		/* keys may contain NUL bytes via \u0000 */
	int line, col;		/* where this key was written */
	struct toml_value *val;
};

struct toml_value {
	enum toml_type type;
	int line, col;		/* where the value (or table header) starts */
	union {
		struct {
			struct toml_kv *kv;
			size_t n;
			void *index;	/* private: the parser's lookup index */
			size_t cap;
			unsigned flags;	/* private: defined/implicit/inline/... */
		} table;
		struct {
			struct toml_value **v;
			size_t n;
			size_t cap;
			int of_tables;	/* private: made by [[header]] */
		} array;
		struct {
			char *s;	/* NUL-terminated */
			size_t len;	/* may contain NUL bytes via \u0000 */
		} str;		/* TOML_STRING, and every date/time type
				 * (the text as written, 'T'/'t'/' ' kept) */
		int64_t i;
		double f;
		int b;
	} u;
};

struct toml_error {
	int line, col;		/* 1-based; col counts bytes */
	char msg[256];		/* lowercase, no trailing period */
};

/* Parse len bytes at data.  Returns the root table, or NULL with *err set. */
struct toml_value *toml_parse(const char *data, size_t len,
    struct toml_error *err);

/* Free a document: the root returned by toml_parse() and every value,
 * key and string in it (they share one arena).  NULL is fine.  A value
 * inside a document belongs to it: passing one frees nothing. */
void toml_free(struct toml_value *v);

/* The value of key in table t, or NULL when t is not a table or lacks it. */
const struct toml_value *toml_get(const struct toml_value *t, const char *key);
/* The same, returning the kv (for its line and column). */
const struct toml_kv *toml_get_kv(const struct toml_value *t, const char *key);

/* "table", "array", "string", "integer", "float", "boolean", "datetime",
 * "local datetime", "local date", "local time". */
const char *toml_type_name(enum toml_type t);

/*
 * The document (or any value in it) as compact JSON on one line, without
 * the newline, appended to out: the bytes json_dumpf() with JSON_COMPACT |
 * JSON_PRESERVE_ORDER writes for toml_json_tree(v, tagged), keys in
 * document order.  Plain form: integers, finite floats and booleans as
 * JSON numbers and literals, inf and nan as the strings "inf", "-inf" and
 * "nan", everything else as strings (dates and times with 'T' and 'Z').
 * tagged: toml-test's encoding, {"type":..,"value":".."} for every scalar.
 * When flush is not NULL it is called whenever out holds TOML_JSON_CHUNK
 * bytes or more, to write them out and empty out; a -1 from it stops the
 * printing and is returned.  Otherwise returns 0.
 */
#define TOML_JSON_CHUNK (256u << 10)
struct buf;
int toml_json(const struct toml_value *v, int tagged, struct buf *out,
    int (*flush)(struct buf *, void *), void *arg);

/* The same document as a fresh jansson tree (the caller decrefs it): the
 * reference that toml_json() must match byte for byte, for tests. */
struct json_t;
struct json_t *toml_json_tree(const struct toml_value *v, int tagged);

#endif
