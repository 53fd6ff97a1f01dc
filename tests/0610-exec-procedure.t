#!/bin/sh
# kom-exec procedure against the real engine: an applied procedure runs
# its stages (Deploy, SendAlert, StopContainer, RunSync of a kom.toml
# sync inside the same run and lock); a failing one queues
# ProcedureFailed and its resolve after the next good run; -s (a timer)
# queues ScheduleRun unless schedule_alert is off; a busy state dir is a
# "no" without an alert; kom-exec timers writes one timer per enabled
# schedule.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images

HOSTN=$PFX-host
cat >"$KOM_HOME/kom.toml" <<TOML
server = "$HOSTN"

[[resource_sync]]
name = "apps"
resource_path = ["apps"]
TOML
mkdir -p "$KOM_HOME/apps" "$T/procs"
cat >"$KOM_HOME/apps/apps.toml" <<TOML
[[deployment]]
name = "$PFX-synced"
deploy = true
[deployment.config]
image.params.image = "$IMG:1"
termination_timeout = 1
TOML
procs() {	# procs IMAGE-OF-BAD: write and apply the procedures
	cat >"$T/procs/procs.toml" <<TOML
[[deployment]]
name = "$PFX-app"
[deployment.config]
image.params.image = "$IMG:1"
termination_timeout = 1

[[deployment]]
name = "$PFX-bad"
[deployment.config]
image.params.image = "$1"
termination_timeout = 1

[[procedure]]
name = "nightly"
[procedure.config]
schedule = "Every day at 03:00"
[[procedure.config.stage]]
name = "deploy"
executions = [
  { execution.type = "Deploy", execution.params.deployment = "$PFX-app" },
  { execution.type = "SendAlert", execution.params = { level = "w", message = "nightly ran" } },
]
[[procedure.config.stage]]
name = "side"
executions = [
  { execution.type = "StopContainer", execution.params = { server = "$HOSTN", container = "$PFX-side", time = 1 } },
]
[[procedure.config.stage]]
name = "sync"
executions = [
  { execution.type = "RunSync", execution.params.sync = "apps" },
]

[[procedure]]
name = "broken"
[procedure.config]
schedule = "0 */5 * * * *"
schedule_format = "Cron"
schedule_timezone = "Europe/Berlin"
schedule_alert = false
[[procedure.config.stage]]
name = "go"
executions = [
  { execution.type = "Deploy", execution.params.deployment = "$PFX-bad" },
]
[[procedure.config.stage]]
name = "after"
executions = [
  { execution.type = "SendAlert", execution.params.message = "never" },
]

[[procedure]]
name = "elsewhere"
[procedure.config]
schedule = "every 15 minutes"
schedule_enabled = false
[[procedure.config.stage]]
name = "there"
executions = [
  { execution.type = "StartContainer", execution.params = { server = "other-host", container = "$PFX-side" } },
]

[[procedure]]
name = "prune"
[[procedure.config.stage]]
name = "clean"
executions = [
  { execution.type = "PruneImages", execution.params.server = "$HOSTN" },
]

[[procedure]]
name = "update"
[[procedure.config.stage]]
name = "images"
executions = [
  { execution.type = "GlobalAutoUpdate", execution.params = {} },
]

[[procedure]]
name = "nosync"
[[procedure.config.stage]]
name = "sync"
executions = [
  { execution.type = "RunSync", execution.params.sync = "nowhere" },
]
TOML
	kom-sync diff "$T/procs" | kom-plan | kom-exec >"$T/apply.out" 2>"$T/apply.err"
}
alerts() {	# the queued alert records, one JSON line each, in order
	cat "$KOM_HOME/spool/alert/new/"*.json 2>/dev/null | jq -c .
}
clear_alerts() {
	rm -f "$KOM_HOME/spool/alert/new/"*.json
}

# an image no registry serves (refused on loopback, no lookup)
ok 'the procedures are applied' procs "127.0.0.1:9/$PFX:nope"
ok 'a container by hand' docker run -d --name "$PFX-side" "$IMG:1"
is "$(docker ps -q --filter "name=^$PFX-app\$")" '' 'nothing deployed yet'

kexec procedure nightly
is "$?" 0 'nightly: exit 0'
running "$PFX-app" && r=yes || r=no
is "$r" yes 'Deploy: the deployment runs'
is "$(docker inspect -f '{{.State.Running}}' "$PFX-side")" false \
    'StopContainer: the container is stopped'
running "$PFX-synced" && r=yes || r=no
is "$r" yes 'RunSync: the sync was applied in the same run'
is "$(jq -r 'select(.kind=="result" and .within == null) | "\(.id) \(.status) \(.action) \(.name)"' "$T/out" | sort -n | tr '\n' ' ')" \
    "1 ok deploy $PFX-app 2 ok execution nightly 3 ok execution $HOSTN 4 ok execution apps " \
    'one result per step of the procedure'
is "$(jq -r 'select(.kind=="result" and .within == 4) | "\(.status) \(.name)"' "$T/out" | sort | tr '\n' ' ')" \
    "ok $PFX-synced " "the sync's steps carry within: the RunSync step"
is "$(jq -c 'select(.id==4 and .within == null) | .detail.steps' "$T/out")" \
    '{"ok":1,"failed":0,"skipped":0,"noop":0}' 'RunSync: its counts'
is "$(alerts | jq -c '[.level, .resolved, .target, .data]')" \
    '["WARNING",true,{"type":"System","id":""},{"type":"Custom","data":{"message":"nightly ran","details":""}}]' \
    'SendAlert: a Custom alert, level alias w'
clear_alerts

kexec procedure -s nightly
is "$?" 0 'scheduled nightly: exit 0'
is "$(alerts | jq -c 'select(.data.type=="ScheduleRun") | [.level, .resolved, .target, .data.data]')" \
    '["OK",true,{"type":"Procedure","id":"nightly"},{"resource_type":"Procedure","id":"nightly","name":"nightly"}]' \
    'ScheduleRun queued for a scheduled run'
is "$(jq -r 'select(.kind=="result" and .within == null and .action == "deploy") | .status' "$T/out")" \
    noop 'the second run: the deployment unchanged'
clear_alerts

kexec_to "$T/b.out" "$T/b.err" procedure -s broken
is "$?" 1 'broken: exit 1'
is "$(jq -r 'select(.kind=="result") | "\(.id) \(.status)"' "$T/b.out" | tr '\n' ' ')" \
    '1 failed 2 skipped ' 'the failed stage stops the next one'
is "$(alerts | jq -c 'select(.target.type == "Procedure") | [.level, .resolved, .target, .data.type, .data.data.name, .data.data.error]')" \
    '["WARNING",false,{"type":"Procedure","id":"broken"},"ProcedureFailed","broken","1 of its steps failed"]' \
    'ProcedureFailed queued; no ScheduleRun (schedule_alert = false)'
clear_alerts
kexec_to "$T/b2.out" "$T/b2.err" procedure broken
is "$(alerts | grep -c ProcedureFailed)" 1 'failing again: ProcedureFailed again (kom-alert dedupes)'
clear_alerts
ok 'the bad image fixed and applied' procs "$IMG:1"
kexec procedure broken
is "$?" 0 'broken, fixed: exit 0'
is "$(alerts | jq -c 'select(.target.type == "Procedure") | [.level, .resolved, .data.type]')" '["OK",true,"ProcedureFailed"]' \
    'the next good run queues the resolve'
clear_alerts
kexec procedure broken
is "$(alerts | grep -c ProcedureFailed)" 0 'and nothing once resolved'

kexec_to "$T/e.out" "$T/e.err" procedure elsewhere
is "$?" 1 'a container of another server: exit 1'
ok 'the step says which server' \
    grep -q "server 'other-host' is not this host ('$HOSTN')" "$T/e.err"
clear_alerts
kexec_to "$T/e.out" "$T/e.err" procedure -s elsewhere
is "$?" 0 'a disabled schedule does not run from a (stale) timer: exit 0'
ok 'and says so' grep -q "schedule is not enabled: its timer is stale" "$T/e.err"
is "$(grep -c '"kind":"result"' "$T/e.out")" 0 '  nothing ran'
is "$(alerts | wc -l | tr -d ' ')" 0 'no alert for it'

flock -x "$KOM_HOME/state/lock" kom-exec procedure -b nightly \
    >"$T/busy.out" 2>"$T/busy.err"
is "$?" 1 'busy state dir with -b: exit 1'
ok 'says another kom-exec is applying' \
    grep -q 'another kom-exec is applying' "$T/busy.err"
is "$(alerts | wc -l | tr -d ' ')" 0 'a busy run is no failure'

clear_alerts
kexec_to "$T/p.out" "$T/p.err" procedure prune
is "$?" 65 'an execution kom-exec cannot run: refused at plan time, exit 65'
ok 'kom-plan names the file:line and stage' grep -q \
    "procs.toml:[0-9]*: procedure 'prune', stage 'clean': kom-exec cannot run PruneImages" "$T/p.err"
is "$(grep -c '"kind":"result"' "$T/p.out")" 0 'nothing ran'
is "$(alerts | jq -r 'select(.data.type == "ProcedureFailed") | .data.data.error' | cut -c1-24)" \
    'kom-plan -p exited 65: k' 'ProcedureFailed says kom-plan refused it'
kexec procedure update
is "$?" 0 'GlobalAutoUpdate runs kom-poll images'
is "$(jq -c 'select(.kind=="result") | [.status, .detail.images]' "$T/out")" \
    '["ok",0]' 'which watches nothing here'
kexec_to "$T/n.out" "$T/n.err" procedure nosync
is "$?" 1 'RunSync of a sync kom.toml lacks: exit 1'
ok 'the step says so' grep -q "declares no \[\[resource_sync\]\] 'nowhere'" "$T/n.err"

kexec_to "$T/u.out" "$T/u.err" procedure nothing
is "$?" 65 'a procedure never applied: exit 65'
kexec_to "$T/u.out" "$T/u.err" procedure -s nothing
is "$?" 0 'from a timer (-s), a procedure no longer applied: a stale timer, exit 0'
ok '  and says so' grep -q "its timer is stale, nothing to run" "$T/u.err"

mkdir "$T/gen"
ok 'timers' kom-exec timers "$T/gen"
is "$(ls "$T/gen" | tr '\n' ' ')" \
    'kom-procedure@broken.timer kom-procedure@nightly.timer timers.target.wants ' \
    'one timer per enabled schedule'
is "$(grep '^OnCalendar=' "$T/gen/kom-procedure@nightly.timer")" \
    'OnCalendar=*-*-* 03:00:00' 'English: OnCalendar'
is "$(grep '^OnCalendar=' "$T/gen/kom-procedure@broken.timer")" \
    'OnCalendar=*-*-* *:00,05,10,15,20,25,30,35,40,45,50,55:00 Europe/Berlin' \
    'Cron with seconds and a timezone: OnCalendar'
is "$(readlink "$T/gen/timers.target.wants/kom-procedure@nightly.timer")" \
    '../kom-procedure@nightly.timer' 'wanted by timers.target'
ok 'systemd reads the calendar' systemd-analyze calendar \
    "$(sed -n 's/^OnCalendar=//p' "$T/gen/kom-procedure@broken.timer")"

done_testing
