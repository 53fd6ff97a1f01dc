/* Unit tests: lib/file (atomic writes, reads with a cap, locks, mkdir -p). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "proc.h"
#include "util.h"
#include "tap.h"

int
main(void)
{
	char dir[] = "/tmp/kom-file-test.XXXXXX";
	struct buf b = BUF_INIT;
	struct stat st;
	char *p, *q;
	int fd, fd2;

	if (!mkdtemp(dir))
		return 1;
	p = xasprintf("%s/a/b/c", dir);
	is_int(file_mkdir_p(p, 0755), 0, "mkdir -p makes every level");
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "the directory exists");
	is_int(file_mkdir_p(p, 0755), 0, "mkdir -p of an existing dir is fine");
	q = xasprintf("%s/x.json", p);
	is_int(file_write_atomic(q, "one", 3, 0600), 0, "atomic write");
	is_int(file_read(q, &b, 100), 0, "read back");
	is_str(b.s, "one", "content");
	ok(stat(q, &st) == 0 && (st.st_mode & 0777) == 0600, "mode applied");
	is_int(file_write_atomic(q, "two!", 4, 0644), 0, "atomic replace");
	buf_reset(&b);
	file_read(q, &b, 100);
	is_str(b.s, "two!", "replaced content");
	buf_reset(&b);
	errno = 0;
	is_int(file_read(q, &b, 2), -1, "read over the cap fails");
	is_int(errno, EFBIG, "with EFBIG");
	is_int(file_append_sync(q, "+", 1, 0644), 0, "append");
	buf_reset(&b);
	file_read(q, &b, 100);
	is_str(b.s, "two!+", "appended");
	free(q);
	q = xasprintf("%s/nodir/x", dir);
	ok(file_write_atomic(q, "x", 1, 0600) == -1 && errno == ENOENT,
	    "atomic write into a missing directory fails with ENOENT");
	free(q);
	q = xasprintf("%s/lock", dir);
	fd = file_lock(q, 0);
	ok(fd >= 0, "take a lock");
	if (fork() == 0) {
		/* A separate process sees the lock as busy. */
		int cfd = file_lock(q, 0), e = errno;
		/* Free what the parent owns, so valgrind sees no leak here. */
		free(p);
		free(q);
		buf_free(&b);
		_exit(cfd == -1 && e == EWOULDBLOCK ? 0 : cfd == -1 ? 2 : 3);
	} else {
		int ws;
		wait(&ws);
		if (!ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		    "a second locker is refused while it is held"))
			diag("child status %d", ws);
	}
	close(fd);
	fd2 = file_lock(q, 0);
	ok(fd2 >= 0, "free again once closed");
	close(fd2);
	free(q);
	q = file_dirname("/a/b/c");
	is_str(q, "/a/b", "dirname");
	free(q);
	q = file_dirname("c");
	is_str(q, ".", "dirname of a bare name");
	free(q);
	q = file_dirname("/c");
	is_str(q, "/", "dirname under root");
	free(q);
	free(p);
	buf_free(&b);

	/* the sorted listing spool and state share */
	{
		char **v;
		size_t n;

		p = xasprintf("%s/list", dir);
		file_mkdir_p(p, 0755);
		q = xasprintf("%s/b", p);
		file_write_atomic(q, "", 0, 0644);
		free(q);
		q = xasprintf("%s/.a", p);
		file_write_atomic(q, "", 0, 0644);
		free(q);
		q = xasprintf("%s/a", p);
		file_mkdir_p(q, 0755);
		free(q);
		ok(file_list_dir(p, &v, &n) == 0 && n == 3 &&
		    !strcmp(v[0], ".a") && !strcmp(v[1], "a") &&
		    !strcmp(v[2], "b"), "list_dir: sorted, without . and ..");
		file_list_free(v, n);
		q = xasprintf("%s/none", p);
		ok(file_list_dir(q, &v, &n) < 0 && errno == ENOENT && !v &&
		    n == 0, "list_dir of a missing dir: ENOENT");
		free(q);
		free(p);
	}
	{
		char *argv[] = { "rm", "-rf", dir, NULL };
		int status;
		proc_run(argv, NULL, &status);
	}
	return done_testing();
}
