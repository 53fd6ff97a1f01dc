/*
 * kom-poll apply: the consumer of SPOOL/sync/new
 *
 *	kom-poll fetch -y SYNC	(a sync whose files are in git)
 *	kom-sync diff -y SYNC | kom-plan | kom-exec
 *
 * Claims every event of the sync queue (lib/spool), groups them by sync
 * and runs the pipeline once per sync, for the newest state: several
 * pushes make one run.  The stages run one after the other, each child
 * from an argv (never a shell), each one's output the next one's input.
 * Success deletes the sync's events; a failure puts them back with a
 * backoff (STATE/poll/apply.json), and after the last attempt moves them
 * to failed/ with the reason and queues a SyncApplyFailed alert.  A kill
 * of this process or of a stage leaves the claimed events in cur/ without
 * a lock holder: the next run takes them back, and the pipeline, which
 * converges, applies nothing twice.  See kom-poll(1).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "buf.h"
#include "config.h"
#include "file.h"
#include "jsonl.h"
#include "paths.h"
#include "poll.h"
#include "proc.h"
#include "spool.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-poll apply [-m attempts] [-r seconds]";

#define MAX_BATCH 10000

struct group {
	char *sync;
	struct spool_entry *e;
	size_t n, cap;
	long long newest;	/* the newest event's queue time (ms) */
};

struct apply {
	struct kom_paths p;
	struct config cfg;
	json_t *st;		/* STATE/poll/apply.json */
	char *spath;
	int max_attempts, retry_s;
	struct group *g;
	size_t ng, gcap;
	long failed, retried, applied;
	int wrc;
};

/* The queue time of an entry: its name's leading unix-ms. */
static long long
entry_ms(const char *name)
{
	return strtoll(name, NULL, 10);
}

static struct group *
group_get(struct apply *a, const char *sync)
{
	size_t i;

	for (i = 0; i < a->ng; i++)
		if (!strcmp(a->g[i].sync, sync))
			return &a->g[i];
	KOM_GROW(a->g, a->ng + 1, a->gcap);
	memset(&a->g[a->ng], 0, sizeof(a->g[0]));
	a->g[a->ng].sync = xstrdup(sync);
	return &a->g[a->ng++];
}

/* The sync an entry is for, fresh; NULL with the reason in why. */
static char *
entry_sync(const struct spool_entry *e, struct buf *why)
{
	struct buf b = BUF_INIT;
	json_error_t je;
	json_t *ev;
	const char *s;
	char *r = NULL;

	if (file_read(e->path, &b, 1u << 20) < 0) {
		buf_printf(why, "%s: %s", e->path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	if (!(ev = json_loadb(b.s, b.len, 0, &je)))
		buf_printf(why, "not JSON: %s", je.text);
	else if (strcmp(jsonl_str(ev, "kind", ""), "event") ||
	    !(s = json_string_value(json_object_get(ev, "sync"))) || !*s)
		buf_adds(why, "not an event with a \"sync\"");
	else
		r = xstrdup(s);
	json_decref(ev);
	buf_free(&b);
	return r;
}

/* Claim what new/ holds now; entries not for a known sync fail. */
static void
claim_all(struct apply *a)
{
	struct spool_entry e;
	struct buf why = BUF_INIT;
	struct group *g;
	size_t total = 0;
	char *sync;
	int k;

	while (total < MAX_BATCH &&
	    (k = spool_claim(a->p.spool, "sync", &e)) == 1) {
		buf_reset(&why);
		if (!(sync = entry_sync(&e, &why))) {
			kom_warn("%s: %s; moved to failed/", e.path, why.s);
			if (spool_fail(&e, why.s) < 0)
				kom_warne("%s", e.path);
			continue;
		}
		if (!config_sync(&a->cfg, sync)) {
			buf_printf(&why, "no resource_sync '%s' in %s", sync,
			    a->cfg.path);
			kom_warn("%s: %s; moved to failed/", e.path, why.s);
			if (spool_fail(&e, why.s) < 0)
				kom_warne("%s", e.path);
			free(sync);
			continue;
		}
		g = group_get(a, sync);
		free(sync);
		KOM_GROW(g->e, g->n + 1, g->cap);
		g->e[g->n++] = e;
		if (entry_ms(e.name) > g->newest)
			g->newest = entry_ms(e.name);
		total++;
	}
	if (k < 0)
		kom_warne("%s/sync", a->p.spool);
	buf_free(&why);
}

/* The pipeline for one sync: 0, or the failing stage's status. */
static int
pipeline(struct apply *a, const struct config_sync *sy, struct buf *why,
    const char **which)
{
	char *poll = proc_tool("kom-poll"), *sync = proc_tool("kom-sync");
	char *plan = proc_tool("kom-plan"), *exec = proc_tool("kom-exec");
	char *name = sy->name;
	char *fetch_argv[] = { poll, "fetch", "-y", name, NULL };
	char *diff_argv[] = { sync, "diff", "-y", name, NULL };
	char *plan_argv[] = { plan, NULL };
	char *exec_argv[] = { exec, NULL };
	struct buf d = BUF_INIT, pl = BUF_INIT, out = BUF_INIT;
	int rc = 0;

	if (!sy->files_on_host && (*sy->repo || *sy->linked_repo)) {
		*which = "kom-poll fetch";
		rc = proc_stage(fetch_argv, *which, NULL, NULL, why);
	}
	if (!rc) {
		*which = "kom-sync diff";
		rc = proc_stage(diff_argv, *which, NULL, &d, why);
	}
	if (!rc) {
		*which = "kom-plan";
		rc = proc_stage(plan_argv, *which, &d, &pl, why);
	}
	if (!rc) {
		*which = "kom-exec";
		rc = proc_stage(exec_argv, *which, &pl, &out, why);
		/* kom-exec's records are the run's report */
		if (out.len && fwrite(out.s, 1, out.len, stdout) != out.len)
			a->wrc = -1;
	}
	buf_free(&d);
	buf_free(&pl);
	buf_free(&out);
	free(poll);
	free(sync);
	free(plan);
	free(exec);
	return rc;
}

static void
report(struct apply *a, const char *sync, const char *result, size_t n,
    long attempts, const char *why, long long next)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I}", "kind", "apply",
	    "sync", sync, "result", result, "events", (json_int_t)n,
	    "attempts", (json_int_t)attempts);

	if (why)
		json_object_set_new(o, "error", json_string(why));
	if (next)
		json_object_set_new(o, "next", json_integer(next));
	if (jsonl_write_steal(stdout, o) < 0)
		a->wrc = -1;
	fflush(stdout);
}

static int
save_state(struct apply *a)
{
	char *s = json_dumps(a->st, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (!s)
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	rc = file_write_atomic(a->spath, s, strlen(s), 0600);
	if (rc < 0)
		kom_warne("%s", a->spath);
	free(s);
	return rc;
}

static void
give_up(struct apply *a, struct group *g, const char *stagename,
    const char *why, long attempts)
{
	json_t *al;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (spool_fail(&g->e[i], why) < 0)
			kom_warne("%s", g->e[i].path);
	al = alert_new("CRITICAL", "ResourceSync", g->sync, "SyncApplyFailed",
	    json_pack("{s:s,s:s,s:s,s:I,s:I}", "name", g->sync, "stage",
	    stagename, "error", why, "attempts", (json_int_t)attempts,
	    "events", (json_int_t)g->n));
	if (!al || alert_queue(a->p.spool, al) < 0)
		kom_warne("%s/alert: the SyncApplyFailed alert for '%s'",
		    a->p.spool, g->sync);
	json_decref(al);
	a->failed++;
}

static void
run_group(struct apply *a, struct group *g)
{
	const struct config_sync *sy = config_sync(&a->cfg, g->sync);
	json_t *syncs = json_object_get(a->st, "syncs");
	json_t *ss = json_object_get(syncs, g->sync);
	struct buf why = BUF_INIT;
	const char *which = "";
	long long now = kom_wall_ms(), next, wait;
	long attempts = (long)json_integer_value(json_object_get(ss,
	    "attempts"));
	size_t i;
	int rc;

	/* in backoff, unless a newer event came since the failure */
	if (ss && now < json_integer_value(json_object_get(ss, "next")) &&
	    g->newest <= json_integer_value(json_object_get(ss, "failed_at"))) {
		for (i = 0; i < g->n; i++)
			if (spool_retry(&g->e[i]) < 0)
				kom_warne("%s", g->e[i].path);
		report(a, g->sync, "waiting", g->n, attempts,
		    json_string_value(json_object_get(ss, "error")),
		    json_integer_value(json_object_get(ss, "next")));
		a->retried++;
		return;
	}
	rc = pipeline(a, sy, &why, &which);
	if (rc == 0) {
		for (i = 0; i < g->n; i++)
			if (spool_done(&g->e[i]) < 0)
				kom_warne("%s", g->e[i].path);
		json_object_del(syncs, g->sync);
		save_state(a);
		report(a, g->sync, "applied", g->n, attempts + 1, NULL, 0);
		a->applied++;
		buf_free(&why);
		return;
	}
	attempts++;
	kom_warn("sync '%s': %s (attempt %ld of %d)", g->sync, why.s,
	    attempts, a->max_attempts);
	if (attempts >= a->max_attempts) {
		give_up(a, g, which, why.s, attempts);
		json_object_del(syncs, g->sync);
		save_state(a);
		report(a, g->sync, "failed", g->n, attempts, why.s, 0);
		buf_free(&why);
		return;
	}
	wait = a->retry_s;
	for (i = 1; i < (size_t)attempts && wait < 3600; i++)
		wait *= 2;
	next = kom_wall_ms() + wait * 1000;
	ss = json_pack("{s:I,s:I,s:I,s:s,s:s}", "attempts",
	    (json_int_t)attempts, "next", (json_int_t)next, "failed_at",
	    (json_int_t)kom_wall_ms(), "stage", which, "error", why.s);
	json_object_set_new(syncs, g->sync, ss);
	/* the state first: a kill between keeps the backoff */
	save_state(a);
	for (i = 0; i < g->n; i++)
		if (spool_retry(&g->e[i]) < 0)
			kom_warne("%s", g->e[i].path);
	report(a, g->sync, "retry", g->n, attempts, why.s, next);
	a->retried++;
	buf_free(&why);
}

static json_t *
load_state(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *st = NULL;

	if (file_read(path, &b, 16u << 20) == 0)
		st = json_loadb(b.s, b.len, 0, NULL);
	buf_free(&b);
	if (!json_is_object(json_object_get(st, "syncs"))) {
		json_decref(st);
		st = json_pack("{s:i,s:{}}", "version", 1, "syncs");
	}
	return st;
}

int
apply_main(int argc, char **argv)
{
	struct apply a;
	char *dir = NULL, *lpath = NULL, *endp;
	long v;
	size_t i, j;
	int ch, lfd = -1, rc = KOM_EX_OK, k;

	memset(&a, 0, sizeof(a));
	a.max_attempts = 5;
	a.retry_s = 30;
	while ((ch = getopt(argc, argv, "hm:r:")) != -1) {
		switch (ch) {
		case 'm':
		case 'r':
			errno = 0;
			v = strtol(optarg, &endp, 10);
			if (errno || *endp || endp == optarg || v < 1 ||
			    v > 86400) {
				kom_warn("-%c: '%s' is out of range (1 to "
				    "86400)", ch, optarg);
				fprintf(stderr, "%s\n", usage);
				return KOM_EX_USAGE;
			}
			if (ch == 'm')
				a.max_attempts = (int)v;
			else
				a.retry_s = (int)v;
			break;
		case 'h':
			puts(usage);
			return KOM_EX_OK;
		default:
			fprintf(stderr, "%s\n", usage);
			return KOM_EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s\n", usage);
		return KOM_EX_USAGE;
	}
	paths_get(&a.p);
	if (config_load(a.p.config, 0, &a.cfg) < 0) {
		paths_free(&a.p);
		return KOM_EX_CONFIG;
	}
	dir = xasprintf("%s/poll", a.p.state);
	a.spath = xasprintf("%s/apply.json", dir);
	lpath = xasprintf("%s/apply.lock", dir);
	if (file_mkdir_p(dir, 0700) < 0 || spool_init(a.p.spool, "sync") < 0) {
		kom_warne("%s", dir);
		rc = KOM_EX_IOERR;
		goto out;
	}
	if ((lfd = file_lock(lpath, 0)) < 0) {
		if (errno == EWOULDBLOCK) {
			kom_warn("%s: another kom-poll apply is running; it "
			    "takes the new events too", lpath);
			rc = KOM_EX_NO;
		} else {
			kom_warne("%s", lpath);
			rc = KOM_EX_IOERR;
		}
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a consumer that died left its claims in cur/ */
	if ((k = spool_recover(a.p.spool, "sync")) < 0)
		kom_warne("%s/sync/cur", a.p.spool);
	a.st = load_state(a.spath);
	claim_all(&a);
	for (i = 0; i < a.ng; i++) {
		run_group(&a, &a.g[i]);
		for (j = 0; j < a.g[i].n; j++)
			if (a.g[i].e[j].path)
				spool_retry(&a.g[i].e[j]);
		free(a.g[i].e);
		free(a.g[i].sync);
	}
	free(a.g);
	if (a.failed || a.retried)
		rc = KOM_EX_TEMPFAIL;
	if (a.failed)
		rc = KOM_EX_NO;
	json_decref(a.st);
out:
	if (lfd >= 0)
		close(lfd);
	free(dir);
	free(lpath);
	free(a.spath);
	config_free(&a.cfg);
	paths_free(&a.p);
	if (fclose(stdout) != 0 || a.wrc) {
		kom_warne("stdout");
		return KOM_EX_IOERR;
	}
	return rc;
}
