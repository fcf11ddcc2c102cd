#!/usr/bin/env bash
# make-aof.sh - build once, and cache, a >= 1 GB AOF directory written by a
# real redis-server 7.0, for the benchmarks (scanner, shipping, restore).
#
# Prints the AOF directory (the redis "appendonlydir", holding the manifest,
# a tiny RDB-preamble base and one ~1 GB incr file) on stdout; progress goes
# to stderr. The result is cached under ${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}
# (aof-SETS, or aof-SETS-vVALUE) and reused while its "complete" stamp exists; delete the directory to
# rebuild it.
#
# Contents, sent by redis-cli --pipe to one redis-server (appendonly yes,
# aof-timestamp-enabled yes, appendfsync no, no rewrite, so that all the data
# lands in the incr file):
#   - AOFROLL_BENCH_SETS (default 7,000,000) SETs of AOFROLL_BENCH_VALUE-
#     byte values (default 100, a multiple of 4) over 1,000,000 distinct keys ("key:%012d", 16 bytes); the values are random
#     base64 text, so gzip finds what it would in real data (~4:3), not
#     long runs of one byte;
#   - every 1,000th SET followed by a MULTI / SET / INCR / EXEC block;
#   - a SELECT to db 0..3 every 1,000,000 SETs;
#   - "#TS:" annotations, one per second of the run (Redis writes them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_DIR=${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}
SETS=${AOFROLL_BENCH_SETS:-7000000}
VALUE=${AOFROLL_BENCH_VALUE:-100}
case $VALUE in
'' | *[!0-9]* | 0*) echo "make-aof.sh: AOFROLL_BENCH_VALUE must be a positive multiple of 4" >&2; exit 1 ;;
esac
[ $((VALUE % 4)) -eq 0 ] || { echo "make-aof.sh: AOFROLL_BENCH_VALUE must be a multiple of 4" >&2; exit 1; }
OUT=$BENCH_DIR/aof-$SETS
[ "$VALUE" = 100 ] || OUT=$BENCH_DIR/aof-$SETS-v$VALUE
AOFDIR=$OUT/appendonlydir
STAMP=$OUT/complete

if [ -f "$STAMP" ]; then
    echo "$AOFDIR"
    exit 0
fi

for tool in redis-server redis-cli base64 mawk; do
    command -v "$tool" >/dev/null || { echo "make-aof.sh: $tool not found" >&2; exit 1; }
done

rm -rf "$OUT"
PORT=$(free_port)
start_redis "$OUT" "$PORT" --appendfsync no --aof-use-rdb-preamble yes
REDIS_PID=$(cat "$OUT/redis.pid")
echo "make-aof.sh: redis-server $REDIS_PID on port $PORT, writing $SETS SETs into $AOFDIR" >&2

SECONDS=0
# 3/4 * VALUE random bytes make one VALUE-character base64 line: one value.
head -c $((SETS * VALUE / 4 * 3)) /dev/urandom | base64 -w "$VALUE" |
    mawk -v sets="$SETS" -v value="$VALUE" '
    BEGIN { ORS = "" }
    length($0) == value && n < sets {
        n++
        printf "*3\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", n % 1000000, value, $0
        if (n % 1000 == 0)
            printf "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$16\r\ntxn:%012d\r\n$%d\r\n%s\r\n*2\r\n$4\r\nINCR\r\n$8\r\ntxncount\r\n*1\r\n$4\r\nEXEC\r\n", n, value, $0
        if (n % 1000000 == 0)
            printf "*2\r\n$6\r\nSELECT\r\n$1\r\n%d\r\n", (n / 1000000) % 4
    }' |
    redis-cli -p "$PORT" --pipe >&2

keys=$(redis-cli -p "$PORT" dbsize)
redis-cli -p "$PORT" shutdown >/dev/null 2>&1 || true
for _ in $(seq 1 300); do
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$REDIS_PID" 2>/dev/null; then
    echo "make-aof.sh: redis-server $REDIS_PID did not shut down" >&2
    exit 1
fi
PIDS_TO_KILL=() # stopped: nothing to kill at exit

incr=$(mawk '$6 == "i" { f = $2 } END { print f }' "$AOFDIR/appendonly.aof.manifest")
size=$(stat -c %s "$AOFDIR/$incr")
if [ "$size" -lt 1000000000 ]; then
    echo "make-aof.sh: $AOFDIR/$incr is only $size bytes" >&2
    exit 1
fi
echo "make-aof.sh: done in ${SECONDS}s: $incr is $size bytes; $keys keys in the last db" >&2
touch "$STAMP"
echo "$AOFDIR"
