#!/bin/sh
# auto_update end to end against a real registry: a tag pushed again with
# a new image is detected by kom-poll images, deployed by kom-poll apply
# and reported as DeploymentAutoUpdated; pushed again with an image that
# fails its healthcheck, it is deployed, fails its gate and is rolled back
# to the one before, which still serves: a DeploymentRollback alert, and
# no DeploymentAutoUpdated for it.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
registry_up || bail "no registry"
export DOCKER_CONFIG=$T/docker KOM_GRACE_MS=500
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"

R=$REGISTRY/kom-auto-$PFX
P=$(port 1)
push() {	# push VERSION [HEALTHCHECK]: the same tag, a new image
	build_busybox_image "$R:latest" "LABEL v=$1" \
	    "RUN [\"/bin/sh\", \"-c\", \"mkdir -p /www && echo v$1 >/www/index.html\"]" \
	    ${2:+"HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD $2"} \
	    "CMD [\"httpd\", \"-f\", \"-p\", \"$P\", \"-h\", \"/www\"]" &&
	    docker push -q "$R:latest" >/dev/null 2>&1
}
at_exit 'docker rmi -f "$R:latest" >/dev/null 2>&1'
push 1 || bail "docker push to $REGISTRY failed"

S=$T/sync
mkdir -p "$S"
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "local"
resource_path = ["$S"]
EOF
cat >"$S/d.toml" <<EOF
[[deployment]]
name = "$PFX-web"
deploy = true
[deployment.config]
image.params.image = "$R:latest"
network = "host"
auto_update = true
termination_timeout = 1
EOF
AL=$KOM_HOME/spool/alert/new
kom-sync diff -y local 2>"$T/sync.err" | kom-plan | kom-exec >"$T/exec" 2>&1
is "$?" 0 'v1 deployed'
serving() { timeout 10 wget -qO- "http://127.0.0.1:$P/" 2>/dev/null; }
is "$(serving)" v1 'v1 serves'
alert_types() { cat "$AL"/* 2>/dev/null | jq -r .data.type | sort | tr '\n' ' '; }

push 2
kom-poll images -a >"$T/img" 2>"$T/img.err"
is "$?" 0 'kom-poll images: exit 0'
is "$(jq -c 'select(.kind == "end") | .counts | {alerts, events}' "$T/img")" \
    '{"alerts":0,"events":1}' 'the new digest: one deploy event, no alert yet'
kom-poll apply -m 1 >"$T/out" 2>"$T/err"
is "$?" 0 'kom-poll apply: exit 0'
is "$(jq -c 'select(.kind == "result") | {action, status}' "$T/out")" \
    '{"action":"ensure","status":"ok"}' 'the deployment replaced'
is "$(serving)" v2 'v2 serves'
is "$(alert_types)" 'DeploymentAutoUpdated ' 'one alert: DeploymentAutoUpdated'
is "$(cat "$AL"/* | jq -c --arg p "$PFX-" '{level, resolved, target: (.target | .id |= sub($p; "")), d: (.data.data | {name: (.name | sub($p; "")), image})}')" \
    "{\"level\":\"OK\",\"resolved\":true,\"target\":{\"type\":\"Deployment\",\"id\":\"web\"},\"d\":{\"name\":\"web\",\"image\":\"$R:latest\"}}" \
    "in Komodo's shape, with the image"
rm -f "$AL"/*

kom-poll images -a >"$T/img" 2>"$T/img.err"
is "$(jq -c 'select(.kind == "end") | .counts | {alerts, events}' "$T/img")" \
    '{"alerts":0,"events":0}' 'polled again: up to date'
kom-poll apply >"$T/out" 2>"$T/err"
is "$(alert_types)" '' 'nothing to apply, no alert'

# an image whose healthcheck fails
push 3 false
kom-poll images -a >"$T/img" 2>"$T/img.err"
is "$(jq -c 'select(.kind == "end") | .counts.events' "$T/img")" 1 'v3: a deploy event'
kom-poll apply -m 1 >"$T/out" 2>"$T/err"
is "$?" 1 'kom-poll apply: the run failed (exit 1)'
is "$(jq -c 'select(.kind == "result") | {status, rb: .detail.rolled_back}' "$T/out")" \
    '{"status":"failed","rb":true}' 'the gate failed: rolled back'
is "$(serving)" v2 'v2 still serves'
is "$(docker ps -q --filter "label=kom.name=$PFX-web" | grep -c .)" 1 'one container'
is "$(alert_types)" 'DeploymentRollback SyncApplyFailed ' \
    'a rollback alert (and the failed run), no DeploymentAutoUpdated'
like() { if printf '%s\n' "$1" | grep -Eq -- "$2"; then _result 0 "$3"; else _result 1 "$3"; diag "got: $1" "want /$2/"; fi; }
like "$(cat "$AL"/* | jq -r 'select(.data.type == "DeploymentRollback") | .data.data.error')" 'unhealthy' \
    'the rollback says why'
done_testing
