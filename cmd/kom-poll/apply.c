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
 * Success deletes the sync's events and queues the *AutoUpdated alerts of
 * the image events it applied; a failure keeps them claimed through a
 * backoff (STATE/poll/apply.json), and after the last attempt moves them
 * to failed/ with the reason and queues a SyncApplyFailed alert.  Files
 * that do not parse raise one ResourceSyncParseFailed alert per distinct
 * error.  The run sleeps through the backoffs and takes the events that
 * arrive meanwhile; it ends when it holds nothing and new/ is empty, so a
 * path unit on new/ never starts it for events it would only put back.
 * A kill of this process or of a stage leaves the claimed events in cur/
 * without a lock holder: the next run takes them back, and the pipeline,
 * which converges, applies nothing twice.  See kom-poll(1).
 */
#include <errno.h>
#include <poll.h>
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
	json_t *autos;		/* "type/name" -> an images event's target */
	int told;		/* its "waiting" line is out */
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
	size_t held;		/* entries claimed and not released */
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

/* The event of an entry, with a "sync"; NULL with the reason in why. */
static json_t *
entry_event(const struct spool_entry *e, struct buf *why)
{
	struct buf b = BUF_INIT;
	json_error_t je;
	json_t *ev, *r = NULL;
	const char *s;

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
		r = json_incref(ev);
	json_decref(ev);
	buf_free(&b);
	return r;
}

/*
 * An image event (kom-poll images) for an auto-updating resource: note
 * its target, so that a run that deploys it says so.
 */
static void
note_auto(struct group *g, const json_t *ev)
{
	const json_t *t = json_object_get(ev, "target");
	const char *type = jsonl_str(t, "type", ""), *name = jsonl_str(t,
	    "name", "");
	json_t *o, *imgs, *v;
	char *key;
	size_t i;

	if (strcmp(jsonl_str(ev, "source", ""), "images") || !*name ||
	    (strcmp(type, "deployment") && strcmp(type, "stack")))
		return;
	if (!g->autos)
		g->autos = json_object();
	key = xasprintf("%s/%s", type, name);
	if (!(o = json_object_get(g->autos, key))) {
		o = json_pack("{s:s,s:s,s:[]}", "type", type, "name", name,
		    "images");
		json_object_set_new(g->autos, key, o);
	}
	imgs = json_object_get(o, "images");
	json_array_foreach(json_object_get(ev, "images"), i, v) {
		size_t k;
		int dup = 0;

		for (k = 0; k < json_array_size(imgs); k++)
			dup |= json_equal(json_array_get(imgs, k), v);
		if (json_is_string(v) && !dup)
			json_array_append(imgs, v);
	}
	free(key);
}

/*
 * Claim what new/ holds now; entries not for a known sync fail.  The
 * number of entries claimed.
 */
static size_t
claim_all(struct apply *a)
{
	struct spool_entry e;
	struct buf why = BUF_INIT;
	struct group *g;
	size_t total = 0;
	const char *sync;
	json_t *ev;
	int k = 0;

	while (a->held < MAX_BATCH &&
	    (k = spool_claim(a->p.spool, "sync", &e)) == 1) {
		buf_reset(&why);
		total++;
		if (!(ev = entry_event(&e, &why))) {
			kom_warn("%s: %s; moved to failed/", e.path, why.s);
			if (spool_fail(&e, why.s) < 0)
				kom_warne("%s", e.path);
			continue;
		}
		sync = jsonl_str(ev, "sync", "");
		if (!config_sync(&a->cfg, sync)) {
			buf_printf(&why, "no resource_sync '%s' in %s", sync,
			    a->cfg.path);
			kom_warn("%s: %s; moved to failed/", e.path, why.s);
			if (spool_fail(&e, why.s) < 0)
				kom_warne("%s", e.path);
			json_decref(ev);
			continue;
		}
		g = group_get(a, sync);
		note_auto(g, ev);
		json_decref(ev);
		KOM_GROW(g->e, g->n + 1, g->cap);
		g->e[g->n++] = e;
		a->held++;
		if (entry_ms(e.name) > g->newest)
			g->newest = entry_ms(e.name);
		/* a newer event ends the wait it reported */
		g->told = 0;
	}
	if (k < 0)
		kom_warne("%s/sync", a->p.spool);
	buf_free(&why);
	return total;
}

/* The pipeline for one sync: 0, or the failing stage's status. */
static int
pipeline(struct apply *a, const struct config_sync *sy, struct buf *why,
    const char **which, struct buf *out)
{
	char *poll = proc_tool("kom-poll"), *sync = proc_tool("kom-sync");
	char *plan = proc_tool("kom-plan"), *exec = proc_tool("kom-exec");
	char *name = sy->name;
	char *fetch_argv[] = { poll, "fetch", "-y", name, NULL };
	char *diff_argv[] = { sync, "diff", "-y", name, NULL };
	char *plan_argv[] = { plan, NULL };
	char *exec_argv[] = { exec, NULL };
	struct buf d = BUF_INIT, pl = BUF_INIT;
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
		rc = proc_stage(exec_argv, *which, &pl, out, why);
		/* kom-exec's records are the run's report */
		if (out->len && fwrite(out->s, 1, out->len, stdout) !=
		    out->len)
			a->wrc = -1;
	}
	buf_free(&d);
	buf_free(&pl);
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
	int rc = poll_state_save(a->spath, a->st);

	if (rc < 0)
		kom_warne("%s", a->spath);
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

/* Release every entry of g with f (spool_done, spool_retry). */
static void
release(struct apply *a, struct group *g, int (*f)(struct spool_entry *))
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (f(&g->e[i]) < 0)
			kom_warne("%s", g->e[i].path);
	a->held -= g->n;
	g->n = 0;
	json_decref(g->autos);
	g->autos = NULL;
}

/*
 * The *AutoUpdated alerts of g's image events whose resource kom-exec
 * deployed in this run (a result "ok"; "noop" changed nothing, and a
 * rollback is a failure, with its own alert).
 */
static void
auto_updated(struct apply *a, struct group *g, const struct buf *out)
{
	const char *k, *line, *nl, *type, *name;
	json_t *t, *r, *al;
	int hit;

	json_object_foreach(g->autos, k, t) {
		type = jsonl_str(t, "type", "");
		name = jsonl_str(t, "name", "");
		hit = 0;
		for (line = out->s; !hit && line && *line; line = nl ?
		    nl + 1 : NULL) {
			nl = strchr(line, '\n');
			r = json_loadb(line, nl ? (size_t)(nl - line) :
			    strlen(line), 0, NULL);
			hit = r && !strcmp(jsonl_str(r, "kind", ""), "result") &&
			    !strcmp(jsonl_str(r, "type", ""), type) &&
			    !strcmp(jsonl_str(r, "name", ""), name) &&
			    !strcmp(jsonl_str(r, "status", ""), "ok");
			json_decref(r);
		}
		if (!hit)
			continue;
		if (!strcmp(type, "stack"))
			al = alert_new("OK", "Stack", name, "StackAutoUpdated",
			    json_pack("{s:s,s:O}", "name", name, "images",
			    json_object_get(t, "images")));
		else
			al = alert_new("OK", "Deployment", name,
			    "DeploymentAutoUpdated", json_pack("{s:s,s:s}",
			    "name", name, "image", json_string_value(
			    json_array_get(json_object_get(t, "images"), 0)) ?
			    json_string_value(json_array_get(json_object_get(t,
			    "images"), 0)) : ""));
		/* done when sent: nothing stays open */
		alert_set_resolved(al);
		if (alert_queue(a->p.spool, al) < 0)
			kom_warne("%s/alert: the auto-update alert for %s '%s'",
			    a->p.spool, type, name);
		json_decref(al);
	}
}

/*
 * Files that do not parse: one ResourceSyncParseFailed alert per
 * distinct error (STATE/poll/apply.json "invalid" remembers the last),
 * resolved when the sync applies again.  ok: this run applied.
 */
static void
parse_alert(struct apply *a, const char *sync, int ok, const char *why)
{
	json_t *inv = json_object_get(a->st, "invalid"), *al;
	const char *prev = json_string_value(json_object_get(inv, sync));

	if (!inv) {
		inv = json_object();
		json_object_set_new(a->st, "invalid", inv);
	}
	if (ok && !prev)
		return;
	if (!ok && prev && !strcmp(prev, why))
		return;
	al = alert_new("WARNING", "ResourceSync", sync,
	    "ResourceSyncParseFailed", json_pack("{s:s,s:s}", "name", sync,
	    "error", ok ? prev : why));
	if (ok)
		alert_set_resolved(al);
	if (alert_queue(a->p.spool, al) < 0) {
		kom_warne("%s/alert: the ResourceSyncParseFailed alert for "
		    "'%s'", a->p.spool, sync);
		json_decref(al);
		return;
	}
	json_decref(al);
	if (ok)
		json_object_del(inv, sync);
	else
		json_object_set_new(inv, sync, json_string(why));
}

/* When g may run: now (0), or the end of its backoff. */
static long long
due(struct apply *a, const struct group *g)
{
	json_t *ss = json_object_get(json_object_get(a->st, "syncs"),
	    g->sync);
	long long next = json_integer_value(json_object_get(ss, "next"));

	/* a newer event than the failure runs at once */
	if (!ss || kom_wall_ms() >= next || g->newest >
	    json_integer_value(json_object_get(ss, "failed_at")))
		return 0;
	return next;
}

static void
run_group(struct apply *a, struct group *g)
{
	const struct config_sync *sy = config_sync(&a->cfg, g->sync);
	json_t *syncs = json_object_get(a->st, "syncs");
	json_t *ss = json_object_get(syncs, g->sync);
	struct buf why = BUF_INIT, out = BUF_INIT;
	const char *which = "";
	long long next, wait;
	long attempts = (long)json_integer_value(json_object_get(ss,
	    "attempts"));
	size_t i;
	int rc;

	rc = pipeline(a, sy, &why, &which, &out);
	if (rc == 0) {
		/* the alerts first: a kill before the events are gone runs
		 * again, to a noop, which raises none */
		auto_updated(a, g, &out);
		parse_alert(a, g->sync, 1, NULL);
		json_object_del(syncs, g->sync);
		save_state(a);
		report(a, g->sync, "applied", g->n, attempts + 1, NULL, 0);
		release(a, g, spool_done);
		a->applied++;
		buf_free(&why);
		buf_free(&out);
		return;
	}
	buf_free(&out);
	attempts++;
	kom_warn("sync '%s': %s (attempt %ld of %d)", g->sync, why.s,
	    attempts, a->max_attempts);
	if (!strcmp(which, "kom-sync diff") && rc == KOM_EX_DATAERR)
		parse_alert(a, g->sync, 0, why.s);
	if (attempts >= a->max_attempts) {
		report(a, g->sync, "failed", g->n, attempts, why.s, 0);
		give_up(a, g, which, why.s, attempts);
		a->held -= g->n;
		g->n = 0;
		json_decref(g->autos);
		g->autos = NULL;
		json_object_del(syncs, g->sync);
		save_state(a);
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
	/* the state first: a kill keeps the backoff; the events stay
	 * claimed through it */
	save_state(a);
	report(a, g->sync, "retry", g->n, attempts, why.s, next);
	g->told = 1;
	a->retried++;
	buf_free(&why);
}

/*
 * Run what is due, then sleep until the next backoff ends or an event
 * comes, until nothing is held and new/ is empty.
 */
static void
drain(struct apply *a)
{
	json_t *ss;
	long long next, soonest, now;
	size_t i, claimed;

	for (;;) {
		claimed = claim_all(a);
		soonest = 0;
		for (i = 0; i < a->ng; i++) {
			struct group *g = &a->g[i];

			if (!g->n)
				continue;
			if ((next = due(a, g)) == 0) {
				run_group(a, g);
				next = g->n ? due(a, g) : 0;
			} else if (!g->told) {
				ss = json_object_get(json_object_get(a->st,
				    "syncs"), g->sync);
				report(a, g->sync, "waiting", g->n,
				    (long)json_integer_value(json_object_get(
				    ss, "attempts")), json_string_value(
				    json_object_get(ss, "error")), next);
				g->told = 1;
			}
			if (next && (!soonest || next < soonest))
				soonest = next;
		}
		if (!a->held && !claimed)
			return;
		if (!soonest)
			continue;
		/* a second at a time: the events that come meanwhile */
		now = kom_wall_ms();
		if (soonest > now)
			poll(NULL, 0, soonest - now > 1000 ? 1000 :
			    (int)(soonest - now));
	}
}

int
apply_main(int argc, char **argv)
{
	struct apply a;
	char *dir = NULL, *lpath = NULL, *endp;
	long v;
	size_t i;
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
	a.st = poll_state_load(a.spath);
	drain(&a);
	for (i = 0; i < a.ng; i++) {
		json_decref(a.g[i].autos);
		free(a.g[i].e);
		free(a.g[i].sync);
	}
	free(a.g);
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
