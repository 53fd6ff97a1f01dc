/*
 * config: kom.toml, the host's configuration (kom.toml(5)).
 *
 *	server = "host1"			this host's name
 *	secrets_dir = "/etc/kom/secrets"	where secret variables live
 *	[[resource_sync]]			one per sync
 *	name = "homelab"
 *	resource_path = ["stacks"]		files or directories
 *	delete = true  ...			Komodo's sync options
 *
 * A [[resource_sync]] may also hold its options under a "config" table,
 * as Komodo's own [[resource_sync]] declarations do.
 *
 * config_load() fills a struct config the caller owns and releases with
 * config_free().  A missing file is no error: the defaults.  Any other
 * problem (unreadable, bad TOML, a value of the wrong type, a sync without
 * a name or declared twice) prints one "PATH:LINE:COL: message" diagnostic
 * and returns -1 with *cfg emptied (config_free() is then harmless but not
 * needed).  Unknown keys print a warning with their position (an error
 * when strict).
 */
#ifndef KOM_CONFIG_H
#define KOM_CONFIG_H

#include <stddef.h>

#include "gitcfg.h"

#define CONFIG_MAX_FILE (1u << 20)	/* kom.toml: 1 MiB */

struct config_sync {
	char *name;
	int line;		/* where its [[resource_sync]] header is */
	/* which resources (komodo-behaviour.md 1.10, 2.4) */
	int delete;		/* false */
	int managed;		/* false; implies delete */
	int include_resources;	/* true */
	int include_variables;	/* false */
	int include_user_groups;/* false */
	int pending_alert;	/* true */
	char **match_tags;	/* resources must have all of them */
	size_t nmatch_tags;
	char **resource_path;	/* files or dirs; none = the whole directory */
	size_t nresource_path;
	char *directory;	/* resource_path is relative to it: default the
				 * directory of kom.toml; a relative one is
				 * taken from there too.  Never NULL. */
	/* where the files come from (for kom-poll; kept, not used by diff) */
	char *repo;		/* "" */
	char *branch;		/* "main" */
	char *commit;		/* "" */
	char *git_provider;	/* "github.com" */
	char *git_account;	/* "" */
	char *linked_repo;	/* "" */
	char *webhook_secret;	/* "" */
	int git_https;		/* true */
	int webhook_enabled;	/* true */
	int files_on_host;	/* false */
	int poll_interval;	/* seconds between kom-poll git's looks */
	int images_interval;	/* seconds between kom-poll images' looks */
};

#define CONFIG_POLL_DEFAULT 60
#define CONFIG_IMAGES_DEFAULT 3600
#define CONFIG_POLL_MIN 10
#define CONFIG_POLL_MAX 86400

struct config {
	char *path;		/* the file it was read from (or would be) */
	int found;		/* the file existed */
	char *server;		/* this host's name, NULL when not set */
	char *secrets_dir;	/* NULL when not set */
	char *webhook_secret;	/* the host's (kom-poll webhook), NULL */
	struct config_sync *syncs;
	size_t nsyncs;
	struct gitcfg git;	/* [[git_provider]] (lib/gitcfg.h) */
	struct gitcfg registries;	/* [[docker_registry]] (the same) */
};

int config_load(const char *path, int strict, struct config *cfg);
void config_free(struct config *cfg);

/* The sync called name, or NULL. */
const struct config_sync *config_sync(const struct config *cfg,
    const char *name);

/*
 * This host's name, in a fresh string: kom.toml's server when set, else
 * gethostname(), else "localhost".  Every program asks here, so that
 * kom-sync's selection and kom-exec's checks name the same host.
 */
char *config_server(const struct config *cfg);

#endif
