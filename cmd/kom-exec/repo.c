/*
 * repo.c: a [[repo]] is a checkout kom keeps where it is declared.
 *
 * The remote is fetched into its cache (lib/git, STATE/repos), the
 * branch (or pinned commit) resolved, and that commit's checkout copied
 * into the repo's path: an absolute path as it is, a relative one under
 * STATE/repos/checkouts, none STATE/repos/checkouts/NAME.  A new path is
 * a clone (on_clone runs), a new commit at the same path a pull (on_pull
 * runs); the same commit only rewrites the env file.  The copy is made
 * beside the path and renamed into place, so the path never holds half
 * of two commits.  on_clone and on_pull are the user's shell commands,
 * run with /bin/sh -c in the checkout (or its path below it).
 */
#include <errno.h>
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

json_t *
repo_apply(struct job *j)
{
	json_t *config = json_object_get(j->resource, "config"), *cfg = NULL;
	json_t *old, *ex = NULL;
	struct gitsrc src;
	struct buf err = BUF_INIT;
	char hex[KGIT_HEX], *dir = NULL, *path;
	const char *p = str(config, "path"), *oldc = "", *oldp = "";
	int k, clone;

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
	if (repo_fetch(j, &src, hex, &dir) < 0)
		goto out;
	if (!(cfg = config_interpolated(j, config, repo_fields)))
		goto out;
	clone = strcmp(oldp, path) != 0 || access(path, F_OK) != 0;
	json_object_set_new(j->detail, "commit", json_string(hex));
	json_object_set_new(j->detail, "path", json_string(path));
	if (clone || strcmp(oldc, hex) != 0) {
		if (repo_place(j, dir, path) < 0)
			goto out;
		j->deployed = 1;
		json_object_set_new(j->detail, clone ? "cloned" : "pulled",
		    json_true());
	}
	if (write_env(j, cfg, path) < 0)
		goto out;
	if (j->deployed && repo_hook(j, cfg, clone ? "on_clone" : "on_pull",
	    path) < 0)
		goto out;
	ex = json_pack("{s:s, s:s}", "commit", hex, "path", path);
out:
	json_decref(cfg);
	json_decref(old);
	gitsrc_free(&src);
	free(dir);
	free(path);
	return ex;
}
