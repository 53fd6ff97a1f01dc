#!/bin/sh
# kom-alert: the alerters' filters in Komodo's order (komodo-behaviour.md
# 6.3): enabled, maintenance windows, alert_types, except_resources,
# resources; Test bypasses the type and resource filters.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"

recv_start "$T/r"
P=$(cat "$T/r/port")
H=$(date -u +%-H) M=$(date -u +%-M)

mkdir -p "$T/sync"
cat >"$T/sync/a.toml" <<EOT
[[alerter]]
name = "all"
[alerter.config]
enabled = true
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/all" } }

[[alerter]]
name = "off"
[alerter.config]
enabled = false
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/off" } }

[[alerter]]
name = "types"
[alerter.config]
enabled = true
alert_types = ["ServerCpu"]
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/types" } }

[[alerter]]
name = "only-web"
[alerter.config]
enabled = true
resources = [{ type = "Deployment", id = "web" }]
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/only-web" } }

[[alerter]]
name = "not-web"
[alerter.config]
enabled = true
except_resources = [{ type = "Deployment", id = "web" }]
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/not-web" } }

[[alerter]]
name = "maint"
[alerter.config]
enabled = true
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/maint" } }
# a window that started this minute (UTC) and lasts two hours
maintenance_windows = [{ name = "now", schedule_type = "Daily", hour = $H, minute = $M, duration_minutes = 120, timezone = "UTC" }]

[[alerter]]
name = "maint-other-day"
[alerter.config]
enabled = true
endpoint = { type = "Custom", params = { url = "http://127.0.0.1:$P/maint-other-day" } }
maintenance_windows = [{ name = "once", schedule_type = "OneTime", date = "2001-01-01", hour = 0, minute = 0, duration_minutes = 1440, timezone = "UTC" },
  { name = "off", enabled = false, schedule_type = "Daily", hour = 0, duration_minutes = 1440 }]
EOT
alerters "$T/sync"

# paths TARGET-ID: the paths that got the alert for that target, sorted
paths() {
	jq -rs --arg id "$1" '[.[] | select((.body | fromjson | .target.id) == $id) | .path] | sort | join(" ")' "$T/r/log"
}

{
	alert ContainerStateChange Deployment web WARNING true '{"id":"web","name":"web","from":"running","to":"exited"}'
	alert ContainerStateChange Deployment db WARNING true '{"id":"db","name":"db","from":"running","to":"exited"}'
	alert ServerCpu Server h1 WARNING false '{"id":"h1","name":"h1","percentage":91.0}'
	alert Test Alerter x OK false '{"id":"x","name":"x"}'
	echo '{"kind":"end"}'
} >"$T/in"
kom-alert "$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 'kom-alert exits 0'
is "$(paths web)" '/all /maint-other-day /only-web' \
    'web: not to off, types, not-web (blacklist) or maint (window)'
is "$(paths db)" '/all /maint-other-day /not-web' \
    'db: not to only-web (whitelist)'
is "$(paths h1)" '/all /maint-other-day /not-web /types' \
    'cpu: to types, not to only-web'
is "$(paths x)" '/all /maint-other-day /not-web /only-web /types' \
    'Test: bypasses types and resources, not enabled or the window'
is "$(jq -r 'select(.target.id == "web" and .status == "skipped") | "\(.alerter): \(.reason)"' "$T/out" | sort)" \
"maint: in a maintenance window
not-web: target in except_resources
off: disabled
types: alert type not in alert_types" 'skips say why'
is "$(jq -c 'select(.kind == "end") | .counts' "$T/out")" \
    '{"sent":15,"failed":0,"retry":0,"skipped":13,"suppressed":0,"unconfirmed":0}' 'end counts'
is "$(find "$KOM_HOME/spool/alert" -type f)" "" "the spool is empty"

# a procedure's SendAlert that names its alerters: those only, their own
# filters still applied; a name that is not applied is said once
: >"$T/r/log"
custom() {
	alert Custom System "" OK true "{\"message\":\"$1\",\"details\":\"\"}" |
	    jq -c --argjson al "$2" '. + {alerters: $al}'
}
{
	custom to-two '["all", "only-web"]'
	custom to-none '["nope", "gone"]'
	custom to-one '["not-web", "nope"]'
	echo '{"kind":"end"}'
} >"$T/in2"
kom-alert "$T/in2" >"$T/out2" 2>"$T/err2"
is "$?" 0 'kom-alert exits 0'
msgpaths() {
	jq -rs --arg m "$1" '[.[] | select((.body | fromjson | .data.data.message) == $m) | .path] | sort | join(" ")' "$T/r/log"
}
is "$(msgpaths to-two)" '/all' \
    'named all and only-web: to all; only-web'"'"'s resources filter still holds'
is "$(msgpaths to-none)" '' 'named only alerters not applied: to none'
is "$(msgpaths to-one)" '/not-web' 'named not-web and one not applied: to not-web'
is "$(jq -r 'select(.status == "skipped" and .alerter == "types") | .reason' "$T/out2" | sort -u)" \
    'not among the alerters the alert names' 'the others skipped, saying so'
is "$(grep -c 'not an applied alerter\|not applied alerters' "$T/err2")" 2 \
    'the names not applied said once per alert'
ok 'both named' grep -q "'nope', 'gone' are not applied alerters" "$T/err2"
done_testing
