#!/bin/sh
# Stacks from git, the whole loop against a real git server and the real
# engine: a monorepo with three stacks in subdirectories; kom-sync reads
# only what kom-poll fetched; a push that changes one stack's compose file
# redeploys exactly that stack with Komodo's reason and the commit range;
# a commit that touches another directory only redeploys nothing; a
# pinned commit is respected; the pipeline from /; with the git server
# down the stacks still report and keep running, and a commit kom-exec
# cannot fetch fails temporarily (75).
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/git.sh"
exec_images
git_http_up

git_repo me/mono
M=$T/mono
git_work me/mono "$M"
compose() {	# compose DIR PORT GREETING
	mkdir -p "$M/$1"
	cat >"$M/$1/compose.yaml" <<EOF
services:
  web:
    image: $IMG:1
    network_mode: host
    command: ["httpd", "-f", "-p", "$2", "-h", "/www"]
    environment:
      - GREETING=$3
EOF
}
compose a "$(port 1)" hello
compose b "$(port 2)" hello
compose c "$(port 3)" hello
compose p "$(port 4)" hello
echo one >"$M/b/app.conf"
echo one >"$M/c/notes.conf"
mkdir -p "$M/docs"
echo one >"$M/docs/README"
C1=$(git_commit "$M" one)

S=$T/sync
mkdir -p "$S"
cat >"$S/pinned.toml" <<EOF
[[stack]]
name = "$PFX-p"
deploy = true
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/mono"
commit = "$(printf %.10s "$C1")"
run_directory = "p"
auto_pull = false
webhook_enabled = false
EOF
for s in a b c; do
	cat >>"$S/stacks.toml" <<EOF
[[stack]]
name = "$PFX-$s"
deploy = true
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/mono"
run_directory = "$s"
auto_pull = false
webhook_enabled = false
EOF
	case $s in
	b) echo 'config_files = [{ path = "app.conf", requires = "restart" }]' ;;
	c) echo 'config_files = ["notes.conf"]'
	   echo 'environment = "EXTRA = yes"' ;;
	esac >>"$S/stacks.toml"
	echo >>"$S/stacks.toml"
done

apply() {
	kom-sync diff "$S" >"$T/diff" 2>"$T/err" &&
	    kom-plan <"$T/diff" >"$T/plan" 2>>"$T/err" &&
	    kom-exec <"$T/plan" >"$T/out" 2>>"$T/err"
}
statuses() {
	jq -r 'select(.kind=="result") | "\(.action) \(.name) \(.status)"' \
	    "$T/out" | sed "s/$PFX-//" | sort
}
proj() {
	docker ps -q --filter "label=com.docker.compose.project=$PFX-$1"
}
greeting() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
	    $(proj "$1") | sed -n 's/^GREETING=//p'
}
ops() {
	jq -r 'select(.kind=="resource") | .op' "$T/diff" | sort -u
}

# not fetched yet: one line per stack, naming it and what to run
fails 'not fetched: kom-sync diff fails (65)' 65 kom-sync diff "$S"
is "$(grep -c "stacks.toml:[0-9]*: stack '$PFX-a': .*not fetched yet: run kom-poll fetch" "$T/.out")" 1 \
    'the error names the stack, its file:line and kom-poll fetch'

ok 'kom-poll fetch' kom-poll fetch "$S"
apply
is "$?" 0 'first apply'
is "$(statuses)" "deploy a ok
deploy b ok
deploy c ok
deploy p ok" 'four stacks deployed'
is "$(jq -r 'select(.kind=="resource" and .name=="'"$PFX-a"'") | .git.commit' "$T/diff")" "$C1" \
    'the record names the commit'
is "$(greeting a)" hello 'stack a runs the file of the commit'
is "$(find "$KOM_HOME/state/repos" -name .env | wc -l | tr -d ' ')" 0 \
    'the shared checkout is never written to'
is "$(stat -c %a "$KOM_HOME/state/stacks/$PFX-c/.env")" 600 \
    "a git stack's env file: STATE/stacks/NAME/.env, mode 0600"

apply
is "$?" 0 'second apply'
is "$(ops)" keep 'rerun: every stack kept'
is "$(statuses | grep -vc ' noop$')" 0 'rerun: all no-ops'

# one stack's compose file changes
ida=$(proj a)
idb=$(proj b)
compose a "$(port 1)" changed
compose p "$(port 4)" changed
C2=$(git_commit "$M" two)
ok 'fetch the push' kom-poll fetch "$S"
apply
is "$?" 0 'apply the push'
is "$(statuses | grep -v ' noop$')" "deploy a ok" 'exactly stack a redeployed'
s1=$(printf %.7s "$C1")
s2=$(printf %.7s "$C2")
is "$(jq -r 'select(.kind=="step" and .name=="'"$PFX-a"'") | .reason' "$T/plan")" \
    "stack config has changed: File contents for compose.yaml have changed ($s1..$s2)" \
    "Komodo's reason with the commit range"
is "$(greeting a)" changed 'stack a runs the new file'
[ "$(proj a)" != "$ida" ]
is "$?" 0 'a: a new container'
is "$(proj b)" "$idb" 'b: the same container'
is "$(greeting p)" hello 'the pinned stack stays at its commit'
is "$(jq -r 'select(.kind=="resource" and .name=="'"$PFX-p"'") | .git.commit' "$T/diff")" "$C1" \
    'the pinned commit, in full'

# a commit that touches only another directory (Komodo #773)
echo two >"$M/docs/README"
git_commit "$M" three >/dev/null
ok 'fetch the docs commit' kom-poll fetch "$S"
apply
is "$?" 0 'apply the docs commit'
is "$(ops)" keep 'no stack changed'
is "$(statuses | grep -vc ' noop$')" 0 'nothing redeployed'

# config files: requires = Restart restarts, None (the default) does nothing
started() {
	docker inspect -f '{{.State.StartedAt}}' $(proj "$1")
}
idb=$(proj b)
sb=$(started b)
sc=$(started c)
echo two >"$M/b/app.conf"
echo two >"$M/c/notes.conf"
C4=$(git_commit "$M" four)
ok 'fetch the config files' kom-poll fetch "$S"
apply
is "$?" 0 'apply the config files'
is "$(statuses | grep -v ' noop$' | grep -v '^record ')" "restart b ok" 'b restarted, nothing else'
# b was last applied at the first commit: the range starts there
is "$(jq -r 'select(.kind=="step" and .action=="restart") | .reason' "$T/plan")" \
    "stack config files have changed: File contents for app.conf have changed ($s1..$(printf %.7s "$C4"))" \
    'the restart names the file and the commits'
is "$(proj b)" "$idb" 'b: the same container'
[ "$(started b)" != "$sb" ]
is "$?" 0 'b: started again'
is "$(started c)" "$sc" 'c (requires None): not touched'
apply
is "$(statuses | grep -vc ' noop$')" 0 'rerun after the restart: all no-ops'

# the pipeline from /
(cd / && kom-sync diff "$S" | kom-plan | kom-exec >"$T/out" 2>"$T/err")
is "$?" 0 'from /: exit 0'
is "$(statuses | grep -vc ' noop$')" 0 'from /: all no-ops'

# the git server goes down: the last good fetch still deploys
kill "$(cat "$GIT_ROOT/lighttpd.pid")"
ida=$(proj a)
fails 'remote down: kom-poll fetch exits 69' 69 kom-poll fetch "$S"
apply
is "$?" 0 'remote down: the pipeline still runs'
is "$(statuses | grep -vc ' noop$')" 0 'remote down: every stack reports, nothing redeployed'
is "$(proj a)" "$ida" 'remote down: stack a keeps running'
kom-exec status >"$T/status" 2>"$T/status.err"
is "$?" 0 'remote down: kom-exec status exits 0'
is "$(jq -r 'select(.kind=="status" and .type=="stack") | "\(.name) \(.state) \(.drift)"' "$T/status" | sed "s/$PFX-//" | sort | tr '\n' ' ')" \
    "a running null b running null c running null p running null " \
    'remote down: every stack reports running, no drift'
# a commit the cache lacks and the remote cannot give: temporary
jq -c 'if .kind=="resource" and .name=="'"$PFX-a"'" then
    .op="update" | .deploy_changes=["file_paths"] |
    .git.commit="ffffffffffffffffffffffffffffffffffffffff" else . end' \
    "$T/diff" | kom-plan >"$T/plan" 2>/dev/null
kom-exec <"$T/plan" >"$T/out" 2>"$T/err"
is "$?" 75 'a commit that cannot be fetched: kom-exec exits 75'
is "$(grep -c "commit ffffffffffff of http://$GIT_HTTP/me/mono" "$T/err")" 1 \
    'the failure names the commit and the remote'
is "$(proj a)" "$ida" 'and stack a keeps running'

done_testing
