#!/bin/sh
# What kom cannot deploy yet fails alone, with its reason, and skips no
# unrelated work: a deployment in swarm mode next to a chain of two
# deployments.  Before, kom-exec failed the refused deployment's stage
# and the chain's second deployment, in the next stage, was skipped.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
exec_images

P1=$(port 71)
P2=$(port 72)
S=$T/syncs
mkdir -p "$S"
cat >"$S/apps.toml" <<EOF2
[[swarm]]
name = "$PFX-sw"

[[deployment]]
name = "$PFX-built"
deploy = true
[deployment.config]
swarm = "$PFX-sw"
image.params.image = "$IMG:1"

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
EOF2

kom-sync diff -a "$S" 2>/dev/null | kom-plan | kom-exec >"$T/out" 2>"$T/err"
is "$?" 1 'kom-exec exits 1: one step failed'
is "$(jq -r 'select(.kind == "result") | "\(.action) \(.name) \(.status)"' \
    "$T/out" | sed "s/$PFX-//")" "record sw ok
deploy db ok
deploy api ok
refuse built failed" 'the chain deploys; the swarm deployment is refused last'
is "$(jq -r 'select(.kind == "result" and .action == "refuse") | .error' "$T/out")" \
    "deploy on creation; refused: kom cannot deploy this yet: swarm mode (swarm: a docker service)" \
    'the result carries the reason'
ok 'api runs' running "$PFX-api"
is "$(cid "$PFX-built")" "" 'nothing was created for the refused one'
done_testing
