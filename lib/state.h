/*
 * state: the state directory, what kom last applied (kom(7), kom-json(5)).
 *
 *	STATE/resources/<type>/<name>.json	one applied resource record
 *	STATE/history/<YYYY-MM>.jsonl		one line per step carried out
 *	STATE/lock				flock held by the applier
 *
 * Written only by kom-exec, read by kom-sync diff.  A resource file holds
 * the resource record as kom-sync emitted it minus kind/op/changes/
 * deploy_changes, plus "applied_at" and "exec".  Files are replaced
 * atomically (tmp + fsync + rename + fsync dir), mode 0644.
 *
 * Names in file names: the resource layer's normalized names are already
 * file-safe except for '/', and a leading '.' would hide the file or name
 * "." / "..".  state_path() writes '%' as %25, '/' as %2F, a leading '.'
 * as %2E and control bytes as %XX; state_name_decode() reverses it.
 * Types must match [a-z_]+ so that no type can leave STATE/resources.
 *
 * Errors: every function that can fail prints one diagnostic on stderr
 * naming the file ("kom-X: PATH: message") and returns -1 or NULL, except
 * where said otherwise.  Results are owned by the caller (free / json_decref);
 * arguments are borrowed.
 */
#ifndef KOM_STATE_H
#define KOM_STATE_H

#include <jansson.h>

#define STATE_MAX_FILE (16u << 20)	/* one resource file: 16 MiB */

/*
 * All applied resources: *out = {type: {name: record}}.  A missing state
 * directory (or resources/ under it) is an empty state, not an error.
 * Files not ending in ".json" (e.g. temporaries) are skipped.  The name
 * key is the record's "name" (the decoded file name when it has none).
 * A file that is not a JSON object is an error naming it.
 */
int state_load_all(const char *statedir, json_t **out);

/*
 * One applied resource.  Returns NULL with errno ENOENT and no message
 * when it was never applied; NULL with a message on any other failure.
 */
json_t *state_load(const char *statedir, const char *type, const char *name);

/*
 * Record record (an object with string "type" and "name") as applied,
 * atomically.  Creates the directories as needed.
 */
int state_save(const char *statedir, const json_t *record);

/* Forget a resource.  Removing one that is not there is not an error. */
int state_remove(const char *statedir, const char *type, const char *name);

/*
 * Append entry as one line to STATE/history/<YYYY-MM>.jsonl (UTC month of
 * its "ts", unix ms, or of now when it has none) and fsync it.
 */
int state_history_append(const char *statedir, const json_t *entry);

/*
 * STATE/resources/<type>/<encoded name>.json, in a fresh string.  Returns
 * NULL, printing nothing, with errno EINVAL when type is not [a-z_]+ or
 * name is empty.
 */
char *state_path(const char *statedir, const char *type, const char *name);

/* The file-name form of name (see above) and back, in fresh strings. */
char *state_name_encode(const char *name);
char *state_name_decode(const char *enc);

/*
 * Take the applier's lock, STATE/lock (created as needed).  With wait,
 * block; without, return -1 with errno EWOULDBLOCK, printing nothing, when
 * another applier holds it.  Returns the descriptor: close it to release.
 */
int state_lock(const char *statedir, int wait);

#endif
