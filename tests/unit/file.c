/* Unit tests: lib/file (atomic writes, reads with a cap, locks, mkdir -p). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "proc.h"
#include "util.h"
#include "tap.h"

/* The names in dir, sorted, space separated. */
static char *
names(const char *dir)
{
	struct dirent **d;
	struct buf b = BUF_INIT;
	int n = scandir(dir, &d, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (d[i]->d_name[0] != '.')
			buf_printf(&b, "%s%s", b.len ? " " : "", d[i]->d_name);
		free(d[i]);
	}
	if (n >= 0)
		free(d);
	return buf_release(&b);
}

/*
 * A full disk: on a 64 KiB tmpfs mounted here (the test runs as root, as
 * CI does), an atomic write that does not fit fails with ENOSPC and
 * leaves the old file whole and no temporary file behind.
 */
static void
test_enospc(void)
{
	char dir[] = "/tmp/kom-file-enospc.XXXXXX", chunk[4096], *path,
	    *fill, *ls;
	struct buf b = BUF_INIT, big = BUF_INIT;
	int fd, full = 0;
	ssize_t n;

	if (!mkdtemp(dir))
		return;
	if (!ok(mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=64k,mode=0700") == 0, "mount a 64 KiB tmpfs (needs root)")) {
		diag("mount: %s", strerror(errno));
		rmdir(dir);
		return;
	}
	path = xasprintf("%s/state.json", dir);
	fill = xasprintf("%s/fill", dir);
	is_int(file_write_atomic(path, "{\"old\":1}\n", 10, 0644), 0,
	    "write the old file");
	memset(chunk, 'x', sizeof(chunk));
	fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	while (fd >= 0 && (n = write(fd, chunk, sizeof(chunk))) > 0)
		;
	full = fd >= 0 && errno == ENOSPC;
	if (fd >= 0)
		close(fd);
	ok(full, "fill the file system");
	for (int i = 0; i < 64; i++)
		buf_add(&big, chunk, sizeof(chunk));
	errno = 0;
	ok(file_write_atomic(path, big.s, big.len, 0644) == -1 &&
	    errno == ENOSPC, "an atomic write that does not fit: ENOSPC");
	if (errno != ENOSPC)
		diag("errno %d: %s", errno, strerror(errno));
	errno = 0;
	ok(file_write_atomic(path, "{\"new\":2}\n", 10, 0644) == -1 &&
	    errno == ENOSPC, "a small one on a full disk: ENOSPC");
	is_int(file_read(path, &b, 1 << 20), 0, "the old file is readable");
	is_str(b.s, "{\"old\":1}\n", "and whole");
	ls = names(dir);
	is_str(ls, "fill state.json", "no temporary file left");
	free(ls);
	errno = 0;
	ok(file_append_sync(path, big.s, big.len, 0644) == -1 &&
	    errno == ENOSPC, "an append that does not fit: ENOSPC");
	unlink(fill);
	is_int(file_write_atomic(path, "{\"new\":2}\n", 10, 0644), 0,
	    "room again: the write succeeds");
	buf_reset(&b);
	file_read(path, &b, 1 << 20);
	is_str(b.s, "{\"new\":2}\n", "the new content");
	ok(umount2(dir, MNT_DETACH) == 0, "unmount");
	rmdir(dir);
	free(path);
	free(fill);
	buf_free(&b);
	buf_free(&big);
}

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
	test_enospc();
	return done_testing();
}
