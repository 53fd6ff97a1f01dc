#!/bin/sh
# kom-poll fetch against git http-backend on loopback: the first fetch, an
# unchanged remote (the ref advertisement only, no pack), a push that
# changes one path, one fetch per remote however many resources use it,
# two branches of one remote, linked_repo, -n without network.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
git_repo me/homelab
W=$T/work
git_work me/homelab "$W"
for s in web db cache; do
	mkdir -p "$W/$s"
	printf 'services:\n  %s: {image: busybox}\n' "$s" >"$W/$s/compose.yaml"
done
C1=$(git_commit "$W" first)
git -C "$W" push -q origin HEAD:refs/heads/dev

R=$T/res
mkdir -p "$R"
cat >"$R/stacks.toml" <<EOF
[[stack]]
name = "web"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/homelab"
run_directory = "web"

[[stack]]
name = "db"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/homelab"
run_directory = "db"

[[repo]]
name = "homelab"
[repo.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/homelab"
branch = "dev"

[[stack]]
name = "cache"
[stack.config]
linked_repo = "homelab"
run_directory = "cache"

[[stack]]
name = "local"
[stack.config]
files_on_host = true
EOF
CACHE=$KOM_HOME/state/repos

fetch() {
	kom-poll fetch "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
line() {	# line BRANCH: the repo record for that branch
	jq -c "select(.kind == \"repo\" and .branch == \"$1\")" "$T/out"
}
packs() {
	find "$CACHE" -path '*/objects/pack/*.pack' | wc -l
}

git_access_reset
fetch "$R"
is "$(cat "$T/rc")" 0 'first fetch: exit 0'
is "$(cat "$T/err")" "" 'nothing on stderr'
is "$(jq -r .kind "$T/out" | tr '\n' ' ')" "repo repo end " \
    'one line per branch of the remote, then end'
is "$(line main | jq -r '[.remote, (.before // "null"), .after] | @tsv')" \
    "$(printf 'http://%s/me/homelab\tnull\t%s' "$GIT_HTTP" "$C1")" \
    'main: remote without credentials, no before, after = the push'
is "$(line main | jq -r '.used_by | join(" ")')" "stack/web stack/db" \
    'used by both stacks'
is "$(line dev | jq -r '.used_by | join(" ")')" "repo/homelab stack/cache" \
    'dev: the repo and the stack linked to it'
is "$(line main | jq -r '.changed | join(" ")')" \
    "cache/compose.yaml db/compose.yaml web/compose.yaml" \
    'first fetch: every path is new'
is "$(jq -c 'select(.kind == "end") | .counts' "$T/out")" \
    '{"repos":2,"remotes":1,"fetched":1,"errors":0}' 'end record counts'
is "$(git_access | grep -c 'info/refs')" 1 \
    'one remote, one ref advertisement, whatever uses it'
D=$(line main | jq -r .checkout)
is "$D" "$(ls -d "$CACHE"/*-homelab)/$C1" \
    'the checkout is REPOS/KEY/COMMIT'
cmp_file "$D/web/compose.yaml" "$W/web/compose.yaml" 'checked out'
is "$(ls -a "$(dirname "$D")" | grep -c '^\.tmp')" 0 'no temporary left'
ok 'the cache is bare with the URL in its config' \
    test "$(git -C "$(dirname "$D")/repo.git" config kom.url)" = \
    "http://$GIT_HTTP/me/homelab"

# unchanged: one round trip, no pack
P=$(packs)
git_access_reset
fetch "$R"
is "$(cat "$T/rc")" 0 'unchanged: exit 0'
is "$(git_access)" "GET /me/homelab/info/refs?service=git-upload-pack" \
    'unchanged: only the ref advertisement was asked for'
is "$(packs)" "$P" 'unchanged: no pack was written'
is "$(line main | jq -c '[.before == .after, .changed, .fetched]')" \
    '[true,[],false]' 'unchanged: before = after, nothing changed'
is "$(jq -c 'select(.kind == "end") | .counts.fetched' "$T/out")" 0 \
    'end: nothing fetched'

# a push that changes one path
printf 'services:\n  web: {image: busybox:2}\n' >"$W/web/compose.yaml"
C2=$(git_commit "$W" 'web: new image')
git_access_reset
fetch "$R"
is "$(cat "$T/rc")" 0 'after a push: exit 0'
is "$(line main | jq -r '[.before, .after] | @tsv')" \
    "$(printf '%s\t%s' "$C1" "$C2")" 'before and after'
is "$(line main | jq -c .changed)" '["web/compose.yaml"]' \
    'exactly the path that changed'
is "$(line dev | jq -c '[.before == .after, .changed]')" '[true,[]]' \
    'the other branch did not move'
is "$(git_access | grep -c 'POST')" 1 'one pack request'
ok 'the old checkout stays' test -d "$(dirname "$D")/$C1"
ok 'the new one is there' test -f "$(dirname "$D")/$C2/web/compose.yaml"
is "$(cat "$(dirname "$D")/$C2/web/compose.yaml")" \
    "$(cat "$W/web/compose.yaml")" 'with the new contents'

# -n: what would be fetched, without the network
printf 'x\n' >"$W/web/extra"
git_commit "$W" 'more' >/dev/null
git_access_reset
fetch -n "$R"
is "$(cat "$T/rc")" 0 '-n: exit 0'
is "$(git_access)" "" '-n: no request reached the server'
is "$(line main | jq -c '[.before, .after, .dry_run]')" \
    "[\"$C2\",null,true]" '-n: what the cache has, nothing after'
is "$(jq -c 'select(.kind == "end") | [.counts.repos, .dry_run]' "$T/out")" \
    '[2,true]' '-n: end record says dry_run'
rm -rf "$KOM_HOME/state"
fetch -n "$R"
is "$(cat "$T/rc")" 0 '-n on an empty state dir: exit 0'
ok '-n made no cache' test ! -e "$CACHE"
is "$(line main | jq -c '.before')" null '-n: nothing before'

# a pinned commit: before is null until its checkout exists
rm -rf "$KOM_HOME/state"
cat >"$T/pin.toml" <<EOF
[[stack]]
name = "pinned"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/homelab"
commit = "$C1"
EOF
fetch "$T/pin.toml"
is "$(line main | jq -c '[.commit == .after, .before]')" '[true,null]' \
    'a pin, first run: after is the pin, nothing before'
fetch "$T/pin.toml"
is "$(line main | jq -c '[.before == .after, .changed]')" '[true,[]]' \
    'second run: the pin did not move'

# two runs at once, naming the remotes in opposite orders: each holds one
# cache lock at a time, so neither waits for the other forever
git_repo me/second
git_work me/second "$T/w2"
echo x >"$T/w2/x"
git_commit "$T/w2" x >/dev/null
for o in "homelab second" "second homelab"; do
	d=$T/$(echo $o | cut -c1)
	mkdir -p "$d"
	for r in $o; do
		cat <<EOF
[[stack]]
name = "$r"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/$r"
EOF
	done >"$d/s.toml"
done
n=0
while [ $n -lt 5 ]; do
	timeout 60 kom-poll fetch "$T/h" >/dev/null 2>&1 &
	p1=$!
	timeout 60 kom-poll fetch "$T/s" >/dev/null 2>&1 &
	p2=$!
	wait $p1; r1=$?
	wait $p2; r2=$?
	[ $r1 -eq 0 ] && [ $r2 -eq 0 ] || break
	n=$((n + 1))
done
is "$n" 5 'concurrent runs in opposite orders all finish with exit 0'

# usage
fails 'no verb' 64 kom-poll
fails 'unknown verb' 64 kom-poll frobnicate
fails 'bad -t' 64 kom-poll fetch -t 0 "$R"
fails 'unknown -y' 78 kom-poll fetch -y nope
is "$(kom-poll -V)" "kom-poll 0.1.0" '-V'
kom-poll fetch "$R" >/dev/full 2>/dev/null
is $? 74 'a full stdout is an I/O error'

done_testing
