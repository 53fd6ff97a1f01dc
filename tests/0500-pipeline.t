#!/bin/sh
# The whole pipeline on resource files, against the real Docker engine:
# kom-sync diff | kom-plan | kom-exec.  A first apply deploys a chain in
# order, a second changes nothing, an edit redeploys exactly what it
# should, a removal (with delete on) destroys, and a pipeline whose
# first stage is cut short, or whose plan has a cycle, applies nothing.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images

S=$T/sync
mkdir -p "$S"
P1=$(port 41)
P2=$(port 42)
P3=$(port 43)

# write_sync API_GREETING [WITH_WEB]: the resource files, Komodo format.
write_sync() {
	cat >"$S/base.toml" <<EOF2
[[variable]]
name = "GREETING"
value = "$1"

[[deployment]]
name = "$PFX-db"
deploy = true
[deployment.config]
image.params.image = "$IMG:1"
command = "httpd -f -p $P1 -h /www"
termination_timeout = 1

[[deployment]]
name = "$PFX-api"
deploy = true
after = ["$PFX-db"]
[deployment.config]
image.params.image = "$IMG:1"
command = "httpd -f -p $P2 -h /www"
termination_timeout = 1
environment = """
GREETING = [[GREETING]]
MODE = $1
"""
EOF2
	rm -f "$S/web.toml"
	[ -n "${2:-}" ] && cat >"$S/web.toml" <<EOF2
[[deployment]]
name = "$PFX-web"
deploy = true
after = ["$PFX-api"]
[deployment.config]
image.params.image = "$IMG:1"
command = "httpd -f -p $P3 -h /www"
termination_timeout = 1
EOF2
	:
}

apply() {
	kom-sync diff "$@" "$S" | kom-plan | kom-exec >"$T/out" 2>"$T/err"
}

# statuses: "action name status" per result, sorted by id.
statuses() {
	jq -r 'select(.kind=="result") | "\(.id) \(.action) \(.name) \(.status)"' \
	    "$T/out" | sort -n | cut -d' ' -f2- | sed "s/$PFX-//"
}

write_sync hello web
ok 'the files validate' kom-sync validate -s "$S"
apply
is "$?" 0 'first apply succeeds'
is "$(statuses)" "record GREETING ok
deploy db ok
deploy api ok
deploy web ok" 'records the variable, then deploys db, api, web in order'
for n in db api web; do
	ok "$n runs" running "$PFX-$n"
done
is "$(fetch "$P3")" v1 'web answers'
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
    "$PFX-api" | grep GREETING)" GREETING=hello 'the variable is interpolated'
DB=$(cid "$PFX-db")
API=$(cid "$PFX-api")
WEB=$(cid "$PFX-web")

apply
is "$?" 0 'second apply succeeds'
is "$(statuses)" "ensure db noop
ensure api noop
ensure web noop" 'and changes nothing'
is "$(cid "$PFX-db") $(cid "$PFX-api") $(cid "$PFX-web")" "$DB $API $WEB" \
    'same containers'

write_sync bonjour web
kom-sync diff "$S" | kom-plan -H >"$T/plan.txt"
ok 'the plan says why api deploys' \
    grep -q "deployment '$PFX-api': deployment config has changed: environment" \
    "$T/plan.txt"
ok 'and why web follows' \
    grep -q "deployment '$PFX-web': Deployment parent dependency '$PFX-api' is deploying" \
    "$T/plan.txt"
apply
is "$?" 0 'apply the edit'
is "$(statuses)" "record GREETING ok
ensure db noop
deploy api ok
deploy web ok" 'api and its dependent redeploy, db does not'
is "$(cid "$PFX-db")" "$DB" 'db kept its container'
ok 'api was replaced' test "$(cid "$PFX-api")" != "$API"
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
    "$PFX-api" | grep GREETING)" GREETING=bonjour 'with the new value'
API=$(cid "$PFX-api")

# A first stage cut short: kom-plan sees no end record, kom-exec neither.
write_sync ciao web
kom-sync diff "$S" | head -n 2 | kom-plan 2>"$T/plan.err" |
    kom-exec >"$T/out" 2>"$T/err"
is "$?" 65 'a truncated stream applies nothing (exit 65)'
ok 'kom-plan says the input was truncated' grep -q truncated "$T/plan.err"
is "$(cid "$PFX-api")" "$API" 'api untouched'

# A cycle: kom-sync diff refuses (kom-plan's own check), and nothing is
# applied.
sed -i "/name = \"$PFX-db\"/a after = [\"$PFX-web\"]" \
    "$S/base.toml"
kom-sync diff "$S" 2>"$T/diff.err" | kom-plan 2>"$T/plan.err" |
    kom-exec >"$T/out" 2>"$T/err"
is "$?" 65 'a cycle applies nothing (exit 65)'
ok 'kom-sync diff names the cycle' grep -q "cycle in 'after'" "$T/diff.err"
is "$(cid "$PFX-api")" "$API" 'api still untouched'

# Removing a file's resource destroys it only when deletes are on.
write_sync bonjour
apply
is "$(statuses)" "ensure db noop
ensure api noop" 'without -d an undeclared deployment is left alone'
ok 'web still runs' running "$PFX-web"
apply -d
is "$?" 0 'apply with deletes'
is "$(statuses | grep web)" "destroy web ok" 'web is destroyed'
is "$(cid "$PFX-web")" '' 'its container is gone'
ok 'and it is forgotten' test ! -e "$KOM_HOME/state/resources/deployment/$PFX-web.json"
done_testing
