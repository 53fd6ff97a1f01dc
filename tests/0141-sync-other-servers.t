#!/bin/sh
# Pull mode never drops a resource without a word: what is left out for
# other servers is one line on stderr with the count and the servers,
# whatever the host name comes from (the host name, kom.toml, -n); -a
# includes them; files that assign nothing to a server are kept whole.
. "$(dirname "$0")/lib.sh"

S=$T/syncs
mkdir -p "$S"
cat >"$S/apps.toml" <<'EOF2'
[[server]]
name = "tower"
[[server]]
name = "nas"
[[stack]]
name = "media"
[stack.config]
server = "tower"
[[stack]]
name = "photos"
[stack.config]
server = "tower"
[[deployment]]
name = "backup"
[deployment.config]
server = "nas"
[[deployment]]
name = "here"
EOF2

names() {
	jq -r 'select(.kind == "resource") | .name' "$1" | tr '\n' ' '
}

# no kom.toml, no -n: this host is the host name
H=$(hostname)
kom-sync diff "$S" >"$T/out" 2>"$T/err"
is "$?" 0 'diff exits 0'
is "$(names "$T/out")" 'here ' 'only what is this host'"'"'s'
is "$(cat "$T/err")" "kom-sync: left out 5 resources of other servers ('tower': 3, 'nas': 2); this host is '$H', -a includes them" \
    'one line: the count and the servers'
kom-sync diff -H "$S" >"$T/out" 2>"$T/err"
is "$(grep -c 'left out 5 resources' "$T/err")" 1 '-H: the same line'

printf 'server = "nas"\n' >"$KOM_HOME/kom.toml"
kom-sync diff "$S" >"$T/out" 2>"$T/err"
is "$(names "$T/out")" 'nas backup here ' 'kom.toml server'
is "$(cat "$T/err")" "kom-sync: left out 3 resources of other servers ('tower': 3); this host is 'nas', -a includes them" \
    'kom.toml server: the line'
kom-sync diff -n tower "$S" >"$T/out" 2>"$T/err"
is "$(names "$T/out")" 'tower media photos here ' '-n tower'
is "$(cat "$T/err")" "kom-sync: left out 2 resources of other servers ('nas': 2); this host is 'tower', -a includes them" \
    '-n: the line'
kom-sync show "$S" >"$T/out" 2>"$T/err"
is "$(grep -c 'left out 3 resources' "$T/err")" 1 'show: the same line'

# a fleet: the first eight servers named, then how many others
F=$T/fleet
mkdir -p "$F"
i=1
while [ $i -le 12 ]; do
	printf '[[deployment]]\nname = "d%d"\n[deployment.config]\nserver = "h%d"\n' \
	    $i $i >>"$F/fleet.toml"
	i=$((i + 1))
done
kom-sync diff -n h1 "$F" >"$T/out" 2>"$T/err"
is "$(cat "$T/err")" "kom-sync: left out 11 resources of other servers ('h2': 1, 'h3': 1, 'h4': 1, 'h5': 1, 'h6': 1, 'h7': 1, 'h8': 1, 'h9': 1 and 3 other servers); this host is 'h1', -a includes them" \
    'many servers: eight named, the rest counted'

kom-sync diff -a "$S" >"$T/out" 2>"$T/err"
is "$(names "$T/out")" 'nas tower media photos backup here ' '-a: everything (diff sorts by name)'
is "$(cat "$T/err")" "" '-a: nothing on stderr'
ok '-s: the line is no error' kom-sync diff -s "$S"

# nothing assigned: everything kept, nothing said
cat >"$S/apps.toml" <<'EOF2'
[[deployment]]
name = "here"
EOF2
kom-sync diff "$S" >"$T/out" 2>"$T/err"
is "$(names "$T/out")" 'here ' 'no assignment: kept'
is "$(cat "$T/err")" "" 'no assignment: nothing said'
done_testing
