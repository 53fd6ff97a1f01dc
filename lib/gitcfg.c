/*
 * gitcfg: [[git_provider]] in kom.toml (see gitcfg.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gitcfg.h"
#include "secrets.h"
#include "toml.h"
#include "util.h"
#include "banned.h"

struct gctx {
	const char *path;
	const char *confdir;
	int strict;
	int failed;
	const char *kind;	/* "git_provider", "docker_registry" */
	int git;		/* https, known_hosts and ssh_key allowed */
};

static void __attribute__((format(printf, 3, 4)))
bad(struct gctx *c, const struct toml_value *v, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_printf(&b, "%s:%d:%d: ", c->path, v->line, v->col);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	kom_warn("%s", b.s);
	buf_free(&b);
	c->failed = 1;
}

static void
unknown_key(struct gctx *c, const struct toml_kv *kv, const char *where)
{
	kom_warn("%s:%d:%d: unknown key '%s' in %s", c->path, kv->line,
	    kv->col, kv->key, where);
	if (c->strict)
		c->failed = 1;
}

/* A string value into *dst; a path is made absolute from kom.toml's dir. */
static void
string_key(struct gctx *c, const struct toml_kv *kv, char **dst, int is_path)
{
	const char *s;

	if (kv->val->type != TOML_STRING || !*kv->val->u.str.s ||
	    strlen(kv->val->u.str.s) != kv->val->u.str.len) {
		bad(c, kv->val, "'%s' must be a non-empty string", kv->key);
		return;
	}
	s = kv->val->u.str.s;
	free(*dst);
	*dst = is_path && s[0] != '/' ? xasprintf("%s/%s", c->confdir, s) :
	    xstrdup(s);
}

static void
read_account(struct gctx *c, struct gitcfg_provider *p,
    const struct toml_value *t)
{
	struct gitcfg_account *a;
	size_t i, j;

	if (t->type != TOML_TABLE) {
		bad(c, t, "an account must be a table { username, token }");
		return;
	}
	p->accounts = xreallocarray(p->accounts, p->naccounts + 1,
	    sizeof(*p->accounts));
	a = &p->accounts[p->naccounts++];
	memset(a, 0, sizeof(*a));
	a->line = t->line;
	for (i = 0; i < t->u.table.n; i++) {
		const struct toml_kv *kv = &t->u.table.kv[i];

		if (!strcmp(kv->key, "username"))
			string_key(c, kv, &a->username, 0);
		else if (!strcmp(kv->key, "token"))
			string_key(c, kv, &a->token, 0);
		else if (c->git && !strcmp(kv->key, "ssh_key"))
			string_key(c, kv, &a->ssh_key, 1);
		else {
			char *w = xasprintf("a %s account", c->kind);

			unknown_key(c, kv, w);
			free(w);
		}
	}
	if (!a->username && !c->failed) {
		bad(c, t, "a %s account without a username", c->kind);
		return;
	}
	for (j = 0; j + 1 < p->naccounts && !c->failed; j++)
		if (!strcmp(p->accounts[j].username, a->username))
			bad(c, t, "account '%s' is declared twice",
			    a->username);
}

static void
read_provider(struct gctx *c, struct gitcfg *g, const struct toml_value *t)
{
	struct gitcfg_provider *p;
	const struct toml_kv *kv;
	size_t i, j;

	if (t->type != TOML_TABLE) {
		bad(c, t, "a %s must be a table", c->kind);
		return;
	}
	g->providers = xreallocarray(g->providers, g->nproviders + 1,
	    sizeof(*g->providers));
	p = &g->providers[g->nproviders++];
	memset(p, 0, sizeof(*p));
	p->https = 1;
	p->line = t->line;
	for (i = 0; i < t->u.table.n && !c->failed; i++) {
		kv = &t->u.table.kv[i];
		if (!strcmp(kv->key, "domain"))
			string_key(c, kv, &p->domain, 0);
		else if (c->git && !strcmp(kv->key, "https")) {
			if (kv->val->type != TOML_BOOL)
				bad(c, kv->val, "'%s' must be a boolean",
				    kv->key);
			else
				p->https = kv->val->u.b;
		} else if (c->git && !strcmp(kv->key, "known_hosts"))
			string_key(c, kv, &p->known_hosts, 1);
		else if (!c->git && !strcmp(kv->key, "organizations"))
			;	/* Komodo's UI list: nothing to do here */
		else if (!strcmp(kv->key, "accounts") ||
		    !strcmp(kv->key, "account")) {
			if (kv->val->type != TOML_ARRAY) {
				bad(c, kv->val, "'%s' must be an array of "
				    "tables", kv->key);
				break;
			}
			for (j = 0; j < kv->val->u.array.n && !c->failed; j++)
				read_account(c, p, kv->val->u.array.v[j]);
		} else {
			char *w = xasprintf("[[%s]]", c->kind);

			unknown_key(c, kv, w);
			free(w);
		}
	}
	if (c->failed)
		return;
	if (!p->domain) {
		bad(c, t, "%s without a domain", c->kind);
		return;
	}
	if (strpbrk(p->domain, "/@ \t")) {
		bad(c, t, "%s domain '%s' must be a host or "
		    "host:port", c->kind, p->domain);
		return;
	}
	for (j = 0; j + 1 < g->nproviders; j++)
		if (!strcasecmp(g->providers[j].domain, p->domain)) {
			kom_warn("%s:%d:%d: %s '%s' is declared "
			    "twice (first at line %d)", c->path, t->line,
			    t->col, c->kind, p->domain, g->providers[j].line);
			c->failed = 1;
			return;
		}
}

static int
read_kind(struct gitcfg *g, const char *path, const char *confdir,
    const struct toml_kv *kv, int strict, const char *kind)
{
	struct gctx c = { path, confdir, strict, 0, kind,
	    !strcmp(kind, "git_provider") };
	size_t i;

	if (kv->val->type != TOML_ARRAY) {
		bad(&c, kv->val, "'%s' must be an array of tables "
		    "([[%s]])", kv->key, kind);
		return -1;
	}
	for (i = 0; i < kv->val->u.array.n && !c.failed; i++)
		read_provider(&c, g, kv->val->u.array.v[i]);
	return c.failed ? -1 : 0;
}

int
gitcfg_read(struct gitcfg *g, const char *path, const char *confdir,
    const struct toml_kv *kv, int strict)
{
	return read_kind(g, path, confdir, kv, strict, "git_provider");
}

int
gitcfg_read_registries(struct gitcfg *g, const char *path,
    const struct toml_kv *kv, int strict)
{
	return read_kind(g, path, "", kv, strict, "docker_registry");
}

void
gitcfg_free(struct gitcfg *g)
{
	size_t i, j;

	for (i = 0; i < g->nproviders; i++) {
		struct gitcfg_provider *p = &g->providers[i];

		for (j = 0; j < p->naccounts; j++) {
			free(p->accounts[j].username);
			if (p->accounts[j].token)
				explicit_bzero(p->accounts[j].token,
				    strlen(p->accounts[j].token));
			free(p->accounts[j].token);
			free(p->accounts[j].ssh_key);
		}
		free(p->accounts);
		free(p->domain);
		free(p->known_hosts);
	}
	free(g->providers);
	memset(g, 0, sizeof(*g));
}

const struct gitcfg_provider *
gitcfg_provider(const struct gitcfg *g, const char *domain)
{
	size_t i;

	for (i = 0; g && i < g->nproviders; i++)
		if (!strcasecmp(g->providers[i].domain, domain))
			return &g->providers[i];
	return NULL;
}

const struct gitcfg_account *
gitcfg_account(const struct gitcfg_provider *p, const char *username)
{
	size_t i;

	for (i = 0; p && i < p->naccounts; i++)
		if (!strcmp(p->accounts[i].username, username))
			return &p->accounts[i];
	return NULL;
}

/* The one secret lookup of lib/secrets, with the file USERNAME@DOMAIN. */
char *
gitcfg_token(const struct gitcfg_provider *p, const struct gitcfg_account *a,
    const char *secrets_dir)
{
	struct secrets sec;
	char *name, *value = NULL, *where = NULL;

	if (a->token)
		return xstrdup(a->token);
	name = xasprintf("%s@%s", a->username, p->domain);
	secrets_init(&sec, secrets_dir);
	if (secrets_read(&sec, name, &value, &where) < 0)
		value = NULL;
	secrets_free(&sec);
	free(where);
	free(name);
	return value;
}

int
gitcfg_auth(const struct gitcfg *g, const char *cfgpath,
    const char *secrets_dir, const char *domain, const char *account,
    const char *url, struct kgit_auth *a, char **token, struct buf *err)
{
	const struct gitcfg_provider *gp;
	const struct gitcfg_account *ga;

	memset(a, 0, sizeof(*a));
	*token = NULL;
	if (!*account)
		return 0;
	gp = gitcfg_provider(g, domain);
	if (!(ga = gitcfg_account(gp, account))) {
		buf_printf(err, "%s: no account '%s' for git_provider '%s' in "
		    "%s", url, account, domain, cfgpath);
		return -1;
	}
	a->username = ga->username;
	a->ssh_key = ga->ssh_key;
	a->known_hosts = gp->known_hosts;
	if (ga->ssh_key)
		return 0;
	if (!(*token = gitcfg_token(gp, ga, secrets_dir))) {
		struct secrets sec;
		char *where;

		secrets_init(&sec, secrets_dir);
		where = secrets_where(&sec);
		buf_printf(err, "%s: account '%s' of git_provider '%s' has no "
		    "token: none in kom.toml, no secret file '%s@%s' in %s",
		    url, account, domain, account, gp->domain, where);
		free(where);
		secrets_free(&sec);
		return -1;
	}
	a->token = *token;
	return 0;
}

const struct gitcfg_account *
gitcfg_registry_account(const struct gitcfg *registries, const char *domain,
    const char *account, const char *secrets_dir, char **token)
{
	const struct gitcfg_provider *p;
	const struct gitcfg_account *a;

	*token = NULL;
	if (!account || !*account)
		return NULL;
	p = gitcfg_provider(registries, domain);
	if (!(a = gitcfg_account(p, account)) ||
	    !(*token = gitcfg_token(p, a, secrets_dir)))
		return NULL;
	return a;
}
