#!/bin/sh
# One secret lookup for every program (lib/secrets): kom.toml's
# secrets_dir is where kom-sync validate looks and where kom-exec reads,
# KOM_SECRETS_DIR overrides it, $CREDENTIALS_DIRECTORY comes first, and
# the messages name the directory in force.  A real deploy against the
# engine: the container's environment has the value, and no output,
# state, history or spool file has it.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
export KOM_GRACE_MS=300
unset KOM_SECRETS_DIR CREDENTIALS_DIRECTORY

S=$T/sync
SEC=$T/sec
mkdir -p "$S" "$SEC"
P1=$(port 1)
VALUE=pw-$$-9f3c1e
printf '%s\n' "$VALUE" >"$SEC/DB_PASSWORD"
printf 'secrets_dir = "%s"\n' "$SEC" >"$KOM_HOME/kom.toml"
{
	printf '[[variable]]\nname = "DB_PASSWORD"\nis_secret = true\n\n'
	toml_deployment "$PFX-db" "$IMG:1" "httpd -f -p $P1 -h /www" \
	    'environment = "DB_PASSWORD = [[DB_PASSWORD]]"'
} >"$S/app.toml"

envof() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
	    sed -n 's/^DB_PASSWORD=//p'
}

apply() {
	pipeline "$S"
}

# validate finds the file in secrets_dir: no warning about the name
kom-sync validate "$S" 2>"$T/validate.err"
is "$?" 0 'validate passes'
is "$(cat "$T/validate.err")" "" 'and finds DB_PASSWORD in secrets_dir'

# a declared secret with no value anywhere: validate says so, naming the
# directory (the deploy would fail on it)
mv "$SEC/DB_PASSWORD" "$T/DB_PASSWORD.away"
kom-sync validate "$S" 2>"$T/novalue.err"
ok 'a secret variable without a value is a warning' grep -q \
    "secret variable 'DB_PASSWORD' has no value: no secret file in $SEC has that name" \
    "$T/novalue.err"
mv "$T/DB_PASSWORD.away" "$SEC/DB_PASSWORD"

# the warning for a missing one names the directory searched
printf '[[stack]]\nname = "s"\n[stack.config]\nenvironment = "A=[[NOPE]]"\n' \
    >"$T/ref.toml"
kom-sync validate "$T/ref.toml" 2>"$T/validate2.err"
ok 'a missing secret is named with the directory searched' grep -q \
    "no secret file in $SEC has that name" "$T/validate2.err"

# KOM_SECRETS_DIR beats kom.toml
mkdir -p "$T/other"
KOM_SECRETS_DIR=$T/other kom-sync validate "$T/ref.toml" \
    2>"$T/validate3.err"
ok 'KOM_SECRETS_DIR overrides secrets_dir' grep -q \
    "no secret file in $T/other has that name" "$T/validate3.err"

# a secret variable with a value in git: the advice names secrets_dir
printf '[[variable]]\nname = "TOKEN"\nvalue = "x"\nis_secret = true\n' \
    >"$T/ingit.toml"
kom-sync validate "$T/ingit.toml" 2>"$T/ingit.err"
ok 'the in-git warning names secrets_dir' grep -q \
    "but it belongs in $SEC/TOKEN" "$T/ingit.err"

# a real deploy reads the value from secrets_dir
apply
is "$?" 0 'the deploy succeeds with secrets_dir from kom.toml'
ok "$PFX-db runs" running "$PFX-db"
is "$(envof "$PFX-db")" "$VALUE" 'the container has the secret value'
ok 'the value is in no output, state, history or spool file' sh -c \
    "! grep -rl -- '$VALUE' '$T'/*.out '$T'/*.err '$T/out' '$T/err' \
    '$KOM_HOME'"

# $CREDENTIALS_DIRECTORY comes first (a rotation: kom redeploys it as
# drifted, the hash covers the value)
mkdir -p "$T/cred"
printf 'cred-%s\n' "$VALUE" >"$T/cred/DB_PASSWORD"
CREDENTIALS_DIRECTORY=$T/cred
export CREDENTIALS_DIRECTORY
apply
is "$?" 0 'a deploy with CREDENTIALS_DIRECTORY set'
is "$(envof "$PFX-db")" "cred-$VALUE" 'CREDENTIALS_DIRECTORY is read first'
is "$(jq -r 'select(.type == "variable") | .op' "$T/diff.out")" update \
    'the diff shows the rotated secret as a changed variable'
ok 'kom-exec says why it redeploys' grep -q \
    'the record is unchanged, a value it interpolates changed (\[\[DB_PASSWORD\]\])' \
    "$T/out"
unset CREDENTIALS_DIRECTORY

# a secret file that cannot be read fails the step naming it
chmod 000 "$SEC/DB_PASSWORD"
if [ "$(id -u)" = 0 ]; then
	# root reads any mode: a file larger than the 1 MiB cap instead
	chmod 600 "$SEC/DB_PASSWORD"
	head -c 1048577 /dev/zero | tr '\0' x >"$SEC/DB_PASSWORD"
fi
docker rm -f "$PFX-db" >/dev/null
apply
is "$?" 1 'a secret that cannot be read fails the step'
ok 'the error names the file' grep -q "secret 'DB_PASSWORD': $SEC/DB_PASSWORD: " \
    "$T/out"
done_testing
