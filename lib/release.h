/*
 * release: the numbered releases of a deployment or stack in the state
 * dir (kom-exec(1) RELEASES, kom-json(5) release records).
 *
 *	STATE/releases/<type>/<encoded name>.jsonl	one line per release
 *
 * Every successful deploy appends one record, numbered from 1 in the
 * order of the file.  Appends are one write(2) of a whole line followed
 * by fsync, made by kom-exec under the applier's lock (STATE/lock), so
 * numbers never repeat; a line cut short by a crash (no final newline,
 * or not a JSON object) is ignored by the reader and its number is
 * taken again by the next append.  Names are encoded as state_path()
 * encodes them.  Files are mode 0600: a record holds the applied
 * resource, as STATE/resources does.
 *
 * Errors: one diagnostic on stderr naming the file, and -1; arguments
 * are borrowed, results owned by the caller.
 */
#ifndef KOM_RELEASE_H
#define KOM_RELEASE_H

#include <jansson.h>

#define RELEASE_MAX_FILE (64u << 20)	/* one resource's releases: 64 MiB */

/*
 * All releases of type/name: *out = an array of records in release
 * order (each with its integer "release").  Never released: an empty
 * array.
 */
int release_load(const char *statedir, const char *type, const char *name,
    json_t **out);

/*
 * Append rec (an object; borrowed) as the next release of type/name:
 * sets rec's "release" to its number first.  The number, or -1.
 */
long release_append(const char *statedir, const char *type,
    const char *name, json_t *rec);

#endif
