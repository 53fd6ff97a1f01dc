/*
 * deployment.h: the deployment kind (deployment.c).
 */
#ifndef KOM_EXEC_DEPLOYMENT_H
#define KOM_EXEC_DEPLOYMENT_H

#include "job.h"

/* deploy (ensure 0) or ensure a deployment: health-gated replacement. */
void deploy_deployment(struct job *j, int ensure);
void destroy_deployment(struct job *j);
/* start, stop, restart, pause, unpause, pull */
void lifecycle_deployment(struct job *j);
/* The status record of an applied deployment (j->resource, j->d). */
json_t *deployment_status(struct job *j);

/*
 * May deployment name go without its stage's container list (settle.h):
 * settled, nothing of it in the engine's log, its image named without
 * a registry (one with a registry is pulled, which needs the container
 * found)?  resource is its record.
 */
int deployment_settled(struct exec_ctx *x, const char *name,
    const json_t *resource);

#endif
