#!/usr/bin/env bash
# it_reindex.sh - the index off the box. "Machine A" archives two
# instances with the real collector (config A: storage S, index A): "live"
# writes #TS annotations and goes through a barrier (two generations),
# "plain" writes none. "Machine B" has a config with the same storage URL
# and a fresh index path in a directory of its own, and no index at all:
# aofroll reindex rebuilds it from the object names, after which
#  - restores on B equal the live digests recorded on A, at exact seconds
#    (#TS) in both generations, and at chunk precision without #TS;
#  - ls, generations and verify work on B;
#  - B's chunks (key, range, CRC32, stored bytes, times, and what the
#    scanner saw: "#TS:" seconds, first command boundary and its db) and
#    generations (base format, size, completeness, CRC32, time) equal A's;
#  - reindexing again replaces the rows (no duplicates); a bad --instance
#    is a usage error, an instance with nothing in storage is left alone.
# Registered twice: on file:// storage, and on Azurite
# (AOFROLL_TEST_STORAGE=azure, see lib/storage.sh).
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$BIN/aofroll-collector
PORT=$(free_port)
PLAIN=$(free_port)
start_redis "$T/live" "$PORT"
start_redis "$T/plain" "$PLAIN" --aof-timestamp-enabled no
STORE=$T/store
mkdir -p "$T/a" "$T/b"
CFG_A=$T/a/aofroll.yaml
CFG_B=$T/b/aofroll.yaml
INSTANCES=("  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 4KiB"
    "  - name: plain" "    redis: redis://127.0.0.1:$PLAIN" "    chunk_size: 4KiB")
write_config "$CFG_A" "$STORE" "$T/a/index.db" "${INSTANCES[@]}"
write_config "$CFG_B" "$STORE" "$T/b/index.db" "${INSTANCES[@]}"
collect() {
    "$C" -c "$CFG_A" "$@" >>"$T/collector.log" 2>&1 || fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}

# --- machine A: generation 1 of live, a barrier, generation 2
start_collector "$CFG_A"
sleep 1
run_seconds "$PORT" 1 3
stop_collector "$CFG_A"
collect --barrier-now --instance live
start_collector "$CFG_A"
run_seconds "$PORT" 4 6
# plain: one batch every third second, so that the two seconds after each
# batch are idle and a chunk-precise cut at the second of them is exact even
# when a poll comes a second late on a busy machine
declare -A PSEC PDIG
run_batches "$PLAIN" 1 3 PSEC PDIG 2
# everything observed is shipped before the collector stops (a slow
# storage may still hold the last batch's chunk back)
plain_shipped() {
    [ "$(sqlite3 "$T/a/index.db" "select s.shipped = s.current_size and s.shipped > 0 from status s
        join instances i on i.id = s.instance_id where i.name = 'plain'")" = 1 ]
}
wait_until 30 plain_shipped || fail "plain's last batch not shipped in 30 s"
stop_collector "$CFG_A"
assert_eq "$(sqlite3 "$T/a/index.db" "select count(*) from generations g join instances i on i.id = g.instance_id
    where i.name = 'live'")" 2 "live generations on A"

# --- machine B: nothing but the config
[ ! -e "$T/b/index.db" ] || fail "B already has an index"
expect_exit 0 "$A" reindex -c "$CFG_B"
N_LIVE=$(sqlite3 "$T/a/index.db" "select count(*) from chunks c join instances i on i.id = c.instance_id
    where i.name = 'live'")
expect_out "$T/last.out" "live: 2 generations, $N_LIVE chunks, "
expect_out "$T/last.out" "live generation 2: base "
expect_out "$T/last.out" "plain: 1 generation, "
expect_out "$T/last.out" ", 0 problems (0 corrupt)"
grep -q "warning\|corrupt:" "$T/last.out" && fail "problems reported for a sound archive: $(cat "$T/last.out")"
cp "$T/last.out" "$T/reindex.out"
pass "reindex on B rebuilds both instances from the storage alone"

for i in 2 5; do
    restore_started "$T/r$i" -c "$CFG_B" --instance live --to "@${SEC[$i]}"
    assert_eq "$(digest "$RPORT")" "${DIG[$i]}" "digest of a restore on B to second $i"
done
pass "restores on B to a second of each generation equal the live digests recorded on A"

for i in 1 3; do
    # the idle seconds after the last batch are after the end of B's
    # archive (no poll of B's collector proves them): latest, which holds
    # the batch whole
    to="@$((PSEC[$i] + 2))"
    [ "$i" = 3 ] && to=latest
    restore_started "$T/p$i" -c "$CFG_B" --instance plain --to "$to"
    assert_eq "$(digest "$RPORT")" "${PDIG[$i]}" "digest of a restore of plain on B to second $i + 2"
done
pass "without #TS, restores on B cut at the rebuilt size log (chunk precision)"

expect_exit 0 "$A" generations -c "$CFG_B" --instance live --json
cp "$T/last.out" "$T/g.json"
assert_eq "$(json_get "$T/g.json" '[g["generation"] for g in d["instances"][0]["generations"]]')" "[1, 2]" \
    "generations on B"
expect_exit 0 "$A" ls -c "$CFG_B" --json
cp "$T/last.out" "$T/ls.json"
N_ALL=$(sqlite3 "$T/a/index.db" "select count(*) from chunks")
assert_eq "$(json_get "$T/ls.json" 'len(d["chunks"])')" "$N_ALL" "chunks listed on B"
expect_exit 0 "$A" verify -c "$CFG_B"
expect_out "$T/last.out" " 0 faults"
pass "generations, ls and verify work on B"

chunks_of() {
    sqlite3 "$1" "select i.name, c.generation, c.kind, c.start, c.end, c.crc32, c.stored_bytes, c.first, c.last,
        c.key, c.ts_first, c.ts_last, c.boundary, c.boundary_db
        from chunks c join instances i on i.id = c.instance_id order by c.key"
}
gens_of() {
    sqlite3 "$1" "select i.name, g.generation, g.mode, g.base_format, g.base_size, g.base_complete, g.base_crc32,
        g.base_time from generations g join instances i on i.id = g.instance_id order by i.name, g.generation"
}
chunks_of "$T/a/index.db" >"$T/a.chunks"
chunks_of "$T/b/index.db" >"$T/b.chunks"
diff "$T/a.chunks" "$T/b.chunks" >"$T/chunks.diff" || fail "chunks differ between A and B: $(head -5 "$T/chunks.diff")"
gens_of "$T/a/index.db" >"$T/a.gens"
gens_of "$T/b/index.db" >"$T/b.gens"
diff "$T/a.gens" "$T/b.gens" >"$T/gens.diff" || fail "generations differ between A and B: $(cat "$T/gens.diff")"
[ "$(sqlite3 "$T/b/index.db" "select count(*) from generations where base_complete = 1 and base_crc32 != 0")" = 3 ] ||
    fail "B lacks whole-base CRCs: $(cat "$T/b.gens")"
assert_eq "$(sqlite3 "$T/b/index.db" "select group_concat(ended > 0 and end_reason = 'reindexed', ',') from
    (select * from generations g join instances i on i.id = g.instance_id where i.name = 'live' order by generation)")" \
    "1,0" "how the generations on B ended"
SIZELOG=$(sqlite3 "$T/b/index.db" "select count(*) from size_log s join instances i on i.id = s.instance_id
    where i.name = 'live'")
N_INCR=$(sqlite3 "$T/b/index.db" "select count(*) from chunks c join instances i on i.id = c.instance_id
    where i.name = 'live' and kind = 'incr'")
assert_eq "$SIZELOG" "$N_INCR" "size log rows on B (one per incr chunk)"
pass "B's chunks and generations equal A's (keys, ranges, CRC32s, bases); one size log row per incr chunk"

# --- again: the rows are replaced, not added to
expect_exit 0 "$A" reindex -c "$CFG_B" --instance live
expect_out "$T/last.out" "live: 2 generations, $N_LIVE chunks, "
grep -q "^plain" "$T/last.out" && fail "--instance live touched plain: $(cat "$T/last.out")"
chunks_of "$T/b/index.db" >"$T/b2.chunks"
diff "$T/a.chunks" "$T/b2.chunks" >/dev/null || fail "a second reindex changed the chunks"
assert_eq "$(sqlite3 "$T/b/index.db" "select count(*) from events where kind = 'reindex'")" 3 "reindex events"
pass "a second reindex replaces the instance's rows; each run leaves a reindex event"

# --- the index on A itself, rebuilt in place, is the same too
expect_exit 0 "$A" reindex -c "$CFG_A"
chunks_of "$T/a/index.db" >"$T/a2.chunks"
diff "$T/a.chunks" "$T/a2.chunks" >/dev/null || fail "reindex in place changed A's chunks"
pass "reindex over an existing index gives back the same chunks"

expect_exit 2 "$A" reindex -c "$CFG_B" --instance nosuch
expect_err "aofroll reindex: unknown instance \"nosuch\" (configured: live, plain)"
AOFROLL_CONFIG=$T/none.yaml expect_exit 1 "$A" reindex --instance live
expect_err "aofroll reindex: $T/none.yaml: cannot read: No such file or directory (named by AOFROLL_CONFIG)"
write_config "$T/c.yaml" "$T/empty-store" "$T/b/index.db" "${INSTANCES[@]}"
expect_exit 0 "$A" reindex -c "$T/c.yaml" --instance live
expect_out "$T/last.out" "live: no chunks to index under \"live/\"; its index rows are left as they were"
chunks_of "$T/b/index.db" >"$T/b3.chunks"
diff "$T/a.chunks" "$T/b3.chunks" >/dev/null || fail "a storage with nothing in it changed the index"
pass "usage errors exit 2, a configuration that cannot be read 1; an empty storage leaves the index as it was"

done_testing
