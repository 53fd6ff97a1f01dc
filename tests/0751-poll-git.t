#!/bin/sh
# kom-poll git: a timer-driven look at the syncs' remotes.  The first look
# sets the baseline; a push becomes exactly one event in SPOOL/sync/new
# (the sync, the repo, the commits, the paths); a sync is looked at only
# when due (-a: all); a remote that is down or hangs is reported, backed
# off and retried, never a crash or a hang; poll_interval is checked.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
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
SC1=$(git_commit "$S" syncs)
git_repo me/app
A=$T/app
git_work me/app "$A"
echo 'services: {}' >"$A/compose.yaml"
AC1=$(git_commit "$A" app)

cat >"$KOM_HOME/kom.toml" <<EOF
[[resource_sync]]
name = "fromgit"
poll_interval = 30
[resource_sync.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/syncs"
resource_path = ["stacks"]
EOF
SP=$KOM_HOME/spool
ST=$KOM_HOME/state/poll/git.json
poll() {
	kom-poll git "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
like() {	# like GOT ERE NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_result 0 "$3"
	else
		_result 1 "$3"
		diag "got: $1" "want /$2/"
	fi
}
events() { ls "$SP/sync/new" | wc -l | tr -d ' '; }

poll
is "$(cat "$T/rc")" 0 'first look: exit 0'
is "$(jq -c '{sync, due, repos, events, failures}' "$T/out")" \
    '{"sync":"fromgit","due":true,"repos":2,"events":0,"failures":0}' \
    'first look: two repos, the baseline, no event'
is "$(events)" 0 'first look: nothing queued'
is "$(jq -r '.syncs.fromgit | (.next - .last >= 30000 and .next - .last <= 34000)' "$ST")" \
    true 'the next look: poll_interval and at most a tenth of jitter'

git_access_reset
poll
is "$(jq -c '{sync, due}' "$T/out")" '{"sync":"fromgit","due":false}' \
    'not due: not looked at'
is "$(git_access)" "" 'not due: no request to the remote'

echo 'services: {web: {image: busybox}}' >"$A/compose.yaml"
AC2=$(git_commit "$A" 'app: web')
git_access_reset
poll -a
is "$(jq -c '{due, events}' "$T/out")" '{"due":true,"events":1}' '-a: looked at, one event'
is "$(git_access | sed 's/?.*//')" 'GET /me/syncs/info/refs
GET /me/app/info/refs
POST /me/app/git-upload-pack' \
    'one round trip for the remote that did not move, a fetch for the one that did'
is "$(events)" 1 'one event queued'
is "$(cat "$SP"/sync/new/* | jq -c 'del(.ts) | .repo |= sub(".*/me/"; "")')" \
    "{\"kind\":\"event\",\"source\":\"git\",\"sync\":\"fromgit\",\"repo\":\"app\",\"branch\":\"main\",\"before\":\"$AC1\",\"after\":\"$AC2\",\"changed\":[\"compose.yaml\"],\"used_by\":[\"stack/app\"]}" \
    'the event: the sync, the repo, both commits, the paths, the users'

poll -a
is "$(jq -c '{events}' "$T/out")" '{"events":0}' 'nothing moved: no event'
is "$(events)" 1 'still one event'

# a kill after the events but before the state: announced again, not lost
echo 'services: {web: {image: busybox:1}}' >"$A/compose.yaml"
AC3=$(git_commit "$A" 'app: tag')
cp "$ST" "$T/state.old"
poll -a
is "$(events)" 2 'a push: a second event'
cp "$T/state.old" "$ST"
poll -a
is "$(events)" 3 'the state lost (a kill before it was written): the change is announced again'
is "$(cat "$SP"/sync/new/* | jq -r .after | sort | uniq -c | awk '{print $1}' | sort | tr '\n' ' ')" \
    '1 2 ' 'the same commit twice, never none'

# a remote that is down: reported, backed off, retried
DOWN=$(git_down_addr)
cat >>"$KOM_HOME/kom.toml" <<EOF

[[resource_sync]]
name = "down"
[resource_sync.config]
git_provider = "$DOWN"
git_https = false
repo = "me/gone"
EOF
poll -a -t 5 -y down
is "$(cat "$T/rc")" 69 'a remote down: exit 69'
is "$(jq -c '{sync, failures, events}' "$T/out")" \
    '{"sync":"down","failures":1,"events":0}' 'a remote down: one failure'
like "$(cat "$T/err")" "^kom-poll: sync 'down': .*; next look in" \
    'a remote down: said on stderr, with the next look'
is "$(jq -r '.syncs.down | .next - .last >= 120000' "$ST")" true \
    'backoff: twice the interval after one failure'
poll -a -t 5 -y down
is "$(jq -r '.syncs.down | "\(.failures) \(.next - .last >= 240000)"' "$ST")" \
    '2 true' 'backoff: doubled after the second'
is "$(jq -c '.syncs.fromgit.failures' "$ST")" 0 'the other sync is untouched'

# a remote that accepts and never answers: bounded by -t
git_hang_up
sed -i "s/$DOWN/$GIT_HANG/" "$KOM_HOME/kom.toml"
poll -a -t 2 -y down
is "$(cat "$T/rc")" 69 'a remote that hangs: exit 69 after -t'
is "$(jq -r .failures "$T/out")" 3 'a remote that hangs: counted'

# poll_interval
sed -i 's/^poll_interval = 30/poll_interval = 5/' "$KOM_HOME/kom.toml"
poll -a
is "$(cat "$T/rc")" 78 'poll_interval below 10 s: exit 78'
like "$(cat "$T/err")" "kom.toml:3:17: 'poll_interval' must be 10 to 86400 seconds" \
    'poll_interval: the message has the place'
fails 'an operand: 64' 64 kom-poll git extra
done_testing
