# server_lib.sh - which redis-server the scenarios and benchmarks run
# (sourced by tests/lib.sh and bench/lib.sh, not run).
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
