#!/bin/sh
# kom-exec rolls back a version that fails its gate, against the real
# engine; the DeploymentRollback alert it queues reaches the receiver
# through kom-alert, as the Custom record and as the Discord text.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

exec_images
export KOM_GRACE_MS=500
recv_start "$T/r"
RP=$(cat "$T/r/port")
mkdir -p "$T/sync"
hook "$T/sync/a.toml" hook "http://127.0.0.1:$RP/hook" Custom \
    'alert_types = ["DeploymentRollback"]'
hook "$T/sync/a.toml" chat "http://127.0.0.1:$RP/chat" Discord \
    "resources = [{ type = \"Deployment\", id = \"$PFX-api\" }]"
alerters "$T/sync"

P=$(port 1)
GOOD=$(dep "$PFX-api" "$IMG:1" "httpd -f -p $P -h /www")
BAD=$(dep "$PFX-api" "$IMG:exit" "")
{ step 1 1 deploy "$GOOD"; plan_end; } >"$T/plan1"
ok 'v1 deploys' kexec "$T/plan1"
{ step 1 1 deploy "$BAD"; plan_end; } >"$T/plan2"
kom-exec "$T/plan2" >"$T/out2" 2>"$T/err2"
is "$?" 1 'the failing version fails its step'
is "$(res "$T/out2" 1 .detail.rolled_back)" true 'and is rolled back'
is "$(ls "$KOM_HOME/spool/alert/new" | wc -l | tr -d ' ')" 1 'one alert queued'

kom-alert >"$T/out" 2>"$T/err"
is "$?" 0 'kom-alert delivers the spool'
is "$(jq -s 'length' "$T/r/log")" 2 'two requests'
is "$(jq -rs '.[] | select(.path == "/hook") | .body | fromjson | [.level, .resolved, .target.type, .target.id, .data.type, .data.data.from, .data.data.to, .data.data.error] | join("|")' "$T/r/log")" \
    "WARNING|false|Deployment|$PFX-api|DeploymentRollback|$IMG:1|$IMG:exit|the new container exited with status 3" \
    'Custom: the rollback record'
is "$(jq -rs '.[] | select(.path == "/hook") | .body | fromjson | .data.data.log | join("")' "$T/r/log")" \
    'starting v2' 'Custom: with the new container'"'"'s log'
host=$(jq -r '.alert.data.data.server_name' "$KOM_HOME/state/alerts/open/"*.json)
is "$(jq -rs '.[] | select(.path == "/chat") | .body | fromjson | .content' "$T/r/log")" \
"WARNING ‼️ | Deployment **$PFX-api** **rolled back**: **$IMG:exit** failed
server: **$host**
kept: **$IMG:1**
error: the new container exited with status 3" 'Discord: the rollback text'
is "$(find "$KOM_HOME/spool/alert" -type f | wc -l | tr -d ' ')" 0 'the spool is empty'
done_testing
