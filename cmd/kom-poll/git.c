/*
 * kom-poll git: watch the syncs' remotes, one event per change
 *
 * For each [[resource_sync]] that is due (its poll_interval, with up to a
 * tenth more of jitter, since its last look; a remote that failed is
 * looked at again after a backoff), run "kom-poll fetch -y SYNC": one
 * cheap round trip per remote when nothing moved.  Every repository line
 * whose commit moved from the one this program last announced becomes
 * one event in SPOOL/sync/new; the looks and the commits announced are
 * kept in STATE/poll/git.json, written after the events, so that a kill
 * in between announces a change twice rather than never.  One JSON line
 * per sync on stdout.  See kom-poll(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

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
    "usage: kom-poll git [-a] [-t seconds] [-y sync]";

struct look {
	const char *spool;
	int timeout_s;
	long events, repos, errors;
	struct buf why;		/* the first error */
};

/* One moved repository line: its event. */
static int
announce(struct look *lk, const char *sync, const json_t *repo,
    const char *before)
{
	json_t *ev, *ch = json_object_get(repo, "changed");
	char *s;
	int rc;

	ev = json_pack("{s:s,s:s,s:I,s:s,s:O?,s:O?,s:s,s:O?,s:o,s:O?}",
	    "kind", "event", "source", "git", "ts", (json_int_t)kom_wall_ms(),
	    "sync", sync, "repo", json_object_get(repo, "remote"), "branch",
	    json_object_get(repo, "branch"), "before", before, "after",
	    json_object_get(repo, "after"), "changed", ch ? json_incref(ch) :
	    json_array(), "used_by", json_object_get(repo, "used_by"));
	if (!ev || !(s = json_dumps(ev, JSON_COMPACT)))
		kom_die(KOM_EX_SOFTWARE, "out of memory");
	json_decref(ev);
	s = xrealloc(s, strlen(s) + 2);
	memcpy(s + strlen(s), "\n", 2);
	rc = spool_put(lk->spool, "sync", s, strlen(s), NULL);
	free(s);
	return rc;
}

/* Look at one sync's remotes; ss is its state (changed in place). */
static void
look(struct look *lk, const struct config_sync *sy, json_t *ss)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	struct proc_opts po;
	char *tool = proc_tool("kom-poll"), secs[16], *argv[8], *line, *nl;
	json_t *seen = json_object_get(ss, "seen"), *rec, *next_seen;
	const char *key_b, *after, *before;
	char *key;
	int status;

	snprintf(secs, sizeof(secs), "%d", lk->timeout_s);
	argv[0] = tool;
	argv[1] = "fetch";
	argv[2] = "-t";
	argv[3] = secs;
	argv[4] = "-y";
	argv[5] = sy->name;
	argv[6] = NULL;
	memset(&po, 0, sizeof(po));
	po.out = &out;
	po.err = &err;
	/* each remote has -t; the whole never hangs either */
	po.timeout_ms = (lk->timeout_s * 10 + 30) * 1000;
	next_seen = json_object();
	if (proc_run(argv, &po, &status) < 0) {
		buf_printf(&lk->why, "%s: %s: %s", tool,
		    proc_failed_step(status), strerror(errno));
		lk->errors++;
		goto out;
	}
	if (status == 137 && ++lk->errors)
		buf_printf(&lk->why, "kom-poll fetch -y %s took longer than "
		    "%d s", sy->name, po.timeout_ms / 1000);
	for (line = out.s; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		rec = json_loads(line, 0, NULL);
		if (!rec || strcmp(jsonl_str(rec, "kind", ""), "repo")) {
			json_decref(rec);
			continue;
		}
		lk->repos++;
		if (json_object_get(rec, "error")) {
			lk->errors++;
			if (!lk->why.len)
				buf_adds(&lk->why, jsonl_str(rec, "error",
				    "error"));
		}
		after = json_string_value(json_object_get(rec, "after"));
		key = xasprintf("%s#%s", jsonl_str(rec, "remote", ""),
		    json_object_get(rec, "commit") ? jsonl_str(rec, "commit",
		    "") : jsonl_str(rec, "branch", ""));
		key_b = json_string_value(json_object_get(seen, key));
		before = key_b ? key_b :
		    json_string_value(json_object_get(rec, "before"));
		if (after && before && strcmp(before, after)) {
			if (announce(lk, sy->name, rec, before) < 0) {
				kom_warne("%s/sync", lk->spool);
				lk->errors++;
				/* not seen: announced next time */
				after = key_b;
			} else
				lk->events++;
		}
		if (!after)
			after = key_b;
		if (after)
			json_object_set_new(next_seen, key, json_string(after));
		free(key);
		json_decref(rec);
	}
	if (status && !lk->errors) {
		lk->errors++;
		buf_printf(&lk->why, "kom-poll fetch -y %s exited %d",
		    sy->name, status);
	}
	if (status && err.len)
		fputs(err.s, stderr);
out:
	json_object_set_new(ss, "seen", next_seen);
	free(tool);
	buf_free(&out);
	buf_free(&err);
}

int
git_main(int argc, char **argv)
{
	struct kom_paths p;
	struct config cfg;
	struct look lk;
	const char *yname = NULL;
	json_t *st, *syncs, *ss, *o;
	char *dir = NULL, *spath = NULL, *lpath = NULL, *endp;
	long long now, next;
	long secs, failures;
	size_t i;
	int ch, all = 0, timeout_s = 60, lfd = -1, rc = KOM_EX_OK, wrc = 0;

	while ((ch = getopt(argc, argv, "aht:y:")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 't':
			errno = 0;
			secs = strtol(optarg, &endp, 10);
			if (errno || *endp || secs < 1 || secs > 86400) {
				kom_warn("-t: '%s' is not a number of seconds "
				    "(1 to 86400)", optarg);
				fprintf(stderr, "%s\n", usage);
				return KOM_EX_USAGE;
			}
			timeout_s = (int)secs;
			break;
		case 'y':
			yname = optarg;
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
	paths_get(&p);
	if (config_load(p.config, 0, &cfg) < 0) {
		paths_free(&p);
		return KOM_EX_CONFIG;
	}
	if (yname && !config_sync(&cfg, yname)) {
		kom_warn("%s: no resource_sync named '%s'", cfg.path, yname);
		rc = KOM_EX_CONFIG;
		goto out;
	}
	dir = xasprintf("%s/poll", p.state);
	spath = xasprintf("%s/git.json", dir);
	lpath = xasprintf("%s/git.lock", dir);
	if (file_mkdir_p(dir, 0700) < 0 || spool_init(p.spool, "sync") < 0) {
		kom_warne("%s", dir);
		rc = KOM_EX_IOERR;
		goto out;
	}
	if ((lfd = file_lock(lpath, 0)) < 0) {
		if (errno == EWOULDBLOCK) {
			kom_warn("%s: another kom-poll git is running", lpath);
			rc = KOM_EX_NO;
		} else {
			kom_warne("%s", lpath);
			rc = KOM_EX_IOERR;
		}
		goto out;
	}
	st = poll_state_load(spath);
	syncs = json_object_get(st, "syncs");
	for (i = 0; i < cfg.nsyncs; i++) {
		const struct config_sync *sy = &cfg.syncs[i];

		if (yname && strcmp(yname, sy->name))
			continue;
		if (!(ss = json_object_get(syncs, sy->name))) {
			ss = json_object();
			json_object_set_new(syncs, sy->name, ss);
		}
		now = kom_wall_ms();
		next = json_integer_value(json_object_get(ss, "next"));
		if (!all && json_object_get(ss, "next") && now < next) {
			o = json_pack("{s:s,s:s,s:b,s:I}", "kind", "poll",
			    "sync", sy->name, "due", 0, "next",
			    (json_int_t)next);
			if (jsonl_write_steal(stdout, o) < 0)
				wrc = -1;
			continue;
		}
		memset(&lk, 0, sizeof(lk));
		lk.spool = p.spool;
		lk.timeout_s = timeout_s;
		buf_init(&lk.why);
		look(&lk, sy, ss);
		failures = lk.errors ?
		    json_integer_value(json_object_get(ss, "failures")) + 1 : 0;
		next = poll_next_look(kom_wall_ms(), sy->poll_interval, failures);
		json_object_set_new(ss, "last", json_integer(now));
		json_object_set_new(ss, "next", json_integer(next));
		json_object_set_new(ss, "failures", json_integer(failures));
		if (lk.errors)
			json_object_set_new(ss, "error",
			    json_string(lk.why.s));
		else
			json_object_del(ss, "error");
		o = json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I}", "kind", "poll",
		    "sync", sy->name, "due", 1, "repos", (json_int_t)lk.repos,
		    "events", (json_int_t)lk.events, "failures",
		    (json_int_t)failures, "next", (json_int_t)next);
		if (lk.errors) {
			json_object_set_new(o, "error", json_string(lk.why.s));
			kom_warn("sync '%s': %s; next look in %lld s",
			    sy->name, lk.why.s, (next - kom_wall_ms() + 999) /
			    1000);
			rc = KOM_EX_UNAVAILABLE;
		}
		if (jsonl_write_steal(stdout, o) < 0)
			wrc = -1;
		buf_free(&lk.why);
		/* after the events: a kill before this announces again */
		if (poll_state_save(spath, st) < 0) {
			kom_warne("%s", spath);
			rc = KOM_EX_IOERR;
		}
	}
	json_decref(st);
out:
	if (lfd >= 0)
		close(lfd);
	free(dir);
	free(spath);
	free(lpath);
	config_free(&cfg);
	paths_free(&p);
	if (fclose(stdout) != 0 || wrc) {
		kom_warne("stdout");
		return KOM_EX_IOERR;
	}
	return rc;
}
