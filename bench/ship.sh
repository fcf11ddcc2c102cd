#!/usr/bin/env bash
# ship.sh - uncapped shipping throughput of aofroll-collector against
# `gzip -1` on the same >= 1 GB AOF.
#
# Builds nothing: takes aofroll-collector from $AOFROLL_BENCH_BIN (a bin
# directory; default build/bin of this checkout; build it Release, without
# sanitizers). Gets the AOF from make-aof.sh (cached) and starts a
# redis-server on a private copy of its manifest with links to its files
# (the collector asks Redis where the AOF is; nothing writes to it), warms
# the page cache, then times, best of $RUNS (default 2) each:
#   - gzip -1 -c INCR > /dev/null (the reference: the same compression
#     level, one core, no storage);
#   - aofroll-collector --once with max_rate 0 and chunk_pause 0 (4 MiB
#     chunks, compression 1, into a file:// archive on the same disk: pread,
#     gzip, write + fsync + rename, one index row per chunk), into a fresh
#     archive and index each run;
# checks that the archive holds the whole file, and prints both and the
# ratio of throughputs (target >= 0.8).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-2}
COLLECTOR=$BIN/aofroll-collector

bench_need aofroll-collector

bench_aof

bench_dir ship
# redis on links to the cached files: it reads them at load and, with no
# client writing, never appends
link_aofdir "$AOFDIR" "$W/redis"
PORT=$(free_port)
echo "ship.sh: loading $SIZE B into redis-server on port $PORT" >&2
start_redis "$W/redis" "$PORT"

cat "$INCR" >/dev/null # warm cache

best_gzip=
for run in $(seq 1 "$RUNS"); do
    t0=$EPOCHREALTIME
    gzip -1 -c "$INCR" >/dev/null
    t1=$EPOCHREALTIME
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    echo "gzip -1 run $run: $t s" >&2
    best_gzip=$(awk -v t="$t" -v b="$best_gzip" 'BEGIN { print (b == "" || t < b) ? t : b }')
done

best_ship=
for run in $(seq 1 "$RUNS"); do
    rm -rf "$W/archive" "$W/index.db"* "$W"/*.lock
    archive_config "$W" "$PORT"
    cat "$INCR" >/dev/null # the previous run dropped it from the cache (fadvise)
    t0=$EPOCHREALTIME
    "$COLLECTOR" -c "$W/c.yaml" --once 2>"$W/collector.log" || { cat "$W/collector.log" >&2; exit 1; }
    t1=$EPOCHREALTIME
    last=$(ls "$W/archive/bench/gen-000001/incr" | tail -1)
    shipped=$((10#${last:21:20}))
    [ "$shipped" = "$SIZE" ] || { echo "ship.sh: shipped $shipped of $SIZE B" >&2; exit 1; }
    stored=$(du -sb "$W/archive/bench/gen-000001/incr" | cut -f1)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    echo "aofroll-collector --once run $run: $t s ($(ls "$W/archive/bench/gen-000001/incr" | wc -l) chunks, $stored B stored)" >&2
    best_ship=$(awk -v t="$t" -v b="$best_ship" 'BEGIN { print (b == "" || t < b) ? t : b }')
done

awk -v size="$SIZE" -v g="$best_gzip" -v s="$best_ship" -v f="$INCR" 'BEGIN {
    printf "file: %s (%.3f GB)\n", f, size / 1e9
    printf "gzip -1 -c FILE >/dev/null:        %7.3f s  %6.1f MB/s\n", g, size / g / 1e6
    printf "aofroll-collector --once (uncapped): %7.3f s  %6.1f MB/s\n", s, size / s / 1e6
    printf "ratio (collector / gzip throughput): %.2fx (target >= 0.8x)\n", g / s
    printf "(best of each; warm page cache)\n"
}'
