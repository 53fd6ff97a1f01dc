/*
 * gitsrc: the git repository a resource takes its files from, as Komodo
 * reads the fields (komodo-behaviour.md 1.4-1.6, 1.10, 7.5): repo,
 * git_provider, git_https, git_account, branch, commit, or those of the
 * [[repo]] its linked_repo names, which win; none with files_on_host.
 * kom-poll fetches what this names; the programs that read a checkout
 * find it by the same rule.
 *
 * Strings in a struct gitsrc are the caller's, released with
 * gitsrc_free().  Errors come back as -1 with one line in *err (reset
 * first); nothing is printed.
 */
#ifndef KOM_GITSRC_H
#define KOM_GITSRC_H

#include <jansson.h>

#include "buf.h"
#include "gitcfg.h"

struct gitsrc {
	char *url;		/* the remote, without credentials */
	char *domain;		/* the provider whose account applies */
	char *account;		/* "" for none */
	char *branch;		/* "main" when not set */
	char *commit;		/* "" unless pinned */
};

/*
 * The source named by these fields; https is turned off by a provider of
 * g declared https = false.  0, or -1 (a URL with credentials, a bad
 * provider or repo).
 */
int gitsrc_fields(const struct gitcfg *g, const char *provider, int https,
    const char *repo, const char *account, const char *branch,
    const char *commit, struct gitsrc *out, struct buf *err);

/*
 * The source of a resource record (kom-json(5)) of type stack, repo,
 * build or resource_sync: 1 and *out set, 0 when it has none, -1 (a
 * linked_repo that records does not declare, or as above).
 */
int gitsrc_record(const struct gitcfg *g, const json_t *rec,
    const json_t *records, struct gitsrc *out, struct buf *err);

/* The config of the [[repo]] record called name in records, or NULL. */
const json_t *gitsrc_repo_config(const json_t *records, const char *name);

void gitsrc_free(struct gitsrc *s);

#endif
