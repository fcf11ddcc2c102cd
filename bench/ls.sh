#!/usr/bin/env bash
# ls.sh - `aofroll ls` over a million chunks, against sqlite3's own CLI.
#
# Builds nothing: takes aofroll and bench_ls from $AOFROLL_BENCH_BIN (a bin
# directory; default build/bin of this checkout; build it Release, without
# sanitizers). The first run builds a synthetic index of $CHUNKS chunks
# (default 1,000,000; bench_ls.c) under ${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}
# and keeps it. Then, best of $RUNS (default 3), the CPU time (user + sys)
# and the wall time of:
#   - sqlite3 printing the same rows in the same order (the reference: the
#     database alone, no formatting of sizes, times or ratios);
#   - aofroll ls -c CFG              (the human table and its footer);
#   - aofroll ls -c CFG --json       (one JSON document);
# each with its output sent to /dev/null. The issue's bar: a million chunks
# in under a second of CPU.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-3}
CHUNKS=${CHUNKS:-1000000}
DIR=${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}/ls-$CHUNKS

bench_need aofroll bench_ls
command -v sqlite3 >/dev/null || { echo "ls.sh: sqlite3 not found" >&2; exit 1; }

mkdir -p "$DIR/store"
if [ ! -s "$DIR/index.db" ]; then
    # built under another name, so that an interrupted build is not kept
    rm -f "$DIR"/build.db*
    t0=$EPOCHREALTIME
    "$BIN/bench_ls" "$DIR/build.db" --chunks "$CHUNKS"
    mv "$DIR/build.db" "$DIR/index.db"
    echo "index built in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
fi
cat >"$DIR/aofroll.yaml" <<YAML
storage:
  url: file://$DIR/store
index: $DIR/index.db
instances:
  - name: bench
    redis: redis://127.0.0.1:1
YAML
cat "$DIR/index.db" >/dev/null # warm cache

# cpu CMD...: run CMD (stdout to /dev/null) and print "cpu wall" seconds
cpu() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
wall = time.monotonic() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %.3f" % (r.ru_utime + r.ru_stime, wall))
PY
}

# best NAME CMD...: best of RUNS, echoing each run; prints "cpu wall" last
best() {
    local name=$1 run out bcpu= bwall=
    shift
    for run in $(seq 1 "$RUNS"); do
        out=$(cpu "$@") || { echo "ls.sh: $name failed" >&2; exit 1; }
        echo "$name run $run: cpu ${out% *} s, wall ${out#* } s" >&2
        if [ -z "$bcpu" ] || awk -v a="${out% *}" -v b="$bcpu" 'BEGIN { exit !(a < b) }'; then
            bcpu=${out% *}
            bwall=${out#* }
        fi
    done
    echo "$bcpu $bwall"
}

SQL="SELECT id, instance_id, generation, kind, start, end, stored_bytes, first, last FROM chunks
     ORDER BY instance_id, generation, kind, start"
ref=$(best sqlite3 sqlite3 "$DIR/index.db" "$SQL")
human=$(best "aofroll ls" "$BIN/aofroll" ls -c "$DIR/aofroll.yaml")
json=$(best "aofroll ls --json" "$BIN/aofroll" ls -c "$DIR/aofroll.yaml" --json)
lines=$("$BIN/aofroll" ls -c "$DIR/aofroll.yaml" | wc -l)

awk -v n="$CHUNKS" -v lines="$lines" -v r="$ref" -v h="$human" -v j="$json" 'BEGIN {
    split(r, R, " "); split(h, H, " "); split(j, J, " ")
    printf "%d chunks (%d lines of output)\n", n, lines
    printf "sqlite3 CLI (reference): cpu %.3f s  wall %.3f s\n", R[1], R[2]
    printf "aofroll ls:              cpu %.3f s  wall %.3f s  %.2fx the reference\n", H[1], H[2], H[1] / R[1]
    printf "aofroll ls --json:       cpu %.3f s  wall %.3f s  %.2fx the reference\n", J[1], J[2], J[1] / R[1]
    printf "(best of each; warm cache; the bar is 1 s of cpu for a million chunks)\n"
}'
