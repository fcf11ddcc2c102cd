#!/bin/bash
# it_exact_barriers.sh - exact to the second across every kind of turnover,
# under a writer that never pauses.
#
# A real redis-server takes about 2500 commands a second without a pause
# (SET, INCR, LPUSH, MULTI/EXEC, EVAL, SELECT, redis-benchmark bursts) while
# the collector follows it in 4 KiB chunks, polling every 200 ms: less than one poll's writes
# (the barrier used to wait for shipping to be less than a chunk behind:
# with such a writer, for ever). Meanwhile: three --barrier-now through the
# running collector, the scheduled barrier at its minute, an unplanned
# BGREWRITEAOF, and a Redis restart. A watcher hard-links every file of the
# AOF directory as it appears. Then, for every second of the run,
# `aofroll restore --to @T` must give the incr file that
# `redis-check-aof --truncate-to-timestamp T` gives on a copy of the incr
# file of the generation T falls in (worked out from the files alone), and
# that generation's base; at least one generation must begin with
# commands before its first "#TS:" (a barrier in mid-second), or the check
# proves nothing. About three minutes.
. "$(dirname "$0")/lib/scenario.sh" collector exact

exact_redis
start_watcher "$R/appendonlydir"
# the scheduled barrier: the coming minute, or the one after when it is close
if [ "$(date +%S | sed 's/^0//')" -ge 40 ]; then AT=$(date +%H:%M -d '+2 min'); else AT=$(date +%H:%M -d '+1 min'); fi
collector_config "$CFG" "$T/archive" "$INDEX" "  - name: busy" "    redis: redis://127.0.0.1:$PORT" "    priority: normal" \
    "    barrier: \"$AT\""
sed -i -e "s/^  chunk_size: 64KiB\$/  chunk_size: ${EXACT_CHUNK:-4KiB}/" -e 's/^  poll_interval: 100ms$/  poll_interval: 200ms/' "$CFG"
start_writers "$PORT" 2000 11
sleep 1
collector_start "$T/collector.log" -c "$CFG"
wait_first_generation
pass "redis-server, writers at about 2500 commands/s, the watcher and the collector (barrier at $AT) are up"

step() { sleep 3; }
step
barrier_now "$CFG"
step
barrier_now "$CFG"
pass "two --barrier-now answered under the writer: $(grep -o 'generation [0-9]* opened' "$T/barrier.out")"

step
rcli "$PORT" bgrewriteaof >/dev/null
wait_rewrite "$PORT"
pass "an unplanned BGREWRITEAOF"

step
stop_redis "$R"
start_redis "$R" "$PORT"
pass "redis-server restarted on its AOF"

step
barrier_now "$CFG"
pass "a third --barrier-now: $(grep -o 'generation [0-9]* opened' "$T/barrier.out")"

wait_until 150 grep -q "barrier (scheduled): generation [0-9]* opened" "$T/collector.log" ||
    fail "no scheduled barrier at $AT (now $(date +%H:%M:%S)): $(grep barrier "$T/collector.log" | tail -3)"
pass "the scheduled barrier ran at $AT"
sleep 4
stop_writers
wait_shipped "$INDEX" "$R" 60
T1=$(date +%s)
collector_stop
stop_watcher

run_check --config "$CFG" --index "$INDEX" --instance busy --from "$T0" --to "$T1" >"$T/check.out" 2>&1 ||
    fail "$(tail -5 "$T/check.out")"
cat "$T/check.out" | sed 's/^/  /'
grep -q "refused 0 " "$T/check.out" || fail "restores refused: $(tail -1 "$T/check.out")"
pass "every second from @$T0 to @$T1 restores byte for byte what redis-check-aof cuts"

assert_eq "$(sqlite3 "$INDEX" "select group_concat(end_reason, ' ') from (select end_reason from generations where ended != 0 order by generation)")" \
    "barrier barrier rewrite barrier barrier" "how the generations ended"
assert_eq "$(sqlite3 "$INDEX" "select count(*) from generations where generation > 1 and (follows != 1 or lead_ts is null)")" 0 \
    "generations without a lead second"
assert_eq "$(sqlite3 "$INDEX" "select count(*) from generations where exact != 1")" 0 "generations not exact"
assert_eq "$(sqlite3 "$INDEX" "select count(*) from chunks where kind = 'incr' and boundary_db is null")" 0 \
    "incr chunks without marks"
expect_exit 0 "$BIN/aofroll" verify -c "$CFG"
grep -q "^busy: restorable from .* to [^,]*$" "$T/last.out" || fail "verify shows more than one window: $(cat "$T/last.out")"
pass "6 generations, each following the last with its lead second; verify: one window"

done_testing
