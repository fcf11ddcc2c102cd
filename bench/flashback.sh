#!/usr/bin/env bash
# flashback.sh - aofroll restore --target of a whole keyspace into an empty
# redis-server, against redis-cli --pipe of the same keys as RESTORE
# commands made by DUMP from a server holding that keyspace, in the same
# run. Target: >= 1.0x the reference's throughput (keys per second).
#
# The keyspace is the issue's: 1 M keys from ~1 GB of AOF (make-aof.sh with
# AOFROLL_BENCH_SETS=1000000 AOFROLL_BENCH_VALUE=1000: each key written
# once, 1000-byte values). Other shapes through the same variables: the
# default make-aof.sh AOF (AOFROLL_BENCH_SETS=7000000
# AOFROLL_BENCH_VALUE=100: 4 M keys, 7 M SETs, most of the AOF history
# overwritten since) is the worst case for any way that replays the
# history, as Redis must run every command again.
#
# Builds nothing: takes aofroll, aofroll-collector and bench_dumpresp from
# $AOFROLL_BENCH_BIN (default build/bin of this checkout; build them Release,
# without sanitizers). Archives the AOF once with aofroll-collector
# --once, loads it once in a source redis-server and writes its keys as
# RESTORE commands (bench_dumpresp, not timed), then times $RUNS (default
# 3) alternating pairs, each into a fresh empty redis-server:
#   - redis-cli --pipe < the RESTORE commands (the reference: the writes
#     alone, the data already in hand);
#   - aofroll restore --to latest --target: fetch and check every chunk,
#     restore into a scratch directory, then (the target being empty) serve
#     it to the target as its master: the restored base as the RDB
#     payload, the incr file as the replication stream (replicate.h).
# Checks that both targets end with the same keyspace (DEBUG DIGEST), and
# prints both times and the median ratio of throughputs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
export AOFROLL_BENCH_SETS=${AOFROLL_BENCH_SETS:-1000000} AOFROLL_BENCH_VALUE=${AOFROLL_BENCH_VALUE:-1000}
bench_need aofroll aofroll-collector bench_dumpresp

bench_aof
bench_dir flashback

# the archive, made once by the real collector from a server on links to
# the AOF; that server is the source of the reference's DUMPs
link_aofdir "$AOFDIR" "$W/src"
SRC_PORT=$(free_port)
start_redis "$W/src" "$SRC_PORT"
archive_once "$BIN" "$W" "$SRC_PORT"
"$BIN/bench_dumpresp" "$SRC_PORT" >"$W/restore.resp"
SRC_DIGEST=$(redis-cli -p "$SRC_PORT" debug digest)
KEYS=$(redis-cli -p "$SRC_PORT" info keyspace | sed -n 's/^db[0-9]*:keys=\([0-9]*\),.*/\1/p' | awk '{ s += $1 } END { print s }')
redis-cli -p "$SRC_PORT" shutdown nosave >/dev/null 2>&1 || true

# one timed redis-cli --pipe into a fresh empty server: seconds in $T
time_pipe() {
    local port t0 t1
    cat "$W/restore.resp" >/dev/null
    rm -rf "$W/pipe"
    port=$(free_port)
    start_redis "$W/pipe" "$port"
    t0=$EPOCHREALTIME
    redis-cli -p "$port" --pipe <"$W/restore.resp" >"$W/pipe.out"
    t1=$EPOCHREALTIME
    grep -q 'errors: 0' "$W/pipe.out" || { cat "$W/pipe.out" >&2; exit 1; }
    redis-cli -p "$port" debug digest >"$W/pipe.digest"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# one timed flashback into a fresh empty server: seconds in $T
time_flashback() {
    local port t0 t1
    cat "$W/archive"/bench/*/*/* >/dev/null
    rm -rf "$W/target"
    port=$(free_port)
    start_redis "$W/target" "$port"
    t0=$EPOCHREALTIME
    TMPDIR=$W "$BIN/aofroll" restore -c "$W/c.yaml" --instance bench --to latest \
        --target "redis://127.0.0.1:$port" >"$W/flashback.out" || { cat "$W/flashback.out" >&2; exit 1; }
    t1=$EPOCHREALTIME
    redis-cli -p "$port" debug digest >"$W/flashback.digest"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# check_pair RUN PIPE_S FLASHBACK_S: both targets hold the source's keyspace
check_pair() {
    local d
    for d in pipe flashback; do
        [ "$(cat "$W/$d.digest")" = "$SRC_DIGEST" ] ||
            { echo "flashback.sh: $d digest $(cat "$W/$d.digest"), source $SRC_DIGEST" >&2; exit 1; }
    done
    echo "pair $1: redis-cli --pipe $2 s, aofroll restore --target $3 s ($(tail -1 "$W/flashback.out"))" >&2
}
run_pairs "$RUNS" time_pipe time_flashback check_pair

read -r med_f best_f med_p best_p ratio lo hi ratio_best < <(awk '{ print $2, $1 }' "$W/pairs" | pair_summary /dev/stdin)
awk -v n="$KEYS" -v sets="$AOFROLL_BENCH_SETS" -v value="$AOFROLL_BENCH_VALUE" -v m="$RUNS" -v mp="$med_p" -v bp="$best_p" -v mf="$med_f" -v bf="$best_f" \
    -v q="$ratio" -v lo="$lo" -v hi="$hi" -v qb="$ratio_best" 'BEGIN {
    printf "keys: %d (the whole keyspace of the make-aof.sh AOF: %s SETs of %s-byte values)\n", n, sets, value
    printf "redis-cli --pipe of RESTOREs: median %7.3f s, best %7.3f s (%.2f M keys/s)\n", mp, bp, n / bp / 1e6
    printf "aofroll restore --target:     median %7.3f s, best %7.3f s (%.2f M keys/s)\n", mf, bf, n / bf / 1e6
    printf "ratio (flashback / redis-cli --pipe throughput): median of %d pairs %.2fx (range %.2f-%.2f), of the bests %.2fx (target >= 1.0x)\n", m, q, lo, hi, qb
    printf "(warm page cache; fresh empty target each run; keyspace digests equal to the source)\n"
}'
