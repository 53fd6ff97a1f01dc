#!/bin/sh
# kom-exec: what it refuses (truncated plan, error record, busy lock, no
# engine), -n, record/remove/sleep/execution steps, status and drift.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
G=$KOM_TOP/tests/golden/exec

exec_images
export KOM_GRACE_MS=300
P1=$(port 11)
A=$(dep "$PFX-a" "$IMG:1" "httpd -f -p $P1 -h /www")

# a truncated plan applies nothing
step 1 1 deploy "$A" >"$T/trunc"
fails 'a plan without its end record exits 65' 65 kom-exec "$T/trunc"
kom-exec "$T/trunc" >"$T/out" 2>"$T/err"
sed "s|$T/trunc|PLAN|" "$T/err" >"$T/err.n"
cmp_file "$T/err.n" "$G/truncated.err" 'it says so'
is "$(cid "$PFX-a")" '' 'no container created'
ok 'nothing recorded' test ! -e "$KOM_HOME/state/resources/deployment/$PFX-a.json"

# an error record from an earlier stage applies nothing
{ step 1 1 deploy "$A"; echo '{"kind":"error","program":"kom-plan","message":"cycle: a -> b -> a"}'; plan_end; } >"$T/errplan"
kom-exec "$T/errplan" >"$T/out" 2>"$T/err"
is "$?" 65 'an error record exits 65'
sed "s|$T/errplan|PLAN|" "$T/err" >"$T/err.n"
cmp_file "$T/err.n" "$G/error-record.err" 'it names the error'
is "$(jq -r .kind "$T/out")" error 'the error record is passed on'
is "$(cid "$PFX-a")" '' 'no container created'

# a bad step is bad input
printf '%s\n' '{"kind":"step","id":1,"stage":1,"action":"deploy","type":"deployment","name":"x","needs":[7]}' \
    '{"kind":"end","program":"kom-plan"}' >"$T/badneeds"
fails 'needs of an unknown step exits 65' 65 kom-exec "$T/badneeds"

# an unreachable engine: exit 69, one line, nothing done
{ step 1 1 deploy "$A"; plan_end; } >"$T/plan"
DOCKER_HOST=unix://$T/no.sock kom-exec "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 69 'no engine exits 69'
sed "s|$T|T|g" "$T/err" >"$T/err.n"
cmp_file "$T/err.n" "$G/no-engine.err" 'one clear line (and nothing applied)'
is "$(cat "$T/out")" '' 'no results written'
ok 'no history' test ! -e "$KOM_HOME/state/history"

# -n changes nothing, says what would happen
kom-exec -n "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 0 '-n exits 0'
is "$(res "$T/out" 1 '"\(.status) \(.detail.would) \(.dry_run)"')" 'ok create true' '-n says it would create'
is "$(cid "$PFX-a")" '' '-n created nothing'
MISSING=$(dep "$PFX-m" "kom-exec-test:nonexistent" "")
{ step 1 1 deploy "$MISSING"; plan_end; } >"$T/missing"
kom-exec -n "$T/missing" >"$T/out" 2>"$T/err"
is "$?" 1 '-n with an image that cannot be had exits 1'
is "$(res "$T/out" 1 .status)" failed '-n result failed'
UNDEF=$(dep "$PFX-u" "$IMG:1" "" '[{"key":"X","value":"[[NOPE]]"}]')
{ step 1 1 deploy "$UNDEF"; plan_end; } >"$T/undef"
kom-exec -n "$T/undef" >"$T/out" 2>"$T/err"
is "$(res "$T/out" 1 .error)" "environment: undefined variable 'NOPE'" '-n checks interpolation'

# the busy lock
mkdir -p "$KOM_HOME/state"
flock "$KOM_HOME/state/lock" sleep 30 &
lockpid=$!
at_exit "kill $lockpid"
sleep 0.3
kom-exec -b "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 1 '-b with the lock held exits 1'
sed "s|$KOM_HOME|HOME|" "$T/err" >"$T/err.n"
cmp_file "$T/err.n" "$G/busy.err" 'busy message'
is "$(cid "$PFX-a")" '' 'nothing applied while busy'
kill $lockpid
wait $lockpid 2>/dev/null

# apply, then status
ok 'apply' kexec "$T/plan"
kom-exec status >"$T/st"
is "$(jq -c --arg n "$PFX-a" 'select(.name==$n) | {type,state,health,drift,image}' "$T/st")" \
    "{\"type\":\"deployment\",\"state\":\"running\",\"health\":\"none\",\"drift\":null,\"image\":\"$IMG:1\"}" \
    'status: running, no drift'
is "$(jq -r --arg n "$PFX-a" 'select(.name==$n) | .container' "$T/st")" "$(cid "$PFX-a")" 'status: container id'
is "$(jq -r 'select(.kind=="end") | .program' "$T/st")" kom-exec 'status ends with an end record'
kom-exec status -H >"$T/sth"
ok 'status -H prints a table' grep -q "^deployment  *$PFX-a  *running" "$T/sth"

docker stop -t 1 "$PFX-a" >/dev/null
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-a" 'select(.name==$n) | "\(.state) \(.drift)"' "$T/st")" 'exited stopped' \
    'stopped by hand: drift stopped'
{ step 1 1 ensure "$A"; plan_end; } >"$T/ensure"
kom-exec "$T/ensure" >"$T/out" 2>/dev/null
is "$(res "$T/out" 1 '"\(.status) \(.reason)"')" 'ok deployment is not running' 'ensure repairs it'
ok 'running again' running "$PFX-a"

docker update --memory 64m --memory-swap 64m "$PFX-a" >/dev/null
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-a" 'select(.name==$n) | .drift' "$T/st")" changed 'docker update by hand: drift changed'
kom-exec "$T/ensure" >"$T/out" 2>/dev/null
is "$(res "$T/out" 1 .status)" ok 'ensure repairs the hand change'
is "$(docker inspect -f '{{.HostConfig.Memory}}' "$PFX-a")" 0 'memory limit gone'

docker rm -f "$PFX-a" >/dev/null
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-a" 'select(.name==$n) | "\(.state) \(.drift)"' "$T/st")" 'not_deployed removed' \
    'removed by hand: drift removed'
kom-exec "$T/ensure" >"$T/out" 2>/dev/null
is "$(res "$T/out" 1 '"\(.status) \(.reason)"')" 'ok deployment has not_deployed state' 'ensure recreates it'
is "$(fetch "$P1")" v1 'serving again'

# record, remove, sleep, execution, lifecycle
V=$(jq -nc '{type:"variable",name:"GREETING",config:{value:"hi",is_secret:false}}')
{ step 1 1 record "$V"; plan_end; } >"$T/rec"
ok 'record a variable' kexec "$T/rec"
is "$(jq -r .config.value "$KOM_HOME/state/resources/variable/GREETING.json")" hi 'recorded'
{ step 1 1 remove "$V"; plan_end; } >"$T/rm"
ok 'remove it' kexec "$T/rm"
ok 'removed' test ! -e "$KOM_HOME/state/resources/variable/GREETING.json"
printf '%s\n' '{"kind":"step","id":1,"stage":1,"action":"sleep","type":"procedure","name":"p","execution":{"type":"Sleep","params":{"duration_ms":10}}}' \
    '{"kind":"step","id":2,"stage":2,"action":"execution","type":"procedure","name":"p","execution":{"type":"PruneImages","params":{}}}' \
    '{"kind":"step","id":3,"stage":3,"action":"sleep","type":"procedure","name":"p","execution":{"type":"Sleep","params":{"duration_ms":10}}}' \
    '{"kind":"end","program":"kom-plan"}' >"$T/proc"
kom-exec "$T/proc" >"$T/out" 2>/dev/null
is "$?" 1 'an unsupported execution fails the run'
is "$(jq -r 'select(.kind=="result") | "\(.id) \(.status) \(.error)"' "$T/out")" \
    "1 ok null
2 failed kom-exec cannot run execution PruneImages
3 skipped stage 2 failed; later stages do not start" 'sleep ok, execution unsupported, later stages skipped'

ok 'stop by hand' kom-exec stop "$PFX-a"
ok 'stopped' sh -c "! docker inspect -f '{{.State.Running}}' $PFX-a | grep -q true"
ok 'start by hand' kom-exec start "$PFX-a"
ok 'running' running "$PFX-a"
ok 'pause' kom-exec pause "$PFX-a"
is "$(docker inspect -f '{{.State.Paused}}' "$PFX-a")" true 'paused'
ok 'unpause' kom-exec unpause "$PFX-a"
ok 'restart' kom-exec restart -t 1 "$PFX-a"
ok 'destroy by hand' kom-exec destroy "$PFX-a"
is "$(cid "$PFX-a")" '' 'container gone'
ok 'and forgotten' test ! -e "$KOM_HOME/state/resources/deployment/$PFX-a.json"
fails 'an unknown name exits 1' 1 kom-exec start "$PFX-nothing"
fails 'usage' 64 kom-exec -j 0
kom-exec -h >"$T/h.out" 2>"$T/h.err"
is "$?" 0 '-h exits 0'
is "$(head -1 "$T/h.out")" 'usage: kom-exec [-bhnV] [-j jobs] [file]' '-h: usage on stdout'
is "$(cat "$T/h.err")" '' '-h: nothing on stderr'
kom-exec status -h >"$T/h.out" 2>/dev/null
is "$? $(grep -c '^       kom-exec status \[-H\]$' "$T/h.out")" '0 1' 'status -h: the same'
kom-exec -x >"$T/h.out" 2>"$T/h.err"
is "$? $(wc -c <"$T/h.out" | tr -d ' ')" '64 0' 'a bad flag: usage on stderr, 64'

# a plan over the cap is bad input, and nothing is applied
awk -v p="$PFX" 'BEGIN {
	for (i = 1; i <= 100001; i++)
		printf "{\"kind\":\"step\",\"id\":%d,\"stage\":1,\"action\":\"record\",\"type\":\"variable\",\"name\":\"%s-v%d\",\"resource\":{\"type\":\"variable\",\"name\":\"%s-v%d\"}}\n", i, p, i, p, i
	print "{\"kind\":\"end\",\"program\":\"kom-plan\"}" }' >"$T/huge"
kom-exec "$T/huge" >/dev/null 2>"$T/err"
is "$?" 65 'a plan of 100,001 steps exits 65'
is "$(head -1 "$T/err")" "kom-exec: $T/huge:100001: a plan may have at most 100000 steps in 256 MiB: kom-exec holds it whole before it applies anything" \
    'the error names the cap'
is "$(ls "$KOM_HOME/state/resources/variable" 2>/dev/null | grep -c "^$PFX-v")" 0 'nothing applied'

# a name taken by a container kom does not manage: -n says so, and so
# does the apply (which creates a first container under its name at once)
docker run -d --network none --name "$PFX-x" "$IMG:1" >/dev/null
xid=$(cid "$PFX-x")
X=$(dep "$PFX-x" "$IMG:1" "")
{ step 1 1 deploy "$X"; plan_end; } >"$T/taken"
kom-exec -n "$T/taken" >"$T/out" 2>"$T/err"
is "$(res "$T/out" 1 '"\(.status): \(.error)"')" \
    "failed: container name '$PFX-x' is in use by a container kom does not manage" \
    '-n: a name taken by an unmanaged container'
kom-exec "$T/taken" >"$T/out" 2>"$T/err"
is "$(res "$T/out" 1 '"\(.status): \(.error)"')" \
    "failed: container name '$PFX-x' is in use by a container kom does not manage" \
    'apply: the same'
is "$(cid "$PFX-x")" "$xid" 'the unmanaged container is left alone'

# one stage of six deployments with -j 2: every slot is given back
six() {	# six VALUE
	_i=1
	while [ $_i -le 6 ]; do
		step $_i 1 deploy "$(dep "$PFX-j$_i" "$IMG:1" "sleep 3600" \
		    "[{\"key\":\"V\",\"value\":\"$1\"}]")"
		_i=$((_i + 1))
	done
	plan_end
}
six 1 >"$T/six"
ok 'six deploys at -j 2' kexec -j 2 "$T/six"
is "$(jq -r 'select(.kind=="end") | .counts.ok' "$T/out")" 6 'all six ok'
is "$(docker ps -q --filter "name=^$PFX-j[1-6]\$" | wc -l | tr -d ' ')" 6 'all six run'
ok 'rerun at -j 2' kexec -j 2 "$T/six"
is "$(jq -r 'select(.kind=="end") | .counts.noop' "$T/out")" 6 'all six noop'
is "$(jq -r 'select(.status=="noop") | .name' "$KOM_HOME"/state/history/*.jsonl |
    grep -c "^$PFX-j")" 6 'their noops are in the history'

# -n on a changed deployment: would replace, touches nothing
ids=$(docker ps -q --filter "name=^$PFX-j[1-6]\$" | sort | tr '\n' ' ')
six 2 >"$T/six2"
kom-exec -n -j 2 "$T/six2" >"$T/out" 2>"$T/err"
is "$(jq -r 'select(.kind=="result") | .detail.would' "$T/out" | sort -u)" replace \
    '-n: would replace'
is "$(docker ps -q --filter "name=^$PFX-j[1-6]\$" | sort | tr '\n' ' ')" "$ids" \
    '-n: the same containers'
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$PFX-j1" | grep '^V=')" \
    V=1 '-n: the old value'
done_testing
