#!/bin/sh
# kom-alert killed with SIGKILL at random points while it delivers, many
# times: no (alert, alerter) reaches the receiver twice, and none is lost:
# each one was delivered, or is journalled "unconfirmed" (kom-alert was
# stopped while sending it, and does not send it again).
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

recv_start "$T/r"
recv_mode "$T/r" slow		# 50 ms per answer: kills land mid-send
P=$(cat "$T/r/port")
mkdir -p "$T/sync"
hook "$T/sync/a.toml" one "http://127.0.0.1:$P/one"
hook "$T/sync/a.toml" two "http://127.0.0.1:$P/two" Discord
alerters "$T/sync"

# 40 alerts queued the way kom-exec queues them: tmp/, then new/
S=$KOM_HOME/spool/alert
mkdir -p "$S/tmp" "$S/new" "$S/cur" "$S/failed"
N=40
i=1
while [ $i -le $N ]; do
	name=$(printf '%013d.%d.%08x.json' $((1763700000000 + i)) $$ $i)
	ALERT_TS=$((1763700000000 + i)) alert ServerCpu Server "h$i" WARNING false \
	    "{\"id\":\"h$i\",\"name\":\"h$i\",\"percentage\":95}" >"$S/tmp/$name"
	mv "$S/tmp/$name" "$S/new/$name"
	i=$((i + 1))
done

i=0
while [ $i -lt 15 ]; do
	kom-alert -b 20 -j 3 >/dev/null 2>&1 &
	pid=$!
	ms=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 400 ))
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	i=$((i + 1))
done
kom-alert -b 20 >"$T/out" 2>"$T/err"
rc=$?
is "$(find "$S/new" "$S/cur" "$S/tmp" -type f | wc -l)" 0 'nothing left in new/, cur/ or tmp/'

# (host, path) pairs the receiver answered
jq -r 'select(.status == 200) | (.body | fromjson | (.target.id // (.content | capture("\\*\\*(?<h>h[0-9]+)\\*\\*").h))) + " " + .path' \
    "$T/r/log" | sort >"$T/got"
is "$(uniq -d "$T/got")" '' 'nothing delivered twice'
# the ones journalled unconfirmed, by host and alerter
find "$KOM_HOME/state/alerts/journal" -type f ! -name '*.tmp.*' -exec cat {} + |
    jq -r 'select(.state == "unconfirmed") | .alert + " " + .alerter' >"$T/unconf.ids"
# alert id -> host, from the run's output and the records in the log
jq -r 'select(.status == 200) | .headers["x-kom-alert-id"] + " " + (.body | fromjson | (.target.id // (.content | capture("\\*\\*(?<h>h[0-9]+)\\*\\*").h)))' \
    "$T/r/log" | sort -u >"$T/id2host"
while read -r id a; do
	h=$(awk -v id="$id" '$1 == id { print $2; exit }' "$T/id2host")
	echo "${h:-$id} /$a"
done <"$T/unconf.ids" | sort >"$T/interrupted"
diag "delivered $(wc -l <"$T/got"), unconfirmed $(wc -l <"$T/interrupted") (of which delivered: $(sort "$T/got" "$T/interrupted" | uniq -d | wc -l))"
sort -u "$T/got" "$T/interrupted" >"$T/accounted"
is "$(wc -l <"$T/accounted" | tr -d ' ')" $((N * 2)) 'every (alert, alerter) is delivered or journalled unconfirmed'
is "$(find "$S/failed" -type f | wc -l)" 0 'nothing failed'
is "$rc" 0 'the last run exits 0'
done_testing
