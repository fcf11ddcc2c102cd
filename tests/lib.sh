# lib.sh - shared helpers for the integration scenarios (tests/it_*.sh).
#
# Sourced, not run. Gives each scenario a private temp dir, free loopback
# ports, real redis-server processes started in that dir and stopped by
# PID on exit, and assertions that fail the scenario with one clear line.
# Environment (set by ctest): AOFROLL_BIN (built programs), AOFROLL_TEST_TMP,
# and AOFROLL_TEST_STORAGE: "file" (the default) or "azure", the storage
# that write_config gives a scenario. With "azure" an Azurite started for
# the scenario (tests/azurite_lib.sh) holds each storage directory DIR as
# the prefix "DIR relative to the scenario's temp dir" of one container,
# and the store_* helpers below reach objects the same way on both.
# AOFROLL_REDIS_SERVER names the server under test (see server_lib.sh).

set -u
set -o pipefail

# The s3 credential chain never reaches past loopback from a test: no EC2
# instance metadata (169.254.169.254), no container endpoint, no web
# identity and no ~/.aws/credentials of whoever runs the tests, unless a
# scenario sets them up itself (it_s3_creds.sh).
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent/aofroll-tests/credentials
unset AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_ROLE_ARN AWS_EC2_METADATA_SERVICE_ENDPOINT

BIN=${AOFROLL_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin}
T=$(mktemp -d "${AOFROLL_TEST_TMP:-/tmp}/$(basename "$0" .sh).XXXXXX" 2>/dev/null || mktemp -d)
PIDS_TO_KILL=()
TESTS_PASSED=0

cleanup() {
    local pid
    for pid in "${PIDS_TO_KILL[@]}"; do
        kill -9 "$pid" 2>/dev/null
    done
    for pid in "${PIDS_TO_KILL[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [ "${KEEP_TMP:-0}" != 1 ] && [ "${FAILED:-0}" = 0 ]; then
        rm -rf "$T"
    else
        echo "scenario files kept in $T"
    fi
}
trap cleanup EXIT

fail() {
    FAILED=1
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    TESTS_PASSED=$((TESTS_PASSED + 1))
    echo "ok - $*"
}

# the server under test and its tools first on PATH
. "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"
server_use "$T/bin" || fail "no server to test"
[ -z "${AOFROLL_REDIS_SERVER:-}" ] || echo "# server: $(redis-server --version)"

# Print a free TCP port on 127.0.0.1. Ports are drawn below the kernel's
# ephemeral range, so that the source port of some client connection
# (redis-cli, the collector) cannot take the port before redis binds it.
free_port() {
    local port low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 11024 ] 2>/dev/null || low=32768
    for _ in $(seq 1 200); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port found"
}

# wait_until TIMEOUT_S CMD...: retry CMD every 0.05 s until it succeeds.
wait_until() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# served PORT: the server on PORT answers a data command (DBSIZE), so it has
# loaded its data set. PING is not enough: between an AOF's base and incr
# file INFO says loading:0 and PING answers, with half the data loaded.
served() {
    [[ $(redis-cli -p "$1" dbsize 2>/dev/null) =~ ^[0-9]+$ ]]
}

# start_redis DIR PORT [redis-server options...]: a daemonized redis-server
# in DIR (created), AOF on with timestamps unless options say otherwise,
# returning once it has loaded what DIR holds. Its pid is in DIR/redis.pid
# and is killed at exit.
start_redis() {
    local dir=$1 port=$2
    shift 2
    mkdir -p "$dir"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" \
        --appendonly yes --aof-timestamp-enabled yes --auto-aof-rewrite-percentage 0 \
        --enable-debug-command yes "$@" >/dev/null || fail "redis-server did not start in $dir"
    wait_until 10 redis-cli -p "$port" ping || fail "redis-server on port $port did not answer"
    wait_until 60 served "$port" || fail "redis-server on port $port did not finish loading"
    wait_until 10 test -s "$dir/redis.pid" || fail "no pidfile in $dir"
    PIDS_TO_KILL+=("$(cat "$dir/redis.pid")")
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

assert_eq() {
    [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"
}

# expect_exit STATUS CMD...: run CMD, check its exit status; stderr in $T/last.err
expect_exit() {
    local want=$1 got
    shift
    "$@" >"$T/last.out" 2>"$T/last.err"
    got=$?
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(head -c 600 "$T/last.err")"
}

# store_url DIR: the storage URL standing for storage directory DIR
store_url() {
    if [ "$TEST_STORAGE" = azure ]; then
        echo "azure://$AZ_ACCOUNT/$AZ_CONTAINER/${1#"$T"/}"
    else
        echo "file://$1"
    fi
}

# store_probe DIR ARGS...: storage_probe on the storage of DIR (azure only)
store_probe() {
    local dir=$1
    shift
    AOFROLL_SUITE_URL=$(store_url "$dir")/ AOFROLL_SUITE_AZURE_ENDPOINT=$AZ_ENDPOINT "$BIN/storage_probe" "$@"
}

# store_ls DIR [PREFIX]: the keys under PREFIX in the storage of DIR, sorted
store_ls() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" list "${2:-}" | cut -f1
    else
        (cd "$1" && find . -type f -path "./${2:-}*" | sed 's|^\./||' | LC_ALL=C sort)
    fi
}

# store_get DIR KEY: the object's bytes on stdout
store_get() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" get "$2"
    else
        cat "$1/$2"
    fi
}

# store_put DIR KEY FILE|-: replace the object's bytes (a test's damage)
store_put() {
    if [ "$TEST_STORAGE" = azure ]; then
        store_probe "$1" put "$2" "$3" >/dev/null
    elif [ "$3" = - ]; then
        cat >"$1/$2"
    else
        cat "$3" >"$1/$2"
    fi
}

# write_config FILE STORAGE_DIR INDEX [instance lines...]: a minimal config
write_config() {
    local file=$1 storage=$2 index=$3
    shift 3
    {
        echo "storage:"
        echo "  url: $(store_url "$storage")"
        if [ "$TEST_STORAGE" = azure ]; then
            echo "  azure:"
            echo "    endpoint: $AZ_ENDPOINT"
        fi
        echo "index: $index"
        echo "defaults:"
        echo "  poll_interval: 100ms"
        echo "  chunk_pause: 0ms"
        echo "instances:"
        local line
        for line in "$@"; do
            echo "$line"
        done
    } >"$file"
}

# done_testing: the closing line ctest's log shows
done_testing() {
    echo "$TESTS_PASSED passed, 0 failed"
}

# The storage under test (see the top of this file)
TEST_STORAGE=${AOFROLL_TEST_STORAGE:-file}
if [ "$TEST_STORAGE" = azure ]; then
    . "$(dirname "${BASH_SOURCE[0]}")/azurite_lib.sh"
    if ! have_azurite; then
        echo "skipped: $AZURITE_WHY"
        exit 77
    fi
    start_azurite
    AZ_CONTAINER=scenario
    az_create_container "$AZ_CONTAINER"
    AZURE_STORAGE_SAS_TOKEN=$(az_container_sas "$AZ_CONTAINER" racwdl)
    export AZURE_STORAGE_SAS_TOKEN
elif [ "$TEST_STORAGE" != file ]; then
    fail "AOFROLL_TEST_STORAGE=$TEST_STORAGE: expected file or azure"
fi
