/*
 * stack.c: stacks through the compose CLI (lib/compose,
 * komodo-behaviour.md 5.1-5.3).
 *
 * Run directory: with file_contents, STATE/stacks/NAME/ (the contents are
 * written there as the first file path, compose.yaml by default); else
 * run_directory, absolute as is, relative to the directory of the
 * resource's source file (the sync's checkout: "source" under the
 * record's absolute "root", so that the current directory never matters).  The environment goes
 * into env_file_path (mode 0600) and is passed as the last --env-file.
 * pre_deploy/post_deploy are the user's own shell commands: /bin/sh -c in
 * RUN_DIR/path.  The applied hash covers the compose files, the env file
 * and the config, so an unchanged stack whose services all run is a noop
 * without running compose at all.
 *
 * A stack from git runs in the shared checkout of its record's commit,
 * or, with clone_path, in a checkout of its own there (repo_update:
 * cloned, pulled in place, or replaced with reclone).  A rollback's
 * record may pin images by digest ("pinned_images"): one more compose
 * file in STATE/stacks/NAME.  The applied record keeps the sha256 of each
 * compose file and the images compose ran, for releases (rollback.c).
 */
#include <errno.h>
#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "compose.h"
#include "docker.h"
#include "stack.h"
#include "file.h"
#include "config.h"
#include "git.h"
#include "gitcfg.h"
#include "jsonl.h"
#include "proc.h"
#include "repo.h"
#include "rollback.h"
#include "secrets.h"
#include "state.h"
#include "util.h"
#include "banned.h"

#define OUT_LINES 20

static const char *const stack_fields[] = {
	"file_contents", "environment", "pre_deploy", "post_deploy",
	"extra_args", "build_extra_args", "compose_cmd_wrapper", NULL,
};

struct stk {
	json_t *cfg;		/* interpolated config */
	char *project;
	char *dir;		/* run directory */
	char **files;		/* NULL-terminated */
	char **envs;		/* NULL-terminated */
	char *clone;		/* clone_path resolved, or NULL */
	char *pin;		/* the rollback's image pins file, or NULL */
	json_t *fsha;		/* declared file path: sha256 */
	char hash[65];
	struct compose cli;
	int have_cli;
};

static const char *
cstr(const json_t *o, const char *k)
{
	return jsonl_str(o, k, "");
}

static void
stk_free(struct stk *s)
{
	size_t i;

	json_decref(s->cfg);
	free(s->project);
	free(s->dir);
	for (i = 0; s->files && s->files[i]; i++)
		free(s->files[i]);
	free(s->files);
	for (i = 0; s->envs && s->envs[i]; i++)
		free(s->envs[i]);
	free(s->envs);
	free(s->clone);
	free(s->pin);
	json_decref(s->fsha);
	if (s->have_cli)
		compose_free(&s->cli);
}

static void
add_line(void *ctx, const char *line, size_t len)
{
	json_array_append_new(ctx, json_stringn(line, len));
}

/* Record a command's output tail in the detail, under key. */
static void
keep_output(struct job *j, const char *key, const char *text)
{
	json_t *a = json_array();

	compose_last_lines(text, OUT_LINES, add_line, a);
	json_object_set_new(j->detail, key, a);
}

/* Fetch url into r with the credentials kom.toml gives; 0 or a KGIT_E_*. */
static int
git_fetch(struct job *j, struct kgit_repo *r, const json_t *g,
    struct buf *err)
{
	struct config cfg;
	struct kgit_auth a;
	struct kgit_fetch_stats st;
	char *token = NULL;
	int rc;

	if (config_load(j->x->paths.config, 0, &cfg) < 0) {
		buf_printf(err, "cannot read %s", j->x->paths.config);
		return KGIT_E_OTHER;
	}
	if (gitcfg_auth(&cfg.git, cfg.path, cfg.secrets_dir, cstr(g, "domain"),
	    cstr(g, "account"), cstr(g, "remote"), &a, &token, err) < 0)
		rc = KGIT_E_AUTH;
	else
		rc = kgit_fetch(r, &a, 60000, &st, err);
	secrets_wipe(token);
	config_free(&cfg);
	return rc;
}

/*
 * A stack from git: the checkout of exactly the commit its record names
 * (kom-sync's "git" member), shared under STATE/repos (lib/git); made
 * from the cache, fetched first when the cache lacks the commit.  Fresh;
 * NULL after job_fail (temporary when the remote does not answer).
 */
static char *
git_checkout(struct job *j)
{
	const json_t *g = json_object_get(j->resource, "git");
	const char *url = cstr(g, "remote"), *hex = cstr(g, "commit");
	char *repos = xasprintf("%s/repos", j->x->paths.state), *dir = NULL;
	struct kgit_repo *r = NULL;
	struct buf err = BUF_INIT;
	int rc;

	if (!*url || strlen(hex) != KGIT_HEX - 1) {
		job_fail(j, "the record's git member names no remote or commit");
		free(repos);
		return NULL;
	}
	/* libgit2 one thread at a time (a fetch forks, lib/git.h): the
	 * run's one lock, shared with repos and builds */
	pthread_mutex_lock(&j->x->git_mu);
	if (kgit_open(repos, url, &r, &err) < 0) {
		job_fail(j, "%s", err.s);
	} else if (kgit_checkout(r, hex, &dir, &err) < 0) {
		rc = git_fetch(j, r, g, &err);
		if (rc == 0 && kgit_checkout(r, hex, &dir, &err) == 0)
			;
		else {
			if (rc == KGIT_E_UNAVAILABLE)
				j->tempfail = 1;
			job_fail(j, "commit %.12s of %s: %s", hex, url, err.s);
		}
	}
	kgit_close(r);
	pthread_mutex_unlock(&j->x->git_mu);
	buf_free(&err);
	free(repos);
	return dir;
}

/*
 * clone_path (komodo-behaviour.md 5.1): absolute as it is, relative under
 * the stack's directory STATE/stacks/NAME/.  0 with *out (NULL: none
 * declared), or -1 after job_fail.
 */
static int
clone_root(struct job *j, const json_t *cfg, char **out)
{
	const char *cp = cstr(cfg, "clone_path"), *p;
	char *enc;

	*out = NULL;
	if (!*cp)
		return 0;
	for (p = cp; *p; p += strcspn(p, "/"), p += *p == '/')
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			break;
	if (*p || strspn(cp, "/") == strlen(cp)) {
		job_fail(j, "%s: stack '%s': clone_path '%s' must name a "
		    "directory without '..'", cstr(j->resource, "source"),
		    j->name, cp);
		return -1;
	}
	if (*cp == '/') {
		*out = xstrdup(cp);
		return 0;
	}
	enc = state_name_encode(j->name);
	*out = xasprintf("%s/stacks/%s/%s", j->x->paths.state, enc, cp);
	free(enc);
	return 0;
}

/*
 * The checkout co at the stack's clone_path: cloned, pulled from the
 * commit the last deploy left there, or (reclone) replaced; 0 or -1
 * after job_fail.
 */
static int
place_clone(struct job *j, const char *co, const char *root)
{
	const json_t *g = json_object_get(j->resource, "git");
	json_t *old = state_load(j->x->paths.state, "stack", j->name);
	const json_t *oc = json_object_get(json_object_get(old, "exec"),
	    "clone");
	const char *from = strcmp(cstr(oc, "path"), root) ? NULL :
	    cstr(oc, "commit");
	static const char *const how[] = { NULL, "cloned", "pulled",
	    "recloned" };
	int rc;

	rc = repo_update(j, cstr(g, "remote"), from, cstr(g, "commit"), co,
	    root, json_is_true(json_object_get(json_object_get(
	    j->resource, "config"), "reclone")));
	if (rc > 0)
		json_object_set_new(j->detail, how[rc], json_string(root));
	json_decref(old);
	return rc < 0 ? -1 : 0;
}

/*
 * A rollback's images by digest ("pinned_images": {SERVICE: IMAGE}) as
 * one more compose file, STATE/stacks/NAME/kom-pinned.yaml; its path
 * (fresh), NULL when there are none, or -1 after job_fail.
 */
static int
pin_file(struct job *j, int write, char **out)
{
	const json_t *pins = json_object_get(j->resource, "pinned_images"), *v;
	struct buf b = BUF_INIT;
	const char *svc;
	char *enc, *dir, *path;

	*out = NULL;
	if (!json_object_size(pins))
		return 0;
	enc = state_name_encode(j->name);
	dir = xasprintf("%s/stacks/%s", j->x->paths.state, enc);
	path = xasprintf("%s/kom-pinned.yaml", dir);
	free(enc);
	buf_adds(&b, "# kom-exec rollback: the release's images by digest\n"
	    "services:\n");
	json_object_foreach((json_t *)pins, svc, v) {
		json_t *k = json_string(svc), *i = json_string(
		    json_string_value(v) ? json_string_value(v) : "");
		char *ks = json_dumps(k, JSON_ENCODE_ANY);
		char *is = json_dumps(i, JSON_ENCODE_ANY);

		/* JSON strings are YAML flow scalars */
		buf_printf(&b, "  %s:\n    image: %s\n", ks, is);
		free(ks);
		free(is);
		json_decref(k);
		json_decref(i);
	}
	if (write && (file_mkdir_p(dir, 0700) < 0 ||
	    file_write_atomic(path, b.s, b.len, 0600) < 0)) {
		job_fail(j, "%s: %s", path, strerror(errno));
		free(path);
		free(dir);
		buf_free(&b);
		return -1;
	}
	free(dir);
	buf_free(&b);
	*out = path;
	return 0;
}

/* Resolve the run directory and the files; -1 after job_fail. */
static int
stk_setup(struct job *j, struct stk *s, int write)
{
	json_t *fp, *v;
	const char *rd, *contents, *src;
	size_t i, n = 0, cap = 0;

	memset(s, 0, sizeof(*s));
	if (!(s->cfg = config_interpolated(j, json_object_get(j->resource,
	    "config"), stack_fields)))
		return -1;
	s->project = xstrdup(*cstr(s->cfg, "project_name") ?
	    cstr(s->cfg, "project_name") : j->name);
	rd = cstr(s->cfg, "run_directory");
	contents = cstr(s->cfg, "file_contents");
	src = cstr(j->resource, "source");
	if (*contents) {
		char *enc = state_name_encode(j->name);

		s->dir = xasprintf("%s/stacks/%s", j->x->paths.state, enc);
		free(enc);
	} else if (json_object_get(j->resource, "git")) {
		char *co = git_checkout(j);

		if (!co || clone_root(j, s->cfg, &s->clone) < 0) {
			free(co);
			return -1;
		}
		if (s->clone && write && place_clone(j, co, s->clone) < 0) {
			free(co);
			return -1;
		}
		if (s->clone) {
			free(co);
			co = xstrdup(s->clone);
		}
		s->dir = *rd ? xasprintf("%s/%s", co, rd) : xstrdup(co);
		free(co);
	} else if (*rd == '/') {
		s->dir = xstrdup(rd);
	} else {
		/* the source file's directory: "source" is relative to the
		 * record's "root" (absolute) when it has one */
		const char *root = cstr(j->resource, "root");
		char *f = xstrndup(src, strcspn(src, ":"));
		char *base = *f ? file_dirname(f) : xstrdup(".");
		char *dir = *root && base[0] != '/' ?
		    xasprintf("%s/%s", root, base) : xstrdup(base);

		s->dir = *rd ? xasprintf("%s/%s", dir, rd) : xstrdup(dir);
		free(dir);
		free(base);
		free(f);
	}
	{
		char real[PATH_MAX];

		if (!*contents && !realpath(s->dir, real)) {
			job_fail(j, "run directory %s: %s", s->dir,
			    strerror(errno));
			return -1;
		}
		if (!*contents) {
			free(s->dir);
			s->dir = xstrdup(real);
		}
	}
	fp = json_object_get(s->cfg, "file_paths");
	json_array_foreach(fp, i, v) {
		if (!json_is_string(v) || !*json_string_value(v))
			continue;
		KOM_GROW(s->files, n + 2, cap);
		s->files[n++] = xstrdup(json_string_value(v));
	}
	if (!n) {
		KOM_GROW(s->files, 2, cap);
		s->files[n++] = xstrdup("compose.yaml");
	}
	if (pin_file(j, write, &s->pin) < 0)
		return -1;
	if (s->pin) {
		KOM_GROW(s->files, n + 2, cap);
		s->files[n++] = xstrdup(s->pin);
	}
	s->files[n] = NULL;
	if (*contents && write) {
		char *path = xasprintf("%s/%s", s->dir, s->files[0]);
		char *pdir = file_dirname(path);

		if (file_mkdir_p(pdir, 0700) < 0 ||
		    file_write_atomic(path, contents, strlen(contents),
		    0600) < 0) {
			job_fail(j, "%s: %s", path, strerror(errno));
			free(pdir);
			free(path);
			return -1;
		}
		free(pdir);
		free(path);
	}
	/* Env files: the additional ones, then ours last. */
	n = 0;
	cap = 0;
	json_array_foreach(json_object_get(s->cfg, "additional_env_files"),
	    i, v) {
		const char *p = json_is_string(v) ? json_string_value(v) :
		    cstr(v, "path");

		if (!*p || strcmp(p, cstr(s->cfg, "env_file_path")) == 0)
			continue;
		KOM_GROW(s->envs, n + 2, cap);
		s->envs[n++] = xstrdup(p);
	}
	if (json_array_size(json_object_get(s->cfg, "environment"))) {
		const char *ef = *cstr(s->cfg, "env_file_path") ?
		    cstr(s->cfg, "env_file_path") : ".env";
		struct buf b = BUF_INIT;

		json_array_foreach(json_object_get(s->cfg, "environment"), i,
		    v)
			buf_printf(&b, "%s=%s\n", cstr(v, "key"),
			    cstr(v, "value"));
		/* a stack from git: its env file beside the shared checkout
		 * (STATE/stacks/NAME/), which is never written to */
		char *envp = NULL;

		if (json_object_get(j->resource, "git") && *ef != '/') {
			char *enc = state_name_encode(j->name);

			envp = xasprintf("%s/stacks/%s/%s", j->x->paths.state,
			    enc, ef);
			free(enc);
		}
		if (write) {
			char *path = envp ? xstrdup(envp) :
			    xasprintf("%s/%s", s->dir, ef);
			char *pdir = file_dirname(path);

			if ((envp && file_mkdir_p(pdir, 0700) < 0) ||
			    file_write_atomic(path, b.s, b.len, 0600) < 0) {
				job_fail(j, "%s: %s", path, strerror(errno));
				free(pdir);
				free(path);
				free(envp);
				explicit_bzero(b.s, b.len);
				buf_free(&b);
				return -1;
			}
			free(pdir);
			free(path);
		}
		explicit_bzero(b.s, b.len);
		buf_free(&b);
		KOM_GROW(s->envs, n + 2, cap);
		s->envs[n++] = envp ? envp : xstrdup(ef);
	}
	if (s->envs)
		s->envs[n] = NULL;
	return 0;
}

/* sha256 over the config and the files (their declared names and their
 * contents as they are). */
static int
stk_hash(struct job *j, struct stk *s)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char *cfg;
	size_t k;
	int ok;

	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	if ((cfg = json_dumps(s->cfg, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		ok = 0;
	ok = ok && EVP_DigestUpdate(md, cfg, strlen(cfg)) == 1;
	free(cfg);
	json_decref(s->fsha);
	s->fsha = json_object();
	for (k = 0; ok && s->files[k]; k++) {
		struct buf b = BUF_INIT;
		char *path = s->files[k][0] == '/' ? xstrdup(s->files[k]) :
		    xasprintf("%s/%s", s->dir, s->files[k]);

		if (file_read(path, &b, 16u << 20) < 0) {
			if (!*cstr(s->cfg, "file_contents")) {
				job_fail(j, "%s: %s", path, strerror(errno));
				free(path);
				buf_free(&b);
				EVP_MD_CTX_free(md);
				return -1;
			}
		}
		/* the name as declared, not the resolved path: a checkout
		 * that moves (or a new commit's checkout) is no change */
		ok = EVP_DigestUpdate(md, s->files[k], strlen(s->files[k]) +
		    1) == 1 && EVP_DigestUpdate(md, b.s, b.len + 1) == 1;
		if (!s->pin || strcmp(s->files[k], s->pin)) {
			char sum[65];

			kom_sha256_hex(b.s ? b.s : "", b.len, sum);
			json_object_set_new(s->fsha, s->files[k],
			    json_string(sum));
		}
		free(path);
		buf_free(&b);
	}
	ok = ok && EVP_DigestFinal_ex(md, dig, &dlen) == 1 && dlen >= 32;
	EVP_MD_CTX_free(md);
	if (!ok) {
		job_fail(j, "cannot compute the stack's hash (SHA-256)");
		return -1;
	}
	kom_hex(dig, 32, s->hash);
	return 0;
}

/* The project's containers from the engine, by compose's own label. */
static json_t *
project_containers(struct docker *d, const char *project,
    struct docker_error *e)
{
	char *l = xasprintf("com.docker.compose.project=%s", project);
	const char *labels[] = { l, NULL };
	json_t *out = NULL;

	if (docker_container_list(d, labels, 1, &out, e) < 0)
		out = NULL;
	free(l);
	return out;
}

static int
ignored(const json_t *cfg, const char *svc)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(cfg, "ignore_services"), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), svc) == 0)
			return 1;
	return 0;
}

/*
 * komodo-behaviour.md 5.3: down, unhealthy (fewer containers than
 * services, or mixed), running, paused, stopped, restarting, dead.
 */
static const char *
live_state(json_t *list, const json_t *cfg, size_t nservices)
{
	static const char *const same[] = {
		"running", "paused", "exited", "restarting", "dead", "removing",
	};
	size_t i, n = 0, k, counts[6] = { 0 };
	json_t *c;

	json_array_foreach(list, i, c) {
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), "com.docker.compose.service"));
		const char *st = cstr(c, "State");

		if (svc && ignored(cfg, svc))
			continue;
		n++;
		for (k = 0; k < KOM_NELEM(same); k++)
			if (strcmp(st, same[k]) == 0)
				counts[k]++;
	}
	if (!n)
		return "down";
	if (n < nservices)
		return "unhealthy";
	for (k = 0; k < KOM_NELEM(same); k++)
		if (counts[k] == n)
			return k == 2 ? "stopped" : same[k];
	return "unhealthy";
}

/*
 * Say which services do not run: "service web2 is exited", "service db
 * has no container" (services: the names compose listed at deploy).
 */
static void
not_running(json_t *list, const json_t *cfg, const json_t *services,
    struct buf *why)
{
	json_t *c, *v;
	size_t i, k;

	json_array_foreach(services, k, v) {
		const char *svc = json_string_value(v), *st = NULL;

		if (!svc || ignored(cfg, svc))
			continue;
		json_array_foreach(list, i, c) {
			const char *cs = json_string_value(json_object_get(
			    json_object_get(c, "Labels"),
			    "com.docker.compose.service"));

			if (cs && strcmp(cs, svc) == 0 && (!st ||
			    strcmp(cstr(c, "State"), "running") != 0))
				st = cstr(c, "State");
		}
		if (st && (strcmp(st, "running") == 0 ||
		    strcmp(st, "paused") == 0))
			continue;
		buf_printf(why, "%sservice %s %s%s", why->len ? ", " : "",
		    svc, st ? "is " : "has no container", st ? st : "");
	}
	if (!why->len)
		buf_adds(why, "unhealthy");
}

/* Run one compose command; -1 after job_fail (output kept in detail). */
static int
run_compose(struct job *j, struct stk *s, const char *key,
    const char *const *args, const char *project, int files)
{
	struct compose_project p;
	struct buf out = BUF_INIT;
	char *cmd;
	int st, r;

	if (!s->have_cli) {
		if (compose_detect(&s->cli) < 0) {
			job_fail(j, "no compose CLI: neither 'docker compose' "
			    "nor 'docker-compose' works");
			return -1;
		}
		s->have_cli = 1;
	}
	memset(&p, 0, sizeof(p));
	p.project = project ? project : s->project;
	p.dir = s->dir;
	if (files) {
		p.files = (const char *const *)s->files;
		p.env_files = (const char *const *)s->envs;
	}
	p.timeout_ms = 30 * 60 * 1000;
	cmd = compose_cmdline(&s->cli, &p, args);
	r = compose_run(&s->cli, &p, args, &out, &st);
	keep_output(j, key, out.s);
	if (r < 0 || st != 0) {
		if (r < 0)
			job_fail(j, "%s: %s: %s", cmd, proc_failed_step(st),
			    strerror(errno));
		else
			job_fail(j, "%s: failed", cmd);
		r = -1;
	}
	free(cmd);
	buf_free(&out);
	return r;
}

/* pre_deploy / post_deploy: the user's shell command in RUN_DIR/path. */
static int
run_hook(struct job *j, struct stk *s, const char *key)
{
	json_t *h = json_object_get(s->cfg, key);
	const char *cmd = cstr(h, "command"), *path = cstr(h, "path");
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	struct proc_opts o;
	struct buf out = BUF_INIT;
	char *dir;
	int st, r;

	if (!*cmd)
		return 0;
	dir = *path == '/' ? xstrdup(path) : xasprintf("%s/%s", s->dir, path);
	argv[2] = (char *)cmd;
	memset(&o, 0, sizeof(o));
	o.cwd = dir;
	o.out = &out;
	o.err = &out;
	o.max = 1u << 20;
	o.timeout_ms = 30 * 60 * 1000;
	r = proc_run(argv, &o, &st);
	keep_output(j, key, out.s);
	if (r < 0)
		job_fail(j, "%s: %s %s: %s", key, proc_failed_step(st), st ==
		    PROC_CHDIR ? dir : "/bin/sh", strerror(errno));
	else if (st != 0)
		job_fail(j, "%s failed (exit %d)", key, st);
	if (r < 0 || st != 0) {
		r = -1;
	}
	buf_free(&out);
	free(dir);
	return r;
}

/* Take a project down through the engine: no compose file needed. */
static int
down_by_api(struct job *j, const char *project)
{
	struct docker_error e;
	json_t *list = project_containers(j->d, project, &e), *c, *nets = NULL;
	size_t i;

	if (!list) {
		job_fail(j, "cannot list containers: %s", e.msg);
		return -1;
	}
	json_array_foreach(list, i, c) {
		const char *id = cstr(c, "Id");

		if (job_remove_container(j, id, &e) < 0) {
			job_fail(j, "cannot remove a container of project "
			    "'%s': %s", project, e.msg);
			json_decref(list);
			return -1;
		}
	}
	json_decref(list);
	{
		char *l = xasprintf("com.docker.compose.project=%s", project);
		const char *labels[] = { l, NULL };

		if (docker_network_list(j->d, labels, &nets, &e) == 0)
			json_array_foreach(nets, i, c)
				docker_network_remove(j->d, cstr(c, "Id"), &e);
		free(l);
	}
	json_decref(nets);
	return 0;
}

/*
 * The images the project's containers run, by service: {"image" (as
 * compose named it), "image_id", "digest" (the registry's, "" when the
 * image was never pushed or pulled)}.  One list and one inspect per
 * image; what the engine does not say is left out.
 */
static json_t *
ran_images(struct job *j, const char *project)
{
	struct docker_error e;
	json_t *list = project_containers(j->d, project, &e), *out, *c;
	size_t i;

	out = json_object();
	json_array_foreach(list, i, c) {
		const char *svc = json_string_value(json_object_get(
		    json_object_get(c, "Labels"), "com.docker.compose.service"));
		const char *id = cstr(c, "ImageID"), *img = cstr(c, "Image");
		const char *dig = NULL;
		json_t *in = NULL;

		if (!svc || !*id || json_object_get(out, svc))
			continue;
		if (docker_image_inspect(j->d, id, &in, &e) == 0)
			dig = release_repo_digest(in, img);
		json_object_set_new(out, svc, json_pack("{s:s, s:s, s:s}",
		    "image", img, "image_id", id, "digest", dig ? dig : ""));
		json_decref(in);
	}
	json_decref(list);
	return out;
}

static void
save_stack(struct job *j, struct stk *s, json_t *services)
{
	json_t *rec = json_deep_copy(j->resource), *ex;

	json_object_del(rec, "kind");
	json_object_set_new(rec, "applied_at", json_integer(kom_wall_ms()));
	ex = json_pack("{s:s, s:s, s:s, s:O, s:O, s:o}",
	    "project", s->project, "config_hash", s->hash, "run_directory",
	    s->dir, "services", services, "files", s->fsha, "images",
	    ran_images(j, s->project));
	if (s->clone)
		json_object_set_new(ex, "clone", json_pack("{s:s, s:s}",
		    "path", s->clone, "commit", cstr(json_object_get(
		    j->resource, "git"), "commit")));
	json_object_set_new(rec, "exec", ex);
	if (state_save(j->x->paths.state, rec) < 0)
		job_fail(j, "deployed, but not recorded in %s",
		    j->x->paths.state);
	json_decref(rec);
}

void
deploy_stack(struct job *j, int ensure)
{
	json_t *old = state_load(j->x->paths.state, "stack", j->name);
	json_t *oex = json_object_get(old, "exec"), *services, *list;
	const char *last = cstr(oex, "project");
	struct docker_error e;
	struct stk s;
	struct buf out = BUF_INIT;
	const char *state;
	size_t i;

	memset(&s, 0, sizeof(s));
	if (stk_setup(j, &s, !j->x->dry_run) < 0 || stk_hash(j, &s) < 0)
		goto out;
	json_object_set_new(j->detail, "project", json_string(s.project));
	/* Unchanged and all services running: nothing to do. */
	list = project_containers(j->d, s.project, &e);
	state = list ? live_state(list, s.cfg, json_array_size(
	    json_object_get(oex, "services"))) : "unknown";
	json_decref(list);
	json_object_set_new(j->detail, "state", json_string(state));
	if (!j->force && strcmp(cstr(oex, "config_hash"), s.hash) == 0 &&
	    strcmp(last, s.project) == 0 && strcmp(state, "running") == 0) {
		j->status = JOB_NOOP;
		goto out;
	}
	if (ensure && !j->note.len)
		buf_printf(&j->note, strcmp(state, "running") ?
		    "stack has %s state" : "stack has changed since it was "
		    "applied", state);
	if (j->x->dry_run) {
		json_object_set_new(j->detail, "would", json_string("up"));
		goto out;
	}
	if (run_hook(j, &s, "pre_deploy") < 0)
		goto out;
	{
		const char *a[] = { "config", "--services", NULL };

		if (run_compose(j, &s, "config", a, NULL, 1) < 0)
			goto out;
	}
	services = json_object_get(j->detail, "config");
	json_incref(services);
	json_object_del(j->detail, "config");
	if (json_is_true(json_object_get(s.cfg, "auto_pull"))) {
		const char *a[] = { "pull", NULL };

		if (run_compose(j, &s, "pull", a, NULL, 1) < 0) {
			json_decref(services);
			goto out;
		}
	}
	if (json_is_true(json_object_get(s.cfg, "run_build"))) {
		const char *a[] = { "build", NULL };

		if (run_compose(j, &s, "build", a, NULL, 1) < 0) {
			json_decref(services);
			goto out;
		}
	}
	if (*last && strcmp(last, s.project) != 0) {
		/* Renamed: the old project goes first. */
		if (down_by_api(j, last) < 0) {
			json_decref(services);
			goto out;
		}
		json_object_set_new(j->detail, "down", json_string(last));
	} else if (json_is_true(json_object_get(s.cfg,
	    "destroy_before_deploy"))) {
		const char *a[] = { "down", NULL };

		if (run_compose(j, &s, "down", a, NULL, 1) < 0) {
			json_decref(services);
			goto out;
		}
	}
	{
		const char **a = xcalloc(json_array_size(json_object_get(s.cfg,
		    "extra_args")) + 3, sizeof(char *));
		size_t n = 0;
		json_t *v;
		int r;

		a[n++] = "up";
		a[n++] = "-d";
		json_array_foreach(json_object_get(s.cfg, "extra_args"), i, v)
			if (json_is_string(v) && *json_string_value(v))
				a[n++] = json_string_value(v);
		r = run_compose(j, &s, "up", a, NULL, 1);
		free(a);
		if (r < 0) {
			json_decref(services);
			goto out;
		}
	}
	j->deployed = 1;
	save_stack(j, &s, services);
	json_decref(services);
	if (j->status == JOB_OK && run_hook(j, &s, "post_deploy") < 0) {
		/* Komodo only logs a failed post_deploy. */
		json_object_set_new(j->detail, "post_deploy_error",
		    json_string(j->err.s));
		buf_reset(&j->err);
		j->status = JOB_OK;
	}
out:
	buf_free(&out);
	stk_free(&s);
	json_decref(old);
}

void
destroy_stack(struct job *j)
{
	json_t *ex = json_object_get(j->resource, "exec");
	json_t *old = NULL;
	const char *project;

	if (!ex) {
		old = state_load(j->x->paths.state, "stack", j->name);
		ex = json_object_get(old, "exec");
	}
	project = *cstr(ex, "project") ? cstr(ex, "project") : j->name;
	json_object_set_new(j->detail, "project", json_string(project));
	if (!j->x->dry_run) {
		/* compose down needs the files, which may be gone: the engine
		 * knows the project by its label. */
		if (down_by_api(j, project) == 0 &&
		    state_remove(j->x->paths.state, "stack", j->name) < 0)
			job_fail(j, "cannot remove '%s' from %s", j->name,
			    j->x->paths.state);
	}
	json_decref(old);
}

void
lifecycle_stack(struct job *j)
{
	struct stk s;
	const char *a[] = { j->action, NULL };

	if (stk_setup(j, &s, 0) < 0)
		goto out;
	if (!j->x->dry_run)
		run_compose(j, &s, "output", a, NULL, 1);
out:
	stk_free(&s);
}

json_t *
stack_status(struct job *j)
{
	json_t *ex = json_object_get(j->resource, "exec"), *list, *st;
	const char *project = *cstr(ex, "project") ? cstr(ex, "project") :
	    j->name;
	const char *state, *drift = NULL;
	struct docker_error e;
	struct buf why = BUF_INIT;
	struct stk s;

	memset(&s, 0, sizeof(s));
	st = json_pack("{s:s, s:s, s:s, s:s}", "kind", "status", "type",
	    "stack", "name", j->name, "project", project);
	if (!j->d || !(list = project_containers(j->d, project, &e))) {
		json_object_set_new(st, "state", json_string("unknown"));
		json_object_set_new(st, "drift", json_null());
		return st;
	}
	state = live_state(list, json_object_get(j->resource, "config"),
	    json_array_size(json_object_get(ex, "services")));
	not_running(list, json_object_get(j->resource, "config"),
	    json_object_get(ex, "services"), &why);
	json_object_set_new(st, "state", json_string(state));
	json_object_set_new(st, "containers", json_integer(
	    (json_int_t)json_array_size(list)));
	json_object_set_new(st, "health", json_string("none"));
	json_object_set(st, "config_hash", json_object_get(ex, "config_hash"));
	json_decref(list);
	if (strcmp(state, "down") == 0)
		drift = "removed";
	else if (strcmp(state, "stopped") == 0)
		drift = "stopped";
	else if (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0)
		drift = "stopped";	/* some of its services */
	else if (stk_setup(j, &s, 0) == 0 && stk_hash(j, &s) == 0 &&
	    strcmp(s.hash, cstr(ex, "config_hash")) != 0)
		drift = "changed";
	stk_free(&s);
	j->status = JOB_OK;
	json_object_set_new(st, "drift", drift ? json_string(drift) :
	    json_null());
	if (drift && strcmp(drift, "changed") == 0)
		json_object_set_new(st, "drift_detail", json_string(
		    "compose files, env or config differ from what was "
		    "applied"));
	else if (drift && strcmp(state, "unhealthy") == 0)
		json_object_set_new(st, "drift_detail", json_string(why.s));
	else if (drift)
		json_object_set_new(st, "drift_detail", json_string(state));
	buf_free(&why);
	return st;
}
