/*
 * What kom-poll's verbs share (the other kom programs it starts are
 * found by lib/proc: proc_tool).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "buf.h"
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
 * The records of a sync, read from the files kom-sync reads (poll.h).
 */
json_t *
poll_sync_records(const struct config *cfg, const struct config_sync *sy,
    const char *statedir)
{
	struct resource_opts o;
	struct buf err = BUF_INIT;
	json_t *recs = NULL;
	char **paths, hex[41];
	size_t i, n;
	int rc;

	rc = resource_sync_paths(cfg, sy, statedir, &paths, &n, hex, &err);
	buf_free(&err);
	if (rc < 0)
		return json_array();
	memset(&o, 0, sizeof(o));
	o.diag = quiet;
	o.secrets_dir = cfg->secrets_dir;
	o.match_tags = (const char *const *)sy->match_tags;
	o.nmatch_tags = sy->nmatch_tags;
	resource_load((const char *const *)paths, n, &o, &recs);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return recs ? recs : json_array();
}

#define BACKOFF_MAX_S 3600

static long long
jitter_ms(int interval)
{
	unsigned int r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned int)getpid();
	return (long long)(r % ((unsigned int)interval * 100u + 1u));
}

long long
poll_next_look(long long now, int interval, long failures)
{
	long long s = interval;
	long i;

	for (i = 0; i < failures && s < BACKOFF_MAX_S; i++)
		s *= 2;
	if (failures && s > BACKOFF_MAX_S)
		s = BACKOFF_MAX_S > interval ? BACKOFF_MAX_S : interval;
	return now + s * 1000 + jitter_ms(interval);
}

json_t *
poll_state_load(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *st = NULL;

	if (file_read(path, &b, 16u << 20) == 0)
		st = json_loadb(b.s, b.len, 0, NULL);
	else if (errno != ENOENT)
		kom_warne("%s", path);
	buf_free(&b);
	if (!json_is_object(json_object_get(st, "syncs"))) {
		if (st)
			kom_warn("%s: not a poll state; starting afresh", path);
		json_decref(st);
		st = json_pack("{s:i,s:{}}", "version", 1, "syncs");
	}
	return st;
}

int
poll_state_save(const char *path, const json_t *st)
{
	char *s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!s)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	rc = file_write_atomic(path, s, strlen(s), 0600);
	free(s);
	return rc;
}
