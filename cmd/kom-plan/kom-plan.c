/*
 * kom-plan: the second stage of the pipeline
 *
 *	kom-sync diff DIR | kom-plan [-l STATUS] | kom-exec
 *
 * reads kom-sync's resource records (and, with -l, kom-exec status's live
 * status records) and writes the step records kom-exec carries out, in
 * stages: what to record, remove, destroy and deploy, and why (Komodo's
 * deploy/after rules, ordered by Kahn's algorithm, cycles rejected).
 * With -p it writes the steps of one procedure instead.  -H and -g print
 * the plan for people and for dot(1).  See kom-plan(1), kom-json(5).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonl.h"
#include "paths.h"
#include "plan.h"
#include "render.h"
#include "util.h"
#include "banned.h"

/*
 * The plan lives until exit: freeing 100,000 jansson records one by one
 * costs more than planning them, so main leaves it to the kernel.  The
 * static keeps it reachable for valgrind and LeakSanitizer (git's UNLEAK).
 */
static struct plan *volatile plan_at_exit;

static const char usage[] =
    "usage: kom-plan [-gHV] [-l status] [file]\n"
    "       kom-plan [-gHV] -p procedure [file]\n";

/* Error records from upstream, copied through. */
struct errors {
	json_t **v;
	size_t n, cap;
};

static void
keep_error(struct errors *e, json_t *rec)
{
	KOM_GROW(e->v, e->n + 1, e->cap);
	e->v[e->n++] = rec;
}

/* Print err's lines as diagnostics; as error records too when out. */
static void
report(const char *lines, FILE *out)
{
	const char *s = lines, *e;
	char *line;

	for (; *s; s = e + 1) {
		e = strchr(s, '\n');
		line = xstrndup(s, (size_t)(e - s));
		kom_warn("%s", line);
		if (out)
			jsonl_write_error(out, line);
		free(line);
	}
}

/*
 * Read one stream: resource records (or status records when status is
 * set) go into the plan, error records into errs, messages about bad
 * records into err.  -1 when the stream is malformed or truncated (the
 * reader has said why).
 */
static int
read_stream(FILE *fp, const char *name, struct plan *p, int status,
    struct errors *errs, struct buf *err)
{
	struct jsonl_reader r;
	json_t *rec;
	char *where;
	int n;
	const char *kind, *want = status ? "status" : "resource";

	jsonl_reader_init(&r, fp, name);
	while ((n = jsonl_next(&r, &rec)) > 0) {
		kind = jsonl_kind(rec);
		if (strcmp(kind, "error") == 0) {
			keep_error(errs, rec);
			continue;
		}
		if (strcmp(kind, want) == 0) {
			where = xasprintf("%s:%ld", name, r.line);
			if (status)
				plan_add_status(p, rec, where, err);
			else
				plan_add_resource(p, rec, where, err);
			free(where);
		}
		json_decref(rec);
	}
	jsonl_reader_free(&r);
	return n < 0 ? -1 : 0;
}

static FILE *
open_input(const char *path)
{
	FILE *fp;

	if (!path || strcmp(path, "-") == 0)
		return stdin;
	if (!(fp = fopen(path, "re")))
		kom_diee(KOM_EX_IOERR, "%s", path);
	return fp;
}

/*
 * jsonl_write, but through one string: json_dumpf writes token by token,
 * which costs a third of the run on 100,000 steps.
 */
static int
write_step(FILE *fp, const json_t *step)
{
	char *s = json_dumps(step, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int rc;

	if (!s)
		kom_die(KOM_EX_SOFTWARE, "out of memory writing a step");
	rc = fputs(s, fp) == EOF || putc('\n', fp) == EOF ? -1 : 0;
	free(s);
	return rc;
}

static int
write_end(FILE *fp, size_t steps, int stages)
{
	return jsonl_write_steal(fp, json_pack("{s:s,s:s,s:I,s:i}", "kind",
	    "end", "program", "kom-plan", "steps", (json_int_t)steps,
	    "stages", stages));
}

int
main(int argc, char **argv)
{
	const char *status = NULL, *proc = NULL, *file, *fname;
	int c, human = 0, graph = 0, rc = KOM_EX_OK, bad = 0, wrc = 0;
	struct errors errs = { 0 };
	struct kom_paths paths;
	struct buf err = BUF_INIT;
	struct plan *p;
	json_t *const *steps;
	size_t n, i;
	FILE *in, *st;

	while ((c = getopt(argc, argv, "gHhl:p:V")) != -1) {
		switch (c) {
		case 'g': graph = 1; break;
		case 'H': human = 1; break;
		case 'l': status = optarg; break;
		case 'p': proc = optarg; break;
		case 'V': puts("kom-plan " KOM_VERSION); return KOM_EX_OK;
		case 'h': fputs(usage, stdout); return KOM_EX_OK;
		default: fputs(usage, stderr); return KOM_EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (human && graph) || (status && proc)) {
		fputs(usage, stderr);
		return KOM_EX_USAGE;
	}
	file = argc ? argv[0] : NULL;
	fname = file && strcmp(file, "-") != 0 ? file : "<stdin>";
	if (status && strcmp(status, "-") == 0 && fname[0] == '<') {
		kom_warn("-l -: the status comes from stdin, so the resource "
		    "stream must come from a file");
		return KOM_EX_USAGE;
	}

	p = plan_new();
	in = open_input(file);
	if (read_stream(in, fname, p, 0, &errs, &err) < 0)
		bad = 1;
	if (in != stdin)
		fclose(in);
	if (!bad && status) {
		st = open_input(status);
		plan_set_live(p);
		if (read_stream(st, strcmp(status, "-") ? status : "<stdin>",
		    p, 1, &errs, &err) < 0)
			bad = 1;
		if (st != stdin)
			fclose(st);
	}
	if (bad) {
		/* unreadable input: nothing downstream may apply anything */
		report(err.s, NULL);
		rc = KOM_EX_DATAERR;
		goto out;
	}
	if (errs.n) {
		kom_warn("%s: %zu error record%s in the input: no steps",
		    fname, errs.n, errs.n == 1 ? "" : "s");
		if (!human && !graph) {
			for (i = 0; i < errs.n; i++)
				wrc |= jsonl_write(stdout, errs.v[i]);
			wrc |= write_end(stdout, 0, 0);
		}
		rc = KOM_EX_DATAERR;
		goto out;
	}
	if (err.len) {
		c = -1;
	} else if (proc) {
		paths_get(&paths);
		c = plan_procedure(p, proc, paths.state, &err);
		paths_free(&paths);
	} else {
		c = plan_build(p, &err);
	}
	if (c < 0) {
		report(err.s, human || graph ? NULL : stdout);
		if (!human && !graph)
			wrc |= write_end(stdout, 0, 0);
		rc = KOM_EX_DATAERR;
		goto out;
	}
	steps = plan_steps(p, &n);
	if (human)
		wrc |= render_human(stdout, steps, n, plan_stages(p),
		    kom_use_color(STDOUT_FILENO));
	else if (graph)
		wrc |= render_dot(stdout, steps, n, plan_stages(p));
	else {
		for (i = 0; i < n; i++)
			wrc |= write_step(stdout, steps[i]);
		wrc |= write_end(stdout, n, plan_stages(p));
	}
out:
	if (fclose(stdout) != 0 || wrc) {
		kom_warne("stdout");
		rc = KOM_EX_IOERR;
	}
	for (i = 0; i < errs.n; i++)
		json_decref(errs.v[i]);
	free(errs.v);
	buf_free(&err);
	plan_at_exit = p;
	return rc;
}
