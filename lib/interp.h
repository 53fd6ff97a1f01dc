/*
 * interp: Komodo's variable interpolation syntax (komodo-behaviour.md 3.1)
 * and the masking of secret values (3.3).
 *
 *	[[NAME]]	the value of NAME (no trimming: "[[ X ]]" names " X ")
 *	[[[X]]]		the literal text "[[X]]"
 *	[[[[		an error
 *	[[ without ]]	an error ("no closing tags")
 *
 * A name nobody defines is left as written, like Komodo does.  One call
 * is one pass; Komodo runs two (plain variables, then secrets), and a
 * caller that wants that runs interp_expand twice.
 *
 * Errors come back as -1 with a struct interp_error (byte offset into the
 * input and a message); nothing is printed.  Arguments are borrowed;
 * struct interp_masks owns its strings (interp_masks_free).
 */
#ifndef KOM_INTERP_H
#define KOM_INTERP_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"

struct interp_error {
	size_t off;		/* byte offset of the offending "[[" */
	char msg[96];		/* lowercase, no trailing period */
};

/* One [[NAME]] reference. */
struct interp_ref {
	size_t off, len;	/* the whole "[[NAME]]" */
	size_t name_off, name_len;
};

/*
 * List the [[NAME]] references of in[0..len) (escapes are not references).
 * On success returns the number of references and sets *refs (freed by
 * the caller; NULL when there are none); -1 on a syntax error.
 */
long interp_refs(const char *in, size_t len, struct interp_ref **refs,
    struct interp_error *err);

/* The (value, NAME) pairs whose values must never be shown. */
struct interp_masks {
	struct interp_mask {
		char *value;
		char *name;
	} *v;
	size_t n, cap;
};
#define INTERP_MASKS_INIT { NULL, 0, 0 }
void interp_masks_free(struct interp_masks *m);
/* Record (value, name); empty values and repeats are ignored. */
void interp_masks_add(struct interp_masks *m, const char *value,
    const char *name);

/*
 * lookup: the value of name (namelen bytes, not NUL-terminated), or NULL
 * when it is not defined; *secret set to 1 for a secret.  The string is
 * borrowed until the next lookup.
 */
typedef const char *(*interp_lookup_fn)(void *ctx, const char *name,
    size_t namelen, int *secret);

/*
 * Append in[0..len) to out with every reference replaced by its value and
 * every escape by its literal text.  Each secret substituted is added to
 * masks (when masks is not NULL).  Returns the number of substitutions,
 * or -1 on a syntax error (out then holds a partial result).
 */
long interp_expand(const char *in, size_t len, interp_lookup_fn lookup,
    void *ctx, struct buf *out, struct interp_masks *masks,
    struct interp_error *err);

/* Replace, in b, every occurrence of every masked value by "<NAME>";
 * longer values first, so a secret that contains another is hidden whole. */
void interp_mask(struct buf *b, const struct interp_masks *masks);

/* ---- JSON values (kom-exec's configs; kom-poll and kom-alert next) ---- */

/*
 * fn: a fresh expansion of the string in into *out, or -1 with a message
 * in err.  The expansion may hold secrets: interp_json_strings wipes it
 * once it is copied.
 */
typedef int (*interp_string_fn)(void *ctx, const char *in, char **out,
    struct buf *err);

/*
 * Replace every string inside the JSON value val (array elements and
 * object values, at any depth; not object keys) by fn's expansion of it,
 * in place.  Returns 0, or -1 at the first string fn fails on (err holds
 * its message; the strings before it are already replaced).
 */
int interp_json_strings(json_t *val, interp_string_fn fn, void *ctx,
    struct buf *err);

#endif
