/* Unit tests: lib/hoststat (CPU, memory and disks from /proc texts). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "hoststat.h"
#include "proc.h"
#include "util.h"
#include "tap.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);

	if (file_write_atomic(p, text, strlen(text), 0644) < 0)
		exit(1);
	free(p);
}

int
main(void)
{
	char dir[] = "/tmp/kom-hoststat-test.XXXXXX";
	struct hoststat_cpu a, b;
	struct hoststat_disk *d;
	double used, total;
	size_t n, i;
	char *mounts;
	const char *ign[] = { "/", NULL };
	int root = 0;

	if (!mkdtemp(dir))
		return 1;
	put(dir, "stat", "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
	ok(hoststat_cpu_read(dir, &a) == 0 && a.total == 1000 && a.busy == 200,
	    "cpu line: busy excludes idle and iowait");
	put(dir, "stat", "cpu  400 0 100 1000 100 0 0 0 0 0\n");
	ok(hoststat_cpu_read(dir, &b) == 0, "second sample");
	ok(fabs(hoststat_cpu_percent(&a, &b) - 50.0) < 1e-9,
	    "300 busy of 600: 50%%");
	ok(hoststat_cpu_percent(&b, &b) == 0, "no time passed: 0");
	put(dir, "stat", "intr 1 2 3\n");
	ok(hoststat_cpu_read(dir, &b) == -1, "no cpu line: -1");
	put(dir, "meminfo", "MemTotal:       4194304 kB\nMemFree: 1 kB\n"
	    "MemAvailable:   1048576 kB\n");
	ok(hoststat_mem(dir, &used, &total) == 0 && fabs(total - 4.0) < 1e-9 &&
	    fabs(used - 3.0) < 1e-9, "memory: total 4 GB, used 3 GB");
	put(dir, "meminfo", "MemTotal:       4194304 kB\n");
	ok(hoststat_mem(dir, &used, &total) == -1, "no MemAvailable: -1");
	ok(hoststat_cpu_read(NULL, &a) == 0 && a.total > 0, "this host's cpu");
	ok(hoststat_mem(NULL, &used, &total) == 0 && used > 0 &&
	    total >= used, "this host's memory");

	mounts = xasprintf("%s/mounts", dir);
	put(dir, "mounts", "proc /proc proc rw 0 0\n"
	    "/dev/fake / ext4 rw 0 0\n"
	    "/dev/fake /./ ext4 rw 0 0\n"
	    "tmpfs /tmp tmpfs rw 0 0\n"
	    "/dev/gone /no\\040such ext4 rw 0 0\n");
	ok(hoststat_disks(mounts, NULL, &d, &n) == 0 && n == 1 &&
	    strcmp(d[0].path, "/") == 0 && d[0].total_gb > 0 &&
	    d[0].used_gb <= d[0].total_gb,
	    "block devices only, one per device, unreadable left out");
	hoststat_disks_free(d, n);
	ok(hoststat_disks(mounts, ign, &d, &n) == 0 && n == 1 &&
	    strcmp(d[0].path, "/./") == 0,
	    "ignore_mounts leaves a mount point out, not its device");
	hoststat_disks_free(d, n);
	ok(hoststat_disks("/proc/kom-none", NULL, &d, &n) == -1,
	    "no mounts: -1");
	ok(hoststat_disks(NULL, NULL, &d, &n) == 0, "this host's disks");
	for (i = 0; i < n; i++)
		root |= d[i].total_gb > 0;
	ok(n == 0 || root, "with sizes");
	hoststat_disks_free(d, n);
	free(mounts);
	{
		char *argv[] = { "rm", "-rf", dir, NULL };
		int status;

		proc_run(argv, NULL, &status);
	}
	return done_testing();
}
