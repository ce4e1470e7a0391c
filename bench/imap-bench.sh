#!/usr/bin/env bash
# bench/imap-bench.sh BUILDDIR: IMAP speed and memory per idle session,
# Postern's imapd vs a private Dovecot, in one run. Builds nothing: it
# starts a throwaway Postern instance from the daemons in BUILDDIR and the
# shared harness's Dovecot (baseline-up.sh --dovecot), fills a 10,000-
# message mailbox in each through APPEND (the harness's imap-bench.py,
# same synthetic messages), then times LOGIN+SELECT, UID FETCH of
# envelopes, header fields, 500 bodies, SEARCH TEXT and FROM, STORE 1:*
# and 50 concurrent clients, and measures PSS per idle selected session
# with resource-bench.py. Results: $WORK/results.jsonl and a Markdown
# table on stdout (medians); bench/imap-bench.md has the figures.
# Knobs (environment): HARNESS (/work/shared/bench), WORK (a temp dir),
# RUNS 3, COUNT 10000, CLIENTS 50, CONNS 200, PORT_BASE 32000, KEEP=1,
# STEPS "idle single concurrent" (a subset runs only those after the
# populate, e.g. STEPS=single for the single-client tests, STORE included).
# Needs root (the harness's Dovecot does).
set -euo pipefail
[ $# = 1 ] || { echo "usage: bench/imap-bench.sh BUILDDIR" >&2; exit 2; }
B=$(cd "$1" && pwd)
HARNESS=${HARNESS:-/work/shared/bench}
WORK=${WORK:-$(mktemp -d /tmp/imap-bench.XXXXXX)}
RUNS=${RUNS:-3} COUNT=${COUNT:-10000} CLIENTS=${CLIENTS:-50}
CONNS=${CONNS:-200} PORT_BASE=${PORT_BASE:-32000}
STEPS=${STEPS:-idle single concurrent}
export BENCH_DIR=${BENCH_DIR:-/tmp/bench-imapd-dc}
export BENCH_SMTP_PORT=${BENCH_SMTP_PORT:-32525}
export BENCH_SINK_PORT=${BENCH_SINK_PORT:-32526}
export BENCH_IMAP_PORT=${BENCH_IMAP_PORT:-32543}
. "$HARNESS/baseline-env.sh"
INST=$WORK/postern
OUT=$WORK/results.jsonl
POSTERN=$B/cli/postern
OUR_PORT=$((PORT_BASE + 143))
OUR_USER=bench@$BENCH_LOCAL_DOMAIN
mkdir -p "$WORK"
: >"$OUT"

ours_up() {
	rm -rf "$INST"
	"$POSTERN" init "$INST" --port-base "$PORT_BASE" \
		--domain "$BENCH_LOCAL_DOMAIN" >/dev/null
	mkdir -p "$INST/libexec"
	for d in master/master smtpd/smtpd qmgr/qmgr local/local \
		pickup/pickup auth/auth smtp/smtp imapd/imapd; do
		[ -x "$B/$d" ] && ln -s "$B/$d" "$INST/libexec/"
	done
	awk -v dir="$INST/libexec" '
		/^[ \t]/ { if (keep) print; next }
		/^#/ || NF < 8 { keep = 1; print; next }
		{ keep = system("test -x " dir "/" $8) == 0; if (keep) print }
	' "$INST/master.cf" >"$INST/master.cf.new"
	mv "$INST/master.cf.new" "$INST/master.cf"
	{
		echo "daemon_directory = $INST/libexec"
		echo "imapd_tls_auth_only = no"
	} >>"$INST/main.cf"
	echo "$BENCH_PASS" | "$POSTERN" -c "$INST" user add "$OUR_USER" \
		>/dev/null
	"$POSTERN" -c "$INST" start
}

cleanup() {
	if [ "${KEEP:-0}" != 1 ]; then
		"$POSTERN" -c "$INST" stop >/dev/null 2>&1 || true
		"$HARNESS/baseline-down.sh" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

bench_imap() { # label port user pidfile only
	python3 "$HARNESS/imap-bench.py" --port "$2" --user "$3" \
		--password "$BENCH_PASS" --server-pidfile "$4" --count "$COUNT" \
		--runs "$RUNS" --clients "$CLIENTS" --only "$5" \
		--label "$1" --json-out "$OUT"
}

bench_idle() { # label port user pidfile
	python3 "$HARNESS/resource-bench.py" imap --port "$2" --user "$3" \
		--password "$BENCH_PASS" --server-pidfile "$4" --conns "$CONNS" \
		--state select --runs 1 --label "$1" --json-out "$OUT"
}

ours_up
"$HARNESS/baseline-up.sh" --dovecot >/dev/null
OUR_PID=$INST/queue/pid/master.pid
bench_imap postern "$OUR_PORT" "$OUR_USER" "$OUR_PID" populate
bench_imap dovecot "$BENCH_IMAP_PORT" "$BENCH_IMAP_USER" "$DC_PIDFILE" populate
case " $STEPS " in *" idle "*)
	bench_idle postern "$OUR_PORT" "$OUR_USER" "$OUR_PID"
	bench_idle dovecot "$BENCH_IMAP_PORT" "$BENCH_IMAP_USER" "$DC_PIDFILE"
esac
ONLY=$(echo "$STEPS" | tr ' ' '\n' | grep -E '^(single|concurrent)$' |
	paste -sd, - || true)
if [ -n "$ONLY" ]; then
	bench_imap postern "$OUR_PORT" "$OUR_USER" "$OUR_PID" "$ONLY"
	bench_imap dovecot "$BENCH_IMAP_PORT" "$BENCH_IMAP_USER" "$DC_PIDFILE" \
		"$ONLY"
fi
python3 "$HARNESS/summarize.py" "$OUT" || true
echo "results: $OUT"
