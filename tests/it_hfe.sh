#!/usr/bin/env bash
# it_hfe.sh - hash-field expiration (Redis 7.4+): archived, shown, found by
# log --key, and restored with every field's expiry.
#
# A real redis-server takes HSET, HEXPIRE, HPEXPIRE (NX), HEXPIREAT,
# HPEXPIREAT, HPERSIST, an HEXPIRE in the past, a field that expires on its
# own, a MULTI block and a second db, one step per second, while the
# collector follows it; then a barrier (a base holding field expiries) and
# more of the same. Redis logs the expiries as HPEXPIREAT with absolute
# milliseconds and the expired fields as HDEL; checked:
#  - show --at prints those commands with the times Redis logged (the
#    fields' HPEXPIRETIME);
#  - log --key finds every command of each hash, in order, and no other;
#  - a restore to each second holds the live keyspace of that second
#    (DEBUG DIGEST) and every field's HPEXPIRETIME, from generation 1's
#    stream and from generation 2's base;
#  - on servers that have them (Redis 8.0), HSETEX, HGETEX and HGETDEL
#    likewise.
# Exits 77 (skipped) on servers without hash-field expiration: Redis before
# 7.4, Valkey before 9.0; fails on any other that lacks it.
. "$(dirname "$0")/lib/scenario.sh" collector restore

json_get() { # FILE EXPR: a python expression on the JSON document d
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

PORT=$(free_port)
start_redis "$T/live" "$PORT"
info_field() { rcli "$PORT" info server | tr -d '\r' | sed -n "s/^$1://p"; }
if rcli "$PORT" hpexpiretime nosuch FIELDS 1 f 2>&1 | grep -qi 'unknown command'; then
    name=$(info_field server_name)
    version=$(info_field "${name:-redis}_version")
    if [ "${name:-redis}" = valkey ]; then need=9.0; else need=7.4; fi
    if [ "$(printf '%s\n%s\n' "$need" "$version" | sort -V | head -1)" = "$need" ]; then
        fail "${name:-redis} $version has no HPEXPIRETIME, though hash-field expiration came in $need"
    fi
    echo "skipped: ${name:-redis} $version has no hash-field expiration"
    exit 77
fi
HAS_HSETEX=0
rcli "$PORT" hsetex nosuch FIELDS 1 f v 2>&1 | grep -qi 'unknown command' || HAS_HSETEX=1
rcli "$PORT" del nosuch >/dev/null

CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" "  - name: hfe" "    redis: redis://127.0.0.1:$PORT"
start_collector "$CFG"

# fields: every "db key field expiretime" of the hashes, sorted
fields() {
    local port=$1 db key f
    for db in 0 1; do
        for key in $(redis-cli -p "$port" -n "$db" --scan --pattern 'h*' | sort); do
            for f in $(redis-cli -p "$port" -n "$db" hkeys "$key" | sort); do
                echo "$db $key $f $(redis-cli -p "$port" -n "$db" hpexpiretime "$key" FIELDS 1 "$f")"
            done
        done
    done
}
declare -A FIELDS
# step I: end the second, record its digest and fields
end_second() {
    [ "$(date +%s)" = "${SEC[$1]}" ] || fail "step $1 did not fit in one second"
    sleep_to_next_second
    DIG[$1]=$(digest "$PORT")
    FIELDS[$1]=$(fields "$PORT")
}
r() { rcli "$PORT" "$@" >/dev/null || fail "redis: $*"; }
r0() { # a command whose integer replies must all be 1
    local out
    out=$(rcli "$PORT" "$@") || fail "redis: $*"
    [ -z "$(grep -vx 1 <<<"$out")" ] || fail "redis: $*: $(echo "$out" | tr '\n' ' ')"
}

sleep_to_next_second
NOW=$(date +%s)
SEC[1]=$NOW
r hset h f1 a f2 b f3 c f4 d f5 e f6 f
r0 hexpire h 36000 FIELDS 2 f1 f2
r0 hpexpire h 72000000 NX FIELDS 1 f3
r -n 1 hset h1 g 1 k 2
r0 -n 1 hexpireat h1 $((NOW + 50000)) FIELDS 1 g
printf 'MULTI\nHPEXPIREAT h %s FIELDS 1 f5\nHSET h f9 z\nEXEC\n' $(((NOW + 90000) * 1000 + 123)) | rcli "$PORT" >/dev/null
end_second 1

SEC[2]=$(date +%s)
r0 hexpireat h $((NOW + 9000)) FIELDS 1 f4
r0 hpersist h FIELDS 1 f1
assert_eq "$(rcli "$PORT" hexpire h 0 FIELDS 1 f6)" 2 "HEXPIRE 0 deletes the field"
r0 -n 1 hpexpire h1 86400000 FIELDS 2 g k
end_second 2

SEC[3]=$(date +%s)
r hset h f7 x
r0 hpexpire h 200 FIELDS 1 f7
wait_until 2 bash -c "[ \"\$(redis-cli -p $PORT hexists h f7)\" = 0 ]" || fail "field f7 did not expire"
end_second 3
sleep 0.5
stop_collector "$CFG"
start_collector "$CFG"
pass "HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT, HPERSIST, an expiry in the past and one that passed, archived"

# --- show: the expiries as Redis logged them, absolute milliseconds
pexp() { sed -n "s/^$1 $2 $3 //p" <<<"${FIELDS[$4]}"; } # DB KEY FIELD STEP: its expiry then
"$BIN/aofroll" show -c "$CFG" --instance hfe --at "@${SEC[1]}" >"$T/show1.txt" || fail "show --at second 1"
expect_out "$T/show1.txt" "\"HPEXPIREAT\" \"h\" \"$(pexp 0 h f1 1)\" \"FIELDS\" \"2\" \"f1\" \"f2\""
expect_out "$T/show1.txt" "\"HPEXPIREAT\" \"h\" \"$(pexp 0 h f3 1)\" \"NX\" \"FIELDS\" \"1\" \"f3\""
expect_out "$T/show1.txt" "\"HPEXPIREAT\" \"h1\" \"$(pexp 1 h1 g 1)\" \"FIELDS\" \"1\" \"g\""
assert_eq "$(pexp 0 h f5 1)" $(((NOW + 90000) * 1000 + 123)) "f5's expiry set inside MULTI"
"$BIN/aofroll" show -c "$CFG" --instance hfe --at "@${SEC[2]}" >"$T/show2.txt" || fail "show --at second 2"
expect_out "$T/show2.txt" "\"HPEXPIREAT\" \"h\" \"$(pexp 0 h f4 2)\" \"FIELDS\" \"1\" \"f4\""
expect_out "$T/show2.txt" '"hpersist" "h" "FIELDS" "1" "f1"'
expect_out "$T/show2.txt" '"HDEL" "h" "f6"'
"$BIN/aofroll" show -c "$CFG" --instance hfe --at "@${SEC[3]}" >"$T/show3.txt" || fail "show --at second 3"
expect_out "$T/show3.txt" '"HDEL" "h" "f7"'
pass "show: HPEXPIREAT with the fields' expiry times, HPERSIST, HDEL of the expired fields"

# --- log --key: every command of each hash, and only those
WIN=(--since "@${SEC[1]}" --until "@${SEC[3]}")
"$BIN/aofroll" log -c "$CFG" --instance hfe "${WIN[@]}" --key h --json >"$T/logh.json" || fail "log --key h"
assert_eq "$(json_get "$T/logh.json" '" ".join("%s:%s" % (c["db"], c["command"].upper()) for c in d["commands"])')" \
    "0:HSET 0:HPEXPIREAT 0:HPEXPIREAT 0:HPEXPIREAT 0:HSET 0:HPEXPIREAT 0:HPERSIST 0:HDEL 0:HSET 0:HPEXPIREAT 0:HDEL" \
    "the history of h"
"$BIN/aofroll" log -c "$CFG" --instance hfe "${WIN[@]}" --key 'h1' --json >"$T/logh1.json" || fail "log --key h1"
assert_eq "$(json_get "$T/logh1.json" '" ".join("%s:%s" % (c["db"], c["command"].upper()) for c in d["commands"])')" \
    "1:HSET 1:HPEXPIREAT 1:HPEXPIREAT" "the history of h1"
"$BIN/aofroll" log -c "$CFG" --instance hfe "${WIN[@]}" --cmd 'hpexpireat|hpersist' --key 'f*' --json >"$T/logf.json" ||
    fail "log --key f*"
assert_eq "$(json_get "$T/logf.json" 'd["matched"]')" 0 "field names are not keys"
pass "log --key: every command of each hash, in order; field names are not keys"

# --- restore to each second: the keyspace and every field's expiry
check_restore() { # STEP DIR
    restore_started "$2" -c "$CFG" --instance hfe --to "@${SEC[$1]}"
    assert_eq "$(digest "$RPORT")" "${DIG[$1]}" "digest of the restore to step $1"
    assert_eq "$(fields "$RPORT")" "${FIELDS[$1]}" "field expiries of the restore to step $1"
    rcli "$RPORT" shutdown nosave >/dev/null 2>&1
}
for i in 1 2 3; do check_restore "$i" "$T/r$i"; done
pass "restore to each second: the live keyspace and every field's expiry"

# --- a barrier: generation 2's base holds the expiries
"$BIN/aofroll-collector" -c "$CFG" --barrier-now >"$T/barrier.out" 2>&1 || fail "barrier: $(cat "$T/barrier.out")"
grep -q "generation 2 opened" "$T/barrier.out" || fail "no generation 2: $(cat "$T/barrier.out")"
sleep_to_next_second
SEC[4]=$(date +%s)
r0 hpexpire h 5000000 FIELDS 1 f9
r0 -n 1 hpersist h1 FIELDS 1 k
end_second 4
last=4
if [ "$HAS_HSETEX" = 1 ]; then
    SEC[5]=$(date +%s)
    r hsetex h PX 6000000 FIELDS 2 n1 v1 n2 v2
    r hgetex h EX 7000 FIELDS 1 f3
    r hgetdel h FIELDS 1 f4
    end_second 5
    last=5
fi
sleep 0.5
stop_collector "$CFG"
for i in $(seq 4 "$last"); do check_restore "$i" "$T/r$i"; done
expect_out "$T/r4.out" "instance hfe, generation 2 "
if [ "$HAS_HSETEX" = 1 ]; then
    "$BIN/aofroll" log -c "$CFG" --instance hfe --since "@${SEC[5]}" --until "@${SEC[5]}" --key h --json >"$T/log5.json" ||
        fail "log --key h at step 5"
    [ "$(json_get "$T/log5.json" 'd["matched"]')" -ge 3 ] || fail "HSETEX, HGETEX, HGETDEL not found: $(cat "$T/log5.json")"
    pass "HSETEX, HGETEX, HGETDEL: found by log --key, restored with the expiries"
else
    echo "# HSETEX, HGETEX, HGETDEL: not in this server"
fi
pass "after a barrier: generation 2's base and stream restore every field's expiry"

done_testing
