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
 * and how it drifted from what was applied; the lifecycle subcommands act
 * on one applied deployment or stack by hand.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "docker.h"
#include "exec.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-exec [-bnV] [-j jobs] [file]\n"
    "       kom-exec status [-H]\n"
    "       kom-exec deploy|destroy|start|stop|restart|pause|unpause"
    " [-s signal] [-t seconds] name\n";

static noreturn void
die_usage(void)
{
	fputs(usage, stderr);
	exit(KOM_EX_USAGE);
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

static long
parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die_usage();
	return v;
}

/* kom-exec ACTION NAME: one step made from the applied resource. */
static int
lifecycle_main(struct exec_ctx *x, const char *action, const char *name)
{
	static const char *const types[] = { "deployment", "stack" };
	json_t *res = NULL, *step;
	struct job j;
	const char *type = NULL;
	size_t i;
	int lock, rc;

	for (i = 0; i < KOM_NELEM(types) && !res; i++) {
		res = state_load(x->paths.state, types[i], name);
		if (res)
			type = types[i];
		else if (errno != ENOENT)
			exit(KOM_EX_IOERR);
	}
	if (!res)
		kom_die(KOM_EX_NO, "no applied deployment or stack '%s' in %s",
		    name, x->paths.state);
	lock = state_lock(x->paths.state, 1);
	if (lock < 0)
		kom_diee(KOM_EX_IOERR, "%s/lock", x->paths.state);
	step = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:O}",
	    "kind", "step", "id", 1, "stage", 1, "action", action,
	    "type", type, "name", name, "reason", "by hand",
	    "resource", res);
	job_init(&j, x, action, type, name, step, res);
	if (engine_open(x, &j.d) < 0)
		exit(KOM_EX_UNAVAILABLE);
	job_run(&j);
	rc = write_result(x, &j, 1, "by hand", 0) < 0 ? KOM_EX_IOERR
	    : j.status == JOB_FAILED ? KOM_EX_NO : KOM_EX_OK;
	job_free(&j);
	json_decref(step);
	json_decref(res);
	close(lock);
	return rc;
}

/* The paths, this host's name and the secrets directory (kom.toml). */
static void
host_init(struct exec_ctx *x)
{
	struct config cfg;

	paths_get(&x->paths);
	if (config_load(x->paths.config, 0, &cfg) < 0)
		exit(KOM_EX_CONFIG);
	x->server = config_server(&cfg);
	x->secrets_dir = cfg.secrets_dir ? xstrdup(cfg.secrets_dir) : NULL;
	config_free(&cfg);
}

int
main(int argc, char **argv)
{
	struct exec_ctx x;
	int c, nowait = 0, human = 0, rc;

	memset(&x, 0, sizeof(x));
	x.jobs = 4;
	x.stop_timeout = -1;
	pthread_mutex_init(&x.mu, NULL);
	pthread_mutex_init(&x.hist_mu, NULL);
	if (argc > 1 && (strcmp(argv[1], "status") == 0 ||
	    is_lifecycle(argv[1]))) {
		const char *sub = argv[1];

		argc--;
		argv++;
		while ((c = getopt(argc, argv, "Hs:t:")) != -1) {
			switch (c) {
			case 'H':
				human = 1;
				break;
			case 's':
				x.stop_signal = optarg;
				break;
			case 't':
				x.stop_timeout = (int)parse_num(optarg, 0, 86400);
				break;
			default:
				die_usage();
			}
		}
		argc -= optind;
		argv += optind;
		if (strcmp(sub, "status") == 0) {
			if (argc != 0 || x.stop_signal || x.stop_timeout >= 0)
				die_usage();
		} else if (argc != 1 || human) {
			die_usage();
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		host_init(&x);
		signal(SIGPIPE, SIG_IGN);
		if (strcmp(sub, "status") == 0)
			rc = status_main(&x, human);
		else
			rc = lifecycle_main(&x, sub, argv[0]);
	} else {
		while ((c = getopt(argc, argv, "bhj:nV")) != -1) {
			switch (c) {
			case 'b':
				nowait = 1;
				break;
			case 'j':
				x.jobs = (int)parse_num(optarg, 1, 64);
				break;
			case 'n':
				x.dry_run = 1;
				break;
			case 'V':
				puts("kom-exec " KOM_VERSION);
				return kom_close_stdout(KOM_EX_OK);
			default:
				die_usage();
			}
		}
		argc -= optind;
		argv += optind;
		if (argc > 1)
			die_usage();
		curl_global_init(CURL_GLOBAL_DEFAULT);
		host_init(&x);
		signal(SIGPIPE, SIG_IGN);
		rc = apply_main(&x, argc ? argv[0] : NULL, nowait);
	}
	rc = kom_close_stdout(rc);
	free(x.server);
	free(x.secrets_dir);
	paths_free(&x.paths);
	pthread_mutex_destroy(&x.mu);
	curl_global_cleanup();
	return rc;
}
