#!/usr/bin/env bash
# it_delete.sh - aofroll delete with the real collector. Two generations
# (a barrier in between):
#  - the newest generation is refused without --force, saying why, and
#    nothing is removed; an unknown generation names the ones there are;
#    bad usage exits 2;
#  - deleting generation 1 removes its objects and its index rows (chunks,
#    size log, generation), reports the objects and bytes freed as the
#    index counted them, and leaves a "delete" event;
#  - a restore to a second of generation 2 still equals the live digest,
#    and verify passes;
#  - --force deletes the newest generation too.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 4KiB
collect() {
    "$BIN/aofroll-collector" -c "$CFG" "$@" >>"$T/collector.log" 2>&1 ||
        fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"
}
q() {
    sqlite3 "$T/index.db" "$1"
}
files_of() { # GEN: objects stored under the generation's prefix
    find "$STORE/live/gen-$(printf %06d "$1")" -type f 2>/dev/null | wc -l
}

start_collector "$CFG"
sleep 1
run_seconds "$PORT" 1 2
stop_collector "$CFG"
collect --barrier-now
start_collector "$CFG"
run_seconds "$PORT" 3 4
stop_collector "$CFG"
assert_eq "$(q "select group_concat(generation) from generations")" "1,2" "generations archived"
GEN1_OBJS=$(q "select count(*) from chunks where generation = 1")
GEN1_BYTES=$(q "select sum(stored_bytes) from chunks where generation = 1")
GEN2_OBJS=$(q "select count(*) from chunks where generation = 2")
assert_eq "$(files_of 1)" "$GEN1_OBJS" "objects of generation 1 in storage"

expect_exit 1 "$A" delete -c "$CFG" --instance live --generation 2
expect_err "aofroll delete: generation 2 is the newest of \"live\": the collector writes to it and only it can restore the latest seconds; not deleted. HINT: stop the collector and pass --force"
assert_eq "$(files_of 2)" "$GEN2_OBJS" "objects of generation 2 after the refusal"
assert_eq "$(q "select count(*) from chunks where generation = 2")" "$GEN2_OBJS" "rows of generation 2 after the refusal"
pass "the newest generation is refused without --force, and nothing is removed"

expect_exit 1 "$A" delete -c "$CFG" --instance live --generation 7
expect_err "aofroll delete: instance \"live\" has no generation 7 in index \"$T/index.db\" (its generations: 1, 2)"
expect_exit 2 "$A" delete -c "$CFG" --instance live
expect_err "aofroll delete: missing --generation N"
expect_exit 2 "$A" delete -c "$CFG" --instance live --generation one
expect_err "aofroll delete: --generation: \"one\" is not a number"
expect_exit 2 "$A" delete -c "$CFG" --instance nosuch --generation 1
expect_err "aofroll delete: unknown instance \"nosuch\" (configured: live)"
expect_exit 1 "$A" delete -c "$T/nothing.yaml" --instance live --generation 1
pass "an unknown generation names the ones there are; bad usage exits 2"

expect_exit 0 "$A" delete -c "$CFG" --instance live --generation 1
expect_out "$T/last.out" "live: deleted generation 1 (base "
expect_out "$T/last.out" "live: removed $GEN1_OBJS objects, "
expect_out "$T/last.out" " freed ($GEN1_BYTES bytes)"
expect_out "$T/last.out" "live: restorable from "
assert_eq "$(files_of 1)" 0 "objects of generation 1 left in storage"
assert_eq "$(q "select count(*) from chunks where generation = 1")" 0 "chunk rows of generation 1"
assert_eq "$(q "select count(*) from size_log where generation = 1")" 0 "size log rows of generation 1"
assert_eq "$(q "select group_concat(generation) from generations")" "2" "generations left"
assert_eq "$(q "select count(*) from events where kind = 'delete' and detail like 'generation 1 deleted:%'")" 1 \
    "delete event"
assert_eq "$(files_of 2)" "$GEN2_OBJS" "objects of generation 2"
pass "deleting generation 1 removes its objects and rows and reports the bytes freed"

restore_started "$T/r4" -c "$CFG" --instance live --to "@${SEC[4]}"
assert_eq "$(digest "$RPORT")" "${DIG[4]}" "digest of a restore to second 4"
expect_exit 0 "$A" verify -c "$CFG"
pass "a restore in the newest generation still equals the live server; verify passes"

expect_exit 1 "$A" delete -c "$CFG" --instance live --generation 1
expect_err "(its generations: 2)"
expect_exit 0 "$A" delete -c "$CFG" --instance live --generation 2 --force
expect_out "$T/last.out" "live: removed $GEN2_OBJS objects, "
assert_eq "$(files_of 2)" 0 "objects of generation 2 after --force"
assert_eq "$(q "select count(*) from generations")" 0 "generations after --force"
pass "--force deletes the newest generation; a deleted generation is unknown afterwards"

done_testing
