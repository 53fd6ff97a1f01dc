/*
 * jsonl: the JSON lines that kom's programs pass down a pipe (kom-json(5)).
 *
 * One JSON object per line, each with a string "kind".  A complete stream
 * ends with a {"kind":"end",...} record; EOF before it means the producer
 * died halfway, and the reader reports the stream as truncated so that the
 * consumer applies nothing.
 *
 * The reader owns its line buffer; each record it returns is owned by the
 * caller (json_decref).  Errors are reported on stderr as
 * "PROG: NAME:LINE: message" and returned as -1.
 */
#ifndef KOM_JSONL_H
#define KOM_JSONL_H

#include <stdio.h>
#include <jansson.h>

#include "buf.h"

#define JSONL_MAX_LINE (64u << 20)	/* one record: 64 MiB */

struct jsonl_reader {
	FILE *fp;		/* not owned */
	const char *name;	/* for messages: a path or "<stdin>" */
	long line;		/* lines read so far */
	size_t max;		/* line length cap, JSONL_MAX_LINE by default */
	json_t *end;		/* the end record once read, owned by reader */
	long errors;		/* "error" records seen (and returned) */
	struct buf buf;
};

void jsonl_reader_init(struct jsonl_reader *r, FILE *fp, const char *name);
void jsonl_reader_free(struct jsonl_reader *r);

/*
 * Read the next record.  Returns 1 and sets *rec for each record before
 * the end record (including "error" records, which are also counted),
 * 0 when the end record has been read (r->end), and -1 after printing a
 * message when the input is malformed, over the cap, has anything after
 * the end record, or stops without one ("truncated input").
 */
int jsonl_next(struct jsonl_reader *r, json_t **rec);

/* The "kind" of a record, or "" when it has none. */
const char *jsonl_kind(const json_t *rec);

/* The string member key of o (borrowed), or def when o is no object or
 * the member is absent or not a string: every program's string getter. */
const char *jsonl_str(const json_t *o, const char *key, const char *def);

/* Write rec compactly as one line.  Returns 0, or -1 on a write error. */
int jsonl_write(FILE *fp, const json_t *rec);

/* Write rec and drop the caller's reference to it. */
int jsonl_write_steal(FILE *fp, json_t *rec);

/*
 * Write an error record {"kind":"error","program":PROG,"message":msg}.
 * Used by a stage that must tell the next ones that it failed.
 */
int jsonl_write_error(FILE *fp, const char *msg);

#endif
