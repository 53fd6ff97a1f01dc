/* Unit tests for lib/schema.c: the field tables are sorted and complete. */
#include <string.h>

#include "schema.h"
#include "tap.h"
#include "banned.h"

int
main(void)
{
	const struct schema_table *const *tables;
	const struct schema_type *types;
	const struct schema_exec *execs;
	size_t n, i, j;
	int sorted;

	tables = schema_tables(&n);
	for (i = 0; i < n; i++) {
		const struct schema_table *t = tables[i];

		sorted = 1;
		for (j = 1; j < t->nfields; j++)
			if (strcmp(t->fields[j - 1].name, t->fields[j].name) >= 0)
				sorted = 0;
		for (j = 1; j < t->naliases; j++)
			if (strcmp(t->aliases[j - 1].alias,
			    t->aliases[j].alias) >= 0)
				sorted = 0;
		ok(sorted, "%s: fields and aliases sorted", t->what);
		ok(t->nfields <= 64, "%s: at most 64 fields", t->what);
		for (j = 0; j < t->naliases; j++)
			ok(schema_field(t, t->aliases[j].name) != NULL,
			    "%s: alias %s names a field", t->what,
			    t->aliases[j].alias);
	}
	execs = schema_execs(&n);
	sorted = 1;
	for (i = 1; i < n; i++)
		if (strcmp(execs[i - 1].name, execs[i].name) >= 0)
			sorted = 0;
	ok(sorted, "execution types sorted");
	is_int(n, 82, "every execution type of section 1.15");
	for (i = 0, j = 0; i < n; i++)
		j += execs[i].batch != NULL;
	is_int(j, 12, "the 12 batch variants");

	types = schema_types(&n);
	is_int(n, 13, "13 resource types");
	is_str(types[0].name, "variable", "apply order starts with variables");
	is_str(types[n - 1].name, "procedure", "and ends with procedures");
	ok(schema_type("deployments") == schema_type("deployment"),
	    "plural table names");
	ok(schema_type("resource_syncs") != NULL, "resource_syncs");
	ok(schema_type("server_template") == NULL, "no server_template");
	ok(schema_type_by_target("ResourceSync") == schema_type("resource_sync"),
	    "by ResourceTarget variant");
	is_int(schema_rank(schema_type("deployment")), 11,
	    "deployments are 12th");

	/* aliases */
	{
		const struct schema_table *dep = schema_type("deployment")->config;
		const struct schema_field *f = schema_field(dep, "server_id");

		ok(f && !strcmp(f->name, "server"), "server_id is server");
		f = schema_field(dep, "swarm_id");
		ok(f && !strcmp(f->name, "swarm"), "swarm_id is swarm");
		ok(schema_field(dep, "imgae") == NULL, "unknown key");
		f = schema_field(dep, "network");
		ok(f && f->kind == SK_STRING && !strcmp(f->def, "host"),
		    "network defaults to host");
		f = schema_field(dep, "restart");
		ok(f && !strcmp(f->def, "no"), "restart defaults to no");
		f = schema_field(schema_type("procedure")->config, "stage");
		ok(f && !strcmp(f->name, "stages"), "stage is stages");
		f = schema_field(schema_builder("Server"), "server_id");
		ok(f && !strcmp(f->name, "servers"), "builder server_id");
		f = schema_field(schema_builder("Aws"), "docker_registries");
		ok(f && !strcmp(f->name, "image_registries"),
		    "docker_registries");
		f = schema_field(schema_type("user_group")->config, "permission");
		ok(f && !strcmp(f->name, "permissions"), "permission");
		f = schema_field(schema_type("server")->config, "enabled");
		ok(f && !strcmp(f->def, "false"), "servers disabled by default");
	}
	ok(schema_builder("Gcp") == NULL, "unknown builder variant");
	ok(schema_endpoint("Slack") != NULL, "Slack endpoint");
	ok(schema_endpoint("Email") != NULL, "Email endpoint (kom's own)");
	ok(schema_endpoint("Telegram") == NULL, "unknown endpoint");
	ok(schema_exec("Deploy") && !schema_exec("Deplyo"), "execution lookup");
	ok(schema_exec("BatchDeploy") &&
	    !strcmp(schema_exec("BatchDeploy")->batch, "deployment"),
	    "batch target type");
	ok(schema_in("a|bb|c", "bb") && !schema_in("a|bb|c", "b") &&
	    schema_in("a|bb|c", "c") && !schema_in("a|bb|c", ""),
	    "schema_in");
	return done_testing();
}
