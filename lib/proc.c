#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdnoreturn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "proc.h"
#include "util.h"
#include "banned.h"

extern char **environ;

/* What the child sends back when it could not run argv[0]. */
struct child_failure {
	int step;		/* PROC_* */
	int err;		/* errno */
};

static noreturn void
child_fail(int report, int step)
{
	struct child_failure f = { step, errno };
	ssize_t n;

	do
		n = write(report, &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* report: the write end of a close-on-exec pipe, closed by a good exec. */
static noreturn void
child(char *const argv[], const struct proc_opts *o, int in, int out, int err,
    int report)
{
	int devnull = open("/dev/null", O_RDWR);

	if (devnull < 0)
		child_fail(report, PROC_START);
	if (dup2(in >= 0 ? in : devnull, 0) < 0 ||
	    dup2(out >= 0 ? out : devnull, 1) < 0 ||
	    dup2(err >= 0 ? err : devnull, 2) < 0)
		child_fail(report, PROC_START);
	if (o->cwd && chdir(o->cwd) < 0)
		child_fail(report, PROC_CHDIR);
	signal(SIGPIPE, SIG_DFL);
	if (o->envp)
		environ = (char **)o->envp;
	execvp(argv[0], argv);
	child_fail(report, PROC_EXEC);
}

/* The child's failure from the report pipe: 0 when it exec'd (EOF). */
static int
child_result(int report, struct child_failure *f)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*f)) {
		n = read(report, (char *)f + got, sizeof(*f) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got == sizeof(*f);
}

const char *
proc_failed_step(int status)
{
	switch (status) {
	case PROC_CHDIR:
		return "cannot change to the working directory";
	case PROC_EXEC:
		return "cannot execute";
	default:
		return "cannot start";
	}
}

static void
add_capped(struct buf *b, const char *p, size_t n, size_t max)
{
	if (b->len >= max)
		return;
	if (n > max - b->len)
		n = max - b->len;
	buf_add(b, p, n);
}

int
proc_run(char *const argv[], const struct proc_opts *o, int *status)
{
	static const struct proc_opts none;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int rep[2] = { -1, -1 };
	struct child_failure cf;
	size_t max, inoff = 0;
	long long deadline;
	char chunk[65536];
	int ws, killed = 0;
	pid_t pid;

	if (!o)
		o = &none;
	max = o->max ? o->max : 16u << 20;
	*status = PROC_START;
	if (pipe2(rep, O_CLOEXEC) < 0 ||
	    (o->input && pipe2(inp, O_CLOEXEC) < 0) ||
	    (o->out && pipe2(outp, O_CLOEXEC) < 0) ||
	    (o->err && o->err != o->out && pipe2(errp, O_CLOEXEC) < 0))
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child(argv, o, inp[0], outp[1],
		    o->err && o->err == o->out ? outp[1] : errp[1], rep[1]);
	close(rep[1]);
	rep[1] = -1;
	if (child_result(rep[0], &cf)) {
		/* it never ran argv[0]: reap it, say why */
		close(rep[0]);
		rep[0] = -1;
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		*status = cf.step;
		errno = cf.err;
		goto fail;
	}
	close(rep[0]);
	rep[0] = -1;
	if (inp[0] >= 0) close(inp[0]);
	if (outp[1] >= 0) close(outp[1]);
	if (errp[1] >= 0) close(errp[1]);
	if (inp[1] >= 0)
		fcntl(inp[1], F_SETFL, O_NONBLOCK);
	deadline = o->timeout_ms ? kom_mono_ms() + o->timeout_ms : 0;
	while (inp[1] >= 0 || outp[0] >= 0 || errp[0] >= 0) {
		struct pollfd pf[3] = {
			{ inp[1], POLLOUT, 0 }, { outp[0], POLLIN, 0 },
			{ errp[0], POLLIN, 0 },
		};
		int wait = -1, r;
		ssize_t n;

		if (deadline) {
			long long left = deadline - kom_mono_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				killed = 1;
				break;
			}
			wait = (int)left;
		}
		r = poll(pf, 3, wait);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (pf[0].revents) {
			n = write(inp[1], o->input + inoff, o->inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				inoff = o->inlen;
			if (inoff >= o->inlen) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		for (int i = 1; i < 3; i++) {
			int *fd = i == 1 ? &outp[0] : &errp[0];
			if (!pf[i].revents)
				continue;
			n = read(*fd, chunk, sizeof(chunk));
			if (n > 0) {
				add_capped(i == 1 ? o->out : o->err, chunk,
				    (size_t)n, max);
			} else if (n == 0 || errno != EINTR) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	if (inp[1] >= 0) close(inp[1]);
	if (outp[0] >= 0) close(outp[0]);
	if (errp[0] >= 0) close(errp[0]);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (killed)
		*status = 137;
	else if (WIFSIGNALED(ws))
		*status = 128 + WTERMSIG(ws);
	else
		*status = WEXITSTATUS(ws);
	return 0;
fail:
	{
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (rep[i] >= 0) close(rep[i]);
			if (inp[i] >= 0) close(inp[i]);
			if (outp[i] >= 0) close(outp[i]);
			if (errp[i] >= 0) close(errp[i]);
		}
		errno = e;
	}
	return -1;
}

char *
proc_tool(const char *name)
{
	char self[PATH_MAX], *dir, *p;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		dir = file_dirname(self);
		p = xasprintf("%s/%s", dir, name);
		free(dir);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return xstrdup(name);
}

int
proc_stage(char *const argv[], const char *name, const struct buf *in,
    struct buf *out, struct buf *why)
{
	struct proc_opts po;
	struct buf err = BUF_INIT;
	int status;

	memset(&po, 0, sizeof(po));
	po.input = in ? in->s : NULL;
	po.inlen = in ? in->len : 0;
	po.out = out;
	po.err = &err;
	po.max = 128u << 20;
	if (proc_run(argv, &po, &status) < 0) {
		buf_printf(why, "%s: %s: %s", argv[0],
		    proc_failed_step(status), strerror(errno));
		buf_free(&err);
		return 127;
	}
	if (err.len)
		fputs(err.s, stderr);
	if (status) {
		/* the last line it said, if any, is the reason */
		while (err.len && err.s[err.len - 1] == '\n')
			err.s[--err.len] = '\0';
		buf_printf(why, "%s exited %d%s%s", name, status,
		    err.len ? ": " : "", err.len ? (strrchr(err.s, '\n') ?
		    strrchr(err.s, '\n') + 1 : err.s) : "");
	}
	buf_free(&err);
	return status;
}
