/*
 * kom-sync: the first program of the pipeline.
 *
 *	kom-sync diff ./syncs | kom-plan | kom-exec
 *
 * Reads Komodo resource files (TOML), checks them and writes resource
 * records as JSON lines (kom-json(5)).  This file holds main() and the
 * subcommands that only read files: "validate" (diagnostics only) and
 * "show" (every declared resource, normalized).  "toml" (toml.c) prints
 * one TOML document as JSON; "diff" (diff.c) compares with the state
 * directory.  The work is done by lib/resource.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arena.h"
#include "config.h"
#include "jsonl.h"
#include "paths.h"
#include "resource.h"
#include "sync.h"
#include "util.h"
#include "banned.h"

static const char usage[] =
    "usage: kom-sync toml [-t] [file]\n"
    "       kom-sync validate [-s] [-n server] path ...\n"
    "       kom-sync show [-as] [-n server] [-t tag] path ...\n"
    "       kom-sync diff [-adHsv] [-j file] [-n server] [-t tag] "
    "[-y sync] [path ...]";

static int
usage_error(void)
{
	fprintf(stderr, "%s\n", usage);
	return KOM_EX_USAGE;
}

/* kom.toml's server (config_server) and secrets_dir; the state dir. */
static int
host_config(char **server, char **secrets_dir, char **statedir)
{
	struct kom_paths p;
	struct config cfg;

	paths_get(&p);
	if (config_load(p.config, 0, &cfg) < 0) {
		paths_free(&p);
		return -1;
	}
	*server = config_server(&cfg);
	if (cfg.secrets_dir)
		*secrets_dir = xstrdup(cfg.secrets_dir);
	*statedir = xstrdup(p.state);
	config_free(&cfg);
	paths_free(&p);
	return 0;
}

int
sync_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

int
sync_resources_main(int argc, char **argv)
{
	struct resource_opts o;
	const char **tags = NULL;
	size_t ntags = 0, tcap = 0, i;
	char *server = NULL, *secrets_dir = NULL, *statedir = NULL;
	int show = !strcmp(argv[0], "show"), all = 0, ch, rc = KOM_EX_OK;
	json_t *records = NULL;
	long errors, read_errors = 0;

	memset(&o, 0, sizeof(o));
	o.threads = sync_threads();
	while ((ch = getopt(argc, argv, show ? "ahn:st:" : "hn:s")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'n':
			free(server);
			server = xstrdup(optarg);
			break;
		case 's':
			o.strict = 1;
			break;
		case 't':
			KOM_GROW(tags, ntags + 1, tcap);
			tags[ntags++] = optarg;
			break;
		case 'h':
			puts(usage);
			return kom_close_stdout(KOM_EX_OK);
		default:
			free(server);
			free(tags);
			return usage_error();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		free(server);
		free(tags);
		return usage_error();
	}
	/* kom.toml even with -n: its secrets_dir counts for validate too */
	{
		char *def = NULL;

		if (host_config(&def, &secrets_dir, &statedir) < 0) {
			free(server);
			free(tags);
			return KOM_EX_CONFIG;
		}
		if (!server)
			server = def;
		else
			free(def);
	}
	/* validate checks the whole set: the selection only shapes show */
	o.server = show && !all ? server : NULL;
	o.match_tags = tags;
	o.nmatch_tags = ntags;
	o.secrets_dir = secrets_dir;
	/* show passes inline secret values on, sealed; validate needs not */
	o.statedir = show ? statedir : NULL;
	o.read_errors = &read_errors;
	o.notes = 1;
	o.check_only = !show;
	errors = resource_load((const char *const *)argv, (size_t)argc, &o,
	    &records);
	if (errors) {
		kom_warn("%ld error%s", errors, errors == 1 ? "" : "s");
		rc = read_errors ? KOM_EX_IOERR : KOM_EX_DATAERR;
	} else if (show) {
		json_t *end;

		for (i = 0; i < json_array_size(records); i++)
			if (jsonl_write(stdout, json_array_get(records, i)) < 0)
				break;
		end = json_pack("{s:s,s:s,s:{s:I}}", "kind", "end",
		    "program", "kom-sync", "counts", "total",
		    (json_int_t)json_array_size(records));
		jsonl_write_steal(stdout, end);
	}
	/* records: not freed one by one, the arena goes at exit */
	free(server);
	free(secrets_dir);
	free(statedir);
	free(tags);
	return kom_close_stdout(rc);
}

static int
sync_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error();
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		puts(usage);
		return kom_close_stdout(KOM_EX_OK);
	}
	if (!strcmp(cmd, "-V")) {
		puts("kom-sync " KOM_VERSION);
		return kom_close_stdout(KOM_EX_OK);
	}
	if (!strcmp(cmd, "toml"))
		return sync_toml_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "validate") || !strcmp(cmd, "show"))
		return sync_resources_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "diff"))
		return sync_diff_main(argc - 1, argv + 1);
	kom_warn("unknown subcommand '%s'", cmd);
	return usage_error();
}

int
main(int argc, char **argv)
{
	int rc;

	/* jansson values live in the arena and go with it at the end */
	arena_start();
	rc = sync_main(argc, argv);
	arena_end();
	return rc;
}
