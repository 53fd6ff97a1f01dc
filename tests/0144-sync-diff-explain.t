#!/bin/sh
# diff -H says why an unchanged deployment will still redeploy: kom-exec
# compares the interpolated spec, the diff only the declared one.  A
# variable the diff updates names the resources that use it; values it
# never compares (a secret file after a rotation, a variable left out of
# the sync) are named too.  Before, "0 to update" and exec "drifted".
. "$(dirname "$0")/lib.sh"

S=$T/syncs
mkdir -p "$S"
export KOM_SECRETS_DIR=$T/secrets
mkdir -p "$KOM_SECRETS_DIR"
echo old >"$KOM_SECRETS_DIR/DB_PASSWORD"
write() {	# write TZ
	cat >"$S/apps.toml" <<EOF2
[[variable]]
name = "TZ"
value = "$1"

[[deployment]]
name = "db"
deploy = true
[deployment.config]
image.params.image = "postgres:16"
environment = """
POSTGRES_PASSWORD = [[DB_PASSWORD]]
"""

[[deployment]]
name = "web"
deploy = true
[deployment.config]
image.params.image = "nginx:1"
environment = """
TZ = [[TZ]]
"""

[[deployment]]
name = "plain"
deploy = true
[deployment.config]
image.params.image = "nginx:1"
EOF2
}
apply_by_hand() {	# the records as kom-exec would have saved them
	kom-sync show -a "$S" >"$T/show" 2>/dev/null || bail "show failed"
	jq -c 'select(.kind == "resource") | del(.kind)' "$T/show" |
	while IFS= read -r rec; do
		t=$(printf '%s' "$rec" | jq -r .type)
		n=$(printf '%s' "$rec" | jq -r .name)
		mkdir -p "$KOM_HOME/state/resources/$t"
		printf '%s\n' "$rec" >"$KOM_HOME/state/resources/$t/$n.json"
	done
}

write UTC
apply_by_hand
echo new >"$KOM_SECRETS_DIR/DB_PASSWORD"	# a rotation
kom-sync diff -H "$S" >"$T/out" 2>"$T/err"
is "$?" 0 'diff -H exits 0'
is "$(tail -n 2 "$T/out")" "Plan: 0 to create, 0 to update, 0 to delete, 4 unchanged.
Note: 1 unchanged deployment or stack uses [[DB_PASSWORD]], whose values this diff does not compare (secret files, variables left out of the sync): a value changed there redeploys it at apply time (kom-exec says drifted)." \
    'a rotation: the diff says why an unchanged deployment may redeploy'

write Europe/Berlin
kom-sync diff -H "$S" >"$T/out" 2>"$T/err"
ok 'the variable is an update' grep -q "^~ update variable 'TZ'" "$T/out"
ok 'its users are named' grep -qx "Note: deployment 'web' is unchanged here but uses \[\[TZ\]\], which this diff changes: kom-exec redeploys it." "$T/out"
ok 'plain is not named' sh -c "! grep -q plain '$T/out'"
done_testing
