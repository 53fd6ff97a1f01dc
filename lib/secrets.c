/*
 * secrets: the one secret lookup; see secrets.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "file.h"
#include "secrets.h"
#include "util.h"
#include "banned.h"

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void
secrets_init(struct secrets *s, const char *configured)
{
	const char *dir = env("KOM_SECRETS_DIR");

	memset(s, 0, sizeof(*s));
	if (!dir)
		dir = configured && *configured ? configured :
		    SECRETS_DEFAULT_DIR;
	if (env("CREDENTIALS_DIRECTORY"))
		s->dirs[s->ndirs++] = xstrdup(env("CREDENTIALS_DIRECTORY"));
	s->dir = s->dirs[s->ndirs++] = xstrdup(dir);
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	for (i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	memset(s, 0, sizeof(*s));
}

static int
file_name_ok(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	    strcmp(name, "..") != 0;
}

int
secrets_read(const struct secrets *s, const char *name, char **value,
    char **where)
{
	struct buf b = BUF_INIT;
	size_t i;

	*value = NULL;
	*where = NULL;
	if (!file_name_ok(name)) {
		errno = ENOENT;
		return -1;
	}
	for (i = 0; i < s->ndirs; i++) {
		char *path = xasprintf("%s/%s", s->dirs[i], name);
		struct stat st;
		int e;

		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (file_read(path, &b, SECRETS_MAX) < 0) {
			e = errno;
			explicit_bzero(b.s, b.len);
			buf_free(&b);
			if (e == ENOENT) {	/* removed meanwhile */
				free(path);
				continue;
			}
			*where = path;
			errno = e;
			return -1;
		}
		*where = path;
		if (b.len && b.s[b.len - 1] == '\n')
			buf_truncate(&b, b.len - 1);
		if (b.len && b.s[b.len - 1] == '\r')
			buf_truncate(&b, b.len - 1);
		*value = buf_release(&b);
		return 0;
	}
	errno = ENOENT;
	return -1;
}

char *
secrets_where(const struct secrets *s)
{
	if (s->ndirs == 2)
		return xasprintf("%s or %s", s->dirs[0], s->dirs[1]);
	return xstrdup(s->dirs[0]);
}

void
secrets_wipe(char *value)
{
	if (value) {
		explicit_bzero(value, strlen(value));
		free(value);
	}
}

int
secrets_record_is_secret(const json_t *rec)
{
	return rec && (json_is_true(json_object_get(rec, "secret")) ||
	    json_is_true(json_object_get(json_object_get(rec, "config"),
	    "is_secret")));
}

/* ---- inline values: the host key, the keyed hash, the seal ---- */

#define NONCE_LEN 12
#define TAG_LEN 16

static int
parse_key(const char *s, size_t len, unsigned char key[SECRETS_KEY_LEN])
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len != 2 * SECRETS_KEY_LEN)
		return -1;
	return kom_unhex(s, key, SECRETS_KEY_LEN);
}

static int
read_key(const char *path, unsigned char key[SECRETS_KEY_LEN])
{
	struct buf b = BUF_INIT;
	int r;

	if (file_read(path, &b, 4096) < 0) {
		buf_free(&b);
		return -1;
	}
	r = parse_key(b.s, b.len, key);
	explicit_bzero(b.s, b.len);
	buf_free(&b);
	if (r < 0)
		errno = EINVAL;
	return r;
}

/* A new key: a temporary file, then link(2), which never replaces a key
 * another program made meanwhile (that one is read instead). */
static int
make_key(const char *statedir, const char *path,
    unsigned char key[SECRETS_KEY_LEN])
{
	unsigned char k[SECRETS_KEY_LEN];
	char hex[2 * SECRETS_KEY_LEN + 2];
	char *tmp;
	int fd, r = -1, e;

	if (file_mkdir_p(statedir, 0755) < 0)
		return -1;
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k))
		return -1;
	kom_hex(k, sizeof(k), hex);
	hex[2 * SECRETS_KEY_LEN] = '\n';
	hex[2 * SECRETS_KEY_LEN + 1] = '\0';
	tmp = xasprintf("%s/.secret.key.XXXXXX", statedir);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0600) == 0 && write(fd, hex, sizeof(hex) - 1) ==
	    (ssize_t)sizeof(hex) - 1 && fsync(fd) == 0) {
		if (close(fd) == 0 && (link(tmp, path) == 0 ||
		    errno == EEXIST))
			r = 0;
	} else
		close(fd);
	e = errno;
	unlink(tmp);
	free(tmp);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(hex, sizeof(hex));
	if (r < 0) {
		errno = e;
		return -1;
	}
	file_fsync_dir(statedir);
	return read_key(path, key);
}

int
secrets_key(const char *statedir, int create,
    unsigned char key[SECRETS_KEY_LEN], char **path)
{
	*path = xasprintf("%s/secret.key", statedir);
	if (read_key(*path, key) == 0)
		return 0;
	if (errno != ENOENT || !create)
		return -1;
	return make_key(statedir, *path, key);
}

/* A key for one use, derived from the host key. */
static void
subkey(const unsigned char key[SECRETS_KEY_LEN], const char *use,
    unsigned char out[32])
{
	unsigned int len = 32;

	if (!HMAC(EVP_sha256(), key, SECRETS_KEY_LEN,
	    (const unsigned char *)use, strlen(use), out, &len) || len != 32)
		kom_die(KOM_EX_SOFTWARE, "HMAC-SHA256 failed");
}

void
secrets_hash(const unsigned char key[SECRETS_KEY_LEN], const char *name,
    const char *value, char out[SECRETS_HASH_HEX])
{
	unsigned char k[32], md[32];
	unsigned int len = 32;
	struct buf b = BUF_INIT;

	subkey(key, "kom secret hash", k);
	/* the name and a NUL first: one value under two names differs */
	buf_adds(&b, name);
	buf_addc(&b, '\0');
	buf_adds(&b, value);
	if (!HMAC(EVP_sha256(), k, sizeof(k), (const unsigned char *)b.s,
	    b.len, md, &len) || len != 32)
		kom_die(KOM_EX_SOFTWARE, "HMAC-SHA256 failed");
	explicit_bzero(b.s, b.len);
	buf_free(&b);
	explicit_bzero(k, sizeof(k));
	kom_hex(md, sizeof(md), out);
}

/* AES-256-GCM of in (len bytes) into out; 0 or -1 (decrypt: not
 * authentic).  tag is written (encrypt) or checked (decrypt). */
static int
gcm(int enc, const unsigned char k[32], const unsigned char *nonce,
    const char *aad, const unsigned char *in, size_t len,
    unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok;

	if (!ctx || len > INT32_MAX)
		kom_die(KOM_EX_SOFTWARE, "AES-256-GCM unavailable");
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN,
	    NULL) == 1 &&
	    EVP_CipherInit_ex(ctx, NULL, NULL, k, nonce, enc) == 1 &&
	    EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
		    tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
		    tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok && enc)
		kom_die(KOM_EX_SOFTWARE, "AES-256-GCM failed");
	return ok ? 0 : -1;
}

char *
secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const char *name,
    const char *value)
{
	size_t len = strlen(value), n = st_add(st_add(NONCE_LEN, len),
	    TAG_LEN);
	unsigned char k[32], *raw = xmalloc(n);
	char *hex = xmalloc(st_add(st_mul(n, 2), 1));

	if (getrandom(raw, NONCE_LEN, 0) != NONCE_LEN)
		kom_die(KOM_EX_SOFTWARE, "getrandom failed");
	subkey(key, "kom secret seal", k);
	gcm(1, k, raw, name, (const unsigned char *)value, len,
	    raw + NONCE_LEN, raw + NONCE_LEN + len);
	explicit_bzero(k, sizeof(k));
	kom_hex(raw, n, hex);
	free(raw);
	return hex;
}

char *
secrets_unseal(const unsigned char key[SECRETS_KEY_LEN], const char *name,
    const char *sealed)
{
	size_t hl = strlen(sealed), n, len;
	unsigned char k[32], *raw;
	char *out;

	if (hl % 2 || hl / 2 < NONCE_LEN + TAG_LEN)
		return NULL;
	n = hl / 2;
	raw = xmalloc(n);
	if (kom_unhex(sealed, raw, n) < 0) {
		free(raw);
		return NULL;
	}
	len = n - NONCE_LEN - TAG_LEN;
	out = xmalloc(st_add(len, 1));
	subkey(key, "kom secret seal", k);
	if (gcm(0, k, raw, name, raw + NONCE_LEN, len, (unsigned char *)out,
	    raw + NONCE_LEN + len) < 0 || memchr(out, '\0', len)) {
		explicit_bzero(out, len);
		free(out);
		out = NULL;
	} else
		out[len] = '\0';
	explicit_bzero(k, sizeof(k));
	free(raw);
	return out;
}
