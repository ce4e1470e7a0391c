#!/bin/sh
# t/cli/map.t: `postern map`: build, query, delete and dump round trips for
# hash, btree and lmdb; case folding, -f, duplicates (-r, -w), quoted keys,
# exit codes, modes, atomic rebuilds (a failed build keeps the old table),
# corrupt tables, and readers that never fail while the table is rebuilt.
. "$top_srcdir/t/lib.sh"

map() { "$POSTERN" map "$@"; }
# run CMD...: sets $out, $err and $rc
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
suffix() { if [ "$1" = lmdb ]; then echo .lmdb; else echo .db; fi; }
# garbage BYTES SEED: the same bytes every run. Berkeley DB survives some
# damage and not other (a lookup has been seen to crash, loop, or write a
# page terabytes into the file), so a test of damaged tables must not
# draw new damage each time.
garbage() {
	python3 -c 'import random, sys
r = random.Random(int(sys.argv[2]))
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(int(sys.argv[1]))))' "$1" "$2"
}

cat >"$T/src" <<'EOF'
# aliases
Alice@Example.COM   alice@local, bob@local
bob	bob@mailhost
"quoted key"	with space
carol	first
  continued
carol	second
EOF
chmod 640 "$T/src"

for type in hash btree lmdb; do
	s=$(suffix $type)
	rm -f "$T/src$s"
	run map $type:"$T/src"
	is "$rc" 0 "$type: build exits 0"
	like "$err" "src:7: duplicate entry: carol" "$type: duplicate warned with file:line"
	ok "$([ -f "$T/src$s" ]; echo $?)" "$type: builds src$s"
	is "$(stat -c %a "$T/src$s")" 640 "$type: table inherits the source mode"

	run map -q alice@example.com $type:"$T/src"
	is "$rc/$out" "0/alice@local, bob@local" "$type: -q found, exit 0"
	run map -q ALICE@EXAMPLE.com $type:"$T/src"
	is "$out" "alice@local, bob@local" "$type: keys are case-folded"
	run map -q nobody $type:"$T/src"
	is "$rc/$out" "1/" "$type: -q not found, exit 1"
	run map -q "quoted key" $type:"$T/src"
	is "$out" "with space" "$type: quoted key"
	run map -q carol $type:"$T/src"
	is "$out" "first continued" "$type: duplicate keeps the first; continuation joined"

	printf 'bob\nnobody\nCAROL\n' >"$T/keys"
	run map -q - $type:"$T/src" <"$T/keys"
	is "$rc" 0 "$type: -q - exits 0 when a key is found"
	is "$out" "$(printf 'bob\tbob@mailhost\nCAROL\tfirst continued')" \
		"$type: -q - prints key TAB value for found keys"
	run map -q - $type:"$T/src" </dev/null
	is "$rc/$out" "1/" "$type: -q - with no key found exits 1"

	run map -s $type:"$T/src"
	is "$rc" 0 "$type: -s exits 0"
	is "$(printf '%s\n' "$out" | sort)" "$(printf '"quoted key"\twith space\nalice@example.com\talice@local, bob@local\nbob\tbob@mailhost\ncarol\tfirst continued' | sort)" \
		"$type: -s dumps every entry, quoting keys with spaces"

	run map -d BOB $type:"$T/src"
	is "$rc" 0 "$type: -d existing key exits 0"
	run map -q bob $type:"$T/src"
	is "$rc" 1 "$type: deleted key is gone"
	run map -q carol $type:"$T/src"
	is "$out" "first continued" "$type: other keys stay after -d"
	run map -d bob $type:"$T/src"
	is "$rc" 1 "$type: -d missing key exits 1"
	is "$(stat -c %a "$T/src$s")" 640 "$type: -d keeps the mode"
	printf 'carol\nquoted key\n' >"$T/keys"
	run map -d - $type:"$T/src" <"$T/keys"
	is "$rc" 0 "$type: -d - exits 0"
	run map -s $type:"$T/src"
	is "$out" "$(printf 'alice@example.com\talice@local, bob@local')" \
		"$type: -d - removed every listed key"
	printf 'nobody\n' | map -d - $type:"$T/src"
	is "$?" 1 "$type: -d - with no key present exits 1"

	# -f keeps case, -r replaces, -w silences
	printf 'MiXed one\nmixed two\nMiXed three\n' >"$T/case"
	run map -f $type:"$T/case"
	like "$err" "case:3: duplicate entry: MiXed" "$type: -f duplicate warned"
	run map -f -q MiXed $type:"$T/case"
	is "$out" one "$type: -f keeps the case, first kept"
	run map -f -q mixed $type:"$T/case"
	is "$out" two "$type: -f other case is another key"
	run map -r $type:"$T/case"
	is "$rc/$err" "0/" "$type: -r builds without warnings"
	run map -q mixed $type:"$T/case"
	is "$out" three "$type: -r keeps the last duplicate"
	run map -w $type:"$T/case"
	is "$rc/$err" "0/" "$type: -w builds without warnings"
	run map -q mixed $type:"$T/case"
	is "$out" one "$type: -w keeps the first duplicate"
	run map -N -q mixed $type:"$T/case"
	is "$rc/$out" "0/one" "$type: -N is accepted"
done

# a bare path is a hash table
rm -f "$T/src.db"
run map "$T/src"
is "$rc" 0 "bare path builds"
ok "$([ -f "$T/src.db" ]; echo $?)" "bare path means hash: src.db"
run map -q bob "$T/src"
is "$out" bob@mailhost "bare path query"
mkdir -p "$T/d:x"
printf 'k v\n' >"$T/d:x/t"
run map "$T/d:x/t"
is "$rc" 0 "a colon inside a path is not a type"
ok "$([ -f "$T/d:x/t.db" ]; echo $?)" "path with a colon builds"

# errors leave the previous table in place and name the file
good() { map -q bob hash:"$T/src" >/dev/null 2>&1 && [ "$(map -q bob hash:"$T/src")" = bob@mailhost ]; }
run map hash:"$T/missing"
is "$rc" 2 "missing source exits 2"
like "$err" "missing: No such file" "missing source: error names the file"
run map hash:"$T/d:x"
is "$rc" 2 "directory as source exits 2"
like "$err" "d:x: not a regular file" "directory: clear error"

cp "$T/src" "$T/src.good"
{ printf 'ok1 v\n'; head -c 10485760 /dev/zero | tr '\0' a; printf ' v\nok2 v\n'; } >"$T/src"
run map hash:"$T/src"
is "$rc" 2 "10 MB line exits 2"
like "$err" "src:2: line longer" "10 MB line: error names file and line"
ok "$(good; echo $?)" "10 MB line: old table still answers"
printf 'a b\nnovalue\n' >"$T/src"
run map hash:"$T/src"
is "$rc" 2 "key without value exits 2"
like "$err" "src:2:" "syntax error names file:line"
ok "$(good; echo $?)" "syntax error: old table still answers"
cp "$T/src.good" "$T/src"
is "$(ls "$T" | grep -c '\.tmp')" 0 "failed builds leave no temporary file"

# corrupt and truncated tables: exit 2 with the file named, never a crash
map hash:"$T/src" 2>/dev/null
cp "$T/src.db" "$T/saved.db"
garbage 20000 7 >"$T/src.db"
run map -q bob hash:"$T/src"
is "$rc" 2 "garbage .db: -q exits 2"
like "$err" "src.db" "garbage .db: error names the file"
cp "$T/saved.db" "$T/src.db"
truncate -s 4096 "$T/src.db"
run map -q bob hash:"$T/src"
is "$rc" 2 "truncated .db: -q exits 2"
like "$err" "src.db.*truncated" "truncated .db: error says so"
run map -s hash:"$T/src"
is "$rc" 2 "truncated .db: -s exits 2"
map lmdb:"$T/src" 2>/dev/null
truncate -s 8192 "$T/src.lmdb"
run map -q bob lmdb:"$T/src"
is "$rc" 2 "truncated .lmdb: exits 2 (no SIGBUS)"
like "$err" "src.lmdb" "truncated .lmdb: error names the file"
run map hash:"$T/src"
is "$rc" 0 "a corrupt table is replaced by a rebuild"
run map -q bob hash:"$T/src"
is "$out" bob@mailhost "rebuilt table answers"

# garbage inside the pages of a larger table: answers or errors, no crash
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "key%d value-%d-xxxxxxxxxxxxxxxx\n", i, i }' >"$T/big"
for type in hash btree lmdb; do
	s=$(suffix $type)
	map $type:"$T/big" 2>/dev/null
	size=$(stat -c %s "$T/big$s")
	garbage 8192 2 | dd of="$T/big$s" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "key%d\n", i }' >"$T/bigkeys"
	# Berkeley DB does not free its handle after it has reported a
	# damaged page (DB_RUNRECOVERY): do not count that as our leak
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout 60 "$POSTERN" map -q - $type:"$T/big" <"$T/bigkeys" >/dev/null 2>"$T/err"
	rc=$?
	ok "$([ $rc -le 2 ]; echo $?)" "$type: damaged pages give an answer or an error (exit $rc), no crash"
	is "$(stat -c %s "$T/big$s")" "$size" "$type: a lookup did not write to the damaged table"
done

# usage and types
run map
is "$rc" 2 "no table: usage, exit 2"
run map -q a -d b hash:"$T/src"
is "$rc" 2 "two modes: usage, exit 2"
run map nosuch:"$T/src"
is "$rc" 2 "unknown type exits 2"
like "$err" 'unsupported table type "nosuch"' "unknown type: clear error"
run map -m
is "$rc" 0 "-m exits 0"
like "$(echo $out)" "btree hash .*lmdb" "-m lists the types"
run map texthash:"$T/src"
is "$rc" 2 "texthash has no build step: exit 2"
like "$err" "not built by postern map" "texthash build: clear error"
run map -q bob texthash:"$T/src"
is "$rc/$out" "0/bob@mailhost" "-q works on a table without a builder"

# readers never fail while the table is rebuilt again and again
printf 'key one\nother x\n' >"$T/r1"
printf 'key two\nother y\n' >"$T/r2"
for type in hash lmdb; do
	cp "$T/r1" "$T/live"
	map $type:"$T/live"
	(
		end=$(($(date +%s) + 3))
		while [ "$(date +%s)" -lt "$end" ]; do
			cp "$T/r2" "$T/live"; map $type:"$T/live"
			cp "$T/r1" "$T/live"; map $type:"$T/live"
		done
	) &
	writer=$!
	fails=0 n=0
	end=$(($(date +%s) + 3))
	while [ "$(date +%s)" -lt "$end" ] && [ $n -lt 5000 ]; do
		v=$(map -q key $type:"$T/live" 2>&1) || fails=$((fails + 1))
		case $v in one | two) ;; *) fails=$((fails + 1)) ;; esac
		n=$((n + 1))
	done
	wait $writer
	is "$fails" 0 "$type: $n lookups during rebuilds, none failed"
done

done_testing
