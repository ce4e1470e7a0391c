#!/bin/sh
# fuzz/run.sh SECONDS TARGET...: runs each libFuzzer target for SECONDS from
# its seed corpus (fuzz/corpus/NAME, copied to a scratch directory) and fails
# on the first finding. Crash inputs are left in the current directory.
set -u
secs=$1; shift
src=$(cd "$(dirname "$0")" && pwd)
status=0
for t in "$@"; do
	name=$(basename "$t" _fuzz)
	work=$(mktemp -d "${TMPDIR:-/tmp}/postern-fuzz.XXXXXX")
	[ -d "$src/corpus/$name" ] && cp -r "$src/corpus/$name/." "$work/"
	dict=""
	[ -f "$src/$name.dict" ] && dict="-dict=$src/$name.dict"
	echo "fuzz: $name for ${secs}s"
	if ! "$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 $dict "$work" >"$work.log" 2>&1; then
		echo "fuzz: $name FAILED"; tail -60 "$work.log"; status=1
	else
		grep -E '^stat::number_of_executed_units' "$work.log" | sed "s/^/fuzz: $name /"
	fi
	rm -rf "$work" "$work.log"
done
exit $status
