/* Unit tests for lib/kv.c: Komodo's flexible formats. */
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "tap.h"
#include "banned.h"

static char *
dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

static void
list_is(const char *in, const char *want, const char *name)
{
	json_t *arr = json_array();
	char *got;

	kv_string_list(in, strlen(in), arr);
	got = dump(arr);
	is_str(got, want, "string-list: %s", name);
	free(got);
}

static void
kv_is(const char *in, enum kv_shape shape, const char *want, const char *name)
{
	struct kv_error err;
	json_t *j = kv_list(in, strlen(in), shape, &err);
	char *got = j ? dump(j) : NULL;

	is_str(got, want, "kv-list: %s", name);
	ok(kv_check(in, strlen(in), &err) == (got ? 0 : -1),
	    "kv-check agrees: %s", name);
	free(got);
}

static void
kv_fails(const char *in, int line, const char *msg, const char *name)
{
	struct kv_error err;
	json_t *j = kv_list(in, strlen(in), KV_KEY_VALUE, &err);

	ok(j == NULL, "kv-list fails: %s", name);
	json_decref(j);
	is_int(err.line, line, "kv-list error line: %s", name);
	is_str(err.msg, msg, "kv-list error message: %s", name);
	memset(&err, 0, sizeof(err));
	ok(kv_check(in, strlen(in), &err) == -1, "kv-check fails: %s", name);
	is_int(err.line, line, "kv-check error line: %s", name);
	is_str(err.msg, msg, "kv-check error message: %s", name);
}

static void
cmd_is(const char *in, const char *want, const char *name)
{
	char *got = kv_join_command(in, strlen(in));

	is_str(got, want, "command: %s", name);
	free(got);
}

static void
name_is(const char *in, enum kv_name_style st, const char *want,
    const char *name)
{
	struct kv_error err;
	char *got = kv_name(in, st, &err);

	is_str(got, want, "name: %s", name);
	if (!got)
		diag("%s", err.msg);
	free(got);
}

int
main(void)
{
	char v[64], *s;
	struct kv_error err;

	/* string-list */
	list_is("", "[]", "empty");
	list_is("a", "[\"a\"]", "one");
	list_is("a, b,c", "[\"a\",\"b\",\"c\"]", "commas");
	list_is("a\n  b  \n\nc", "[\"a\",\"b\",\"c\"]", "lines");
	list_is("# all comment\na\n#b\n", "[\"a\"]", "comment lines");
	list_is("a #cut, b\nc", "[\"a\",\"c\"]", "end-of-line comment");
	list_is("a#b", "[\"a#b\"]", "# without a space is kept");
	list_is(" , ,a,, ", "[\"a\"]", "empty items dropped");
	list_is("--flag=1, --x\n--y", "[\"--flag=1\",\"--x\",\"--y\"]",
	    "flags");

	/* key-value lists, steps 1-5 */
	kv_is("", KV_KEY_VALUE, "[]", "empty");
	kv_is("   \n  \n", KV_KEY_VALUE, "[]", "blank");
	kv_is("A=1", KV_KEY_VALUE, "[{\"key\":\"A\",\"value\":\"1\"}]",
	    "one");
	kv_is("A = 1\nB: 2\n", KV_KEY_VALUE,
	    "[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"2\"}]",
	    "= and :");
	kv_is("# c\n// c\nA=1 # c\n", KV_KEY_VALUE,
	    "[{\"key\":\"A\",\"value\":\"1\"}]", "comments");
	kv_is("A=x#y", KV_KEY_VALUE, "[{\"key\":\"A\",\"value\":\"x#y\"}]",
	    "# inside a value");
	kv_is("- A=1\n  -- B = 2", KV_KEY_VALUE,
	    "[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":\"2\"}]",
	    "yaml list dashes");
	kv_is("A=b=c", KV_KEY_VALUE, "[{\"key\":\"A\",\"value\":\"b=c\"}]",
	    "split at the first =");
	kv_is("URL: http://x:1", KV_KEY_VALUE,
	    "[{\"key\":\"URL\",\"value\":\"http://x:1\"}]",
	    "split at the first :");
	kv_is("A=", KV_KEY_VALUE, "[{\"key\":\"A\",\"value\":\"\"}]",
	    "empty value");
	kv_is("A=\"quoted\"", KV_KEY_VALUE,
	    "[{\"key\":\"A\",\"value\":\"\\\"quoted\\\"\"}]",
	    "value keeps its quotes");
	kv_is("- \"/data/config:/etc/config\"", KV_LOCAL_CONTAINER,
	    "[{\"local\":\"/data/config\",\"container\":\"/etc/config\"}]",
	    "quoted yaml item");
	kv_is("/a:/b:ro", KV_LOCAL_CONTAINER,
	    "[{\"local\":\"/a\",\"container\":\"/b:ro\"}]", "volume mode");
	kv_is("/data/logs = /etc/logs", KV_LOCAL_CONTAINER,
	    "[{\"local\":\"/data/logs\",\"container\":\"/etc/logs\"}]",
	    "volume with =");
	kv_is("8080:80", KV_LOCAL_CONTAINER,
	    "[{\"local\":\"8080\",\"container\":\"80\"}]", "port");
	kv_is("SIGTERM: graceful", KV_SIGNAL_LABEL,
	    "[{\"signal\":\"SIGTERM\",\"label\":\"graceful\"}]", "signal");
	kv_fails("A=1\nnot an assignment\n", 2,
	    "line 2 missing assignment character", "missing =");
	kv_fails("\n\nB\n", 3, "line 3 missing assignment character",
	    "line counted before trimming");
	is_str(kv_shape_toml_first(KV_KEY_VALUE), "variable", "toml name");

	/* file contents */
	s = kv_file_contents("  a\nb \n\n  ", 10);
	is_str(s, "  a\nb\n", "file contents: trailing space trimmed");
	free(s);
	s = kv_file_contents(" \n ", 3);
	is_str(s, "", "file contents: blank is empty");
	free(s);

	/* SystemCommand */
	cmd_is("", "", "empty");
	cmd_is("make", "make", "one line");
	cmd_is("# c\ncargo build\n\ncp a b # copy\n", "cargo build && cp a b",
	    "seed example");
	cmd_is("a \\\n  --flag\nb", "a --flag && b", "continuation");

	/* Version */
	ok(kv_version("1.2.3", v, sizeof(v), &err) == 0 &&
	    !strcmp(v, "1.2.3"), "version 1.2.3");
	ok(kv_version("1", v, sizeof(v), &err) == 0 && !strcmp(v, "1.0.0"),
	    "version 1");
	ok(kv_version("1.2", v, sizeof(v), &err) == 0 && !strcmp(v, "1.2.0"),
	    "version 1.2");
	ok(kv_version("1.2.3.4", v, sizeof(v), &err) < 0, "version 1.2.3.4");
	ok(kv_version("v1", v, sizeof(v), &err) < 0, "version v1");
	ok(kv_version("1..2", v, sizeof(v), &err) < 0, "version 1..2");
	ok(kv_version("", v, sizeof(v), &err) < 0, "version empty");
	kv_version_parts(2, 0, 1, v, sizeof(v));
	is_str(v, "2.0.1", "version parts");

	/* TerminationSignal */
	is_str(kv_signal("SIGTERM"), "SIGTERM", "signal SIGTERM");
	is_str(kv_signal("15"), "SIGTERM", "signal 15");
	is_str(kv_signal("1"), "SIGHUP", "signal 1");
	is_str(kv_signal("3"), "SIGQUIT", "signal 3");
	ok(kv_signal("SIGKILL") == NULL, "signal SIGKILL refused");

	/* names */
	name_is(" web ", KV_NAME_CONTAINER, "web", "container trim");
	name_is("My App!", KV_NAME_CONTAINER, "My_App_", "container chars");
	name_is("_x.y-z", KV_NAME_CONTAINER, "x.y-z", "container leading");
	name_is("caf\xc3\xa9", KV_NAME_CONTAINER, "caf_", "container utf-8");
	name_is("MyApp", KV_NAME_DOCKER, "myapp", "docker lowercase");
	name_is("a.b c", KV_NAME_DOCKER, "a_b_c", "docker chars");
	name_is("my repo\nx", KV_NAME_PATH, "my_repo_x", "path");
	name_is("a b\nc", KV_NAME_GENERAL, "a b_c", "general");
	name_is("  ", KV_NAME_GENERAL, NULL, "empty refused");
	name_is("___", KV_NAME_CONTAINER, NULL, "empty after normalization");
	name_is("0123456789abcdef01234567", KV_NAME_GENERAL, NULL,
	    "object id refused");

	/* edit distance */
	is_int(kv_distance("image", "imgae", 3), 2, "distance transposition");
	is_int(kv_distance("image", "image", 3), 0, "distance equal");
	is_int(kv_distance("network", "netwrk", 3), 1, "distance deletion");
	is_int(kv_distance("a", "abcdefgh", 2), 3, "distance capped");
	return done_testing();
}
