# lib.sh - helpers the benchmark scripts share (sourced, not run).
#
#   free_port            a free loopback port below the ephemeral range
#   loaded PORT          true once the redis-server on PORT serves DBSIZE
#   seconds T0 T1        T1 - T0 ($EPOCHREALTIME values), 3 decimals
#   link_aofdir SRC DIR  DIR/appendonlydir: SRC's manifest copied, its data
#                        files linked (a server that only loads them)
#   start_server DIR PORT
#                        redis-server on DIR (AOF on, #TS annotations, no
#                        RDB saves, no rewrites, DEBUG allowed), daemonized;
#                        returns once it serves; its pid is added to PIDS
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

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$((10000 + RANDOM % 20000)) # below the ephemeral range
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "$(basename "$0"): no free port" >&2
    exit 1
}

loaded() { # INFO can show loading:0 between the base and the incr file
    local r
    r=$(redis-cli -p "$1" dbsize 2>/dev/null) && [[ $r =~ ^[0-9]+$ ]]
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

start_server() {
    mkdir -p "$1"
    redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --daemonize yes --pidfile "$1/redis.pid" \
        --logfile "$1/redis.log" --save "" --appendonly yes --aof-timestamp-enabled yes --auto-aof-rewrite-percentage 0 \
        --enable-debug-command yes >/dev/null
    until [ -s "$1/redis.pid" ] && loaded "$2"; do sleep 0.01; done
    PIDS+=("$(cat "$1/redis.pid")")
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
