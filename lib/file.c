#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "util.h"
#include "banned.h"

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *
file_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
file_fsync_dir(const char *dir)
{
	int fd, rc, e;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int
replace(const char *path, const void *data, size_t len, mode_t mode,
    int sync)
{
	char *dir = file_dirname(path);
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd, e;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto fail;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto fail;
	}
	if (sync && file_fsync_dir(dir) < 0)
		goto fail;
	free(tmp);
	free(dir);
	return 0;
fail:
	e = errno;
	free(tmp);
	free(dir);
	errno = e;
	return -1;
}

int
file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode)
{
	return replace(path, data, len, mode, 1);
}

int
file_replace_nosync(const char *path, const void *data, size_t len,
    mode_t mode)
{
	return replace(path, data, len, mode, 0);
}

int
file_append_sync(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int
file_read_fd(int fd, struct buf *out, size_t max)
{
	size_t start = out->len;
	ssize_t n;

	for (;;) {
		buf_grow(out, 65536);
		n = read(fd, out->s + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->s[out->len] = '\0';
		if (out->len - start > max) {
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int
file_read(const char *path, struct buf *out, size_t max)
{
	int fd, rc, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = file_read_fd(fd, out, max);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

int
file_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (rc == 0) {
		struct stat st;
		if (stat(path, &st) < 0)
			rc = -1;
		else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
	}
	free(p);
	return rc;
}

int
file_lock(const char *path, int wait)
{
	int fd, e;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
file_list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0, k = 0;
	int e;

	*names = NULL;
	*n = 0;
	if (!(d = opendir(dir)))
		return -1;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0) {
			errno = 0;
			continue;
		}
		KOM_GROW(v, k + 1, cap);
		v[k++] = xstrdup(de->d_name);
		errno = 0;
	}
	e = errno;
	closedir(d);
	if (e) {
		file_list_free(v, k);
		errno = e;
		return -1;
	}
	if (!v)
		v = xmalloc(sizeof(*v));
	qsort(v, k, sizeof(*v), name_cmp);
	*names = v;
	*n = k;
	return 0;
}

void
file_list_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
