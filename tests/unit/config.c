/* Unit tests for lib/config: reading kom.toml. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "file.h"
#include "kv.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

static char dir[] = "/tmp/kom-config-test.XXXXXX";
static char *errpath;

/* Write text to DIR/kom.toml, load it, keep stderr in *err. */
static int
load(const char *text, int strict, struct config *cfg, char **err)
{
	char *path = xasprintf("%s/kom.toml", dir);
	struct buf b = BUF_INIT;
	int saved, fd, rc;

	if (text)
		file_write_atomic(path, text, strlen(text), 0644);
	else
		unlink(path);
	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fd, 2);
	close(fd);
	rc = config_load(path, strict, cfg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	file_read(errpath, &b, 1 << 16);
	*err = buf_release(&b);
	free(path);
	return rc;
}

/* err with DIR replaced by "D", and the program prefix dropped */
static char *
msg(const char *err)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, err);
	buf_replace_all(&b, "config.t: ", "");
	buf_replace_all(&b, dir, "D");
	return buf_release(&b);
}

static void
expect_error(const char *text, const char *want, const char *name)
{
	struct config cfg;
	char *err, *m;

	ok(load(text, 0, &cfg, &err) == -1, "%s: fails", name);
	m = msg(err);
	is_str(m, want, "%s: message", name);
	free(m);
	free(err);
	config_free(&cfg);
}

int
main(void)
{
	struct config cfg;
	const struct config_sync *s;
	char *err, *m, **v = NULL, *dirpath;
	size_t n = 0, i;

	if (!mkdtemp(dir))
		return 1;
	errpath = xasprintf("%s/stderr", dir);

	/* missing file: defaults */
	ok(load(NULL, 0, &cfg, &err) == 0, "missing kom.toml is fine");
	ok(!cfg.found && !cfg.server && cfg.nsyncs == 0, "defaults");
	is_str(err, "", "and silent");
	free(err);
	config_free(&cfg);

	/* everything */
	ok(load("server = \"host1\"\n"
	    "secrets_dir = \"/run/secrets\"\n"
	    "\n"
	    "[[resource_sync]]\n"
	    "name = \"homelab\"\n"
	    "resource_path = [\"stacks\", \"/abs/more.toml\"]\n"
	    "delete = true\n"
	    "match_tags = \"prod, eu\\n# comment\\nextra #tail\"\n"
	    "include_variables = true\n"
	    "\n"
	    "[[resource_sync]]\n"
	    "name = \"komodo-shaped\"\n"
	    "directory = \"checkout\"\n"
	    "[resource_sync.config]\n"
	    "managed = true\n"
	    "include_resources = false\n"
	    "repo = \"org/infra\"\n"
	    "branch = \"prod\"\n", 0, &cfg, &err) == 0, "full kom.toml");
	is_str(err, "", "no warnings");
	free(err);
	ok(cfg.found, "found");
	is_str(cfg.server, "host1", "server");
	is_str(cfg.secrets_dir, "/run/secrets", "secrets_dir");
	is_int(cfg.nsyncs, 2, "two syncs");
	s = config_sync(&cfg, "homelab");
	ok(s != NULL, "sync by name");
	if (s) {
		is_int(s->delete, 1, "delete");
		is_int(s->managed, 0, "managed default");
		is_int(s->include_resources, 1, "include_resources default");
		is_int(s->include_variables, 1, "include_variables");
		is_int(s->include_user_groups, 0, "include_user_groups "
		    "default");
		is_int(s->nmatch_tags, 3, "match_tags from a string list");
		if (s->nmatch_tags == 3) {
			is_str(s->match_tags[0], "prod", "tag 1");
			is_str(s->match_tags[1], "eu", "tag 2");
			is_str(s->match_tags[2], "extra", "tag 3, comment cut");
		}
		is_int(s->nresource_path, 2, "resource_path");
		is_str(s->directory, dir, "directory defaults to kom.toml's");
		is_str(s->branch, "main", "branch default");
		is_int(s->line, 4, "line of the header");
	}
	s = config_sync(&cfg, "komodo-shaped");
	if (ok(s != NULL, "sync with a config table")) {
		is_int(s->managed, 1, "managed from config table");
		is_int(s->include_resources, 0, "include_resources off");
		is_str(s->repo, "org/infra", "repo");
		is_str(s->branch, "prod", "branch");
		dirpath = xasprintf("%s/checkout", dir);
		is_str(s->directory, dirpath, "relative directory");
		free(dirpath);
	}
	ok(config_sync(&cfg, "nope") == NULL, "unknown sync: NULL");
	config_free(&cfg);

	/* unknown keys warn with position, and fail when strict */
	ok(load("sever = \"x\"\n[[resource_sync]]\nname = \"a\"\ndelte = "
	    "true\n", 0, &cfg, &err) == 0, "unknown keys are warnings");
	m = msg(err);
	is_str(m, "D/kom.toml:1:1: warning: unknown key 'sever' in kom.toml "
	    "(did you mean 'server'?)\nD/kom.toml:4:1: warning: unknown key "
	    "'delte' in [[resource_sync]] (did you mean 'delete'?)\n",
	    "unknown key messages: warnings, so marked");
	free(m);
	free(err);
	config_free(&cfg);
	ok(load("zzz = 1\n", 1, &cfg, &err) == -1, "strict: unknown is fatal");
	m = msg(err);
	is_str(m, "D/kom.toml:1:1: unknown key 'zzz' in kom.toml\n",
	    "strict: an error, no 'warning:'; no suggestion when nothing is "
	    "close");
	free(m);
	free(err);
	config_free(&cfg);

	expect_error("server = \n", "D/kom.toml:1:10: expected value, found end of line\n",
	    "bad toml");
	expect_error("server = 3\n", "D/kom.toml:1:10: 'server' must be a "
	    "string, not integer\n", "wrong type");
	expect_error("[[resource_sync]]\ndelete = true\n",
	    "D/kom.toml:1:1: resource_sync without a name\n", "no name");
	expect_error("[[resource_sync]]\nname = \"a\"\n[[resource_sync]]\n"
	    "name = \"a\"\n", "D/kom.toml:4:8: resource_sync 'a' is declared "
	    "twice (first at line 1)\n", "duplicate sync");
	expect_error("[[resource_sync]]\nname = \"a\"\ndelete = \"yes\"\n",
	    "D/kom.toml:3:10: 'delete' must be a boolean, not string\n",
	    "bool key given a string");
	expect_error("[[resource_sync]]\nname = \"a\"\nmatch_tags = [1]\n",
	    "D/kom.toml:3:15: 'match_tags' must be an array of strings\n",
	    "list with a non-string");
	expect_error("resource_sync = 1\n", "D/kom.toml:1:17: 'resource_sync' "
	    "must be an array of tables ([[resource_sync]]), not integer\n",
	    "resource_sync not an array");

	/* the flexible list on its own */
	{
		const char *l = "a, b\n  # c\n\nd #e, f\n,g,";

		kv_split_list(l, strlen(l), &v, &n);
	}
	is_int(n, 4, "split_list count");
	if (n == 4) {
		is_str(v[0], "a", "split 1");
		is_str(v[1], "b", "split 2");
		is_str(v[2], "d", "split 3");
		is_str(v[3], "g", "split 4");
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);

	/* registry accounts: Komodo's [[docker_registry]] */
	ok(load("[[docker_registry]]\n"
	    "domain = \"Reg.lan:5000\"\n"
	    "organizations = [\"team\"]\n"
	    "accounts = [{ username = \"ci\", token = \"t0k\" }, "
	    "{ username = \"ro\" }]\n", 0, &cfg, &err) == 0,
	    "docker_registry");
	is_str(err, "", "no warnings");
	free(err);
	{
		const struct gitcfg_provider *p = gitcfg_provider(
		    &cfg.registries, "reg.lan:5000");

		ok(p && p->naccounts == 2, "by domain, without case");
		ok(p && gitcfg_account(p, "ci") &&
		    !strcmp(gitcfg_account(p, "ci")->token, "t0k"),
		    "the account's token");
		ok(cfg.git.nproviders == 0, "not a git provider");
	}
	config_free(&cfg);
	expect_error("[[docker_registry]]\ndomain = \"r\"\nhttps = false\n"
	    "accounts = [{ token = \"x\" }]\n",
	    "D/kom.toml:3:1: unknown key 'https' in [[docker_registry]]\n"
	    "D/kom.toml:4:13: a docker_registry account without a username\n",
	    "docker_registry: https is no key of it, a username is needed");
	expect_error("[[docker_registry]]\naccounts = []\n",
	    "D/kom.toml:1:1: docker_registry without a domain\n",
	    "docker_registry without a domain");

	unlink(errpath);
	free(errpath);
	m = xasprintf("%s/kom.toml", dir);
	unlink(m);
	free(m);
	rmdir(dir);
	return done_testing();
}
