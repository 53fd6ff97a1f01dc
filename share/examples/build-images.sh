#!/bin/sh
# build-images.sh: build the example sync's images, kom-example/db:1,
# kom-example/api:1 and kom-example/web:1, from scratch around a static
# busybox (Debian: apt-get install busybox-static).  Nothing is pulled
# from a registry.  Then:
#
#	kom-sync diff share/examples/homelab | kom-plan | kom-exec
#
# Usage: build-images.sh [BUSYBOX]	(default: the busybox in PATH,
# which must be statically linked)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bb=${1:-$(command -v busybox || true)}
[ -n "$bb" ] && [ -x "$bb" ] || {
	echo "build-images.sh: no busybox found: install busybox-static" >&2
	exit 69
}
if command -v file >/dev/null && ! file -L "$bb" | grep -q 'statically linked'; then
	echo "build-images.sh: $bb is not statically linked: install busybox-static" >&2
	exit 69
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$bb" "$ctx/busybox"
cat >"$ctx/Dockerfile" <<'EOD'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /www /data && echo '<h1>kom example</h1>' >/www/index.html
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOD
[ -f "$here/homelab/images/Dockerfile" ] && cp "$here/homelab/images/Dockerfile" "$ctx/Dockerfile"
# The classic builder: Debian's docker.io has no buildx.
DOCKER_BUILDKIT=0 docker build -q -t kom-example/db:1 -t kom-example/api:1 \
    -t kom-example/web:1 "$ctx" >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}}' 'kom-example/*'
