/* Unit tests for lib/resource.c: the API the diff engineer builds on. */
#include <pthread.h>
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

/* A rebuild's records as JSON text by index (fn on several threads). */
struct rebuilt {
	pthread_mutex_t mu;
	char *text[64];
	int calls, stop_at, stop_with;
};

static int
keep(void *ctx, json_t *rec, size_t i)
{
	struct rebuilt *r = ctx;
	char *t = json_dumps(rec, JSON_COMPACT);
	int stop = 0;

	json_decref(rec);
	pthread_mutex_lock(&r->mu);
	r->calls++;
	if (i < 64 && !r->text[i])
		r->text[i] = t;
	else
		free(t);
	if (r->stop_at && r->calls >= r->stop_at)
		stop = r->stop_with--;	/* 2, then 1, 0, -1 ... */
	pthread_mutex_unlock(&r->mu);
	return stop;
}

/* resource_check() of the files in dir, then a rebuild on nthreads, fn
 * stopping it from call stop_at on (0: never) with stop_with, then one
 * less each call: returns what the rebuild returned; the records in r */
static int
rebuild_dir(int nthreads, int stop_at, int stop_with, struct rebuilt *r)
{
	const char *paths[1] = { dir };
	struct resource_opts o;
	struct resource_pass *pass = NULL;
	struct seen s;
	json_t *checked = NULL;
	long errors;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->stop_at = stop_at;
	r->stop_with = stop_with;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	buf_init(&s.all);
	o.diag = collect;
	o.diag_ctx = &s;
	o.check_only = 1;
	errors = resource_check(paths, 1, &o, &checked, &pass);
	json_decref(checked);
	if (errors || !pass) {
		diag("check failed: %s", s.all.s ? s.all.s : "");
		buf_free(&s.all);
		return -100;
	}
	buf_free(&s.all);
	return resource_rebuild(pass, nthreads, keep, r);
}

static void
rebuilt_free(struct rebuilt *r)
{
	size_t i;

	for (i = 0; i < 64; i++)
		free(r->text[i]);
}

/* Eight files rebuilt on one and on four threads: every record once, at
 * its index, the same as resource_load() makes; a stop wins. */
static void
threaded_rebuild(void)
{
	struct resource_opts o;
	struct rebuilt one, four, stop;
	struct seen s;
	json_t *whole;
	char name[64], text[512];
	size_t i, n;
	int k, same = 1, rc;

	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof(name), "r%d.toml", k);
		snprintf(text, sizeof(text), "[[deployment]]\nname = \"d%d\"\n"
		    "after = [\"d%d\"]\n[deployment.config]\nenvironment = "
		    "\"A=%d\"\n[[stack]]\nname = \"s%d\"\n"
		    "[[deployment]]\nname = \"e%d\"\n", k, (k + 1) % 8 ? k + 1
		    : 0, k, k, k);
		free(write_file(name, text));
	}
	/* d7 after d0 closes no cycle: d0 is after d1 ... d6 after d7 */
	memset(&o, 0, sizeof(o));
	if (load(dir, &o, &s, &whole) != 0)
		diag("%s", s.all.s);
	buf_free(&s.all);
	n = json_array_size(whole);

	is_int(rebuild_dir(1, 0, 0, &one), 0, "rebuild on one thread");
	is_int(rebuild_dir(4, 0, 0, &four), 0, "rebuild on four threads");
	is_int(one.calls, (int)n, "one thread: every record");
	is_int(four.calls, (int)n, "four threads: every record, once");
	for (i = 0; i < n && i < 64; i++) {
		char *t = json_dumps(json_array_get(whole, i), JSON_COMPACT);

		if (!one.text[i] || !four.text[i] || strcmp(t, one.text[i]) ||
		    strcmp(t, four.text[i])) {
			diag("record %zu: %s / %s / %s", i, t, one.text[i],
			    four.text[i]);
			same = 0;
		}
		free(t);
	}
	ok(same, "each record at its index, as resource_load() makes it");

	/* fn returns 2, then 1, 0, -1 ...: the smallest nonzero wins */
	rc = rebuild_dir(4, 3, 2, &stop);
	ok(rc != 0 && rc <= 2, "a stop is returned (%d)", rc);
	ok(stop.calls < (int)n, "the rebuild stops early (%d of %zu)",
	    stop.calls, n);
	rebuilt_free(&stop);
	rc = rebuild_dir(1, 2, 5, &stop);
	is_int(rc, 5, "one thread: the first stop's value");
	is_int(stop.calls, 2, "one thread: no call after it");

	rebuilt_free(&one);
	rebuilt_free(&four);
	rebuilt_free(&stop);
	json_decref(whole);
	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof(name), "%s/r%d.toml", dir, k);
		unlink(name);
	}
}

/* The files in dir loaded on nthreads threads: the diagnostics and the
 * records as text, the error count returned. */
static long
load_threads(int nthreads, int check_only, struct seen *s, char **records)
{
	const char *paths[1] = { dir };
	struct resource_opts o;
	json_t *out;
	long n;

	memset(&o, 0, sizeof(o));
	o.threads = nthreads;
	o.check_only = check_only;
	o.notes = 1;
	n = load(dir, &o, s, &out);
	(void)paths;
	*records = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return n;
}

/* Sixty-four files, with errors, warnings, duplicates within and across
 * files and references between them: checked on four threads, the same
 * words in the same order and the same records as on one. */
static void
threaded_check(void)
{
	char name[64], text[1024];
	struct seen one, four;
	char *r1, *r4;
	long e1, e4;
	int k, mode;

	for (k = 0; k < 64; k++) {
		snprintf(name, sizeof(name), "c%02d.toml", k);
		snprintf(text, sizeof(text),
		    "[[deployment]]\nname = \"d%d\"\nafter = [\"d%d\", \"nope%d\"]\n"
		    "[deployment.config]\nserver = \"h\"\nenvironment = \"A=[[V%d]]\"\n"
		    "imgae = \"typo\"\n"
		    "[[deployment]]\nname = \"%s\"\n"
		    "[deployment.config]\nports = \"%s\"\n"
		    "[[stack]]\nname = \"s%d\"\nconfig.server = \"other\"\n"
		    "[[server]]\nname = \"%s\"\n",
		    k, (k + 1) % 64, k % 3, k % 5,
		    k % 7 == 0 ? "dup" : k % 11 == 0 ? "d3" : "e",
		    k % 4 == 0 ? "8080" : "80:80", k,
		    k % 9 == 0 ? "h" : "x");
		/* e is declared in every file: a duplicate in all but the
		 * first; d3 and dup again across files */
		if (k % 6 == 0)
			snprintf(text + strlen(text), sizeof(text) -
			    strlen(text), "[[deployment]]\nname = \"d%d\"\n", k);
		free(write_file(name, text));
	}
	for (mode = 0; mode < 2; mode++) {
		e1 = load_threads(1, mode, &one, &r1);
		e4 = load_threads(4, mode, &four, &r4);
		ok(e1 > 10, "%s: the files have errors (%ld)", mode ? "check only" :
		    "whole", e1);
		is_int(e4, e1, "%s: as many errors on four threads", mode ?
		    "check only" : "whole");
		is_int(four.warnings, one.warnings, "%s: as many warnings", mode ?
		    "check only" : "whole");
		ok(one.all.s && four.all.s && !strcmp(one.all.s, four.all.s),
		    "%s: the same words in the same order", mode ? "check only" :
		    "whole");
		ok(r1 && r4 && !strcmp(r1, r4), "%s: the same records", mode ?
		    "check only" : "whole");
		ok(strstr(one.all.s, "duplicate deployment 'e' (also at ") !=
		    NULL, "a duplicate across files is named");
		free(r1);
		free(r4);
		buf_free(&one.all);
		buf_free(&four.all);
	}
	for (k = 0; k < 64; k++) {
		snprintf(name, sizeof(name), "%s/c%02d.toml", dir, k);
		unlink(name);
	}
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
	threaded_rebuild();
	threaded_check();
	rmdir(dir);
	return done_testing();
}
