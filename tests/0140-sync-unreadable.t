#!/bin/sh
# Files that cannot be read are errors that name them, never a silent
# skip: a dangling or looping *.toml symbolic link, a directory link
# back up the tree (one line, not one per level), a missing operand or
# -j file (exit 74, kom(7)), a file name that is not UTF-8 (65); with any
# of them nothing is written, so `diff -d` deletes nothing.
. "$(dirname "$0")/lib.sh"

S=$T/syncs
mkdir -p "$S/sub"
cat >"$S/a.toml" <<'EOF2'
[[deployment]]
name = "a"
EOF2
cat >"$S/sub/b.toml" <<'EOF2'
[[deployment]]
name = "b"
EOF2
printf 'server = "h"\n' >"$KOM_HOME/kom.toml"

# apply both by hand: their records in the state dir
mkdir -p "$KOM_HOME/state/resources/deployment"
kom-sync show "$S" >"$T/show" || bail "show failed"
for n in a b; do
	jq -c "select(.name == \"$n\") | del(.kind)" "$T/show" \
	    >"$KOM_HOME/state/resources/deployment/$n.json"
done
kom-sync diff -d "$S" >"$T/out" 2>"$T/err"
is "$?" 0 'all readable: diff exits 0'
is "$(jq -r 'select(.kind == "resource") | .op' "$T/out" | tr '\n' ' ')" \
    'keep keep ' 'all readable: both kept'

# b.toml becomes a dangling link
mv "$S/sub/b.toml" "$T/b.toml"
ln -s "$T/gone.toml" "$S/sub/b.toml"
kom-sync diff -d "$S" >"$T/out" 2>"$T/err"
is "$?" 74 'dangling link: exit 74'
is "$(cat "$T/err")" "kom-sync: $S/sub/b.toml: No such file or directory" \
    'dangling link: named'
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'dangling link: nothing written, nothing deleted'
fails 'dangling link: validate exits 74' 74 kom-sync validate "$S"
fails 'dangling link: show exits 74' 74 kom-sync show "$S"

# a link to itself
rm "$S/sub/b.toml"
ln -s b.toml "$S/sub/b.toml"
kom-sync diff -d "$S" >"$T/out" 2>"$T/err"
is "$?" 74 'looping link: exit 74'
ok 'looping link: named' grep -q "^kom-sync: $S/sub/b.toml: Too many levels of symbolic links$" "$T/err"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'looping link: nothing deleted'

# a directory link back up the tree: one line
rm "$S/sub/b.toml"
mv "$T/b.toml" "$S/sub/b.toml"
ln -s .. "$S/sub/up"
kom-sync validate "$S" >"$T/out" 2>"$T/err"
is "$?" 74 'directory loop: exit 74'
is "$(cat "$T/err")" "kom-sync: $S/sub/up: symbolic link loop back to '$S'
kom-sync: 1 error" 'directory loop: one line naming the link'
rm "$S/sub/up"

# a dangling link that is not a resource file is none of our business
ln -s "$T/gone" "$S/README"
ok 'other dangling links are ignored' kom-sync validate "$S"
rm "$S/README"

# a file whose name is not UTF-8: records cannot name it in JSON; an
# error naming it, nothing written (its records used to lose their source
# and the references to them)
bad=$(printf 'c\377.toml')
printf '[[deployment]]\nname = "c"\nafter = ["a"]\n' >"$S/$bad"
kom-sync diff -d "$S" >"$T/out" 2>"$T/err"
is "$?" 65 'file name not UTF-8: diff exits 65'
is "$(head -n 1 "$T/err")" "kom-sync: $S/$bad: the file's name is not valid UTF-8, and records name their file in JSON, which must be: rename it" \
    'file name not UTF-8: named'
is "$(wc -c <"$T/out" | tr -d ' ')" 0 'file name not UTF-8: nothing written'
fails 'file name not UTF-8: validate exits 65' 65 kom-sync validate "$S"
rm "$S/$bad"

# missing operands and input files: 74
fails 'missing operand: validate exits 74' 74 kom-sync validate "$T/nope"
fails 'missing operand: diff exits 74' 74 kom-sync diff "$T/nope"
kom-sync diff -j "$T/nope.jsonl" 2>"$T/err"
is "$?" 74 'missing -j file: diff exits 74'
ok 'missing -j file named' grep -q "$T/nope.jsonl: No such file or directory" "$T/err"
printf '{"kind":"resource"\n' >"$T/bad.jsonl"
fails 'a bad -j stream is still 65' 65 kom-sync diff -j "$T/bad.jsonl"
done_testing
