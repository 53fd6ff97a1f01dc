/*
 * runflags: the `docker run` flags of a deployment's extra_args, applied
 * to an Engine API ContainerCreate body.
 *
 * Komodo appends extra_args to a docker run line that bash runs; kom
 * has no docker CLI and no shell, so it reads the flags itself: every
 * flag it knows is one row of a table (runflags.c), which also makes the
 * list of supported flags in its messages.  A flag that is not in the
 * table is an error that names it and lists the table; a few flags
 * (--name, --rm, --platform, --env-file, --label-file) are refused with
 * the reason.
 *
 * Errors: 0 on success, -1 with one lowercase line in err (errlen
 * bytes, NUL-terminated) starting "extra_args: ", naming the flag; a
 * value is quoted except an environment variable's (it may be a secret).
 * The message for an unknown flag holds the whole list: give err
 * RUNFLAGS_ERR_MAX bytes to see all of it.
 */
#ifndef KOM_RUNFLAGS_H
#define KOM_RUNFLAGS_H

#include <stddef.h>
#include <jansson.h>

#include "buf.h"

/* Enough for every message, the list of supported flags included. */
#define RUNFLAGS_ERR_MAX 2048

/*
 * Apply docker run flags to a body built so far (container_spec does this
 * for config.extra_args).  args: n entries, each either one flag
 * ("--init", "--memory=512m"), a flag and its value in one string
 * ("--memory 512m"), or a value following a flag in the previous entry.
 * An entry is split into words with shellwords, as the shell that ran
 * Komodo's docker run line did, except an entry that is the value of a
 * flag ending the previous entry: that one is taken verbatim
 * (["--health-cmd", "curl -f localhost || exit 1"]).  On error body may
 * be half changed: the caller drops it.
 */
int runflags_apply(json_t *body, const char *const *args, size_t n,
    char *err, size_t errlen);

/* One supported flag, for tests and documentation. */
struct runflag_name {
	const char *name;	/* long name without "--": "memory" */
	const char *alias;	/* another long name ("net"), or NULL */
	char shrt;		/* short letter ('m'), or 0 */
	int boolean;		/* takes no value; =true/=false allowed */
};

/* The i-th supported flag into *out, in the order of the list: 0; -1
   when i is past the last. */
int runflags_flag(size_t i, struct runflag_name *out);

/*
 * Append the supported flags to b, space separated, each as
 * "--name[/--alias][/-s]": "--add-host ... --cpu-shares/-c ...".
 */
void runflags_supported(struct buf *b);

#endif
