#!/bin/sh
# kom-poll apply, the consumer of SPOOL/sync/new, against the real engine:
# several events for one sync make one run of kom-sync diff | kom-plan |
# kom-exec; a failing run is retried with a backoff, a newer event runs it
# at once, the last attempt moves the events to failed/ with the reason
# and queues a SyncApplyFailed alert; an event for no sync fails alone.
# Then kill -9 at random points of the consumer and of its stages while
# events arrive: afterwards nothing is left in the queue, every container
# matches its resource, and a further run has nothing to do.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
export KOM_GRACE_MS=700

S=$T/sync
SP=$KOM_HOME/spool
mkdir -p "$S" "$SP/sync/tmp" "$SP/sync/new"
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "local"
resource_path = ["$S"]
EOF
write_sync() {	# write_sync VERSION
	for n in a b; do
		cat >"$S/$n.toml" <<EOF
[[deployment]]
name = "$PFX-$n"
deploy = true
[deployment.config]
image.params.image = "$IMG:1"
command = "sleep 3600"
termination_timeout = 1
environment = "V = $1"
EOF
	done
}
n_ev=0
put_event() {	# put_event SYNC: as a producer does, tmp/ then new/
	n_ev=$((n_ev + 1))
	_n=$(date +%s%3N).$$.$n_ev.json
	printf '{"kind":"event","source":"test","sync":"%s","n":%d}\n' "$1" \
	    $n_ev >"$SP/sync/tmp/$_n"
	mv "$SP/sync/tmp/$_n" "$SP/sync/new/$_n"
}
count() { ls "$SP/sync/$1" 2>/dev/null | grep -vc '\.reason$'; }
apply() {
	kom-poll apply "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
running_v() {	# the V of NAME's running container
	docker inspect -f '{{.State.Running}} {{range .Config.Env}}{{println .}}{{end}}' \
	    "$1" 2>/dev/null | tr '\n' ' ' | sed 's/ PATH=[^ ]*//; s/ *$//'
}

write_sync 1
put_event local
put_event local
put_event local
apply
is "$(cat "$T/rc")" 0 'three events: exit 0'
is "$(jq -c 'select(.kind == "apply") | {sync, result, events}' "$T/out")" \
    '{"sync":"local","result":"applied","events":3}' 'three events, one run'
is "$(jq -r 'select(.kind == "result") | "\(.name) \(.status)"' "$T/out" | sed "s/$PFX-//" | sort | tr '\n' ' ')" \
    'a ok b ok ' "the run's report: kom-exec's records"
is "$(running_v "$PFX-a")" 'true V=1' 'a: deployed'
is "$(running_v "$PFX-b")" 'true V=1' 'b: deployed'
is "$(count new) $(count cur)" '0 0' 'the queue is empty'

apply
is "$(cat "$T/rc") $(cat "$T/out")" '0 ' 'no event: nothing runs'

# an event for no sync, and one that is not an event
put_event nosuch
printf 'not json\n' >"$SP/sync/new/0.1.1.json"
apply
is "$(cat "$T/rc")" 0 'events for nothing: not a run'
is "$(count failed)" 2 'both moved to failed/'
is "$(cat "$SP/sync/failed/0.1.1.json.reason" | cut -c1-9)" 'not JSON:' 'the reason beside it'
grep -q "no resource_sync 'nosuch'" "$SP"/sync/failed/*.reason
is "$?" 0 'no such sync: the reason'
rm -f "$SP"/sync/failed/*

# a failing run: retried with a backoff, then given up
echo 'not toml [' >"$S/broken.toml"
put_event local
apply -m 3
is "$(cat "$T/rc")" 75 'a failing run: exit 75'
is "$(jq -c 'select(.kind == "apply") | {result, attempts}' "$T/out")" \
    '{"result":"retry","attempts":1}' 'first failure: retry'
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then _result 0 "$3"
	else _result 1 "$3"; diag "got: $1" "want /$2/"; fi
}
like "$(jq -r 'select(.kind == "apply") | .error' "$T/out")" '^kom-sync diff exited 65: kom-sync: .*/broken.toml:1:5: ' \
    'the failing stage and its last word'
is "$(count new)" 1 'the event is back in new/'
apply -m 3
is "$(jq -c 'select(.kind == "apply") | {result, attempts}' "$T/out")" \
    '{"result":"waiting","attempts":1}' 'in its backoff: not run again'
put_event local
apply -m 3
is "$(jq -c 'select(.kind == "apply") | {result, attempts, events}' "$T/out")" \
    '{"result":"retry","attempts":2,"events":2}' 'a newer event: run at once, both events'
put_event local
apply -m 3
is "$(cat "$T/rc")" 1 'the last attempt: exit 1'
is "$(jq -c 'select(.kind == "apply") | {result, attempts, events}' "$T/out")" \
    '{"result":"failed","attempts":3,"events":3}' 'given up after -m attempts'
is "$(count new) $(count failed)" '0 3' 'the events are in failed/'
like "$(cat "$SP"/sync/failed/*.reason | sort -u)" '^kom-sync diff exited 65: kom-sync: .*/broken.toml:1:5: ' 'with the reason'
is "$(cat "$SP"/alert/new/* | jq -c '{level, target, type: .data.type, d: (.data.data | {name, stage, attempts, events})}')" \
    '{"level":"CRITICAL","target":{"type":"ResourceSync","id":"local"},"type":"SyncApplyFailed","d":{"name":"local","stage":"kom-sync diff","attempts":3,"events":3}}' \
    'a SyncApplyFailed alert'
rm -f "$S/broken.toml" "$SP"/sync/failed/* "$SP"/alert/new/*

# kill -9 of the consumer or of a stage, at random points, while events
# arrive
i=0
while [ $i -lt 16 ]; do
	write_sync "k$i"
	put_event local
	kom-poll apply -m 1000 -r 1 >/dev/null 2>&1 &
	pid=$!
	ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 2000 ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if [ $((i % 2)) -eq 0 ]; then
		kill -9 $pid 2>/dev/null	# the consumer
	else
		# whichever stage runs now (a child of this consumer)
		for c in $(pgrep -P $pid); do kill -9 "$c" 2>/dev/null; done
	fi
	wait $pid 2>/dev/null
	i=$((i + 1))
done
# the stages of a killed consumer may still run: wait for them (the
# engine's lock), then let one consumer finish what is queued
write_sync final
put_event local
n=0
until apply -m 1000 && [ "$(count new)$(count cur)" = 00 ] || [ $n -ge 20 ]; do
	n=$((n + 1))
	sleep 1
	put_event local
done
is "$(cat "$T/rc")" 0 'after the kills, a run applies what is queued'
is "$(count new) $(count cur) $(count failed)" '0 0 0' 'nothing stale in the queue'
for n in a b; do
	is "$(docker ps -aq --filter "label=kom.name=$PFX-$n" | grep -c .)" 1 \
	    "$n: exactly one container"
	is "$(running_v "$PFX-$n")" 'true V=final' "$n: the last version runs"
done
is "$(docker ps -aq --filter "name=$PFX-.*-kom-" | wc -l | tr -d ' ')" 0 \
    'no -kom-new or -kom-old left'
put_event local
apply
is "$(jq -r 'select(.kind == "end") | .counts.noop' "$T/out")" 2 \
    'a further event: nothing applied twice (both noop)'
done_testing
