#!/usr/bin/env bash
# it_collector_first_open.sh - two instance threads creating a new index at once.
#
# Every instance thread opens its own index handle. On a brand-new index
# file the threads race to switch it to WAL mode, which SQLite answers with
# SQLITE_BUSY at once (without its busy handler) while another connection
# holds a lock. `--once` on a fresh index must still succeed every time.
# (Before the fix about one run in six failed with "database is locked".)
. "$(dirname "$0")/lib/scenario.sh" collector

p1=$(free_port)
start_redis "$T/r1" "$p1"
p2=$(free_port)
start_redis "$T/r2" "$p2"
rcli "$p1" set a 1 >/dev/null
rcli "$p2" set b 2 >/dev/null
write_config "$T/c.yaml" "$T/archive" "$T/index.db" \
    "  - name: one" "    redis: redis://127.0.0.1:$p1" \
    "  - name: two" "    redis: redis://127.0.0.1:$p2"

for run in $(seq 1 15); do
    rm -rf "$T/archive" "$T/index.db" "$T/index.db-wal" "$T/index.db-shm"
    expect_exit 0 "$BIN/aofroll-collector" -c "$T/c.yaml" --once
    grep -q "database is locked" "$T/last.err" && fail "run $run: database is locked"
done
pass "15 runs of --once on a fresh index with two instances"
[ "$(sqlite3 "$T/index.db" 'select count(*) from instances')" = 2 ] || fail "expected 2 instances in the index"
pass "both instances recorded"
done_testing
