#!/bin/sh
# kom-exec: deploy a chain, prove a rerun touches nothing, replace what
# changed (and its dependents), roll back a bad version, mask secrets.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
export KOM_GRACE_MS=500
P1=$(port 1) P2=$(port 2) P3=$(port 3)
DB=$(dep "$PFX-db" "$IMG:1" "httpd -f -p $P1 -h /www")
API=$(dep "$PFX-api" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"FOO","value":"1"}]')
WEB=$(dep "$PFX-web" "$IMG:1" "httpd -f -p $P3 -h /www")

chain() {	# chain ACTION-DB ACTION-API ACTION-WEB
	step 1 1 "$1" "$DB"
	step 2 2 "$2" "$API" '[1]'
	step 3 3 "$3" "$WEB" '[2]'
	plan_end
}

# 1. first deploy
chain deploy deploy deploy >"$T/plan1"
ok 'deploy a three-service chain' kexec "$T/plan1"
kexec_to "$T/out1" "$T/err1" "$T/plan1"   # second run: all noop
is "$(jq -r 'select(.kind=="result") | "\(.id) \(.status)"' "$T/out1" | tr '\n' ' ')" \
    '1 noop 2 noop 3 noop ' 'a deploy of an unchanged running container is a noop'
for n in db api web; do
	running "$PFX-$n" || echo "$n not running" >>"$T/notrunning"
done
ok 'all three run' test ! -e "$T/notrunning"
is "$(fetch "$P2")" v1 'api answers on its port'
ok 'state recorded' test -f "$KOM_HOME/state/resources/deployment/$PFX-web.json"
is "$(jq -r '.exec.deployed_name' "$KOM_HOME/state/resources/deployment/$PFX-web.json")" \
    "$PFX-web" 'state has exec data'
ok "history written" hist_has "$PFX-db" ok
ids1=$(cid "$PFX-db")$(cid "$PFX-api")$(cid "$PFX-web")

# 2. rerun with ensure: nothing touched, not even a mutating API call
chain ensure ensure ensure >"$T/plan2"
since=$(date +%s.%N)
kexec_to "$T/out2" "$T/err2" "$T/plan2"
rc=$?
sleep 1
until=$(date +%s.%N)
is "$rc" 0 'ensure rerun exits 0'
is "$(jq -r 'select(.kind=="result") | .status' "$T/out2" | sort -u)" noop 'all noop'
is "$(jq -c 'select(.kind=="end") | .counts' "$T/out2")" \
    '{"ok":0,"failed":0,"skipped":0,"noop":3}' 'end record counts'
ids2=$(cid "$PFX-db")$(cid "$PFX-api")$(cid "$PFX-web")
is "$ids2" "$ids1" 'same container ids'
docker events --since "$since" --until "$until" --filter type=container \
    --format '{{.Action}} {{.Actor.Attributes.name}}' >"$T/events"
is "$(grep "$PFX" "$T/events" | grep -E '^(create|start|stop|kill|die|destroy|rename|pause|unpause)' )" \
    '' 'no container events during the rerun'

# 3. change one env var: api replaced, web follows (cascade), db untouched
API2=$(dep "$PFX-api" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"FOO","value":"2"}]')
{ step 1 1 ensure "$DB"; step 2 2 deploy "$API2" '[1]'; step 3 3 ensure "$WEB" '[2]'; plan_end; } >"$T/plan3"
dbid=$(cid "$PFX-db") apiid=$(cid "$PFX-api") webid=$(cid "$PFX-web")
ok 'apply an env change' kexec "$T/plan3"
kom-exec "$T/plan3" >/dev/null 2>&1   # converged already: noop
is "$(cid "$PFX-db")" "$dbid" 'db untouched'
ok 'api replaced' test "$(cid "$PFX-api")" != "$apiid"
ok 'web replaced by the cascade' test "$(cid "$PFX-web")" != "$webid"
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$PFX-api" | grep '^FOO=')" \
    FOO=2 'the new env is there'
apiid=$(cid "$PFX-api") webid=$(cid "$PFX-web")
step 2 1 deploy "$API" >"$T/plan3b"
step 3 2 ensure "$WEB" '[2]' >>"$T/plan3b"
plan_end >>"$T/plan3b"
kexec_to "$T/out3" "$T/err3" "$T/plan3b"
is "$(res "$T/out3" 3 .reason)" "Deployment parent dependency '$PFX-api' is deploying" \
    'the cascade says why'
is "$(res "$T/out3" 3 .status)" ok 'the cascaded ensure deployed'
ok 'no -kom-old or -kom-new left' test -z "$(docker ps -aq --filter "name=$PFX-.*-kom-")"

# 4. a version that exits at once: rolled back, old one still serving
apiid=$(cid "$PFX-api") webid=$(cid "$PFX-web")
BAD=$(dep "$PFX-api" "$IMG:exit" "" '[{"key":"FOO","value":"1"}]')
{ step 2 1 deploy "$BAD"; step 3 2 ensure "$WEB" '[2]'; plan_end; } >"$T/plan4"
fails 'a version that exits fails the step' 1 kom-exec "$T/plan4"
kom-exec "$T/plan4" >"$T/out4" 2>"$T/err4"
is "$(res "$T/out4" 2 .status)" failed 'result failed'
is "$(res "$T/out4" 2 .detail.rolled_back)" true 'rolled_back true'
is "$(res "$T/out4" 2 .error)" 'the new container exited with status 3' 'error says why'
is "$(res "$T/out4" 2 '.detail.log[]')" 'starting v2' 'log lines of the new one'
is "$(res "$T/out4" 3 .status)" skipped 'its dependent is skipped'
is "$(res "$T/out4" 3 .error)" "needs step 2 (deploy deployment '$PFX-api'), which failed" \
    'skip reason names the failed step'
is "$(cid "$PFX-api")" "$apiid" 'the old api container is back'
ok 'and running' running "$PFX-api"
is "$(fetch "$P2")" v1 'and serving'
is "$(ls "$KOM_HOME/spool/alert/new" | wc -l | tr -d ' ')" 2 'one alert per rollback in SPOOL/alert/new'
f=$(ls "$KOM_HOME/spool/alert/new" | head -1)
is "$(jq -c '{kind, level, resolved, target, t: .data.type, id: .data.data.id, from: .data.data.from, to: .data.data.to, error: .data.data.error, log: .data.data.log}' "$KOM_HOME/spool/alert/new/$f")" \
    "{\"kind\":\"alert\",\"level\":\"WARNING\",\"resolved\":false,\"target\":{\"type\":\"Deployment\",\"id\":\"$PFX-api\"},\"t\":\"DeploymentRollback\",\"id\":\"$PFX-api\",\"from\":\"$IMG:1\",\"to\":\"$IMG:exit\",\"error\":\"the new container exited with status 3\",\"log\":[\"starting v2\"]}" \
    'the alert record'

# the cause, every time: a container that dies at once lost its sandbox
# under a rename after its start, and the error was the rename's
for i in 1 2 3 4; do
	kom-exec "$T/plan4" 2>/dev/null | jq -r 'select(.kind=="result" and .id==2) | .error'
done >"$T/causes"
is "$(sort -u "$T/causes")" 'the new container exited with status 3' 'the exit status, never a rename error'

# 5. a version that fails its healthcheck
SICK=$(dep "$PFX-api" "$IMG:sick" "httpd -f -p $P2 -h /www" '[{"key":"FOO","value":"1"}]')
{ step 2 1 deploy "$SICK"; plan_end; } >"$T/plan5"
kom-exec "$T/plan5" >"$T/out5" 2>"$T/err5"
is "$?" 1 'an unhealthy version fails the step'
is "$(res "$T/out5" 2 .detail.rolled_back)" true 'rolled back'
is "$(res "$T/out5" 2 .error)" 'the new container is unhealthy' 'error says unhealthy'
is "$(cid "$PFX-api")" "$apiid" 'the old container is back'
is "$(fetch "$P2")" v1 'and serving'

# --health-cmd through extra_args fails the same way
SICK2=$(dep "$PFX-api" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"FOO","value":"1"}]' \
    '["--health-cmd false", "--health-interval 1s", "--health-retries 1"]')
{ step 2 1 deploy "$SICK2"; plan_end; } >"$T/plan5b"
kom-exec "$T/plan5b" >"$T/out5b" 2>"$T/err5b"
is "$(res "$T/out5b" 2 '"\(.status) \(.detail.rolled_back)"')" 'failed true' \
    '--health-cmd false is rolled back'
is "$(fetch "$P2")" v1 'still serving'

# 6. interpolation: undefined variable, secrets masked everywhere
UNDEF=$(dep "$PFX-api" "$IMG:1" "httpd -f -p $P2 -h /www" '[{"key":"FOO","value":"[[NOPE]]"}]')
{ step 2 1 deploy "$UNDEF"; plan_end; } >"$T/plan6"
kom-exec "$T/plan6" >"$T/out6" 2>"$T/err6"
is "$(res "$T/out6" 2 .error)" "environment: undefined variable 'NOPE'" 'undefined variable fails the step'
is "$(cid "$PFX-api")" "$apiid" 'and changes nothing'

mkdir -p "$T/secrets"
printf 's3cr3t-value\n' >"$T/secrets/TOKEN"
export KOM_SECRETS_DIR=$T/secrets
LEAK=$(dep "$PFX-api" "$IMG:1" 'sh -c "echo token is $TOKEN; exit 4"' '[{"key":"TOKEN","value":"[[TOKEN]]"}]')
{ step 2 1 deploy "$LEAK"; plan_end; } >"$T/plan7"
kom-exec "$T/plan7" >"$T/out7" 2>"$T/err7"
is "$(res "$T/out7" 2 '.detail.log[]')" 'token is <TOKEN>' 'secret masked in the log lines'
ok 'the secret is nowhere in results, stderr, history or spool' sh -c \
    "! grep -r s3cr3t-value '$T/out7' '$T/err7' '$KOM_HOME/state' '$KOM_HOME/spool'"
is "$(fetch "$P2")" v1 'still serving after all that'
done_testing
