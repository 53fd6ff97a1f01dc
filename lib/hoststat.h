/*
 * hoststat: this host's CPU, memory and disks, as Komodo's server
 * monitor measures them (komodo-behaviour.md 6.2), for kom-exec check.
 *
 *	CPU	busy share of all CPUs between two /proc/stat samples
 *	memory	used = MemTotal - MemAvailable (/proc/meminfo)
 *	disks	every mount of a block device (/proc/self/mounts, source
 *		under /dev/), one per device (its first mount point), by
 *		statvfs: used = (blocks - bfree) * frsize
 *
 * Errors: -1 with errno set, nothing printed.
 */
#ifndef KOM_HOSTSTAT_H
#define KOM_HOSTSTAT_H

#include <stddef.h>

struct hoststat_cpu {
	unsigned long long busy, total;	/* jiffies since boot, all CPUs */
};

struct hoststat_disk {
	char *path;			/* mount point (owned) */
	double used_gb, total_gb;
};

/* One /proc/stat sample ("cpu" line).  root: "" or a test's /proc copy. */
int hoststat_cpu_read(const char *proc, struct hoststat_cpu *out);
/* Busy percentage between samples a (earlier) and b; 0 when no time passed. */
double hoststat_cpu_percent(const struct hoststat_cpu *a,
    const struct hoststat_cpu *b);
/* Used and total memory in GB (2^30 bytes). */
int hoststat_mem(const char *proc, double *used_gb, double *total_gb);
/*
 * The disks, mount points in ignore (a NULL-terminated list, or NULL)
 * left out: *out an array of *n, free with hoststat_disks_free().  A
 * mount statvfs cannot read is left out.
 */
int hoststat_disks(const char *mounts, const char *const *ignore,
    struct hoststat_disk **out, size_t *n);
void hoststat_disks_free(struct hoststat_disk *d, size_t n);

#endif
