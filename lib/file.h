/*
 * file: the ways kom reads and writes files that matter.
 *
 * Every function returns 0 (or a descriptor) on success and -1 with errno
 * set on failure, printing nothing: the caller names the file in its
 * message.  Descriptors are opened O_CLOEXEC.
 */
#ifndef KOM_FILE_H
#define KOM_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/*
 * Replace path with len bytes of data: write a temporary file in the same
 * directory, fsync it, rename it over path, fsync the directory.  A crash
 * leaves either the old or the new content, never a mix.
 */
int file_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode);

/*
 * The same without the fsyncs: other processes see the old or the new
 * content, never a mix, but a crash of the machine may leave either, or
 * an empty file.  For markers that are cheap to lose and must be quick
 * (kom-alert's "sending").
 */
int file_replace_nosync(const char *path, const void *data, size_t len,
    mode_t mode);

/* Append data to path (created with mode) and fsync it. */
int file_append_sync(const char *path, const void *data, size_t len,
    mode_t mode);

/* Append the whole of path to out; EFBIG when it is larger than max. */
int file_read(const char *path, struct buf *out, size_t max);
/* The same from an open descriptor, read to EOF. */
int file_read_fd(int fd, struct buf *out, size_t max);

/* fsync the directory dir, so that a rename or unlink in it is durable. */
int file_fsync_dir(const char *dir);

/* mkdir -p with mode for every directory it makes. */
int file_mkdir_p(const char *path, mode_t mode);

/*
 * Take an exclusive flock on path (created 0600 if missing).  With wait,
 * block until it is free; without, fail with EWOULDBLOCK when held.
 * Returns the descriptor that holds the lock: close it to release.
 */
int file_lock(const char *path, int wait);

/*
 * The entries of dir but "." and "..", sorted by strcmp, as fresh strings
 * in a fresh array (*names, never NULL on success); free them with
 * file_list_free.  -1 with errno when dir cannot be opened or read.
 */
int file_list_dir(const char *dir, char ***names, size_t *n);
void file_list_free(char **names, size_t n);

/* The directory part of path, in a fresh string. */
char *file_dirname(const char *path);

#endif
