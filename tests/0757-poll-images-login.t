#!/bin/sh
# kom-poll images against a registry that asks for a login, with nothing
# in config.json: the deployment's image_registry_account is an account
# of kom.toml's [[docker_registry]], its token a secret file, as kom-exec
# pulls with it.  A new digest of the tag is seen and alerted
# (auto_update off); with a wrong token the look is one line naming the
# image, nothing is alerted, and the token is in no output.  (Before, the
# digest checks read config.json only: "the registry asks for a login".)
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
registry_up auth || bail "no registry with a login"
export KOM_GRACE_MS=500

# the pushes log in with a config.json of their own; kom sees none
PUSH=$T/push
export DOCKER_CONFIG=$T/docker
mkdir -p "$PUSH" "$DOCKER_CONFIG" "$T/secrets"
echo '{}' >"$DOCKER_CONFIG/config.json"
printf '%s' "$AUTH_PASS" | DOCKER_CONFIG=$PUSH docker login -u "$AUTH_USER" \
    --password-stdin "$AUTH_REGISTRY" >/dev/null 2>&1 || bail "docker login failed"
printf '%s' "$AUTH_PASS" >"$T/secrets/$AUTH_USER@$AUTH_REGISTRY"
chmod 600 "$T/secrets/$AUTH_USER@$AUTH_REGISTRY"

R=$AUTH_REGISTRY/$AUTH_USER/kom-login-$PFX
push() {	# push VERSION: the same tag, a new image
	build_busybox_image "$R:latest" "LABEL v=$1" 'CMD ["sleep", "3600"]' &&
	    DOCKER_CONFIG=$PUSH docker push -q "$R:latest" >/dev/null 2>&1
}
at_exit 'docker rmi -f "$R:latest" >/dev/null 2>&1'
push 1 || bail "docker push to $AUTH_REGISTRY failed"

S=$T/sync
mkdir -p "$S"
cat >"$KOM_HOME/kom.toml" <<EOF2
secrets_dir = "$T/secrets"

[[docker_registry]]
domain = "$AUTH_REGISTRY"
accounts = [{ username = "$AUTH_USER" }]

[[resource_sync]]
name = "local"
resource_path = ["$S"]
EOF2
cat >"$S/d.toml" <<EOF2
[[deployment]]
name = "$PFX-web"
deploy = true
[deployment.config]
image.params.image = "$R:latest"
image_registry_account = "$AUTH_USER"
poll_for_updates = true
network = "host"
termination_timeout = 1
EOF2
AL=$KOM_HOME/spool/alert/new
kom-sync diff -y local 2>"$T/sync.err" | kom-plan | kom-exec >"$T/exec" 2>&1
is "$?" 0 'deployed, pulled with the account of kom.toml'

kom-poll images -a >"$T/img1" 2>"$T/err1"
is "$?:$(cat "$T/err1")" '0:' 'the first look: exit 0, nothing said'
is "$(jq -c 'select(.kind == "end") | .counts | {resources, alerts, errors}' "$T/img1")" \
    '{"resources":1,"alerts":0,"errors":0}' 'its image looked at: up to date'

push 2
kom-poll images -a >"$T/img2" 2>"$T/err2"
is "$?" 0 'after a push: exit 0'
is "$(jq -c 'select(.kind == "end") | .counts | {alerts, events, errors}' "$T/img2")" \
    '{"alerts":1,"events":0,"errors":0}' 'the new digest seen with the login: one alert'
is "$(cat "$AL"/* 2>/dev/null | jq -r '[.data.type, .data.data.image] | join(" ")')" \
    "DeploymentImageUpdateAvailable $R:latest" 'DeploymentImageUpdateAvailable, naming the image'
rm -f "$AL"/*

printf wrong >"$T/secrets/$AUTH_USER@$AUTH_REGISTRY"
push 3
kom-poll images -a >"$T/img3" 2>"$T/err3"
is "$(jq -c 'select(.kind == "end") | .counts | {alerts, errors}' "$T/img3")" \
    '{"alerts":0,"errors":1}' 'a wrong token: an error, no alert'
is "$(grep -c . "$T/err3")" 1 'said in one line'
ok 'naming the image, not authorized' grep -q "$R:latest.*not authorized" "$T/err3"
is "$(ls "$AL" 2>/dev/null)" '' 'nothing queued'
ok 'the token is in no output' sh -c "! grep -rqF -- '$AUTH_PASS' '$T'/img* '$T'/err* '$T/exec' '$KOM_HOME/state'"
done_testing
