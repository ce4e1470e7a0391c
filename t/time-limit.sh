#!/bin/sh
# t/time-limit.sh TEST [ARG...]: runs one test with a wall-clock limit of
# POSTERN_TEST_LIMIT seconds (default 300). A test still running then gets
# the processes of the machine listed in its log, its process group killed,
# and a "Bail out!" line, so that a hang fails that one test by name
# instead of stalling the whole suite. Python tests also dump their stack
# shortly before the limit (t/postern_test.py).
limit=${POSTERN_TEST_LIMIT:-300}
export POSTERN_TEST_LIMIT="$limit"
setsid "$@" &
test=$!
start=$(date +%s)
nap=0.02
while kill -0 "$test" 2>/dev/null; do
	if [ $(($(date +%s) - start)) -ge "$limit" ]; then
		echo "# $1: still running after $limit s; the processes then:"
		ps -eo pid,ppid,pgid,etimes,stat,wchan:20,args | cut -c1-240 | sed 's/^/#   /'
		kill -TERM "-$test" 2>/dev/null
		sleep 5
		kill -KILL "-$test" 2>/dev/null
		wait "$test"
		echo "Bail out! $1: killed at its time limit of $limit s"
		exit 1
	fi
	sleep "$nap"
	nap=0.2
done
wait "$test"
rc=$?
echo "# $1: $(($(date +%s) - start)) s"
exit $rc
