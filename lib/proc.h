/*
 * proc: run a child process from an argv array, never through a shell.
 *
 * proc_run() forks and execs argv[0] (searched in PATH), feeds it input on
 * stdin, collects stdout and stderr, and waits for it.  It returns 0 once
 * the child has been waited for, with *status set to its exit status, or
 * 128+N when signal N killed it.  It returns -1 with errno set when the
 * child never ran argv[0], and *status says which step failed: PROC_START
 * (a pipe or fork, in this process), PROC_CHDIR (the child could not
 * change to cwd) or PROC_EXEC (it could not execute argv[0]); errno is
 * the child's, passed back through a close-on-exec pipe.  A caller that
 * gives input must ignore SIGPIPE, since the child may exit without
 * reading it.
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

enum { PROC_START = -1, PROC_CHDIR = -2, PROC_EXEC = -3 };

int proc_run(char *const argv[], const struct proc_opts *o, int *status);

/* What a PROC_* status says, for messages: "cannot change to the working
 * directory", ... */
const char *proc_failed_step(int status);

/*
 * One stage of a pipeline of kom programs: run argv with in (NULL: none)
 * on stdin and stdout into out (NULL: discarded, at most 128 MiB), the
 * child's stderr passed on to ours.  Returns its exit status (0: ok),
 * 127 when it never ran; otherwise why gets one line, "NAME exited N:
 * its last line of stderr" or why it never ran.
 */
int proc_stage(char *const argv[], const char *name, const struct buf *in,
    struct buf *out, struct buf *why);
/*
 * The path of kom program name to run: beside this process's own binary
 * (an installed set, or a build tree) when there, else name itself (for
 * PATH).  Fresh.
 */
char *proc_tool(const char *name);
#endif
