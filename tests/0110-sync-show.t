#!/bin/sh
# kom-sync show: normalized records pinned by golden files (the Komodo
# docs' examples and one fixture per resource type and field format),
# pull-mode selection (-n, -a), match tags (-t), determinism whatever the
# order of files and arguments, nothing on stdout on errors, and a planted
# secret value that must never appear in any output or golden file.
. "$(dirname "$0")/lib.sh"

FIX=$KOM_TOP/tests/fixtures/sync
GOLD=$KOM_TOP/tests/golden/sync/show
cd "$FIX" || bail "no fixtures"
export KOM_SECRETS_DIR="$T/secrets"
mkdir -p "$KOM_SECRETS_DIR"

# "root" is the absolute directory a record's source is relative to: it
# depends on where the tree is, so the golden files leave it out
noroot() {
	sed 's/,"root":"[^"]*"//' "$1" >"$1.noroot" && mv "$1.noroot" "$1"
}

names() {
	jq -r 'if .kind == "resource" then .type + " " + .name else .kind end' \
	    "$1" | tr '\n' ' '
}

kom-sync show -a seed >"$T/seed.out" 2>"$T/seed.err"
is "$?" 0 'seed: exit 0'
is "$(jq -r 'select(.kind == "resource") | .root' "$T/seed.out" | sort -u)" \
    "$(cd seed && pwd -P)" 'seed: root is the real path of the directory'
noroot "$T/seed.out"
cmp_file "$T/seed.out" "$GOLD/seed.jsonl" 'seed: records'
ok 'seed: one JSON object per line' jq -e . "$T/seed.out"

kom-sync show -a types >"$T/types.out" 2>"$T/types.err"
is "$?" 0 'types: exit 0'
noroot "$T/types.out"
cmp_file "$T/types.out" "$GOLD/types.jsonl" 'types: records'
is "$(tail -n 1 "$T/types.out")" \
    '{"kind":"end","program":"kom-sync","counts":{"total":21}}' 'end record'
is "$(names "$T/types.out")" "variable DB_HOST variable DB_PASSWORD \
user_group ops server host1 server host2 alerter chat alerter \
default-endpoint action report swarm cluster builder local builder remote \
builder default-aws repo api_src build api stack web resource_sync self \
deployment db deployment api deployment worker procedure nightly procedure \
weekly end " 'apply order, then file order'

# pull mode: -n keeps what is assigned to that server
kom-sync show -n host2 types >"$T/host2.out" 2>/dev/null
is "$(names "$T/host2.out")" "variable DB_HOST variable DB_PASSWORD \
user_group ops server host2 alerter chat alerter default-endpoint action \
report swarm cluster builder local builder remote builder default-aws repo \
api_src build api resource_sync self procedure nightly procedure weekly end " \
    '-n host2: its server and repo, nothing of host1'
kom-sync show -n host1 types >"$T/host1.out" 2>/dev/null
is "$(jq -r 'select(.type == "deployment" or .type == "stack" or
    .type == "server" or .type == "repo") | .name' "$T/host1.out" |
    tr '\n' ' ')" "host1 web db api worker " \
    '-n host1: its containers, and the swarm whose first server it is'
# kom.toml's server is the default
printf 'server = "host2"\n' >"$KOM_HOME/kom.toml"
kom-sync show types >"$T/default.out" 2>/dev/null
cmp_file "$T/default.out" "$T/host2.out" 'kom.toml server is the default'
rm "$KOM_HOME/kom.toml"
# files that assign nothing to a server are kept whole
kom-sync show -n elsewhere dup/a.toml >"$T/single.out"
is "$(names "$T/single.out")" "deployment web end " \
    'no server assignment: everything kept'

# match tags (all of them)
kom-sync show -a -t prod -t data types >"$T/tags.out" 2>/dev/null
is "$(names "$T/tags.out")" "variable DB_HOST variable DB_PASSWORD \
user_group ops deployment db end " '-t: all tags; variables and groups kept'

# errors: messages only, no records, no end
kom-sync show -a bad/types.toml >"$T/bad.out" 2>"$T/bad.err"
is "$?" 65 'errors: exit 65'
is "$(wc -c <"$T/bad.out" | tr -d ' ')" 0 'errors: nothing on stdout'
kom-sync show -a dup >"$T/dup.out" 2>/dev/null
is "$(wc -c <"$T/dup.out" | tr -d ' ')" 0 'duplicates: nothing on stdout'

# determinism: the same files created in another order, paths in any order
mkdir "$T/a" "$T/b"
for f in apps.toml build.toml ops.toml servers.toml; do
	cp "types/$f" "$T/a/$f"
done
for f in servers.toml ops.toml build.toml apps.toml; do
	mkdir -p "$T/b/sub"
	cp "types/$f" "$T/b/sub/$f"
done
(cd "$T/a" && kom-sync show -a .) >"$T/a.out" 2>/dev/null
(cd "$T/b/sub" && kom-sync show -a servers.toml ops.toml apps.toml \
    build.toml) >"$T/b.out" 2>/dev/null
is "$(jq -r 'select(.kind == "resource") | .root' "$T/b.out" | sort -u)" \
    "$(cd "$T/b/sub" && pwd -P)" 'file paths: root is the current directory'
noroot "$T/a.out"
noroot "$T/b.out"
cmp_file "$T/a.out" "$GOLD/types-here.jsonl" 'directory walk: sorted'
cmp_file "$T/b.out" "$GOLD/types-here.jsonl" 'arguments in any order'
(cd "$T/b" && kom-sync show -a sub sub/apps.toml) >"$T/b2.out" 2>/dev/null
is "$(grep -c '"name":"db"' "$T/b2.out")" 1 'a file given twice is read once'

# secrets: the planted value appears nowhere
PLANT=PLANTED-SECRET-c0ffee
for args in "show -a bad/secret-in-git.toml" \
    "show -a -s bad/secret-in-git.toml" "validate bad/secret-in-git.toml" \
    "validate -s bad/secret-in-git.toml" "show -a bad types"; do
	# shellcheck disable=SC2086
	kom-sync $args >"$T/s.out" 2>"$T/s.err"
	ok "fixture has the secret ($args)" grep -q "$PLANT" \
	    bad/secret-in-git.toml
	if grep -q "$PLANT" "$T/s.out" "$T/s.err"; then r=1; else r=0; fi
	is "$r" 0 "no secret value in the output of: kom-sync $args"
done
kom-sync show -a bad/secret-in-git.toml >"$T/s.out" 2>/dev/null
is "$(jq -c '[.config.value, .secret]' "$T/s.out" | head -n 1)" \
    '["<TOKEN>",true]' 'secret shown as <NAME>'
if grep -rq "$PLANT" "$KOM_TOP/tests/golden"; then r=1; else r=0; fi
is "$r" 0 'no secret value in any golden file'

done_testing
