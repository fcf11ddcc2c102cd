#!/usr/bin/env bash
# it_flashback.sh - aofroll restore --target (flashback) against real
# redis-servers and the real collector: a live server with every type,
# expiries and three dbs; at second T a snapshot; then keys changed,
# deleted and created, matching and not matching user:*. --dry-run lists
# exactly the differing keys and changes nothing (DEBUG DIGEST); the real
# run makes every user:* key byte-identical (DUMP) to T and leaves every
# other key byte-identical to before; --db limits it to one db; the whole
# keyspace goes into an empty server (and not into a non-empty one without
# --force); --ttl shift gives the time left at T.
. "$(dirname "$0")/lib/scenario.sh" collector restore

PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 64KiB"
start_collector "$CFG"
sleep 1

# snap PORT MODE: "db key value pexpiretime" of every key, sorted. MODE
# "other": the keys not matching user:*, their value the DUMP payload in
# hex (they must stay byte-identical); "user": the user:* keys, their value
# DEBUG DIGEST-VALUE (a restored key's DUMP may differ from the original's
# in the order of a hash table's elements, which Redis seeds per process).
snap() {
    local port=$1 mode=$2 db key
    for db in 0 1 2; do
        redis-cli -p "$port" -n "$db" --scan | LC_ALL=C sort | while IFS= read -r key; do
            if [[ $key == user:* ]]; then
                [ "$mode" = user ] || continue
                printf 'db%s %s %s %s\n' "$db" "$key" "$(redis-cli -p "$port" -n "$db" debug digest-value "$key")" \
                    "$(redis-cli -p "$port" -n "$db" pexpiretime "$key")"
            else
                [ "$mode" = other ] || continue
                printf 'db%s %s %s %s\n' "$db" "$key" \
                    "$(redis-cli -p "$port" -n "$db" --raw dump "$key" | od -An -tx1 | tr -d ' \n')" \
                    "$(redis-cli -p "$port" -n "$db" pexpiretime "$key")"
            fi
        done
    done
}

# --- the data set at T ------------------------------------------------------
# a hash whose DUMP payload (about 3 MB) is larger than a 1mb proto-max-bulk-len
# (random hex: DUMP compresses values with LZF)
awk 'BEGIN { srand(16); for (i = 0; i < 3000; i++) { v = "";
             for (j = 0; j < 125; j++) v = v sprintf("%08x", int(rand() * 4294967296));
             printf "HSET big:h f%d %s\n", i, v } }' | redis-cli -p "$PORT" >/dev/null
# hash fields with their own expiries where the server has them (7.4+)
HFE=0
[ -n "$(rcli "$PORT" command info hexpire | head -1)" ] && HFE=1
sleep_to_next_second
TSEC=$(date +%s)
{
    if [ $HFE = 1 ]; then
        echo "HSET hfe:h f1 a f2 b f3 c"
        echo "HEXPIRE hfe:h 100000 FIELDS 1 f1"
        echo "HEXPIRE hfe:h 200000 FIELDS 1 f3"
    fi
    for i in 1 2 3 4; do
        echo "SET user:s$i value-$i"
        echo "SET other:s$i value-$i"
    done
    echo "HSET user:h f1 v1 f2 v2"
    echo "RPUSH user:l a b c"
    echo "SADD user:set x y z"
    echo "ZADD user:z 1 a 2 b"
    echo "XADD user:stream 1-1 f v"
    echo "SET user:ttl v EX 100000"
    echo "SET user:same unchanged EX 200000"
    echo "HSET other:h f v"
    echo "SET other:ttl v EX 100000"
    # a set and a hash stored as hash tables: their DUMP payloads follow
    # the table's order, which another server holding the same contents
    # does not share
    echo "SADD ht:set $(seq -f 'member-%g' 1 300 | tr '\n' ' ')"
    echo "HSET ht:hash $(seq 1 700 | awk '{ printf "field-%d value-%d ", $1, $1 }')"
    echo "SELECT 1"
    echo "SET user:db1 one"
    echo "SET user:db1b one"
    echo "SET other:db1 one"
    echo "SELECT 2"
    echo "RPUSH user:db2 a b"
} | redis-cli -p "$PORT" >/dev/null
[ "$(date +%s)" = "$TSEC" ] || fail "the data set did not fit in one second"
sleep_to_next_second
AT_T_USER=$(snap "$PORT" user)
[ $HFE = 0 ] || HFE_T=$(rcli "$PORT" hpexpiretime hfe:h fields 3 f1 f2 f3 | tr '\n' ' ')
DIG_T=$(digest "$PORT")
TTL_EXP_T=$(rcli "$PORT" pexpiretime user:ttl)

# --- after T: changes, deletions, creations ---------------------------------
{
    if [ $HFE = 1 ]; then
        echo "HPERSIST hfe:h FIELDS 1 f1"
        echo "HEXPIRE hfe:h 5000 FIELDS 1 f2"
    fi
    echo "SET user:s1 changed"
    echo "DEL user:s2"
    echo "HSET user:h f3 v3"
    echo "DEL user:l"
    echo "SREM user:set x"
    echo "ZADD user:z 5 c"
    echo "XADD user:stream 2-1 f w"
    echo "EXPIRE user:ttl 50"
    echo "SET user:new created-after-t"
    echo "SET other:s1 changed"
    echo "DEL other:s2"
    echo "SET other:new created"
    echo "SELECT 1"
    echo "SET user:db1 changed"
    echo "DEL user:db1b"
    echo "SET user:db1new x"
    echo "SET other:db1 changed"
    echo "SELECT 2"
    echo "RPUSH user:db2 c"
} | redis-cli -p "$PORT" >/dev/null
sleep 1.2
stop_collector "$CFG"

# --- dry run: nothing changes, the differences listed -----------------------
BEFORE_OTHER=$(snap "$PORT" other)
BEFORE_DIG=$(digest "$PORT")
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' --dry-run >"$T/dry.out" 2>"$T/dry.err" || fail "dry run: $(cat "$T/dry.err")"
assert_eq "$(digest "$PORT")" "$BEFORE_DIG" "DEBUG DIGEST after --dry-run"
awk '$1 ~ /^(restore|revert|delete|same)$/ {print $1, $2, $3}' "$T/dry.out" | LC_ALL=C sort >"$T/dry.list"
LC_ALL=C sort >"$T/dry.want" <<'EOF'
revert db0 "user:s1"
restore db0 "user:s2"
same db0 "user:s3"
same db0 "user:s4"
revert db0 "user:h"
restore db0 "user:l"
revert db0 "user:set"
revert db0 "user:z"
revert db0 "user:stream"
revert db0 "user:ttl"
same db0 "user:same"
delete db0 "user:new"
revert db1 "user:db1"
restore db1 "user:db1b"
delete db1 "user:db1new"
revert db2 "user:db2"
EOF
diff "$T/dry.want" "$T/dry.list" >"$T/dry.diff" || fail "dry-run listing: $(cat "$T/dry.diff"; cat "$T/dry.out")"
expect_out "$T/dry.out" "would restore 3, revert 8, delete 2, same 3, expired 0"
grep -q '^revert  db0 "user:h" hash ' "$T/dry.out" || fail "type in the listing: $(cat "$T/dry.out")"
pass "--dry-run changes nothing and lists exactly the differing keys: $(tail -1 "$T/dry.out")"

"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' --dry-run --json >"$T/dry.json" 2>"$T/dry.err" || fail "dry run --json: $(cat "$T/dry.err")"
python3 - "$T/dry.json" "$T/dry.want" <<'EOF' || fail "--json: $(cat "$T/dry.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
got = sorted('%s db%d "%s"' % (k["action"], k["db"], k["key"]) for k in doc["keys"])
want = sorted(l.strip() for l in open(sys.argv[2]) if l.strip())
assert got == want, (got, want)
assert doc["totals"] == {"restore": 3, "revert": 8, "delete": 2, "same": 3, "expired": 0}, doc["totals"]
assert doc["dry_run"] is True and doc["ttl"] == "keep"
EOF
assert_eq "$(digest "$PORT")" "$BEFORE_DIG" "DEBUG DIGEST after --dry-run --json"
pass "--dry-run --json: the same keys as data"

# --to latest: the newest archived second, which is what the server holds now
"$BIN/aofroll" restore -c "$CFG" --instance live --to latest --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' --dry-run >"$T/latest.out" 2>"$T/latest.err" || fail "dry run --to latest: $(cat "$T/latest.err")"
assert_eq "$(digest "$PORT")" "$BEFORE_DIG" "DEBUG DIGEST after --to latest --dry-run"
# nothing to restore or delete; "revert" may still list a set or hash whose
# DUMP differs only in its members' order (docs/flashback.md: "same" compares
# payloads)
grep -qE "would restore 0, revert [0-9]+, delete 0, same " "$T/latest.out" ||
    fail "dry run --to latest: $(cat "$T/latest.out")"
if grep -E '^revert ' "$T/latest.out" | grep -vqE ' (set|hash|zset) '; then
    fail "a string, list or stream to revert at the newest second: $(cat "$T/latest.out")"
fi
pass "--to latest --target: the newest second, no difference with the live server: $(tail -1 "$T/latest.out")"

# --- the flashback ----------------------------------------------------------
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' >"$T/fb.out" 2>"$T/fb.err" || fail "flashback: $(cat "$T/fb.err")"
expect_out "$T/fb.out" "restore 3, revert 8, delete 2, same 3, expired 0"
[ "$(snap "$PORT" user)" = "$AT_T_USER" ] || fail "user:* keys differ from T: $(diff <(echo "$AT_T_USER") <(snap "$PORT" user))"
[ "$(snap "$PORT" other)" = "$BEFORE_OTHER" ] || fail "other keys changed: $(diff <(echo "$BEFORE_OTHER") <(snap "$PORT" other))"
pass "every user:* key equals T (DEBUG DIGEST-VALUE, expiry), every other key as it was"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' >"$T/fb2.out" 2>"$T/fb2.err" || fail "flashback again: $(cat "$T/fb2.err")"
# "same" means the same DUMP payload: a hash-table set restored by another
# process may serialize its members in another order and be rewritten
grep -qE "^restore 0, revert [0-9]+, delete 0, same [0-9]+, expired 0$" "$T/fb2.out" ||
    fail "second run: $(cat "$T/fb2.out")"
[ "$(snap "$PORT" user)" = "$AT_T_USER" ] || fail "user:* keys after the second run"
pass "a second run restores and deletes nothing: $(tail -1 "$T/fb2.out")"

# --- --db: only the dbs named -----------------------------------------------
rcli "$PORT" set user:s1 again >/dev/null
rcli "$PORT" -n 1 set user:db1 again >/dev/null
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:*' --db 1 >"$T/db.out" 2>"$T/db.err" || fail "--db 1: $(cat "$T/db.err")"
assert_eq "$(rcli "$PORT" get user:s1)" "again" "db0 key after --db 1"
assert_eq "$(rcli "$PORT" -n 1 get user:db1)" "one" "db1 key after --db 1"
expect_out "$T/db.out" "restore 0, revert 1, delete 0, same 1, expired 0"
pass "--db 1 touches db 1 only"

# --- the same contents in another order are the same -------------------------
[ "$(rcli "$PORT" object encoding ht:set) $(rcli "$PORT" object encoding ht:hash)" = "hashtable hashtable" ] ||
    fail "ht:* are not hash tables: $(rcli "$PORT" object encoding ht:set) $(rcli "$PORT" object encoding ht:hash) $(rcli "$PORT" exists ht:set)"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'ht:*' --dry-run >"$T/ht.out" 2>"$T/ht.err" || fail "--dry-run of ht:*: $(cat "$T/ht.err")"
expect_out "$T/ht.out" "would restore 0, revert 0, delete 0, same 2, expired 0"
pass "a set and a hash stored as hash tables, unchanged since T: same (by contents, not payload order)"

# --- hash fields with their own expiries (Redis 7.4+) --------------------------
if [ $HFE = 1 ]; then
    "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
        --key 'hfe:*' >"$T/hfe.out" 2>"$T/hfe.err" || fail "hash field expiries: $(cat "$T/hfe.err")"
    expect_out "$T/hfe.out" "restore 0, revert 1, delete 0"
    assert_eq "$(rcli "$PORT" hpexpiretime hfe:h fields 3 f1 f2 f3 | tr '\n' ' ')" "$HFE_T" "field expiries of hfe:h"
    pass "hash fields keep their own expiries as at T: $HFE_T"
    # --ttl shift: each field gets the time it had left at the end of T
    "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
        --key 'hfe:*' --ttl shift >"$T/hfes.out" 2>"$T/hfes.err" || fail "--ttl shift of hash fields: $(cat "$T/hfes.err")"
    read -r w1 w2 w3 <<<"$HFE_T"
    read -r g1 g2 g3 <<<"$(rcli "$PORT" hpttl hfe:h fields 3 f1 f2 f3 | tr '\n' ' ')"
    AT_MS=$(((TSEC + 1) * 1000))
    for f in 1 3; do
        w=$(eval echo "\$w$f") g=$(eval echo "\$g$f")
        d=$((g - (w - AT_MS)))
        [ "${d#-}" -lt 1500 ] || fail "--ttl shift: field f$f has $g ms left, $((w - AT_MS)) ms wanted"
    done
    assert_eq "$w2 $g2" "-1 -1" "field f2 without an expiry at T, and after --ttl shift"
    pass "--ttl shift gives hash fields the time they had left at T ($g1 and $g3 ms)"
else
    echo "# no hash-field expiration on $(redis-server --version | cut -d' ' -f1-3): that part skipped"
fi

# --- the whole keyspace into an empty server, and not into a full one -------
EMPTY=$(free_port)
start_redis "$T/empty" "$EMPTY"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$EMPTY" \
    >"$T/all.out" 2>"$T/all.err" || fail "whole keyspace: $(cat "$T/all.err")"
assert_eq "$(digest "$EMPTY")" "$DIG_T" "DEBUG DIGEST of the whole keyspace restored into an empty server"
expect_out "$T/all.out" "by replication: the target loaded the restored files as a replica of 127.0.0.1:"
assert_eq "$(rcli "$EMPTY" info replication | tr -d '\r' | grep '^role:')" "role:master" "role after replication"
WANT_KEYS=$(rcli "$EMPTY" dbsize)
for db in 1 2 3; do WANT_KEYS=$((WANT_KEYS + $(rcli "$EMPTY" -n $db dbsize))); done
expect_out "$T/all.out" "restore $WANT_KEYS, revert 0, delete 0, same 0, expired 0"
# the same as JSON, into another empty server over its unix socket
EMPTY2=$(free_port)
start_redis "$T/empty2" "$EMPTY2" --unixsocket "$T/empty2/redis.sock"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "unix://$T/empty2/redis.sock" --json \
    >"$T/all.json" 2>"$T/all.err" || fail "whole keyspace --json: $(cat "$T/all.err")"
python3 - "$T/all.json" "$WANT_KEYS" <<'EOF2' || fail "whole keyspace --json: $(cat "$T/all.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["method"] == "replication", doc
assert doc["replicated_from"].startswith("127.0.0.1:"), doc
assert doc["totals"]["restore"] == int(sys.argv[2]), doc
EOF2
assert_eq "$(digest "$EMPTY2")" "$DIG_T" "DEBUG DIGEST of the whole keyspace replicated over a unix socket"
# a user that may not make the target a replica: key by key, the same result
EMPTY3=$(free_port)
start_redis "$T/empty3" "$EMPTY3"
rcli "$EMPTY3" acl setuser norepl on '>pw' '~*' '&*' +@all -replicaof -slaveof >/dev/null
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://norepl:pw@127.0.0.1:$EMPTY3" \
    >"$T/all3.out" 2>"$T/all3.err" || fail "whole keyspace without REPLICAOF: $(cat "$T/all3.err")"
grep -q "aofroll restore: note: not by replication (the target refused REPLICAOF: NOPERM" "$T/all3.err" ||
    fail "the note of a refused REPLICAOF: $(cat "$T/all3.err")"
expect_out "$T/all3.out" "restore $WANT_KEYS, revert 0, delete 0, same 0, expired 0"
assert_eq "$(digest "$EMPTY3")" "$DIG_T" "DEBUG DIGEST of the whole keyspace written key by key"
pass "the whole keyspace by replication (TCP, unix socket, --json), key by key where REPLICAOF is refused"
BEFORE_DIG=$(digest "$PORT")
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT"
expect_err "aofroll restore: redis://127.0.0.1:$PORT holds keys (db0="
assert_eq "$(digest "$PORT")" "$BEFORE_DIG" "a refused whole-keyspace flashback changed the target"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" --force \
    >"$T/force.out" 2>"$T/force.err" || fail "--force: $(cat "$T/force.err")"
assert_eq "$(digest "$PORT")" "$DIG_T" "DEBUG DIGEST after a whole-keyspace --force flashback"
pass "the whole keyspace: into an empty server, refused into a full one, made equal with --force"

# --- --ttl shift -------------------------------------------------------------
rcli "$PORT" del user:ttl >/dev/null
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" \
    --key 'user:ttl' --ttl shift >"$T/shift.out" 2>"$T/shift.err" || fail "--ttl shift: $(cat "$T/shift.err")"
WANT=$((TTL_EXP_T - (TSEC + 1) * 1000))
GOT=$(rcli "$PORT" pttl user:ttl)
[ "$GOT" -le "$WANT" ] && [ "$GOT" -gt $((WANT - 1000)) ] || fail "--ttl shift: pttl $GOT, expected within 1 s below $WANT"
pass "--ttl shift: the time left at T, counted from now ($GOT ms of $WANT)"

# --- a key larger than the target's proto-max-bulk-len -----------------------
BIG=$(free_port)
start_redis "$T/big" "$BIG" --proto-max-bulk-len 1mb
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$BIG" --key 'big:*' \
    >"$T/big.out" 2>"$T/big.err" || fail "a key past proto-max-bulk-len: $(cat "$T/big.err")"
assert_eq "$(rcli "$BIG" debug digest-value big:h)" "$(rcli "$PORT" debug digest-value big:h)" "big:h restored"
assert_eq "$(rcli "$BIG" config get proto-max-bulk-len | tail -1)" "1048576" "proto-max-bulk-len put back"
expect_out "$T/big.out" "note: proto-max-bulk-len of redis://127.0.0.1:$BIG raised for 1 keys larger than it, then put back"
rcli "$BIG" del big:h >/dev/null
rcli "$BIG" acl setuser fb on '>pw' '~*' '&*' +@all -config\|set >/dev/null
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" \
    --target "redis://fb:pw@127.0.0.1:$BIG" --key 'big:*'
expect_err 'key "big:h" in db 0: its DUMP payload ('
expect_err "and raising it failed"
assert_eq "$(rcli "$BIG" exists big:h)" "0" "big:h after a refused raise"
# a user that may not even read the limit: the server's refusal, named
rcli "$BIG" acl setuser fb2 on '>pw' '~*' '&*' +@all -config >/dev/null
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" \
    --target "redis://fb2:pw@127.0.0.1:$BIG" --key 'big:*'
# the server's protocol error, or the connection it closes while the
# payload is still being sent (which comes first depends on the timing)
expect_err 'key "big:h" in db 0'
grep -qE "(invalid bulk length \(the payload is longer|is likely longer) than the target's proto-max-bulk-len" \
    "$T/last.err" || fail "the message of a payload past a limit aofroll could not read: $(cat "$T/last.err")"
assert_eq "$(rcli "$BIG" exists big:h)" "0" "big:h after the server's refusal"
pass "a key larger than the target's proto-max-bulk-len: the limit raised and put back, or a clear refusal"

# --- the target refuses: the run stops naming the key ------------------------
rcli "$BIG" acl setuser ro on '>pw' '~*' '&*' +@read +select +info +config\|get +scan >/dev/null
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" \
    --target "redis://ro:pw@127.0.0.1:$BIG" --key 'user:s*'
expect_err "refused RESTORE of key \"user:s"
expect_err "done so far: restore 0, revert 0, delete 0"
expect_err "HINT: every write is idempotent: run again to finish"
pass "a refusal (ACL) stops the run with one line: $(cat "$T/last.err")"

# --- offline: a restore directory holding only the chosen keys ---------------
restore_started "$T/off" -c "$CFG" --instance live --to "@$TSEC" --key 'user:*' --db 0
assert_eq "$(snap "$RPORT" user)" "$(grep '^db0 ' <<<"$AT_T_USER")" "user:* keys of db 0 in the filtered restore"
assert_eq "$(snap "$RPORT" other)" "" "keys not chosen in the filtered restore"
assert_eq "$(rcli "$RPORT" info keyspace | grep -c '^db')" "1" "dbs in the filtered restore"
expect_out "$T/off.out" "wrote \"$T/off/appendonlydir\": $(grep -c '^db0 ' <<<"$AT_T_USER") keys of \"live\""
ls -d "$T"/aofroll-flashback-* /tmp/aofroll-flashback-* 2>/dev/null | grep -q . && fail "a scratch directory was left behind"
pass "--out DIR --key --db: DIR holds only the chosen keys, as at T ($(tail -1 "$T/off.out"))"

# --- usage ---------------------------------------------------------------------
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --key 'user:*' --out "$T/x" --dry-run
expect_err "--dry-run, --json and --ttl are for --target"
expect_exit 2 "$BIN/aofroll" restore -c "$CFG" --instance live --to "@$TSEC" --target "redis://127.0.0.1:$PORT" --ttl later
expect_err "--ttl \"later\": expected keep or shift"
pass "usage errors"

# --- --ttl shift: a key whose expiry has passed since T ---------------------
# the scratch server runs on a clock set back to T (replay/timeshift), so a
# key that expired after T is restored with the time it had left at T
start_collector "$CFG"
sleep_to_next_second
T2=$(date +%s)
{
    echo "SET gone:k v PX 4000"
    echo "SET gone:long v EX 100000"
} | redis-cli -p "$PORT" >/dev/null
[ "$(date +%s)" = "$T2" ] || fail "the gone:* keys did not fit in one second"
EXP2=$(rcli "$PORT" pexpiretime gone:k)
wait_until 10 bash -c "[ \"\$(redis-cli -p $PORT exists gone:k)\" = 0 ]" || fail "gone:k never expired"
sleep 1.2 # the collector archives the second
stop_collector "$CFG"
"$BIN/aofroll" restore -c "$CFG" --instance live --to "@$T2" --target "redis://127.0.0.1:$PORT" \
    --key 'gone:*' --ttl shift >"$T/gone.out" 2>"$T/gone.err" || fail "--ttl shift of an expired key: $(cat "$T/gone.err")"
GOT=$(rcli "$PORT" pttl gone:k)
WANT=$((EXP2 - (T2 + 1) * 1000))
D=$((GOT - WANT))
[ "$GOT" -gt 0 ] && [ "${D#-}" -lt 1500 ] || fail "gone:k after --ttl shift: pttl $GOT, $WANT wanted ($(cat "$T/gone.out" "$T/gone.err"))"
expect_out "$T/gone.out" "restore 1, revert 1, delete 0, same 0, expired 0" # gone:long: shifted by the time since T
pass "--ttl shift restores a key that expired since T, with the time it had left then ($GOT ms of $WANT)"

done_testing
