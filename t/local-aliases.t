#!/bin/sh
# t/local-aliases.t: the aliases(5) file syntax ("name: value, value",
# continuation lines, comments, quoted names) read by `postern map` for
# hash and lmdb builds, by texthash tables without a build, and by
# newaliases (sendmail -bi); postmap-style "key value" lines in the same
# file keep working.
. "$top_srcdir/t/lib.sh"

cat > "$T/aliases" <<'END'
# /etc/aliases in the classic form
postmaster: root
root:	admin@example.org, backup@example.org
team: alice,
  bob,
# a comment between continuation lines
	carol
"john doe": john
archive: "|/usr/bin/archiver -d /srv/archive", /var/mail/archive
plain alice
END

for type in hash lmdb; do
	"$POSTERN" map "$type:$T/aliases" 2>"$T/err"
	is "$?" 0 "$type: built from aliases(5) syntax"
	is "$(cat "$T/err")" "" "$type: no warning"
	is "$("$POSTERN" map -q postmaster "$type:$T/aliases")" "root" \
		"$type: name: value"
	is "$("$POSTERN" map -q root "$type:$T/aliases")" \
		"admin@example.org, backup@example.org" "$type: tab after colon"
	is "$("$POSTERN" map -q team "$type:$T/aliases")" "alice, bob, carol" \
		"$type: continuation lines joined, comment skipped"
	is "$("$POSTERN" map -q 'john doe' "$type:$T/aliases")" "john" \
		"$type: quoted name"
	is "$("$POSTERN" map -q archive "$type:$T/aliases")" \
		'"|/usr/bin/archiver -d /srv/archive", /var/mail/archive' \
		"$type: command and file targets kept as written"
	is "$("$POSTERN" map -q plain "$type:$T/aliases")" "alice" \
		"$type: a postmap-style line in the same file"
	"$POSTERN" map -q 'postmaster:' "$type:$T/aliases" >/dev/null
	is "$?" 1 "$type: the colon is not part of the key"
done

is "$("$POSTERN" map -q team "texthash:$T/aliases")" "alice, bob, carol" \
	"texthash: the same syntax without a build"

printf 'root:\n' > "$T/bad"
"$POSTERN" map "hash:$T/bad" 2>"$T/err"
is "$?" 2 "a name without a value: error"
like "$(cat "$T/err")" "bad:1: expected key whitespace value" \
	"  naming file and line"

# newaliases builds alias_database through postern map
"$POSTERN" init "$T/inst" >/dev/null 2>&1
cp "$T/aliases" "$T/inst/aliases.src"
cat >> "$T/inst/main.cf" <<END
alias_database = hash:$T/inst/aliases.src
command_directory = $top_builddir/cli
END
"$top_builddir/cli/sendmail" -C "$T/inst" -bi 2>"$T/err"
is "$?" 0 "newaliases (sendmail -bi): exit 0"
is "$("$POSTERN" map -q team "hash:$T/inst/aliases.src")" \
	"alice, bob, carol" "newaliases: aliases(5) syntax built"

done_testing
