#!/bin/sh
# The systemd units: contrib/systemd/units names every unit file and only
# those; a unit is installed only when the commands it runs exist (a tree
# without them, and one with them); every installed unit passes
# systemd-analyze verify, with the programs and man pages it names
# installed; every service's exposure (systemd-analyze security) is at
# most 2.0, those that hold the Docker socket included, and those say so
# in the man page that names them.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || bail "systemd-analyze (systemd) is needed"
cd "$KOM_TOP" || bail "no top"

is "$(grep -v '^#' contrib/systemd/units | awk 'NF { print $1 }' | sort)" \
    "$(cd contrib/systemd && ls kom-*.service kom-*.timer kom-*.socket kom-*.path | sort)" \
    'the manifest names every unit file'

# The gate, on a made-up tree: kom-poll with git but not images yet.
F=$T/tree
mkdir -p "$F/cmd/kom-poll" "$F/man" "$F/contrib/systemd"
cp contrib/systemd/units "$F/contrib/systemd/"
printf '.Sh SYNOPSIS\n.Nm\n.Cm fetch\n.Nm\n.Cm git\n.Op Fl n\n.Sh DESCRIPTION\n.Cm images\n' \
    >"$F/man/kom-poll.1"
is "$(sh contrib/systemd/units.sh "$F")" '' \
    'no unit runs a subcommand the SYNOPSIS lacks (images is only in DESCRIPTION)'
printf '.Sh SYNOPSIS\n.Nm\n.Cm git Ns | Ns Cm images\n.Nm\n.Cm webhook\n.Sh DESCRIPTION\n' \
    >"$F/man/kom-poll.1"
is "$(sh contrib/systemd/units.sh -p kom-poll "$F")" 'kom-poll.service
kom-poll.timer
kom-webhook.socket
kom-webhook@.service' 'the units of the subcommands that exist'

R=$T/root
# The units run the programs of bin/ (no make install: that would relink
# bin/ outside a SAN=1 build); verify finds the man pages on MANPATH.
ok 'make install-units' make -s install-units PREFIX="$R/usr" BINDIR="$KOM_TOP/bin" \
    SYSUSERSDIR="$R/usr/lib/sysusers.d" TMPFILESDIR="$R/usr/lib/tmpfiles.d"
for m in man/*.[1-8]; do
	mkdir -p "$R/usr/share/man/man${m##*.}"
	cp "$m" "$R/usr/share/man/man${m##*.}/"
done
units=$(sh contrib/systemd/units.sh)
is "$(ls "$R/usr/lib/systemd/system" | sort)" "$(echo "$units" | sort)" \
    'install-units installs the units whose commands exist'
ok 'the kom user and directories' test -s "$R/usr/lib/sysusers.d/kom.conf" -a \
    -s "$R/usr/lib/tmpfiles.d/kom.conf"
ok 'ExecStart points into BINDIR' grep -q "ExecStart=.*$KOM_TOP/bin/kom-" \
    $(ls "$R"/usr/lib/systemd/system/*.service)
ok 'no /usr/bin/kom- left' sh -c "! grep -l /usr/bin/kom- '$R'/usr/lib/systemd/system/*"

# Templates are verified as an instance; all units in one directory so
# that a timer or socket finds its service.
# The templates themselves are on the unit path too, for the socket that
# spawns one (Accept=yes).
V=$T/verify
mkdir -p "$V" "$T/verify-tmpl"
for u in $units; do
	case $u in
	*@.*) cp "$R/usr/lib/systemd/system/$u" "$V/${u%%@*}@verify.${u##*.}"
	      cp "$R/usr/lib/systemd/system/$u" "$T/verify-tmpl/$u" ;;
	*) cp "$R/usr/lib/systemd/system/$u" "$V/$u" ;;
	esac
done
for f in "$V"/*; do
	MANPATH=$R/usr/share/man SYSTEMD_LOG_COLOR=0 \
	    SYSTEMD_UNIT_PATH=$T/verify-tmpl: \
	    systemd-analyze verify "$f" >"$T/verify.out" 2>&1
	rc=$?
	is "$rc $(cat "$T/verify.out")" '0 ' "systemd-analyze verify $(basename "$f")"
done
for f in "$V"/*.service; do
	systemd-analyze security --offline=yes --no-pager "$f" >"$T/sec.out" 2>&1
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec.out")
	diag "$(basename "$f"): exposure $level"
	ok "$(basename "$f"): exposure at most 2.0" \
	    awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 2.0) }'
done

# Each unit is named in the man page of the program whose package ships
# it; a service that is not the kom user's holds the Docker socket, and
# that page says so.
for u in $units; do
	p=$(awk -v u="$u" '$1 == u { print $2 }' contrib/systemd/units)
	ok "$u is named in $p(1)" grep -qF "$u" "man/$p.1"
	case $u in *.service) ;; *) continue ;; esac
	grep -q '^User=kom$' "contrib/systemd/$u" && continue
	ok "$u holds the Docker socket: $p(1) says so" grep -q 'Docker socket' "man/$p.1"
done

# The units whose commands have not landed yet are checked too, as files:
# with stand-in programs (empty scripts) in a BINDIR of their own and no
# man pages, so each is right before its program arrives.
W=$T/waiting
mkdir -p "$W/bin" "$W/units" "$W/tmpl"
for u in $(grep -v '^#' contrib/systemd/units | awk 'NF { print $1 }'); do
	echo "$units" | grep -qx "$u" && continue
	case $u in
	*@.*) n=${u%%@*}@verify.${u##*.}
	      # the template itself too, for the socket that spawns it
	      sed "s|/usr/bin/kom-|$W/bin/kom-|g" "contrib/systemd/$u" >"$W/tmpl/$u" ;;
	*) n=$u ;;
	esac
	sed "s|/usr/bin/kom-|$W/bin/kom-|g" "contrib/systemd/$u" >"$W/units/$n"
done
for p in kom-sync kom-plan kom-exec kom-poll kom-alert; do
	printf '#!/bin/sh\n' >"$W/bin/$p"
	chmod +x "$W/bin/$p"
done
for f in "$W"/units/*; do
	[ -e "$f" ] || continue
	SYSTEMD_UNIT_PATH=$W/tmpl: SYSTEMD_LOG_COLOR=0 \
	    systemd-analyze verify --man=no "$f" >"$T/verify.out" 2>&1
	rc=$?
	is "$rc $(cat "$T/verify.out")" '0 ' "waiting for its program: verify $(basename "$f")"
	case $f in *.service) ;; *) continue ;; esac
	systemd-analyze security --offline=yes --no-pager "$f" >"$T/sec.out" 2>&1
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/sec.out")
	diag "$(basename "$f"): exposure $level"
	ok "waiting for its program: $(basename "$f"): exposure at most 2.0" \
	    awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 2.0) }'
done
done_testing
