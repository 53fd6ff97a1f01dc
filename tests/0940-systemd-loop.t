#!/bin/sh
# The whole loop as a user has it after `apt install ./kom-*.deb`, in a
# real systemd (tests/systemd.sh): a sync whose files are in a git
# repository served on loopback, kom.toml in /etc/kom with the webhook
# secret (mode 0640, group kom), the socket, path and timer units
# enabled, nothing else.  A push and its signed webhook through
# kom-webhook.socket (Accept=yes) -> SPOOL/sync/new -> kom-apply.path
# starts kom-poll apply -> the containers run on the engine with the
# commit's config.  A push of a version whose healthcheck fails, noticed
# by kom-poll.timer: rolled back, and the DeploymentRollback alert goes
# through kom-alert.path to an HTTP receiver outside the container.  A
# fix pushed: deployed, the retry of the broken one given up for it.
# Then no unit failed, no kom process is left (idle resident memory of
# kom: 0), and only the socket, path and timer units wait.  Every wait
# polls for its condition up to a deadline (SD_TIMEOUT); the test prints
# how long push-to-running took.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/git.sh"
. "$KOM_TOP/tests/receivers.sh"
. "$KOM_TOP/tests/systemd.sh"
exec_images
at_exit 'kom_labels_cleanup'
t0=$(date +%s)
sd_debs_image "$T/deb"

# Outside the container: the receiver of the alerts, and the git server
# with the sync's files (one deployment and the alerter).
recv_start "$T/r"
RP=$(cat "$T/r/port")
git_http_up
git_repo me/homelab
W=$T/work
git_work me/homelab "$W"
P=$(port 1)
write_sync() {	# write_sync VERSION IMAGE
	{
		toml_deployment "$PFX-web" "$IMG:$2" "httpd -f -p $P -h /www" \
		    "environment = \"V = $1\""
		echo
	} >"$W/web.toml"
	: >"$W/alerters.toml"
	hook "$W/alerters.toml" ops "http://127.0.0.1:$RP/hook" Custom \
	    'alert_types = ["DeploymentRollback"]'
}

systemd_boot loop -v "$T/deb:/debs:ro" \
    -v /var/run/docker.sock:/var/run/docker.sock ||
	bail 'systemd does not boot in a container'
debs=$(cd "$T/deb" && ls *.deb | grep -v dbgsym | sed 's|^|/debs/|')
ok 'apt install ./kom-*.deb' sd env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $debs

# What the admin writes and runs: the README's commands ("As packages on
# a host"), verbatim.
readme_cmd() {	# readme_cmd START: the README's command line starting so
	sed -n '/^As packages on a host$/,/^Building and installing$/p' "$KOM_TOP/README" |
	    grep "^    $1" | sed 's/^    //; s/  *# .*//'
}
WP=$(port 2)
SECRET=hook-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
sd sh -c 'cat >/etc/kom/kom.toml' <<EOF
webhook_secret = "$SECRET"

[[resource_sync]]
name = "homelab"
delete = true
poll_interval = 10
[resource_sync.config]
git_provider = "$GIT_HTTP"
git_https = false
repo = "me/homelab"
EOF
ok 'the README: chgrp, chmod kom.toml' sd sh -c "$(readme_cmd 'chgrp kom ')"
sd mkdir -p /etc/systemd/system/kom-webhook.socket.d
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$WP" |
    sd sh -c 'cat >/etc/systemd/system/kom-webhook.socket.d/port.conf'
sd systemctl daemon-reload
ok 'the README: the admin enables the socket and the path units' \
    sd sh -c "$(readme_cmd 'systemctl enable --now kom-webhook')"

# until_ok SECONDS CMD...: CMD succeeds within SECONDS (polled).
until_ok() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.5
	done
}
env_v() {	# "true V=..." while NAME runs with V
	printf '%s %s\n' "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" \
	    "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" 2>/dev/null |
	    grep '^V=')"
}
runs_v() { [ "$(env_v "$PFX-web")" = "true V=$1" ]; }
sig() { openssl dgst -sha256 -hmac "$SECRET" -r <"$1" | cut -d' ' -f1; }
# push_hook COMMIT: GitHub's push webhook for COMMIT, signed, through the
# socket unit; prints the HTTP status and the answer.
push_hook() {
	printf '{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"full_name":"me/homelab"}}' \
	    "${BEFORE:-0000000000000000000000000000000000000000}" "$1" >"$T/push.json"
	curl -sS -m 60 -o "$T/hook.out" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
	    -H "X-GitHub-Delivery: kt-$1" \
	    -H "X-Hub-Signature-256: sha256=$(sig "$T/push.json")" \
	    --data-binary @"$T/push.json" \
	    "http://127.0.0.1:$WP/listener/github/sync/homelab/sync"
	printf ' %s\n' "$(cat "$T/hook.out")"
}
journal() {	# journal UNIT: its journal as TAP diagnostics
	sd journalctl -b -u "$1" --no-pager 2>&1 | tail -30 | sed 's/^/#   /'
}

# 1. A push and its webhook: deployed through the socket and path units.
write_sync 1 1
C1=$(git_commit "$W" 'web v1')
is "$(printf '{"ref":"refs/heads/main"}' >"$T/bad.json"; curl -sS -m 60 -o /dev/null \
    -w '%{http_code}' -H 'X-Hub-Signature-256: sha256=00' --data-binary @"$T/bad.json" \
    "http://127.0.0.1:$WP/listener/github/sync/homelab/sync")" 401 \
    'a forged webhook: 401, nothing queued'
sd_mark kom-apply.service
s0=$(date +%s%3N)
got=$(push_hook "$C1")
is "$(printf %s "$got" | cut -c1-10)" '200 queued' 'the signed push: 200, queued'
case $got in "200 queued "*) ;; *) diag "answer: $got"; journal 'kom-webhook@*';; esac
ok 'the webhook answered through kom-webhook@.service' \
    sh -c "timeout 60 docker exec $SD journalctl -b --no-pager -u 'kom-webhook@*' | grep -q 'queued'"
ok 'the path unit starts kom-apply.service, which succeeds' sd_wait_run kom-apply.service ||
	journal kom-apply.service
until_ok "$SD_TIMEOUT" runs_v 1
ok 'web v1 runs on the engine' runs_v 1
s1=$(date +%s%3N)
diag "push to running through the socket unit: $((s1 - s0)) ms"
is "$(fetch "$P")" v1 'and answers'
is "$(docker inspect -f '{{index .Config.Labels "kom.sync"}}' "$PFX-web")" homelab \
    'labelled with its sync'
ok 'the applied commit is recorded' sd grep -q "$C1" \
    "/var/lib/kom/resources/deployment/$PFX-web.json"
is "$(sd find /var/spool/kom/sync -type f | wc -l | tr -d ' ')" 0 'the sync queue is empty'

# 2. The poll timer (every 2 s here) looks at the remote: its first
# look is the baseline.
sd mkdir -p /etc/systemd/system/kom-poll.timer.d
printf '[Timer]\nOnActiveSec=1s\nOnUnitInactiveSec=2s\nAccuracySec=1s\n' |
    sd sh -c 'cat >/etc/systemd/system/kom-poll.timer.d/test.conf'
sd systemctl daemon-reload
sd_mark kom-poll.service
ok 'the README: the admin enables kom-poll.timer' \
    sd sh -c "$(readme_cmd 'systemctl enable --now kom-poll.timer')"
ok 'the timer runs kom-poll.service, which succeeds' \
    sd_wait_run kom-poll.service || journal kom-poll.service
ok 'its look at the remote is recorded' until_ok 30 \
    sd sh -c "grep -q '$C1' /var/lib/kom/poll/git.json"

# 3. A version whose healthcheck fails, pushed without a webhook: the
# timer notices, kom-apply rolls it back, kom-alert tells the receiver.
write_sync 2 sick
C2=$(git_commit "$W" 'web v2: sick')
ok 'the timer notices the push; the rollback alert reaches the receiver' \
    until_ok $((SD_TIMEOUT * 2)) sh -c "grep -q DeploymentRollback '$T/r/log'" ||
	{ journal kom-poll.service; journal kom-apply.service; journal kom-alert.service; }
is "$(jq -r 'select(.path == "/hook") | .body | fromjson |
    [.level, .target.type, .target.id, .data.type, .data.data.to] | join("|")' "$T/r/log" | sort -u)" \
    "WARNING|Deployment|$PFX-web|DeploymentRollback|$IMG:sick" \
    'the receiver has the DeploymentRollback record'
ok 'v1 still runs' runs_v 1
is "$(fetch "$P")" v1 'and answers'
ok 'kom-alert.path started kom-alert.service, which succeeded' sh -c \
    "[ \"\$(timeout 60 docker exec $SD systemctl show -P Result kom-alert.service)\" = success ] &&
     [ -n \"\$(timeout 60 docker exec $SD systemctl show -P InvocationID kom-alert.service)\" ]"
is "$(sd systemctl show -P ActiveState kom-apply.path)" active \
    'the failed run waits for its retry: kom-apply.path still active'

# 4. The fix, with its webhook: deployed, the broken version's retry
# given up for it.
write_sync 3 1
C3=$(git_commit "$W" 'web v3')
BEFORE=$C2 push_hook "$C3" >"$T/hook3"
is "$(cut -c1-10 "$T/hook3")" '200 queued' 'the fix: its webhook queued'
until_ok $((SD_TIMEOUT * 2)) runs_v 3
ok 'web v3 runs' runs_v 3 || journal kom-apply.service
is "$(fetch "$P")" v1 'and answers (the image of v1, the config of v3)'
ok 'the queue drains' until_ok "$SD_TIMEOUT" \
    sd sh -c 'test -z "$(find /var/spool/kom/sync/new /var/spool/kom/sync/cur /var/spool/kom/alert/new -type f)"'
is "$(docker ps -aq --filter "label=kom.name=$PFX-web" | wc -l | tr -d ' ')" 1 \
    'exactly one web container'

# 5. Idle: the timer back on its own schedule; nothing of kom runs.
sd rm -rf /etc/systemd/system/kom-poll.timer.d
sd systemctl daemon-reload
sd systemctl restart kom-poll.timer
idle() {
	sd sh -c "systemctl list-units --all --plain --no-legend 'kom*' |
	    awk '\$1 ~ /\\.service\$/ && \$3 != \"inactive\"' | grep -q ." && return 1
	return 0
}
ok 'every kom service ends' until_ok "$SD_TIMEOUT" idle
ok 'no unit failed' sd_failed
is "$(sd ps -eo rss=,comm= | awk '$2 ~ /^kom-/ { n++; rss += $1 } END { printf "%d %d", n, rss }')" \
    '0 0' 'no kom process left, idle resident memory of kom 0 KiB'
is "$(sd systemctl list-units --plain --no-legend --state=active 'kom*' | awk '{ print $1 }' | sort | tr '\n' ' ')" \
    'kom-alert.path kom-apply.path kom-poll.timer kom-webhook.socket ' \
    'only the socket, path and timer units wait'
t1=$(date +%s)
diag "whole test $((t1 - t0)) s"

# bench/systemd-loop: KOM_BENCH_OUT=FILE KOM_BENCH_PUSHES=N add the
# numbers: the idle cost above, the CPU of idle polls (the poll unit's
# two commands, as the unit runs them, each looking at the remote), then
# N pushes through the socket unit, each timed from the webhook request
# to the new container running.
if [ -n "${KOM_BENCH_OUT:-}" ]; then
	{
		echo "idle $(sd ps -eo rss=,comm= | awk '$2 ~ /^kom-/ { n++; rss += $1 } END { printf "%d %d", n, rss }')"
		echo "idle_units $(sd systemctl list-units --plain --no-legend --state=active 'kom*' | wc -l | tr -d ' ')"
		echo "poll_cpu $(sd systemd-run -q -P -p SupplementaryGroups=kom \
		    -p Environment='KOM_CONFIG=/etc/kom/kom.toml KOM_STATE_DIR=/var/lib/kom KOM_SPOOL_DIR=/var/spool/kom' \
		    bash -c 'for i in 1 2 3 4 5 6 7 8 9 10; do kom-poll git -a; kom-poll images; done >/dev/null 2>&1
		    times' 2>&1 | tail -1)"
	} >>"$KOM_BENCH_OUT"
	i=1
	while [ "$i" -le "${KOM_BENCH_PUSHES:-5}" ]; do
		write_sync "b$i" 1
		c=$(git_commit "$W" "bench $i")
		b0=$(date +%s%3N)
		push_hook "$c" >/dev/null
		until_ok "$SD_TIMEOUT" runs_v "b$i" || break
		echo "push_ms $(($(date +%s%3N) - b0))" >>"$KOM_BENCH_OUT"
		i=$((i + 1))
	done
	echo "load $(cat /proc/loadavg)" >>"$KOM_BENCH_OUT"
fi
done_testing
