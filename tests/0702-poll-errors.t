#!/bin/sh
# kom-poll fetch when things go wrong: a server that is down (the last good
# checkout stays, the other remotes are fetched, exit 69), a repository
# that does not exist, a branch that is gone, a pinned commit that is not
# on the remote (and one that is), and SIGKILL at random points of a fetch
# and checkout: the next run converges.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
git_repo me/app
W=$T/work
git_work me/app "$W"
echo one >"$W/file"
C1=$(git_commit "$W" one)
git -C "$W" push -q origin HEAD:refs/heads/feature
# a second remote, reached by path, that stays up
git_repo local/other
O=$T/other
git_work local/other "$O"
echo a >"$O/a"
O1=$(git_commit "$O" a)

R=$T/res
mkdir -p "$R"
stack() {	# stack NAME REPO [BRANCH [COMMIT [PROVIDER]]]
	cat <<EOF
[[stack]]
name = "$1"
[stack.config]
git_provider = "${5:-$GIT_HTTP}"
git_https = false
repo = "$2"
branch = "${3:-main}"
commit = "${4:-}"
EOF
}
fetch() {
	kom-poll fetch "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
rec() {	# rec STACK: the repo line that stack uses
	jq -c "select(.kind == \"repo\" and (.used_by | index(\"stack/$1\")))" \
	    "$T/out"
}

{
	stack app me/app
	stack other "file://$GIT_ROOT/repos/local/other"
} >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'both remotes up: exit 0'
GOOD=$(rec app | jq -r .checkout)

# the server goes down; the other remote moves
kill "$(cat "$GIT_ROOT/lighttpd.pid")"
i=0
while curl -s -o /dev/null --max-time 1 "http://$GIT_HTTP/" && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
echo b >"$O/b"
O2=$(git_commit "$O" b)
fetch "$R"
is "$(cat "$T/rc")" 69 'a server that is down: exit 69'
is "$(wc -l <"$T/err")" 1 'one line on stderr'
ok 'naming the remote' grep -q "^kom-poll: http://$GIT_HTTP/me/app: " "$T/err"
is "$(rec app | jq -r '[.before, .after, .checkout] | @tsv')" \
    "$(printf '%s\t%s\t%s' "$C1" "$C1" "$GOOD")" \
    'the last good commit and checkout are reported'
ok 'and the checkout is usable' test -f "$GOOD/file"
is "$(rec app | jq -r '.error | length > 0')" true 'the line has an error'
is "$(rec other | jq -r '[.before, .after, (.error // "none")] | @tsv')" \
    "$(printf '%s\t%s\tnone' "$O1" "$O2")" \
    'the other remote was fetched all the same'
is "$(jq -c 'select(.kind == "end") | .counts' "$T/out")" \
    '{"repos":2,"remotes":2,"fetched":1,"errors":1}' 'end record counts'

# nothing listens at all
stack gone me/app main "" "$(git_down_addr)" >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 69 'nothing listening: exit 69'
is "$(rec gone | jq -r .after)" null 'never fetched: no after'

git_http_up
# a repository the server does not have
stack nope me/nope >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 65 'a repository that does not exist: exit 65'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/me/nope: no such repository (unexpected http status code: 404)" \
    "says so, with the server's answer"

# a server error: temporary
stack err broken/app >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 69 'a server that answers 500: exit 69'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/broken/app: unexpected http status code: 500" \
    'with the status'

# a branch that is gone
stack feat me/app feature >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'the branch is there: exit 0'
is "$(rec feat | jq -r .after)" "$C1" 'and resolves'
git -C "$GIT_ROOT/repos/me/app" branch -q -D feature
fetch "$R"
is "$(cat "$T/rc")" 65 'a branch that is gone: exit 65'
is "$(cat "$T/err")" "kom-poll: stacks.toml:1: stack/feat: branch 'feature' is not on http://$GIT_HTTP/me/app" \
    'one line: the resource, the branch and the remote'
is "$(rec feat | jq -r .error)" "branch 'feature' is not on http://$GIT_HTTP/me/app" \
    'in the JSON line too'

# pinned commits
echo two >"$W/file"
C2=$(git_commit "$W" two)
stack pin me/app main "$C1" >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'a pinned commit on the remote: exit 0'
is "$(rec pin | jq -r '[.commit, .after] | @tsv')" \
    "$(printf '%s\t%s' "$C1" "$C1")" 'resolves to the pin, not the branch'
is "$(cat "$(rec pin | jq -r .checkout)/file")" one 'its checkout is the old one'
SHORT=$(echo "$C1" | cut -c1-10)
stack pin me/app main "$SHORT" >"$R/stacks.toml"
fetch "$R"
is "$(rec pin | jq -r .after)" "$C1" 'a short pin resolves to the full commit'
stack pin me/app main 0123456789abcdef0123456789abcdef01234567 \
    >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 65 'a pinned commit not on the remote: exit 65'
is "$(cat "$T/err")" "kom-poll: stacks.toml:1: stack/pin: commit '0123456789abcdef0123456789abcdef01234567' is not on http://$GIT_HTTP/me/app" \
    'one clear line'
stack pin me/app main not-a-commit >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 65 'a pin that is not hex: exit 65'
ok 'says what a commit looks like' grep -q "must be 7 to 40 hex digits" "$T/err"
# history rewritten: C2 is in the cache but on no branch any more
git -C "$W" reset -q --hard "$C1"
echo three >"$W/file"
git -C "$W" commit -q -am three
git -C "$W" push -q -f origin HEAD:main
stack pin me/app main "$C2" >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 65 'a pin that left the remote by a force push: exit 65'
ok 'is not on any branch' grep -q "commit '$C2' is not on any branch of" "$T/err"

# SIGKILL at random points of a fetch and its checkout of many files
git_repo me/big
B=$T/big
git_work me/big "$B"
i=0
while [ $i -lt 400 ]; do
	mkdir -p "$B/d$((i % 20))"
	head -c 2000 /dev/urandom | od -An -tx1 >"$B/d$((i % 20))/f$i"
	i=$((i + 1))
done
BC=$(git_commit "$B" big)
stack big me/big >"$R/stacks.toml"
n=0
while [ $n -lt 6 ]; do
	kom-poll fetch "$R" >/dev/null 2>&1 &
	p=$!
	sleep "0.0$(od -An -N1 -tu1 /dev/urandom | tr -d ' ' | cut -c1)"
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	n=$((n + 1))
done
fetch "$R"
is "$(cat "$T/rc")" 0 'after six kills, the next fetch succeeds'
BD=$(rec big | jq -r .checkout)
is "$(rec big | jq -r .after)" "$BC" 'at the pushed commit'
is "$(cd "$BD" && find . -type f | wc -l)" 400 'the checkout is complete'
ok 'and identical to the work tree' diff -r -x .git "$B" "$BD"
is "$(ls -a "$(dirname "$BD")" | grep -c '^\.tmp')" 0 \
    'no temporary checkout is left'
is "$(find "$(dirname "$BD")/repo.git" -name '*.lock' | wc -l)" 0 \
    'no lock file is left'
is "$(find "$(dirname "$BD")/repo.git" -name 'pack_git2_*' | wc -l)" 0 \
    'no half-received pack is left'

done_testing
