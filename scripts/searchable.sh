#!/bin/sh
# scripts/searchable.sh DIR: gives DIR and each folder above it that the
# caller owns the search bit for everyone (go+x, not the read bit: nobody
# can list them), so that daemons and tests running as other users (the
# mail users, nobody) reach the build tree and instances below DIR, also
# in a checkout inside a private folder (/root, or what mktemp -d makes).
set -eu
d=$(cd "$1" && pwd)
while [ "$d" != / ]; do
	if [ -O "$d" ] && [ -n "$(find "$d" -maxdepth 0 ! -perm -o+x)" ]; then
		chmod go+x "$d" && echo "$d made searchable (go+x)"
	fi
	d=$(dirname "$d")
done
