#!/usr/bin/env bash
# it_restore_plain.sh - aofroll restore of an instance that writes neither
# #TS annotations (aof-timestamp-enabled no) nor an RDB preamble
# (aof-use-rdb-preamble no): the base is a plain AOF and the cut comes from
# the collector's size log, precise to its poll interval (100 ms here);
# apply rolls a restore forward with the same cuts.
. "$(dirname "$0")/lib/scenario.sh" collector restore
declare -A RP

PORT=$(free_port)
start_redis "$T/live" "$PORT" --aof-timestamp-enabled no --aof-use-rdb-preamble no
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" \
    "  - name: plain" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 64KiB"

for i in $(seq 1 50); do echo "HSET pre:$i f v$i"; done | rcli "$PORT" >/dev/null
rewrite_then_collect "$PORT" "$CFG"
run_seconds "$PORT" 1 4
sleep 0.5
stop_collector "$CFG"
ls "$T/store/plain/gen-000001/base/" | grep -q '\.aof\.gz$' || fail "expected a plain AOF base"

for i in 1 2 4; do
    restore_started "$T/r$i" -c "$CFG" --instance plain --to "@${SEC[$i]}"
    RP[$i]=$RPORT
    assert_eq "$(digest "$RPORT")" "${DIG[$i]}" "digest after restore to second $i"
    expect_out "$T/r$i.out" "(size log, precision 100 ms)"
    expect_out "$T/r$i.out" " aof)"
    [ -f "$T/r$i/appendonlydir/appendonly.aof.1.base.aof" ] || fail "no plain AOF base file in $T/r$i"
    grep -q '"exact":false' "$T/r$i/aofroll-restore.json" || fail "position does not say size-log cut"
    pass "restore to second $i (size log cut, plain AOF base) equals the live server"
done

# TIME after the newest archived second: the newest, said and recorded
NEWEST=$(sqlite3 "$T/index.db" "select max(last) from chunks where kind = 'incr'")
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance plain --to "@$((SEC[4] + 3600))" --out "$T/late"
expect_err "is after the end of the archive of \"plain\": its newest archived second is $(date -u -d "@$NEWEST" +%Y-%m-%dT%H:%M:%SZ)"
expect_exit 0 "$BIN/aofroll" restore -c "$CFG" --instance plain --to latest --out "$T/late"
expect_out "$T/last.out" "cut at $(date -u -d "@$NEWEST" +%Y-%m-%dT%H:%M:%SZ): incr offset "
grep -q "\"time\":$NEWEST," "$T/late/aofroll-restore.json" || fail "the position does not record the newest second: $(cat "$T/late/aofroll-restore.json")"
grep -q "\"requested_time\":$NEWEST," "$T/late/aofroll-restore.json" || fail "the position does not record latest's second"
pass "TIME after the archive's end (size log) is refused; --to latest: the newest second, recorded"

# apply rolls forward with the same size-log cuts
"$BIN/aofroll" apply -c "$CFG" --instance plain --to "@${SEC[3]}" --from-dir "$T/r1" \
    --target "redis://127.0.0.1:${RP[1]}" >"$T/a.out" 2>&1 || fail "apply: $(cat "$T/a.out")"
assert_eq "$(digest "${RP[1]}")" "${DIG[3]}" "digest after apply to second 3"
expect_out "$T/a.out" "(size log, precision 100 ms)"
pass "apply with size-log cuts equals the live server"

done_testing
