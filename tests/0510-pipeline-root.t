#!/bin/sh
# A stack next to its resource files, its run_directory relative: the
# whole pipeline run from / (as timers and path units run it) finds the
# compose file, and a checkout that moves elsewhere is no change.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images

P=$(port 51)
S=$T/checkout/syncs
mkdir -p "$S/app"
cat >"$S/stacks.toml" <<EOF2
[[stack]]
name = "$PFX-app"
deploy = true
[stack.config]
files_on_host = true
run_directory = "app"
auto_pull = false
EOF2
cat >"$S/app/compose.yaml" <<EOF2
version: "3"
services:
  web:
    image: $IMG:1
    network_mode: host
    command: ["httpd", "-f", "-p", "$P", "-h", "/www"]
EOF2

apply() {	# apply DIR: the pipeline from /
	(cd / && kom-sync diff "$1" | kom-plan | kom-exec) >"$T/out" 2>"$T/err"
}
result() {
	jq -r 'select(.kind == "result") | "\(.action) \(.status)"' "$T/out"
}

kom-sync diff "$S" >"$T/diff" 2>/dev/null
is "$(jq -r 'select(.kind == "resource") | "\(.source) \(.root)"' "$T/diff")" \
    "stacks.toml:1 $(cd "$S" && pwd -P)" 'the record names its source and root'

apply "$S"
is "$?" 0 'from /: the pipeline succeeds'
is "$(result)" 'deploy ok' 'from /: the stack is deployed'
[ "$(result)" = 'deploy ok' ] || diag "$(cat "$T/err" "$T/out")"
is "$(fetch "$P")" v1 'the stack answers'
is "$(jq -r .exec.run_directory \
    "$KOM_HOME/state/resources/stack/$PFX-app.json")" \
    "$(cd "$S/app" && pwd -P)" 'run directory: next to the resource file'

# the checkout moves: same files, another directory, nothing to do
mv "$T/checkout" "$T/moved"
apply "$T/moved/syncs"
is "$?" 0 'moved checkout: the pipeline succeeds'
is "$(result)" 'ensure noop' 'moved checkout: no redeploy'

# records from kom-sync show (-j), planned from /, applied from /
(cd "$T" && kom-sync show moved/syncs/stacks.toml) >"$T/show" 2>/dev/null
is "$(jq -r 'select(.kind == "resource") | "\(.source) \(.root)"' "$T/show")" \
    "moved/syncs/stacks.toml:1 $(cd "$T" && pwd -P)" \
    'a file path: source as given, root the current directory'
(cd / && kom-sync diff -j "$T/show" | kom-plan | kom-exec) >"$T/out" 2>"$T/err"
is "$?" 0 'show records, from /: the pipeline succeeds'
is "$(result)" 'ensure noop' 'show records, from /: nothing to do'

done_testing
