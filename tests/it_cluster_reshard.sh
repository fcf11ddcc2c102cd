#!/bin/bash
# it_cluster_reshard.sh - a cluster restored while slots move.
#
# The local cluster of tests/lib/cluster.sh under the never-pausing writer;
# `redis-cli --cluster reshard` moves slots from master 1 to master 2 (500
# at a time, for at least 3 s) while the writes go on. A restore --start
# at a second during the move and one after it must hold every key exactly
# once, on the node that owns its slot, and the keys of the cluster at that
# second: the union of what the three masters' own AOFs held then
# (redis-check-aof cuts) and of the keys the restore found in flight at
# the cut (it_cluster_inflight.sh). During the move some keys had already
# gone (MIGRATE) to a shard whose slot the recorded views still give to
# the other: the restore moves them to the owner, with --start in the
# started cluster, without it by its own sweep.
. "$(dirname "$0")/lib/scenario.sh" collector cluster

cluster_create
cluster_boxes
cluster_writer_start 2
start_box A
start_box B
sleep 4
cluster_writer_alive

M1=${SHARD_PORTS[0]}
M2=${SHARD_PORTS[1]}
agreed() { redis-cli --cluster check "127.0.0.1:$M1" 2>&1 | grep -q "All nodes agree"; }
# 500 slots at a time until the move has lasted 3 s (a fast machine moves
# 2000 in under 2), so that whole seconds fall inside it
START=$(date +%s)
MOVED=0
while [ $(($(date +%s) - START)) -lt 3 ] && [ $MOVED -lt 4000 ]; do
    redis-cli --cluster reshard "127.0.0.1:$M1" --cluster-from "${NODE_ID[$M1]}" --cluster-to "${NODE_ID[$M2]}" \
        --cluster-slots 500 --cluster-yes >>"$T/reshard.log" 2>&1 || fail "reshard failed: $(tail -3 "$T/reshard.log")"
    MOVED=$((MOVED + 500))
    wait_until 20 agreed || fail "the nodes did not agree on the slots after moving $MOVED"
done
END=$(date +%s)
[ $((END - START)) -ge 2 ] || fail "moving $MOVED slots took under 2 s: no second falls inside it"
DURING=$(((START + END) / 2))
sleep 7 # the nodes' next views (every 5 s) and index copies (every 1 s)
AFTER=$(($(date +%s) - 1))
sleep 2
cluster_writer_alive
pass "$MOVED slots moved from master 1 to master 2 under writes ($START to $END)"

# ref_keys TIME: the keys the three masters' AOFs held at TIME, one per line, sorted, unique
ref_keys() {
    local t=$1 p d port
    for p in "${SHARD_PORTS[@]}"; do
        d=$(mktemp -d "$T/ref.XXXXXX")
        mkdir "$d/appendonlydir"
        cp "$T/node-$p/appendonlydir/"* "$d/appendonlydir/"
        redis-check-aof --truncate-to-timestamp "$t" "$d/appendonlydir/appendonly.aof.manifest" >/dev/null 2>&1 ||
            fail "redis-check-aof on node $p at $t"
        port=$(free_port)
        start_redis "$d" "$port" >/dev/null
        redis-cli -p "$port" --scan
        stop_redis "$d"
    done | LC_ALL=C sort -u
}

# expected DIR REF: the reference keys and the keys the restore in DIR
# restored as in flight at the cut (a MIGRATE across it: by the masters'
# own AOFs on neither shard), sorted, unique
expected() {
    python3 - "$1/cluster.json" "$2" <<'PY'
import json, sys
keys = set(open(sys.argv[2], "rb").read().splitlines())
flight = json.load(open(sys.argv[1]))["in_flight"]["restored_keys"]
if flight:
    sys.stderr.write("# %d keys in flight at the cut restored: %s\n" % (len(flight), flight[:3]))
keys.update(k.encode() for k in flight)
for k in sorted(keys):
    sys.stdout.buffer.write(k + b"\n")
PY
}

# placed PORT...: each node's keys are in slots it owns; no key on two nodes; the keys, sorted
placed() {
    T=$T python3 - "$@" <<'PY'
import os, subprocess, sys
sys.path.insert(0, os.environ["T"])
from clusterslot import keyslot
seen = {}
for port in sys.argv[1:]:
    own = set()
    for line in subprocess.check_output(["redis-cli", "-p", port, "cluster", "nodes"]).splitlines():
        f = line.split()
        if b"myself" in f[2]:
            for r in f[8:]:
                if r.startswith(b"["):
                    continue
                lo, _, hi = r.partition(b"-")
                own.update(range(int(lo), int(hi or lo) + 1))
    for k in subprocess.check_output(["redis-cli", "-p", port, "--scan"]).splitlines():
        if keyslot(k) not in own:
            sys.exit("key %r (slot %d) on %s, which does not own its slot" % (k, keyslot(k), port))
        if k in seen:
            sys.exit("key %r on both %s and %s" % (k, seen[k], port))
        seen[k] = port
for k in sorted(seen):
    sys.stdout.buffer.write(k + b"\n")
PY
}

for t in "$DURING" "$AFTER"; do
    SP=$(cluster_free_ports 3)
    expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$t" --out "$T/r-$t" \
        --start --port "$SP"
    for k in 0 1 2; do PIDS_TO_KILL+=("$(cat "$T/r-$t/shard-$((k + 1))/redis.pid")"); done
    cp "$T/last.out" "$T/restore-$t.out"
    slots_once "$T/r-$t"
    placed "$SP" "$((SP + 1))" "$((SP + 2))" >"$T/placed-$t" || fail "restore at $t: keys misplaced"
    ref_keys "$t" >"$T/ref-$t"
    [ -s "$T/ref-$t" ] || fail "no reference keys at $t"
    expected "$T/r-$t" "$T/ref-$t" >"$T/want-$t"
    cmp -s "$T/placed-$t" "$T/want-$t" ||
        fail "restore at $t: the cluster's keys differ from the masters' at that second: $(diff "$T/want-$t" "$T/placed-$t" | head -5)"
    for k in 0 1 2; do stop_redis "$T/r-$t/shard-$((k + 1))"; done
done
# Without --start: the restore finds the slots moving at that second and
# sweeps the shard directories itself. Each directory, loaded as a plain
# server, holds only keys of its shard's slots (cluster.json), and all of
# them together the masters' keys of that second.
expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$DURING" --out "$T/n-$DURING"
cp "$T/last.out" "$T/nostart.out"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stray_check"])' "$T/n-$DURING/cluster.json")" \
    "swept" "cluster.json stray_check during the move"
for k in 1 2 3; do
    for f in nodes.conf redis.pid redis.log; do
        [ ! -e "$T/n-$DURING/shard-$k/$f" ] || fail "the sweep left $f in shard-$k"
    done
    start_redis_on sport "$T/n-$DURING/shard-$k"
    redis-cli -p "$sport" --scan >"$T/n-keys-$k"
    stop_redis "$T/n-$DURING/shard-$k"
done
T=$T python3 - "$T/n-$DURING/cluster.json" "$T/n-keys-1" "$T/n-keys-2" "$T/n-keys-3" >"$T/nplaced-$DURING" <<'PY' ||
import json, os, sys
sys.path.insert(0, os.environ["T"])
from clusterslot import keyslot
shards = json.load(open(sys.argv[1]))["shards"]
seen = {}
for shard, path in zip(shards, sys.argv[2:]):
    own = set()
    for r in shard["slots"].split():
        lo, _, hi = r.partition("-")
        own.update(range(int(lo), int(hi or lo) + 1))
    for k in open(path, "rb").read().splitlines():
        if keyslot(k) not in own:
            sys.exit("%s holds key %r of slot %d, not its own" % (shard["dir"], k, keyslot(k)))
        if k in seen:
            sys.exit("key %r in both %s and %s" % (k, seen[k], shard["dir"]))
        seen[k] = shard["dir"]
sys.stderr.write("# %d keys moved to their owners by the sweep\n" % sum(s["strays"]["moved"] for s in shards))
for k in sorted(seen):
    sys.stdout.buffer.write(k + b"\n")
PY
    fail "restore without --start at $DURING: keys misplaced"
expected "$T/n-$DURING" "$T/ref-$DURING" >"$T/nwant-$DURING"
cmp -s "$T/nplaced-$DURING" "$T/nwant-$DURING" ||
    fail "restore without --start at $DURING: keys differ from the masters' at that second: $(diff "$T/nwant-$DURING" "$T/nplaced-$DURING" | head -5)"
if grep -q "held keys of slots it did not own at TIME" "$T/restore-$DURING.out"; then
    grep -q "held keys of slots it did not own at TIME" "$T/nostart.out" ||
        fail "--start moved keys at $DURING, the sweep without it did not"
fi
pass "restore without --start during the move: swept, every key once, in its shard's slots"

grep -q "held keys of slots it did not own at TIME" "$T/restore-$DURING.out" ||
    echo "# note: no key had moved ahead of the views at $DURING"
grep -q "held keys of slots it did not own" "$T/restore-$AFTER.out" &&
    fail "after the move no key should be out of place: $(grep 'held keys' "$T/restore-$AFTER.out")"
live=$(redis-cli -p "$M2" cluster nodes | awk '$3 ~ /myself/ {for (i = 9; i <= NF; i++) printf "%s%s", (i > 9 ? " " : ""), $i}')
restored=$(python3 -c 'import json,sys
print(" ".join(s["slots"] for s in json.load(open(sys.argv[1]))["shards"] if s["master_instance"] == sys.argv[2]))' \
    "$T/r-$AFTER/cluster.json" "node-$M2")
assert_eq "$restored" "$live" "master 2's slots after the move"
pass "restores during and after the move: every key once, on its slot's owner, the masters' keys of that second"

cluster_writer_stop
stop_box A
stop_box B
done_testing
