/*
 * kom-sync diff: the first stage of an apply.
 *
 *	kom-sync diff ./syncs | kom-plan | kom-exec
 *
 * Reads the declared resources (TOML files through the resource layer, or
 * kom-sync show's records with -j), the sync options from kom.toml (-y),
 * and what was last applied from the state directory; writes one resource
 * record per resource with op create, update, delete or keep and its
 * field-level changes, then an end record (kom-json(5)).  -H prints the
 * plan for a person instead.  Nothing is written on bad input: the whole
 * stream is computed before the first line goes out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "buildver.h"
#include "config.h"
#include "diff.h"
#include "jsonl.h"
#include "paths.h"
#include "state.h"
#include "sync.h"
#include "util.h"
#include "resource.h"
#include "banned.h"

static const char usage[] = "usage: kom-sync diff [-adHsv] [-j file] "
    "[-n server] [-t tag] [-y sync] [path ...]";

/* kom-sync show's records from file ("-": stdin) into *out; -2: the file
 * cannot be opened, -1: bad records. */
static int
read_records(const char *file, json_t **out)
{
	struct jsonl_reader r;
	FILE *fp;
	json_t *rec;
	int rc;

	fp = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!fp) {
		kom_warne("%s", file);
		return -2;
	}
	jsonl_reader_init(&r, fp, strcmp(file, "-") ? file : "<stdin>");
	*out = json_array();
	while ((rc = jsonl_next(&r, &rec)) == 1) {
		if (!strcmp(jsonl_kind(rec), "error")) {
			kom_warn("%s:%ld: %s", r.name, r.line,
			    json_string_value(json_object_get(rec, "message")) ?
			    json_string_value(json_object_get(rec, "message")) :
			    "error record");
			json_decref(rec);
			rc = -1;
			break;
		}
		if (!strcmp(jsonl_kind(rec), "resource"))
			json_array_append_new(*out, rec);
		else
			json_decref(rec);
	}
	jsonl_reader_free(&r);
	if (fp != stdin)
		fclose(fp);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/*
 * The state dir is read in a second thread while the resource layer parses
 * the files (two cores); the first question about it waits for it.
 */
struct state_job {
	const char *dir;
	pthread_t thread;
	int running;
	struct state_set *set;	/* NULL: the load failed (reported) */
};

static void *
state_thread(void *arg)
{
	struct state_job *j = arg;

	j->set = state_set_load(j->dir);
	return NULL;
}

static void
state_start(struct state_job *j, const char *dir)
{
	j->dir = dir;
	j->set = NULL;
	j->running = pthread_create(&j->thread, NULL, state_thread, j) == 0;
	if (!j->running)	/* no thread: load it here */
		j->set = state_set_load(dir);
}

static struct state_set *
state_wait(struct state_job *j)
{
	if (j->running) {
		pthread_join(j->thread, NULL);
		j->running = 0;
	}
	return j->set;
}

/* The resource layer asks before reporting a reference to an undeclared
 * resource: one applied earlier (in the state dir) is fine, and so is a
 * sync that kom.toml declares. */
struct known_ctx {
	struct state_job *sj;
	const struct config *cfg;
};

static int
known_applied(void *ctx, const char *type, const char *name)
{
	struct known_ctx *k = ctx;
	struct state_set *set;

	if (!strcmp(type, "resource_sync") && config_sync(k->cfg, name))
		return 1;
	set = state_wait(k->sj);
	return set && state_set_has(set, type, name);
}

/* Diagnostics wait until the state dir is known to be readable: a bad
 * state dir is reported alone, as when it was read first. */
struct held {
	char **v;
	size_t n, cap;
};

static void
hold_diag(void *ctx, int is_error, const char *line)
{
	struct held *h = ctx;

	KOM_GROW(h->v, h->n + 1, h->cap);
	h->v[h->n++] = xstrdup(line);
}

/* Print (when print) and forget the held diagnostics. */
static void
held_flush(struct held *h, int print)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (print)
			kom_warn("%s", h->v[i]);
		free(h->v[i]);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* The second half of the records is formatted in a second thread. */
struct fmt_job {
	const json_t *records;
	size_t from;
	struct buf out;
};

static void *
fmt_thread(void *arg)
{
	struct fmt_job *j = arg;

	diff_format_records(j->records, j->from, (size_t)-1, &j->out);
	return NULL;
}

static void
write_records(FILE *fp, const json_t *records)
{
	struct fmt_job j = { records, json_array_size(records) / 2, BUF_INIT };
	struct buf b = BUF_INIT;
	pthread_t t;

	if (j.from < 512 || pthread_create(&t, NULL, fmt_thread, &j) != 0) {
		diff_write_records(fp, records);
		return;
	}
	diff_format_records(records, 0, j.from, &b);
	fwrite(b.s, 1, b.len, fp);
	pthread_join(t, NULL);
	fwrite(j.out.s, 1, j.out.len, fp);
	buf_free(&b);
	buf_free(&j.out);
}

/* The resource layer's options for the declared files. */
static void
declared_opts(struct resource_opts *ro, long *read_errors, int strict,
    struct known_ctx *k, const struct diff_opts *o, const char *statedir,
    struct held *diags)
{
	/* one thread for the files: the state is read beside them, and a
	 * second checker only cost memory (51 MiB at 10,000, over 50) */
	memset(ro, 0, sizeof(*ro));
	ro->read_errors = read_errors;
	ro->notes = 1;
	ro->strict = strict;
	ro->server = o->server;
	ro->match_tags = o->match_tags;
	ro->nmatch_tags = o->nmatch_tags;
	ro->secrets_dir = k->cfg->secrets_dir;
	ro->statedir = statedir;
	ro->known = known_applied;
	ro->known_ctx = k;
	ro->diag = hold_diag;
	ro->diag_ctx = diags;
}

static int
load_declared(char **paths, size_t npaths, int strict, struct state_job *sj,
    const struct config *cfg, const struct diff_opts *o, const char *statedir,
    struct held *diags, json_t **out)
{
	struct known_ctx k = { sj, cfg };
	struct resource_opts ro;
	long read_errors = 0;

	declared_opts(&ro, &read_errors, strict, &k, o, statedir, diags);
	if (resource_load((const char *const *)paths, npaths, &ro, out)) {
		json_decref(*out);
		*out = NULL;
		return read_errors ? -2 : -1;
	}
	/* stacks from git: what kom-poll fetched (offline) */
	{
		char *repos = xasprintf("%s/repos", statedir);
		int rc = resource_git(*out, &cfg->git, repos);

		free(repos);
		if (rc < 0) {
			json_decref(*out);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

/*
 * The diff of resource files without holding their records: the files
 * are checked first, with only what the checks across files read kept of
 * each record (and the repos, builders and variables whole: stacks,
 * builds and the diff read them); then each record is rebuilt whole, given what load_declared()
 * and main() give a record (git, sync_commit, build), compared and kept
 * as its output text only.
 */
struct stream {
	struct diff_stream *ds;
	const json_t *context;	/* the declared repos and builders */
	const struct gitcfg *git;
	const char *repos;
	struct state_set *applied;
	const char *sync_commit;
};

/*
 * The rebuild's threads: one per core, at most four, and one per MiB of
 * files (a thread costs its stack and a block of its own for records:
 * under a MiB of files, a thousand resources, one does it as fast).  The
 * human plan is made on one (its references are gathered in the order
 * of the records).
 */
static int
rebuild_threads(const struct resource_pass *pass)
{
	size_t n = (size_t)sync_threads(), mib = resource_pass_bytes(pass) >> 20;

	if (n > mib)
		n = mib;
	return n < 1 ? 1 : (int)n;
}

#define STREAM_AGAIN 1	/* a stack's git is not there: load_declared()
			 * says it, with its order of messages */

static int
stream_record(void *ctx, json_t *rec, size_t i)
{
	struct stream *st = ctx;
	struct buf msg = BUF_INIT;
	int rc;

	/* on the rebuild's threads: what reads git and the applied records
	 * takes the stream's lock */
	diff_stream_lock(st->ds);
	rc = resource_git_one(rec, st->context, st->git, st->repos, &msg);
	if (rc == 0)
		buildver_annotate_one(rec, st->context, st->applied);
	diff_stream_unlock(st->ds);
	buf_free(&msg);
	if (rc < 0) {
		json_decref(rec);
		return STREAM_AGAIN;
	}
	if (*st->sync_commit)
		json_object_set_new(rec, "sync_commit",
		    json_string(st->sync_commit));
	rc = diff_stream_add(st->ds, rec, i);
	json_decref(rec);
	return rc < 0 ? -1 : 0;
}

/* what is read across records (the variables: where they are declared,
 * for the left-out warning) */
static const char *const whole_types[] = { "repo", "builder", "variable",
	NULL };

/*
 * 0: written; -1: bad input, -2: a file could not be read, -3: the state
 * dir could not be read (said); STREAM_AGAIN: nothing said or written.
 */
static int
stream_diff(char **paths, size_t npaths, int strict, struct state_job *sj,
    const struct config *cfg, const struct diff_opts *o, const char *statedir,
    struct held *diags, const char *sync_commit, int human, int verbose)
{
	struct known_ctx k = { sj, cfg };
	struct resource_opts ro;
	struct resource_pass *pass = NULL;
	struct diff_counts counts;
	struct stream st;
	long read_errors = 0, errors;
	json_t *declared = NULL, *context, *rec;
	size_t i;
	int rc;

	declared_opts(&ro, &read_errors, strict, &k, o, statedir, diags);
	ro.check_only = 1;
	ro.whole = whole_types;
	errors = resource_check((const char *const *)paths, npaths, &ro,
	    &declared, &pass);
	memset(&st, 0, sizeof(st));
	st.applied = state_wait(sj);
	if (errors || !st.applied) {
		held_flush(diags, st.applied != NULL);
		json_decref(declared);
		if (pass)
			resource_rebuild(pass, 0, NULL, NULL);
		return !st.applied ? -3 : read_errors ? -2 : -1;
	}
	st.ds = diff_stream_new(st.applied, o, human ? DIFF_HUMAN : DIFF_JSON,
	    human && kom_use_color(1), verbose);
	context = json_array();
	rc = 0;
	json_array_foreach(declared, i, rec) {
		if (!strcmp(jsonl_str(rec, "type", ""), "repo") ||
		    !strcmp(jsonl_str(rec, "type", ""), "builder"))
			json_array_append(context, rec);
		if (!rc && diff_stream_declare(st.ds, rec) < 0)
			rc = -1;
	}
	json_decref(declared);
	st.context = context;
	st.git = &cfg->git;
	st.repos = xasprintf("%s/repos", statedir);
	st.sync_commit = sync_commit;
	if (rc == 0)
		rc = resource_rebuild(pass, human ? 1 :
		    rebuild_threads(pass), stream_record, &st);
	else
		resource_rebuild(pass, 0, NULL, NULL);
	if (rc != STREAM_AGAIN)
		held_flush(diags, 1);
	if (rc == 0 && diff_stream_end(st.ds, &counts) < 0)
		rc = -1;
	if (rc == 0) {
		diff_stream_write(st.ds, stdout);
	}
	diff_stream_free(st.ds);
	json_decref(context);
	free((char *)st.repos);
	return rc;
}

int
sync_diff_main(int argc, char **argv)
{
	struct kom_paths p;
	struct config cfg;
	const struct config_sync *sy = NULL;
	struct diff_opts o;
	struct diff_counts counts;
	const char *yname = NULL, *jfile = NULL, *server = NULL;
	const char **tags = NULL;
	size_t ntags = 0, tcap = 0, i, npaths = 0;
	char **paths = NULL, *host = NULL, sync_commit[41] = "";
	int c, human = 0, strict = 0, del = 0, verbose = 0, all = 0, rc;
	json_t *declared = NULL, *out = NULL;
	struct state_set *applied = NULL;
	struct state_job sj;
	struct held diags = { NULL, 0, 0 };

	while ((c = getopt(argc, argv, "adHhj:n:st:vy:")) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'd':
			del = 1;
			break;
		case 'H':
			human = 1;
			break;
		case 'j':
			jfile = optarg;
			break;
		case 'n':
			server = optarg;
			break;
		case 's':
			strict = 1;
			break;
		case 't':
			KOM_GROW(tags, ntags + 1, tcap);
			tags[ntags++] = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'y':
			yname = optarg;
			break;
		case 'h':
			puts(usage);
			return kom_close_stdout(KOM_EX_OK);
		default:
			fprintf(stderr, "%s\n", usage);
			return KOM_EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (jfile && argc) {
		fprintf(stderr, "%s\n", usage);
		return KOM_EX_USAGE;
	}

	paths_get(&p);
	if (config_load(p.config, strict, &cfg) < 0) {
		paths_free(&p);
		free(tags);
		return KOM_EX_CONFIG;
	}
	memset(&o, 0, sizeof(o));
	if (yname) {
		if (!(sy = config_sync(&cfg, yname))) {
			kom_warn("%s: no resource_sync named '%s'", cfg.path,
			    yname);
			rc = KOM_EX_CONFIG;
			goto out;
		}
		o.sync = sy->name;
		o.delete = sy->delete || sy->managed;
		o.include_resources = sy->include_resources;
		o.include_variables = sy->include_variables;
		o.include_user_groups = sy->include_user_groups;
		o.match_tags = (const char *const *)sy->match_tags;
		o.nmatch_tags = sy->nmatch_tags;
	} else {
		/* by hand, without a sync: show everything declared */
		o.include_resources = 1;
		o.include_variables = 1;
		o.include_user_groups = 1;
	}
	if (del)
		o.delete = 1;
	if (ntags) {
		o.match_tags = tags;
		o.nmatch_tags = ntags;
	}
	/* pull mode, as show: this host is -n, kom.toml's server or the
	 * hostname */
	if (all)
		o.server = NULL;
	else if (server)
		o.server = server;
	else
		o.server = host = config_server(&cfg);

	if (argc) {
		paths = xreallocarray(NULL, (size_t)argc, sizeof(*paths));
		for (i = 0; i < (size_t)argc; i++)
			paths[npaths++] = xstrdup(argv[i]);
	} else if (!jfile && sy) {
		struct buf err = BUF_INIT;

		rc = resource_sync_paths(&cfg, sy, p.state, &paths, &npaths,
		    sync_commit, &err);
		if (rc < 0) {
			kom_warn("%s", err.s);
			buf_free(&err);
			rc = KOM_EX_DATAERR;
			goto out;
		}
		buf_free(&err);
	} else if (!jfile) {
		fprintf(stderr, "%s\n", usage);
		rc = KOM_EX_USAGE;
		goto out;
	}

	/* records from kom-sync show had their references checked there, but
	 * not against this state dir */
	o.check_after = jfile != NULL;
	if (jfile) {
		if (!(applied = state_set_load(p.state))) {
			rc = KOM_EX_IOERR;
			goto out;
		}
		rc = read_records(jfile, &declared);
	} else {
		state_start(&sj, p.state);
		rc = stream_diff(paths, npaths, strict, &sj, &cfg, &o, p.state,
		    &diags, sync_commit, human, verbose);
		if (rc != STREAM_AGAIN) {
			applied = state_wait(&sj);
			rc = rc == 0 ? kom_close_stdout(KOM_EX_OK) :
			    rc == -3 ? KOM_EX_IOERR : rc == -2 ? KOM_EX_IOERR :
			    KOM_EX_DATAERR;
			goto out;
		}
		held_flush(&diags, 0);
		rc = load_declared(paths, npaths, strict, &sj, &cfg, &o,
		    p.state, &diags, &declared);
		applied = state_wait(&sj);
		held_flush(&diags, applied != NULL);
		if (!applied) {
			rc = KOM_EX_IOERR;
			goto out;
		}
	}
	if (rc < 0) {
		rc = rc == -2 ? KOM_EX_IOERR : KOM_EX_DATAERR;
		goto out;
	}
	if (*sync_commit) {
		json_t *rec;

		json_array_foreach(declared, i, rec)
			json_object_set_new(rec, "sync_commit",
			    json_string(sync_commit));
	}
	/* what a Build image runs: offline, from the state dir */
	buildver_annotate(declared, applied);
	if (diff_run_set(declared, applied, &o, &out, &counts) < 0) {
		rc = KOM_EX_DATAERR;
		goto out;
	}

	rc = KOM_EX_OK;
	if (human)
		diff_render_human(stdout, out, &counts, kom_use_color(1),
		    verbose);
	else {
		write_records(stdout, out);
		jsonl_write_steal(stdout, diff_end_record(&counts));
	}
	rc = kom_close_stdout(rc);
out:
	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
	/* declared and out are not freed value by value: freeing some million
	 * jansson values took longer than the diff; they go with the arena
	 * at exit (arena.h) */
	state_set_free(applied);
	free(tags);
	free(host);
	config_free(&cfg);
	paths_free(&p);
	return rc;
}
