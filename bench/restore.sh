#!/usr/bin/env bash
# restore.sh - aofroll restore of a >= 1 GB archive to its last second,
# plus redis-server loading the result (--start), against redis-server
# loading the original AOF directory natively. Target: <= 1.25x.
#
# Builds nothing: takes aofroll and aofroll-collector from
# $AOFROLL_BENCH_BIN (a bin directory; default build/bin of this checkout; build
# them Release, without sanitizers). Gets the AOF from make-aof.sh
# (cached), archives it once with aofroll-collector --once (4 MiB chunks,
# compression 1, uncapped, file:// on the same disk), warms the page cache,
# then times $RUNS (default 6) pairs, alternating which goes first:
#   - redis-server --appendonly yes on (links to) the original AOF
#     directory, from exec until it serves DBSIZE (the reference);
#   - aofroll restore --to NOW --start: fetch, check and write every chunk,
#     cut, write DIR, start redis-server on it and wait for loading:0.
# Checks that both servers hold the same keyspace (DEBUG DIGEST), and
# prints both times and the ratio.
#
# AOFROLL_REDIS_SERVER (tests/lib/redis.sh) picks the server that loads,
# natively and after the restore, and that the archive is made from; the
# AOF itself is make-aof.sh's, the same workload for every server.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-6}
bench_need aofroll aofroll-collector

bench_aof
bench_dir restore
server_use "$W/bin"
echo "restore.sh: $(redis-server --version)" >&2

# the archive, made once by the real collector
link_aofdir "$AOFDIR" "$W/src"
SRC_PORT=$(free_port)
start_redis "$W/src" "$SRC_PORT"
archive_once "$BIN" "$W" "$SRC_PORT"
SRC_DIGEST=$(redis-cli -p "$SRC_PORT" debug digest)
kill "$(cat "$W/src/redis.pid")"
ARCHIVED=$(du -sb "$W/archive" | cut -f1)

# one timed native load of the original AOF directory: seconds in $T
time_native() {
    local port t0 t1
    cat "$AOFDIR"/* >/dev/null
    rm -rf "$W/native"
    link_aofdir "$AOFDIR" "$W/native"
    port=$(free_port)
    sync
    t0=$EPOCHREALTIME
    start_redis "$W/native" "$port"
    t1=$EPOCHREALTIME
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# one timed restore --start: seconds in $T, the keyspace digest in $W/digest
time_restore() {
    local port t0 t1
    cat "$W/archive"/bench/*/*/* >/dev/null
    rm -rf "$W/restored"
    port=$(free_port)
    sync
    t0=$EPOCHREALTIME
    "$BIN/aofroll" restore -c "$W/c.yaml" --instance bench --to latest --out "$W/restored" \
        --start --port "$port" -- --bind 127.0.0.1 --save "" --auto-aof-rewrite-percentage 0 --enable-debug-command yes >"$W/restore.out" ||
        { cat "$W/restore.out" >&2; exit 1; }
    t1=$EPOCHREALTIME
    PIDS_TO_KILL+=("$(cat "$W/restored/redis.pid")")
    grep -q '^instance bench, generation 1 ' "$W/restore.out" ||
        { echo "restore.sh: not generation 1 (did redis rewrite the AOF?): $(head -1 "$W/restore.out")" >&2; exit 1; }
    redis-cli -p "$port" debug digest >"$W/digest"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# Pairs, alternating which goes first: the machine's noise (the same load
# varies by 10-20% from one minute to the next here) shows in both halves
# of a pair alike, so the median of the per-pair ratios is the figure; the
# ratio of the best times is printed beside it.
# check_pair RUN NATIVE_S RESTORE_S: the restore holds the original keyspace
check_pair() {
    [ "$(cat "$W/digest")" = "$SRC_DIGEST" ] ||
        { echo "restore.sh: restored digest $(cat "$W/digest"), original $SRC_DIGEST" >&2; exit 1; }
    echo "pair $1: native load $2 s, restore --start $3 s ($(grep -E '^(fetch|redis-server)' "$W/restore.out" | tr '\n' ' '))" >&2
}
run_pairs "$RUNS" time_native time_restore check_pair

read -r med_n best_n med_r best_r ratio lo hi ratio_best < <(pair_summary "$W/pairs")
awk -v size="$(du -Lsb "$AOFDIR" | cut -f1)" -v arch="$ARCHIVED" -v m="$RUNS" -v mn="$med_n" -v bn="$best_n" \
    -v mr="$med_r" -v br="$best_r" -v q="$ratio" -v lo="$lo" -v hi="$hi" -v qb="$ratio_best" 'BEGIN {
    printf "AOF directory: %.3f GB; archive: %.3f GB (gzip -1, 4 MiB chunks)\n", size / 1e9, arch / 1e9
    printf "redis-server loading the AOF directory:       median %7.3f s, best %7.3f s\n", mn, bn
    printf "aofroll restore --start (restore + loading):  median %7.3f s, best %7.3f s\n", mr, br
    printf "ratio (restore / native load): median of %d pairs %.2fx (range %.2f-%.2f), of the bests %.2fx (target <= 1.25x)\n", m, q, lo, hi, qb
    printf "(warm page cache; keyspace digests equal)\n"
}'
