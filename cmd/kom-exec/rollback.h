/*
 * rollback.h: releases and rollback (rollback.c), called by run.c after a
 * deploy and by kom-exec.c's `releases` and `rollback`.  Below run.c,
 * above deployment.c's level only in what it reads: it never deploys.
 */
#ifndef KOM_EXEC_ROLLBACK_H
#define KOM_EXEC_ROLLBACK_H

#include "job.h"

/*
 * After a deploy that replaced something (j->deployed, status ok, not a
 * dry run): append the next release of j's resource, with what the state
 * record says was applied and the image's digest from the engine (j->d).
 * A release that cannot be written is a warning in the result's detail,
 * not a failed step: the deploy happened.
 */
void release_record(struct job *j);

/*
 * The RepoDigests entry of image's repository ("repo@sha256:...") in an
 * image's inspect object, or NULL: an image built here and never pushed
 * or pulled has none.  Borrowed from in.
 */
const char *release_repo_digest(const json_t *in, const char *image);

/* kom-exec releases: the releases of type/name on stdout (-H a table). */
int releases_run(struct exec_ctx *x, const char *type, const char *name,
    int human);

/*
 * The resource record that redeploys release n of type/name exactly (its
 * applied record, the image by digest or id), in *out; n 0: the release
 * before the last.  0, or after a message the exit status (65: no such
 * release, 74: the file).  *got is the release's number.
 */
int release_rollback_resource(struct exec_ctx *x, const char *type,
    const char *name, long n, long *got, json_t **out);

#endif
