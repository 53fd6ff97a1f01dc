#!/bin/sh
# kom-exec procedure with a real git server and the engine's builder:
# PullRepo brings the repo's checkout to the branch's new commit (on_pull
# runs), RunBuild builds the build again at that commit and records it,
# BatchRunBuild expands to the same; a PullRepo of a repo that is gone
# from the server fails the procedure with ProcedureFailed.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images

git_http_up
git_repo me/app
W=$T/work
git_work me/app "$W"
printf 'FROM %s\nCOPY version /www/version\n' "$IMG:1" >"$W/Dockerfile"
echo one >"$W/version"
C1=$(git_commit "$W" first Dockerfile version)

cat >"$KOM_HOME/kom.toml" <<TOML
[[git_provider]]
domain = "$GIT_HTTP"
https = false
accounts = [ { username = "kom", token = "$GIT_TOKEN" } ]
TOML
NAME=$PFX-b
at_exit 'docker image ls -q "$NAME" | sort -u | xargs -r docker rmi -f >/dev/null 2>&1'
S=$T/syncs
mkdir -p "$S"
cat >"$S/ci.toml" <<TOML
[[repo]]
name = "$PFX-r"
[repo.config]
git_provider = "$GIT_HTTP"
git_https = false
git_account = "kom"
repo = "me/app"
path = "$T/checkout"
on_pull.command = "echo pulled >>$T/hooks"

[[build]]
name = "$NAME"
[build.config]
git_provider = "$GIT_HTTP"
git_https = false
git_account = "kom"
repo = "me/app"
version = "1.0.0"

[[procedure]]
name = "ci"
[[procedure.config.stage]]
name = "pull"
executions = [
  { execution.type = "PullRepo", execution.params.repo = "$PFX-r" },
]
[[procedure.config.stage]]
name = "build"
executions = [
  { execution.type = "BatchRunBuild", execution.params.pattern = "$PFX-*" },
]
TOML
kom-sync diff "$S" | kom-plan | kom-exec >"$T/apply.out" 2>"$T/apply.err"
is "$?" 0 'the sync applies: the repo cloned, the image built'
is "$(cat "$T/checkout/version")" one 'the checkout has the first commit'
s1=$(echo "$C1" | cut -c1-7)
ok 'the image of the first commit' docker image inspect "$NAME:$s1"

echo two >"$W/version"
C2=$(git_commit "$W" second version)
s2=$(echo "$C2" | cut -c1-7)
kexec procedure ci
is "$?" 0 'the procedure succeeds'
is "$(jq -r 'select(.kind=="result") | "\(.id) \(.status) \(.type) \(.name)"' "$T/out" | tr '\n' ' ')" \
    "1 ok repo $PFX-r 2 ok build $NAME " 'PullRepo, then RunBuild (from BatchRunBuild)'
is "$(cat "$T/checkout/version")" two 'PullRepo: the checkout has the new commit'
is "$(cat "$T/hooks")" pulled 'on_pull ran'
is "$(jq -r .exec.commit "$KOM_HOME/state/resources/repo/$PFX-r.json")" "$C2" \
    'the repo is recorded at the new commit'
ok 'RunBuild: the image of the new commit' docker image inspect "$NAME:$s2"
is "$(docker run --rm --entrypoint cat "$NAME:latest" /www/version)" two \
    'latest is the new build'
is "$(jq -r .exec.commit "$KOM_HOME/state/resources/build/$NAME.json")" "$C2" \
    'the build is recorded at the new commit'

# the repo goes away: the procedure fails, and says so
rm -rf "$GIT_ROOT/repos/me/app"
kexec_to "$T/f.out" "$T/f.err" procedure ci
is "$?" 1 'a repo gone from the server: exit 1'
is "$(cat "$KOM_HOME/spool/alert/new/"*.json | jq -r 'select(.data.type == "ProcedureFailed") | .data.data.name')" \
    ci 'ProcedureFailed queued'
is "$(cat "$T/checkout/version")" two 'the old checkout is kept'
done_testing
