#!/usr/bin/env bash
# it_restore.sh - aofroll restore against a real redis-server and the real
# collector: the restored keyspace equals the live one at several seconds
# (RDB-preamble base, #TS-exact cuts), --stop-before FLUSHALL, a TIME after
# the archive's end, a DIR loaded by a plain redis-server, and each refusal
# (non-empty DIR, TIME before the oldest base, unknown instance, bad TIME,
# a gap in the chunks, a CRC mismatch) with its message. Registered twice:
# on file:// storage, and on Azurite (AOFROLL_TEST_STORAGE=azure, see lib/storage.sh).
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 64KiB

# a base with data in it (RDB preamble, Redis's default), then the stream
for i in $(seq 1 50); do echo "SET pre:$i v$i"; done | rcli "$PORT" >/dev/null
rewrite_then_collect "$PORT" "$CFG"
run_seconds "$PORT" 1 5

# second 6: writes, FLUSHALL, more writes
sleep_to_next_second
SEC[6]=$(date +%s)
workload_batch "$PORT" 6
BEFORE_FLUSH=$(digest "$PORT")
rcli "$PORT" flushall >/dev/null
rcli "$PORT" set after-flush 1 >/dev/null
sleep_to_next_second
DIG[6]=$(digest "$PORT")
sleep 0.5
stop_collector "$CFG"
store_ls "$T/store" live/gen-000001/base/ | grep -q '\.rdb\.gz$' || fail "expected an RDB-preamble base"

# keyspace equality at chosen seconds
for i in 1 3 5; do
    restore_started "$T/r$i" -c "$CFG" --instance live --to "@${SEC[$i]}"
    assert_eq "$(digest "$RPORT")" "${DIG[$i]}" "digest after restore to second $i"
    expect_out "$T/r$i.out" "(#TS exact)"
    expect_out "$T/r$i.out" "instance live, generation 1 (base "
    expect_out "$T/r$i.out" "keys in db0:"
    [ -f "$T/r$i/appendonlydir/appendonly.aof.1.base.rdb" ] || fail "no RDB base file in $T/r$i"
    pass "restore to second $i equals the live server at that second"
done
grep -q '"keyspace":{"0":' "$T/r1/aofroll-restore.json" || fail "no keyspace in $(cat "$T/r1/aofroll-restore.json")"
pass "position file records the keyspace after --start"

# DIR loads in a plain redis-server as it is
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[4]}" --out "$T/plain" >"$T/plain.out" 2>&1 ||
    fail "restore without --start: $(cat "$T/plain.out")"
[ ! -e "$T/plain/.aofroll-restore-tmp" ] || fail "scratch directory left behind"
P2=$(free_port)
start_redis "$T/plain" "$P2"
assert_eq "$(digest "$P2")" "${DIG[4]}" "digest of a plain redis-server on the restored DIR"
pass "redis-server --dir DIR --appendonly yes loads the restore as it is"

# --stop-before FLUSHALL
restore_started "$T/flush" -c "$CFG" --instance live --to "@${SEC[6]}" --stop-before 'flushall|FLUSHDB'
assert_eq "$(digest "$RPORT")" "$BEFORE_FLUSH" "digest after --stop-before FLUSHALL"
expect_out "$T/flush.out" "stopped before flushall at $(date -u -d "@${SEC[6]}" +%Y-%m-%dT%H:%M:%SZ): incr offset"
expect_out "$T/flush.out" ", db 0"
pass "--stop-before FLUSHALL restores the state just before it"

# --stop-before with --from after the FLUSHALL: no match, nothing restored
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[6]}" --out "$T/nomatch" \
    --stop-before FLUSHALL --from "@$((SEC[6] + 1))"
expect_err "--from \"@$((SEC[6] + 1))\" is after --to"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[5]}" --out "$T/nomatch" \
    --stop-before FLUSHALL
expect_err "no command matching \"FLUSHALL\" from "
[ ! -e "$T/nomatch" ] || fail "a failed restore left $T/nomatch behind"
pass "--stop-before without a match restores nothing"

# TIME after the end of the archive: refused, naming the newest second;
# --to latest restores that second
NEWEST=$(sqlite3 "$T/index.db" "select max(last) from chunks where kind = 'incr'")
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$((SEC[6] + 3600))" --out "$T/late"
expect_err "aofroll restore: --to $(date -u -d "@$((SEC[6] + 3600))" +%Y-%m-%dT%H:%M:%SZ) is after the end of the archive of \"live\": its newest archived second is $(date -u -d "@$NEWEST" +%Y-%m-%dT%H:%M:%SZ)"
expect_err "HINT: \"--to latest\" restores to $(date -u -d "@$NEWEST" +%Y-%m-%dT%H:%M:%SZ)"
[ ! -e "$T/late" ] || fail "a refused restore created its DIR"
restore_started "$T/late" -c "$CFG" --instance live --to latest
assert_eq "$(digest "$RPORT")" "${DIG[6]}" "digest after restore --to latest"
expect_out "$T/late.out" "--to latest: $(date -u -d "@$NEWEST" +%Y-%m-%dT%H:%M:%SZ) (the newest archived second)"
grep -q "\"requested_time\":$NEWEST," "$T/late/aofroll-restore.json" || fail "the position does not record the newest second"
pass "TIME after the archive's end is refused; --to latest restores the newest second"

# a TIME without a zone is local time, shown in UTC too
LOCAL=$(TZ=Asia/Kolkata date -d "@${SEC[6]}" '+%Y-%m-%d %H:%M:%S')
TZ=Asia/Kolkata restore_started "$T/local" -c "$CFG" --instance live --to "$LOCAL" --stop-before 'flushall,FLUSHDB'
assert_eq "$(digest "$RPORT")" "$BEFORE_FLUSH" "digest after --to local time --stop-before flushall,FLUSHDB"
expect_out "$T/local.out" "--to \"$LOCAL\" read as local time: $(TZ=Asia/Kolkata date -d "@${SEC[6]}" '+%Y-%m-%d %H:%M:%S')+05:30 = $(date -u -d "@${SEC[6]}" +%Y-%m-%dT%H:%M:%SZ)"
pass "a local TIME (TZ=Asia/Kolkata) is read as local and shown in UTC; --stop-before takes log --cmd's commas"

# refusals
mkdir -p "$T/nonempty" && echo keep >"$T/nonempty/notes.txt"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[2]}" --out "$T/nonempty"
expect_err "aofroll restore: output directory \"$T/nonempty\" is not empty"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to @1000000000 --out "$T/early"
expect_err "aofroll restore: no generation covers 2001-09-09T01:46:40Z: the archive of \"live\" is restorable from "
[ ! -e "$T/early" ] || fail "a refused restore created its DIR"
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance nope --to "@${SEC[2]}" --out "$T/x"
expect_err "aofroll restore: unknown instance \"nope\" (configured: live)"
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance live --to yesterday --out "$T/x"
expect_err "aofroll restore: --to: "
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance live --out "$T/x"
expect_err "aofroll restore: missing --to TIME"
pass "refusals: non-empty DIR, TIME before the oldest base, unknown instance, bad usage"

# --force replaces the restore in a non-empty DIR
stop_redis "$T/plain"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[2]}" --out "$T/plain" --force >/dev/null 2>"$T/force.err" ||
    fail "restore --force: $(cat "$T/force.err")"
P3=$(free_port)
start_redis "$T/plain" "$P3"
assert_eq "$(digest "$P3")" "${DIG[2]}" "digest after restore --force"
pass "--force replaces the restore in a non-empty DIR"

# a CRC mismatch names the object; a gap names the missing range
CHUNK=$(sqlite3 "$T/index.db" "SELECT key FROM chunks WHERE kind = 'incr' ORDER BY start LIMIT 1 OFFSET 2")
[ -n "$CHUNK" ] || fail "fewer than 3 incr chunks archived"
store_get "$T/store" "$CHUNK" >"$T/chunk.saved" || fail "cannot read $CHUNK"
printf 'not the archived bytes' | gzip -c | store_put "$T/store" "$CHUNK" -
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[6]}" --out "$T/crc"
expect_err "$CHUNK"
UPTO=$(sed -n 's/.*; generation 1 of "live" is restorable up to \([^ ]*\) without this chunk HINT: --to \1 or earlier.*/\1/p' "$T/last.err")
[ -n "$UPTO" ] || fail "the error does not say until when the archive restores: $(cat "$T/last.err")"
[ ! -e "$T/crc" ] || fail "a failed restore left $T/crc behind"
# the second it names restores, with the bad chunk in place; the next one does not
expect_exit 0 "$BIN/aofroll" restore -c "$CFG" --instance live --to "$UPTO" --out "$T/crc-upto"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$(($(date -d "$UPTO" +%s) + 1))" --out "$T/crc-next"
pass "a corrupt chunk fails the restore, naming the object and until when it restores: $(cat "$T/last.err")"
store_put "$T/store" "$CHUNK" "$T/chunk.saved"

RANGE=$(sqlite3 "$T/index.db" "SELECT start || ', ' || end FROM chunks WHERE key = '$CHUNK'")
sqlite3 "$T/index.db" "DELETE FROM chunks WHERE key = '$CHUNK'"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[6]}" --out "$T/gap"
expect_err "aofroll restore: gap in the archive of \"live\", generation 1: incr bytes [$RANGE) are missing; the archive of \"live\" is restorable from "
[ ! -e "$T/gap" ] || fail "a failed restore left $T/gap behind"
pass "a gap in the chunks fails the restore, naming the missing range"

done_testing
