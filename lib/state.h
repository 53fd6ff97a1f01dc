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
 * Hashes: state_save() starts each file with two keys of its own,
 *
 *	{"kom_hash":"<hex>","kom_sum":"<hex>",...the record...}
 *
 * kom_hash is state_record_hash() of the record: kom-sync diff compares it
 * with the declared record's and, when equal, knows the resource is kept
 * without parsing the file.  kom_sum is the SHA-256 of the type, the name
 * and every byte after the two keys, so that a file edited, renamed or
 * moved by hand is no longer trusted and is read in full as before.  The
 * loaders drop both keys: no record returned here carries them.  Files
 * without them (older kom-exec, hand-written) are read in full.
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
 * The applied resources of one type: *out = an array of records in the
 * order of their file names, read as state_load_all() reads them (hash
 * keys dropped, the same errors).  A type never applied is an empty
 * array.  The one reader for programs that need a type, not the state.
 */
int state_load_type(const char *statedir, const char *type, json_t **out);

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

/*
 * The hash kom-sync diff compares (SHA-256, 32 bytes into out): of the
 * record's type, name, description, tags, template, deploy, after, config
 * and secret, in that order, each absent or as its JSON value, objects in
 * their key order, then secret_hash when present (not secret_sealed: its
 * nonce differs every time).  Equal hashes mean those fields are equal JSON values;
 * different hashes mean nothing (e.g. keys in another order).
 */
void state_record_hash(const json_t *record, unsigned char out[32]);

/*
 * A state dir read for a diff: every resource file read, the trusted ones
 * (see Hashes above) parsed only when asked for (and read again then:
 * only their hashes are kept).  state_set_load() returns
 * NULL after a diagnostic when state_load_all() would fail, for the same
 * reasons; a missing state dir is an empty set.  Not thread-safe: one
 * thread at a time may use a set (it may be loaded in another).
 */
struct state_set;
struct state_set *state_set_load(const char *statedir);
/* A set over {type: {name: record}} (borrowed; kept referenced): no hashes. */
struct state_set *state_set_wrap(json_t *all);
void state_set_free(struct state_set *set);
/* Whether type/name was applied. */
int state_set_has(const struct state_set *set, const char *type,
    const char *name);
/* The trusted kom_hash of type/name (32 bytes), or NULL: absent or unknown. */
const unsigned char *state_set_hash(const struct state_set *set,
    const char *type, const char *name);
/*
 * Whether record (with string type and name) is known equal, in every
 * field state_record_hash() covers, to the applied record of its type and
 * name: 1 when that one's trusted hash equals record's; 0 otherwise
 * (different, not applied, or no trusted hash: compare them in full).
 */
int state_set_same(struct state_set *set, const json_t *record);
/*
 * The record of type/name, borrowed from the set (parsed on first use), or
 * NULL: errno ENOENT when not applied; otherwise after a diagnostic.
 */
json_t *state_set_get(struct state_set *set, const char *type,
    const char *name);
/*
 * For readers on several threads (kom-sync diff), what state_set_get()
 * does in two halves: state_set_held() is the record if the set holds it
 * parsed (a new reference), else NULL, and is called under the caller's
 * lock with state_set_get() and state_set_forget(); state_set_read() parses
 * it anew (a new reference; NULL as state_set_get()), keeps nothing and
 * needs no lock.
 */
json_t *state_set_held(struct state_set *set, const char *type,
    const char *name);
json_t *state_set_read(const struct state_set *set, const char *type,
    const char *name);
/*
 * The record of type/name is not needed for now: a trusted one gives its
 * memory back (state_set_get() reads its file again), any other stays.
 * Records got before are no longer valid.
 */
void state_set_forget(struct state_set *set, const char *type,
    const char *name);
/* The number of applied resources, and the i-th (in type then name
 * order of the files; type and name borrowed). */
size_t state_set_count(const struct state_set *set);
void state_set_at(const struct state_set *set, size_t i, const char **type,
    const char **name);

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
