# tests/receivers.sh: real receivers on loopback for kom-alert's tests
# (sourced after tests/lib.sh).  tests/receiver.py does the serving.
#
#	recv_start DIR		HTTP receiver; DIR/port, DIR/log, DIR/mode
#	recv_mode DIR MODE	ok, slow, 500, 404, 429 or hang from now on
#	recv_stop DIR		stop it (recv_start DIR again: same port)
#	recv_ok DIR		how many requests it answered 2xx
#	smtp_start DIR USER PASS [smtps]	SMTP with STARTTLS + AUTH (smtps:
#				TLS from the start); DIR/port, DIR/log,
#				DIR/cert.pem (self-signed, for ca_file)
#	hook FILE NAME URL [TYPE [LINES]]	append an enabled [[alerter]] NAME
#				with a TYPE (Custom) endpoint at URL, and
#				LINES of its config, to FILE
#	alerters DIR		apply the [[alerter]]s of DIR's TOML files
#				through kom-sync, kom-plan and kom-exec

RECV_PY=${KOM_PYTHON:-/usr/bin/python3}
[ -x "$RECV_PY" ] || bail "no $RECV_PY"
command -v jq >/dev/null 2>&1 || bail "jq is needed"

_recv_wait() {	# _recv_wait DIR: until DIR/port exists and answers
	_i=0
	while [ $_i -lt 200 ]; do
		[ -s "$1/port" ] && return 0
		kill -0 "$(cat "$1/pid")" 2>/dev/null || break
		sleep 0.05
		_i=$((_i + 1))
	done
	bail "receiver in $1 did not start"
}

recv_start() {
	mkdir -p "$1"
	touch "$1/log"
	[ -f "$1/mode" ] || echo ok >"$1/mode"
	_rp=
	[ -s "$1/port" ] && _rp=$(cat "$1/port")
	rm -f "$1/port"
	RECV_PORT=$_rp "$RECV_PY" "$KOM_TOP/tests/receiver.py" http "$1/port" "$1/log" \
	    "$1/mode" 2>>"$1/stderr" &
	echo $! >"$1/pid"
	at_exit "recv_stop '$1'"
	_recv_wait "$1"
}

recv_mode() {
	echo "$2" >"$1/mode.tmp" && mv "$1/mode.tmp" "$1/mode"
}

recv_stop() {
	[ -s "$1/pid" ] || return 0
	kill "$(cat "$1/pid")" 2>/dev/null
	wait "$(cat "$1/pid")" 2>/dev/null
	: >"$1/pid"
}

recv_ok() {
	jq -s '[.[] | select(.status >= 200 and .status < 300)] | length' "$1/log"
}

smtp_start() {
	mkdir -p "$1"
	touch "$1/log"
	rm -f "$1/port"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/key.pem" \
	    -out "$1/cert.pem" -days 1 -subj /CN=127.0.0.1 \
	    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
		bail "openssl could not make a certificate"
	"$RECV_PY" "$KOM_TOP/tests/receiver.py" "${4:-smtp}" "$1/port" "$1/log" \
	    "$1/cert.pem" "$1/key.pem" "$2" "$3" 2>>"$1/stderr" &
	echo $! >"$1/pid"
	at_exit "recv_stop '$1'"
	_recv_wait "$1"
}

hook() {
	cat >>"$1" <<EOT
[[alerter]]
name = "$2"
[alerter.config]
enabled = true
endpoint = { type = "${4:-Custom}", params = { url = "$3" } }
${5:-}
EOT
}

alerters() {
	kom-sync diff "$1" >"$T/alerters.sync" 2>"$T/alerters.err" &&
	    kom-plan "$T/alerters.sync" >"$T/alerters.plan" 2>>"$T/alerters.err" &&
	    kom-exec "$T/alerters.plan" >"$T/alerters.out" 2>>"$T/alerters.err" ||
		{ cat "$T/alerters.err" >&2; bail "could not apply the alerters of $1"; }
}

# alert TYPE TARGET-TYPE TARGET-ID LEVEL RESOLVED DATA-JSON: one record
alert() {
	jq -nc --arg t "$1" --arg tt "$2" --arg ti "$3" --arg l "$4" \
	    --argjson r "$5" --argjson d "$6" --argjson ts "${ALERT_TS:-1763700000000}" \
	    '{kind:"alert",ts:$ts,level:$l,resolved:$r,target:{type:$tt,id:$ti},data:{type:$t,data:$d}}'
}
