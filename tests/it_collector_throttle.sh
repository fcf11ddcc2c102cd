#!/bin/bash
# it_collector_throttle.sh - max_rate holds.
#
# An 8 MiB backlog of incompressible values, shipped with max_rate 1MiB/s
# and 64 KiB chunks: the rate measured from the chunk log lines (first to
# last chunk) must be within 10% of 1 MiB/s, and the archive exact.
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: t" "    redis: redis://127.0.0.1:$PORT" \
    "    max_rate: 1MiB/s"
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)

writer big "$PORT" 80 104857 31
size=$(stat -c %s "$INCR")
[ "$size" -gt $((8 * 1024 * 1024)) ] || fail "backlog is only $size B"

t0=$(date +%s%N)
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once -v
wall=$((($(date +%s%N) - t0) / 1000000))
archive_equals "$ARCH/t/gen-000001/incr" "$INCR"

# "2026-11-21T11:05:09.298+00:00 DEBUG [t] shipped incr chunk gen 1 [0, 65536) 65536 B -> 65600 B"
rate=$(awk '/shipped incr chunk/ {
        split(substr($1, 12, 12), hms, ":"); t = hms[1] * 3600 + hms[2] * 60 + hms[3]
        if (n == 0) { t0 = t; first = $11 } else { bytes += $11 }
        t1 = t; n++
    } END { if (t1 > t0) printf "%d", bytes / (t1 - t0) }' "$T/last.err")
[ -n "$rate" ] || fail "no chunk lines to measure"
lo=$((1048576 * 90 / 100))
hi=$((1048576 * 110 / 100))
[ "$rate" -ge "$lo" ] && [ "$rate" -le "$hi" ] || fail "measured $rate B/s, not within 10% of 1048576 B/s"
pass "max_rate 1MiB/s: measured $rate B/s over $size B (wall $wall ms)"

done_testing
