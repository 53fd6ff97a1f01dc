#!/bin/sh
# kom-exec killed with SIGKILL at random points of a plan, many times:
# the next run must converge to exactly one running container per
# deployment, with the applied hash, and no leftovers.  Then killed as it
# enters each phase of a replacement (KOM_TEST_KILL_AT), with a new
# version that passes its healthcheck and one that fails it: the next run
# resumes the replacement, finishing it or rolling back (with the alert),
# and never leaves the failing version running.
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
kom-exec "$T/plan.final" >"$T/out" 2>"$T/err"
is "$?" 0 'a further run exits 0'
is "$(jq -r 'select(.kind=="end") | .counts.noop' "$T/out")" 3 'and is a noop'

# Killed in every phase of a replacement.  v1 and the good v2 pass a
# healthcheck; the sick v2's always fails.
HC='["--health-cmd","true","--health-interval=1s","--health-retries=1"]'
good_phases="pull create stop swap start gate finish"
sick_phases="pull create stop swap start gate rollback"
v1() { dep "$PFX-$1" "$IMG:1" "sleep 3600" '[{"key":"V","value":"1"}]' "$HC"; }
v2good() { dep "$PFX-$1" "$IMG:1" "sleep 3600" '[{"key":"V","value":"2"}]' "$HC"; }
v2sick() { dep "$PFX-$1" "$IMG:sick" "sleep 3600" '[{"key":"V","value":"2"}]'; }
cases=
for ph in $good_phases; do cases="$cases g$ph"; done
for ph in $sick_phases; do cases="$cases s$ph"; done
id=0
for c in $cases; do id=$((id + 1)); step $id 1 deploy "$(v1 "$c")"; done >"$T/p1"
plan_end >>"$T/p1"
ok 'v1 of every case deployed' kexec -j 8 "$T/p1"
for c in $cases; do
	case $c in
	g*) r=$(v2good "$c") ;;
	s*) r=$(v2sick "$c") ;;
	esac
	{ step 1 1 deploy "$r"; plan_end; } >"$T/k.$c"
	KOM_TEST_KILL_AT=${c#?} kom-exec "$T/k.$c" >/dev/null 2>&1
	echo "$c $?"
done >"$T/kills"
is "$(awk '$2 != 137' "$T/kills")" '' 'each run was killed as it entered its phase'

id=0
for c in $cases; do
	id=$((id + 1))
	case $c in g*) step $id 1 deploy "$(v2good "$c")" ;; esac
done >"$T/pg"
plan_end >>"$T/pg"
kexec_to "$T/outg" "$T/errg" -j 8 "$T/pg"
is "$?" 0 'the rerun of the good version exits 0'
id=0
for c in $cases; do
	id=$((id + 1))
	case $c in s*) step $id 1 deploy "$(v2sick "$c")" ;; esac
done >"$T/ps"
plan_end >>"$T/ps"
kom-exec -j 8 "$T/ps" >"$T/outs" 2>"$T/errs"
is "$?" 1 'the rerun of the failing version exits 1 (rolled back)'
# a container started again by a rollback is "starting" until its
# healthcheck's first look: wait for that (30 s at most), not a time
settled() {
	[ "$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null)" != starting ]
}
for c in $cases; do
	n=$PFX-$c
	_w=0
	until settled "$n" || [ $_w -ge 300 ]; do sleep 0.1; _w=$((_w + 1)); done
	case $c in g*) want=2 out=$T/outg ;; *) want=1 out=$T/outs ;; esac
	is "$(docker ps -aq --filter "label=kom.name=$n" | grep -c .)" 1 \
	    "$c: exactly one container"
	is "$(docker inspect -f '{{.Name}} {{.State.Status}} {{.State.Health.Status}}' "$n" 2>&1)" \
	    "/$n running healthy" "$c: named right, running, healthy"
	is "$(docker inspect -f '{{index .Config.Labels "kom.config-hash"}}' "$n")" \
	    "$(jq -r .exec.config_hash "$KOM_HOME/state/resources/deployment/$n.json")" \
	    "$c: the hash that was applied"
	is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$n" | grep '^V=')" \
	    "V=$want" "$c: version $want runs"
	is "$(jq -r --arg n "$n" 'select(.kind=="result" and .name==$n) |
	    "\(.status) \(.detail.rolled_back // false)"' "$out")" \
	    "$(case $c in g*) echo 'ok false' ;; *) echo 'failed true' ;; esac)" \
	    "$c: reported, not noop"
done
is "$(docker ps -aq --filter "name=$PFX-.*-kom-" | wc -l | tr -d ' ')" 0 'no -kom-new or -kom-old left'
for c in $cases; do
	case $c in s*)
		cat "$KOM_HOME"/spool/alert/new/* 2>/dev/null | jq -r --arg n "$PFX-$c" \
		    'select(.data.type=="DeploymentRollback" and .target.id==$n) | .target.id' |
		    head -1 ;;
	esac
done >"$T/alerted"
is "$(wc -l <"$T/alerted" | tr -d ' ')" 7 'a DeploymentRollback alert for every failing case'
is "$(ls "$KOM_HOME/state/journal/deployment" 2>/dev/null)" '' 'no journal left'

# The same without the hook: killed once the failing version runs under
# its name with the old one parked, seen from outside.
{ step 1 1 deploy "$(v1 ext)"; plan_end; } >"$T/e1"
ok 'ext: v1 deployed' kexec "$T/e1"
{ step 1 1 deploy "$(v2sick ext)"; plan_end; } >"$T/e2"
kom-exec "$T/e2" >/dev/null 2>&1 &
pid=$!
n=0
until [ -n "$(cid "$PFX-ext-kom-old")" ] && running "$PFX-ext" || [ $n -ge 200 ]; do
	sleep 0.1
	n=$((n + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
is "$?" 137 'ext: killed in the gate'
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-ext" 'select(.name==$n) | "\(.drift): \(.drift_detail)"' "$T/st")" \
    'changed: a replacement was cut short at or after its start phase; the next deploy resumes it' \
    'ext: status shows the half-done replacement as drift'
kom-exec "$T/e2" >"$T/oute" 2>"$T/erre"
is "$?" 1 'ext: the rerun fails the failing version'
is "$(res "$T/oute" 1 '"\(.status) \(.detail.rolled_back)"')" 'failed true' 'ext: rolled back'
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$PFX-ext" | grep '^V=')" \
    V=1 'ext: the old version runs'
is "$(docker ps -aq --filter "label=kom.name=$PFX-ext" | grep -c .)" 1 'ext: one container'
done_testing
