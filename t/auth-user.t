#!/bin/sh
# t/auth-user.t: `postern user add|passwd|del|list`: round trips through
# the users table, the password from standard input, the file's mode and
# syntax (a texthash table that `postern map -q` reads), addresses
# validated and qualified with $mydomain, hashes never listed.
. "$top_srcdir/t/lib.sh"

"$POSTERN" init "$T/i" --domain example.org >/dev/null 2>&1
P="$POSTERN -c $T/i"
U="$T/i/users"

out=$(echo 'sec ret' | $P user add alice 2>&1)
is "$?" 0 "add alice (password from stdin)"
is "$(cut -d' ' -f1 "$U" | grep -v '^#')" "alice@example.org" \
	"a bare name gets \$mydomain"
like "$(grep '^alice' "$U")" '^alice@example\.org \$(y|6)\$' \
	"stored as a yescrypt or SHA-512-crypt hash"
grep -q 'sec ret' "$U"
ok "$([ $? -ne 0 ]; echo $?)" "the password itself is not stored"
is "$(stat -c %a "$U")" 600 "the table is mode 0600"

printf 'pw2\r\n' | $P user add -q 10M Bob@Example.ORG >/dev/null 2>&1
is "$?" 0 "add with a quota"
is "$($P user list)" "alice@example.org -
bob@example.org 10485760" "list: addresses and quotas"
$P user list | grep -q '\$'
ok "$([ $? -ne 0 ]; echo $?)" "list never shows hashes"
is "$($P map -q bob@example.org texthash:"$U" | sed 's/^[^ ]* //')" \
	"quota=10485760" "the file is a texthash table (postern map -q)"

out=$(echo x | $P user add alice@example.org 2>&1)
is "$?" 1 "adding an existing user fails"
like "$out" "exists already" "and says so"
h1=$(grep '^alice' "$U")
echo 'other' | $P user passwd alice >/dev/null 2>&1
is "$?" 0 "passwd"
[ "$(grep '^alice' "$U")" != "$h1" ]
ok "$?" "passwd changes the hash"
out=$(echo x | $P user passwd nobody 2>&1)
is "$?" 1 "passwd of an unknown user fails"

out=$(printf '' | $P user add carol 2>&1)
is "$?" 1 "an empty password is refused"
out=$(head -c 2000 /dev/zero | tr '\0' a | $P user add carol 2>&1)
is "$?" 1 "an overlong password is refused"
out=$(echo x | $P user add 'a b@example.org' 2>&1)
is "$?" 1 "an invalid address is refused"
like "$out" "not a valid address" "with a clear message"
out=$(echo x | $P user add 'x@[192.0.2.1]' 2>&1)
is "$?" 1 "an address literal is refused"

$P user del alice >/dev/null 2>&1
is "$?" 0 "del"
is "$($P user list)" "bob@example.org 10485760" "alice is gone"
out=$($P user del alice 2>&1)
is "$?" 1 "deleting an unknown user fails"
out=$($P user frob x 2>&1)
is "$?" 64 "an unknown subcommand is a usage error"

printf 'broken-line\n' >"$U"
out=$($P user list 2>&1)
is "$?" 1 "a malformed table is an error"
like "$out" "users:1:" "naming file and line"

done_testing
