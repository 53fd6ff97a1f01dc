#!/bin/sh
# Warnings that keep the signal: over real-shaped files (tests/fixtures/
# sync/real: a dozen stacks using the same undeclared variables,
# procedures on a sync made in Komodo's UI and on another sync's stack,
# deployments on a server declared elsewhere, features kom does not act
# on yet) every distinct problem is named exactly once, and the count of
# lines stays low.  A procedure whose target is not declared here is a
# warning, not an error: it may be another sync's, applied, or kom.toml's.
. "$(dirname "$0")/lib.sh"

cd "$KOM_TOP/tests/fixtures/sync" || bail "no fixtures"
kom-sync validate real >"$T/out" 2>"$T/err"
is "$?" 0 'validate: warnings only, exit 0'
n=$(grep -c ': warning: ' "$T/err")
diag "real-shaped files: $n warnings, $(grep -c ': note: ' "$T/err") notes, $(wc -l <"$T/err" | tr -d ' ') lines"
ok "at most 8 warnings (got $n)" test "$n" -le 8

once() {	# once TEXT NAME: TEXT is on exactly one line of stderr
	is "$(grep -cF -- "$1" "$T/err")" 1 "$2"
}
once '[[TZ]]' 'TZ: one line (18 uses)'
once '(and 17 more uses)' 'TZ: the count of the other uses'
once 'real/homelab/stacks.toml:15:6: warning: stack '"'"'jellyfin'"'"' uses [[TZ]]' 'TZ: the first place'
once '[[PUID]]' 'PUID: one line'
once '[[PGID]]' 'PGID: one line'
once '[[DOMAIN]]' 'DOMAIN: one line'
once "resource_sync 'homelab', which is not declared here" 'the UI-made sync: one line'
once "stack 'immich', which is not declared here" 'the other sync'"'"'s stack: one line'
once "server 'tower', which is not declared (and 5 more in this file)" 'the undeclared server: one line per file'

# features kom does not act on yet: one note per resource
is "$(grep -c ': note: ' "$T/err")" 1 'one note per resource with unsupported things'
is "$(grep -c "resource_sync 'infra': kom does not act" "$T/err")" 0 'a git-backed sync with a webhook is acted on: not noted'
is "$(grep -c "deployment 'site': kom does not act" "$T/err")" 0 'a Build image is deployed: not noted'
is "$(grep -c "procedure 'update-everything': kom does not act" "$T/err")" 0 \
    'a schedule is acted on (timers): not noted'
ok 'strict: notes are not errors, warnings are' sh -c \
    "kom-sync validate -s real 2>&1 | grep -q '^kom-sync: 7 errors\$'"

# diff: a target known from kom.toml or from the state dir is no warning
cat >"$KOM_HOME/kom.toml" <<'EOF2'
[[resource_sync]]
name = "homelab"
EOF2
mkdir -p "$KOM_HOME/state/resources/stack"
echo '{"type":"stack","name":"immich","config":{}}' \
    >"$KOM_HOME/state/resources/stack/immich.json"
kom-sync diff -a real >/dev/null 2>"$T/err"
is "$?" 0 'diff exits 0'
is "$(grep -c "'homelab', which\|'immich', which" "$T/err")" 0 \
    'diff: targets in kom.toml and in the state dir are known'
done_testing
