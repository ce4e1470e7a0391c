#!/bin/sh
# scripts/demo.sh: quick start. Installs what is missing, builds, and shows
# Postern working on this machine.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/deps.sh" build
"$src/scripts/build.sh" _build/release
b="$src/_build/release"
"$b/cli/postern" version
demo=$(mktemp -d "${TMPDIR:-/tmp}/postern-demo.XXXXXX")
printf 'postmaster@example.com  root@example.com\nalice@example.com  alice\n' >"$demo/aliases"
"$b/cli/postern" map "hash:$demo/aliases"
echo "built hash:$demo/aliases; looking up Alice@Example.com:"
"$b/cli/postern" map -q Alice@Example.com "hash:$demo/aliases"
echo
echo "The daemons (SMTP, IMAP) are not part of this release yet; the build is in"
echo "$b, and 'scripts/check.sh' runs every test."
