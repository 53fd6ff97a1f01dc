#!/bin/sh
# This host's name is one rule (config_server): kom.toml's server, else
# the system's host name.  kom-sync selects the resources of that server
# and kom-exec names the same host in its alerts, against the engine.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
export KOM_GRACE_MS=300

S=$T/sync
mkdir -p "$S"
P1=$(port 1)
HOST=$PFX-host
printf 'server = "%s"\n' "$HOST" >"$KOM_HOME/kom.toml"

# write_sync IMAGE: one deployment on this host, one on another
write_sync() {
	cat >"$S/app.toml" <<EOF_APP
[[deployment]]
name = "$PFX-web"
deploy = true
[deployment.config]
server = "$HOST"
image.params.image = "$1"
command = "httpd -f -p $P1 -h /www"
termination_timeout = 1

[[deployment]]
name = "$PFX-elsewhere"
deploy = true
[deployment.config]
server = "$PFX-other"
image.params.image = "$IMG:1"
termination_timeout = 1
EOF_APP
}

apply() {
	kom-sync diff "$S" >"$T/diff.out" 2>"$T/diff.err" &&
	    kom-plan <"$T/diff.out" >"$T/plan.out" 2>"$T/plan.err" &&
	    kexec "$T/plan.out"
}

write_sync "$IMG:1"
apply
is "$?" 0 'the first apply succeeds'
is "$(jq -r 'select(.kind == "result") | .name' "$T/out" | sed "s/$PFX-//")" \
    web "kom-sync selected the deployment of kom.toml's server only"
ok "$PFX-web runs" running "$PFX-web"

# a version that exits is rolled back, with an alert naming this host
write_sync "$IMG:exit"
apply
is "$?" 1 'the new version fails'
is "$(cat "$KOM_HOME"/spool/alert/new/* 2>/dev/null |
    jq -r '.data.data.server_name')" "$HOST" \
    "the rollback alert names kom.toml's server"
ok 'the old version is back' running "$PFX-web"
done_testing
