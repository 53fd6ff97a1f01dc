/*
 * git: cache repositories, fetches and checkouts over libgit2 (see git.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "file.h"
#include "git.h"
#include "util.h"
#include "banned.h"

/*
 * The remote is anonymous and ignores url.*.insteadOf (libgit2 1.5 leaks
 * in the regular expressions that named remotes and insteadOf go
 * through, and a rewrite would make the cache's name lie); its URL is kept
 * as kom.url in the cache's config, its refspec is this one.
 */
#define TRACKING "refs/remotes/origin/"
#define REFSPEC "+refs/heads/*:" TRACKING "*"
#define URL_KEY "kom.url"
#define MSG_MAX 400

struct kgit_repo {
	char *dir;		/* REPOS/KEY */
	char *url;
	git_repository *repo;
	int lockfd;
};

static const char *const schemes[] = {
	"https://", "http://", "ssh://", "file://"
};

int
kgit_remote_url(const char *provider, int https, const char *repo,
    struct buf *out, struct buf *err)
{
	const char *auth, *end, *at;
	size_t i;

	buf_reset(err);
	if (strstr(repo, "://")) {
		for (i = 0; i < KOM_NELEM(schemes); i++)
			if (!strncasecmp(repo, schemes[i], strlen(schemes[i])))
				break;
		if (i == KOM_NELEM(schemes)) {
			buf_printf(err, "repo '%s': unsupported URL scheme "
			    "(https, http, ssh, file)", repo);
			return -1;
		}
		auth = repo + strlen(schemes[i]);
		end = auth + strcspn(auth, "/");
		at = memchr(auth, '@', (size_t)(end - auth));
		/* ssh://user@host is a user name; anything else with an '@'
		 * carries a password the URL must not hold */
		if (at && (i != 2 || memchr(auth, ':', (size_t)(at - auth)))) {
			buf_adds(err, "a repo URL must not hold credentials: "
			    "put them in kom.toml [[git_provider]] accounts");
			return -1;
		}
		if (i == 2 && !kgit_has_ssh()) {
			buf_printf(err, "repo '%s': this libgit2 was built "
			    "without ssh: use an https remote", repo);
			return -1;
		}
		buf_adds(out, repo);
		return 0;
	}
	if (!*provider || strpbrk(provider, "@/ \t\n")) {
		buf_printf(err, "git_provider '%s' must be a host or "
		    "host:port", provider);
		return -1;
	}
	while (*repo == '/')
		repo++;
	if (!*repo || strpbrk(repo, " \t\n") || strstr(repo, "..")) {
		buf_printf(err, "repo '%s' must be namespace/name", repo);
		return -1;
	}
	buf_printf(out, "%s://%s/%s", https ? "https" : "http", provider, repo);
	return 0;
}

char *
kgit_cache_key(const char *url)
{
	char hex[65];
	const char *tail, *e;
	struct buf b = BUF_INIT;
	size_t n, i;

	/* the first 12 hex digits of the URL's SHA-256 */
	kom_sha256_hex(url, strlen(url), hex);
	buf_add(&b, hex, 12);
	buf_addc(&b, '-');
	e = url + strlen(url);
	while (e > url && e[-1] == '/')
		e--;
	if (e - url > 4 && !strncmp(e - 4, ".git", 4))
		e -= 4;
	for (tail = e; tail > url && tail[-1] != '/' && tail[-1] != ':';)
		tail--;
	n = (size_t)(e - tail);
	if (n > 40)
		n = 40;
	if (!n)
		buf_adds(&b, "repo");
	for (i = 0; i < n; i++) {
		int c = (unsigned char)tail[i];

		buf_addc(&b, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' ? c : '_');
	}
	return buf_release(&b);
}

const char *
kgit_has_ssh(void)
{
	return git_libgit2_features() & GIT_FEATURE_SSH ? "ssh" : NULL;
}

/* Printable, bounded, with the secret masked. */
static void
clean_msg(struct buf *out, const char *msg, const char *secret)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_adds(&b, msg ? msg : "unknown error");
	if (secret && *secret)
		buf_replace_all(&b, secret, "<token>");
	for (i = 0; i < b.len && i < MSG_MAX; i++)
		buf_addc(out, b.s[i] >= ' ' && b.s[i] != 0x7f ? b.s[i] : ' ');
	while (out->len && out->s[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
	buf_free(&b);
}

static void
git_msg(struct buf *err, const char *what, const char *secret)
{
	const git_error *e = git_error_last();

	buf_adds(err, what);
	buf_adds(err, ": ");
	clean_msg(err, e ? e->message : NULL, secret);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) < 0 && errno != ENOENT
	    ? -1 : 0;
}

static int
rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int
rm_lock(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	size_t n = strlen(p);

	(void)st;
	if (flag == FTW_F && ((n > 5 && !strcmp(p + n - 5, ".lock")) ||
	    !strncmp(p + f->base, "pack_git2_", 10)))
		unlink(p);	/* a lock, or a pack half received */
	return 0;
}

/*
 * Under the flock nothing else writes this cache, so temporary checkouts
 * and libgit2 lock files are what a killed process left behind.
 */
static void
clean_stale(const char *dir)
{
	struct buf b = BUF_INIT;
	DIR *d;
	struct dirent *de;

	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, ".tmp-", 5)) {
				buf_reset(&b);
				buf_printf(&b, "%s/%s", dir, de->d_name);
				rm_rf(b.s);
			}
		closedir(d);
	}
	buf_reset(&b);
	buf_printf(&b, "%s/repo.git", dir);
	nftw(b.s, rm_lock, 16, FTW_PHYS);
	buf_free(&b);
}

static void
lib_init(void)
{
	static const int levels[] = {
		GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
		GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA
	};
	size_t i;

	git_libgit2_init();
	/* the user's and the system's gitconfig play no part */
	for (i = 0; i < KOM_NELEM(levels); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
}

/* A bare repository made in a temporary directory, renamed into place. */
static int
init_bare(const char *dir, const char *path, const char *url,
    struct buf *err)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	char *tmp = xasprintf("%s/.tmp-init", dir);
	int rc = -1;

	if (git_repository_init(&repo, tmp, 1) < 0)
		git_msg(err, "cannot create the cache repository", NULL);
	else if (git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_string(cfg, URL_KEY, url) < 0)
		git_msg(err, "cannot record the cache repository's remote",
		    NULL);
	else if (rename(tmp, path) < 0 || file_fsync_dir(dir) < 0)
		buf_printf(err, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	git_config_free(cfg);
	git_repository_free(repo);
	if (rc < 0)
		rm_rf(tmp);
	free(tmp);
	return rc;
}

int
kgit_open(const char *reposdir, const char *url, struct kgit_repo **out,
    struct buf *err)
{
	struct kgit_repo *r;
	git_config *cfg = NULL;
	git_buf have = { NULL, 0, 0 };
	char *key, *lock, *path;
	int same;
	struct stat st;

	buf_reset(err);
	*out = NULL;
	r = xcalloc(1, sizeof(*r));
	r->lockfd = -1;
	key = kgit_cache_key(url);
	r->dir = xasprintf("%s/%s", reposdir, key);
	r->url = xstrdup(url);
	free(key);
	lib_init();
	if (file_mkdir_p(r->dir, 0700) < 0) {
		buf_printf(err, "%s: %s", r->dir, strerror(errno));
		goto fail;
	}
	lock = xasprintf("%s/lock", r->dir);
	r->lockfd = file_lock(lock, 1);
	if (r->lockfd < 0)
		buf_printf(err, "%s: %s", lock, strerror(errno));
	free(lock);
	if (r->lockfd < 0)
		goto fail;
	clean_stale(r->dir);
	path = xasprintf("%s/repo.git", r->dir);
	if (stat(path, &st) < 0 && init_bare(r->dir, path, url, err) < 0) {
		free(path);
		goto fail;
	}
	if (git_repository_open_bare(&r->repo, path) < 0) {
		free(path);
		git_msg(err, "cannot open the cache repository", NULL);
		goto fail;
	}
	free(path);
	/* the URL is the cache's name: a second URL hashing the same would
	 * be a collision worth hearing about */
	if (git_repository_config_snapshot(&cfg, r->repo) < 0 ||
	    git_config_get_string_buf(&have, cfg, URL_KEY) < 0) {
		git_config_free(cfg);
		git_msg(err, "cache repository without its remote", NULL);
		goto fail;
	}
	same = !strcmp(have.ptr, url);
	git_buf_dispose(&have);
	git_config_free(cfg);
	if (!same) {
		buf_printf(err, "%s: the cache belongs to another remote",
		    r->dir);
		goto fail;
	}
	*out = r;
	return 0;
fail:
	kgit_close(r);
	return -1;
}

void
kgit_close(struct kgit_repo *r)
{
	if (!r)
		return;
	if (r->repo) {
		git_repository_free(r->repo);
	}
	if (r->lockfd >= 0)
		close(r->lockfd);
	free(r->dir);
	free(r->url);
	free(r);
	git_libgit2_shutdown();
}

const char *
kgit_dir(const struct kgit_repo *r)
{
	return r->dir;
}

/* The fetch, in a child process. */

struct fetch_payload {
	const struct kgit_auth *auth;
	const char *url;
	int asked;		/* times the credential callback ran */
};

static int
cred_cb(git_credential **out, const char *url, const char *user_from_url,
    unsigned int allowed, void *payload)
{
	struct fetch_payload *p = payload;
	const struct kgit_auth *a = p->auth;
	const char *user = user_from_url && *user_from_url ? user_from_url :
	    a->username;

	(void)url;
	/* ssh asks for the user name alone first when the URL has none */
	if (allowed == GIT_CREDENTIAL_USERNAME && user)
		return git_credential_username_new(out, user);
	/* a second call for a secret means the first one was refused */
	if (p->asked++ > 0) {
		git_error_set(GIT_ERROR_NET, "the remote refused the "
		    "credentials of account '%s'", a->username ? a->username :
		    "");
		return GIT_EAUTH;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && a->ssh_key && user)
		return git_credential_ssh_key_new(out, user, NULL, a->ssh_key,
		    NULL);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && a->token)
		return git_credential_userpass_plaintext_new(out,
		    a->username ? a->username : "token", a->token);
	if ((allowed & GIT_CREDENTIAL_USERNAME) && user)
		return git_credential_username_new(out, user);
	git_error_set_str(GIT_ERROR_NET, "the remote asks for credentials "
	    "and kom.toml has none for it");
	return GIT_EAUTH;
}

/* Is the remote's set of branches the cache's? */
static int
same_refs(git_repository *repo, git_remote *remote)
{
	const git_remote_head **heads;
	git_reference_iterator *it;
	git_reference *ref;
	size_t n, i, nremote = 0, nlocal = 0;
	git_oid oid;
	struct buf name = BUF_INIT;
	int same = 1;

	if (git_remote_ls(&heads, &n, remote) < 0)
		return 0;
	for (i = 0; i < n && same; i++) {
		if (strncmp(heads[i]->name, "refs/heads/", 11))
			continue;
		nremote++;
		buf_reset(&name);
		buf_printf(&name, TRACKING "%s", heads[i]->name + 11);
		if (git_reference_name_to_id(&oid, repo, name.s) < 0 ||
		    !git_oid_equal(&oid, &heads[i]->oid))
			same = 0;
	}
	buf_free(&name);
	if (!same)
		return 0;
	if (git_reference_iterator_glob_new(&it, repo, TRACKING "*") < 0)
		return 0;
	while (git_reference_next(&ref, it) == 0) {
		if (strcmp(git_reference_name(ref), TRACKING "HEAD"))
			nlocal++;
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return nlocal == nremote;
}

static int
classify(int code, const struct fetch_payload *p)
{
	const git_error *e = git_error_last();
	const char *m = e ? e->message : "";

	(void)p;
	/* a host key we do not trust; credentials refused or missing */
	if (code == GIT_ECERTIFICATE || code == GIT_EAUTH ||
	    strstr(m, "status code: 401") || strstr(m, "status code: 403") ||
	    strstr(m, "authentication"))
		return KGIT_E_AUTH;
	if (strstr(m, "status code: 404") ||
	    strstr(m, "does not appear to be a git repository") ||
	    strstr(m, "could not find repository") ||
	    strstr(m, "failed to resolve path"))
		return KGIT_E_NOTFOUND;
	if (e && (e->klass == GIT_ERROR_NET || e->klass == GIT_ERROR_OS ||
	    e->klass == GIT_ERROR_SSH || e->klass == GIT_ERROR_HTTP ||
	    e->klass == GIT_ERROR_SSL))
		return KGIT_E_UNAVAILABLE;
	return KGIT_E_OTHER;
}

#define KNOWN_HOSTS_MAX (1u << 20)

char *
kgit_url_host(const char *url)
{
	const char *a = strstr(url, "://"), *e, *at;

	a = a ? a + 3 : url;
	e = a + strcspn(a, "/");
	if ((at = memchr(a, '@', (size_t)(e - a))))
		a = at + 1;
	return xstrndup(a, (size_t)(e - a));
}

/* The name known_hosts gives url's host: "host", or "[host]:port". */
static char *
ssh_host_name(const char *url)
{
	char *h = kgit_url_host(url), *colon = strchr(h, ':'), *n;

	if (!colon || !strcmp(colon, ":22")) {
		if (colon)
			*colon = '\0';
		return h;
	}
	*colon = '\0';
	n = xasprintf("[%s]:%s", h, colon + 1);
	free(h);
	return n;
}

/* base64 text to bytes; -1 when it is not base64. */
static int
b64_decode(const char *in, struct buf *out)
{
	size_t n = strlen(in), pad = 0;
	int len;

	if (!n || n % 4 || n > KNOWN_HOSTS_MAX)
		return -1;
	buf_reset(out);
	buf_grow(out, n / 4 * 3 + 1);
	len = EVP_DecodeBlock((unsigned char *)out->s,
	    (const unsigned char *)in, (int)n);
	if (len < 0)
		return -1;
	while (pad < 2 && in[n - 1 - pad] == '=')
		pad++;
	out->len = (size_t)len - pad;
	out->s[out->len] = '\0';
	return 0;
}

/* Does one known_hosts pattern (plain, or hashed |1|salt|hash) name host? */
static int
host_matches(const char *pat, const char *host)
{
	struct buf salt = BUF_INIT, want = BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *p, *h;
	int ok = 0;

	if (strncmp(pat, "|1|", 3))
		return !strcmp(pat, host);
	p = xstrdup(pat + 3);
	if ((h = strchr(p, '|'))) {
		*h++ = '\0';
		if (b64_decode(p, &salt) == 0 && b64_decode(h, &want) == 0 &&
		    HMAC(EVP_sha1(), salt.s, (int)salt.len,
		    (const unsigned char *)host, strlen(host), md, &mdlen) &&
		    mdlen == want.len && !memcmp(md, want.s, mdlen))
			ok = 1;
	}
	free(p);
	buf_free(&salt);
	buf_free(&want);
	return ok;
}

int
kgit_known_host(const char *text, size_t len, const char *host,
    const void *key, size_t klen)
{
	struct buf b = BUF_INIT, raw = BUF_INIT;
	char *line, *next, *f[4], *sp, *save;
	int found = 0, nf, revoked;

	buf_add(&b, text, len);
	for (line = b.s; line && found >= 0; line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		for (nf = 0; nf < 4 && (sp = strsep(&line, " \t")); )
			if (*sp)
				f[nf++] = sp;
		if (nf < 3 || f[0][0] == '#')
			continue;
		revoked = !strcmp(f[0], "@revoked");
		if (f[0][0] == '@') {
			if (nf < 4 || !revoked)
				continue;
			f[0] = f[1];
			f[2] = f[3];
		}
		if (b64_decode(f[2], &raw) < 0 || raw.len != klen ||
		    memcmp(raw.s, key, klen))
			continue;
		for (sp = strtok_r(f[0], ",", &save); sp;
		    sp = strtok_r(NULL, ",", &save))
			if (host_matches(sp, host)) {
				found = revoked ? -1 : 1;
				break;
			}
	}
	buf_free(&b);
	buf_free(&raw);
	return found;
}

static int
known_host(const char *file, const char *host, const char *key, size_t klen)
{
	struct buf b = BUF_INIT;
	int k = 0;

	if (file_read(file, &b, KNOWN_HOSTS_MAX) == 0)
		k = kgit_known_host(b.s, b.len, host, key, klen);
	buf_free(&b);
	return k;
}

static int
cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct fetch_payload *p = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	char *name, *file;
	int k;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;	/* TLS: libgit2 verifies */
	if (!(hk->type & GIT_CERT_SSH_RAW)) {
		git_error_set(GIT_ERROR_SSH, "no raw ssh host key to check");
		return GIT_ECERTIFICATE;
	}
	name = ssh_host_name(p->url);
	file = p->auth->known_hosts ? xstrdup(p->auth->known_hosts) :
	    xasprintf("%s/.ssh/known_hosts", getenv("HOME") ? getenv("HOME") :
	    "/");
	k = known_host(file, name, hk->hostkey, hk->hostkey_len);
	if (k <= 0)
		git_error_set(GIT_ERROR_SSH, "the ssh host key of '%s' is %s "
		    "%s", name, k < 0 ? "revoked in" : "not in", file);
	free(name);
	free(file);
	(void)host;
	return k > 0 ? 0 : GIT_ECERTIFICATE;
}

/* The child: one line "CLASS MOVED DOWNLOADED MESSAGE" on fd. */
static noreturn void
fetch_child(struct kgit_repo *r, const struct kgit_auth *auth, int fd)
{
	struct fetch_payload p = { auth, r->url, 0 };
	git_remote_callbacks cb;
	git_remote_create_options ro;
	git_fetch_options fo;
	git_remote *remote = NULL;
	struct buf out = BUF_INIT, msg = BUF_INIT;
	int code, cls = 0, moved = 0, down = 0;
	char *specs[] = { REFSPEC };
	git_strarray refspecs = { specs, 1 };

	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	cb.credentials = cred_cb;
	cb.certificate_check = cert_cb;
	cb.payload = &p;
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = r->repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((code = git_remote_create_with_opts(&remote, r->url, &ro)) < 0 ||
	    (code = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cb, NULL,
	    NULL)) < 0) {
		cls = classify(code, &p);
		git_msg(&msg, r->url, auth->token);
	} else if (!same_refs(r->repo, remote)) {
		moved = 1;
		down = 1;
		fo.callbacks = cb;
		fo.prune = GIT_FETCH_PRUNE;
		fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
		if ((code = git_remote_fetch(remote, &refspecs, &fo,
		    NULL)) < 0) {
			cls = classify(code, &p);
			git_msg(&msg, r->url, auth->token);
		}
	}
	if (cls == KGIT_E_NOTFOUND) {
		buf_reset(&msg);
		buf_printf(&msg, "%s: no such repository (", r->url);
		clean_msg(&msg, git_error_last() ? git_error_last()->message :
		    NULL, auth->token);
		buf_addc(&msg, ')');
	}
	if (remote && git_remote_connected(remote))
		git_remote_disconnect(remote);
	buf_printf(&out, "%d %d %d %s\n", -cls, moved, down, msg.s);
	if (write(fd, out.s, out.len) < 0)
		_exit(1);
	_exit(0);
}

int
kgit_fetch(struct kgit_repo *r, const struct kgit_auth *auth, int timeout_ms,
    struct kgit_fetch_stats *st, struct buf *err)
{
	static const struct kgit_auth none;
	struct buf got = BUF_INIT;
	int fds[2], status, cls = 0, moved = 0, down = 0, off = 0, timed = 0;
	long long deadline = kom_mono_ms() + timeout_ms;
	pid_t pid, parent;
	char chunk[512];
	ssize_t n;

	buf_reset(err);
	memset(st, 0, sizeof(*st));
	if (!auth)
		auth = &none;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		buf_printf(err, "pipe: %s", strerror(errno));
		return KGIT_E_OTHER;
	}
	fflush(NULL);
	parent = getpid();
	if ((pid = fork()) < 0) {
		buf_printf(err, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return KGIT_E_OTHER;
	}
	if (pid == 0) {
		/* it holds the cache's lock: it must not outlive its parent */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		close(fds[0]);
		fetch_child(r, auth, fds[1]);
	}
	close(fds[1]);
	for (;;) {
		struct pollfd pf = { fds[0], POLLIN, 0 };
		long long left = deadline - kom_mono_ms();
		int pr;

		if (left <= 0) {
			timed = 1;
			break;
		}
		pr = poll(&pf, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			timed = pr == 0;
			break;
		}
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (got.len < 4096)
			buf_add(&got, chunk, (size_t)n);
	}
	close(fds[0]);
	if (timed)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed) {
		clean_stale(r->dir);
		buf_printf(err, "%s: no answer within %d s", r->url,
		    (timeout_ms + 999) / 1000);
		buf_free(&got);
		return KGIT_E_UNAVAILABLE;
	}
	if (sscanf(got.s, "%d %d %d %n", &cls, &moved, &down, &off) < 3 ||
	    !WIFEXITED(status) || WEXITSTATUS(status)) {
		buf_printf(err, "%s: the fetch died", r->url);
		buf_free(&got);
		clean_stale(r->dir);
		return KGIT_E_OTHER;
	}
	st->moved = moved;
	st->downloaded = down;
	if (cls) {
		size_t l = strcspn(got.s + off, "\n");

		buf_add(err, got.s + off, l);
		buf_free(&got);
		return -cls;
	}
	buf_free(&got);
	return 0;
}

int
kgit_branch_commit(struct kgit_repo *r, const char *branch, char hex[KGIT_HEX],
    struct buf *err)
{
	struct buf name = BUF_INIT;
	git_oid oid;
	int valid = 0, rc;

	buf_reset(err);
	buf_printf(&name, TRACKING "%s", branch);
	if (!*branch || git_reference_name_is_valid(&valid, name.s) < 0 ||
	    !valid) {
		buf_printf(err, "'%s' is not a valid branch name", branch);
		buf_free(&name);
		return KGIT_E_NOTFOUND;
	}
	rc = git_reference_name_to_id(&oid, r->repo, name.s);
	buf_free(&name);
	if (rc < 0) {
		buf_printf(err, "branch '%s' is not on %s", branch, r->url);
		return KGIT_E_NOTFOUND;
	}
	git_oid_tostr(hex, KGIT_HEX, &oid);
	return 0;
}

int
kgit_branches(struct kgit_repo *r,
    void (*fn)(void *ctx, const char *branch, const char *hex), void *ctx)
{
	git_reference_iterator *it;
	git_reference *ref;
	char hex[KGIT_HEX];

	if (git_reference_iterator_glob_new(&it, r->repo, TRACKING "*") < 0)
		return -1;
	while (git_reference_next(&ref, it) == 0) {
		const char *name = git_reference_name(ref) + strlen(TRACKING);

		if (git_reference_target(ref) && strcmp(name, "HEAD")) {
			git_oid_tostr(hex, sizeof(hex),
			    git_reference_target(ref));
			fn(ctx, name, hex);
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return 0;
}

int
kgit_pinned_commit(struct kgit_repo *r, const char *commit, char hex[KGIT_HEX],
    struct buf *err)
{
	git_oid oid, *tips = NULL;
	git_object *obj = NULL;
	git_reference_iterator *it;
	git_reference *ref;
	size_t len = strlen(commit), i, n = 0, cap = 0;
	int rc = KGIT_E_NOTFOUND, found = 0;

	buf_reset(err);
	for (i = 0; i < len; i++)
		if (kom_hexval((unsigned char)commit[i]) < 0)
			break;
	if (len < 7 || len > 40 || i < len) {
		buf_printf(err, "commit '%s' must be 7 to 40 hex digits",
		    commit);
		return KGIT_E_NOTFOUND;
	}
	if (git_oid_fromstrn(&oid, commit, len) < 0 ||
	    git_object_lookup_prefix(&obj, r->repo, &oid, len,
	    GIT_OBJECT_COMMIT) < 0) {
		if (git_error_last() &&
		    git_error_last()->klass == GIT_ERROR_ODB &&
		    strstr(git_error_last()->message, "ambiguous"))
			buf_printf(err, "commit '%s' is ambiguous in %s",
			    commit, r->url);
		else
			buf_printf(err, "commit '%s' is not on %s", commit,
			    r->url);
		return KGIT_E_NOTFOUND;
	}
	git_oid_cpy(&oid, git_object_id(obj));
	git_object_free(obj);
	/* present is not enough: a branch of the remote must contain it */
	if (git_reference_iterator_glob_new(&it, r->repo, TRACKING "*") == 0) {
		while (git_reference_next(&ref, it) == 0) {
			const git_oid *t = git_reference_target(ref);

			if (t) {
				KOM_GROW(tips, n + 1, cap);
				git_oid_cpy(&tips[n++], t);
				if (git_oid_equal(t, &oid))
					found = 1;
			}
			git_reference_free(ref);
		}
		git_reference_iterator_free(it);
	}
	if (!found && n)
		found = git_graph_reachable_from_any(r->repo, &oid, tips, n)
		    == 1;
	free(tips);
	if (found) {
		git_oid_tostr(hex, KGIT_HEX, &oid);
		rc = 0;
	} else
		buf_printf(err, "commit '%s' is not on any branch of %s",
		    commit, r->url);
	return rc;
}

static int
lookup_commit(struct kgit_repo *r, const char *hex, git_commit **c,
    struct buf *err)
{
	git_oid oid;

	if (git_oid_fromstr(&oid, hex) < 0 ||
	    git_commit_lookup(c, r->repo, &oid) < 0) {
		buf_printf(err, "commit '%s' is not in the cache of %s", hex,
		    r->url);
		return KGIT_E_NOTFOUND;
	}
	return 0;
}

int
kgit_checkout(struct kgit_repo *r, const char *hex, char **dir,
    struct buf *err)
{
	git_checkout_options co;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct stat st;
	char *final, *tmp;
	int rc = KGIT_E_OTHER, fd;

	buf_reset(err);
	*dir = NULL;
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	final = xasprintf("%s/%s", r->dir, hex);
	if (stat(final, &st) == 0) {
		*dir = final;
		return 0;
	}
	if ((rc = lookup_commit(r, hex, &c, err)) < 0) {
		free(final);
		return rc;
	}
	rc = KGIT_E_OTHER;
	tmp = xasprintf("%s/.tmp-%s", r->dir, hex);
	rm_rf(tmp);
	co.checkout_strategy = GIT_CHECKOUT_FORCE |
	    GIT_CHECKOUT_DONT_UPDATE_INDEX;
	co.target_directory = tmp;
	co.disable_filters = 1;
	if (git_commit_tree(&tree, c) < 0 ||
	    git_checkout_tree(r->repo, (git_object *)tree, &co) < 0)
		git_msg(err, "checkout", NULL);
	else if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		buf_printf(err, "%s: %s", tmp, strerror(errno));
	else if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    syncfs(fd) < 0 || close(fd) < 0)
		buf_printf(err, "%s: %s", tmp, strerror(errno));
	else if (rename(tmp, final) < 0 || file_fsync_dir(r->dir) < 0)
		buf_printf(err, "%s: %s", final, strerror(errno));
	else
		rc = 0;
	git_tree_free(tree);
	git_commit_free(c);
	if (rc < 0) {
		rm_rf(tmp);
		free(final);
	} else
		*dir = final;
	free(tmp);
	return rc;
}

int
kgit_read_file(struct kgit_repo *r, const char *hex, const char *path,
    struct buf *out, struct buf *err)
{
	git_commit *c = NULL;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_blob *blob = NULL;
	int rc;

	buf_reset(err);
	if ((rc = lookup_commit(r, hex, &c, err)) < 0)
		return rc;
	rc = KGIT_E_NOTFOUND;
	if (git_commit_tree(&tree, c) < 0 ||
	    git_tree_entry_bypath(&te, tree, path) < 0 ||
	    git_tree_entry_type(te) != GIT_OBJECT_BLOB ||
	    git_blob_lookup(&blob, r->repo, git_tree_entry_id(te)) < 0)
		buf_printf(err, "%s: no file '%s' at %.12s", r->url, path, hex);
	else if (git_blob_rawsize(blob) > KGIT_MAX_FILE) {
		buf_printf(err, "%s: '%s' at %.12s is larger than 16 MiB",
		    r->url, path, hex);
		rc = KGIT_E_OTHER;
	} else {
		buf_add(out, git_blob_rawcontent(blob),
		    (size_t)git_blob_rawsize(blob));
		rc = 0;
	}
	git_blob_free(blob);
	git_tree_entry_free(te);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

struct paths {
	char **v;
	size_t n, cap;
};

static void
paths_add(struct paths *p, const char *root, const char *name)
{
	KOM_GROW(p->v, p->n + 1, p->cap);
	p->v[p->n++] = xasprintf("%s%s", root ? root : "", name);
}

static int
walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	if (git_tree_entry_type(e) == GIT_OBJECT_BLOB)
		paths_add(payload, root, git_tree_entry_name(e));
	return 0;
}

static int
delta_cb(const git_diff_delta *d, float progress, void *payload)
{
	(void)progress;
	if (d->old_file.path)
		paths_add(payload, NULL, d->old_file.path);
	if (d->new_file.path && (!d->old_file.path ||
	    strcmp(d->old_file.path, d->new_file.path)))
		paths_add(payload, NULL, d->new_file.path);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
kgit_changed(struct kgit_repo *r, const char *from, const char *to,
    char ***paths_out, size_t *npaths, struct buf *err)
{
	git_commit *cf = NULL, *ct = NULL;
	git_tree *tf = NULL, *tt = NULL;
	git_diff *diff = NULL;
	struct paths p = { NULL, 0, 0 };
	size_t i, j;
	int rc;

	buf_reset(err);
	*paths_out = NULL;
	*npaths = 0;
	if ((rc = lookup_commit(r, to, &ct, err)) < 0 ||
	    (from && (rc = lookup_commit(r, from, &cf, err)) < 0))
		goto out;
	rc = KGIT_E_OTHER;
	if (git_commit_tree(&tt, ct) < 0 ||
	    (cf && git_commit_tree(&tf, cf) < 0)) {
		git_msg(err, "tree", NULL);
		goto out;
	}
	if (!cf) {
		if (git_tree_walk(tt, GIT_TREEWALK_PRE, walk_cb, &p) < 0) {
			git_msg(err, "tree walk", NULL);
			goto out;
		}
	} else if (git_diff_tree_to_tree(&diff, r->repo, tf, tt, NULL) < 0 ||
	    git_diff_foreach(diff, delta_cb, NULL, NULL, NULL, &p) < 0) {
		git_msg(err, "diff", NULL);
		goto out;
	}
	if (p.n)
		qsort(p.v, p.n, sizeof(*p.v), cmp_str);
	for (i = j = 0; i < p.n; i++) {
		if (j && !strcmp(p.v[j - 1], p.v[i]))
			free(p.v[i]);
		else
			p.v[j++] = p.v[i];
	}
	p.n = j;
	*paths_out = p.v;
	*npaths = p.n;
	p.v = NULL;
	rc = 0;
out:
	for (i = 0; p.v && i < p.n; i++)
		free(p.v[i]);
	free(p.v);
	git_diff_free(diff);
	git_tree_free(tf);
	git_tree_free(tt);
	git_commit_free(cf);
	git_commit_free(ct);
	return rc;
}
