/*
 * resource_git: what a stack from git deploys, read offline from the
 * caches kom-poll fetched (see resource.h, resource_git()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "git.h"
#include "gitsrc.h"
#include "jsonl.h"
#include "resource.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char *
cs(const json_t *o, const char *k)
{
	return jsonl_str(o, k, "");
}

/* run_directory/path, as the checkout names it ("a/./b" kept simple). */
static char *
in_run_dir(const char *rd, const char *path)
{
	while (rd[0] == '.' && rd[1] == '/')
		rd += 2;
	if (!strcmp(rd, ".") || !*rd)
		return xstrdup(path);
	return xasprintf("%s%s%s", rd, rd[strlen(rd) - 1] == '/' ? "" : "/",
	    path);
}

/*
 * One tracked file into files: its sha256 at hex, or null when the commit
 * has no such file.  -1 (err set) on a read error other than absence.
 */
static int
track(struct kgit_repo *r, const char *hex, const char *rd, const char *path,
    const char *requires, json_t *files, struct buf *err)
{
	struct buf b = BUF_INIT;
	char *full = in_run_dir(rd, path), sum[65];
	int rc = kgit_read_file(r, hex, full, &b, err);
	json_t *h;

	free(full);
	if (rc < 0 && rc != KGIT_E_NOTFOUND) {
		buf_free(&b);
		return -1;
	}
	if (rc == 0) {
		kom_sha256_hex(b.s ? b.s : "", b.len, sum);
		h = json_string(sum);
	} else
		h = json_null();
	buf_free(&b);
	json_object_set_new(files, path, json_pack("{s:o,s:s}", "sha256", h,
	    "requires", requires));
	return 0;
}

/* Komodo's requires (alias req), lowercase accepted: None by default. */
static const char *
requires_of(const json_t *v)
{
	const char *s = json_string_value(json_object_get(v, "requires"));

	if (!s)
		s = json_string_value(json_object_get(v, "req"));
	if (s && !strcasecmp(s, "redeploy"))
		return "Redeploy";
	if (s && !strcasecmp(s, "restart"))
		return "Restart";
	return "None";
}

/*
 * The cache of src, opened, and the commit it uses (pinned, else the head
 * of its branch) in hex: 0, or -1 with err set ("run kom-poll fetch").
 */
static int
open_resolved(const struct gitsrc *src, const char *reposdir,
    struct kgit_repo **out, char hex[KGIT_HEX], struct buf *err)
{
	char *key = kgit_cache_key(src->url), *bare;
	struct kgit_repo *r = NULL;
	struct stat sb;
	int rc;

	bare = xasprintf("%s/%s/repo.git", reposdir, key);
	free(key);
	rc = stat(bare, &sb);
	free(bare);
	if (rc < 0) {
		buf_printf(err, "%s is not fetched yet: run kom-poll fetch",
		    src->url);
		return -1;
	}
	if (kgit_open(reposdir, src->url, &r, err) < 0)
		return -1;
	if (*src->commit)
		rc = kgit_pinned_commit(r, src->commit, hex, err);
	else
		rc = kgit_branch_commit(r, src->branch, hex, err);
	if (rc < 0) {
		buf_reset(err);
		if (*src->commit)
			buf_printf(err, "%s: commit %s is not on a branch "
			    "fetched yet: run kom-poll fetch", src->url,
			    src->commit);
		else
			buf_printf(err, "%s: branch %s is not fetched yet: "
			    "run kom-poll fetch", src->url, src->branch);
		kgit_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

/* The "git" member of one stack record; -1 with err set. */
static int
stack_git(json_t *rec, const struct gitsrc *src, const char *reposdir,
    struct buf *err)
{
	const json_t *c = json_object_get(rec, "config"), *v;
	const char *rd = cs(c, "run_directory");
	char hex[KGIT_HEX];
	struct kgit_repo *r = NULL;
	json_t *files, *fp;
	size_t i, n = 0;

	if (open_resolved(src, reposdir, &r, hex, err) < 0)
		return -1;
	files = json_object();
	fp = json_object_get(c, "file_paths");
	json_array_foreach(fp, i, v) {
		if (!json_is_string(v) || !*json_string_value(v))
			continue;
		n++;
		if (track(r, hex, rd, json_string_value(v), "Redeploy", files,
		    err) < 0)
			goto fail;
	}
	if (!n && track(r, hex, rd, "compose.yaml", "Redeploy", files,
	    err) < 0)
		goto fail;
	json_array_foreach(json_object_get(c, "additional_env_files"), i, v) {
		const char *p = json_is_string(v) ? json_string_value(v) :
		    cs(v, "path");

		if (!*p || json_is_false(json_object_get(v, "track")) ||
		    json_object_get(files, p))
			continue;
		if (track(r, hex, rd, p, "Redeploy", files, err) < 0)
			goto fail;
	}
	json_array_foreach(json_object_get(c, "config_files"), i, v) {
		const char *p = json_is_string(v) ? json_string_value(v) :
		    cs(v, "path");

		if (!*p || json_object_get(files, p))
			continue;
		if (track(r, hex, rd, p, requires_of(v), files, err) < 0)
			goto fail;
	}
	json_object_set_new(rec, "git", json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}",
	    "remote", src->url, "domain", src->domain, "account",
	    src->account, "branch", src->branch, "commit", hex, "files",
	    files));
	kgit_close(r);
	return 0;
fail:
	json_decref(files);
	kgit_close(r);
	return -1;
}

/*
 * The "git" member of a build or [[repo]] record: the commit its branch
 * (or pin) has in the cache, without files (kom-sync diff: a new commit
 * is a change; a repo holds its whole tree).  One whose remote is not
 * fetched yet gets none: kom-exec fetches it itself.
 */
static void
commit_git(json_t *rec, const struct gitsrc *src, const char *reposdir)
{
	struct buf err = BUF_INIT;
	struct kgit_repo *r = NULL;
	char hex[KGIT_HEX];

	if (open_resolved(src, reposdir, &r, hex, &err) == 0) {
		json_object_set_new(rec, "git", json_pack("{s:s,s:s,s:s,s:s,"
		    "s:s}", "remote", src->url, "domain", src->domain,
		    "account", src->account, "branch", src->branch, "commit",
		    hex));
		kgit_close(r);
	}
	buf_free(&err);
}

int
resource_git_one(json_t *rec, const json_t *records, const struct gitcfg *g,
    const char *reposdir, struct buf *msg)
{
	struct buf err = BUF_INIT;
	struct gitsrc src;
	int rc = 0;

	if (!strcmp(cs(rec, "type"), "build") ||
	    !strcmp(cs(rec, "type"), "repo")) {
		if (gitsrc_record(g, rec, records, &src, &err) > 0)
			commit_git(rec, &src, reposdir);
		gitsrc_free(&src);
	} else if (!strcmp(cs(rec, "type"), "stack")) {
		rc = gitsrc_record(g, rec, records, &src, &err);
		if (rc > 0)
			rc = stack_git(rec, &src, reposdir, &err);
		gitsrc_free(&src);
		if (rc < 0)
			buf_printf(msg, "%s: stack '%s': %s", cs(rec, "source"),
			    cs(rec, "name"), err.s);
	}
	buf_free(&err);
	return rc < 0 ? -1 : 0;
}

int
resource_git(json_t *records, const struct gitcfg *g, const char *reposdir)
{
	struct buf msg = BUF_INIT;
	json_t *rec;
	size_t i;
	int bad = 0;

	json_array_foreach(records, i, rec) {
		buf_reset(&msg);
		if (resource_git_one(rec, records, g, reposdir, &msg) < 0) {
			kom_warn("%s", msg.s);
			bad++;
		}
	}
	buf_free(&msg);
	return bad ? -1 : 0;
}

json_t *
resource_git_linked(const char *statedir, const json_t *declared,
    const char *name)
{
	json_t *rec, *out;

	if (gitsrc_repo_config(declared, name))
		return json_incref((json_t *)declared);
	if (!(rec = state_load(statedir, "repo", name)))
		return NULL;
	out = json_array();
	json_array_append_new(out, rec);
	return out;
}

int
resource_git_checkout(const struct gitcfg *g, const json_t *rec,
    const json_t *records, const char *reposdir, char hex[KGIT_HEX],
    char **dir, struct buf *err)
{
	struct gitsrc src;
	struct kgit_repo *r = NULL;
	int rc;

	*dir = NULL;
	rc = gitsrc_record(g, rec, records, &src, err);
	if (rc > 0) {
		rc = open_resolved(&src, reposdir, &r, hex, err);
		if (rc == 0)
			rc = kgit_checkout(r, hex, dir, err) < 0 ? -1 : 1;
		kgit_close(r);
	}
	gitsrc_free(&src);
	return rc;
}

int
resource_sync_join(const struct config *cfg, const struct config_sync *sy,
    const char *base, int inside, char ***paths, size_t *npaths,
    struct buf *err)
{
	char **v = xreallocarray(NULL, sy->nresource_path + 1, sizeof(*v));
	size_t i, n = 0;

	for (i = 0; i < sy->nresource_path; i++) {
		const char *rp = sy->resource_path[i];
		size_t l = strlen(rp);

		if (inside && (rp[0] == '/' || !strcmp(rp, "..") ||
		    !strncmp(rp, "../", 3) || strstr(rp, "/../") ||
		    (l >= 3 && !strcmp(rp + l - 3, "/..")))) {
			buf_printf(err, "%s:%d: resource_sync '%s': "
			    "resource_path '%s' leaves the repository",
			    cfg->path, sy->line, sy->name, rp);
			while (n)
				free(v[--n]);
			free(v);
			return -1;
		}
		v[n++] = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", base,
		    rp);
	}
	if (!n)
		v[n++] = xstrdup(base);
	*paths = v;
	*npaths = n;
	return 0;
}

int
resource_sync_paths(const struct config *cfg, const struct config_sync *sy,
    const char *statedir, char ***paths, size_t *npaths, char hex[KGIT_HEX],
    struct buf *err)
{
	struct buf e = BUF_INIT;
	char *dir = NULL, *repos;
	json_t *rec, *linked = NULL;
	int rc;

	hex[0] = '\0';
	*paths = NULL;
	*npaths = 0;
	if (sy->files_on_host || (!*sy->repo && !*sy->linked_repo))
		return resource_sync_join(cfg, sy, sy->directory, 0, paths, npaths,
		    err);
	/* linked_repo: the [[repo]] as it was applied (a sync that declares
	 * it ran first), read by the same rule */
	if (*sy->linked_repo && !(linked = resource_git_linked(statedir, NULL,
	    sy->linked_repo))) {
		buf_printf(err, "%s:%d: resource_sync '%s': linked_repo '%s' "
		    "is not an applied [[repo]] in %s: apply the sync that "
		    "declares it first", cfg->path, sy->line, sy->name,
		    sy->linked_repo, statedir);
		return -1;
	}
	rec = json_pack("{s:s,s:s,s:{s:s,s:s,s:b,s:s,s:s,s:s,s:s}}",
	    "type", "resource_sync", "name", sy->name, "config",
	    "linked_repo", sy->linked_repo, "git_provider", sy->git_provider,
	    "git_https", sy->git_https, "repo", sy->repo, "git_account",
	    sy->git_account, "branch", sy->branch, "commit", sy->commit);
	repos = xasprintf("%s/repos", statedir);
	rc = resource_git_checkout(&cfg->git, rec, linked, repos, hex, &dir,
	    &e);
	free(repos);
	json_decref(rec);
	json_decref(linked);
	if (rc <= 0) {
		buf_printf(err, "%s:%d: resource_sync '%s': %s", cfg->path,
		    sy->line, sy->name, e.s);
		buf_free(&e);
		hex[0] = '\0';
		free(dir);
		return -1;
	}
	buf_free(&e);
	rc = resource_sync_join(cfg, sy, dir, 1, paths, npaths, err) < 0 ?
	    -1 : 1;
	if (rc < 0)
		hex[0] = '\0';
	free(dir);
	return rc;
}
