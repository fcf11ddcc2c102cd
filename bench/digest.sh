#!/usr/bin/env bash
# digest.sh - the cost of the chunks' SHA-256 (docs/security.md), against
# the work a chunk already costs, measured in the same run.
#
# Takes bench_digest from $AOFROLL_BENCH_BIN (a bin directory; default
# build/bin of this checkout; build it Release, without sanitizers) and the AOF
# from make-aof.sh (cached), or the incr file $AOFROLL_BENCH_INCR. bench_digest
# cuts the incr file into 4 MiB chunks and times, best of 5: encoding them
# (gzip level 1, the collector's work), the SHA-256 of the stored objects
# (what the collector adds, and every read to check it), and decoding them
# (a restore's work). Prints the times and the ratios.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_need bench_digest
if [ -n "${AOFROLL_BENCH_INCR:-}" ]; then
    INCR=$AOFROLL_BENCH_INCR
else
    bench_aof
fi
cat "$INCR" >/dev/null
"$BIN/bench_digest" "$INCR" $((4 << 20)) 5
