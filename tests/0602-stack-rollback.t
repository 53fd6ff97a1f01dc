#!/bin/sh
# Rollback of a stack from git, against a real git server, registry and
# engine: commit A then commit B (another env and a new image pushed to
# the same tag) are deployed; `kom-exec rollback stack NAME 1` runs A's
# compose file at A's commit, checked out from the local object store
# with the git server gone, and A's image by its digest, recorded as
# release 3.  A stack whose files are not in git rolls back only while
# they are what the release deployed.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/git.sh"
registry_up || bail "no registry"
git_http_up
P=$(port 1)
REPO=$REGISTRY/$PFX-img
build_busybox_image "$IMG-rel:v1" 'RUN mkdir /www && echo v1 >/www/index.html' ||
	bail "cannot build v1"
build_busybox_image "$IMG-rel:v2" 'RUN mkdir /www && echo v2 >/www/index.html' ||
	bail "cannot build v2"
push() {	# push TAG: $IMG-rel:TAG as $REPO:latest
	docker tag "$IMG-rel:$1" "$REPO:latest" &&
	    docker push -q "$REPO:latest" >/dev/null 2>&1
}

git_repo me/apps
W=$T/work
git_work me/apps "$W"
compose() {	# compose GREETING
	mkdir -p "$W/web"
	cat >"$W/web/compose.yaml" <<EOF
services:
  web:
    image: $REPO:latest
    network_mode: host
    command: ["httpd", "-f", "-p", "$P", "-h", "/www"]
    environment:
      - GREETING=$1
EOF
}
S=$T/sync
mkdir -p "$S"
cat >"$S/stack.toml" <<EOF
[[stack]]
name = "$PFX-s"
deploy = true
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/apps"
run_directory = "web"
webhook_enabled = false
EOF
apply() {
	kom-poll fetch "$S" >/dev/null 2>"$T/fetch.err" && pipeline "$S"
}
proj() {
	docker ps -q --filter "label=com.docker.compose.project=$PFX-s"
}
greeting() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
	    $(proj) | sed -n 's/^GREETING=//p'
}
rel() {	# rel JQ: over the releases
	kom-exec releases stack "$PFX-s" | jq -r "$1"
}

ok 'push v1' push v1
compose A
CA=$(git_commit "$W" A)
apply
is "$?" 0 'deploy commit A'
is "$(greeting)" A 'A runs'
is "$(fetch "$P")" v1 'with image v1'
ok 'push v2 to the same tag' push v2
compose B
CB=$(git_commit "$W" B)
apply
is "$?" 0 'deploy commit B'
is "$(greeting)" B 'B runs'
is "$(fetch "$P")" v2 'with image v2'

is "$(rel '"\(.release) \(.commit)"' | tr '\n' ' ')" "1 $CA 2 $CB " \
    'two releases, each with its commit'
is "$(rel 'select(.release==1) | .files["compose.yaml"] | length')" 64 \
    "release 1 keeps its compose file's hash"
d1=$(rel 'select(.release==1) | .images.web.digest')
case $d1 in "$REPO@sha256:"*) r=ok ;; *) r=$d1 ;; esac
is "$r" ok 'release 1 keeps the digest compose ran'
v1id=$(docker image inspect -f '{{.Id}}' "$IMG-rel:v1")
is "$(rel 'select(.release==1) | .images.web.image_id')" "$v1id" \
    'and its image id'

# the git server goes, and so does A's checkout: the object store has A
kill "$(cat "$GIT_ROOT/lighttpd.pid")"
rm -rf "$KOM_HOME"/state/repos/*-apps/"$CA"
old=$(proj)
kexec rollback stack "$PFX-s" 1
is "$?" 0 'rollback to release 1, the git server down'
is "$(greeting)" A "A's compose file runs again"
is "$(fetch "$P")" v1 "A's image serves again, though the tag is v2's"
is "$(docker inspect -f '{{.Image}}' $(proj))" "$v1id" 'it runs v1s image'
is "$(docker inspect -f '{{.Config.Image}}' $(proj))" "$d1" 'by digest'
ok 'the container was replaced' test "$(proj)" != "$old"
is "$(res "$T/out" 1 .reason)" 'rollback to release 1' 'the result says why'
is "$(rel 'select(.release==3) | "\(.reason) \(.commit)"')" \
    "rollback to release 1 $CA" 'release 3: the rollback, at commit A'
is "$(rel .release | wc -l | tr -d ' ')" 3 'three releases'
kom-exec releases -H stack "$PFX-s" >"$T/relh"
is "$(sed -n 2p "$T/relh" | awk '{print $3, $4}')" \
    "commit $(printf %.12s "$CA")" '-H: a stack shows its commit'

# no number: the one before the last, release 2, B
kexec rollback stack "$PFX-s"
is "$?" 0 'rollback without a number'
is "$(greeting)" B 'B again'
is "$(fetch "$P")" v2 'v2 again'

# files not in git: only while they are what the release deployed
L=$T/local
mkdir -p "$L"
cat >"$L/local.toml" <<EOF
[[stack]]
name = "$PFX-l"
deploy = true
[stack.config]
files_on_host = true
run_directory = "$L"
auto_pull = false
EOF
lcompose() {
	printf 'services:\n  web:\n    image: %s:1\n    environment: [V=%s]\n' \
	    "$IMG" "$1" >"$L/compose.yaml"
}
lcompose one
pipeline "$L"
is "$?" 0 'a stack from files on the host'
lcompose two
pipeline "$L"
is "$?" 0 'its file changed: deployed again'
kom-exec rollback stack "$PFX-l" 1 >"$T/o" 2>"$T/e"
is "$?" 65 'a file that changed since: the rollback is refused (65)'
is "$(cat "$T/e")" "kom-exec: stack '$PFX-l': $L/compose.yaml is not what release 1 deployed (its files are not in git): cannot redeploy it exactly" \
    'one line naming the file'
kexec rollback stack "$PFX-l" 2
is "$?" 0 'the files as release 2 deployed them: rolled back'
done_testing
