/*
 * status.h: kom-exec status (status.c).
 */
#ifndef KOM_EXEC_STATUS_H
#define KOM_EXEC_STATUS_H

#include "job.h"

/* One status record per applied deployment and stack, or with human a
 * table; the exit status. */
int status_run(struct exec_ctx *x, int human);

#endif
