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
 * but cannot be read; then *where is the path (fresh string) for the
 * message, else *where is NULL.  Nothing is printed.
 */
int secrets_read(const struct secrets *s, const char *name, char **value,
    char **where);

/* The directories searched, for messages: "A" or "A or B", fresh. */
char *secrets_where(const struct secrets *s);

/* Overwrite and free a secret string (NULL is fine). */
void secrets_wipe(char *value);

#endif
