#!/bin/sh
# kom-exec check: this host's CPU, memory and disk against the server's
# thresholds, placed around this machine's real usage (read from /proc
# here): two observations open, escalation, the five-point close,
# send_*_alerts, ignore_mounts, the server's maintenance windows (open
# and closed around the real now), send_unreachable_alerts.  And a
# failed first deploy:
# DeploymentDeployFailed with the log lines and no secret, resolved by
# the next good deploy.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
export KOM_GRACE_MS=500
HOST=$PFX-host
printf 'server = "%s"\n' "$HOST" >"$KOM_HOME/kom.toml"
NEW=$KOM_HOME/spool/alert/new
SRV=$KOM_HOME/state/resources/server
mkdir -p "$SRV"

check() {	# as in 0450: alerts of check N in $T/aN
	kom-exec check >"$T/out$1" 2>"$T/err$1"
	echo $? >"$T/rc$1"
	: >"$T/a$1"
	for _a in "$NEW"/*.json; do
		[ -f "$_a" ] || continue
		cat "$_a" >>"$T/a$1"
		rm -f "$_a"
	done
}
# of N TYPE: [level, resolved] of check N's alerts of TYPE
of() {
	jq -c --arg t "$2" 'select(.data.type == $t) | [.level, .resolved]' "$T/a$1"
}
# silent N TYPE: [level, resolved, silent] of check N's TYPE alerts
silent() {
	jq -c --arg t "$2" 'select(.data.type == $t) | [.level, .resolved, .silent]' "$T/a$1"
}
# server JSON-CONFIG: the server resource as applied, thresholds that
# never fire unless set
server() {
	jq -nc --arg n "$HOST" --argjson c "$1" '{type: "server", name: $n,
	    config: ({cpu_warning: 101, cpu_critical: 102, mem_warning: 101,
	    mem_critical: 102, disk_warning: 101, disk_critical: 102,
	    send_cpu_alerts: true, send_mem_alerts: true,
	    send_disk_alerts: true, ignore_mounts: []} + $c)}' \
	    >"$SRV/$HOST.json"
}

# This machine's memory in use (MemTotal - MemAvailable), percent
MEM=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
    END { printf "%d", 100 * (t - a) / t }' /proc/meminfo)
# The first block device's mount and its use, percent
MNT=$(awk '$1 ~ /^\/dev\// { print $2; exit }' /proc/self/mounts)
DISK=$(stat -f -c '%b %f' "$MNT" | awk '{ printf "%d", 100 * ($1 - $2) / $1 }')
diag "memory $MEM%, $MNT $DISK%"
below() { awk -v v="$1" -v d="$2" 'BEGIN { v -= d; print v < 0 ? 0 : v }'; }

# memory: opened on the second bad observation, once
server "{\"mem_warning\": $(below "$MEM" 10)}"
check 1
is "$(cat "$T/rc1")" 0 'a check exits 0 (alerts are data)'
is "$(of 1 ServerMem)" '' 'one observation over the warning: nothing yet'
check 2
is "$(of 2 ServerMem)" '["WARNING",false]' 'the second: ServerMem opens'
is "$(jq -c 'select(.data.type == "ServerMem") | [.target, (.data.data | .used_gb > 0 and .total_gb >= .used_gb)]' "$T/a2")" \
    "[{\"type\":\"Server\",\"id\":\"$HOST\"},true]" 'naming the server, with used_gb and total_gb'
check 3
is "$(of 3 ServerMem)" '' 'a third: no repeat'
server "{\"mem_warning\": $(below "$MEM" 10), \"mem_critical\": $(below "$MEM" 5)}"
check 4
is "$(of 4 ServerMem)" '["CRITICAL",false]' 'over critical: escalated'
server "{\"mem_warning\": $((MEM + 30)), \"mem_critical\": $((MEM + 40))}"
check 5
is "$(of 5 ServerMem)" '["OK",true]' 'well under the warning: resolved'
server "{\"mem_warning\": 0, \"send_mem_alerts\": false}"
check 6
check 7
is "$(of 6 ServerMem)$(of 7 ServerMem)" '' 'send_mem_alerts false: nothing'

# disk: the five-point close
server "{\"disk_warning\": $(below "$DISK" 5)}"
check 10
check 11
is "$(jq -c --arg m "$MNT" 'select(.data.type == "ServerDisk" and .data.data.path == $m) | [.level, .data.data.path]' "$T/a11")" \
    "[\"WARNING\",\"$MNT\"]" 'ServerDisk for the mount, on the second look'
server "{\"disk_warning\": $((DISK + 2))}"
check 12
is "$(of 12 ServerDisk)" '' 'under the warning but within five points: still open'
server "{\"disk_warning\": $((DISK + 8))}"
check 13
is "$(jq -c 'select(.data.type == "ServerDisk") | [.level, .resolved, .data.data.path]' "$T/a13")" \
    "[\"OK\",true,\"$MNT\"]" 'more than five points under: resolved'
server "{\"disk_warning\": 0, \"ignore_mounts\": [\"$MNT\"]}"
check 14
check 15
is "$(jq -c --arg m "$MNT" 'select(.data.type == "ServerDisk" and .data.data.path == $m)' "$T/a14" "$T/a15")" \
    '' 'an ignored mount: no alert'

# cpu: always over a warning of 0; the flag turned off closes silently
server '{"cpu_warning": 0}'
check 20
check 21
is "$(of 20 ServerCpu)$(of 21 ServerCpu)" '["WARNING",false]' 'ServerCpu once, on the second look'
ok 'with a percentage' jq -e 'select(.data.type == "ServerCpu") | .data.data.percentage >= 0' "$T/a21"
server '{"cpu_warning": 0, "send_cpu_alerts": false}'
check 22
is "$(silent 22 ServerCpu)" '["OK",true,true]' \
    'send_cpu_alerts off: closed silently (kom-alert tells nobody)'
ok 'and closed in the view' jq -e '.metrics.cpu.open == null' "$KOM_HOME/state/check.json"

# maintenance windows (komodo-behaviour 6.2): inside one no server alert
# opens or escalates and an observation does not count; resolves go out.
# Windows are placed around the real now.
win() {	# win NAME TYPE HOUR MINUTE MINUTES TZ [EXTRA-JSON]
	jq -nc --arg n "$1" --arg t "$2" --argjson h "$3" --argjson m "$4" \
	    --argjson d "$5" --arg z "$6" --argjson x "${7:-{\}}" \
	    '{name: $n, schedule_type: $t, hour: $h, minute: $m,
	    duration_minutes: $d, timezone: $z} + $x'
}
# the windows name today and tomorrow: not in the last minute of a day
[ "$(date -u +%H%M)" = 2359 ] && sleep 61
UH=$(date -u +%-H) UM=$(date -u +%-M)
# closed: later today, switched off, tomorrow's weekday, yesterday's date
CLOSED="[$(win later Daily $(( (UH + 3) % 24 )) 0 60 UTC),
  $(win off Daily 0 0 1439 UTC '{"enabled": false}'),
  $(win week Weekly 0 0 1439 UTC "{\"day_of_week\": \"$(date -u -d tomorrow +%A)\"}"),
  $(win once OneTime 0 0 1439 UTC "{\"date\": \"$(date -u -d yesterday +%F)\"}")]"
# open: this minute in Tokyo (a zone's own time), this weekday, today
TOKYO="[$(win now Daily "$(TZ=Asia/Tokyo date +%-H)" "$(TZ=Asia/Tokyo date +%-M)" 120 Asia/Tokyo)]"
WEEKLY="[$(win w Weekly "$UH" "$UM" 120 UTC "{\"day_of_week\": \"$(date -u +%A)\"}")]"
TODAY="[$(win t OneTime "$UH" "$UM" 120 UTC "{\"date\": \"$(date -u +%F)\"}")]"
LOW=$(below "$MEM" 10)
server "{\"mem_warning\": $LOW, \"maintenance_windows\": $CLOSED}"
check 50
check 51
is "$(of 50 ServerMem)$(of 51 ServerMem)" '["WARNING",false]' \
    'windows that are not open now: ServerMem opens on the second look'
server "{\"mem_warning\": $((MEM + 30)), \"maintenance_windows\": $CLOSED}"
check 52
is "$(of 52 ServerMem)" '["OK",true]' 'and resolves'
for w in TOKYO WEEKLY TODAY; do
	eval "ws=\$$w"
	server "{\"mem_warning\": $((MEM + 30))}"
	check 53	# each window on its own: nothing open, nothing counted
	server "{\"mem_warning\": $LOW, \"maintenance_windows\": $ws}"
	check 54
	check 55
	is "$(of 54 ServerMem)$(of 55 ServerMem)" '' \
	    "in a window open now ($w): nothing opens"
done
server "{\"mem_warning\": $LOW}"
check 56
is "$(of 56 ServerMem)" '' 'the window over: the looks inside it did not count'
check 57
is "$(of 57 ServerMem)" '["WARNING",false]' 'the second look after it opens'
server "{\"mem_warning\": $LOW, \"mem_critical\": $(below "$MEM" 5), \"maintenance_windows\": $TOKYO}"
check 58
is "$(of 58 ServerMem)" '' 'over critical in a window: no escalation'
server "{\"mem_warning\": $((MEM + 30)), \"maintenance_windows\": $TOKYO}"
check 59
is "$(of 59 ServerMem)" '["OK",true]' 'a resolve goes out in a window'
ENGINE=$DOCKER_HOST
DOCKER_HOST=unix://$T/nothing.sock
server "{\"maintenance_windows\": $TOKYO, \"region\": \"eu-1\"}"
check 60
is "$(cat "$T/rc60"):$(of 60 ServerUnreachable)" '75:' \
    'the engine away in a window: exit 75, no ServerUnreachable'
server '{"region": "eu-1"}'
check 64
is "$(of 64 ServerUnreachable)" '' \
    'after the window: the look inside it did not count, one more needed'
check 61
is "$(jq -c 'select(.data.type == "ServerUnreachable") | [.level, .data.data.region]' "$T/a61")" \
    '["CRITICAL","eu-1"]' 'the second look after it: opened, with the server'"'"'s region'
server '{"send_unreachable_alerts": false}'
check 62
is "$(silent 62 ServerUnreachable)" '["OK",true,true]' \
    'send_unreachable_alerts off: closed silently'
ok 'and closed in the view' jq -e '.unreachable == false' "$KOM_HOME/state/check.json"
check 63
is "$(of 63 ServerUnreachable)" '' 'and not opened again'
DOCKER_HOST=$ENGINE
server '{}'

# a failed first deploy: DeploymentDeployFailed, masked, with the log
mkdir -p "$T/secrets"
printf 's3cr3t-value\n' >"$T/secrets/TOKEN"
export KOM_SECRETS_DIR=$T/secrets
BAD=$(dep "$PFX-bad" "$IMG:1" 'sh -c "echo token is $TOKEN; exit 4"' '[{"key":"TOKEN","value":"[[TOKEN]]"}]')
{ step 1 1 deploy "$BAD"; plan_end; } >"$T/plan1"
kom-exec "$T/plan1" >"$T/pout1" 2>"$T/perr1"
is "$(res "$T/pout1" 1 .status)" failed 'the deploy fails'
check 30
is "$(jq -c 'select(.data.type == "DeploymentDeployFailed") | [.level, .resolved, .target.type, .target.id, .data.data.server_name, (.data.data.error | length > 0), .data.data.log]' "$T/a30")" \
    "[\"WARNING\",false,\"Deployment\",\"$PFX-bad\",\"$HOST\",true,[\"token is <TOKEN>\"]]" \
    'DeploymentDeployFailed with the log lines, masked'
ok 'the secret is nowhere in the spool' sh -c "! grep -r s3cr3t-value '$T/a30' '$KOM_HOME/spool'"
GOOD=$(dep "$PFX-bad" "$IMG:1" 'sleep 3600')
{ step 1 1 deploy "$GOOD"; plan_end; } >"$T/plan2"
ok 'the next deploy works' kexec "$T/plan2"
check 31
is "$(of 31 DeploymentDeployFailed)" '["OK",true]' 'and resolves the failure'
{ step 1 1 deploy "$GOOD"; plan_end; } >"$T/plan3"
kexec "$T/plan3"
check 32
is "$(of 32 DeploymentDeployFailed)" '' 'a later good deploy: nothing'

# a window on the server does not hold back a container's state change
# (Komodo's rule: those are the deployment's, not the server's)
server "{\"maintenance_windows\": $TOKYO}"
check 33
docker stop -t 1 "$PFX-bad" >/dev/null
check 34
is "$(jq -c 'select(.data.type == "ContainerStateChange") | [.level, .target.id, .data.data.to]' "$T/a34")" \
    "[\"WARNING\",\"$PFX-bad\",\"exited\"]" 'a container stopped in a server window: alerted'

done_testing
