# tests/systemd.sh: a real systemd for kom's package tests.  Source it
# after lib.sh and docker.sh:
#
#	systemd_image			# sets SD_IMAGE (Debian 12, cached)
#	systemd_boot NAME [DOCKER-RUN-ARGS]	# boots it; sets SD
#	sd CMD...			# runs CMD in it (with a deadline)
#	sd_failed			# 0 when no unit failed; else the
#					# failed units and their journals on
#					# stderr as TAP diagnostics
#
# The root file system is made by mmdebstrap from the apt archive this
# machine reaches (the suites below), with systemd and the libraries kom
# links so that apt installs kom's .debs inside without a download.  The
# tarball is cached in /var/cache/kom-test/, keyed by everything that
# makes it (suite, mirrors, variant, packages): a machine makes it once
# (about a minute), every later run imports or reuses the image.  The
# container boots /lib/systemd/systemd with the flags systemd needs in
# Docker (SYS_ADMIN, no seccomp filter, tmpfs /run, the host's cgroups
# read-only: this machine has cgroup v1 with a name=systemd hierarchy),
# on the host network (the shared engine's bridge may be gone), labelled
# kom.test=$KOM_TEST_ID and named $KOM_TEST_PREFIX*, so
# kom_labels_cleanup removes it.

# (as in docker.sh, for a test that does not source it)
KOM_TEST_RUN=${KOM_TEST_RUN:-/tmp/kom-test-docker}
SD_SUITE=bookworm
SD_MIRRORS='deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main'
SD_VARIANT=apt
# systemd and dbus (systemctl, systemd-run), procps (ps for the idle
# check), and the run-time libraries of kom's programs.
SD_PACKAGES='systemd systemd-sysv dbus procps libjansson4 libgit2-1.5
libcurl4 libyaml-0-2 libssl3 ca-certificates'
SD_CACHE=${KOM_TEST_CACHE:-/var/cache/kom-test}
# every wait inside the container ends by this deadline (seconds)
SD_TIMEOUT=${SD_TIMEOUT:-120}

_sd_key() {
	printf '%s\n' "$SD_SUITE" "$SD_MIRRORS" "$SD_VARIANT" $SD_PACKAGES |
	    sha256sum | cut -c1-16
}

# systemd_image: the image kom-test-systemd:KEY, made from the cached
# tarball (made first when missing).  Sets SD_IMAGE.
systemd_image() {
	_key=$(_sd_key)
	SD_IMAGE=kom-test-systemd:$_key
	mkdir -p "$SD_CACHE" || return 1
	(
		flock 9
		docker image inspect "$SD_IMAGE" >/dev/null 2>&1 && exit 0
		_tar=$SD_CACHE/rootfs-$_key.tar
		if [ ! -s "$_tar" ]; then
			command -v mmdebstrap >/dev/null || {
				echo "systemd_image: mmdebstrap is not installed" >&2
				exit 1
			}
			_t0=$(date +%s)
			# shellcheck disable=SC2086
			timeout 900 mmdebstrap --quiet --format=tar \
			    --variant="$SD_VARIANT" \
			    --include="$(echo $SD_PACKAGES | tr ' ' ,)" \
			    "$SD_SUITE" "$_tar.part" "$SD_MIRRORS" \
			    >"$SD_CACHE/mmdebstrap.log" 2>&1 || {
				tail -20 "$SD_CACHE/mmdebstrap.log" >&2
				rm -rf "$_tar.part"
				exit 1
			}
			mv "$_tar.part" "$_tar"
			echo "$(($(date +%s) - _t0))" >"$SD_CACHE/rootfs-$_key.seconds"
		fi
		timeout 300 docker import -c 'CMD ["/lib/systemd/systemd"]' \
		    -c "LABEL kom.test.rootfs=$_key" "$_tar" "$SD_IMAGE" \
		    >/dev/null
	) 9>"$SD_CACHE/rootfs.lock"
}

# systemd_boot NAME [ARGS...]: boot $SD_IMAGE as container
# $KOM_TEST_PREFIX$NAME, with ARGS added to docker run; waits until
# systemd says the system is up (running or degraded).  Sets SD.
systemd_boot() {
	SD=$KOM_TEST_PREFIX$1
	shift
	docker rm -f "$SD" >/dev/null 2>&1
	timeout 120 docker run -d --name "$SD" --label "kom.test=$KOM_TEST_ID" \
	    --network host \
	    --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
	    --tmpfs /run --tmpfs /run/lock \
	    -v /sys/fs/cgroup:/sys/fs/cgroup:ro \
	    "$@" "$SD_IMAGE" /lib/systemd/systemd >/dev/null || return 1
	# Until PID 1 listens, systemctl cannot connect: ask again.
	_n=0
	while [ $_n -lt 120 ]; do
		_st=$(timeout 90 docker exec "$SD" systemctl is-system-running --wait 2>&1)
		case $_st in
		running|degraded) return 0 ;;
		*"Failed to connect"*) ;;
		*) break ;;
		esac
		_n=$((_n + 1))
		sleep 0.5
	done
	echo "systemd_boot: $SD: $_st" >&2
	docker logs "$SD" 2>&1 | tail -20 >&2
	return 1
}

# sd CMD...: run CMD in the booted container, killed after SD_TIMEOUT s.
sd() {
	timeout "$SD_TIMEOUT" docker exec -i "$SD" "$@"
}

# sd_failed: no unit has failed.  Otherwise prints each failed unit and
# its journal as TAP diagnostics and returns 1.
sd_failed() {
	_f=$(sd systemctl list-units --failed --plain --no-legend | awk '{ print $1 }')
	[ -z "$_f" ] && return 0
	for _u in $_f; do
		echo "# failed: $_u"
		sd journalctl -b -u "$_u" --no-pager 2>&1 | tail -40 | sed 's/^/#   /'
	done
	return 1
}

# sd_mark UNIT; ...; sd_wait_run UNIT: wait (SD_TIMEOUT) until oneshot
# UNIT has run (a new invocation id) since sd_mark and ended; 0 when it
# succeeded.
sd_mark() {
	SD_MARK=$(sd systemctl show -P InvocationID "$1")
}
sd_wait_run() {
	_end=$(($(date +%s) + SD_TIMEOUT))
	while [ "$(date +%s)" -lt "$_end" ]; do
		_i=$(sd systemctl show -P InvocationID "$1")
		_s=$(sd systemctl show -P ActiveState "$1")
		if [ -n "$_i" ] && [ "$_i" != "${SD_MARK:-}" ] &&
		    { [ "$_s" = inactive ] || [ "$_s" = failed ]; }; then
			[ "$(sd systemctl show -P Result "$1")" = success ]
			return
		fi
		sleep 0.5
	done
	echo "# $1 did not run within $SD_TIMEOUT s" >&2
	return 1
}

# kom_debs DIR: the .debs of `make deb` for the tree as it is now, in
# DIR.  They are kept in $KOM_TEST_RUN/debs/KEY, KEY a hash of every file
# make deb copies, so that the tests of one tree build them once (0900
# builds and puts them there with kom_debs_put DIR, 0930 installs them).
_debs_dir() {
	_key=$(cd "$KOM_TOP" && git ls-files -z --cached --others --exclude-standard |
	    xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
	mkdir -p "$KOM_TEST_RUN/debs"
	# trees of another day are gone
	find "$KOM_TEST_RUN/debs" -mindepth 1 -maxdepth 1 -mmin +1440 \
	    -exec rm -rf {} + 2>/dev/null
	printf '%s\n' "$KOM_TEST_RUN/debs/$_key"
}
kom_debs() {
	_d=$(_debs_dir)
	(
		flock 9
		[ -d "$_d" ] && exit 0
		timeout 900 make -s -C "$KOM_TOP" deb DEBDIR="$_d.part" >"$_d.log" 2>&1 ||
			{ cat "$_d.log" >&2; rm -rf "$_d.part"; exit 1; }
		mv "$_d.part" "$_d"
	) 9>"$KOM_TEST_RUN/debs.lock" || return 1
	mkdir -p "$1" && cp "$_d"/* "$1"/
}
kom_debs_put() {
	_d=$(_debs_dir)
	(
		flock 9
		rm -rf "$_d" "$_d.part"
		cp -R "$1" "$_d.part" && mv "$_d.part" "$_d"
	) 9>"$KOM_TEST_RUN/debs.lock"
}

# sd_debs_image DIR: the .debs of this tree in DIR (kom_debs) and the
# Debian 12 image with systemd (systemd_image), or bail naming which; the
# start of every booted-systemd test.
sd_debs_image() {
	command -v dpkg-buildpackage >/dev/null || bail "dpkg-dev is needed"
	kom_debs "$1" 2>"$1.log" ||
		{ sed 's/^/# /' "$1.log"; bail 'make deb failed'; }
	systemd_image || bail 'no Debian 12 image with systemd'
}
