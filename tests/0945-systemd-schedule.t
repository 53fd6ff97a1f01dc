#!/bin/sh
# A scheduled procedure in a real systemd: the .debs installed in a
# booted Debian 12 (tests/systemd.sh) with the host's Docker socket; a
# sync applies a procedure scheduled "every 10 seconds" (Komodo's
# English); kom-procedures.path has systemd rerun the generator, whose
# timer kom-procedure@soon.timer starts kom-procedure@soon.service: the
# procedure's deployment runs on the engine and ScheduleRun is queued.
# A disabled schedule gets no timer; removing the procedure stops its
# timer.  No unit failed.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"
. "$KOM_TOP/tests/systemd.sh"
exec_images
at_exit 'kom_labels_cleanup'
t0=$(date +%s)
sd_debs_image "$T/deb"

S=$T/sync
mkdir -p "$S"
write_sync() {	# write_sync [with-soon]
	cat >"$S/homelab.toml" <<TOML
[[deployment]]
name = "$PFX-app"
[deployment.config]
image.params.image = "$IMG:1"
termination_timeout = 1

[[procedure]]
name = "off"
[procedure.config]
schedule = "every 10 seconds"
schedule_enabled = false
[[procedure.config.stage]]
name = "deploy"
executions = [
  { execution.type = "Deploy", execution.params.deployment = "$PFX-app" },
]
TOML
	[ -n "${1:-}" ] && cat >>"$S/homelab.toml" <<TOML

[[procedure]]
name = "soon"
[procedure.config]
schedule = "every 10 seconds"
[[procedure.config.stage]]
name = "deploy"
executions = [
  { execution.type = "Deploy", execution.params.deployment = "$PFX-app" },
]
TOML
	return 0
}
write_sync with-soon

systemd_boot sched -v "$T/deb:/debs:ro" -v "$S:/srv/syncs/homelab:ro" \
    -v /var/run/docker.sock:/var/run/docker.sock ||
	bail 'systemd does not boot in a container'
debs=$(cd "$T/deb" && ls *.deb | grep -v dbgsym | sed 's|^|/debs/|')
ok 'apt installs the packages' sd env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $debs
ok 'the generator is installed' \
    sd test -x /lib/systemd/system-generators/kom-procedure-generator
sd sh -c 'cat >/etc/kom/kom.toml' <<TOML
server = "sched"
[[resource_sync]]
name = "homelab"
resource_path = ["/srv/syncs/homelab"]
delete = true
TOML
ok 'the admin enables kom-procedures.path' \
    sd systemctl enable --now kom-procedures.path
is "$(docker ps -q --filter "name=^$PFX-app\$")" '' 'nothing deployed yet'

t1=$(date +%s)
# a oneshot: systemctl start returns when it ended, with its result
ok 'the sync applies the procedures' sd systemctl start kom-sync@homelab.service

# waits with a deadline (SD_TIMEOUT), not timed assertions
wait_for() {	# wait_for CMD...: until CMD succeeds, or the deadline
	_n=0
	while [ $_n -lt $((SD_TIMEOUT * 2)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		_n=$((_n + 1))
		sleep 0.5
	done
	return 1
}
ok 'the path unit reloads systemd, the generator writes the timer' \
    wait_for sd systemctl is-active -q kom-procedure@soon.timer
is "$(sd grep '^OnCalendar=' /run/systemd/generator/kom-procedure@soon.timer)" \
    'OnCalendar=*-*-* *:*:00,10,20,30,40,50' 'its OnCalendar: every 10 seconds'
ok 'the timer runs the procedure: the deployment runs' \
    wait_for running "$PFX-app"
t2=$(date +%s)
ok 'kom-procedure@soon.service ran and succeeded' wait_for sh -c \
    "timeout 60 docker exec $SD journalctl --no-pager -u kom-procedure@soon.service |
     grep -q 'kom-procedure@soon.service: Deactivated successfully'"
ok 'ScheduleRun is queued' sd sh -c \
    'grep -l "\"ScheduleRun\"" /var/spool/kom/alert/new/*.json | xargs grep -q "\"name\":\"soon\""'
is "$(sd systemctl show -P LoadState kom-procedure@off.timer)" not-found \
    'a disabled schedule has no timer'
is "$(sd sh -c 'ls /run/systemd/generator/kom-procedure@*.timer')" \
    '/run/systemd/generator/kom-procedure@soon.timer' 'the generated timer'

write_sync
ok 'the procedure removed from the sync, applied' \
    sd systemctl start kom-sync@homelab.service
# stopped, and (kom-procedures.service's reset-failed: a timer whose unit
# file vanished fails at the reload) not left failed
ok 'its timer stops' wait_for sh -c \
    "! timeout 60 docker exec $SD systemctl is-active -q kom-procedure@soon.timer &&
     ! timeout 60 docker exec $SD systemctl is-failed -q kom-procedure@soon.timer"
ok 'no unit failed' sd_failed
t3=$(date +%s)
diag "apply to first scheduled run $((t2 - t1)) s, whole test $((t3 - t0)) s"
done_testing
