#!/bin/bash
# it_cluster.sh - a Redis Cluster back to one second, shard by shard.
#
# A local cluster of 3 masters and 3 replicas (tests/lib/cluster.sh), two
# collectors ("boxes") with an index each and one shared storage, and a
# writer that never pauses: writes over all slots through hash tags and a
# key per shard bumped every second. Then, from a third machine's view (an
# index that knows no node: only the index copies in storage):
#  - restores at several seconds equal, shard by shard, what each master's
#    own AOF held at that second (redis-check-aof --truncate-to-timestamp),
#    every slot covered once, cluster.json naming source, cut and clock;
#  - --start serves GET through MOVED redirects with the values of TIME;
#  - a manual failover mid-run: restores before and after it equal the
#    live state of the master of the time;
#  - generations and verify --cluster shard by shard;
#  - one box's collector stopped: a restore at a second it did not archive
#    is refused, naming the shard and its restorable windows, and status
#    --cluster fails;
#  - a barrier records each node's view;
#  - --check asks each node for its view.
. "$(dirname "$0")/lib/scenario.sh" collector cluster

cluster_create
cluster_boxes
# --check asks each node what the collector records of it; a node without
# `cluster:` is a warning, a plain server with `cluster:` a problem
expect_exit 0 "$COLLECTOR" --check -c "$T/box-a.yaml"
for p in "${BOX_A[@]}"; do
    grep -q "cluster \"$CLUSTER_NAME\": ok, node ${NODE_ID[$p]}, " "$T/last.out" ||
        fail "--check does not check node-$p's cluster view: $(grep -i cluster "$T/last.out" | head -3)"
done
grep -q "cluster \"$CLUSTER_NAME\": ok, node ${NODE_ID[${SHARD_PORTS[0]}]}, master of slots 0-5460" "$T/last.out" ||
    fail "--check: master 1's slots: $(grep 'cluster "' "$T/last.out" | head -3)"
sed '/^    cluster: /d' "$T/box-a.yaml" >"$T/nocluster.yaml"
expect_exit 0 "$COLLECTOR" --check -c "$T/nocluster.yaml"
grep -q "the server is a Redis Cluster node but the instance has no \`cluster: NAME\`" "$T/last.out" ||
    fail "--check does not warn of a cluster node without cluster: $(grep -i cluster "$T/last.out" | head -3)"
PLAIN=$(free_port)
start_redis "$T/plain" "$PLAIN"
collector_config "$T/plain.yaml" "$ARCH" "$T/index-p.db" "  - name: plain" "    redis: redis://127.0.0.1:$PLAIN" \
    "    cluster: $CLUSTER_NAME"
expect_exit 1 "$COLLECTOR" --check -c "$T/plain.yaml"
grep -q "cluster \"$CLUSTER_NAME\": .*cluster support disabled" "$T/last.out" "$T/last.err" ||
    fail "--check of a plain server with cluster: $(grep -i cluster "$T/last.out" "$T/last.err" | head -3)"
stop_redis "$T/plain"
pass "--check: each node's view asked; a cluster node without cluster: warned of; a plain server refused"

cluster_writer_start 1
start_box A
start_box B
sleep 4
cluster_writer_alive

# the member objects and the views are there (and in the index copies: restores start from them)
for p in "${PORTS[@]}"; do
    wait_until 30 test -f "$ARCH/.clusters/$CLUSTER_NAME/node-$p" || fail "no member object for node-$p"
    wait_until 30 test "$(sqlite3 "$ARCH/node-$p/index.db" "select count(*) from cluster_views v join instances i
        on i.id = v.instance_id where i.name = 'node-$p'" 2>/dev/null)" -ge 1 ||
        fail "no view of node-$p in its index copy"
done
views=$(sqlite3 "$T/index-a.db" "select count(*) from cluster_views where cluster = '$CLUSTER_NAME'")
[ "$views" -ge 3 ] || fail "box A recorded $views views, expected one per node at least"
role=$(sqlite3 "$T/index-a.db" "select v.role || ' ' || v.slots from cluster_views v join instances i on
    i.id = v.instance_id where i.name = 'node-${SHARD_PORTS[0]}' order by v.id desc limit 1")
[[ $role == master\ 0-* ]] || fail "the view of node-${SHARD_PORTS[0]}: '$role'"
pass "each node's view recorded; a member object per node in storage"

# restore_check DIR TIME LABEL MASTERS...: DIR restored to TIME equals each master's AOF at TIME
restore_check() {
    local dir=$1 t=$2 label=$3 k want got
    shift 3
    local masters=("$@")
    slots_once "$dir"
    for k in 0 1 2; do
        want=$(ref_digest "${masters[$k]}" "$t")
        got=$(dir_digest "$dir/shard-$((k + 1))")
        [ "$got" = "$want" ] ||
            fail "$label: shard-$((k + 1)) (source $(shard_json "$dir" $k source_instance)) digest $got, master ${masters[$k]} held $want at $t"
    done
}

# restore_at TIME DIR [extra...]: the cluster restore from the restoring machine's config
restore_at() {
    local t=$1 dir=$2
    shift 2
    expect_exit 0 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$t" --out "$dir" "$@"
}

# two seconds under writes, each restored once the collectors are past it
T1=$(($(date +%s) - 1))
sleep 2
T2=$(($(date +%s) - 1))
sleep 3
cluster_writer_alive
for t in "$T1" "$T2"; do
    restore_at "$t" "$T/r-$t"
    restore_check "$T/r-$t" "$t" "restore at $t" "${SHARD_PORTS[@]}"
    for k in 0 1 2; do
        assert_eq "$(shard_json "$T/r-$t" $k source_instance)" "node-${SHARD_PORTS[$k]}" "source of shard-$((k + 1))"
    done
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["shards"][0]
assert d["requested_unix"] == int(sys.argv[2]), d
assert s["cut"]["kind"] == "ts" and s["cut"]["time_unix"] == int(sys.argv[2]), s
assert s["clock"]["samples"] > 0 and -2 <= s["clock"]["ts_minus_observed_min_s"] <= 0, s' "$T/r-$t/cluster.json" "$t" ||
        fail "cluster.json at $t: $(cat "$T/r-$t/cluster.json")"
done
[ "$(dir_digest "$T/r-$T1/shard-1")" != "$(dir_digest "$T/r-$T2/shard-1")" ] ||
    fail "the writer did not change shard-1 between $T1 and $T2: the test proves nothing"
grep -q "START.txt" "$T/last.out" || fail "the restore does not say where the start instructions are"
grep -q "redis-server --port" "$T/r-$T2/START.txt" || fail "START.txt does not say how to start the cluster"
# three seconds ago: the views that would show slots moving then may not all be recorded; said so
RECENT=$(($(date +%s) - 3))
restore_at "$RECENT" "$T/recent"
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stray_check"])' "$T/recent/cluster.json")" \
    "not known: the views after TIME are not all recorded yet" "cluster.json stray_check of a recent second"
grep -q "has not been polled 15 s past TIME in the index read" "$T/last.out" ||
    fail "no note that the views after a recent TIME are not all in: $(cat "$T/last.out")"
pass "restores at two seconds equal each master's AOF at that second; every slot once; cluster.json"

# a non-empty DIR is refused; nothing is written
expect_exit 1 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$T2" --out "$T/r-$T2"
grep -q "is not empty" "$T/last.err" || fail "non-empty DIR: $(cat "$T/last.err")"
expect_exit 2 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$T2" --out "$T/x" --port 7000
expect_exit 1 "$A" restore -c "$T/restore.yaml" --cluster nosuch --to "@$T2" --out "$T/x"
grep -q 'no node of cluster "nosuch" is archived' "$T/last.err" || fail "unknown cluster: $(cat "$T/last.err")"
[ ! -e "$T/x" ] || fail "a refused restore left $T/x behind"
pass "refusals: non-empty DIR, --port without --start, unknown cluster"

# --start: a running cluster with the slot map of T2; GET through MOVED
SP=$(cluster_free_ports 3)
restore_at "$T2" "$T/s" --start --port "$SP"
for k in 0 1 2; do
    PIDS_TO_KILL+=("$(cat "$T/s/shard-$((k + 1))/redis.pid")")
done
grep -q "cluster_state:ok on ports $SP-$((SP + 2))" "$T/last.out" || fail "--start: $(cat "$T/last.out")"
for k in 0 1 2; do
    ref=$(mktemp -d "$T/ref.XXXXXX")
    mkdir "$ref/appendonlydir"
    cp "$T/node-${SHARD_PORTS[$k]}/appendonlydir/"* "$ref/appendonlydir/"
    redis-check-aof --truncate-to-timestamp "$T2" "$ref/appendonlydir/appendonly.aof.manifest" >/dev/null 2>&1
    rp=$(free_port)
    start_redis "$ref" "$rp"
    for key in $(redis-cli -p "$rp" --scan --pattern 'bump:*') $(redis-cli -p "$rp" --scan --count 50 | head -20); do
        [ "$(redis-cli -p "$rp" type "$key")" = string ] || continue
        want=$(redis-cli -p "$rp" get "$key")
        # asked of the first node: keys of the other shards come back through MOVED
        got=$(redis-cli -c -p "$SP" get "$key")
        [ "$got" = "$want" ] || fail "--start: GET $key through $SP gave '$got', the master held '$want' at $T2"
    done
    stop_redis "$ref"
done
moved=$(redis-cli -p "$SP" get "$(redis-cli -p "$((SP + 2))" --scan --pattern 'bump:*' | head -1)" 2>&1)
[[ $moved == MOVED* ]] || fail "a key of shard-3 asked of shard-1 should be MOVED, got '$moved'"
for k in 0 1 2; do stop_redis "$T/s/shard-$((k + 1))"; done
pass "--start: cluster_state:ok, the slot map of TIME, GET through MOVED gives the values of TIME"

# a manual failover of shard 1 mid-run
OLD=${SHARD_PORTS[0]}
NEW=$(replica_of "$OLD")
BEFORE=$(($(date +%s) - 1))
redis-cli -p "$NEW" cluster failover >/dev/null || fail "CLUSTER FAILOVER on $NEW"
wait_until 30 bash -c "redis-cli -p $NEW role | head -1 | grep -qx master" || fail "$NEW was not promoted"
sleep 7 # the nodes' next views (every 5 s) and index copies (every 1 s)
AFTER=$(($(date +%s) - 1))
sleep 3
cluster_writer_alive
restore_at "$BEFORE" "$T/f-before"
restore_check "$T/f-before" "$BEFORE" "before the failover" "$OLD" "${SHARD_PORTS[1]}" "${SHARD_PORTS[2]}"
assert_eq "$(shard_json "$T/f-before" 0 master_instance)" "node-$OLD" "master of shard-1 before the failover"
restore_at "$AFTER" "$T/f-after"
restore_check "$T/f-after" "$AFTER" "after the failover" "$NEW" "${SHARD_PORTS[1]}" "${SHARD_PORTS[2]}"
assert_eq "$(shard_json "$T/f-after" 0 master_instance)" "node-$NEW" "master of shard-1 after the failover"
assert_eq "$(shard_json "$T/f-after" 0 source_instance)" "node-$NEW" "source of shard-1 after the failover"
pass "failover: before it the old master's archive, after it the new master's; both equal the live state"

# generations and verify shard by shard, from the restoring machine
for cmd in generations verify; do
    expect_exit 0 "$A" "$cmd" -c "$T/restore.yaml" --cluster "$CLUSTER_NAME"
    assert_eq "$(grep -c '^== shard ' "$T/last.out")" 3 "$cmd --cluster: shards"
    assert_eq "$(grep -c '^-- \(master\|replica\) "node-' "$T/last.out")" 6 "$cmd --cluster: nodes"
    grep -q "^== shard 1: slots 0-5460 (master node ${NODE_ID[$NEW]})" "$T/last.out" ||
        fail "$cmd --cluster: shard 1 after the failover: $(head -3 "$T/last.out")"
    first=$(grep -A1 '^== shard 1' "$T/last.out" | tail -1)
    assert_eq "$first" "-- master \"node-$NEW\" node ${NODE_ID[$NEW]}" "$cmd --cluster: the master first"
done
grep -q "restorable" "$T/last.out" || fail "verify --cluster does not print the windows: $(head -20 "$T/last.out")"
expect_exit 2 "$A" status -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --json
pass "generations and verify --cluster: every node, shard by shard, the master first"

# box B's collector stopped: its shard (master 3 and its replica) is not archived past the stop.
# The restoring machine reads every node through its index copy, whose
# heartbeat may be index_upload_interval (10 s in restore.yaml) old: a few
# seconds after the stop status still passes, then fails naming the copy.
stop_box B
sleep 3
expect_exit 0 "$A" status -c "$T/restore.yaml" --cluster "$CLUSTER_NAME"
b_stale() { ! "$A" status -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" >"$T/st.out" 2>"$T/st.err"; }
wait_until 30 b_stale || fail "status --cluster still passes 30 s after box B stopped"
# the first of box B's nodes past the limit is named (whichever it is), none of box A's
named=0
for p in "${BOX_B[@]}"; do
    grep -q "node-$p: heartbeat [0-9]* s old in its index copy" "$T/st.err" && named=1
done
[ "$named" = 1 ] || fail "status --cluster does not name a node of box B and its copy: $(cat "$T/st.err")"
for p in "${BOX_A[@]}"; do
    ! grep -q "node-$p:" "$T/st.err" || fail "status --cluster calls box A's node-$p stale: $(cat "$T/st.err")"
done
pass "status --cluster: a node's index copy may be index_upload_interval old; then it is stale"
STOPPED=$(($(date +%s) - 1))
sleep 2
expect_exit 1 "$A" restore -c "$T/restore.yaml" --cluster "$CLUSTER_NAME" --to "@$STOPPED" --out "$T/g"
grep -q "no archive restores .* for the shard of slots $(shard_json "$T/f-after" 2 slots) (master node ${NODE_ID[${SHARD_PORTS[2]}]})" "$T/last.err" ||
    fail "the refusal does not name the shard: $(cat "$T/last.err")"
grep -q "master \"node-${SHARD_PORTS[2]}\" restores from .* to " "$T/last.err" ||
    fail "the refusal does not name the restorable windows: $(cat "$T/last.err")"
[ ! -e "$T/g" ] || fail "a refused restore left $T/g behind"
pass "a second box B did not archive is refused, naming the shard and its windows"

# a barrier records each node's view (last: it rewrites the AOFs the references above are cut from)
expect_exit 0 "$COLLECTOR" -c "$T/box-a.yaml" --barrier-now
for p in "${BOX_A[@]}"; do
    wait_until 20 test "$(sqlite3 "$T/index-a.db" "select count(*) from cluster_views v join instances i on
        i.id = v.instance_id where i.name = 'node-$p' and v.reason = 'barrier'")" -ge 1 ||
        fail "no view recorded at the barrier for node-$p"
done
pass "the barrier records each node's view"

cluster_writer_stop
stop_box A
done_testing
