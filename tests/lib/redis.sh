# redis.sh - the Redis servers of the harness (sourced after base.sh): which
# server is under test, the one way a test server is launched, and the
# client helpers the scenarios, benchmarks and demo share.
#
# AOFROLL_REDIS_SERVER names a redis-server or valkey-server binary; unset,
# whatever redis-server is on PATH (Debian's 7.0) is used. server_use DIR
# links that binary as DIR/redis-server and its companions from the same
# directory (redis-cli, redis-check-aof, redis-check-rdb, redis-benchmark,
# or their valkey-* names) beside it, and puts DIR first on PATH: every
# `redis-server`/`redis-cli` a script runs, and the redis-server that
# `aofroll restore --start` starts, are then that build's.

# server_use DIR: returns non-zero with a message on stderr when the binary
# or one of its companions is missing.
server_use() {
    local dir=$1 server=${AOFROLL_REDIS_SERVER:-} from tool cand
    [ -n "$server" ] || return 0
    [ -x "$server" ] || {
        echo "AOFROLL_REDIS_SERVER=$server is not an executable" >&2
        return 1
    }
    from=$(dirname "$server")
    mkdir -p "$dir"
    ln -sf "$server" "$dir/redis-server"
    for tool in cli check-aof check-rdb benchmark; do
        for cand in "$from/redis-$tool" "$from/valkey-$tool" ""; do
            [ -z "$cand" ] || [ -x "$cand" ] && break
        done
        [ -n "$cand" ] || {
            echo "AOFROLL_REDIS_SERVER=$server: no redis-$tool or valkey-$tool beside it" >&2
            return 1
        }
        ln -sf "$cand" "$dir/redis-$tool"
    done
    PATH=$dir:$PATH
    export PATH
}

# redis_launch DIR PORT [redis-server options...]: the launch line of every
# test server: daemonized on 127.0.0.1:PORT in DIR (created), pid in
# DIR/redis.pid, log in DIR/redis.log, no RDB saves, AOF on with #TS
# annotations, no automatic rewrite, DEBUG allowed; OPTIONS come last and
# override. Returns redis-server's status (it forks once the config is read).
redis_launch() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
        --appendonly yes --aof-timestamp-enabled yes --auto-aof-rewrite-percentage 0 \
        --enable-debug-command yes "$@" >/dev/null
}

# served PORT: the server on PORT answers a data command (DBSIZE), so it has
# loaded its data set. PING is not enough: between an AOF's base and incr
# file INFO says loading:0 and PING answers, with half the data loaded.
served() {
    [[ $(redis-cli -p "$1" dbsize 2>/dev/null) =~ ^[0-9]+$ ]]
}

# answers PORT: a server on PORT answers (PONG, or LOADING while it loads)
answers() {
    [[ $(redis-cli -p "$1" ping 2>&1) =~ PONG|LOADING ]]
}

# start_redis DIR PORT [redis-server options...]: redis_launch, returning
# once the server has loaded what DIR holds (within $REDIS_LOAD_S seconds,
# default 60). Its pid is in DIR/redis.pid and is killed at exit.
start_redis() {
    local dir=$1 port=$2
    shift 2
    redis_launch "$dir" "$port" "$@" || fail "redis-server did not start in $dir"
    wait_until 10 answers "$port" || fail "redis-server on port $port did not answer"
    wait_until "${REDIS_LOAD_S:-60}" served "$port" || fail "redis-server on port $port did not finish loading"
    wait_until 10 test -s "$dir/redis.pid" || fail "no pidfile in $dir"
    PIDS_TO_KILL+=("$(cat "$dir/redis.pid")")
}

# start_redis_on VAR DIR [redis-server options...]: like start_redis, on a
# port of its own choosing, set in VAR. free_port only proves that nothing
# listened a moment ago; scripts run in parallel open client sockets from
# the same range, so a port taken in between is replaced by another (five
# tries) instead of failing.
start_redis_on() {
    local var=$1 dir=$2 port try
    shift 2
    mkdir -p "$dir"
    for try in 1 2 3 4 5; do
        port=$(free_port)
        rm -f "$dir/redis.log" "$dir/redis.pid"
        redis_launch "$dir" "$port" "$@" || fail "redis-server did not start in $dir"
        wait_until 10 bash -c "[[ \$(redis-cli -p $port ping 2>&1) =~ PONG|LOADING ]] || grep -q 'Failed listening' '$dir/redis.log'" ||
            fail "redis-server on port $port did not answer"
        if answers "$port"; then
            wait_until "${REDIS_LOAD_S:-60}" served "$port" || fail "redis-server on port $port did not finish loading"
            wait_until 10 test -s "$dir/redis.pid" || fail "no pidfile in $dir"
            PIDS_TO_KILL+=("$(cat "$dir/redis.pid")")
            printf -v "$var" '%s' "$port"
            return 0
        fi
    done
    fail "redis-server in $dir found no free port: $(tail -1 "$dir/redis.log")"
}

# stop_redis DIR: SIGTERM the server whose pid is in DIR/redis.pid, wait.
stop_redis() {
    local pid
    pid=$(cat "$1/redis.pid" 2>/dev/null) || return 0
    kill "$pid" 2>/dev/null
    wait_until 20 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null
}

# rcli PORT args...: redis-cli against a test server
rcli() {
    local port=$1
    shift
    redis-cli -p "$port" "$@"
}

# digest PORT: DEBUG DIGEST of the whole keyspace (all dbs, TTLs included)
digest() {
    redis-cli -p "$1" debug digest
}

# dump_keyspace PORT: a readable, sorted dump of every db (for diffs on failure)
dump_keyspace() {
    local port=$1 db key
    for db in $(redis-cli -p "$port" info keyspace | sed -n 's/^db\([0-9]*\):.*/\1/p'); do
        redis-cli -p "$port" -n "$db" --scan | sort | while IFS= read -r key; do
            printf 'db%s %s %s\n' "$db" "$key" "$(redis-cli -p "$port" -n "$db" debug digest-value "$key")"
        done
    done
}

# incr_files DIR: the incr files of DIR/appendonlydir in manifest order
incr_files() {
    awk '$6 == "i" || $6 == "h" {print $2}' "$1/appendonlydir/appendonly.aof.manifest"
}

# current_incr DIR: the incr file the manifest names last
current_incr() {
    awk '$6 == "i" { f = $2 } END { print f }' "$1/appendonlydir/appendonly.aof.manifest"
}

# wait_rewrite PORT: until no rewrite is in progress or scheduled
wait_rewrite() {
    local port=$1
    wait_until 60 bash -c "[ \$(redis-cli -p $port info persistence |
        grep -c '^aof_rewrite_in_progress:0\|^aof_rewrite_scheduled:0') = 2 ]" ||
        fail "the rewrite on port $port did not end in 60 s"
}
