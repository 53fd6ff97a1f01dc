#!/bin/sh
# kom-plan: the deploy set and its reasons, the cascade, cross-type `after`,
# destroy order, ensure steps, live status (-l), cycles and unknown names,
# truncated input and error records, -H and -g (and dot accepting it).
. "$(dirname "$0")/lib.sh"

F=$KOM_TOP/tests/fixtures/plan
G=$KOM_TOP/tests/golden/plan

# plan NAME ARGS...: run kom-plan, keep stdout, stderr and the exit status.
plan() {
	_n=$1
	shift
	kom-plan "$@" >"$T/$_n.out" 2>"$T/$_n.err"
	echo $? >"$T/$_n.rc"
}
rc() { cat "$T/$1.rc"; }

# Apply plan without live status: records, destroys, deploys and ensures.
plan mixed "$F/mixed.jsonl"
is "$(rc mixed)" 0 'mixed: exit 0'
cmp_file "$T/mixed.out" "$G/mixed.out" 'mixed: steps (golden)'
is "$(cat "$T/mixed.err")" '' 'mixed: nothing on stderr'
plan mixed-h -H "$F/mixed.jsonl"
cmp_file "$T/mixed-h.out" "$G/mixed.human" 'mixed: -H (golden)'
plan mixed-g -g "$F/mixed.jsonl"
cmp_file "$T/mixed-g.out" "$G/mixed.dot" 'mixed: -g (golden)'
ok 'mixed: dot -Tsvg accepts -g' dot -Tsvg -o "$T/plan.svg" "$T/mixed-g.out"
ok 'mixed: the svg has a node per step' \
    test "$(grep -c 'class="node"' "$T/plan.svg")" -eq 13
kom-plan <"$F/mixed.jsonl" >"$T/stdin.out" 2>&1
cmp_file "$T/stdin.out" "$G/mixed.out" 'stdin gives the same plan'

# jq-free checks of single properties, with python3's json module.
step() {	# step FILE NAME FIELD: the FIELD of the step for NAME (json)
	python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("name") == sys.argv[2] and r["kind"] == "step":
        print(json.dumps(r.get(sys.argv[3]), separators=(",", ":")))
' "$@"
}
is "$(step "$T/mixed.out" db action)" '"ensure"' 'unchanged deploy=true: ensure'
is "$(step "$T/mixed.out" web needs)" '[9,10]' \
    'ensure mode: needs point at the parents (deploy and ensure)'
is "$(step "$T/mixed.out" worker action)" '"deploy"' \
    'update without deploy change + deploying parent: one deploy step'
is "$(grep -c '"name":"worker"' "$T/mixed.out")" 1 \
    'worker: no separate record step'
is "$(step "$T/mixed.out" tools reason)" \
    '"update: config.environment (deploy = false)"' 'deploy=false: record'
is "$(step "$T/mixed.out" old-stack stage)$(step "$T/mixed.out" old-api stage)$(step "$T/mixed.out" old-db stage)" \
    '234' 'destroys: dependents first, after the records'
is "$(step "$T/mixed.out" old-db needs)" '[7]' 'destroy needs its dependent'

# Live status: every reason.
plan live -l "$F/live-status.jsonl" "$F/live.jsonl"
is "$(rc live)" 0 'live: exit 0'
cmp_file "$T/live.out" "$G/live.out" 'live: steps (golden)'
plan live-h -H -l "$F/live-status.jsonl" "$F/live.jsonl"
cmp_file "$T/live-h.out" "$G/live.human" 'live: -H (golden)'
is "$(step "$T/live.out" exited reason)" '"deployment has exited state"' \
    'live: exited'
is "$(step "$T/live.out" drifted reason)" \
    '"deployment has drifted: changed (environment differs)"' 'live: drift'
is "$(step "$T/live.out" unk action)" '' 'live: unknown state: no step'
is "$(step "$T/live.out" unk-upd action)" '"record"' \
    'live: unknown state with a config change: record only'
is "$(step "$T/live.out" run action)" '' 'live: running, unchanged: no step'
is "$(step "$T/live.out" child-of-unk action)" '' \
    'live: an unknown parent does not cascade'
is "$(step "$T/live.out" missing reason)" \
    '"deployment has not_deployed state"' 'live: no status: not deployed'
is "$(step "$T/live.out" built reason)" '"build has new version: 1.5.0"' \
    'live: the build'"'"'s recorded version differs from the running tag'
is "$(step "$T/live.out" built action)" '"deploy"' \
    'live: a Build image is deployed'
is "$(step "$T/live.out" pinned action)" '' \
    'live: pinned build version: no build check (Komodo inverts this)'
is "$(step "$T/live.out" built-same action)" '' \
    'live: running the build version: no step'
is "$(step "$T/live.out" st-down reason)" '"stack has down state"' \
    'live: stack state'
is "$(step "$T/live.out" st-child reason)" \
    "\"Deployment parent dependency 'child' is deploying\"" \
    'live: stack after deployment, transitively'
is "$(step "$T/live.out" d-after-stack reason)" \
    "\"Stack parent dependency 'st-down' is deploying\"" \
    'live: deployment after stack'
is "$(step "$T/live.out" run-cfg reason)" \
    '"deployment config has changed: environment"' 'live: config changed'
is "$(step "$T/live.out" run-upd reason)" \
    '"update: config.links (no deploy-relevant change)"' \
    'live: running, no deploy-relevant change: record'
kom-plan -l - "$F/live.jsonl" <"$F/live-status.jsonl" >"$T/live-stdin.out"
cmp_file "$T/live-stdin.out" "$G/live.out" 'live: -l - reads status from stdin'
fails '-l - needs FILE' 64 kom-plan -l - <"$F/live.jsonl"

# The cascade: only the changed root's descendants deploy.
plan chain -H -l "$F/chain-status.jsonl" "$F/chain.jsonl"
cmp_file "$T/chain.out" "$G/chain.human" 'cascade: root1 and descendants only'

# Dependencies on resources created in the same sync, across types.
plan cross -H "$F/cross-create.jsonl"
cmp_file "$T/cross.out" "$G/cross.human" \
    'cross-type after on not-yet-created resources: typed by declaration'

# Cycles and bad names: exit 65, golden messages, error records, no steps.
for f in cycle2 cycle3 cycle-self cycle-many unknown-after ambiguous-after \
    deleted-after duplicate; do
	plan "$f" "$F/$f.jsonl"
	is "$(rc "$f")" 65 "$f: exit 65"
	cmp_file "$T/$f.err" "$G/$f.err" "$f: message (golden)"
	is "$(grep -c '"kind":"step"' "$T/$f.out")" 0 "$f: no steps"
	is "$(tail -n 1 "$T/$f.out")" \
	    '{"kind":"end","program":"kom-plan","steps":0,"stages":0}' \
	    "$f: error records, then an end with 0 steps"
	plan "$f-h" -H "$F/$f.jsonl"
	is "$(rc "$f-h")$(cat "$T/$f-h.out")" 65 "$f: -H: exit 65, no output"
done
cmp_file "$T/cycle2.out" "$G/cycle2.out" 'cycle2: error record (golden)'

# Truncated input: no output at all, one message, 65.
(cd "$F" && plan trunc truncated.jsonl)
is "$(rc trunc)" 65 'truncated: exit 65'
is "$(wc -c <"$T/trunc.out")" 0 'truncated: nothing on stdout'
cmp_file "$T/trunc.err" "$G/truncated.err" 'truncated: message (golden)'
head -c 300 "$F/mixed.jsonl" >"$T/cut.jsonl"
plan cut "$T/cut.jsonl"
is "$(rc cut)$(wc -c <"$T/cut.out")" 650 'cut mid-line: 65, no output'
plan strunc -l "$F/live-status-truncated.jsonl" "$F/live.jsonl"
is "$(rc strunc)$(wc -c <"$T/strunc.out")" 650 \
    'truncated status stream: 65, no output'
printf '{"kind":"resource",\n' | kom-plan >"$T/bad.out" 2>"$T/bad.err"
is "$?$(wc -c <"$T/bad.out")" 650 'invalid JSON: 65, no output'
printf '{"kind":"resource","a":[1\000]}\n{"kind":"end"}\n' | kom-plan \
    >"$T/nul.out" 2>"$T/nul.err"
is "$?$(wc -c <"$T/nul.out")" 650 'a NUL byte in a record: 65, no output'
is "$(cat "$T/nul.err")" "kom-plan: <stdin>:1:26: invalid JSON: ',' or ']' expected" \
    'a NUL byte: line:col'

# The input limit (kom-plan(1)): 128 MiB a stream.  Blank lines fill it:
# exactly at the limit the stream is planned, one byte more and it is
# refused before anything is read further: 65, one message, no output.
lim=134217728
{ head -c $((lim - 15)) /dev/zero | tr '\0' '\n'; echo '{"kind":"end"}'; } |
    kom-plan >"$T/atlim.out" 2>"$T/atlim.err"
is "$?$(cat "$T/atlim.out")" \
    '0{"kind":"end","program":"kom-plan","steps":0,"stages":0}' \
    'a stream of exactly 128 MiB is planned'
{ head -c $((lim - 14)) /dev/zero | tr '\0' '\n'; echo '{"kind":"end"}'; } |
    kom-plan >"$T/overlim.out" 2>"$T/overlim.err"
is "$?$(wc -c <"$T/overlim.out")" 650 'one byte more: 65, no output'
is "$(cat "$T/overlim.err")" \
    "kom-plan: <stdin>:$((lim - 13)): input longer than $lim bytes" \
    'one byte more: the message names the limit'
printf '{"kind":"end"}\n' >"$T/small.jsonl"
{ head -c "$lim" /dev/zero | tr '\0' '\n'; echo '{"kind":"end"}'; } |
    kom-plan -l - "$T/small.jsonl" >"$T/stlim.out" 2>"$T/stlim.err"
is "$?$(wc -c <"$T/stlim.out")" 650 'a status stream over 128 MiB: 65'
is "$(cat "$T/stlim.err")" \
    "kom-plan: <stdin>:$((lim + 1)): input longer than $lim bytes" \
    'the status stream: the message names the limit'

# The resources pass through as jansson writes them, whatever the spacing
# and escaping of the input: the same steps from a respelled stream.
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    j = json.dumps(json.loads(l), separators=(", ", " : "))
    print(j.replace("/", "\\/"))
' "$F/mixed.jsonl" >"$T/spaced.jsonl"
ok 'respelled input differs' sh -c "! cmp -s '$T/spaced.jsonl' '$F/mixed.jsonl'"
plan spaced "$T/spaced.jsonl"
cmp_file "$T/spaced.out" "$G/mixed.out" 'spaced and escaped input: same steps'

# Error records are copied through; no steps.
(cd "$F" && plan err error.jsonl)
is "$(rc err)" 65 'error record: exit 65'
cmp_file "$T/err.out" "$G/error.out" 'error record: copied, end (golden)'
cmp_file "$T/err.err" "$G/error.err" 'error record: message (golden)'

# An empty but complete stream: nothing to do.
plan empty "$F/empty.jsonl"
is "$(rc empty)$(cat "$T/empty.out")" \
    '0{"kind":"end","program":"kom-plan","steps":0,"stages":0}' 'empty stream'
plan empty-h -H "$F/empty.jsonl"
cmp_file "$T/empty-h.out" "$G/empty.human" 'empty stream: -H'

# Usage.
fails 'unknown option' 64 kom-plan -Z
fails '-H and -g' 64 kom-plan -H -g "$F/mixed.jsonl"
fails '-l and -p' 64 kom-plan -l x -p y "$F/mixed.jsonl"
fails 'two files' 64 kom-plan a b
fails 'missing file' 74 kom-plan "$T/nope.jsonl"
ok '-h' kom-plan -h
is "$(kom-plan -h)" "$(printf '%s\n' \
    'usage: kom-plan [-gHV] [-l status] [file]' \
    '       kom-plan [-gHV] -p procedure [file]')" 'usage text'
kom-plan "$F/mixed.jsonl" >/dev/full 2>/dev/null
is "$?" 74 'write error: 74'

# A build that builds in this run (a new commit): its redeploy_on_build
# deployments deploy after its step, at the version it will get; one
# without deploy = true too, since kom deployed it before.  Hand-written
# (tests/fixtures/plan/build-run.jsonl; also a fuzz seed).
plan brun "$F/build-run.jsonl"
is "$(jq -r 'select(.kind == "step") | "\(.id) \(.action) \(.name) \(.needs) \(.reason)"' "$T/brun.out")" \
    "1 record app [] update: git.commit
2 deploy w2 [1] build has new version: 1.0.6
3 deploy web [1] build has new version: 1.0.5" \
    'redeploy_on_build: after the build step, with the next version'
jq -c 'if .name == "app" then .op = "keep" | .changes = [] else . end' \
    "$F/build-run.jsonl" >"$T/bkeep.jsonl"
plan bkeep "$T/bkeep.jsonl"
is "$(jq -r 'select(.kind == "step") | "\(.action) \(.name) \(.reason)"' "$T/bkeep.out")" \
    "deploy w2 build has new version: 1.0.5
ensure web unchanged: deploy only if not running as applied (no live status given)" \
    'no build in this run: the recorded version against the deployed one'

done_testing
