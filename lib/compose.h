/*
 * compose: drive the compose CLI for a stack (komodo-behaviour.md 5.2).
 *
 * `docker compose` when `docker compose version` works, else the
 * stand-alone `docker-compose` (v1, Debian's).  Every command is run from
 * an argv, never through a shell:
 *
 *	COMPOSE -p PROJECT [-f FILE]... [--env-file FILE]... ARGS...
 *
 * with the run directory as working directory.  Env files come last so
 * that the stack's own environment wins, as in Komodo since 1.17.
 *
 * Ownership: a struct compose_project holds borrowed strings; the
 * struct compose from compose_detect is released with compose_free.
 * Errors: compose_detect returns -1 when neither CLI works (nothing is
 * printed); compose_run returns -1 with errno when the command could not
 * be run, *status then saying which step failed (proc.h: PROC_CHDIR for
 * the run directory, PROC_EXEC for the CLI), else 0 with *status set.
 */
#ifndef KOM_COMPOSE_H
#define KOM_COMPOSE_H

#include <stddef.h>

#include "buf.h"

struct compose {
	char *argv[3];		/* "docker", "compose" or "docker-compose" */
	size_t argc;
	int v1;			/* the stand-alone docker-compose */
};

struct compose_project {
	const char *project;		/* -p */
	const char *dir;		/* working directory, NULL: the caller's */
	const char *const *files;	/* -f each; NULL-terminated or NULL */
	const char *const *env_files;	/* --env-file each, in order */
	int timeout_ms;			/* 0: none */
};

/* Find the CLI (KOM_COMPOSE="docker-compose" or "docker compose" forces one). */
int compose_detect(struct compose *c);
void compose_free(struct compose *c);

/*
 * Run COMPOSE -p ... ARGS (args NULL-terminated) in p->dir.  out gets
 * stdout and stderr merged (at most 1 MiB kept).
 */
int compose_run(const struct compose *c, const struct compose_project *p,
    const char *const *args, struct buf *out, int *status);

/* The command line as text, for results and messages. */
char *compose_cmdline(const struct compose *c, const struct compose_project *p,
    const char *const *args);

/*
 * Keep the last n lines of text (a command's output) as a fresh string
 * array for a result: calls add(ctx, line) for each, oldest first.
 */
void compose_last_lines(const char *text, size_t n,
    void (*add)(void *ctx, const char *line, size_t len), void *ctx);

#endif
