/*
 * run.h: the plan runner (run.c): kom-plan's steps, stage by stage.
 */
#ifndef KOM_EXEC_RUN_H
#define KOM_EXEC_RUN_H

#include <stdio.h>

#include "job.h"

/* Read the plan in file (NULL: stdin) to its end, then apply it; the
 * exit status. */
int apply_main(struct exec_ctx *x, const char *file, int nowait);
/*
 * The same for a plan read from fp (name for messages); counts, when not
 * NULL, gets the steps' JOB_* counts.
 */
int apply_stream(struct exec_ctx *x, FILE *fp, const char *name, int nowait,
    int counts[4]);
/* Run one job by its action and type (also the lifecycle commands'). */
void job_run(struct job *j);
/* Write the step's result record (masked); -1 when stdout fails. */
int write_result(struct exec_ctx *x, struct job *j, long id,
    const char *reason, long ms);

#endif
