#!/bin/sh
# kom-alert: delivery you can trust.  A 5xx, a 429, a timeout or a
# receiver that is down is retried with backoff through the spool; a 4xx
# fails at once into failed/ with the reason; a hanging endpoint blocks no
# other; secrets in endpoint URLs never appear in a message.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

recv_start "$T/r"
P=$(cat "$T/r/port")

# home NAME PATH...: a fresh KOM_HOME with one Custom alerter per PATH
home() {
	KOM_HOME=$T/$1
	export KOM_HOME
	shift
	mkdir -p "$KOM_HOME/sync"
	: >"$KOM_HOME/sync/a.toml"
	for _p; do
		hook "$KOM_HOME/sync/a.toml" "a$(echo "$_p" | tr -c 'a-z0-9\n' -)" \
		    "http://127.0.0.1:$P$_p"
	done
	alerters "$KOM_HOME/sync"
}
one() {	# one N: an input file of N ServerCpu alerts for hosts h1..hN
	_i=1
	while [ $_i -le "$1" ]; do
		alert ServerCpu Server "h$_i" WARNING false "{\"id\":\"h$_i\",\"name\":\"h$_i\",\"percentage\":91.5}"
		_i=$((_i + 1))
	done
	echo '{"kind":"end"}'
}
count_path() { jq -s --arg p "$1" '[.[] | select(.path == $p)] | length' "$T/r/log"; }
ok_path() { jq -s --arg p "$1" '[.[] | select(.path == $p and .status == 200)] | length' "$T/r/log"; }

# 1. 500, then the receiver recovers: one delivery
home h1 /five
one 1 >"$T/in1"
recv_mode "$T/r" 500
kom-alert -o -b 50 "$T/in1" >"$T/out1" 2>"$T/err1"
is "$?" 75 '500: exit 75, left for later'
is "$(jq -r 'select(.kind == "delivery") | .status' "$T/out1")" retry 'the delivery is to be retried'
is "$(ls "$KOM_HOME/spool/alert/new" | wc -l)" 1 'the record waits in new/'
recv_mode "$T/r" ok
kom-alert -b 50 >"$T/out1b" 2>"$T/err1b"
is "$?" 0 'the next run delivers it (waiting out the backoff)'
is "$(count_path /five) $(ok_path /five)" '2 1' 'two requests, one answered 200'
is "$(jq -r 'select(.kind == "delivery") | "\(.status) \(.tries)"' "$T/out1b")" 'sent 2' 'sent on the second try'
is "$(find "$KOM_HOME/spool/alert" -type f | wc -l)" 0 'the spool is empty'

# 1b. an alerter disabled while a delivery waits for its retry: dropped
home h1b /five
ALERT_TS=1763700000005 one 1 >"$T/in1b"
recv_mode "$T/r" 500
kom-alert -o -b 50 "$T/in1b" >/dev/null 2>&1
sed -i 's/enabled = true/enabled = false/' "$KOM_HOME/sync/a.toml"
alerters "$KOM_HOME/sync"
recv_mode "$T/r" ok
kom-alert -b 50 >"$T/out1c" 2>"$T/err1c"
is "$?" 0 'disabled meanwhile: 0'
is "$(jq -r 'select(.kind == "delivery") | "\(.status) \(.reason)"' "$T/out1c")" 'skipped disabled' 'the retry is dropped'
is "$(find "$KOM_HOME/spool/alert" -type f | wc -l | tr -d ' ')" 0 'and the record leaves the spool'

# 2. 404: fails at once, into failed/ with the reason
home h2 /gone/404
kom-alert -b 50 "$T/in1" >"$T/out2" 2>"$T/err2"
is "$?" 1 '404: exit 1'
is "$(count_path /gone/404)" 1 'tried once'
is "$(ls "$KOM_HOME/spool/alert/failed" | grep -c '\.reason$')" 1 'a reason in failed/'
is "$(cat "$KOM_HOME"/spool/alert/failed/*.reason)" \
    "alerter 'a-gone-404': http://127.0.0.1:$P/gone/404: status 404: no" 'the reason names the alerter, URL and status'

# 3. 429 with Retry-After: 1 is honoured even with a 10 ms backoff
home h3 /busy/429
start=$(date +%s%N)
kom-alert -n 2 -b 10 "$T/in1" >"$T/out3" 2>"$T/err3"
is "$?" 1 '429 twice with -n 2: failed'
end=$(date +%s%N)
ok 'the second try waited for Retry-After (>= 1 s)' test $(((end - start) / 1000000)) -ge 1000
is "$(count_path /busy/429)" 2 'two tries'

# 4. a hanging endpoint: its deadline, and the others go out meanwhile
home h4 /stuck/hang /fine
kom-alert -n 1 -t 700 "$T/in1" >"$T/out4" 2>"$T/err4"
is "$?" 1 'the hang fails after its deadline'
is "$(jq -r 'select(.kind == "delivery") | "\(.alerter) \(.status)"' "$T/out4")" \
'a-fine sent
a-stuck-hang failed' 'the other endpoint was served first'
ok 'timeout named' grep -q 'timed out' "$KOM_HOME"/spool/alert/failed/*.reason

# 5. the receiver is down for a while: every alert arrives once
home h5 /later
one 3 >"$T/in5"
recv_stop "$T/r"
kom-alert -o -b 50 "$T/in5" >"$T/out5" 2>"$T/err5"
is "$?" 75 'down: exit 75'
sleep 0.2
kom-alert -o -b 50 >"$T/out5b" 2>"$T/err5b"
is "$?" 75 'still down: exit 75'
is "$(jq -r 'select(.kind == "delivery") | "\(.status) \(.tries)"' "$T/out5b" | sort -u)" 'retry 2' 'second tries'
recv_start "$T/r"
kom-alert -b 50 >"$T/out5c" 2>"$T/err5c"
is "$?" 0 'back up: delivered'
is "$(jq -rs '[.[] | select(.path == "/later") | .body | fromjson | .target.id] | sort | join(" ")' "$T/r/log")" \
    'h1 h2 h3' 'each alert exactly once'

# 6. a secret in the URL never shows
home h6
mkdir -p "$T/secrets"
printf 's3cr3t-value\n' >"$T/secrets/HOOK"
chmod 600 "$T/secrets/HOOK"
KOM_SECRETS_DIR=$T/secrets
export KOM_SECRETS_DIR
hook "$KOM_HOME/sync/a.toml" secret "http://127.0.0.1:$P/[[HOOK]]/404"
alerters "$KOM_HOME/sync"
kom-alert "$T/in1" >"$T/out6" 2>"$T/err6"
is "$?" 1 'failed'
is "$(count_path /s3cr3t-value/404)" 1 'the receiver saw the secret URL'
is "$(cat "$KOM_HOME"/spool/alert/failed/*.reason)" \
    "alerter 'secret': http://127.0.0.1:$P/<HOOK>/404: status 404: no" 'masked in failed/'
ok 'masked everywhere' sh -c "! grep -r s3cr3t-value '$T/out6' '$T/err6' '$KOM_HOME/spool' '$KOM_HOME/state'"
done_testing
