/*
 * vars: [[NAME]] at the time a value is used (komodo-behaviour.md 3):
 * non-secret variables from the state dir, secrets from lib/secrets (files,
 * then the value a sync file gave, sealed), and the masking of every secret
 * value substituted.  See lib/vars.c for the order.
 *
 * kom-exec carries the same code as cmd/kom-exec/vars.c; it can drop that
 * file and include this header instead.
 *
 * A struct vars is owned by its caller (vars_free).  Strings returned are
 * fresh; arguments are borrowed.
 */
#ifndef KOM_VARS_H
#define KOM_VARS_H

#include <jansson.h>

#include "buf.h"

struct vars;
/* The variables of statedir and the secrets search path (secrets_dir is
 * kom.toml's, NULL when unset).  A state dir that cannot be read leaves
 * every name undefined after a message. */
struct vars *vars_load(const char *statedir, const char *secrets_dir);
void vars_free(struct vars *v);
/*
 * Expand [[NAME]] in in into a fresh *out (secret: wipe it when done).
 * Returns 0, or -1 with err set ("undefined variable 'X'"); a name that
 * resolves nowhere is an error, unlike Komodo.
 */
int vars_expand_str(struct vars *v, const char *in, char **out,
    struct buf *err);
/* The names substituted so far ("[[A]], [[B]]", fresh), or NULL. */
char *vars_names_used(const struct vars *v);
/* Replace every secret value used so far by <NAME>, in a fresh string. */
char *vars_mask(struct vars *v, const char *s);
/* Mask every string inside a JSON value, in place. */
void vars_mask_json(struct vars *v, json_t *val);

#endif
