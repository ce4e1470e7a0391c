#!/bin/sh
# scripts/deps.sh [build|test]: installs the Debian packages Postern needs that
# are missing (with sudo when not root). "build" is what compiling needs;
# "test" adds what the test suite uses (clang for sanitizers and fuzzing).
set -eu
build_pkgs="build-essential autoconf automake pkg-config libssl-dev libdb-dev
liblmdb-dev libpcre2-dev libldns-dev libcrypt-dev openssl"
# postfix only for its smtp-source and smtp-sink test tools (installed
# unconfigured: no system MTA is set up); isync and curl are IMAP clients.
test_pkgs="clang libclang-rt-dev python3 nsd swaks postfix isync curl fetchmail mutt tmux dovecot-lmtpd"
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
case " $missing " in *" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		$sudo debconf-set-selections ;;
esac
# Test tools that are also servers (postfix, dovecot for its LMTP test
# peer) are installed without starting their system services: the tests
# start private instances of their own.
norc=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
	$sudo chmod 755 /usr/sbin/policy-rc.d
	norc=1
	trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

