#!/bin/sh
# kom-sync diff: ops against a prepared state dir, sync options from
# kom.toml, secret masking, exit statuses.
. "$(dirname "$0")/lib.sh"

F=$KOM_TOP/tests/fixtures/diff
G=$KOM_TOP/tests/golden/diff
cp -R "$F/state" "$KOM_HOME/state"
D=$F/declared.jsonl
# pull mode: this host is host1, the server of every fixture resource
printf 'server = "host1"\n' >"$KOM_HOME/kom.toml"

kom-sync diff -j "$D" >"$T/plain.jsonl" 2>"$T/err"
is "$?" 0 'diff exits 0'
cmp_file "$T/plain.jsonl" "$G/plain.jsonl" 'json output (no delete)'
is "$(cat "$T/err")" "" 'nothing on stderr'
is "$(tail -n 1 "$T/plain.jsonl")" \
    '{"kind":"end","program":"kom-sync","counts":{"create":3,"update":5,"delete":0,"keep":5,"total":13}}' \
    'end record with counts'
ok 'no delete without -d/delete/managed' \
    sh -c "! grep -q '\"op\":\"delete\"' '$T/plain.jsonl'"

# update with field-level changes, and the deploy fields among them
ok 'web: image and environment changed, both need a deploy' \
    grep -q '"name":"web","op":"update".*"path":"config.image.params.image","from":"nginx:1","to":"nginx:2".*"deploy_changes":\["image","environment"\]' "$T/plain.jsonl"
# a field the file no longer sets is a change back to its default
ok 'db: restart back to its default' \
    grep -q '"name":"db","op":"update".*{"path":"config.restart","from":"unless-stopped","to":"no"}' "$T/plain.jsonl"
ok 'db: termination_timeout changed but is no deploy field' \
    grep -q '"name":"db".*"deploy_changes":\["restart","environment"\]' "$T/plain.jsonl"
# builds: a declared 0.0.0 never overwrites the applied version
ok 'build 0.0.0 keeps the applied 1.4.2' \
    grep -q '"type":"build","name":"api","op":"keep".*"version":"1.4.2"' "$T/plain.jsonl"
ok 'build 2.0.0 is an update' \
    grep -q '"type":"build","name":"worker","op":"update".*{"path":"config.version","from":"1.0.0","to":"2.0.0"}' "$T/plain.jsonl"
ok 'create carries deploy and after' \
    grep -q '"name":"cache","op":"create".*"deploy":true,"after":\["db"\]' "$T/plain.jsonl"

kom-sync diff -d -j "$D" >"$T/delete.jsonl"
cmp_file "$T/delete.jsonl" "$G/delete.jsonl" 'json output with -d'
ok '-d deletes an undeclared resource without a sync' \
    grep -q '"name":"old","op":"delete","source":"deployments/old.toml:1"' "$T/delete.jsonl"
ok '-d never deletes another sync'"'"'s resource' \
    sh -c "! grep -q '\"name\":\"legacy\"' '$T/delete.jsonl'"

# sync options from kom.toml
cat >"$KOM_HOME/kom.toml" <<'TOML'
server = "host1"

[[resource_sync]]
name = "elsewhere"
managed = true
match_tags = ["prod"]

[[resource_sync]]
name = "homelab"
TOML
kom-sync diff -y elsewhere -j "$D" >"$T/sync.jsonl"
cmp_file "$T/sync.jsonl" "$G/sync.jsonl" 'json output with -y (managed, match_tags)'
ok 'records carry the sync name' \
    grep -q '"name":"web","op":"update","sync":"elsewhere"' "$T/sync.jsonl"
ok 'managed deletes the sync'"'"'s own resource' \
    grep -q '"name":"legacy","op":"delete","sync":"elsewhere"' "$T/sync.jsonl"
ok 'match_tags: an untagged resource is left out' \
    sh -c "! grep -q '\"type\":\"deployment\",\"name\":\"worker\"' '$T/sync.jsonl'"
ok 'Komodo defaults with -y: no variables, no user groups' \
    sh -c "! grep -q '\"type\":\"variable\"\\|\"type\":\"user_group\"' '$T/sync.jsonl'"
ok 'match_tags also limits what is deleted' \
    sh -c "! grep -q '\"name\":\"old\"' '$T/sync.jsonl'"
kom-sync diff -y homelab -t web -j "$D" >"$T/tag.jsonl"
is "$(grep -c '"kind":"resource"' "$T/tag.jsonl")" 1 '-t overrides match_tags'
ok '-t web keeps web' grep -q '"name":"web"' "$T/tag.jsonl"
kom-sync diff -y homelab -d -j "$D" >"$T/hd.jsonl"
ok '-d overrides delete' grep -q '"name":"old","op":"delete"' "$T/hd.jsonl"
kom-sync diff -t prod -t web -j "$D" >"$T/tags2.jsonl"
is "$(grep -c '"type":"deployment"' "$T/tags2.jsonl")" 1 'match_tags needs all tags'

# secrets: neither planted value may appear anywhere
kom-sync diff -d -j "$D" >"$T/s1" 2>&1
kom-sync diff -d -H -v -j "$D" >"$T/s2" 2>&1
kom-sync diff -y elsewhere -d -j "$D" >"$T/s3" 2>&1
ok 'a variable turned secret shows <DB_PASS>' \
    grep -q '{"path":"config.value","from":"<DB_PASS>","to":"<DB_PASS>"}' "$T/s1"
ok 'a declared secret shows <API_TOKEN>' \
    grep -q '"name":"API_TOKEN".*"value":"<API_TOKEN>"' "$T/s1"
ok 'no secret value in any output' \
    sh -c "! cat '$T/s1' '$T/s2' '$T/s3' '$T/plain.jsonl' '$T/delete.jsonl' | grep -q 'planted-'"

# exit statuses; nothing on stdout when failing
printf '%s\n' "$(head -n 3 "$D")" >"$T/trunc.jsonl"
fails 'truncated input stream: 65' 65 kom-sync diff -j "$T/trunc.jsonl"
kom-sync diff -j "$T/trunc.jsonl" >"$T/out" 2>/dev/null
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'nothing on stdout on bad input'
printf '%s\n' '{"kind":"resource","type":"deployment","name":"x","source":"x.toml:1","after":["nope"],"after_source":"x.toml:3","config":{}}' \
    '{"kind":"end","program":"kom-sync"}' >"$T/after.jsonl"
kom-sync diff -j "$T/after.jsonl" >"$T/out" 2>"$T/err"
is "$?" 65 'after naming nothing: 65'
is "$(cat "$T/err")" "kom-sync: x.toml:3: deployment 'x' is after 'nope', which is neither a declared nor an applied deployment or stack" \
    'after error names the file and line'
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'and nothing on stdout'
printf '%s\n' '{"kind":"resource","type":"deployment","name":"x","source":"x.toml:1","after":["legacy"],"config":{}}' \
    '{"kind":"end","program":"kom-sync"}' >"$T/after2.jsonl"
ok 'after naming an applied-only deployment is fine' kom-sync diff -j "$T/after2.jsonl"

fails 'unknown sync: 78' 78 kom-sync diff -y nope -j "$D"
printf 'server = 1\n' >"$KOM_HOME/kom.toml"
kom-sync diff -j "$D" >"$T/out" 2>"$T/err"
is "$?" 78 'bad kom.toml: 78'
is "$(sed "s|$KOM_HOME|H|" "$T/err")" "kom-sync: H/kom.toml:1:10: 'server' must be a string, not integer" \
    'kom.toml error names file:line:col'
rm "$KOM_HOME/kom.toml"

mv "$KOM_HOME/state" "$KOM_HOME/state.ok"
mkdir "$KOM_HOME/state"
: >"$KOM_HOME/state/resources"
fails 'state dir unreadable: 74' 74 kom-sync diff -j "$D"
rm -rf "$KOM_HOME/state"
fails 'missing state dir: everything is a create' 0 kom-sync diff -j "$D"
kom-sync diff -j "$D" | tail -n 1 >"$T/end"
is "$(cat "$T/end")" \
    '{"kind":"end","program":"kom-sync","counts":{"create":13,"update":0,"delete":0,"keep":0,"total":13}}' \
    'empty state: 13 creates'
mv "$KOM_HOME/state.ok" "$KOM_HOME/state"

kom-sync diff -d -n other -j "$D" >"$T/other.jsonl"
ok 'another host does not delete host1'"'"'s resources' \
    sh -c "! grep -q '\"name\":\"old\",\"op\":\"delete\"' '$T/other.jsonl'"

# From TOML files through the resource layer: "apply" v1 by storing what
# show printed as the state, then edit the file.
mkdir -p "$T/syncs" "$T/st2/resources/deployment"
cat >"$T/syncs/web.toml" <<'TOML'
[[deployment]]
name = "web"
deploy = true
after = ["db"]
[deployment.config]
server = "host1"
image = { type = "Image", params = { image = "nginx:1" } }
restart = "unless-stopped"
environment = """
A=1
B=2
"""

[[deployment]]
name = "db"
[deployment.config]
server = "host1"
image.params.image = "postgres:16"

[[variable]]
name = "PW"
value = "planted-toml-secret"
is_secret = true
TOML
kom-sync show -n host1 "$T/syncs" >"$T/show.jsonl" 2>/dev/null
for n in web db; do
	grep "\"type\":\"deployment\",\"name\":\"$n\"" "$T/show.jsonl" \
	    >"$T/st2/resources/deployment/$n.json"
done
KOM_STATE_DIR=$T/st2 kom-sync diff -n host1 "$T/syncs" >"$T/t1" 2>"$T/t1.err"
is "$?" 0 'toml: diff exits 0'
is "$(grep -c '"op":"keep"' "$T/t1")" 2 'toml: applied deployments are kept'
sed -e '/^restart = /d' -e 's/^A=1$/A=9/' "$T/syncs/web.toml" >"$T/web2"
mv "$T/web2" "$T/syncs/web.toml"
KOM_STATE_DIR=$T/st2 kom-sync diff -n host1 "$T/syncs" >"$T/t2" 2>>"$T/t1.err"
ok 'toml: a removed line is a change back to the default' \
    grep -q '"name":"web","op":"update".*{"path":"config.restart","from":"unless-stopped","to":"no"}' "$T/t2"
ok 'toml: environment change, both need a deploy' \
    grep -q '"name":"web".*"deploy_changes":\["environment","restart"\]' "$T/t2"
# db leaves the files but web still runs after it: it was applied, fine
cat >"$T/syncs/web.toml" <<'TOML'
[[deployment]]
name = "web"
deploy = true
after = ["db"]
[deployment.config]
server = "host1"
image = { type = "Image", params = { image = "nginx:1" } }
TOML
KOM_STATE_DIR=$T/st2 kom-sync diff -n host1 "$T/syncs" >"$T/t3" 2>>"$T/t1.err"
is "$?" 0 'toml: after naming an applied, undeclared deployment is fine'
ok 'toml: undeclared db not mentioned without delete' \
    sh -c "! grep -q '\"name\":\"db\"' '$T/t3'"
KOM_STATE_DIR=$T/st2 kom-sync diff -d -n host1 "$T/syncs" >"$T/t4" 2>>"$T/t1.err"
ok 'toml: -d deletes db' grep -q '"name":"db","op":"delete"' "$T/t4"
sed 's/^after = .*/after = ["nope"]/' "$T/syncs/web.toml" >"$T/web4"
mv "$T/web4" "$T/syncs/web.toml"
KOM_STATE_DIR=$T/st2 kom-sync diff -n host1 "$T/syncs" >"$T/t5" 2>"$T/t5.err"
is "$?" 65 'toml: after naming nothing: 65'
is "$(wc -c <"$T/t5" | tr -d ' ')" 0 'toml: nothing on stdout'
ok 'toml: the error names the file' grep -q 'web.toml:4' "$T/t5.err"
# the state dir is read while the files are parsed: a bad state dir is
# still reported alone, before any diagnostic of the files
mkdir -p "$T/st3/resources/deployment"
echo '{bad' >"$T/st3/resources/deployment/x.json"
KOM_STATE_DIR=$T/st3 kom-sync diff -n host1 "$T/syncs" >"$T/t6" 2>"$T/t6.err"
is "$?" 74 'toml: bad state dir and bad files: 74'
is "$(sed "s|$T|T|" "$T/t6.err")" \
    "kom-sync: T/st3/resources/deployment/x.json:1:4: string or '}' expected near 'bad'" \
    'toml: only the state dir is reported'
ok 'toml: no secret value anywhere' \
    sh -c "! cat '$T/t1' '$T/t2' '$T/t3' '$T/t4' '$T/t1.err' '$T/t5.err' | grep -q 'planted-'"

# -y without operands reads the sync's resource_path under its directory
mkdir -p "$T/ys/stacks"
printf '[[stack]]\nname = "s1"\n[stack.config]\nserver = "host1"\n' \
    >"$T/ys/stacks/s.toml"
printf '[[stack]]\nname = "ignored"\n' >"$T/ys/elsewhere.toml"
cat >"$KOM_HOME/kom.toml" <<TOML
server = "host1"
[[resource_sync]]
name = "ys"
directory = "$T/ys"
resource_path = "stacks"
TOML
KOM_STATE_DIR=$T/empty-state kom-sync diff -y ys >"$T/ys.out"
is "$?" 0 '-y without paths: exit 0'
is "$(grep -c '"kind":"resource"' "$T/ys.out")" 1 '-y reads only resource_path'
ok '-y: the record carries the sync' \
    grep -q '"type":"stack","name":"s1","op":"create","sync":"ys","source":"s.toml:1"' "$T/ys.out"
rm "$KOM_HOME/kom.toml"

fails 'no path, no -j, no -y: usage' 64 kom-sync diff
fails 'unknown flag: usage' 64 kom-sync diff -Z
done_testing
