#!/bin/sh
# scripts/deps.sh [build|test]: installs the Debian packages Postern needs that
# are missing (with sudo when not root). "build" is what compiling needs;
# "test" adds what the test suite uses (clang for sanitizers and fuzzing).
set -eu
build_pkgs="build-essential autoconf automake pkg-config libssl-dev libdb-dev
liblmdb-dev libpcre2-dev libldns-dev libcrypt-dev openssl"
test_pkgs="clang libclang-rt-dev python3"
want=$build_pkgs
[ "${1:-build}" = test ] && want="$build_pkgs $test_pkgs"
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
