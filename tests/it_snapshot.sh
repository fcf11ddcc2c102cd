#!/usr/bin/env bash
# it_snapshot.sh - mode rdb against a real redis-server with AOF off.
#
#  - --check judges a mode rdb instance usable (before its first dump
#    exists), and a mode aof instance on the same server not, naming both
#    fixes;
#  - --once takes the first snapshot, and none while none is due;
#    --snapshot-now takes one at once; each is a generation of mode rdb
#    with a base only, byte for byte the dump.rdb Redis wrote, in several
#    chunks, and the previous snapshot ends ("snapshot");
#  - restore to a time between two snapshots gives the earlier one's
#    keyspace exactly (DEBUG DIGEST), says the snapshot's own time and the
#    precision, and writes a DIR that loads both with AOF on (--start) and
#    with AOF off (dump.rdb); a time before the first snapshot is refused,
#    and so is --stop-before;
#  - --snapshot-now while a BGSAVE is already running waits for that one
#    and ships its file (no second save: rdb_saves moves by one; a key
#    written after its fork is not in the snapshot);
#  - a BGSAVE that fails fails the snapshot and records no generation;
#  - the daemon takes a snapshot every snapshot_interval (2s), keeps its
#    heartbeat for `status`, and serves --snapshot-now from another
#    process;
#  - a snapshot killed while shipping is ended "interrupted" at the next
#    start and never restored from; delete refuses the newest snapshot
#    without --force and removes an older one;
#  - the least-privilege ACL user of docs/snapshot.md is enough;
#  - --barrier-now on a mode rdb instance and --snapshot-now on a mode aof
#    one are usage errors.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$BIN/aofroll-collector
LIVE=$T/live
start_redis_on PORT "$LIVE" --appendonly no
CFG=$T/aofroll.yaml
STORE=$T/store
rdb_config() { # FILE INTERVAL
    write_config "$1" "$STORE" "$T/index.db" "  - name: cache" "    redis: redis://127.0.0.1:$PORT" \
        "    mode: rdb" "    snapshot_interval: $2" "    chunk_size: 16KiB"
}
rdb_config "$CFG" 1h
json_get() { # FILE EXPR: a python expression on the JSON document d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
gens() { # the generations as JSON into $T/g.json
    "$A" generations -c "$CFG" --instance cache --json >"$T/g.json" || fail "aofroll generations"
}
collect() {
    "$C" -c "$CFG" "$@" >>"$T/collector.out" 2>>"$T/collector.log" ||
        fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}
info() { # FIELD: its value in INFO persistence
    rcli "$PORT" info persistence | tr -d '\r' | sed -n "s/^$1://p"
}

# --- --check -------------------------------------------------------------
expect_exit 0 "$C" -c "$CFG" --check
for line in '  mode rdb: BGSAVE snapshots every 1h' '  redis: reachable' \
    '  rdbchecksum yes: ok, each snapshot is verified against the RDB'"'"'s own CRC-64' \
    '  save "": ok, only the collector'"'"'s snapshots fork' '  info persistence: ok' \
    "  rdb file: \"$LIVE/dump.rdb\" does not exist yet; the first snapshot writes it" '  lock: free' \
    'verdict: usable'; do
    grep -qxF -- "$line" "$T/last.out" || fail "--check lacks '$line': $(cat "$T/last.out")"
done
write_config "$T/aof.yaml" "$STORE" "$T/index.db" "  - name: wrong" "    redis: redis://127.0.0.1:$PORT"
expect_exit 1 "$C" -c "$T/aof.yaml" --check
expect_out "$T/last.out" "  appendonly no: there is no AOF to follow; set it to yes (or use mode: rdb)"
expect_out "$T/last.out" "verdict: not usable"
pass "--check: mode rdb usable before the first dump; mode aof on appendonly no is not, with the fix"

# --- the first snapshots ---------------------------------------------------
rcli "$PORT" debug populate 4000 key 100 >/dev/null
rcli "$PORT" hset h f1 v1 f2 v2 >/dev/null
rcli "$PORT" -n 3 rpush l a b c >/dev/null
rcli "$PORT" set ttl v ex 100000 >/dev/null
DA=$(digest "$PORT")
BEFORE=$(date +%s)
collect --once
gens
assert_eq "$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')" 1 "generations after --once"
collect --once
gens
assert_eq "$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')" 1 "generations after a second --once"
G1='d["instances"][0]["generations"][0]'
assert_eq "$(json_get "$T/g.json" "[$G1[k] for k in ('mode', 'base_format', 'base_file', 'base_complete', 'incr_file', 'incr_bytes', 'end_reason')]")" \
    "['rdb', 'rdb', 'dump.rdb', True, '', 0, 'open']" "generation 1"
L1=$(date -u -d "$(json_get "$T/g.json" "$G1[\"base_time\"]")" +%s)
[ "$L1" -ge "$BEFORE" ] && [ "$L1" -le "$(date +%s)" ] || fail "base time $L1 is not the time of the save"
assert_eq "$L1" "$(rcli "$PORT" lastsave)" "base time of generation 1 vs LASTSAVE"
cat "$STORE"/cache/gen-000001/base/*.gz | gunzip >"$T/gen1.rdb" || fail "gunzip generation 1"
cmp -s "$T/gen1.rdb" "$LIVE/dump.rdb" || fail "generation 1 differs from the dump.rdb redis wrote"
redis-check-rdb "$T/gen1.rdb" >"$T/check1.out" 2>&1 || fail "redis-check-rdb: $(tail -3 "$T/check1.out")"
[ "$(find "$STORE/cache/gen-000001/base" -name '*.rdb.gz' | wc -l)" -gt 3 ] || fail "the dump was not shipped in chunks"
pass "--once takes the first snapshot (none while none is due): base only, byte for byte the dump, base time = LASTSAVE"

sleep_to_next_second
rcli "$PORT" set k2 v2 >/dev/null
rcli "$PORT" del key:7 key:8 >/dev/null
rcli "$PORT" -n 3 lpop l >/dev/null
DB=$(digest "$PORT")
expect_exit 0 "$C" -c "$CFG" --snapshot-now
grep -qE '^cache: generation 2, snapshot taken at [0-9T:-]+Z, [0-9]+ bytes$' "$T/last.out" ||
    fail "--snapshot-now said: $(cat "$T/last.out")"
gens
L2=$(date -u -d "$(json_get "$T/g.json" 'd["instances"][0]["generations"][1]["base_time"]')" +%s)
[ "$L2" -gt "$L1" ] || fail "snapshot 2 ($L2) is not after snapshot 1 ($L1)"
assert_eq "$(json_get "$T/g.json" '[(g["generation"], g["end_reason"], g["base_complete"]) for g in d["instances"][0]["generations"]]')" \
    "[(1, 'snapshot', True), (2, 'open', True)]" "generations after --snapshot-now"
cat "$STORE"/cache/gen-000002/base/*.gz | gunzip | cmp -s - "$LIVE/dump.rdb" || fail "generation 2 differs from dump.rdb"
pass "--snapshot-now takes a snapshot at once; the previous one ends (\"snapshot\")"

# --- restore ---------------------------------------------------------------
restore_started "$T/r1" -c "$CFG" --instance cache --to "@$((L2 - 1))"
assert_eq "$(digest "$RPORT")" "$DA" "digest of a restore between the two snapshots"
expect_out "$T/r1.out" "instance cache, generation 1 (snapshot, mode rdb)"
expect_out "$T/r1.out" "snapshot taken at $(date -u -d "@$L1" +%Y-%m-%dT%H:%M:%SZ) (precision: the snapshot interval, 1h)"
expect_out "$T/r1.out" "wrote \"$T/r1/dump.rdb\": "
expect_out "$T/r1.out" ", rdb version $((10#$(head -c 9 "$T/gen1.rdb" | tail -c 4))), checksum ok"
assert_eq "$(redis-cli -p "$RPORT" info persistence | tr -d '\r' | sed -n 's/^aof_enabled://p')" 1 "AOF on in the started server"
assert_eq "$(sed -n 's/^file \(.*\) seq 1 type \([bi]\)$/\1 \2/p' "$T/r1/appendonlydir/appendonly.aof.manifest" | tr '\n' ' ')" \
    "appendonly.aof.1.base.rdb b appendonly.aof.1.incr.aof i " "manifest of the restore"
cmp -s "$T/r1/dump.rdb" "$T/gen1.rdb" || fail "DIR/dump.rdb is not snapshot 1"
pass "restore between two snapshots: the earlier one's keyspace exactly, its time and precision named"

expect_exit 0 "$A" restore -c "$CFG" --instance cache --to "@$((L2 - 1))" --out "$T/r2"
start_redis_on RP2 "$T/r2" --appendonly no
assert_eq "$(digest "$RP2")" "$DA" "digest of dump.rdb loaded with AOF off"
restore_started "$T/r3" -c "$CFG" --instance cache --to "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
assert_eq "$(digest "$RPORT")" "$DB" "digest of a restore after snapshot 2"
expect_out "$T/r3.out" "instance cache, generation 2 (snapshot, mode rdb)"
pass "DIR loads with AOF off (dump.rdb) as with AOF on; a later time gets snapshot 2"

# a snapshot into an empty running server: its dump.rdb as the payload of
# a replication (no incr stream follows)
start_redis_on FB "$T/fb"
"$A" restore -c "$CFG" --instance cache --to "@$((L2 - 1))" --target "redis://127.0.0.1:$FB" \
    >"$T/fb.out" 2>"$T/fb.err" || fail "flashback of a snapshot: $(cat "$T/fb.err")"
assert_eq "$(digest "$FB")" "$DA" "digest of a snapshot replicated into an empty server"
expect_out "$T/fb.out" "by replication: the target loaded the restored files as a replica of 127.0.0.1:"
pass "a snapshot restored into an empty running server by replication"

expect_exit 1 "$A" restore -c "$CFG" --instance cache --to "@$((L1 - 1))" --out "$T/r4"
expect_err "no generation covers"
[ ! -e "$T/r4" ] || fail "a refused restore left $T/r4"
expect_exit 2 "$A" restore -c "$CFG" --instance cache --to "@$L2" --out "$T/r5" --stop-before FLUSHALL
expect_err "--stop-before \"FLUSHALL\": generation 2 of \"cache\" is a snapshot (mode rdb), with no commands to stop before"
expect_exit 0 "$A" verify -c "$CFG" --instance cache
pass "a time before the first snapshot and --stop-before are refused; verify passes"

# --- a BGSAVE already running ----------------------------------------------
rcli "$PORT" config set rdb-key-save-delay 400 >/dev/null # about 1.6 s for 4000 keys
DC=$(digest "$PORT")
S0=$(info rdb_saves)
assert_eq "$(rcli "$PORT" bgsave)" "Background saving started" "BGSAVE"
wait_until 5 bash -c "redis-cli -p $PORT info persistence | grep -q rdb_bgsave_in_progress:1" ||
    fail "the BGSAVE is not running"
rcli "$PORT" set late v >/dev/null # after the fork: not in that save
expect_exit 0 "$C" -c "$CFG" --snapshot-now
assert_eq "$(info rdb_saves)" "$((S0 + 1))" "saves started (the running one only)"
grep -q "a BGSAVE is already running: waiting for it and shipping its file" "$T/last.err" ||
    fail "the running BGSAVE was not awaited: $(cat "$T/last.err")"
grep -q "generation 3, .*(a BGSAVE already running)" "$T/last.err" || fail "no event for generation 3"
rcli "$PORT" config set rdb-key-save-delay 0 >/dev/null
restore_started "$T/r6" -c "$CFG" --instance cache --to "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
assert_eq "$(digest "$RPORT")" "$DC" "digest of the snapshot of the running BGSAVE"
pass "--snapshot-now while a BGSAVE runs: waits for it, ships its file, starts no other"

# --- a BGSAVE that fails -------------------------------------------------------
gens
NGENS=$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')
mv "$LIVE/dump.rdb" "$LIVE/dump.keep"
mkdir -p "$LIVE/dump.rdb/in-the-way" # the save cannot rename its temp file over a directory
expect_exit 1 "$C" -c "$CFG" --snapshot-now
expect_err "aofroll-collector: instance \"cache\" failed: "
expect_err "snapshot (requested) failed: BGSAVE failed on redis \"redis://127.0.0.1:$PORT\" (rdb_last_bgsave_status:err)"
rm -rf "$LIVE/dump.rdb"
mv "$LIVE/dump.keep" "$LIVE/dump.rdb"
gens
assert_eq "$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')" "$NGENS" "generations after a failed BGSAVE"
pass "a failed BGSAVE fails the snapshot (exit 1, named in the log) and records no generation"

# --- the daemon --------------------------------------------------------------
rdb_config "$T/fast.yaml" 2s
"$C" -c "$T/fast.yaml" >>"$T/daemon.out" 2>>"$T/daemon.log" &
DAEMON=$!
PIDS_TO_KILL+=("$DAEMON")
sleep 2.5
expect_exit 0 "$A" status -c "$T/fast.yaml" --instance cache
expect_out "$T/last.out" '"dump.rdb"'
expect_exit 0 "$C" -c "$T/fast.yaml" --snapshot-now --instance cache
grep -qE '^cache: snapshot \(requested\): generation [0-9]+, ' "$T/last.out" || fail "remote --snapshot-now: $(cat "$T/last.out")"
grep -q "asked the running collector (pid $DAEMON) for a snapshot" "$T/last.err" || fail "the daemon was not asked"
sleep 1.2 # a heartbeat after it
expect_exit 0 "$A" status -c "$T/fast.yaml" --instance cache
grep -qE '^  last snapshot [0-9]{4}-[0-9]{2}-[0-9]{2}T' "$T/last.out" || fail "status shows no last snapshot: $(cat "$T/last.out")"
expect_exit 0 "$A" status -c "$T/fast.yaml" --instance cache --json
cp "$T/last.out" "$T/status.json"
assert_eq "$(json_get "$T/status.json" '(d["instances"][0]["last_snapshot"] is not None, d["instances"][0]["last_barrier"])')" \
    "(True, None)" "status --json of a mode rdb instance"
sleep 3
kill -TERM "$DAEMON"
wait "$DAEMON" || fail "the daemon exited $? on SIGTERM: $(tail -3 "$T/daemon.log")"
gens
json_get "$T/g.json" '"\n".join("%d %s %s %s %s" % (g["generation"], g["base_time"], g["end_reason"], g["base_complete"], g["mode"]) for g in d["instances"][0]["generations"])' >"$T/gens.txt"
# SIGTERM may have come while a snapshot was shipping: that one ends "interrupted"
grep -v ' interrupted False rdb$' "$T/gens.txt" >"$T/complete.txt"
[ "$(wc -l <"$T/complete.txt")" -ge 6 ] || fail "the daemon took too few snapshots: $(cat "$T/gens.txt")"
[ "$(wc -l <"$T/gens.txt")" -le "$(($(wc -l <"$T/complete.txt") + 1))" ] || fail "more than one interrupted: $(cat "$T/gens.txt")"
[ "$(grep -c ' True rdb$' "$T/complete.txt")" = "$(wc -l <"$T/complete.txt")" ] || fail "incomplete snapshots: $(cat "$T/gens.txt")"
[ "$(grep -c ' open ' "$T/complete.txt")" = 1 ] || fail "more than one open snapshot: $(cat "$T/gens.txt")"
tail -1 "$T/complete.txt" | grep -q ' open ' || fail "the newest complete snapshot is not the open one"
grep -c "snapshot (interval)" "$T/daemon.log" | grep -qv '^[01]$' || fail "fewer than two interval snapshots"
grep -q "snapshot (requested)" "$T/daemon.log" || fail "the daemon did not log the requested snapshot"
python3 - "$T/daemon.log" <<'PY' || fail "interval snapshots closer than 2 s"
import re, sys
t = [re.search(r"saved at (\S+)Z", l).group(1) for l in open(sys.argv[1]) if "snapshot (interval): generation" in l]
import datetime
s = [datetime.datetime.fromisoformat(x).timestamp() for x in t]
sys.exit(0 if all(b - a >= 2 for a, b in zip(s, s[1:])) else 1)
PY
pass "the daemon: a snapshot every 2 s, heartbeat for status (last snapshot shown), --snapshot-now from another process"

# --- interrupted, delete -------------------------------------------------------
write_config "$T/slow.yaml" "$STORE" "$T/index.db" "  - name: cache" "    redis: redis://127.0.0.1:$PORT" \
    "    mode: rdb" "    snapshot_interval: 1h" "    chunk_size: 16KiB" "    max_rate: 64KiB/s"
"$C" -c "$T/slow.yaml" --snapshot-now >"$T/slow.out" 2>"$T/slow.log" &
SLOW=$!
wait_until 10 grep -q "opened (snapshot)" "$T/slow.log" || fail "the slow snapshot did not start"
sleep 0.3
kill -TERM "$SLOW"
wait "$SLOW" || fail "--snapshot-now stopped by SIGTERM exited $?: $(tail -3 "$T/slow.log")"
gens
assert_eq "$(json_get "$T/g.json" '[(g["end_reason"], g["base_complete"]) for g in d["instances"][0]["generations"]][-1]')" \
    "('interrupted', False)" "the snapshot stopped by SIGTERM"
assert_eq "$(json_get "$T/g.json" '[g["end_reason"] for g in d["instances"][0]["generations"] if g["base_complete"]][-1]')" \
    "open" "the newest complete snapshot after SIGTERM"
pass "SIGTERM while shipping: exit 0 after the chunk in hand, the snapshot ends \"interrupted\""

gens
NBEFORE=$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')
AOFROLL_TEST_KILL_AFTER_PUTS=3 "$C" -c "$CFG" --snapshot-now >/dev/null 2>>"$T/collector.log"
assert_eq "$?" 137 "exit status of the collector killed while shipping"
KILLED=$((NBEFORE + 1))
gens
assert_eq "$(json_get "$T/g.json" "[(g['end_reason'], g['base_complete']) for g in d['instances'][0]['generations'] if g['generation'] == $KILLED]")" \
    "[('open', False)]" "the killed snapshot before the next start"
collect --once
gens
assert_eq "$(json_get "$T/g.json" "[(g['end_reason'], g['base_complete']) for g in d['instances'][0]['generations'] if g['generation'] == $KILLED]")" \
    "[('interrupted', False)]" "the killed snapshot"
assert_eq "$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')" "$KILLED" "no snapshot taken by --once"
NEWEST=$(json_get "$T/g.json" '[g["generation"] for g in d["instances"][0]["generations"] if g["base_complete"]][-1]')
restore_started "$T/r7" -c "$CFG" --instance cache --to "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
expect_out "$T/r7.out" "instance cache, generation $NEWEST (snapshot, mode rdb)"
pass "a snapshot killed while shipping ends \"interrupted\" and is never restored from"

expect_exit 1 "$A" delete -c "$CFG" --instance cache --generation "$KILLED"
expect_err "generation $KILLED is the newest of \"cache\""
expect_exit 0 "$A" delete -c "$CFG" --instance cache --generation 2
[ ! -e "$STORE/cache/gen-000002" ] || [ -z "$(find "$STORE/cache/gen-000002" -type f)" ] || fail "objects of generation 2 left"
restore_started "$T/r8" -c "$CFG" --instance cache --to "@$L2"
assert_eq "$(digest "$RPORT")" "$DA" "restore to snapshot 2's time once it is deleted"
pass "delete: the newest snapshot is refused without --force; an older one is removed"

# --- the least-privilege ACL user of docs/snapshot.md -------------------------
rcli "$PORT" acl setuser aofroll on '>s3cret-pw' resetkeys resetchannels -@all +config\|get +info +bgsave \
    +lastsave >/dev/null
write_config "$T/acl.yaml" "$STORE" "$T/index.db" "  - name: cache" \
    "    redis: redis://aofroll:s3cret-pw@127.0.0.1:$PORT" "    mode: rdb" "    snapshot_interval: 1h"
expect_exit 0 "$C" -c "$T/acl.yaml" --check
expect_exit 0 "$C" -c "$T/acl.yaml" --snapshot-now
! grep -q "s3cret-pw" "$T/last.out" "$T/last.err" || fail "the password reached the output"
pass "the ACL user of docs/snapshot.md is enough for --check and --snapshot-now"

# --- usage -------------------------------------------------------------------
expect_exit 2 "$C" -c "$CFG" --barrier-now --instance cache
expect_err "--barrier-now: instance \"cache\" has mode rdb: it has no AOF to rewrite"
expect_exit 2 "$C" -c "$T/aof.yaml" --snapshot-now --instance wrong
expect_err "--snapshot-now: instance \"wrong\" has mode aof"
expect_exit 2 "$C" -c "$T/aof.yaml" --snapshot-now
expect_err "--snapshot-now: no instance in \"$T/aof.yaml\" has mode rdb"
pass "--barrier-now on mode rdb, --snapshot-now on mode aof: usage errors"

done_testing
