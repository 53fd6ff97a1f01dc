/* Unit tests for lib/diff: declared records against applied records. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "state.h"
#include "file.h"
#include "util.h"
#include "tap.h"
#include "banned.h"

static json_t *
J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j) {
		diag("bad test json: %s: %s", e.text, text);
		exit(2);
	}
	return j;
}

static const char *
op_of(const json_t *r)
{
	return json_string_value(json_object_get(r, "op"));
}

static char *
dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The "changes" of r as one string: "path=from>to;..." */
static char *
changes(const json_t *r)
{
	json_t *c;
	size_t i;
	char *out = xstrdup(""), *f, *t, *n;

	json_array_foreach(json_object_get(r, "changes"), i, c) {
		f = dump(json_object_get(c, "from"));
		t = dump(json_object_get(c, "to"));
		n = xasprintf("%s%s=%s>%s;", out, json_string_value(
		    json_object_get(c, "path")), f, t);
		free(out);
		free(f);
		free(t);
		out = n;
	}
	return out;
}

static void
check_changes(const json_t *r, const char *want, const char *name)
{
	char *got = changes(r);

	is_str(got, want, "%s", name);
	free(got);
}

static void
check_dc(const json_t *r, const char *want, const char *name)
{
	char *got = dump(json_object_get(r, "deploy_changes"));

	is_str(got, want, "%s", name);
	free(got);
}

#define DEP(image, env, extra) "{\"type\":\"deployment\",\"name\":\"web\"," \
	"\"source\":\"w.toml:1\",\"tags\":[\"a\",\"b\"],\"deploy\":true," \
	"\"config\":{\"server\":\"h1\",\"image\":{\"type\":\"Image\"," \
	"\"params\":{\"image\":\"" image "\"}},\"restart\":\"no\"," \
	"\"environment\":[" env "]" extra "}}"

static void
test_resource(void)
{
	json_t *d, *a, *r;
	char *s;

	d = J(DEP("nginx:1", "{\"key\":\"A\",\"value\":\"1\"}", ""));
	r = diff_resource(d, NULL, "home");
	is_str(op_of(r), "create", "no applied record: create");
	is_str(json_string_value(json_object_get(r, "sync")), "home",
	    "sync name carried");
	is_str(json_string_value(json_object_get(r, "kind")), "resource",
	    "kind resource");
	check_changes(r, "", "create has no changes");
	json_decref(r);

	a = json_deep_copy(d);
	json_object_set_new(a, "applied_at", json_integer(1));
	json_object_set_new(a, "exec", json_object());
	r = diff_resource(d, a, NULL);
	is_str(op_of(r), "keep", "equal: keep");
	ok(!json_object_get(r, "sync"), "no sync: none on the record");
	ok(!json_object_get(r, "applied_at") && !json_object_get(r, "exec"),
	    "applied_at and exec are not carried");
	json_decref(r);
	json_decref(a);

	/* tags in another order are the same tags */
	a = J(DEP("nginx:1", "{\"key\":\"A\",\"value\":\"1\"}", ""));
	json_object_set_new(a, "tags", J("[\"b\",\"a\"]"));
	r = diff_resource(d, a, NULL);
	is_str(op_of(r), "keep", "tag order does not matter");
	json_decref(r);
	json_decref(a);

	/* image and environment changed; kv list compared as a whole */
	a = J(DEP("nginx:0", "{\"key\":\"A\",\"value\":\"0\"}", ""));
	r = diff_resource(d, a, NULL);
	is_str(op_of(r), "update", "changed: update");
	check_changes(r, "config.image.params.image=\"nginx:0\">\"nginx:1\";"
	    "config.environment=[{\"key\":\"A\",\"value\":\"0\"}]>"
	    "[{\"key\":\"A\",\"value\":\"1\"}];", "field-level changes");
	check_dc(r, "[\"image\",\"environment\"]", "deploy_changes");
	json_decref(r);
	json_decref(a);

	/* a field the file no longer sets: back to the default */
	a = J(DEP("nginx:1", "{\"key\":\"A\",\"value\":\"1\"}", ""));
	json_object_set_new(json_object_get(a, "config"), "restart",
	    json_string("always"));
	json_object_set_new(json_object_get(a, "config"),
	    "termination_timeout", json_integer(30));
	json_object_set_new(json_object_get(d, "config"),
	    "termination_timeout", json_integer(10));
	r = diff_resource(d, a, NULL);
	check_changes(r, "config.restart=\"always\">\"no\";"
	    "config.termination_timeout=30>10;", "removed field -> default");
	check_dc(r, "[\"restart\"]", "termination_timeout needs no deploy");
	json_decref(r);

	/* meta changes */
	json_object_set_new(d, "description", json_string("new"));
	json_object_set_new(d, "after", J("[\"db\"]"));
	json_object_set_new(json_object_get(a, "config"), "restart",
	    json_string("no"));
	json_object_set_new(json_object_get(a, "config"),
	    "termination_timeout", json_integer(10));
	json_object_set_new(a, "deploy", json_false());
	r = diff_resource(d, a, NULL);
	check_changes(r, "description=\"\">\"new\";after=[]>[\"db\"];"
	    "deploy=false>true;", "description, after, deploy");
	check_dc(r, "[]", "meta changes need no deploy");
	json_decref(r);
	json_decref(a);

	/* image variant switch: the whole image */
	a = J("{\"type\":\"deployment\",\"name\":\"web\",\"config\":{"
	    "\"image\":{\"type\":\"Build\",\"params\":{\"build\":\"b\","
	    "\"version\":\"0.0.0\"}}}}");
	json_object_set_new(d, "config", J("{\"image\":{\"type\":\"Image\","
	    "\"params\":{\"image\":\"x\"}}}"));
	r = diff_resource(d, a, NULL);
	check_changes(r, "description=\"\">\"new\";tags=[]>[\"a\",\"b\"];"
	    "after=[]>[\"db\"];deploy=false>true;config.image={\"type\":\"Build\",\"params\":"
	    "{\"build\":\"b\",\"version\":\"0.0.0\"}}>{\"type\":\"Image\","
	    "\"params\":{\"image\":\"x\"}};", "variant switch: whole value");
	json_decref(r);

	/* delete: the applied record */
	r = diff_resource(NULL, a, NULL);
	is_str(op_of(r), "delete", "no declared record: delete");
	s = dump(json_object_get(r, "config"));
	ok(strstr(s, "\"Build\"") != NULL, "delete carries applied config");
	free(s);
	json_decref(r);
	json_decref(a);
	json_decref(d);

	/* stacks */
	d = J("{\"type\":\"stack\",\"name\":\"s\",\"config\":{\"branch\":"
	    "\"b\",\"auto_pull\":true,\"server\":\"h2\"}}");
	a = J("{\"type\":\"stack\",\"name\":\"s\",\"config\":{\"branch\":"
	    "\"main\",\"auto_pull\":false,\"server\":\"h1\"}}");
	r = diff_resource(d, a, NULL);
	check_dc(r, "[\"branch\",\"server\"]", "stack deploy_changes");
	json_decref(r);
	json_decref(a);
	json_decref(d);

	/* builds: 0.0.0 never overwrites the applied version */
	d = J("{\"type\":\"build\",\"name\":\"b\",\"config\":{\"version\":"
	    "\"0.0.0\",\"repo\":\"x\"}}");
	a = J("{\"type\":\"build\",\"name\":\"b\",\"config\":{\"version\":"
	    "\"1.4.2\",\"repo\":\"x\"}}");
	r = diff_resource(d, a, NULL);
	is_str(op_of(r), "keep", "build 0.0.0 against 1.4.2: keep");
	is_str(json_string_value(json_object_get(json_object_get(r, "config"),
	    "version")), "1.4.2", "build keeps the applied version");
	check_dc(r, "[]", "builds have no deploy_changes");
	json_decref(r);
	json_object_set_new(json_object_get(d, "config"), "version",
	    json_string("2.0.0"));
	r = diff_resource(d, a, NULL);
	check_changes(r, "config.version=\"1.4.2\">\"2.0.0\";",
	    "a real version does change it");
	json_decref(r);
	json_object_set_new(json_object_get(d, "config"), "version",
	    json_string("0.0.0"));
	r = diff_resource(d, NULL, NULL);
	is_str(json_string_value(json_object_get(json_object_get(r, "config"),
	    "version")), "0.0.0", "build create keeps 0.0.0");
	json_decref(r);
	json_decref(a);
	json_decref(d);
}

static void
test_secrets(void)
{
	json_t *d, *a, *r;
	char *s;

	/* declared secret with its value (the resource layer should have
	 * masked it; diff must not trust that), applied as a plain one */
	d = J("{\"type\":\"variable\",\"name\":\"PW\",\"config\":{\"value\":"
	    "\"sekrit-declared\",\"is_secret\":true}}");
	a = J("{\"type\":\"variable\",\"name\":\"PW\",\"config\":{\"value\":"
	    "\"sekrit-applied\",\"is_secret\":false}}");
	r = diff_resource(d, a, NULL);
	s = dump(r);
	ok(!strstr(s, "sekrit"), "no secret value in the record");
	ok(strstr(s, "\"<PW>\"") != NULL, "secret shown as <PW>");
	free(s);
	check_changes(r, "config.value=\"<PW>\">\"<PW>\";"
	    "config.is_secret=false>true;", "masked change");
	ok(json_is_true(json_object_get(r, "secret")), "secret flag set");
	json_decref(r);
	r = diff_resource(NULL, d, NULL);
	s = dump(r);
	ok(!strstr(s, "sekrit"), "no secret value in a delete");
	free(s);
	json_decref(r);
	r = diff_resource(d, NULL, NULL);
	s = dump(r);
	ok(!strstr(s, "sekrit"), "no secret value in a create");
	free(s);
	json_decref(r);
	json_decref(a);
	json_decref(d);

	/* a plain variable shows its value */
	d = J("{\"type\":\"variable\",\"name\":\"H\",\"config\":{\"value\":"
	    "\"b\",\"is_secret\":false}}");
	a = J("{\"type\":\"variable\",\"name\":\"H\",\"config\":{\"value\":"
	    "\"a\",\"is_secret\":false}}");
	r = diff_resource(d, a, NULL);
	check_changes(r, "config.value=\"a\">\"b\";", "plain value shown");
	json_decref(r);
	json_decref(a);
	json_decref(d);
}

static json_t *
rec(const char *type, const char *name, const char *tags, const char *extra)
{
	char *t = xasprintf("{\"type\":\"%s\",\"name\":\"%s\",\"source\":"
	    "\"f.toml:1\",\"tags\":%s%s,\"config\":{\"v\":1}}", type, name,
	    tags, extra);
	json_t *j = J(t);

	free(t);
	return j;
}

static char *
summary(const json_t *out)
{
	json_t *r;
	size_t i;
	char *s = xstrdup(""), *n;

	json_array_foreach(out, i, r) {
		n = xasprintf("%s%s %s/%s\n", s, op_of(r), json_string_value(
		    json_object_get(r, "type")), json_string_value(
		    json_object_get(r, "name")));
		free(s);
		s = n;
	}
	return s;
}

static void
test_run(void)
{
	json_t *decl = json_array(), *app = json_object(), *out, *t;
	struct diff_opts o = { NULL, 0, 1, 1, 1, NULL, 0, NULL, 1 };
	struct diff_counts c;
	const char *prod[] = { "prod", "eu" };
	char *s;

	json_array_append_new(decl, rec("deployment", "web", "[\"prod\","
	    "\"eu\"]", ""));
	json_array_append_new(decl, rec("deployment", "api", "[\"prod\"]",
	    ""));
	json_array_append_new(decl, rec("variable", "V", "[]", ""));
	json_array_append_new(decl, rec("server", "h", "[]", ""));
	json_array_append_new(decl, rec("procedure", "p", "[]", ""));
	json_array_append_new(decl, rec("user_group", "g", "[]", ""));
	t = json_object();
	json_object_set_new(t, "web", rec("deployment", "web", "[\"prod\","
	    "\"eu\"]", ""));
	json_object_set_new(t, "gone", rec("deployment", "gone", "[]", ""));
	json_object_set_new(t, "gone_eu", rec("deployment", "gone_eu",
	    "[\"prod\",\"eu\"]", ""));
	json_object_set_new(t, "theirs", rec("deployment", "theirs", "[]",
	    ",\"sync\":\"other\""));
	json_object_set_new(t, "mine", rec("deployment", "mine", "[]",
	    ",\"sync\":\"home\""));
	json_object_set_new(app, "deployment", t);
	t = json_object();
	json_object_set_new(t, "OLD", rec("variable", "OLD", "[]", ""));
	json_object_set_new(app, "variable", t);

	ok(diff_run(decl, app, &o, &out, &c) == 0, "diff_run");
	s = summary(out);
	is_str(s, "create variable/V\ncreate user_group/g\ncreate server/h\n"
	    "create deployment/api\nkeep deployment/web\ncreate procedure/p\n",
	    "type order of 2.5, then names; no deletes without delete");
	free(s);
	is_int(c.create, 5, "count create");
	is_int(c.keep, 1, "count keep");
	is_int(c.total, 6, "count total");
	json_decref(out);

	o.delete = 1;
	ok(diff_run(decl, app, &o, &out, &c) == 0, "diff_run with delete");
	s = summary(out);
	is_str(s, "delete variable/OLD\ncreate variable/V\n"
	    "create user_group/g\ncreate server/h\ncreate deployment/api\n"
	    "delete deployment/gone\ndelete deployment/gone_eu\n"
	    "keep deployment/web\ncreate procedure/p\n",
	    "delete: undeclared applied without a sync are deleted");
	free(s);
	json_decref(out);

	o.sync = "home";
	ok(diff_run(decl, app, &o, &out, &c) == 0, "diff_run sync home");
	s = summary(out);
	ok(strstr(s, "delete deployment/mine\n") &&
	    !strstr(s, "theirs"), "another sync's resources are left alone");
	free(s);
	json_decref(out);

	o.match_tags = prod;
	o.nmatch_tags = 2;
	o.include_variables = 0;
	o.include_user_groups = 0;
	ok(diff_run(decl, app, &o, &out, &c) == 0, "diff_run match_tags");
	s = summary(out);
	is_str(s, "delete deployment/gone_eu\nkeep deployment/web\n",
	    "match_tags needs all tags, on both sides; variables and user "
	    "groups gated");
	free(s);
	json_decref(out);

	o.match_tags = NULL;
	o.nmatch_tags = 0;
	o.include_resources = 0;
	o.include_variables = 1;
	ok(diff_run(decl, app, &o, &out, &c) == 0, "include_resources off");
	s = summary(out);
	is_str(s, "delete variable/OLD\ncreate variable/V\n",
	    "only variables when include_resources is off");
	free(s);
	json_decref(out);

	/* server: applied resources of other hosts are never deleted */
	{
		json_t *d2 = json_array(), *a2 = json_object();
		struct diff_opts o2 = { NULL, 1, 1, 1, 1, NULL, 0, "h1", 1 };

		json_array_append_new(d2, J("{\"type\":\"deployment\",\"name\":"
		    "\"a\",\"config\":{\"server\":\"h1\"}}"));
		json_object_set_new(a2, "deployment", J("{\"b\":{\"type\":"
		    "\"deployment\",\"name\":\"b\",\"config\":{\"server\":"
		    "\"h1\"}},\"e\":{\"type\":\"deployment\",\"name\":\"e\","
		    "\"config\":{\"server\":\"h2\"}},\"f\":{\"type\":"
		    "\"deployment\",\"name\":\"f\",\"config\":{\"server\":"
		    "\"\"}}}"));
		json_object_set_new(a2, "server", J("{\"h1\":{\"type\":"
		    "\"server\",\"name\":\"h1\"},\"h2\":{\"type\":\"server\","
		    "\"name\":\"h2\"}}"));
		ok(diff_run(d2, a2, &o2, &out, &c) == 0, "diff_run -n h1");
		s = summary(out);
		is_str(s, "delete server/h1\ncreate deployment/a\n"
		    "delete deployment/b\ndelete deployment/f\n",
		    "other hosts' applied resources are not deleted here");
		free(s);
		json_decref(out);
		json_decref(d2);
		json_decref(a2);
	}
	json_decref(decl);
	json_decref(app);
}

static void
test_errors(void)
{
	json_t *decl = json_array(), *app = json_object(), *out;
	struct diff_opts o = { NULL, 0, 1, 1, 1, NULL, 0, NULL, 1 };
	struct diff_counts c;

	json_array_append_new(decl, rec("deployment", "web", "[]",
	    ",\"after\":[\"db\"],\"after_source\":\"w.toml:4\""));
	diag("expect one diagnostic about 'db' on stderr:");
	ok(diff_run(decl, app, &o, &out, &c) == -1 && !out,
	    "after naming nothing is an error");
	json_object_set_new(app, "stack", J("{\"db\":{\"type\":\"stack\","
	    "\"name\":\"db\",\"config\":{}}}"));
	ok(diff_run(decl, app, &o, &out, &c) == 0,
	    "after naming an applied stack is fine");
	json_decref(out);
	json_array_append_new(decl, rec("deployment", "web", "[]", ""));
	diag("expect one diagnostic about a duplicate on stderr:");
	ok(diff_run(decl, app, &o, &out, &c) == -1, "duplicate is an error");
	json_array_clear(decl);
	json_array_append_new(decl, J("{\"type\":\"deployment\"}"));
	diag("expect one diagnostic about a missing name on stderr:");
	ok(diff_run(decl, app, &o, &out, &c) == -1, "no name is an error");
	json_decref(decl);
	json_decref(app);
}

static void
test_render(void)
{
	json_t *v;
	char *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	struct diff_counts c = { 1, 1, 1, 2, 5 };
	json_t *recs;

	v = J("[{\"key\":\"A\",\"value\":\"1\"},{\"key\":\"B\",\"value\":"
	    "\"x y\"}]");
	s = diff_render_value(v, 60);
	is_str(s, "\"A=1, B=x y\"", "kv list rendered compactly");
	free(s);
	json_decref(v);
	v = J("[{\"local\":\"8080\",\"container\":\"80\"}]");
	s = diff_render_value(v, 60);
	is_str(s, "\"8080:80\"", "ports rendered as local:container");
	free(s);
	json_decref(v);
	v = json_string("0123456789012345678901234567890123456789");
	s = diff_render_value(v, 20);
	is_str(s, "\"0123456...3456789\"", "long value elided in the middle");
	free(s);
	json_decref(v);

	recs = J("[{\"op\":\"create\",\"type\":\"variable\",\"name\":\"V\","
	    "\"source\":\"v.toml:1\",\"changes\":[],\"deploy_changes\":[]},"
	    "{\"op\":\"keep\",\"type\":\"variable\",\"name\":\"K\"},"
	    "{\"op\":\"update\",\"type\":\"deployment\",\"name\":\"web\","
	    "\"source\":\"w.toml:3\",\"changes\":[{\"path\":\"config.image."
	    "params.image\",\"from\":\"a:1\",\"to\":\"a:2\"},{\"path\":"
	    "\"config.environment\",\"from\":[{\"key\":\"P\",\"value\":"
	    "\"[[X]]\"}],\"to\":[]}],\"deploy_changes\":[\"image\","
	    "\"environment\"]},"
	    "{\"op\":\"delete\",\"type\":\"deployment\",\"name\":\"old\","
	    "\"source\":\"o.toml:1\",\"changes\":[]}]");
	fp = open_memstream(&buf, &len);
	diff_render_human(fp, recs, &c, 0, 0);
	fclose(fp);
	is_str(buf, "+ create variable 'V' (v.toml:1)\n\n"
	    "~ update deployment 'web' (w.toml:3) [deploy: image, "
	    "environment]\n"
	    "    config.image.params.image: \"a:1\" -> \"a:2\"\n"
	    "    config.environment: \"P=[[X]]\" -> []\n"
	    "- delete deployment 'old' (o.toml:1)\n\n"
	    "Plan: 1 to create, 1 to update, 1 to delete, 2 unchanged.\n",
	    "human plan");
	free(buf);
	fp = open_memstream(&buf, &len);
	diff_render_human(fp, recs, &c, 1, 1);
	fclose(fp);
	ok(strstr(buf, "\033[32m+ create") && strstr(buf, "  keep variable "
	    "'K'"), "colour and -v");
	free(buf);
	json_decref(recs);

	recs = json_array();
	c = (struct diff_counts){ 0, 0, 0, 0, 0 };
	fp = open_memstream(&buf, &len);
	diff_render_human(fp, recs, &c, 0, 0);
	fclose(fp);
	is_str(buf, "Plan: 0 to create, 0 to update, 0 to delete, "
	    "0 unchanged.\n", "empty plan");
	free(buf);
	json_decref(recs);
	v = diff_end_record(&c);
	s = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	is_str(s, "{\"kind\":\"end\",\"program\":\"kom-sync\",\"counts\":{"
	    "\"create\":0,\"update\":0,\"delete\":0,\"keep\":0,\"total\":0}}",
	    "end record");
	free(s);
}

/* With state hashes: the same records as the full comparison. */
static void
test_hashed(void)
{
	char tmpl[] = "/tmp/kom-diff-test.XXXXXX";
	char *dir = mkdtemp(tmpl), *a, *b, *p;
	json_t *decl, *app, *all, *out1, *out2, *r;
	struct state_set *set;
	struct diff_counts c1, c2;
	struct diff_opts o;
	size_t i;

	if (!dir) {
		ok(0, "mkdtemp");
		return;
	}
	decl = J("[" DEP("nginx:1", "", "") ","
	    "{\"type\":\"build\",\"name\":\"b\",\"source\":\"b.toml:1\","
	    "\"config\":{\"version\":\"0.0.0\"}},"
	    "{\"type\":\"build\",\"name\":\"c\",\"config\":{\"version\":"
	    "\"0.0.0\"}},"
	    "{\"type\":\"variable\",\"name\":\"V\",\"config\":{\"value\":"
	    "\"<V>\",\"is_secret\":false}},"
	    "{\"type\":\"server\",\"name\":\"s\",\"tags\":[\"x\",\"y\"],"
	    "\"config\":{}},"
	    "{\"type\":\"server\",\"name\":\"t\",\"config\":{\"a\":1}}]");
	app = J("[" DEP("nginx:1", "", "") ","
	    "{\"type\":\"build\",\"name\":\"b\",\"config\":{\"version\":"
	    "\"1.2.3\"}},"
	    "{\"type\":\"build\",\"name\":\"c\",\"config\":{\"version\":"
	    "\"0.0.0\"},\"applied_at\":5},"
	    "{\"type\":\"variable\",\"name\":\"V\",\"secret\":true,"
	    "\"config\":{\"value\":\"<V>\",\"is_secret\":false}},"
	    "{\"type\":\"server\",\"name\":\"s\",\"tags\":[\"y\",\"x\"],"
	    "\"config\":{}},"
	    "{\"type\":\"server\",\"name\":\"t\",\"config\":{\"a\":1.0}},"
	    "{\"type\":\"server\",\"name\":\"gone\",\"sync\":\"z\","
	    "\"config\":{}},"
	    "{\"type\":\"deployment\",\"name\":\"old\",\"config\":{}}]");
	json_array_foreach(app, i, r)
		state_save(dir, r);
	memset(&o, 0, sizeof(o));
	o.include_resources = o.include_variables = o.include_user_groups = 1;
	o.delete = 1;
	ok(state_load_all(dir, &all) == 0, "load the saved state");
	ok(diff_run(decl, all, &o, &out1, &c1) == 0, "full diff");
	set = state_set_load(dir);
	ok(set && diff_run_set(decl, set, &o, &out2, &c2) == 0,
	    "diff over hashes");
	a = dump(out1);
	b = dump(out2);
	is_str(b, a, "the same records with and without hashes");
	/* kept: web, c by hash; b (version rule), V (the secret flag is not
	 * compared), s (tag order) by comparison; t: 1 is not 1.0 */
	ok(c1.keep == c2.keep && c1.update == c2.update && c1.delete == c2.delete
	    && c1.keep == 5 && c1.update == 1 && c1.delete == 1,
	    "the same counts (5 kept, 1 updated, 1 deleted)");
	free(a);
	free(b);
	json_decref(out1);
	json_decref(out2);
	/* a stale hash (the file edited by hand) is not trusted */
	p = state_path(dir, "deployment", "web");
	{
		char *t = NULL;
		FILE *f = fopen(p, "r");
		size_t cap = 0;
		ssize_t n = f ? getline(&t, &cap, f) : -1;
		char *q = n > 0 ? strstr(t, "nginx:1") : NULL;

		if (f)
			fclose(f);
		if (q)
			q[6] = '7';
		ok(q && file_write_atomic(p, t, strlen(t), 0644) == 0,
		    "edit an applied image by hand");
		free(t);
	}
	state_set_free(set);
	set = state_set_load(dir);
	ok(set && diff_run_set(decl, set, &o, &out2, &c2) == 0 &&
	    !strcmp(op_of(json_array_get(out2, json_array_size(out2) - 1)),
	    "update") && c2.keep == 4, "the hand edit shows as an update");
	json_decref(out2);
	state_set_free(set);
	free(p);
	json_decref(all);
	json_decref(decl);
	json_decref(app);
	tap_rm_rf(dir);
}

int
main(void)
{
	ok(diff_type_rank("variable") < diff_type_rank("user_group") &&
	    diff_type_rank("user_group") < diff_type_rank("server") &&
	    diff_type_rank("stack") < diff_type_rank("resource_sync") &&
	    diff_type_rank("resource_sync") < diff_type_rank("deployment") &&
	    diff_type_rank("deployment") < diff_type_rank("procedure") &&
	    diff_type_rank("procedure") < diff_type_rank("nonsense"),
	    "type rank follows Komodo's apply order");
	test_resource();
	test_secrets();
	test_run();
	test_errors();
	test_render();
	test_hashed();
	return done_testing();
}
