#!/bin/sh
# Every program ends through kom_close_stdout(): a write that fails (here
# on /dev/full, which says ENOSPC) is reported as "PROG: stdout: ..." and
# exits 74, in every mode that writes to stdout, -h and -V included.
. "$(dirname "$0")/lib.sh"

S=$T/sync
mkdir -p "$S"
printf '[[deployment]]\nname = "web"\n[deployment.config]\nimage.params.image = "nginx:1"\n' \
    >"$S/web.toml"
kom-sync diff "$S" >"$T/diff.jsonl" || bail 'kom-sync diff failed'
echo '{"kind":"end","program":"kom-plan","steps":0,"stages":0}' >"$T/empty.plan"

# full NAME PROG ARGS...: PROG ARGS >/dev/full exits 74 and says why
full() {
	_n=$1
	shift
	"$@" >/dev/full 2>"$T/full.err"
	is "$?" 74 "$_n: exit 74 on a full device"
	ok "$_n: the error names stdout" grep -q \
	    "^$1: stdout: No space left on device\$" "$T/full.err"
}

full 'kom-sync toml' kom-sync toml "$S/web.toml"
full 'kom-sync show' kom-sync show "$S"
full 'kom-sync diff' kom-sync diff "$S"
full 'kom-sync diff -H' kom-sync diff -H "$S"
full 'kom-sync -h' kom-sync -h
full 'kom-sync -V' kom-sync -V
full 'kom-sync diff -h' kom-sync diff -h
full 'kom-plan' kom-plan "$T/diff.jsonl"
full 'kom-plan -H' kom-plan -H "$T/diff.jsonl"
full 'kom-plan -V' kom-plan -V
full 'kom-exec' kom-exec "$T/empty.plan"
full 'kom-exec -n' kom-exec -n "$T/empty.plan"
full 'kom-exec -V' kom-exec -V

# and a stdout that works is no error
fails 'kom-sync show to a file exits 0' 0 kom-sync show "$S"
fails 'kom-exec of an empty plan exits 0' 0 kom-exec "$T/empty.plan"
done_testing
