#!/bin/bash
# it_collector_schedule.sh - the daily barrier runs at its local time, once.
#
# A collector started after today's barrier time does not run it today; one
# configured for the coming minute runs it then (new generation, base
# shipped, the previous generation complete) and only once. Takes up to
# two minutes: it waits for a real wall-clock minute.
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis --aof-disable-auto-gc yes
D=$R/appendonlydir
A=$ARCH/b

config_at() {
    collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: b" "    redis: redis://127.0.0.1:$PORT" \
        "    barrier: \"$1\""
}

writer mix "$PORT" 300 41
# --- the minute that just passed: not run at a first start
config_at "$(date +%H:%M -d '-1 min')"
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_archived "$A/gen-000001/incr" "$D/appendonly.aof.1.incr.aof" 30
sleep 2
collector_stop
[ -d "$A/gen-000002" ] && fail "a first start after the barrier time ran the barrier"
pass "a first start after today's barrier time waits for tomorrow"

# --- the coming minute (the one after, when it is too close)
if [ "$(date +%S | sed 's/^0//')" -ge 45 ]; then at=$(date +%H:%M -d '+2 min'); else at=$(date +%H:%M -d '+1 min'); fi
config_at "$at"
collector_start "$T/collector.log" -c "$T/c.yaml"
writer mix "$PORT" 200 42
wait_until 150 test -f "$D/appendonly.aof.2.base.rdb" || fail "no barrier at $at (now $(date +%H:%M:%S))"
[ "$(date +%H:%M)" = "$at" ] || fail "the barrier ran at $(date +%H:%M), not at $at"
writer mix "$PORT" 100 43
wait_archived "$A/gen-000002/base" "$D/appendonly.aof.2.base.rdb" 30
wait_archived "$A/gen-000002/incr" "$D/appendonly.aof.2.incr.aof" 30
archive_equals "$A/gen-000001/incr" "$D/appendonly.aof.1.incr.aof"
archive_equals "$A/gen-000002/base" "$D/appendonly.aof.2.base.rdb"
grep -q "barrier (scheduled): generation 2 opened" "$T/collector.log" || fail "no scheduled barrier in the log"
pass "the barrier ran at $at: generation 2 with its base, generation 1 complete"

# still within the barrier minute, and after it: no second barrier today
sleep 3
collector_stop
collector_start "$T/collector.log" -c "$T/c.yaml"
sleep 2
collector_stop
[ -f "$D/appendonly.aof.3.base.rdb" ] && fail "the barrier ran twice in one day"
assert_eq "$(grep -c 'barrier (scheduled): generation' "$T/collector.log")" 1 "scheduled barriers"
pass "once per day, restart included"

done_testing
