/*
 * secrets: where secret values come from (kom(7), kom.toml(5)).
 *
 * One lookup for every program.  A secret NAME is the first regular file
 * NAME found in
 *
 *	$CREDENTIALS_DIRECTORY		systemd credentials, when set
 *	the secrets directory		$KOM_SECRETS_DIR when set, else
 *					kom.toml's secrets_dir when set,
 *					else /etc/kom/secrets
 *
 * The environment beats kom.toml, as KOM_STATE_DIR beats the defaults:
 * a test or a one-off run can point elsewhere without editing the file.
 * /etc/kom/secrets is the default of the secrets directory, not a third
 * place: with secrets_dir set, a stale file there is never read.
 *
 * A value is the file's bytes with one trailing "\n" (or "\r\n") dropped,
 * at most SECRETS_MAX bytes.  A name that could leave the directory
 * (empty, ".", "..", a '/') is never looked up.
 *
 * struct secrets borrows nothing: secrets_init() copies what it keeps.
 */
#ifndef KOM_SECRETS_H
#define KOM_SECRETS_H

#include <stddef.h>

#define SECRETS_MAX (1u << 20)	/* one secret file: 1 MiB */
#define SECRETS_DEFAULT_DIR "/etc/kom/secrets"

struct secrets {
	char *dirs[2];		/* searched in this order */
	size_t ndirs;
	char *dir;		/* the secrets directory (== a dirs entry) */
};

/*
 * The search path for this process: configured is kom.toml's secrets_dir
 * (NULL or "" when not set).  Release with secrets_free().
 */
void secrets_init(struct secrets *s, const char *configured);
void secrets_free(struct secrets *s);

/*
 * The value of NAME in a fresh string (*value, NUL-terminated; secret:
 * the caller wipes it, see secrets_wipe).  Returns 0 when found, -1 with
 * errno ENOENT when no directory holds it (or the name is not a file
 * name), -1 with another errno (EACCES, EFBIG, ...) when a file exists
 * but cannot be read.  *where is the path of the file found or failing
 * (a fresh string), NULL when none.  Nothing is printed.
 */
int secrets_read(const struct secrets *s, const char *name, char **value,
    char **where);

/* The directories searched, for messages: "A" or "A or B", fresh. */
char *secrets_where(const struct secrets *s);

/* Overwrite and free a secret string (NULL is fine). */
void secrets_wipe(char *value);

/*
 * Inline secret values: Komodo lets a sync file hold a secret variable's
 * value ([[variable]] is_secret = true, value = "...").  kom uses it (a
 * secret file of the same name still wins) without ever writing it out:
 * the records carry two members instead of the value,
 *
 *	"secret_hash":   "<64 hex>"	HMAC-SHA256 of the name and the value
 *	"secret_sealed": "<hex>"	AES-256-GCM of the value, the name as
 *					associated data, a random nonce
 *
 * both under keys derived from one host key, STATE/secret.key (32 random
 * bytes as 64 hex digits, mode 0600, made by the first program that needs
 * it).  The hash lets kom-sync diff see that a value changed without
 * showing it; a keyed hash, not a plain or salted one, because a short
 * secret could be found from a plain hash by trying every value, and a
 * salt kept next to the hash stops only precomputed tables.  Without the
 * key, neither member says anything about the value; with it (root, or
 * whoever can read the state dir) the value can be recovered, as it can
 * from the git checkout the value came from.
 */
#define SECRETS_KEY_LEN 32

/* Whether a variable record is secret: "secret" true, or its config's
 * is_secret (records of every kom version).  rec may be NULL. */
struct json_t;
int secrets_record_is_secret(const struct json_t *rec);
#define SECRETS_HASH_HEX 65	/* 64 hex digits and the NUL */

/*
 * The host key of statedir into key.  With create, a missing key (and a
 * missing state dir) is made first; two programs racing get the same key.
 * Returns 0, or -1 with errno set (ENOENT without create; EINVAL for a
 * file that is not a key) and *path the file's name (fresh) for the
 * message.  Nothing is printed.
 */
int secrets_key(const char *statedir, int create,
    unsigned char key[SECRETS_KEY_LEN], char **path);

/* The keyed hash of NAME's value, as 64 hex digits and a NUL. */
void secrets_hash(const unsigned char key[SECRETS_KEY_LEN], const char *name,
    const char *value, char out[SECRETS_HASH_HEX]);

/* The sealed form of NAME's value, a fresh hex string. */
char *secrets_seal(const unsigned char key[SECRETS_KEY_LEN], const char *name,
    const char *value);

/*
 * The value sealed for NAME, a fresh string (wipe it), or NULL when sealed
 * is not a sealed value of NAME under this key (altered, another host's,
 * another name's).
 */
char *secrets_unseal(const unsigned char key[SECRETS_KEY_LEN],
    const char *name, const char *sealed);

#endif
