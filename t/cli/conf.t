#!/bin/sh
# t/cli/conf.t: `postern conf`: listing, -n -d -h -x, editing with -e/-X,
# -M, which config directory is used, exit codes, and one clear error
# (never a crash) for each kind of broken main.cf.
. "${top_srcdir:-.}/t/lib.sh"

C="$T/c"
mkdir -p "$C"
cat >"$C/main.cf" <<'EOF'
# site comment
myhostname = mail.example.com
mydestination = $myhostname,
	example.com
relayhost = [smtp.example.net]:587
EOF
cp "$top_srcdir/conf/master.cf" "$C/master.cf"
pc() { "$POSTERN" -c "$C" conf "$@"; }

# ---- showing ----
out=$(pc 2>"$T/err"); rc=$?
is "$rc" 0 "conf: exit 0"
is "$(cat "$T/err")" "" "conf: no warnings"
is "$(printf '%s\n' "$out" | head -1)" "2bounce_notice_recipient = postmaster" \
	"conf: sorted, name = value"
has_line() { printf '%s\n' "$1" | grep -Fqx -- "$2"; }
has_line "$out" "relayhost = [smtp.example.net]:587"
ok $? "conf: shows main.cf values"
has_line "$out" "smtpd_timeout = 300s"
ok $? "conf: shows defaults"
has_line "$out" "relay_domains ="
ok $? "conf: an empty value prints as 'name ='"
is "$(printf '%s\n' "$out" | sort -c && echo sorted)" "sorted" "conf: output is sorted"
n_params=$(printf '%s\n' "$out" | wc -l)
ok "$([ "$n_params" -gt 100 ]; echo $?)" "conf: lists every parameter ($n_params)"

is "$(pc mydestination)" 'mydestination = $myhostname, example.com' \
	"conf NAME: unexpanded, continuation joined"
is "$(pc -x mydestination)" 'mydestination = mail.example.com, example.com' \
	"conf -x: expanded"
is "$(pc -h relayhost myhostname)" '[smtp.example.net]:587
mail.example.com' "conf -h: values only, in the order asked"
is "$(pc -n)" 'mydestination = $myhostname, example.com
myhostname = mail.example.com
relayhost = [smtp.example.net]:587' "conf -n: only what main.cf sets, sorted"
is "$(pc -n -x mydestination smtpd_timeout)" \
	'mydestination = mail.example.com, example.com' "conf -n with names"
is "$(pc -d relayhost smtpd_timeout)" 'relayhost =
smtpd_timeout = 300s' "conf -d: built-in defaults"
is "$(pc -dh mydestination)" '$myhostname, localhost.$mydomain, localhost' \
	"conf -dh: default text"
is "$(pc -dh maximal_queue_lifetime)" "5d" "conf -dh: time default with unit"

out=$(pc no_such_thing relayhost 2>"$T/err"); rc=$?
is "$rc" 0 "unknown name: exit 0, as postconf"
is "$out" 'relayhost = [smtp.example.net]:587' "unknown name: others still shown"
like "$(cat "$T/err")" "warning: no_such_thing: unknown parameter" \
	"unknown name: warning"

if [ -w /dev/full ]; then
	pc >/dev/full 2>"$T/err"
	is "$?" 1 "a failed write to standard output: exit 1"
fi

# ---- where the configuration comes from ----
is "$(POSTERN_CONFIG="$C" "$POSTERN" conf -h relayhost)" "[smtp.example.net]:587" \
	"POSTERN_CONFIG picks the directory"
is "$("$POSTERN" conf -c "$C" -h relayhost)" "[smtp.example.net]:587" \
	"conf -c DIR"
is "$(POSTERN_CONFIG=/nonexistent "$POSTERN" -c "$C" conf -h relayhost)" \
	"[smtp.example.net]:587" "postern -c DIR beats POSTERN_CONFIG"
is "$(pc -h config_directory)" "$C" "config_directory is the directory used"

# ---- editing ----
cp "$C/main.cf" "$T/before"
pc -e 'relayhost = [other]:25' smtpd_timeout=5m 2>"$T/err"
is "$?" 0 "conf -e: exit 0"
is "$(cat "$T/err")" "" "conf -e: quiet"
is "$(cat "$C/main.cf")" '# site comment
myhostname = mail.example.com
mydestination = $myhostname,
	example.com
relayhost = [other]:25
smtpd_timeout = 5m' "conf -e: replaces in place, appends, keeps the rest"
pc -e mydestination=localhost
is "$(sed -n 3,4p "$C/main.cf")" 'mydestination = localhost
relayhost = [other]:25' "conf -e: continuation lines replaced too"
pc -X smtpd_timeout relayhost
is "$(cat "$C/main.cf")" '# site comment
myhostname = mail.example.com
mydestination = localhost' "conf -X: removes"
cp "$C/main.cf" "$T/before"
pc -e smtpd_timeout=3x 2>"$T/err"
is "$?" 1 "conf -e bad value: exit 1"
like "$(cat "$T/err")" "smtpd_timeout: bad time value \"3x\".*not changed" \
	"conf -e bad value: says why"
cmp -s "$C/main.cf" "$T/before"
ok $? "conf -e bad value: main.cf unchanged"
pc -e 'myhostname=$mydomain' 2>"$T/err"
is "$?" 1 "conf -e making a loop: exit 1"
cmp -s "$C/main.cf" "$T/before"
ok $? "conf -e making a loop: main.cf unchanged"
pc -e smtpd_timeout 2>"$T/err"
is "$?" 1 "conf -e without '=': exit 1"
pc -e my_own_name=1 2>"$T/err"
is "$?" 0 "conf -e of an unknown name: allowed"
like "$(cat "$T/err")" "my_own_name: unknown parameter" "... with a warning"
pc -X my_own_name 2>/dev/null

# ---- master.cf ----
out=$(pc -M submission/inet)
like "$out" "^submission +inet n y n 0 100 smtpd -o syslog_name=postern/submission" \
	"conf -M: one service, columns resolved"
is "$(pc -M | wc -l)" 11 "conf -M: all services"
printf 'smtp inet n - n - smtpd\n' >"$C/master.cf"
pc -M 2>"$T/err"
is "$?" 1 "conf -M broken master.cf: exit 1"
like "$(cat "$T/err")" "$C/master.cf:1: 7 fields" "conf -M: error names file:line"

# ---- usage ----
pc -n -d >/dev/null 2>&1
is "$?" 64 "-n with -d: usage error"
pc -e >/dev/null 2>&1
is "$?" 64 "-e without arguments: usage error"
pc -e a=1 -X b >/dev/null 2>&1
is "$?" 64 "-e with -X: usage error"
pc -q >/dev/null 2>&1
is "$?" 64 "unknown option: usage error"

# ---- broken main.cf: exit 1, one error line naming the file ----
broken() { # broken NAME PATTERN: run `conf` on $C/main.cf as it is now
	pc >/dev/null 2>"$T/err"; rc=$?
	is "$rc" 1 "$1: exit 1"
	like "$(cat "$T/err")" "$2" "$1: error names the file"
	is "$(wc -l <"$T/err" | tr -d ' ')" 1 "$1: one line on stderr"
}
printf 'relayhost = a\nno equals sign here\n' >"$C/main.cf"
broken "syntax error" "error: $C/main.cf:2: missing '='"
printf 'relayhost = a\nmessage_size_limit = -5\n' >"$C/main.cf"
broken "bad value" "error: $C/main.cf:2: message_size_limit: bad size value"
printf 'a = $b\nb = $a\nmyorigin = $a\n' >"$C/main.cf"
broken "expansion loop" "error: $C/main.cf:2: b: expansion loop: .a -> .b -> .a"
{ printf 'myorigin = '; head -c 10485760 /dev/zero | tr '\0' y; } >"$C/main.cf"
broken "10 MB line" "error: $C/main.cf:1: line is longer than 65536 bytes"
printf '\177ELF\002\001\001\000\000\000junk' >"$C/main.cf"
broken "binary junk" "error: $C/main.cf:1: control character"
head -c 65536 /dev/urandom >"$C/main.cf"
pc >/dev/null 2>"$T/err"; rc=$?
ok "$([ "$rc" -eq 1 ]; echo $?)" "random bytes: exit 1, no crash ($rc)"
like "$(cat "$T/err")" "error: $C/main.cf" "random bytes: error names the file"
rm -f "$C/main.cf"
broken "missing file" "error: open $C/main.cf: No such file or directory"
mkdir "$C/main.cf"
broken "directory as main.cf" "error: read \(not a regular file\) $C/main.cf"
rmdir "$C/main.cf"
printf 'relayhost = a\n' >"$C/main.cf"
chmod 000 "$C/main.cf"
if [ "$(id -u)" -ne 0 ]; then
	broken "unreadable file" "error: open $C/main.cf: Permission denied"
else
	# root reads mode 000 files: run the command as nobody instead
	chmod 755 "$T" "$C"
	asnobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	if $asnobody test -x "$POSTERN"; then
		$asnobody "$POSTERN" -c "$C" conf >/dev/null 2>"$T/err"; rc=$?
		is "$rc" 1 "unreadable file (as nobody): exit 1"
		like "$(cat "$T/err")" "error: open $C/main.cf: Permission denied" \
			"unreadable file (as nobody): error names the file"
	else
		ok 0 "# SKIP unreadable main.cf: the build tree is not reachable by nobody"
	fi
fi
chmod 644 "$C/main.cf"

# ---- documentation ----
missing=""
for p in $("$POSTERN" -c "$C" conf -d | sed 's/ =.*//'); do
	grep -q "^\.IP \"\\\\fB$p\\\\fR" "$top_srcdir/doc/postern.cf.5" ||
		missing="$missing $p"
done
is "$missing" "" "every parameter is documented in postern.cf(5)"
if command -v groff >/dev/null 2>&1; then
	for page in postern.cf.5 postern-conf.1; do
		w=$(groff -man -ww -z "$top_srcdir/doc/$page" 2>&1)
		is "$w" "" "$page renders without warnings"
	done
fi

done_testing
