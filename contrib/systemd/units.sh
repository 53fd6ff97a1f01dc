#!/bin/sh
# contrib/systemd/units.sh [-p PACKAGE] [TOP]: print the units of
# contrib/systemd/units whose commands exist in the tree at TOP (default:
# the tree this script is in), one a line; with -p, only those PACKAGE
# ships.  A command exists when cmd/PROGRAM/ does and, for a subcommand,
# when man/PROGRAM.1's SYNOPSIS names it (.Cm SUB).
set -eu
pkg=
if [ "${1:-}" = -p ]; then
	pkg=$2
	shift 2
fi
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}

# has PROGRAM SUB: the command exists in $top.
has() {
	[ -d "$top/cmd/$1" ] || return 1
	[ "$2" = - ] && return 0
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$top/man/$1.1" 2>/dev/null |
	    grep -Eq "(^\.| )Cm $2( |$)"
}

grep -v '^#' "$top/contrib/systemd/units" | while read -r unit owner needs; do
	[ -n "$unit" ] || continue
	[ -z "$pkg" ] || [ "$owner" = "$pkg" ] || continue
	ok=1
	for n in $needs; do
		has "${n%%:*}" "${n#*:}" || { ok=0; break; }
	done
	[ $ok = 1 ] && echo "$unit"
done
exit 0
