/*
 * schema: the field tables; see schema.h.  Defaults are Komodo's
 * (komodo-behaviour.md section 1).  Keep every table sorted by name:
 * lookups are binary searches, and tests/unit/schema.c checks the order.
 */
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "util.h"
#include "banned.h"

#define S(n, d)		{ n, SK_STRING, d, NULL, 0 }
#define SI(n)		{ n, SK_STRING, "", NULL, SCHEMA_INTERP }
#define B(n, d)		{ n, SK_BOOL, d, NULL, 0 }
#define I(n, d)		{ n, SK_INT, d, NULL, 0 }
#define F(n, d)		{ n, SK_FLOAT, d, NULL, 0 }
#define L(n)		{ n, SK_STRLIST, NULL, NULL, 0 }
#define LI(n)		{ n, SK_STRLIST, NULL, NULL, SCHEMA_INTERP }
#define KV(n, a)	{ n, SK_KV, NULL, a, SCHEMA_INTERP }
#define KVN(n, a)	{ n, SK_KV, NULL, a, 0 }
#define FILEI(n)	{ n, SK_FILE, NULL, NULL, SCHEMA_INTERP }
#define FILEN(n)	{ n, SK_FILE, NULL, NULL, 0 }
#define CMD(n)		{ n, SK_SYSCMD, NULL, NULL, SCHEMA_INTERP }
#define E(n, d, a)	{ n, SK_ENUM, d, a, 0 }
#define REF(n, a)	{ n, SK_REF, "", a, 0 }
#define REFS(n, a)	{ n, SK_REFLIST, NULL, a, 0 }
#define K(n, k)		{ n, k, NULL, NULL, 0 }
#define ANY(n, d)	{ n, SK_ANY, d, NULL, 0 }
#define TABLE(var, what, f, a) \
	static const struct schema_table var = { what, f, KOM_NELEM(f), a, \
	    sizeof(a) / sizeof(struct schema_alias) }

#define TABLE0(var, what, f) \
	static const struct schema_table var = { what, f, KOM_NELEM(f), \
	    NULL, 0 }

static const char schedule_formats[] = "English|Cron";

/* 1.1 */
static const struct schema_field server_f[] = {
	S("address", ""),
	B("auto_prune", "true"),
	B("auto_rotate_keys", "true"),
	F("cpu_critical", "99.0"),
	F("cpu_warning", "90.0"),
	F("disk_critical", "95.0"),
	F("disk_warning", "75.0"),
	B("enabled", "false"),
	S("external_address", ""),
	L("ignore_mounts"),
	B("insecure_tls", "true"),
	L("links"),
	K("maintenance_windows", SK_MWINDOWS),
	F("mem_critical", "95.0"),
	F("mem_warning", "75.0"),
	S("passkey", ""),
	S("region", ""),
	B("send_cpu_alerts", "true"),
	B("send_disk_alerts", "true"),
	B("send_mem_alerts", "true"),
	B("send_unreachable_alerts", "true"),
	B("send_version_mismatch_alerts", "true"),
	B("stats_monitoring", "true"),
};
TABLE0(server_t, "server.config", server_f);

/* 1.2 */
static const struct schema_field swarm_f[] = {
	L("links"),
	K("maintenance_windows", SK_MWINDOWS),
	B("send_unhealthy_alerts", "true"),
	REFS("servers", "server"),
};
static const struct schema_alias swarm_a[] = {
	{ "server_ids", "servers" },
};
TABLE(swarm_t, "swarm.config", swarm_f, swarm_a);

/* 1.3 */
static const struct schema_field deployment_f[] = {
	B("auto_update", "false"),
	SI("command"),
	S("custom_name", ""),
	KV("environment", "kv"),
	LI("extra_args"),
	K("image", SK_IMAGE),
	S("image_registry_account", ""),
	KV("labels", "kv"),
	L("links"),
	S("network", "host"),
	B("poll_for_updates", "false"),
	KV("ports", "lc"),
	B("redeploy_on_build", "false"),
	I("replicas", "1"),
	E("restart", "no", "no|on-failure|always|unless-stopped"),
	B("send_alerts", "true"),
	REF("server", "server"),
	B("skip_secret_interp", "false"),
	REF("swarm", "swarm"),
	KVN("term_signal_labels", "sl"),
	{ "termination_signal", SK_SIGNAL, "SIGTERM", NULL, 0 },
	I("termination_timeout", "10"),
	KV("volumes", "lc"),
};
static const struct schema_alias server_swarm_a[] = {
	{ "server_id", "server" },
	{ "swarm_id", "swarm" },
};
TABLE(deployment_t, "deployment.config", deployment_f, server_swarm_a);

/* 1.4 */
static const struct schema_field stack_f[] = {
	K("additional_env_files", SK_ENVFILES),
	B("auto_pull", "true"),
	B("auto_update", "false"),
	B("auto_update_all_services", "false"),
	L("auto_update_skip_services"),
	S("branch", "main"),
	LI("build_extra_args"),
	S("clone_path", ""),
	S("commit", ""),
	SI("compose_cmd_wrapper"),
	L("compose_cmd_wrapper_include"),
	K("config_files", SK_CONFIGFILES),
	B("destroy_before_deploy", "false"),
	S("env_file_path", ".env"),
	KV("environment", "kv"),
	LI("extra_args"),
	FILEI("file_contents"),
	L("file_paths"),
	B("files_on_host", "false"),
	S("git_account", ""),
	B("git_https", "true"),
	S("git_provider", "github.com"),
	L("ignore_services"),
	REF("linked_repo", "repo"),
	L("links"),
	B("poll_for_updates", "false"),
	CMD("post_deploy"),
	CMD("pre_deploy"),
	S("project_name", ""),
	B("reclone", "false"),
	S("registry_account", ""),
	S("registry_provider", ""),
	S("repo", ""),
	B("run_build", "false"),
	S("run_directory", ""),
	B("send_alerts", "true"),
	REF("server", "server"),
	B("skip_secret_interp", "false"),
	REF("swarm", "swarm"),
	B("webhook_enabled", "true"),
	B("webhook_force_deploy", "false"),
	S("webhook_secret", ""),
};
TABLE(stack_t, "stack.config", stack_f, server_swarm_a);

/* 1.5 */
static const struct schema_field repo_f[] = {
	S("branch", "main"),
	REF("builder", "builder"),
	S("commit", ""),
	S("env_file_path", ".env"),
	KV("environment", "kv"),
	S("git_account", ""),
	B("git_https", "true"),
	S("git_provider", "github.com"),
	L("links"),
	CMD("on_clone"),
	CMD("on_pull"),
	S("path", ""),
	S("repo", ""),
	REF("server", "server"),
	B("skip_secret_interp", "false"),
	B("webhook_enabled", "true"),
	S("webhook_secret", ""),
};
static const struct schema_alias repo_a[] = {
	{ "builder_id", "builder" },
	{ "server_id", "server" },
};
TABLE(repo_t, "repo.config", repo_f, repo_a);

/* 1.6 */
static const struct schema_field build_f[] = {
	B("auto_increment_version", "true"),
	S("branch", "main"),
	KV("build_args", "kv"),
	S("build_path", "."),
	REF("builder", "builder"),
	S("commit", ""),
	{ "dockerfile", SK_STRING, "", NULL, SCHEMA_INTERP },
	S("dockerfile_path", "Dockerfile"),
	LI("extra_args"),
	B("files_on_host", "false"),
	S("git_account", ""),
	B("git_https", "true"),
	S("git_provider", "github.com"),
	S("image_name", ""),
	K("image_registry", SK_REGISTRY),
	S("image_tag", ""),
	B("include_commit_tag", "true"),
	B("include_latest_tag", "true"),
	B("include_version_tags", "true"),
	KV("labels", "kv"),
	REF("linked_repo", "repo"),
	L("links"),
	CMD("pre_build"),
	S("repo", ""),
	KV("secret_args", "kv"),
	B("skip_secret_interp", "false"),
	B("use_buildx", "false"),
	{ "version", SK_VERSION, "0.0.0", NULL, 0 },
	B("webhook_enabled", "true"),
	S("webhook_secret", ""),
};
static const struct schema_alias build_a[] = {
	{ "builder_id", "builder" },
};
TABLE(build_t, "build.config", build_f, build_a);

/* 1.7: builder variants */
static const struct schema_field builder_aws_f[] = {
	S("ami_id", ""),
	B("assign_public_ip", "false"),
	ANY("git_providers", "[]"),
	ANY("image_registries", "[]"),
	B("insecure_tls", "true"),
	S("instance_type", "c5.2xlarge"),
	S("key_pair_name", ""),
	S("periphery_public_key", ""),
	I("port", "8120"),
	S("region", "us-east-1"),
	L("secrets"),
	L("security_group_ids"),
	S("subnet_id", ""),
	B("use_https", "true"),
	B("use_public_ip", "false"),
	S("user_data", ""),
	I("volume_gb", "20"),
};
static const struct schema_alias builder_aws_a[] = {
	{ "docker_registries", "image_registries" },
};
TABLE(builder_aws_t, "builder.config.params (Aws)", builder_aws_f,
    builder_aws_a);

static const struct schema_field builder_server_f[] = {
	REFS("servers", "server"),
};
static const struct schema_alias builder_server_a[] = {
	{ "server", "servers" },
	{ "server_id", "servers" },
	{ "server_ids", "servers" },
};
TABLE(builder_server_t, "builder.config.params (Server)", builder_server_f,
    builder_server_a);

static const struct schema_field builder_url_f[] = {
	S("address", "https://periphery:8120"),
	B("insecure_tls", "true"),
	S("passkey", ""),
	S("periphery_public_key", ""),
};
TABLE0(builder_url_t, "builder.config.params (Url)", builder_url_f);

const char schema_builder_variants[] = "Aws|Server|Url";

/* 1.8 */
static const struct schema_field procedure_f[] = {
	B("failure_alert", "true"),
	S("schedule", ""),
	B("schedule_alert", "true"),
	B("schedule_enabled", "true"),
	E("schedule_format", "English", schedule_formats),
	S("schedule_timezone", ""),
	K("stages", SK_STAGES),
	B("webhook_enabled", "true"),
	S("webhook_secret", ""),
};
static const struct schema_alias procedure_a[] = {
	{ "stage", "stages" },
};
TABLE(procedure_t, "procedure.config", procedure_f, procedure_a);

static const struct schema_field stage_f[] = {
	B("enabled", "true"),
	K("executions", SK_ANY),	/* parsed by resource.c */
	{ "name", SK_STRING, NULL, NULL, SCHEMA_REQUIRED },
};
static const struct schema_alias stage_a[] = {
	{ "execution", "executions" },
};
TABLE(stage_t, "procedure.config.stage", stage_f, stage_a);

/* 1.9 */
static const struct schema_field action_f[] = {
	FILEI("arguments"),
	E("arguments_format", "key_value", "key_value|toml|yaml|json"),
	B("failure_alert", "true"),
	FILEI("file_contents"),
	B("reload_deno_deps", "false"),
	B("run_at_startup", "false"),
	S("schedule", ""),
	B("schedule_alert", "true"),
	B("schedule_enabled", "true"),
	E("schedule_format", "English", schedule_formats),
	S("schedule_timezone", ""),
	B("webhook_enabled", "true"),
	S("webhook_secret", ""),
};
TABLE0(action_t, "action.config", action_f);

/* 1.10 */
static const struct schema_field sync_f[] = {
	S("branch", "main"),
	S("commit", ""),
	B("delete", "false"),
	FILEN("file_contents"),
	B("files_on_host", "false"),
	S("git_account", ""),
	B("git_https", "true"),
	S("git_provider", "github.com"),
	B("include_resources", "true"),
	B("include_user_groups", "false"),
	B("include_variables", "false"),
	REF("linked_repo", "repo"),
	B("managed", "false"),
	L("match_tags"),
	B("pending_alert", "true"),
	S("repo", ""),
	L("resource_path"),
	B("webhook_enabled", "true"),
	S("webhook_secret", ""),
};
TABLE0(sync_t, "resource_sync.config", sync_f);

/* 1.11 */
static const struct schema_field alerter_f[] = {
	L("alert_types"),
	B("enabled", "false"),
	K("endpoint", SK_ENDPOINT),
	K("except_resources", SK_TARGETS),
	K("maintenance_windows", SK_MWINDOWS),
	K("resources", SK_TARGETS),
};
TABLE0(alerter_t, "alerter.config", alerter_f);

static const struct schema_field endpoint_url_f[] = {
	{ "url", SK_STRING, "", NULL, SCHEMA_INTERP },
};
TABLE0(endpoint_url_t, "alerter.config.endpoint.params", endpoint_url_f);
static const struct schema_field endpoint_custom_f[] = {
	{ "url", SK_STRING, "http://localhost:7000", NULL, SCHEMA_INTERP },
};
TABLE0(endpoint_custom_t, "alerter.config.endpoint.params",
    endpoint_custom_f);
static const struct schema_field endpoint_ntfy_f[] = {
	S("email", ""),
	{ "url", SK_STRING, "http://localhost:8080/komodo", NULL,
	    SCHEMA_INTERP },
};
TABLE0(endpoint_ntfy_t, "alerter.config.endpoint.params", endpoint_ntfy_f);

/* kom's own: e-mail over SMTP (kom-alert(1)); Komodo has none */
static const struct schema_field endpoint_email_f[] = {
	S("ca_file", ""),
	S("from", ""),
	SI("password"),
	B("starttls", "true"),
	L("to"),
	{ "url", SK_STRING, "smtp://localhost:25", NULL, SCHEMA_INTERP },
	SI("username"),
};
TABLE0(endpoint_email_t, "alerter.config.endpoint.params",
    endpoint_email_f);

const char schema_endpoint_variants[] =
    "Custom|Slack|Discord|Ntfy|Pushover|Email";

/* 1.12: beside name and description */
static const struct schema_field variable_f[] = {
	B("is_secret", "false"),
	S("value", ""),
};
TABLE0(variable_t, "[[variable]]", variable_f);

/* 1.13: beside name */
static const struct schema_field user_group_f[] = {
	K("all", SK_PERMALL),
	B("everyone", "false"),
	K("permissions", SK_PERMS),
	L("users"),
};
static const struct schema_alias user_group_a[] = {
	{ "permission", "permissions" },
};
TABLE(user_group_t, "[[user_group]]", user_group_f, user_group_a);

/* MaintenanceWindow (section 0) */
static const struct schema_field mwindow_f[] = {
	S("date", ""),
	S("day_of_week", ""),
	S("description", ""),
	{ "duration_minutes", SK_INT, "0", NULL, SCHEMA_REQUIRED },
	B("enabled", "true"),
	I("hour", "0"),
	I("minute", "0"),
	{ "name", SK_STRING, NULL, NULL, SCHEMA_REQUIRED },
	E("schedule_type", "Daily", "Daily|Weekly|OneTime"),
	S("timezone", ""),
};
TABLE0(mwindow_t, "maintenance_windows", mwindow_f);

const char schema_target_types[] = "Server|Swarm|Stack|Deployment|Build|Repo|"
    "Procedure|Action|Builder|Alerter|ResourceSync|System";
const char schema_levels[] = "None|Read|Execute|Write";
const char schema_specific[] = "Terminal|Attach|Inspect|Logs|Processes";

/* Section 2.5 order. */
static const struct schema_type types[] = {
	{ "variable", "variables", NULL, KV_NAME_GENERAL, SCHEMA_TOPLEVEL,
	    &variable_t },
	{ "user_group", "user_groups", NULL, KV_NAME_GENERAL,
	    SCHEMA_TOPLEVEL, &user_group_t },
	{ "server", "servers", "Server", KV_NAME_GENERAL, 0, &server_t },
	{ "alerter", "alerters", "Alerter", KV_NAME_GENERAL, 0,
	    &alerter_t },
	{ "action", "actions", "Action", KV_NAME_GENERAL, 0, &action_t },
	{ "swarm", "swarms", "Swarm", KV_NAME_GENERAL, 0, &swarm_t },
	{ "builder", "builders", "Builder", KV_NAME_GENERAL, SCHEMA_TAGGED,
	    NULL },
	{ "repo", "repos", "Repo", KV_NAME_PATH, 0, &repo_t },
	{ "build", "builds", "Build", KV_NAME_DOCKER, 0, &build_t },
	{ "stack", "stacks", "Stack", KV_NAME_DOCKER, 0, &stack_t },
	{ "resource_sync", "resource_syncs", "ResourceSync",
	    KV_NAME_GENERAL, 0, &sync_t },
	{ "deployment", "deployments", "Deployment", KV_NAME_CONTAINER, 0,
	    &deployment_t },
	{ "procedure", "procedures", "Procedure", KV_NAME_GENERAL, 0,
	    &procedure_t },
};

const struct schema_type *
schema_types(size_t *n)
{
	*n = KOM_NELEM(types);
	return types;
}

const struct schema_type *
schema_type(const char *table)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(types); i++)
		if (!strcmp(table, types[i].name) ||
		    !strcmp(table, types[i].plural))
			return &types[i];
	return NULL;
}

const struct schema_type *
schema_type_by_target(const char *target)
{
	size_t i;

	for (i = 0; i < KOM_NELEM(types); i++)
		if (!strcmp(target, types[i].name) ||
		    (types[i].target && !strcmp(target, types[i].target)))
			return &types[i];
	return NULL;
}

int
schema_rank(const struct schema_type *t)
{
	return (int)(t - types);
}

_Static_assert(KOM_NELEM(types) == SCHEMA_NTYPES, "SCHEMA_NTYPES");

int
schema_type_rank(const char *type)
{
	size_t i;

	/* the first byte first: kom-plan asks once per record */
	for (i = 0; type && i < KOM_NELEM(types); i++)
		if (type[0] == types[i].name[0] && !strcmp(type, types[i].name))
			return (int)i;
	return SCHEMA_NTYPES;
}

static int
field_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct schema_field *)elt)->name);
}

static int
alias_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct schema_alias *)elt)->alias);
}

const struct schema_field *
schema_field(const struct schema_table *t, const char *key)
{
	const struct schema_field *f;
	const struct schema_alias *a;

	f = bsearch(key, t->fields, t->nfields, sizeof(*f), field_cmp);
	if (f || t->naliases == 0)
		return f;
	a = bsearch(key, t->aliases, t->naliases, sizeof(*a), alias_cmp);
	if (!a)
		return NULL;
	return bsearch(a->name, t->fields, t->nfields, sizeof(*f), field_cmp);
}

const struct schema_table *
schema_builder(const char *variant)
{
	if (!strcmp(variant, "Aws"))
		return &builder_aws_t;
	if (!strcmp(variant, "Server"))
		return &builder_server_t;
	if (!strcmp(variant, "Url"))
		return &builder_url_t;
	return NULL;
}

const struct schema_table *
schema_endpoint(const char *variant)
{
	if (!strcmp(variant, "Custom"))
		return &endpoint_custom_t;
	if (!strcmp(variant, "Ntfy"))
		return &endpoint_ntfy_t;
	if (!strcmp(variant, "Email"))
		return &endpoint_email_t;
	if (schema_in(schema_endpoint_variants, variant))
		return &endpoint_url_t;
	return NULL;
}

const struct schema_table *
schema_mwindow(void)
{
	return &mwindow_t;
}

const struct schema_table *
schema_stage(void)
{
	return &stage_t;
}

/* 1.15 */
#define BATCH(n, t) { n, "pattern:s tags:l", t }
#define STK "stack:@stack services:l"
#define DEP "deployment:@deployment"
#define CTR "server:@server container:s"
#define SRV "server:@server"
static const struct schema_exec execs[] = {
	{ "BackupCoreDatabase", "", NULL },
	BATCH("BatchBuildRepo", "repo"),
	BATCH("BatchCloneRepo", "repo"),
	BATCH("BatchDeploy", "deployment"),
	BATCH("BatchDeployStack", "stack"),
	BATCH("BatchDeployStackIfChanged", "stack"),
	BATCH("BatchDestroyDeployment", "deployment"),
	BATCH("BatchDestroyStack", "stack"),
	BATCH("BatchPullRepo", "repo"),
	BATCH("BatchPullStack", "stack"),
	BATCH("BatchRunAction", "action"),
	BATCH("BatchRunBuild", "build"),
	BATCH("BatchRunProcedure", "procedure"),
	{ "BuildRepo", "repo:@repo", NULL },
	{ "CancelAction", "action:@action update_id?:s", NULL },
	{ "CancelBuild", "build:@build", NULL },
	{ "CancelProcedure", "procedure:@procedure update_id?:s", NULL },
	{ "CancelRepoBuild", "repo:@repo", NULL },
	{ "ClearRepoCache", "", NULL },
	{ "CloneRepo", "repo:@repo", NULL },
	{ "CommitSync", "sync:@resource_sync", NULL },
	{ "CreateSwarmConfig", "swarm:@swarm name:s data:s labels:any "
	    "template_driver?:s", NULL },
	{ "CreateSwarmSecret", "swarm:@swarm name:s data:s labels:any "
	    "driver?:s template_driver?:s", NULL },
	{ "DeleteImage", SRV " name:s", NULL },
	{ "DeleteNetwork", SRV " name:s", NULL },
	{ "DeleteVolume", SRV " name:s", NULL },
	{ "Deploy", DEP " stop_signal?:sig stop_time?:i", NULL },
	{ "DeployStack", STK " stop_time?:i", NULL },
	{ "DeployStackIfChanged", "stack:@stack stop_time?:i", NULL },
	{ "DestroyContainer", CTR " signal?:sig time?:i", NULL },
	{ "DestroyDeployment", DEP " signal?:sig time?:i", NULL },
	{ "DestroyStack", STK " remove_orphans:b stop_time?:i", NULL },
	{ "GlobalAutoUpdate", "skip_auto_update:b", NULL },
	{ "None", "", NULL },
	{ "PauseAllContainers", SRV, NULL },
	{ "PauseContainer", CTR, NULL },
	{ "PauseDeployment", DEP, NULL },
	{ "PauseStack", STK, NULL },
	{ "PruneBuildx", SRV, NULL },
	{ "PruneContainers", SRV, NULL },
	{ "PruneDockerBuilders", SRV, NULL },
	{ "PruneImages", SRV, NULL },
	{ "PruneNetworks", SRV, NULL },
	{ "PruneSystem", SRV, NULL },
	{ "PruneVolumes", SRV, NULL },
	{ "PullDeployment", DEP, NULL },
	{ "PullRepo", "repo:@repo", NULL },
	{ "PullStack", STK, NULL },
	{ "RemoveSwarmConfigs", "swarm:@swarm configs:l", NULL },
	{ "RemoveSwarmNodes", "swarm:@swarm nodes:l force:b", NULL },
	{ "RemoveSwarmSecrets", "swarm:@swarm secrets:l", NULL },
	{ "RemoveSwarmServices", "swarm:@swarm services:l", NULL },
	{ "RemoveSwarmStacks", "swarm:@swarm stacks:l detach:b", NULL },
	{ "RestartAllContainers", SRV, NULL },
	{ "RestartContainer", CTR, NULL },
	{ "RestartDeployment", DEP, NULL },
	{ "RestartStack", STK, NULL },
	{ "RotateAllServerKeys", "", NULL },
	{ "RotateCoreKeys", "force:b", NULL },
	{ "RotateSwarmConfig", "swarm:@swarm config:s data:s", NULL },
	{ "RotateSwarmSecret", "swarm:@swarm secret:s data:s", NULL },
	{ "RunAction", "action:@action args?:any", NULL },
	{ "RunBuild", "build:@build", NULL },
	{ "RunProcedure", "procedure:@procedure", NULL },
	{ "RunStackService", "stack:@stack service:s command?:l no_tty?:b "
	    "no_deps?:b detach?:b service_ports?:b env?:any workdir?:s "
	    "user?:s entrypoint?:s pull?:b", NULL },
	{ "RunSync", "sync:@resource_sync resource_type?:s resources?:l",
	    NULL },
	{ "SendAlert", "level:s=OK message:s details:s alerters:l", NULL },
	{ "Sleep", "duration_ms:i", NULL },
	{ "StartAllContainers", SRV, NULL },
	{ "StartContainer", CTR, NULL },
	{ "StartDeployment", DEP, NULL },
	{ "StartStack", STK, NULL },
	{ "StopAllContainers", SRV, NULL },
	{ "StopContainer", CTR " signal?:sig time?:i", NULL },
	{ "StopDeployment", DEP " signal?:sig time?:i", NULL },
	{ "StopStack", "stack:@stack stop_time?:i services:l", NULL },
	{ "TestAlerter", "alerter:@alerter", NULL },
	{ "UnpauseAllContainers", SRV, NULL },
	{ "UnpauseContainer", CTR, NULL },
	{ "UnpauseDeployment", DEP, NULL },
	{ "UnpauseStack", STK, NULL },
	{ "UpdateSwarmNode", "swarm:@swarm node:s availability?:s "
	    "label_add?:any label_rm?:l role?:s", NULL },
};

static int
exec_cmp(const void *key, const void *elt)
{
	return strcmp(key, ((const struct schema_exec *)elt)->name);
}

const struct schema_exec *
schema_exec(const char *name)
{
	return bsearch(name, execs, KOM_NELEM(execs), sizeof(execs[0]),
	    exec_cmp);
}

const struct schema_exec *
schema_execs(size_t *n)
{
	*n = KOM_NELEM(execs);
	return execs;
}

int
schema_in(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p) {
		if (!strncmp(p, word, n) && (p[n] == '|' || p[n] == '\0'))
			return 1;
		p = strchr(p, '|');
		if (p)
			p++;
	}
	return 0;
}

static const struct schema_table *const all_tables[] = {
	&server_t, &swarm_t, &deployment_t, &stack_t, &repo_t, &build_t,
	&builder_aws_t, &builder_server_t, &builder_url_t, &procedure_t,
	&stage_t, &action_t, &sync_t, &alerter_t, &endpoint_url_t,
	&endpoint_custom_t, &endpoint_ntfy_t, &endpoint_email_t, &variable_t,
	&user_group_t, &mwindow_t,
};

const struct schema_table *const *
schema_tables(size_t *n)
{
	*n = KOM_NELEM(all_tables);
	return all_tables;
}
