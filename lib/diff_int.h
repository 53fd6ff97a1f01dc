/*
 * diff_int: what the files of the diff module share (diff.c: the diff;
 * diff_json.c: the JSON writer; diff_human.c: the human plan).  Not for
 * use outside lib/diff*.c.
 */
#ifndef KOM_DIFF_INT_H
#define KOM_DIFF_INT_H

#include <stdio.h>
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

/* An output record of a diff, with its sort key (diff.c). */
struct diff_entry {
	json_t *rec;		/* kept whole, or NULL: only its text */
	int rank;		/* diff_type_rank() of type */
	char *type, *name;
	char op;		/* 'c'reate, 'u'pdate, 'd'elete, 'k'eep */
	size_t off, len;	/* its text, in the stream's text */
	size_t roff, nrefs;	/* -H: the [[NAME]]s a kept deployment or
				 * stack uses, each NUL-terminated, in the
				 * stream's refs */
};

/* The record as its JSON line, appended to out (diff_json.c). */
void diff_format_one(const json_t *r, struct buf *out);

/*
 * The human plan (diff_human.c): the lines of one record into text (none
 * for a keep unless verbose) and what the plan's notes need into refs;
 * then the plan of the entries, in their order.
 */
struct buf;
void diff_human_entry(struct diff_entry *e, const json_t *r, struct buf *text,
    struct buf *refs, int color, int verbose);
struct diff_counts;
void diff_human_plan(FILE *fp, const struct diff_entry *v, size_t n,
    const char *text, const char *refs, const struct diff_counts *c,
    int color, int verbose);

#endif
