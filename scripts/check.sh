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
step() { printf '\n=== %s\n' "$*"; }

step "gcc build and test suite"
"$src/scripts/build.sh" _build/gcc
make -C _build/gcc -j"$(nproc)" check

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
UBSAN_OPTIONS=print_stacktrace=1 \
	make -C _build/san -j"$(nproc)" check

step "fuzzing, ${fuzz_seconds}s per target"
make -C _build/san fuzz-run FUZZ_SECONDS="$fuzz_seconds"

step "all checks passed"
