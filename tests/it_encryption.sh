#!/usr/bin/env bash
# it_encryption.sh - client-side encryption (docs/encryption.md) with the
# real collector, real redis-servers, and the storage on file:// and on
# s3:// (moto_server behind tests/s3_faultproxy.py, which checks every
# signature).
#
# file:// - one instance "live", archived first plain, then with a key
# file: a MIXED archive of three generations. Then:
#   - the objects: plain ones from before, sealed ones (".k1.enc", starting
#     "AOFRSEAL") after, bases and the index copy included;
#   - restore at seconds on both sides of the switch and in every
#     generation equals the live digests; apply rolls a restore forward;
#     show and log decode sealed chunks; verify proves every tag;
#   - --check names the keys, seals and opens a probe, opens the newest
#     object;
#   - a wrong key (same id), a missing key and no key file: restore,
#     verify and --check exit 1 with one line naming the object and the key
#     id, and restore writes nothing;
#   - rotation: a second key seals the new chunks and the index copy;
#     rekey killed after a put, and after an index update, never leaves an
#     index row pointing at a missing object (a restore still works, the
#     collector's reconciliation leaves rekey's copy alone); a rerun
#     finishes and removes the stale copies; with the first key dropped
#     from the file, everything restores;
#   - `strings` of every stored object shows none of the values written;
#   - reindex on another machine (the storage and the newest key only)
#     checks the chunks against the sealed index copy and restores;
#   - delete and prune remove sealed generations.
# s3:// - the same collector on a second instance, with encryption on
# from the start: restore, apply, show, log, verify, reindex, rekey,
# delete and prune; the objects moto holds show no value.
. "$(dirname "$0")/lib/scenario.sh" collector restore services

C=$BIN/aofroll-collector
command -v sqlite3 >/dev/null || fail "sqlite3 is needed"
command -v strings >/dev/null || fail "strings (binutils) is needed"

PORT=$(free_port)
start_redis "$T/live" "$PORT"
STORE=$T/store
mkdir -p "$T/keys" "$T/b"
umask 077
newkey() { openssl rand -base64 32; }
K1=$(newkey)
K2=$(newkey)
echo "k1 $K1" >"$T/keys/k1"
printf '# the archive keys\n\nk1 %s\nk2 %s\n' "$K1" "$K2" >"$T/keys/k1k2"
echo "k2 $K2" >"$T/keys/k2"
echo "k1 $(newkey)" >"$T/keys/wrong"
echo "k9 $(newkey)" >"$T/keys/missing"
umask 022

# config FILE INDEX [KEYFILE]: the config of "live" on $STORE
config() {
    local file=$1 index=$2 keys=${3:-}
    {
        echo "storage:"
        echo "  url: file://$STORE"
        if [ -n "$keys" ]; then
            echo "  encryption:"
            echo "    key_file: $keys"
        fi
        echo "index: $index"
        echo "index_upload_interval: 1s"
        echo "defaults:"
        echo "  poll_interval: 100ms"
        echo "  chunk_pause: 0ms"
        echo "  chunk_size: 4KiB"
        echo "  retention: 1m"
        echo "instances:"
        echo "  - name: live"
        echo "    redis: redis://127.0.0.1:$PORT"
    } >"$file"
}
config "$T/plain.yaml" "$T/index.db"
config "$T/k1.yaml" "$T/index.db" "$T/keys/k1"
config "$T/k1k2.yaml" "$T/index.db" "$T/keys/k1k2"
config "$T/k2.yaml" "$T/index.db" "$T/keys/k2"
config "$T/wrong.yaml" "$T/index.db" "$T/keys/wrong"
config "$T/missing.yaml" "$T/index.db" "$T/keys/missing"
config "$T/b.yaml" "$T/b/index.db" "$T/keys/k2"
collect() {
    "$C" "$@" >>"$T/collector.log" 2>&1 || fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}
q() { sqlite3 "$T/index.db" "$1"; }
one_line() { [ "$(wc -l <"$T/last.err")" = 1 ] || fail "not one line on stderr: $(cat "$T/last.err")"; }
# every index row's object is in storage
rows_have_objects() {
    local key
    for key in $(q "select key from chunks"); do
        [ -f "$STORE/$key" ] || fail "the index row of \"$key\" points at a missing object"
    done
}
# chunk objects in storage (the index copy aside)
chunk_objects() { (cd "$STORE" && find . -type f -path './live/gen-*' | sed 's|^\./||' | LC_ALL=C sort); }

# --- s3: started early, so that its generations age for prune meanwhile ------
S3=0
if have_moto; then
    S3=1
    start_moto
    start_proxy
    S3PORT=$(free_port)
    start_redis "$T/cloud" "$S3PORT"
    s3_config "$T/s3.yaml" "$T/s3.db" "  - name: cloud" "    redis: redis://127.0.0.1:$S3PORT" \
        "    chunk_size: 4KiB" "    retention: 1m"
    sed -i "s|^  s3:|  encryption:\n    key_file: $T/keys/k1\n  s3:|; s|^index: .*|&\nindex_upload_interval: 1s|" "$T/s3.yaml"
    sed "s|$T/keys/k1|$T/keys/k1k2|" "$T/s3.yaml" >"$T/s3k2.yaml"
    sed "s|^index: .*|index: $T/b/s3.db|" "$T/s3k2.yaml" >"$T/s3b.yaml"
    declare -A S3SEC S3DIG
    s3_seconds() { # run_seconds on the s3 instance, into S3SEC/S3DIG
        local i
        run_seconds "$S3PORT" "$1" "$2"
        for i in $(seq "$1" "$2"); do
            S3SEC[$i]=${SEC[$i]}
            S3DIG[$i]=${DIG[$i]}
        done
    }
    start_collector "$T/s3.yaml"
    sleep 1
    s3_seconds 1 2
    stop_collector "$T/s3.yaml"
    collect -c "$T/s3.yaml" --barrier-now
    start_collector "$T/s3.yaml"
    s3_seconds 3 4
    stop_collector "$T/s3.yaml"
    collect -c "$T/s3.yaml" --barrier-now
    S3TB=$(date +%s)
    start_collector "$T/s3.yaml"
    s3_seconds 5 6
    wait_until 10 bash -c "AOFROLL_SUITE_URL=s3://$BUCKET/arch/ AOFROLL_SUITE_S3_ENDPOINT=$MOTO \
        AOFROLL_SUITE_S3_PATH_STYLE=1 $BIN/storage_probe head cloud/index.db.k1.enc" ||
        fail "no sealed index copy in s3"
    stop_collector "$T/s3.yaml"
else
    echo "s3 part skipped: moto_server or python3 not found"
fi

# --- file://: plain, then sealed, three generations --------------------------
start_collector "$T/plain.yaml"
sleep 1
run_seconds "$PORT" 1 2
stop_collector "$T/plain.yaml"
PLAIN_OBJS=$(chunk_objects | grep -c '\.gz$')
[ "$PLAIN_OBJS" -gt 2 ] || fail "only $PLAIN_OBJS plain objects"
[ "$(chunk_objects | grep -c '\.enc$')" = 0 ] || fail "sealed objects without a key file"
cp -a "$STORE" "$T/store.plain" # for the strings check below: what plain objects show

start_collector "$T/k1.yaml"
run_seconds "$PORT" 3 4
stop_collector "$T/k1.yaml"
collect -c "$T/k1.yaml" --barrier-now
start_collector "$T/k1.yaml"
run_seconds "$PORT" 5 6
stop_collector "$T/k1.yaml"
collect -c "$T/k1.yaml" --barrier-now
TB=$(date +%s)
start_collector "$T/k1.yaml"
run_seconds "$PORT" 7 8
wait_until 10 test -f "$STORE/live/index.db.k1.enc" || fail "no sealed index copy"
stop_collector "$T/k1.yaml"

assert_eq "$(q "select count(*) from generations")" 3 "generations"
assert_eq "$(q "select count(*) from chunks where generation = 1 and key like '%.gz'")" "$PLAIN_OBJS" \
    "plain chunks of generation 1"
[ "$(q "select count(*) from chunks where generation = 1 and key like '%.aof.gz.k1.enc'")" -gt 0 ] ||
    fail "generation 1 has no sealed chunks after the switch"
assert_eq "$(q "select count(*) from chunks where generation > 1 and key not like '%.gz.k1.enc'")" 0 \
    "chunks of generations 2 and 3 not sealed with k1"
assert_eq "$(q "select count(distinct generation) from chunks where generation > 1 and kind = 'base' and key like '%.rdb.gz.k1.enc'")" 2 \
    "sealed bases"
for key in $(q "select key from chunks where key like '%.enc'"); do
    [ "$(head -c 12 "$STORE/$key")" = "$(printf 'AOFRSEAL\001\002k1')" ] || fail "\"$key\" has no seal header"
done
for key in $(q "select key from chunks"); do
    assert_eq "$(stat -c %s "$STORE/$key")" "$(q "select stored_bytes from chunks where key = '$key'")" \
        "stored bytes of \"$key\""
done
[ ! -e "$STORE/live/index.db" ] || fail "the plain index copy was left beside the sealed one"
pass "a mixed archive: plain objects before the key file, sealed ones after (bases, index copy), sizes as stored"

for i in 2 3 4 6 8; do
    restore_started "$T/r$i" -c "$T/k1.yaml" --instance live --to "@${SEC[$i]}"
    assert_eq "$(digest "$RPORT")" "${DIG[$i]}" "digest of a restore to second $i"
done
pass "restores across the switch and in every generation equal the live digests"

restore_started "$T/ap" -c "$T/k1.yaml" --instance live --to "@${SEC[5]}"
expect_exit 0 "$A" apply -c "$T/k1.yaml" --instance live --to "@${SEC[6]}" --from-dir "$T/ap" \
    --target "redis://127.0.0.1:$RPORT"
assert_eq "$(digest "$RPORT")" "${DIG[6]}" "digest after apply"
expect_exit 0 "$A" log -c "$T/k1.yaml" --instance live --since "@${SEC[7]}" --until "@${SEC[7]}" --key 's:7'
expect_out "$T/last.out" '"value-7"'
ID=$(q "select id from chunks where generation = 3 and kind = 'incr' order by start limit 1")
expect_exit 0 "$A" show -c "$T/k1.yaml" --instance live --chunk "$ID"
expect_out "$T/last.out" '.aof.gz.k1.enc"'
expect_out "$T/last.out" 'SELECT'
expect_exit 0 "$A" verify -c "$T/k1.yaml"
NSEALED=$(q "select count(*) from chunks where key like '%.enc'")
expect_out "$T/last.out" ", $NSEALED of them sealed (each tag proven): 0 faults"
pass "apply, log, show and verify on the sealed archive ($NSEALED tags proven)"

expect_exit 0 "$C" -c "$T/k1.yaml" --check
expect_out "$T/last.out" "encryption: key file \"$T/keys/k1\": keys \"k1\" (seals new objects)"
expect_out "$T/last.out" 'encryption: ok, the probe object was sealed with key "k1" and opened again'
expect_out "$T/last.out" "encryption of \"live\": its newest object \"$(q "select key from chunks order by id desc limit 1")\" opens with key \"k1\""
pass "--check names the keys, seals a probe and opens the newest object"

# --- a wrong key, a missing key, no key file ----------------------------------
# err_names_object WHY: the one line names a sealed object of generation 3
err_names_object() {
    grep -qE "^aofroll restore: object \"live/gen-000003/(base|incr)/[0-9_-]+\.(rdb|aof)\.gz\.k1\.enc\" $1" \
        "$T/last.err" || fail "stderr: $(cat "$T/last.err")"
}
expect_exit 1 "$A" restore -c "$T/wrong.yaml" --instance live --to "@${SEC[8]}" --out "$T/bad"
one_line
err_names_object "does not open with key \"k1\" of key file \"$T/keys/wrong\""
[ ! -e "$T/bad" ] || fail "a restore with a wrong key wrote $T/bad"
expect_exit 1 "$A" restore -c "$T/missing.yaml" --instance live --to "@${SEC[8]}" --out "$T/bad"
one_line
err_names_object "is sealed with key \"k1\", which key file \"$T/keys/missing\" does not hold HINT:"
[ ! -e "$T/bad" ] || fail "a restore with a missing key wrote $T/bad"
expect_exit 1 "$A" restore -c "$T/plain.yaml" --instance live --to "@${SEC[8]}" --out "$T/bad"
one_line
err_names_object "is sealed with key \"k1\", but no key file is configured HINT:"
[ ! -e "$T/bad" ] || fail "a restore without a key file wrote $T/bad"
expect_exit 1 "$A" verify -c "$T/wrong.yaml"
expect_err "faults found, the first: "
expect_err "does not open with key \"k1\""
expect_exit 1 "$C" -c "$T/wrong.yaml" --check
expect_out "$T/last.out" "encryption of \"live\": object \"$(q "select key from chunks order by id desc limit 1")\" does not open with key \"k1\""
expect_out "$T/last.out" "verdict: not usable"
chmod 644 "$T/keys/k1"
expect_exit 1 "$A" restore -c "$T/k1.yaml" --instance live --to "@${SEC[8]}" --out "$T/bad"
one_line
expect_err "key file \"$T/keys/k1\" is open to group or others (mode 0644): refused HINT: chmod 600 $T/keys/k1"
chmod 600 "$T/keys/k1"
grep -rqF -e "$K1" -e "$K2" "$T"/*.err "$T"/last.* "$T/collector.log" && fail "a key was printed"
pass "a wrong key, a missing key, no key file, an open key file: one line naming the object and key, nothing written"

# --- rotation ------------------------------------------------------------------
start_collector "$T/k1k2.yaml"
run_seconds "$PORT" 9 10
wait_until 10 test -f "$STORE/live/index.db.k2.enc" || fail "no index copy sealed with k2"
stop_collector "$T/k1k2.yaml"
[ ! -e "$STORE/live/index.db.k1.enc" ] || fail "the index copy sealed with k1 was left"
[ "$(q "select count(*) from chunks where key like '%.k2.enc'")" -gt 0 ] || fail "no chunk sealed with k2"
assert_eq "$(q "select count(*) from chunks where key like '%.k2.enc' and last < ${SEC[9]}")" 0 \
    "chunks of before the rotation sealed with k2"
expect_exit 0 "$C" -c "$T/k1k2.yaml" --check
expect_out "$T/last.out" "keys \"k1\", \"k2\" (seals new objects)"
pass "a second key line: new chunks and the index copy are sealed with k2, the old ones stay"

OLD=$(q "select count(*) from chunks where key not like '%.k2.enc'")
ROWS=$(q "select count(*) from chunks")
# killed after a put: the copy is stored, the row still names the old object
AOFROLL_TEST_KILL_AFTER_PUTS=2 expect_exit 137 "$A" rekey -c "$T/k1k2.yaml" --instance live --generation 3
rows_have_objects
assert_eq "$(chunk_objects | wc -l)" $((ROWS + 1)) "objects after a rekey killed after its second put"
COPY=$(comm -13 <(q "select key from chunks" | LC_ALL=C sort) <(chunk_objects))
case $COPY in live/gen-000003/*.k2.enc) ;; *) fail "the copy left: '$COPY'" ;; esac
restore_started "$T/c1" -c "$T/k1k2.yaml" --instance live --to "@${SEC[8]}"
assert_eq "$(digest "$RPORT")" "${DIG[8]}" "digest of a restore after a killed rekey"
collect -c "$T/k1k2.yaml" --once
[ -f "$STORE/$COPY" ] || fail "the collector's start-up removed rekey's copy \"$COPY\""
grep -qF "left \"$COPY\": a copy of an indexed chunk under another name" "$T/collector.log" ||
    fail "the collector did not say it left the copy"
# killed after an index update: the row names the new object, the old one is left
AOFROLL_TEST_KILL_AFTER_RENAMES=3 expect_exit 137 "$A" rekey -c "$T/k1k2.yaml"
rows_have_objects
[ "$(chunk_objects | wc -l)" -gt "$ROWS" ] || fail "no stale object after a rekey killed after an update"
restore_started "$T/c2" -c "$T/k1k2.yaml" --instance live --to "@${SEC[4]}"
assert_eq "$(digest "$RPORT")" "${DIG[4]}" "digest of a restore after a rekey killed after an update"
expect_exit 0 "$A" verify -c "$T/k1k2.yaml"
# the index copy in storage still has the names of before: reindex finds
# the re-sealed objects by their chunk, and the stale copies beside them
config "$T/b2.yaml" "$T/b/mid.db" "$T/keys/k1k2"
expect_exit 0 "$A" reindex -c "$T/b2.yaml"
expect_out "$T/last.out" "problems (0 corrupt)"
# every object checked, but those newer than the copy (its upload lags)
CHECKED=$(sed -n 's/^live: checked against the index copy: \([0-9]*\) chunks.*/\1/p' "$T/last.out")
NEWER=$(sed -n 's/^live: checked against the index copy: .*; \([0-9]*\) newer than the copy.*/\1/p' "$T/last.out")
assert_eq "$((CHECKED + ${NEWER:-0}))" "$(chunk_objects | wc -l)" "objects checked against the copy, and newer"
[ "${NEWER:-0}" -le 2 ] || fail "$NEWER objects newer than the copy: $(cat "$T/last.out")"
pass "rekey killed after a put and after an index update: every row names a stored object, restores work, reindex checks the re-sealed objects against the older copy"

# one rekey at a time per index: the lock held here, as another rekey would
exec 9>"$T/index.db.rekey.lock"
flock -n 9 || fail "the test could not take the rekey lock"
expect_exit 1 "$A" rekey -c "$T/k1k2.yaml"
expect_err "aofroll rekey: another aofroll rekey holds \"$T/index.db.rekey.lock\": one at a time"
exec 9>&-
rows_have_objects
expect_exit 0 "$A" rekey -c "$T/k1k2.yaml"
expect_out "$T/last.out" "live: "
expect_out "$T/last.out" " re-sealed with key \"k2\", "
grep -q ' [1-9][0-9]* stale cop' "$T/last.out" || fail "no stale copy removed: $(cat "$T/last.out")"
expect_out "$T/last.out" "0 failed their check"
cp "$T/last.out" "$T/rekey.out"
assert_eq "$(q "select count(*) from chunks where key not like '%.k2.enc'")" 0 "chunks not sealed with k2 after rekey"
assert_eq "$(chunk_objects | wc -l)" "$ROWS" "objects after rekey (one per row)"
assert_eq "$(chunk_objects | grep -vc '\.k2\.enc$')" 0 "objects not sealed with k2"
assert_eq "$(cd "$STORE/live" && ls index.db*)" "index.db.k2.enc" "the index copies"
rows_have_objects
expect_exit 0 "$A" rekey -c "$T/k1k2.yaml" --instance live
expect_out "$T/last.out" "live: 0 objects re-sealed with key \"k2\", $ROWS already were, 0 failed their check; 0 stale copies removed"
pass "rekey finishes what the killed runs left ($OLD objects were older), then has nothing to do"

for i in 2 4 6 8 10; do
    restore_started "$T/k$i" -c "$T/k2.yaml" --instance live --to "@${SEC[$i]}"
    assert_eq "$(digest "$RPORT")" "${DIG[$i]}" "digest of a restore to second $i with k1 dropped"
done
expect_exit 0 "$A" verify -c "$T/k2.yaml"
expect_out "$T/last.out" ", $ROWS of them sealed (each tag proven): 0 faults"
pass "with k1 dropped from the key file, every second restores"

# every object: no value in clear (the redis AOF itself holds them); the
# patterns are long enough that random bytes do not match them
WRITTEN='value-[0-9]|crlf:[0-9]|db1:[0-9]|SELECT'
shows_values() { [ "$(strings -n 4 "$1" | grep -cE "$WRITTEN")" != 0 ]; }
shows_values "$T/live/appendonlydir/$(sed -n 's/^file \(.*\) seq .* type i$/\1/p' \
    "$T/live/appendonlydir/appendonly.aof.manifest")" || fail "the live AOF lacks the values"
find "$T/store.plain" -path '*/incr/*' -print0 | LC_ALL=C sort -z | xargs -0 cat | gunzip >"$T/plain.aof"
shows_values "$T/plain.aof" || fail "the plain chunks of before lack the values"
while IFS= read -r f; do
    if shows_values "$STORE/$f"; then
        fail "\"$f\" shows a value: $(strings -n 4 "$STORE/$f" | grep -E "$WRITTEN" | head -2)"
    fi
done < <(cd "$STORE" && find . -type f | sed 's|^\./||')
pass "strings of every stored object ($(cd "$STORE" && find . -type f | wc -l)) shows none of the values written"

# the format of docs/encryption.md, read by another implementation
if python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null; then
    KEY=$(q "select key from chunks where kind = 'incr' order by generation, start limit 1 offset 3")
    python3 - "$KEY" "$STORE/$KEY" "$K2" >"$T/member.gz" <<'PY' || fail "python could not open \"$KEY\""
import base64, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
name, path, key_b64 = sys.argv[1:]
blob = open(path, "rb").read()
l = blob[9]
header, body = blob[:22 + l], blob[22 + l:]
plain = AESGCM(base64.b64decode(key_b64)).decrypt(header[10 + l:], body, header + name.encode())
sys.stdout.buffer.write(plain)
PY
    assert_eq "$(gunzip -c "$T/member.gz" | wc -c)" "$(q "select end - start from chunks where key = '$KEY'")" \
        "bytes of the member python opened"
    assert_eq "$(gunzip -c "$T/member.gz" | python3 -c 'import sys, zlib; print(zlib.crc32(sys.stdin.buffer.read()))')" \
        "$(q "select crc32 from chunks where key = '$KEY'")" "CRC32 of the member python opened"
    pass "Python's cryptography opens a sealed chunk as docs/encryption.md describes it"
else
    echo "format check by another implementation skipped: python3 cryptography not installed"
fi

# --- reindex on machine B: the storage and k2 only ------------------------------
# a plain object planted for a chunk the (sealed) copy records sealed: its
# gzip member is the right length, not the archived one
SEALED=$(q "select key from chunks where kind = 'incr' order by generation desc, start limit 1")
PLANTED=${SEALED%.k2.enc}
head -c "$(q "select end - start from chunks where key = '$SEALED'")" /dev/zero | gzip -1 >"$STORE/$PLANTED"
expect_exit 1 "$A" reindex -c "$T/b.yaml"
one_line
expect_err "aofroll reindex: 1 corrupt object not indexed, the first: chunk \"$PLANTED\": its SHA-256 is "
expect_err "(as \"$SEALED\"): not the object that was archived"
rm "$STORE/$PLANTED"
rm -f "$T/b/index.db"*
expect_exit 0 "$A" reindex -c "$T/b.yaml"
expect_out "$T/last.out" "live: checked against the index copy: $ROWS chunks with the SHA-256 it records"
expect_out "$T/last.out" "live: 3 generations, $ROWS chunks, "
expect_out "$T/last.out" ", 0 problems (0 corrupt)"
chunks_of() {
    sqlite3 "$1" "select generation, kind, start, end, crc32, stored_bytes, first, last, key, hex(sha256)
        from chunks order by key"
}
diff <(chunks_of "$T/index.db") <(chunks_of "$T/b/index.db") >"$T/chunks.diff" ||
    fail "chunks differ between A and B: $(head -4 "$T/chunks.diff")"
restore_started "$T/b6" -c "$T/b.yaml" --instance live --to "@${SEC[6]}"
assert_eq "$(digest "$RPORT")" "${DIG[6]}" "digest of a restore on B"
pass "reindex on B from the sealed objects and the sealed index copy; B's rows equal A's; a planted plain object is refused"

# --- delete and prune ---------------------------------------------------------
# delete_prune CONFIG INSTANCE LIST TB SECOND DIGEST WHERE: delete generation
# 1, prune generation 2 once TB + 61 s have passed (retention 1m), each gone
# from the objects LIST (a function) prints; a restore to SECOND then has
# DIGEST (WHERE: the storage, for the failure's words)
delete_prune() {
    local cfg=$1 inst=$2 list=$3 tb=$4 second=$5 dig=$6 where=$7
    expect_exit 0 "$A" delete -c "$cfg" --instance "$inst" --generation 1
    assert_eq "$($list | grep -c '/gen-000001/')" 0 "$where objects of generation 1 after delete"
    sleep "$(awk -v n="$(date +%s.%N)" -v t="$((tb + 61))" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
    expect_exit 0 "$A" prune -c "$cfg"
    expect_out "$T/last.out" "$inst: deleting generation 2 ("
    assert_eq "$($list | grep -c '/gen-000002/')" 0 "$where objects of generation 2 after prune"
    restore_started "$T/last-$inst" -c "$cfg" --instance "$inst" --to "@$second"
    assert_eq "$(digest "$RPORT")" "$dig" "digest of a restore from $where after delete and prune"
}
delete_prune "$T/k2.yaml" live chunk_objects "$TB" "${SEC[10]}" "${DIG[10]}" file
pass "delete and prune remove sealed generations; the rest restores"

# --- s3:// ---------------------------------------------------------------------
if [ "$S3" = 1 ]; then
    s3_objects() { moto_probe list | cut -f1 | grep '^cloud/gen-'; }
    NS3=$(sqlite3 "$T/s3.db" "select count(*) from chunks")
    assert_eq "$(s3_objects | grep -vc '\.k1\.enc$')" 0 "s3 objects not sealed with k1"
    assert_eq "$(s3_objects | wc -l)" "$NS3" "s3 objects"
    for i in 2 4 6; do
        restore_started "$T/s$i" -c "$T/s3.yaml" --instance cloud --to "@${S3SEC[$i]}"
        assert_eq "$(digest "$RPORT")" "${S3DIG[$i]}" "digest of a restore from s3 to second $i"
    done
    restore_started "$T/sap" -c "$T/s3.yaml" --instance cloud --to "@${S3SEC[5]}"
    expect_exit 0 "$A" apply -c "$T/s3.yaml" --instance cloud --to "@${S3SEC[6]}" --from-dir "$T/sap" \
        --target "redis://127.0.0.1:$RPORT"
    assert_eq "$(digest "$RPORT")" "${S3DIG[6]}" "digest after apply from s3"
    expect_exit 0 "$A" log -c "$T/s3.yaml" --instance cloud --since "@${S3SEC[3]}" --until "@${S3SEC[3]}" --key 's:3'
    expect_out "$T/last.out" '"value-3"'
    expect_exit 0 "$A" show -c "$T/s3.yaml" --instance cloud --at "@${S3SEC[4]}"
    expect_out "$T/last.out" '"s:4"'
    expect_exit 0 "$A" verify -c "$T/s3.yaml"
    expect_out "$T/last.out" ", $NS3 of them sealed (each tag proven): 0 faults"
    pass "s3: restore, apply, log, show and verify on a sealed archive"

    expect_exit 0 "$A" rekey -c "$T/s3k2.yaml"
    expect_out "$T/last.out" "cloud: $NS3 objects re-sealed with key \"k2\", 0 already were"
    assert_eq "$(s3_objects | grep -vc '\.k2\.enc$')" 0 "s3 objects not sealed with k2 after rekey"
    assert_eq "$(moto_probe list | cut -f1 | grep '^cloud/index')" "cloud/index.db.k2.enc" "s3 index copies"
    expect_exit 0 "$A" reindex -c "$T/s3b.yaml"
    expect_out "$T/last.out" "cloud: checked against the index copy: $NS3 chunks with the SHA-256 it records"
    restore_started "$T/sb" -c "$T/s3b.yaml" --instance cloud --to "@${S3SEC[4]}"
    assert_eq "$(digest "$RPORT")" "${S3DIG[4]}" "digest of a restore from s3 after rekey and reindex"
    for key in $(moto_probe list | cut -f1); do
        moto_probe get "$key" >"$T/obj" || fail "cannot get \"$key\" from moto"
        [ "$(head -c 8 "$T/obj")" = AOFRSEAL ] || fail "\"$key\" in moto is not sealed"
        shows_values "$T/obj" && fail "\"$key\" in moto shows a value"
    done
    pass "s3: rekey, reindex from the sealed copy; every object in moto is sealed and shows no value"

    delete_prune "$T/s3k2.yaml" cloud s3_objects "$S3TB" "${S3SEC[6]}" "${S3DIG[6]}" s3
    pass "s3: delete and prune remove sealed generations; the rest restores"
fi
done_testing
