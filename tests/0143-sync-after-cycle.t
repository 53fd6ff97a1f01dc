#!/bin/sh
# validate rejects the `after` cycles kom-plan rejects, with the same
# words: both use plan_check_after().  Before, validate passed files that
# kom-plan then refused.
. "$(dirname "$0")/lib.sh"

S=$T/syncs
mkdir -p "$S"
write() {	# write DEPLOY [MORE]: a cycle a -> b -> a, a stack after b (and MORE)
	cat >"$S/a.toml" <<EOF2
[[deployment]]
name = "a"
deploy = $1
after = ["b"]
EOF2
	cat >"$S/b.toml" <<EOF2
[[deployment]]
name = "b"
deploy = $1
after = ["a"]

[[stack]]
name = "s"
deploy = $1
after = ["b"${2:-}]
EOF2
}
mkdir -p "$KOM_HOME/state/resources/deployment"
echo '{"type":"deployment","name":"applied-elsewhere","config":{}}' \
    >"$KOM_HOME/state/resources/deployment/applied-elsewhere.json"

write true
kom-sync validate "$S" >/dev/null 2>"$T/err"
is "$?" 65 'validate: a cycle is an error (exit 65)'
is "$(cat "$T/err")" "kom-sync: cycle in 'after': deployment 'a' (a.toml:4) -> deployment 'b' (b.toml:4) -> deployment 'a'
kom-sync: 1 error" 'validate: the cycle named, once'
# diff: a name applied before is no error, the cycle still is
write true ', "applied-elsewhere"'
kom-sync diff -a "$S" >"$T/out" 2>"$T/err"
is "$?" 65 'diff: exit 65'
is "$(cat "$T/err")" "kom-sync: cycle in 'after': deployment 'a' (a.toml:4) -> deployment 'b' (b.toml:4) -> deployment 'a'" \
    'diff: the cycle alone (the applied name is known)'
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'diff: nothing written'

# kom-plan, given the same records, says the same
write false
kom-sync show -a "$S" >"$T/show" 2>/dev/null || bail "show failed"
jq -c 'if .kind == "resource" then .deploy = true | .op = "create" else . end' \
    "$T/show" >"$T/recs"
kom-plan "$T/recs" >/dev/null 2>"$T/plan.err"
is "$?" 65 'kom-plan: exit 65'
is "$(sed 's/^kom-plan: //' "$T/plan.err")" \
    "$(write true; kom-sync validate "$S" 2>&1 | sed -n 's/^kom-sync: cycle/cycle/p')" \
    'kom-plan and validate: the same message'

# deploy = false: neither checks it (nothing is ordered)
write false
ok 'no deploy: no order, no cycle' kom-sync validate "$S"
done_testing
