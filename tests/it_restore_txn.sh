#!/usr/bin/env bash
# it_restore_txn.sh - an archive that ends inside a transaction, and one
# that ends inside a command: restore keeps every command before it, none
# of the open MULTI block (or the cut-short command), and reports it.
# The partial bytes are appended to the incr file of an idle redis-server
# (it writes with O_APPEND) before the real collector ships them.
. "$(dirname "$0")/lib/scenario.sh" collector restore

PORT=$(free_port)
PORT2=$(free_port)
start_redis "$T/live" "$PORT"
start_redis "$T/live2" "$PORT2"
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" \
    "  - name: txn" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 64KiB" \
    "  - name: cmd" "    redis: redis://127.0.0.1:$PORT2" "    chunk_size: 64KiB"
run_seconds "$PORT" 1 2
rcli "$PORT2" set whole 1 >/dev/null
rcli "$PORT2" set whole2 2 >/dev/null
DIG2=$(digest "$PORT2")

incr_file() { # the current incr file of the server in DIR
    echo "$1/appendonlydir/$(sed -n 's/^file \([^ ]*\) seq [0-9]* type i$/\1/p' "$1/appendonlydir/appendonly.aof.manifest" | tail -1)"
}
INCR=$(incr_file "$T/live")
INCR2=$(incr_file "$T/live2")
sleep_to_next_second
NOW=$(date +%s)
TSLINE="#TS:$NOW"$'\r\n'
MULTI_AT=$(($(stat -c %s "$INCR") + ${#TSLINE}))
{
    printf '%s' "$TSLINE"
    printf '*1\r\n$5\r\nMULTI\r\n'
    printf '*3\r\n$3\r\nSET\r\n$2\r\ntx\r\n$1\r\n1\r\n'
    printf '*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n'
    printf '*3\r\n$5\r\nLPUSH\r\n$4\r\nlist\r\n$2\r\nzz\r\n'
    printf '*4\r\n$4\r\nHSET\r\n$2\r\nth\r\n$1\r\nf\r\n$1\r\nv\r\n'
} >>"$INCR"
CMD_AT=$(stat -c %s "$INCR2")
PARTIAL=$'*3\r\n$3\r\nSET\r\n$3\r\ncut\r\n$5\r\nsh'
printf '%s' "$PARTIAL" >>"$INCR2"
for name in txn cmd; do
    "$BIN/aofroll-collector" -c "$CFG" --once --instance "$name" >>"$T/collector.log" 2>&1 ||
        fail "collector: $(cat "$T/collector.log")"
done

restore_started "$T/r" -c "$CFG" --instance txn --to latest
assert_eq "$(digest "$RPORT")" "${DIG[2]}" "digest without the open transaction"
assert_eq "$(rcli "$RPORT" exists tx)" "0" "a key of the open transaction"
expect_out "$T/r.out" "transaction left out: MULTI at offset $MULTI_AT ($(date -u -d "@$NOW" +%Y-%m-%dT%H:%M:%SZ)), 4 commands: SET tx 1, INCR counter, LPUSH list zz, ... (the archive ends inside it)"
assert_eq "$(stat -c %s "$T/r/appendonlydir/appendonly.aof.1.incr.aof")" "$MULTI_AT" "restored incr file size"
pass "an archive ending inside MULTI: everything before it, none of it, reported"

restore_started "$T/r2" -c "$CFG" --instance cmd --to latest
assert_eq "$(digest "$RPORT")" "$DIG2" "digest without the cut-short command"
expect_out "$T/r2.out" "truncated command left out: offset $CMD_AT, only ${#PARTIAL} bytes archived"
pass "an archive ending inside a command: everything before it, reported"

done_testing
