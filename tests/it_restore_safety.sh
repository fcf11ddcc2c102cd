#!/usr/bin/env bash
# it_restore_safety.sh - restores that cannot hurt a running server or
# anything outside DIR, against a real archive and real redis-servers:
#   - a DIR whose redis.pid names a running server, or that a running
#     server works in (found through /proc), is refused naming the PID,
#     --force or not, and left as it was;
#   - --start listens on 127.0.0.1 and a unix socket in DIR only (--bind
#     ADDR otherwise), and a --port in use is found before anything is
#     fetched (the storage is broken on purpose: the port is named);
#   - a DIR that is a symlink, and symlinks planted in DIR (the stage,
#     appendonlydir, redis.log, aofroll-restore.json.tmp under apply), never
#     lead a write outside DIR;
#   - --force replaces an earlier restore but refuses an appendonlydir that
#     aofroll did not write, and keeps unrelated files;
#   - apply refuses a position past the end of the archive.
# Each refusal is one line on stderr and exit 1; a victim file outside DIR
# is compared byte for byte after each.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 64KiB
start_collector "$CFG"
sleep 1
# three seconds of small writes (light enough for a loaded machine)
sleep_to_next_second
for i in 1 2 3; do
    SEC[$i]=$(date +%s)
    rcli "$PORT" mset "k$i" "v$i" "big$i" "$(head -c 30000 /dev/urandom | base64 -w0)" >/dev/null
    rcli "$PORT" incr counter >/dev/null
    [ "$(date +%s)" = "${SEC[$i]}" ] || fail "the writes of second $i did not fit in one second"
    sleep_to_next_second
    DIG[$i]=$(digest "$PORT")
done
sleep 0.5
stop_collector "$CFG"
TO="@${SEC[3]}"

echo "precious" >"$T/victim"
VICTIM_SUM=$(sha256sum <"$T/victim")
victim_intact() { [ "$(sha256sum <"$T/victim")" = "$VICTIM_SUM" ] || fail "the file outside DIR changed: $*"; }
one_line() { [ "$(wc -l <"$T/last.err")" = 1 ] || fail "not one line on stderr: $(cat "$T/last.err")"; }
tree_sum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }

# --- a running server on DIR ------------------------------------------------
restore_started "$T/r" -c "$CFG" --instance live --to "$TO"
SERVER=$(cat "$T/r/redis.pid")
BEFORE=$(tree_sum "$T/r/appendonlydir")
for force in "" --force; do
    expect_exit 1 "$A" restore -c "$CFG" --instance live --to "@${SEC[1]}" --out "$T/r" $force
    expect_err "aofroll restore: \"$T/r/redis.pid\" names process $SERVER (redis-server), which is running"
    one_line
done
assert_eq "$(tree_sum "$T/r/appendonlydir")" "$BEFORE" "appendonlydir under the running server"
assert_eq "$(digest "$RPORT")" "${DIG[3]}" "the running server's data"
pass "--force into the DIR of a running restore: refused naming its PID, nothing replaced"

# a server on DIR that no pidfile in DIR names: found by its working directory
mkdir -p "$T/busy"
BUSY_PORT=$(free_port)
redis-server --port "$BUSY_PORT" --bind 127.0.0.1 --dir "$T/busy" --daemonize yes --pidfile "$T/busy.pid" \
    --logfile "$T/busy.log" --save "" >/dev/null || fail "redis-server on $T/busy"
wait_until 10 test -s "$T/busy.pid" || fail "no pidfile $T/busy.pid"
BUSY=$(cat "$T/busy.pid")
PIDS_TO_KILL+=("$BUSY")
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/busy" --force
expect_err "aofroll restore: process $BUSY (redis-server) works in \"$T/busy\": \"$T/busy\" is in use"
one_line
[ -z "$(ls -A "$T/busy")" ] || fail "a refused restore wrote into $T/busy: $(ls -A "$T/busy")"
pass "a server working in DIR without a pidfile there: found through /proc, refused naming its PID"

# --- --start: where it listens, and a port in use --------------------------
SOCK=$T/r/redis.sock
[ -S "$SOCK" ] || fail "no unix socket in DIR"
assert_eq "$(redis-cli -s "$SOCK" ping)" "PONG" "ping over the unix socket"
assert_eq "$(rcli "$RPORT" config get bind | tail -1)" "127.0.0.1" "bind of the restored server"
assert_eq "$(rcli "$RPORT" config get unixsocketperm | tail -1)" "700" "unixsocketperm"
listen=$(awk -v p="$(printf '%04X' "$RPORT")" 'NR > 1 && $4 == "0A" && $2 ~ ":" p "$" {print $2}' /proc/net/tcp /proc/net/tcp6)
assert_eq "$listen" "0100007F:$(printf '%04X' "$RPORT")" "listening sockets of the restored server"
expect_out "$T/r.out" "redis-server started on 127.0.0.1 port $RPORT and unix socket \"$T/r/redis.sock\""
BPORT=$(free_port)
"$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/b" --start --port "$BPORT" --bind 127.0.0.2 \
    >"$T/b.out" 2>&1 || fail "restore --bind 127.0.0.2: $(cat "$T/b.out")"
PIDS_TO_KILL+=("$(cat "$T/b/redis.pid")")
assert_eq "$(redis-cli -h 127.0.0.2 -p "$BPORT" config get bind | tail -1)" "127.0.0.2" "bind with --bind"
redis-cli -h 127.0.0.1 -p "$BPORT" ping >/dev/null 2>&1 && fail "--bind 127.0.0.2 also answers on 127.0.0.1"
pass "--start listens on 127.0.0.1 and a unix socket in DIR only; --bind ADDR moves it"

# a port in use: refused before anything is fetched (the storage is broken
# on purpose, the port is what the message names) and DIR not created
BASE_KEY=$(sqlite3 "$T/index.db" "SELECT key FROM chunks WHERE kind = 'base' LIMIT 1")
mv "$T/store/$BASE_KEY" "$T/base.away"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/p" --start --port "$PORT"
expect_err "aofroll restore: port $PORT is already in use on 127.0.0.1: not restoring anything for --start"
one_line
[ ! -e "$T/p" ] || fail "a refused restore created $T/p"
mv "$T/base.away" "$T/store/$BASE_KEY"
expect_exit 2 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/p" --bind 127.0.0.1
expect_err "aofroll restore: --bind is for --start"
pass "--start --port N with N in use: refused before fetching anything, DIR not created"

# --- symlinks ---------------------------------------------------------------
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$T/link"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/link"
expect_err "aofroll restore: \"$T/link\" is a symbolic link: aofroll writes only into a real directory"
one_line
[ -z "$(ls -A "$T/elsewhere")" ] || fail "a restore wrote through a symlinked DIR"
expect_exit 1 "$A" apply -c "$CFG" --instance live --to "$TO" --from-dir "$T/link" --target "redis://127.0.0.1:$RPORT"
expect_err "aofroll apply: \"$T/link\" is a symbolic link"
pass "a DIR that is a symbolic link: restore and apply refuse it"

# a stale stage that is a symlink to elsewhere: removed as a link, not followed
mkdir -p "$T/s"
ln -s "$T/elsewhere" "$T/s/.aofroll-restore-tmp"
cp "$T/victim" "$T/elsewhere/victim"
"$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/s" --force >/dev/null 2>"$T/s.err" ||
    fail "restore over a symlinked stage: $(cat "$T/s.err")"
[ -f "$T/s/appendonlydir/appendonly.aof.manifest" ] || fail "no restore in $T/s"
cmp -s "$T/victim" "$T/elsewhere/victim" || fail "the stage symlink was followed"
[ ! -e "$T/s/.aofroll-restore-tmp" ] || fail "stage left behind"
# appendonlydir planted as a symlink: not written by aofroll, not replaced
mkdir -p "$T/s2" "$T/elsewhere/aof"
cp "$T/victim" "$T/elsewhere/aof/appendonly.aof.manifest"
ln -s "$T/elsewhere/aof" "$T/s2/appendonlydir"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/s2" --force
expect_err "aofroll restore: \"$T/s2/appendonlydir\" was not written by aofroll restore"
one_line
cmp -s "$T/victim" "$T/elsewhere/aof/appendonly.aof.manifest" || fail "written through the appendonlydir symlink"
# ... nor when an aofroll-restore.json says DIR holds a restore
cp "$T/r/aofroll-restore.json" "$T/s2/"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/s2" --force
expect_err "aofroll restore: \"$T/s2/appendonlydir\" is not what aofroll restore writes (a symbolic link)"
cmp -s "$T/victim" "$T/elsewhere/aof/appendonly.aof.manifest" || fail "written through the appendonlydir symlink"
# redis.log planted as a symlink: --start does not write through it
ln -s "$T/victim" "$T/s/redis.log"
SPORT=$(free_port)
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/s" --force --start --port "$SPORT"
expect_err "\"$T/s/redis.log\" is a symbolic link: not followed"
victim_intact "redis.log"
pass "symlinks planted in DIR (stage, appendonlydir, redis.log) lead no write outside it"

# apply (often run as root) and a planted aofroll-restore.json.tmp
restore_started "$T/ap" -c "$CFG" --instance live --to "@${SEC[1]}"
ln -s "$T/victim" "$T/ap/aofroll-restore.json.tmp"
"$A" apply -c "$CFG" --instance live --to "@${SEC[2]}" --from-dir "$T/ap" --target "redis://127.0.0.1:$RPORT" \
    >"$T/ap.out" 2>&1 || fail "apply: $(cat "$T/ap.out")"
victim_intact "aofroll-restore.json.tmp"
assert_eq "$(digest "$RPORT")" "${DIG[2]}" "digest after apply"
[ -L "$T/ap/aofroll-restore.json.tmp" ] || fail "the planted link was replaced"
grep -q "\"offset\":" "$T/ap/aofroll-restore.json" || fail "position not written"
pass "apply with a planted aofroll-restore.json.tmp symlink: written beside it, the target untouched"

# --- --force: an earlier restore, never someone else's files -----------------
mkdir -p "$T/f/appendonlydir"
echo "not a restore" >"$T/f/appendonlydir/appendonly.aof.manifest"
echo "notes" >"$T/f/notes.txt"
expect_exit 1 "$A" restore -c "$CFG" --instance live --to "$TO" --out "$T/f" --force
expect_err "aofroll restore: \"$T/f/appendonlydir\" was not written by aofroll restore (\"$T/f\" has no aofroll-restore.json): not replacing it"
one_line
assert_eq "$(cat "$T/f/appendonlydir/appendonly.aof.manifest")" "not a restore" "the unrelated appendonlydir"
rm -rf "$T/f/appendonlydir"
"$A" restore -c "$CFG" --instance live --to "@${SEC[1]}" --out "$T/f" --force >/dev/null 2>"$T/f.err" ||
    fail "restore --force beside notes.txt: $(cat "$T/f.err")"
"$A" restore -c "$CFG" --instance live --to "@${SEC[2]}" --out "$T/f" --force >/dev/null 2>"$T/f.err" ||
    fail "restore --force over the earlier restore: $(cat "$T/f.err")"
assert_eq "$(cat "$T/f/notes.txt")" "notes" "an unrelated file beside the restore"
assert_eq "$(LC_ALL=C ls -A "$T/f" | tr '\n' ' ')" "aofroll-restore.json appendonlydir notes.txt " "entries of DIR"
FPORT=$(free_port)
start_redis "$T/f" "$FPORT"
assert_eq "$(digest "$FPORT")" "${DIG[2]}" "digest of the replacing restore"
stop_redis "$T/f"
pass "--force refuses an appendonlydir aofroll did not write, replaces an earlier restore, keeps the rest"

# --- apply: a position past the end of the archive ---------------------------
END=$(sqlite3 "$T/index.db" "SELECT max(end) FROM chunks WHERE kind = 'incr'")
cp "$T/ap/aofroll-restore.json" "$T/ap.saved"
python3 - "$T/ap/aofroll-restore.json" $((END + 1000)) <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["offset"] = int(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(d) + "\n")
PY
cp "$T/ap/aofroll-restore.json" "$T/ap.forged"
expect_exit 1 "$A" apply -c "$CFG" --instance live --to "@${SEC[3]}" --from-dir "$T/ap" --target "redis://127.0.0.1:$RPORT"
expect_err "aofroll apply: \"$T/ap/aofroll-restore.json\" records incr offset $((END + 1000)), past the end of the archive of \"live\" generation 1 ($END bytes)"
one_line
cmp -s "$T/ap/aofroll-restore.json" "$T/ap.forged" || fail "a refused apply rewrote the position"
assert_eq "$(digest "$RPORT")" "${DIG[2]}" "the target after a refused apply"
pass "apply with an offset past the archive's end: refused, nothing sent, the position kept"

done_testing
