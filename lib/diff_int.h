/*
 * diff_int: what the files of the diff module share (diff.c: the diff;
 * diff_json.c: the JSON writer; diff_human.c: the human plan).  Not for
 * use outside lib/diff*.c.
 */
#ifndef KOM_DIFF_INT_H
#define KOM_DIFF_INT_H

#include <jansson.h>
#include "jsonl.h"

/* o's string member key, or "" (borrowed). */
static inline const char *
sget(const json_t *o, const char *key)
{
	return jsonl_str(o, key, "");
}

/*
 * The [[NAME]] references in the strings of v, each name once, as keys
 * of names (syntax errors were the resource layer's to report).
 */
void diff_collect_refs(const json_t *v, json_t *names);

#endif
