/*
 * release: numbered release records in STATE/releases (release.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "file.h"
#include "release.h"
#include "state.h"
#include "util.h"
#include "banned.h"

/* STATE/releases/<type> and the file in it, or -1 (EINVAL) on a bad
 * type or name. */
static int
release_paths(const char *statedir, const char *type, const char *name,
    char **dir, char **path)
{
	char *enc;
	const char *p;

	for (p = type; *p; p++)
		if ((*p < 'a' || *p > 'z') && *p != '_')
			break;
	if (!*type || *p || !*name) {
		errno = EINVAL;
		return -1;
	}
	enc = state_name_encode(name);
	*dir = xasprintf("%s/releases/%s", statedir, type);
	*path = xasprintf("%s/%s.jsonl", *dir, enc);
	free(enc);
	return 0;
}

/* The releases, and whether the file ends in a torn line (*torn). */
static int
load(const char *statedir, const char *type, const char *name, json_t **out,
    int *torn)
{
	struct buf b = BUF_INIT;
	char *dir, *path, *line, *nl;
	json_t *arr, *rec;
	long n = 0;

	*out = NULL;
	if (release_paths(statedir, type, name, &dir, &path) < 0) {
		kom_warn("bad release name '%s' of type '%s'", name, type);
		return -1;
	}
	arr = json_array();
	if (file_read(path, &b, RELEASE_MAX_FILE) < 0 && errno != ENOENT) {
		kom_warne("%s", path);
		json_decref(arr);
		free(dir);
		free(path);
		buf_free(&b);
		return -1;
	}
	*torn = b.len && b.s[b.len - 1] != '\n';
	for (line = b.s; line && (nl = memchr(line, '\n',
	    b.len - (size_t)(line - b.s))); line = nl + 1) {
		*nl = '\0';
		rec = json_loads(line, 0, NULL);
		if (json_is_object(rec)) {
			/* The file's order is the numbering: a record's own
			 * number is kept only when it agrees. */
			json_object_set_new(rec, "release", json_integer(++n));
			json_array_append_new(arr, rec);
		} else {
			json_decref(rec);
		}
	}
	*out = arr;
	free(dir);
	free(path);
	buf_free(&b);
	return 0;
}

int
release_load(const char *statedir, const char *type, const char *name,
    json_t **out)
{
	int torn;

	return load(statedir, type, name, out, &torn);
}

long
release_append(const char *statedir, const char *type, const char *name,
    json_t *rec)
{
	json_t *arr;
	char *dir, *path, *text;
	long n;
	int rc, torn;

	if (load(statedir, type, name, &arr, &torn) < 0)
		return -1;
	n = (long)json_array_size(arr) + 1;
	json_decref(arr);
	json_object_set_new(rec, "release", json_integer(n));
	if (!(text = json_dumps(rec, JSON_COMPACT))) {
		kom_warn("release of %s '%s' not recorded: not JSON", type,
		    name);
		return -1;
	}
	release_paths(statedir, type, name, &dir, &path);
	{
		/* After a torn line, a newline ends it first: the new
		 * record must not be glued to it. */
		struct buf line = BUF_INIT;

		if (torn)
			buf_addc(&line, '\n');
		buf_adds(&line, text);
		buf_addc(&line, '\n');
		rc = file_mkdir_p(dir, 0755) < 0 ||
		    file_append_sync(path, line.s, line.len, 0600) < 0 ? -1 : 0;
		buf_free(&line);
	}
	if (rc < 0)
		kom_warne("%s", path);
	free(text);
	free(dir);
	free(path);
	return rc < 0 ? -1 : n;
}
