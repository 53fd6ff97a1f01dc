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

# Two cycles, a resource downstream of the second (x) declared before
# both, and resources on no cycle: the cycles in the order kom-plan finds
# them (x leads to b1 first), each once; kom-sync looks at only what may
# be on a cycle, kom-plan at everything, and they agree.
C=$T/cycles
mkdir -p "$C"
cat >"$C/c.toml" <<'EOF2'
[[deployment]]
name = "x"
deploy = true
after = ["b1"]
[[deployment]]
name = "a1"
deploy = true
after = ["a2"]
[[deployment]]
name = "a2"
deploy = true
after = ["a1", "root"]
[[deployment]]
name = "root"
deploy = true
[[stack]]
name = "b1"
deploy = true
after = ["b2"]
[[stack]]
name = "b2"
deploy = true
after = ["b1"]
[[deployment]]
name = "y"
deploy = true
after = ["x", "root"]
[[deployment]]
name = "z"
deploy = true
after = ["root"]
EOF2
kom-sync validate "$C" >/dev/null 2>"$T/err"
is "$?" 65 'two cycles: exit 65'
is "$(cat "$T/err")" "kom-sync: cycle in 'after': stack 'b1' (c.toml:19) -> stack 'b2' (c.toml:23) -> stack 'b1'
kom-sync: cycle in 'after': deployment 'a1' (c.toml:8) -> deployment 'a2' (c.toml:12) -> deployment 'a1'
kom-sync: 2 errors" 'two cycles: both named, in kom-plan'"'"'s order'
kom-sync show -a "$C" >"$T/show" 2>/dev/null
is "$?" 65 'show refuses them too'
# a name that is a deployment's and a stack's: kom-plan's message
cat >>"$C/c.toml" <<'EOF2'
[[deployment]]
name = "b2"
deploy = true
after = ["z"]
EOF2
kom-sync validate "$C" >/dev/null 2>"$T/err"
is "$(cat "$T/err")" "kom-sync: c.toml:19: 'after' of stack 'b1' names 'b2', which is both deployment 'b2' (c.toml:32) and stack 'b2' (c.toml:20)
kom-sync: 1 error" 'a name of two kinds: said as kom-plan says it'

# deploy = false: neither checks it (nothing is ordered)
write false
ok 'no deploy: no order, no cycle' kom-sync validate "$S"
done_testing
