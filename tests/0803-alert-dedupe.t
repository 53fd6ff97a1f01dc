#!/bin/sh
# kom-alert: one open alert per (target, type[, mount]) in STATE/alerts/open.
# A repeat while open is not sent, an escalation is, the resolve goes out
# with level OK, and a long-open alert is sent again after -r seconds.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

recv_start "$T/r"
P=$(cat "$T/r/port")
mkdir -p "$T/sync"
hook "$T/sync/a.toml" hook "http://127.0.0.1:$P/hook"
alerters "$T/sync"

# send TS ARGS-OF-alert...: route one record; prints "status[ reason]"
send() {
	ALERT_TS=$1
	shift
	{ alert "$@"; echo '{"kind":"end"}'; } >"$T/in"
	kom-alert ${KA_FLAGS:-} "$T/in" >"$T/out" 2>"$T/err" || cat "$T/err" >&2
	jq -r 'select(.kind == "delivery") | [.status, .reason // empty] | join(" ")' "$T/out"
}
last() { tail -n 1 "$T/r/log" | jq -c ".body | fromjson | $1"; }
cpu() { echo "{\"id\":\"h1\",\"name\":\"h1\",\"percentage\":$1}"; }

is "$(send 1000 ServerCpu Server h1 WARNING false "$(cpu 91)")" sent 'first WARNING is sent'
is "$(send 2000 ServerCpu Server h1 WARNING false "$(cpu 92)")" 'suppressed repeat while open' 'a repeat is not'
is "$(send 3000 ServerCpu Server h1 CRITICAL false "$(cpu 99)")" sent 'the escalation to CRITICAL is'
is "$(last .level)" '"CRITICAL"' 'as CRITICAL'
is "$(send 4000 ServerCpu Server h1 WARNING false "$(cpu 93)")" 'suppressed repeat while open' 'a de-escalation is not'
is "$(send 5000 ServerCpu Server h1 OK true "$(cpu 40)")" sent 'the resolve is sent'
is "$(last '[.level, .resolved, .ts, .resolved_ts, .data.data.percentage]')" '["OK",true,1000,5000,40]' \
    'level OK, resolved, opened ts, resolved_ts'
is "$(send 6000 ServerCpu Server h1 OK true "$(cpu 41)")" 'suppressed nothing open to resolve' 'a second resolve is not'
is "$(send 7000 ServerCpu Server h1 WARNING false "$(cpu 91)")" sent 'after the resolve a new WARNING opens again'
is "$(jq -r '.key + " " + .level' "$KOM_HOME/state/alerts/open/"*.json)" 'Server/h1/ServerCpu WARNING' 'the open alert on disk'

# per mount: two disks are two alerts
disk() { echo "{\"id\":\"h1\",\"name\":\"h1\",\"path\":\"$1\",\"used_gb\":80,\"total_gb\":100}"; }
is "$(send 8000 ServerDisk Server h1 WARNING false "$(disk /data)")" sent '/data opens'
is "$(send 8001 ServerDisk Server h1 WARNING false "$(disk /var)")" sent '/var opens apart'
is "$(send 8002 ServerDisk Server h1 WARNING false "$(disk /data)")" 'suppressed repeat while open' '/data repeats'

# state changes are events: each one goes out
sc='{"id":"web","name":"web","from":"running","to":"exited"}'
is "$(send 9000 ContainerStateChange Deployment web WARNING true "$sc")" sent 'a state change'
is "$(send 9001 ContainerStateChange Deployment web WARNING true "$sc")" sent 'another state change'

# the same record twice (same ts): one delivery
n=$(recv_ok "$T/r")
send 9001 ContainerStateChange Deployment web WARNING true "$sc" >/dev/null
is "$(recv_ok "$T/r")" "$n" 'an identical record is not delivered again'

# the repeat interval
KA_FLAGS='-r 1'
is "$(send 10000 ServerMem Server h2 WARNING false '{"id":"h2","name":"h2","used_gb":7,"total_gb":8}')" sent 'mem opens'
is "$(send 10001 ServerMem Server h2 WARNING false '{"id":"h2","name":"h2","used_gb":7,"total_gb":8}')" \
    'suppressed repeat while open' 'within the repeat interval: not sent'
sleep 1.1
is "$(send 10002 ServerMem Server h2 WARNING false '{"id":"h2","name":"h2","used_gb":7,"total_gb":8}')" sent \
    'after -r 1 s the long-open alert is sent again'
KA_FLAGS='-r 0'
sleep 1.1
is "$(send 10003 ServerMem Server h2 WARNING false '{"id":"h2","name":"h2","used_gb":7,"total_gb":8}')" \
    'suppressed repeat while open' '-r 0: never repeated'
done_testing
