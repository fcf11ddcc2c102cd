#!/bin/bash
# it_cluster_inflight.sh - a key MIGRATE'd across the second of a cut.
#
# MIGRATE is synchronous: the source sends the key (RESTORE-ASKING on the
# target), waits, then deletes it (DEL), stamping the DEL with the second
# the MIGRATE began in. With the target busy for 1.5 s (DEBUG SLEEP) when
# the MIGRATE starts, the source's DEL is in second T and the target's
# RESTORE-ASKING in T+1: cut at T by their own "#TS:" lines
# (redis-check-aof --truncate-to-timestamp), neither master holds the key,
# though it never stopped existing. The cluster restore at T, without and
# with --start, must hold it exactly once, with its value, on the shard
# that owned its slot at T (the source: the slot changed hands after).
. "$(dirname "$0")/lib/scenario.sh" collector cluster

cluster_create
cluster_boxes
start_box A
start_box B
sleep 3

K='{inflight}key'
SLOT=$(redis-cli -p "${PORTS[0]}" cluster keyslot "$K")
SRC=$(redis-cli -p "${PORTS[0]}" cluster nodes | awk -v s="$SLOT" '$3 ~ /master/ {
    for (i = 9; i <= NF; i++) { n = split($i, r, "-"); lo = r[1]; hi = n > 1 ? r[2] : r[1]
        if (s >= lo + 0 && s <= hi + 0) { split($2, a, "[:@]"); print a[2] } } }')
[ -n "$SRC" ] || fail "no master owns slot $SLOT"
for p in "${SHARD_PORTS[@]}"; do [ "$p" != "$SRC" ] && DST=$p && break; done
assert_eq "$(redis-cli -p "$SRC" set "$K" hello)" OK "SET on the source"
sleep 2
assert_eq "$(redis-cli -p "$DST" cluster setslot "$SLOT" importing "${NODE_ID[$SRC]}")" OK "IMPORTING"
assert_eq "$(redis-cli -p "$SRC" cluster setslot "$SLOT" migrating "${NODE_ID[$DST]}")" OK "MIGRATING"
python3 -c 'import time; time.sleep(1.05 - time.time() % 1)' # just after a second begins
redis-cli -p "$DST" debug sleep 1.5 >/dev/null &
SLEEPER=$!
sleep 0.1
CUT=$(date +%s)
assert_eq "$(redis-cli -p "$SRC" migrate 127.0.0.1 "$DST" "$K" 0 5000)" OK "MIGRATE"
wait "$SLEEPER"
for p in "$DST" "$SRC"; do
    assert_eq "$(redis-cli -p "$p" cluster setslot "$SLOT" node "${NODE_ID[$DST]}")" OK "SETSLOT NODE on $p"
done
sleep 8 # archived, the views and index copies caught up

# the premise, from the masters' own AOFs: DEL in second T, RESTORE-ASKING later
stamp() { # stamp DIR CMD: the #TS second of CMD's command on the key in DIR's incr files
    python3 - "$1" "$2" "$K" <<'PY'
import glob, re, sys
data = b"".join(open(f, "rb").read() for f in sorted(glob.glob(sys.argv[1] + "/*.incr.aof")))
ts, cmd, key = None, sys.argv[2].encode(), sys.argv[3].encode()
for m in re.finditer(rb"#TS:(\d+)\r\n|\*\d+\r\n\$\d+\r\n([^\r]*)\r\n\$\d+\r\n([^\r]*)\r\n", data):
    if m.group(1):
        ts = m.group(1).decode()
    elif m.group(2).upper() == cmd and m.group(3) == key:
        print(ts)
PY
}
assert_eq "$(stamp "$T/node-$SRC/appendonlydir" DEL)" "$CUT" "the source's DEL second"
dst_ts=$(stamp "$T/node-$DST/appendonlydir" RESTORE-ASKING)
[ -n "$dst_ts" ] && [ "$dst_ts" -gt "$CUT" ] || fail "the target's RESTORE-ASKING is not after $CUT: '$dst_ts'"
for p in "$SRC" "$DST"; do
    d=$T/ref-$p
    mkdir -p "$d/appendonlydir"
    cp "$T/node-$p/appendonlydir/"* "$d/appendonlydir/"
    if ! redis-check-aof --truncate-to-timestamp "$CUT" "$d/appendonlydir/appendonly.aof.manifest" >"$d.log" 2>&1; then
        # its incr file starts after CUT: the base alone
        grep -q "has nothing before timestamp" "$d.log" || fail "redis-check-aof on node $p at $CUT: $(tail -1 "$d.log")"
        : >"$(ls "$d"/appendonlydir/*.incr.aof)"
    fi
    start_redis_on rport "$d"
    assert_eq "$(redis-cli -p "$rport" exists "$K")" 0 "the key in node $p's AOF cut at $CUT"
    stop_redis "$d"
done
pass "MIGRATE across the second $CUT: DEL at $CUT on the source, RESTORE-ASKING at $dst_ts on the target; by their AOFs at $CUT neither holds it"

expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$CUT" --out "$T/r"
grep -q "in flight at the cut (MIGRATE across it): 1 key held by no shard restored" "$T/last.out" ||
    fail "no in-flight line: $(cat "$T/last.out")"
inflight=$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["in_flight"]; print(f["found"], f["restored"])' \
    "$T/r/cluster.json")
assert_eq "$inflight" "1 1" "cluster.json in_flight found, restored"
found=0
for k in 0 1 2; do
    start_redis_on sport "$T/r/shard-$((k + 1))"
    if [ "$(redis-cli -p "$sport" exists "$K")" = 1 ]; then
        found=$((found + 1))
        assert_eq "$(redis-cli -p "$sport" get "$K")" hello "the key's value"
        assert_eq "$(shard_json "$T/r" "$k" master_instance)" "node-$SRC" "the shard holding the key"
    fi
    stop_redis "$T/r/shard-$((k + 1))"
done
assert_eq "$found" 1 "shards holding the key in flight"
pass "restore at $CUT without --start: the key in flight once, with its value, on the shard of its slot's owner"

SP=$(cluster_free_ports 3)
expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$CUT" --out "$T/s" --start --port "$SP"
for k in 0 1 2; do PIDS_TO_KILL+=("$(cat "$T/s/shard-$((k + 1))/redis.pid")"); done
assert_eq "$(redis-cli -c -p "$SP" get "$K")" hello "GET of the key in flight through the started cluster"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["in_flight"]["restored"])' "$T/s/cluster.json")" \
    1 "cluster.json in_flight restored, with --start"
for k in 0 1 2; do stop_redis "$T/s/shard-$((k + 1))"; done
pass "restore at $CUT with --start: GET answers the key in flight"

# one second later the key is where the target's AOF has it, once, and nothing is "in flight"
expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$((CUT + 2))" --out "$T/a"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["in_flight"]["restored"])' "$T/a/cluster.json")" \
    0 "cluster.json in_flight restored after the move"
pass "restore at $((CUT + 2)): nothing restored as in flight"

stop_box A
stop_box B
done_testing
