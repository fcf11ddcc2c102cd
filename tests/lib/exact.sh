# exact.sh - helpers of the exactness scenarios (tests/it_exact_*.sh).
# Sourced after scenario.sh and collector.sh.
#
# A writer that never pauses (tests/exactness.py write: SET, INCR, LPUSH,
# MULTI/EXEC, EVAL, SELECT at a steady rate, plus redis-benchmark bursts), a
# watcher that hard-links every file of the AOF directory as it appears
# (Redis unlinks old files when a rewrite completes), and the check that
# compares `aofroll restore --to @T` for every second with
# `redis-check-aof --truncate-to-timestamp T` on those files.

EXACTNESS=$SRC/tests/exactness.py

# exact_redis: a redis-server in $T/redis on $PORT; the collector's
# configuration will be $CFG, its index $INDEX
exact_redis() {
    PORT=$(free_port)
    R=$T/redis
    CFG=$T/c.yaml
    INDEX=$T/index.db
    start_redis "$R" "$PORT"
}

# wait_first_generation: until generation 1's base is shipped; its base
# time (the first second the archive restores) in $T0
wait_first_generation() {
    wait_until 20 bash -c "[ \"\$(sqlite3 '$INDEX' 'select count(*) from generations where base_complete = 1')\" -ge 1 ]" ||
        fail "the collector did not open generation 1: $(tail -5 "$T/collector.log")"
    T0=$(sqlite3 "$INDEX" "select base_time from generations where generation = 1")
}

# start_writers PORT RATE SEED: the python writer (RATE commands/s) and a
# loop of redis-benchmark bursts; both reconnect across Redis restarts. Each
# burst is bounded by timeout(1): a benchmark left behind when the loop is
# killed, or spinning against a server that died, ends on its own.
start_writers() {
    local port=$1 rate=$2 seed=$3
    python3 "$EXACTNESS" write "$port" "$rate" "$seed" >>"$T/writer.log" 2>&1 &
    WRITER_PIDS=("$!")
    PIDS_TO_KILL+=("$!")
    (
        while :; do
            timeout -k 1 10 redis-benchmark -p "$port" -c 1 -P 1 -n 150 -r 5000 -t set,incr,lpush -q >/dev/null 2>&1
            sleep 0.2
        done
    ) &
    WRITER_PIDS+=("$!")
    PIDS_TO_KILL+=("$!")
}

stop_writers() {
    local pid
    for pid in "${WRITER_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    # a redis-benchmark of the loop may still run: wait for its burst
    sleep 0.5
}

# start_watcher AOFDIR: hard links into $T/links
start_watcher() {
    python3 "$EXACTNESS" watch "$1" "$T/links" >>"$T/watcher.log" 2>&1 &
    WATCHER_PID=$!
    PIDS_TO_KILL+=("$!")
    wait_until 10 test -s "$T/links/names" || fail "the watcher did not start"
}

stop_watcher() {
    kill "$WATCHER_PID" 2>/dev/null
    wait "$WATCHER_PID" 2>/dev/null
}

# wait_shipped INDEX DIR TIMEOUT: until the newest generation's incr chunks
# reach the size of the incr file Redis writes now
wait_shipped() {
    local index=$1 dir=$2 limit=$3 f size
    local deadline=$((SECONDS + limit))
    while :; do
        f=$dir/appendonlydir/$(current_incr "$dir")
        size=$(stat -c %s "$f")
        [ "$(sqlite3 "$index" "select coalesce(max(c.end), 0) from chunks c join generations g using (instance_id, generation) where c.kind = 'incr' and g.incr_file = '$(basename "$f")'")" = "$size" ] && return 0
        [ $SECONDS -lt "$deadline" ] || fail "the archive did not reach $size B of $f in ${limit}s"
        sleep 0.2
    done
}

# barrier_now CONFIG: --barrier-now through the running collector, which
# must answer within 90 s
barrier_now() {
    timeout 90 "$COLLECTOR" -c "$1" --barrier-now >"$T/barrier.out" 2>&1 ||
        fail "--barrier-now failed (exit $?) under a busy writer: $(tail -3 "$T/barrier.out")"
}

# run_check ARGS...: the exactness check (tests/exactness.py check)
run_check() {
    python3 "$EXACTNESS" check --bin "$BIN" --work "$T/check" --links "$T/links" "$@"
}
