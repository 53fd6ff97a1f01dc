#!/bin/sh
# share/examples/demo.sh: apply the bundled example sync (homelab/) to the
# local Docker engine with the whole pipeline, twice.  The first run
# creates db, then api, then web; the second finds nothing to change.
# Then the git loop: two stacks from a git repository on loopback, a
# commit to one, kom-poll fetch, and only that one redeployed.
#
# Needs the programs built (make) and a Docker engine; contrib/setup demo
# does both.  State lives in $KOM_HOME (default /var/lib/kom-demo when
# root, else ~/.local/state/kom-demo), configured as the host "homelab".
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$top/bin:$PATH
if [ "$(id -u)" -eq 0 ]; then
	KOM_HOME=${KOM_HOME:-/var/lib/kom-demo}
else
	KOM_HOME=${KOM_HOME:-$HOME/.local/state/kom-demo}
fi
export KOM_HOME PATH
ex=$top/share/examples/homelab
mkdir -p "$KOM_HOME"
[ -f "$KOM_HOME/kom.toml" ] || printf 'server = "homelab"\n' >"$KOM_HOME/kom.toml"

sh "$top/tests/docker.sh" up
sh "$top/share/examples/build-images.sh" >/dev/null

for run in 1 2; do
	echo "=== run $run: kom-sync diff -H (what changed since the last apply)"
	kom-sync diff -H "$ex"
	echo "=== run $run: kom-plan -H (what will be done, and why)"
	kom-sync diff "$ex" | kom-plan -H
	echo "=== run $run: kom-sync diff | kom-plan | kom-exec"
	out=$(mktemp)
	rc=0
	kom-sync diff "$ex" | kom-plan | kom-exec >"$out" || rc=$?
	jq -r 'select(.kind == "result") |
	    "\(.status)\t\(.action) \(.type) \(.name): \(.reason)" +
	    (if .error then "\n\terror: \(.error)" else "" end)' "$out"
	rm -f "$out"
	[ "$rc" -eq 0 ] || { echo "demo: kom-exec exited $rc" >&2; exit "$rc"; }
done
echo "=== kom-exec status -H"
kom-exec status -H
echo "=== the front page: curl http://127.0.0.1:8080/"
curl -fsS --retry 5 --retry-connrefused --retry-delay 1 http://127.0.0.1:8080/

# The git loop: two stacks whose compose files live in a git repository
# served on loopback (git http-backend behind lighttpd, as the tests run
# it).  Deploy them, commit a change to one, fetch, and only that one is
# redeployed, with the reason and the commits; the rerun changes nothing.
# Everything made here (server, repository, stacks) is removed at the end.
echo
echo "=== git: two stacks from a git repository on loopback"
T=$(mktemp -d)
_cleanups=
at_exit() {
	_cleanups="$1
$_cleanups"
}
bail() {
	echo "demo: $*" >&2
	exit 1
}
trap 'eval "$_cleanups" >/dev/null 2>&1 || :; rm -rf "$T"' EXIT
. "$top/tests/git.sh"
git_http_up
git_repo demo/stacks
W=$T/work
git_work demo/stacks "$W"
stack_compose() {	# DIR PORT GREETING
	mkdir -p "$W/$1"
	cat >"$W/$1/compose.yaml" <<EOF
services:
  web:
    image: kom-example/web:1
    command: ["httpd", "-f", "-p", "$2", "-h", "/www"]
    ports: ["127.0.0.1:$2:$2"]
    environment:
      - GREETING=$3
EOF
}
stack_compose hello 8090 hello
stack_compose notes 8091 notes
git_commit "$W" "two stacks" >/dev/null
sync=$T/sync
mkdir -p "$sync"
for s in hello notes; do
	cat >>"$sync/stacks.toml" <<EOF
[[stack]]
name = "demo-$s"
deploy = true
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "demo/stacks"
run_directory = "$s"
auto_pull = false
webhook_enabled = false

EOF
done
apply_git() {
	echo "=== $1"
	out=$(mktemp)
	rc=0
	kom-sync diff "$sync" | kom-plan | kom-exec >"$out" || rc=$?
	jq -r 'select(.kind == "result") |
	    "\(.status)\t\(.action) \(.type) \(.name): \(.reason)" +
	    (if .error then "\n\terror: \(.error)" else "" end)' "$out"
	rm -f "$out"
	[ "$rc" -eq 0 ] || { echo "demo: kom-exec exited $rc" >&2; exit "$rc"; }
}
fetch_git() {
	echo "=== kom-poll fetch (one line per repository: before, after, changed)"
	kom-poll fetch "$sync" | jq -r 'select(.kind == "repo") | "\(.remote): \(.before // "none" | .[0:7])..\(.after // "none" | .[0:7]) changed: \(.changed // [] | join(", "))"'
}
fetch_git
apply_git "deploy both stacks from the commit"
apply_git "again: nothing changed"
stack_compose hello 8090 "hello again"
echo "=== git commit: hello/compose.yaml changes (notes/ does not)"
git_commit "$W" "hello: a new greeting" >/dev/null
fetch_git
apply_git "only demo-hello is redeployed, and why"
apply_git "again: nothing changed"
echo "=== cleaning up the git demo (its stacks, server and repository)"
kom-exec destroy demo-hello >/dev/null
kom-exec destroy demo-notes >/dev/null
# its cache: the server's port is new every run
rm -rf "$KOM_HOME"/state/repos/*-stacks
