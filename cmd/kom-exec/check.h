/*
 * check.h: kom-exec check (check.c), live state and host against what
 * was applied, alerts into the spool.
 */
#ifndef KOM_EXEC_CHECK_H
#define KOM_EXEC_CHECK_H

#include "job.h"

/* One check: 0 (alerts are data), 75 when the engine does not answer. */
int check_run(struct exec_ctx *x);

#endif
