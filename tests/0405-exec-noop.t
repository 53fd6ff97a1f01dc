#!/bin/sh
# kom-exec: a no-change rerun decided from one container list and the
# engine's event log (no inspect, nothing that changes anything), and
# drift still caught on that path: changed in place (docker update),
# stopped, removed, replaced by hand with another image under kom's
# labels; without a usable anchor every container is inspected.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
export KOM_GRACE_MS=300
N=5
LOG=$T/engine.log
SETTLED=$KOM_HOME/state/settled.json

plan() {	# plan ACTION: N deployments in one stage
	_i=1
	while [ $_i -le $N ]; do
		step $_i 1 "$1" "$(dep "$PFX-$_i" "$IMG:1" "sleep 3600")"
		_i=$((_i + 1))
	done
	plan_end
}
statuses() {	# statuses FILE: "1 noop 2 ok ..."
	jq -r 'select(.kind=="result") | "\(.id) \(.status)"' "$1" | sort -n | tr "\n" " "
}
# calls PATTERN: how many engine calls of the last logged run match
calls() {
	grep -c -E "$1" "$LOG"
}
logged() {	# logged ACTION: run the plan with the engine log fresh
	rm -f "$LOG"
	KOM_TEST_ENGINE_LOG=$LOG kexec "$T/$1"
}

plan deploy >"$T/deploy"
plan ensure >"$T/ensure"
ok "deploy $N in one stage" kexec "$T/deploy"
ok 'the run kept an anchor in the event log' jq -e '.anchor.time_nano > 0' "$SETTLED"

# the rerun right after: settled, nothing listed, nothing inspected
logged ensure
is "$(statuses "$T/out")" '1 noop 2 noop 3 noop 4 noop 5 noop ' 'all noop'
is "$(calls '^(POST|DELETE|PUT)')" 0 'no call that changes anything'
is "$(calls '^GET /containers/[^/]+/json$')" 0 'no container inspected'
is "$(calls '^GET /containers/json$')" 0 'no container list'
is "$(calls '^GET /events$')" 1 'one look at the event log'
is "$(calls "^GET /_ping$")" 1 "the version negotiated once (a ping)"
is "$(wc -l <"$LOG")" 2 'two calls in all'
jq -S .settled "$SETTLED" >"$T/settled1"
logged ensure
is "$(wc -l <"$LOG")" 2 'and again: a run that changed nothing keeps it so'
jq -S .settled "$SETTLED" >"$T/settled2"
cmp_file "$T/settled1" "$T/settled2" 'the same five settled'
is "$(jq '.settled | length' "$SETTLED")" $N "all $N settled"

# a container made by hand under a deployment's labels (another name)
docker run -d --name "$PFX-extra" --network host --label kom.managed=true \
    --label kom.type=deployment --label "kom.name=$PFX-5" "$IMG:1" >/dev/null
logged ensure
is "$(calls '^GET /containers/json$')" 1 'a new container of a deployment: the stage is listed'
is "$(cid "$PFX-extra")" '' 'and the extra container removed'
is "$(res "$T/out" 5 .status)" noop 'the deployment itself unchanged'
logged ensure
is "$(wc -l <"$LOG")" 2 'settled again'

# drift on the fast path
id1=$(cid "$PFX-1")
docker update --memory 64m --memory-swap 64m "$PFX-1" >/dev/null
docker stop -t 1 "$PFX-2" >/dev/null
docker rm -f "$PFX-3" >/dev/null
# 4: replaced by hand, another image under kom's labels and hash
lab=$(docker inspect -f '{{json .Config.Labels}}' "$PFX-4" |
    jq -r 'to_entries[] | "--label=\(.key)=\(.value)"')
docker rm -f "$PFX-4" >/dev/null
# shellcheck disable=SC2086
docker run -d --name "$PFX-4" --network host $lab "$IMG:sick" >/dev/null
logged ensure
is "$(statuses "$T/out")" '1 ok 2 ok 3 ok 4 ok 5 noop ' \
    'changed in place, stopped, removed, replaced by hand: redeployed'
is "$(res "$T/out" 1 .detail.old_container)" "$id1" 'the updated one was replaced'
is "$(docker inspect -f '{{.HostConfig.Memory}}' "$PFX-1")" 0 \
    'docker update undone (memory back to unlimited)'
is "$(docker inspect -f '{{.Config.Image}}' "$PFX-4")" "$IMG:1" \
    'the hand-made container replaced by the declared image'
is "$(calls "^GET /containers/$(cid "$PFX-5")/json\$")" 0 \
    'the untouched one was not inspected'
logged ensure
is "$(statuses "$T/out")" '1 noop 2 noop 3 noop 4 noop 5 noop ' 'then all noop'
is "$(calls '^GET /containers/')" 0 'the redeployed ones settled: no list, no inspect'

# a change by hand while a run is under way, after its look at the
# container: the next run sees it (the run's last look of the log)
A1=$(dep "$PFX-1" "$IMG:1" "sleep 3601")
{ step 1 1 deploy "$A1"; plan ensure | sed 1d; } >"$T/during"
{ step 1 1 ensure "$A1"; plan ensure | sed 1d; } >"$T/after"
KOM_TEST_STOP_AT=finish kom-exec "$T/during" >"$T/out.during" 2>&1 &
pid=$!
n=0
until ps -o stat= -p $pid | grep -q '^T' || [ $n -ge 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
ok 'the run stops as the replacement finishes' ps -o stat= -p $pid
docker update --memory 48m --memory-swap 48m "$PFX-1" "$PFX-2" >/dev/null
kill -CONT $pid
wait $pid
is "$?" 0 'it goes on and ends well'
logged after
is "$(statuses "$T/out")" '1 ok 2 ok 3 noop 4 noop 5 noop ' \
    'both changed during the run (the new container and a noop) redeployed'
is "$(docker inspect -f '{{.HostConfig.Memory}}' "$PFX-1" "$PFX-2" | sort -u)" 0 \
    'their docker update undone'
cp "$T/after" "$T/ensure"

# without a usable anchor: every noop is inspected, and a new anchor kept
rm -f "$SETTLED"
logged ensure
is "$(statuses "$T/out")" '1 noop 2 noop 3 noop 4 noop 5 noop ' 'all noop'
is "$(calls '^GET /containers/[^/]+/json$')" $N 'each inspected'
is "$(calls '^(POST|DELETE|PUT)')" 0 'no call that changes anything'
ok 'a new anchor' jq -e '.anchor.time_nano > 0' "$SETTLED"
# an anchor the engine no longer has (a restart, a wrapped log)
jq -c '.anchor.time_nano = 1000000000' "$SETTLED" >"$T/s" && cp "$T/s" "$SETTLED"
logged ensure
is "$(calls '^GET /containers/[^/]+/json$')" $N \
    'an anchor not in the log: each inspected'
logged ensure
is "$(calls '^GET /containers/[^/]+/json$')" 0 \
    'and the next run is vouched for again'
# -n neither asks the log nor moves the anchor
cp "$SETTLED" "$T/s"
rm -f "$LOG"
KOM_TEST_ENGINE_LOG=$LOG kom-exec -n "$T/ensure" >/dev/null 2>&1
cmp_file "$SETTLED" "$T/s" '-n leaves the anchor'

done_testing
