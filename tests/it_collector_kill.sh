#!/bin/bash
# it_collector_kill.sh - SIGKILL at any moment loses and duplicates nothing.
#
# A writer keeps Redis busy while the collector is killed with SIGKILL at
# random moments and restarted, 20 times, with small chunks so that kills
# land between the store and the index row too. A final --once must leave
# an archive equal to the incr file byte for byte, its chunks joined
# without gap or duplicate, one index row per object, and no temp file.
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis
write_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: k" "    redis: redis://127.0.0.1:$PORT"
sed -i 's/^  chunk_pause: 0ms$/  chunk_pause: 0ms\n  chunk_size: 4KiB\n  poll_interval: 20ms/; /^  poll_interval: 100ms$/d' "$T/c.yaml"
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)
GEN=$ARCH/k/gen-000001

python3 "$WRITER_PY" loop "$PORT" 7 &
WPID=$!
PIDS_TO_KILL+=("$WPID")

RANDOM=4242
kills=0
for round in $(seq 1 20); do
    "$COLLECTOR" -c "$T/c.yaml" >>"$T/collector.log" 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 6 + 1))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
done
[ "$kills" -ge 15 ] || fail "only $kills collectors were killed while running"
pass "$kills collectors killed with SIGKILL at random moments while a writer ran"

# the worst moment, on purpose: right after a store, before its index row
for round in $(seq 1 5); do
    AOFROLL_TEST_KILL_AFTER_PUTS=$((RANDOM % 20 + 1)) "$COLLECTOR" -c "$T/c.yaml" >>"$T/collector.log" 2>&1
    rc=$?
    [ "$rc" = 137 ] || fail "the collector with the kill hook exited $rc, not by SIGKILL"
done
adopted=$(grep -c "adopted unindexed incr chunk" "$T/collector.log")
[ "$adopted" -ge 4 ] || fail "only $adopted orphan chunks were adopted after 5 kills between store and index"
pass "killed 5 times between a store and its index row: $adopted orphan chunks checked and adopted"

kill "$WPID"
wait "$WPID" 2>/dev/null

# objects that the index lacks and that do not match are removed
end=$(archived_size "$GEN/incr")
now=$(date +%s)
bogus=$(printf '%020d-%020d_%d-%d.aof.gz' "$end" $((end + 5)) "$now" "$now")
printf 'XXXXX' | gzip >"$GEN/incr/$bogus"
stray=$(printf '%020d-%020d_%d-%d.aof.gz' $((end + 100)) $((end + 200)) "$now" "$now")
printf 'Y%.0s' $(seq 1 100) | gzip >"$GEN/incr/$stray"
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
archive_equals "$GEN/incr" "$INCR"
pass "after the kills and a --once: byte for byte ($(stat -c %s "$INCR") B)"
grep -q "removed unindexed object \".*$bogus\": its bytes differ from the file's" "$T/last.err" ||
    fail "the mismatching object was not removed with its reason: $(grep removed "$T/last.err")"
grep -q "removed unindexed object \".*$stray\": it does not join the indexed chunks" "$T/last.err" ||
    fail "the stray object was not removed with its reason"
pass "unindexed objects that do not match the file are removed"

objects=$(ls "$GEN/incr" | wc -l)
rows=$(index_query "$T/index.db" "select count(*) from chunks where kind = 'incr'")
distinct=$(index_query "$T/index.db" "select count(distinct start) from chunks where kind = 'incr'")
assert_eq "$rows" "$objects" "index rows for the incr objects"
assert_eq "$distinct" "$rows" "distinct chunk starts"
no_temp_files "$ARCH"
assert_eq "$(index_query "$T/index.db" "select count(*) from generations")" 1 "generations"
grep -q "continuity lost" "$T/collector.log" && fail "a restart lost continuity"
pass "no duplicate, no gap, no temp file, one generation"

# what the scanner recorded for each chunk, across 25 restarts (each set it
# up again from the last recorded boundary), equals a scan of the whole
# stream from its first byte: aofroll reindex into an index of its own
sed "s#^index: .*#index: $T/rescan.db#" "$T/c.yaml" >"$T/rescan.yaml"
"$BIN/aofroll" reindex -c "$T/rescan.yaml" >"$T/rescan.out" 2>&1 || fail "reindex: $(tail -2 "$T/rescan.out")"
marked=$(index_query "$T/index.db" "select count(*) from chunks where kind = 'incr' and boundary_db is not null")
differ=$(index_query "$T/index.db" "attach '$T/rescan.db' as r; select count(*) from chunks a join r.chunks b
    on a.key = b.key where a.kind = 'incr' and a.boundary_db is not null and (a.ts_first is not b.ts_first or
    a.ts_last is not b.ts_last or a.boundary is not b.boundary or a.boundary_db is not b.boundary_db or
    a.boundary_ts is not b.boundary_ts)")
assert_eq "$differ" 0 "chunks whose marks differ from a scan from the first byte"
# adopted orphans carry none (their bytes were stored before a crash)
[ "$marked" -ge $((rows - adopted - 2)) ] || fail "only $marked of $rows incr chunks carry marks"
pass "the marks of $marked chunks, recorded across the restarts, equal a scan of the whole stream"

done_testing
