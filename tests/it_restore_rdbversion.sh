#!/usr/bin/env bash
# it_restore_rdbversion.sh - a base written by a newer server, restored and
# started with an older one: restore --start refuses before launching it,
# naming both servers and RDB versions.
#
# The server under test (AOFROLL_REDIS_SERVER, newer than Debian's 7.0)
# writes the archive, its base an RDB of its own format. Then, with the
# system's redis-server 7.0 first on PATH: restore --start writes DIR but
# starts nothing and says why (exit 1); 7.0 itself, started by hand on DIR,
# does refuse the file ("Can't handle RDB format version"), so the check
# is right to stop first; with the newer server on PATH the same restore
# starts and holds the live keyspace. Exits 77 (skipped) when the server
# under test is the system's own.
. "$(dirname "$0")/lib/scenario.sh" collector restore

SYS_PATH=${PATH#"$T/bin:"}
OLD=$(PATH=$SYS_PATH command -v redis-server) || fail "no redis-server on the system's PATH"
OLD_WHO=$("$OLD" --version | sed -n 's/^\(Redis\|Valkey\) server v=\([0-9.]*\) .*/\1 \2/p')
NEW_WHO=$(redis-server --version | sed -n 's/^\(Redis\|Valkey\) server v=\([0-9.]*\) .*/\1 \2/p')
if [ "$OLD_WHO" = "$NEW_WHO" ]; then
    echo "skipped: the server under test is the system's own ($OLD_WHO)"
    exit 77
fi

PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT"
for i in $(seq 1 50); do echo "SET pre:$i v$i"; done | rcli "$PORT" >/dev/null
rcli "$PORT" bgrewriteaof >/dev/null
wait_rewrite "$PORT"
start_collector "$CFG"
sleep 1
run_seconds "$PORT" 1 1
sleep 0.5
stop_collector "$CFG"
BASE=$T/live/appendonlydir/$(awk '$6 == "b" {print $2}' "$T/live/appendonlydir/appendonly.aof.manifest")
RDB=$((10#$(head -c 9 "$BASE" | tail -c 4)))
[ "$(head -c 5 "$BASE")" = REDIS ] || fail "the base is not an RDB file"
pass "$NEW_WHO wrote a base of RDB version $RDB"

# --- the system's older server first on PATH
RP=$(free_port)
PATH=$SYS_PATH expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@${SEC[1]}" --out "$T/r" \
    --start --port "$RP" -- --enable-debug-command yes
expect_err "restored \"$T/r\", but starting redis-server failed: the base \"$T/r/appendonlydir/appendonly.aof.1.base.rdb\" is RDB version $RDB, written by $NEW_WHO; redis-server here is $OLD_WHO, which reads RDB versions up to "
expect_err "HINT: start it with $NEW_WHO or a newer server (first on PATH)"
assert_eq "$(wc -l <"$T/last.err")" 1 "lines on stderr"
[ -f "$T/r/appendonlydir/appendonly.aof.manifest" ] || fail "the restore was not written"
[ ! -e "$T/r/redis.log" ] && [ ! -e "$T/r/redis.pid" ] || fail "a server was launched: $(cat "$T/r/redis.log")"
rcli "$RP" ping >/dev/null 2>&1 && fail "something answers on port $RP"
pass "restore --start with $OLD_WHO first on PATH: refused before launching, both servers and versions named"

# --- the older server would indeed refuse the file
cp -r "$T/r" "$T/old"
"$OLD" --port "$RP" --bind 127.0.0.1 --dir "$T/old" --appendonly yes --daemonize no --save "" \
    --logfile "$T/old/redis.log" >/dev/null 2>&1 &
OLD_PID=$!
PIDS_TO_KILL+=("$OLD_PID")
wait_until 20 bash -c "! kill -0 $OLD_PID" || fail "$OLD_WHO loaded an RDB of version $RDB"
grep -q "Can't handle RDB format version $RDB" "$T/old/redis.log" ||
    fail "$OLD_WHO failed otherwise: $(tail -3 "$T/old/redis.log")"
pass "$OLD_WHO itself refuses it (\"Can't handle RDB format version $RDB\")"

# --- the newer server first on PATH: the same restore starts
restore_started "$T/r2" -c "$CFG" --instance live --to "@${SEC[1]}"
assert_eq "$(digest "$RPORT")" "${DIG[1]}" "digest of the restore started by $NEW_WHO"
pass "with $NEW_WHO first on PATH the restore starts, the live keyspace"

done_testing
