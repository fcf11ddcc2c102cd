#!/bin/bash
# it_exact_gaps.sh - never restored across a gap, exact everywhere else.
#
# The writer of it_exact_barriers.sh never pauses while:
#   - the AOF is switched off for a few seconds (CONFIG SET appendonly
#     no), then on again: the collector ends the generation ("aof-off",
#     a gap event), `status` fails and `--check` says so while it is off,
#     and the base Redis writes when it comes back opens a generation that
#     does not follow the last one;
#   - two rewrites run while the collector is stopped (SIGSTOP), so that it
#     never sees the incr file of the first one: the generation it was
#     following ends "missed", with a gap event.
# Then every second of the run restores byte for byte what redis-check-aof
# cuts from the linked files, except the seconds of the two gaps, whose
# restores are refused naming the gap and the windows on either side;
# `verify` prints both gaps.
. "$(dirname "$0")/lib/scenario.sh" collector exact

exact_redis
start_watcher "$R/appendonlydir"
collector_config "$CFG" "$T/archive" "$INDEX" "  - name: busy" "    redis: redis://127.0.0.1:$PORT" "    priority: normal" \
    "    barrier: \"off\"" "    metrics_file: $T/busy.prom"
start_writers "$PORT" 2000 12
sleep 1
collector_start "$T/collector.log" -c "$CFG"
wait_first_generation
q() { sqlite3 "$INDEX" "$1"; }
sleep 3
barrier_now "$CFG"
sleep 3
pass "writers, watcher, collector; a --barrier-now: generation 2"

# --- the AOF off, then on ------------------------------------------------------
OFF_LO=$(date +%s)
rcli "$PORT" config set appendonly no >/dev/null
OFF_HI=$(date +%s)
wait_until 60 bash -c "[ \"\$(sqlite3 '$INDEX' \"select end_reason from generations where generation = 2\")\" = aof-off ]" ||
    fail "generation 2 did not end with aof-off: $(q 'select generation, end_reason from generations')"
expect_exit 1 "$BIN/aofroll" status -c "$CFG"
grep -q "busy: the AOF is off since .* (appendonly no): nothing is archived" "$T/last.err" ||
    fail "status while the AOF is off: $(cat "$T/last.err")"
wait_until 10 grep -q "^aofroll_problem{instance=\"busy\",reason=\"aof-off\"} 1$" "$T/busy.prom" || fail "metrics while off: $(grep problem "$T/busy.prom")"
expect_exit 1 "$COLLECTOR" -c "$CFG" --check
grep -q "aof off: nothing is archived" "$T/last.out" || fail "--check while the AOF is off: $(cat "$T/last.out")"
q "select detail from events where kind = 'gap'" | grep -q "generation 2: the AOF was switched off" ||
    fail "no gap event for the AOF off: $(q 'select kind, detail from events')"
pass "appendonly no: generation 2 ends (aof-off, a gap event), status exits 1, the metrics and --check say so"
sleep 3
MID=$(( (OFF_HI + $(date +%s)) / 2 + 1 ))
ON_LO=$(date +%s)
rcli "$PORT" config set appendonly yes >/dev/null
wait_rewrite "$PORT"
ON_HI=$(date +%s)
wait_until 60 bash -c "[ \"\$(sqlite3 '$INDEX' 'select count(*) from generations where base_complete = 1')\" -ge 3 ]" ||
    fail "no generation 3 after appendonly yes: $(q 'select generation, end_reason from generations')"
assert_eq "$(q 'select follows from generations where generation = 3')" 0 "generation 3 follows generation 2"
wait_until 10 "$BIN/aofroll" status -c "$CFG" || fail "status still failing after the AOF is on again"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance busy --to "@$MID" --out "$T/r-mid"
grep -q "lies in a gap of the archive of \"busy\": generation 2 holds up to .* (the AOF was switched off (appendonly no)), generation 3 begins at .*; the archive is restorable from .* to .*, from .* to " \
    "$T/last.err" || fail "the refusal inside the gap: $(cat "$T/last.err")"
[ "$(wc -l <"$T/last.err")" = 1 ] || fail "the refusal is not one line: $(cat "$T/last.err")"
[ ! -e "$T/r-mid" ] || fail "a refused restore left $T/r-mid"
pass "appendonly yes: generation 3 after a gap; a restore inside it is refused: $(cut -c1-110 "$T/last.err")..."
sleep 3

# --- two rewrites the collector does not see ------------------------------------
kill -STOP "$CPID"
M_LO=$(date +%s)
rcli "$PORT" bgrewriteaof >/dev/null
wait_rewrite "$PORT"
sleep 1.2
rcli "$PORT" bgrewriteaof >/dev/null
wait_rewrite "$PORT"
M_HI=$(date +%s)
kill -CONT "$CPID"
wait_until 60 bash -c "[ \"\$(sqlite3 '$INDEX' \"select end_reason from generations where generation = 3\")\" = missed ]" ||
    fail "generation 3 did not end missed: $(q 'select generation, end_reason from generations')"
assert_eq "$(q 'select follows from generations where generation = 4')" 0 "generation 4 follows generation 3"
q "select detail from events where kind = 'gap'" | grep -q "generation 3: the stream was not followed to the next base" ||
    fail "no gap event for the missed rewrite: $(q "select detail from events where kind = 'gap'")"
pass "two rewrites while the collector was stopped: generation 3 ends missed (a gap event), 4 does not follow it"
sleep 3

stop_writers
wait_shipped "$INDEX" "$R" 60
T1=$(date +%s)
collector_stop
stop_watcher

expect_exit 0 "$BIN/aofroll" verify -c "$CFG"
[ "$(grep -c '^busy: gap from ' "$T/last.out")" = 2 ] || fail "verify does not show two gaps: $(cat "$T/last.out")"
grep -q "^busy: gap from .*: after generation 2, the AOF was switched off (appendonly no)$" "$T/last.out" ||
    fail "verify's first gap: $(cat "$T/last.out")"
pass "verify: $(grep -c '^busy: gap' "$T/last.out") gaps, $(grep '^busy: restorable' "$T/last.out" | cut -c1-150)"

run_check --config "$CFG" --index "$INDEX" --instance busy --from "$T0" --to "$T1" \
    --gap $((OFF_LO - 1)) $((ON_HI + 1)) --gap $((M_LO - 1)) $((M_HI + 1)) --after-gap 3 --after-gap 4 \
    >"$T/check.out" 2>&1 || fail "$(tail -5 "$T/check.out")"
sed 's/^/  /' "$T/check.out"
refused=$(sed -n 's/.*refused \([0-9]*\) .*/\1/p' "$T/check.out")
[ "$refused" -ge 2 ] || fail "only $refused restores refused across two gaps"
pass "every second from @$T0 to @$T1 is exact (redis-check-aof's cut) or, inside a gap, refused"

done_testing
