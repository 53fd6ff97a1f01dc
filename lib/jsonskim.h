/*
 * jsonskim: find the top-level members of one JSON object and return
 * their raw text, validating the whole text as jansson would.
 *
 * Why this exists next to jansson (still kom's JSON library): kom-plan
 * passes each resource record's "config" (and most other members)
 * through untouched into its step.  Building jansson trees of 100,000
 * records only to write them out again cost 3 s of a 4 s plan; skimming
 * them costs a tenth of that.  The few members a program reads are
 * decoded with jansson (or, for strings without escapes, copied).
 *
 * jsonskim_object accepts exactly what json_loadb(text, len,
 * JSON_REJECT_DUPLICATES) accepts as an object (tests/fuzz/jsonskim.c
 * checks this against jansson): RFC 8259 syntax, valid UTF-8, \u escapes
 * with paired surrogates and no \u0000, integers within int64, reals that
 * do not overflow, no duplicate keys in any object, at most
 * JSONSKIM_MAX_DEPTH nested arrays and objects.  It is stricter in one
 * way: a NUL byte is always an error (jansson's reader skips a NUL after
 * some tokens, so it accepts {"a":[1<NUL>]}).
 *
 * Each member also says whether its value text is already exactly what
 * json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
 * would write ("canon"): no whitespace, no \/ or \u escapes, no reals and
 * no -0.  A caller splicing values into its own output copies canonical
 * ones and re-encodes the others with jansson, so the output does not
 * depend on how the input was spaced or escaped.
 *
 * Ownership: a struct jsonskim is the caller's; it keeps scratch memory
 * between calls (jsonskim_free releases it).  Members are offsets into the
 * text given to the last jsonskim_object call.  Nothing is printed; no
 * globals.
 */
#ifndef KOM_JSONSKIM_H
#define KOM_JSONSKIM_H

#include <stddef.h>

#include "buf.h"

/* jansson's JSON_PARSER_MAX_DEPTH: arrays and objects open at once. */
#define JSONSKIM_MAX_DEPTH 2048

struct jsonskim_member {
	size_t koff, klen;	/* the key between its quotes, undecoded */
	size_t voff, vlen;	/* the value, quotes and brackets included */
	unsigned char kplain;	/* the key has no backslash */
	unsigned char kcanon;	/* the key text is as jansson writes it */
	unsigned char canon;	/* the value text is as jansson writes it */
};

struct jsonskim {
	struct jsonskim_member *m;	/* top-level members, in text order */
	size_t n;
	size_t err_off;		/* after a failure: byte offset of the error */
	const char *err;	/* and its message (a constant string) */
	/* scratch */
	size_t cap;
	struct jsonskim_key { size_t off, len; int plain; } *keys;
	size_t nkeys, capkeys;
	char *num;
	size_t numcap;
};

void jsonskim_init(struct jsonskim *s);
void jsonskim_free(struct jsonskim *s);

/*
 * Skim text[0..len) (whitespace around the object allowed).  Returns 0
 * and fills s->m, s->n; or -1 with s->err ("invalid UTF-8 in string") and
 * s->err_off (0-based byte offset; the column is err_off + 1 for one
 * line) when the text is not one valid JSON object.
 */
int jsonskim_object(struct jsonskim *s, const char *text, size_t len);

/*
 * The member whose key is key (compared with the decoded key), or NULL.
 * For the small objects of kom's records a linear search.
 */
const struct jsonskim_member *jsonskim_get(const struct jsonskim *s,
    const char *text, const char *key);

/*
 * Decode the string value at v[0..len) (with its quotes, from a skimmed
 * text) into out, replacing its contents.  Returns 0, or -1 when the value
 * is not a string.
 */
int jsonskim_string(const char *v, size_t len, struct buf *out);

/*
 * Iterate over the elements of the array value a[0..alen) from a skimmed
 * text: start with *pos = 0; each call returns 1 and sets *eoff, *elen to
 * the next element (offsets into a), or 0 after the last one.  Returns 0
 * at once when the value is not an array.
 */
int jsonskim_next(const char *a, size_t alen, size_t *pos, size_t *eoff,
    size_t *elen);

/*
 * Append the string s[0..len) (valid UTF-8) to out as a JSON string,
 * quoted and escaped as jansson's json_dumps writes it.
 */
void jsonskim_quote(struct buf *out, const char *s, size_t len);

#endif
