/*
 * bench/state-save: write records (JSON lines on stdin) into the state
 * dir STATEDIR with lib/state.c's state_save(), as kom-exec records them.
 * Built and run by bench/sync only.
 *
 *	state-save STATEDIR <records.jsonl
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "state.h"
#include "util.h"
#include "banned.h"

int
main(int argc, char **argv)
{
	json_error_t err;
	json_t *rec;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (argc != 2) {
		fputs("usage: state-save statedir\n", stderr);
		return KOM_EX_USAGE;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (!(rec = json_loadb(line, (size_t)n, 0, &err)))
			kom_die(KOM_EX_DATAERR, "stdin: %s", err.text);
		if (state_save(argv[1], rec) < 0)
			return KOM_EX_IOERR;
		json_decref(rec);
	}
	free(line);
	return KOM_EX_OK;
}
