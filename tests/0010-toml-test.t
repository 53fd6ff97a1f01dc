#!/bin/sh
# kom-sync toml against the official toml-test suite (TOML 1.0.0 cases):
# every valid case must decode to JSON semantically equal to its .json,
# every invalid case must be rejected with exit 65 and one line on stderr.
# The comparisons run in one python3 process (FORMAT.md's rules).
. "$(dirname "$0")/lib.sh"

SUITE=$KOM_TOP/../shared/toml-test/tests
LIST=$SUITE/files-toml-1.0.0
[ -r "$LIST" ] || bail "toml-test suite not found at $SUITE"
command -v python3 >/dev/null || bail "python3 not found"
KOM_SYNC=${KOM_SYNC:-$KOM_TOP/bin/kom-sync}
[ -x "$KOM_SYNC" ] || bail "$KOM_SYNC not built"

mkdir -p "$T/out"

# Valid cases: run each, note exit status and stderr size for the checker.
: >"$T/valid"
n=0
grep '^valid/.*\.toml$' "$LIST" >"$T/valid-list"
while read -r c; do
	n=$((n + 1))
	timeout 10 "$KOM_SYNC" toml -t <"$SUITE/$c" >"$T/out/$n.json" \
	    2>"$T/out/$n.err"
	printf '%s\t%s\t%s\n' "$?" "$n" "$c" >>"$T/valid"
done <"$T/valid-list"

cat >"$T/check.py" <<'EOF'
import json, math, re, sys

suite, outdir, manifest = sys.argv[1:4]

def norm_dt(s):
    s = s.replace(' ', 'T').replace('t', 'T').replace('z', 'Z')
    return s

def frac(s):
    m = re.search(r'\.(\d+)', s)
    return float('0.' + m.group(1)) if m else 0.0

def dt_key(typ, s):
    s = norm_dt(s)
    base = re.sub(r'\.\d+', '', s)
    if typ == 'datetime':
        m = re.match(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(Z|[+-]\d\d:\d\d)$', base)
        if not m:
            return ('bad', s)
        y, mo, d, h, mi, se = map(int, m.groups()[:6])
        off = m.group(7)
        offm = 0 if off == 'Z' else (1 if off[0] == '+' else -1) * (int(off[1:3]) * 60 + int(off[4:6]))
        import datetime as D
        t = D.datetime(y, mo, d, h, mi, min(se, 59)) - D.timedelta(minutes=offm)
        return (t.isoformat(), se, frac(s))
    return (base, frac(s))

def scalar_eq(e, g):
    if e['type'] != g['type']:
        return False
    t, ev, gv = e['type'], e['value'], g['value']
    if t in ('string', 'integer'):
        return ev == gv
    if t == 'bool':
        return ev.lower() == gv.lower()
    if t == 'float':
        ev, gv = ev.lower(), gv.lower()
        if ev.endswith('nan') or gv.endswith('nan'):
            return ev.lstrip('+-') == 'nan' and gv.lstrip('+-') == 'nan'
        return float(ev) == float(gv)
    return dt_key(t, ev) == dt_key(t, gv)

def is_scalar(x):
    return (isinstance(x, dict) and set(x) == {'type', 'value'}
            and all(isinstance(v, str) for v in x.values()))

def diff(e, g, path):
    if is_scalar(e) or is_scalar(g):
        if not (is_scalar(e) and is_scalar(g)):
            return '%s: want %s, got %s' % (path, json.dumps(e), json.dumps(g))
        if not scalar_eq(e, g):
            return '%s: want %s, got %s' % (path, json.dumps(e), json.dumps(g))
        return None
    if isinstance(e, dict) and isinstance(g, dict):
        if set(e) != set(g):
            return '%s: keys want %s, got %s' % (path, sorted(e), sorted(g))
        for k in e:
            r = diff(e[k], g[k], '%s.%s' % (path, k) if path else k)
            if r:
                return r
        return None
    if isinstance(e, list) and isinstance(g, list):
        if len(e) != len(g):
            return '%s: length want %d, got %d' % (path, len(e), len(g))
        for i, (a, b) in enumerate(zip(e, g)):
            r = diff(a, b, '%s[%d]' % (path, i))
            if r:
                return r
        return None
    return '%s: want %s, got %s' % (path, json.dumps(e), json.dumps(g))

for line in open(manifest):
    rc, n, case = line.rstrip('\n').split('\t')
    why = None
    err = open('%s/%s.err' % (outdir, n), 'rb').read()
    if rc != '0':
        why = 'exit %s: %s' % (rc, err.decode('utf-8', 'replace').strip())
    elif err:
        why = 'stderr not empty: %s' % err.decode('utf-8', 'replace').strip()
    else:
        try:
            with open('%s/%s.json' % (outdir, n), 'rb') as f:
                raw = f.read()
            if raw.count(b'\n') != 1 or not raw.endswith(b'\n'):
                why = 'output is not one line'
            else:
                got = json.loads(raw)
                want = json.load(open('%s/%s' % (suite, case[:-5] + '.json'), 'rb'))
                why = diff(want, got, '')
        except Exception as ex:
            why = 'bad output: %r' % ex
    print('%s\t%s\t%s' % ('ok' if why is None else 'fail', case,
                          (why or '').replace('\n', ' ')[:400]))
EOF

python3 "$T/check.py" "$SUITE" "$T/out" "$T/valid" >"$T/verdicts" ||
	bail "comparison script failed"
nvalid=0
while IFS='	' read -r verdict c why; do
	nvalid=$((nvalid + 1))
	if [ "$verdict" = ok ]; then
		_result 0 "$c"
	else
		_result 1 "$c"
		diag "$why"
	fi
done <"$T/verdicts"
is "$nvalid" "$n" "every valid case was compared"
is "$n" 210 "210 valid cases listed"

# Invalid cases: exit 65, nothing on stdout, exactly one line on stderr
# that names the input and a position.
ninvalid=0
grep '^invalid/.*\.toml$' "$LIST" >"$T/invalid-list"
while read -r c; do
	ninvalid=$((ninvalid + 1))
	timeout 10 "$KOM_SYNC" toml -t <"$SUITE/$c" >"$T/inv.out" 2>"$T/inv.err"
	rc=$?
	lines=$(wc -l <"$T/inv.err")
	if [ "$rc" -eq 65 ] && [ ! -s "$T/inv.out" ] && [ "$lines" -eq 1 ] &&
	    grep -q '^kom-sync: <stdin>:[0-9][0-9]*:[0-9][0-9]*: .' "$T/inv.err"
	then
		_result 0 "$c"
	else
		_result 1 "$c"
		diag "exit $rc, $lines stderr lines: $(head -c 300 "$T/inv.err")"
	fi
done <"$T/invalid-list"
is "$ninvalid" 499 "499 invalid cases listed"

# The same decoder on a file operand names the file in its message.
printf 'a = 1\nb = \n' >"$T/bad.toml"
"$KOM_SYNC" toml "$T/bad.toml" 2>"$T/err" >/dev/null
is "$?:$(cat "$T/err")" "65:kom-sync: $T/bad.toml:2:5: expected value, found end of line" \
	"file operand: error names file, line and column"
"$KOM_SYNC" toml -x </dev/null >/dev/null 2>&1
is "$?" 64 "unknown option is a usage error"

done_testing
