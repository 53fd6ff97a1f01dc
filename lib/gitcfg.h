/*
 * gitcfg: the [[git_provider]] tables of kom.toml (kom.toml(5)), in the
 * shape of Komodo's core config:
 *
 *	[[git_provider]]
 *	domain = "git.example.com"	host, or host:port
 *	https = true			false: plain http
 *	accounts = [ { username = "kom", token = "..." } ]
 *
 * An account without a token takes it from the secrets directory, from
 * the file named "USERNAME@DOMAIN" (gitcfg_token()).  An account may name
 * an ssh private key instead (ssh_key, a path; relative to kom.toml's
 * directory), and a provider the known_hosts file its ssh host keys are
 * checked against.
 *
 * gitcfg_read() is called by config_load() for the key "git_provider"
 * (or "git_providers"); it appends to *g, which the caller owns and
 * releases with gitcfg_free().  Errors print one "PATH:LINE:COL: message"
 * line and return -1; unknown keys are warnings (errors when strict).
 */
#ifndef KOM_GITCFG_H
#define KOM_GITCFG_H

#include <stddef.h>

#include "buf.h"
#include "git.h"

struct toml_kv;

struct gitcfg_account {
	char *username;
	char *token;		/* NULL: from the secrets directory */
	char *ssh_key;		/* NULL, or an absolute path */
	int line;
};

struct gitcfg_provider {
	char *domain;
	int https;		/* true */
	char *known_hosts;	/* NULL, or an absolute path */
	struct gitcfg_account *accounts;
	size_t naccounts;
	int line;
};

struct gitcfg {
	struct gitcfg_provider *providers;
	size_t nproviders;
};

int gitcfg_read(struct gitcfg *g, const char *path, const char *confdir,
    const struct toml_kv *kv, int strict);
/*
 * The same for Komodo's registry accounts (key "docker_registry" or
 * "docker_registries"), the same shape without https, known_hosts and
 * ssh_key ("organizations" is accepted and ignored):
 *
 *	[[docker_registry]]
 *	domain = "registry.example.com"
 *	accounts = [ { username = "kom", token = "..." } ]
 *
 * The lookups below serve both; a token not in kom.toml comes from the
 * secret file "USERNAME@DOMAIN" as for git.
 */
int gitcfg_read_registries(struct gitcfg *g, const char *path,
    const struct toml_kv *kv, int strict);
void gitcfg_free(struct gitcfg *g);

/* The provider for domain (compared without case), or NULL. */
const struct gitcfg_provider *gitcfg_provider(const struct gitcfg *g,
    const char *domain);
/* The account called username, or NULL. */
const struct gitcfg_account *gitcfg_account(const struct gitcfg_provider *p,
    const char *username);

/*
 * The account's token: its "token", else the secret "USERNAME@DOMAIN"
 * (lib/secrets: $CREDENTIALS_DIRECTORY, then $KOM_SECRETS_DIR, or
 * secrets_dir when not NULL, or /etc/kom/secrets).  A fresh string the
 * caller wipes (secrets_wipe), or NULL when there is none.
 */
char *gitcfg_token(const struct gitcfg_provider *p,
    const struct gitcfg_account *a, const char *secrets_dir);

/*
 * The [[docker_registry]] account called account (none when "" or NULL)
 * at domain (docker_registry_domain() of an image), its token fresh in
 * *token (the caller wipes it, secrets_wipe); NULL when kom.toml has no
 * such account or it has no token.  The one rule for kom-exec's pulls
 * and pushes and kom-poll's digest checks.
 */
const struct gitcfg_account *gitcfg_registry_account(
    const struct gitcfg *registries, const char *domain, const char *account,
    const char *secrets_dir, char **token);

/*
 * The credentials of account (none when "") at the provider for domain,
 * for the fetch of url: 0 with *a filled (it points into g and into
 * *token, a fresh string the caller wipes and frees; NULL when no token),
 * or -1 with the reason in err ("URL: no account 'x' for git_provider
 * 'y' in CFGPATH", "... has no token ...").
 */
int gitcfg_auth(const struct gitcfg *g, const char *cfgpath,
    const char *secrets_dir, const char *domain, const char *account,
    const char *url, struct kgit_auth *a, char **token, struct buf *err);

#endif
