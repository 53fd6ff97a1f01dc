/* Unit tests for lib/resource.c: the API the diff engineer builds on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "resource.h"
#include "tap.h"
#include "util.h"
#include "banned.h"

static char dir[] = "/tmp/kom-resource-test.XXXXXX";

static char *
write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(p, "w");

	if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
		diag("cannot write %s", p);
	return p;
}

struct seen {
	int errors, warnings;
	struct buf all;
};

static void
collect(void *ctx, int is_error, const char *line)
{
	struct seen *s = ctx;

	if (is_error)
		s->errors++;
	else
		s->warnings++;
	buf_adds(&s->all, line);
	buf_addc(&s->all, '\n');
}

static int
known(void *ctx, const char *type, const char *name)
{
	(void)ctx;
	return !strcmp(type, "deployment") && !strcmp(name, "applied");
}

static long
load(const char *path, struct resource_opts *o, struct seen *s, json_t **out)
{
	const char *paths[1] = { path };

	memset(s, 0, sizeof(*s));
	buf_init(&s->all);
	o->diag = collect;
	o->diag_ctx = s;
	return resource_load(paths, 1, o, out);
}

int
main(void)
{
	struct resource_opts o;
	struct seen s;
	struct buf b = BUF_INIT;
	json_t *out;
	char *a, *t;
	const char *tags[] = { "prod" };
	long n;

	if (!mkdtemp(dir))
		return 1;

	/* the """ pre-processing */
	n = (long)resource_escape_triple("a = \"\\t\"\nb = \"\"\"x\\y\\\"\"\"\n",
	    25, &b);
	is_int(n, 2, "two backslashes doubled");
	is_str(b.s, "a = \"\\t\"\nb = \"\"\"x\\\\y\\\\\"\"\"\n",
	    "only inside triple quotes");
	buf_free(&b);

	a = write_file("a.toml", "[[deployment]]\nname = \"web\"\n"
	    "after = [\"applied\"]\ntags = [\"prod\"]\n"
	    "[[deployment]]\nname = \"other\"\n"
	    "[[deployment]]\nname = \"x\"\nconfig.imgae = \"y\"\n");

	/* after naming an applied resource: satisfied by known() */
	memset(&o, 0, sizeof(o));
	n = load(a, &o, &s, &out);
	is_int(n, 1, "without known(): one error");
	ok(strstr(s.all.s, "is after 'applied', which is not declared") != NULL,
	    "the error names the missing dependency");
	is_int(s.warnings, 1, "one warning (unknown key)");
	is_int(json_array_size(out), 3, "records returned even on errors");
	json_decref(out);
	buf_free(&s.all);

	memset(&o, 0, sizeof(o));
	o.known = known;
	n = load(a, &o, &s, &out);
	is_int(n, 0, "with known(): valid");
	is_int(s.errors, 0, "no error reported");
	json_decref(out);
	buf_free(&s.all);

	/* strict counts warnings as errors, reported as errors */
	memset(&o, 0, sizeof(o));
	o.known = known;
	o.strict = 1;
	n = load(a, &o, &s, &out);
	is_int(n, 1, "strict: the warning counts");
	is_int(s.errors, 1, "strict: reported as an error");
	ok(strstr(s.all.s, "warning:") == NULL, "strict: no 'warning:'");
	json_decref(out);
	buf_free(&s.all);

	/* match tags */
	memset(&o, 0, sizeof(o));
	o.known = known;
	o.match_tags = tags;
	o.nmatch_tags = 1;
	n = load(a, &o, &s, &out);
	is_int(json_array_size(out), 1, "match_tags keeps only tagged");
	is_str(json_string_value(json_object_get(json_array_get(out, 0),
	    "name")), "web", "the tagged one");
	json_decref(out);
	buf_free(&s.all);

	/* server selection */
	t = write_file("b.toml", "[[server]]\nname = \"h1\"\n[[server]]\n"
	    "name = \"h2\"\n[[stack]]\nname = \"s1\"\nconfig.server = \"h1\"\n"
	    "[[stack]]\nname = \"s2\"\nconfig.server = \"h2\"\n"
	    "[[variable]]\nname = \"V\"\n");
	memset(&o, 0, sizeof(o));
	o.server = "h2";
	n = load(t, &o, &s, &out);
	is_int(n, 0, "servers file valid");
	is_int(json_array_size(out), 3, "h2: variable, server h2, stack s2");
	is_str(json_string_value(json_object_get(json_array_get(out, 1),
	    "name")), "h2", "only the named server");
	is_str(json_string_value(json_object_get(json_array_get(out, 2),
	    "name")), "s2", "only its stack");
	json_decref(out);
	buf_free(&s.all);

	/* a missing path is an error */
	memset(&o, 0, sizeof(o));
	n = load("/nonexistent/kom", &o, &s, &out);
	is_int(n, 1, "missing path: one error");
	is_int(json_array_size(out), 0, "no records");
	json_decref(out);
	buf_free(&s.all);

	unlink(a);
	unlink(t);
	free(a);
	free(t);
	rmdir(dir);
	return done_testing();
}
