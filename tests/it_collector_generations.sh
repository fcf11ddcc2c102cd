#!/bin/bash
# it_collector_generations.sh - rewrites open generations; nothing is lost.
#
# With aof-disable-auto-gc yes Redis keeps its old files (as history), so
# each generation's archive can be compared with the files it came from:
#   --barrier-now              generation 2, its base shipped, gen 1 complete
#   BGREWRITEAOF by hand       generation 3, the same, seen in the manifest
#   a rewrite that fails       generation 3 continues into the next incr file
#   a Redis restart            nothing lost, no new generation
#   Redis truncating the AOF   generation ends, a barrier gives the next base
#   appendonly no, then yes    generation ends (aof-off); the new base opens the next, after a gap
#   Redis on another directory the next generation, from there
#   Redis dying mid-write      held back until Redis cut it: nothing lost
#   a shipped torn tail        mismatch at restart; a barrier's new base
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis --aof-disable-auto-gc yes
D=$R/appendonlydir
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: g" "    redis: redis://127.0.0.1:$PORT"
A=$ARCH/g

gen_rows() {
    index_query "$T/index.db" "select generation || ':' || base_complete || ':' || ended_reason_or_open from (
        select generation, base_complete, case when ended = 0 then 'open' else end_reason end as ended_reason_or_open
        from generations order by generation)" | tr '\n' ' '
}
# gen3_ships WHAT: generation 3 archives incr files 3 and 4 byte for byte
# (WHAT: the failure's words)
gen3_ships() {
    local total
    total=$(($(stat -c %s "$D/appendonly.aof.3.incr.aof") + $(stat -c %s "$D/appendonly.aof.4.incr.aof")))
    wait_until 30 bash -c "[ \"\$(ls $A/gen-000003/incr | tail -1 | cut -c22-41 | sed 's/^0*//')\" = $total ]" ||
        fail "$1"
    archive_equals "$A/gen-000003/incr" "$D/appendonly.aof.3.incr.aof" "$D/appendonly.aof.4.incr.aof"
}

writer mix "$PORT" 400 11
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_archived "$A/gen-000001/incr" "$D/appendonly.aof.1.incr.aof" 60
collector_stop

# --- the barrier, on request
writer mix "$PORT" 200 12
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --barrier-now
grep -q "barrier (requested): generation 2 opened" "$T/last.err" || fail "no barrier line: $(cat "$T/last.err")"
[ -f "$D/appendonly.aof.2.base.rdb" ] || fail "redis did not rewrite"
archive_equals "$A/gen-000001/incr" "$D/appendonly.aof.1.incr.aof"
archive_equals "$A/gen-000002/base" "$D/appendonly.aof.2.base.rdb"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:open " "generations after --barrier-now"
pass "--barrier-now: generation 1 complete, generation 2 opened with its base shipped"

# --- an unplanned rewrite, seen in the manifest
collector_start "$T/collector.log" -c "$T/c.yaml"
writer mix "$PORT" 300 13
rcli "$PORT" bgrewriteaof >/dev/null
wait_until 30 test -f "$D/appendonly.aof.3.base.rdb" || fail "redis did not rewrite"
writer mix "$PORT" 300 14
wait_archived "$A/gen-000003/incr" "$D/appendonly.aof.3.incr.aof" 60
wait_archived "$A/gen-000003/base" "$D/appendonly.aof.3.base.rdb" 30
archive_equals "$A/gen-000002/incr" "$D/appendonly.aof.2.incr.aof"
archive_equals "$A/gen-000003/base" "$D/appendonly.aof.3.base.rdb"
archive_equals "$A/gen-000003/incr" "$D/appendonly.aof.3.incr.aof"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:open " "generations after BGREWRITEAOF"
pass "unplanned BGREWRITEAOF: generation 3 with its base; generation 2 byte for byte"

# --- a rewrite that fails: the same generation continues in the new file
rcli "$PORT" config set rdb-key-save-delay 1000000 >/dev/null
rcli "$PORT" bgrewriteaof >/dev/null
wait_until 10 test -f "$D/appendonly.aof.4.incr.aof" || fail "no new incr file at the rewrite's start"
writer mix "$PORT" 100 15
sleep 0.5
[ "$(archived_size "$A/gen-000003/incr")" = "$(stat -c %s "$D/appendonly.aof.3.incr.aof")" ] ||
    fail "bytes of the rewrite's new incr file were shipped before its outcome was known"
child=$(pgrep -P "$(cat "$R/redis.pid")" | head -1)
[ -n "$child" ] || fail "no rewrite child to kill"
kill -9 "$child"
wait_until 10 bash -c "redis-cli -p $PORT info persistence | grep -q aof_last_bgrewrite_status:err" ||
    fail "the rewrite did not fail"
rcli "$PORT" config set rdb-key-save-delay 0 >/dev/null
writer mix "$PORT" 100 16
gen3_ships "generation 3 did not continue into appendonly.aof.4.incr.aof"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:open " "generations after a failed rewrite"
grep -q "generation 3 continues in incr file \"appendonly.aof.4.incr.aof\"" "$T/collector.log" ||
    fail "the switch to the next incr file was not logged"
pass "failed rewrite: generation 3 continues into the next incr file, byte for byte"

# --- a Redis restart loses nothing
before=$(digest "$PORT")
stop_redis "$R"
start_redis "$R" "$PORT" --aof-disable-auto-gc yes
assert_eq "$(digest "$PORT")" "$before" "digest after the restart"
writer mix "$PORT" 200 17
gen3_ships "writes after the restart were not shipped"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:open " "generations after a redis restart"
pass "redis restart: nothing lost, generation 3 goes on"

collector_stop

# --- Redis truncates the incr file on load: continuity cannot be proven
stop_redis "$R"
size=$(stat -c %s "$D/appendonly.aof.4.incr.aof")
truncate -s $((size - 3)) "$D/appendonly.aof.4.incr.aof"
start_redis "$R" "$PORT" --aof-disable-auto-gc yes
# (PING answers while the AOF is still loading: wait for the load to cut it)
wait_until 20 bash -c "[ \$(stat -c %s '$D/appendonly.aof.4.incr.aof') -lt $((size - 3)) ]" ||
    fail "redis did not truncate the AOF on load"
wait_until 20 bash -c "redis-cli -p $PORT info persistence | grep -q '^loading:0'" || fail "redis did not finish loading"
expect_exit 1 "$COLLECTOR" -c "$T/c.yaml" --once
grep -q "cannot continue generation 3: the incr stream is [0-9]* B, shorter than the [0-9]* B shipped" "$T/last.err" ||
    fail "the truncation was not explained: $(cat "$T/last.err")"
grep -q "HINT: run aofroll-collector --barrier-now" "$T/last.err" || fail "no hint after the truncation"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:truncated " "generations after the truncation"
expect_exit 0 "$COLLECTOR" -c "$T/c.yaml" --barrier-now
base=$(awk '$6 == "b" {print $2}' "$D/appendonly.aof.manifest")
assert_eq "$base" appendonly.aof.4.base.rdb "the new base (the failed rewrite used no base number)"
archive_equals "$A/gen-000004/base" "$D/$base"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:truncated 4:1:open " "generations after the barrier"
pass "truncated by redis: generation 3 ends (truncated), a barrier opens generation 4"

# --- CONFIG SET appendonly no, then yes: Redis writes a new base
collector_start "$T/collector.log" -c "$T/c.yaml"
writer mix "$PORT" 100 18
rcli "$PORT" config set appendonly no >/dev/null
wait_until 30 grep -q "generation 4 ended (aof-off)" "$T/collector.log" || fail "generation 4 did not end with aof-off"
writer mix "$PORT" 100 19
rcli "$PORT" config set appendonly yes >/dev/null
wait_until 30 test -f "$D/appendonly.aof.5.base.rdb" || fail "no new base after appendonly yes"
wait_until 30 grep -q "generation 5 opened (aof-on): .*; a gap lies before it" "$T/collector.log" || fail "no generation 5"
writer mix "$PORT" 100 20
inc=$(awk '$6 == "i" {print $2}' "$D/appendonly.aof.manifest")
wait_archived "$A/gen-000005/incr" "$D/$inc" 30
archive_equals "$A/gen-000005/base" "$D/appendonly.aof.5.base.rdb"
archive_equals "$A/gen-000004/incr" "$D/appendonly.aof.5.incr.aof"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:truncated 4:1:aof-off 5:1:open " "generations after appendonly no/yes"
assert_eq "$(sqlite3 "$T/index.db" 'select follows from generations where generation = 5')" 0 "generation 5 follows 4"
pass "appendonly no then yes: generation 4 ends aof-off, complete; generation 5 with the new base, after a gap"

# --- Redis restarted on another directory: noticed, followed there
stop_redis "$R"
R2=$T/redis2
start_redis "$R2" "$PORT"
writer mix "$PORT" 100 21
wait_until 40 grep -q "generation 6 opened (moved)" "$T/collector.log" || fail "the moved AOF was not followed"
wait_archived "$A/gen-000006/incr" "$R2/appendonlydir/appendonly.aof.1.incr.aof" 30
archive_equals "$A/gen-000006/base" "$R2/appendonlydir/appendonly.aof.1.base.rdb"
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:truncated 4:1:aof-off 5:1:moved 6:1:open " "generations after the move"
pass "redis restarted on another directory: generation 6 follows it there"

# --- Redis dies in the middle of a write under a running collector: the
# bytes after the loss are held back until Redis has loaded and cut its
# partial command, so the generation goes on
I2=$R2/appendonlydir/appendonly.aof.1.incr.aof
writer mix "$PORT" 50 22
wait_archived "$A/gen-000006/incr" "$I2" 30
# the move above logged the same line: wait for one more
held=$(grep -c "holding back new incr bytes until redis is back" "$T/collector.log")
held_again() { [ "$(grep -c "holding back new incr bytes until redis is back" "$T/collector.log")" -gt "$held" ]; }
stop_redis "$R2"
wait_until 10 held_again || fail "the loss of redis was not noticed"
before=$(stat -c %s "$I2")
printf '*3\r\n$3\r\nSET\r\n$7\r\npartial\r\n$20\r\nhalf-writ' >>"$I2"
sleep 1
assert_eq "$(archived_size "$A/gen-000006/incr")" "$before" "archived while redis was down"
start_redis "$R2" "$PORT"
[ "$(stat -c %s "$I2")" = "$before" ] || fail "redis did not cut the partial command"
writer mix "$PORT" 100 23
wait_archived "$A/gen-000006/incr" "$I2" 40
archive_equals "$A/gen-000006/incr" "$I2"
grep -q "after the redis restart, the last shipped chunk .* still matches" "$T/collector.log" ||
    fail "the tail was not checked after the restart"
pass "redis died mid-write: nothing shipped until it came back and cut the partial command; generation 6 goes on"

# --- a torn tail that was shipped, then cut by Redis while the collector
# was down: the restarted collector sees that the shipped bytes no longer
# match, and a barrier gives the next base
printf '*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$20\r\nhalf-writ' >>"$I2"
wait_archived "$A/gen-000006/incr" "$I2" 30
collector_stop
stop_redis "$R2"
start_redis "$R2" "$PORT"
writer mix "$PORT" 100 24
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_until 40 grep -q "generation 7 opened (barrier)" "$T/collector.log" || fail "no new generation after the cut"
grep -q "cannot continue generation 6: the last shipped incr chunk \[[0-9]*, [0-9]*) has CRC [0-9a-f]* in the archive but [0-9a-f]* in the file" \
    "$T/collector.log" || fail "the mismatch was not explained: $(grep 'generation 6' "$T/collector.log" | tail -3)"
wait_until 30 test -f "$R2/appendonlydir/appendonly.aof.2.base.rdb" || fail "no new base"
wait_archived "$A/gen-000007/base" "$R2/appendonlydir/appendonly.aof.2.base.rdb" 30
# the base is marked complete in the index one step after its last chunk is stored
wait_until 30 grep -q "base of generation 7 shipped" "$T/collector.log" || fail "generation 7's base not marked complete"
collector_stop
assert_eq "$(gen_rows)" "1:1:barrier 2:1:rewrite 3:1:truncated 4:1:aof-off 5:1:moved 6:1:mismatch 7:1:open " \
    "generations after the torn tail"
pass "a shipped torn tail cut by redis: generation 6 ends (mismatch), a barrier opens generation 7"

for g in 1 2 3 4 5 6 7; do
    objects=$(ls "$A/gen-00000$g/base" "$A/gen-00000$g/incr" 2>/dev/null | grep -c '\.gz$')
    rows=$(index_query "$T/index.db" "select count(*) from chunks where generation = $g")
    assert_eq "$rows" "$objects" "index rows of generation $g"
done
no_temp_files "$ARCH"
[ "$(index_query "$T/index.db" "select count(*) from events where kind = 'barrier'")" = 3 ] ||
    fail "expected three barrier events"
pass "index rows match the objects of every generation; events recorded"

done_testing
