#!/bin/sh
# make install honours PREFIX, DESTDIR, BINDIR and MANDIR.
. "$(dirname "$0")/lib.sh"

cd "$KOM_TOP" || bail "no top"
ok 'make install into DESTDIR' make -s install DESTDIR="$T/root" PREFIX=/usr \
    MANDIR=/usr/share/man
for p in bin/kom-*; do
	ok "installs $(basename "$p")" test -x "$T/root/usr/$p"
done
ok 'installs kom(7)' test -f "$T/root/usr/share/man/man7/kom.7"
ok 'installs kom-json(5)' test -f "$T/root/usr/share/man/man5/kom-json.5"
ok 'BINDIR is honoured' make -s install DESTDIR="$T/r2" BINDIR=/opt/kb
ok 'programs land in BINDIR' test -x "$T/r2/opt/kb/kom-sync"
ok 'nothing outside DESTDIR' test ! -e /opt/kb
done_testing
