#!/usr/bin/env bash
# apply.sh - aofroll apply of the >= 5 M commands of the make-aof.sh AOF
# into an empty redis-server, against redis-cli --pipe of the same commands
# into the same kind of empty server. Target: >= 1.0x the throughput.
#
# Builds nothing: takes aofroll and aofroll-collector from
# $AOFROLL_BENCH_BIN (a bin directory; default build/bin of this checkout; build
# them Release, without sanitizers). Archives the AOF once with
# aofroll-collector --once (4 MiB chunks, compression 1), then times
# $RUNS (default 6) alternating pairs, on a fresh empty redis-server (appendonly yes,
# aof-timestamp-enabled yes, no RDB saves) every run:
#   - redis-cli --pipe < the incr file without its #TS: lines (the
#     reference: the same commands, raw RESP, one connection);
#   - aofroll apply --to NOW from a restore cut before the stream's first
#     command (--stop-before SELECT|SET, so the server starts empty): fetch
#     and check every chunk, cut, send the commands pipelined over hiredis.
# Checks that both servers end with the same keyspace (DEBUG DIGEST), and
# prints both and the ratio of throughputs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-6}
bench_need aofroll aofroll-collector

bench_aof
bench_dir apply

# the archive, made once by the real collector from a server on links to the AOF
link_aofdir "$AOFDIR" "$W/src"
SRC_PORT=$(free_port)
start_redis "$W/src" "$SRC_PORT"
archive_once "$BIN" "$W" "$SRC_PORT"
redis-cli -p "$SRC_PORT" shutdown nosave >/dev/null 2>&1 || true

LC_ALL=C grep -av '^#TS:' "$INCR" >"$W/commands.resp"
COMMANDS=$(LC_ALL=C grep -ac '^\*' "$W/commands.resp")

# one timed redis-cli --pipe into a fresh empty server: seconds in $T
time_pipe() {
    local port t0 t1
    cat "$W/commands.resp" >/dev/null
    rm -rf "$W/pipe"
    port=$(free_port)
    start_redis "$W/pipe" "$port"
    t0=$EPOCHREALTIME
    redis-cli -p "$port" --pipe <"$W/commands.resp" >"$W/pipe.out"
    t1=$EPOCHREALTIME
    grep -q 'errors: 0' "$W/pipe.out" || { cat "$W/pipe.out" >&2; exit 1; }
    redis-cli -p "$port" debug digest >"$W/pipe.digest"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# one timed aofroll apply into a fresh empty restored server: seconds in $T
time_apply() {
    local port t0 t1
    cat "$W/archive"/bench/*/*/* >/dev/null
    rm -rf "$W/restored"
    port=$(free_port)
    "$BIN/aofroll" restore -c "$W/c.yaml" --instance bench --to latest --out "$W/restored" \
        --stop-before 'SELECT|SET' --start --port "$port" -- --bind 127.0.0.1 --save "" --auto-aof-rewrite-percentage 0 \
        --enable-debug-command yes >"$W/restore.out" || { cat "$W/restore.out" >&2; exit 1; }
    PIDS_TO_KILL+=("$(cat "$W/restored/redis.pid")")
    [ "$(redis-cli -p "$port" dbsize)" = 0 ] || { echo "apply.sh: the restored server is not empty" >&2; exit 1; }
    t0=$EPOCHREALTIME
    "$BIN/aofroll" apply -c "$W/c.yaml" --instance bench --to latest --from-dir "$W/restored" \
        --target "redis://127.0.0.1:$port" >"$W/apply.out" || { cat "$W/apply.out" >&2; exit 1; }
    t1=$EPOCHREALTIME
    redis-cli -p "$port" debug digest >"$W/apply.digest"
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    T=$(seconds "$t0" "$t1")
}

# Pairs, alternating which goes first (the same run varies by 20-40% here
# from one minute to the next; both halves of a pair share the weather):
# the median of the per-pair throughput ratios is the figure.
# check_pair RUN PIPE_S APPLY_S: both servers hold the same keyspace
check_pair() {
    cmp -s "$W/apply.digest" "$W/pipe.digest" ||
        { echo "apply.sh: digests differ: apply $(cat "$W/apply.digest"), pipe $(cat "$W/pipe.digest")" >&2; exit 1; }
    echo "pair $1: redis-cli --pipe $2 s, aofroll apply $3 s ($(grep -E '^(target|fetch)' "$W/apply.out" | tr '\n' ' '))" >&2
}
run_pairs "$RUNS" time_pipe time_apply check_pair

# columns swapped: pair_summary's ratio of times pipe / apply is apply's
# ratio of throughputs
read -r med_a best_a med_p best_p ratio lo hi ratio_best < <(awk '{ print $2, $1 }' "$W/pairs" | pair_summary /dev/stdin)
awk -v n="$COMMANDS" -v m="$RUNS" -v mp="$med_p" -v bp="$best_p" -v ma="$med_a" -v ba="$best_a" \
    -v q="$ratio" -v lo="$lo" -v hi="$hi" -v qb="$ratio_best" 'BEGIN {
    printf "commands: %d (the make-aof.sh AOF without its #TS: lines)\n", n
    printf "redis-cli --pipe:  median %7.3f s, best %7.3f s (%.2f M commands/s)\n", mp, bp, n / bp / 1e6
    printf "aofroll apply:     median %7.3f s, best %7.3f s (%.2f M commands/s)\n", ma, ba, n / ba / 1e6
    printf "ratio (apply / redis-cli --pipe throughput): median of %d pairs %.2fx (range %.2f-%.2f), of the bests %.2fx (target >= 1.0x)\n", m, q, lo, hi, qb
    printf "(warm page cache; fresh empty server each run; keyspace digests equal)\n"
}'
