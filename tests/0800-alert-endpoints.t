#!/bin/sh
# kom-alert: each endpoint's wire format, field by field, against
# Komodo's (komodo-behaviour.md 6.1 and 6.4), at a real HTTP receiver.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"
. "$KOM_TOP/tests/fixtures/alert/endpoints.sh"

recv_start "$T/r"
endpoints "$T/sync" "$(cat "$T/r/port")"
alerters "$T/sync"

# req PATH N JQ: of the N-th request (1-based) to PATH, the JQ filter
req() {
	jq -rs --arg p "$1" --argjson n "$2" \
	    "[.[] | select(.path == \$p)][\$n - 1] | $3" "$T/r/log"
}

# 1. a container state change
{
	alert ContainerStateChange Deployment web WARNING true \
	    '{"id":"web","name":"web","server_name":"h1","from":"running","to":"exited"}'
	echo '{"kind":"end"}'
} >"$T/in1"
ok 'kom-alert delivers to five endpoints' kom-alert -u https://kom.example "$T/in1"
is "$(recv_ok "$T/r")" 5 'five requests answered'

is "$(req /hook 1 '.headers["content-type"]')" application/json 'Custom: JSON'
is "$(req /hook 1 '.body | fromjson | keys_unsorted | join(",")')" \
    ts,level,resolved,target,data,resolved_ts 'Custom: the alert record, kind dropped, resolved_ts'
is "$(req /hook 1 '.body')" \
    '{"ts":1763700000000,"level":"WARNING","resolved":true,"target":{"type":"Deployment","id":"web"},"data":{"type":"ContainerStateChange","data":{"id":"web","name":"web","server_name":"h1","from":"running","to":"exited"}},"resolved_ts":null}' \
    'Custom: body byte for byte'

is "$(req /discord 1 '.body | fromjson | keys | join(",")')" content 'Discord: content only'
is "$(req /discord 1 '.body | fromjson | .content')" \
"📦 Deployment **web** is now **Exited 🛑**
server: **h1**
previous: **running**
https://kom.example/deployments/web" 'Discord: Komodo text'

is "$(req /ntfy 1 '.headers.title')" 'Komodo Alert' 'Ntfy: Title header'
is "$(req /ntfy 1 '.headers["x-email"]')" ops@example.org 'Ntfy: X-Email header'
is "$(req /ntfy 1 '.body')" \
"📦Deployment web is now Exited 🛑
server: h1
previous: running
https://kom.example/deployments/web" 'Ntfy: standard_alert_content'

is "$(req '/push?token=tok&user=usr' 1 '.headers["content-type"]')" \
    application/x-www-form-urlencoded 'Pushover: form'
is "$(req '/push?token=tok&user=usr' 1 '.body')" \
    'message=%F0%9F%93%A6Deployment+web+is+now+Exited+%F0%9F%9B%91%0Aserver%3A+h1%0Aprevious%3A+running%0Ahttps%3A%2F%2Fkom.example%2Fdeployments%2Fweb' \
    'Pushover: message= the standard text, URL keeps token and user'

is "$(req /slack 1 '.body | fromjson | .text')" '📦 Container *web* is now *Exited 🛑*' 'Slack: text'
is "$(req /slack 1 '.body | fromjson | [.blocks[] | "\(.type)/\(.text.type): \(.text.text)"] | join("|")')" \
    'header/plain_text: 📦 Container *web* is now *Exited 🛑*|section/mrkdwn: server: *h1*
previous: running|section/mrkdwn: https://kom.example/deployments/web' 'Slack: header, message, link blocks'

# 2. a CPU alert (a number formatted .1), critical, region
: >"$T/r/log"
{
	alert ServerCpu Server h1 CRITICAL false '{"id":"h1","name":"h1","region":"eu","percentage":97.26}'
	echo '{"kind":"end"}'
} >"$T/in2"
ok 'a cpu alert' kom-alert "$T/in2"
is "$(req /ntfy 1 .body)" 'CRITICAL 🚨 | h1 (eu) cpu usage at 97.3%' 'Ntfy: cpu text (no link without -u)'
is "$(req /discord 1 '.body | fromjson | .content')" 'CRITICAL 🚨 | **h1** (eu) cpu usage at **97.3%**' 'Discord: cpu text'
is "$(req /slack 1 '.body | fromjson | .text')" 'CRITICAL 🚨 | *h1* (eu) cpu usage at *97.3%*' 'Slack: cpu summary'
is "$(req /slack 1 '.body | fromjson | .blocks[0].text.text')" 'CRITICAL 🚨' 'Slack: header is the level'

# 3. Test, Custom, disk, build failed, a kom rollback
: >"$T/r/log"
{
	alert Test Alerter hook OK false '{"id":"hook","name":"hook"}'
	alert Custom System kom WARNING false '{"message":"disk on fire","details":"call someone"}'
	alert ServerDisk Server h1 WARNING false '{"id":"h1","name":"h1","path":"/data","used_gb":80,"total_gb":100}'
	alert BuildFailed Build api WARNING false '{"id":"api","name":"api","version":{"major":1,"minor":2,"patch":3}}'
	alert DeploymentRollback Deployment web WARNING false '{"id":"web","name":"web","server_name":"h1","from":"img:1","to":"img:2","error":"exited with status 1"}'
	echo '{"kind":"end"}'
} >"$T/in3"
# one run per record: the spool orders by time, not by input line
grep -v '"end"' "$T/in3" | while read -r rec; do
	printf '%s\n{"kind":"end"}\n' "$rec" >"$T/one"
	kom-alert "$T/one" >/dev/null || echo "kom-alert failed: $rec"
done >"$T/fails3"
is "$(cat "$T/fails3")" '' 'five more types, one at a time'
texts=$(jq -rs '[.[] | select(.path == "/ntfy") | .body] | join("\n--\n")' "$T/r/log")
is "$texts" "OK ✅ | If you see this message, then Alerter hook is working
--
WARNING ‼️ | disk on fire
call someone
--
WARNING ‼️ | h1 disk usage at 80.0%💿
mount point: \"/data\"
using 80.0 GiB / 100.0 GiB
--
WARNING ‼️ | Build api failed
version: v1.2.3
--
WARNING ‼️ | Deployment web rolled back: img:2 failed
server: h1
kept: img:1
error: exited with status 1" 'Ntfy: Test, Custom, ServerDisk, BuildFailed, DeploymentRollback texts'
is "$(jq -rs '[.[] | select(.path == "/slack") | .body | fromjson | .blocks[0].text.text][1]' "$T/r/log")" \
    'WARNING ‼️ | disk on fire' 'Slack: Custom header is the summary'
is "$(jq -rs '[.[] | select(.path == "/slack") | .body | fromjson | .blocks[1].text.text][1]' "$T/r/log")" \
    'call someone' 'Slack: Custom details section'
is "$(jq -rs '[.[] | select(.path == "/discord") | .body | fromjson | .content][0]' "$T/r/log")" \
    'OK ✅ | If you see this message, then Alerter **hook** is **working**' 'Discord: Test text'
done_testing
