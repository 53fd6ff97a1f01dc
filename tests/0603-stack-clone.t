#!/bin/sh
# clone_path and reclone of a stack from git, against a real git server
# and engine: the checkout lives at clone_path (relative: under
# STATE/stacks/NAME, as Komodo's stack directory; absolute as it is); a
# new commit is pulled in place, what git does not track stays (a bind
# mount's files); reclone = true replaces it instead; a clone never takes
# over a directory kom did not make.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/git.sh"
exec_images
git_http_up
P=$(port 1)

git_repo me/site
W=$T/work
git_work me/site "$W"
compose() {	# compose VERSION
	mkdir -p "$W/app/www"
	echo "$1" >"$W/app/www/index.html"
	cat >"$W/app/compose.yaml" <<EOF
services:
  web:
    image: $IMG:1
    network_mode: host
    command: ["httpd", "-f", "-p", "$P", "-h", "/www"]
    volumes: ["./www:/www"]
    environment: [VERSION=$1]
EOF
}
S=$T/sync
mkdir -p "$S"
stack() {	# stack NAME CLONE_PATH [LINE]
	cat >"$S/$1.toml" <<EOF
[[stack]]
name = "$PFX-$1"
deploy = true
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/site"
run_directory = "app"
clone_path = "$2"
auto_pull = false
${3:-}
EOF
}
apply() {
	kom-poll fetch "$S" >/dev/null 2>"$T/fetch.err" && pipeline "$S"
}
detail() {	# detail NAME JQ
	jq -r "select(.kind==\"result\" and .name==\"$PFX-$1\") | .detail | $2" "$T/out"
}
C=$KOM_HOME/state/stacks/$PFX-rel/checkout

compose one
git_commit "$W" one >/dev/null
stack rel checkout
apply
is "$?" 0 'deployed from a clone'
is "$(detail rel .cloned)" "$C" 'cloned at STATE/stacks/NAME/clone_path'
cmp_file "$C/app/compose.yaml" "$W/app/compose.yaml" 'the checkout is there'
is "$(jq -r .exec.run_directory "$KOM_HOME/state/resources/stack/$PFX-rel.json")" \
    "$C/app" 'compose ran in it'
is "$(fetch "$P")" one 'the bind mount serves the clone'
apply
is "$(detail rel .cloned)" null 'rerun: not cloned again'

# a new commit: pulled in place, untracked files stay
echo mine >"$C/app/www/extra.html"
compose two
C2=$(git_commit "$W" two)
apply
is "$?" 0 'the push is deployed'
is "$(detail rel .pulled)" "$C" 'pulled in place'
is "$(fetch "$P")" two 'the new file is served'
is "$(curl -sf -m 5 "http://127.0.0.1:$P/extra.html")" mine \
    'a file git does not track stays'
is "$(jq -r .exec.clone.commit "$KOM_HOME/state/resources/stack/$PFX-rel.json")" \
    "$C2" 'the record names the commit at the clone'

# reclone: the next commit replaces the directory
stack rel checkout 'reclone = true'
compose three
git_commit "$W" three >/dev/null
apply
is "$?" 0 'reclone: deployed'
is "$(detail rel .recloned)" "$C" 'cloned again'
is "$(fetch "$P")" three 'the new commit is served'
ok 'what git does not track is gone' test ! -e "$C/app/www/extra.html"

# absolute; a directory that holds something is never taken over
mkdir -p "$T/abs"
echo precious >"$T/abs/keep"
stack rel "$T/abs"
apply
is "$?" 1 'an occupied clone_path: the step fails'
case $(jq -r 'select(.kind=="result" and .error != null) | .error' "$T/out") in
*"rel.toml:1: stack '$PFX-rel': $T/abs exists and was not cloned by kom"*) r=ok ;;
*) r=$(jq -r 'select(.kind=="result" and .error != null) | .error' "$T/out") ;;
esac
is "$r" ok 'one line naming the file, the stack and the path'
is "$(cat "$T/abs/keep")" precious 'and it is untouched'
is "$(fetch "$P")" three 'the stack keeps running'
rm -rf "$T/abs"
apply
is "$?" 0 'an absolute clone_path'
cmp_file "$T/abs/app/compose.yaml" "$W/app/compose.yaml" 'cloned there'

stack rel '../out'
kom-sync diff "$S" | kom-plan >"$T/plan" 2>/dev/null
kom-exec <"$T/plan" >"$T/out" 2>/dev/null
is "$?" 1 "a clone_path with '..': the step fails"
is "$(jq -r 'select(.kind=="result" and .error != null) | .error' "$T/out")" \
    "rel.toml:1: stack '$PFX-rel': clone_path '../out' must name a directory without '..'" \
    'one line naming it'
done_testing
