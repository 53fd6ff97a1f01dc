#include <stdlib.h>
#include <unistd.h>

#include "paths.h"
#include "util.h"
#include "banned.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void
paths_get(struct kom_paths *p)
{
	const char *home = env("KOM_HOME"), *h;

	if (home) {
		p->config = xasprintf("%s/kom.toml", home);
		p->state = xasprintf("%s/state", home);
		p->spool = xasprintf("%s/spool", home);
	} else if (geteuid() == 0) {
		p->config = xstrdup("/etc/kom/kom.toml");
		p->state = xstrdup("/var/lib/kom");
		p->spool = xstrdup("/var/spool/kom");
	} else {
		h = env("HOME") ? env("HOME") : "/";
		p->config = env("XDG_CONFIG_HOME") ?
		    xasprintf("%s/kom/kom.toml", env("XDG_CONFIG_HOME")) :
		    xasprintf("%s/.config/kom/kom.toml", h);
		p->state = env("XDG_STATE_HOME") ?
		    xasprintf("%s/kom", env("XDG_STATE_HOME")) :
		    xasprintf("%s/.local/state/kom", h);
		p->spool = xasprintf("%s/spool", p->state);
	}
	if (env("KOM_CONFIG")) {
		free(p->config);
		p->config = xstrdup(env("KOM_CONFIG"));
	}
	if (env("KOM_STATE_DIR")) {
		free(p->state);
		p->state = xstrdup(env("KOM_STATE_DIR"));
	}
	if (env("KOM_SPOOL_DIR")) {
		free(p->spool);
		p->spool = xstrdup(env("KOM_SPOOL_DIR"));
	}
}

void
paths_free(struct kom_paths *p)
{
	free(p->config);
	free(p->state);
	free(p->spool);
	p->config = p->state = p->spool = NULL;
}
