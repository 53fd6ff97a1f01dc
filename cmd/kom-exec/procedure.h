/*
 * procedure.h: kom-exec procedure and kom-exec timers (procedure.c).
 */
#ifndef KOM_EXEC_PROCEDURE_H
#define KOM_EXEC_PROCEDURE_H

#include "job.h"

/*
 * Run the applied procedure name (scheduled: a timer started it); the
 * exit status of the run, as apply_main's.
 */
int procedure_run(struct exec_ctx *x, const char *name, int scheduled,
    int nowait);
/*
 * Write a timer unit into dir for each applied procedure with an enabled
 * schedule, and its timers.target.wants link; 0, or 74 after a message
 * (a procedure whose schedule cannot be read is a warning, no timer).
 */
int timers_run(struct exec_ctx *x, const char *dir);

#endif
