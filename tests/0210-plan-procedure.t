#!/bin/sh
# kom-plan -p: the steps of a procedure.  Stages in order, disabled stages
# and executions left out, Batch* patterns (wildcards, regex, comma and
# newline lists, comments) against the stream and the state dir,
# RunProcedure inline, recursion reported as a cycle.
. "$(dirname "$0")/lib.sh"

F=$KOM_TOP/tests/fixtures/plan
G=$KOM_TOP/tests/golden/plan

# A deployment only the state dir knows (what kom-exec applied earlier),
# with the hash keys of lib/state, which no step may carry.
mkdir -p "$KOM_HOME/state/resources/deployment"
cat >"$KOM_HOME/state/resources/deployment/web-3.json" <<'JSON'
{"kom_hash":"00","kom_sum":"00","type":"deployment","name":"web-3","sync":"homelab","source":"old.toml:1","description":"","tags":[],"template":false,"deploy":true,"after":[],"config":{"image":{"type":"Image","params":{"image":"web:3"}}},"applied_at":1700000000000,"exec":{"container":"abc"}}
JSON

proc() {
	_n=$1
	shift
	kom-plan "$@" >"$T/$_n.out" 2>"$T/$_n.err"
	echo $? >"$T/$_n.rc"
}
field() {	# field FILE ID FIELD
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("id") == int(sys.argv[2]):
        print(json.dumps(r.get(sys.argv[3]), separators=(",", ":")))
' "$@"
}

proc rel -p release "$F/procs.jsonl"
is "$(cat "$T/rel.rc")" 0 'release: exit 0'
cmp_file "$T/rel.out" "$G/proc-release.out" 'release: steps (golden)'
proc relh -H -p release "$F/procs.jsonl"
cmp_file "$T/relh.out" "$G/proc-release.human" 'release: -H (golden)'
proc relg -g -p release "$F/procs.jsonl"
ok 'release: dot accepts -g' dot -Tsvg -o "$T/p.svg" "$T/relg.out"

names() {	# the names of the steps of stage $2 in $1, space-separated
	python3 -c '
import json, sys
print(" ".join(r["name"] for r in map(json.loads, open(sys.argv[1]))
               if r["kind"] == "step" and r["stage"] == int(sys.argv[2])))
' "$@"
}
is "$(names "$T/rel.out" 1)" 'api web-1 web-10 web-2 web-3' \
    'batch: wildcards, newline and comma list, comments; state dir; deleted left out'
is "$(names "$T/rel.out" 2)" 'db mon logs' \
    'disabled stage and disabled execution left out; regex batch'
is "$(names "$T/rel.out" 3)" 'api release' \
    'RunProcedure inline: its first stage next to Sleep'
is "$(names "$T/rel.out" 4)" 'logs logs' \
    'RunProcedure: the empty stage is skipped, the next follows'
is "$(names "$T/rel.out" 6)" 'app mon api app host release' \
    'last stage after the inlined procedure; None left out'
is "$(field "$T/rel.out" 6 needs)" '[1,2,3,4,5]' \
    'needs: all steps of the previous stage'
is "$(field "$T/rel.out" 1 needs)" '[]' 'first stage needs nothing'
is "$(field "$T/rel.out" 5 execution)" \
    '{"type":"Deploy","params":{"deployment":"web-3"}}' \
    'batch expands to single executions'
is "$(field "$T/rel.out" 5 resource)" \
    '{"type":"deployment","name":"web-3","sync":"homelab","source":"old.toml:1","description":"","tags":[],"template":false,"deploy":true,"after":[],"config":{"image":{"type":"Image","params":{"image":"web:3"}}}}' \
    'resource from the state dir, without applied_at and exec'
is "$(field "$T/rel.out" 8 execution)" \
    '{"type":"DeployStack","params":{"stack":"logs","services":[]}}' \
    'BatchDeployStack expands to DeployStack with services'
is "$(field "$T/rel.out" 10 action)$(field "$T/rel.out" 10 execution)" \
    '"sleep"{"type":"Sleep","params":{"duration_ms":1000}}' 'Sleep'
is "$(field "$T/rel.out" 14 action)" '"destroy"' 'DestroyStack: destroy'
is "$(field "$T/rel.out" 15 action)" '"execution"' 'RunBuild: execution'
is "$(field "$T/rel.out" 16 reason)" \
    "\"procedure 'release', stage 'final': DeployStackIfChanged (deploys only if the stack changed; kom-exec decides)\"" \
    'DeployStackIfChanged: deploy, reason says kom-exec decides'
is "$(field "$T/rel.out" 18 name)" '"app"' 'batch ? wildcard: one char'
is "$(field "$T/rel.out" 19 type)$(field "$T/rel.out" 19 name)" \
    '"server""host"' 'other execution: target from its params'
is "$(tail -n 1 "$T/rel.out")" \
    '{"kind":"end","program":"kom-plan","steps":20,"stages":6}' 'end record'

proc st -p state "$F/procs.jsonl"
is "$(names "$T/st.out" 1)" 'web-1 web-10 web-2 web-3 webx' \
    'regex batch is unanchored at the end: \^web\'

KOM_HOME=$T/elsewhere proc nost -p release "$F/procs.jsonl"
is "$(names "$T/nost.out" 1)" 'api web-1 web-10 web-2' \
    'without the state dir: stream names only'

for p in loop1 loop2 self badre lost nothing prune scripts nameless; do
	proc "$p" -p "$p" "$F/procs.jsonl"
	is "$(cat "$T/$p.rc")" 65 "$p: exit 65"
	is "$(grep -c '"kind":"step"' "$T/$p.out")" 0 "$p: no steps"
	cat "$T/$p.err" >>"$T/all.err"
done
cmp_file "$T/all.err" "$G/proc-errors.err" \
    'recursion, bad regex, unknown procedures, executions kom-exec cannot run: messages (golden)'

# the state dir is read by lib/state, as kom-sync diff reads it: a file
# that is not a record fails the plan naming it (it was skipped silently)
echo 'not json' >"$KOM_HOME/state/resources/deployment/broken.json"
proc broken -p release "$F/procs.jsonl"
is "$(cat "$T/broken.rc")" 65 'a broken state file: exit 65'
ok 'naming the file' grep -q "state/resources/deployment/broken.json:" \
    "$T/broken.err"
is "$(grep -c '"kind":"step"' "$T/broken.out")" 0 'and no steps'
rm "$KOM_HOME/state/resources/deployment/broken.json"

proc trunc -p release "$F/truncated.jsonl"
is "$(cat "$T/trunc.rc")$(wc -c <"$T/trunc.out")" 650 \
    'truncated input: 65, nothing on stdout'

done_testing
