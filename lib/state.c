/*
 * state: the state directory (see state.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static int
valid_type(const char *type)
{
	const char *p;

	if (!type || !*type)
		return 0;
	for (p = type; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && *p != '_')
			return 0;
	return 1;
}

char *
state_name_encode(const char *name)
{
	struct buf b = BUF_INIT;
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		if (*p == '%' || *p == '/' || *p < 0x20 || *p == 0x7f ||
		    (p == (const unsigned char *)name && *p == '.'))
			buf_printf(&b, "%%%02X", *p);
		else
			buf_addc(&b, *p);
	}
	return buf_release(&b);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
state_name_decode(const char *enc)
{
	struct buf b = BUF_INIT;
	const char *p;
	int hi, lo;

	for (p = enc; *p; p++) {
		if (*p == '%' && (hi = hexval(p[1])) >= 0 &&
		    (lo = hexval(p[2])) >= 0 && (hi || lo)) {
			buf_addc(&b, hi * 16 + lo);
			p += 2;
		} else
			buf_addc(&b, *p);
	}
	return buf_release(&b);
}

char *
state_path(const char *statedir, const char *type, const char *name)
{
	char *enc, *path;

	if (!valid_type(type) || !name || !*name) {
		errno = EINVAL;
		return NULL;
	}
	enc = state_name_encode(name);
	path = xasprintf("%s/resources/%s/%s.json", statedir, type, enc);
	free(enc);
	return path;
}

/*
 * Parse the object in path, reading through b (reused between files);
 * NULL with errno ENOENT (silent) or a message.
 */
static json_t *
load_file_buf(const char *path, struct buf *b)
{
	json_error_t jerr;
	json_t *rec;

	buf_reset(b);
	if (file_read(path, b, STATE_MAX_FILE) < 0) {
		int e = errno;

		if (e != ENOENT)
			kom_warn("%s: %s", path, e == EFBIG ?
			    "larger than the state file limit" : strerror(e));
		errno = e;
		return NULL;
	}
	rec = json_loadb(b->s, b->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rec) {
		kom_warn("%s:%d:%d: %s", path, jerr.line, jerr.column,
		    jerr.text);
		errno = EINVAL;
		return NULL;
	}
	if (!json_is_object(rec)) {
		kom_warn("%s: not a json object", path);
		json_decref(rec);
		errno = EINVAL;
		return NULL;
	}
	return rec;
}

static json_t *
load_file(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *rec = load_file_buf(path, &b);
	int e = errno;

	buf_free(&b);
	errno = e;
	return rec;
}

json_t *
state_load(const char *statedir, const char *type, const char *name)
{
	char *path = state_path(statedir, type, name);
	json_t *rec;
	int e;

	if (!path) {
		kom_warn("%s: invalid resource type or name '%s/%s'", statedir,
		    type ? type : "", name ? name : "");
		errno = EINVAL;
		return NULL;
	}
	rec = load_file(path);
	e = errno;
	free(path);
	errno = e;
	return rec;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entry names of dir (not "." or ".."); *n set.  NULL+ENOENT ok. */
static char **
list_dir(const char *dir, size_t *n)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;

	*n = 0;
	if (!(d = opendir(dir)))
		return NULL;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		KOM_GROW(v, *n + 1, cap);
		v[(*n)++] = xstrdup(de->d_name);
		errno = 0;
	}
	if (errno) {
		int e = errno;
		size_t i;

		closedir(d);
		for (i = 0; i < *n; i++)
			free(v[i]);
		free(v);
		*n = 0;
		errno = e;
		return NULL;
	}
	closedir(d);
	if (!v)
		v = xmalloc(sizeof(*v));
	qsort(v, *n, sizeof(*v), cmpstr);
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && !strcmp(s + ls - lx, suffix);
}

static int
load_type(const char *tdir, json_t *byname)
{
	char **files, *path, *enc, *name;
	size_t n, i;
	json_t *rec, *jn;
	struct buf b = BUF_INIT;

	if (!(files = list_dir(tdir, &n))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		kom_warne("%s", tdir);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!ends_with(files[i], ".json") || files[i][0] == '.')
			continue;
		path = xasprintf("%s/%s", tdir, files[i]);
		rec = load_file_buf(path, &b);
		if (!rec) {
			if (errno != ENOENT) {
				free(path);
				free_list(files, n);
				buf_free(&b);
				return -1;
			}
			free(path);	/* removed while we read: gone */
			continue;
		}
		free(path);
		jn = json_object_get(rec, "name");
		if (json_is_string(jn) && *json_string_value(jn))
			name = xstrdup(json_string_value(jn));
		else {
			enc = xstrndup(files[i], strlen(files[i]) - 5);
			name = state_name_decode(enc);
			free(enc);
		}
		json_object_set_new(byname, name, rec);
		free(name);
	}
	free_list(files, n);
	buf_free(&b);
	return 0;
}

int
state_load_all(const char *statedir, json_t **out)
{
	char *rdir, *tdir, **types;
	size_t n, i;
	json_t *all, *byname;

	*out = NULL;
	rdir = xasprintf("%s/resources", statedir);
	if (!(types = list_dir(rdir, &n))) {
		if (errno == ENOENT) {
			free(rdir);
			*out = json_object();
			return 0;
		}
		kom_warne("%s", rdir);
		free(rdir);
		return -1;
	}
	all = json_object();
	for (i = 0; i < n; i++) {
		if (!valid_type(types[i]))
			continue;
		tdir = xasprintf("%s/%s", rdir, types[i]);
		byname = json_object();
		if (load_type(tdir, byname) < 0) {
			free(tdir);
			json_decref(byname);
			json_decref(all);
			free_list(types, n);
			free(rdir);
			return -1;
		}
		free(tdir);
		if (json_object_size(byname))
			json_object_set_new(all, types[i], byname);
		else
			json_decref(byname);
	}
	free_list(types, n);
	free(rdir);
	*out = all;
	return 0;
}

int
state_save(const char *statedir, const json_t *record)
{
	const char *type, *name;
	char *path, *dir, *text;
	struct buf b = BUF_INIT;
	int rc = -1;

	type = json_string_value(json_object_get(record, "type"));
	name = json_string_value(json_object_get(record, "name"));
	if (!(path = state_path(statedir, type, name))) {
		kom_warn("%s: invalid resource type or name '%s/%s'", statedir,
		    type ? type : "", name ? name : "");
		return -1;
	}
	dir = file_dirname(path);
	if (file_mkdir_p(dir, 0755) < 0) {
		kom_warne("%s", dir);
		goto out;
	}
	if (!(text = json_dumps(record, JSON_COMPACT))) {
		kom_warn("%s: cannot encode the record", path);
		goto out;
	}
	buf_adds(&b, text);
	buf_addc(&b, '\n');
	free(text);
	if (file_write_atomic(path, b.s, b.len, 0644) < 0)
		kom_warne("%s", path);
	else
		rc = 0;
out:
	buf_free(&b);
	free(dir);
	free(path);
	return rc;
}

int
state_remove(const char *statedir, const char *type, const char *name)
{
	char *path = state_path(statedir, type, name), *dir;
	int rc = 0;

	if (!path) {
		kom_warn("%s: invalid resource type or name '%s/%s'", statedir,
		    type ? type : "", name ? name : "");
		return -1;
	}
	if (unlink(path) < 0) {
		if (errno != ENOENT) {
			kom_warne("%s", path);
			rc = -1;
		}
		free(path);
		return rc;
	}
	dir = file_dirname(path);
	if (file_fsync_dir(dir) < 0) {
		kom_warne("%s", dir);
		rc = -1;
	}
	free(dir);
	free(path);
	return rc;
}

int
state_history_append(const char *statedir, const json_t *entry)
{
	json_t *ts = json_object_get(entry, "ts");
	time_t t;
	struct tm tm;
	char *dir, *path, *text;
	struct buf b = BUF_INIT;
	int rc = -1;

	if (json_is_integer(ts) && json_integer_value(ts) >= 0)
		t = (time_t)(json_integer_value(ts) / 1000);
	else
		t = time(NULL);
	if (!gmtime_r(&t, &tm)) {
		kom_warn("%s: history entry time out of range", statedir);
		return -1;
	}
	dir = xasprintf("%s/history", statedir);
	path = xasprintf("%s/%04d-%02d.jsonl", dir, tm.tm_year + 1900,
	    tm.tm_mon + 1);
	if (file_mkdir_p(dir, 0755) < 0) {
		kom_warne("%s", dir);
		goto out;
	}
	if (!(text = json_dumps(entry, JSON_COMPACT))) {
		kom_warn("%s: cannot encode the history entry", path);
		goto out;
	}
	buf_adds(&b, text);
	buf_addc(&b, '\n');
	free(text);
	if (file_append_sync(path, b.s, b.len, 0644) < 0)
		kom_warne("%s", path);
	else
		rc = 0;
out:
	buf_free(&b);
	free(path);
	free(dir);
	return rc;
}

int
state_lock(const char *statedir, int wait)
{
	char *path;
	int fd, e;

	if (file_mkdir_p(statedir, 0755) < 0) {
		kom_warne("%s", statedir);
		return -1;
	}
	path = xasprintf("%s/lock", statedir);
	fd = file_lock(path, wait);
	e = errno;
	if (fd < 0 && e != EWOULDBLOCK)
		kom_warne("%s", path);
	free(path);
	errno = e;
	return fd;
}
