#!/usr/bin/env bash
# it_prune.sh - aofroll prune with the real collector. Three generations
# (barriers a few seconds apart), retention 1m, and prune run when the
# window [now - 1m, now] begins inside generation 2 (before the second b is
# written: from that second on generation 3 serves, its lead second being
# the second of b): --dry-run plans to
# delete generation 1 and changes nothing; prune deletes its objects and
# index rows and reports the bytes freed; the window's oldest second still
# restores (to the digest the live server had then); a second prune finds
# nothing; an instance whose only generation is older than the retention
# keeps it (never the newest generation). Takes a little over a minute: the
# retention cannot be shorter than 1m.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$BIN/aofroll-collector
PORT=$(free_port)
SOLO=$(free_port)
start_redis "$T/live" "$PORT"
start_redis "$T/solo" "$SOLO"
CFG=$T/aofroll.yaml
STORE=$T/store
write_config "$CFG" "$STORE" "$T/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    retention: 1m" \
    "  - name: solo" "    redis: redis://127.0.0.1:$SOLO" "    retention: 1m"
collect() {
    "$C" -c "$CFG" "$@" >>"$T/collector.log" 2>&1 || fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}

rcli "$PORT" set a 1 >/dev/null
rcli "$SOLO" set only 1 >/dev/null
collect --once
sleep_to_next_second
collect --barrier-now --instance live
DIG_A=$(digest "$PORT")
sleep_to_next_second
TB=$(date +%s)
rcli "$PORT" set b 2 >/dev/null
sleep_to_next_second
DIG_B=$(digest "$PORT")
collect --once
sleep 1.5
collect --barrier-now --instance live
rcli "$PORT" set c 3 >/dev/null
collect --once
"$A" generations -c "$CFG" --instance live --json >"$T/g.json" || fail "generations"
assert_eq "$(json_get "$T/g.json" 'len(d["instances"][0]["generations"])')" 3 "generations made"
T3=$(date -u -d "$(json_get "$T/g.json" 'd["instances"][0]["generations"][2]["base_time"]')" +%s)
[ "$T3" -ge $((TB + 2)) ] || fail "generation 3's base ($T3) is not 2 s after second $TB"
"$A" ls -c "$CFG" --instance live --json >"$T/ls.json" || fail "ls"
GEN1_BYTES=$(json_get "$T/ls.json" 'sum(c["stored_bytes"] for c in d["chunks"] if c["generation"] == 1)')
GEN1_OBJS=$(json_get "$T/ls.json" 'sum(1 for c in d["chunks"] if c["generation"] == 1)')

# wait until the window [now - 60, now] starts at second TB - 2 (generation
# 2's seconds run from before TB - 2 to TB - 1: a prune up to a second late
# still finds the window starting in it)
sleep "$(awk -v n="$(date +%s.%N)" -v t="$((TB + 58))" 'BEGIN { d = t + 0.2 - n; printf "%.3f", (d > 0 ? d : 0) }')"
BEFORE=$(tree_sum "$STORE" "$T/index.db")
"$A" prune -c "$CFG" --dry-run --json >"$T/dry.json" || fail "prune --dry-run"
assert_eq "$(json_get "$T/dry.json" '[(x["instance"], x["generation"]) for x in d["deleted"]]')" "[('live', 1)]" \
    "generations prune --dry-run would delete"
assert_eq "$(json_get "$T/dry.json" 'd["bytes"], d["objects"]')" "($GEN1_BYTES, $GEN1_OBJS)" "bytes it would free"
assert_eq "$(tree_sum "$STORE" "$T/index.db")" "$BEFORE" "archive after --dry-run"
pass "prune --dry-run plans generation 1 only and changes nothing"

expect_exit 0 "$A" prune -c "$CFG"
expect_out "$T/last.out" "live: deleting generation 1 ("
expect_out "$T/last.out" "solo: retention 60 s keeps "
expect_out "$T/last.out" "freed 1 generation, $GEN1_OBJS objects, "
expect_out "$T/last.out" "($GEN1_BYTES bytes)"
assert_eq "$(find "$STORE/live/gen-000001" -type f 2>/dev/null | wc -l)" 0 "objects left of generation 1"
"$A" generations -c "$CFG" --json >"$T/g2.json" || fail "generations after prune"
assert_eq "$(json_get "$T/g2.json" '[[g["generation"] for g in i["generations"]] for i in d["instances"]]')" \
    "[[2, 3], [1]]" "generations after prune"
expect_exit 0 "$A" verify -c "$CFG"
pass "prune deletes generation 1 (objects and rows), keeps the only generation of solo"

restore_started "$T/r" -c "$CFG" --instance live --to "@$((TB - 1))"
assert_eq "$(digest "$RPORT")" "$DIG_A" "digest of a restore to the window's oldest second"
restore_started "$T/r2" -c "$CFG" --instance live --to "@$TB"
assert_eq "$(digest "$RPORT")" "$DIG_B" "digest of a restore to the second b was written"
pass "the oldest second of the retention window still restores after pruning, and the next"

# a second prune: generation 2 serves only seconds before TB, so it goes
# once the window has moved past them (the restores above take a while)
expect_exit 0 "$A" prune -c "$CFG"
KEEP=$(sed -n 's/^live: retention 60 s keeps \(.*\) on, from generation \([0-9]*\)$/\1 \2/p' "$T/last.out")
[ -n "$KEEP" ] || fail "no retention line: $(cat "$T/last.out")"
if [ "$(date -u -d "${KEEP% *}" +%s)" -le $((TB - 1)) ]; then
    assert_eq "${KEEP#* }" 2 "generation kept from while the window starts before TB"
    expect_out "$T/last.out" "freed 0 generations, 0 objects"
else
    assert_eq "${KEEP#* }" 3 "generation kept from once the window starts at TB"
    expect_out "$T/last.out" "live: deleting generation 2 ("
fi
pass "a second prune deletes only what the window no longer needs (kept from generation ${KEEP#* })"

done_testing
