/*
 * stack.h: the stack kind (stack.c), through the compose CLI.
 */
#ifndef KOM_EXEC_STACK_H
#define KOM_EXEC_STACK_H

#include "job.h"

void deploy_stack(struct job *j, int ensure);
void destroy_stack(struct job *j);
void lifecycle_stack(struct job *j);
/* The status record of an applied stack (j->resource, j->d). */
json_t *stack_status(struct job *j);

#endif
