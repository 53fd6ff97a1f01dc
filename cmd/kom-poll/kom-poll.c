/*
 * kom-poll: the program that notices change, before the pipeline
 *
 *	kom-poll fetch && kom-sync diff -y homelab | kom-plan | kom-exec
 *
 * "fetch" reads kom.toml's syncs (or the resource files under PATH, as
 * kom-sync reads them), collects every git repository that the syncs and
 * their stacks, repos, builds and syncs reference, fetches each remote once
 * into the state dir's cache (lib/git.h), checks out the commit each
 * branch or pin resolves to, and writes one JSON line per repository
 * (kom-json(5) "repo") and an end record.  A remote that fails keeps its
 * last good checkout; the others are fetched all the same.  See
 * kom-poll(1).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "git.h"
#include "gitcfg.h"
#include "gitsrc.h"
#include "jsonl.h"
#include "paths.h"
#include "poll.h"
#include "resource.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-poll fetch [-n] [-t seconds] [-y sync] [path ...]\n"
    "       kom-poll apply [-m attempts] [-r seconds]\n"
    "       kom-poll images [-a | -l]\n"
    "       kom-poll git [-a] [-t seconds] [-y sync]\n"
    "       kom-poll webhook [-b bytes] [-c count] [-l address:port] "
    "[-t seconds]";

/* One remote, fetched once per run. */
struct remote {
	char *url;		/* without credentials */
	char *domain;		/* the provider, for its account */
	char *account;		/* "" none */
	json_t *before;		/* branch -> commit, as the cache had them */
	json_t *had;		/* commit -> true: the checkouts it had */
	int done;		/* fetch attempted */
	int cls;		/* 0, or the fetch's KGIT_E_* */
	char *err;		/* its message */
	int downloaded;		/* a pack came */
};

/* One repository line: a remote at a branch or a pinned commit. */
struct want {
	struct remote *rm;
	char *branch;
	char *commit;		/* "" unless pinned */
	json_t *used_by;	/* ["stack/web", ...] */
	char *source;		/* where it was first named, for messages */
};

struct run {
	struct config cfg;
	char *reposdir;
	char *statedir;
	int dry, timeout_ms;
	struct remote **rms;
	size_t nrms, rcap;
	struct want *w;
	size_t nw, wcap;
	long errors;		/* resource file errors */
	const char *server;
};

static int
usage_error(void)
{
	fprintf(stderr, "%s\n", usage);
	return KOM_EX_USAGE;
}

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static struct remote *
remote_get(struct run *r, const char *url, const char *domain,
    const char *account)
{
	struct remote *rm;
	size_t i;

	for (i = 0; i < r->nrms; i++)
		if (!strcmp(r->rms[i]->url, url)) {
			rm = r->rms[i];
			if (!*rm->account && *account) {
				free(rm->account);
				rm->account = xstrdup(account);
			}
			return rm;
		}
	rm = xcalloc(1, sizeof(*rm));
	rm->url = xstrdup(url);
	rm->domain = xstrdup(domain);
	rm->account = xstrdup(account);
	KOM_GROW(r->rms, r->nrms + 1, r->rcap);
	r->rms[r->nrms++] = rm;
	return rm;
}

/* Note that what (TYPE/NAME, declared at source) uses the source src. */
static struct want *
want_add(struct run *r, const char *what, const char *source,
    const struct gitsrc *src)
{
	struct remote *rm = remote_get(r, src->url, src->domain,
	    src->account);
	struct want *w;
	size_t i;

	for (i = 0; i < r->nw; i++) {
		w = &r->w[i];
		if (w->rm == rm && !strcmp(w->commit, src->commit) &&
		    (*src->commit || !strcmp(w->branch, src->branch))) {
			json_array_append_new(w->used_by, json_string(what));
			return w;
		}
	}
	KOM_GROW(r->w, r->nw + 1, r->wcap);
	w = &r->w[r->nw++];
	w->rm = rm;
	w->branch = xstrdup(src->branch);
	w->commit = xstrdup(src->commit);
	w->used_by = json_pack("[s]", what);
	w->source = xstrdup(source);
	return w;
}

/* The want of a resource record (or NULL): its source, or an error. */
static struct want *
want_record(struct run *r, const json_t *rec, const json_t *records,
    const char *source)
{
	struct gitsrc src;
	struct buf err = BUF_INIT;
	struct want *w = NULL;
	char *what = xasprintf("%s/%s",
	    json_string_value(json_object_get(rec, "type")),
	    json_string_value(json_object_get(rec, "name")));
	int k;

	if ((k = gitsrc_record(&r->cfg.git, rec, records, &src, &err)) < 0) {
		kom_warn("%s: %s: %s", source, what, err.s);
		r->errors++;
	} else if (k > 0)
		w = want_add(r, what, source, &src);
	gitsrc_free(&src);
	buf_free(&err);
	free(what);
	return w;
}

/*
 * rm's cache, locked: NULL with the reason in err when it cannot be
 * opened, or with -n when there is none (nothing is made then).  Locks
 * are held one at a time, so that two runs never wait on each other.
 */
static struct kgit_repo *
cache_open(struct run *r, struct remote *rm, struct buf *err)
{
	struct kgit_repo *g = NULL;
	struct stat sb;
	char *key, *d;
	int have;

	if (r->dry) {
		key = kgit_cache_key(rm->url);
		d = xasprintf("%s/%s/repo.git", r->reposdir, key);
		have = stat(d, &sb) == 0;
		free(d);
		free(key);
		if (!have) {
			buf_printf(err, "%s: not fetched yet", rm->url);
			return NULL;
		}
	}
	if (kgit_open(r->reposdir, rm->url, &g, err) < 0)
		return NULL;
	return g;
}

static void
snap_one(void *ctx, const char *branch, const char *hex)
{
	json_object_set_new(ctx, branch, json_string(hex));
}

/* What the cache has before the fetch moves it: branches, checkouts. */
static void
snapshot(struct remote *rm, struct kgit_repo *g)
{
	DIR *d;
	struct dirent *de;

	rm->before = json_object();
	rm->had = json_object();
	kgit_branches(g, snap_one, rm->before);
	if (!(d = opendir(kgit_dir(g))))
		return;
	while ((de = readdir(d)))
		if (strlen(de->d_name) == KGIT_HEX - 1 &&
		    strspn(de->d_name, "0123456789abcdef") == KGIT_HEX - 1)
			json_object_set_new(rm->had, de->d_name, json_true());
	closedir(d);
}

static void
fetch_remote(struct run *r, struct remote *rm)
{
	struct buf err = BUF_INIT;
	struct kgit_fetch_stats st;
	struct kgit_repo *g;
	struct kgit_auth a;
	char *token = NULL;

	if (rm->done)
		return;
	rm->done = 1;
	if (!(g = cache_open(r, rm, &err))) {
		if (!r->dry) {
			rm->cls = KGIT_E_OTHER;
			rm->err = buf_release(&err);
			kom_warn("%s", rm->err);
		}
		buf_free(&err);
		return;
	}
	snapshot(rm, g);
	if (r->dry)
		rm->cls = 0;
	else if (gitcfg_auth(&r->cfg.git, r->cfg.path, r->cfg.secrets_dir,
	    rm->domain, rm->account, rm->url, &a, &token, &err) < 0)
		rm->cls = KGIT_E_AUTH;
	else
		rm->cls = kgit_fetch(g, &a, r->timeout_ms, &st, &err);
	kgit_close(g);
	secrets_wipe(token);
	if (rm->cls) {
		rm->err = buf_release(&err);
		kom_warn("%s", rm->err);
	} else if (!r->dry) {
		rm->downloaded = st.downloaded;
	}
	buf_free(&err);
}

/*
 * The resource files' errors and warnings; not their notes (what kom does
 * not act on yet): kom-sync gives those, and kom-poll acts on the repos.
 */
static void
diag_line(void *ctx, int is_error, const char *line)
{
	(void)ctx;
	if (is_error || !strstr(line, ": note: "))
		kom_warn("%s", line);
}

static void
read_paths(struct run *r, char **paths, size_t n,
    const struct config_sync *sy, json_t *all)
{
	struct resource_opts o;
	json_t *recs = NULL;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.diag = diag_line;
	o.server = r->server;
	o.secrets_dir = r->cfg.secrets_dir;
	if (sy) {
		o.match_tags = (const char *const *)sy->match_tags;
		o.nmatch_tags = sy->nmatch_tags;
	}
	r->errors += resource_load((const char *const *)paths, n, &o, &recs);
	for (i = 0; i < json_array_size(recs); i++)
		json_array_append(all, json_array_get(recs, i));
	json_decref(recs);
}

/* The commit a want resolves to in the cache g; its checkout too. */
static int
resolve(struct run *r, struct kgit_repo *g, struct want *w,
    char hex[KGIT_HEX], char **dir, struct buf *err)
{
	struct stat sb;
	int rc;

	*dir = NULL;
	rc = *w->commit ? kgit_pinned_commit(g, w->commit, hex, err) :
	    kgit_branch_commit(g, w->branch, hex, err);
	if (rc == 0 && !r->dry)
		rc = kgit_checkout(g, hex, dir, err);
	else if (rc == 0) {
		/* -n: the checkout a run before made, if any */
		*dir = xasprintf("%s/%s", kgit_dir(g), hex);
		if (stat(*dir, &sb) < 0) {
			free(*dir);
			*dir = NULL;
		}
	}
	return rc;
}

/* The files of a git-backed sync, from its checkout. */
static void
read_sync_repo(struct run *r, const struct config_sync *sy, struct want *w,
    json_t *all)
{
	struct buf err = BUF_INIT;
	struct kgit_repo *g;
	char hex[KGIT_HEX], *dir = NULL, **paths;
	size_t i, n = 0;
	int rc = -1;

	fetch_remote(r, w->rm);
	/* its files are read from the checkout after the lock is gone: a
	 * checkout is never changed once made */
	if ((g = cache_open(r, w->rm, &err))) {
		rc = resolve(r, g, w, hex, &dir, &err);
		kgit_close(g);
	}
	if (rc < 0 || !dir) {
		/* the sync's own line says why */
		buf_free(&err);
		free(dir);
		return;
	}
	buf_reset(&err);
	if (resource_sync_join(&r->cfg, sy, dir, 1, &paths, &n, &err) < 0) {
		kom_warn("%s", err.s);
		r->errors++;
		free(dir);
		buf_free(&err);
		return;
	}
	read_paths(r, paths, n, sy, all);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(dir);
	buf_free(&err);
}

static void
read_sync(struct run *r, const struct config_sync *sy, json_t *all)
{
	char **paths;
	char *src = xasprintf("%s:%d", r->cfg.path, sy->line);
	struct want *w = NULL;
	json_t *rec;
	size_t i, n = 0;

	if (sy->files_on_host || (!*sy->repo && !*sy->linked_repo)) {
		struct buf err = BUF_INIT;

		/* the sync's directory: never an error */
		resource_sync_join(&r->cfg, sy, sy->directory, 0, &paths, &n,
		    &err);
		buf_free(&err);
		read_paths(r, paths, n, sy, all);
		for (i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
	} else {
		/* the sync as a record, so that one rule reads them all */
		rec = json_pack("{s:s,s:s,s:{s:s,s:s,s:b,s:s,s:s,s:s,s:s}}",
		    "type", "resource_sync", "name", sy->name, "config",
		    "linked_repo", sy->linked_repo, "git_provider",
		    sy->git_provider, "git_https", sy->git_https, "repo",
		    sy->repo, "git_account", sy->git_account, "branch",
		    sy->branch, "commit", sy->commit);
		/* a [[repo]] none of the files read declares: the applied one
		 * (kom-sync reads a linked sync by the same rule) */
		if (*sy->linked_repo) {
			json_t *lr = resource_git_linked(r->statedir, all,
			    sy->linked_repo);

			w = want_record(r, rec, lr ? lr : all, src);
			json_decref(lr);
		} else
			w = want_record(r, rec, all, src);
		json_decref(rec);
	}
	if (w)
		read_sync_repo(r, sy, w, all);
	free(src);
}

/* One JSON line for w; the run's exit status for it. */
static int
report(struct run *r, struct want *w, FILE *out, int *wrc)
{
	struct remote *rm = w->rm;
	struct buf err = BUF_INIT;
	struct kgit_repo *g;
	char hex[KGIT_HEX], *dir = NULL, **paths = NULL;
	const char *before = NULL;
	json_t *o, *ch;
	size_t i, n = 0;
	int rc = KGIT_E_NOTFOUND, st = KOM_EX_OK;

	fetch_remote(r, rm);
	g = cache_open(r, rm, &err);
	o = json_pack("{s:s,s:s,s:s}", "kind", "repo", "remote", rm->url,
	    "branch", w->branch);
	if (*w->commit)
		json_object_set_new(o, "commit", json_string(w->commit));
	if (rm->before && !*w->commit)
		before = json_string_value(json_object_get(rm->before,
		    w->branch));
	if (g)
		rc = resolve(r, g, w, hex, &dir, &err);
	/* a pin does not move: it was there before when its checkout was */
	if (*w->commit && rc == 0 && json_object_get(rm->had, hex))
		before = hex;
	json_object_set_new(o, "before", before ? json_string(before) :
	    json_null());
	if (r->dry) {
		json_object_set_new(o, "after", json_null());
		json_object_set_new(o, "dry_run", json_true());
	} else if (rc == 0) {
		json_object_set_new(o, "after", json_string(hex));
		ch = json_array();
		if ((!before || strcmp(before, hex)) &&
		    kgit_changed(g, before, hex, &paths, &n, &err) < 0)
			json_object_set_new(o, "error", json_string(err.s));
		for (i = 0; i < n; i++) {
			json_array_append_new(ch, json_string(paths[i]));
			free(paths[i]);
		}
		free(paths);
		json_object_set_new(o, "changed", ch);
		json_object_set_new(o, "checkout", json_string(dir));
	} else
		json_object_set_new(o, "after", json_null());
	json_object_set(o, "used_by", w->used_by);
	if (!r->dry) {
		json_object_set_new(o, "fetched", json_boolean(rm->downloaded));
		if (rm->cls) {
			json_object_set_new(o, "error", json_string(rm->err));
			st = rm->cls == KGIT_E_UNAVAILABLE ?
			    KOM_EX_UNAVAILABLE : rm->cls == KGIT_E_AUTH ?
			    KOM_EX_CONFIG : rm->cls == KGIT_E_NOTFOUND ?
			    KOM_EX_DATAERR : KOM_EX_IOERR;
		} else if (rc < 0) {
			kom_warn("%s: %s: %s", w->source,
			    json_string_value(json_array_get(w->used_by, 0)),
			    err.s);
			json_object_set_new(o, "error", json_string(err.s));
			st = rc == KGIT_E_NOTFOUND ? KOM_EX_DATAERR :
			    KOM_EX_IOERR;
		}
	}
	kgit_close(g);
	if (jsonl_write_steal(out, o) < 0)
		*wrc = -1;
	free(dir);
	buf_free(&err);
	return st;
}

static int
fetch_main(int argc, char **argv)
{
	struct run r;
	struct kom_paths p;
	const struct config_sync *sy = NULL;
	const char *yname = NULL;
	json_t *all = json_array(), *end;
	char *host = NULL, *endp;
	long secs;
	size_t i, nerr = 0, nfetched = 0;
	int ch, rc = KOM_EX_OK, st, wrc = 0;

	memset(&r, 0, sizeof(r));
	r.timeout_ms = 60000;
	while ((ch = getopt(argc, argv, "hnt:y:")) != -1) {
		switch (ch) {
		case 'n':
			r.dry = 1;
			break;
		case 't':
			errno = 0;
			secs = strtol(optarg, &endp, 10);
			if (errno || *endp || secs < 1 || secs > 86400) {
				kom_warn("-t: '%s' is not a number of seconds "
				    "(1 to 86400)", optarg);
				json_decref(all);
				return usage_error();
			}
			r.timeout_ms = (int)secs * 1000;
			break;
		case 'y':
			yname = optarg;
			break;
		case 'h':
			puts(usage);
			json_decref(all);
			return kom_close_stdout(KOM_EX_OK);
		default:
			json_decref(all);
			return usage_error();
		}
	}
	argc -= optind;
	argv += optind;

	paths_get(&p);
	if (config_load(p.config, 0, &r.cfg) < 0) {
		paths_free(&p);
		json_decref(all);
		return KOM_EX_CONFIG;
	}
	r.reposdir = xasprintf("%s/repos", p.state);
	r.statedir = xstrdup(p.state);
	paths_free(&p);
	r.server = host = config_server(&r.cfg);
	if (yname && !(sy = config_sync(&r.cfg, yname))) {
		kom_warn("%s: no resource_sync named '%s'", r.cfg.path, yname);
		rc = KOM_EX_CONFIG;
		goto out;
	}
	if (argc)
		read_paths(&r, argv, (size_t)argc, sy, all);
	else if (sy)
		read_sync(&r, sy, all);
	else {
		/* a sync linked to a [[repo]] needs the others' files first */
		for (i = 0; i < r.cfg.nsyncs; i++)
			if (!*r.cfg.syncs[i].linked_repo ||
			    r.cfg.syncs[i].files_on_host)
				read_sync(&r, &r.cfg.syncs[i], all);
		for (i = 0; i < r.cfg.nsyncs; i++)
			if (*r.cfg.syncs[i].linked_repo &&
			    !r.cfg.syncs[i].files_on_host)
				read_sync(&r, &r.cfg.syncs[i], all);
	}
	for (i = 0; i < json_array_size(all); i++)
		want_record(&r, json_array_get(all, i), all,
		    str(json_array_get(all, i), "source"));

	for (i = 0; i < r.nw; i++) {
		st = report(&r, &r.w[i], stdout, &wrc);
		nerr += st != KOM_EX_OK;
		if (st && rc == KOM_EX_OK)
			rc = st;
	}
	for (i = 0; i < r.nrms; i++)
		nfetched += r.rms[i]->downloaded;
	end = json_pack("{s:s,s:s,s:{s:I,s:I,s:I,s:I}}", "kind", "end",
	    "program", "kom-poll", "counts", "repos", (json_int_t)r.nw,
	    "remotes", (json_int_t)r.nrms, "fetched", (json_int_t)nfetched,
	    "errors", (json_int_t)nerr);
	if (r.dry)
		json_object_set_new(end, "dry_run", json_true());
	if (jsonl_write_steal(stdout, end) < 0)
		wrc = -1;
	if (r.errors) {
		kom_warn("%ld error%s in the resource files", r.errors,
		    r.errors == 1 ? "" : "s");
		if (rc == KOM_EX_OK)
			rc = KOM_EX_DATAERR;
	}
out:
	for (i = 0; i < r.nw; i++) {
		free(r.w[i].branch);
		free(r.w[i].commit);
		free(r.w[i].source);
		json_decref(r.w[i].used_by);
	}
	free(r.w);
	for (i = 0; i < r.nrms; i++) {
		json_decref(r.rms[i]->before);
		json_decref(r.rms[i]->had);
		free(r.rms[i]->url);
		free(r.rms[i]->domain);
		free(r.rms[i]->account);
		free(r.rms[i]->err);
		free(r.rms[i]);
	}
	free(r.rms);
	free(r.reposdir);
	free(r.statedir);
	json_decref(all);
	config_free(&r.cfg);
	free(host);
	/* a failed write also sets the stream's error flag */
	return kom_close_stdout(wrc && !ferror(stdout) ? KOM_EX_IOERR : rc);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error();
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		puts(usage);
		return kom_close_stdout(KOM_EX_OK);
	}
	if (!strcmp(argv[1], "-V")) {
		puts("kom-poll " KOM_VERSION);
		return kom_close_stdout(KOM_EX_OK);
	}
	if (!strcmp(argv[1], "fetch"))
		return fetch_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "apply"))
		return apply_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "images"))
		return images_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "git"))
		return git_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "webhook"))
		return webhook_main(argc - 1, argv + 1);
	kom_warn("unknown subcommand '%s'", argv[1]);
	return usage_error();
}
