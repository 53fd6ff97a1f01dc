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
	{
		toml_deployment "$PFX-web" "$1" "httpd -f -p $P1 -h /www" \
		    "server = \"$HOST\""
		echo
		toml_deployment "$PFX-elsewhere" "$IMG:1" "" \
		    "server = \"$PFX-other\""
	} >"$S/app.toml"
}

apply() {
	pipeline "$S"
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
