#!/bin/sh
# kom-plan refuses what kom cannot carry out yet, with the reason, instead
# of a step that fails a stage at apply time: a deployment in swarm mode
# (lib/support's table; a stack from git is deployed since 0600-stack-git,
# a 'Build' image since 0671-build-deploy), and what is
# after them, become "refuse" steps in a last stage of their own; a
# procedure's execution on a resource that is neither in the stream nor
# in the state dir is refused where it stands.
. "$(dirname "$0")/lib.sh"

S=$T/syncs
mkdir -p "$S"
cat >"$S/apps.toml" <<'EOF2'
[[swarm]]
name = "sw"

[[deployment]]
name = "site"
deploy = true
[deployment.config]
swarm = "sw"
image.params.image = "site:1"

[[deployment]]
name = "site-proxy"
deploy = true
after = ["site"]
[deployment.config]
image.params.image = "nginx:1"

[[deployment]]
name = "db"
deploy = true
[deployment.config]
image.params.image = "postgres:16"

[[deployment]]
name = "api"
deploy = true
after = ["db"]
[deployment.config]
image.params.image = "api:1"

[[procedure]]
name = "nightly"
[procedure.config]
[[procedure.config.stage]]
name = "one"
executions = [
  { execution.type = "RestartDeployment", execution.params.deployment = "api" },
  { execution.type = "DeployStack", execution.params.stack = "immich" },
]
EOF2

kom-sync diff -a "$S" >"$T/diff" 2>/dev/null || bail "diff failed"
kom-plan "$T/diff" >"$T/plan" 2>"$T/err"
is "$?" 0 'kom-plan exits 0: a refusal is a step, not an error'
steps() {
	jq -r 'select(.kind == "step") | "\(.stage) \(.action) \(.name)"' "$1"
}
is "$(steps "$T/plan")" "1 record sw
1 record nightly
2 deploy db
3 deploy api
4 refuse site
4 refuse site-proxy" 'unrelated work first; refusals in a last stage of their own'
reason() {
	jq -r --arg n "$2" 'select(.kind == "step" and .name == $n and
	    .type != "build") | .reason' "$1"
}
is "$(reason "$T/plan" site)" "deploy on creation; refused: kom cannot deploy this yet: swarm mode (swarm: a docker service)" \
    'swarm mode: the reason, from the one table'
is "$(reason "$T/plan" site-proxy)" "deploy on creation; refused: it is after deployment 'site', which kom cannot deploy yet" \
    'what is after a refused resource is refused too'
is "$(jq -c 'select(.kind == "step" and .action == "refuse") | .needs' "$T/plan" | sort -u)" '[]' \
    'refusals need nothing'
kom-plan -H "$T/diff" >"$T/human"
ok '-H lists the refusals' grep -q "refuse    deployment 'site': deploy on creation; refused" "$T/human"

# procedures: an unknown target is refused where it stands
kom-plan -p nightly "$T/diff" >"$T/proc" 2>"$T/err"
is "$?" 0 'procedure: exit 0'
is "$(steps "$T/proc")" "1 restart api
1 refuse immich" 'procedure: the unknown target refused, the known one kept'
is "$(reason "$T/proc" immich)" "procedure 'nightly', stage 'one': DeployStack; refused: stack 'immich' is neither in the plan's input nor in the state dir" \
    'procedure: the reason names the target'
# known from the state dir: no refusal
mkdir -p "$KOM_HOME/state/resources/stack"
echo '{"type":"stack","name":"immich","config":{}}' \
    >"$KOM_HOME/state/resources/stack/immich.json"
kom-plan -p nightly "$T/diff" >"$T/proc2" 2>"$T/err" ||
	diag "$(cat "$T/err")"
is "$(steps "$T/proc2")" "1 restart api
1 deploy immich" 'procedure: a target in the state dir is known'
done_testing
