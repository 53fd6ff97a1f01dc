/*
 * vars: [[VAR]] interpolation at the time a value is used, with the state
 * dir's variables and secret files, and the masking of the secrets it
 * used (vars.c).  kom-exec's (apply time) and kom-alert's (endpoint URLs
 * and credentials at send time): it knows nothing of either.
 */
#ifndef KOM_EXEC_VARS_H
#define KOM_EXEC_VARS_H

#include <jansson.h>

#include "buf.h"

struct vars;
struct vars *vars_load(const char *statedir, const char *secrets_dir);
void vars_free(struct vars *v);
/*
 * Expand [[NAME]] in one string: a fresh *out.  Returns 0, or -1 with
 * err set ("undefined variable 'X'").
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
