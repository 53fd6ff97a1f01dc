#!/bin/sh
# kom-exec killed with SIGKILL at random points of a plan, many times:
# the next run must converge to exactly one running container per
# deployment, with the applied hash, and no leftovers.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
export KOM_GRACE_MS=700
names="a b c"

plan() {	# plan VERSION: a and b in stage 1, c after both
	_a=$(dep "$PFX-a" "$IMG:1" "sleep 3600" "[{\"key\":\"V\",\"value\":\"$1\"}]")
	_b=$(dep "$PFX-b" "$IMG:1" "sleep 3600" "[{\"key\":\"V\",\"value\":\"$1\"}]")
	_c=$(dep "$PFX-c" "$IMG:1" "sleep 3600" "[{\"key\":\"V\",\"value\":\"$1\"}]")
	step 1 1 deploy "$_a"
	step 2 1 deploy "$_b"
	step 3 2 deploy "$_c" '[1,2]'
	plan_end
}

i=0
while [ $i -lt 12 ]; do
	plan "v$i" >"$T/plan.$i"
	kom-exec "$T/plan.$i" >/dev/null 2>&1 &
	pid=$!
	# 0 to ~2.5 s: before, during and after the replacements
	ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 2500 ))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	i=$((i + 1))
done
diag "$(docker ps -a --filter "name=$PFX" --format '{{.Names}} {{.State}}' | sort | tr '\n' ' ')"

plan final >"$T/plan.final"
ok 'a rerun after the kills succeeds' kexec "$T/plan.final"
for n in $names; do
	all=$(docker ps -aq --filter "label=kom.name=$PFX-$n")
	is "$(echo "$all" | grep -c .)" 1 "$n: exactly one container with its labels"
	is "$(docker inspect -f '{{.Name}} {{.State.Running}}' "$PFX-$n" 2>&1)" "/$PFX-$n true" \
	    "$n: named right and running"
	is "$(docker inspect -f '{{index .Config.Labels "kom.config-hash"}}' "$PFX-$n")" \
	    "$(jq -r .exec.config_hash "$KOM_HOME/state/resources/deployment/$PFX-$n.json")" \
	    "$n: the hash that was applied"
	is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$PFX-$n" | grep '^V=')" \
	    V=final "$n: the final version"
done
is "$(docker ps -aq --filter "name=$PFX-.*-kom-" | wc -l | tr -d ' ')" 0 'no -kom-new or -kom-old left'
kom-exec "$T/plan.final" >"$T/out" 2>&1
is "$(jq -r 'select(.kind=="end") | .counts.noop' "$T/out")" 3 'and a further run is a noop'
done_testing
