/*
 * pattern: Komodo's batch patterns (the `pattern` of BatchDeploy and the
 * other Batch* executions of a procedure), for kom-plan -p.
 *
 * A pattern is a string list: split on newlines, each line trimmed, empty
 * lines and lines starting with '#' dropped, each line cut at its first
 * " #" (end-of-line comment), then split on commas, items trimmed, empty
 * items dropped.  Each item matches names:
 *
 *	\RE\		an item that starts and ends with a backslash: RE is a
 *			POSIX extended regular expression (regcomp(3),
 *			REG_EXTENDED), matched unanchored anywhere in the name;
 *			write ^...$ to anchor.  Komodo uses Rust regex syntax:
 *			the common subset (., *, +, ?, [], (), |, {m,n}, ^, $)
 *			is the same, but Perl classes such as \d and \w and
 *			look-around are not POSIX ERE.
 *	otherwise	a wildcard matched against the whole name: '*' any
 *			sequence, '?' one character (UTF-8 aware); every other
 *			character stands for itself, so a plain name is an
 *			exact match.
 *
 * A name matches the pattern when it matches any item.
 *
 * Ownership: pattern_new returns a pattern the caller frees with
 * pattern_free; the strings of pattern_split are the caller's to free
 * (each item, then the array).
 */
#ifndef KOM_PATTERN_H
#define KOM_PATTERN_H

#include <stddef.h>

struct pattern;

/*
 * Split s as a Komodo string list.  Returns the number of items and sets
 * *items to a fresh array of fresh strings (NULL when there are none).
 */
size_t pattern_split(const char *s, char ***items);

/* 1 when the whole of name matches the wildcard pat, else 0. */
int pattern_wildcard(const char *pat, const char *name);

/*
 * Compile spec.  Returns the pattern, or NULL with *err set to a fresh
 * message (naming the item and regerror's text) when a regex is invalid.
 */
struct pattern *pattern_new(const char *spec, char **err);

/* 1 when name matches any item of p, else 0. */
int pattern_match(const struct pattern *p, const char *name);

/* The number of items p holds. */
size_t pattern_count(const struct pattern *p);

void pattern_free(struct pattern *p);

#endif
