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
# The flags offered are those of the program's own usage message (the
# usage string equals the SYNOPSIS the tables are made from): for every
# program, every subcommand, the flags of all its forms.
usage_forms() {
	"$1" -h 2>&1 | sed 's/^usage: //; s/^ *//' | awk -v p="$1" '
	$1 == p {
		sc = ""
		if ($2 !~ /^[[-]/) sc = $2
		f = ""
		for (i = 2; i <= NF; i++) {
			w = $i
			gsub(/[][]/, "", w)
			if (w ~ /^-[A-Za-z]+$/)
				for (j = 2; j <= length(w); j++)
					f = f " -" substr(w, j, 1)
		}
		n = split(sc, subs, "|")
		if (n == 0) { n = 1; subs[1] = "" }
		for (k = 1; k <= n; k++)
			print subs[k] "\t" f
	}'
}
for p in $(ls cmd); do
	usage_forms "$p" >"$T/forms"
	ok "$p -h prints its usage" test -s "$T/forms"
	for sub in $(cut -f1 "$T/forms" | sort -u) ''; do
		want=$(awk -F'\t' -v s="$sub" '$1 == s { print $2 }' "$T/forms" |
		    tr ' ' '\n' | grep . | sort -u)
		[ -n "$want" ] || continue
		if [ -n "$sub" ]; then
			got=$(comp "$p" "$sub" -)
		else
			got=$(comp "$p" -)
		fi
		is "$got" "$want" "$p ${sub:-(no subcommand)}: the flags of its usage"
	done
done

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
