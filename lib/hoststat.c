/*
 * hoststat: CPU, memory and disks of this host (hoststat.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "file.h"
#include "hoststat.h"
#include "util.h"
#include "banned.h"

#define GB (1024.0 * 1024.0 * 1024.0)

static int
read_proc(const char *proc, const char *name, struct buf *b)
{
	char *p = xasprintf("%s/%s", proc && *proc ? proc : "/proc", name);
	int r = file_read(p, b, 1u << 20);

	free(p);
	return r;
}

int
hoststat_cpu_read(const char *proc, struct hoststat_cpu *out)
{
	struct buf b = BUF_INIT;
	unsigned long long v[8] = { 0 };
	int n;

	if (read_proc(proc, "stat", &b) < 0)
		return -1;
	/* cpu user nice system idle iowait irq softirq steal ... */
	n = sscanf(b.s, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	buf_free(&b);
	if (n < 4) {
		errno = EINVAL;
		return -1;
	}
	out->total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
	out->busy = out->total - v[3] - v[4];
	return 0;
}

double
hoststat_cpu_percent(const struct hoststat_cpu *a, const struct hoststat_cpu *b)
{
	if (b->total <= a->total || b->busy < a->busy)
		return 0;
	return 100.0 * (double)(b->busy - a->busy) /
	    (double)(b->total - a->total);
}

/* The kB value of "key:" in meminfo text s, or -1. */
static long long
meminfo(const char *s, const char *key)
{
	size_t k = strlen(key);
	const char *p;

	for (p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == ':')
			return strtoll(p + k + 1, NULL, 10);
	return -1;
}

int
hoststat_mem(const char *proc, double *used_gb, double *total_gb)
{
	struct buf b = BUF_INIT;
	long long total, avail;

	if (read_proc(proc, "meminfo", &b) < 0)
		return -1;
	total = meminfo(b.s, "MemTotal");
	avail = meminfo(b.s, "MemAvailable");
	buf_free(&b);
	if (total <= 0 || avail < 0 || avail > total) {
		errno = EINVAL;
		return -1;
	}
	*total_gb = (double)total * 1024.0 / GB;
	*used_gb = (double)(total - avail) * 1024.0 / GB;
	return 0;
}

/* /proc/self/mounts escapes space, tab, newline and '\' as \ooo. */
static void
unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int
listed(const char *const *l, const char *s)
{
	for (; l && *l; l++)
		if (strcmp(*l, s) == 0)
			return 1;
	return 0;
}

int
hoststat_disks(const char *mounts, const char *const *ignore,
    struct hoststat_disk **out, size_t *n)
{
	struct buf b = BUF_INIT;
	dev_t *devs = NULL;
	char *line, *next;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (file_read(mounts ? mounts : "/proc/self/mounts", &b, 4u << 20) < 0)
		return -1;
	for (line = b.s; line && *line; line = next) {
		char *src, *mnt, *sp;
		struct statvfs vfs;
		struct stat st;
		size_t i;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		src = line;
		if (!(sp = strchr(src, ' ')))
			continue;
		*sp = '\0';
		mnt = sp + 1;
		if ((sp = strchr(mnt, ' ')))
			*sp = '\0';
		unescape(mnt);
		if (strncmp(src, "/dev/", 5) != 0 || listed(ignore, mnt) ||
		    stat(mnt, &st) < 0 || statvfs(mnt, &vfs) < 0 ||
		    vfs.f_blocks == 0)
			continue;
		for (i = 0; i < *n && devs[i] != st.st_dev; i++)
			;
		if (i < *n)
			continue;	/* a bind mount of a device seen */
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xreallocarray(*out, cap, sizeof(**out));
			devs = xreallocarray(devs, cap, sizeof(*devs));
		}
		devs[*n] = st.st_dev;
		(*out)[*n].path = xstrdup(mnt);
		(*out)[*n].total_gb = (double)vfs.f_blocks * vfs.f_frsize / GB;
		(*out)[*n].used_gb = (double)(vfs.f_blocks - vfs.f_bfree) *
		    vfs.f_frsize / GB;
		(*n)++;
	}
	free(devs);
	buf_free(&b);
	return 0;
}

void
hoststat_disks_free(struct hoststat_disk *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].path);
	free(d);
}
