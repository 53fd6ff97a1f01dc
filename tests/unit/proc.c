/* Unit tests: lib/proc (argv children, input, output, status, timeout). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "buf.h"
#include "proc.h"
#include "tap.h"

int
main(void)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct proc_opts o = { 0 };
	int status = -1;

	signal(SIGPIPE, SIG_IGN);
	{
		char *argv[] = { "printf", "%s|", "a b", "$HOME", NULL };
		o.out = &out;
		is_int(proc_run(argv, &o, &status), 0, "run printf");
		is_int(status, 0, "exit 0");
		is_str(out.s, "a b|$HOME|", "argv is passed as is: no shell");
	}
	{
		char *argv[] = { "cat", NULL };
		buf_reset(&out);
		o.input = "hello\n";
		o.inlen = 6;
		proc_run(argv, &o, &status);
		is_str(out.s, "hello\n", "input reaches stdin");
		o.input = NULL;
		o.inlen = 0;
	}
	{
		char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3",
		    NULL };
		buf_reset(&out);
		o.err = &err;
		proc_run(argv, &o, &status);
		is_int(status, 3, "exit status kept");
		is_str(out.s, "out\n", "stdout apart");
		is_str(err.s, "err\n", "stderr apart");
		buf_reset(&out);
		o.err = &out;
		proc_run(argv, &o, &status);
		is_str(out.s, "out\nerr\n", "merged when err == out");
	}
	{
		char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
		proc_run(argv, &o, &status);
		is_int(status, 128 + SIGTERM, "death by signal is 128+N");
	}
	{
		char *argv[] = { "/nonexistent/program", NULL };
		errno = 0;
		is_int(proc_run(argv, &o, &status), -1,
		    "a program that cannot run: -1");
		is_int(status, PROC_EXEC, "the exec failed");
		is_int(errno, ENOENT, "with the child's errno");
		is_str(proc_failed_step(status), "cannot execute", "said so");
	}
	{
		char *argv[] = { "/etc/passwd", NULL };
		errno = 0;
		proc_run(argv, &o, &status);
		ok(status == PROC_EXEC && errno == EACCES,
		    "a file that is not executable: EACCES, not 127");
	}
	{
		char *argv[] = { "true", NULL };
		o.cwd = "/nonexistent/dir";
		errno = 0;
		is_int(proc_run(argv, &o, &status), -1,
		    "a cwd that does not exist: -1");
		is_int(status, PROC_CHDIR, "the chdir failed, not the exec");
		is_int(errno, ENOENT, "with the child's errno");
		o.cwd = "/";
		is_int(proc_run(argv, &o, &status), 0, "a good cwd runs");
		is_int(status, 0, "and exits 0");
		o.cwd = NULL;
	}
	{
		char *argv[] = { "sh", "-c", "exit 127", NULL };
		is_int(proc_run(argv, &o, &status), 0,
		    "a child that exits 127 itself ran");
		is_int(status, 127, "its status is kept");
	}
	{
		char *argv[] = { "sleep", "10", NULL };
		o.timeout_ms = 200;
		proc_run(argv, &o, &status);
		is_int(status, 137, "killed at the timeout");
		o.timeout_ms = 0;
	}
	{
		char *argv[] = { "pwd", NULL };
		buf_reset(&out);
		o.cwd = "/tmp";
		proc_run(argv, &o, &status);
		is_str(out.s, "/tmp\n", "runs in cwd");
		o.cwd = NULL;
	}
	{
		char *argv[] = { "head", "-c", "100000", "/dev/zero", NULL };
		buf_reset(&out);
		o.max = 1000;
		o.err = NULL;
		proc_run(argv, &o, &status);
		is_int(out.len, 1000, "output capped at max");
		is_int(status, 0, "and the child still ran to the end");
	}
	buf_free(&out);
	buf_free(&err);
	return done_testing();
}
