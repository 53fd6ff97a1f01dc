/*
 * git: kom's git repositories over libgit2 (kom-poll(1), kom(7) "repos/").
 * The prefix is kgit_: libgit2 owns git_.
 *
 * Each remote has one cache directory under REPOS (STATE/repos):
 *
 *	REPOS/KEY/repo.git	a bare repository; its config holds the remote
 *				URL without credentials (kom.url), its
 *				remote-tracking refs (refs/remotes/origin/BRANCH)
 *				are what the last good fetch saw
 *	REPOS/KEY/COMMIT/	one checkout per commit, shared by every
 *				resource that uses it, made in a temporary
 *				directory and renamed into place
 *	REPOS/KEY/lock		flock held while the cache is open; what a
 *				killed process left (temporary checkouts, lock
 *				files, half-received packs) is removed under it
 *
 * KEY is the first 12 hex digits of the SHA-256 of the URL, a dash and the
 * URL's last path element ("3f9a0c61d2e4-homelab").
 *
 * Credentials never reach a URL, a file or a message: the token goes to
 * libgit2 through its credential callback only, and every libgit2 error
 * string is masked ("<token>") before it is returned.  A fetch runs in a
 * child process that is killed at its deadline, so a server that hangs
 * costs the timeout and nothing else.
 *
 * Errors come back as -1 (or a negative KGIT_E_* class) with one line in
 * *err (lowercase, no trailing period, naming the remote); nothing is
 * printed.  Functions that take a struct buf *err reset it first.
 */
#ifndef KOM_KGIT_H
#define KOM_KGIT_H

#include <stddef.h>

#include "buf.h"

#define KGIT_HEX 41		/* a full SHA-1 in hex and its NUL */
#define KGIT_MAX_FILE (16u << 20)

/* Failure classes (kgit_fetch()). */
enum {
	KGIT_E_UNAVAILABLE = -2,	/* no answer: refused, timed out, 5xx */
	KGIT_E_AUTH = -3,	/* credentials refused, or none and needed */
	KGIT_E_NOTFOUND = -4,	/* no such repository, branch or commit */
	KGIT_E_OTHER = -5	/* anything else (local disk, corrupt pack) */
};

struct kgit_auth {
	const char *username;	/* NULL: anonymous */
	const char *token;	/* password for http(s); NULL: none */
	const char *ssh_key;	/* private key file for ssh; NULL: none */
	const char *known_hosts;/* ssh host keys; NULL: ~/.ssh/known_hosts */
};

struct kgit_repo;

/*
 * The remote URL Komodo builds for provider (a host or host:port) and repo
 * ("namespace/name"): "https://PROVIDER/REPO" (http:// when !https).  A
 * repo that is already a URL (ssh://, http://, https://, file://) is used
 * as it is.  Credentials inside the URL are refused.  Appends to out;
 * returns 0, or -1 with the reason in *err.
 */
int kgit_remote_url(const char *provider, int https, const char *repo,
    struct buf *out, struct buf *err);

/* The host[:port] of url, without a user name, fresh. */
char *kgit_url_host(const char *url);

/* The cache directory name of url (see above), fresh. */
char *kgit_cache_key(const char *url);

/*
 * Open (creating when missing) the cache of url under reposdir, waiting
 * for its lock.  *out is the caller's, released with kgit_close().
 */
int kgit_open(const char *reposdir, const char *url, struct kgit_repo **out,
    struct buf *err);
void kgit_close(struct kgit_repo *r);
/* REPOS/KEY, owned by r. */
const char *kgit_dir(const struct kgit_repo *r);

/* What kgit_fetch() did. */
struct kgit_fetch_stats {
	int moved;		/* the remote's branches differed from the cache */
	int downloaded;		/* a pack was asked for */
};

/*
 * Bring the remote-tracking refs up to date with the remote's branches
 * (deleted branches are pruned).  One round trip (the ref advertisement)
 * when nothing moved.  timeout_ms bounds the whole fetch.  Returns 0, or
 * a KGIT_E_* class with the reason in *err; the cache keeps what it had.
 * The fetch runs in a forked child that dies with its parent: in a
 * threaded program, no other thread may be inside libgit2 meanwhile.
 */
int kgit_fetch(struct kgit_repo *r, const struct kgit_auth *auth,
    int timeout_ms, struct kgit_fetch_stats *st, struct buf *err);

/*
 * The commit the cache has for branch: 0 and hex set, or KGIT_E_NOTFOUND
 * when the branch is not there (never fetched, or gone).
 */
int kgit_branch_commit(struct kgit_repo *r, const char *branch,
    char hex[KGIT_HEX], struct buf *err);

/* fn(ctx, BRANCH, HEX) for every branch the cache has; 0, or -1. */
int kgit_branches(struct kgit_repo *r,
    void (*fn)(void *ctx, const char *branch, const char *hex), void *ctx);

/*
 * A pinned commit (full or at least 7 hex digits) that one of the remote's
 * branches contains: 0 and its full hex, or KGIT_E_NOTFOUND.
 */
int kgit_pinned_commit(struct kgit_repo *r, const char *commit,
    char hex[KGIT_HEX], struct buf *err);

/*
 * The checkout of commit hex, made when missing: *dir (fresh) is
 * REPOS/KEY/HEX.  A checkout that exists is complete.
 */
int kgit_checkout(struct kgit_repo *r, const char *hex, char **dir,
    struct buf *err);

/* The file path at commit hex appended to out; KGIT_E_NOTFOUND if absent. */
int kgit_read_file(struct kgit_repo *r, const char *hex, const char *path,
    struct buf *out, struct buf *err);

/*
 * The paths that differ between commits from and to (from NULL: every
 * path of to), sorted and unique, each a fresh string in *paths (the
 * caller frees them and the array).
 */
int kgit_changed(struct kgit_repo *r, const char *from, const char *to,
    char ***paths, size_t *npaths, struct buf *err);

/*
 * Does OpenSSH known_hosts text (len bytes) hold the raw host key (klen
 * bytes) for host ("name", or "[name]:port")?  1 yes, 0 no, -1 when the
 * key is marked @revoked for it.  Plain and hashed (|1|salt|hash) names;
 * wildcards and @cert-authority lines are not followed.
 */
int kgit_known_host(const char *text, size_t len, const char *host,
    const void *key, size_t klen);

/* "ssh" when libgit2 has its ssh transport here, else NULL. */
const char *kgit_has_ssh(void);

#endif
