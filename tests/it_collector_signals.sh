#!/bin/bash
# it_collector_signals.sh - the lock, SIGTERM and SIGHUP.
#
#   a second collector for the same instance exits 1 naming the first's PID;
#   --barrier-now while a collector runs asks it (SIGUSR1 + request file);
#   SIGTERM in the middle of a 30 s chunk_pause: exit 0 within 2 s, the
#     chunks shipped so far indexed, and a later run continues exactly;
#   SIGHUP reopens the log file (logrotate moves it away first).
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: s" "    redis: redis://127.0.0.1:$PORT"
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)
GEN=$ARCH/s/gen-000001

# --- one collector per instance
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_until 10 grep -q "generation 1 opened" "$T/collector.log" || fail "the collector did not start"
expect_exit 1 "$COLLECTOR" -c "$T/c.yaml" --once
grep -q "instance \"s\" is already being collected by pid $CPID (lock \"$T/s.lock\")" "$T/last.err" ||
    fail "the second collector did not name the holder: $(cat "$T/last.err")"
collector_stop
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
pass "a second collector exits 1 naming pid $CPID; after the first stops, the lock is free"

# --- --barrier-now while a collector runs: that collector does it
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_until 10 grep -q "resuming generation 1" "$T/collector.log" || fail "the collector did not start"
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --barrier-now
grep -q "the running collector (pid $CPID) ran it: barrier (requested): generation 2 opened" "$T/last.err" ||
    fail "--barrier-now did not go through the running collector: $(cat "$T/last.err")"
grep -q "\[s\] barrier requested by --barrier-now" "$T/collector.log" || fail "the request was not logged"
[ -e "$T/s.barrier" ] && fail "the request file was left behind"
kill -0 "$CPID" || fail "the collector stopped"
collector_stop
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
archive_equals "$ARCH/s/gen-000001/incr" "$R/appendonlydir/appendonly.aof.1.incr.aof"
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)
GEN=$ARCH/s/gen-000002
pass "--barrier-now while pid $CPID runs: it runs the barrier (generation 2) and keeps going"

# --- SIGTERM during a long chunk_pause
sed 's/^  chunk_pause: 0ms$/  chunk_pause: 30s/' "$T/c.yaml" >"$T/slow.yaml"
writer big "$PORT" 8 60000 21
collector_start "$T/slow.log" -c "$T/slow.yaml" -v
wait_until 20 grep -q "shipped incr chunk" "$T/slow.log" || fail "no chunk shipped"
sleep 0.5
t0=$(date +%s%N)
collector_stop
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 2000 ] || fail "SIGTERM during chunk_pause took $ms ms"
shipped=$(grep -c "shipped incr chunk" "$T/slow.log")
[ "$shipped" -le 2 ] || fail "$shipped chunks shipped: the pause was not kept"
rows=$(index_query "$T/index.db" "select count(*) from chunks where kind = 'incr'")
assert_eq "$rows" "$(ls "$GEN/incr" | wc -l)" "index rows after SIGTERM"
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once
archive_equals "$GEN/incr" "$INCR"
pass "SIGTERM in a 30 s chunk_pause: exit 0 after $ms ms; the next run continues byte for byte"

# --- SIGHUP reopens the log
sed "s|^index: .*|&\nlog_file: $T/daemon.log|" "$T/c.yaml" >"$T/logged.yaml"
collector_start "$T/stderr.log" -c "$T/logged.yaml"
wait_until 10 grep -q "started" "$T/daemon.log" || fail "nothing logged to log_file"
mv "$T/daemon.log" "$T/daemon.log.1"
kill -HUP "$CPID"
wait_until 10 test -f "$T/daemon.log" || fail "SIGHUP did not reopen the log file"
rcli "$PORT" bgrewriteaof >/dev/null
wait_until 20 grep -q "generation 3 opened" "$T/daemon.log" || fail "lines after SIGHUP did not go to the new file"
grep -q "generation 3 opened" "$T/daemon.log.1" && fail "lines after SIGHUP went to the old file"
kill -0 "$CPID" || fail "SIGHUP stopped the collector"
collector_stop
pass "SIGHUP reopens the log file and the collector goes on"

done_testing
