# lib.sh - helpers the benchmark scripts share (sourced, not run).
#
#   free_port            a free loopback port below the ephemeral range
#   loaded PORT          true once the redis-server on PORT serves DBSIZE
#   seconds T0 T1        T1 - T0 ($EPOCHREALTIME values), 3 decimals
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
