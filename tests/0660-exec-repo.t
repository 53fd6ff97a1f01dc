#!/bin/sh
# kom-exec and [[repo]]: cloned where declared from a real git server
# with basic auth, on_clone then on_pull run by /bin/sh, the env file
# mode 0600, a new commit or branch checked out again; a repo that does
# not exist, a wrong token, a branch that is gone: one line naming the
# resource and its file:line, the step fails, the old checkout is kept.
. "$(dirname "$0")/lib.sh"
. "$KOM_TOP/tests/git.sh"
command -v jq >/dev/null 2>&1 || bail "jq is needed"

git_http_up
git_repo private/app
W=$T/work
git_work private/app "$W"
echo one >"$W/version"
mkdir -p "$W/sub"
echo s >"$W/sub/f"
C1=$(git_commit "$W" first version sub/f)

cat >"$KOM_HOME/kom.toml" <<EOF
[[git_provider]]
domain = "$GIT_HTTP"
https = false
accounts = [ { username = "kom", token = "$GIT_TOKEN" } ]
EOF
S=$T/syncs
mkdir -p "$S"
repo() {	# repo [REPO [BRANCH [PATH]]]
	cat >"$S/repos.toml" <<EOF
[[repo]]
name = "app"
[repo.config]
git_provider = "$GIT_HTTP"
git_https = false
git_account = "kom"
repo = "${1:-private/app}"
branch = "${2:-main}"
path = "${3:-$T/app}"
on_clone.command = "echo cloned >>\$HOME/hooks; cat version"
on_pull = { path = "sub", command = "echo pulled \$(cat f) >>\$HOME/hooks" }
environment = """
A = 1
B = [[SECRETV]]
"""
EOF
}
mkdir -p "$KOM_HOME/secrets"
printf 'hush' >"$KOM_HOME/secrets/SECRETV"
export KOM_SECRETS_DIR=$KOM_HOME/secrets HOME=$T
run() {
	kom-sync diff "$S" 2>/dev/null | kom-plan >"$T/plan" 2>/dev/null
	kom-exec "$T/plan" >"$T/out" 2>"$T/err"
}
res() { jq -r "select(.kind==\"result\" and .type==\"repo\") | $1" "$T/out"; }

repo
run
is "$?" 0 "the repo step succeeds"
is "$(cat "$T/app/version")" one 'cloned where declared'
is "$(cat "$T/hooks")" cloned 'on_clone ran'
is "$(res .detail.on_clone)" one 'its output is in the detail'
is "$(stat -c %a "$T/app/.env")" 600 'the env file is mode 0600'
is "$(cat "$T/app/.env")" "$(printf 'A=1\nB=hush')" 'with the interpolated secret'
is "$(res .detail.commit)" "$C1" 'the commit is in the detail'
ok 'the token is nowhere in the output' sh -c "! grep -rqF '$GIT_TOKEN' '$T/out' '$T/err' '$KOM_HOME/state/resources' '$KOM_HOME/state/history'"
ok 'the secret is not in the result' sh -c "! grep -qF hush '$T/out'"
run
is "$(res .status)" '' 'unchanged: no step'

# a new branch: checked out again, on_pull runs in its path
echo two >"$W/version"
echo t >"$W/sub/f"
C2=$(git_commit "$W" second version sub/f)
(cd "$W" && git push -q origin HEAD:next 2>/dev/null)
repo private/app next
run
is "$?" 0 'a branch change succeeds'
is "$(cat "$T/app/version")" two 'the new branch is checked out'
is "$(tail -n1 "$T/hooks")" 'pulled t' 'on_pull ran in its path'
is "$(res .detail.commit)" "$C2" 'at its commit'
ok 'no copy left beside it' test ! -e "$T/app.kom-new" -a ! -e "$T/app.kom-old"

# bad input: one line naming the resource, the step fails, nothing moves
fail_case() {	# fail_case NAME PATTERN
	run
	rc=$?
	is "$rc" 1 "$1: exit 1"
	is "$(res .status)" failed "$1: the step fails"
	case $(res .error) in
	*"repos.toml:1: repo 'app': "*$2*) r=ok ;; *) r=$(res .error) ;;
	esac
	is "$r" ok "$1: file:line and the reason"
	is "$(cat "$T/app/version")" two "$1: the checkout is untouched"
}
repo private/app gone
fail_case 'a branch that is gone' "gone"
repo private/nope main
fail_case 'a repo that does not exist' ""
# a branch the cache lacks must be fetched: with a wrong token
(cd "$W" && git push -q origin HEAD:other 2>/dev/null)
sed -i "s/$GIT_TOKEN/wrong/" "$KOM_HOME/kom.toml"
repo private/app other
fail_case 'a wrong token' ""
ok 'the wrong token is not echoed' sh -c "! grep -qF wrong '$T/out'"
done_testing
