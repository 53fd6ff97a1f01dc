#!/bin/sh
# The README's "Using kom on a host", verbatim: its kom.toml and its
# kom-* command lines, taken from the README text, run against the real
# engine on the bundled example placed where the README says
# (/srv/syncs/homelab, in a private mount namespace).  The example's
# names, ports and host volume get this test's own, and its bridge network
# becomes the host's (like every test here: no dependence on the engine's
# bridge), so that nothing on a shared engine is touched; its variables,
# order and servers are as shipped.  A first deploy must work (it failed with
# "undefined variable 'TZ'": the sync left the variables out).
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
command -v unshare >/dev/null || bail "unshare (util-linux) is needed"
[ "$(id -u)" -eq 0 ] || bail "root is needed for a mount namespace"

sh "$KOM_TOP/share/examples/build-images.sh" >/dev/null 2>&1 ||
	bail "cannot build the example's images"

# the README's section, its kom.toml block and its command lines
sed -n '/^Using kom on a host$/,/^What kom-exec does/p' "$KOM_TOP/README" \
    >"$T/section"
sed -n '/^    # \/etc\/kom\/kom.toml$/,/^$/p' "$T/section" |
    sed '1d;$d;s/^    //' >"$KOM_HOME/kom.toml"
grep '^    kom-' "$T/section" | sed 's/^    //' >"$T/commands"
ok 'the README has a kom.toml' grep -q '^\[\[resource_sync\]\]$' "$KOM_HOME/kom.toml"
is "$(wc -l <"$T/commands" | tr -d ' ')" 5 'the README has five kom- commands'

P0=$(port 60)
P1=$(port 61)
P2=$(port 62)
mkdir -p "$T/srv/syncs/homelab" "$T/db"
sed -e "s/\"db\"/\"$PFX-db\"/g; s/\"api\"/\"$PFX-api\"/g" \
    -e "s/\"web\"/\"$PFX-web\"/g" \
    -e 's/^network = "bridge"$/network = "host"/; /^ports = /d' \
    -e "s/-p 5432 /-p $P0 /; s/-p 8081 /-p $P1 /; s/-p 8080 /-p $P2 /" \
    -e "s|\"/srv/homelab/db:/data\"|\"$T/db:/data\"|" \
    "$KOM_TOP/share/examples/homelab/homelab.toml" \
    >"$T/srv/syncs/homelab/homelab.toml"
ok 'the example still uses its variable' grep -q 'TZ = \[\[TZ\]\]' \
    "$T/srv/syncs/homelab/homelab.toml"

# in_ns CMD: CMD (a string) in a mount namespace where /srv is this test's
in_ns() {
	unshare -m sh -c 'mount --make-rprivate / &&
	    mount --bind "$1/srv" /srv && cd / && eval "$2"' sh "$T" "$1"
}

# without include_variables the sync leaves TZ out: diff says so
cp "$KOM_HOME/kom.toml" "$T/kom.toml"
grep -v '^include_variables' "$T/kom.toml" >"$KOM_HOME/kom.toml"
in_ns 'kom-sync diff -H -y homelab' >/dev/null 2>"$T/err"
is "$(grep warning: "$T/err")" "kom-sync: /srv/syncs/homelab/homelab.toml:19: warning: variable 'TZ' is used by deployment '$PFX-db' (homelab.toml:24) and 2 more, but sync 'homelab' leaves variables out (include_variables = false): it was never applied, so the deploy fails; set include_variables = true in kom.toml(5)" \
    'variables left out: one warning naming the variable and its users'
cp "$T/kom.toml" "$KOM_HOME/kom.toml"

# run each command line as written
n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	in_ns "$cmd" >"$T/out.$n" 2>"$T/err.$n"
	rc=$?
	is "$rc" 0 "README: $cmd"
	[ "$rc" -eq 0 ] || diag "$(cat "$T/err.$n" "$T/out.$n")"
done <"$T/commands"

is "$(grep -c warning: "$T/err.2")" 0 'diff -H: no warning'
is "$(cat "$T/err.2")" "" \
    'diff -H: nothing on stderr (the procedure schedule is acted on: timers)'
ok 'plan -H: db, api, web deploy' grep -q "$PFX-web" "$T/out.3"
is "$(jq -r 'select(.kind == "result") | "\(.action) \(.name) \(.status)"' \
    "$T/out.4" | sed "s/$PFX-//" | sort)" "deploy api ok
deploy db ok
deploy web ok
record TZ ok
record homelab ok
record restart-all ok" 'the apply records TZ and deploys db, api, web'
is "$(jq -r 'select(.kind == "result" and .action == "deploy") | .name' \
    "$T/out.4" | sed "s/$PFX-//" | tr '\n' ' ')" "db api web " 'in order'
is "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' \
    "$PFX-web" | grep '^TZ=')" 'TZ=Europe/Berlin' 'web has the TZ of the variable'
is "$(fetch "$P2")" '<h1>kom example</h1>' 'web answers'
done_testing
