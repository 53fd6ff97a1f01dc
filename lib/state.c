/*
 * state: the state directory (see state.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/*
 * SHA-256 through OpenSSL's own functions for it, not EVP: the first
 * EVP_MD_fetch() loads the default provider, which costs kom-sync diff
 * 2 MB of its memory, a fifth at 1,000 resources (bench/RESULTS.md).
 * OpenSSL 3 still has them, deprecated: the API level says so.
 */
#define OPENSSL_API_COMPAT 0x10100000L
#include <openssl/sha.h>

#include "buf.h"
#include "file.h"
#include "jsonl.h"
#include "jsonskim.h"
#include "state.h"
#include "util.h"
#include "banned.h"

#define HASH_KEY "kom_hash"
#define SUM_KEY "kom_sum"
/* {"kom_hash":"<64 hex>","kom_sum":"<64 hex>", */
#define HDR_HASH 13
#define HDR_SUM (HDR_HASH + 64 + 13)
#define HDR_LEN (HDR_SUM + 64 + 2)

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

char *
state_name_decode(const char *enc)
{
	struct buf b = BUF_INIT;
	const char *p;
	int hi, lo;

	for (p = enc; *p; p++) {
		if (*p == '%' && (hi = kom_hexval(p[1])) >= 0 &&
		    (lo = kom_hexval(p[2])) >= 0 && (hi || lo)) {
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
static json_t *parse_record(const char *, const char *, size_t);

static json_t *
load_file_buf(const char *path, struct buf *b)
{
	buf_reset(b);
	if (file_read(path, b, STATE_MAX_FILE) < 0) {
		int e = errno;

		if (e != ENOENT)
			kom_warn("%s: %s", path, e == EFBIG ?
			    "larger than the state file limit" : strerror(e));
		errno = e;
		return NULL;
	}
	return parse_record(path, b->s, b->len);
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

/* Sorted entry names of dir (not "." or ".."); *n set.  NULL+errno. */
static char **
list_dir(const char *dir, size_t *n)
{
	char **v;

	return file_list_dir(dir, &v, n) < 0 ? NULL : v;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && !strcmp(s + ls - lx, suffix);
}

/* One applied resource of a state_set. */
struct state_ent {
	char *type;
	char *name;
	char *path;		/* for messages */
	char *text;		/* a file without a trusted hash, checked */
	size_t len;
	unsigned char hash[32];
	int has_hash;
	json_t *rec;		/* the record, once parsed */
};

struct state_set {
	struct state_ent *v;
	size_t n, cap;
	json_t *index;		/* type -> name -> position in v */
	struct jsonskim skim;
};

static int trusted_hash(const char *type, const char *name,
    const char *text, size_t len, unsigned char hash[32]);
static void record_hash(const json_t *record, unsigned char out[32]);

static struct state_set *
set_new(void)
{
	struct state_set *set = xcalloc(1, sizeof(*set));

	set->index = json_object();
	jsonskim_init(&set->skim);
	return set;
}

static void
ent_clear(struct state_ent *e)
{
	free(e->type);
	free(e->name);
	free(e->path);
	free(e->text);
	json_decref(e->rec);
	memset(e, 0, sizeof(*e));
}

/* Add e (moved in); a later file of the same name replaces the earlier,
 * in its place, as json_object_set_new() did. */
static void
set_add(struct state_set *set, struct state_ent *e)
{
	json_t *byname = json_object_get(set->index, e->type), *at;

	if (!byname) {
		byname = json_object();
		json_object_set_new(set->index, e->type, byname);
	}
	if ((at = json_object_get(byname, e->name))) {
		struct state_ent *old = &set->v[json_integer_value(at)];

		ent_clear(old);
		*old = *e;
		return;
	}
	KOM_GROW(set->v, set->n + 1, set->cap);
	json_object_set_new(byname, e->name, json_integer((json_int_t)set->n));
	set->v[set->n++] = *e;
}

static struct state_ent *
set_find(const struct state_set *set, const char *type, const char *name)
{
	json_t *at;

	if (!type || !name)
		return NULL;
	at = json_object_get(json_object_get(set->index, type), name);
	return at ? &set->v[json_integer_value(at)] : NULL;
}

/*
 * The whole of fname in dirfd into *text (malloc'd, NUL-terminated),
 * with one read for a file that does not grow.  -1 with errno (EFBIG
 * over the cap).
 */
static int
read_at(int dirfd, const char *fname, char **text, size_t *len)
{
	struct stat st;
	size_t cap, n = 0;
	ssize_t r;
	char *p;
	int fd, e;

	if ((fd = openat(dirfd, fname, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	cap = st.st_size > 0 && (uintmax_t)st.st_size <= STATE_MAX_FILE ?
	    (size_t)st.st_size + 1 : 4096;
	p = xmalloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap > STATE_MAX_FILE) {
				free(p);
				errno = EFBIG;
				goto fail;
			}
			cap = st_mul(cap, 2);
			p = xrealloc(p, cap + 1);
		}
		r = read(fd, p + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(p);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/* all fstat() saw, and the room left is not filled: the
		 * file was not growing (state files are replaced whole,
		 * never appended to), so no read for the end of file */
		if ((off_t)n == st.st_size && n < cap)
			break;
	}
	close(fd);
	if (n > STATE_MAX_FILE) {
		free(p);
		errno = EFBIG;
		return -1;
	}
	p[n] = '\0';
	*text = p;
	*len = n;
	return 0;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Parse a file's text as a record, as load_file_buf() does. */
static json_t *
parse_record(const char *path, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *rec;

	rec = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
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
	json_object_del(rec, HASH_KEY);
	json_object_del(rec, SUM_KEY);
	return rec;
}

/*
 * Whether text is a JSON object as parse_record() accepts one (jsonskim
 * says exactly that), and then its "name" into *name when that is a
 * non-empty string.  0: let jansson say what is wrong, or accept what
 * jsonskim is stricter about.
 */
static int
skim_name(struct jsonskim *sk, const char *text, size_t len, char **name)
{
	const struct jsonskim_member *m;
	struct buf b = BUF_INIT;

	if (jsonskim_object(sk, text, len) < 0)
		return 0;
	if ((m = jsonskim_get(sk, text, "name")) &&
	    jsonskim_string(text + m->voff, m->vlen, &b) == 0 && b.len) {
		free(*name);
		*name = buf_release(&b);
	}
	buf_free(&b);
	return 1;
}

/*
 * A type dir's files are read ahead on a few threads: a state dir that
 * is not in the page cache (kom runs now and then) is thousands of small
 * reads, each a wait for the disk, and the waits overlap; a file with a
 * trusted hash is checked there too.  What each read gave is then taken
 * in the order of the names, on one thread, as a single reader would.
 */
#define AHEAD_THREADS	8
#define AHEAD_MIN_FILES	64	/* fewer: read on this thread */

struct ahead {
	char *text;		/* NULL: err, or a trusted hash (freed) */
	size_t len;
	int err;
	int trusted;
	unsigned char hash[32];
	char *name;		/* decoded from the file name */
};

struct ahead_job {
	const char *type;
	int dfd;
	char **files;
	struct ahead *a;
	size_t n, next;
	pthread_mutex_t mu;
};

static void
ahead_one(const struct ahead_job *j, size_t i)
{
	struct ahead *a = &j->a[i];
	char *enc;

	if (!ends_with(j->files[i], ".json") || j->files[i][0] == '.')
		return;
	if (read_at(j->dfd, j->files[i], &a->text, &a->len) < 0) {
		a->err = errno;
		a->text = NULL;
		return;
	}
	enc = xstrndup(j->files[i], strlen(j->files[i]) - 5);
	a->name = state_name_decode(enc);
	free(enc);
	if (trusted_hash(j->type, a->name, a->text, a->len, a->hash)) {
		/* read again if ever asked for: most never are, and their
		 * text was as large as the rest of a diff */
		a->trusted = 1;
		free(a->text);
		a->text = NULL;
	}
}

static void *
ahead_thread(void *arg)
{
	struct ahead_job *j = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		ahead_one(j, i);
	}
}

static void
ahead_free(struct ahead *a, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < n; i++) {
		free(a[i].text);
		free(a[i].name);
	}
	free(a);
}

static int
load_type(struct state_set *set, const char *type, const char *tdir)
{
	struct ahead_job j;
	struct ahead *a;
	char **files;
	const char *jn;
	size_t n, i;
	struct state_ent e;
	int dfd;

	if (!(files = list_dir(tdir, &n))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		kom_warne("%s", tdir);
		return -1;
	}
	if ((dfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		kom_warne("%s", tdir);
		file_list_free(files, n);
		return -1;
	}
	memset(&j, 0, sizeof(j));
	j.type = type;
	j.dfd = dfd;
	j.files = files;
	j.n = n;
	j.a = a = xcalloc(n ? n : 1, sizeof(*a));
	pthread_mutex_init(&j.mu, NULL);
	kom_run_threads(ahead_thread, &j, n < AHEAD_MIN_FILES ? 1 :
	    AHEAD_THREADS);
	pthread_mutex_destroy(&j.mu);
	close(dfd);
	for (i = 0; i < n; i++) {
		if (!a[i].text && !a[i].trusted) {
			if (!a[i].err)
				continue;	/* not a state file */
			if (a[i].err == ENOENT)
				continue;	/* removed while we read: gone */
			kom_warn("%s/%s: %s", tdir, files[i], a[i].err ==
			    EFBIG ? "larger than the state file limit" :
			    strerror(a[i].err));
			ahead_free(a, i, n);
			file_list_free(files, n);
			return -1;
		}
		memset(&e, 0, sizeof(e));
		e.type = xstrdup(type);
		e.path = xasprintf("%s/%s", tdir, files[i]);
		e.name = a[i].name;
		if (a[i].trusted) {
			memcpy(e.hash, a[i].hash, sizeof(e.hash));
			e.has_hash = 1;
		} else if (skim_name(&set->skim, a[i].text, a[i].len,
		    &e.name)) {
			/* valid: parsed when asked for, its text a tenth of
			 * the record's jansson values */
			e.text = a[i].text;
			e.len = a[i].len;
		} else {
			e.rec = parse_record(e.path, a[i].text, a[i].len);
			free(a[i].text);
			if (!e.rec) {
				a[i].name = NULL;
				ent_clear(&e);
				ahead_free(a, i + 1, n);
				file_list_free(files, n);
				return -1;
			}
			jn = json_string_value(json_object_get(e.rec, "name"));
			if (jn && *jn) {
				free(e.name);
				e.name = xstrdup(jn);
			}
		}
		set_add(set, &e);
	}
	free(a);
	file_list_free(files, n);
	return 0;
}

struct state_set *
state_set_load(const char *statedir)
{
	char *rdir, *tdir, **types;
	size_t n, i;
	struct state_set *set;

	rdir = xasprintf("%s/resources", statedir);
	if (!(types = list_dir(rdir, &n))) {
		if (errno == ENOENT) {
			free(rdir);
			return set_new();
		}
		kom_warne("%s", rdir);
		free(rdir);
		return NULL;
	}
	set = set_new();
	for (i = 0; i < n; i++) {
		if (!valid_type(types[i]))
			continue;
		tdir = xasprintf("%s/%s", rdir, types[i]);
		if (load_type(set, types[i], tdir) < 0) {
			free(tdir);
			state_set_free(set);
			file_list_free(types, n);
			free(rdir);
			return NULL;
		}
		free(tdir);
	}
	file_list_free(types, n);
	free(rdir);
	return set;
}

struct state_set *
state_set_wrap(json_t *all)
{
	struct state_set *set = set_new();
	const char *type, *name;
	json_t *byname, *rec;
	struct state_ent e;

	json_object_foreach(all, type, byname) {
		json_object_foreach(byname, name, rec) {
			memset(&e, 0, sizeof(e));
			e.type = xstrdup(type);
			e.name = xstrdup(name);
			e.rec = json_incref(rec);
			set_add(set, &e);
		}
	}
	return set;
}

void
state_set_free(struct state_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		ent_clear(&set->v[i]);
	free(set->v);
	json_decref(set->index);
	jsonskim_free(&set->skim);
	free(set);
}

int
state_set_has(const struct state_set *set, const char *type,
    const char *name)
{
	return set_find(set, type, name) != NULL;
}

const unsigned char *
state_set_hash(const struct state_set *set, const char *type,
    const char *name)
{
	struct state_ent *e = set_find(set, type, name);

	return e && e->has_hash ? e->hash : NULL;
}

/* e's record parsed anew, from its checked text or its file; NULL after
 * a diagnostic.  Reads e only. */
static json_t *
ent_parse(const struct state_ent *e)
{
	struct buf b = BUF_INIT;
	json_t *rec;

	if (e->text)
		return parse_record(e->path, e->text, e->len);
	if (file_read(e->path, &b, STATE_MAX_FILE) < 0) {
		kom_warn("%s: %s", e->path, errno == EFBIG ?
		    "larger than the state file limit" : strerror(errno));
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	rec = parse_record(e->path, b.s, b.len);
	buf_free(&b);
	return rec;
}

json_t *
state_set_get(struct state_set *set, const char *type, const char *name)
{
	struct state_ent *e = set_find(set, type, name);

	if (!e) {
		errno = ENOENT;
		return NULL;
	}
	if (!e->rec)
		e->rec = ent_parse(e);
	return e->rec;
}

json_t *
state_set_held(struct state_set *set, const char *type, const char *name)
{
	struct state_ent *e = set_find(set, type, name);

	return e && e->rec ? json_incref(e->rec) : NULL;
}

json_t *
state_set_read(const struct state_set *set, const char *type,
    const char *name)
{
	struct state_ent *e = set_find(set, type, name);

	if (!e) {
		errno = ENOENT;
		return NULL;
	}
	return ent_parse(e);
}

void
state_set_forget(struct state_set *set, const char *type, const char *name)
{
	struct state_ent *e = set_find(set, type, name);

	if (e && (e->has_hash || e->text)) {
		json_decref(e->rec);
		e->rec = NULL;
	}
}

int
state_set_same(struct state_set *set, const json_t *record)
{
	struct state_ent *e = set_find(set, json_string_value(
	    json_object_get(record, "type")), json_string_value(
	    json_object_get(record, "name")));
	unsigned char h[32];

	if (!e || !e->has_hash)
		return 0;
	record_hash(record, h);
	return !memcmp(h, e->hash, 32);
}

size_t
state_set_count(const struct state_set *set)
{
	return set->n;
}

void
state_set_at(const struct state_set *set, size_t i, const char **type,
    const char **name)
{
	*type = set->v[i].type;
	*name = set->v[i].name;
}

int
state_load_type(const char *statedir, const char *type, json_t **out)
{
	struct state_set *set = set_new();
	char *tdir;
	json_t *all, *rec;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!valid_type(type)) {
		kom_warn("%s: invalid resource type '%s'", statedir,
		    type ? type : "");
		state_set_free(set);
		return -1;
	}
	tdir = xasprintf("%s/resources/%s", statedir, type);
	if (load_type(set, type, tdir) < 0)
		rc = -1;
	free(tdir);
	all = json_array();
	for (i = 0; rc == 0 && i < set->n; i++) {
		if (!(rec = state_set_get(set, type, set->v[i].name)))
			rc = -1;
		else
			json_array_append(all, rec);
	}
	state_set_free(set);
	if (rc < 0) {
		json_decref(all);
		return -1;
	}
	*out = all;
	return 0;
}

int
state_load_all(const char *statedir, json_t **out)
{
	struct state_set *set;
	json_t *all, *byname, *rec;
	size_t i;

	*out = NULL;
	if (!(set = state_set_load(statedir)))
		return -1;
	all = json_object();
	for (i = 0; i < set->n; i++) {
		if (!(rec = state_set_get(set, set->v[i].type,
		    set->v[i].name))) {
			json_decref(all);
			state_set_free(set);
			return -1;
		}
		if (!(byname = json_object_get(all, set->v[i].type))) {
			byname = json_object();
			json_object_set_new(all, set->v[i].type, byname);
		}
		json_object_set(byname, set->v[i].name, rec);
	}
	state_set_free(set);
	*out = all;
	return 0;
}

/* ---- hashes ---- */

/* The bytes to hash go through a small buffer into the digest. */
struct hasher {
	SHA256_CTX md;
	size_t n;
	unsigned char buf[4096];
};

static void
h_flush(struct hasher *h)
{
	if (h->n && SHA256_Update(&h->md, h->buf, h->n) != 1)
		kom_die(KOM_EX_SOFTWARE, "sha256 failed");
	h->n = 0;
}

static void
h_add(struct hasher *h, const void *p, size_t n)
{
	if (n > sizeof(h->buf) - h->n) {
		h_flush(h);
		if (n > sizeof(h->buf)) {
			if (SHA256_Update(&h->md, p, n) != 1)
				kom_die(KOM_EX_SOFTWARE, "sha256 failed");
			return;
		}
	}
	memcpy(h->buf + h->n, p, n);
	h->n += n;
}

/* A tag byte and a length or number (8 bytes). */
static void
h_tag(struct hasher *h, int tag, const void *p8)
{
	if (9 > sizeof(h->buf) - h->n)
		h_flush(h);
	h->buf[h->n] = (unsigned char)tag;
	memcpy(h->buf + h->n + 1, p8, 8);
	h->n += 9;
}

/*
 * An injective byte form of v: a tag, lengths before contents, numbers
 * as their bytes.  Equal forms are equal values (json_equal).
 */
static void
enc_value(struct hasher *h, const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i, klen;
	uint64_t n;
	json_int_t in;
	double d;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		n = json_object_size(v);
		h_tag(h, 'o', &n);
		/* keys with their length: a key may hold a NUL */
		json_object_keylen_foreach((json_t *)v, k, klen, x) {
			n = klen;
			h_tag(h, 'k', &n);
			h_add(h, k, n);
			enc_value(h, x);
		}
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		h_tag(h, 'a', &n);
		json_array_foreach(v, i, x)
			enc_value(h, x);
		break;
	case JSON_STRING:
		n = json_string_length(v);
		h_tag(h, 's', &n);
		h_add(h, json_string_value(v), n);
		break;
	case JSON_INTEGER:
		in = json_integer_value(v);
		h_tag(h, 'i', &in);
		break;
	case JSON_REAL:
		d = json_real_value(v);
		h_tag(h, 'r', &d);
		break;
	default:
		/* true, false, null */
		n = 0;
		h_tag(h, json_is_true(v) ? 't' : json_is_false(v) ? 'f' : 'n',
		    &n);
		break;
	}
}

static void
record_hash(const json_t *record, unsigned char out[32])
{
	static const char *const fields[] = { "type", "name", "description",
	    "tags", "template", "deploy", "after", "config", "secret" };
	struct hasher h;
	const json_t *v;
	uint64_t zero = 0;
	size_t i;

	h.n = 0;
	if (SHA256_Init(&h.md) != 1)
		kom_die(KOM_EX_SOFTWARE, "sha256 failed");
	for (i = 0; i < KOM_NELEM(fields); i++) {
		if ((v = json_object_get(record, fields[i])))
			enc_value(&h, v);
		else
			h_tag(&h, 'x', &zero);
	}
	/* only when present: the hashes of records without it stay */
	if ((v = json_object_get(record, "secret_hash")))
		enc_value(&h, v);
	h_flush(&h);
	if (SHA256_Final(out, &h.md) != 1)
		kom_die(KOM_EX_SOFTWARE, "sha256 failed");
}

void
state_record_hash(const json_t *record, unsigned char out[32])
{
	record_hash(record, out);
}

/* kom_sum: SHA-256 of type NUL name NUL body tail. */
static void
body_sum(const char *type, const char *name, const char *body, size_t len,
    const char *tail, unsigned char out[32])
{
	SHA256_CTX md;

	if (SHA256_Init(&md) != 1 ||
	    SHA256_Update(&md, type, strlen(type) + 1) != 1 ||
	    SHA256_Update(&md, name, strlen(name) + 1) != 1 ||
	    SHA256_Update(&md, body, len) != 1 ||
	    SHA256_Update(&md, tail, strlen(tail)) != 1 ||
	    SHA256_Final(out, &md) != 1)
		kom_die(KOM_EX_SOFTWARE, "sha256 failed");
}

static void
add_hex(struct buf *b, const unsigned char *p, size_t n)
{
	char hex[65];

	kom_hex(p, n, hex);
	buf_adds(b, hex);
}

/*
 * When text (a whole file of type/name) starts with a header whose
 * kom_sum matches, its kom_hash into hash and 1; else 0.
 */
static int
trusted_hash(const char *type, const char *name, const char *text,
    size_t len, unsigned char hash[32])
{
	unsigned char sum[32], got[32];

	if (len <= HDR_LEN || memcmp(text, "{\"" HASH_KEY "\":\"", HDR_HASH) ||
	    memcmp(text + HDR_HASH + 64, "\",\"" SUM_KEY "\":\"",
	    HDR_SUM - HDR_HASH - 64) || memcmp(text + HDR_SUM + 64, "\",", 2))
		return 0;
	if (kom_unhex(text + HDR_HASH, hash, 32) < 0 ||
	    kom_unhex(text + HDR_SUM, sum, 32) < 0)
		return 0;
	body_sum(type, name, text + HDR_LEN,
	    len - HDR_LEN, "", got);
	return !memcmp(sum, got, 32);
}

int
state_save(const char *statedir, const json_t *record)
{
	const char *type, *name;
	char *path, *dir, *text;
	unsigned char hash[32], sum[32];
	struct buf b = BUF_INIT;
	json_t *copy = NULL;
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
	/* a record read back from the state carries no header keys, but
	 * one from elsewhere might: never write them twice */
	if (json_object_get(record, HASH_KEY) ||
	    json_object_get(record, SUM_KEY)) {
		copy = json_copy((json_t *)record);
		json_object_del(copy, HASH_KEY);
		json_object_del(copy, SUM_KEY);
		record = copy;
	}
	if (!(text = jsonl_dumps(record, JSON_COMPACT)) || text[0] != '{' ||
	    text[1] == '}') {
		free(text);
		kom_warn("%s: cannot encode the record", path);
		goto out;
	}
	/* the header, then the record without its opening brace */
	state_record_hash(record, hash);
	body_sum(type, name, text + 1, strlen(text + 1), "\n", sum);
	buf_adds(&b, "{\"" HASH_KEY "\":\"");
	add_hex(&b, hash, 32);
	buf_adds(&b, "\",\"" SUM_KEY "\":\"");
	add_hex(&b, sum, 32);
	buf_adds(&b, "\",");
	buf_adds(&b, text + 1);
	buf_addc(&b, '\n');
	free(text);
	if (file_write_atomic(path, b.s, b.len, 0644) < 0)
		kom_warne("%s", path);
	else
		rc = 0;
out:
	json_decref(copy);
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
	if (!(text = jsonl_dumps(entry, JSON_COMPACT))) {
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
