#!/usr/bin/env bash
# it_restore_when.sh - the TIME of restore and apply, and --stop-before
# across generations: a FLUSHALL in generation 1, a barrier, writes in
# generation 2. --to latest --stop-before FLUSHALL,FLUSHDB finds nothing in
# generation 2 and says where the FLUSHALL is (generation 1, its second and
# offset) with the --to that reaches it; that --to restores the state just
# before it. apply --stop-before rolls a restore forward to just before the
# FLUSHALL, and without a match up to TIME, saying so. With a collector
# running and Redis quiet, --to now restores the live state (the archive is
# complete up to the last poll); once the collector is gone, --to now is
# after the end of the archive: refused, naming the last poll.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$COLLECTOR
live_config -

sleep_to_next_second
S1=$(date +%s)
rcli "$PORT" set a 1 >/dev/null
rcli "$PORT" rpush l x y z >/dev/null
sleep_to_next_second
D1=$(digest "$PORT")
S2=$(date +%s)
rcli "$PORT" set b 2 >/dev/null
BEFORE_FLUSH=$(digest "$PORT")
rcli "$PORT" flushall >/dev/null
rcli "$PORT" set after-flush 1 >/dev/null
sleep_to_next_second
S3=$(date +%s)
rcli "$PORT" set c 3 >/dev/null
sleep_to_next_second
collect --once
collect --barrier-now
rcli "$PORT" set gen2 yes >/dev/null
sleep_to_next_second
collect --once
LIVE=$(digest "$PORT")
"$A" generations -c "$CFG" --json >"$T/g.json" || fail "aofroll generations"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); g=d["instances"][0]["generations"]; assert len(g)==2, g' \
    "$T/g.json" || fail "expected two generations: $(cat "$T/g.json")"

# --stop-before finds nothing in generation 2: where it is instead
"$A" log -c "$CFG" --instance live --since "@$S1" --until now --cmd FLUSHALL --json >"$T/log.json" ||
    fail "log --cmd FLUSHALL: $(cat "$T/log.json")"
OFF=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["commands"]; assert len(c)==1 and c[0]["generation"]==1, c; print(c[0]["offset"])' "$T/log.json") ||
    fail "log --cmd FLUSHALL does not find one FLUSHALL in generation 1: $(cat "$T/log.json")"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to latest --out "$T/r0" --stop-before FLUSHALL,FLUSHDB
expect_err "aofroll restore: no command matching \"FLUSHALL,FLUSHDB\" from "
expect_err "in generation 2 of \"live\": nothing restored; the newest match before it is flushall in generation 1 at $(utc "$S2")"
expect_err "HINT: --to $(utc "$S2") --stop-before FLUSHALL,FLUSHDB restores to just before it"
expect_err "(incr offset $OFF)"
[ ! -e "$T/r0" ] || fail "a restore without a match created its DIR"
restore_started "$T/r1" -c "$CFG" --instance live --to "$(utc "$S2")" --stop-before FLUSHALL,FLUSHDB
assert_eq "$(digest "$RPORT")" "$BEFORE_FLUSH" "digest of the restore the hint names"
pass "--stop-before without a match in TIME's generation names the match in generation 1; its hint restores"

# apply --stop-before: from second 1 forward, stopping before the FLUSHALL
restore_started "$T/r2" -c "$CFG" --instance live --to "@$S1"
assert_eq "$(digest "$RPORT")" "$D1" "digest after restore to second 1"
expect_exit 0 "$A" apply -c "$CFG" --instance live --to "@$S2" --from-dir "$T/r2" \
    --target "redis://127.0.0.1:$RPORT" --stop-before flushdb,FLUSHALL
assert_eq "$(digest "$RPORT")" "$BEFORE_FLUSH" "digest after apply --stop-before"
expect_out "$T/last.out" "stopped before flushall at $(utc "$S2"): incr offset"
restore_started "$T/r3" -c "$CFG" --instance live --to "@$S1"
expect_exit 0 "$A" apply -c "$CFG" --instance live --to "@$S1" --from-dir "$T/r3" \
    --target "redis://127.0.0.1:$RPORT" --stop-before DEL
expect_out "$T/last.out" "no command matching \"DEL\" between the position and $(utc "$S1"): applied up to it"
pass "apply --stop-before rolls forward to just before the match, or to TIME when there is none"

# --to now with a collector that keeps up and a quiet Redis: the live state
start_collector "$CFG"
wait_until 10 "$A" status -c "$CFG" || fail "status never OK: $("$A" status -c "$CFG" 2>&1)"
sleep 1.5
restore_started "$T/r4" -c "$CFG" --instance live --to now
assert_eq "$(digest "$RPORT")" "$LIVE" "digest after --to now"
expect_out "$T/r4.out" "--to now: "
kill -TERM "$COLLECTOR_PID"
wait "$COLLECTOR_PID" 2>/dev/null
sleep 2.2
expect_exit 1 "$A" restore -c "$CFG" --instance live --to now --out "$T/r5"
expect_err "is after the end of the archive of \"live\": its newest archived second is "
expect_err "(the collector's last poll: "
expect_err "HINT: \"--to latest\" restores to "
pass "--to now: the live state while the collector keeps up; refused once it has stopped"
done_testing
