# lib.sh - what the benchmark scripts share (sourced, not run). Sources the
# test harness's basics and Redis helpers (tests/lib/base.sh, redis.sh:
# free_port, start_redis and start_redis_on (the server under test, its
# pid killed at exit), a work dir removed at exit, wait_until), then adds:
#
#   BIN                  the programs measured: $AOFROLL_BENCH_BIN, default
#                        build/bin of this checkout (a Release build without
#                        sanitizers); HERE: this directory
#   bench_need PROG...   each PROG is in $BIN, or exit 1 naming it
#   bench_aof            make-aof.sh's AOF (built once, then cached): its
#                        directory AOFDIR, its incr file INCR (INCR_NAME
#                        in AOFDIR), SIZE bytes
#   bench_dir NAME       W: a fresh work dir under ${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}
#   seconds T0 T1        T1 - T0 ($EPOCHREALTIME values), 3 decimals
#   link_aofdir SRC DIR  DIR/appendonlydir: SRC's manifest copied, its data
#                        files linked (a server that only loads them)
#   archive_config DIR PORT
#                        DIR/c.yaml: the Redis on PORT as instance "bench",
#                        archived into file://DIR/archive (index DIR/index.db)
#                        in 4 MiB chunks at compression 1, uncapped
#   archive_once BIN DIR PORT
#                        that config, then BIN/aofroll-collector --once
#   pair_summary FILE    for lines "REFERENCE OURS" (seconds), one line:
#                        median_ref best_ref median_ours best_ours
#                        median_ratio lo hi ratio_of_bests
#                        where a ratio is OURS / REFERENCE of each pair
#
# A server started here may load a gigabyte: it is polled every 10 ms (a
# timed load is not rounded up by 50 ms) for up to an hour.

. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/base.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../tests/lib/redis.sh"
WAIT_STEP=0.01
REDIS_LOAD_S=3600

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${AOFROLL_BENCH_BIN:-$(dirname "$HERE")/build/bin}

bench_need() {
    local prog
    for prog in "$@"; do
        [ -x "$BIN/$prog" ] || { echo "$(basename "$0"): no $BIN/$prog (set AOFROLL_BENCH_BIN)" >&2; exit 1; }
    done
}

bench_aof() {
    AOFDIR=$("$HERE/make-aof.sh")
    INCR_NAME=$(awk '$6 == "i" { f = $2 } END { print f }' "$AOFDIR/appendonly.aof.manifest")
    INCR=$AOFDIR/$INCR_NAME
    SIZE=$(stat -c %s "$INCR")
}

# bench_dir NAME: a fresh work dir in $W, removed at exit (kept with KEEP_TMP=1)
bench_dir() {
    harness_tmp "${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}" "$1"
    W=$HARNESS_TMP
}

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

link_aofdir() {
    local f
    mkdir -p "$2/appendonlydir"
    for f in "$1"/*; do
        case $f in
        *.manifest) cp "$f" "$2/appendonlydir/" ;;
        *) ln -s "$f" "$2/appendonlydir/$(basename "$f")" ;;
        esac
    done
}

archive_config() {
    cat >"$1/c.yaml" <<EOF
storage:
  url: file://$1/archive
index: $1/index.db
defaults:
  poll_interval: 1s
  chunk_size: 4MiB
  chunk_pause: 0ms
  max_rate: 0
  compression: 1
  barrier: "off"
instances:
  - name: bench
    redis: redis://127.0.0.1:$2
EOF
}

archive_once() {
    archive_config "$2" "$3"
    echo "$(basename "$0"): archiving the AOF of the server on port $3" >&2
    "$1/aofroll-collector" -c "$2/c.yaml" --once 2>"$2/collector.log" || { cat "$2/collector.log" >&2; exit 1; }
}

# run_pairs RUNS REF OURS CHECK: RUNS alternating pairs of the functions
# REF (the reference) and OURS, the reference first in odd pairs; each
# leaves its seconds in $T. After each pair CHECK (a function) is called
# with the pair's number and both times ("RUN REF_S OURS_S"), and the times
# "REF_S OURS_S" are appended to $W/pairs (pair_summary reads them).
run_pairs() {
    local runs=$1 ref=$2 ours=$3 check=$4 run r o
    : >"$W/pairs"
    for run in $(seq 1 "$runs"); do
        if [ $((run % 2)) -eq 1 ]; then
            "$ref"; r=$T
            "$ours"; o=$T
        else
            "$ours"; o=$T
            "$ref"; r=$T
        fi
        "$check" "$run" "$r" "$o"
        echo "$r $o" >>"$W/pairs"
    done
}

pair_summary() {
    awk '
    function median(a, m,    i, j, t) {
        for (i = 2; i <= m; i++)
            for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    { m++; r[m] = $1; o[m] = $2; q[m] = $2 / $1
      if (br == "" || $1 < br) br = $1
      if (bo == "" || $2 < bo) bo = $2 }
    END {
        lo = hi = q[1]
        for (i = 2; i <= m; i++) { if (q[i] < lo) lo = q[i]; if (q[i] > hi) hi = q[i] }
        printf "%.3f %.3f %.3f %.3f %.4f %.4f %.4f %.4f\n", median(r, m), br, median(o, m), bo, median(q, m), lo, hi, bo / br
    }' "$1"
}
