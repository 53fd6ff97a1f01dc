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

# a failing run: retried after a backoff (the run sleeps through it),
# then given up: the run ends holding nothing, with new/ empty, so that a
# path unit on new/ does not start it again
like() {
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then _result 0 "$3"
	else _result 1 "$3"; diag "got: $1" "want /$2/"; fi
}
echo 'not toml [' >"$S/broken.toml"
put_event local
apply -m 3 -r 1
is "$(cat "$T/rc")" 1 'a failing run, given up: exit 1'
is "$(jq -c 'select(.kind == "apply") | [.result, .attempts]' "$T/out" | tr '\n' ' ')" \
    '["retry",1] ["retry",2] ["failed",3] ' 'retried in the same run, then given up after -m attempts'
like "$(jq -r 'select(.kind == "apply") | .error' "$T/out" | head -1)" '^kom-sync diff exited 65: kom-sync: .*/broken.toml:1:5: ' \
    'the failing stage and its last word'
is "$(count new) $(count cur) $(count failed)" '0 0 1' 'nothing left in new/ or cur/: the event is in failed/'
like "$(cat "$SP"/sync/failed/*.reason | sort -u)" '^kom-sync diff exited 65: kom-sync: .*/broken.toml:1:5: ' 'with the reason'
alert_of() { cat "$SP"/alert/new/* 2>/dev/null | jq -c --arg t "$1" 'select(.data.type == $t)'; }
is "$(alert_of SyncApplyFailed | jq -c '{level, target, d: (.data.data | {name, stage, attempts, events})}')" \
    '{"level":"CRITICAL","target":{"type":"ResourceSync","id":"local"},"d":{"name":"local","stage":"kom-sync diff","attempts":3,"events":1}}' \
    'a SyncApplyFailed alert'
is "$(alert_of ResourceSyncParseFailed | jq -c '{level, resolved, target, n: .data.data.name}')" \
    '{"level":"WARNING","resolved":false,"target":{"type":"ResourceSync","id":"local"},"n":"local"}' \
    'three failures to parse, one error: one ResourceSyncParseFailed alert'
like "$(alert_of ResourceSyncParseFailed | jq -r .data.data.error)" 'broken.toml:1:5: ' 'naming the file and line'
rm -f "$SP"/sync/failed/* "$SP"/alert/new/*

# in its backoff the event stays claimed (cur/), and a newer event runs
# it at once; a consumer killed in its backoff leaves it to the next one
wait_for() {	# wait_for FILE JQ-FILTER: until a line matches (or 120 s)
	_w=0
	until [ -n "$(jq -c "select($2)" "$1" 2>/dev/null)" ] || [ $_w -ge 240 ]; do
		sleep 0.5
		_w=$((_w + 1))
	done
}
echo 'also not toml [' >"$S/broken.toml"
put_event local
kom-poll apply -m 3 -r 3600 >"$T/bg" 2>"$T/bg.err" &
bg=$!
wait_for "$T/bg" '.kind == "apply" and .result == "retry"'
is "$(count new) $(count cur)" '0 1' 'in its backoff: held in cur/, not back in new/'
put_event local
wait_for "$T/bg" '.kind == "apply" and .attempts == 2'
is "$(jq -c 'select(.kind == "apply" and .attempts == 2) | {result, events}' "$T/bg")" \
    '{"result":"retry","events":2}' 'a newer event: run at once, both events'
kill -9 $bg
wait $bg 2>/dev/null
is "$(count new) $(count cur)" '0 2' 'killed in its backoff: the claims are in cur/'
kom-poll apply -m 3 -r 3600 >"$T/bg" 2>"$T/bg.err" &
bg=$!
wait_for "$T/bg" '.kind == "apply"'
is "$(jq -c 'select(.kind == "apply") | {result, attempts, events}' "$T/bg")" \
    '{"result":"waiting","attempts":2,"events":2}' 'the next consumer takes them back and waits'
put_event local
wait $bg
is "$?" 1 'a newer event: the last attempt, exit 1'
is "$(jq -c 'select(.kind == "apply") | {result, attempts, events}' "$T/bg" | tail -1)" \
    '{"result":"failed","attempts":3,"events":3}' 'given up with all three events'
is "$(count new) $(count cur) $(count failed)" '0 0 3' 'the events are in failed/'
is "$(alert_of ResourceSyncParseFailed | wc -l | tr -d ' ')" 1 'another error: another ResourceSyncParseFailed alert (one)'
rm -f "$S/broken.toml" "$SP"/sync/failed/* "$SP"/alert/new/*
put_event local
apply
is "$(cat "$T/rc")" 0 'the files parse again: applied'
is "$(alert_of ResourceSyncParseFailed | jq -c '{level, resolved}')" '{"level":"OK","resolved":true}' \
    'the parse alert resolved'
rm -f "$SP"/alert/new/*

# kill -9 at 100 random points of the consumer and of each stage
# (kom-poll apply, kom-sync, kom-plan, kom-exec) while events arrive
export KOM_GRACE_MS=100
# kom-sync and kom-plan take milliseconds: a consumer copied beside
# wrappers that hold each of them a moment before it runs gives a kill a
# chance to land in them (the wrapper's process becomes the stage)
KB=$T/killbin
mkdir -p "$KB"
cp "$(command -v kom-poll)" "$KB/kom-poll"
for t in kom-sync kom-plan kom-exec; do
	printf '#!/bin/sh\n%sexec %s "$@"\n' \
	    "$([ $t = kom-exec ] || echo 'sleep 0.2; ')" "$(command -v $t)" >"$KB/$t"
	chmod +x "$KB/$t"
done
hits=
i=0
while [ $i -lt 100 ]; do
	write_sync "k$i"
	put_event local
	"$KB/kom-poll" apply -m 1000 -r 1 >/dev/null 2>&1 &
	pid=$!
	ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 700 ))
	case $((i % 4)) in
	0)	who=kom-poll ;;
	1)	who=kom-sync ;;
	2)	who=kom-plan ;;
	3)	who=kom-exec ;;
	esac
	if [ $who = kom-poll ]; then
		sleep "$(printf '0.%03d' $ms)"
		kill -9 $pid 2>/dev/null && hits="$hits $who"
	else
		# that stage, a random while after it started (if it did)
		n=0
		while kill -0 $pid 2>/dev/null && [ $n -lt 400 ]; do
			c=$(pgrep -P $pid -x "$who")
			[ -n "$c" ] && break
			n=$((n + 1))
		done
		if [ $who = kom-exec ]; then
			sleep "$(printf '0.%03d' $ms)"
		else
			sleep "$(printf '0.%03d' $((ms % 300)))"
		fi
		[ -n "$c" ] && kill -9 $c 2>/dev/null && hits="$hits $who"
		c=
		# and the consumer in its backoff, or wherever it is now
		sleep 0.2
		kill -9 $pid 2>/dev/null
	fi
	put_event local		# one more arrives meanwhile
	wait $pid 2>/dev/null
	i=$((i + 1))
done
diag "killed:$(printf '%s\n' $hits | sort | uniq -c | tr -s ' \n' ' ')"
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
# each version was deployed at most once: 102 versions of each (1,
# k0..k99 and final)
for n in a b; do
	d=$(cat "$KOM_HOME"/state/history/*.jsonl | jq -r --arg n "$PFX-$n" \
	    'select(.name == $n and .status == "ok" and .action == "deploy") | .ts' | wc -l)
	is "$([ "$d" -le 102 ] && echo le)" le "$n: at most one deploy per version ($d)"
done
done_testing
