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
[ -d "$inst" ] && "$postern" -c "$inst" stop >/dev/null 2>&1 || true
rm -rf "$inst"
"$postern" init "$inst"
"$postern" -c "$inst" start
"$postern" -c "$inst" status
echo
echo "The instance runs in $inst (stop it with: $postern -c $inst stop)."
echo "Services whose daemons are not part of this release yet show as missing."
echo "'scripts/check.sh' runs every test."
