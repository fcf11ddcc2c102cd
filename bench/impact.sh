#!/usr/bin/env bash
# impact.sh - what the collector costs the Redis it archives.
#
# Builds nothing: takes aofroll-collector from $AOFROLL_BENCH_BIN (a bin
# directory; default /work/main/build/bin; build it Release, without
# sanitizers).
#
# 1. Throughput: a redis-server loads a private copy of make-aof.sh's
#    >= 1 GB AOF (the backlog), then `redis-benchmark -P 16 -t set,get -n N`
#    (N = $BENCH_N, default 2,000,000) runs alternately without and with the
#    collector shipping that backlog from offset 0 at its default throttle
#    (4 MiB chunks, 100 ms chunk_pause, 32 MiB/s) under `nice -n $NICE`
#    (default 10, as docs/systemd/aofroll-collector.service sets; with
#    SCHED=idle also under `chrt --idle 0`, CPUSchedulingPolicy=idle), $RUNS
#    times (default 5). Prints the median requests/s of each side and the
#    median of the per-pair ratios (target >= 0.95), and the collector's
#    CPU use during the runs. The runs alternate, so each pair shares
#    whatever load a neighbour puts on a shared machine, and the median
#    resists outliers.
# 2. Idle CPU: one collector following 4 idle redis-servers (default
#    settings, poll every 1 s), its user+system CPU time from /proc/PID/stat
#    over $IDLE_SECONDS (default 60).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${AOFROLL_BENCH_BIN:-/work/main/build/bin}
RUNS=${RUNS:-5}
BENCH_N=${BENCH_N:-2000000}
NICE=${NICE:-10}
SCHED=${SCHED:-}
IDLE_SECONDS=${IDLE_SECONDS:-60}
COLLECTOR=$BIN/aofroll-collector

[ -x "$COLLECTOR" ] || { echo "impact.sh: no $COLLECTOR (set AOFROLL_BENCH_BIN)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "impact.sh: redis-benchmark not found" >&2; exit 1; }

AOFDIR=$("$HERE/make-aof.sh")
W=$(mktemp -d "${AOFROLL_BENCH_DIR:-/tmp/aofroll-bench}/impact.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$W"
}
trap cleanup EXIT

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "impact.sh: no free port" >&2
    exit 1
}

# start_redis DIR: a redis-server on DIR, waited for until loaded; its port
# in $REDIS_PORT (another free port is tried when one is taken meanwhile)
start_redis() {
    local dir=$1 try pid
    mkdir -p "$dir"
    for try in 1 2 3; do
        REDIS_PORT=$(free_port)
        rm -f "$dir/redis.pid"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
            --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
            --appendonly yes --aof-timestamp-enabled yes --auto-aof-rewrite-percentage 0 >/dev/null
        for _ in $(seq 1 900); do
            if [ -s "$dir/redis.pid" ] && [ "$(redis-cli -p "$REDIS_PORT" info persistence 2>/dev/null |
                tr -d '\r' | sed -n 's/^loading://p')" = 0 ]; then
                PIDS+=("$(cat "$dir/redis.pid")")
                return 0
            fi
            pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
            [ -z "$pid" ] && grep -q "Address already in use" "$dir/redis.log" 2>/dev/null && break
            sleep 0.1
        done
    done
    echo "impact.sh: redis-server did not start in $dir (see $dir/redis.log)" >&2
    exit 1
}

# config FILE INSTANCE-PORTS...: default settings but for storage, index, barrier
config() {
    local file=$1 port
    shift
    {
        echo "storage:"
        echo "  url: file://$W/archive"
        echo "index: $W/index.db"
        echo "defaults:"
        echo "  barrier: \"off\""
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

# median VALUES...
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# --- 1. throughput with and without the collector shipping a backlog
echo "impact.sh: copying the AOF and loading it" >&2
mkdir -p "$W/redis"
cp -r "$AOFDIR" "$W/redis/appendonlydir"
[ -f "$W/redis/appendonlydir/appendonly.aof.manifest" ] || { echo "impact.sh: copy failed" >&2; exit 1; }
start_redis "$W/redis"
PORT=$REDIS_PORT
config "$W/c.yaml" "$PORT"

set_off=() get_off=() set_on=() get_on=() set_ratio=() get_ratio=() cpu=()
for run in $(seq 1 "$RUNS"); do
    read -r s g <<<"$(bench "$PORT")"
    echo "run $run without the collector: SET $s/s GET $g/s" >&2
    set_off+=("$s")
    get_off+=("$g")

    rm -rf "$W/archive" "$W/index.db"*
    if [ "$SCHED" = idle ]; then
        chrt --idle 0 nice -n "$NICE" "$COLLECTOR" -c "$W/c.yaml" 2>"$W/collector.log" &
    else
        nice -n "$NICE" "$COLLECTOR" -c "$W/c.yaml" 2>"$W/collector.log" &
    fi
    cpid=$!
    PIDS+=("$cpid")
    for _ in $(seq 1 100); do
        [ -n "$(ls "$W/archive/r$PORT/gen-000001/incr" 2>/dev/null)" ] && break
        sleep 0.1
    done
    c0=$(awk '{ print $14 + $15 }' "/proc/$cpid/stat")
    w0=$EPOCHREALTIME
    read -r s g <<<"$(bench "$PORT")"
    c1=$(awk '{ print $14 + $15 }' "/proc/$cpid/stat")
    cpu+=("$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v a="$w0" -v b="$EPOCHREALTIME" 'BEGIN { print t / hz / (b - a) * 100 }')")
    shipped=$(ls "$W/archive/r$PORT/gen-000001/incr" | wc -l)
    total=$(stat -c %s "$W/redis/appendonlydir/appendonly.aof.1.incr.aof")
    kill -TERM "$cpid"
    wait "$cpid" || true
    [ $((shipped * 4 * 1024 * 1024)) -lt "$total" ] ||
        echo "impact.sh: warning: the backlog ran out during the run" >&2
    echo "run $run with the collector shipping ($shipped chunks by the end): SET $s/s GET $g/s" >&2
    set_on+=("$s")
    get_on+=("$g")
    set_ratio+=("$(awk -v a="$s" -v b="${set_off[-1]}" 'BEGIN { print a / b }')")
    get_ratio+=("$(awk -v a="$g" -v b="${get_off[-1]}" 'BEGIN { print a / b }')")
done

# --- 2. idle CPU with 4 idle instances
ports=()
for i in 1 2 3 4; do
    start_redis "$W/idle$i"
    ports+=("$REDIS_PORT")
done
rm -rf "$W/archive" "$W/index.db"*
config "$W/idle.yaml" "${ports[@]}"
"$COLLECTOR" -c "$W/idle.yaml" 2>"$W/idle.log" &
ipid=$!
PIDS+=("$ipid")
sleep 5 # start-up done
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t0=$(ticks "$ipid")
sleep "$IDLE_SECONDS"
t1=$(ticks "$ipid")
kill -TERM "$ipid"
wait "$ipid" || true
hz=$(getconf CLK_TCK)

awk -v so="$(median "${set_off[@]}")" -v go="$(median "${get_off[@]}")" \
    -v sn="$(median "${set_on[@]}")" -v gn="$(median "${get_on[@]}")" -v runs="$RUNS" \
    -v sr="$(median "${set_ratio[@]}")" -v gr="$(median "${get_ratio[@]}")" -v cpu="$(median "${cpu[@]}")" \
    -v n="$BENCH_N" -v nice="$NICE${SCHED:+, sched $SCHED}" -v dt=$((t1 - t0)) -v hz="$hz" -v secs="$IDLE_SECONDS" 'BEGIN {
    printf "redis-benchmark -P 16 -t set,get -n %d (median of %d runs each):\n", n, runs
    printf "  without the collector:            SET %10.0f/s  GET %10.0f/s\n", so, go
    printf "  collector shipping (nice %s): SET %10.0f/s  GET %10.0f/s\n", nice, sn, gn
    printf "  ratio (median of the pairs):      SET %9.3fx  GET %9.3fx (target >= 0.95x)\n", sr, gr
    printf "  collector CPU while shipping:     %.0f%% of one core (median)\n", cpu
    printf "idle: 4 idle instances, poll 1 s: %.2f s CPU in %d s = %.3f%% of one core\n",
        dt / hz, secs, dt / hz / secs * 100
}'
