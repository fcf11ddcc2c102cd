#!/usr/bin/env bash
# it_flashback_kill.sh - a flashback (restore --target) that is cut short:
# aofroll killed with SIGKILL or SIGTERM mid-run leaves no scratch
# redis-server and no scratch directory behind; a target killed mid-run,
# restarted and the flashback run again ends equal (DEBUG DIGEST) to a
# target that got the same flashback uninterrupted. A whole-keyspace
# flashback into an empty target (by replication) killed while the target
# follows aofroll: the target is made a master again.
. "$(dirname "$0")/lib/scenario.sh" collector restore

N=200000
PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT"
start_collector "$CFG"
sleep 1

# the data set at T, then changes after it, as RESP for redis-cli --pipe
RESP_AWK='function cmd(a, b, c, n) { n = (c == "") ? 2 : 3; printf "*%d\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", n,
          length(a), a, length(b), b; if (n == 3) printf "$%d\r\n%s\r\n", length(c), c }'
awk -v n=$N "$RESP_AWK"'
    BEGIN { for (i = 0; i < n; i++) cmd("SET", "user:" i, "value-at-t-" i);
            for (i = 0; i < 1000; i++) cmd("SET", "other:" i, "o" i) }' >"$T/at-t.resp"
awk -v n=$N "$RESP_AWK"'
    BEGIN { for (i = 0; i < n; i += 2) cmd("SET", "user:" i, "changed-" i);
            for (i = 1; i < n; i += 10) cmd("DEL", "user:" i, "");
            for (i = 0; i < 20000; i++) cmd("SET", "user:new:" i, "x");
            for (i = 0; i < 1000; i += 3) cmd("SET", "other:" i, "changed") }' >"$T/after.resp"
load() { # load PORT FILE
    redis-cli -p "$1" --pipe <"$2" >"$T/load.out" 2>&1 || fail "loading $2 into port $1: $(cat "$T/load.out")"
    grep -q 'errors: 0' "$T/load.out" || fail "loading $2 into port $1: $(cat "$T/load.out")"
}
load "$PORT" "$T/at-t.resp"
sleep_to_next_second
TSEC=$(date +%s)
sleep_to_next_second
load "$PORT" "$T/after.resp"
sleep 1.2
stop_collector "$CFG"

# two targets holding what the live server holds now
B=$(free_port)
start_redis "$T/b" "$B"
C=$(free_port)
start_redis "$T/c" "$C"
for p in "$B" "$C"; do
    load "$p" "$T/at-t.resp"
    load "$p" "$T/after.resp"
done
assert_eq "$(digest "$C")" "$(digest "$PORT")" "the targets before the flashback"

flashback() { # flashback PORT: the flashback of user:* to T into PORT (exec: $! is aofroll's pid)
    TMPDIR=$T exec "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" \
        --target "redis://127.0.0.1:$1" --key 'user:*'
}
restores() { # restores PORT: RESTORE commands the server ran so far
    redis-cli -p "$1" info commandstats | sed -n 's/^cmdstat_restore:calls=\([0-9]*\),.*/\1/p'
}
# pause_when_writing PORT BEFORE: as soon as PORT ran more RESTOREs than
# BEFORE, pause its writes (CLIENT PAUSE WRITE): the flashback is then
# held mid-run, some keys written and the rest not
pause_when_writing() {
    local deadline=$((SECONDS + 120)) n
    while [ $SECONDS -lt $deadline ]; do
        n=$(restores "$1")
        if [ "${n:-0}" -gt "$2" ]; then
            redis-cli -p "$1" client pause 20000 write >/dev/null
            return 0
        fi
    done
    fail "no RESTORE reached port $1"
}
scratch_gone() {
    ! pgrep -f "$T/aofroll-flashback" >/dev/null && [ -z "$(ls -d "$T"/aofroll-flashback-* 2>/dev/null)" ]
}

# the reference: uninterrupted
(flashback "$B") >"$T/b.out" 2>&1 || fail "uninterrupted flashback: $(cat "$T/b.out")"
grep -q "delete 20000" "$T/b.out" || fail "uninterrupted flashback: $(cat "$T/b.out")"
scratch_gone || fail "scratch left behind after a flashback that ended"

# aofroll killed mid-run (SIGKILL, then SIGTERM): nothing of the scratch left
for sig in KILL TERM; do
    before=$(restores "$C")
    before=${before:-0}
    flashback "$C" >"$T/c-$sig.out" 2>&1 &
    AOFROLL=$!
    pause_when_writing "$C" "$before"
    pgrep -f "$T/aofroll-flashback.*redis.sock" >/dev/null || fail "no scratch redis-server while the flashback runs"
    kill -"$sig" "$AOFROLL"
    wait "$AOFROLL" && fail "aofroll killed with SIG$sig exited 0"
    wait_until 10 scratch_gone || fail "after SIG$sig of aofroll: $(pgrep -af "$T/aofroll-flashback"; ls -d "$T"/aofroll-flashback-*)"
    rcli "$C" client unpause >/dev/null
    [ "$(digest "$C")" != "$(digest "$B")" ] || fail "SIG$sig came too late to test an interruption"
    pass "aofroll killed with SIG$sig mid-run: the scratch server and directory are gone"
done

# the target killed mid-run, restarted, the flashback run again
before=$(restores "$C")
flashback "$C" >"$T/c-killed.out" 2>&1 &
AOFROLL=$!
pause_when_writing "$C" "$before"
rcli "$C" bgrewriteaof >/dev/null # what the target holds now survives its kill
wait_until 30 bash -c "redis-cli -p $C info persistence | grep -q aof_rewrite_in_progress:0" || fail "rewrite"
PARTIAL=$(digest "$C")
kill -9 "$(cat "$T/c/redis.pid")"
wait "$AOFROLL" && fail "aofroll exited 0 though its target was killed"
grep -q "aofroll restore: flashback to .* stopped in db 0 (done so far: " "$T/c-killed.out" ||
    fail "the message of an interrupted run: $(cat "$T/c-killed.out")"
wait_until 10 scratch_gone || fail "scratch left behind after the target died"
start_redis "$T/c" "$C"
[ "$PARTIAL" != "$(digest "$B")" ] || fail "the target was killed too late to test an interruption"
(flashback "$C") >"$T/c-rerun.out" 2>&1 || fail "rerun: $(cat "$T/c-rerun.out")"
assert_eq "$(digest "$C")" "$(digest "$B")" "DEBUG DIGEST after an interrupted flashback and a rerun"
pass "a target killed mid-run: the rerun ends equal to an uninterrupted flashback ($(head -c 300 "$T/c-killed.out"))"

# a whole keyspace by replication, aofroll killed while the target is its
# replica: the watchdog makes the target a master again
E=$(free_port)
start_redis "$T/e" "$E"
(TMPDIR=$T exec "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$E") \
    >"$T/e.out" 2>&1 || fail "whole keyspace: $(cat "$T/e.out")"
grep -q "^by replication:" "$T/e.out" || fail "whole keyspace not by replication: $(cat "$T/e.out")"
role() { redis-cli -p "$1" role | head -1; }
for sig in KILL TERM; do
    D=$(free_port)
    start_redis "$T/d-$sig" "$D"
    (TMPDIR=$T exec "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" \
        --target "redis://127.0.0.1:$D") >"$T/d-$sig.out" 2>&1 &
    AOFROLL=$!
    wait_until 120 bash -c "[ \"\$(redis-cli -p $D role | head -1)\" = slave ]" ||
        fail "the target never became a replica: $(cat "$T/d-$sig.out")"
    # the target stopped: aofroll is held mid-run, whatever its speed
    kill -STOP "$(cat "$T/d-$sig/redis.pid")"
    kill -0 "$AOFROLL" || fail "aofroll ended before SIG$sig: $(cat "$T/d-$sig.out")"
    kill -"$sig" "$AOFROLL"
    wait "$AOFROLL" && fail "aofroll killed with SIG$sig exited 0"
    kill -CONT "$(cat "$T/d-$sig/redis.pid")"
    wait_until 15 bash -c "[ \"\$(redis-cli -p $D role | head -1)\" = master ]" ||
        fail "after SIG$sig of aofroll the target still follows it: $(redis-cli -p "$D" role | tr '\n' ' ')"
    wait_until 10 scratch_gone || fail "scratch left behind after SIG$sig during replication"
    (TMPDIR=$T exec "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$D" \
        --force) >"$T/d-$sig-rerun.out" 2>&1 || fail "rerun: $(cat "$T/d-$sig-rerun.out")"
    assert_eq "$(digest "$D")" "$(digest "$E")" "DEBUG DIGEST after SIG$sig during replication and a rerun"
    pass "aofroll killed with SIG$sig while the target replicates from it: the target is a master again"
done

done_testing
