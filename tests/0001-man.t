#!/bin/sh
# Every man page is mandoc -Tlint clean, every program has one, and every
# page of section 1 has the sections a user looks for.
. "$(dirname "$0")/lib.sh"

for m in "$KOM_TOP"/man/*.[1-8]; do
	ok "mandoc -Tlint $(basename "$m")" mandoc -Tlint -Wwarning "$m"
done
for d in "$KOM_TOP"/cmd/kom-*/; do
	n=$(basename "$d")
	ok "$n has a man page" test -f "$KOM_TOP/man/$n.1"
done
for m in "$KOM_TOP"/man/*.1; do
	for s in SYNOPSIS 'EXIT STATUS' EXAMPLES; do
		ok "$(basename "$m") has $s" grep -q "^\.Sh $s" "$m"
	done
done
done_testing
