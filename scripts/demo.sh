#!/bin/sh
# scripts/demo.sh: quick start. Installs what is missing, builds, installs into
# _build/demo-root, and starts a live instance in _build/demo-instance on the
# high ports (SMTP 10025, submission 10587, IMAP 10143, ...).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
root="$src/_build/demo-root"
inst="$src/_build/demo-instance"
"$src/scripts/deps.sh" build
"$src/scripts/build.sh" _build/demo --prefix="$root"
make -C "$src/_build/demo" install >/dev/null
postern="$root/sbin/postern"
"$postern" version

# A table round trip: build an alias table and look a key up, as postmap would.
tables=$(mktemp -d "${TMPDIR:-/tmp}/postern-demo.XXXXXX")
printf 'postmaster@example.com  root@example.com\nalice@example.com  alice\n' >"$tables/aliases"
"$postern" map "hash:$tables/aliases"
printf 'postern map -q Alice@Example.com hash:%s/aliases -> ' "$tables"
"$postern" map -q Alice@Example.com "hash:$tables/aliases"
rm -rf "$tables"

# As root, the daemons run as the system user "postern", as a package makes it.
if [ "$(id -u)" -eq 0 ] && ! id postern >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin postern
fi
# The daemons (as "postern") must reach the instance, also when the
# checkout lives in a private folder such as /root.
"$src/scripts/searchable.sh" "$src"
[ -d "$inst" ] && "$postern" -c "$inst" stop >/dev/null 2>&1 || true
rm -rf "$inst"
"$postern" init "$inst"
echo demo | "$postern" -c "$inst" user add demo@localhost
"$postern" -c "$inst" start
"$postern" -c "$inst" status

# Send a message over SMTP the way any client does, and show where it landed.
python3 - <<'PY'
import smtplib
with smtplib.SMTP("127.0.0.1", 10025, timeout=10) as s:
    s.sendmail("someone@example.org", ["demo@localhost"],
               "From: someone@example.org\r\nTo: demo@localhost\r\n"
               "Subject: hello from the Postern demo\r\n\r\nIt works.\r\n")
PY
maildir="$inst/mail/localhost/demo/new"
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -n "$(ls "$maildir" 2>/dev/null)" ] && break
	sleep 0.5
done
echo
echo "Delivered into $maildir:"
ls "$maildir"
# ... and read it back over IMAP with STARTTLS, as a mail client does.
python3 - <<'PY'
import imaplib, ssl
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the demo's certificate is self-signed
m = imaplib.IMAP4("127.0.0.1", 10143, timeout=10)
m.starttls(ssl_context=ctx)
m.login("demo", "demo")
m.select("INBOX")
typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])")
print("\nRead over IMAP (port 10143, STARTTLS):")
print(data[0][1].decode().strip())
m.logout()
PY
cat <<EOT

The instance runs in $inst; the demo user is demo@localhost, password "demo".
Send mail:   swaks --server 127.0.0.1:10025 --to demo@localhost
             (or any SMTP client; submission with AUTH on 10587 and 10465)
Read mail:   IMAP on 127.0.0.1:10143 (STARTTLS) or 10993 (TLS), user demo,
             password demo; e.g. curl -k -u demo:demo imaps://127.0.0.1:10993/INBOX
             or any mail client (the certificate is self-signed)
Stop it:     $postern -c $inst stop
Every test:  scripts/check.sh
EOT
