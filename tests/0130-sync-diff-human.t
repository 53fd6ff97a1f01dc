#!/bin/sh
# kom-sync diff -H: the plan a person reviews before applying.
. "$(dirname "$0")/lib.sh"

F=$KOM_TOP/tests/fixtures/diff
G=$KOM_TOP/tests/golden/diff
cp -R "$F/state" "$KOM_HOME/state"
D=$F/declared.jsonl
# pull mode: this host is host1, the server of every fixture resource
printf 'server = "host1"\n' >"$KOM_HOME/kom.toml"
ESC=$(printf '\033')

# not a terminal: no colour even without NO_COLOR
kom-sync diff -H -j "$D" >"$T/h1" 2>"$T/err"
is "$?" 0 '-H exits 0'
cmp_file "$T/h1" "$G/human.txt" 'human plan'
is "$(cat "$T/err")" "" 'nothing on stderr'
ok 'no colour codes when not a terminal' sh -c "! grep -q '$ESC' '$T/h1'"

NO_COLOR=1 kom-sync diff -H -v -d -j "$D" >"$T/h2"
cmp_file "$T/h2" "$G/human-delete-verbose.txt" 'human plan with -d -v'
ok 'no colour codes with NO_COLOR' sh -c "! grep -q '$ESC' '$T/h2'"
ok 'keep lines only with -v' sh -c "grep -q \"^  keep server 'host1'\" '$T/h2' && ! grep -q 'keep' '$T/h1'"
is "$(tail -n 1 "$T/h1")" 'Plan: 3 to create, 5 to update, 0 to delete, 5 unchanged.' \
    'summary line'
is "$(tail -n 1 "$T/h2")" 'Plan: 3 to create, 5 to update, 2 to delete, 5 unchanged.' \
    'summary line with deletes'
ok 'deploy mark on an update' \
    grep -q "^~ update deployment 'web' (deployments/web.toml:1) \[deploy: image, environment\]\$" "$T/h1"
ok 'long kv lists show only what differs' \
    grep -q '^    config.environment: "VAR_05=value-05, \.\.\." -> "VAR_05=changed, \.\.\."$' "$T/h1"
ok 'secrets as <NAME>' \
    grep -q '^    config.value: "<DB_PASS>" -> "<DB_PASS>"$' "$T/h1"
ok 'no secret value' sh -c "! grep -q 'planted-' '$T/h1' '$T/h2'"

# an empty plan
mkdir "$T/empty"
printf '%s\n' '{"kind":"end","program":"kom-sync"}' >"$T/none.jsonl"
KOM_STATE_DIR=$T/empty kom-sync diff -H -j "$T/none.jsonl" >"$T/h3"
is "$(cat "$T/h3")" 'Plan: 0 to create, 0 to update, 0 to delete, 0 unchanged.' \
    'empty plan'
done_testing
