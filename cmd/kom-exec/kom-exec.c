/*
 * kom-exec: the last stage of the pipeline, and the only program that
 * changes anything.
 *
 *	kom-sync diff ./syncs | kom-plan | kom-exec
 *
 * It reads kom-plan's step records (kom-json(5)) to the end first, then
 * applies them stage by stage against the Docker engine (deployments) and
 * the compose CLI (stacks), records what it applied in the state dir, and
 * writes one result record per step.  `kom-exec status` reports what runs
 * and how it drifted from what was applied; `kom-exec check`, for a timer,
 * turns what changed since the last check (and this host's load) into
 * alerts; `kom-exec procedure` runs an applied procedure (a timer's
 * job: `kom-exec timers` writes the timers); the lifecycle subcommands
 * act on one applied deployment or stack by hand.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "job.h"
#include "procedure.h"
#include "rollback.h"
#include "run.h"
#include "status.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-exec [-bhnV] [-j jobs] [file]\n"
    "       kom-exec status [-H]\n"
    "       kom-exec check\n"
    "       kom-exec procedure [-bns] name\n"
    "       kom-exec timers dir\n"
    "       kom-exec deploy|destroy|start|stop|restart|pause|unpause"
    " [-s signal] [-t seconds] name\n"
    "       kom-exec releases [-H] type name\n"
    "       kom-exec rollback type name [release]\n";

/* -h: usage on stdout, 0; a bad command line: on stderr, 64. */
static int
show_usage(int asked)
{
	fputs(usage, asked ? stdout : stderr);
	return kom_close_stdout(asked ? KOM_EX_OK : KOM_EX_USAGE);
}

static const char *const lifecycle[] = {
	"deploy", "destroy", "start", "stop", "restart", "pause", "unpause",
};

static int
is_lifecycle(const char *s)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(lifecycle); i++)
		if (strcmp(s, lifecycle[i]) == 0)
			return 1;
	return 0;
}

/* A number in [min, max], or -1. */
static long
parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	return v;
}

/*
 * Run one step on res (type/name) by hand, with reason (forced: deploy
 * even when it looks unchanged); the caller holds the state lock.
 */
static int
by_hand(struct exec_ctx *x, const char *action, const char *type,
    const char *name, json_t *res, const char *reason, int force)
{
	json_t *step;
	struct job j;
	int rc;

	step = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:O}",
	    "kind", "step", "id", 1, "stage", 1, "action", action,
	    "type", type, "name", name, "reason", reason,
	    "resource", res);
	job_init(&j, x, action, type, name, step, res);
	j.force = force;
	if (force)
		buf_adds(&j.note, reason);
	if ((rc = engine_open(x, &j.d)) == 0) {
		job_run(&j);
		rc = write_result(x, &j, 1, reason, 0) < 0 ? KOM_EX_IOERR :
		    j.status != JOB_FAILED ? KOM_EX_OK :
		    j.tempfail ? KOM_EX_TEMPFAIL : KOM_EX_NO;
	}
	job_free(&j);
	json_decref(step);
	return rc;
}

/* One step made from the applied resource NAME, run by hand. */
static int
lifecycle_run(struct exec_ctx *x, const char *action, const char *name)
{
	static const char *const types[] = { "deployment", "stack" };
	const char *type = NULL;
	json_t *res = NULL;
	size_t i;
	int lock, rc;

	for (i = 0; i < KOM_NELEM(types) && !res; i++) {
		res = state_load(x->paths.state, types[i], name);
		if (res)
			type = types[i];
		else if (errno != ENOENT)
			return KOM_EX_IOERR;
	}
	if (!res) {
		kom_warn("no applied deployment or stack '%s' in %s", name,
		    x->paths.state);
		return KOM_EX_NO;
	}
	if ((lock = state_lock(x->paths.state, 1)) < 0) {
		kom_warne("%s/lock", x->paths.state);
		json_decref(res);
		return KOM_EX_IOERR;
	}
	rc = by_hand(x, action, type, name, res, "by hand", 0);
	json_decref(res);
	close(lock);
	return rc;
}

/* kom-exec ACTION [-s signal] [-t seconds] NAME */
static int
lifecycle_main(int argc, char **argv)
{
	const char *sig = NULL;
	struct exec_ctx x;
	long t = -1;
	int c, rc;

	while ((c = getopt(argc, argv, "hs:t:")) != -1) {
		switch (c) {
		case 's':
			sig = optarg;
			break;
		case 't':
			if ((t = parse_num(optarg, 0, 86400)) < 0)
				return show_usage(0);
			break;
		default:
			return show_usage(c == 'h');
		}
	}
	if (argc - optind != 1)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	x.stop_signal = sig;
	x.stop_timeout = (int)t;
	rc = lifecycle_run(&x, argv[0], argv[optind]);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* The options of status and releases: -1 when they are fine, else the
 * exit status of the usage message. */
static int
human_flag(int argc, char **argv, int *human)
{
	int c;

	while ((c = getopt(argc, argv, "hH")) != -1) {
		if (c == 'H')
			*human = 1;
		else
			return show_usage(c == 'h');
	}
	return -1;
}

static int
check_type(const char *type)
{
	if (strcmp(type, "deployment") == 0 || strcmp(type, "stack") == 0)
		return 0;
	kom_warn("unknown type '%s': deployment or stack", type);
	return -1;
}

/* kom-exec releases [-H] TYPE NAME */
static int
releases_main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, human = 0, rc;

	if ((c = human_flag(argc, argv, &human)) >= 0)
		return c;
	if (argc - optind != 2)
		return show_usage(0);
	if (check_type(argv[optind]) < 0)
		return KOM_EX_USAGE;
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	rc = releases_run(&x, argv[optind], argv[optind + 1], human);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* kom-exec rollback TYPE NAME [RELEASE] */
static int
rollback_main(int argc, char **argv)
{
	struct exec_ctx x;
	json_t *res;
	const char *type, *name;
	long n = 0, got;
	int c, rc, lock;
	char *why;

	while ((c = getopt(argc, argv, "h")) != -1)
		return show_usage(c == 'h');
	if (argc - optind < 2 || argc - optind > 3)
		return show_usage(0);
	type = argv[optind];
	name = argv[optind + 1];
	if (check_type(type) < 0)
		return KOM_EX_USAGE;
	if (argc - optind == 3 && (n = parse_num(argv[optind + 2], 1,
	    0x7fffffffL)) < 0) {
		kom_warn("bad release number '%s'", argv[optind + 2]);
		return KOM_EX_DATAERR;
	}
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	if ((lock = state_lock(x.paths.state, 1)) < 0) {
		kom_warne("%s/lock", x.paths.state);
		exec_ctx_free(&x);
		return KOM_EX_IOERR;
	}
	rc = release_rollback_resource(&x, type, name, n, &got, &res);
	if (rc == 0) {
		why = xasprintf("rollback to release %ld", got);
		rc = by_hand(&x, "deploy", type, name, res, why, 1);
		free(why);
		json_decref(res);
	}
	close(lock);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* kom-exec status [-H] */
static int
status_main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, human = 0, rc;

	if ((c = human_flag(argc, argv, &human)) >= 0)
		return c;
	if (optind != argc)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	rc = status_run(&x, human);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* kom-exec check */
static int
check_main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, rc;

	while ((c = getopt(argc, argv, "h")) != -1)
		return show_usage(c == 'h');
	if (optind != argc)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	rc = check_run(&x);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* kom-exec procedure [-bns] name */
static int
procedure_main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, rc, nowait = 0, dry = 0, sched = 0;

	while ((c = getopt(argc, argv, "bhns")) != -1) {
		switch (c) {
		case 'b': nowait = 1; break;
		case 'n': dry = 1; break;
		case 's': sched = 1; break;
		default: return show_usage(c == 'h');
		}
	}
	if (argc - optind != 1)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	x.dry_run = dry;
	rc = procedure_run(&x, argv[optind], sched, nowait);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

/* kom-exec timers dir (a systemd generator's normal-dir) */
static int
timers_main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, rc;

	while ((c = getopt(argc, argv, "h")) != -1)
		return show_usage(c == 'h');
	if (argc - optind != 1)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	rc = timers_run(&x, argv[optind]);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}

int
main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, nowait = 0, dry = 0, rc;
	long jobs = 4;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return check_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "procedure") == 0)
		return procedure_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "timers") == 0)
		return timers_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "releases") == 0)
		return releases_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "rollback") == 0)
		return rollback_main(argc - 1, argv + 1);
	if (argc > 1 && is_lifecycle(argv[1]))
		return lifecycle_main(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "bhj:nV")) != -1) {
		switch (c) {
		case 'b':
			nowait = 1;
			break;
		case 'j':
			if ((jobs = parse_num(optarg, 1, 64)) < 0)
				return show_usage(0);
			break;
		case 'n':
			dry = 1;
			break;
		case 'V':
			puts("kom-exec " KOM_VERSION);
			return kom_close_stdout(KOM_EX_OK);
		default:
			return show_usage(c == 'h');
		}
	}
	if (argc - optind > 1)
		return show_usage(0);
	if ((rc = exec_ctx_init(&x)) != 0)
		return rc;
	x.jobs = (int)jobs;
	x.dry_run = dry;
	rc = apply_main(&x, optind < argc ? argv[optind] : NULL, nowait);
	exec_ctx_free(&x);
	return kom_close_stdout(rc);
}
