#!/bin/sh
# A build and the deployment that runs it, the whole loop against a real
# git server, a registry with htpasswd and the real engine: a Dockerfile
# in git; kom-poll fetch, then kom-sync diff | kom-plan | kom-exec builds
# it, pushes x.y.z and latest and deploys it; a pushed Dockerfile change
# rebuilds (the build follows its commit) and the redeploy_on_build
# deployment redeploys after the build's step with "build has new
# version: x.y.z", running the new digest; a rerun changes nothing; a
# build run alone is seen by the next run (Komodo's rule, from the state
# dir); a rollback brings the old digest back.  The registry account is
# kom.toml's [[docker_registry]] with its token in the secrets directory
# (no config.json): used for the push and the pull, in no file or output.  Builders: a Server
# builder of this host builds here, one of another host is a noop that
# says where it builds, an Aws builder fails naming the build's file:line.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/git.sh"

registry_up auth || bail "no registry"
git_http_up
git_repo me/app
W=$T/work
git_work me/app "$W"
cp /bin/busybox "$W/busybox" || bail "no /bin/busybox"
dockerfile() {	# dockerfile TEXT
	printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
	    'RUN ["/bin/busybox","--install","-s","/bin"]' \
	    "RUN mkdir /www && echo $1 >/www/index.html" >"$W/Dockerfile"
}
dockerfile v1
git_commit "$W" first busybox Dockerfile >/dev/null

# no config.json: the registry account is kom.toml's, its token a secret
export DOCKER_CONFIG=$T/docker
mkdir -p "$DOCKER_CONFIG" "$T/secrets"
printf '%s' "$AUTH_PASS" >"$T/secrets/$AUTH_USER@$AUTH_REGISTRY"
chmod 600 "$T/secrets/$AUTH_USER@$AUTH_REGISTRY"

B=$PFX-app
D=$PFX-web
P=$(port 1)
IMGN=$AUTH_REGISTRY/$AUTH_USER/$B
at_exit 'docker image ls -q "$IMGN" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1'
S=$T/syncs
mkdir -p "$S"
cat >"$KOM_HOME/kom.toml" <<EOF2
server = "$PFX-host"
secrets_dir = "$T/secrets"

[[docker_registry]]
domain = "$AUTH_REGISTRY"
accounts = [{ username = "$AUTH_USER" }]
EOF2
cat >"$S/app.toml" <<EOF2
[[builder]]
name = "$PFX-here"
[builder.config]
type = "Server"
params.servers = ["$PFX-host"]

[[build]]
name = "$B"
[build.config]
builder = "$PFX-here"
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/app"
version = "1.0.0"
image_registry = { domain = "$AUTH_REGISTRY", account = "$AUTH_USER" }

[[deployment]]
name = "$D"
deploy = true
[deployment.config]
image = { type = "Build", params = { build = "$B" } }
redeploy_on_build = true
command = "httpd -f -p $P -h /www"
termination_timeout = 1
EOF2

apply() {
	kom-poll fetch "$S" >/dev/null 2>"$T/ferr" &&
	    pipeline "$S"
}
steps() {	# action name reason, one line each
	jq -r 'select(.kind == "step") | "\(.action) \(.name) \(.reason)"' \
	    "$T/plan.out" | sed "s/$PFX-//g"
}
results() {
	jq -r 'select(.kind == "result") | "\(.action) \(.name) \(.status)"' \
	    "$T/out" | sed "s/$PFX-//g"
}
tags() {
	curl -sf -u "$AUTH_USER:$AUTH_PASS" \
	    "http://$AUTH_REGISTRY/v2/$AUTH_USER/$B/tags/list" |
	    jq -r '.tags | sort | join(" ")'
}
# the registry digest of the image the container runs
cdigest() {
	docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' \
	    "$(docker inspect -f '{{.Image}}' "$D")" | sed -n "s|^$IMGN@||p" |
	    head -1
}
rdigest() {	# rdigest TAG
	curl -sf -I -u "$AUTH_USER:$AUTH_PASS" \
	    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	    "http://$AUTH_REGISTRY/v2/$AUTH_USER/$B/manifests/$1" |
	    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# first run: build 1.0.0, then deploy it
apply
is "$?" 0 'first run: exit 0'
is "$(results)" "record here ok
record app ok
deploy web ok" 'the builder, the build (on this host, its Server), then the deployment'
is "$(jq -c 'select(.kind == "step" and .type == "deployment") | .needs' "$T/plan.out")" \
    "[$(jq 'select(.kind == "step" and .type == "build") | .id' "$T/plan.out")]" \
    'the deployment needs the build step'
is "$(fetch "$P")" v1 'it serves the build'
is "$(docker inspect -f '{{.Config.Image}}' "$D")" "$IMGN:1.0.0" 'at 1.0.0'
d1=$(rdigest 1.0.0)
ok '1.0.0 is pushed' test -n "$d1"
is "$(cdigest)" "$d1" 'the container runs the pushed digest'
is "$(jq -r .exec.build_version "$KOM_HOME/state/resources/deployment/$D.json")" \
    1.0.0 'the deployment records the build version it ran'

# a Dockerfile change: rebuilt as 1.0.1, the deployment follows
dockerfile v2
C2=$(git_commit "$W" second Dockerfile)
apply
is "$?" 0 'second run: exit 0'
is "$(steps)" "record app update: git.commit ($(git -C "$W" rev-parse --short=7 HEAD~1)..$(echo "$C2" | cut -c1-7))
deploy web build has new version: 1.0.1" \
    'the build follows the commit; the deployment redeploys with the reason'
is "$(jq -r 'select(.kind == "result" and .type == "build") | .detail.build.commit' "$T/out")" \
    "$C2" 'the build is of the commit kom-sync read'
is "$(tags)" "$(printf '%s\n' 1 1.0 1.0.0 1.0.1 latest "$(git -C "$W" rev-parse --short=7 HEAD~1)" "$(echo "$C2" | cut -c1-7)" | sort | tr '\n' ' ' | sed 's/ $//')" \
    'x.y.z and latest pushed (and x.y, x, the commits)'
d2=$(rdigest 1.0.1)
ok 'a new digest' test -n "$d2" -a "$d2" != "$d1"
is "$(rdigest latest)" "$d2" 'latest moved to it'
is "$(fetch "$P")" v2 'the deployment serves v2'
is "$(cdigest)" "$d2" 'the container runs the new digest'

# a rerun: nothing to build, nothing redeployed
apply
is "$?" 0 'third run: exit 0'
is "$(results)" "ensure web noop" 'a rerun builds nothing and changes nothing'

# a build run alone (its step only): the next run sees the new version
dockerfile v3
git_commit "$W" third Dockerfile >/dev/null
kom-poll fetch "$S" >/dev/null 2>&1
kom-sync diff "$S" 2>/dev/null | kom-plan 2>/dev/null |
    jq -c 'select(.type == "build" or .kind == "end")' >"$T/bplan"
kexec "$T/bplan"
is "$?" 0 'the build alone: exit 0'
is "$(fetch "$P")" v2 'the deployment still serves v2'
apply
is "$(steps)" "deploy web build has new version: 1.0.2" \
    'the next run: build has new version, from the state dir'
is "$(fetch "$P")" v3 'it serves v3'

# rollback to the release of 1.0.0
is "$(kom-exec releases deployment "$D" | jq -r '"\(.release) \(.reason)"')" \
    "1 deploy on creation
2 build has new version: 1.0.1
3 build has new version: 1.0.2" 'three releases, with their reasons'
kom-exec rollback deployment "$D" 1 >"$T/rout" 2>"$T/rerr"
is "$?" 0 'rollback to release 1'
is "$(fetch "$P")" v1 'v1 serves again'
is "$(cdigest)" "$d1" 'the container runs the old digest'

# the token: in no output, state, history or release file, nor argv
ok 'the registry token is nowhere' sh -c "! grep -rqF -- '$AUTH_PASS' '$KOM_HOME' '$T'/*.out '$T'/out '$T'/err '$T'/ferr '$T'/rout '$T'/rerr"
ok 'kom-exec saw no config.json' test ! -e "$DOCKER_CONFIG/config.json"

# a wrong token: the push is refused, one line naming the build
printf wrong >"$T/secrets/$AUTH_USER@$AUTH_REGISTRY"
dockerfile v4
git_commit "$W" fourth Dockerfile >/dev/null
apply
is "$?" 1 'a wrong token: exit 1'
case $(jq -r 'select(.kind == "result" and .type == "build") | .error' "$T/out") in
"app.toml:7: build '$B': the push failed: "*) r=ok ;; *) r=$(cat "$T/out") ;; esac
is "$r" ok 'the push fails with one line naming the build and its file:line'
is "$(results)" "record app failed
deploy web skipped" 'the deployment after it is skipped'
is "$(fetch "$P")" v1 'nothing running is touched'

# without version tags the deployment runs the commit's tag (Komodo 4.1)
printf '%s' "$AUTH_PASS" >"$T/secrets/$AUTH_USER@$AUTH_REGISTRY"
sed -i 's/^version = "1.0.0"$/&\ninclude_version_tags = false/' "$S/app.toml"
apply
is "$?" 0 'include_version_tags = false: exit 0'
is "$(docker inspect -f '{{.Config.Image}}' "$D")" \
    "$IMGN:$(git -C "$W" rev-parse --short=7 HEAD)" 'at the commit tag'
is "$(fetch "$P")" v4 'serving the last commit'

# builders that are not this host's
S2=$T/builders
mkdir -p "$S2"
cat >"$S2/b.toml" <<EOF2
[[builder]]
name = "$PFX-there"
[builder.config]
type = "Server"
params.servers = ["$PFX-elsewhere", "$PFX-host"]

[[builder]]
name = "$PFX-aws"

[[build]]
name = "$PFX-x"
[build.config]
builder = "$PFX-there"
files_on_host = true

[[build]]
name = "$PFX-y"
[build.config]
builder = "$PFX-aws"
files_on_host = true
EOF2
kom-sync diff "$S2" 2>"$T/nerr" | kom-plan | kom-exec >"$T/out" 2>"$T/err"
is "$?" 1 'an Aws builder fails the run (exit 1)'
is "$(grep -c "builder '$PFX-aws': kom does not act on these yet: a builder of another type than Server" "$T/nerr")" 1 \
    'kom-sync notes the Aws builder'
is "$(jq -r 'select(.kind == "result" and .type == "build") | "\(.name) \(.status) \(.reason)"' "$T/out" | sed "s/$PFX-//g" | sort)" \
    "x noop not built here: builder 'there' builds on server 'elsewhere', this host is 'host'
y failed create" 'another host'"'"'s Server builder: a noop saying where it builds'
is "$(jq -r 'select(.kind == "result" and .name == "'"$PFX-y"'") | .error' "$T/out")" \
    "b.toml:16: build '$PFX-y': builder '$PFX-aws' is of type Aws: kom builds only with Server builders (or none: on this host)" \
    'Aws: one line naming the build and its file:line'
ok 'nothing recorded for either' test ! -e "$KOM_HOME/state/resources/build/$PFX-x.json" -a \
    ! -e "$KOM_HOME/state/resources/build/$PFX-y.json"
done_testing
