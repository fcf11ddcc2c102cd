#!/usr/bin/env bash
# it_snapshot_prune.sh - retention of snapshots (mode rdb), with a real
# redis-server with AOF off and retention 1m.
#
#  - "cache": snapshots 1 and 2 a second apart, then, once snapshot 2 is
#    older than the retention, snapshot 3. prune --dry-run plans to delete
#    snapshot 1 and changes nothing; prune deletes it (objects and rows)
#    and keeps 2 (the window's oldest second still needs it) and 3; a
#    restore to snapshot 2's second still gives its keyspace;
#  - "solo": two snapshots, both older than the retention: the older is
#    deleted, the newest is kept whatever its age;
#  - a second prune finds nothing.
# Takes a little over a minute: the retention cannot be shorter than 1m.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$BIN/aofroll-collector
start_redis_on PORT "$T/live" --appendonly no
start_redis_on SOLO "$T/solo" --appendonly no
CFG=$T/aofroll.yaml
STORE=$T/store
write_config "$CFG" "$STORE" "$T/index.db" \
    "  - name: cache" "    redis: redis://127.0.0.1:$PORT" "    mode: rdb" "    snapshot_interval: 1h" \
    "    retention: 1m" "    chunk_size: 16KiB" \
    "  - name: solo" "    redis: redis://127.0.0.1:$SOLO" "    mode: rdb" "    snapshot_at: \"03:00\"" \
    "    retention: 1m"
json_get() { # FILE EXPR: a python expression on the JSON document d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
snap() { # INSTANCE
    "$C" -c "$CFG" --snapshot-now --instance "$1" >>"$T/collector.out" 2>>"$T/collector.log" ||
        fail "--snapshot-now --instance $1: $(tail -3 "$T/collector.log")"
}
gens_of() { # the generation numbers of each instance
    "$A" generations -c "$CFG" --json >"$T/g.json" || fail "aofroll generations"
    json_get "$T/g.json" '[(i["instance"], [g["generation"] for g in i["generations"]]) for i in d["instances"]]'
}
tree_sum() {
    find "$@" -type f -print0 | sort -z | xargs -0 md5sum | md5sum | cut -d' ' -f1
}

rcli "$PORT" debug populate 3000 key 100 >/dev/null
rcli "$SOLO" set only 1 >/dev/null
snap cache
snap solo
sleep_to_next_second
rcli "$PORT" set second 2 >/dev/null
DIG2=$(digest "$PORT")
snap cache
rcli "$SOLO" set only 2 >/dev/null
snap solo
"$A" generations -c "$CFG" --instance cache --json >"$T/c.json" || fail "generations"
L2=$(date -u -d "$(json_get "$T/c.json" 'd["instances"][0]["generations"][1]["base_time"]')" +%s)
"$A" ls -c "$CFG" --instance cache --json >"$T/ls.json" || fail "ls"
GEN1_BYTES=$(json_get "$T/ls.json" 'sum(c["stored_bytes"] for c in d["chunks"] if c["generation"] == 1)')
GEN1_OBJS=$(json_get "$T/ls.json" 'sum(1 for c in d["chunks"] if c["generation"] == 1)')
[ "$GEN1_OBJS" -gt 1 ] || fail "snapshot 1 has $GEN1_OBJS objects"

# wait until snapshot 2 is older than the retention, then take snapshot 3
sleep "$(awk -v n="$(date +%s.%N)" -v t="$((L2 + 60))" 'BEGIN { d = t + 0.3 - n; printf "%.3f", (d > 0 ? d : 0) }')"
rcli "$PORT" set third 3 >/dev/null
snap cache
assert_eq "$(gens_of)" "[('cache', [1, 2, 3]), ('solo', [1, 2])]" "generations before prune"

BEFORE=$(tree_sum "$STORE" "$T/index.db")
expect_exit 0 "$A" prune -c "$CFG" --dry-run --json
cp "$T/last.out" "$T/dry.json"
assert_eq "$(json_get "$T/dry.json" '[(x["instance"], x["generation"]) for x in d["deleted"]]')" \
    "[('cache', 1), ('solo', 1)]" "snapshots prune --dry-run would delete"
assert_eq "$(tree_sum "$STORE" "$T/index.db")" "$BEFORE" "archive after --dry-run"
pass "prune --dry-run plans the snapshots outside the retention and changes nothing"

expect_exit 0 "$A" prune -c "$CFG"
expect_out "$T/last.out" "cache: deleting generation 1 ("
expect_out "$T/last.out" "solo: deleting generation 1 ("
assert_eq "$(gens_of)" "[('cache', [2, 3]), ('solo', [2])]" "generations after prune"
assert_eq "$(find "$STORE/cache/gen-000001" -type f 2>/dev/null | wc -l)" 0 "objects left of cache snapshot 1"
[ "$(find "$STORE/cache/gen-000002" -type f | wc -l)" -gt 1 ] || fail "objects of cache snapshot 2 are gone"
expect_exit 0 "$A" verify -c "$CFG"
pass "prune deletes the old snapshots, keeps the one the window needs and the newest whatever its age"

restore_started "$T/r" -c "$CFG" --instance cache --to "@$L2"
assert_eq "$(digest "$RPORT")" "$DIG2" "digest of a restore to the window's oldest snapshot"
expect_out "$T/r.out" "instance cache, generation 2 (snapshot, mode rdb)"
expect_exit 0 "$A" restore -c "$CFG" --instance solo --to "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --out "$T/solo-r"
expect_out "$T/last.out" "(precision: one day, snapshots daily at 03:00)"
pass "the kept snapshots still restore"

expect_exit 0 "$A" prune -c "$CFG"
expect_out "$T/last.out" "freed 0 generations, 0 objects"
pass "a second prune finds nothing"

done_testing
