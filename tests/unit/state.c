/* Unit tests for lib/state: the state directory of applied resources. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"
#include "state.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

#define HK "kom_hash"

static char *
slurp(const char *path)
{
	struct buf b = BUF_INIT;

	if (file_read(path, &b, 1 << 20) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_release(&b);
}


static json_t *
rec(const char *type, const char *name, const char *image)
{
	return json_pack("{s:s,s:s,s:s,s:{s:s}}", "type", type, "name", name,
	    "source", "x.toml:1", "config", "image", image);
}


/* state_set_load(sd) with its stderr in *err. */
static struct state_set *
load_set_err(const char *sd, const char *errpath, char **err)
{
	struct buf b = BUF_INIT;
	struct state_set *set;
	int saved, fd;

	fflush(stderr);
	saved = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	dup2(fd, 2);
	close(fd);
	set = state_set_load(sd);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	file_read(errpath, &b, 1 << 16);
	*err = buf_release(&b);
	return set;
}

/*
 * A type dir of n files is read ahead on threads (64 and more): the set
 * must be what one reader in name order makes.  Records m000..m(n-1),
 * saved (trusted); one edited by hand (untrusted: read whole), one whose
 * record name is not its file name, a file that is not .json and a dot
 * file (neither a record).  Then two broken files: the first in name
 * order is the one reported.
 */
/* text into path, whole */
static void
wr(const char *path, const char *text)
{
	file_write_atomic(path, text, strlen(text), 0644);
}

static void
read_ahead(const char *dir, int n)
{
	char *sd = xasprintf("%s/ahead%d", dir, n), *p, *err, *errpath;
	struct state_set *set;
	unsigned char h[32];
	const unsigned char *got;
	const char *type, *name;
	json_t *r;
	int i, good = 1;
	char nm[16];

	errpath = xasprintf("%s/ahead.err", dir);
	for (i = 0; i < n; i++) {
		snprintf(nm, sizeof(nm), "m%03d", i);
		r = rec("deployment", nm, i % 2 ? "a:1" : "b:2");
		state_save(sd, r);
		json_decref(r);
	}
	/* m010 edited by hand: a valid record, its hash no longer trusted */
	p = state_path(sd, "deployment", "m010");
	wr(p, "{\"type\":\"deployment\",\"name\":\"m010\","
	    "\"config\":{\"image\":\"edited\"}}\n");
	free(p);
	/* a file named zzz.json holding the record "renamed" */
	p = xasprintf("%s/resources/deployment/zzz.json", sd);
	wr(p, "{\"type\":\"deployment\",\"name\":\"renamed\"}");
	free(p);
	p = xasprintf("%s/resources/deployment/notes.txt", sd);
	wr(p, "x");
	free(p);
	p = xasprintf("%s/resources/deployment/.tmp.json", sd);
	wr(p, "{");
	free(p);

	set = load_set_err(sd, errpath, &err);
	ok(set != NULL && !*err, "%d files: loaded, nothing said", n);
	is_int(set ? (long)state_set_count(set) : -1, n + 1,
	    "%d files: every record, no more", n);
	for (i = 0; set && i < n + 1; i++) {
		state_set_at(set, (size_t)i, &type, &name);
		if (i < n)
			snprintf(nm, sizeof(nm), "m%03d", i);
		else
			snprintf(nm, sizeof(nm), "renamed");
		got = state_set_hash(set, "deployment", nm);
		r = rec("deployment", nm, i % 2 ? "a:1" : "b:2");
		state_record_hash(r, h);
		json_decref(r);
		if (strcmp(type, "deployment") || strcmp(name, nm) ||
		    (i == 10 || i == n ? got != NULL :
		    !got || memcmp(got, h, 32)))
			good = 0;
	}
	ok(set && good, "%d files: in name order, saved hashes trusted, the "
	    "edited and the renamed one not", n);
	r = set ? state_set_get(set, "deployment", "m010") : NULL;
	is_str(json_string_value(json_object_get(json_object_get(r, "config"),
	    "image")), "edited", "%d files: the edit is read", n);
	state_set_free(set);
	free(err);

	/* two broken files: the first in name order is named, nothing is
	 * loaded */
	p = xasprintf("%s/resources/deployment/m%03d.json", sd, n - 2);
	wr(p, "{\"name\": ");
	free(p);
	p = xasprintf("%s/resources/deployment/m%03d.json", sd, n / 2);
	wr(p, "[1]");
	free(p);
	set = load_set_err(sd, errpath, &err);
	snprintf(nm, sizeof(nm), "m%03d.json", n / 2);
	ok(!set && strstr(err, nm) && strstr(err, "not a json object") &&
	    !strstr(err, "1:10"), "%d files: the first broken one is said, "
	    "alone", n);
	state_set_free(set);
	free(err);
	free(errpath);
	tap_rm_rf(sd);
	free(sd);
}

int
main(void)
{
	char tmpl[] = "/tmp/kom-state-test.XXXXXX";
	char *dir, *sd, *p, *s;
	json_t *all, *r, *e;
	struct stat st;
	int fd;

	if (!(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 1;
	}
	sd = xasprintf("%s/state", dir);

	/* a missing state dir is an empty state */
	ok(state_load_all(sd, &all) == 0 && json_object_size(all) == 0,
	    "load_all of a missing state dir is empty");
	json_decref(all);
	errno = 0;
	ok(!state_load(sd, "deployment", "web") && errno == ENOENT,
	    "load of a missing resource: NULL, ENOENT");

	/* paths and name escaping */
	p = state_path(sd, "deployment", "web");
	s = xasprintf("%s/resources/deployment/web.json", sd);
	is_str(p, s, "state_path plain");
	free(p);
	free(s);
	p = state_path("S", "repo", "a/b");
	is_str(p, "S/resources/repo/a%2Fb.json", "slash encoded");
	free(p);
	p = state_path("S", "variable", ".hidden");
	is_str(p, "S/resources/variable/%2Ehidden.json", "leading dot encoded");
	free(p);
	p = state_path("S", "variable", "..");
	is_str(p, "S/resources/variable/%2E..json", "'..' cannot escape");
	free(p);
	p = state_path("S", "procedure", "50%/a.b");
	is_str(p, "S/resources/procedure/50%25%2Fa.b.json", "percent encoded");
	free(p);
	s = state_name_encode("x\ny.z");
	is_str(s, "x%0Ay.z", "control byte encoded");
	p = state_name_decode(s);
	is_str(p, "x\ny.z", "decode reverses encode");
	free(p);
	free(s);
	p = state_name_decode("%2E%2F%25%zz%00");
	is_str(p, "./%%zz%00", "decode leaves bad escapes alone");
	free(p);
	errno = 0;
	ok(!state_path("S", "../etc", "x") && errno == EINVAL,
	    "a type outside [a-z_]+ is refused");
	ok(!state_path("S", "deployment", "") && errno == EINVAL,
	    "an empty name is refused");

	/* save and load */
	r = rec("deployment", "web", "nginx:1");
	is_int(state_save(sd, r), 0, "save");
	json_decref(r);
	p = state_path(sd, "deployment", "web");
	ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0644,
	    "saved file is mode 0644");
	s = slurp(p);
	ok(s && s[strlen(s) - 1] == '\n' && !strchr(s, ' '),
	    "saved file is one compact line");
	free(s);
	free(p);
	r = state_load(sd, "deployment", "web");
	is_str(json_string_value(json_object_get(json_object_get(r, "config"),
	    "image")), "nginx:1", "load returns what was saved");
	json_decref(r);

	/* atomic replace: no temporary left behind, new content */
	r = rec("deployment", "web", "nginx:2");
	is_int(state_save(sd, r), 0, "save over an existing record");
	json_decref(r);
	{
		char *tdir = xasprintf("%s/resources/deployment", sd);
		char *ls = xasprintf("%s/web.json.tmp.x", tdir);

		/* a stray temporary from a crash must be ignored by load_all */
		fd = open(ls, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		ok(fd >= 0 && write(fd, "{broken", 7) == 7,
		    "plant a stray temporary file");
		if (fd >= 0)
			close(fd);
		free(ls);
		free(tdir);
	}
	r = rec("repo", "org/app", "");
	is_int(state_save(sd, r), 0, "save a name with a slash");
	json_decref(r);
	r = rec("variable", ".dot", "");
	is_int(state_save(sd, r), 0, "save a name with a leading dot");
	json_decref(r);

	ok(state_load_all(sd, &all) == 0, "load_all");
	is_int(json_object_size(all), 3, "three types");
	is_str(json_string_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(all, "deployment"), "web"), "config"), "image")),
	    "nginx:2", "load_all sees the replaced record");
	is_int(json_object_size(json_object_get(all, "deployment")), 1,
	    "the stray temporary is not a resource");
	ok(json_object_get(json_object_get(all, "repo"), "org/app") != NULL,
	    "load_all keys by the real name (slash)");
	ok(json_object_get(json_object_get(all, "variable"), ".dot") != NULL,
	    "load_all keys by the real name (dot)");
	json_decref(all);

	/* one type: records in file order, without the hash keys */
	ok(state_load_type(sd, "deployment", &all) == 0 &&
	    json_array_size(all) == 1, "load_type: the one deployment");
	r = json_array_get(all, 0);
	ok(r && !json_object_get(r, "kom_hash") &&
	    !json_object_get(r, "kom_sum"), "load_type drops the hash keys");
	json_decref(all);
	ok(state_load_type(sd, "build", &all) == 0 &&
	    json_array_size(all) == 0, "load_type of a type never applied");
	json_decref(all);
	ok(state_load_type(sd, "../x", &all) == -1 && all == NULL,
	    "load_type refuses a bad type");

	/* invalid records */
	r = json_pack("{s:s}", "type", "deployment");
	is_int(state_save(sd, r), -1, "save without a name fails");
	json_decref(r);
	r = json_pack("{s:s,s:s}", "type", "../x", "name", "a");
	is_int(state_save(sd, r), -1, "save with a bad type fails");
	json_decref(r);

	/* remove */
	is_int(state_remove(sd, "repo", "org/app"), 0, "remove");
	errno = 0;
	ok(!state_load(sd, "repo", "org/app") && errno == ENOENT,
	    "removed resource is gone");
	is_int(state_remove(sd, "repo", "org/app"), 0,
	    "removing a missing resource is fine");

	/* a corrupt file is an error, not an empty state */
	p = state_path(sd, "server", "bad");
	s = file_dirname(p);
	file_mkdir_p(s, 0755);
	file_write_atomic(p, "[1]\n", 4, 0644);
	ok(state_load_all(sd, &all) == -1 && all == NULL,
	    "load_all fails on a file that is not an object");
	ok(state_load_type(sd, "server", &all) == -1 && all == NULL,
	    "load_type fails on it too (no silent skip)");
	file_write_atomic(p, "{\"a\":", 5, 0644);
	ok(!state_load(sd, "server", "bad") && errno != ENOENT,
	    "load fails on truncated json");
	unlink(p);
	free(s);
	free(p);

	/* history */
	e = json_pack("{s:I,s:i,s:s}", "ts", (json_int_t)1763700000000LL,
	    "id", 1, "action", "deploy");
	is_int(state_history_append(sd, e), 0, "history append");
	json_decref(e);
	e = json_pack("{s:I,s:i,s:s}", "ts", (json_int_t)1763700000001LL,
	    "id", 2, "action", "record");
	is_int(state_history_append(sd, e), 0, "history append again");
	json_decref(e);
	p = xasprintf("%s/history/2025-11.jsonl", sd);
	s = slurp(p);
	is_str(s, "{\"ts\":1763700000000,\"id\":1,\"action\":\"deploy\"}\n"
	    "{\"ts\":1763700000001,\"id\":2,\"action\":\"record\"}\n",
	    "history lines appended in the month of ts");
	free(s);
	free(p);

	/* state hashes */
	{
		unsigned char h1[32], h2[32];
		struct state_set *set;
		const unsigned char *h;
		char *t, *q;
		json_t *a, *b;

		a = rec("deployment", "h", "nginx:1");
		b = json_deep_copy(a);
		state_record_hash(a, h1);
		state_record_hash(b, h2);
		ok(!memcmp(h1, h2, 32), "equal records hash equal");
		json_object_set_new(b, "source", json_string("y.toml:9"));
		json_object_set_new(b, "applied_at", json_integer(1));
		state_record_hash(b, h2);
		ok(!memcmp(h1, h2, 32), "source and applied_at are not hashed");
		json_object_set_new(json_object_get(b, "config"), "image",
		    json_string("nginx:2"));
		state_record_hash(b, h2);
		ok(memcmp(h1, h2, 32), "a config change changes the hash");
		json_decref(b);
		b = json_deep_copy(a);
		json_object_set_new(b, "secret", json_true());
		state_record_hash(b, h2);
		ok(memcmp(h1, h2, 32), "the secret flag is hashed");
		json_decref(b);
		b = json_deep_copy(a);
		json_object_setn_new(json_object_get(b, "config"), "x\0y", 3,
		    json_string("1"));
		state_record_hash(b, h1);
		json_object_deln(json_object_get(b, "config"), "x\0y", 3);
		json_object_set_new(json_object_get(b, "config"), "x",
		    json_string("1"));
		state_record_hash(b, h2);
		ok(memcmp(h1, h2, 32), "a key with a NUL is not its prefix");
		json_decref(b);
		b = json_deep_copy(a);
		json_object_set_new(json_object_get(b, "config"), "n",
		    json_integer(1));
		state_record_hash(b, h1);
		json_object_set_new(json_object_get(b, "config"), "n",
		    json_real(1));
		state_record_hash(b, h2);
		ok(memcmp(h1, h2, 32), "1 and 1.0 hash apart");
		json_decref(b);

		/* saved: header first, the loaders drop it */
		json_object_set_new(a, HK, json_string("stale"));
		is_int(state_save(sd, a), 0, "save a record with a stale hash key");
		state_record_hash(a, h1);
		p = state_path(sd, "deployment", "h");
		t = slurp(p);
		ok(t && !strncmp(t, "{\"kom_hash\":\"", 13) &&
		    strstr(t, "\",\"kom_sum\":\"") == t + 13 + 64 &&
		    !strstr(t + 20, "kom_hash"), "file starts with the header, "
		    "once");
		r = state_load(sd, "deployment", "h");
		ok(r && !json_object_get(r, HK) && !json_object_get(r, "kom_sum"),
		    "state_load drops the header keys");
		json_decref(r);

		set = state_set_load(sd);
		ok(set != NULL, "state_set_load");
		h = state_set_hash(set, "deployment", "h");
		ok(h && !memcmp(h, h1, 32), "the set trusts the saved hash");
		ok(state_set_has(set, "deployment", "web") &&
		    !state_set_has(set, "deployment", "nope"), "state_set_has");
		r = state_set_get(set, "deployment", "h");
		ok(r && json_equal(json_object_get(r, "config"),
		    json_object_get(a, "config")) && !json_object_get(r, HK),
		    "a trusted record parses on demand, without the header");
		errno = 0;
		ok(!state_set_get(set, "deployment", "nope") && errno == ENOENT,
		    "state_set_get of an unknown record: ENOENT");
		state_set_free(set);

		/* an edited file is no longer trusted, and read in full */
		q = strstr(t, "nginx:1");
		ok(q != NULL, "find the image in the file");
		if (q)
			q[6] = '9';
		file_write_atomic(p, t, strlen(t), 0644);
		set = state_set_load(sd);
		ok(set && !state_set_hash(set, "deployment", "h"),
		    "an edited file's hash is not trusted");
		r = set ? state_set_get(set, "deployment", "h") : NULL;
		is_str(json_string_value(json_object_get(json_object_get(r,
		    "config"), "image")), "nginx:9", "the edit is seen");
		state_set_free(set);
		if (q)
			q[6] = '1';
		/* nor a file renamed by hand */
		unlink(p);
		free(p);
		p = state_path(sd, "deployment", "h2");
		file_write_atomic(p, t, strlen(t), 0644);
		set = state_set_load(sd);
		ok(set && !state_set_hash(set, "deployment", "h") &&
		    !state_set_hash(set, "deployment", "h2") &&
		    state_set_has(set, "deployment", "h"),
		    "a renamed file is not trusted and keyed by its record name");
		state_set_free(set);
		unlink(p);
		free(p);
		free(t);
		json_decref(a);
	}

	read_ahead(dir, 20);
	read_ahead(dir, 300);

	/* lock */
	fd = state_lock(sd, 0);
	ok(fd >= 0, "take the lock");
	{
		int fd2 = state_lock(sd, 0);

		ok(fd2 < 0 && errno == EWOULDBLOCK,
		    "a second applier finds it busy");
		if (fd2 >= 0)
			close(fd2);
	}
	close(fd);
	fd = state_lock(sd, 0);
	ok(fd >= 0, "the lock is free again after close");
	close(fd);

	free(sd);
	tap_rm_rf(dir);
	return done_testing();
}
