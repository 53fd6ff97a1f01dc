#!/bin/sh
# kom-sync toml's direct JSON printer against the jansson encoding it
# replaced (kept behind the hidden -J): byte-identical output, plain and
# -t, for every valid toml-test case, for the edges of escaping and float
# formatting, and for bench/toml's 10,000-resource document (16 MB of
# output, many of the printer's 256 KiB chunks).
. "$(dirname "$0")/lib.sh"

SUITE=$KOM_TOP/../shared/toml-test/tests
LIST=$SUITE/files-toml-1.0.0
[ -r "$LIST" ] || bail "toml-test suite not found at $SUITE"
command -v python3 >/dev/null || bail "python3 not found"
KOM_SYNC=${KOM_SYNC:-$KOM_TOP/bin/kom-sync}
[ -x "$KOM_SYNC" ] || bail "$KOM_SYNC not built"

# same FILE LABEL: both forms of FILE print the same bytes both ways.
same() {
	for form in plain -t; do
		opt=; [ "$form" = -t ] && opt=-t
		"$KOM_SYNC" toml $opt "$1" >"$T/new" 2>"$T/new.err"
		rn=$?
		"$KOM_SYNC" toml -J $opt "$1" >"$T/ref" 2>"$T/ref.err"
		rr=$?
		if [ "$rn:$rr" = 0:0 ] && [ -s "$T/ref" ] &&
		    cmp -s "$T/new" "$T/ref"; then
			_result 0 "$2 ($form)"
		else
			_result 1 "$2 ($form)"
			diag "exit $rn/$rr: $(cmp "$T/new" "$T/ref" 2>&1)"
		fi
	done
}

n=0
grep '^valid/.*\.toml$' "$LIST" >"$T/valid-list"
while read -r c; do
	n=$((n + 1))
	same "$SUITE/$c" "$c"
done <"$T/valid-list"
is "$n" 210 "210 valid cases compared"

# What the suite barely touches: every control character, quotes and
# backslashes in keys and values, NUL via \u0000, DEL and non-ASCII
# (copied), floats whose %.17g has no '.', an exponent of either sign,
# subnormals, -0.0, inf and nan, extreme integers, every date/time form.
python3 - >"$T/edges.toml" <<'PY'
import sys
w = sys.stdout.write
ctl = ''.join('\\u%04x' % c for c in range(32)) + '\\u007f'
w('"k\\u0000\\"\\\\\\t" = "%s"\n' % ctl)
w('"\\u00e9\\u2028\\U0001F600" = "caf\u00e9 \u2028 \U0001F600 / \'"\n')
w("lit = 'C:\\dir\\file \"quoted\"'\n")
w('ml = """\na\tb\r\nc\\f\\b"""\n')
fl = ['0.0', '-0.0', '1.0', '1e16', '1e15', '123456789012345678.0', '0.1',
      '1e300', '-1e-300', '5e-324', '2.2250738585072014e-308', '1.5e+22',
      '6.02e23', '3.14159', '-2.5e-5', 'inf', '-inf', 'nan', '+nan', '-nan',
      '1_000.5', '9007199254740993.0', '1e-7', '1e21', '1e22']
for i, f in enumerate(fl):
    w('f%d = %s\n' % (i, f))
w('floats = [%s]\n' % ', '.join(fl))
ints = ['0', '-1', '9223372036854775807', '-9223372036854775808', '0xff',
        '0o17', '0b101', '1_000_000']
for i, v in enumerate(ints):
    w('i%d = %s\n' % (i, v))
w('b = [true, false]\n')
w('dt = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00z, '
  '1979-05-27t07:32:00.999999+07:00, 1979-05-27T07:32:00, '
  '1979-05-27 07:32:00.5, 1979-05-27, 07:32:00, 00:32:00.123456]\n')
w('empty = { a = [], b = {}, c = [[], [{}]] }\n')
w('[["t".\'x y\']]\n[["t".\'x y\']]\nz = 1\n')
PY
same "$T/edges.toml" "escaping and number edges"
"$KOM_SYNC" toml "$T/edges.toml" >"$T/edges.json"
ok "the edges print as JSON python reads" \
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/edges.json"

sh "$KOM_TOP/bench/toml" -n 10000 -o "$T/resources.toml" ||
	bail "bench/toml cannot write its document"
same "$T/resources.toml" "bench/toml, 10,000 resources"

"$KOM_SYNC" toml "$T/resources.toml" >/dev/full 2>"$T/err"
is "$?:$(cat "$T/err")" "74:kom-sync: write error: No space left on device" \
	"a failed write of a chunk is exit 74"
"$KOM_SYNC" toml "$T/edges.toml" >/dev/full 2>"$T/err"
is "$?" 74 "a failed write of a short document (one final chunk) is exit 74"

done_testing
