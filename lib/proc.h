/*
 * proc: run a child process from an argv array, never through a shell.
 *
 * proc_run() forks and execs argv[0] (searched in PATH), feeds it input on
 * stdin, collects stdout and stderr, and waits for it.  It returns 0 once
 * the child has been waited for, with *status set to its exit status, or
 * 128+N when signal N killed it, or 127 when it could not be executed;
 * -1 with errno when it could not be started at all.  A caller that gives
 * input must ignore SIGPIPE, since the child may exit without reading it.
 */
#ifndef KOM_PROC_H
#define KOM_PROC_H

#include <stddef.h>

#include "buf.h"

struct proc_opts {
	const char *cwd;	/* NULL: the caller's */
	char *const *envp;	/* NULL: the caller's environment */
	const char *input;	/* NULL: stdin is /dev/null */
	size_t inlen;
	struct buf *out;	/* NULL: stdout is discarded */
	struct buf *err;	/* NULL: stderr is discarded; == out: merged */
	size_t max;		/* per-stream cap, 0 = 16 MiB; excess dropped */
	int timeout_ms;		/* 0: none; on expiry SIGKILL, status 137 */
};

int proc_run(char *const argv[], const struct proc_opts *o, int *status);

#endif
