/*
 * support: the table of what kom does not act on yet; see support.h.
 */
#include <string.h>

#include "support.h"
#include "util.h"
#include "banned.h"

enum when {
	ALWAYS,		/* the resource itself */
	IS_TRUE,	/* field is true */
	NONEMPTY,	/* field is a non-empty string */
	TRUE_WITH_GIT,	/* field is true and the resource has a repo */
	GIT_FILES,	/* field is a non-empty string, files_on_host false */
	NOT_SERVER	/* field is a string other than "Server" */
};

/* One row per feature; delete the row when kom does it. */
static const struct unsupported {
	const char *type;	/* record type */
	const char *field;	/* config field, NULL for ALWAYS */
	enum when when;
	const char *what;	/* for messages */
	int refuse;		/* kom-plan refuses a deploy */
} table[] = {
	{ "builder", "type", NOT_SERVER,
	    "a builder of another type than Server (builds naming it fail)", 0 },
	{ "action", NULL, ALWAYS, "[[action]] (no script is run)", 0 },
	{ "deployment", "swarm", NONEMPTY,
	    "swarm mode (swarm: a docker service)", 1 },
	{ "stack", "swarm", NONEMPTY,
	    "swarm mode (swarm: docker stack deploy)", 1 },
};

static int
nonempty(const json_t *cfg, const char *field)
{
	const char *s = json_string_value(json_object_get(cfg, field));

	return s && *s;
}

static int
matches(const struct unsupported *u, const json_t *cfg)
{
	const json_t *v = u->field ? json_object_get(cfg, u->field) : NULL;

	switch (u->when) {
	case ALWAYS:
		return 1;
	case IS_TRUE:
		return json_is_true(v);
	case NONEMPTY:
		return nonempty(cfg, u->field);
	case TRUE_WITH_GIT:
		return json_is_true(v) && (nonempty(cfg, "repo") ||
		    nonempty(cfg, "linked_repo"));
	case NOT_SERVER:
		return json_is_string(v) && strcmp(json_string_value(v),
		    "Server") != 0;
	case GIT_FILES:
		return nonempty(cfg, u->field) &&
		    !json_is_true(json_object_get(cfg, "files_on_host"));
	}
	return 0;
}

int
support_check(const json_t *record, struct buf *what, int *refuse,
    struct buf *blocker)
{
	const char *type = json_string_value(json_object_get(record, "type"));
	const json_t *cfg = json_object_get(record, "config");
	size_t i;
	int n = 0;

	if (refuse)
		*refuse = 0;
	if (!type)
		return 0;
	for (i = 0; i < KOM_NELEM(table); i++) {
		if (strcmp(table[i].type, type) || !matches(&table[i], cfg))
			continue;
		if (n++)
			buf_adds(what, ", ");
		buf_adds(what, table[i].what);
		if (table[i].refuse && refuse && !*refuse) {
			*refuse = 1;
			if (blocker)
				buf_adds(blocker, table[i].what);
		}
	}
	return n;
}
