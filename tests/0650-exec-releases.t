#!/bin/sh
# kom-exec releases and rollback: every deploy that replaces the
# container is a numbered release; a rollback brings that release's
# image back by digest, health-gated, and is a release itself.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

registry_up || bail "no registry"
export KOM_GRACE_MS=300
P=$(port 1)
REPO=$REGISTRY/$PFX-app
build_busybox_image "$IMG-rel:v1" 'RUN mkdir /www && echo v1 >/www/index.html' ||
	bail "cannot build v1"
build_busybox_image "$IMG-rel:v2" 'RUN mkdir /www && echo v2 >/www/index.html' ||
	bail "cannot build v2"

# push TAG: the local image $IMG-rel:TAG as $REPO:latest
push() {
	docker tag "$IMG-rel:$1" "$REPO:latest" &&
	    docker push -q "$REPO:latest" >/dev/null 2>&1
}
D=$(dep "$PFX-app" "$REPO:latest" "httpd -f -p $P -h /www")
{ step 1 1 deploy "$D"; plan_end; } >"$T/plan"
R=$KOM_HOME/state/releases/deployment/$PFX-app.jsonl

ok 'push v1' push v1
ok 'deploy v1' kexec "$T/plan"
is "$(fetch "$P")" v1 'v1 serves'
is "$(res "$T/out" 1 .detail.release)" 1 'the result names release 1'
ok 'push v2 to the same tag' push v2
ok 'deploy v2' kexec "$T/plan"
is "$(fetch "$P")" v2 'v2 serves'
kexec "$T/plan"
is "$(res "$T/out" 1 .status)" noop 'an unchanged rerun is a noop'
is "$(wc -l <"$R" | tr -d ' ')" 2 'a noop is no release'

kom-exec releases deployment "$PFX-app" >"$T/rel" 2>"$T/rel.err"
is "$?" 0 'releases exits 0'
is "$(jq -r '.release' "$T/rel" | tr '\n' ' ')" '1 2 ' 'two releases, numbered'
d1=$(jq -r 'select(.release==1) | .image_digest' "$T/rel")
d2=$(jq -r 'select(.release==2) | .image_digest' "$T/rel")
v1id=$(docker image inspect -f '{{.Id}}' "$IMG-rel:v1")
is "$(jq -r 'select(.release==1) | .image_id' "$T/rel")" "$v1id" 'release 1 has v1s image id'
case $d1 in "$REPO@sha256:"*) r=ok ;; *) r="$d1" ;; esac
is "$r" ok 'release 1 has the digest in the registry'
ok 'the two digests differ' test "$d1" != "$d2"
is "$(jq -r 'select(.release==1) | .reason' "$T/rel")" test 'the reason is the steps'
is "$(jq -r '.config_hash | length' "$T/rel" | sort -u)" 64 'config hashes'
ok 'no applied record in the listing' test "$(jq -c '.applied' "$T/rel" | sort -u)" = null
kom-exec releases -H deployment "$PFX-app" >"$T/relh"
is "$(head -n1 "$T/relh" | tr -s ' ')" 'N TIME IMAGE ID IMAGE REASON' '-H: a table'
is "$(wc -l <"$T/relh" | tr -d ' ')" 3 '-H: a header and two rows'
is "$(stat -c %a "$R")" 600 'the release file is mode 0600'

# rollback to 1: the old digest back, recorded as release 3
old=$(cid "$PFX-app")
kexec rollback deployment "$PFX-app" 1
is "$?" 0 'rollback to release 1'
is "$(fetch "$P")" v1 'v1 serves again'
ok 'the container was replaced' test "$(cid "$PFX-app")" != "$old"
is "$(docker inspect -f '{{.Image}}' "$PFX-app")" "$v1id" 'it runs v1s image'
is "$(docker inspect -f '{{.Config.Image}}' "$PFX-app")" "$d1" 'by digest'
is "$(res "$T/out" 1 .reason)" 'rollback to release 1' 'the result says why'
kom-exec releases deployment "$PFX-app" >"$T/rel"
is "$(jq -r 'select(.release==3) | "\(.reason) \(.image_digest == "'"$d1"'")"' "$T/rel")" \
    'rollback to release 1 true' 'release 3 is the rollback, same digest'
ok 'history has the rollback' hist_has "$PFX-app" ok

# no number: the release before the last (3), that is release 2's v2
kexec rollback deployment "$PFX-app"
is "$?" 0 'rollback without a number'
is "$(fetch "$P")" v2 'the one before the last: v2'
is "$(res "$T/out" 1 .reason)" 'rollback to release 2' 'it says which'

# bad input: one line, exit 65, nothing touched
cur=$(cid "$PFX-app")
kom-exec rollback deployment "$PFX-app" 9 >"$T/o" 2>"$T/e"
is "$?" 65 'a release that does not exist: 65'
is "$(cat "$T/e")" "kom-exec: deployment '$PFX-app' has no release 9 (releases 1 to 4 in $KOM_HOME/state)" \
    'one line naming it'
kom-exec rollback deployment "$PFX-app" x1 >"$T/o" 2>"$T/e"
is "$?" 65 'a release number that is not one: 65'
kom-exec rollback deployment "$PFX-nope" >"$T/o" 2>"$T/e"
is "$?" 65 'a deployment never released: 65'
is "$(wc -l <"$T/e" | tr -d ' ')" 1 'one line'
kom-exec rollback stack "$PFX-app" 1 >"$T/o" 2>"$T/e"
is "$?" 65 'a stack never released: 65'
kom-exec rollback widget "$PFX-app" 1 >"$T/o" 2>"$T/e"
is "$?" 64 'an unknown type: 64'
is "$(cid "$PFX-app")" "$cur" 'nothing touched'

# a torn last line (a crash mid-append) is ignored and not glued to
printf '{"kind":"release","torn' >>"$R"
kexec rollback deployment "$PFX-app" 1
is "$(kom-exec releases deployment "$PFX-app" | jq -r .release | tail -n1)" 5 \
    'the torn line is skipped, the next is release 5'
is "$(fetch "$P")" v1 'and it deployed'
done_testing
