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

#endif
