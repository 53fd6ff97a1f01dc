#!/bin/sh
# kom as packages on a host, in a real systemd: a Debian 12 root file
# system (tests/systemd.sh) booted with /lib/systemd/systemd in Docker,
# the .debs of `make deb` installed with apt, the host's Docker socket
# mounted in.  Installing starts nothing; the admin enables the units of
# the programs that exist; a sync dir mounted in runs through
# kom-sync@homelab.timer; the containers run on the engine with the
# sync's config (a secret from /etc/kom/secrets included); an edit runs
# through the service again; no unit failed and no kom process is left
# running (idle resident memory of kom: 0); purging leaves no unit.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/systemd.sh"
exec_images
at_exit 'kom_labels_cleanup'
command -v dpkg-buildpackage >/dev/null || bail "dpkg-dev is needed"

t0=$(date +%s)
kom_debs "$T/deb" 2>"$T/deb.log" ||
	{ sed 's/^/# /' "$T/deb.log"; bail 'make deb failed'; }
ok 'make deb builds the packages (or 0900 did, for this tree)' true
t1=$(date +%s)
systemd_image || bail 'no Debian 12 image with systemd'
ok 'the Debian 12 image with systemd' true
t2=$(date +%s)

S=$T/sync
mkdir -p "$S"
P1=$(port 1)
P2=$(port 2)
write_sync() {
	cat >"$S/homelab.toml" <<EOF2
[[deployment]]
name = "$PFX-db"
deploy = true
[deployment.config]
image.params.image = "$IMG:1"
command = "httpd -f -p $P1 -h /www"
termination_timeout = 1
environment = "MODE = $1"

[[deployment]]
name = "$PFX-web"
deploy = true
after = ["$PFX-db"]
[deployment.config]
image.params.image = "$IMG:1"
command = "httpd -f -p $P2 -h /www"
termination_timeout = 1
environment = """
MODE = $1
TOKEN = [[KT_TOKEN]]
"""
EOF2
}
write_sync one

systemd_boot host -v "$T/deb:/debs:ro" -v "$S:/srv/syncs/homelab:ro" \
    -v /var/run/docker.sock:/var/run/docker.sock ||
	bail 'systemd does not boot in a container'
ok 'systemd boots in a container' true
t3=$(date +%s)

# Every package that was built, installed together, offline.
debs=$(cd "$T/deb" && ls *.deb | grep -v dbgsym | sed 's|^|/debs/|')
ok 'apt installs the packages' sd env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $debs
ok 'the kom user exists' sd id kom
is "$(sd stat -c '%a %U %G' /var/lib/kom /var/spool/kom /var/spool/kom/sync/new /var/spool/kom/alert/new /etc/kom/secrets)" \
"2770 root kom
2770 root kom
2770 root kom
2770 root kom
700 root root" 'state, spool and secrets directories, owned and protected'
units=$(cd "$KOM_TOP" && sh contrib/systemd/units.sh)
for u in $units; do
	ok "$u is installed" sd test -f "/lib/systemd/system/$u"
done
is "$(sd systemctl list-units --all --plain --no-legend 'kom*' | awk '$3 != "inactive" { print }')" "" \
    'installing started nothing'
is "$(sd systemctl list-unit-files --plain --no-legend 'kom*' | awk '$2 == "enabled" { print }')" "" \
    'installing enabled nothing'

# The host: kom.toml names the sync and its directory; a secret file.
sd sh -c 'cat >/etc/kom/kom.toml' <<EOF2
server = "homelab"
[[resource_sync]]
name = "homelab"
resource_path = ["/srv/syncs/homelab"]
delete = true
EOF2
sd sh -c 'umask 077; printf s3cret >/etc/kom/secrets/KT_TOKEN'

# The timer fires 2 s after it is enabled (a drop-in; the unit's own
# schedule is a minute after boot and 5 min after each run).
sd mkdir -p /etc/systemd/system/kom-sync@homelab.timer.d
printf '[Timer]\nOnActiveSec=2s\nRandomizedDelaySec=0\nAccuracySec=1s\n' |
    sd sh -c 'cat >/etc/systemd/system/kom-sync@homelab.timer.d/test.conf'
sd_mark kom-sync@homelab.service
t4=$(date +%s)
ok 'the admin enables kom-sync@homelab.timer' \
    sd systemctl enable --now kom-sync@homelab.timer
ok 'the timer runs kom-sync@homelab.service, which succeeds' \
    sd_wait_run kom-sync@homelab.service
t5=$(date +%s)
for n in db web; do
	ok "$n runs on the engine" running "$PFX-$n"
done
is "$(docker inspect -f '{{index .Config.Labels "kom.sync"}} {{index .Config.Labels "kom.managed"}}' "$PFX-web")" \
    'homelab true' 'labelled with its sync, managed'
env_of() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" |
	    grep -E '^(MODE|TOKEN)=' | sort
}
is "$(env_of "$PFX-web")" 'MODE=one
TOKEN=s3cret' 'the config of the sync, the secret read from /etc/kom/secrets'
is "$(fetch "$P2")" v1 'web answers'
ok 'the state is recorded' sd test -s "/var/lib/kom/resources/deployment/$PFX-web.json"

# An edit, run through the service by hand: only what changed redeploys.
write_sync two
sd_mark kom-sync@homelab.service
ok 'systemctl start kom-sync@homelab applies the edit' \
    sd systemctl start kom-sync@homelab.service
ok 'and succeeds' sd_wait_run kom-sync@homelab.service
is "$(env_of "$PFX-db")" 'MODE=two' 'db has the new config'
is "$(env_of "$PFX-web")" 'MODE=two
TOKEN=s3cret' 'web has the new config'
ok 'the journal has the run' sh -c \
    "timeout 60 docker exec $SD journalctl -b -u kom-sync@homelab.service --no-pager | grep -q 'Finished\|Deactivated'"

ok 'files the service made are group kom (for kom-poll and kom-alert)' \
    sd sh -c "test \$(stat -c %G /var/lib/kom/resources/deployment/$PFX-web.json) = kom"
level=$(sd systemd-analyze security --no-pager kom-sync@homelab.service |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
diag "kom-sync@homelab.service as run: exposure $level"
ok 'kom-sync@homelab.service as run: exposure at most 2.0' \
    awk -v l="$level" 'BEGIN { exit !(l != "" && l + 0 <= 2.0) }'

# Every other installed unit that can be enabled is: it loads, starts
# (a socket on a port of its own), and starts nothing that fails.
for u in $units; do
	case $u in *@*|*.service) continue ;; esac
	if [ "${u##*.}" = socket ]; then
		sd mkdir -p "/etc/systemd/system/$u.d"
		printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$(port 3)" |
		    sd sh -c "cat >/etc/systemd/system/$u.d/test.conf"
		sd systemctl daemon-reload
	fi
	ok "the admin enables $u" sd systemctl enable --now "$u"
	is "$(sd systemctl show -P ActiveState "$u")" active "$u is active"
done

ok 'no unit failed' sd_failed
# Nothing of kom stays resident: no process, no memory.
is "$(sd ps -eo rss=,comm= | awk '$2 ~ /^kom-/ { n++; rss += $1 } END { printf "%d %d", n, rss }')" \
    '0 0' 'no kom process left, idle resident memory of kom 0 KiB'
is "$(sd systemctl show -P ActiveState kom-sync@homelab.timer)" active \
    'the timer waits for its next run'

# Removing the packages stops the timer and leaves nothing behind.
ok 'apt purges the packages' sd env DEBIAN_FRONTEND=noninteractive \
    apt-get purge -y kom-common kom-sync kom-plan kom-exec
is "$(sd sh -c 'ls /lib/systemd/system/kom* 2>/dev/null')" '' 'no unit left'
is "$(sd systemctl list-units --all --plain --no-legend 'kom*' | awk '$3 == "active" { print }')" '' \
    'no kom unit active'
ok 'still no unit failed' sd_failed
t6=$(date +%s)
diag "deb build $((t1 - t0)) s, image $((t2 - t1)) s, boot $((t3 - t2)) s," \
    "enable to deployed $((t5 - t4)) s, whole test $((t6 - t0)) s"
done_testing
