#!/bin/sh
# kom-poll fetch over ssh, with a deploy key, against an sshd of the
# test's own on 127.0.0.2: the host key checked against known_hosts
# (plain and hashed entries), an unknown or revoked host key and a key
# the server does not accept are refused.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_ssh_up
git_repo me/app
W=$T/work
git_work me/app "$W"
echo one >"$W/file"
C1=$(git_commit "$W" one)
URL="ssh://$GIT_SSH_USER@$GIT_SSH$GIT_ROOT/repos/me/app"

R=$T/res
mkdir -p "$R"
cat >"$R/stacks.toml" <<EOF
[[stack]]
name = "app"
[stack.config]
repo = "$URL"
git_account = "deploy"
EOF
provider() {	# provider KNOWN_HOSTS KEY
	cat <<EOF
[[git_provider]]
domain = "$GIT_SSH"
known_hosts = "$1"
accounts = [ { username = "deploy", ssh_key = "$2" } ]
EOF
}
fetch() {
	kom-poll fetch "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}
field() {
	jq -r "select(.kind == \"repo\") | .$1" "$T/out"
}

provider "$GIT_KNOWN_HOSTS" "$GIT_SSH_KEY" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'ssh with a deploy key: exit 0'
is "$(cat "$T/err")" "" 'nothing on stderr'
is "$(field remote)" "$URL" 'the remote as declared'
is "$(field after)" "$C1" 'fetched'
ok 'checked out' test -f "$(field checkout)/file"

echo two >"$W/file"
C2=$(git_commit "$W" two)
fetch "$R"
is "$(field after)" "$C2" 'a push is fetched'
is "$(field changed)" '[
  "file"
]' 'and its changed path listed'

# a key path relative to kom.toml's directory
cp "$GIT_SSH_KEY" "$KOM_HOME/deploy_key"
chmod 600 "$KOM_HOME/deploy_key"
provider "$GIT_KNOWN_HOSTS" deploy_key >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'a relative ssh_key is found next to kom.toml'

# a URL without a user name: the account's is used
sed "s|ssh://$GIT_SSH_USER@|ssh://|" "$R/stacks.toml" >"$T/nouser.toml"
cat >"$KOM_HOME/kom.toml" <<EOF
[[git_provider]]
domain = "$GIT_SSH"
known_hosts = "$GIT_KNOWN_HOSTS"
accounts = [ { username = "$GIT_SSH_USER", ssh_key = "$GIT_SSH_KEY" } ]
EOF
sed -i "s/git_account = \"deploy\"/git_account = \"$GIT_SSH_USER\"/" \
    "$T/nouser.toml"
fetch "$T/nouser.toml"
is "$(cat "$T/rc")" 0 'ssh without a user in the URL: the account logs in'
is "$(field remote)" "ssh://$GIT_SSH$GIT_ROOT/repos/me/app" 'that remote'

# a hashed known_hosts entry
cp "$GIT_KNOWN_HOSTS" "$T/hashed"
ssh-keygen -q -H -f "$T/hashed" >/dev/null 2>&1
rm -f "$T/hashed.old"
ok 'the entry is hashed' grep -q '^|1|' "$T/hashed"
provider "$T/hashed" "$GIT_SSH_KEY" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'a hashed known_hosts entry matches'

# a host key kom does not know
ssh-keygen -q -t ed25519 -N '' -f "$T/other_host" -C other
printf '[127.0.0.2]:%s %s\n' "${GIT_SSH#*:}" \
    "$(cut -d' ' -f1,2 "$T/other_host.pub")" >"$T/wrong_hosts"
provider "$T/wrong_hosts" "$GIT_SSH_KEY" >"$KOM_HOME/kom.toml"
echo three >"$W/file"
git_commit "$W" three >/dev/null
fetch "$R"
is "$(cat "$T/rc")" 78 'an unknown host key: exit 78'
is "$(cat "$T/err")" "kom-poll: $URL: the ssh host key of '[127.0.0.2]:${GIT_SSH#*:}' is not in $T/wrong_hosts" \
    'says which host and which file'
is "$(field after)" "$C2" 'the last good commit stays'

# a revoked host key
{ printf '@revoked '; cat "$GIT_KNOWN_HOSTS"; cat "$GIT_KNOWN_HOSTS"; } \
    >"$T/revoked"
provider "$T/revoked" "$GIT_SSH_KEY" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 78 'a revoked host key: exit 78'
ok 'says revoked' grep -q "is revoked in $T/revoked" "$T/err"

# a key the server does not accept
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger" -C stranger
provider "$GIT_KNOWN_HOSTS" "$T/stranger" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 78 'a key the server refuses: exit 78'
is "$(cat "$T/err")" "kom-poll: $URL: the remote refused the credentials of account 'deploy'" \
    'one clear line'

done_testing
