# tests/lib.sh: shared by kom's integration tests (POSIX sh, TAP).
#
#	. "$(dirname "$0")/lib.sh"
#	ok 'name' cmd args...		# passes when cmd exits 0
#	is "$got" "$want" 'name'	# string equality, diff shown on failure
#	cmp_file got want 'name'	# file equality (golden files)
#	done_testing
#
# Each test runs in its own temporary directory ($T), removed on exit;
# KOM_HOME points inside it so no test touches the machine's state.
# bin/ comes first in PATH.

set -u
KOM_TOP=${KOM_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
export KOM_TOP
PATH=$KOM_TOP/bin:$PATH
export PATH
SHARED=${KOM_SHARED:-$KOM_TOP/../shared}
T=$(mktemp -d "${TMPDIR:-/tmp}/kom-test.XXXXXX")
KOM_HOME=$T/home
export KOM_HOME
mkdir -p "$KOM_HOME"
unset KOM_CONFIG KOM_STATE_DIR KOM_SPOOL_DIR NO_COLOR
_tap_n=0
_tap_failed=0
_cleanups=

# at_exit CMD: run CMD (a string for eval) when the test ends.
at_exit() {
	_cleanups="$1
$_cleanups"
}

_finish() {
	_rc=$?
	[ -n "$_cleanups" ] && eval "$_cleanups" >/dev/null 2>&1
	rm -rf "$T"
	exit $_rc
}
trap _finish EXIT
trap 'exit 130' INT TERM

_result() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_failed=$((_tap_failed + 1))
	fi
}

diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

ok() {
	_name=$1
	shift
	if "$@" >"$T/.out" 2>&1; then
		_result 0 "$_name"
	else
		_rc=$?
		_result 1 "$_name"
		diag "exit $_rc: $*"
		sed -n '1,20p' "$T/.out" | sed 's/^/# /'
	fi
}

# fails 'name' STATUS cmd...: passes when cmd exits with STATUS.
fails() {
	_name=$1
	_want=$2
	shift 2
	"$@" >"$T/.out" 2>&1
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		_result 0 "$_name"
	else
		_result 1 "$_name"
		diag "exit $_rc, want $_want: $*"
		sed -n '1,20p' "$T/.out" | sed 's/^/# /'
	fi
}

is() {
	if [ "$1" = "$2" ]; then
		_result 0 "$3"
	else
		_result 1 "$3"
		printf '%s\n' "$2" >"$T/.want"
		printf '%s\n' "$1" >"$T/.got"
		diff -u "$T/.want" "$T/.got" | sed -n '1,40p' | sed 's/^/# /'
	fi
}

cmp_file() {
	if cmp -s "$1" "$2"; then
		_result 0 "$3"
	else
		_result 1 "$3"
		diff -u "$2" "$1" | sed -n '1,40p' | sed 's/^/# /'
	fi
}

# Print the plan and exit 0 when everything passed.
done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
	exit $?
}

# bail 'reason': the environment is broken; the whole run should stop.
bail() {
	echo "Bail out! $*"
	exit 255
}
