#!/bin/sh
# kom-exec: a stack through the compose CLI: up, noop, changed, renamed,
# -n, lifecycle by hand, inline file contents, status, destroyed.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/fixtures/exec/lib.sh"

exec_images
P=$(port 21)
S=$T/stk
mkdir -p "$S"
cat >"$S/compose.yaml" <<EOD
version: "3"
services:
  web:
    image: $IMG:1
    network_mode: host
    command: ["httpd", "-f", "-p", "$P", "-h", "/www"]
    environment:
      - GREETING=\${GREETING}
EOD

stack() {	# stack NAME PROJECT GREETING [FILE-CONTENTS]
	jq -nc --arg n "$1" --arg p "$2" --arg g "$3" --arg src "$S/stack.toml:1" \
	    --arg fc "${4:-}" '{
	    type: "stack", name: $n, sync: "test", source: $src,
	    description: "", tags: [], template: false, deploy: true, after: [],
	    config: { server: "", swarm: "", links: [], project_name: $p,
		auto_pull: false, run_build: false, destroy_before_deploy: false,
		skip_secret_interp: false, files_on_host: true,
		run_directory: "", file_paths: [], env_file_path: ".env",
		additional_env_files: [], config_files: [], ignore_services: [],
		pre_deploy: { path: "", command: "echo pre >pre.txt", shell_mode: false },
		post_deploy: { path: "", command: "", shell_mode: false },
		extra_args: [], build_extra_args: [], file_contents: $fc,
		environment: [{ key: "GREETING", value: $g }] } }'
}
proj_ids() {
	docker ps -q --filter "label=com.docker.compose.project=$1" | sort | tr '\n' ' '
}
greeting() {
	docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' $(proj_ids "$1") |
	    sed -n 's/^GREETING=//p'
}

A=$(stack "$PFX-s" "" hello)
{ step 1 1 deploy "$A"; plan_end; } >"$T/p1"
kexec "$T/p1"
is "$?" 0 'stack up'
is "$(res "$T/out" 1 .status)" ok 'result ok'
is "$(proj_ids "$PFX-s" | wc -w | tr -d ' ')" 1 'one container in the project'
is "$(greeting "$PFX-s")" hello 'the env file reached the service'
is "$(stat -c %a "$S/.env")" 600 'env file mode 0600'
is "$(cat "$S/pre.txt")" pre 'pre_deploy ran in the run directory'
is "$(fetch "$P")" v1 'the service answers'
is "$(jq -r .exec.project "$KOM_HOME/state/resources/stack/$PFX-s.json")" "$PFX-s" 'state has the project'

ids=$(proj_ids "$PFX-s")
{ step 1 1 ensure "$A"; plan_end; } >"$T/p2"
kexec "$T/p2"
is "$(res "$T/out" 1 .status)" noop 'unchanged and running: noop'
is "$(proj_ids "$PFX-s")" "$ids" 'nothing touched'
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-s" 'select(.name==$n) | "\(.type) \(.state) \(.drift)"' "$T/st")" \
    'stack running null' 'status: running, no drift'

B=$(stack "$PFX-s" "" bye)
{ step 1 1 deploy "$B"; plan_end; } >"$T/p3"
kexec "$T/p3"
is "$(res "$T/out" 1 .status)" ok 'changed env: redeployed'
is "$(greeting "$PFX-s")" bye 'the new value is in the service'

docker stop -t 1 $(proj_ids "$PFX-s") >/dev/null
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-s" 'select(.name==$n) | "\(.state) \(.drift)"' "$T/st")" \
    'stopped stopped' 'stopped by hand shows as drift'
{ step 1 1 ensure "$B"; plan_end; } >"$T/p4"
kexec "$T/p4"
is "$(res "$T/out" 1 '"\(.status) \(.reason)"')" 'ok stack has stopped state' 'ensure brings it up'

C=$(stack "$PFX-s" "$PFX-s2" bye)
{ step 1 1 deploy "$C"; plan_end; } >"$T/p5"
kexec "$T/p5"
is "$(res "$T/out" 1 '"\(.status) \(.detail.down)"')" "ok $PFX-s" 'renamed project: old one taken down'
is "$(proj_ids "$PFX-s")" '' 'no container of the old project'
is "$(proj_ids "$PFX-s2" | wc -w | tr -d ' ')" 1 'the new project runs'

# -n on a changed stack: would bring it up, touches nothing
ids=$(proj_ids "$PFX-s2")
E=$(stack "$PFX-s" "$PFX-s2" changed)
{ step 1 1 deploy "$E"; plan_end; } >"$T/pn"
kom-exec -n "$T/pn" >"$T/out" 2>"$T/err"
is "$(res "$T/out" 1 '"\(.status) \(.detail.would) \(.dry_run)"')" 'ok up true' \
    '-n: would bring the stack up'
is "$(proj_ids "$PFX-s2")" "$ids" '-n: the same containers'
is "$(greeting "$PFX-s2")" bye '-n: the old value'

# lifecycle by hand on the stack's name
st() {	# the stack's state in kom-exec status
	kom-exec status | jq -r --arg n "$PFX-s" 'select(.name==$n) | .state'
}
ok 'stop the stack by hand' kexec stop "$PFX-s"
is "$(proj_ids "$PFX-s2")" '' 'none of its containers runs'
is "$(st)" stopped 'status: stopped'
ok 'start it' kexec start "$PFX-s"
is "$(st)" running 'status: running'
ok 'pause it' kexec pause "$PFX-s"
is "$(st)" paused 'status: paused'
ok 'unpause it' kexec unpause "$PFX-s"
is "$(st)" running 'status: running again'
ok 'restart it' kexec restart "$PFX-s"
is "$(proj_ids "$PFX-s2" | wc -w | tr -d ' ')" 1 'its container runs'
is "$(fetch "$P")" v1 'and answers'
ok 'destroy it by hand' kexec destroy "$PFX-s"
is "$(docker ps -aq --filter "label=com.docker.compose.project=$PFX-s2")" '' 'no container left'
ok 'forgotten' test ! -e "$KOM_HOME/state/resources/stack/$PFX-s.json"
fails 'a lifecycle on a destroyed stack exits 1' 1 kom-exec start "$PFX-s"

# inline file_contents: written under STATE/stacks/NAME
FC=$(sed "s/$P/$(port 22)/" "$S/compose.yaml")
D=$(stack "$PFX-i" "" inline "$FC")
{ step 1 1 deploy "$D"; plan_end; } >"$T/p7"
kexec "$T/p7"
is "$(res "$T/out" 1 .status)" ok 'inline stack up'
ok 'its file is in the state dir' test -f "$KOM_HOME/state/stacks/$PFX-i/compose.yaml"
is "$(greeting "$PFX-i")" inline 'with its env'
{ step 1 1 destroy "$D"; plan_end; } >"$T/p8"
ok 'destroy the inline stack' kexec "$T/p8"
is "$(proj_ids "$PFX-i")" '' 'gone'
# one service of two stopped by hand: drift, naming the service
FC2=$(printf 'version: "3"\nservices:\n  web1:\n    image: %s\n    network_mode: host\n    command: ["httpd", "-f", "-p", "%s", "-h", "/www"]\n  web2:\n    image: %s\n    network_mode: host\n    command: ["httpd", "-f", "-p", "%s", "-h", "/www"]\n' \
    "$IMG:1" "$(port 23)" "$IMG:1" "$(port 24)")
E=$(stack "$PFX-two" "" two "$FC2")
{ step 1 1 deploy "$E"; plan_end; } >"$T/p9"
ok 'a stack of two services up' kexec "$T/p9"
docker stop -t 2 $(docker ps -q --filter "label=com.docker.compose.project=$PFX-two" \
    --filter "label=com.docker.compose.service=web2") >/dev/null
kom-exec status >"$T/st"
is "$(jq -r --arg n "$PFX-two" 'select(.name==$n) | "\(.state) \(.drift) \(.drift_detail)"' "$T/st")" \
    'unhealthy stopped service web2 is exited' 'one service stopped by hand: drift, and which'
kom-exec status -H >"$T/sth"
ok 'status -H shows the drift detail' grep -q '^ *drift: service web2 is exited$' "$T/sth"
{ step 1 1 ensure "$E"; plan_end; } >"$T/p10"
kexec "$T/p10"
is "$(res "$T/out" 1 '"\(.status) \(.reason)"')" 'ok stack has unhealthy state' 'ensure brings it back'
{ step 1 1 destroy "$E"; plan_end; } >"$T/p11"
ok 'destroy it' kexec "$T/p11"
done_testing
