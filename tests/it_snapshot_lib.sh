# it_snapshot_lib.sh - helpers of the snapshot scenarios (tests/it_snapshot*.sh).
# Sourced after lib.sh; not a scenario itself.

# start_redis_on VAR DIR [redis-server options...]: like start_redis (lib.sh),
# on a port of its own choosing, set in VAR. free_port only proves that
# nothing listened a moment ago; the scenarios of a parallel ctest run open
# client sockets from the same range, so a port taken in between is
# replaced by another (five tries) instead of failing the scenario.
start_redis_on() {
    local var=$1 dir=$2 port try
    shift 2
    mkdir -p "$dir"
    for try in 1 2 3 4 5; do
        port=$(free_port)
        rm -f "$dir/redis.log" "$dir/redis.pid"
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
            --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
            --appendonly yes --aof-timestamp-enabled yes --auto-aof-rewrite-percentage 0 \
            --enable-debug-command yes "$@" >/dev/null || fail "redis-server did not start in $dir"
        wait_until 10 bash -c "redis-cli -p $port ping || grep -q 'Failed listening' '$dir/redis.log'" ||
            fail "redis-server on port $port did not answer"
        if redis-cli -p "$port" ping >/dev/null 2>&1; then
            wait_until 10 test -s "$dir/redis.pid" || fail "no pidfile in $dir"
            PIDS_TO_KILL+=("$(cat "$dir/redis.pid")")
            printf -v "$var" '%s' "$port"
            return 0
        fi
    done
    fail "redis-server in $dir found no free port: $(tail -1 "$dir/redis.log")"
}
