#!/bin/bash
# it_collector_multi.sh - several instances in one process, each on its own.
#
# Three instances: "up" (running), "late" (its Redis starts later) and
# "slow" (a big backlog under a low max_rate and its own chunk_size). The
# up instance ships while the late one's Redis is down (logged once, not
# every second) and while the slow one crawls; the late one is picked up
# when its Redis comes; a Redis stopping later does not disturb the rest.
. "$(dirname "$0")/lib/scenario.sh" collector

UP=$(free_port)
LATE=$(free_port)
SLOW=$(free_port)
ARCH=$T/archive
start_redis "$T/up" "$UP"
start_redis "$T/slow" "$SLOW"
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" \
    "  - name: up" "    redis: redis://127.0.0.1:$UP" \
    "  - name: late" "    redis: redis://127.0.0.1:$LATE" \
    "  - name: slow" "    redis: redis://127.0.0.1:$SLOW" "    max_rate: 64KiB/s" "    chunk_size: 16KiB"
incr() { echo "$1/appendonlydir/$(incr_files "$1" | tail -1)"; }

writer big "$SLOW" 10 100000 51
collector_start "$T/collector.log" -c "$T/c.yaml"
writer mix "$UP" 500 52
wait_archived "$ARCH/up/gen-000001/incr" "$(incr "$T/up")" 20
archive_equals "$ARCH/up/gen-000001/incr" "$(incr "$T/up")"
slow_done=$(archived_size "$ARCH/slow/gen-000001/incr")
[ "$slow_done" -lt "$(stat -c %s "$(incr "$T/slow")")" ] || fail "the slow instance was not slow"
pass "'up' ships while 'late' has no redis and 'slow' crawls ($slow_done B so far)"

sleep 3
waits=$(grep -c "ERROR \[late\] redis: cannot connect to redis \"redis://127.0.0.1:$LATE\": Connection refused" "$T/collector.log")
assert_eq "$waits" 1 "'cannot connect' lines for late after 3 s of retries"

start_redis "$T/late" "$LATE"
writer mix "$LATE" 300 53
wait_archived "$ARCH/late/gen-000001/incr" "$(incr "$T/late")" 40
archive_equals "$ARCH/late/gen-000001/incr" "$(incr "$T/late")"
grep -q "\[late\] redis: working again" "$T/collector.log" || fail "the recovery of late was not logged"
pass "'late' is picked up when its redis starts (its absence logged once)"

stop_redis "$T/late"
wait_until 10 grep -q "ERROR \[late\] redis: connection to redis \"redis://127.0.0.1:$LATE\" closed" "$T/collector.log" ||
    fail "the stop of late's redis was not noticed"
writer mix "$UP" 300 54
wait_archived "$ARCH/up/gen-000001/incr" "$(incr "$T/up")" 20
archive_equals "$ARCH/up/gen-000001/incr" "$(incr "$T/up")"
sleep 3
assert_eq "$(grep -c '\[late\] redis: cannot connect' "$T/collector.log")" 2 "'cannot connect' lines for late"
start_redis "$T/late" "$LATE"
writer mix "$LATE" 100 55
wait_archived "$ARCH/late/gen-000001/incr" "$(incr "$T/late")" 40
# reconnecting follows the backoff (1 s doubling to 30 s)
wait_until 40 bash -c "[ \$(grep -c '\[late\] redis: working again' $T/collector.log) = 2 ]" ||
    fail "late's redis was not reconnected"
pass "a redis stopping later: noticed and logged once, the others undisturbed, picked up again"

for name in $(ls "$ARCH/slow/gen-000001/incr"); do
    [[ $name =~ ^([0-9]{20})-([0-9]{20}) ]] || fail "bad name $name"
    [ $((10#${BASH_REMATCH[2]} - 10#${BASH_REMATCH[1]})) -le 16384 ] || fail "slow's chunk $name exceeds its chunk_size"
done
collector_stop
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --once --instance slow
archive_equals "$ARCH/slow/gen-000001/incr" "$(incr "$T/slow")"
pass "per-instance settings apply ('slow' chunks <= 16 KiB); --once --instance ships one instance"

done_testing
