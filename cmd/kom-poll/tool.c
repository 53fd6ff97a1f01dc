/*
 * What kom-poll's verbs share (the other kom programs it starts are
 * found by lib/proc: proc_tool).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "file.h"
#include "resource.h"
#include "poll.h"
#include "util.h"
#include "banned.h"

/* A broken resource file is kom-sync's to report, not every request's. */
static void
quiet(void *ctx, int is_error, const char *line)
{
	(void)ctx;
	(void)is_error;
	(void)line;
}

/*
 * The records of a sync whose files are on this host (poll.h).
 */
json_t *
poll_sync_records(const struct config *cfg, const struct config_sync *sy)
{
	struct resource_opts o;
	json_t *recs = NULL;
	char **paths;
	size_t i, n = 0;

	if (!sy->files_on_host && (*sy->repo || *sy->linked_repo))
		return json_array();
	memset(&o, 0, sizeof(o));
	o.diag = quiet;
	o.secrets_dir = cfg->secrets_dir;
	o.match_tags = (const char *const *)sy->match_tags;
	o.nmatch_tags = sy->nmatch_tags;
	paths = xreallocarray(NULL, sy->nresource_path + 1, sizeof(*paths));
	for (i = 0; i < sy->nresource_path; i++)
		paths[n++] = sy->resource_path[i][0] == '/' ?
		    xstrdup(sy->resource_path[i]) : xasprintf("%s/%s",
		    sy->directory, sy->resource_path[i]);
	if (!n)
		paths[n++] = xstrdup(sy->directory);
	resource_load((const char *const *)paths, n, &o, &recs);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return recs;
}
