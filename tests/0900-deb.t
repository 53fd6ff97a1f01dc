#!/bin/sh
# make deb: one package per program in cmd/ plus kom-common, built out of
# tree; lintian reports no error and no warning; the right Depends; each
# program's units (contrib/systemd/units) in its package; no maintainer
# script starts or enables anything; the work tree is left as it was.
. "$(dirname "$0")/lib.sh"
command -v dpkg-buildpackage >/dev/null || bail "dpkg-dev is needed"
command -v lintian >/dev/null || bail "lintian is needed"
cd "$KOM_TOP" || bail "no top"

before=$(git status --porcelain --ignored=no)
t0=$(date +%s)
ok 'make deb' timeout 900 make -s deb DEBDIR="$T/deb"
diag "make deb: $(($(date +%s) - t0)) s"
# 0930 installs these (kom_debs in tests/systemd.sh)
. "$KOM_TOP/tests/systemd.sh"
kom_debs_put "$T/deb"
is "$(git status --porcelain --ignored=no)" "$before" 'the work tree is untouched'

progs=$(ls cmd)
want=$( (echo kom-common; echo "$progs") | sort)
got=$(cd "$T/deb" && ls *.deb | grep -v dbgsym | sed 's/_.*//' | sort)
is "$got" "$want" 'a package for each program in cmd/, and kom-common'

missing=
for p in kom-sync kom-plan kom-exec kom-poll kom-alert; do
	[ -d "cmd/$p" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	timeout 900 make -s deb DEB_ALL=1 DEBDIR="$T/deb-all" >"$T/all.out" 2>&1
	is "$?" 2 'DEB_ALL=1 refuses to leave a program out'
	ok 'and names the missing ones' grep -q "cannot package:$missing\." "$T/all.out"
	ok 'and builds nothing' test ! -e "$T/deb-all"
else
	ok 'DEB_ALL=1 builds every package' timeout 900 make -s deb DEB_ALL=1 DEBDIR="$T/deb-all"
fi

ok 'lintian: no error, no warning' timeout 600 lintian --fail-on error,warning \
    "$T"/deb/*.changes

deb() { ls "$T"/deb/"$1"_*.deb; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
for p in $progs; do
	ok "$p depends on kom-common" sh -c "dpkg-deb -f '$(deb "$p")' Depends | grep -q 'kom-common (= '"
	ok "$p has its program, man page and completion" sh -c "
	    dpkg-deb -c '$(deb "$p")' >'$T/list' &&
	    grep -q ' ./usr/bin/$p\$' '$T/list' &&
	    grep -q ' ./usr/share/man/man1/$p.1.gz\$' '$T/list' &&
	    grep -q ' ./usr/share/bash-completion/completions/$p\$' '$T/list'"
	is "$(dpkg-deb -c "$(deb "$p")" | awk '{ print $6 }' |
	    sed -n 's|^\./lib/systemd/system/||p' | grep . | sort)" \
	    "$(sh contrib/systemd/units.sh -p "$p" | sort)" "$p ships its units"
done
is "$(for p in $progs; do field "$p" Depends; done | tr ',' '\n' |
    grep -i 'asan\|ubsan')" '' 'no sanitizer runtime (also under make check SAN=1)'
if [ -d cmd/kom-exec ]; then
	is "$(field kom-exec Depends | tr ',' '\n' | sed 's/^ //' | grep '^kom-' | sort)" \
	    "kom-common (= 0.1.0)
kom-plan (= 0.1.0)
kom-sync (= 0.1.0)" 'kom-exec depends on kom-sync and kom-plan (its units pipe them)'
	is "$(field kom-exec Recommends)" 'docker-compose, docker.io' \
	    'kom-exec recommends the engine and compose'
fi
dpkg-deb -c "$(deb kom-common)" | awk '{ print $6 }' >"$T/common"
for f in ./usr/share/man/man7/kom.7.gz ./usr/share/man/man5/kom.toml.5.gz \
    ./usr/share/man/man5/kom-json.5.gz ./usr/share/man/man5/kom-spool.5.gz \
    ./usr/lib/sysusers.d/kom-common.conf ./usr/lib/tmpfiles.d/kom-common.conf; do
	ok "kom-common has $f" grep -qx "$f" "$T/common"
done
ok 'kom-common creates the kom user, then its directories' sh -c "
    dpkg-deb --ctrl-tarfile '$(deb kom-common)' | tar -xOf - ./postinst |
    grep -o 'systemd-sysusers\|systemd-tmpfiles' | uniq | tr '\n' ' ' |
    grep -qx 'systemd-sysusers systemd-tmpfiles '"

# No maintainer script starts or enables a unit; a try-restart (only
# what runs) is allowed, and so is debhelper's re-enable on upgrade of a
# unit the admin had enabled (inside its "if ... was-enabled" block).
for d in "$T"/deb/*.deb; do
	mkdir -p "$T/ctl" && rm -rf "$T/ctl/"*
	dpkg-deb -e "$d" "$T/ctl"
	is "$(cat "$T"/ctl/*inst "$T"/ctl/*rm 2>/dev/null |
	    awk '/was-enabled/ { g = 1; next } g && /^[ \t]*fi/ { g = 0; next }
	        !g' |
	    grep -E '(systemctl|deb-systemd-invoke)[^#]*\b(start|restart|enable)\b|deb-systemd-helper[^#]*\benable\b' |
	    grep -v 'try-restart\|--no-enable\|was-enabled\|debian-installed\|update-state\|unmask\|mask')" \
	    '' "$(basename "$d"): no script starts or enables a unit"
done
done_testing
