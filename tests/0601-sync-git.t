#!/bin/sh
# A git-backed [[resource_sync]] in kom.toml: kom-sync diff -y NAME reads
# its files from the checkout kom-poll fetch made (offline), records the
# commit in every record, follows a push only after the next fetch, and
# says what to run before the first.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
git_repo me/syncs
S=$T/syncs
git_work me/syncs "$S"
mkdir -p "$S/res"
cat >"$S/res/apps.toml" <<EOF
[[deployment]]
name = "web"
[deployment.config]
image.params.image = "nginx:1"

[[variable]]
name = "COLOR"
value = "blue"
EOF
C1=$(git_commit "$S" one)
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "fromgit"
[resource_sync.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/syncs"
resource_path = ["res"]
include_variables = true
EOF

fails 'not fetched: exit 65' 65 kom-sync diff -y fromgit
is "$(grep -c "kom.toml:1: resource_sync 'fromgit': .*not fetched yet: run kom-poll fetch" "$T/.out")" 1 \
    'the error names the sync, its line and kom-poll fetch'

ok 'kom-poll fetch' kom-poll fetch -y fromgit
kom-sync diff -y fromgit >"$T/diff" 2>"$T/err"
is "$?" 0 'diff from the checkout'
is "$(jq -r 'select(.kind=="resource") | "\(.type) \(.name) \(.op) \(.sync_commit)"' "$T/diff")" \
    "variable COLOR create $C1
deployment web create $C1" 'every record names the commit'

sed -i 's/nginx:1/nginx:2/' "$S/res/apps.toml"
C2=$(git_commit "$S" two)
kom-sync diff -y fromgit >"$T/diff" 2>"$T/err"
is "$(jq -r 'select(.kind=="resource") | .sync_commit' "$T/diff" | sort -u)" "$C1" \
    'offline: a push is seen only after a fetch'
ok 'fetch the push' kom-poll fetch -y fromgit
kom-sync diff -y fromgit >"$T/diff" 2>"$T/err"
is "$(jq -r 'select(.kind=="resource" and .name=="web") | "\(.sync_commit) \(.config.image.params.image)"' "$T/diff")" \
    "$C2 nginx:2" 'the new commit, its contents'
ok 'the human view' kom-sync diff -H -y fromgit
done_testing
