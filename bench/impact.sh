#!/usr/bin/env bash
# impact.sh - what the collector costs the Redis it archives.
#
# Builds nothing: takes aofroll-collector from $AOFROLL_BENCH_BIN (a bin
# directory; default build/bin of this checkout; build it Release, without
# sanitizers).
#
# 1. Throughput: a redis-server loads a private copy of make-aof.sh's
#    >= 1 GB AOF (the backlog), then `redis-benchmark -P 16 -t set,get -n N
#    -r 1000000` (N = $BENCH_N, default 1,000,000) runs without and with
#    the collector shipping that backlog from offset 0 at its default
#    throttle (4 MiB chunks, 100 ms chunk_pause, 32 MiB/s, compression 1)
#    under `nice -n $NICE` (default 10, as docs/systemd sets), once per
#    setting of the instance key `priority` listed in $PRIORITIES (default
#    "idle", the default; e.g. "none normal low idle": "none" runs no
#    collector, which shows the noise of the machine), $RUNS times (default
#    10). Each pair runs back to back and the order within a pair alternates
#    (without first, then with first), so that a neighbour's load and any
#    drift of Redis over the runs fall on both sides alike. For each setting
#    it prints the median (and the range) of the per-pair ratios for SET and
#    GET with the verdict against $TARGET (0.95), the collector's CPU use
#    (user + system, /proc/PID/stat) as a share of one core, and the rate
#    at which it shipped meanwhile.
# 2. Idle CPU: one collector following 4 idle redis-servers (default
#    settings, poll every 1 s), its user+system CPU time over $IDLE_SECONDS
#    (default 60; 0 skips this part).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-10}
BENCH_N=${BENCH_N:-1000000}
NICE=${NICE:-10}
PRIORITIES=${PRIORITIES:-idle}
TARGET=${TARGET:-0.95}
IDLE_SECONDS=${IDLE_SECONDS:-60}
COLLECTOR=$BIN/aofroll-collector
CHUNK=$((4 * 1024 * 1024)) # the default chunk_size

bench_need aofroll-collector
command -v redis-benchmark >/dev/null || { echo "impact.sh: redis-benchmark not found" >&2; exit 1; }
for p in $PRIORITIES; do
    case $p in
    none | idle | low | normal) ;;
    *) echo "impact.sh: PRIORITIES: \"$p\" is not none, idle, low or normal" >&2; exit 2 ;;
    esac
done

bench_aof
bench_dir impact
# config FILE PRIORITY INSTANCE-PORTS...: default settings but for storage,
# index, barrier and priority ("" = the default)
config() {
    local file=$1 priority=$2 port
    shift 2
    {
        echo "storage:"
        echo "  url: file://$W/archive"
        echo "index: $W/index.db"
        echo "defaults:"
        echo "  barrier: \"off\""
        [ -n "$priority" ] && echo "  priority: $priority"
        echo "instances:"
        for port in "$@"; do
            echo "  - name: r$port"
            echo "    redis: redis://127.0.0.1:$port"
        done
    } >"$file"
}

# bench PORT: requests/s of SET and GET, "SET GET"
bench() {
    redis-benchmark -p "$1" -P 16 -t set,get -n "$BENCH_N" -r 1000000 -q 2>/dev/null | tr '\r' '\n' |
        awk '/^SET: .*requests per second/ { s = $2 } /^GET: .*requests per second/ { g = $2 } END { print s, g }'
}

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
chunks() { { find "$W/archive/r$PORT/gen-000001/incr" -name '*.gz' 2>/dev/null || true; } | wc -l; }

# with_collector PRIORITY: the benchmark while the collector ships the
# backlog; sets ON_SET ON_GET ON_CPU (% of one core) ON_RATE (MiB/s)
with_collector() {
    local p=$1 cpid c0 c1 n0 n1 w0 w1 total
    rm -rf "$W/archive" "$W/index.db"*
    if [ "$p" = none ]; then
        read -r ON_SET ON_GET <<<"$(bench "$PORT")"
        ON_CPU=0 ON_RATE=0
        return 0
    fi
    nice -n "$NICE" "$COLLECTOR" -c "$W/c-$p.yaml" 2>"$W/collector.log" &
    cpid=$!
    PIDS_TO_KILL+=("$cpid")
    for _ in $(seq 1 100); do
        [ "$(chunks)" -gt 0 ] && break
        sleep 0.1
    done
    c0=$(ticks "$cpid")
    n0=$(chunks)
    w0=$EPOCHREALTIME
    read -r ON_SET ON_GET <<<"$(bench "$PORT")"
    w1=$EPOCHREALTIME
    c1=$(ticks "$cpid")
    n1=$(chunks)
    kill -TERM "$cpid"
    wait "$cpid" || true
    total=$(stat -c %s "$W/redis/appendonlydir/appendonly.aof.1.incr.aof")
    [ $((n1 * CHUNK)) -lt "$total" ] || echo "impact.sh: warning: the backlog ran out during the run" >&2
    read -r ON_CPU ON_RATE < <(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$w0" -v b="$w1" \
        -v n=$((n1 - n0)) -v chunk="$CHUNK" 'BEGIN { print t / hz / (b - a) * 100, n * chunk / 1048576 / (b - a) }')
}

# --- 1. throughput with and without the collector shipping a backlog
echo "impact.sh: copying the AOF and loading it" >&2
mkdir -p "$W/redis"
cp -r "$AOFDIR" "$W/redis/appendonlydir"
[ -f "$W/redis/appendonlydir/appendonly.aof.manifest" ] || { echo "impact.sh: copy failed" >&2; exit 1; }
start_redis_on REDIS_PORT "$W/redis"
PORT=$REDIS_PORT
for p in $PRIORITIES; do
    [ "$p" = none ] || config "$W/c-$p.yaml" "$p" "$PORT"
done

RESULTS=$W/results # one line per pair: priority set_off get_off set_on get_on cpu rate
: >"$RESULTS"
k=0
for run in $(seq 1 "$RUNS"); do
    for p in $PRIORITIES; do
        k=$((k + 1))
        if [ $((k % 2)) = 1 ]; then
            read -r off_set off_get <<<"$(bench "$PORT")"
            with_collector "$p"
        else
            with_collector "$p"
            read -r off_set off_get <<<"$(bench "$PORT")"
        fi
        [ -n "$off_get" ] && [ -n "$ON_GET" ] || { echo "impact.sh: redis-benchmark failed" >&2; exit 1; }
        echo "run $run, priority $p: without SET $off_set/s GET $off_get/s;" \
            "with SET $ON_SET/s GET $ON_GET/s (collector ${ON_CPU%.*}% CPU, ${ON_RATE%.*} MiB/s)" >&2
        echo "$p $off_set $off_get $ON_SET $ON_GET $ON_CPU $ON_RATE" >>"$RESULTS"
    done
done

# --- 2. idle CPU with 4 idle instances
idle_line=
if [ "$IDLE_SECONDS" -gt 0 ]; then
    ports=()
    for i in 1 2 3 4; do
        start_redis_on REDIS_PORT "$W/idle$i"
        ports+=("$REDIS_PORT")
    done
    rm -rf "$W/archive" "$W/index.db"*
    config "$W/idle.yaml" "" "${ports[@]}"
    "$COLLECTOR" -c "$W/idle.yaml" 2>"$W/idle.log" &
    ipid=$!
    PIDS_TO_KILL+=("$ipid")
    sleep 5 # start-up done
    t0=$(ticks "$ipid")
    sleep "$IDLE_SECONDS"
    t1=$(ticks "$ipid")
    kill -TERM "$ipid"
    wait "$ipid" || true
    idle_line=$(awk -v dt=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v secs="$IDLE_SECONDS" 'BEGIN {
        printf "idle: 4 idle instances, poll 1 s: %.2f s CPU in %d s = %.3f%% of one core", dt / hz, secs, dt / hz / secs * 100 }')
fi

awk -v n="$BENCH_N" -v runs="$RUNS" -v nice="$NICE" -v target="$TARGET" -v order="$PRIORITIES" '
function median(a, m,    i, j, t, b) {
    for (i = 1; i <= m; i++) b[i] = a[i]
    for (i = 2; i <= m; i++) for (j = i; j > 1 && b[j - 1] > b[j]; j--) { t = b[j]; b[j] = b[j - 1]; b[j - 1] = t }
    return (m % 2) ? b[(m + 1) / 2] : (b[m / 2] + b[m / 2 + 1]) / 2
}
function lo(a, m,    i, v) { v = a[1]; for (i = 2; i <= m; i++) if (a[i] < v) v = a[i]; return v }
function hi(a, m,    i, v) { v = a[1]; for (i = 2; i <= m; i++) if (a[i] > v) v = a[i]; return v }
{
    p = $1; c = ++cnt[p]
    sr[p, c] = $4 / $2; gr[p, c] = $5 / $3; cpu[p, c] = $6; rate[p, c] = $7
    so[++no] = $2; go[no] = $3
}
END {
    printf "redis-benchmark -P 16 -t set,get -n %d -r 1000000; %d alternating pairs per setting; collector under nice %s:\n", n, runs, nice
    printf "  without the collector (median of all %d runs): SET %.0f/s  GET %.0f/s\n", no, median(so, no), median(go, no)
    printf "  %-8s %-22s %-22s %-16s %-11s %s\n", "priority", "SET ratio (range)", "GET ratio (range)", "collector CPU", "shipping", "verdict (target >= " target "x)"
    np = split(order, ps, " ")
    for (i = 1; i <= np; i++) {
        p = ps[i]; m = cnt[p]
        if (m == 0 || seen[p]++) continue
        for (j = 1; j <= m; j++) { s[j] = sr[p, j]; g[j] = gr[p, j]; u[j] = cpu[p, j]; r[j] = rate[p, j] }
        ms = median(s, m); mg = median(g, m)
        verdict = (ms >= target && mg >= target) ? "meets" : "misses"
        if (p == "none") verdict = "(no collector: the noise floor)"
        printf "  %-8s %.3fx (%.2f-%.2f)     %.3fx (%.2f-%.2f)     %4.1f%% of a core  %4.1f MiB/s  %s\n",
            p, ms, lo(s, m), hi(s, m), mg, lo(g, m), hi(g, m), median(u, m), median(r, m), verdict
    }
}' "$RESULTS"
[ -z "$idle_line" ] || echo "$idle_line"
