/*
 * sync: the subcommands of kom-sync (kom-sync(1)).  kom-sync.c holds
 * main(), "validate" and "show"; toml.c "toml"; diff.c "diff".  Each
 * entry point gets argv[0] = the subcommand name and returns the exit
 * status.
 *
 * Contract for diff (and anyone else reading resource files): the
 * resource layer is lib/resource.h:
 *
 *	long resource_load(const char *const *paths, size_t npaths,
 *	    const struct resource_opts *opts, json_t **records_out);
 *
 * returns the number of errors (0: valid) and always an array of
 * resource records exactly as "kom-sync show" prints them (kom-json(5),
 * no "op"), in apply order.  struct resource_opts carries: strict,
 * server (pull-mode selection), match_tags (all tags), secrets_dir, a
 * known() callback consulted before a reference (after, server, procedure
 * execution target, build...) to an undeclared resource is reported, so
 * that resources applied earlier (the state dir) satisfy them, a diag()
 * callback (default: printed on stderr), read_errors (how many errors
 * were unreadable paths: exit 74) and notes (say what kom does not act on
 * yet).  Records carry "root", the absolute directory of their "source".
 */
#ifndef KOM_SYNC_H
#define KOM_SYNC_H

int sync_toml_main(int argc, char **argv);
int sync_diff_main(int argc, char **argv);
/* validate and show (kom-sync.c) */
int sync_resources_main(int argc, char **argv);
/* The threads the resource layer may use: one per core, at most four. */
int sync_threads(void);

#endif
