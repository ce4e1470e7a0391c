#!/usr/bin/env bash
# bench/relay-bench.sh BUILDDIR: relaying, Postern vs Postfix, in one run:
# COUNT messages of SIZE bytes injected with smtp-source into each server
# and relayed to an smtp-sink on loopback (the harness's smtp-bench.py
# --wait sink: timed until the sink has them all). Postern routes
# relay.bench.test to [127.0.0.1]:OUR_SINK through transport_maps; the
# harness's private Postfix (baseline-up.sh --postfix) relays it to its
# own sink port. After each run the servers' logs give the connections
# made (deliveries without conn_use=) against the messages sent.
# MODE=deliver (bench/deliver-bench.sh) measures end-to-end delivery into
# a Maildir instead (--wait maildir). Results: $WORK/results.jsonl and a
# Markdown table on stdout (medians); bench/relay-bench.md and
# bench/deliver-bench.md have the figures.
# Knobs (environment): HARNESS (/work/shared/bench), WORK (a temp dir),
# RUNS 3, COUNT 5000, SIZE 4096, SESSIONS 20, PER 10, PORT_BASE 36000
# (ours), BENCH_DIR/BENCH_SMTP_PORT/BENCH_SINK_PORT (Postfix's, see
# baseline-env.sh), KEEP=1 leaves both running.
# Needs root (the harness's Postfix does) and Postfix's smtp-source/-sink.
set -euo pipefail
usage() { echo "usage: bench/relay-bench.sh BUILDDIR" >&2; exit 2; }
[ $# = 1 ] || usage
B=$(cd "$1" && pwd)
MODE=${MODE:-relay}
HARNESS=${HARNESS:-/work/shared/bench}
WORK=${WORK:-$(mktemp -d /tmp/$MODE-bench.XXXXXX)}
RUNS=${RUNS:-3} COUNT=${COUNT:-5000} SIZE=${SIZE:-4096}
SESSIONS=${SESSIONS:-20} PER=${PER:-10}
PORT_BASE=${PORT_BASE:-36000}
export BENCH_DIR=${BENCH_DIR:-/tmp/bench-sched-pf}
export BENCH_SMTP_PORT=${BENCH_SMTP_PORT:-37025}
export BENCH_SINK_PORT=${BENCH_SINK_PORT:-37026}
export BENCH_IMAP_PORT=${BENCH_IMAP_PORT:-37143}
. "$HARNESS/baseline-env.sh"
INST=$WORK/postern
OUT=$WORK/results.jsonl
POSTERN=$B/cli/postern
OUR_PORT=$((PORT_BASE + 25))
OUR_SINK=$((PORT_BASE + 26))
mkdir -p "$WORK"
: >"$OUT"

# ---- our instance: the built daemons linked into DIR/libexec; master.cf
# services whose daemon is not built are dropped.
ours_up() {
	rm -rf "$INST"
	"$POSTERN" init "$INST" --port-base "$PORT_BASE" \
		--domain "$BENCH_LOCAL_DOMAIN" >/dev/null
	mkdir -p "$INST/libexec"
	for d in master/master smtpd/smtpd qmgr/qmgr local/local \
		pickup/pickup auth/auth smtp/smtp; do
		[ -x "$B/$d" ] && ln -s "$B/$d" "$INST/libexec/"
	done
	awk -v dir="$INST/libexec" '
		/^[ \t]/ { if (keep) print; next }
		/^#/ || NF < 8 { keep = 1; print; next }
		{ keep = system("test -x " dir "/" $8) == 0; if (keep) print }
	' "$INST/master.cf" >"$INST/master.cf.new"
	mv "$INST/master.cf.new" "$INST/master.cf"
	echo "$BENCH_RELAY_DOMAIN smtp:[127.0.0.1]:$OUR_SINK" >"$INST/transport"
	cat >>"$INST/main.cf" <<EOT
daemon_directory = $INST/libexec
transport_maps = texthash:$INST/transport
smtp_tls_security_level = none
EOT
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

# Where each server's log lines go, and where Postern's Maildir is.
our_log() { find "$INST" -maxdepth 2 -name maillog | head -1; }
OUR_MAILDIR=$INST/mail/$BENCH_LOCAL_DOMAIN/bench

bench() { # label port pidfile sinkport rcpt maildir warmup
	local wait=(--wait sink --sink-port "$4")
	[ "$MODE" = deliver ] && wait=(--wait maildir --maildir "$6"
		--maildir-clean)
	python3 "$HARNESS/smtp-bench.py" --port "$2" --server-pidfile "$3" \
		--to "$5" --count "$COUNT" --size "$SIZE" --sessions "$SESSIONS" \
		--per-session "$PER" --generator smtp-source "${wait[@]}" \
		--runs 1 --warmup "$7" --sync --label "$1" --json-out "$OUT"
}

# "sent connections": deliveries logged since line $2 of log $1, and how
# many of them opened a connection (no conn_use=).
conn_count() { # log from-line label
	tail -n +"$2" "$1" | python3 -c '
import re, sys
sent = conn = 0
for line in sys.stdin:
    if re.search(r": to=<[^>]*>, relay=\S+\[.*status=sent", line):
        sent += 1
        if "conn_use=" not in line:
            conn += 1
print("%s: %d deliveries, %d connections" % (sys.argv[1], sent, conn))
' "$3" | tee -a "$WORK/connections.txt"
}

ours_up
"$HARNESS/baseline-up.sh" --postfix >/dev/null
wait_port "$OUR_PORT"
wait_port "$BENCH_SMTP_PORT"
OUR_PID=$INST/queue/pid/master.pid
# the Maildir (for --maildir-clean) belongs to the mailbox owner
mkdir -p "$OUR_MAILDIR"/{new,cur,tmp}
chown -R --reference="$INST/mail" "$INST/mail/$BENCH_LOCAL_DOMAIN"
if [ "$MODE" = relay ]; then
	OUR_RCPT=x@$BENCH_RELAY_DOMAIN PF_RCPT=x@$BENCH_RELAY_DOMAIN
else
	OUR_RCPT=bench@$BENCH_LOCAL_DOMAIN
	PF_RCPT=$BENCH_SYS_USER@$BENCH_LOCAL_DOMAIN
fi
# Postfix delivers into the home of the system user, wherever an earlier
# baseline-up.sh (maybe with another BENCH_DIR) put it.
PF_MAILDIR=$(getent passwd "$BENCH_SYS_USER" | cut -d: -f6)/Maildir
sleep 2
# Runs alternate between the two servers, so that load from other users
# of the machine falls on both alike.
for i in $(seq "$RUNS"); do
	w=0
	[ "$i" = 1 ] && w=500
	n=$(($(wc -l <"$(our_log)") + 1))
	bench postern "$OUR_PORT" "$OUR_PID" "$OUR_SINK" "$OUR_RCPT" \
		"$OUR_MAILDIR" $w
	[ "$MODE" = relay ] && conn_count "$(our_log)" "$n" postern
	n=$(($(wc -l <"$PF_LOG") + 1))
	bench postfix "$BENCH_SMTP_PORT" "$PF_PIDFILE" "$BENCH_SINK_PORT" \
		"$PF_RCPT" "$PF_MAILDIR" $w
	[ "$MODE" = relay ] && conn_count "$PF_LOG" "$n" postfix
done

# ---- medians and ratios
python3 - "$OUT" "$MODE" <<'EOT'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r.get("kind") == "smtp"]
def med(label, key):
    v = [r[key] for r in rows if r.get("label") == label and
         isinstance(r.get(key), (int, float))]
    return statistics.median(v) if v else float("nan")
print("| figure (median of runs) | Postern | Postfix | Postern/Postfix |")
print("|---|---|---|---|")
for name, key in (("delivered msgs/s (end to end)", "done_msgs_per_s"),
                  ("accepted msgs/s", "accept_msgs_per_s"),
                  ("server CPU ms per message", "server_cpu_ms_per_msg"),
                  ("server CPU s per run", "server_cpu_total_s"),
                  ("other CPU s (not ours)", "other_cpu_s")):
    a, b = med("postern", key), med("postfix", key)
    print("| %s | %.2f | %.2f | %.2f |" % (name, a, b, a / b if b else 0))
EOT
echo "results: $OUT"
