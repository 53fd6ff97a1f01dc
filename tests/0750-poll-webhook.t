#!/bin/sh
# kom-poll webhook, one request on stdin/stdout as inetd or systemd's
# Accept=yes hand it over: GitHub, GitLab and Gitea push payloads with
# their headers; forged, replayed with a changed body, without a
# signature, the wrong branch, a ping, unknown resources and paths,
# oversized and slow requests.  Only a verified push on the followed
# branch leaves an event in SPOOL/sync/new.
. "$(dirname "$0")/lib.sh"

F=$KOM_TOP/tests/fixtures/webhook
SP=$KOM_HOME/spool
mkdir -p "$KOM_HOME/local"
cat >"$KOM_HOME/local/web.toml" <<'EOF2'
[[stack]]
name = "web"
[stack.config]
repo = "me/homelab"
branch = "main"
webhook_secret = "stack-secret"

[[stack]]
name = "devweb"
[stack.config]
repo = "me/homelab"
branch = "dev"

[[procedure]]
name = "nightly"
[[procedure.config.stage]]
name = "one"
executions = []
EOF2
cat >"$KOM_HOME/kom.toml" <<'EOF2'
webhook_secret = "host-secret"
[[resource_sync]]
name = "homelab"
resource_path = ["local"]
EOF2

sig() {	# sig SECRET FILE: GitHub's sha256=HEX
	printf 'sha256=%s' "$(openssl dgst -sha256 -hmac "$1" -r <"$2" |
	    cut -d' ' -f1)"
}

# req PATH BODYFILE [HEADER...]: one request through kom-poll webhook;
# $T/resp gets the answer, $T/err the log line
req() {
	_p=$1 _b=$2
	shift 2
	{
		printf 'POST %s HTTP/1.1\r\nHost: kom.example.com\r\n' "$_p"
		printf 'Content-Type: application/json\r\n'
		for _h in "$@"; do printf '%s\r\n' "$_h"; done
		printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$_b" | tr -d ' ')"
		cat "$_b"
	} | kom-poll webhook ${WH_ARGS:-} >"$T/resp" 2>"$T/err"
	sed -n '1s/\r$//p' "$T/resp"
}
body() { tr -d '\r' <"$T/resp" | sed '1,/^$/d'; }
like() {	# like GOT ERE NAME
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		_result 0 "$3"
	else
		_result 1 "$3"
		diag "got: $1" "want /$2/"
	fi
}
events() { ls "$SP/sync/new" 2>/dev/null | wc -l | tr -d ' '; }

GH=/listener/github/sync/homelab/sync
# GitHub push, signed with the host's secret
is "$(req $GH "$F/github-push.json" 'X-GitHub-Event: push' \
    'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 200 OK' 'github push: 200'
is "$(events)" 1 'github push: one event in sync/new'
ev=$(cat "$SP"/sync/new/*)
is "$(printf '%s' "$ev" | jq -c 'del(.ts)')" \
    '{"kind":"event","source":"webhook","sync":"homelab","target":{"type":"resource_sync","name":"homelab"},"action":"sync","provider":"github","branch":"main","repo":"me/homelab","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"76ae82fe2a4d3bf8ac4c1b2bb4a7aa2d0fba3c10","changed":["README.md","stacks/new.toml","stacks/web.toml"],"delivery":"72d3162e-cc78-11e3-81ab-4c9367dc0958"}' \
    'github push: the event names the sync, the commits, the paths'
like "$(body)" "^queued .* for sync 'homelab'" 'github push: the answer says queued'

# forged: another secret; replayed: the same signature over a changed body
is "$(req $GH "$F/github-push.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig not-the-secret "$F/github-push.json")")" \
    'HTTP/1.1 401 Unauthorized' 'forged signature: 401'
is "$(body)" 'X-Hub-Signature-256 does not match the body' 'forged: the reason'
sed 's/web: bump image/web: evil image/' "$F/github-push.json" >"$T/changed.json"
is "$(req $GH "$T/changed.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 401 Unauthorized' 'replayed signature, changed body: 401'
is "$(req $GH "$F/github-push.json" 'X-GitHub-Event: push')" \
    'HTTP/1.1 401 Unauthorized' 'no signature: 401'
is "$(body)" 'no X-Hub-Signature-256 header' 'no signature: the reason'
is "$(req $GH "$F/github-push.json" 'X-Hub-Signature-256: sha256=zz')" \
    'HTTP/1.1 401 Unauthorized' 'a signature that is not hex: 401'
is "$(events)" 1 'no event from a refused request'

# ping: verified, answered, no event
is "$(req $GH "$F/github-ping.json" 'X-GitHub-Event: ping' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-ping.json")")" \
    'HTTP/1.1 200 OK' 'ping: 200'
is "$(body)" pong 'ping: pong'
is "$(req $GH "$F/github-ping.json" 'X-GitHub-Event: ping' \
    "X-Hub-Signature-256: $(sig bad "$F/github-ping.json")")" \
    'HTTP/1.1 401 Unauthorized' 'a forged ping: 401'
is "$(events)" 1 'no event from a ping'

# another event type is answered, not queued
is "$(req $GH "$F/github-push.json" 'X-GitHub-Event: issues' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 202 Accepted' 'an issues event: 202'
is "$(body)" "ignored: a 'issues' event, not a push" 'issues: the reason'

# wrong branch: 202 with the reason, no event
is "$(req $GH "$F/github-push-dev.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push-dev.json")")" \
    'HTTP/1.1 202 Accepted' 'another branch: 202'
is "$(body)" "ignored: pushed 'refs/heads/dev', sync 'homelab' follows branch 'main'" \
    'another branch: the reason'
is "$(events)" 1 'no event for another branch'

# a stack with its own secret: the host's no longer opens it
ST=/listener/github/stack/web/deploy
is "$(req $ST "$F/github-push.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 401 Unauthorized' "the host's secret for a stack with its own: 401"
is "$(req $ST "$F/github-push.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig stack-secret "$F/github-push.json")")" \
    'HTTP/1.1 200 OK' "the stack's own secret: 200"
is "$(events)" 2 'the stack push: an event'
is "$(req /listener/github/stack/devweb/deploy "$F/github-push-dev.json" \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push-dev.json")")" \
    'HTTP/1.1 200 OK' "a stack on branch dev takes dev's push"

# GitLab: the token; Gitea: its bare HMAC
GL=/listener/gitlab/sync/homelab/sync
is "$(req $GL "$F/gitlab-push.json" 'X-Gitlab-Event: Push Hook' \
    'X-Gitlab-Token: host-secret')" 'HTTP/1.1 200 OK' 'gitlab push: 200'
is "$(req $GL "$F/gitlab-push.json" 'X-Gitlab-Event: Push Hook' \
    'X-Gitlab-Token: host-secre')" 'HTTP/1.1 401 Unauthorized' \
    'gitlab, a wrong token: 401'
is "$(req $GL "$F/gitlab-push.json")" 'HTTP/1.1 401 Unauthorized' \
    'gitlab, no token: 401'
is "$(body)" 'no X-Gitlab-Token header' 'gitlab, no token: the reason'
GT=/listener/gitea/sync/homelab/sync
gsig=$(sig host-secret "$F/gitea-push.json" | sed 's/^sha256=//')
is "$(req $GT "$F/gitea-push.json" 'X-Gitea-Event: push' \
    "X-Gitea-Signature: $gsig")" 'HTTP/1.1 200 OK' 'gitea push: 200'
is "$(req /listener/github/sync/homelab/sync "$F/gitea-push.json" \
    'X-Gitea-Event: push' "X-Gitea-Signature: $gsig")" 'HTTP/1.1 200 OK' \
    "gitea through Komodo's github path: 200"
is "$(req $GT "$T/changed.json" 'X-Gitea-Event: push' \
    "X-Gitea-Signature: $gsig")" 'HTTP/1.1 401 Unauthorized' \
    'gitea, a signature of another body: 401'
is "$(events)" 6 'six events in all'
is "$(cat "$SP"/sync/new/* | jq -r '[.provider, .target.name, (.changed | join(","))] | join(" ")' | sort | tr '\n' ';')" \
    'gitea homelab stacks/web.toml;github devweb README.md,stacks/new.toml,stacks/web.toml;github homelab README.md,stacks/new.toml,stacks/web.toml;github homelab stacks/web.toml;github web README.md,stacks/new.toml,stacks/web.toml;gitlab homelab old.toml,stacks/web.toml;' \
    'the events: provider, target, changed paths'

# procedure: the branch is in the path, __ANY__ takes any
is "$(req /listener/github/procedure/nightly/dev "$F/github-push.json" \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 202 Accepted' 'procedure on dev, main pushed: 202'
is "$(req /listener/github/procedure/nightly/__ANY__ "$F/github-push.json" \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 200 OK' 'procedure on __ANY__: 200'

# unknown resources and paths
is "$(req /listener/github/sync/nosuch/sync "$F/github-push.json" \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 404 Not Found' 'unknown sync: 404'
is "$(body)" "no resource_sync 'nosuch' in $KOM_HOME/kom.toml" 'unknown sync: the reason'
is "$(req /listener/github/stack/nosuch/deploy "$F/github-push.json")" \
    'HTTP/1.1 404 Not Found' 'unknown stack: 404'
is "$(req /listener/github/stack/web/explode "$F/github-push.json")" \
    'HTTP/1.1 404 Not Found' 'unknown action: 404'
is "$(req /listener/bitbucket/sync/homelab/sync "$F/github-push.json")" \
    'HTTP/1.1 404 Not Found' 'unknown provider: 404'
is "$(req /listener/github/sync/home%2flab/sync "$F/github-push.json")" \
    'HTTP/1.1 404 Not Found' 'an encoded slash in a name: 404'
is "$(printf 'GET /listener/github/sync/homelab/sync HTTP/1.1\r\n\r\n' |
    kom-poll webhook 2>/dev/null | sed -n '1s/\r$//p')" \
    'HTTP/1.1 405 Method Not Allowed' 'GET: 405'

# bounds: a body over the cap, a head over 16 KiB, a slow client
WH_ARGS='-b 1000'
is "$(req $GH "$F/github-push.json" 'X-GitHub-Event: push' \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 413 Content Too Large' 'a body over -b: 413'
WH_ARGS=
head -c 20000 /dev/zero | tr '\0' x >"$T/long"
is "$(req $GH "$F/github-push.json" "X-Long: $(cat "$T/long")")" \
    'HTTP/1.1 431 Request Header Fields Too Large' 'a head over 16 KiB: 431'
is "$( { printf 'POST %s HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"ref":' $GH;
    sleep 5; } | kom-poll webhook -t 1 2>"$T/err" | sed -n '1s/\r$//p')" \
    'HTTP/1.1 408 Request Timeout' 'a client slower than -t: 408'
like "$(cat "$T/err")" '^kom-poll: webhook: 408 /listener/github/sync/homelab/sync: request not complete before the deadline$' \
    'the slow client: one line on stderr'
is "$(printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' |
    kom-poll webhook 2>/dev/null | sed -n '1s/\r$//p')" \
    'HTTP/1.1 501 Not Implemented' 'a chunked body: 501'
is "$(printf 'POST / HTTP/2.0\r\n\r\n' | kom-poll webhook 2>/dev/null |
    sed -n '1s/\r$//p')" 'HTTP/1.1 505 HTTP Version Not Supported' \
    'HTTP/2.0: 505'
is "$(printf 'garbage\r\n\r\n' | kom-poll webhook 2>/dev/null |
    sed -n '1s/\r$//p')" 'HTTP/1.1 400 Bad Request' 'garbage: 400'
is "$(events)" 7 'no event from any of them'

# no secret anywhere: nothing opens
sed -i '/^webhook_secret/d' "$KOM_HOME/kom.toml"
is "$(req $GH "$F/github-push.json" \
    "X-Hub-Signature-256: $(sig host-secret "$F/github-push.json")")" \
    'HTTP/1.1 401 Unauthorized' 'no secret configured: 401'
is "$(body)" 'no webhook secret is configured' 'no secret: the reason'
# the host's secret from the secrets directory
mkdir -p "$T/secrets"
printf 'dir-secret\n' >"$T/secrets/webhook_secret"
is "$(KOM_SECRETS_DIR=$T/secrets req $GH "$F/github-push.json" \
    "X-Hub-Signature-256: $(sig dir-secret "$F/github-push.json")")" \
    'HTTP/1.1 200 OK' 'the secret file webhook_secret: 200'
is "$(events)" 8 'its event'

# listening mode: curl against -l 127.0.0.1:0
kom-poll webhook -l 127.0.0.1:0 -c 4 >"$T/listen" 2>"$T/lerr" &
LPID=$!
at_exit "kill $LPID"
i=0
while [ ! -s "$T/listen" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(jq -r .port "$T/listen")
code() {
	curl -s -o "$T/cbody" -w '%{http_code}' "$@"
}
is "$(KOM_SECRETS_DIR=$T/secrets code -H 'X-GitHub-Event: push' \
    -H "X-Hub-Signature-256: $(sig dir-secret "$F/github-push.json")" \
    --data-binary "@$F/github-push.json" "http://127.0.0.1:$PORT$GH")" \
    401 'listening: the listener was started without the secrets dir: 401'
is "$(code -H 'X-Gitlab-Token: stack-secret' --data-binary "@$F/gitlab-push.json" \
    "http://127.0.0.1:$PORT/listener/gitlab/stack/web/deploy")" 200 \
    'listening: gitlab push to a stack: 200'
is "$(code -H 'X-Gitlab-Token: wrong' --data-binary "@$F/gitlab-push.json" \
    "http://127.0.0.1:$PORT/listener/gitlab/stack/web/deploy")" 401 \
    'listening: a wrong token: 401'
# a large body makes curl send Expect: 100-continue
{ printf '{"ref":"refs/heads/main","pad":"'; head -c 5000 /dev/zero |
    tr '\0' a; printf '"}'; } >"$T/pad.json"
is "$(code -H 'X-Gitlab-Token: stack-secret' --data-binary "@$T/pad.json" \
    "http://127.0.0.1:$PORT/listener/gitlab/stack/web/deploy")" 200 \
    'listening: Expect: 100-continue is answered'
is "$(events)" 10 'listening: two events'
done_testing
