#!/bin/sh
# kom-poll fetch and the syncs of kom.toml: a directory sync, a sync whose
# files live in git (its checkout is read, and the repos its stacks use are
# fetched too), a sync linked to a [[repo]], -y for one sync, a pinned
# sync, a resource_path that would leave the repository.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
# the sync's own repository: resource files
git_repo me/syncs
S=$T/syncs
git_work me/syncs "$S"
mkdir -p "$S/stacks"
cat >"$S/stacks/app.toml" <<EOF
[[stack]]
name = "app"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/app"
EOF
echo 'not toml [' >"$S/README.toml.txt"
SC1=$(git_commit "$S" syncs)
# the stacks' repository
git_repo me/app
A=$T/app
git_work me/app "$A"
echo 'services: {}' >"$A/compose.yaml"
AC1=$(git_commit "$A" app)
# a repository only the directory sync's stack uses
git_repo me/web
B=$T/web
git_work me/web "$B"
echo 'services: {}' >"$B/compose.yaml"
BC1=$(git_commit "$B" web)

mkdir -p "$KOM_HOME/local"
cat >"$KOM_HOME/local/web.toml" <<EOF
[[stack]]
name = "web"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/web"

[[repo]]
name = "syncsrepo"
[repo.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/syncs"
EOF
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "fromgit"
[resource_sync.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/syncs"
resource_path = ["stacks"]

[[resource_sync]]
name = "local"
resource_path = ["local"]
EOF
fetch() {
	kom-poll fetch "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
remotes() {
	jq -r 'select(.kind == "repo") | "\(.remote | sub(".*/me/"; "")) \(.used_by | join(","))"' "$T/out"
}

fetch
is "$(cat "$T/rc")" 0 'all syncs: exit 0'
is "$(cat "$T/err")" "" 'nothing on stderr'
is "$(remotes)" "syncs resource_sync/fromgit,repo/syncsrepo
app stack/app
web stack/web" \
    "the git sync's repo, the repo its files name, the directory sync's"
is "$(jq -r 'select(.kind == "repo" and (.remote | endswith("/me/app"))) | .after' "$T/out")" \
    "$AC1" 'the stack declared in git was fetched'

fetch -y fromgit
is "$(cat "$T/rc")" 0 '-y fromgit: exit 0'
is "$(remotes)" "syncs resource_sync/fromgit
app stack/app" '-y: that sync and what its files use'

git_access_reset
fetch -n -y fromgit
is "$(cat "$T/rc")" 0 '-n -y fromgit: exit 0'
is "$(git_access)" "" '-n: no request'
is "$(remotes)" "syncs resource_sync/fromgit
app stack/app" '-n: the files come from the checkout the cache has'

fetch -y local
is "$(remotes)" "syncs repo/syncsrepo
web stack/web" '-y local: the directory sync, repos first (apply order)'

# a new stack pushed to the sync's repository is seen in the same run
cat >"$S/stacks/more.toml" <<EOF
[[stack]]
name = "more"
[stack.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/web"
EOF
SC2=$(git_commit "$S" more)
fetch -y fromgit
is "$(jq -r 'select(.kind == "repo" and (.remote | endswith("/me/syncs"))) | [.before, .after, (.changed | join(","))] | @tsv' "$T/out")" \
    "$(printf '%s\t%s\tstacks/more.toml' "$SC1" "$SC2")" \
    'the sync moved by one file'
is "$(remotes | grep web)" "web stack/more" \
    'and the stack it adds is fetched in the same run'

# kom-poll webhook and images read the resources kom-sync reads: the
# checkout of the sync whose files are in git
cat >"$S/stacks/img.toml" <<EOF
[[deployment]]
name = "imgd"
[deployment.config]
image.params.image = "example.com/imgd:1"
poll_for_updates = true
EOF
git_commit "$S" img >/dev/null
sed -i '1i webhook_secret = "hs"' "$KOM_HOME/kom.toml"
F=$KOM_TOP/tests/fixtures/webhook/github-push.json
hook() {	# hook PATH: a signed GitHub push; the status line
	{
		printf 'POST %s HTTP/1.1\r\nHost: kom\r\nX-GitHub-Event: push\r\n' "$1"
		printf 'X-Hub-Signature-256: sha256=%s\r\n' \
		    "$(openssl dgst -sha256 -hmac hs -r <"$F" | cut -d' ' -f1)"
		printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$F" | tr -d ' ')"
		cat "$F"
	} | kom-poll webhook 2>"$T/hook.err" | sed -n '1s/\r$//p'
}
is "$(kom-poll images -l 2>/dev/null | jq -c 'select(.kind == "image") | {name, image}')" '' \
    'images -l: not fetched yet, not listed'
fetch -y fromgit
is "$(kom-poll images -l 2>/dev/null | jq -c 'select(.kind == "image") | {name, image}')" \
    '{"name":"imgd","image":"example.com/imgd:1"}' 'images -l: a deployment of the sync from git'
is "$(hook /listener/github/stack/app/deploy)" 'HTTP/1.1 200 OK' \
    'webhook: a stack declared in the git sync is found'
is "$(cat "$KOM_HOME"/spool/sync/new/* | jq -c '{sync, target}')" \
    '{"sync":"fromgit","target":{"type":"stack","name":"app"}}' 'its event names the sync'
is "$(hook /listener/github/stack/nosuch/deploy)" 'HTTP/1.1 404 Not Found' \
    'webhook: an unknown stack is still 404'
rm -f "$KOM_HOME"/spool/sync/new/*

# pinned to its first commit: the added stack is not there
sed -i "s/^resource_path = \\[\"stacks\"\\]/resource_path = [\"stacks\"]\\ncommit = \"$SC1\"/" \
    "$KOM_HOME/kom.toml"
fetch -y fromgit
is "$(jq -r 'select(.kind == "repo" and (.remote | endswith("/me/syncs"))) | .after' "$T/out")" \
    "$SC1" 'a pinned sync reads its pinned commit'
is "$(remotes | grep -c web)" 0 'without the later stack'

# a sync linked to a [[repo]] declared in another sync's files
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "linked"
linked_repo = "syncsrepo"
resource_path = ["stacks"]

[[resource_sync]]
name = "local"
resource_path = ["local"]
EOF
fetch
is "$(cat "$T/rc")" 0 'a linked sync: exit 0'
is "$(remotes | head -2)" "syncs resource_sync/linked,repo/syncsrepo
web stack/web,stack/more" \
    'its files come from the repo the other sync declares'
fetch -y linked
is "$(cat "$T/rc")" 65 'alone, its [[repo]] is unknown: exit 65'
is "$(head -1 "$T/err")" "kom-poll: $KOM_HOME/kom.toml:1: resource_sync/linked: linked_repo 'syncsrepo' is not declared" \
    'says so, with kom.toml:line'

# a resource_path that leaves the checkout
cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "escape"
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/syncs"
resource_path = ["../../.."]
EOF
fetch
is "$(cat "$T/rc")" 65 'a resource_path outside the repository: exit 65'
ok 'is refused' grep -q "resource_path '../../..' leaves the repository" "$T/err"

# a kom.toml kom-poll cannot use
printf '[[git_provider]]\nhttps = false\n' >"$KOM_HOME/kom.toml"
fetch
is "$(cat "$T/rc")" 78 'a git_provider without a domain: exit 78'
is "$(cat "$T/err")" "kom-poll: $KOM_HOME/kom.toml:1:1: git_provider without a domain" \
    'with its position'
is "$(cat "$T/out")" "" 'and nothing on stdout'

done_testing
