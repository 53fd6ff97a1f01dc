/* lib/secrets: the lookup order, values, the host key, hash and seal. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "secrets.h"
#include "util.h"
#include "tap.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);

	file_mkdir_p(dir, 0755);
	if (file_write_atomic(p, text, strlen(text), 0600) < 0)
		diag("cannot write %s", p);
	free(p);
}

/* The value of name through a fresh struct secrets, or NULL. */
static char *
lookup(const char *configured, const char *name, int *err)
{
	struct secrets s;
	char *val, *where;

	secrets_init(&s, configured);
	*err = secrets_read(&s, name, &val, &where) == 0 ? 0 : errno;
	free(where);
	secrets_free(&s);
	return val;
}

int
main(void)
{
	char tmpl[] = "/tmp/kom-secrets-test.XXXXXX";
	char *dir, *cred, *conf, *envd, *v, *w, *sd, *path, *sealed, *other;
	unsigned char key[SECRETS_KEY_LEN], key2[SECRETS_KEY_LEN];
	char h1[SECRETS_HASH_HEX], h2[SECRETS_HASH_HEX];
	struct secrets s;
	struct stat st;
	int err;

	if (!(dir = mkdtemp(tmpl)))
		return 1;
	cred = xasprintf("%s/cred", dir);
	conf = xasprintf("%s/conf", dir);
	envd = xasprintf("%s/env", dir);
	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("KOM_SECRETS_DIR");

	/* the search path */
	secrets_init(&s, NULL);
	ok(s.ndirs == 1 && !strcmp(s.dir, SECRETS_DEFAULT_DIR),
	    "nothing set: /etc/kom/secrets alone");
	secrets_free(&s);
	secrets_init(&s, conf);
	ok(s.ndirs == 1 && !strcmp(s.dir, conf), "secrets_dir replaces it");
	secrets_free(&s);
	setenv("KOM_SECRETS_DIR", envd, 1);
	setenv("CREDENTIALS_DIRECTORY", cred, 1);
	secrets_init(&s, conf);
	ok(s.ndirs == 2 && !strcmp(s.dirs[0], cred) && !strcmp(s.dir, envd),
	    "CREDENTIALS_DIRECTORY first, KOM_SECRETS_DIR over secrets_dir");
	w = secrets_where(&s);
	v = xasprintf("%s or %s", cred, envd);
	is_str(w, v, "secrets_where names both");
	free(w);
	free(v);
	secrets_free(&s);

	/* values */
	put(envd, "A", "env-a\n");
	put(cred, "A", "cred-a\r\n");
	put(envd, "B", "two\nlines\n\n");
	put(conf, "C", "conf-c");
	v = lookup(conf, "A", &err);
	is_str(v, "cred-a", "the credential wins, CRLF dropped");
	secrets_wipe(v);
	v = lookup(conf, "B", &err);
	is_str(v, "two\nlines\n", "one trailing newline dropped");
	secrets_wipe(v);
	v = lookup(conf, "C", &err);
	ok(!v && err == ENOENT, "secrets_dir is not read under KOM_SECRETS_DIR");
	v = lookup(conf, "../env/A", &err);
	ok(!v && err == ENOENT, "a name with a slash is never looked up");
	v = lookup(conf, "..", &err);
	ok(!v && err == ENOENT, "nor '..'");
	unsetenv("KOM_SECRETS_DIR");
	unsetenv("CREDENTIALS_DIRECTORY");
	v = lookup(conf, "C", &err);
	is_str(v, "conf-c", "secrets_dir when KOM_SECRETS_DIR is unset");
	secrets_wipe(v);
	path = xasprintf("%s/D", conf);
	mkdir(path, 0700);
	free(path);
	v = lookup(conf, "D", &err);
	ok(!v && err == ENOENT, "a directory is not a secret file");

	/* the host key */
	sd = xasprintf("%s/state", dir);
	ok(secrets_key(sd, 0, key, &path) < 0 && errno == ENOENT,
	    "no key, no create: ENOENT");
	free(path);
	is_int(secrets_key(sd, 1, key, &path), 0, "a key is made");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	free(path);
	is_int(secrets_key(sd, 1, key2, &path), 0, "and read again");
	ok(!memcmp(key, key2, sizeof(key)), "the same key");
	file_write_atomic(path, "short\n", 6, 0600);
	free(path);
	ok(secrets_key(sd, 1, key2, &path) < 0 && errno == EINVAL,
	    "a file that is not a key is an error, not replaced");
	free(path);

	/* hash and seal */
	memset(key2, 7, sizeof(key2));
	secrets_hash(key, "X", "pw", h1);
	secrets_hash(key, "X", "pw", h2);
	is_str(h1, h2, "the hash is stable");
	is_int(strlen(h1), 64, "64 hex digits");
	secrets_hash(key2, "X", "pw", h2);
	ok(strcmp(h1, h2) != 0, "another key, another hash");
	secrets_hash(key, "Y", "pw", h2);
	ok(strcmp(h1, h2) != 0, "another name, another hash");
	secrets_hash(key, "X", "pX", h2);
	ok(strcmp(h1, h2) != 0, "another value, another hash");

	sealed = secrets_seal(key, "X", "s3cr3t");
	ok(!strstr(sealed, "s3cr3t"), "the sealed form is not the value");
	other = secrets_seal(key, "X", "s3cr3t");
	ok(strcmp(sealed, other) != 0, "a fresh nonce every time");
	free(other);
	v = secrets_unseal(key, "X", sealed);
	is_str(v, "s3cr3t", "unsealed");
	secrets_wipe(v);
	ok(!secrets_unseal(key, "Y", sealed), "not under another name");
	ok(!secrets_unseal(key2, "X", sealed), "not under another key");
	sealed[30] = sealed[30] == '0' ? '1' : '0';
	ok(!secrets_unseal(key, "X", sealed), "not when altered");
	ok(!secrets_unseal(key, "X", "zz"), "not from garbage");
	free(sealed);
	sealed = secrets_seal(key, "E", "");
	v = secrets_unseal(key, "E", sealed);
	is_str(v, "", "an empty value seals too");
	secrets_wipe(v);
	free(sealed);

	free(sd);
	free(cred);
	free(conf);
	free(envd);
	tap_rm_rf(dir);
	return done_testing();
}
