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

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static json_t *
rec(const char *type, const char *name, const char *image)
{
	return json_pack("{s:s,s:s,s:s,s:{s:s}}", "type", type, "name", name,
	    "source", "x.toml:1", "config", "image", image);
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
	rm_rf(dir);
	return done_testing();
}
