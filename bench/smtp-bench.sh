#!/usr/bin/env bash
# bench/smtp-bench.sh BUILDDIR: SMTP accept rate and memory per idle session,
# Postern vs Postfix, in one run. Builds nothing: it starts a throwaway
# Postern instance from the daemons in BUILDDIR and the private Postfix of
# the shared harness (baseline-up.sh --postfix), then runs the harness's
# smtp-bench.py (smtp-source, one process per session) and
# resource-bench.py against both. Results: $WORK/results.jsonl and a
# Markdown table on stdout (medians); bench/smtp-bench.md has the figures.
#
# Runs of the two servers alternate; idle sessions are measured once, on
# fresh servers, before the load.
# Knobs (environment): HARNESS (/work/shared/bench), WORK (a temp dir),
# RUNS 3, COUNT 5000, SIZE 4096, SESSIONS 20, PER 10, CONNS 50,
# PORT_BASE 30000 (ours), BENCH_DIR/BENCH_SMTP_PORT... (Postfix's, see
# baseline-env.sh; defaults moved off the harness's own so that runs of
# several people do not collide), KEEP=1 leaves both running.
# Needs root (the harness's Postfix does) and Postfix's smtp-source.
set -euo pipefail
usage() { echo "usage: bench/smtp-bench.sh BUILDDIR" >&2; exit 2; }
[ $# = 1 ] || usage
B=$(cd "$1" && pwd)
HARNESS=${HARNESS:-/work/shared/bench}
WORK=${WORK:-$(mktemp -d /tmp/smtp-bench.XXXXXX)}
RUNS=${RUNS:-3} COUNT=${COUNT:-5000} SIZE=${SIZE:-4096}
SESSIONS=${SESSIONS:-20} PER=${PER:-10} CONNS=${CONNS:-50}
PORT_BASE=${PORT_BASE:-30000}
export BENCH_DIR=${BENCH_DIR:-/tmp/bench-smtpd-pf}
export BENCH_SMTP_PORT=${BENCH_SMTP_PORT:-31025}
export BENCH_SINK_PORT=${BENCH_SINK_PORT:-31026}
export BENCH_IMAP_PORT=${BENCH_IMAP_PORT:-31143}
. "$HARNESS/baseline-env.sh"
INST=$WORK/postern
OUT=$WORK/results.jsonl
POSTERN=$B/cli/postern
OUR_PORT=$((PORT_BASE + 25))
mkdir -p "$WORK"
: >"$OUT"

# ---- our instance: every built daemon linked into DIR/libexec; master.cf
# services whose daemon is not built (yet) are dropped.
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
	echo "daemon_directory = $INST/libexec" >>"$INST/main.cf"
	echo bench-pass-1 | "$POSTERN" -c "$INST" user add \
		"bench@$BENCH_LOCAL_DOMAIN" >/dev/null
	"$POSTERN" -c "$INST" start
}

ours_down() {
	"$POSTERN" -c "$INST" stop >/dev/null 2>&1 || true
}

cleanup() {
	if [ "${KEEP:-0}" != 1 ]; then
		ours_down
		"$HARNESS/baseline-down.sh" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

wait_port() { # port
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

bench_smtp() { # label port pidfile rcpt warmup
	python3 "$HARNESS/smtp-bench.py" --port "$2" --server-pidfile "$3" \
		--to "$4" --count "$COUNT" --size "$SIZE" --sessions "$SESSIONS" \
		--per-session "$PER" --generator smtp-source --wait accept \
		--runs 1 --warmup "$5" --sync --label "$1" --json-out "$OUT"
}

# One run only: a second one would find the first one's smtpd processes
# idle and waiting (max_idle), and measure nothing.
bench_idle() { # label port pidfile
	python3 "$HARNESS/resource-bench.py" smtp --port "$2" \
		--server-pidfile "$3" --conns "$CONNS" --state ehlo \
		--runs 1 --label "$1" --json-out "$OUT"
}

ours_up
"$HARNESS/baseline-up.sh" --postfix >/dev/null
wait_port "$OUR_PORT"
wait_port "$BENCH_SMTP_PORT"
OUR_PID=$INST/queue/pid/master.pid

# Idle sessions first, on fresh servers: after the load test both would
# have idle smtpd processes waiting (max_idle), and a parked session would
# then cost no new process.
sleep 2
bench_idle postern "$OUR_PORT" "$OUR_PID"
bench_idle postfix "$BENCH_SMTP_PORT" "$PF_PIDFILE"
# Runs alternate between the two servers, so that load from other users
# of the machine falls on both alike.
for i in $(seq "$RUNS"); do
	w=0
	[ "$i" = 1 ] && w=500
	bench_smtp postern "$OUR_PORT" "$OUR_PID" "bench@$BENCH_LOCAL_DOMAIN" $w
	bench_smtp postfix "$BENCH_SMTP_PORT" "$PF_PIDFILE" \
		"$BENCH_SYS_USER@$BENCH_LOCAL_DOMAIN" $w
done

# ---- medians and ratios
python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(label, kind, key):
    v = [r[key] for r in rows if r.get("label") == label and
         r.get("kind") == kind and r.get(key) is not None]
    return statistics.median(v) if v else float("nan")
print("| figure (median of runs) | Postern | Postfix | Postern/Postfix |")
print("|---|---|---|---|")
for name, kind, key in (("accepted msgs/s", "smtp", "accept_msgs_per_s"),
                        ("server CPU s per run", "smtp", "server_cpu_total_s"),
                        ("server CPU ms per message", "smtp",
                         "server_cpu_ms_per_msg"),
                        ("PSS KiB per idle session", "resource",
                         "per_conn_pss_kib"),
                        ("RSS KiB per idle session", "resource",
                         "per_conn_rss_kib")):
    a, b = med("postern", kind, key), med("postfix", kind, key)
    print("| %s | %.1f | %.1f | %.2f |" % (name, a, b, a / b if b else 0))
EOF
echo "results: $OUT"
