/*
 * schema: the resource types of a Komodo sync and the fields of each
 * (komodo-behaviour.md sections 0 and 1): name, kind, default, aliases.
 *
 * Everything here is constant data.  Field tables are sorted by name
 * (bytewise) so that lookups are a binary search; tests/unit/schema.c
 * checks the order.  Field names are the names kom writes in normalized
 * configs: Komodo's, except id fields lose their "_id" suffix ("server",
 * "swarm", "builder", "servers", "linked_repo"); the "_id" spelling is
 * an alias.  No function here allocates or fails: lookups return NULL.
 */
#ifndef KOM_SCHEMA_H
#define KOM_SCHEMA_H

#include <stddef.h>
#include "kv.h"

enum schema_kind {
	SK_STRING,	/* def: the default text ("" when NULL) */
	SK_BOOL,	/* def: "true" or "false" */
	SK_INT,		/* def: decimal */
	SK_FLOAT,	/* def: decimal */
	SK_STRLIST,	/* string-list: array or flexible string */
	SK_KV,		/* key-value list; arg: "kv", "lc" or "sl" (kv_shape) */
	SK_FILE,	/* file contents */
	SK_SYSCMD,	/* SystemCommand {path, command, shell_mode} */
	SK_VERSION,	/* Version; def "0.0.0" */
	SK_SIGNAL,	/* TerminationSignal; def "SIGTERM" */
	SK_ENUM,	/* arg: "a|b|c"; def: one of them */
	SK_REF,		/* name of a resource; arg: its type */
	SK_REFLIST,	/* string-list of resource names; arg: their type */
	SK_IMAGE,	/* deployment image {type, params} */
	SK_REGISTRY,	/* build image_registry: table or array of tables */
	SK_MWINDOWS,	/* [MaintenanceWindow] */
	SK_STAGES,	/* procedure [ProcedureStage] */
	SK_TARGETS,	/* [ResourceTarget] */
	SK_ENDPOINT,	/* alerter endpoint {type, params} */
	SK_ENVFILES,	/* stack additional_env_files */
	SK_CONFIGFILES,	/* stack config_files */
	SK_PERMALL,	/* user group "all": {Variant: level or {level, specific}} */
	SK_PERMS,	/* user group permissions */
	SK_ANY		/* any TOML value kept as JSON; def "[]" or "{}" */
};

#define SCHEMA_INTERP	0x1	/* [[VAR]] interpolated at apply time (3.2) */
#define SCHEMA_REQUIRED	0x2	/* must be given */

struct schema_field {
	const char *name;
	enum schema_kind kind;
	const char *def;
	const char *arg;
	unsigned flags;
};

struct schema_alias {
	const char *alias;
	const char *name;	/* the field it stands for */
};

/* A set of fields: one config, one variant's params, one sub-table. */
struct schema_table {
	const char *what;	/* for messages: "deployment.config" */
	const struct schema_field *fields;
	size_t nfields;
	const struct schema_alias *aliases;
	size_t naliases;
};

#define SCHEMA_TOPLEVEL	0x1	/* fields sit beside name (variable, user_group) */
#define SCHEMA_TAGGED	0x2	/* config is {type, params} (builder) */

struct schema_type {
	const char *name;	/* "deployment": record type, [[table]] name */
	const char *plural;	/* "deployments" */
	const char *target;	/* ResourceTarget variant: "Deployment" */
	enum kv_name_style name_style;
	unsigned flags;
	const struct schema_table *config;	/* NULL for SCHEMA_TAGGED */
};

/* The types in Komodo's apply order (section 2.5); *n set to the count. */
const struct schema_type *schema_types(size_t *n);
/* By [[table]] name, singular or plural; NULL when unknown. */
const struct schema_type *schema_type(const char *table);
/* By record type name or ResourceTarget variant ("Deployment"). */
const struct schema_type *schema_type_by_target(const char *target);
/* Position in the apply order (0 = variables). */
int schema_rank(const struct schema_type *t);
/* The same by record type name ("deployment"); SCHEMA_NTYPES for NULL or
 * a name that is no type.  Komodo's apply order lives here alone. */
int schema_type_rank(const char *type);
#define SCHEMA_NTYPES 13

/*
 * The field for key in t (a field name or an alias), or NULL.  *name is
 * set to the field's own name when key was an alias, else to key.
 */
const struct schema_field *schema_field(const struct schema_table *t,
    const char *key);

/* Builder variants ("Aws", "Server", "Url") and alerter endpoints
 * ("Custom", "Slack", "Discord", "Ntfy", "Pushover"). */
const struct schema_table *schema_builder(const char *variant);
extern const char schema_builder_variants[];	/* "Aws|Server|Url" */
const struct schema_table *schema_endpoint(const char *variant);
extern const char schema_endpoint_variants[];

/* Sub-tables. */
const struct schema_table *schema_mwindow(void);	/* MaintenanceWindow */
const struct schema_table *schema_stage(void);		/* ProcedureStage */

/* ResourceTarget variants and permission levels, "|"-separated. */
extern const char schema_target_types[];
extern const char schema_levels[];
extern const char schema_specific[];

/*
 * One procedure execution type (section 1.15).  params lists the
 * parameters as space-separated "name:kind" words; a name ending in '?'
 * is optional (left out when not given); kinds are s (string), i
 * (integer), b (boolean), l (string list), sig (termination signal),
 * any (any value), @TYPE (the name of a resource of record type TYPE);
 * "=DEFAULT" may follow the kind.  Batch types take "pattern:s tags:l"
 * and set batch to the record type their pattern matches.
 */
struct schema_exec {
	const char *name;
	const char *params;
	const char *batch;	/* NULL, or the type a Batch pattern matches */
};
const struct schema_exec *schema_exec(const char *name);
/* Every execution type, sorted by name. */
const struct schema_exec *schema_execs(size_t *n);

/* 1 when word is one of the "|"-separated words of list. */
int schema_in(const char *list, const char *word);

/* Every table (for tests): configs, variants and sub-tables. */
const struct schema_table *const *schema_tables(size_t *n);

#endif
