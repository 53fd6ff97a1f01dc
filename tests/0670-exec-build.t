#!/bin/sh
# kom-exec and [[build]]: built from a real git server by the engine's
# classic builder, Komodo's tags pushed to a registry with htpasswd
# (credentials from Docker's config.json), auto_increment_version from
# the state dir; a failed build, a refused push and secret_args fail the
# step with one line naming the build, nothing else touched; a failed
# build queues BuildFailed, the next good one its resolve.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

registry_up auth || bail "no registry"
git_http_up
git_repo me/app
W=$T/work
git_work me/app "$W"
cp /bin/busybox "$W/busybox" || bail "no /bin/busybox"
dockerfile() {	# dockerfile VERSION-TEXT [EXTRA LINE]
	printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
	    'RUN ["/bin/busybox","--install","-s","/bin"]' \
	    "RUN mkdir /www && echo $1 >/www/index.html" ${2:+"$2"} \
	    'ARG A' 'RUN echo "$A" >/www/arg' >"$W/Dockerfile"
}
dockerfile v1
C1=$(git_commit "$W" first busybox Dockerfile)

export DOCKER_CONFIG=$T/docker
mkdir -p "$DOCKER_CONFIG"
login() {	# login PASSWORD
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$AUTH_REGISTRY" \
	    "$(printf '%s:%s' "$AUTH_USER" "$1" | base64 -w0)" \
	    >"$DOCKER_CONFIG/config.json"
}
login "$AUTH_PASS"
NAME=$PFX-b
S=$T/syncs
mkdir -p "$S"
build() {	# build [LINE...]
	{
		printf '[[build]]\nname = "%s"\n[build.config]\n' "$NAME"
		printf 'git_provider = "%s"\ngit_https = false\n' "$GIT_HTTP"
		printf 'repo = "me/app"\nversion = "1.0.0"\n'
		printf 'image_registry = { domain = "%s", account = "%s" }\n' \
		    "$AUTH_REGISTRY" "$AUTH_USER"
		printf 'build_args = "A=argval"\nlabels = "kom.test=%s"\n' \
		    "$KOM_TEST_ID"
		printf 'pre_build.command = "echo pre >prebuilt"\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$S/build.toml"
	kom-sync diff "$S" 2>/dev/null | kom-plan >"$T/plan" 2>/dev/null
}
res() { jq -r "select(.kind==\"result\") | $1" "$T/out"; }
errline() {	# errline PREFIX NAME: the step's error starts with PREFIX
	case $(res .error) in "$1"*) r=ok ;; *) r=$(res .error) ;; esac
	is "$r" ok "$2"
}
IMGN=$AUTH_REGISTRY/$AUTH_USER/$NAME
tags() {
	curl -sf -u "$AUTH_USER:$AUTH_PASS" \
	    "http://$AUTH_REGISTRY/v2/$AUTH_USER/$NAME/tags/list" |
	    jq -r '.tags | sort | join(" ")'
}
digest() {	# digest TAG
	curl -sf -I -u "$AUTH_USER:$AUTH_PASS" \
	    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	    "http://$AUTH_REGISTRY/v2/$AUTH_USER/$NAME/manifests/$1" |
	    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
at_exit 'docker image ls -q "$IMGN" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1'

build
kexec "$T/plan"
is "$?" 0 'the build step succeeds'
is "$(res .status)" ok 'ok'
is "$(tags)" "$(printf '%s\n' 1 1.0 1.0.0 latest "$(echo "$C1" | cut -c1-7)" | sort | tr '\n' ' ' | sed 's/ $//')" \
    'x.y.z, x.y, x, latest and the commit are pushed'
is "$(res .detail.build.version)" 1.0.0 'the version is the floor'
is "$(res .detail.pre_build)" '' 'pre_build ran'
docker run --rm --entrypoint cat "$IMGN:1.0.0" /www/arg >"$T/arg" 2>/dev/null
is "$(cat "$T/arg")" argval 'build_args reached the build'
is "$(docker image inspect -f '{{index .Config.Labels "kom.test"}}' "$IMGN:latest")" \
    "$KOM_TEST_ID" 'labels reached the image'
d1=$(digest latest)
ok 'latest has a digest' test -n "$d1"
is "$(res '.detail.build.digests.latest')" "$d1" 'the result has the pushed digest'

# a deployment of image type Build runs that build's latest version
export KOM_GRACE_MS=300
P=$(port 1)
D=$(dep "$PFX-web" "" "httpd -f -p $P -h /www" |
    jq -c --arg b "$NAME" '.config.image = {type: "Build", params: {build: $b, version: "0.0.0"}}')
{ step 1 1 deploy "$D"; plan_end; } >"$T/dplan"
kexec_to "$T/dout" "$T/derr" "$T/dplan"
is "$?" 0 'the Build deployment deploys'
is "$(fetch "$P")" v1 'it serves the build'
is "$(docker inspect -f '{{.Config.Image}}' "$PFX-web")" "$IMGN:1.0.0" \
    'at the version built'

# a Dockerfile change on the server: the next build is 1.0.1
dockerfile v2
C2=$(git_commit "$W" second Dockerfile)
kexec "$T/plan"
is "$?" 0 'the second build succeeds'
is "$(res .detail.build.version)" 1.0.1 'auto_increment_version: 1.0.1'
is "$(res .detail.build.commit)" "$C2" 'at the new commit'
ok '1.0.1 is pushed' sh -c "curl -sf -u '$AUTH_USER:$AUTH_PASS' 'http://$AUTH_REGISTRY/v2/$AUTH_USER/$NAME/tags/list' | grep -q '\"1.0.1\"'"
ok 'latest moved' test "$(digest latest)" != "$d1"
is "$(digest 1.0.0)" "$d1" '1.0.0 still has the old digest'
is "$(jq -r .exec.version "$KOM_HOME/state/resources/build/$NAME.json")" 1.0.1 \
    'the version is in the state dir'
kexec_to "$T/dout" "$T/derr" "$T/dplan"
is "$(fetch "$P")" v2 'the deployment follows the new version'
is "$(docker inspect -f '{{.Config.Image}}' "$PFX-web")" "$IMGN:1.0.1" 'at 1.0.1'
kom-exec rollback deployment "$PFX-web" >"$T/dout" 2>"$T/derr"
is "$?" 0 'rollback to the previous release'
is "$(fetch "$P")" v1 'v1 serves again'
is "$(docker inspect -f '{{.Config.Image}}' "$PFX-web")" "$IMGN@$d1" \
    'by the old digest'

# a build that fails
dockerfile v3 'RUN false'
git_commit "$W" broken Dockerfile >/dev/null
kom-exec "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 1 'a failed build: exit 1'
is "$(res .status)" failed 'the step fails'
errline "build.toml:1: build '$NAME': the build failed: " 'one line naming the build and its file:line'
is "$(jq -r .exec.version "$KOM_HOME/state/resources/build/$NAME.json")" 1.0.1 \
    'the recorded version is unchanged'
# the alerts it queues, taken out of the spool: [level, resolved, target, version]
balerts() {
	for _a in "$KOM_HOME/spool/alert/new"/*.json; do
		[ -f "$_a" ] || continue
		jq -c 'select(.data.type == "BuildFailed") | [.level, .resolved,
		    .target.type + "/" + .target.id, .data.data.version]' "$_a"
		rm -f "$_a"
	done
}
is "$(balerts)" "[\"WARNING\",false,\"Build/$NAME\",{\"major\":1,\"minor\":0,\"patch\":2}]" \
    'BuildFailed queued, with the version that failed'
dockerfile v4
git_commit "$W" fixed Dockerfile >/dev/null

# a registry that refuses the push
login wrong
kom-exec "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 1 'a refused push: exit 1 (permanent)'
errline "build.toml:1: build '$NAME': the push failed: " 'one line naming the build'
ok 'the password is not in the output' sh -c "! grep -qF '$AUTH_PASS' '$T/out' '$T/err'"
balerts >/dev/null
login "$AUTH_PASS"
kexec "$T/plan"
is "$?" 0 'fixed: the build succeeds'
is "$(balerts)" "[\"OK\",true,\"Build/$NAME\",{\"major\":1,\"minor\":0,\"patch\":2}]" \
    'and resolves BuildFailed'
kexec "$T/plan"
is "$(balerts)" '' 'the next good build: no alert'

# what the classic builder cannot do
build 'secret_args = "S=x"'
kom-exec "$T/plan" >"$T/out" 2>"$T/err"
is "$?" 1 'secret_args: exit 1'
errline "build.toml:1: build '$NAME': secret_args needs BuildKit" 'refused clearly'
done_testing
