# collector.sh - running aofroll-collector in a scenario (sourced after
# scenario.sh): its configuration, starting and stopping it, the writer
# that gives it something to archive, and the checks on what it stored.
#
# writer.py speaks RESP over a raw socket so that values can hold any byte
# (\r\n, NUL); check_chunks asserts that a generation's chunk objects join
# without gap, overlap or duplicate; archive_equals compares the gunzipped
# chunks with a file byte for byte.

COLLECTOR=$BIN/aofroll-collector
WRITER_PY=$HARNESS_LIB/writer.py

# config_tail INDEX [instance lines...]: what follows storage: in a test
# config: INDEX, polls every 100 ms, no pause between chunks
config_tail() {
    local line
    echo "index: $1"
    shift
    echo "defaults:"
    echo "  poll_interval: 100ms"
    echo "  chunk_pause: 0ms"
    echo "instances:"
    for line in "$@"; do
        echo "$line"
    done
}

# write_config FILE STORAGE_DIR INDEX [instance lines...]: a minimal config
# storing in the storage under test (store_url STORAGE_DIR)
write_config() {
    local file=$1 storage=$2
    shift 2
    {
        echo "storage:"
        echo "  url: $(store_url "$storage")"
        if [ "$TEST_STORAGE" = azure ]; then
            echo "  azure:"
            echo "    endpoint: $AZ_ENDPOINT"
        fi
        config_tail "$@"
    } >"$file"
}

# s3_config FILE INDEX INSTANCE-LINES...: a config storing in
# s3://BUCKET/arch through the fault proxy (services.sh), polling every
# 100 ms
s3_config() {
    local file=$1
    shift
    {
        echo "storage:"
        echo "  url: s3://$BUCKET/arch"
        echo "  s3:"
        echo "    endpoint: http://127.0.0.1:$PROXY_PORT"
        echo "    region: us-east-1"
        echo "    path_style: true"
        config_tail "$@"
    } >"$file"
}

# main_config FILE INDEX STORAGE-LINES...: a config for one instance "main"
# (the redis-server on $PORT) storing where STORAGE-LINES (the lines under
# "storage:") say, the index copied every 2 s, 64 KiB chunks, no barrier:
# the collector the storage fault scenarios run through outages
main_config() {
    local file=$1 index=$2
    shift 2
    {
        echo "storage:"
        printf '%s\n' "$@"
        echo "index: $index"
        echo "index_upload_interval: 2s"
        echo "defaults:"
        echo "  poll_interval: 100ms"
        echo "  chunk_pause: 0ms"
        echo "  chunk_size: 64KiB"
        echo '  barrier: "off"'
        echo "instances:"
        echo "  - name: main"
        echo "    redis: redis://127.0.0.1:$PORT"
    } >"$file"
}

# collector_config FILE ARCHIVE INDEX INSTANCE-LINES... : write_config plus
# chunk_size 64KiB (the scenarios' values exceed it)
collector_config() {
    local file=$1
    write_config "$@"
    sed -i 's/^  chunk_pause: 0ms$/  chunk_pause: 0ms\n  chunk_size: 64KiB/' "$file"
}

# collector_redis [redis-server options...]: the collector scenarios' server:
# a redis-server in $R ($T/redis) on $PORT, to be archived into $ARCH
# ($T/archive)
collector_redis() {
    PORT=$(free_port)
    R=$T/redis
    ARCH=$T/archive
    start_redis "$R" "$PORT" "$@"
}

# live_config CHUNK_SIZE [INSTANCE LINES...]: the scenarios' usual set-up:
# a redis-server in $T/live on $PORT, archived by instance "live" in
# CHUNK_SIZE chunks ("-": the default) and the settings LINES add, into $STORE ($T/store)
# under the config $CFG ($T/aofroll.yaml), index $T/index.db
live_config() {
    local chunk=$1
    shift
    PORT=$(free_port)
    start_redis "$T/live" "$PORT"
    CFG=$T/aofroll.yaml
    STORE=$T/store
    if [ "$chunk" = - ]; then
        write_config "$CFG" "$STORE" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "$@"
    else
        write_config "$CFG" "$STORE" "$T/index.db" \
            "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: $chunk" "$@"
    fi
}

# collect ARGS...: aofroll-collector -c $CFG ARGS, its output appended to
# $T/collector.log; fails the scenario when it fails
collect() {
    "$COLLECTOR" -c "$CFG" "$@" >>"$T/collector.log" 2>&1 || fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}

# writer MODE PORT ARGS...: writer.py (see its header); fails the scenario
# when it fails
writer() {
    python3 "$WRITER_PY" "$@" || fail "writer $* failed"
}

# check_chunks DIR: the objects in DIR (gen-N/base or gen-N/incr) start
# at 0 and join exactly; prints the total length
check_chunks() {
    local dir=$1 prev=0 name start end
    for name in $(ls "$dir" | sort); do
        [[ $name =~ ^([0-9]{20})-([0-9]{20})[._] ]] || fail "unexpected object name $dir/$name"
        start=$((10#${BASH_REMATCH[1]}))
        end=$((10#${BASH_REMATCH[2]}))
        [ "$start" = "$prev" ] || fail "chunks in $dir do not join: $name starts at $start, expected $prev"
        [ "$end" -gt "$start" ] || fail "empty chunk $dir/$name"
        prev=$end
    done
    echo "$prev"
}

# archive_equals DIR FILE...: the gunzipped chunks of DIR equal the files' concatenation
archive_equals() {
    local dir=$1
    shift
    check_chunks "$dir" >/dev/null
    cmp <(cat "$dir"/*.gz | gunzip) <(cat "$@") >/dev/null ||
        fail "archive $dir differs from $*: $(cmp <(cat "$dir"/*.gz | gunzip) <(cat "$@") 2>&1 | head -1)"
}

# archived_size DIR: total length of the chunks in DIR (0 when none)
archived_size() {
    if [ -d "$1" ] && [ -n "$(ls "$1")" ]; then
        check_chunks "$1"
    else
        echo 0
    fi
}

# wait_archived DIR FILE TIMEOUT: until DIR's chunks cover FILE's size
wait_archived() {
    local dir=$1 file=$2 limit=$3
    local deadline=$((SECONDS + limit))
    while [ "$(archived_size "$dir")" != "$(stat -c %s "$file")" ]; do
        [ $SECONDS -lt "$deadline" ] || fail "$dir did not reach $(stat -c %s "$file") B of $file in ${limit}s (has $(archived_size "$dir"))"
        sleep 0.1
    done
}

# collector_start LOG ARGS...: run the collector in the background, its
# output appended to LOG; its pid in $CPID, killed at exit
collector_start() {
    local log=$1
    shift
    "$COLLECTOR" "$@" >>"$log" 2>&1 &
    CPID=$!
    PIDS_TO_KILL+=("$CPID")
}

# collector_stop: SIGTERM $CPID, expect exit 0 within 5 s
collector_stop() {
    kill -TERM "$CPID"
    local i
    for i in $(seq 1 100); do
        kill -0 "$CPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$CPID" 2>/dev/null && fail "collector $CPID did not stop within 5 s of SIGTERM"
    wait "$CPID"
    local rc=$?
    [ "$rc" = 0 ] || fail "collector exited $rc after SIGTERM"
}

# start_collector CONFIG: collector_start with CONFIG, logging to
# $T/collector.log; its pid also in $COLLECTOR_PID
start_collector() {
    collector_start "$T/collector.log" -c "$1"
    COLLECTOR_PID=$CPID
}

# stop_collector CONFIG: SIGTERM it, then ship whatever is left with --once
stop_collector() {
    kill -TERM "$COLLECTOR_PID" 2>/dev/null
    wait "$COLLECTOR_PID" 2>/dev/null
    "$COLLECTOR" -c "$1" --once >>"$T/collector.log" 2>&1 ||
        fail "aofroll-collector --once failed: $(tail -5 "$T/collector.log")"
}

# collect CONFIG ARGS...: aofroll-collector -c CONFIG ARGS in the
# foreground, logging to $T/collector.log; fails the scenario when it fails
collect_with() {
    local cfg=$1
    shift
    "$COLLECTOR" -c "$cfg" "$@" >>"$T/collector.log" 2>&1 ||
        fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}

# no_temp_files ARCHIVE: nothing half-written is left in the archive
no_temp_files() {
    local left
    left=$(find "$1" -type f \( -path '*/.tmp/*' -o ! -name '*.gz' \) ! -name 'index.db' | head -5)
    [ -z "$left" ] || fail "stray files in the archive: $left"
}

# index_query INDEX SQL: a value from the index
index_query() {
    sqlite3 "$1" "$2"
}
