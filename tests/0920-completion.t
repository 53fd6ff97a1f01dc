#!/bin/sh
# Bash completion: the subcommands and flags of each program as its man
# page's SYNOPSIS has them, and names from the state dir
# (STATE/resources/TYPE/NAME.json, KOM_HOME respected, %XX decoded) and
# from kom.toml's [[resource_sync]].
. "$(dirname "$0")/lib.sh"
command -v bash >/dev/null || bail "bash is needed"
cd "$KOM_TOP" || bail "no top"
ok 'make completion' make -s completion
C=$KOM_TOP/obj/kom.bash

# comp WORDS...: what completing the last word offers, sorted, one a line.
comp() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
	    _kom; printf "%s\n" "${COMPREPLY[@]}"' comp "$C" "$@" 2>&1 |
	    grep . | sort
}

for p in $(ls cmd); do
	ok "$p has a completion" bash -c ". '$C'; complete -p $p"
done
is "$(comp kom-sync '')" 'diff
show
toml
validate' 'kom-sync: its subcommands'
is "$(comp kom-sync diff -)" '-H
-d
-j
-n
-s
-t
-v
-y' 'kom-sync diff: its flags'
is "$(comp kom-sync validate -)" '-n
-s' 'kom-sync validate: its own flags only'
is "$(comp kom-exec st)" 'start
status
stop' 'kom-exec: subcommands by prefix'
is "$(comp kom-exec -)" '-V
-b
-j
-n' 'kom-exec without a subcommand: its flags'
is "$(comp kom-plan -)" '-H
-V
-g
-l
-p' 'kom-plan: the flags of both forms'

mkdir -p "$KOM_HOME/state/resources/deployment" \
    "$KOM_HOME/state/resources/stack" "$KOM_HOME/state/resources/procedure"
for f in deployment/web deployment/db deployment/a%2Fb stack/media \
    procedure/nightly; do
	echo '{}' >"$KOM_HOME/state/resources/$f.json"
done
is "$(comp kom-exec deploy '')" 'a/b
db
media
web' 'kom-exec deploy: deployments and stacks from KOM_HOME/state'
is "$(comp kom-exec restart w)" 'web' 'by prefix'
is "$(comp kom-plan -p '')" 'nightly' 'kom-plan -p: procedures'
is "$(KOM_STATE_DIR=$T/none comp kom-exec deploy '')" '' \
    'KOM_STATE_DIR wins over KOM_HOME'
cat >"$KOM_HOME/kom.toml" <<'EOF2'
server = "nas"
[[resource_sync]]
name = "homelab"
resource_path = ["x"]
[[resource_sync]]
name = 'media'
EOF2
is "$(comp kom-sync diff -y '')" 'homelab
media' 'kom-sync diff -y: the syncs of kom.toml'
is "$(comp kom-exec stop -s SIGK)" 'SIGKILL' 'kom-exec stop -s: signal names'
mkdir -p "$T/files"
: >"$T/files/plan.jsonl"
is "$(cd "$T/files" && comp kom-plan pl)" 'plan.jsonl' 'kom-plan FILE: file names'
done_testing
