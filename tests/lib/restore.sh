# restore.sh - restore and apply helpers (sourced after scenario.sh): the
# workload the restore, apply and inspection scenarios archive, and a
# restore started on a free port.
#
# The workload is per-second deterministic: each batch is written within
# one wall-clock second, then the scenario sleeps to the next second and
# records DEBUG DIGEST of the live server - the state at the end of the
# batch's second, which a restore to that second must reproduce.

# resp FILE ARG...: append one command in RESP to FILE; each ARG goes
# through printf %b, so '\r\n', '\x00' etc. become the raw bytes.
resp() {
    local f=$1 a n LC_ALL=C
    shift
    {
        printf '*%d\r\n' $#
        for a in "$@"; do
            # without escapes the bytes are the string itself: no subshell
            if [[ $a == *\\* ]]; then n=$(printf '%b' "$a" | wc -c); else n=${#a}; fi
            printf '$%d\r\n' "$n"
            printf '%b\r\n' "$a"
        done
    } >>"$f"
}

# workload_batch PORT I: workload_prepare I, then workload_send PORT I.
workload_batch() {
    workload_prepare "$2"
    workload_send "$1" "$2"
}

# workload_prepare I: the file of one second's writes - strings, hashes, lists, sets,
# sorted sets, streams, HyperLogLogs, bitmaps, far-future expiries, three
# dbs, a MULTI/EXEC, Lua scripts (one write, and several: logged as a
# MULTI block, in db 1 with its SELECT inside the block on Redis 7.2 and
# later), values with "\r\n" and binary bytes, and (odd I) a value larger
# than the 64 KiB chunks. Made before the second it is sent in, so that
# only sending counts against that second on a busy machine.
workload_prepare() {
    local i=$1 f="$T/batch.$1"
    : >"$f"
    resp "$f" SET "s:$i" "value-$i"
    resp "$f" INCR counter
    resp "$f" APPEND log "$i,"
    resp "$f" HSET "h:$i" f1 "v$i" f2 "w$i"
    resp "$f" HINCRBY hcount f 1
    resp "$f" RPUSH list "a$i" "b$i" "c$i"
    resp "$f" LPOP list
    resp "$f" SADD set "m$i" "n$i"
    resp "$f" SREM set "n$((i - 1))"
    resp "$f" ZADD z "$i" "m$i"
    resp "$f" ZINCRBY z 1.5 m1
    resp "$f" SET "ttl:$i" v EX 100000
    resp "$f" EXPIRE "s:$i" 200000
    resp "$f" SET "crlf:$i" 'a\r\nb\r\n'
    resp "$f" SET "bin:$i" '\x00\xff\x01\r\n\x80*3\r\n$end'
    resp "$f" XADD stream "*" f "v$i"
    resp "$f" PFADD hll "e$i" "x"
    resp "$f" SETBIT bits "$((i * 3))" 1
    resp "$f" PEXPIRE "h:$i" 300000000
    resp "$f" EVAL "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])" 2 "lua:$i" luacount "v$i"
    resp "$f" EVAL "return redis.call('RPUSH', KEYS[1], ARGV[1])" 1 lualist "$i"
    resp "$f" SELECT 1
    resp "$f" SET "db1:$i" "v$i"
    resp "$f" SELECT 2
    resp "$f" LPUSH l2 "$i"
    # a script writing twice in another db: 7.0 logs SELECT 1, MULTI, ...;
    # 7.2 and later MULTI, SELECT 1, ... (the SELECT inside the block)
    resp "$f" SELECT 1
    resp "$f" EVAL "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])" 2 "db1lua:$i" db1luacount "v$i"
    resp "$f" SELECT 0
    resp "$f" MULTI
    resp "$f" SET "t:$i" "v$i"
    resp "$f" INCR txcount
    resp "$f" HSET th "f$i" "v$i"
    resp "$f" EXEC
    [ $((i % 2)) = 0 ] || head -c 100000 /dev/urandom >"$T/big.$i"
}

# workload_send PORT I: the writes workload_prepare I made, to PORT
workload_send() {
    local port=$1 i=$2 f="$T/batch.$2"
    redis-cli -p "$port" --pipe <"$f" >"$f.out" 2>&1 || fail "batch $i: redis-cli --pipe failed: $(cat "$f.out")"
    grep -q 'errors: 0' "$f.out" || fail "batch $i: $(cat "$f.out")"
    if [ $((i % 2)) = 1 ]; then
        redis-cli -p "$port" -x SET "big:$i" <"$T/big.$i" >/dev/null || fail "batch $i: big value"
    fi
}

# run_seconds PORT FIRST LAST: batches FIRST..LAST, one per second; sets
# SEC[i] (the batch's unix second) and DIG[i] (the digest at its end).
declare -A SEC DIG
run_seconds() {
    run_batches "$1" "$2" "$3" SEC DIG 0
}

# run_batches PORT FIRST LAST SECS DIGS GAP: run_seconds into the
# associative arrays named SECS and DIGS; GAP seconds without writes
# separate two batches. Each batch's file is made in the second before it
# is sent, so that only sending counts against its second.
run_batches() {
    local port=$1 gap=$6 i k
    local -n secs=$4 digs=$5
    workload_prepare "$2"
    sleep_to_next_second
    for i in $(seq "$2" "$3"); do
        secs[$i]=$(date +%s)
        workload_send "$port" "$i"
        [ "$(date +%s)" = "${secs[$i]}" ] || fail "batch $i did not fit in one second"
        [ "$i" = "$3" ] || workload_prepare $((i + 1))
        sleep_to_next_second
        digs[$i]=$(digest "$port")
        for ((k = 0; k < gap; k++)); do
            sleep_to_next_second
        done
    done
}

# rewrite_then_collect PORT CONFIG: BGREWRITEAOF (a base holding what the
# server has), then the collector started on CONFIG, a second later
rewrite_then_collect() {
    rcli "$1" bgrewriteaof >/dev/null
    wait_rewrite "$1"
    sleep 1
    start_collector "$2"
    sleep 1
}

# restore_started DIR ARGS...: aofroll restore ... --out DIR --start on a
# free port (debug commands on, for DEBUG DIGEST); sets RPORT; the server is
# killed at exit. A port taken meanwhile by another process is retried.
restore_started() {
    local dir=$1 try
    shift
    for try in 1 2 3; do
        RPORT=$(free_port)
        if "$BIN/aofroll" restore "$@" --out "$dir" --start --port "$RPORT" -- --enable-debug-command yes \
            >"$dir.out" 2>"$dir.err"; then
            PIDS_TO_KILL+=("$(cat "$dir/redis.pid")")
            return 0
        fi
        grep -qE 'already in use|Failed listening' "$dir.err" || break
        rm -rf "$dir"
    done
    fail "restore to $dir failed: $(cat "$dir.err")"
}
