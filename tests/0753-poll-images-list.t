#!/bin/sh
# kom-poll images -l: the images of the deployments and stacks that poll
# or auto-update, without any registry: compose files read with libyaml,
# ${VAR}, ${VAR:-d}, ${VAR-d} and $$ from the environment, the stack's
# environment and its env file; pinned digests marked; skipped services
# marked; a broken compose file is an error with its place.
. "$(dirname "$0")/lib.sh"

mkdir -p "$KOM_HOME/local" "$T/app"
cat >"$KOM_HOME/kom.toml" <<'EOF'
[[resource_sync]]
name = "homelab"
resource_path = ["local"]
EOF
cat >"$T/app/compose.yaml" <<'EOF'
x-common: &common
  restart: unless-stopped
services:
  web:
    <<: *common
    image: "${REGISTRY}/web:${TAG:-latest}"
  worker:
    image: ${REGISTRY}/worker:${WTAG-1}
  db:
    image: postgres:16@sha256:4d9a6b3b2c2f1f0e8e7d6c5b4a392817161514131211100908070605040302011
  built:
    build: .
  cron:
    image: $$literal/${EMPTY-x}
EOF
printf 'REGISTRY=reg.lan:5000\nWTAG=\n# a comment\nexport EMPTY=""\n' >"$T/app/.env"
cat >"$KOM_HOME/local/res.toml" <<EOF
[[deployment]]
name = "api"
[deployment.config]
image.params.image = "reg.lan:5000/api:stable"
poll_for_updates = true

[[deployment]]
name = "quiet"
[deployment.config]
image.params.image = "busybox:1"

[[stack]]
name = "app"
[stack.config]
files_on_host = true
run_directory = "$T/app"
auto_update = true
auto_update_skip_services = ["worker"]
environment = "TAG = 2.1"

[[stack]]
name = "inline"
[stack.config]
poll_for_updates = true
environment = "V = 3"
file_contents = """
services:
  one:
    image: busybox:\${V}
"""
EOF
kom-poll images -l >"$T/out" 2>"$T/err"
is "$?" 0 'exit 0'
is "$(cat "$T/err")" '' 'nothing on stderr'
is "$(cat "$T/out")" '{"kind":"image","type":"stack","name":"app","service":"web","image":"reg.lan:5000/web:2.1"}
{"kind":"image","type":"stack","name":"app","service":"worker","image":"reg.lan:5000/worker:","skip_auto_update":true}
{"kind":"image","type":"stack","name":"app","service":"db","image":"postgres:16@sha256:4d9a6b3b2c2f1f0e8e7d6c5b4a392817161514131211100908070605040302011","pinned":true}
{"kind":"image","type":"stack","name":"app","service":"cron","image":"$literal/"}
{"kind":"image","type":"stack","name":"inline","service":"one","image":"busybox:3"}
{"kind":"image","type":"deployment","name":"api","image":"reg.lan:5000/api:stable"}
{"kind":"end","program":"kom-poll","counts":{"resources":3,"errors":0}}' \
    'one line per watched image, as it will be pulled (in apply order)'

TAG=9 kom-poll images -l >"$T/out" 2>"$T/err"
is "$(jq -r 'select(.service == "web") | .image' "$T/out")" 'reg.lan:5000/web:9' \
    'the environment wins over the stack'

printf 'services:\n  web:\n    image: x:${NEED:?set NEED}\n' >"$T/app/compose.yaml"
kom-poll images -l >"$T/out" 2>"$T/err"
is "$?" 65 'a compose error: exit 65'
is "$(cat "$T/err")" "kom-poll: res.toml:12: stack 'app': $T/app/compose.yaml:3:12: service 'web': required variable NEED is missing a value: set NEED" \
    'the message has the stack, the file, the line'
is "$(jq -c 'select(.kind == "end") | .counts' "$T/out")" '{"resources":3,"errors":1}' \
    'the others are listed all the same'
fails 'an operand: 64' 64 kom-poll images -l extra
done_testing
