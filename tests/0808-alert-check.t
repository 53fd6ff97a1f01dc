#!/bin/sh
# From the engine to a person: a container stopped by hand, seen by
# kom-exec check, delivered by kom-alert to a real HTTP receiver (Custom
# and Discord); a repeat while it is open not sent again; started again,
# the resolve (level OK) delivered; a memory threshold set under this
# machine's use delivered too; its flag turned off and on again, the next
# one delivered.  The server and the alerters are applied
# from a sync directory, as a user would.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

exec_images
export KOM_GRACE_MS=500
HOST=$PFX-host
printf 'server = "%s"\n' "$HOST" >"$KOM_HOME/kom.toml"
recv_start "$T/r"
RP=$(cat "$T/r/port")
MEM=$(awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 }
    END { printf "%d", 100 * (t - a) / t }' /proc/meminfo)
mkdir -p "$T/sync"
cat >"$T/sync/server.toml" <<EOT
[[server]]
name = "$HOST"
[server.config]
enabled = true
cpu_warning = 101.0
cpu_critical = 102.0
disk_warning = 101.0
disk_critical = 102.0
mem_warning = $((MEM > 10 ? MEM - 10 : 0)).0
mem_critical = 101.0
EOT
hook "$T/sync/a.toml" hook "http://127.0.0.1:$RP/hook"
hook "$T/sync/a.toml" chat "http://127.0.0.1:$RP/chat" Discord \
    'alert_types = ["ContainerStateChange"]'
alerters "$T/sync"

WEB=$(dep "$PFX-web" "$IMG:1" 'sleep 3600')
{ step 1 1 deploy "$WEB"; plan_end; } >"$T/plan"
ok 'deploy one' kexec "$T/plan"

# round N: one check and one kom-alert; what they said in $T/*N
round() {
	kom-exec check >"$T/check$1" 2>"$T/cerr$1"
	echo $? >"$T/crc$1"
	kom-alert >"$T/alert$1" 2>"$T/aerr$1"
	echo $? >"$T/arc$1"
}
# got PATH TYPE: [level, resolved] of each request to PATH about TYPE
got() {
	jq -cs --arg p "$1" --arg t "$2" '.[] | select(.path == $p) |
	    .body | fromjson | select(.data.type == $t) | [.level, .resolved]' \
	    "$T/r/log"
}
# status N: the kom-alert's delivery records of round N
status() {
	jq -r 'select(.kind == "delivery") | [.type, .status, .reason // empty] | join(" ")' \
	    "$T/alert$1"
}

round 1
is "$(cat "$T/crc1") $(cat "$T/arc1")" '0 0' 'a check and a delivery run: both 0'
is "$(got /hook ContainerStateChange)" '' 'it runs: nothing delivered'
is "$(got /hook ServerMem)" '' 'memory over its warning once: not yet'

docker stop -t 1 "$PFX-web" >/dev/null
round 2
is "$(got /hook ContainerStateChange)" '["WARNING",false]' \
    'stopped by hand: ContainerStateChange at the Custom receiver'
is "$(jq -cs '.[] | select(.path == "/hook") | .body | fromjson |
    select(.data.type == "ContainerStateChange") |
    [.target, .data.data.from, .data.data.to, .data.data.server_name]' "$T/r/log")" \
    "[{\"type\":\"Deployment\",\"id\":\"$PFX-web\"},\"running\",\"exited\",\"$HOST\"]" \
    'naming the deployment, the states and the server'
is "$(jq -rs '.[] | select(.path == "/chat") | .body | fromjson | .content' "$T/r/log")" \
    "📦 Deployment **$PFX-web** is now **Exited 🛑**
server: **$HOST**
previous: **running**" 'and the Discord text'
is "$(got /hook ServerMem)" '["WARNING",false]' \
    'memory over its warning on the second look: ServerMem delivered'

# the check's own view lost: it reports the stop again, kom-alert holds it
rm "$KOM_HOME/state/check.json"
round 3
is "$(status 3)" 'ContainerStateChange suppressed repeat while open' \
    'reported again while open: not re-sent'
is "$(got /hook ContainerStateChange | wc -l | tr -d ' ')" 1 'still one at the receiver'

docker start "$PFX-web" >/dev/null
round 4
is "$(got /hook ContainerStateChange)" '["WARNING",false]
["OK",true]' 'started again: the resolve delivered, level OK'
is "$(jq -cs '[.[] | select(.path == "/hook") | .body | fromjson |
    select(.data.type == "ContainerStateChange")] |
    [.[1].ts == .[0].ts, (.[1].resolved_ts | type), .[1].data.data.to]' "$T/r/log")" \
    '[true,"number","running"]' 'as the alert opened, with its resolved_ts'
is "$(jq -rs '[.[] | select(.path == "/chat") | .body | fromjson | .content] | .[1]' "$T/r/log" | head -1)" \
    "📦 Deployment **$PFX-web** is now **Running ▶️**" 'Discord got the resolve'

# the memory alert: the view lost in round 3, so rounds 3 and 4 looked
# twice again and reported it again: held back as well
is "$(status 4 | grep ServerMem)" 'ServerMem suppressed repeat while open' \
    'the memory alert reported again while open: not re-sent'
is "$(got /hook ServerMem)" '["WARNING",false]' 'ServerMem delivered once'
is "$(jq -cs --arg h "$HOST" '[.[] | select(.path == "/hook") | .body | fromjson |
    select(.data.type == "ServerMem") | .target == {type: "Server", id: $h} and
    .data.data.used_gb > 0] | .[0]' "$T/r/log")" true 'about this server, with used_gb'
is "$(jq -s '[.[] | select(.path == "/chat")] | length' "$T/r/log")" 2 \
    'the alerter of state changes only: two requests, no ServerMem'
round 5
is "$(got /hook ServerMem | wc -l | tr -d ' ')" 1 'no repeat on the next round'

# the memory alerts turned off while ServerMem is open: closed, nobody
# told; on again, the next one is delivered, not held back as a repeat
sed -i 's/^mem_critical = 101.0$/&\nsend_mem_alerts = false/' "$T/sync/server.toml"
alerters "$T/sync"
kom-exec check >"$T/check6" 2>"$T/cerr6"
Q=$KOM_HOME/spool/alert/new
mkdir -p "$T/q6"
cp "$Q"/* "$T/q6/"
kom-alert >"$T/alert6" 2>"$T/aerr6"
is "$(status 6 | grep ServerMem)" \
    'ServerMem suppressed closed without a message: its send flag is off' \
    'send_mem_alerts off: kom-alert closes it, tells nobody'
is "$(got /hook ServerMem | wc -l | tr -d ' ')" 1 'nothing more at the receiver'
# the same records again, as after a kom-alert killed once it had closed
# the alert: decided the same, still nobody told
cp "$T/q6"/* "$Q/"
kom-alert >"$T/alert6b" 2>"$T/aerr6b"
is "$(status 6b | grep ServerMem)" \
    'ServerMem suppressed closed without a message: its send flag is off' \
    'replayed: closed, still told to nobody'
is "$(got /hook ServerMem | wc -l | tr -d ' ')" 1 'and nothing at the receiver'
sed -i '/^send_mem_alerts/d' "$T/sync/server.toml"
alerters "$T/sync"
round 7
round 8
is "$(got /hook ServerMem)" '["WARNING",false]
["WARNING",false]' 'on again: the next one delivered on its second look, not held back'
is "$(find "$KOM_HOME/spool/alert" -type f | wc -l | tr -d ' ')" 0 'the spool is empty'
done_testing
