/*
 * repo.h: the repo kind (repo.c), called by run.c for a repo's record
 * step.
 */
#ifndef KOM_EXEC_REPO_H
#define KOM_EXEC_REPO_H

#include "job.h"

/*
 * Bring [[repo]] j->resource to its branch or pinned commit where it is
 * declared, run on_clone or on_pull, write its env file.  The record's
 * "exec" object (commit, path) in a fresh object, or NULL after
 * job_fail.  Nothing is changed when the fetch or the resolve fails.
 */
json_t *repo_apply(struct job *j);

/* For builds too: */
struct gitsrc;
/* Fetch src (STATE/repos) and resolve its branch or commit: 0 with hex
 * and *dir (fresh: the cache's checkout, shared, not to be changed), or
 * -1 after job_fail naming j's resource. */
int repo_fetch(struct job *j, const struct gitsrc *src, char hex[41],
    char **dir);
/* Copy dir to path, replacing what was there atomically; 0, or -1. */
int repo_place(struct job *j, const char *dir, const char *path);
/*
 * Bring path to commit to (dir: its checkout in the cache, url the
 * remote) from commit from, which path held (NULL or "": nothing kom
 * recorded there).  A clone copies the checkout (repo_place) and never
 * takes over a directory that holds anything; a pull does what git pull
 * does: the paths that differ between the commits are copied over or
 * removed, what git does not track stays; with reclone a new commit
 * replaces the whole directory instead.  1 cloned, 2 pulled, 3 cloned
 * again, 0 already there (nothing touched), -1 after job_fail.
 */
int repo_update(struct job *j, const char *url, const char *from,
    const char *to, const char *dir, const char *path, int reclone);
/* Run hook `which` of cfg ({path, command}: /bin/sh -c) in path[/its
 * path]; its output into j->detail[which]; 0, or -1 after job_fail. */
int repo_hook(struct job *j, const json_t *cfg, const char *which,
    const char *path);

#endif
