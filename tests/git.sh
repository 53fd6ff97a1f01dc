# tests/git.sh: real git servers on loopback for kom's integration tests.
# Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/git.sh"
#	git_http_up			# lighttpd + git http-backend: GIT_HTTP
#	git_repo me/homelab		# a bare repo served at
#					# http://$GIT_HTTP/me/homelab
#	git_repo private/secret		# /private/* asks for basic auth:
#					# GIT_USER and GIT_TOKEN; /broken/*
#					# answers 500
#	git_work me/homelab W		# a work clone W that pushes to it
#	git_commit W 'message' path...	# add, commit and push those paths
#	git_access			# the access log's request lines
#	git_down_addr			# host:port where nothing listens
#	git_hang_up			# GIT_HANG: accepts, never answers
#	git_ssh_up			# sshd on 127.0.0.2: GIT_SSH (port),
#					# GIT_SSH_KEY, GIT_KNOWN_HOSTS
#
# Every server is the test's own, in $T/git, killed when the test ends:
# nothing is shared between tests.  The repos are plain bare repositories
# under $T/git/repos that the test pushes to by path.

GIT_ROOT=$T/git
GIT_USER=kom
# a token with characters a URL would have to escape
GIT_TOKEN="tok-$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export GIT_USER GIT_TOKEN
mkdir -p "$GIT_ROOT/repos" "$GIT_ROOT/www"
# git itself must not read the machine's configuration
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=$GIT_ROOT/gitconfig
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL
{
	echo "[user]"
	echo "	name = kom test"
	echo "	email = test@kom.invalid"
	echo "[init]"
	echo "	defaultBranch = main"
	echo "[safe]"
	echo "	directory = *"
} >"$GIT_CONFIG_GLOBAL"

_git_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# _git_wait URL: until an HTTP answer comes (any status).
_git_wait() {
	_i=0
	until curl -s -o /dev/null --max-time 2 "$1"; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && return 1
		sleep 0.1
	done
}

git_http_up() {
	echo "$GIT_USER:$GIT_TOKEN" >"$GIT_ROOT/users"
	# every request the backend answers, one line, written before it runs
	# (lighttpd's own access log is buffered)
	{
		echo '#!/bin/sh'
		echo 'echo "$REQUEST_METHOD $PATH_INFO${QUERY_STRING:+?$QUERY_STRING}" >>"$GIT_ROOT/access.log"'
		# /broken/*: a server error, as a failing forge would give
		echo 'case $PATH_INFO in /broken/*) printf "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nbroken\n"; exit 0 ;; esac'
		echo 'exec /usr/lib/git-core/git-http-backend'
	} >"$GIT_ROOT/backend"
	chmod +x "$GIT_ROOT/backend"
	_tries=0
	while :; do
		_port=$(_git_free_port)
		cat >"$GIT_ROOT/lighttpd.conf" <<EOF
server.modules = ( "mod_access", "mod_alias", "mod_auth", "mod_authn_file",
	"mod_cgi", "mod_setenv" )
server.document-root = "$GIT_ROOT/www"
server.bind = "127.0.0.1"
server.port = $_port
server.pid-file = "$GIT_ROOT/lighttpd.pid"
server.errorlog = "$GIT_ROOT/error.log"
alias.url = ( "/" => "$GIT_ROOT/backend/" )
cgi.assign = ( "" => "" )
setenv.add-environment = (
	"GIT_ROOT" => "$GIT_ROOT",
	"GIT_PROJECT_ROOT" => "$GIT_ROOT/repos",
	"GIT_HTTP_EXPORT_ALL" => "1",
	"GIT_CONFIG_NOSYSTEM" => "1",
	"GIT_CONFIG_GLOBAL" => "$GIT_CONFIG_GLOBAL"
)
auth.backend = "plain"
auth.backend.plain.userfile = "$GIT_ROOT/users"
\$HTTP["url"] =~ "^/private/" {
	auth.require = ( "" => ( "method" => "basic", "realm" => "kom-test",
		"require" => "valid-user" ) )
}
EOF
		lighttpd -f "$GIT_ROOT/lighttpd.conf" 2>>"$GIT_ROOT/error.log"
		if _git_wait "http://127.0.0.1:$_port/"; then
			git_access_reset
			break
		fi
		[ -s "$GIT_ROOT/lighttpd.pid" ] &&
		    kill "$(cat "$GIT_ROOT/lighttpd.pid")" 2>/dev/null
		_tries=$((_tries + 1))
		[ $_tries -ge 5 ] && bail "git_http_up: lighttpd did not" \
		    "start: $(tail -3 "$GIT_ROOT/error.log")"
	done
	GIT_HTTP=127.0.0.1:$_port
	export GIT_HTTP
	at_exit 'kill $(cat "$GIT_ROOT/lighttpd.pid")'
}

# git_repo NS/NAME: an empty bare repository on the server.
git_repo() {
	git init -q --bare "$GIT_ROOT/repos/$1"
	git -C "$GIT_ROOT/repos/$1" config http.receivepack false
}

# git_work NS/NAME DIR: a clone (by path) that git_commit pushes from.
git_work() {
	git init -q "$2"
	git -C "$2" remote add origin "$GIT_ROOT/repos/$1"
}

# git_commit DIR MESSAGE [PATH...]: commit everything in DIR and push the
# current branch; prints the new commit.
git_commit() {
	_d=$1
	_m=$2
	shift 2
	git -C "$_d" add -A "$@" &&
	git -C "$_d" commit -q -m "$_m" &&
	git -C "$_d" push -q origin HEAD >/dev/null 2>&1 &&
	git -C "$_d" rev-parse HEAD
}

# The access log's lines since the last git_access_reset.
git_access() {
	cat "$GIT_ROOT/access.log" 2>/dev/null
}
git_access_reset() {
	: >"$GIT_ROOT/access.log"
}

# A loopback address where nothing listens (a port just freed).
git_down_addr() {
	echo "127.0.0.1:$(_git_free_port)"
}

# GIT_HANG: a TCP server that accepts and never says a word.
git_hang_up() {
	python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
' >"$GIT_ROOT/hang.port" 2>/dev/null &
	echo $! >"$GIT_ROOT/hang.pid"
	at_exit 'kill $(cat "$GIT_ROOT/hang.pid")'
	_i=0
	until [ -s "$GIT_ROOT/hang.port" ]; do
		_i=$((_i + 1))
		[ $_i -gt 50 ] && bail "git_hang_up: no port"
		sleep 0.1
	done
	GIT_HANG=127.0.0.1:$(cat "$GIT_ROOT/hang.port")
	export GIT_HANG
}

# GIT_SSH: an sshd of the test's own on 127.0.0.2 (host key, authorized
# keys and known_hosts in $GIT_ROOT/ssh); the repos are reached at
# ssh://$GIT_SSH_USER@$GIT_SSH$GIT_ROOT/repos/NS/NAME with the key
# GIT_SSH_KEY.
git_ssh_up() {
	_s=$GIT_ROOT/ssh
	mkdir -p "$_s" /run/sshd
	chmod 700 "$_s"
	ssh-keygen -q -t ed25519 -N '' -f "$_s/host_ed25519" -C kom-test-host
	ssh-keygen -q -t ed25519 -N '' -f "$_s/id_ed25519" -C kom-test-client
	cp "$_s/id_ed25519.pub" "$_s/authorized_keys"
	GIT_SSH_USER=$(id -un)
	_tries=0
	while :; do
		_port=$(_git_free_port)
		cat >"$_s/sshd_config" <<EOF
ListenAddress 127.0.0.2:$_port
HostKey $_s/host_ed25519
AuthorizedKeysFile $_s/authorized_keys
PidFile $_s/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers $GIT_SSH_USER
SetEnv GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=$GIT_CONFIG_GLOBAL
EOF
		/usr/sbin/sshd -f "$_s/sshd_config" -E "$_s/log"
		_i=0
		until [ -s "$_s/sshd.pid" ] || [ $_i -gt 50 ]; do
			_i=$((_i + 1))
			sleep 0.1
		done
		[ -s "$_s/sshd.pid" ] && break
		_tries=$((_tries + 1))
		[ $_tries -ge 5 ] && bail "git_ssh_up: sshd did not start:" \
		    "$(tail -3 "$_s/log")"
	done
	at_exit 'kill $(cat "$GIT_ROOT/ssh/sshd.pid")'
	printf '[127.0.0.2]:%s %s\n' "$_port" \
	    "$(cut -d' ' -f1,2 "$_s/host_ed25519.pub")" >"$_s/known_hosts"
	GIT_SSH=127.0.0.2:$_port
	GIT_SSH_KEY=$_s/id_ed25519
	GIT_KNOWN_HOSTS=$_s/known_hosts
	export GIT_SSH GIT_SSH_KEY GIT_KNOWN_HOSTS GIT_SSH_USER
}
