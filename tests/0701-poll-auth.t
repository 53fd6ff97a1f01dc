#!/bin/sh
# kom-poll fetch and a private repository behind basic auth: the token from
# kom.toml or from the secrets directory, a wrong token, no account, a URL
# with credentials in it; the token never appears in any output, process
# list, state file or error message.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"

git_http_up
git_hang_up
git_repo private/secret
W=$T/work
git_work private/secret "$W"
echo 'services: {}' >"$W/compose.yaml"
C1=$(git_commit "$W" first)

R=$T/res
mkdir -p "$R"
stack() {	# stack NAME PROVIDER ACCOUNT [REPO]
	cat <<EOF
[[stack]]
name = "$1"
[stack.config]
git_provider = "$2"
git_https = false
repo = "${4:-private/secret}"
git_account = "$3"
EOF
}
stack app "$GIT_HTTP" kom >"$R/stacks.toml"
provider() {	# provider DOMAIN TOKEN-LINE
	cat <<EOF
[[git_provider]]
domain = "$1"
https = false
accounts = [ { username = "kom"$2 } ]
EOF
}
fetch() {
	kom-poll fetch "$@" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
	cat "$T/out" "$T/err" >>"$T/all-output"
}
err_of() {
	jq -r 'select(.kind == "repo") | .error // ""' "$T/out"
}

provider "$GIT_HTTP" ", token = \"$GIT_TOKEN\"" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 0 'token in kom.toml: exit 0'
is "$(jq -r 'select(.kind == "repo") | .after' "$T/out")" "$C1" \
    'fetched the private repo'
is "$(cat "$T/err")" "" 'nothing on stderr'

# the token from the secrets directory: the file USERNAME@DOMAIN
mkdir -p "$T/secrets"
printf '%s\n' "$GIT_TOKEN" >"$T/secrets/kom@$GIT_HTTP"
{
	echo "secrets_dir = \"$T/secrets\""
	provider "$GIT_HTTP" ""
} >"$KOM_HOME/kom.toml"
echo 'x: 1' >>"$W/compose.yaml"
C2=$(git_commit "$W" second)
fetch "$R"
is "$(cat "$T/rc")" 0 'token from secrets_dir: exit 0'
is "$(jq -r 'select(.kind == "repo") | .after' "$T/out")" "$C2" \
    'and the push is fetched'
provider "$GIT_HTTP" "" >"$KOM_HOME/kom.toml"
echo 'x: 2' >>"$W/compose.yaml"
C3=$(git_commit "$W" third)
KOM_SECRETS_DIR=$T/secrets fetch "$R"
is "$(cat "$T/rc")" 0 'token from $KOM_SECRETS_DIR: exit 0'
is "$(jq -r 'select(.kind == "repo") | .after' "$T/out")" "$C3" 'fetched'

# a wrong token
provider "$GIT_HTTP" ', token = "wrong-token"' >"$KOM_HOME/kom.toml"
echo 'x: 3' >>"$W/compose.yaml"
git_commit "$W" fourth >/dev/null
fetch "$R"
is "$(cat "$T/rc")" 78 'wrong token: exit 78'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/private/secret: the remote refused the credentials of account 'kom'" \
    'one clear line on stderr'
is "$(err_of)" "http://$GIT_HTTP/private/secret: the remote refused the credentials of account 'kom'" \
    'and in the JSON line'
is "$(jq -r 'select(.kind == "repo") | [.before, .after] | @tsv' "$T/out")" \
    "$(printf '%s\t%s' "$C3" "$C3")" 'the last good commit stays'
ok 'its checkout too' test -d "$(jq -r 'select(.kind == "repo") | .checkout' "$T/out")"
ok 'the wrong token is not shown' sh -c "! grep -q wrong-token '$T/out' '$T/err'"

# no token anywhere
provider "$GIT_HTTP" "" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 78 'no token: exit 78'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/private/secret: account 'kom' of git_provider '$GIT_HTTP' has no token: none in kom.toml, no secret file 'kom@$GIT_HTTP' in /etc/kom/secrets" \
    'says where a token would come from'

# an account kom.toml does not have
stack app "$GIT_HTTP" someone >"$R/stacks.toml"
provider "$GIT_HTTP" ", token = \"$GIT_TOKEN\"" >"$KOM_HOME/kom.toml"
fetch "$R"
is "$(cat "$T/rc")" 78 'unknown account: exit 78'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/private/secret: no account 'someone' for git_provider '$GIT_HTTP' in $KOM_HOME/kom.toml" \
    'names the account, the provider and kom.toml'

# no account at all, and the server asks
stack app "$GIT_HTTP" "" >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 78 'no git_account on a private repo: exit 78'
is "$(cat "$T/err")" "kom-poll: http://$GIT_HTTP/private/secret: the remote asks for credentials and kom.toml has none for it" \
    'says the remote wants credentials'

# credentials in the URL itself are refused, and not repeated
stack app "$GIT_HTTP" "" "http://kom:$GIT_TOKEN@$GIT_HTTP/private/secret" \
    >"$R/stacks.toml"
fetch "$R"
is "$(cat "$T/rc")" 65 'a URL with credentials: exit 65'
is "$(head -1 "$T/err")" "kom-poll: stacks.toml:1: stack/app: a repo URL must not hold credentials: put them in kom.toml [[git_provider]] accounts" \
    'refused with file:line'

# while a fetch waits on a server that never answers, the token is in no
# process's arguments
stack slow "$GIT_HANG" kom >"$R/stacks.toml"
provider "$GIT_HANG" ", token = \"$GIT_TOKEN\"" >"$KOM_HOME/kom.toml"
kom-poll fetch -t 3 "$R" >"$T/slow.out" 2>"$T/slow.err" &
PID=$!
i=0
until [ "$(ps -o pid= --ppid $PID | wc -l)" -ge 1 ] || [ $i -gt 100 ]; do
	i=$((i + 1))
	sleep 0.05
done
ps -eo args >"$T/ps"
wait $PID
echo $? >"$T/rc"
ok 'the fetch had a child while it waited' test $i -le 100
ok 'the ps listing was taken' grep -q kom-poll "$T/ps"
ok 'the token is in no argv' sh -c "! grep -qF -- '$GIT_TOKEN' '$T/ps'"
is "$(cat "$T/rc")" 69 'the server that never answers: exit 69'
is "$(cat "$T/slow.err")" "kom-poll: http://$GIT_HANG/private/secret: no answer within 3 s" \
    'no answer within the timeout'
cat "$T/slow.out" "$T/slow.err" >>"$T/all-output"

ok 'the token never appeared in any output' \
    sh -c "! grep -qF -- '$GIT_TOKEN' '$T/all-output'"
ok 'nor in any file of the state dir' \
    sh -c "! grep -rqF -- '$GIT_TOKEN' '$KOM_HOME/state'"
ok 'and the state dir was searched' test -d "$KOM_HOME/state/repos"

done_testing
