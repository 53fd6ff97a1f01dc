/*
 * status.c: kom-exec status, what runs compared with what was applied.
 *
 * One status record per deployment and stack in the state dir, from the
 * live engine (matched by name and kom's labels), then an end record.
 * kom-plan -l reads this to decide what an "ensure" would need.  With -H
 * it is a table for people instead.  When the engine does not answer,
 * every state is "unknown" (as in Komodo: never deploy blind) and the
 * exit status is 69.
 */
#include <stdio.h>
#include <string.h>

#include "docker.h"
#include "deployment.h"
#include "stack.h"
#include "status.h"
#include "jsonl.h"
#include "state.h"
#include "util.h"
#include "banned.h"

static const char *
str(json_t *o, const char *k, const char *def)
{
	const char *s = jsonl_str(o, k, "");

	return *s ? s : def;
}

static void
human_row(json_t *st)
{
	const char *c = str(st, "container", "-");

	printf("%-10s %-24s %-12s %-9s %-9s %-12.12s %s\n", str(st, "type", "-"),
	    str(st, "name", "-"), str(st, "state", "-"), str(st, "health", "-"),
	    str(st, "drift", "-"), c, str(st, "image", "-"));
	if (*str(st, "drift_detail", ""))
		printf("%-10s drift: %s\n", "", str(st, "drift_detail", ""));
}

int
status_run(struct exec_ctx *x, int human)
{
	static const char *const types[] = { "deployment", "stack" };
	json_t *all = NULL, *bytype, *rec, *st;
	struct docker *d = NULL;
	const char *name;
	size_t i;
	int counts[2] = { 0, 0 }, drifted = 0, rc = KOM_EX_OK;

	if (state_load_all(x->paths.state, &all) < 0)
		return KOM_EX_IOERR;
	rc = engine_open(x, &d);
	if (human)
		printf("%-10s %-24s %-12s %-9s %-9s %-12s %s\n", "TYPE", "NAME",
		    "STATE", "HEALTH", "DRIFT", "CONTAINER", "IMAGE");
	for (i = 0; i < KOM_NELEM(types); i++) {
		bytype = json_object_get(all, types[i]);
		json_object_foreach(bytype, name, rec) {
			struct job j;

			job_init(&j, x, "status", types[i], name, NULL, rec);
			j.d = d;
			st = i == 0 ? deployment_status(&j) : stack_status(&j);
			j.d = NULL;
			job_free(&j);
			counts[i]++;
			if (!json_is_null(json_object_get(st, "drift")) &&
			    json_object_get(st, "drift"))
				drifted++;
			if (human)
				human_row(st);
			else if (jsonl_write(stdout, st) < 0)
				rc = KOM_EX_IOERR;
			json_decref(st);
		}
	}
	if (!human)
		jsonl_write_steal(stdout, json_pack("{s:s, s:s, s:{s:i, s:i, "
		    "s:i}}", "kind", "end", "program", "kom-exec", "counts",
		    "deployment", counts[0], "stack", counts[1], "drift",
		    drifted));
	if (d)
		docker_close(d);
	json_decref(all);
	return rc;
}
