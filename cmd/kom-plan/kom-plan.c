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
#include "jsonskim.h"
#include "paths.h"
#include "plan.h"
#include "render.h"
#include "util.h"
#include "banned.h"

/* The limit on each input stream, kom-plan(1) LIMITS. */
#define KOM_PLAN_MAX_INPUT ((size_t)128 << 20)

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
 * Read the status stream (-l): status records go into the plan, error
 * records into errs, messages about bad records into err.  -1 when the
 * stream is malformed or truncated (the reader has said why).
 */
static int
read_status(FILE *fp, const char *name, struct plan *p, struct errors *errs,
    struct buf *err)
{
	struct jsonl_reader r;
	json_t *rec;
	char *where;
	int n;

	jsonl_reader_init(&r, fp, name);
	r.limit = KOM_PLAN_MAX_INPUT;
	while ((n = jsonl_next(&r, &rec)) > 0) {
		if (strcmp(jsonl_kind(rec), "error") == 0) {
			keep_error(errs, rec);
			continue;
		}
		if (strcmp(jsonl_kind(rec), "status") == 0) {
			where = xasprintf("%s:%ld", name, r.line);
			plan_add_status(p, rec, where, err);
			free(where);
		}
		json_decref(rec);
	}
	jsonl_reader_free(&r);
	return n < 0 ? -1 : 0;
}

/* "name:line" into w, without printf (once per record). */
static const char *
where_of(struct buf *w, const char *name, size_t line)
{
	char t[24], *e = t + sizeof(t), *q = e;

	buf_reset(w);
	buf_adds(w, name);
	buf_addc(w, ':');
	do
		*--q = (char)('0' + line % 10);
	while ((line /= 10));
	buf_add(w, q, (size_t)(e - q));
	return w->s;
}

/*
 * The resource stream, whole in memory (jsonl_slurp): resource records
 * are not parsed into jansson trees but skimmed (lib/jsonskim.h), and
 * their text goes to the plan; 100,000 of them plan in a fraction of a
 * second this way.  lib/jsonl serves the lines and keeps its rules and
 * messages: one object with a "kind" a line, an end record last, lines
 * capped at JSONL_MAX_LINE, the stream at KOM_PLAN_MAX_INPUT bytes.
 */
static int
read_resources(FILE *fp, const char *name, struct plan *p,
    struct errors *errs, struct buf *err)
{
	struct jsonl_reader r;
	struct jsonskim sk;
	struct buf w = BUF_INIT, kind = BUF_INIT;
	const struct jsonskim_member *km;
	const char *s;
	size_t len;
	long lines;
	int n = -1;

	jsonl_reader_init(&r, fp, name);
	r.limit = KOM_PLAN_MAX_INPUT;
	jsonskim_init(&sk);
	if ((lines = jsonl_slurp(&r)) < 0)
		goto out;
	/* sized for the records there can be: a resource record is at least
	   {"kind":"resource","type":"","name":""} and its newline */
	plan_reserve(p, (size_t)lines < r.total / 40 ? (size_t)lines :
	    r.total / 40);
	while ((n = jsonl_next_line(&r, &s, &len)) > 0) {
		if (jsonskim_object(&sk, s, len) < 0) {
			/* jansson's words when it refuses the line too */
			if (jsonl_check_line(&r, s, len) == 0)
				kom_warn("%s:%ld:%zu: invalid JSON: %s", name,
				    r.line, sk.err_off + 1, sk.err);
			n = -1;
			break;
		}
		km = jsonskim_get(&sk, s, "kind");
		if (!km || jsonskim_string(s + km->voff, km->vlen, &kind) < 0) {
			jsonl_check_line(&r, s, len);
			n = -1;
			break;
		}
		if (strcmp(kind.s, "end") == 0) {
			jsonl_end(&r);
		} else if (strcmp(kind.s, "error") == 0) {
			keep_error(errs, json_loadb(s, len, 0, NULL));
		} else if (strcmp(kind.s, "resource") == 0) {
			plan_add_skimmed(p, s, &sk, where_of(&w, name,
			    (size_t)r.line), err);
		}
	}
out:
	jsonskim_free(&sk);
	buf_free(&w);
	buf_free(&kind);
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
		case 'V':
			puts("kom-plan " KOM_VERSION);
			return kom_close_stdout(KOM_EX_OK);
		case 'h':
			fputs(usage, stdout);
			return kom_close_stdout(KOM_EX_OK);
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
	if (read_resources(in, fname, p, &errs, &err) < 0)
		bad = 1;
	if (in != stdin)
		fclose(in);
	if (!bad && status) {
		st = open_input(status);
		plan_set_live(p);
		if (read_status(st, strcmp(status, "-") ? status : "<stdin>",
		    p, &errs, &err) < 0)
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
	if (human || graph) {
		steps = plan_steps(p, &n);
		wrc |= human ? render_human(stdout, steps, n, plan_stages(p),
		    kom_use_color(STDOUT_FILENO)) : render_dot(stdout, steps,
		    n, plan_stages(p));
	} else {
		wrc |= plan_write(p, stdout, &n);
		wrc |= write_end(stdout, n, plan_stages(p));
	}
out:
	/* a failed write also sets the stream's error flag */
	rc = kom_close_stdout(wrc && !ferror(stdout) ? KOM_EX_IOERR : rc);
	for (i = 0; i < errs.n; i++)
		json_decref(errs.v[i]);
	free(errs.v);
	buf_free(&err);
	plan_free(p);
	return rc;
}
