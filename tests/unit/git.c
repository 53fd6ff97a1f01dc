/*
 * Unit tests: lib/git (URLs, cache keys, fetch from a file:// remote made
 * by the git CLI, branches, pins, checkouts, files and changed paths) and
 * lib/gitcfg (the token from a secret file).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "file.h"
#include "git.h"
#include "gitcfg.h"
#include "gitsrc.h"
#include "proc.h"
#include "util.h"
#include "tap.h"

static char tmp[] = "/tmp/kom-unit-git.XXXXXX";

/* git -C dir args...; returns its stdout, trimmed. */
static char *
run_git(const char *dir, const char *a1, const char *a2, const char *a3,
    const char *a4)
{
	char *argv[8] = { "git", "-C", (char *)dir, (char *)a1, (char *)a2,
	    (char *)a3, (char *)a4, NULL };
	struct buf out = BUF_INIT;
	struct proc_opts o = { 0 };
	int status = -1;

	o.out = &out;
	if (proc_run(argv, &o, &status) < 0 || status != 0)
		diag("git %s %s: exit %d", a1, a2 ? a2 : "", status);
	while (out.len && out.s[out.len - 1] == '\n')
		buf_truncate(&out, out.len - 1);
	return buf_release(&out);
}

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	char *d = file_dirname(p);

	file_mkdir_p(d, 0755);
	file_write_atomic(p, text, strlen(text), 0644);
	free(d);
	free(p);
}

static char *
commit(const char *work, const char *msg)
{
	free(run_git(work, "add", "-A", NULL, NULL));
	free(run_git(work, "commit", "-q", "-m", msg));
	free(run_git(work, "push", "-q", "origin", "HEAD:refs/heads/main"));
	return run_git(work, "rev-parse", "HEAD", NULL, NULL);
}

static void
test_urls(void)
{
	struct buf u = BUF_INIT, e = BUF_INIT;
	char *k;

	is_int(kgit_remote_url("git.example.com", 1, "me/homelab", &u, &e), 0,
	    "provider and repo");
	is_str(u.s, "https://git.example.com/me/homelab", "Komodo's https URL");
	buf_reset(&u);
	kgit_remote_url("127.0.0.1:8080", 0, "/me/x", &u, &e);
	is_str(u.s, "http://127.0.0.1:8080/me/x", "git_https = false; "
	    "leading slash dropped");
	buf_reset(&u);
	is_int(kgit_remote_url("github.com", 1, "ssh://git@h:22/a/b", &u, &e),
	    0, "an ssh URL with a user");
	is_str(u.s, "ssh://git@h:22/a/b", "kept as it is");
	buf_reset(&u);
	ok(kgit_remote_url("github.com", 1, "https://u:secret@h/a", &u,
	    &e) < 0, "credentials in a URL are refused");
	ok(!strstr(e.s, "secret"), "and not repeated in the message");
	ok(kgit_remote_url("github.com", 1, "ssh://u:pw@h/a", &u, &e) < 0,
	    "an ssh password in a URL too");
	ok(kgit_remote_url("user@github.com", 1, "a/b", &u, &e) < 0,
	    "a provider with credentials");
	ok(kgit_remote_url("github.com", 1, "gopher://h/a", &u, &e) < 0,
	    "an unknown scheme");
	ok(kgit_remote_url("github.com", 1, "a/../b", &u, &e) < 0, "..");
	/* Debian 12's libgit2 has it; tests/0703-poll-ssh.t relies on it */
	is_str(kgit_has_ssh(), "ssh", "libgit2 has its ssh transport here");
	k = kgit_cache_key("https://git.example.com/me/homelab.git");
	is_int(strlen(k), 12 + 1 + 7, "key: 12 hex, dash, tail");
	is_str(k + 13, "homelab", "readable tail without .git");
	free(k);
	k = kgit_cache_key("https://h/a b/c?d");
	is_str(k + 13, "c_d", "tail made safe for a file name");
	free(k);
	buf_free(&u);
	buf_free(&e);
}

static void
test_known_hosts(void)
{
	/* "key1" and "key2" in base64 */
	const char *kh = "# comment\n\nother.example ssh-ed25519 a2V5MQ==\n"
	    "[h.example]:2222,h.example ssh-ed25519 a2V5MQ== c\n"
	    "@cert-authority h.example ssh-ed25519 a2V5Mg==\n";
	const char *rv = "@revoked h.example ssh-ed25519 a2V5MQ==\n"
	    "h.example ssh-ed25519 a2V5MQ==\n";

	is_int(kgit_known_host(kh, strlen(kh), "h.example", "key1", 4), 1,
	    "known_hosts: a plain name");
	is_int(kgit_known_host(kh, strlen(kh), "[h.example]:2222", "key1", 4),
	    1, "a [name]:port among several");
	is_int(kgit_known_host(kh, strlen(kh), "[h.example]:2223", "key1", 4),
	    0, "another port is another host");
	is_int(kgit_known_host(kh, strlen(kh), "h.example", "key2", 4), 0,
	    "another key; @cert-authority is not followed");
	is_int(kgit_known_host(kh, strlen(kh), "h.example", "key", 3), 0,
	    "a key that is a prefix");
	is_int(kgit_known_host(rv, strlen(rv), "h.example", "key1", 4), -1,
	    "@revoked wins over a later line");
	is_int(kgit_known_host("h.example ssh-ed25519 !!!!\n", 27,
	    "h.example", "key1", 4), 0, "bad base64 is no match");
}

static void
test_token(void)
{
	struct gitcfg_provider p = { 0 };
	struct gitcfg_account a = { 0 };
	char *t, *sd;

	p.domain = "h:1";
	a.username = "kom";
	put(tmp, "secrets/kom@h:1", "s3cret\n");
	sd = xasprintf("%s/secrets", tmp);
	t = gitcfg_token(&p, &a, sd);
	free(sd);
	is_str(t, "s3cret", "token from USERNAME@DOMAIN, newline dropped");
	free(t);
	a.token = "inline";
	t = gitcfg_token(&p, &a, NULL);
	is_str(t, "inline", "the token in kom.toml comes first");
	free(t);
	a.token = NULL;
	a.username = "nobody";
	ok(!gitcfg_token(&p, &a, tmp), "no file: no token");
}

/* config_load() of kom.toml text: its return value. */
static int
load(const char *text, struct config *cfg)
{
	char *p = xasprintf("%s/kom.toml", tmp);
	int rc;

	put(tmp, "kom.toml", text);
	fflush(stdout);
	rc = config_load(p, 1, cfg);
	free(p);
	return rc;
}

static void
test_config(void)
{
	struct config cfg;
	const struct gitcfg_provider *p;
	const struct gitcfg_account *a;

	is_int(load("[[git_provider]]\ndomain = \"git.example.com\"\n"
	    "accounts = [ { username = \"kom\", token = \"t1\" },\n"
	    "  { username = \"ci\", ssh_key = \"keys/ci\" } ]\n"
	    "[[git_provider]]\ndomain = \"127.0.0.1:8080\"\nhttps = false\n"
	    "known_hosts = \"/etc/kom/known_hosts\"\n", &cfg), 0,
	    "two providers");
	is_int(cfg.git.nproviders, 2, "both kept");
	p = gitcfg_provider(&cfg.git, "GIT.example.com");
	ok(p && p->https, "found without case; https by default");
	a = gitcfg_account(p, "kom");
	is_str(a ? a->token : NULL, "t1", "account token");
	a = gitcfg_account(p, "ci");
	ok(a && a->ssh_key && !strcmp(a->ssh_key + strlen(a->ssh_key) - 8,
	    "/keys/ci") && a->ssh_key[0] == '/',
	    "a relative ssh_key is made absolute from kom.toml's dir");
	ok(!gitcfg_account(p, "nobody"), "an unknown account");
	p = gitcfg_provider(&cfg.git, "127.0.0.1:8080");
	ok(p && !p->https, "https = false");
	is_str(p ? p->known_hosts : NULL, "/etc/kom/known_hosts",
	    "known_hosts");
	config_free(&cfg);

	diag("the next diagnostics are expected");
	ok(load("[[git_provider]]\nhttps = true\n", &cfg) < 0,
	    "a provider without a domain");
	ok(load("[[git_provider]]\ndomain = \"a\"\n[[git_provider]]\n"
	    "domain = \"A\"\n", &cfg) < 0, "a provider declared twice");
	ok(load("[[git_provider]]\ndomain = \"a\"\naccounts = "
	    "[ { token = \"x\" } ]\n", &cfg) < 0, "an account without a "
	    "username");
	ok(load("[[git_provider]]\ndomain = \"a\"\naccounts = "
	    "[ { username = \"u\" }, { username = \"u\" } ]\n", &cfg) < 0,
	    "an account declared twice");
	ok(load("[[git_provider]]\ndomain = \"a\"\nhttps = \"yes\"\n",
	    &cfg) < 0, "https must be a boolean");
	ok(load("[[git_provider]]\ndomain = \"u@a\"\n", &cfg) < 0,
	    "a domain with credentials");
	ok(load("[[git_provider]]\ndomain = \"a\"\ntokn = 1\n", &cfg) < 0,
	    "an unknown key (strict)");
	ok(load("git_provider = 1\n", &cfg) < 0, "not an array of tables");
}

static void
test_gitsrc(void)
{
	struct gitcfg_provider prov = { 0 };
	struct gitcfg g = { &prov, 1 };
	struct gitsrc src;
	struct buf e = BUF_INIT;
	json_t *recs = json_loads("["
	    "{\"type\":\"repo\",\"name\":\"r\",\"config\":{"
	    "\"repo\":\"me/r\",\"git_provider\":\"lan\","
	    "\"git_https\":true,\"git_account\":\"kom\","
	    "\"branch\":\"dev\",\"commit\":\"\"}},"
	    "{\"type\":\"stack\",\"name\":\"s\",\"config\":{"
	    "\"linked_repo\":\"r\",\"repo\":\"other/x\"}},"
	    "{\"type\":\"stack\",\"name\":\"h\",\"config\":{"
	    "\"files_on_host\":true,\"repo\":\"me/r\"}},"
	    "{\"type\":\"deployment\",\"name\":\"d\",\"config\":{}},"
	    "{\"type\":\"build\",\"name\":\"b\",\"config\":{"
	    "\"linked_repo\":\"nope\"}},"
	    "{\"type\":\"build\",\"name\":\"ssh\",\"config\":{"
	    "\"repo\":\"ssh://git@h:2222/x\",\"git_provider\":"
	    "\"github.com\",\"git_https\":true,\"branch\":\"\"}}]", 0, NULL);

	prov.domain = "lan";
	prov.https = 0;
	is_int(gitsrc_record(&g, json_array_get(recs, 1), recs, &src, &e), 1,
	    "gitsrc: a stack linked to a repo");
	is_str(src.url, "http://lan/me/r", "the repo's fields win; the "
	    "provider's https = false");
	is_str(src.branch, "dev", "its branch");
	is_str(src.account, "kom", "its account");
	is_str(src.domain, "lan", "its provider");
	gitsrc_free(&src);
	is_int(gitsrc_record(&g, json_array_get(recs, 2), recs, &src, &e), 0,
	    "files_on_host: no source");
	is_int(gitsrc_record(&g, json_array_get(recs, 3), recs, &src, &e), 0,
	    "a deployment: no source");
	is_int(gitsrc_record(&g, json_array_get(recs, 4), recs, &src, &e), -1,
	    "an undeclared linked_repo");
	is_str(e.s, "linked_repo 'nope' is not declared", "says so");
	is_int(gitsrc_record(&g, json_array_get(recs, 5), recs, &src, &e), 1,
	    "an ssh URL");
	is_str(src.domain, "h:2222", "its host is the provider");
	is_str(src.branch, "main", "branch defaults to main");
	gitsrc_free(&src);
	json_decref(recs);
	buf_free(&e);
}

static void
test_repo(void)
{
	char *src = xasprintf("%s/src.git", tmp), *work, *url, *repos;
	char *c1, *c2, *c3, *dir = NULL, **paths = NULL, hex[KGIT_HEX];
	char *dir2 = NULL;
	struct kgit_repo *r = NULL;
	struct kgit_fetch_stats st;
	struct buf e = BUF_INIT, f = BUF_INIT;
	size_t n = 0, i;
	struct stat sb;

	work = xasprintf("%s/work", tmp);
	repos = xasprintf("%s/repos", tmp);
	url = xasprintf("file://%s", src);
	free(run_git(tmp, "init", "-q", "--bare", src));
	free(run_git(tmp, "init", "-q", work, NULL));
	free(run_git(work, "remote", "add", "origin", src));
	put(work, "web/compose.yaml", "services: {}\n");
	put(work, "db/compose.yaml", "services: {}\n");
	c1 = commit(work, "one");

	is_int(kgit_open(repos, url, &r, &e), 0, "open a new cache");
	if (!r) {
		diag("%s", e.s);
		return;
	}
	is_int(kgit_branch_commit(r, "main", hex, &e), KGIT_E_NOTFOUND,
	    "nothing before the first fetch");
	is_int(kgit_fetch(r, NULL, 30000, &st, &e), 0, "first fetch");
	if (e.len)
		diag("%s", e.s);
	ok(st.moved && st.downloaded, "moved, a pack downloaded");
	is_int(kgit_branch_commit(r, "main", hex, &e), 0, "main resolves");
	is_str(hex, c1, "to the pushed commit");
	is_int(kgit_fetch(r, NULL, 30000, &st, &e), 0, "fetch again");
	ok(!st.moved && !st.downloaded, "unchanged: no pack");

	is_int(kgit_checkout(r, c1, &dir, &e), 0, "checkout");
	buf_reset(&f);
	buf_printf(&f, "%s/web/compose.yaml", dir);
	ok(stat(f.s, &sb) == 0, "its files are there");
	is_int(kgit_checkout(r, c1, &dir2, &e), 0, "checkout again");
	is_str(dir2, dir, "the same directory");
	free(dir2);

	put(work, "web/compose.yaml", "services: {web: {}}\n");
	put(work, "new.txt", "x\n");
	c2 = commit(work, "two");
	is_int(kgit_fetch(r, NULL, 30000, &st, &e), 0, "fetch a push");
	kgit_branch_commit(r, "main", hex, &e);
	is_str(hex, c2, "main moved");
	is_int(kgit_changed(r, c1, c2, &paths, &n, &e), 0, "changed paths");
	is_int(n, 2, "two");
	if (n == 2) {
		is_str(paths[0], "new.txt", "sorted: new.txt");
		is_str(paths[1], "web/compose.yaml", "web/compose.yaml");
	}
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	is_int(kgit_changed(r, NULL, c1, &paths, &n, &e), 0, "from nothing");
	is_int(n, 2, "every path of the tree");
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);

	buf_reset(&f);
	is_int(kgit_read_file(r, c1, "web/compose.yaml", &f, &e), 0,
	    "read a file at a commit");
	is_str(f.s, "services: {}\n", "its old contents");
	buf_reset(&f);
	is_int(kgit_read_file(r, c1, "nope", &f, &e), KGIT_E_NOTFOUND,
	    "a missing file");

	is_int(kgit_pinned_commit(r, c1, hex, &e), 0, "pin an older commit");
	is_str(hex, c1, "resolves to itself");
	c3 = xstrndup(c1, 9);
	is_int(kgit_pinned_commit(r, c3, hex, &e), 0, "a short pin");
	is_str(hex, c1, "full hex");
	free(c3);
	is_int(kgit_pinned_commit(r, "0123456789abcdef0123", hex, &e),
	    KGIT_E_NOTFOUND, "a commit that does not exist");
	ok(strstr(e.s, "is not on") != NULL, "says so: %s", e.s);
	is_int(kgit_pinned_commit(r, "xyz", hex, &e), KGIT_E_NOTFOUND,
	    "not hex");

	/* rewrite history: c2 stays in the cache but leaves the remote */
	free(run_git(work, "reset", "-q", "--hard", c1));
	put(work, "other.txt", "y\n");
	free(run_git(work, "add", "-A", NULL, NULL));
	free(run_git(work, "commit", "-q", "-m", "three"));
	free(run_git(work, "push", "-qf", "origin", "HEAD:main"));
	is_int(kgit_fetch(r, NULL, 30000, &st, &e), 0, "fetch a force push");
	is_int(kgit_pinned_commit(r, c2, hex, &e), KGIT_E_NOTFOUND,
	    "a commit no branch holds any more is refused");

	free(run_git(src, "branch", "dev", "main", NULL));
	kgit_fetch(r, NULL, 30000, &st, &e);
	is_int(kgit_branch_commit(r, "dev", hex, &e), 0, "a new branch");
	free(run_git(src, "branch", "-D", "dev", NULL));
	kgit_fetch(r, NULL, 30000, &st, &e);
	is_int(kgit_branch_commit(r, "dev", hex, &e), KGIT_E_NOTFOUND,
	    "a deleted branch is pruned");
	ok(strstr(e.s, "branch 'dev' is not on") != NULL, "%s", e.s);
	is_int(kgit_branch_commit(r, "a..b", hex, &e), KGIT_E_NOTFOUND,
	    "an invalid branch name");
	kgit_close(r);

	/* a crash mid-checkout: the temporary directory does not count */
	buf_reset(&f);
	{
		char *key = kgit_cache_key(url);

		buf_printf(&f, "%s/%s/.tmp-%s", repos, key, c2);
		file_mkdir_p(f.s, 0755);
		free(key);
	}
	is_int(kgit_open(repos, url, &r, &e), 0, "reopen");
	ok(stat(f.s, &sb) < 0, "a stale temporary checkout is removed");
	kgit_close(r);
	ok(kgit_open(repos, "file:///nonexistent", &r, &e) == 0,
	    "a cache for a remote that does not exist");
	is_int(kgit_fetch(r, NULL, 30000, &st, &e), KGIT_E_NOTFOUND,
	    "cannot be fetched: not found");
	ok(e.len > 0, "with a message: %s", e.s);
	kgit_close(r);

	free(dir);
	free(c1);
	free(c2);
	free(src);
	free(work);
	free(url);
	free(repos);
	buf_free(&e);
	buf_free(&f);
}

int
main(void)
{
	char *cfg;
	char *argv[] = { "rm", "-rf", tmp, NULL };
	struct proc_opts o = { 0 };
	int status;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmp))
		return 1;
	cfg = xasprintf("%s/gitconfig", tmp);
	put(tmp, "gitconfig", "[user]\n\tname = t\n\temail = t@t\n"
	    "[init]\n\tdefaultBranch = main\n");
	setenv("GIT_CONFIG_GLOBAL", cfg, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	test_urls();
	test_known_hosts();
	test_token();
	test_config();
	test_gitsrc();
	test_repo();
	proc_run(argv, &o, &status);
	free(cfg);
	return done_testing();
}
