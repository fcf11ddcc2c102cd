# base.sh - the harness's basics, sourced by every file of tests/lib/ users:
# the scenarios (through scenario.sh), the benchmarks (bench/lib.sh) and
# scripts/demo.sh. Sourced, not run.
#
# A private temp dir removed at exit (kept when the script failed or
# KEEP_TMP=1), the PIDs of whatever the script started killed at exit,
# one-line failures, free loopback ports, polling with a deadline, and the
# assertions the scenarios share.

set -u
set -o pipefail

PIDS_TO_KILL=()
TESTS_PASSED=0
HARNESS_TMP=

# harness_tmp ROOT NAME: a fresh directory ROOT/NAME.XXXXXX (ROOT created),
# in $HARNESS_TMP, removed at exit
harness_tmp() {
    mkdir -p "$1" 2>/dev/null
    HARNESS_TMP=$(mktemp -d "$1/$2.XXXXXX" 2>/dev/null || mktemp -d)
}

# harness_cleanup: kill -9 and reap every PID in PIDS_TO_KILL, then remove
# $HARNESS_TMP unless the script failed (FAILED=1) or KEEP_TMP=1. The exit
# trap (safe under set -e); a script with more to undo calls it from its
# own trap.
harness_cleanup() {
    local pid
    for pid in "${PIDS_TO_KILL[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS_TO_KILL[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    [ -n "$HARNESS_TMP" ] || return 0
    if [ "${KEEP_TMP:-0}" != 1 ] && [ "${FAILED:-0}" = 0 ]; then
        rm -rf "$HARNESS_TMP" || true
    else
        echo "scenario files kept in $HARNESS_TMP"
    fi
}
trap harness_cleanup EXIT

# A command or function that does not exist fails the scenario: bash would
# say "command not found" and go on with status 127, and a misspelt
# assertion would pass unseen. The handler runs in an environment of its
# own, so it signals the scenario's shell, which exits (its EXIT trap runs).
HARNESS_PID=$$
trap 'FAILED=1; exit 1' USR1
command_not_found_handle() {
    echo "FAIL: no such command or function: $1" >&2
    kill -USR1 "$HARNESS_PID"
    return 127
}

fail() {
    FAILED=1
    echo "FAIL: $*" >&2
    exit 1
}

# utc UNIX_SECONDS: the second as aofroll prints it (RFC 3339, UTC)
utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

pass() {
    TESTS_PASSED=$((TESTS_PASSED + 1))
    echo "ok - $*"
}

# skip WHY: end the scenario as skipped (exit 77, ctest's SKIP_RETURN_CODE)
# with one line saying why
skip() {
    echo "skipped: $*"
    exit 77
}

# done_testing: the closing line ctest's log shows
done_testing() {
    echo "$TESTS_PASSED passed, 0 failed"
}

# port_open PORT: something listens on 127.0.0.1:PORT
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Print a free TCP port on 127.0.0.1. Ports are drawn below the kernel's
# ephemeral range, so that the source port of some client connection
# (redis-cli, the collector) cannot take the port before a server binds
# it, and below 55536, so that a Redis Cluster bus (port + 10000) fits.
free_port() {
    local port low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$low" -gt 11024 ] 2>/dev/null || low=32768
    for _ in $(seq 1 200); do
        port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
        if ! port_open "$port"; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port found"
}

# wait_until TIMEOUT_S CMD...: retry CMD every $WAIT_STEP s (default 0.05)
# until it succeeds; 1 when TIMEOUT_S passed first
wait_until() {
    local limit=$1
    shift
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$deadline" ] || return 1
        sleep "${WAIT_STEP:-0.05}"
    done
}

# sleep_to_next_second: return 20 ms into the next wall-clock second
sleep_to_next_second() {
    local now
    now=$(date +%s.%N)
    sleep "$(awk -v n="$now" 'BEGIN { printf "%.3f", int(n) + 1.02 - n }')"
}

assert_eq() {
    [ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"
}

# expect_exit STATUS CMD...: run CMD, check its exit status; its stdout in
# $HARNESS_TMP/last.out, its stderr in $HARNESS_TMP/last.err
expect_exit() {
    local want=$1 got
    shift
    "$@" >"$HARNESS_TMP/last.out" 2>"$HARNESS_TMP/last.err"
    got=$?
    [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(head -c 600 "$HARNESS_TMP/last.err")"
}

# expect_err TEXT: the last expect_exit's stderr contains TEXT
expect_err() {
    grep -qF -- "$1" "$HARNESS_TMP/last.err" || fail "stderr lacks '$1': $(cat "$HARNESS_TMP/last.err")"
}

# expect_out FILE TEXT: FILE contains TEXT
expect_out() {
    grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(cat "$1")"
}

# tree_sum DIR...: one checksum over every file's path and bytes (to prove
# that a read-only command changed nothing)
tree_sum() {
    find "$@" -type f -print0 | sort -z | xargs -0 md5sum | md5sum | cut -d' ' -f1
}
