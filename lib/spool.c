#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"
#include "spool.h"
#include "util.h"
#include "banned.h"

static const char *const subdirs[] = { "tmp", "new", "cur", "failed" };

int
spool_init(const char *spool, const char *queue)
{
	char *dir;
	int rc = 0;

	for (size_t i = 0; i < KOM_NELEM(subdirs) && rc == 0; i++) {
		dir = xasprintf("%s/%s/%s", spool, queue, subdirs[i]);
		rc = file_mkdir_p(dir, 0750);
		free(dir);
	}
	return rc;
}

static char *
new_name(void)
{
	struct timespec ts;
	unsigned int r = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)ts.tv_nsec;
	return xasprintf("%013lld.%ld.%08x.json",
	    (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	    (long)getpid(), r);
}

int
spool_put(const char *spool, const char *queue, const void *data,
    size_t len, char **namep)
{
	char *name, *tmp, *dst, *dir;
	int rc, e;

	if (spool_init(spool, queue) < 0)
		return -1;
	name = new_name();
	tmp = xasprintf("%s/%s/tmp/%s", spool, queue, name);
	dst = xasprintf("%s/%s/new/%s", spool, queue, name);
	dir = xasprintf("%s/%s/new", spool, queue);
	rc = file_write_atomic(tmp, data, len, 0640);
	if (rc == 0 && (rc = rename(tmp, dst)) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
	}
	if (rc == 0)
		rc = file_fsync_dir(dir);
	e = errno;
	free(tmp);
	free(dst);
	free(dir);
	if (rc == 0 && namep)
		*namep = name;
	else
		free(name);
	errno = e;
	return rc;
}

/* The sorted names of the entries of dir (no dot files, no reasons),
 * or -1. */
static int
list_dir(const char *dir, char ***names, size_t *n)
{
	size_t i, k = 0;

	if (file_list_dir(dir, names, n) < 0)
		return -1;
	for (i = 0; i < *n; i++) {
		if ((*names)[i][0] == '.' || strstr((*names)[i], ".reason"))
			free((*names)[i]);
		else
			(*names)[k++] = (*names)[i];
	}
	*n = k;
	return 0;
}

static void
entry_clear(struct spool_entry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	free(e->path);
	free(e->name);
	free(e->spool);
	free(e->queue);
	memset(e, 0, sizeof(*e));
	e->fd = -1;
}

int
spool_claim_name(const char *spool, const char *queue, const char *name,
    struct spool_entry *e)
{
	char *src = xasprintf("%s/%s/new/%s", spool, queue, name);
	char *dst = xasprintf("%s/%s/cur/%s", spool, queue, name);
	int fd = open(src, O_RDONLY | O_CLOEXEC), found = 0;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    rename(src, dst) == 0) {
		e->fd = fd;
		e->path = dst;
		e->name = xstrdup(name);
		e->spool = xstrdup(spool);
		e->queue = xstrdup(queue);
		found = 1;
		dst = NULL;
	} else if (fd >= 0) {
		close(fd);	/* another consumer won it */
	}
	free(src);
	free(dst);
	return found;
}

int
spool_list(const char *spool, const char *queue, char ***names, size_t *n)
{
	char *dir = xasprintf("%s/%s/new", spool, queue);
	int rc = list_dir(dir, names, n);

	free(dir);
	if (rc < 0 && errno == ENOENT) {
		*names = NULL;
		*n = 0;
		rc = 0;
	}
	return rc;
}

void
spool_names_free(char **names, size_t n)
{
	file_list_free(names, n);
}

int
spool_claim(const char *spool, const char *queue, struct spool_entry *e)
{
	char **names;
	size_t n;
	int found = 0;

	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (spool_list(spool, queue, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		found = spool_claim_name(spool, queue, names[i], e);
	file_list_free(names, n);
	return found;
}

int
spool_done(struct spool_entry *e)
{
	char *dir = xasprintf("%s/%s/cur", e->spool, e->queue);
	int rc = unlink(e->path);

	if (rc == 0)
		rc = file_fsync_dir(dir);
	free(dir);
	entry_clear(e);
	return rc;
}

/* Move the claimed entry into SPOOL/QUEUE/to/NAME, still locked. */
static int
move_entry(struct spool_entry *e, const char *to)
{
	char *dst = xasprintf("%s/%s/%s/%s", e->spool, e->queue, to, e->name);
	char *dir = xasprintf("%s/%s/%s", e->spool, e->queue, to);
	int rc = rename(e->path, dst);

	if (rc == 0)
		rc = file_fsync_dir(dir);
	free(dst);
	free(dir);
	return rc;
}

int
spool_retry(struct spool_entry *e)
{
	int rc = move_entry(e, "new");

	entry_clear(e);
	return rc;
}

int
spool_fail(struct spool_entry *e, const char *reason)
{
	char *rpath = xasprintf("%s/%s/failed/%s.reason", e->spool, e->queue,
	    e->name);
	char *line = xasprintf("%s\n", reason);
	int rc = file_write_atomic(rpath, line, strlen(line), 0640);

	if (rc == 0)
		rc = move_entry(e, "failed");
	free(rpath);
	free(line);
	entry_clear(e);
	return rc;
}

int
spool_recover(const char *spool, const char *queue)
{
	char *dir = xasprintf("%s/%s/cur", spool, queue), **names;
	size_t n;
	int moved = 0;

	if (list_dir(dir, &names, &n) < 0) {
		free(dir);
		return errno == ENOENT ? 0 : -1;
	}
	for (size_t i = 0; i < n; i++) {
		char *src = xasprintf("%s/%s", dir, names[i]);
		char *dst = xasprintf("%s/%s/new/%s", spool, queue, names[i]);
		int fd = open(src, O_RDONLY | O_CLOEXEC);

		/* Holding the lock while renaming keeps a live claimant out. */
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    rename(src, dst) == 0)
			moved++;
		if (fd >= 0)
			close(fd);
		free(src);
		free(dst);
	}
	file_list_free(names, n);
	free(dir);
	return moved;
}
