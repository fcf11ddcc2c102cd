#!/bin/bash
# it_collector_exact.sh - the archive is the AOF, byte for byte.
#
# A real redis-server takes binary values (\r\n, NUL, RESP-looking bytes),
# values larger than chunk_size, MULTI/EXEC blocks and SELECTs while the
# collector follows it; the gunzipped chunks of generation 1 must equal the
# live incr file and the base, joined without gap or overlap, with one
# index row per object, times in order, and no temp file left behind. Then
# the same after a stop (SIGTERM), more writes and a --once.
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: main" "    redis: redis://127.0.0.1:$PORT" \
    "    metrics_file: $T/aofroll.prom"
sed -i 's/^index: .*/&\nindex_upload_interval: 1s/' "$T/c.yaml"
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)
BASE=$R/appendonlydir/$(awk '$6 == "b" {print $2}' "$R/appendonlydir/appendonly.aof.manifest")
GEN=$ARCH/main/gen-000001

# data present before the collector starts
writer mix "$PORT" 300 1
collector_start "$T/collector.log" -c "$T/c.yaml" -v
writer mix "$PORT" 1500 2
wait_archived "$GEN/incr" "$INCR" 60
archive_equals "$GEN/incr" "$INCR"
archive_equals "$GEN/base" "$BASE"
pass "following: incr and base archived byte for byte"

[ "$(stat -c %s "$INCR")" -gt $((3 * 65536)) ] || fail "the scenario should write several chunks"
big=$(ls "$GEN/incr" | wc -l)
[ "$big" -ge 4 ] || fail "expected several incr chunks, got $big"
for name in $(ls "$GEN/incr"); do
    [[ $name =~ ^([0-9]{20})-([0-9]{20})_([0-9]+)-([0-9]+)\.aof\.gz$ ]] || fail "bad chunk name $name"
    len=$((10#${BASH_REMATCH[2]} - 10#${BASH_REMATCH[1]}))
    [ "$len" -le 65536 ] || fail "chunk $name is longer than chunk_size"
    [ "${BASH_REMATCH[3]}" -le "${BASH_REMATCH[4]}" ] || fail "chunk $name: first after last"
    [ "${prev_last:-0}" -le "${BASH_REMATCH[3]}" ] || fail "chunk $name observed before the previous chunk"
    prev_last=${BASH_REMATCH[4]}
done
pass "chunks are at most chunk_size and their observation times are in order"

grep -q "shipped incr chunk gen 1 \[0, 65536) 65536 B -> " "$T/collector.log" ||
    fail "no per-chunk DEBUG line in the log"

# the heartbeat, the metrics file and the index copy
wait_until 10 test -f "$ARCH/main/index.db" || fail "no copy of the index in the archive"
sqlite3 "$ARCH/main/index.db" "select count(*) from chunks" >/dev/null || fail "the index copy is not a database"
size=$(stat -c %s "$INCR")
wait_until 10 grep -qx "aofroll_shipped_bytes{instance=\"main\"} $size" "$T/aofroll.prom" ||
    fail "metrics file: $(cat "$T/aofroll.prom")"
grep -qx "aofroll_current_file_size_bytes{instance=\"main\"} $size" "$T/aofroll.prom" || fail "no size in the metrics"
now=$(date +%s)
beat=$(index_query "$T/index.db" "select last_poll from status")
[ $((now - beat)) -le 2 ] || fail "heartbeat $beat is older than 2 s (now $now)"
assert_eq "$(index_query "$T/index.db" "select pid from status")" "$CPID" "pid in the status row"
pass "heartbeat, metrics file and index copy"
collector_stop
pass "SIGTERM: exit 0"

writer mix "$PORT" 800 3
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
archive_equals "$GEN/incr" "$INCR"
grep -q "resuming generation 1 at incr offset" "$T/last.err" || fail "--once did not resume generation 1"
# the index copy in storage knows what --once shipped (a restore elsewhere reads it)
assert_eq "$(sqlite3 "$ARCH/main/index.db" "select count(*), max([end]) from chunks where kind = 'incr'")" \
    "$(index_query "$T/index.db" "select count(*), max([end]) from chunks where kind = 'incr'")" \
    "incr chunks in the index copy after --once"
pass "--once after a stop: still byte for byte, and the index copy is up to date"

objects=$(ls "$GEN/incr" | wc -l)
rows=$(index_query "$T/index.db" "select count(*) from chunks where kind = 1 or kind = 'incr'")
[ "$objects" = "$rows" ] || fail "$objects incr objects but $rows index rows"
no_temp_files "$ARCH"
gens=$(index_query "$T/index.db" "select count(*) from generations")
assert_eq "$gens" 1 "generations"
pass "index rows match the objects; no temp files"

# a --once with nothing new ships nothing
before=$(ls "$GEN/incr" | wc -l)
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
assert_eq "$(ls "$GEN/incr" | wc -l)" "$before" "objects after an idle --once"
pass "an idle --once ships nothing"

done_testing
