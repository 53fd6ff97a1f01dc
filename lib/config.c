/*
 * config: kom.toml (see config.h).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "file.h"
#include "kv.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

enum kind { K_BOOL, K_STRING, K_LIST, K_SECONDS };

struct key {
	const char *name;
	enum kind kind;
	size_t off;		/* in struct config_sync */
	size_t noff;		/* K_LIST: offset of the count */
};

#define B(n) { #n, K_BOOL, offsetof(struct config_sync, n), 0 }
#define S(n) { #n, K_STRING, offsetof(struct config_sync, n), 0 }

static const struct key sync_keys[] = {
	B(delete), B(managed), B(include_resources), B(include_variables),
	B(include_user_groups), B(pending_alert), B(git_https),
	B(webhook_enabled), B(files_on_host),
	S(repo), S(branch), S(commit), S(git_provider), S(git_account),
	S(linked_repo), S(webhook_secret), S(directory),
	{ "poll_interval", K_SECONDS, offsetof(struct config_sync,
	    poll_interval), 0 },
	{ "images_interval", K_SECONDS, offsetof(struct config_sync,
	    images_interval), 0 },
	{ "match_tags", K_LIST, offsetof(struct config_sync, match_tags),
	    offsetof(struct config_sync, nmatch_tags) },
	{ "resource_path", K_LIST, offsetof(struct config_sync, resource_path),
	    offsetof(struct config_sync, nresource_path) },
};

static const char *const top_keys[] = {
	"server", "secrets_dir", "webhook_secret", "resource_sync", "resource_syncs",
	"git_provider", "git_providers", "docker_registry", "docker_registries"
};

struct ctx {
	const char *path;
	int strict;
	int failed;
};

static void
unknown(struct ctx *c, const struct toml_kv *kv, const char *where,
    const char *const *cands, size_t ncands)
{
	const char *best = NULL;
	size_t i, d, bd = 3;

	for (i = 0; i < ncands; i++)
		if ((d = (size_t)kv_distance(kv->key, cands[i], 2)) < bd) {
			bd = d;
			best = cands[i];
		}
	/* a warning, unless strict makes it an error (as the resource
	 * layer says them) */
	if (best)
		kom_warn("%s:%d:%d: %sunknown key '%s' in %s (did you mean "
		    "'%s'?)", c->path, kv->line, kv->col, c->strict ? "" :
		    "warning: ", kv->key, where, best);
	else
		kom_warn("%s:%d:%d: %sunknown key '%s' in %s", c->path,
		    kv->line, kv->col, c->strict ? "" : "warning: ", kv->key,
		    where);
	if (c->strict)
		c->failed = 1;
}

static int
bad_type(struct ctx *c, const struct toml_kv *kv, const char *want)
{
	kom_warn("%s:%d:%d: '%s' must be %s, not %s", c->path, kv->val->line,
	    kv->val->col, kv->key, want, toml_type_name(kv->val->type));
	c->failed = 1;
	return -1;
}

static int
set_key(struct ctx *c, struct config_sync *s, const struct key *k,
    const struct toml_kv *kv)
{
	char *base = (char *)s;
	const struct toml_value *v = kv->val;
	char ***list;
	size_t *n, i;

	switch (k->kind) {
	case K_BOOL:
		if (v->type != TOML_BOOL)
			return bad_type(c, kv, "a boolean");
		*(int *)(base + k->off) = v->u.b;
		return 0;
	case K_STRING:
		if (v->type != TOML_STRING)
			return bad_type(c, kv, "a string");
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(v->u.str.s);
		return 0;
	case K_SECONDS:
		if (v->type != TOML_INTEGER)
			return bad_type(c, kv, "an integer (seconds)");
		if (v->u.i < CONFIG_POLL_MIN || v->u.i > CONFIG_POLL_MAX) {
			kom_warn("%s:%d:%d: '%s' must be %d to %d seconds",
			    c->path, v->line, v->col, kv->key,
			    CONFIG_POLL_MIN, CONFIG_POLL_MAX);
			c->failed = 1;
			return -1;
		}
		*(int *)(base + k->off) = (int)v->u.i;
		return 0;
	case K_LIST:
		list = (char ***)(base + k->off);
		n = (size_t *)(base + k->noff);
		for (i = 0; i < *n; i++)
			free((*list)[i]);
		free(*list);
		*list = NULL;
		*n = 0;
		if (v->type == TOML_STRING) {
			kv_split_list(v->u.str.s, v->u.str.len, list, n);
			return 0;
		}
		if (v->type != TOML_ARRAY)
			return bad_type(c, kv, "a string or an array of strings");
		*list = xreallocarray(NULL, v->u.array.n + 1, sizeof(**list));
		for (i = 0; i < v->u.array.n; i++) {
			if (v->u.array.v[i]->type != TOML_STRING) {
				kom_warn("%s:%d:%d: '%s' must be an array of "
				    "strings", c->path, v->u.array.v[i]->line,
				    v->u.array.v[i]->col, kv->key);
				c->failed = 1;
				return -1;
			}
			(*list)[(*n)++] = xstrdup(v->u.array.v[i]->u.str.s);
		}
		return 0;
	}
	return 0;
}

static void
sync_defaults(struct config_sync *s)
{
	memset(s, 0, sizeof(*s));
	s->include_resources = 1;
	s->pending_alert = 1;
	s->git_https = 1;
	s->webhook_enabled = 1;
	s->poll_interval = CONFIG_POLL_DEFAULT;
	s->images_interval = CONFIG_IMAGES_DEFAULT;
	s->repo = xstrdup("");
	s->branch = xstrdup("main");
	s->commit = xstrdup("");
	s->git_provider = xstrdup("github.com");
	s->git_account = xstrdup("");
	s->linked_repo = xstrdup("");
	s->webhook_secret = xstrdup("");
}

static void
sync_free(struct config_sync *s)
{
	size_t i;

	free(s->name);
	for (i = 0; i < s->nmatch_tags; i++)
		free(s->match_tags[i]);
	free(s->match_tags);
	for (i = 0; i < s->nresource_path; i++)
		free(s->resource_path[i]);
	free(s->resource_path);
	free(s->directory);
	free(s->repo);
	free(s->branch);
	free(s->commit);
	free(s->git_provider);
	free(s->git_account);
	free(s->linked_repo);
	free(s->webhook_secret);
}

/* The option keys of one table (the entry itself or its config table). */
static void
sync_table(struct ctx *c, struct config_sync *s, const struct toml_value *t,
    int top)
{
	const char *cands[KOM_NELEM(sync_keys) + 3];
	size_t i, j, nc = 0;
	const struct toml_kv *kv;

	for (j = 0; j < KOM_NELEM(sync_keys); j++)
		cands[nc++] = sync_keys[j].name;
	if (top) {
		cands[nc++] = "name";
		cands[nc++] = "description";
		cands[nc++] = "config";
	}
	for (i = 0; i < t->u.table.n; i++) {
		kv = &t->u.table.kv[i];
		if (top && (!strcmp(kv->key, "name") ||
		    !strcmp(kv->key, "description")))
			continue;
		if (top && !strcmp(kv->key, "config")) {
			if (kv->val->type != TOML_TABLE)
				bad_type(c, kv, "a table");
			else
				sync_table(c, s, kv->val, 0);
			continue;
		}
		for (j = 0; j < KOM_NELEM(sync_keys); j++)
			if (!strcmp(kv->key, sync_keys[j].name))
				break;
		if (j == KOM_NELEM(sync_keys))
			unknown(c, kv, top ? "[[resource_sync]]" :
			    "[resource_sync.config]", cands, nc);
		else
			set_key(c, s, &sync_keys[j], kv);
	}
}

static void
read_syncs(struct ctx *c, struct config *cfg, const struct toml_kv *kv,
    const char *confdir)
{
	const struct toml_value *arr = kv->val, *t;
	const struct toml_kv *nkv;
	struct config_sync *s;
	size_t i, j;
	char *dir;

	if (arr->type != TOML_ARRAY) {
		bad_type(c, kv, "an array of tables ([[resource_sync]])");
		return;
	}
	cfg->syncs = xreallocarray(cfg->syncs, cfg->nsyncs + arr->u.array.n,
	    sizeof(*cfg->syncs));
	for (i = 0; i < arr->u.array.n; i++) {
		t = arr->u.array.v[i];
		if (t->type != TOML_TABLE) {
			kom_warn("%s:%d:%d: a resource_sync must be a table",
			    c->path, t->line, t->col);
			c->failed = 1;
			return;
		}
		s = &cfg->syncs[cfg->nsyncs++];
		sync_defaults(s);
		s->line = t->line;
		nkv = toml_get_kv(t, "name");
		if (!nkv) {
			kom_warn("%s:%d:%d: resource_sync without a name",
			    c->path, t->line, t->col);
			c->failed = 1;
			return;
		}
		if (nkv->val->type != TOML_STRING || !*nkv->val->u.str.s) {
			bad_type(c, nkv, "a non-empty string");
			return;
		}
		s->name = xstrdup(nkv->val->u.str.s);
		for (j = 0; j + 1 < cfg->nsyncs; j++)
			if (!strcmp(cfg->syncs[j].name, s->name)) {
				kom_warn("%s:%d:%d: resource_sync '%s' is "
				    "declared twice (first at line %d)",
				    c->path, nkv->val->line, nkv->val->col,
				    s->name, cfg->syncs[j].line);
				c->failed = 1;
				return;
			}
		sync_table(c, s, t, 1);
		dir = s->directory;
		if (!dir)
			s->directory = xstrdup(confdir);
		else if (dir[0] != '/') {
			s->directory = xasprintf("%s/%s", confdir, dir);
			free(dir);
		}
	}
}

int
config_load(const char *path, int strict, struct config *cfg)
{
	struct buf b = BUF_INIT;
	struct toml_error err;
	struct toml_value *root;
	const struct toml_kv *kv;
	struct ctx c = { path, strict, 0 };
	char *confdir;
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->path = xstrdup(path);
	if (file_read(path, &b, CONFIG_MAX_FILE) < 0) {
		int e = errno;

		buf_free(&b);
		if (e == ENOENT)
			return 0;
		kom_warn("%s: %s", path, e == EFBIG ?
		    "larger than 1 MiB" : strerror(e));
		config_free(cfg);
		return -1;
	}
	cfg->found = 1;
	root = toml_parse(b.s, b.len, &err);
	buf_free(&b);
	if (!root) {
		kom_warn("%s:%d:%d: %s", path, err.line, err.col, err.msg);
		config_free(cfg);
		return -1;
	}
	confdir = file_dirname(path);
	for (i = 0; i < root->u.table.n && !c.failed; i++) {
		kv = &root->u.table.kv[i];
		if (!strcmp(kv->key, "server") ||
		    !strcmp(kv->key, "secrets_dir") ||
		    !strcmp(kv->key, "webhook_secret")) {
			char **dst = !strcmp(kv->key, "server") ?
			    &cfg->server : !strcmp(kv->key, "secrets_dir") ?
			    &cfg->secrets_dir : &cfg->webhook_secret;

			if (kv->val->type != TOML_STRING) {
				bad_type(&c, kv, "a string");
				break;
			}
			free(*dst);
			*dst = xstrdup(kv->val->u.str.s);
		} else if (!strcmp(kv->key, "resource_sync") ||
		    !strcmp(kv->key, "resource_syncs"))
			read_syncs(&c, cfg, kv, confdir);
		else if (!strcmp(kv->key, "git_provider") ||
		    !strcmp(kv->key, "git_providers")) {
			if (gitcfg_read(&cfg->git, path, confdir, kv,
			    strict) < 0)
				c.failed = 1;
		} else if (!strcmp(kv->key, "docker_registry") ||
		    !strcmp(kv->key, "docker_registries")) {
			if (gitcfg_read_registries(&cfg->registries, path, kv,
			    strict) < 0)
				c.failed = 1;
		} else
			unknown(&c, kv, "kom.toml", top_keys,
			    KOM_NELEM(top_keys));
	}
	free(confdir);
	toml_free(root);
	if (c.failed) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

void
config_free(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nsyncs; i++)
		sync_free(&cfg->syncs[i]);
	free(cfg->syncs);
	gitcfg_free(&cfg->git);
	gitcfg_free(&cfg->registries);
	free(cfg->server);
	free(cfg->secrets_dir);
	free(cfg->webhook_secret);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct config_sync *
config_sync(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsyncs; i++)
		if (!strcmp(cfg->syncs[i].name, name))
			return &cfg->syncs[i];
	return NULL;
}

char *
config_server(const struct config *cfg)
{
	char host[HOST_NAME_MAX + 1];

	if (cfg->server && *cfg->server)
		return xstrdup(cfg->server);
	if (gethostname(host, sizeof(host)) < 0 || !*host)
		return xstrdup("localhost");
	host[sizeof(host) - 1] = '\0';
	return xstrdup(host);
}
