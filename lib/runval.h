/*
 * runval: the value syntaxes of `docker run` (ports, volumes, restart
 * policies, sizes, durations, label keys) and the small helpers that put
 * them into an Engine API ContainerCreate body.
 *
 * Both a deployment's own fields (container.c: ports, volumes, restart,
 * labels) and the flags of its extra_args (runflags.c: -p, -v,
 * --restart, --label) are written in these syntaxes; this is the one
 * place that reads them, below both.
 *
 * Errors: functions returning int give 0 on success and -1 with one
 * lowercase line in err (errlen bytes, NUL-terminated) that quotes the
 * value; the caller prefixes the field or flag.  Values of environment
 * variables never go through here.
 */
#ifndef KOM_RUNVAL_H
#define KOM_RUNVAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * Parse a size "512", "512b", "64k", "512m", "1g", "1.5g" (case
 * insensitive, optional trailing "b"/"ib": "512mb", "1GiB") into bytes,
 * powers of 1024.  Returns 0, -1 when malformed or out of range.
 */
int runval_size(const char *s, int64_t *bytes);

/*
 * Parse a Go-style duration "30s", "1m30s", "500ms", "2h", "1.5s", "10us",
 * "0" into nanoseconds.  Returns 0, -1 when malformed or out of range.
 */
int runval_duration(const char *s, int64_t *ns);

/* A decimal integer in [min, max], nothing around it.  0 or -1. */
int runval_int(const char *s, long long min, long long max, long long *out);

/* "80" or "7000-7001" (1-65535, lo <= hi) into *lo, *hi.  0 or -1. */
int runval_port_range(const char *s, long *lo, long *hi);

/*
 * "[ip:][hostport:]containerport[/proto]" (docker run -p; IPv6 in
 * brackets, "[::1]:8080:80") into body's HostConfig.PortBindings and
 * ExposedPorts.
 */
int runval_port(json_t *body, const char *spec, char *err, size_t errlen);

/*
 * "/host:/ctr[:opts]" or "name:/ctr[:opts]" (docker run -v) into
 * HostConfig.Binds as written; "/ctr" alone into Volumes (anonymous).
 */
int runval_volume(json_t *body, const char *spec, char *err, size_t errlen);

/*
 * "no" (or ""), "always", "unless-stopped", "on-failure[:N]" (N default
 * 10) into HostConfig.RestartPolicy.
 */
int runval_restart(json_t *body, const char *v, char *err, size_t errlen);

/* A label key kom accepts from a user: not empty, not under "kom.". */
int runval_label_key(const char *k, char *err, size_t errlen);

/*
 * v without one matching pair of surrounding quotes ("v" or 'v'), as
 * the shell that ran Komodo's docker run line removed them; otherwise a
 * copy.  A fresh string.
 */
char *runval_unquote(const char *v);

/*
 * parent[key] when it is an object (runval_obj) or an array
 * (runval_arr), else a new empty one put there.  Borrowed.
 */
json_t *runval_obj(json_t *parent, const char *key);
json_t *runval_arr(json_t *parent, const char *key);

/* o[key] when it is a string, else "".  Borrowed. */
const char *runval_str(const json_t *o, const char *key);

/* vsnprintf into err; returns -1, for `return runval_err(...)`. */
int runval_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
