#!/bin/sh
# fuzz/run.sh SECONDS TARGET...: runs each libFuzzer target for SECONDS from
# its seed corpus (fuzz/corpus/NAME, copied to a scratch directory), up to
# FUZZ_JOBS targets at a time (default: the number of CPUs), and fails when
# any target finds something. Crash inputs are left in the current directory.
set -u
secs=$1; shift
src=$(cd "$(dirname "$0")" && pwd)
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzz.XXXXXX")

# One target; its verdict goes to $scratch/NAME.status.
one() {
	t=$1 name=$(basename "$1" _fuzz)
	work="$scratch/$name"
	mkdir -p "$work"
	[ -d "$src/corpus/$name" ] && cp -r "$src/corpus/$name/." "$work/"
	dict=""
	[ -f "$src/$name.dict" ] && dict="-dict=$src/$name.dict"
	if "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 $dict "$work" \
		>"$work.log" 2>&1; then
		echo ok >"$scratch/$name.status"
	else
		echo failed >"$scratch/$name.status"
	fi
}

running=0
for t in "$@"; do
	echo "fuzz: $(basename "$t" _fuzz) for ${secs}s"
	one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

status=0
for t in "$@"; do
	name=$(basename "$t" _fuzz)
	if [ "$(cat "$scratch/$name.status" 2>/dev/null)" = ok ]; then
		grep -E '^stat::number_of_executed_units' "$scratch/$name.log" |
			sed "s/^/fuzz: $name /"
	else
		echo "fuzz: $name FAILED"
		tail -60 "$scratch/$name.log"
		status=1
	fi
done
rm -rf "$scratch"
exit $status
