#!/usr/bin/env bash
# scanner.sh - the AOF scanner against redis-check-aof on the same file.
#
# Builds nothing: takes bench_aofscan from $AOFROLL_BENCH_BIN (a bin
# directory; default build/bin of this checkout; build it Release, without
# sanitizers). Gets the >= 1 GB AOF from make-aof.sh (cached), warms the
# page cache, then times, best of $RUNS (default 3) each:
#   - redis-check-aof on the incr file (what it checks: the RESP syntax,
#     "#TS:" lines and MULTI/EXEC pairing of every command);
#   - bench_aofscan on the same file fed in 4 MiB slices, twice: read with
#     pread() into one buffer (like redis-check-aof, which also copies out
#     of the page cache: the fair comparison), and mapped (scanning alone);
# and prints them and the ratios.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
BENCH=$BIN/bench_aofscan

bench_need bench_aofscan
command -v redis-check-aof >/dev/null || { echo "scanner.sh: redis-check-aof not found" >&2; exit 1; }

bench_aof

cat "$INCR" >/dev/null # warm cache

best_check=
for run in $(seq 1 "$RUNS"); do
    t0=$EPOCHREALTIME
    out=$(redis-check-aof "$INCR" 2>&1) || { echo "$out" >&2; echo "scanner.sh: redis-check-aof failed" >&2; exit 1; }
    t1=$EPOCHREALTIME
    grep -q "is valid" <<<"$out" || { echo "$out" >&2; echo "scanner.sh: redis-check-aof did not say valid" >&2; exit 1; }
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    echo "redis-check-aof run $run: $t s"
    best_check=$(awk -v t="$t" -v b="$best_check" 'BEGIN { print (b == "" || t < b) ? t : b }')
done

# bench_aofscan MODE-ARGS...: run it, echo its lines, print its best seconds
scan_best() {
    local out
    out=$("$BENCH" "$INCR" --runs "$RUNS" "$@")
    echo "$out" | sed 's/^/bench_aofscan: /' >&2
    grep '^result ' <<<"$out" | sed 's/.*seconds=\([0-9.]*\).*/\1/'
}
best_read=$(scan_best --read)
best_map=$(scan_best)

awk -v size="$SIZE" -v c="$best_check" -v r="$best_read" -v m="$best_map" -v f="$INCR" 'BEGIN {
    printf "file: %s (%.3f GB)\n", f, size / 1e9
    printf "redis-check-aof:        %.3f s  %5.2f GB/s\n", c, size / c / 1e9
    printf "aofscan (pread slices): %.3f s  %5.2f GB/s  %.1fx faster\n", r, size / r / 1e9, c / r
    printf "aofscan (mapped file):  %.3f s  %5.2f GB/s  %.1fx faster\n", m, size / m / 1e9, c / m
    printf "(best of each; warm page cache)\n"
}'
