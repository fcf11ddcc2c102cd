#!/usr/bin/env bash
# encrypt.sh - what client-side encryption (docs/encryption.md) costs the
# collector: shipping the 1 GB bench AOF sealed against shipping it plain,
# in alternating pairs of the same run (farm-bench --vs).
#
# Builds nothing: takes aofroll-collector from $AOFROLL_BENCH_BIN (a bin
# directory; default build/bin of this checkout; build it Release, without
# sanitizers). Gets the AOF from make-aof.sh (cached) and copies it to
# tmpfs ($AOFROLL_BENCH_TMPFS, default /dev/shm), because the collector
# drops what it shipped from the page cache (fadvise) and every run must
# read the file from memory alike; a redis-server loads it from there (the
# collector asks Redis where the AOF is; nothing writes to it). Then
# farm-bench runs, $RUNS pairs (default 5) after one warm-up pair:
#   A: aofroll-collector --once with storage.encryption.key_file set (every
#      chunk gzipped, then sealed with AES-256-GCM), into a fresh file://
#      archive and index on disk;
#   B: the same without the key file (the reference).
# Uncapped: 4 MiB chunks, compression 1, max_rate 0, chunk_pause 0,
# priority normal (an idle-priority collector on a busy machine would time
# its waits for a core, not its work). Each
# run's archive is checked to hold the whole file (sealed names, or plain).
# Prints farm-bench's report; quote the median A/B wall ratio (target <= 1.1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
TMPFS=${AOFROLL_BENCH_TMPFS:-/dev/shm}
COLLECTOR=$BIN/aofroll-collector

bench_need aofroll-collector
command -v farm-bench >/dev/null || { echo "encrypt.sh: farm-bench is not on PATH" >&2; exit 1; }

bench_aof

bench_dir encrypt
M=$(mktemp -d "$TMPFS/aofroll-encrypt.XXXXXX")
trap 'harness_cleanup; rm -rf "$M"' EXIT

mkdir -p "$M/appendonlydir"
cp "$AOFDIR"/* "$M/appendonlydir/"
PORT=$(free_port)
echo "encrypt.sh: loading $SIZE B into redis-server on port $PORT" >&2
start_redis "$M" "$PORT"

(umask 077 && echo "bench $(openssl rand -base64 32)" >"$W/keys")
archive_config "$W" "$PORT"
# priority normal: the figures are the work of a shipment, not how long an
# idle-priority collector waits for a core on a busy machine
sed -i 's|^  barrier: "off"$|&\n  priority: normal|' "$W/c.yaml"
grep -q "^  priority: normal$" "$W/c.yaml" || { echo "encrypt.sh: no priority in c.yaml" >&2; exit 1; }
sed "s|$W/archive|$W/plain|; s|$W/index.db|$W/plain.db|" "$W/c.yaml" >"$W/plain.yaml"
sed "s|$W/archive|$W/sealed|; s|$W/index.db|$W/sealed.db|; s|^  url: .*|&\n  encryption:\n    key_file: $W/keys|" \
    "$W/c.yaml" >"$W/sealed.yaml"
grep -q "key_file: $W/keys" "$W/sealed.yaml" || { echo "encrypt.sh: no key_file in sealed.yaml" >&2; exit 1; }

# run NAME: one shipment into a fresh archive; its log in $W/NAME.log
cat >"$W/run.sh" <<EOF
#!/bin/sh
rm -rf "$W/\$1" "$W/\$1.db" "$W/\$1.db-wal" "$W/\$1.db-shm" "$W"/*.lock
exec "$COLLECTOR" -c "$W/\$1.yaml" --once 2>>"$W/\$1.log"
EOF
chmod +x "$W/run.sh"

# the whole file, sealed or plain, before anything is timed
check() { # check NAME SUFFIX
    local last shipped
    "$W/run.sh" "$1" || { tail -3 "$W/$1.log" >&2; exit 1; }
    last=$(ls "$W/$1/bench/gen-000001/incr" | tail -1)
    shipped=$((10#${last:21:20}))
    [ "$shipped" = "$SIZE" ] || { echo "encrypt.sh: $1 shipped $shipped of $SIZE B" >&2; exit 1; }
    [ "$(ls "$W/$1/bench/gen-000001/incr" | grep -vc "$2\$")" = 0 ] ||
        { echo "encrypt.sh: $1 has objects not ending in $2" >&2; exit 1; }
    echo "encrypt.sh: $1: $(ls "$W/$1/bench/gen-000001/incr" | wc -l) chunks," \
        "$(du -sb "$W/$1/bench/gen-000001/incr" | cut -f1) B stored" >&2
}
check sealed '.aof.gz.bench.enc'
check plain '.aof.gz'

farm-bench -n "$RUNS" --warmup 1 --timeout 3600 --vs "$W/run.sh plain" -- "$W/run.sh" sealed
