#!/bin/sh
# kom-alert: e-mail through a real SMTP server (aiosmtpd) that requires
# STARTTLS and AUTH, with a self-signed certificate the alerter trusts
# through ca_file; the password is a [[SECRET]] and never shows.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/receivers.sh"
command -v openssl >/dev/null || bail "openssl is needed"
"$RECV_PY" -c 'import aiosmtpd' 2>/dev/null || bail "python3-aiosmtpd is needed"

smtp_start "$T/m" kom 'pa55-w0rd'
SP=$(cat "$T/m/port")
mkdir -p "$T/secrets" "$T/sync"
printf 'pa55-w0rd\n' >"$T/secrets/SMTP_PASS"
printf 'wrong-one\n' >"$T/secrets/BAD_PASS"
chmod 600 "$T/secrets/"*
KOM_SECRETS_DIR=$T/secrets
export KOM_SECRETS_DIR
cat >"$T/sync/a.toml" <<EOT
[[alerter]]
name = "mail"
[alerter.config]
enabled = true
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", from = "kom@example.org", to = ["ops@example.org", "dev@example.org"], username = "kom", password = "[[SMTP_PASS]]", ca_file = "$T/m/cert.pem" }
EOT
alerters "$T/sync"

{
	alert ServerDisk Server h1 CRITICAL false '{"id":"h1","name":"h1","path":"/data","used_gb":96,"total_gb":100}'
	echo '{"kind":"end"}'
} >"$T/in"
kom-alert -u https://kom.example "$T/in" >"$T/out" 2>"$T/err"
is "$?" 0 'delivered over STARTTLS with AUTH'
is "$(jq -r .mail_from "$T/m/log")" kom@example.org 'envelope from'
is "$(jq -r '.rcpt_tos | join(" ")' "$T/m/log")" 'ops@example.org dev@example.org' 'envelope recipients'
jq -r .data "$T/m/log" | tr -d '\r' >"$T/mail"
is "$(sed -n 's/^Subject: //p' "$T/mail")" 'CRITICAL 🚨 | h1 disk usage at 96.0%💿' 'Subject: the first line'
is "$(sed -n 's/^To: //p' "$T/mail")" 'ops@example.org, dev@example.org' 'To header'
is "$(sed -n 's/^Content-Type: //p' "$T/mail")" 'text/plain; charset=utf-8' 'plain text, UTF-8'
is "$(sed '1,/^$/d' "$T/mail")" 'CRITICAL 🚨 | h1 disk usage at 96.0%💿
mount point: "/data"
using 96.0 GiB / 100.0 GiB
https://kom.example/servers/h1' 'the body is the standard text'

# a wrong password fails for good, masked; no certificate trust fails too
cat >"$T/sync/a.toml" <<EOT
[[alerter]]
name = "mail"
[alerter.config]
enabled = false
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", to = ["ops@example.org"] }

[[alerter]]
name = "badpass"
[alerter.config]
enabled = true
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", to = ["ops@example.org"], username = "kom", password = "[[BAD_PASS]]", ca_file = "$T/m/cert.pem" }

[[alerter]]
name = "untrusted"
[alerter.config]
enabled = true
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", to = ["ops@example.org"], username = "kom", password = "[[SMTP_PASS]]" }
EOT
alerters "$T/sync"
ALERT_TS=1763700009999
export ALERT_TS
{
	alert Test Alerter badpass OK false '{"id":"badpass","name":"badpass"}'
	echo '{"kind":"end"}'
} >"$T/in2"
kom-alert -n 3 -b 10 "$T/in2" >"$T/out2" 2>"$T/err2"
is "$?" 1 "failed"
is "$(jq -r 'select(.kind == "delivery") | "\(.alerter) \(.status) \(.tries)"' "$T/out2" | sort)" \
'badpass failed 1
mail skipped null
untrusted failed 1' 'an AUTH refusal and an untrusted certificate fail at once'
is "$(wc -l <"$T/m/log" | tr -d ' ')" 1 'no further message reached the server'
ok 'no password in any output' sh -c "! grep -r -e wrong-one -e pa55-w0rd '$T/out2' '$T/err2' '$KOM_HOME/spool' '$KOM_HOME/state'"

# implicit TLS (smtps://)
smtp_start "$T/s" kom 'pa55-w0rd' smtps
cat >"$T/sync/a.toml" <<EOT
[[alerter]]
name = "badpass"
[alerter.config]
enabled = false
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", to = ["ops@example.org"] }

[[alerter]]
name = "untrusted"
[alerter.config]
enabled = false
endpoint.type = "Email"
endpoint.params = { url = "smtp://127.0.0.1:$SP", to = ["ops@example.org"] }

[[alerter]]
name = "tls"
[alerter.config]
enabled = true
endpoint.type = "Email"
endpoint.params = { url = "smtps://127.0.0.1:$(cat "$T/s/port")", from = "kom@example.org", to = ["ops@example.org"], username = "kom", password = "[[SMTP_PASS]]", ca_file = "$T/m/cert.pem" }
EOT
# the smtps server has its own certificate: trust that one
sed -i "s|$T/m/cert.pem|$T/s/cert.pem|" "$T/sync/a.toml"
alerters "$T/sync"
kom-alert "$T/in" >"$T/out3" 2>"$T/err3"
is "$?" 0 'delivered over smtps:// with AUTH'
is "$(jq -r '.rcpt_tos | join(" ")' "$T/s/log")" 'ops@example.org' 'the smtps server got it'
done_testing
