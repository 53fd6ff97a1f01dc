#!/bin/sh
# kom-exec check: a deployment stopped by hand, unhealthy, in a restart
# loop, a stack service stopped: one alert each, no repeat, resolved when
# fixed (or destroyed); the engine unreachable: ServerUnreachable, exit 75.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
export KOM_GRACE_MS=500
HOST=$PFX-host
printf 'server = "%s"\n' "$HOST" >"$KOM_HOME/kom.toml"
NEW=$KOM_HOME/spool/alert/new
mkdir -p "$T/f"

# check N: kom-exec check; the alerts it queued in $T/aN (and out of the
# queue), its exit status in $T/rcN.
check() {
	kom-exec check >"$T/out$1" 2>"$T/err$1"
	echo $? >"$T/rc$1"
	: >"$T/a$1"
	for _a in "$NEW"/*.json; do
		[ -f "$_a" ] || continue
		cat "$_a" >>"$T/a$1"
		rm -f "$_a"
	done
}
# sel N JQ-FILTER: the container alerts of check N, one line each
sel() {
	jq -c "select(.data.type | test(\"StateChange\")) | $2" "$T/a$1"
}
# wait_for NAME GO-TEMPLATE VALUE: until docker inspect says so (20 s)
wait_for() {
	_n=0
	until [ "$(docker inspect -f "$2" "$1" 2>/dev/null)" = "$3" ] ||
	    [ $_n -ge 80 ]; do
		_n=$((_n + 1))
		sleep 0.25
	done
}

# The file /f/$NAME.sick makes the health check fail, /f/$NAME.loop the
# command exit at once.
cmd() {
	echo "sh -c 'while :; do test -f /f/$1.loop && exit 1; sleep 0.2; done'"
}
mk() {	# mk NAME RESTART
	dep "$PFX-$1" "$IMG:1" "$(cmd "$PFX-$1")" '[]' \
	    '["--health-cmd '"'test ! -f /f/$PFX-$1.sick'"'", "--health-interval 1s", "--health-retries 1"]' |
	    jq -c --arg f "$T/f" --arg r "$2" \
	    '.config.volumes = [{local: $f, container: "/f"}] | .config.restart = $r'
}
STOP=$(mk stop no) SICK=$(mk sick no) LOOP=$(mk loop always)
{ step 1 1 deploy "$STOP"; step 2 1 deploy "$SICK"; step 3 1 deploy "$LOOP"
  plan_end; } >"$T/plan"
ok 'deploy three' kexec "$T/plan"

check 1
is "$(cat "$T/rc1")" 0 'a check of what runs as applied exits 0'
is "$(sel 1 .)" '' 'no container alert'
is "$(jq -c 'select(.kind=="end") | .check' "$T/out1")" '"ok"' 'end record'
ok 'the view is kept' jq -e '.containers["deployment/'"$PFX-stop"'"].state == "running"' \
    "$KOM_HOME/state/check.json"

# 1. stopped by hand
docker stop -t 1 "$PFX-stop" >/dev/null
check 2
is "$(sel 2 '[.level, .resolved, .target.type, .target.id, .data.type, .data.data.from, .data.data.to, .data.data.server_name]')" \
    "[\"WARNING\",false,\"Deployment\",\"$PFX-stop\",\"ContainerStateChange\",\"running\",\"exited\",\"$HOST\"]" \
    'a container stopped by hand: one ContainerStateChange'
check 3
is "$(sel 3 .)" '' 'a second check: no new alert'
docker start "$PFX-stop" >/dev/null
check 4
is "$(sel 4 '[.level, .resolved, .target.id, .data.data.from, .data.data.to]')" \
    "[\"OK\",true,\"$PFX-stop\",\"exited\",\"running\"]" \
    'started again: the resolved copy'
check 5
is "$(sel 5 .)" '' 'nothing after the resolve'

# 2. unhealthy through a file in a bind mount
touch "$T/f/$PFX-sick.sick"
wait_for "$PFX-sick" '{{.State.Health.Status}}' unhealthy
check 6
is "$(sel 6 '[.target.id, .data.data.to]')" "[\"$PFX-sick\",\"unhealthy\"]" \
    'an unhealthy container: one alert (Docker health counts)'
check 7
is "$(sel 7 .)" '' 'still unhealthy: no new alert'
rm -f "$T/f/$PFX-sick.sick"
wait_for "$PFX-sick" '{{.State.Health.Status}}' healthy
check 8
is "$(sel 8 '[.level, .target.id, .data.data.from]')" "[\"OK\",\"$PFX-sick\",\"unhealthy\"]" \
    'healthy again: resolved'

# 3. a restart loop over several checks: one alert
touch "$T/f/$PFX-loop.loop"
: >"$T/loop"
for n in 10 11 12 13 14; do
	c0=$(docker inspect -f '{{.RestartCount}}' "$PFX-loop")
	# a restart between every two checks
	_k=0
	while [ "$(docker inspect -f '{{.RestartCount}}' "$PFX-loop")" = "$c0" ] &&
	    [ $_k -lt 240 ]; do
		_k=$((_k + 1))
		sleep 0.25
	done
	check $n
	sel $n '[.level, .target.id]' >>"$T/loop"
done
is "$(cat "$T/loop")" "[\"WARNING\",\"$PFX-loop\"]" \
    'a restart loop seen by five checks: one alert'
ok 'the restarts were seen' test "$(docker inspect -f '{{.RestartCount}}' "$PFX-loop")" -ge 5

# 4. a stack with one of its services stopped
S=$T/stk
mkdir -p "$S"
cat >"$S/compose.yaml" <<EOD
version: "3"
services:
  a:
    image: $IMG:1
    network_mode: host
  b:
    image: $IMG:1
    network_mode: host
EOD
STK=$(jq -nc --arg n "$PFX-s" --arg src "$S/stack.toml:1" '{
    type: "stack", name: $n, sync: "test", source: $src,
    description: "", tags: [], template: false, deploy: true, after: [],
    config: { server: "", swarm: "", links: [], project_name: "",
	auto_pull: false, run_build: false, destroy_before_deploy: false,
	skip_secret_interp: false, files_on_host: true,
	run_directory: "", file_paths: [], env_file_path: ".env",
	additional_env_files: [], config_files: [], ignore_services: [],
	pre_deploy: { path: "", command: "", shell_mode: false },
	post_deploy: { path: "", command: "", shell_mode: false },
	extra_args: [], build_extra_args: [], file_contents: "",
	environment: [] } }')
{ step 1 1 deploy "$STK"; plan_end; } >"$T/plan-s"
ok 'deploy a stack of two services' kexec "$T/plan-s"
check 20
is "$(sel 20 'select(.target.type=="Stack")')" '' 'the stack runs: no alert'
B=$(docker ps -q --filter "label=com.docker.compose.project=$PFX-s" \
    --filter "label=com.docker.compose.service=b")
docker stop -t 1 "$B" >/dev/null
check 21
is "$(sel 21 'select(.target.type=="Stack") | [.data.type, .target.id, .data.data.service, .data.data.to]')" \
    "[\"StackStateChange\",\"$PFX-s\",\"b\",\"exited\"]" \
    'one service stopped: StackStateChange naming it'
check 22
is "$(sel 22 'select(.target.type=="Stack")')" '' 'no repeat'
docker start "$B" >/dev/null
check 23
is "$(sel 23 'select(.target.type=="Stack") | [.level, .resolved, .data.data.service]')" \
    '["OK",true,"b"]' 'started again: resolved'

# 5. the engine unreachable
ENGINE=$DOCKER_HOST
DOCKER_HOST=unix://$T/nothing.sock
check 26
is "$(cat "$T/rc26"):$(jq -c 'select(.data.type=="ServerUnreachable")' "$T/a26")" \
    75: 'one check finds the engine away: exit 75, no alert yet'
DOCKER_HOST=$ENGINE
check 27
DOCKER_HOST=unix://$T/nothing.sock
check 28
is "$(cat "$T/rc27"):$(jq -c 'select(.data.type=="ServerUnreachable")' "$T/a28")" \
    0: 'away, back, away: no two looks in a row, no alert'
check 30
is "$(cat "$T/rc30")" 75 'the engine does not answer: exit 75'
is "$(jq -c 'select(.data.type=="ServerUnreachable") | [.level, .resolved, .target.type, .target.id]' "$T/a30")" \
    "[\"CRITICAL\",false,\"Server\",\"$HOST\"]" 'the second look in a row: ServerUnreachable'
is "$(sel 30 .)" '' 'no container alert while the engine is away'
check 31
is "$(jq -c 'select(.data.type=="ServerUnreachable")' "$T/a31")" '' 'once'
DOCKER_HOST=$ENGINE
check 32
is "$(cat "$T/rc32")" 0 'back: exit 0'
is "$(jq -c 'select(.data.type=="ServerUnreachable") | [.level, .resolved]' "$T/a32")" \
    '["OK",true]' 'ServerUnreachable resolved'
is "$(sel 32 'select(.target.id != "'"$PFX-loop"'")')" '' \
    'the containers kept their view across the outage'

# 6. destroyed while its alert is open: resolved
{ step 1 1 destroy "$LOOP"; plan_end; } >"$T/plan-d"
ok 'destroy the looping deployment' kexec "$T/plan-d"
check 40
is "$(sel 40 '[.level, .resolved, .target.id, .data.data.to]')" \
    "[\"OK\",true,\"$PFX-loop\",\"not_deployed\"]" \
    'a destroyed deployment with an open alert: resolved'

done_testing
