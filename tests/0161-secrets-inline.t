#!/bin/sh
# Inline secret values ([[variable]] is_secret = true with a value in the
# sync file, as Komodo users write them): kom uses the value (a secret
# file of that name still wins), warns once that it lives in git, never
# writes it out (every output, state, history and spool file is searched
# for it), and shows a change of the value in the diff without the value,
# through a keyed hash.  Against the real engine.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images
export KOM_GRACE_MS=300
unset KOM_SECRETS_DIR CREDENTIALS_DIRECTORY

S=$T/sync
SEC=$T/sec
O=$T/outs
mkdir -p "$S" "$SEC" "$O"
P1=$(port 1)
V1=inl-$$-a71c
V2=inl-$$-b82d
V3=file-$$-c93e
printf 'secrets_dir = "%s"\n' "$SEC" >"$KOM_HOME/kom.toml"

# write_sync VALUE
write_sync() {
	{
		printf '[[variable]]\nname = "API_TOKEN"\nvalue = "%s"\n' "$1"
		printf 'is_secret = true\n\n'
		toml_deployment "$PFX-api" "$IMG:1" "httpd -f -p $P1 -h /www" \
		    'environment = "API_TOKEN = [[API_TOKEN]]"'
	} >"$S/app.toml"
}

envof() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
	    sed -n 's/^API_TOKEN=//p'
}

# run N: the whole pipeline, every output kept in $O as N.*
n=0
run() {
	n=$((n + 1))
	kom-sync show "$S" >"$O/$n.show" 2>"$O/$n.show.err"
	kom-sync diff -H "$S" >"$O/$n.human" 2>"$O/$n.human.err"
	kom-sync diff "$S" >"$O/$n.diff" 2>"$O/$n.diff.err" &&
	    kom-plan <"$O/$n.diff" >"$O/$n.plan" 2>"$O/$n.plan.err" &&
	    kom-plan -H <"$O/$n.diff" >"$O/$n.plan.human" 2>&1 &&
	    kexec_to "$O/$n.out" "$O/$n.err" "$O/$n.plan"
}

# nowhere V: V is in no output of any run, nor in the state dir,
# history or spool
nowhere() {
	! grep -rl -- "$1" "$O" "$KOM_HOME"
}

# var FIELD: a field of the variable's diff record of the last run
var() {
	jq -r "select(.type == \"variable\") | $1" "$O/$n.diff"
}

write_sync "$V1"
kom-sync validate "$S" 2>"$T/validate.err"
is "$?" 0 'validate passes'
is "$(grep -c 'API_TOKEN' "$T/validate.err")" 1 'one warning for the variable'
ok 'saying the value lives in git and kom uses it' grep -q \
    "secret variable 'API_TOKEN' has its value in git; kom uses it, but it belongs in $SEC/API_TOKEN" \
    "$T/validate.err"

run
is "$?" 0 'the first apply succeeds'
is "$(envof "$PFX-api")" "$V1" 'the container has the inline value'
is "$(var .config.value)" '<API_TOKEN>' 'the record shows <API_TOKEN>'
ok 'the inline value is in no output, state, history or spool file' \
    nowhere "$V1"
ok 'the host key exists' test -s "$KOM_HOME/state/secret.key"
is "$(stat -c %a "$KOM_HOME/state/secret.key")" 600 'mode 0600'
H1=$(var .secret_hash)
is "$(printf %s "$H1" | wc -c)" 64 'the record carries a 64-digit hash'
ok 'which is not a plain SHA-256 of the value' test "$H1" != \
    "$(printf %s "$V1" | sha256sum | cut -d' ' -f1)"

run
is "$(var .op)" keep 'an unchanged value: the variable is kept'
is "$(jq -r 'select(.kind == "result") | .status' "$O/$n.out")" noop \
    'and nothing is redeployed'

# a new value: a change without the value
write_sync "$V2"
run
is "$?" 0 'the apply of a new value succeeds'
is "$(jq -r 'select(.type == "variable") | .op' "$O/$n.diff")" update \
    'the variable is updated'
is "$(jq -c 'select(.type == "variable") | .changes' "$O/$n.diff")" \
    '[{"path":"config.value","from":"<API_TOKEN>","to":"<API_TOKEN>"}]' \
    'the change shows without the value'
ok 'diff -H shows the change' grep -q "update variable 'API_TOKEN'" \
    "$O/$n.human"
is "$(envof "$PFX-api")" "$V2" 'the container has the new value'
ok 'neither value is in any file' sh -c \
    "! grep -rl -e '$V1' -e '$V2' '$O' '$KOM_HOME'"

# a secret file of that name wins over the value in git
printf '%s\n' "$V3" >"$SEC/API_TOKEN"
kom-sync validate "$S" 2>"$T/validate2.err"
ok 'validate says the file overrides the value in git' grep -q \
    "secret variable 'API_TOKEN' has a value in git, unused: $SEC/API_TOKEN overrides it" \
    "$T/validate2.err"
run
is "$?" 0 'the apply with the file succeeds'
is "$(var .op)" update 'the switch to the file shows as a change'
is "$(envof "$PFX-api")" "$V3" 'the file wins'
ok 'no value is in any file' sh -c \
    "! grep -rl -e '$V1' -e '$V2' -e '$V3' '$O' '$KOM_HOME'"

# another host key: the sealed value cannot be opened, the step fails
rm "$SEC/API_TOKEN"
run
is "$(envof "$PFX-api")" "$V2" 'back to the value in git'
docker rm -f "$PFX-api" >/dev/null
rm "$KOM_HOME/state/secret.key"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$KOM_HOME/state/secret.key"
chmod 600 "$KOM_HOME/state/secret.key"
kom-exec deploy "$PFX-api" >"$T/out" 2>"$T/err"
ok 'a value sealed under another key fails the step' grep -q \
    "secret 'API_TOKEN': the value recorded from git cannot be unsealed" \
    "$T/out"
rm "$KOM_HOME/state/secret.key"
kom-exec deploy "$PFX-api" >"$T/out" 2>"$T/err"
ok 'without the key the step fails naming it' grep -q \
    "secret 'API_TOKEN': $KOM_HOME/state/secret.key: No such file or directory" \
    "$T/out"
done_testing
