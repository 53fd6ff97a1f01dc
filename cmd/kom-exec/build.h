/*
 * build.h: the build kind (build.c), called by run.c for a build's
 * record step.
 */
#ifndef KOM_EXEC_BUILD_H
#define KOM_EXEC_BUILD_H

#include "job.h"

/*
 * Build [[build]] j->resource through the Engine API and push its tags:
 * the record's "exec" object (version, commit, image, tags, id, digest)
 * in a fresh object, or NULL after job_fail (nothing running touched).
 */
json_t *build_apply(struct job *j);

#endif
