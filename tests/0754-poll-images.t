#!/bin/sh
# kom-poll images against a real registry: the digest behind a tag from a
# manifest HEAD, compared with the running container's repo digest; a tag
# pushed again with a new image is one DeploymentImageUpdateAvailable
# alert (not one per poll); auto_update queues a deploy event instead; a
# registry that wants a login is answered from Docker's config.json.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
registry_up || bail "no registry"
registry_up auth || bail "no registry with auth"
export DOCKER_CONFIG=$T/docker
mkdir -p "$DOCKER_CONFIG"
echo '{}' >"$DOCKER_CONFIG/config.json"

R=$REGISTRY/kom-poll-$PFX
push() {	# push VERSION: the same tag, a new image
	build_busybox_image "$R:latest" "LABEL v=$1" 'CMD ["sleep", "3600"]' &&
	    docker push -q "$R:latest" >/dev/null 2>&1
}
at_exit 'docker rmi -f "$R:latest" "$AUTH_REGISTRY/kom-poll-$PFX:1" >/dev/null 2>&1'
push 1 || bail "docker push to $REGISTRY failed"

S=$T/sync
mkdir -p "$S"
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "local"
resource_path = ["$S"]
images_interval = 100
EOF
cat >"$S/d.toml" <<EOF
[[deployment]]
name = "$PFX-watch"
deploy = true
[deployment.config]
image.params.image = "$R:latest"
poll_for_updates = true
termination_timeout = 1

[[deployment]]
name = "$PFX-auto"
deploy = true
[deployment.config]
image.params.image = "$R:latest"
auto_update = true
termination_timeout = 1
EOF
kom-sync diff -y local 2>"$T/sync.err" | kom-plan | kom-exec >"$T/exec" 2>&1
is "$?" 0 'deployed'
images() {	# every sync, due or not (-a)
	kom-poll images -a "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
alerts() { ls "$KOM_HOME/spool/alert/new" 2>/dev/null | wc -l | tr -d ' '; }
events() { ls "$KOM_HOME/spool/sync/new" 2>/dev/null | wc -l | tr -d ' '; }

images
is "$(cat "$T/rc")" 0 'exit 0'
is "$(jq -r 'select(.kind == "image") | "\(.update) \(.latest == .running[0])"' "$T/out" | sort -u)" \
    'false true' 'nothing new: the latest digest is the running one'
is "$(alerts) $(events)" '0 0' 'no alert, no event'

push 2
images
is "$(jq -r 'select(.kind == "image") | "\(.name | sub(".*-"; "")) \(.update)"' "$T/out")" \
    'watch true
auto true' 'the tag pushed again: an update for both'
is "$(alerts)" 1 'one alert'
is "$(cat "$KOM_HOME"/spool/alert/new/* | jq -c --arg p "$PFX-" '{level, resolved, t: .target.type, type: .data.type, n: (.data.data.name | sub($p; ""))}')" \
    '{"level":"OK","resolved":true,"t":"Deployment","type":"DeploymentImageUpdateAvailable","n":"watch"}' \
    'DeploymentImageUpdateAvailable for the one that only polls'
is "$(jq -r .data.data.digest "$KOM_HOME"/spool/alert/new/*)" \
    "$(jq -r 'select(.kind == "image") | .latest' "$T/out" | head -1)" 'with the new digest'
is "$(events)" 1 'one event for the one that auto-updates'
is "$(cat "$KOM_HOME"/spool/sync/new/* | jq -c --arg p "$PFX-" '{source, sync, target: (.target | .name |= sub($p; "")), action}')" \
    '{"source":"images","sync":"local","target":{"type":"deployment","name":"auto"},"action":"deploy"}' \
    'the event: the sync and the deployment to deploy'
images
is "$(alerts)" 1 'polled again: still one alert (one per new digest)'

# the interval: kom.toml's images_interval (100 s) plus up to a tenth of
# jitter; not due, nothing is asked
is "$(jq -c 'select(.kind == "poll") | {source, sync, due, failures, in: ((.next - (now * 1000)) / 1000 | floor | . >= 90 and . <= 110)}' "$T/out")" \
    '{"source":"images","sync":"local","due":true,"failures":0,"in":true}' 'looked at: the next look in images_interval'
kom-poll images >"$T/out" 2>"$T/err"
is "$?" 0 'not due: exit 0'
is "$(jq -c '{kind, due}' "$T/out" | tr '\n' ' ')" \
    '{"kind":"poll","due":false} {"kind":"end","due":null} ' 'not due: no image asked'

# a registry that wants a login
A=$AUTH_REGISTRY/kom-poll-$PFX:1
echo "{\"auths\":{\"$AUTH_REGISTRY\":{\"auth\":\"$(printf '%s:%s' "$AUTH_USER" "$AUTH_PASS" | base64 -w0)\"}}}" \
    >"$T/login.json"
cp "$T/login.json" "$DOCKER_CONFIG/config.json"
docker tag "$R:latest" "$A" && docker push -q "$A" >/dev/null 2>&1
is "$?" 0 'pushed to the registry with a login'
cat >"$S/d.toml" <<EOF
[[deployment]]
name = "$PFX-priv"
[deployment.config]
image.params.image = "$A"
poll_for_updates = true
EOF
images
is "$(jq -r 'select(.kind == "image") | .latest | startswith("sha256:")' "$T/out")" true \
    'with config.json: the digest through Basic auth'
echo '{}' >"$DOCKER_CONFIG/config.json"
images
is "$(cat "$T/rc")" 65 'without a login: an error'
is "$(jq -c 'select(.kind == "poll") | {failures, in: ((.next - (now * 1000)) / 1000 | floor | . >= 190)}' "$T/out")" \
    '{"failures":1,"in":true}' 'a failure: the next look after a backoff (twice the interval)'
like() { if printf '%s\n' "$1" | grep -Eq -- "$2"; then _result 0 "$3"; else _result 1 "$3"; diag "got: $1" "want /$2/"; fi; }
like "$(cat "$T/err")" "the registry asks for a login and neither config.json nor an account of kom.toml's \[\[docker_registry\]\] has one for $AUTH_REGISTRY" \
    'without a login: the reason'
done_testing
