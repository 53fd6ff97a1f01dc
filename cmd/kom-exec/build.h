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

/*
 * A deployment's config (cfg, the job's own copy): an image of type
 * "Build" becomes that build's image as this host last built it, at its
 * params.version ("0.0.0": the latest built version) by its version
 * tag.  0 (also for any other image type), or -1 after job_fail: the
 * build was never built here.
 */
int build_deployment_image(struct job *j, json_t *cfg);

#endif
