# it_faults_storage_lib.sh - S3 that fails on demand, for the fault
# scenarios (tests/it_faults_storage_s3.sh, tests/it_restore_faults.sh).
# Sourced after lib.sh; not a scenario itself.
#
# moto_server plays S3; tests/s3_faultproxy.py stands in front of it and is
# what aofroll talks to. The proxy checks every SigV4 signature against the
# secret exported here, counts requests and injects faults (HTTP errors,
# dropped or hung connections; see its header). Killing the proxy makes the
# storage unreachable (connection refused) while moto, which holds the
# objects in memory, keeps them; a proxy started again on the same port
# brings the storage back as it was.

SRC=${AOFROLL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUCKET=aofroll-test
export AWS_ACCESS_KEY_ID=AKIAFAULTS0000000000 AWS_SECRET_ACCESS_KEY=faults/secret/0123456789abcdefghijklmn
unset AWS_SESSION_TOKEN AWS_PROFILE

# have_moto: moto_server and python3 are installed
have_moto() {
    command -v moto_server >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1
}

# start_server NAME URL_PATH CMD...: run CMD (with @PORT@ replaced by a free
# port) until it answers on URL_PATH; a port taken in between gets another
# try. Sets SERVER_PORT and SERVER_PID; the server is killed at exit.
start_server() {
    local name=$1 path=$2
    shift 2
    for _ in 1 2 3; do
        SERVER_PORT=$(free_port)
        "${@//@PORT@/$SERVER_PORT}" >>"$T/$name.log" 2>&1 &
        SERVER_PID=$!
        PIDS_TO_KILL+=("$SERVER_PID")
        if wait_until 60 bash -c "kill -0 $SERVER_PID && curl -sf http://127.0.0.1:$SERVER_PORT$path"; then
            return 0
        fi
        kill -9 "$SERVER_PID" 2>/dev/null
    done
    fail "$name did not start: $(tail -5 "$T/$name.log")"
}

# start_moto: moto_server with the bucket; sets MOTO (its URL)
start_moto() {
    start_server moto /moto-api/ moto_server -H 127.0.0.1 -p @PORT@
    MOTO=http://127.0.0.1:$SERVER_PORT
    curl -sf -X PUT "$MOTO/$BUCKET" >/dev/null || fail "cannot create bucket $BUCKET in moto"
}

proxy_up() {
    curl -sf "http://127.0.0.1:$PROXY_PORT/__proxy__/stats" >/dev/null
}

# start_proxy [PORT]: the fault proxy in front of moto, checking signatures,
# on a free port (sets PROXY_PORT) or on PORT again; sets PROXY_PID
start_proxy() {
    if [ $# = 0 ]; then
        start_server proxy /__proxy__/stats python3 "$SRC/tests/s3_faultproxy.py" --port @PORT@ --upstream "$MOTO"
        PROXY_PORT=$SERVER_PORT
    else
        python3 "$SRC/tests/s3_faultproxy.py" --port "$1" --upstream "$MOTO" >>"$T/proxy.log" 2>&1 &
        SERVER_PID=$!
        PIDS_TO_KILL+=("$SERVER_PID")
        wait_until 30 proxy_up || fail "the proxy did not come back on port $1: $(tail -5 "$T/proxy.log")"
    fi
    PROXY_PID=$SERVER_PID
    proxy_post verify "{\"secret\": \"$AWS_SECRET_ACCESS_KEY\"}"
}

# storage_down: the proxy dies; every request then meets a refused connection
storage_down() {
    {
        kill -9 "$PROXY_PID"
        wait "$PROXY_PID"
    } 2>/dev/null
}

# proxy_post reset|faults|verify [JSON]: the proxy's control interface
proxy_post() {
    curl -sf -X POST "http://127.0.0.1:$PROXY_PORT/__proxy__/$1" -d "${2:-{\}}" >/dev/null ||
        fail "proxy control $1 $2 failed"
}

# stat_of EXPR: a Python expression over the proxy's stats
# (requests, methods, faults_left, rejected)
stat_of() {
    curl -sf "http://127.0.0.1:$PROXY_PORT/__proxy__/stats" |
        python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {}, d))" "$1"
}

# s3_config FILE INDEX INSTANCE-LINES...: a config storing in
# s3://BUCKET/arch through the proxy, polling every 100 ms
s3_config() {
    local file=$1 index=$2 line
    shift 2
    {
        echo "storage:"
        echo "  url: s3://$BUCKET/arch"
        echo "  s3:"
        echo "    endpoint: http://127.0.0.1:$PROXY_PORT"
        echo "    region: us-east-1"
        echo "    path_style: true"
        echo "index: $index"
        echo "defaults:"
        echo "  poll_interval: 100ms"
        echo "  chunk_pause: 0ms"
        echo "instances:"
        for line in "$@"; do
            echo "$line"
        done
    } >"$file"
}

# moto_probe ARGS...: storage_probe against moto itself (not the proxy),
# under s3://BUCKET/arch/
moto_probe() {
    AOFROLL_SUITE_URL=s3://$BUCKET/arch/ AOFROLL_SUITE_S3_ENDPOINT=$MOTO AOFROLL_SUITE_S3_PATH_STYLE=1 \
        "$BIN/storage_probe" "$@"
}
