#!/usr/bin/env bash
# cluster.sh - `aofroll restore --cluster` of a 3-shard archive (>= 1 GB of
# AOF in all) to one second, against the same three shards restored one
# after another as single instances (`aofroll restore --instance`), from the
# same archive in the same run. Target: <= 0.7x (the shards are fetched and
# decoded in parallel; one after another they leave a core idle).
#
# Builds nothing: takes aofroll and aofroll-collector from
# $AOFROLL_BENCH_BIN (default build/bin of this checkout; build them Release,
# without sanitizers). The shards' data: make-aof.sh's ~1 GB AOF (cached),
# one copy per shard (links; 3 GB of AOF in all), each loaded by its own
# redis-server and archived with
# aofroll-collector --once (4 MiB chunks, compression 1, file:// on the
# same disk). The cluster's views are then written into the index (node
# k master of a third of the slots, as a collector with `cluster: bench`
# would record them) together with the member objects: the restore's
# speed does not depend on where views come from, and real cluster nodes
# would each need to load the data (tests/it_cluster.sh covers a live
# cluster). farm-bench then times both commands in alternating pairs
# (their output kept in $W/out-*); the restored shards' keyspace digests
# are checked equal to the source's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
bench_need aofroll aofroll-collector
command -v farm-bench >/dev/null || { echo "cluster.sh: farm-bench is not on PATH" >&2; exit 1; }

AOFDIR=$("$HERE/make-aof.sh")
bench_dir cluster
server_use "$W/bin"

# three shards, each an instance with its own copy (links) of the AOF
archive_config "$W" 0
sed -i '/^  - name: bench$/,$d' "$W/c.yaml"
for k in 1 2 3; do
    link_aofdir "$AOFDIR" "$W/src-$k"
    port=$(free_port)
    start_redis "$W/src-$k" "$port"
    printf '  - name: shard%s\n    redis: redis://127.0.0.1:%s\n' "$k" "$port" >>"$W/c.yaml"
done
echo "cluster.sh: archiving 3 shards" >&2
"$BIN/aofroll-collector" -c "$W/c.yaml" --once 2>"$W/collector.log" || { cat "$W/collector.log" >&2; exit 1; }
SRC_DIGEST=$(redis-cli -p "$port" debug digest)
for k in 1 2 3; do kill "$(cat "$W/src-$k/redis.pid")"; done
# the second to restore: the last one every shard's collector saw through
TO=$(sqlite3 "$W/index.db" "select min(last_poll) from status")

# the views a collector with `cluster: bench` would have recorded, and the member objects
ids=(x 1111111111111111111111111111111111111111 2222222222222222222222222222222222222222 3333333333333333333333333333333333333333)
slots=(x 0-5460 5461-10922 10923-16383)
mkdir -p "$W/archive/.clusters/bench"
for k in 1 2 3; do
    sqlite3 "$W/index.db" "INSERT INTO cluster_views(instance_id, cluster, time, reason, node_id, role, master_id,
        config_epoch, slots, in_sync, nodes) SELECT id, 'bench', $((TO - 5)), 'start', '${ids[$k]}', 'master', '',
        $k, '${slots[$k]}', 1, '' FROM instances WHERE name = 'shard$k'"
    printf 'cluster bench\ninstance shard%s\n' "$k" >"$W/archive/.clusters/bench/shard$k"
done

cat >"$W/cluster.sh" <<EOF
#!/bin/sh
rm -rf "$W/rc"
exec "$BIN/aofroll" restore -c "$W/c.yaml" --cluster bench --to @$TO --out "$W/rc" >>"$W/out-cluster" 2>&1
EOF
cat >"$W/serial.sh" <<EOF
#!/bin/sh
rm -rf "$W/rs"
mkdir "$W/rs"
for k in 1 2 3; do
    "$BIN/aofroll" restore -c "$W/c.yaml" --instance shard\$k --to @$TO --out "$W/rs/shard-\$k" >>"$W/out-serial" 2>&1 || exit 1
done
EOF
chmod +x "$W/cluster.sh" "$W/serial.sh"
cat "$W"/archive/shard*/*/*/* >/dev/null
"$W/cluster.sh" || { echo "cluster.sh: the cluster restore failed: $(tail -3 "$W/out-cluster")" >&2; exit 1; }

farm-bench -n "$RUNS" --timeout 1800 --vs "$W/serial.sh" -- "$W/cluster.sh" | tee "$W/farm-bench.out"

# the last run of each: equal to the source, shard by shard
for k in 1 2 3; do
    for d in "$W/rc/shard-$k" "$W/rs/shard-$k"; do
        start_redis_on dport "$d"
        got=$(digest "$dport")
        stop_redis "$d"
        [ "$got" = "$SRC_DIGEST" ] || { echo "cluster.sh: $d digest $got, source $SRC_DIGEST" >&2; exit 1; }
    done
done
echo "AOF in all: $(du -Lsb "$AOFDIR" | awk '{printf "%.3f GB x 3 shards", $1 / 1e9}'); archive $(du -sb "$W/archive" | awk '{printf "%.3f GB", $1 / 1e9}')"
echo "A = restore --cluster (3 shards in parallel), B = the 3 shards restored one after another; target A/B <= 0.7x"
echo "(warm page cache; every restored shard's keyspace digest equals the source's)"
