#!/usr/bin/env bash
# it_integrity.sh - what a forged or damaged archive, or index, can do to
# restore, apply and reindex: nothing but fail with one line, exit 1, and
# no file written outside DIR.
#
# The real collector archives a real redis-server and uploads the index
# copy. Then:
#   - a chunk forged with the same length and the same CRC32 (the four
#     bytes that force it are inside a value) is refused by restore (the
#     SHA-256 the index records) and left out by reindex (the SHA-256 the
#     index copy records), where a CRC check alone would take it;
#   - a bit-flipped chunk and a truncated one: one line naming the chunk;
#   - index rows naming objects outside their chunk (another instance's,
#     the index copy, "../x"): restore and delete refuse, delete removes
#     nothing;
#   - hostile object names in storage ("..", absurd lengths, wrong widths):
#     reindex reports them quoted and indexes none;
#   - a garbage and a future-version index (local, and the copy in
#     storage): restore, apply and reindex exit 1 with one line; reindex
#     leaves the local index as it was; --no-index-copy rebuilds anyway.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 4KiB
sed -i 's/^index: .*/&\nindex_upload_interval: 1s/' "$CFG"
write_config "$T/b.yaml" "$STORE" "$T/b.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 4KiB"
VALUE=$(printf 'x%.0s' $(seq 1 300))
for i in $(seq 1 60); do echo "SET key:$i v$i-$VALUE"; done | rcli "$PORT" >/dev/null
DIG=$(digest "$PORT")
start_collector "$CFG"
copy_complete() {
    [ -f "$STORE/live/index.db" ] &&
        [ "$(sqlite3 "$STORE/live/index.db" 'select count(*) from chunks' 2>/dev/null)" = \
            "$(sqlite3 "$T/index.db" 'select count(*) from chunks')" ] &&
        [ "$(sqlite3 "$T/index.db" "select count(*) from chunks where kind = 'incr'")" -ge 5 ]
}
wait_until 30 copy_complete || fail "no complete index copy in storage: $(tail -3 "$T/collector.log")"
stop_collector "$CFG"
TO=@$(date +%s)
assert_eq "$(sqlite3 "$T/index.db" 'select count(*) from chunks where sha256 is null')" 0 "chunks without a digest"
assert_eq "$(sqlite3 "$T/index.db" 'select count(*) from chunks where length(sha256) = 32')" \
    "$(sqlite3 "$T/index.db" 'select count(*) from chunks')" "chunks with a SHA-256"
restore_started "$T/good" -c "$CFG" --instance live --to "$TO"
assert_eq "$(digest "$RPORT")" "$DIG" "digest of a restore from the sound archive"
pass "the collector records a SHA-256 for every chunk, and the copy in storage holds them"

echo "precious" >"$T/victim"
victim_intact() { [ "$(cat "$T/victim")" = "precious" ] || fail "a file outside DIR changed"; }
one_line() { [ "$(wc -l <"$T/last.err")" = 1 ] || fail "not one line on stderr: $(cat "$T/last.err")"; }
KEY=$(sqlite3 "$T/index.db" "select key from chunks where kind = 'incr' order by start limit 1 offset 2")
cp "$STORE/$KEY" "$T/chunk.saved"
restore_chunk() { cp "$T/chunk.saved" "$STORE/$KEY"; }

# --- a forged chunk: same length, same CRC32, other commands -----------------
python3 - "$STORE/$KEY" <<'PY' || fail "could not forge the chunk"
import gzip, sys, zlib
POLY = 0x104C11DB7
def rev32(x):
    y = 0
    for _ in range(32):
        y = (y << 1) | (x & 1)
        x >>= 1
    return y
def mul(x, y):
    z = 0
    while y:
        if y & 1:
            z ^= x
        y >>= 1
        x <<= 1
        if x >> 32 & 1:
            x ^= POLY
    return z
def powm(x, y):
    z = 1
    while y:
        if y & 1:
            z = mul(z, x)
        x = mul(x, x)
        y >>= 1
    return z
def divmod_(x, y):
    z, dy = 0, y.bit_length() - 1
    for i in range(x.bit_length() - 1 - dy, -1, -1):
        if x >> (i + dy) & 1:
            x ^= y << i
            z |= 1 << i
    return z, x
def recip(x):
    y, x, a, b = x, POLY, 0, 1
    while y:
        q, r = divmod_(x, y)
        x, y, a, b = y, r, b, a ^ mul(q, b)
    assert x == 1
    return a
raw = bytearray(gzip.decompress(open(sys.argv[1], "rb").read()))
want = zlib.crc32(raw)
a = raw.find(b"x" * 16)
b = raw.rfind(b"x" * 16)
assert a >= 0 and b > a + 32, "no values to forge in"
raw[a:a + 8] = b"FORGED!!"          # what the attacker wants restored
delta = rev32(zlib.crc32(raw)) ^ rev32(want)
delta = mul(recip(powm(2, (len(raw) - b) * 8)), delta)
for i in range(4):
    raw[b + i] ^= rev32(delta) >> (8 * i) & 0xFF
assert zlib.crc32(raw) == want
open(sys.argv[1], "wb").write(gzip.compress(bytes(raw)))
PY
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/forged"
expect_err "aofroll restore: chunk \"$KEY\": the stored object's SHA-256 is "
expect_err ", the index records "
one_line
[ ! -e "$T/forged" ] || fail "a refused restore left $T/forged"
expect_exit 1 "$A" reindex -c "$T/b.yaml"
expect_out "$T/last.out" "live: corrupt: chunk \"$KEY\": its SHA-256 is "
expect_out "$T/last.out" "the index copy records"
expect_err "aofroll reindex: 1 corrupt object not indexed, the first: chunk \"$KEY\": its SHA-256 is "
assert_eq "$(sqlite3 "$T/b.db" "select count(*) from chunks where key = '$KEY'")" 0 "rows of the forged chunk in B"
expect_exit 1 "$A" restore -c "$T/b.yaml" --instance live --to "$TO" --out "$T/forged-b"
expect_err "aofroll restore: gap in the archive of \"live\", generation 1: incr bytes ["
restore_chunk
pass "a chunk forged with its CRC32 intact: restore refuses it by SHA-256, reindex leaves it out, B has a gap"

# --- a bit flipped, a chunk cut short ------------------------------------------
python3 -c "import sys; p=sys.argv[1]; d=bytearray(open(p,'rb').read()); d[len(d)//2]^=0x10; open(p,'wb').write(d)" "$STORE/$KEY"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/flip"
expect_err "aofroll restore: chunk \"$KEY\": the stored object's SHA-256 is "
one_line
head -c 20 "$T/chunk.saved" >"$STORE/$KEY"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/cut"
expect_err "aofroll restore: chunk \"$KEY\": the stored object's SHA-256 is "
one_line
expect_exit 1 "$A" verify -c "$CFG" --instance live
expect_err "$KEY"
restore_chunk
[ ! -e "$T/flip" ] && [ ! -e "$T/cut" ] || fail "a failed restore left its DIR"
pass "a bit-flipped and a truncated chunk: one line naming the chunk, exit 1, no DIR"

# --- index rows that name other objects ---------------------------------------
cp "$T/index.db" "$T/index.saved"
ROW=$(sqlite3 "$T/index.db" "select id from chunks where key = '$KEY'")
for forged in "live/index.db" "other/gen-000001/incr/$(basename "$KEY")" "../x" \
    "live/gen-000002/incr/$(basename "$KEY")"; do
    sqlite3 "$T/index.db" "update chunks set key = '$forged' where id = $ROW"
    expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/rows"
    expect_err "aofroll restore: the index names object \"$forged\" for incr chunk ["
    one_line
    [ ! -e "$T/rows" ] || fail "a refused restore left $T/rows"
    cp "$T/index.saved" "$T/index.db"
done
cp "$STORE/live/index.db" "$T/copy.saved"
sqlite3 "$T/index.db" "update chunks set key = 'live/index.db' where id = $ROW"
find "$STORE" -type f | sort >"$T/objects.before"
expect_exit 1 "$A" delete -c "$CFG" --instance live --generation 1 --force
expect_err "aofroll delete: nothing deleted: the index names object \"live/index.db\" for incr chunk ["
one_line
find "$STORE" -type f | sort | diff - "$T/objects.before" >/dev/null || fail "delete removed objects after a forged row"
cmp -s "$STORE/live/index.db" "$T/copy.saved" || fail "the index copy changed"
cp "$T/index.saved" "$T/index.db"
pass "index rows naming another object (the index copy, another instance, ../x, another generation): refused, nothing read or removed"

# --- hostile names in storage: reported quoted, never indexed ------------------
G=$STORE/live/gen-000001/incr
LONG=$(printf '9%.0s' $(seq 1 200))
cp "$T/chunk.saved" "$G/00000000000000000000-${LONG}_1-1.aof.gz" || fail "cannot create the long name"
cp "$T/chunk.saved" "$G/0-1_1-1.aof.gz" || fail "cannot create a short name"
cp "$T/chunk.saved" "$G/..aof.gz" || fail "cannot create a dotted name"
cp "$T/chunk.saved" "$G/$(basename "$KEY" | sed 's/^0/00/')" || fail "cannot create a wide name"
expect_exit 0 "$A" reindex -c "$T/b.yaml"
expect_out "$T/last.out" "is not a chunk name: numbers not in canonical zero-padded form"
expect_out "$T/last.out" "live: warning: object \"live/gen-000001/incr/..aof.gz\" is not a chunk name"
expect_out "$T/last.out" '"...(253 bytes) is not a chunk name: expected "START-END" byte offsets' 
sqlite3 "$T/b.db" "select key from chunks" | grep -v '^live/gen-000001/\(base\|incr\)/[0-9]\{20\}-[0-9]\{20\}_[0-9]\{10\}[-_][0-9]\{10,20\}\.\(aof\|rdb\)\.gz$' &&
    fail "a hostile name was indexed"
rm -f "$G/00000000000000000000-${LONG}_1-1.aof.gz" "$G/0-1_1-1.aof.gz" "$G/..aof.gz" \
    "$G/$(basename "$KEY" | sed 's/^0/00/')"
pass "hostile object names (absurd length, wrong widths, dots): reported quoted, none indexed"

# --- a garbage and a future-version index ---------------------------------------
# spoil KIND FILE SAVED: FILE becomes garbage bytes, or SAVED with a schema
# version from the future
spoil() {
    if [ "$1" = garbage ]; then
        head -c 8192 /dev/urandom >"$2"
    else
        cp "$3" "$2"
        sqlite3 "$2" "pragma user_version = 99"
    fi
}
cp "$T/index.db" "$T/index.saved"
for kind in garbage future; do
    spoil "$kind" "$T/index.db" "$T/index.saved"
    rm -f "$T/index.db-wal" "$T/index.db-shm"
    cp "$T/index.db" "$T/index.bad"
    expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/bad-$kind"
    one_line
    expect_err "aofroll restore: index \"$T/index.db\""
    [ ! -e "$T/bad-$kind" ] || fail "restore on a $kind index left its DIR"
    expect_exit 1 "$A" apply -c "$CFG" --instance live --to "$TO" --from-dir "$T/good" --target "redis://127.0.0.1:$RPORT"
    one_line
    expect_err "aofroll apply: index \"$T/index.db\""
    expect_exit 1 "$A" reindex -c "$CFG"
    one_line
    expect_err "aofroll reindex: index \"$T/index.db\""
    cmp -s "$T/index.db" "$T/index.bad" || fail "reindex changed a $kind index"
done
expect_err "newer than this aofroll knows ("
cp "$T/index.saved" "$T/index.db"
victim_intact
pass "a garbage and a future-version local index: restore, apply and reindex exit 1 with one line, nothing changed"

for kind in garbage future; do
    spoil "$kind" "$STORE/live/index.db" "$T/copy.saved"
    cp "$T/b.db" "$T/b.before" 2>/dev/null || true
    expect_exit 1 "$A" reindex -c "$T/b.yaml"
    one_line
    expect_err "aofroll reindex: the index copy \"live/index.db\" in storage cannot be read HINT: --no-index-copy rebuilds from the object names alone, unchecked: "
    cmp -s "$T/b.db" "$T/b.before" || fail "reindex changed B with a $kind copy"
done
expect_exit 0 "$A" reindex -c "$T/b.yaml" --no-index-copy
expect_out "$T/last.out" "live: not checking against an index copy (--no-index-copy)"
cp "$T/copy.saved" "$STORE/live/index.db"
ls "$T"/b.db.copy-* "$T"/index.db.copy-* 2>/dev/null && fail "a temp copy of the index was left behind"
pass "a garbage and a future-version index copy: reindex exits 1 with one line, B unchanged; --no-index-copy rebuilds"

done_testing
