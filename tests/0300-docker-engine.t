#!/bin/sh
# The shared Docker test infrastructure (tests/docker.sh) against the real
# engine: dockerd started once, local registries (plain and htpasswd),
# busybox images built FROM scratch and cached, host and bridge networking,
# cleanup by label and by name prefix.  lib/docker itself is tested
# against the same engine by tests/unit/docker_live.t.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker.sh"

docker_up || bail "cannot bring up dockerd (see /var/log/kom-test-dockerd.log)"
at_exit kom_labels_cleanup

ok 'docker_up: the engine answers' docker version
n1=$(pgrep -x dockerd | wc -l)
ok 'docker_up again' docker_up
n2=$(pgrep -x dockerd | wc -l)
is "$n2" "$n1" 'docker_up on a running engine starts no second dockerd'
is "$n1" 1 'exactly one dockerd'

registry_up || bail 'cannot start docker-registry'
r1=$REGISTRY
is "$(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/")" 200 \
	'registry_up: the registry answers'
registry_up
is "$REGISTRY" "$r1" 'registry_up again: the same registry'

registry_up auth || bail 'cannot start docker-registry with auth'
is "$(curl -s -o /dev/null -w '%{http_code}' "http://$AUTH_REGISTRY/v2/")" 401 \
	'the auth registry wants credentials'
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH_USER:$AUTH_PASS" \
	"http://$AUTH_REGISTRY/v2/")" 200 'and takes the htpasswd user'

port=$(_free_port)
img=kt-0300:$port
lines="RUN [\"/bin/sh\",\"-c\",\"mkdir /www && echo kom-test-page >/www/index.html\"]
CMD [\"httpd\",\"-f\",\"-p\",\"$port\",\"-h\",\"/www\"]"
ok 'build_busybox_image' build_busybox_image "$img" "$lines"
id1=$(docker image inspect -f '{{.Id}}' "$img")
ok 'build_busybox_image again' build_busybox_image "$img" "$lines"
is "$(docker image inspect -f '{{.Id}}' "$img")" "$id1" 'cached: the same image'
ok 'other lines under the same tag' build_busybox_image "$img" "$lines
ENV X=1"
id2=$(docker image inspect -f '{{.Id}}' "$img")
ok 'rebuild a different image' test "$id2" != "$id1"
is "$(docker run --rm --network none "$img" cat /www/index.html)" kom-test-page \
	'busybox applets work in the image'

# wait_http URL: the page, once the server answers (bounded retries)
wait_http() {
	_n=0
	until curl -fsS --max-time 2 "$1" 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -gt 50 ] && return 1
		sleep 0.2
	done
}

ok 'a host-network container' docker run -d --network host \
	--label "kom.test=$KOM_TEST_ID" --name "${KOM_TEST_PREFIX}host" "$img"
is "$(wait_http "http://127.0.0.1:$port/")" kom-test-page \
	'host networking: the container serves on the host port'

port2=$(_free_port)
ok 'a bridge-network container, published port' docker run -d \
	-p "127.0.0.1:$port2:$port" --name "${KOM_TEST_PREFIX}bridge" "$img"
is "$(wait_http "http://127.0.0.1:$port2/")" kom-test-page \
	'bridge networking: the published port answers'

kom_labels_cleanup
is "$(docker ps -aq --filter "label=kom.test=$KOM_TEST_ID" | wc -l)" 0 \
	'kom_labels_cleanup removed the labelled container'
is "$(docker ps -a --format '{{.Names}}' | grep -c "^$KOM_TEST_PREFIX")" 0 \
	'and the one with the name prefix'
ok 'the engine is still up after cleanup' docker version

fails 'docker.sh as a command: usage' 64 sh "$KOM_TOP/tests/docker.sh" bogus
ok 'docker.sh up as a command' sh "$KOM_TOP/tests/docker.sh" up
docker rmi -f "$img" >/dev/null 2>&1
done_testing
