#!/bin/sh
# bench/map-bench.sh: builds a hash: table of N entries (default 1,000,000)
# with `postern map` and with Postfix's `postmap` from the same generated
# source, then runs LOOKUPS random lookups (90 % hits) through Postern's
# library (bench/map_lookup, via dict_open), through `postern map -q -`
# and through `postmap -q -`. Reports wall time and peak RSS
# (/usr/bin/time -f '%e %M'), medians of RUNS runs, and the ratios, plus
# the CPU seconds (user + system), which other load on the machine
# disturbs less than the wall time.
#
# usage: bench/map-bench.sh [BUILDDIR]      (default: the current directory)
# env:   N=1000000 LOOKUPS=1000000 RUNS=3 WORK=/tmp/dir KEEP=1 (keep WORK)
#
# Missing tools (Debian packages `time`, `postfix`) are installed when run
# as root. Postfix is installed with "No configuration" and a policy-rc.d
# that forbids starting services, and postmap runs with -c on a private,
# empty config directory: no mail system is started.
set -u
BUILD=$(cd "${1:-.}" && pwd)
N=${N:-1000000}
LOOKUPS=${LOOKUPS:-1000000}
RUNS=${RUNS:-3}
POSTERN=$BUILD/cli/postern
LOOKUP=$BUILD/bench/map_lookup
POSTMAP=/usr/sbin/postmap
TIME=/usr/bin/time

die() { echo "map-bench: $*" >&2; exit 2; }

install_missing() {
	pkgs=""
	[ -x "$TIME" ] || pkgs="time"
	[ -x "$POSTMAP" ] || pkgs="$pkgs postfix"
	[ -z "$pkgs" ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages:$pkgs (run as root to install them)"
	policy_made=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_made=1
	fi
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections 2>/dev/null
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $pkgs >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  apt-get install -y -q --no-install-recommends $pkgs >/dev/null; } ||
		die "apt-get install$pkgs failed"
	[ -n "$policy_made" ] && rm -f /usr/sbin/policy-rc.d
	# should a service manager have started Postfix anyway, stop it
	if [ -x /usr/sbin/postfix ] && /usr/sbin/postfix status >/dev/null 2>&1; then
		/usr/sbin/postfix stop >/dev/null 2>&1
	fi
}

# gen_source FILE: N lines "userNNNNNN@example.com target[, target]",
# keys in a scrambled order (no sorted input to help any builder).
gen_source() {
	awk -v n="$N" 'BEGIN {
		srand(42)
		split("alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter", nm, " ")
		split("example.org mail.example.net corp.example.com lists.example.edu", dm, " ")
		for (i = 0; i < n; i++) {
			a = nm[int(rand() * 19) + 1]; b = nm[int(rand() * 19) + 1]
			d = dm[int(rand() * 4) + 1]
			if (rand() < 0.2)
				v = sprintf("%s.%s@%s, %s@%s", a, b, d, b, dm[int(rand() * 4) + 1])
			else
				v = sprintf("%s.%s%d@%s", a, b, int(rand() * 1000), d)
			printf "user%06d@example.com %s\n", (i * 738457 + 12345) % n, v
		}
	}' >"$1"
}

# gen_keys FILE: LOOKUPS keys, 90 % present, 10 % absent, random order.
gen_keys() {
	awk -v n="$N" -v m="$LOOKUPS" 'BEGIN {
		srand(7)
		for (i = 0; i < m; i++)
			if (rand() < 0.9) printf "user%06d@example.com\n", int(rand() * n)
			else printf "nobody%06d@example.com\n", int(rand() * n)
	}' >"$1"
}

# measure NAME CMD...: runs CMD (stdin/stdout as given), appends
# "seconds kib" to $WORK/NAME.times; fails the bench if CMD fails.
measure() {
	name=$1
	shift
	sync
	"$TIME" -f '%e %M %U %S' -o "$WORK/time.out" "$@" || die "$name failed: $*"
	tail -n 1 "$WORK/time.out" >>"$WORK/$name.times"
}

median() { # median COLUMN FILE (column 5: user + system)
	awk '{ print $0, $3 + $4 }' "$2" | sort -n -k"$1","$1" | awk -v c="$1" '{ v[NR] = $c }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

install_missing
[ -x "$POSTERN" ] || die "$POSTERN not built (run make first)"
[ -x "$LOOKUP" ] || die "$LOOKUP not built (run make first)"
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/map-bench.XXXXXX")}
mkdir -p "$WORK/pfconf" || die "cannot create $WORK"
: >"$WORK/pfconf/main.cf"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
rm -f "$WORK"/*.times

echo "map-bench: generating $N entries and $LOOKUPS lookup keys in $WORK" >&2
gen_source "$WORK/ours"
cp "$WORK/ours" "$WORK/pf"
gen_keys "$WORK/keys"

for r in $(seq 1 "$RUNS"); do
	echo "map-bench: run $r of $RUNS" >&2
	rm -f "$WORK/ours.db" "$WORK/pf.db"
	measure build_ours "$POSTERN" map hash:"$WORK/ours"
	measure build_pf "$POSTMAP" -c "$WORK/pfconf" hash:"$WORK/pf"
	measure lookup_lib "$LOOKUP" hash:"$WORK/ours" <"$WORK/keys" >"$WORK/out.lib"
	measure lookup_cli "$POSTERN" map -q - hash:"$WORK/ours" <"$WORK/keys" >"$WORK/out.cli"
	measure lookup_pf "$POSTMAP" -c "$WORK/pfconf" -q - hash:"$WORK/pf" <"$WORK/keys" >"$WORK/out.pf"
done

# the answers must agree, and each side must read the other's table
cmp -s "$WORK/out.lib" "$WORK/out.pf" || die "library lookups differ from postmap's"
cmp -s "$WORK/out.cli" "$WORK/out.pf" || die "postern map -q - differs from postmap's"
head -n 1000 "$WORK/keys" >"$WORK/keys.few"
"$POSTMAP" -c "$WORK/pfconf" -q - hash:"$WORK/ours" <"$WORK/keys.few" >"$WORK/x1"
"$POSTERN" map -q - hash:"$WORK/pf" <"$WORK/keys.few" >"$WORK/x2"
cmp -s "$WORK/x1" "$WORK/x2" || die "tables are not readable across postmap and postern map"
found=$(wc -l <"$WORK/out.pf")

row() { # row LABEL OURS-FILE POSTFIX-FILE
	o=$(median 1 "$2") om=$(median 2 "$2") oc=$(median 5 "$2")
	p=$(median 1 "$3") pm=$(median 2 "$3") pc=$(median 5 "$3")
	echo "| $1 | $o | $oc | $om | $p | $pc | $pm | $(ratio "$p" "$o") | $(ratio "$pc" "$oc") | $(ratio "$pm" "$om") |"
}

cat <<EOF
hash: table, $N entries ($(wc -c <"$WORK/ours") bytes of source), $LOOKUPS lookups ($found found); medians of $RUNS runs
table files: postern $(stat -c %s "$WORK/ours.db") bytes, postmap $(stat -c %s "$WORK/pf.db") bytes

| step | postern wall s | postern CPU s | postern peak RSS KiB | postmap wall s | postmap CPU s | postmap peak RSS KiB | wall postmap/postern | CPU postmap/postern | RSS postmap/postern |
|---|---|---|---|---|---|---|---|---|---|
EOF
row build "$WORK/build_ours.times" "$WORK/build_pf.times"
row "lookups, library (bench/map_lookup)" "$WORK/lookup_lib.times" "$WORK/lookup_pf.times"
row "lookups, postern map -q -" "$WORK/lookup_cli.times" "$WORK/lookup_pf.times"
