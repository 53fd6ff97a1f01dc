/* stack.c: stacks through the compose CLI (lib/compose). */
#include "exec.h"
#include "banned.h"

void
deploy_stack(struct job *j, int ensure)
{
	(void)ensure;
	job_fail(j, "stacks are not supported yet");
}

void
destroy_stack(struct job *j)
{
	job_fail(j, "stacks are not supported yet");
}

void
lifecycle_stack(struct job *j)
{
	job_fail(j, "stacks are not supported yet");
}

json_t *
stack_status(struct job *j)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:n}", "kind", "status", "type",
	    "stack", "name", j->name, "state", "unknown", "drift");
}
