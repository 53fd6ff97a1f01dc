# tests/docker.sh: a real Docker engine and a real registry for kom's
# integration tests.  Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/docker.sh"
#	docker_up			# dockerd answering on $DOCKER_HOST
#	registry_up			# sets REGISTRY=127.0.0.1:PORT
#	registry_up auth		# sets AUTH_REGISTRY, AUTH_USER, AUTH_PASS
#	build_busybox_image kt-web:1 'CMD ["httpd","-f","-p","18080"]'
#	kom_labels_cleanup		# in at_exit: remove this test's containers
#
# The engine and the registries are shared by every test and by
# concurrent test runs: each is started once, under an flock, and left
# running afterwards (a dockerd this file did not start is never touched).
# Containers a test creates carry the label kom.test=$KOM_TEST_ID or a
# name starting with $KOM_TEST_PREFIX; kom_labels_cleanup removes both.
#
# No image can be pulled from the internet here: test images are built
# FROM scratch around Debian's busybox-static, and pushed to the local
# registry when a test needs to pull.  Bridge networking works with
# Debian's dockerd; tests still use host networking with distinct ports
# (as Komodo's default network "host" does) so they do not depend on it.
#
# Also usable without lib.sh, as a command for C tests and by hand:
#	sh tests/docker.sh up|registry|auth-registry|image NAME:TAG [LINES]

DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
export DOCKER_HOST
# The fixtures' state lives outside the per-test $T, since it outlives it.
KOM_TEST_RUN=${KOM_TEST_RUN:-/tmp/kom-test-docker}
mkdir -p "$KOM_TEST_RUN"
# The docker CLI must not pick up a user's contexts or credentials.
DOCKER_CONFIG=${KOM_TEST_DOCKER_CONFIG:-$KOM_TEST_RUN/cli-config}
export DOCKER_CONFIG
mkdir -p "$DOCKER_CONFIG"
# Debian's dockerd 20.10 with a newer CLI: no buildx, the classic builder.
DOCKER_BUILDKIT=0
export DOCKER_BUILDKIT

if [ -n "${T:-}" ]; then
	KOM_TEST_ID=$(basename "$T")
else
	KOM_TEST_ID=kom-test.$$
fi
KOM_TEST_PREFIX=kt-$(printf '%s' "${KOM_TEST_ID#kom-test.}" |
	tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-')-
export KOM_TEST_ID KOM_TEST_PREFIX

# The socket path of a unix:// DOCKER_HOST.
_docker_sock() {
	case $DOCKER_HOST in
	unix://*) printf '%s\n' "${DOCKER_HOST#unix://}" ;;
	*) return 1 ;;
	esac
}

_docker_answers() {
	curl -fsS --max-time 5 --unix-socket "$(_docker_sock)" \
		http://localhost/_ping >/dev/null 2>&1
}

# docker_up: make sure a dockerd answers on DOCKER_HOST (a unix socket),
# starting Debian's dockerd when none does.  Fails (returns 1, with a
# message on stderr) when it cannot.
docker_up() {
	_sock=$(_docker_sock) || {
		echo "docker_up: DOCKER_HOST=$DOCKER_HOST is not unix://" >&2
		return 1
	}
	_docker_answers && return 0
	(
		flock 9
		_docker_answers && exit 0
		command -v dockerd >/dev/null || {
			echo "docker_up: dockerd is not installed (docker.io)" >&2
			exit 1
		}
		# A dockerd that runs but answers slowly (a loaded machine) is
		# waited for, never replaced: only a dead one's socket goes.
		if ! pgrep -x dockerd >/dev/null; then
			rm -f "$_sock"
			setsid dockerd --host="unix://$_sock" \
				>>/var/log/kom-test-dockerd.log 2>&1 </dev/null 9>&- &
			echo $! >"$KOM_TEST_RUN/dockerd.pid"
		fi
		_i=0
		while ! _docker_answers; do
			_i=$((_i + 1))
			if [ $_i -gt 120 ]; then
				echo "docker_up: dockerd did not answer within" \
					"60 s; see /var/log/kom-test-dockerd.log" >&2
				tail -5 /var/log/kom-test-dockerd.log >&2
				exit 1
			fi
			sleep 0.5
		done
	) 9>"$KOM_TEST_RUN/dockerd.lock"
}

_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# _registry_start NAME [auth]: start a docker-registry (once) whose state
# is in $KOM_TEST_RUN/NAME; prints nothing; the address is in NAME/addr.
_registry_start() {
	_rd=$KOM_TEST_RUN/$1
	mkdir -p "$_rd"
	(
		flock 9
		if [ -s "$_rd/addr" ] &&
		    curl -s -o /dev/null --max-time 5 "http://$(cat "$_rd/addr")/v2/"; then
			exit 0
		fi
		command -v docker-registry >/dev/null || {
			echo "registry_up: docker-registry is not installed" >&2
			exit 1
		}
		_port=$(_free_port)
		mkdir -p "$_rd/data"
		{
			echo "version: 0.1"
			echo "log: {level: warn}"
			echo "storage:"
			echo "  filesystem: {rootdirectory: $_rd/data}"
			echo "  delete: {enabled: true}"
			echo "http: {addr: 127.0.0.1:$_port}"
			if [ "${2:-}" = auth ]; then
				echo "auth:"
				echo "  htpasswd: {realm: kom-test, path: $_rd/htpasswd}"
			fi
		} >"$_rd/config.yml"
		if [ "${2:-}" = auth ]; then
			echo kom >"$_rd/user"
			echo "kom-test-$$-pw" >"$_rd/pass"
			_bcrypt kom "$(cat "$_rd/pass")" >"$_rd/htpasswd" || exit 1
		fi
		setsid docker-registry serve "$_rd/config.yml" \
			>>"$_rd/log" 2>&1 </dev/null 9>&- &
		echo $! >"$_rd/pid"
		_i=0
		until curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$_port/v2/"; do
			_i=$((_i + 1))
			if [ $_i -gt 60 ]; then
				echo "registry_up: docker-registry did not answer;" \
					"see $_rd/log" >&2
				exit 1
			fi
			sleep 0.5
		done
		echo "127.0.0.1:$_port" >"$_rd/addr"
	) 9>"$_rd.lock"
}

# An htpasswd line with a bcrypt hash (all docker-registry accepts).
_bcrypt() {
	if command -v htpasswd >/dev/null; then
		htpasswd -nbB "$1" "$2"
	else
		/usr/bin/python3 -W ignore -c 'import crypt, sys
print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2"
	fi
}

# registry_up [auth]: a local registry; sets REGISTRY (or AUTH_REGISTRY,
# AUTH_USER and AUTH_PASS for the one that requires a login).
registry_up() {
	if [ "${1:-}" = auth ]; then
		_registry_start registry-auth auth || return 1
		AUTH_REGISTRY=$(cat "$KOM_TEST_RUN/registry-auth/addr")
		AUTH_USER=$(cat "$KOM_TEST_RUN/registry-auth/user")
		AUTH_PASS=$(cat "$KOM_TEST_RUN/registry-auth/pass")
		export AUTH_REGISTRY AUTH_USER AUTH_PASS
	else
		_registry_start registry || return 1
		REGISTRY=$(cat "$KOM_TEST_RUN/registry/addr")
		export REGISTRY
	fi
}

# build_busybox_image NAME:TAG [DOCKERFILE LINES]: an image FROM scratch
# with busybox and its applets in /bin, plus the given lines.  Cached:
# a second call with the same tag and lines does nothing.
build_busybox_image() {
	_tag=$1
	shift
	_df=$(printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
		'RUN ["/bin/busybox","--install","-s","/bin"]' "$@")
	_sum=$(printf '%s\n' "$_df" | sha256sum | cut -c1-16)
	_have=$(docker image inspect -f '{{index .Config.Labels "kom.test.dockerfile"}}' \
		"$_tag" 2>/dev/null)
	[ "$_have" = "$_sum" ] && return 0
	_ctx=$(mktemp -d "${TMPDIR:-/tmp}/kom-image.XXXXXX")
	cp /bin/busybox "$_ctx/busybox" || {
		echo "build_busybox_image: no /bin/busybox (busybox-static)" >&2
		rm -rf "$_ctx"
		return 1
	}
	printf '%s\nLABEL kom.test.dockerfile=%s\n' "$_df" "$_sum" \
		>"$_ctx/Dockerfile"
	(
		flock 9
		docker build -q -t "$_tag" "$_ctx" >"$_ctx/log" 2>&1 ||
			{ cat "$_ctx/log" >&2; exit 1; }
	) 9>"$KOM_TEST_RUN/build.lock"
	_rc=$?
	rm -rf "$_ctx"
	return $_rc
}

# kom_labels_cleanup [PREFIX]: remove the containers of this test: those
# labelled kom.test=$KOM_TEST_ID and those named $KOM_TEST_PREFIX* (or
# PREFIX*).
kom_labels_cleanup() {
	_pfx=${1:-$KOM_TEST_PREFIX}
	{
		docker ps -aq --filter "label=kom.test=$KOM_TEST_ID"
		docker ps -a --format '{{.ID}} {{.Names}}' |
			awk -v p="$_pfx" 'index($2, p) == 1 { print $1 }'
	} 2>/dev/null | sort -u | while read -r _id; do
		docker rm -f "$_id" >/dev/null 2>&1
	done
	return 0
}

# As a command: sh tests/docker.sh up|registry|auth-registry|image ...
case ${0##*/} in
docker.sh)
	case ${1:-} in
	up) docker_up ;;
	registry) registry_up && echo "$REGISTRY" ;;
	auth-registry) registry_up auth &&
		printf '%s %s %s\n' "$AUTH_REGISTRY" "$AUTH_USER" "$AUTH_PASS" ;;
	image) shift; docker_up && build_busybox_image "$@" ;;
	*) echo "usage: sh tests/docker.sh up|registry|auth-registry|image NAME:TAG [LINES]" >&2
	   exit 64 ;;
	esac
	exit $?
	;;
esac
