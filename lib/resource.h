/*
 * resource: Komodo resource files in, validated and normalized resource
 * records out (kom-json(5), "resource"; komodo-behaviour.md sections 0-3).
 *
 * resource_load() reads every PATH (a file, or a directory walked
 * recursively for *.toml), parses each file with Komodo's pre-processing
 * (backslashes inside """ strings are literal), checks every resource
 * against lib/schema.h, merges the fields onto their defaults, and checks
 * the references between resources: `after`, servers, procedure
 * execution targets, builds, builders, repos, [[VARIABLES]].
 *
 * Files are read in bytewise sorted order of their paths, whatever order
 * the PATHs were given in, so the result is deterministic.  Records come
 * in Komodo's apply order (section 2.5), then file order.  A record's
 * "source" is the path relative to the directory PATH it was found under
 * (the path as given for a file PATH); diagnostics use the full path.
 * Its "root" is the absolute directory that "source" is relative to (the
 * real path of the directory PATH, or of the current directory for a
 * relative file PATH; none for an absolute file PATH or in memory), so
 * that later stages never depend on their own current directory.
 *
 * Walking a directory, a *.toml entry that cannot be read (a dangling or
 * looping symbolic link, no permission) is an error naming it, and so is
 * a directory symbolic link back to a directory being walked (one line
 * per link): a missing file must never make its resources look deleted.
 *
 * Diagnostics are one line each, "PATH:LINE:COL: message" with
 * "warning: " before the message for warnings.  Columns count bytes of
 * the file; on a line where a """ string holds backslashes, columns after
 * them are mapped back to the file's.  Positions inside strings that use
 * escape sequences are approximate.
 */
#ifndef KOM_RESOURCE_H
#define KOM_RESOURCE_H

#include <stddef.h>
#include <jansson.h>
#include "buf.h"

#define RESOURCE_MAX_FILE (16u << 20)	/* one resource file: 16 MiB */

struct resource_opts {
	int strict;		/* warnings count (and print) as errors */
	/*
	 * Pull mode: keep only what this host applies.  When any deployment,
	 * stack or repo is assigned to a server (or a swarm), keep those
	 * assigned to server (a swarm's resources go to its first server),
	 * the [[server]] called server and no other server, and everything
	 * not tied to a server.  NULL, or no assignment at all: keep all.
	 */
	const char *server;
	/* Keep only resources having all these tags (variables and user
	 * groups are never filtered), as Komodo's match_tags. */
	const char *const *match_tags;
	size_t nmatch_tags;
	/*
	 * kom.toml's secrets_dir (NULL when not set), for the secret files
	 * that satisfy [[NAME]] references no [[variable]] defines and that
	 * override inline secret values: searched as lib/secrets says
	 * ($CREDENTIALS_DIRECTORY, then $KOM_SECRETS_DIR, this, or
	 * /etc/kom/secrets).
	 */
	const char *secrets_dir;
	/*
	 * The state dir, whose host key hashes and seals inline secret
	 * values (secrets.h; made on first need).  NULL: secret variables
	 * carry neither secret_hash nor secret_sealed (validate).
	 */
	const char *statedir;
	/*
	 * Resources that exist outside these files (the state dir): asked
	 * before a reference to an undeclared resource is reported.  Returns
	 * 1 when a resource of type (record type name) called name exists.
	 * NULL: only declared resources count.
	 */
	int (*known)(void *ctx, const char *type, const char *name);
	void *known_ctx;
	/*
	 * Each diagnostic line (without the "kom-sync: " prefix).  NULL:
	 * printed with kom_warn().
	 */
	void (*diag)(void *ctx, int is_error, const char *line);
	void *diag_ctx;
	/*
	 * When not NULL, set to how many of the errors were a path that
	 * could not be read (kom(7): exit 74 rather than 65).
	 */
	long *read_errors;
	/*
	 * Say, in one note per resource, what it declares that kom does not
	 * act on yet (support.h).  For kom-sync; a program that acts on
	 * some of it (kom-poll fetches repos) leaves it 0.
	 */
	int notes;
	/*
	 * Check only: the records are not wanted, so each is cut down, as
	 * soon as it is checked, to what the checks across files read
	 * (type, name, source, after_source, deploy, after, tags and the
	 * config's server, swarm and servers).  For kom-sync validate: the
	 * whole set of full records is ten times the size of those parts.
	 */
	int check_only;
	/*
	 * Check only: records of these types (a NULL-terminated list) are
	 * kept whole all the same, defaults merged (kom-sync diff reads the
	 * repos, builders and variables across records).
	 */
	const char *const *whole;
	/*
	 * Files checked on up to this many threads at once (0 or 1: one),
	 * one per RESOURCE_FILES_PER_THREAD files; what is said, in what
	 * order, and the records are the same whatever the number.
	 */
	int threads;
};

/*
 * Load paths.  *records_out is always set to a new array of resource
 * records (json objects as in kom-json(5), without "op"; the caller
 * json_decref()s it), possibly incomplete when there were errors.
 * Returns the number of errors (warnings included when strict); 0 means
 * the files are valid.  Unreadable paths are errors too.  Records may
 * share scalar values (defaults): replace a value, never change one in
 * place (json_string_set() and the like).
 */
long resource_load(const char *const *paths, size_t npaths,
    const struct resource_opts *opts, json_t **records_out);

/*
 * Every record whole, but never all of them at once (kom-sync diff: the
 * whole records of 10,000 resources are 100 MB of jansson values).
 * resource_check() is resource_load() with opts->check_only set (the same
 * diagnostics, errors and *records_out, records cut down but for the
 * types in opts->whole), and keeps the files' bytes; when it returns 0,
 * *pass is set and resource_rebuild() gives each record of *records_out
 * whole, exactly as resource_load() would have, without a diagnostic:
 * fn(ctx, rec, i), rec the caller's (json_decref) and i its index in
 * *records_out, one file at a time: on nthreads threads at once (at most
 * RESOURCE_MAX_THREADS; this one among them), each taking the next file,
 * so fn must be safe to call from several threads when nthreads > 1; the
 * records of one file come in their order, the files in no order.  A
 * thread stops at the first fn that returns nonzero, the others at the
 * end of the file at hand, and the rebuild returns the smallest nonzero
 * value returned (0 when all went); either way it frees pass (fn NULL:
 * only that).
 * Otherwise *pass is NULL.  opts is borrowed until the rebuild is done.
 */
struct resource_pass;
long resource_check(const char *const *paths, size_t npaths,
    const struct resource_opts *opts, json_t **records_out,
    struct resource_pass **pass);
#define RESOURCE_MAX_THREADS 8
#define RESOURCE_FILES_PER_THREAD 16
int resource_rebuild(struct resource_pass *pass, int nthreads,
    int (*fn)(void *ctx, json_t *rec, size_t i), void *ctx);
/* The bytes of the files a rebuild reads (what its threads share). */
size_t resource_pass_bytes(const struct resource_pass *pass);

/*
 * The same for one file's contents in memory (data need not be
 * NUL-terminated), called name in records and messages.
 */
long resource_load_mem(const char *name, const char *data, size_t len,
    const struct resource_opts *opts, json_t **records_out);

/*
 * Komodo's "double every backslash between \"\"\" and \"\"\"" on raw
 * bytes (section 0), appended to out.  Returns the number of backslashes
 * doubled.
 */
size_t resource_escape_triple(const char *in, size_t len, struct buf *out);

struct gitcfg;
/*
 * Stacks from git (repo or linked_repo, lib/gitsrc's rule): read offline
 * from the caches kom-poll fetched under reposdir (STATE/repos), each
 * such record gets a member "git": {"remote", "domain" and "account"
 * (whose credentials fetch it), "branch", "commit" (the
 * pinned commit, else the cached head of the branch), "files": {PATH:
 * {"sha256" (null: not in the commit), "requires" ("Redeploy" for the
 * compose and tracked env files, a config file's own, "None" by
 * default)}}}, PATH as declared, relative to run_directory inside the
 * checkout.  A source that is not fetched yet is one line naming the
 * record and "run kom-poll fetch".  Builds and [[repo]] records from git
 * get the same member without "files" (their commit), and none while not
 * fetched (kom-exec then fetches).  Returns 0, or -1 after such lines.
 */
int resource_git(json_t *records, const struct gitcfg *g,
    const char *reposdir);
/*
 * The same for one record (rec) of records (where its linked_repo is
 * looked for: the declared repos will do): 0, or -1 with the line
 * appended to msg instead of printed.
 */
int resource_git_one(json_t *rec, const json_t *records,
    const struct gitcfg *g, const char *reposdir, struct buf *msg);
/*
 * The checkout (*dir, fresh) of the commit a record of a resource_sync (or
 * any record gitsrc_record() reads, its linked_repo among records) takes
 * its files from, and that commit in hex, as kom-poll fetch made it: 1; 0
 * when it has no git source; -1 with err set.
 */
int resource_git_checkout(const struct gitcfg *g, const json_t *rec,
    const json_t *records, const char *reposdir, char hex[41], char **dir,
    struct buf *err);
/*
 * Records in which the [[repo]] name a sync's linked_repo names can be
 * found: declared (borrowed; a new reference to it is returned) when it
 * is there, else the applied record of STATE (statedir) as a one-record
 * array, as Komodo reads a linked Repo from what it holds.  NULL when
 * neither has it.
 */
json_t *resource_git_linked(const char *statedir, const json_t *declared,
    const char *name);

struct config;
struct config_sync;
/*
 * The files a sync reads, the one rule for every program that reads them
 * (kom-sync diff, kom-poll webhook and images): its resource_path under
 * its directory (none: the directory), returning 0; for a sync whose
 * files are in git (its own repo, or the applied [[repo]] of statedir its
 * linked_repo names), under the checkout of the commit kom-poll fetch
 * resolved in statedir/repos (resource_git_checkout(), hex set), where no
 * path may leave the repository, returning 1.  *paths (npaths of them, at least one) is
 * fresh: free each and the array.  -1 with one line (file:line) in err.
 */
int resource_sync_paths(const struct config *cfg,
    const struct config_sync *sy, const char *statedir, char ***paths,
    size_t *npaths, char hex[41], struct buf *err);
/*
 * The joining step alone: sy's resource_path onto base (its directory, or
 * a checkout when inside is set, which no path may leave), as above.
 */
int resource_sync_join(const struct config *cfg,
    const struct config_sync *sy, const char *base, int inside,
    char ***paths, size_t *npaths, struct buf *err);

#endif
