/*
 * kv: the "flexible" value formats of Komodo resource files
 * (komodo-behaviour.md section 0), turned into kom's normalized JSON
 * (kom-json(5), resource record).
 *
 *	string-list	"a, b\n# comment\nc #cut" -> ["a","b","c"]
 *	key-value list	"K = V\n- L: C"           -> [{"key":K,"value":V}, ...]
 *	file contents	trailing space trimmed, one "\n" appended
 *	SystemCommand	multi-line command joined with " && "
 *	Version		"1", "1.2", "1.2.3" or {major,minor,patch} -> "1.2.3"
 *	TerminationSignal  "SIGTERM" or its number "15"
 *	names		per resource type, as Komodo normalizes them on create
 *
 * Results are owned by the caller (json_decref / free); arguments are
 * borrowed.  Functions that can fail return -1 and fill a struct kv_error
 * with the 1-based line (inside the given string) and a message; they
 * print nothing.
 */
#ifndef KOM_KV_H
#define KOM_KV_H

#include <stddef.h>
#include <jansson.h>

struct kv_error {
	int line;		/* 1-based line of the input string; 0: none */
	char msg[160];		/* lowercase, no trailing period */
};

/* The shapes a key-value list is normalized into. */
enum kv_shape {
	KV_KEY_VALUE,		/* environment, labels, build_args, secret_args */
	KV_LOCAL_CONTAINER,	/* ports, volumes */
	KV_SIGNAL_LABEL		/* term_signal_labels */
};

/* JSON member names of a shape: {"key","value"}, {"local","container"}... */
const char *kv_shape_first(enum kv_shape shape);
const char *kv_shape_second(enum kv_shape shape);
/* Member names Komodo accepts in the array-of-tables form of a shape:
 * "variable"/"value", "local"/"container", "signal"/"label". */
const char *kv_shape_toml_first(enum kv_shape shape);

/*
 * Komodo's parse_string_list, the one splitter of string lists (resource
 * fields, kom.toml's lists, batch patterns): split on '\n', trim each
 * line, drop empty lines and lines starting with '#', cut each at its
 * first " #", split on ',', trim the items, drop empty ones.  Trimming is
 * kv_is_space.  Appends fresh strings to *v, which holds *n of them (its
 * capacity is grown as needed; *v may be NULL with *n 0).
 */
void kv_split_list(const char *s, size_t len, char ***v, size_t *n);

/* The white space kom trims: ' ', '\t', '\n', '\r', '\v', '\f'. */
int kv_is_space(int c);

/* Append the items of a string-list written as one string to arr. */
void kv_string_list(const char *s, size_t len, json_t *arr);

/*
 * Parse a key-value list written as one string (section 0, steps 1-5)
 * into a new array of two-member objects of the given shape.  NULL on a
 * line without '=' or ':', with err->line the 1-based line of s (counted
 * before any trimming) and err->msg "line N missing assignment character".
 */
json_t *kv_list(const char *s, size_t len, enum kv_shape shape,
    struct kv_error *err);

/* kv_list()'s checks alone, nothing built: 0, or -1 with err as kv_list. */
int kv_check(const char *s, size_t len, struct kv_error *err);

/* File contents: trailing whitespace trimmed, then one '\n' if non-empty.
 * Returns a fresh string. */
char *kv_file_contents(const char *s, size_t len);

/* Join a multi-line command with " && ": blank and '#' lines dropped,
 * " #" comments cut, a line ending in " \" continued on the next one.
 * Returns a fresh string. */
char *kv_join_command(const char *s, size_t len);

/* "1.2.3", "1.2", "1" -> "X.Y.Z" into out (size >= 64).  -1 when not a
 * version (err filled). */
int kv_version(const char *s, char *out, size_t outsz, struct kv_error *err);
/* The same from numbers (e.g. a {major,minor,patch} table). */
void kv_version_parts(long long major, long long minor, long long patch,
    char *out, size_t outsz);

/* "SIGTERM", "15" -> "SIGTERM"; NULL when not a termination signal. */
const char *kv_signal(const char *s);

/* How each resource type's names are normalized (section 0). */
enum kv_name_style {
	KV_NAME_GENERAL,	/* trim, '\n' -> '_' */
	KV_NAME_CONTAINER,	/* deployments: [A-Za-z0-9_.-] */
	KV_NAME_DOCKER,		/* stacks, builds: lowercase [a-z0-9_-] */
	KV_NAME_PATH		/* repos: ' ' and '\n' -> '_' */
};

/*
 * Normalize name.  Returns a fresh string, or NULL with err->msg set when
 * the result is empty or a 24-hex-digit object id (Komodo rejects both).
 */
char *kv_name(const char *name, enum kv_name_style style,
    struct kv_error *err);

/* Levenshtein distance between a and b, capped at cap+1 (cheap reject). */
int kv_distance(const char *a, const char *b, int cap);

#endif
