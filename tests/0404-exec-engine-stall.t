#!/bin/sh
# kom-exec against an engine that stops answering: a private dockerd of
# this test's own (own data root, exec root, pid file and socket, no
# bridge, no iptables, in a network namespace of its own; never the
# shared one) is stopped with SIGSTOP in the middle of a plan.  The
# namespace matters: a dockerd with --bridge=none deletes the host's
# docker0, which the shared dockerd's containers need.  Every engine call has a deadline: the step fails
# with "no answer from the Docker engine within N s", the run exits 75,
# the old container still serves.  After SIGCONT a rerun converges, with
# no duplicates.  The cleanup always continues and stops this dockerd.
. "$(dirname "$0")/lib.sh"

command -v dockerd >/dev/null 2>&1 || bail "no dockerd (docker.io)"
command -v curl >/dev/null 2>&1 || bail "curl is needed"
command -v unshare >/dev/null 2>&1 && command -v nsenter >/dev/null 2>&1 ||
	bail "unshare and nsenter (util-linux) are needed"
D=$T/dd
mkdir -p "$D/root" "$D/exec"
echo '{}' >"$D/daemon.json"

# wait_for SECONDS CMD...: CMD until it succeeds, at most SECONDS.
wait_for() {
	_w=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		_w=$((_w - 1))
		[ $_w -gt 0 ] || return 1
		sleep 0.1
	done
}

private_ping() {
	curl -fsS --max-time 2 --unix-socket "$D/sock" http://localhost/_ping
}

# Runs last (at_exit runs newest first): this dockerd goes, whatever
# state it is in, and its containerd with it.
private_stop() {
	[ -s "$D/pid" ] || return 0
	_p=$(cat "$D/pid")
	kill -CONT "$_p" 2>/dev/null
	timeout 30 env DOCKER_HOST="unix://$D/sock" sh -c \
	    'docker ps -aq | xargs -r -n 1 docker rm -f' >/dev/null 2>&1
	kill -TERM "$_p" 2>/dev/null
	wait_for 20 sh -c "! kill -0 $_p" || kill -KILL "$_p" 2>/dev/null
	for _c in $(cat "$D/children" 2>/dev/null); do
		kill -KILL "$_c" 2>/dev/null
	done
	awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts |
	    sort -r | while read -r _m; do umount -l "$_m"; done
	return 0
}
at_exit private_stop

had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes)
setsid unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
    dockerd --config-file "$D/daemon.json" --data-root "$D/root" \
    --exec-root "$D/exec" --pidfile "$D/pid" -H "unix://$D/sock" \
    --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    --log-level=error >"$D/log" 2>&1 </dev/null &
wait_for 60 private_ping || { tail -5 "$D/log"; bail "the private dockerd did not answer"; }
DPID=$(cat "$D/pid")
pgrep -P "$DPID" >"$D/children"
DOCKER_HOST=unix://$D/sock
export DOCKER_HOST

. "$KOM_TOP/tests/fixtures/exec/lib.sh"
# Runs first: nothing after it may meet a stopped engine.
at_exit "kill -CONT $DPID"

# Its containers (host network) live in its namespace.
fetch() {
	_n=0
	until _got=$(nsenter -t "$DPID" -n curl -sf -m 2 "http://127.0.0.1:$1/") ||
	    [ $_n -ge 20 ]; do
		_n=$((_n + 1))
		sleep 0.25
	done
	printf '%s\n' "$_got"
}

exec_images
export KOM_GRACE_MS=500
P1=$(port 1) P2=$(port 2) P3=$(port 3)
A1=$(dep "$PFX-a" "$IMG:1" "httpd -f -p $P1 -h /www" '[{"key":"V","value":"1"}]')
B1=$(dep "$PFX-b" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"V","value":"1"}]')
A2=$(dep "$PFX-a" "$IMG:1" "httpd -f -p $P1 -h /www" '[{"key":"V","value":"2"}]')
B2=$(dep "$PFX-b" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"V","value":"2"}]')
C2=$(dep "$PFX-c" "$IMG:1" "httpd -f -p $P3 -h /www" '[{"key":"V","value":"2"}]')
{ step 1 1 deploy "$A1"; step 2 2 deploy "$B1" '[1]'; plan_end; } >"$T/p1"
ok 'v1 deployed on the private engine' kexec "$T/p1"
{
	step 1 1 deploy "$A2"
	step 2 1 deploy "$C2"
	step 3 2 deploy "$B2" '[1]'
	plan_end
} >"$T/p2"

# The engine stops while kom-exec is about to create a's new container.
KOM_ENGINE_TIMEOUT=3 KOM_TEST_STOP_AT=create kom-exec "$T/p2" >"$T/out" 2>"$T/err" &
pid=$!
stopped() { [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = T ]; }
ok 'kom-exec reached a create' wait_for 30 stopped
kill -STOP "$DPID"
kill -CONT "$pid"
if wait_for 60 sh -c "! kill -0 $pid"; then
	wait "$pid"
	rc=$?
else
	kill -KILL "$pid"
	rc=hung
fi
is "$rc" 75 'a run whose engine stops answering exits 75'
diag "$(cat "$T/err")"
ok 'the failed step says why' grep -q 'no answer from the Docker engine within 3 s' "$T/err"
is "$(res "$T/out" 3 .status)" skipped 'the next stage does not start'
is "$(fetch "$P1")" v1 'the old container still serves'
KOM_ENGINE_TIMEOUT=2 kom-exec "$T/p2" >/dev/null 2>"$T/err2"
is "$?" 75 'a run that meets a stalled engine first exits 75'
ok 'and applies nothing' grep -q 'no answer from the Docker engine within 2 s; nothing applied' "$T/err2"
KOM_ENGINE_TIMEOUT=2 kom-exec status >/dev/null 2>&1
is "$?" 75 'status exits 75 too'

kill -CONT "$DPID"
ok 'the engine answers again' wait_for 60 private_ping
ok 'a rerun converges' kexec "$T/p2"
is "$(fetch "$P1")" v1 'and a serves'
is "$(ip link show docker0 >/dev/null 2>&1 && echo yes)" "$had_docker0" \
    "the host's docker0 is as it was"
for n in a b c; do
	is "$(docker ps -aq --filter "label=kom.name=$PFX-$n" | grep -c .)" 1 \
	    "$n: exactly one container"
	is "$(docker inspect -f '{{.State.Running}} {{range .Config.Env}}{{println .}}{{end}}' "$PFX-$n" | grep -o 'true\|V=2' | tr '\n' ' ')" \
	    'true V=2 ' "$n: v2 runs"
done
is "$(docker ps -aq --filter "name=$PFX-.*-kom-" | wc -l | tr -d ' ')" 0 'no -kom-new or -kom-old left'
is "$(ls "$KOM_HOME/state/journal/deployment" 2>/dev/null)" '' 'no journal left'
done_testing
