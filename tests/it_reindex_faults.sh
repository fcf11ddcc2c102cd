#!/usr/bin/env bash
# it_reindex_faults.sh - aofroll reindex on a damaged or untidy storage.
# An archive made by the real collector (index A) is reindexed into index B
# (same storage) after each change, and B is compared with A:
#  - stray objects: one under gen-*/ that is not a chunk name is reported
#    by key, other keys ("live/index.db", "live/README") are skipped
#    silently; nothing changes in B, exit 0; a name holding a newline and a
#    terminal escape is shown quoted, so it forges no line and no escape;
#  - an exact duplicate of a chunk (other times in its name) and an object
#    overlapping a chunk without joining: both reported, the original kept;
#  - a flipped byte in one chunk and a wrong gzip trailer length in another:
#    both reported as corrupt by key, left out, exit 1 naming the first;
#    the gaps are reported and a restore on B names the missing range;
#  - a missing base: reported, and the generation cannot be restored.
. "$(dirname "$0")/lib/scenario.sh" collector restore

PORT=$(free_port)
start_redis "$T/live" "$PORT"
STORE=$T/store
write_config "$T/a.yaml" "$STORE" "$T/a.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 4KiB"
write_config "$T/b.yaml" "$STORE" "$T/b.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 4KiB"
for i in $(seq 1 800); do echo "SET key:$i value-$i-0123456789"; done | rcli "$PORT" >/dev/null
"$BIN/aofroll-collector" -c "$T/a.yaml" --once >"$T/collector.log" 2>&1 || fail "collector: $(tail -3 "$T/collector.log")"
INCR=$STORE/live/gen-000001/incr
mapfile -t KEYS < <(cd "$STORE" && ls live/gen-000001/incr/* | sort)
[ "${#KEYS[@]}" -ge 6 ] || fail "expected at least 6 incr chunks, got ${#KEYS[@]}"
chunks_of() {
    sqlite3 "$1" "select generation, kind, start, end, crc32, stored_bytes, first, last, key from chunks order by key"
}
chunks_of "$T/a.db" >"$T/a.chunks"

# reindex_b STATUS: reindex into B, expecting STATUS; output in $T/last.out, $T/last.err
reindex_b() {
    expect_exit "$1" "$A" reindex -c "$T/b.yaml"
    chunks_of "$T/b.db" >"$T/b.chunks"
}
same_as_a() {
    diff "$T/a.chunks" "$T/b.chunks" >"$T/diff" || fail "B's chunks differ from A's: $(head -5 "$T/diff")"
}

reindex_b 0
same_as_a
grep -q "warning\|corrupt:" "$T/last.out" && fail "problems reported for a sound archive: $(cat "$T/last.out")"
pass "a sound archive reindexes to the same chunks, with no problems"

# --- stray objects
cp "$STORE/${KEYS[0]}" "$INCR/stray.aof.gz"
echo "notes" >"$STORE/live/gen-000001/notes.txt"
echo "readme" >"$STORE/live/README"
cp "$T/a.db" "$STORE/live/index.db"
reindex_b 0
same_as_a
expect_out "$T/last.out" "live: warning: object \"live/gen-000001/incr/stray.aof.gz\" is not a chunk name: "
expect_out "$T/last.out" "live: warning: object \"live/gen-000001/notes.txt\" is not a chunk name: "
expect_out "$T/last.out" ", 2 problems (0 corrupt)"
grep -q "README\|live/index.db" "$T/last.out" && fail "keys outside gen-*/ were reported: $(cat "$T/last.out")"
rm "$INCR/stray.aof.gz" "$STORE/live/gen-000001/notes.txt" "$STORE/live/README" "$STORE/live/index.db"
pass "a stray object under gen-*/ is reported by key; other keys are skipped silently"

# a hostile name: a newline that would forge a report line, an escape sequence
EVIL=$(printf 'evil\nlive: restorable from 1999-01-01T00:00:00Z to 2999-01-01T00:00:00Z\033[2J')
echo x >"$STORE/live/gen-000001/$EVIL"
reindex_b 0
same_as_a
expect_out "$T/last.out" 'live: warning: object "live/gen-000001/evil\nlive: restorable from 1999-01-01T00:00:00Z to 2999-01-01T00:00:00Z\x1b[2J" is not a chunk name: '
grep -q "$(printf '\033')" "$T/last.out" "$T/last.err" && fail "an escape byte reached the output"
grep -q "^live: restorable from 1999" "$T/last.out" && fail "a forged line in the output: $(cat "$T/last.out")"
rm "$STORE/live/gen-000001/$EVIL"
pass "an object name with a newline and a terminal escape is shown quoted: no forged line, no escape"

# --- a duplicate and an overlapping object for the second chunk
VICTIM=${KEYS[1]}
read -r DUP OVER < <(python3 - "$STORE" "$VICTIM" <<'PY'
import gzip, re, sys, zlib
store, key = sys.argv[1], sys.argv[2]
m = re.match(r"(.*/)(\d{20})-(\d{20})_(\d{10})-(\d{10})\.aof\.gz$", key)
pfx, s, e, f, l = m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))
raw = gzip.open(store + "/" + key).read()
assert len(raw) == e - s
def put(name, data):
    open(store + "/" + name, "wb").write(gzip.compress(data))
    return name
dup = put("%s%020d-%020d_%010d-%010d.aof.gz" % (pfx, s, e, f + 100, l + 100), raw)
over = put("%s%020d-%020d_%010d-%010d.aof.gz" % (pfx, s, e - 10, f, l), raw[:-10])
print(dup, over)
PY
)
[ -n "$OVER" ] || fail "could not make the duplicate and overlapping objects"
reindex_b 0
same_as_a
expect_out "$T/last.out" "live: warning: chunk \"$DUP\" holds the same bytes as \"$VICTIM\"; not indexed"
expect_out "$T/last.out" "live: warning: chunk \"$OVER\" overlaps the kept chunk \"$VICTIM\"; not indexed"
expect_exit 0 "$A" verify -c "$T/b.yaml"
rm "$STORE/$DUP" "$STORE/$OVER"
pass "a duplicate and an overlapping object are reported; the chunk that joins is kept"

# --- corrupt chunks: a flipped byte, a wrong trailer length
FLIP=${KEYS[2]}
TRAIL=${KEYS[4]}
cp "$STORE/$FLIP" "$T/flip.saved"
cp "$STORE/$TRAIL" "$T/trail.saved"
python3 - "$STORE/$FLIP" "$STORE/$TRAIL" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[len(d) // 2] ^= 0x40                      # in the deflate data
open(sys.argv[1], "wb").write(d)
d = bytearray(open(sys.argv[2], "rb").read())
d[-4] ^= 0x01                               # ISIZE, the trailer's length
open(sys.argv[2], "wb").write(d)
PY
range_of() { # KEY: "START END" as plain numbers
    basename "$1" | sed -E 's/^0*([0-9]+)-0*([0-9]+)_.*/\1 \2/'
}
read -r FS FE < <(range_of "$FLIP")
read -r TS TE < <(range_of "$TRAIL")
reindex_b 1
expect_out "$T/last.out" "live: corrupt: chunk \"$FLIP\": "
expect_out "$T/last.out" "live: corrupt: chunk \"$TRAIL\": its gzip trailer gives a length of $(((TE - TS) ^ 1)) bytes, its name [$TS, $TE) $((TE - TS)); not indexed"
expect_out "$T/last.out" "live: warning: generation 1: incr bytes [$FS, $FE) are missing"
expect_out "$T/last.out" "live: warning: generation 1: incr bytes [$TS, $TE) are missing"
expect_out "$T/last.out" ", 4 problems (2 corrupt)"
expect_err "aofroll reindex: 2 corrupt objects not indexed, the first: chunk \"$FLIP\""
grep -v -e "$FLIP" -e "$TRAIL" "$T/a.chunks" >"$T/a-minus.chunks"
diff "$T/a-minus.chunks" "$T/b.chunks" >"$T/diff" || fail "B should hold A's chunks but the two corrupt ones: $(head -5 "$T/diff")"
expect_exit 1 "$A" restore -c "$T/b.yaml" --instance live --to "@$(date +%s)" --out "$T/r-gap"
expect_err "incr bytes [$FS, $FE) are missing"
pass "corrupt chunks are reported by key and left out (exit 1); restore on B names the gap"

cp "$T/flip.saved" "$STORE/$FLIP"
cp "$T/trail.saved" "$STORE/$TRAIL"
BASE=$(cd "$STORE" && ls live/gen-000001/base/*)
mv "$STORE/$BASE" "$T/base.saved"
reindex_b 0
expect_out "$T/last.out" "live: warning: generation 1 has no base chunk; it cannot be restored"
assert_eq "$(sqlite3 "$T/b.db" "select base_complete from generations")" 0 "base_complete without a base"
expect_exit 1 "$A" restore -c "$T/b.yaml" --instance live --to "@$(date +%s)" --out "$T/r-nobase"
mv "$T/base.saved" "$STORE/$BASE"
reindex_b 0
same_as_a
pass "a missing base is reported and leaves the generation unrestorable; repaired, B equals A again"

done_testing
