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
 *
 * A consumer that reads records its own way (kom-plan skims them with
 * lib/jsonskim instead of building jansson trees) takes the raw lines
 * with jsonl_next_line and keeps the same rules and messages: it says
 * which line was the end record (jsonl_end) and lets jsonl_check_line
 * word what is wrong with a line it could not read.
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
	size_t limit;		/* cap on the whole stream in bytes, 0: none */
	json_t *end;		/* the end record once read, owned by reader */
	long errors;		/* "error" records seen (and returned) */
	size_t total;		/* bytes read so far */
	/* internal */
	struct buf buf;
	size_t pos;		/* jsonl_slurp: the next line's offset */
	int whole;		/* jsonl_slurp has read the stream */
	int ended;		/* the end record has been read */
	int rerr;		/* jsonl_slurp: errno of a read error */
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

/*
 * The next non-empty line, unparsed: 1 with *s and *len (len bytes, not
 * NUL-terminated; valid until the next call, or until jsonl_reader_free
 * after jsonl_slurp), 0 at EOF after the end record, -1 after a message:
 * a read error, a line over the cap, the stream over its limit, a last
 * line without a newline, data after the end record, EOF without one.
 * r->line is the line's number.
 */
int jsonl_next_line(struct jsonl_reader *r, const char **s, size_t *len);

/* The line jsonl_next_line just returned was the end record. */
void jsonl_end(struct jsonl_reader *r);

/*
 * Is line s (len bytes, the one just returned) a record, an object with
 * a string "kind", as jsonl_next requires?  0, or -1 after jsonl_next's
 * message for it.
 */
int jsonl_check_line(struct jsonl_reader *r, const char *s, size_t len);

/*
 * Read the rest of the stream into memory at once (presized for a
 * regular file); jsonl_next_line and jsonl_next then serve lines from
 * it, and the lines stay valid until jsonl_reader_free.  With r->limit
 * set, a stream longer than that is refused.  Returns the number of
 * lines that are not empty (a bound on the records), or -1 after a
 * message ("input longer than N bytes").  A read error is reported
 * where the lines read before it run out, as jsonl_next would.
 */
long jsonl_slurp(struct jsonl_reader *r);

/* The "kind" of a record, or "" when it has none. */
const char *jsonl_kind(const json_t *rec);

/* The string member key of o (borrowed), or def when o is no object or
 * the member is absent or not a string: every program's string getter. */
const char *jsonl_str(const json_t *o, const char *key, const char *def);

/* Write rec compactly as one line.  Returns 0, or -1 on a write error. */
int jsonl_write(FILE *fp, const json_t *rec);

/*
 * json_dumps(v, flags), but a fresh malloc'd string the caller free()s
 * whatever allocator jansson was given (json_dumps' result must go back
 * to jansson's: kom-sync gives it an arena).  NULL as json_dumps.
 */
char *jsonl_dumps(const json_t *v, size_t flags);

/* Write rec and drop the caller's reference to it. */
int jsonl_write_steal(FILE *fp, json_t *rec);

/*
 * Write an error record {"kind":"error","program":PROG,"message":msg}.
 * Used by a stage that must tell the next ones that it failed.
 */
int jsonl_write_error(FILE *fp, const char *msg);

#endif
