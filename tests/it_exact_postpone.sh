#!/bin/bash
# it_exact_postpone.sh - a barrier held back is bounded, and says why.
#
# The collector ships at max_rate 64KiB/s while the writer of
# it_exact_barriers.sh writes more than that, so its backlog outgrows what
# max_rate ships in barrier_max_lag (1 s): the barrier is held back. With
# barrier_timeout 4s:
#   - `aofroll-collector --barrier-now` asks the running collector, which
#     gives the request up after 4 s: exit 1, one line saying why;
#   - `aofroll status` exits 1 (the barrier held back too long), the
#     metrics file shows it, the log says it once;
#   - the writer stops, the backlog drains, and the barrier runs.
# Then --barrier-now with no collector running gives up after
# barrier_timeout when the rewrite itself takes longer (rdb-key-save-delay
# makes it slow): exit 1, one line naming the rewrite still in progress.
. "$(dirname "$0")/lib/scenario.sh" collector exact

exact_redis
collector_config "$CFG" "$T/archive" "$INDEX" "  - name: slow" "    redis: redis://127.0.0.1:$PORT" \
    "    barrier: \"off\"" "    max_rate: 64KiB/s" "    barrier_max_lag: 1s" "    barrier_timeout: 4s" \
    "    metrics_file: $T/slow.prom" "    priority: normal"
start_writers "$PORT" 3000 13
collector_start "$T/collector.log" -c "$CFG"
lag_over() { [ "$(sqlite3 "$INDEX" 'select current_size - shipped from status')" -gt "$1" ] 2>/dev/null; }
wait_until 30 lag_over 200000 || fail "no backlog built up: $(sqlite3 "$INDEX" 'select * from status')"
pass "the writer outruns max_rate 64KiB/s: $(sqlite3 "$INDEX" 'select current_size - shipped from status') B behind"

start=$SECONDS
expect_exit 1 timeout 120 "$COLLECTOR" -c "$CFG" --barrier-now
took=$((SECONDS - start))
grep -q "aofroll-collector: instance \"slow\": the running collector (pid $CPID): barrier (requested) failed: held back for [45] s: shipping is [0-9]* B behind, more than max_rate ships in barrier_max_lag (1 s)$" \
    "$T/last.err" || fail "--barrier-now's line: $(cat "$T/last.err")"
[ "$took" -le 20 ] || fail "--barrier-now took $took s to give up (barrier_timeout 4s)"
pass "--barrier-now gives up after $took s: $(grep -o 'barrier (requested) failed.*' "$T/last.err" | cut -c1-100)..."

# the backlog still outgrows max_rate: the barrier counts as held back (in
# the heartbeat that follows)
wait_until 10 bash -c "! '$BIN/aofroll' status -c '$CFG'" || fail "status does not fail: $("$BIN/aofroll" status -c "$CFG")"
expect_exit 1 "$BIN/aofroll" status -c "$CFG"
grep -q "slow: barrier held back for [0-9]* s (barrier_timeout 4 s): shipping is [0-9]* B behind" "$T/last.err" ||
    fail "status while the barrier is held back: $(cat "$T/last.err")"
wait_until 10 grep -q '^aofroll_problem{instance="slow",reason="barrier-overdue"} 1$' "$T/slow.prom" ||
    fail "metrics: $(grep 'barrier\|problem' "$T/slow.prom")"
grep -q '^aofroll_barrier_postponed_seconds{instance="slow"} [1-9]' "$T/slow.prom" || fail "metrics: $(grep barrier "$T/slow.prom")"
sleep 3
assert_eq "$(grep -c 'ERROR \[slow\] barrier held back for [0-9]* s, longer than barrier_timeout' "$T/collector.log")" 1 \
    "overdue lines in the log"
pass "held back too long: status exits 1, the metrics file and the log (once) say so"

stop_writers
wait_until 120 bash -c "[ \"\$(sqlite3 '$INDEX' 'select current_size - shipped from status')\" -lt 60000 ]" ||
    fail "the backlog did not drain"
expect_exit 0 timeout 120 "$COLLECTOR" -c "$CFG" --barrier-now
grep -q "ran it: barrier (requested): generation 2 opened" "$T/last.err" || fail "$(cat "$T/last.err")"
expect_exit 0 "$BIN/aofroll" status -c "$CFG"
pass "the backlog drained: the barrier runs, status is OK again"
collector_stop

# --- --barrier-now on its own, against a rewrite slower than barrier_timeout
rcli "$PORT" debug populate 300 slowkey 10 >/dev/null
rcli "$PORT" config set rdb-key-save-delay 100000 >/dev/null # 0.1 s a key: 30 s
start=$SECONDS
expect_exit 1 timeout 120 "$COLLECTOR" -c "$CFG" --barrier-now
took=$((SECONDS - start))
grep -q "gave up: the rewrite on redis \"redis://127.0.0.1:$PORT\" is still in progress (aof_rewrite_in_progress:1)" "$T/last.err" ||
    fail "--barrier-now's error: $(cat "$T/last.err")"
[ "$took" -le 20 ] || fail "--barrier-now took $took s to give up (barrier_timeout 4s)"
pass "--barrier-now alone gives up after $took s on a rewrite still in progress"
stop_redis "$R" # and with it the rewrite's child

done_testing
