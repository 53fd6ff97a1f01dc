#!/bin/sh
# kom-alert: the command line, bad input and the exit table.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

usage='usage: kom-alert [-o] [-b ms] [-j n] [-n tries] [-r seconds] [-t ms] [-u url] [file]'
is "$(kom-alert -h)" "$usage" '-h prints the usage (the SYNOPSIS)'
fails 'two operands: 64' 64 kom-alert a b
fails '-n 0: 64' 64 kom-alert -n 0
fails '-j x: 64' 64 kom-alert -j x
is "$(kom-alert -V)" 'kom-alert 0.1.0' '-V'

# no alerter applied: the record is taken, and the output says so
printf '%s\n{"kind":"end"}\n' "$(alert Test Alerter x OK false '{"id":"x","name":"x"}')" >"$T/none"
kom-alert "$T/none" >"$T/out" 2>"$T/err"
is "$?" 0 'no alerters: 0'
is "$(jq -r 'select(.kind == "delivery") | "\(.status): \(.reason)"' "$T/out")" \
    'skipped: no alerter is applied' 'says nothing took it'

recv_start "$T/r"
P=$(cat "$T/r/port")
mkdir -p "$T/sync"
hook "$T/sync/a.toml" hook "http://127.0.0.1:$P/hook"
alerters "$T/sync"
S=$KOM_HOME/spool/alert

good=$(alert Test Alerter hook OK false '{"id":"hook","name":"hook"}')
# a stream without its end record queues nothing
printf '%s\n' "$good" >"$T/trunc"
kom-alert "$T/trunc" >"$T/out" 2>"$T/err"
is "$?" 65 'a truncated stream: 65'
is "$(cat "$T/err")" "kom-alert: $T/trunc:1: truncated input: no end record" 'says so'
is "$(find "$S" -type f | wc -l | tr -d ' ')" 0 'nothing queued'
# a bad record in a stream: 65, nothing queued
printf '%s\n%s\n{"kind":"end"}\n' "$good" '{"kind":"alert","ts":"x"}' >"$T/bad"
kom-alert "$T/bad" >"$T/out" 2>"$T/err"
is "$?" 65 'a bad alert record: 65'
is "$(cat "$T/err")" "kom-alert: $T/bad:2: alert without an integer ts" 'names the line'
is "$(find "$S" -type f | wc -l | tr -d ' ')" 0 'nothing queued'
# other kinds pass by; stdin works
printf '{"kind":"result","id":1}\n%s\n{"kind":"end"}\n' "$good" | kom-alert - >"$T/out" 2>"$T/err"
is "$?" 0 'other kinds are ignored, - is stdin'
is "$(recv_ok "$T/r")" 1 'delivered'

# a spool entry that is not an alert record goes to failed/ with why
mkdir -p "$S/new"
echo 'not json' >"$S/new/0000000000001.1.00000001.json"
echo '{"kind":"alert"}' >"$S/new/0000000000002.1.00000002.json"
kom-alert >"$T/out" 2>"$T/err"
is "$?" 0 'bad spool entries do not fail the run'
is "$(cat "$S/failed/0000000000001.1.00000001.json.reason")" \
    "not a JSON alert record: '[' or '{' expected near 'not' (line 1)" 'not JSON: the reason'
is "$(cat "$S/failed/0000000000002.1.00000002.json.reason")" 'alert without an integer ts' 'not an alert: the reason'

# another kom-alert holds the lock: 1, and the entry waits for that one
printf '%s\n' "$good" | sed 's/"ts":1763700000000/"ts":1763700000001/' >"$S/new/0000000000003.1.00000003.json"
flock "$KOM_HOME/state/alerts/lock" kom-alert >"$T/out" 2>"$T/err"
is "$?" 1 'lock busy: 1'
is "$(cat "$T/err")" "kom-alert: $KOM_HOME/state/alerts/lock: another kom-alert is running; it takes the new alerts too" 'says so'
is "$(ls "$S/new" | wc -l | tr -d ' ')" 1 'the entry is untouched'
printf '%s\n{"kind":"end"}\n' "$good" | sed 's/"ts":1763700000000/"ts":1763700000002/' >"$T/busy"
flock "$KOM_HOME/state/alerts/lock" kom-alert "$T/busy" >"$T/out" 2>"$T/err"
is "$?" 1 'a stream while the lock is busy: 1'
is "$(ls "$S/new" | wc -l | tr -d ' ')" 2 'but its record is queued for the one running'
kom-alert >/dev/full 2>"$T/err"
is "$?" 74 'stdout is full: 74'
is "$(recv_ok "$T/r")" 3 'the deliveries themselves were made'
done_testing
