#!/bin/sh
# kom-sync validate: every diagnostic of the resource layer, pinned by
# golden files (tests/golden/sync/validate/NAME.err: stderr, then the exit
# status), strict mode, secrets files satisfying [[NAME]], and the seed
# examples of the Komodo docs validating.
. "$(dirname "$0")/lib.sh"

FIX=$KOM_TOP/tests/fixtures/sync
GOLD=$KOM_TOP/tests/golden/sync/validate
cd "$FIX" || bail "no fixtures"
export KOM_SECRETS_DIR="$T/secrets"
mkdir -p "$KOM_SECRETS_DIR"

# run NAME ARGS...: stderr and exit status of kom-sync validate into $T/NAME.err
run() {
	_n=$1
	shift
	kom-sync validate "$@" >"$T/$_n.out" 2>"$T/$_n.raw"
	echo "exit $?" >>"$T/$_n.raw"
	# the secrets directory is named in messages: spell it the same
	sed "s|$KOM_SECRETS_DIR|\$KOM_SECRETS_DIR|g" "$T/$_n.raw" >"$T/$_n.err"
	is "$(cat "$T/$_n.out")" "" "$_n: nothing on stdout"
}

for f in bad/*.toml; do
	n=$(basename "$f" .toml)
	run "$n" "$f"
	cmp_file "$T/$n.err" "$GOLD/$n.err" "$n: diagnostics"
done

run dup dup
cmp_file "$T/dup.err" "$GOLD/dup.err" "duplicate across files"

# strict: warnings become errors (no "warning: " prefix), exit 65
run strict -s bad/unknown-keys.toml
cmp_file "$T/strict.err" "$GOLD/strict.err" "strict mode"
fails 'warnings alone exit 0' 0 kom-sync validate bad/unknown-keys.toml

# the Komodo docs' examples validate (warnings allowed), as one sync
run seed seed
cmp_file "$T/seed.err" "$GOLD/seed.err" "seed examples validate"
fails 'seed exit status' 0 kom-sync validate seed
fails 'types fixture is valid' 0 kom-sync validate types
fails 'types fixture is not strict-clean (renames)' 65 \
    kom-sync validate -s types

# the bundled example is clean even in strict mode
fails 'share/examples/homelab is strict-clean' 0 \
    kom-sync validate -s "$KOM_TOP/share/examples/homelab"

# a secret file satisfies [[NAME]]
echo x >"$KOM_SECRETS_DIR/UNDEFINED"
kom-sync validate bad/interp.toml 2>"$T/interp2.err"
if grep -q "'UNDEFINED'" "$T/interp2.err"; then r=1; else r=0; fi
is "$r" 0 'secret file satisfies a [[NAME]] reference'
ok 'other undefined names still warned' grep -q "'ALSO_UNDEFINED'" \
    "$T/interp2.err"

# usage and unreadable paths
fails 'no path is a usage error' 64 kom-sync validate
fails 'unknown option' 64 kom-sync validate -x seed
fails 'missing path is an error: exit 74 (kom(7): a file that cannot be read)' 74 kom-sync validate "$T/nope"
kom-sync validate "$T/nope" 2>"$T/nope.err"
ok 'missing path named' grep -q "$T/nope: No such file or directory" \
    "$T/nope.err"
fails 'unknown subcommand' 64 kom-sync frobnicate

done_testing
