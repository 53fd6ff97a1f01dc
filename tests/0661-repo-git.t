#!/bin/sh
# A [[repo]] follows its remote like a stack: kom-sync puts the commit
# kom-poll fetch saw into its record, a push is a change of the repo
# (with the commit range), kom-exec pulls it in place (what git does not
# track stays) and runs on_pull.  A [[resource_sync]] linked to that
# [[repo]] (linked_repo) reads its files from the repo's remote at that
# commit, the commit in every record.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"
command -v jq >/dev/null 2>&1 || bail "jq is needed"
git_http_up
git_repo me/infra
W=$T/work
git_work me/infra "$W"
mkdir -p "$W/res"
cat >"$W/res/one.toml" <<'EOF'
[[procedure]]
name = "one"
EOF
echo one >"$W/version"
C1=$(git_commit "$W" first)

S=$T/syncs
mkdir -p "$S"
cat >"$S/repo.toml" <<EOF
[[repo]]
name = "infra"
[repo.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/infra"
path = "$T/infra"
on_clone.command = "echo cloned >>$T/hooks"
on_pull.command = "echo pulled \$(cat version) >>$T/hooks"
EOF
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "apps"
linked_repo = "infra"
resource_path = ["res"]
EOF
run() {
	kom-sync diff "$S" >"$T/diff" 2>"$T/err" &&
	    kom-plan <"$T/diff" >"$T/plan" 2>>"$T/err" &&
	    kom-exec <"$T/plan" >"$T/out" 2>>"$T/err"
}
res() { jq -r "select(.kind==\"result\" and .type==\"repo\") | $1" "$T/out"; }
short() { printf %.7s "$1"; }

# a linked sync before its [[repo]] is applied: one line, 65
kom-sync diff -y apps >"$T/o" 2>"$T/e"
is "$?" 65 'linked_repo of a repo not applied yet: 65'
is "$(cat "$T/e")" "kom-sync: $KOM_HOME/kom.toml:1: resource_sync 'apps': linked_repo 'infra' is not an applied [[repo]] in $KOM_HOME/state: apply the sync that declares it first" \
    'one line naming the sync and what to do'

ok 'kom-poll fetch' kom-poll fetch "$S"
run
is "$?" 0 'the repo is cloned'
is "$(jq -r 'select(.kind=="resource" and .type=="repo") | .git.commit' "$T/diff")" "$C1" \
    "the repo's record names the fetched commit"
is "$(cat "$T/hooks")" cloned 'on_clone ran'
run
is "$(res .status)" '' 'unchanged: no step'

# the linked sync: the repo's files at its commit
ok 'kom-poll fetch -y apps' kom-poll fetch -y apps
kom-sync diff -y apps >"$T/ldiff" 2>"$T/lerr"
is "$?" 0 'kom-sync diff -y apps: exit 0'
is "$(jq -r 'select(.kind=="resource") | "\(.type) \(.name) \(.op) \(.sync) \(.sync_commit)"' "$T/ldiff")" \
    "procedure one create apps $C1" 'its files, from the repo, with the commit'
is "$(grep -c 'does not act' "$T/lerr")" 0 'no note: a linked sync is acted on'

# a push: the repo is pulled again, in place, and says why
echo data >"$T/infra/data.txt"
echo two >"$W/version"
cat >"$W/res/two.toml" <<'EOF'
[[procedure]]
name = "two"
EOF
C2=$(git_commit "$W" second)
run
is "$(res .status)" '' 'the remote moved but is not fetched: nothing yet'
ok 'fetch the push' kom-poll fetch "$S"
run
is "$?" 0 'the push is applied'
is "$(jq -r 'select(.kind=="step" and .type=="repo") | .reason' "$T/plan")" \
    "update: git.commit ($(short "$C1")..$(short "$C2"))" \
    'the reason names the commit range'
is "$(res '"\(.status) \(.detail.pulled) \(.detail.commits)"')" \
    "ok true $C1..$C2" 'pulled, from commit to commit'
is "$(cat "$T/infra/version")" two 'the new commit is checked out'
is "$(tail -n1 "$T/hooks")" 'pulled two' 'on_pull ran after the pull'
is "$(cat "$T/infra/data.txt")" data 'what git does not track stays (git pull)'
run
is "$(res .status)" '' 'rerun: no step'

# the linked sync follows
ok 'fetch -y apps again' kom-poll fetch -y apps
kom-sync diff -y apps >"$T/ldiff" 2>"$T/lerr"
is "$(jq -r 'select(.kind=="resource") | "\(.name) \(.sync_commit)"' "$T/ldiff" | sort | tr '\n' ' ')" \
    "one $C2 two $C2 " 'the new commit: its files, every record names it'
done_testing
