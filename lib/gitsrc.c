/*
 * gitsrc: where a resource's files come from in git (see gitsrc.h).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "git.h"
#include "gitcfg.h"
#include "gitsrc.h"
#include "jsonl.h"
#include "util.h"
#include "banned.h"

int
gitsrc_fields(const struct gitcfg *g, const char *provider, int https,
    const char *repo, const char *account, const char *branch,
    const char *commit, struct gitsrc *out, struct buf *err)
{
	const struct gitcfg_provider *gp = gitcfg_provider(g, provider);
	struct buf url = BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (gp && !gp->https)
		https = 0;
	if (kgit_remote_url(provider, https, repo, &url, err) < 0) {
		buf_free(&url);
		return -1;
	}
	/* an ssh:// (or other) URL names its host itself */
	out->domain = strstr(repo, "://") ? kgit_url_host(url.s) :
	    xstrdup(provider);
	out->url = buf_release(&url);
	out->account = xstrdup(account ? account : "");
	out->branch = xstrdup(branch && *branch ? branch : "main");
	out->commit = xstrdup(commit ? commit : "");
	return 0;
}

static const char *
str(const json_t *o, const char *key)
{
	return jsonl_str(o, key, "");
}

const json_t *
gitsrc_repo_config(const json_t *records, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_size(records); i++) {
		const json_t *o = json_array_get(records, i);

		if (!strcmp(str(o, "type"), "repo") &&
		    !strcmp(str(o, "name"), name))
			return json_object_get(o, "config");
	}
	return NULL;
}

int
gitsrc_record(const struct gitcfg *g, const json_t *rec,
    const json_t *records, struct gitsrc *out, struct buf *err)
{
	const char *type = str(rec, "type");
	const json_t *c = json_object_get(rec, "config"), *lr;

	buf_reset(err);
	memset(out, 0, sizeof(*out));
	if (strcmp(type, "stack") && strcmp(type, "repo") &&
	    strcmp(type, "build") && strcmp(type, "resource_sync"))
		return 0;
	if (!c || json_is_true(json_object_get(c, "files_on_host")))
		return 0;
	if (*str(c, "linked_repo")) {
		if (!(lr = gitsrc_repo_config(records, str(c, "linked_repo")))) {
			buf_printf(err, "linked_repo '%s' is not declared",
			    str(c, "linked_repo"));
			return -1;
		}
		c = lr;
	}
	if (!*str(c, "repo"))
		return 0;
	if (gitsrc_fields(g, str(c, "git_provider"),
	    !json_is_false(json_object_get(c, "git_https")), str(c, "repo"),
	    str(c, "git_account"), str(c, "branch"), str(c, "commit"), out,
	    err) < 0)
		return -1;
	return 1;
}

void
gitsrc_free(struct gitsrc *s)
{
	free(s->url);
	free(s->domain);
	free(s->account);
	free(s->branch);
	free(s->commit);
	memset(s, 0, sizeof(*s));
}
