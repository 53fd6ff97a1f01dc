/*
 * secrets: the one secret lookup; see secrets.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
		free(path);
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
