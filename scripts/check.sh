#!/bin/sh
# scripts/check.sh: installs what is missing, builds, and runs every test:
# the suite with gcc, `make distcheck`, the suite again with clang under
# AddressSanitizer + UndefinedBehaviorSanitizer, and each fuzz target for
# FUZZ_SECONDS (default 30; as many targets at once as there are CPUs).
# Exits non-zero when anything fails.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${FUZZ_SECONDS:-30}
"$src/scripts/deps.sh" test
cd "$src"
# Some tests run daemons and commands as other users (nobody, the mail
# users): they must reach the build tree even in a private folder.
"$src/scripts/searchable.sh" "$src"
autoreconf -fi
t0=$(date +%s)
step() { printf '\n=== %s (at %d s)\n' "$*" $(($(date +%s) - t0)); }
# suite BUILDDIR: the test suite there; when it fails, the end of each
# failed test's log (t/time-limit.sh puts the processes of a hang there).
suite() {
	if make -C "$1" -j"$(nproc)" check; then
		echo "slowest tests:"
		find "$1/t" -name '*.log' -exec grep -h '^# .*: [0-9]* s$' {} + |
			sort -k3 -n | tail -5
		return 0
	fi
	grep -lE '^:global-test-result: (FAIL|ERROR)' $(find "$1/t" -name '*.trs') |
		while read -r trs; do
			printf '\n--- %s\n' "${trs%.trs}.log"
			tail -80 "${trs%.trs}.log"
		done
	return 1
}

step "gcc build and test suite"
"$src/scripts/build.sh" _build/gcc
suite _build/gcc

# distcheck proves the tarball is complete: it builds, installs and
# uninstalls from it and runs a few tests that read shipped data files;
# the whole suite already ran above and runs again below.
step "make distcheck"
make -C _build/gcc -j"$(nproc)" distcheck \
	TESTS="t/style.t t/cli/conf.t t/cli/map.t t/unit/dict_source" \
	>_build/distcheck.log 2>&1 ||
	{ tail -50 _build/distcheck.log; exit 1; }
grep -E 'archives ready for distribution|\.tar\.gz' _build/distcheck.log | head -3

step "clang + ASan + UBSan + fuzz targets, test suite"
CC=clang CFLAGS="-O1 -g" "$src/scripts/build.sh" _build/san \
	--enable-asan --enable-ubsan --enable-fuzz
export UBSAN_OPTIONS=print_stacktrace=1
suite _build/san

step "fuzzing, ${fuzz_seconds}s per target"
make -C _build/san fuzz-run FUZZ_SECONDS="$fuzz_seconds"

step "all checks passed"
