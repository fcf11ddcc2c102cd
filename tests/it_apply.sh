#!/usr/bin/env bash
# it_apply.sh - aofroll apply against real redis-servers and the real
# collector: a restored instance rolled forward in two steps equals a
# restore to the later second (and the live server then); refusals: a TIME
# before the position, a target whose keys differ (another instance), a
# TIME in another generation, a DIR without a position; an error reply
# stops the roll-forward and records the position reached; so does a chunk
# that fails its check mid-way, and nothing is applied twice after it.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 64KiB
start_collector "$CFG"
sleep 1
run_seconds "$PORT" 1 5
sleep 0.5
stop_collector "$CFG"

restore_started "$T/r" -c "$CFG" --instance live --to "@${SEC[1]}"
TARGET=$RPORT
assert_eq "$(digest "$TARGET")" "${DIG[1]}" "digest after restore to second 1"

"$BIN/aofroll" apply -c "$CFG" --instance live --to "@${SEC[3]}" --from-dir "$T/r" \
    --target "redis://127.0.0.1:$TARGET" >"$T/a1.out" 2>&1 || fail "apply to second 3: $(cat "$T/a1.out")"
assert_eq "$(digest "$TARGET")" "${DIG[3]}" "digest after apply to second 3"
expect_out "$T/a1.out" "(#TS exact)"
expect_out "$T/a1.out" "position recorded in \"$T/r/aofroll-restore.json\""
"$BIN/aofroll" apply -c "$CFG" --instance live --to "@${SEC[5]}" --from-dir "$T/r" \
    --target "redis://127.0.0.1:$TARGET" >"$T/a2.out" 2>&1 || fail "apply to second 5: $(cat "$T/a2.out")"
assert_eq "$(digest "$TARGET")" "${DIG[5]}" "digest after apply to second 5"
restore_started "$T/direct" -c "$CFG" --instance live --to "@${SEC[5]}"
assert_eq "$(digest "$TARGET")" "$(digest "$RPORT")" "apply in two steps vs one restore"
pass "apply in two steps equals one restore to the later second"

cp "$T/r/aofroll-restore.json" "$T/position.saved"
# apply_refused SECOND DIR TEXT: aofroll apply to SECOND from DIR onto the
# target exits 1 saying TEXT, and the position of $T/r is unchanged
apply_refused() {
    expect_exit 1 "$BIN/aofroll" apply -c "$CFG" --instance live --to "@$1" --from-dir "$2" \
        --target "redis://127.0.0.1:$TARGET"
    expect_err "$3"
    cmp -s "$T/r/aofroll-restore.json" "$T/position.saved" || fail "a refused apply changed the position"
}
expect_exit 1 "$BIN/aofroll" apply -c "$CFG" --instance live --to "@${SEC[2]}" --from-dir "$T/r" \
    --target "redis://127.0.0.1:$TARGET"
expect_err "aofroll apply: $(date -u -d "@${SEC[2]}" +%Y-%m-%dT%H:%M:%SZ) is before the position of \"$T/r\""
OTHER=$(free_port)
start_redis "$T/other" "$OTHER"
rcli "$OTHER" set stranger 1 >/dev/null
expect_exit 1 "$BIN/aofroll" apply -c "$CFG" --instance live --to "@$((SEC[5] + 1))" --from-dir "$T/r" \
    --target "redis://127.0.0.1:$OTHER"
expect_err "aofroll apply: redis://127.0.0.1:$OTHER holds keys that do not match the restore in \"$T/r\" (target: db0=1; recorded: db0="
assert_eq "$(rcli "$OTHER" dbsize)" "1" "keys of the refused target"
mkdir -p "$T/empty"
apply_refused "${SEC[5]}" "$T/empty" "aofroll apply: \"$T/empty\" has no aofroll-restore.json"
pass "refusals: TIME before the position, another instance's keys, no position"

# an error reply stops the roll-forward; the position says how far it got
restore_started "$T/w" -c "$CFG" --instance live --to "@${SEC[1]}"
rcli "$RPORT" del list >/dev/null
rcli "$RPORT" set list not-a-list >/dev/null
expect_exit 1 "$BIN/aofroll" apply -c "$CFG" --instance live --to "@${SEC[3]}" --from-dir "$T/w" \
    --target "redis://127.0.0.1:$RPORT" --force
expect_err "WRONGTYPE"
expect_err "; the commands already sent ran too: position recorded at incr offset"
grep -q "\"offset\":$(sed -n 's/.*position recorded at incr offset \([0-9]*\).*/\1/p' "$T/last.err")," \
    "$T/w/aofroll-restore.json" || fail "position file: $(cat "$T/w/aofroll-restore.json")"
pass "an error reply stops apply and records the position reached: $(cat "$T/last.err")"

# a TIME in another generation
"$BIN/aofroll-collector" -c "$CFG" --barrier-now >>"$T/collector.log" 2>&1 || fail "barrier: $(tail -3 "$T/collector.log")"
# the last second the archive proves: the collector's last poll during the
# barrier (a later TIME is after the end of the archive: refused)
BAR=$(sqlite3 "$T/index.db" 'select last_poll from status')
BEFORE_GEN2=$(digest "$PORT")
restore_started "$T/s" -c "$CFG" --instance live --to "@${SEC[5]}"
SPORT=$RPORT
# the barrier's own second, nothing archived in generation 2 yet: a
# generation-1 restore rolls forward to the end of its generation
"$BIN/aofroll" apply -c "$CFG" --instance live --to "@$BAR" --from-dir "$T/s" \
    --target "redis://127.0.0.1:$SPORT" >"$T/s2.out" 2>&1 || fail "apply to the barrier's second: $(cat "$T/s2.out")"
assert_eq "$(digest "$SPORT")" "$BEFORE_GEN2" "digest after applying to the barrier's second"
pass "a TIME in the next generation before anything was archived in it rolls forward in the restored one"
sleep_to_next_second
rcli "$PORT" set gen2 1 >/dev/null
"$BIN/aofroll-collector" -c "$CFG" --once >>"$T/collector.log" 2>&1 || fail "collector: $(tail -3 "$T/collector.log")"
LATE=$(sqlite3 "$T/index.db" 'select last_poll from status')
apply_refused "$LATE" "$T/r" "lies in generation 2, but \"$T/r\" was restored from generation 1"
pass "a TIME in another generation is refused"

# a chunk that fails its check mid-way: what was already sent settles, the
# position says where the target stands, and the apply that follows (the
# chunk repaired) runs nothing twice (INCR would tell)
restore_started "$T/m" -c "$CFG" --instance live --to latest
MPORT=$RPORT
sleep_to_next_second
PAD=$(printf '%0150d' 0)
for i in $(seq 1 6000); do
    printf '*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*3\r\n$3\r\nSET\r\n$%d\r\npad:%d\r\n$150\r\n%s\r\n' \
        "$((4 + ${#i}))" "$i" "$PAD"
done >"$T/incrs.resp"
rcli "$PORT" --pipe <"$T/incrs.resp" >"$T/incrs.out" 2>&1 || fail "loading the INCRs: $(cat "$T/incrs.out")"
sleep_to_next_second
UPTO=$(date +%s)
"$BIN/aofroll-collector" -c "$CFG" --once >>"$T/collector.log" 2>&1 || fail "collector: $(tail -3 "$T/collector.log")"
BAD=$(cd "$T/store" && ls live/gen-000002/incr/*.gz | sort | tail -1)
[ "$(ls "$T/store"/live/gen-000002/incr/*.gz | wc -l)" -ge 10 ] || fail "too few chunks for the scenario"
cp "$T/store/$BAD" "$T/bad.keep"
printf 'XXXX' | dd of="$T/store/$BAD" bs=1 seek=$(($(stat -c %s "$T/store/$BAD") / 2)) conv=notrunc 2>/dev/null
expect_exit 1 "$BIN/aofroll" apply -c "$CFG" --instance live --to "@$UPTO" --from-dir "$T/m" \
    --target "redis://127.0.0.1:$MPORT"
expect_err "chunk \"$BAD\""
expect_err "; the commands already sent ran too: position recorded at incr offset"
[ "$(rcli "$MPORT" get n)" -gt 0 ] || fail "nothing reached the target before the bad chunk"
cp "$T/bad.keep" "$T/store/$BAD"
"$BIN/aofroll" apply -c "$CFG" --instance live --to "@$UPTO" --from-dir "$T/m" \
    --target "redis://127.0.0.1:$MPORT" >"$T/m2.out" 2>&1 || fail "apply after the repair: $(cat "$T/m2.out")"
assert_eq "$(rcli "$MPORT" get n)" "6000" "INCRs applied once each"
assert_eq "$(digest "$MPORT")" "$(digest "$PORT")" "digest after the repaired apply"
pass "a bad chunk mid-apply: the position is what the target holds, and nothing runs twice: $(cat "$T/last.err")"

done_testing
