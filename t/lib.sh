# t/lib.sh: TAP helpers for the shell tests in t/ (sourced, not run).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
POSTERN="$top_builddir/cli/postern"
tap_n=0
tap_fail=0
T=$(mktemp -d "${TMPDIR:-/tmp}/postern-t.XXXXXX")
trap 'rm -rf "$T"' EXIT

ok() { # ok COND-EXIT-STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $tap_n - $2"; else
		echo "not ok $tap_n - $2"; tap_fail=$((tap_fail + 1)); fi
}
is() { # is GOT WANT NAME
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then echo "ok $tap_n - $3"; else
		echo "not ok $tap_n - $3"; tap_fail=$((tap_fail + 1))
		printf '#   got: %s\n#   expected: %s\n' "$1" "$2"; fi
}
like() { # like GOT PATTERN NAME  (grep -E pattern)
	tap_n=$((tap_n + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then echo "ok $tap_n - $3"; else
		echo "not ok $tap_n - $3"; tap_fail=$((tap_fail + 1))
		printf '#   got: %s\n#   expected to match: %s\n' "$1" "$2"; fi
}
done_testing() { echo "1..$tap_n"; [ "$tap_fail" -eq 0 ]; }
