#!/bin/sh
# share/examples/demo.sh: apply the bundled example sync (homelab/) to the
# local Docker engine with the whole pipeline, twice.  The first run
# creates db, then api, then web; the second finds nothing to change.
#
# Needs the programs built (make) and a Docker engine; contrib/setup demo
# does both.  State lives in $KOM_HOME (default /var/lib/kom-demo when
# root, else ~/.local/state/kom-demo), configured as the host "homelab".
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
PATH=$top/bin:$PATH
if [ "$(id -u)" -eq 0 ]; then
	KOM_HOME=${KOM_HOME:-/var/lib/kom-demo}
else
	KOM_HOME=${KOM_HOME:-$HOME/.local/state/kom-demo}
fi
export KOM_HOME PATH
ex=$top/share/examples/homelab
mkdir -p "$KOM_HOME"
[ -f "$KOM_HOME/kom.toml" ] || printf 'server = "homelab"\n' >"$KOM_HOME/kom.toml"

sh "$top/tests/docker.sh" up
sh "$top/share/examples/build-images.sh" >/dev/null

for run in 1 2; do
	echo "=== run $run: kom-sync diff -H (what changed since the last apply)"
	kom-sync diff -H "$ex"
	echo "=== run $run: kom-plan -H (what will be done, and why)"
	kom-sync diff "$ex" | kom-plan -H
	echo "=== run $run: kom-sync diff | kom-plan | kom-exec"
	out=$(mktemp)
	rc=0
	kom-sync diff "$ex" | kom-plan | kom-exec >"$out" || rc=$?
	jq -r 'select(.kind == "result") |
	    "\(.status)\t\(.action) \(.type) \(.name): \(.reason)" +
	    (if .error then "\n\terror: \(.error)" else "" end)' "$out"
	rm -f "$out"
	[ "$rc" -eq 0 ] || { echo "demo: kom-exec exited $rc" >&2; exit "$rc"; }
done
echo "=== kom-exec status -H"
kom-exec status -H
echo "=== the front page: curl http://127.0.0.1:8080/"
curl -fsS --retry 5 --retry-connrefused --retry-delay 1 http://127.0.0.1:8080/
