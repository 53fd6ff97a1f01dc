/*
 * repo.c: a [[repo]] is a checkout kom keeps where it is declared.
 *
 * The commit is the one the record's "git" member names (kom-sync read
 * it from what kom-poll fetched), checked out from the cache (lib/git,
 * STATE/repos); a record without one has the remote fetched and the
 * branch (or pinned commit) resolved here.  That commit goes to the
 * repo's path: an absolute path as it is, a relative one under
 * STATE/repos/checkouts, none STATE/repos/checkouts/NAME.  A new path is
 * a clone (on_clone runs): a copy made beside the path and renamed into
 * place.  A new commit at the same path is a pull (on_pull runs), in
 * place as git pull does, so that what git does not track stays; the
 * same commit only rewrites the env file.  Stacks with a clone_path use
 * the same code (repo_update).  on_clone and on_pull are the user's shell
 * commands, run with /bin/sh -c in the checkout (or its path below it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "git.h"
#include "gitsrc.h"
#include "proc.h"
#include "repo.h"
#include "secrets.h"
#include "state.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

#define FETCH_MS 60000
#define HOOK_MS 600000

static const char *const repo_fields[] = { "environment", "on_clone",
    "on_pull", NULL };

/* a string member, "" when absent */
#define str(o, k) jsonl_str((o), (k), "")

/* The checkout's commit hex of src, made in the cache; 0 or -1 (job_fail). */
int
repo_fetch(struct job *j, const struct gitsrc *src, char hex[KGIT_HEX],
    char **dir)
{
	struct buf err = BUF_INIT;
	struct kgit_repo *g = NULL;
	struct kgit_fetch_stats st;
	struct kgit_auth a;
	char *token = NULL, *repos;
	int rc;

	repos = xasprintf("%s/repos", j->x->paths.state);
	pthread_mutex_lock(&j->x->git_mu);
	rc = kgit_open(repos, src->url, &g, &err);
	if (rc == 0 && (rc = gitcfg_auth(&j->x->git, j->x->paths.config,
	    j->x->secrets_dir, src->domain, src->account, src->url, &a,
	    &token, &err)) == 0)
		rc = kgit_fetch(g, &a, FETCH_MS, &st, &err);
	if (rc == KGIT_E_UNAVAILABLE)
		j->tempfail = 1;
	if (rc == 0)
		rc = *src->commit ? kgit_pinned_commit(g, src->commit, hex,
		    &err) : kgit_branch_commit(g, src->branch, hex, &err);
	if (rc == 0)
		rc = kgit_checkout(g, hex, dir, &err);
	if (g)
		kgit_close(g);
	pthread_mutex_unlock(&j->x->git_mu);
	secrets_wipe(token);
	if (rc != 0)
		job_fail(j, "%s: %s '%s': %s", str(j->resource, "source"),
		    j->type, j->name, err.s);
	buf_free(&err);
	free(repos);
	return rc != 0 ? -1 : 0;
}

/* Run argv; 0, or -1 with the reason in *why. */
static int
run(char *const argv[], const char *cwd, struct buf *out, int ms)
{
	struct proc_opts o;
	int st;

	memset(&o, 0, sizeof(o));
	o.cwd = cwd;
	o.out = out;
	o.err = out;
	o.timeout_ms = ms;
	if (proc_run(argv, &o, &st) < 0) {
		buf_printf(out, "%s: %s", proc_failed_step(st),
		    strerror(errno));
		return -1;
	}
	if (st) {
		buf_printf(out, "%sexit status %d", out->len ? "; " : "", st);
		return -1;
	}
	return 0;
}

int
repo_place(struct job *j, const char *dir, const char *path)
{
	char *tmp = xasprintf("%s.kom-new", path);
	char *old = xasprintf("%s.kom-old", path);
	char *parent = file_dirname(path);
	char *rm_tmp[] = { "rm", "-rf", "--", tmp, NULL };
	char *rm_old[] = { "rm", "-rf", "--", old, NULL };
	char *cp[] = { "cp", "-a", "--", (char *)dir, tmp, NULL };
	struct buf out = BUF_INIT;
	int rc = -1, had;
	struct stat sb;

	if (file_mkdir_p(parent, 0755) < 0) {
		job_fail(j, "%s '%s': %s: %s", j->type, j->name, parent,
		    strerror(errno));
		goto out;
	}
	if (run(rm_tmp, NULL, &out, 0) < 0 || run(rm_old, NULL, &out, 0) < 0 ||
	    run(cp, NULL, &out, 0) < 0) {
		job_fail(j, "%s '%s': cannot copy the checkout to %s: %s",
		    j->type, j->name, tmp, out.s);
		goto out;
	}
	had = lstat(path, &sb) == 0;
	if ((had && rename(path, old) < 0) || rename(tmp, path) < 0) {
		job_fail(j, "%s '%s': cannot move the checkout to %s: %s",
		    j->type, j->name, path, strerror(errno));
		if (had)
			rename(old, path);
		goto out;
	}
	file_fsync_dir(parent);
	buf_reset(&out);
	run(rm_old, NULL, &out, 0);
	rc = 0;
out:
	free(tmp);
	free(old);
	free(parent);
	buf_free(&out);
	return rc;
}

/* Is path a directory that holds something (or not a directory)? */
static int
occupied(const char *path)
{
	char **names;
	size_t n;

	if (access(path, F_OK) != 0)
		return 0;
	if (file_list_dir(path, &names, &n) < 0)
		return 1;
	file_list_free(names, n);
	return n > 0;
}

int
repo_update(struct job *j, const char *url, const char *from,
    const char *to, const char *dir, const char *path, int reclone)
{
	char *repos, **paths = NULL, **argv;
	struct kgit_repo *g = NULL;
	struct buf err = BUF_INIT, out = BUF_INIT;
	size_t i, n = 0, k;
	int rc;

	if (!from || !*from || access(path, F_OK) != 0) {
		/* a clone never takes over a directory kom did not make */
		if (occupied(path)) {
			job_fail(j, "%s: %s '%s': %s exists and was not "
			    "cloned by kom: move it away or name another path",
			    str(j->resource, "source"), j->type, j->name, path);
			return -1;
		}
		return repo_place(j, dir, path) < 0 ? -1 : 1;
	}
	if (!strcmp(from, to))
		return 0;
	if (reclone)
		return repo_place(j, dir, path) < 0 ? -1 : 3;
	repos = xasprintf("%s/repos", j->x->paths.state);
	pthread_mutex_lock(&j->x->git_mu);
	rc = kgit_open(repos, url, &g, &err);
	if (rc == 0)
		rc = kgit_changed(g, from, to, &paths, &n, &err);
	if (g)
		kgit_close(g);
	pthread_mutex_unlock(&j->x->git_mu);
	free(repos);
	if (rc < 0) {
		job_fail(j, "%s '%s': %.12s..%.12s: %s", j->type, j->name, from,
		    to, err.s);
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	/* As git pull: the paths the commits changed, copied over or
	 * removed; what git does not track stays. */
	argv = xcalloc(n + 8, sizeof(*argv));
	k = 0;
	argv[k++] = "cp";
	argv[k++] = "-a";
	argv[k++] = "--parents";
	argv[k++] = "--remove-destination";
	argv[k++] = "-t";
	argv[k++] = (char *)path;
	argv[k++] = "--";
	rc = 0;
	for (i = 0; i < n; i++) {
		char *src = xasprintf("%s/%s", dir, paths[i]);
		struct stat sb;

		if (lstat(src, &sb) == 0) {
			argv[k++] = paths[i];
		} else {
			char *dst = xasprintf("%s/%s", path, paths[i]);

			if (unlink(dst) < 0 && errno != ENOENT) {
				job_fail(j, "%s '%s': %s: %s", j->type,
				    j->name, dst, strerror(errno));
				rc = -1;
			}
			free(dst);
		}
		free(src);
	}
	if (rc == 0 && k > 7 && run(argv, dir, &out, 0) < 0) {
		job_fail(j, "%s '%s': cannot update %s: %s", j->type, j->name,
		    path, out.s);
		rc = -1;
	}
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(argv);
	buf_free(&out);
	return rc < 0 ? -1 : 2;
}

/* The repo's environment as KEY=VALUE lines, mode 0600. */
static int
write_env(struct job *j, const json_t *cfg, const char *path)
{
	struct buf b = BUF_INIT;
	const char *f = str(cfg, "env_file_path");
	json_t *v;
	size_t i;
	char *file;
	int rc = 0;

	json_array_foreach(json_object_get(cfg, "environment"), i, v)
		buf_printf(&b, "%s=%s\n", str(v, "key"), str(v, "value"));
	if (!b.len) {
		buf_free(&b);
		return 0;
	}
	file = xasprintf("%s/%s", path, *f ? f : ".env");
	if (file_write_atomic(file, b.s, b.len, 0600) < 0) {
		job_fail(j, "repo '%s': %s: %s", j->name, file,
		    strerror(errno));
		rc = -1;
	}
	explicit_bzero(b.s, b.len);
	buf_free(&b);
	free(file);
	return rc;
}

int
repo_hook(struct job *j, const json_t *cfg, const char *which, const char *path)
{
	const json_t *h = json_object_get(cfg, which);
	const char *cmd = str(h, "command"), *sub = str(h, "path");
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	struct buf out = BUF_INIT;
	char *cwd;
	int rc;

	if (!*cmd)
		return 0;
	cwd = *sub ? xasprintf("%s/%s", path, sub) : xstrdup(path);
	rc = run(argv, cwd, &out, HOOK_MS);
	while (out.len && (out.s[out.len - 1] == '\n' ||
	    out.s[out.len - 1] == ' '))
		out.s[--out.len] = '\0';
	json_object_set_new(j->detail, which, json_string(out.s));
	if (rc < 0) {
		char *m = job_masked(j, out.s);

		job_fail(j, "%s: %s '%s': %s failed: %s",
		    str(j->resource, "source"), j->type, j->name, which, m);
		free(m);
	}
	buf_free(&out);
	free(cwd);
	return rc;
}

/* The cache's checkout of hex (made when missing); 0, or -1 with err. */
static int
cache_checkout(struct job *j, const char *url, const char *hex, char **dir,
    struct buf *err)
{
	struct kgit_repo *g = NULL;
	char *repos = xasprintf("%s/repos", j->x->paths.state);
	int rc;

	pthread_mutex_lock(&j->x->git_mu);
	rc = kgit_open(repos, url, &g, err);
	if (rc == 0)
		rc = kgit_checkout(g, hex, dir, err);
	if (g)
		kgit_close(g);
	pthread_mutex_unlock(&j->x->git_mu);
	free(repos);
	return rc < 0 ? -1 : 0;
}

/*
 * The checkout of exactly the commit the record's "git" member names
 * (kom-sync read it from what kom-poll fetched): from the cache, fetched
 * only when the cache lacks it.  0 with *dir, or -1 after job_fail.
 */
static int
repo_at(struct job *j, const struct gitsrc *src, const char *hex, char **dir)
{
	struct buf err = BUF_INIT;
	char got[KGIT_HEX];
	int rc;

	if (cache_checkout(j, src->url, hex, dir, &err) == 0) {
		buf_free(&err);
		return 0;
	}
	/* not in the cache: fetch, then it must be there */
	if (repo_fetch(j, src, got, dir) < 0) {
		buf_free(&err);
		return -1;
	}
	free(*dir);
	*dir = NULL;
	if ((rc = cache_checkout(j, src->url, hex, dir, &err)) < 0)
		job_fail(j, "%s: %s '%s': commit %.12s of %s: %s",
		    str(j->resource, "source"), j->type, j->name, hex, src->url,
		    err.s);
	buf_free(&err);
	return rc;
}

json_t *
repo_apply(struct job *j)
{
	json_t *config = json_object_get(j->resource, "config"), *cfg = NULL;
	json_t *old, *ex = NULL;
	const json_t *git = json_object_get(j->resource, "git");
	struct gitsrc src;
	struct buf err = BUF_INIT;
	char hex[KGIT_HEX], *dir = NULL, *path;
	const char *p = str(config, "path"), *oldc = "", *oldp = "";
	int k, how;

	memset(&src, 0, sizeof(src));
	if ((k = gitsrc_record(&j->x->git, j->resource, NULL, &src,
	    &err)) <= 0) {
		job_fail(j, "%s: repo '%s': %s", str(j->resource, "source"),
		    j->name, k < 0 ? err.s : "no repo to clone");
		buf_free(&err);
		return NULL;
	}
	buf_free(&err);
	path = *p == '/' ? xstrdup(p) : xasprintf("%s/repos/checkouts/%s",
	    j->x->paths.state, *p ? p : j->name);
	old = state_load(j->x->paths.state, "repo", j->name);
	if (old) {
		oldc = str(json_object_get(old, "exec"), "commit");
		oldp = str(json_object_get(old, "exec"), "path");
	}
	if (strlen(str(git, "commit")) == KGIT_HEX - 1) {
		memcpy(hex, str(git, "commit"), KGIT_HEX);
		if (repo_at(j, &src, hex, &dir) < 0)
			goto out;
	} else if (repo_fetch(j, &src, hex, &dir) < 0) {
		goto out;
	}
	if (!(cfg = config_interpolated(j, config, repo_fields)))
		goto out;
	json_object_set_new(j->detail, "commit", json_string(hex));
	json_object_set_new(j->detail, "path", json_string(path));
	if ((how = repo_update(j, src.url, strcmp(oldp, path) ? NULL : oldc,
	    hex, dir, path, 0)) < 0)
		goto out;
	if (how) {
		j->deployed = 1;
		json_object_set_new(j->detail, how == 1 ? "cloned" : "pulled",
		    json_true());
		if (how == 2)
			json_object_set_new(j->detail, "commits", json_pack(
			    "s++", oldc, "..", hex));
	}
	if (write_env(j, cfg, path) < 0)
		goto out;
	if (j->deployed && repo_hook(j, cfg, how == 1 ? "on_clone" : "on_pull",
	    path) < 0)
		goto out;
	ex = json_pack("{s:s, s:s}", "commit", hex, "path", path);
	/* the record names what it holds, as kom-sync will next time */
	if (!git)
		json_object_set_new(j->resource, "git", json_pack(
		    "{s:s,s:s,s:s}", "remote", src.url, "branch", src.branch,
		    "commit", hex));
out:
	json_decref(cfg);
	json_decref(old);
	gitsrc_free(&src);
	free(dir);
	free(path);
	return ex;
}
