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
#include <sys/stat.h>
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

/*
 * The resource stream, whole in memory: resource records are not parsed
 * into jansson trees but skimmed (lib/jsonskim.h), and their text goes to
 * the plan; 100,000 of them plan in a fraction of a second this way.  The
 * rules and messages are lib/jsonl's: one object with a "kind" a line, an
 * end record last, lines capped at JSONL_MAX_LINE.
 */
struct input {
	struct buf text;
	size_t *eol;		/* offset of each '\n' */
	size_t nl, capl;
	int rerr;		/* errno of a read error */
	enum { IN_EOF, IN_IO, IN_LONG, IN_NONL } why;
};

static void
slurp(FILE *fp, struct input *in)
{
	struct buf *t = &in->text;
	struct stat sb;
	size_t got, start, bol = 0;
	char *q;

	if (fstat(fileno(fp), &sb) == 0 && S_ISREG(sb.st_mode) &&
	    sb.st_size > 0)
		buf_grow(t, (size_t)sb.st_size + 1);
	for (;;) {
		if (t->cap - t->len < 65536)
			buf_grow(t, 1u << 20);
		start = t->len;
		got = fread(t->s + t->len, 1, t->cap - t->len - 1, fp);
		t->len += got;
		t->s[t->len] = '\0';
		for (q = t->s + start; (q = memchr(q, '\n', (size_t)(t->s +
		    t->len - q))); q++) {
			KOM_GROW(in->eol, in->nl + 1, in->capl);
			in->eol[in->nl++] = (size_t)(q - t->s);
			if ((size_t)(q - t->s) - bol > JSONL_MAX_LINE) {
				in->why = IN_LONG;
				return;
			}
			bol = (size_t)(q - t->s) + 1;
		}
		if (t->len - bol > JSONL_MAX_LINE) {
			in->nl++;	/* the long line, for the message */
			in->why = IN_LONG;
			return;
		}
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		in->rerr = errno;
		in->why = IN_IO;
	} else if (t->len > bol) {
		in->why = IN_NONL;
	}
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

/* A record jsonskim rejected: say why as jansson would, the line's way. */
static void
bad_record(const char *name, size_t line, const char *s, size_t len,
    const struct jsonskim *sk)
{
	json_error_t jerr;
	json_t *j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		kom_warn("%s:%zu:%d: invalid JSON: %s", name, line,
		    jerr.column, jerr.text);
	else if (!json_is_object(j))
		kom_warn("%s:%zu: record is not an object with a \"kind\"",
		    name, line);
	else
		kom_warn("%s:%zu:%zu: invalid JSON: %s", name, line,
		    sk->err_off + 1, sk->err);
	json_decref(j);
}

static int
read_resources(FILE *fp, const char *name, struct plan *p,
    struct errors *errs, struct buf *err)
{
	struct input in = { .text = BUF_INIT };
	struct jsonskim sk;
	struct buf w = BUF_INIT, kind = BUF_INIT;
	const struct jsonskim_member *km;
	size_t i, bol = 0, len;
	const char *s;
	int end = 0, rc = -1;

	jsonskim_init(&sk);
	slurp(fp, &in);
	plan_reserve(p, in.nl);
	for (i = 0; i < in.nl && in.eol; i++, bol = in.eol[i - 1] + 1) {
		if (in.why == IN_LONG && i == in.nl - 1)
			break;
		s = in.text.s + bol;
		len = in.eol[i] - bol;
		if (len == 0)
			continue;
		if (end) {
			kom_warn("%s:%zu: data after the end record", name,
			    i + 1);
			goto out;
		}
		if (jsonskim_object(&sk, s, len) < 0) {
			bad_record(name, i + 1, s, len, &sk);
			goto out;
		}
		km = jsonskim_get(&sk, s, "kind");
		if (!km || jsonskim_string(s + km->voff, km->vlen, &kind) < 0) {
			kom_warn("%s:%zu: record is not an object with a "
			    "\"kind\"", name, i + 1);
			goto out;
		}
		if (strcmp(kind.s, "end") == 0) {
			end = 1;
		} else if (strcmp(kind.s, "error") == 0) {
			keep_error(errs, json_loadb(s, len, 0, NULL));
		} else if (strcmp(kind.s, "resource") == 0) {
			plan_add_skimmed(p, s, &sk, where_of(&w, name, i + 1),
			    err);
		}
	}
	switch (in.why) {
	case IN_IO:
		errno = in.rerr;
		kom_warne("%s: read error", name);
		goto out;
	case IN_LONG:
		kom_warn("%s:%zu: record longer than %zu bytes", name, in.nl,
		    (size_t)JSONL_MAX_LINE);
		goto out;
	case IN_NONL:
		kom_warn("%s:%zu: truncated input: last line has no newline",
		    name, in.nl + 1);
		goto out;
	case IN_EOF:
		break;
	}
	if (!end) {
		kom_warn("%s:%zu: truncated input: no end record", name, in.nl);
		goto out;
	}
	rc = 0;
out:
	jsonskim_free(&sk);
	buf_free(&w);
	buf_free(&kind);
	buf_free(&in.text);
	free(in.eol);
	return rc;
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
