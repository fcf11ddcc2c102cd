#!/usr/bin/env bash
# it_verify.sh - aofroll verify against an archive made by the real
# collector: a sound archive passes with its restorable window; a flipped
# byte, a deleted chunk and a truncated one each fail it (exit 1) naming
# the object, and shorten the window to the bytes before the fault;
# --quick catches the deleted and the truncated one without reading
# objects; a damaged base leaves the generation unrestorable; an object the
# index does not know is reported but is no fault.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 4KiB
start_collector "$CFG"
sleep 1
run_seconds "$PORT" 1 3
stop_collector "$CFG"
"$A" ls -c "$CFG" --json >"$T/ls.json" || fail "ls"
BASE_TIME=$(json_get "$T/ls.json" "[c['first'] for c in d['chunks'] if c['kind'] == 'base'][0]")
LAST=$(json_get "$T/ls.json" "max(c['last'] for c in d['chunks'])")

expect_exit 0 "$A" verify -c "$CFG"
expect_out "$T/last.out" "live: restorable from $BASE_TIME to $LAST"
expect_out "$T/last.out" " 0 faults"
expect_out "$T/last.out" "live generation 1: base 1 chunk ok, incr "
"$A" verify -c "$CFG" --json >"$T/v.json" || fail "verify --json"
assert_eq "$(json_get "$T/v.json" 'd["faults"], d["chunks"], d["instances"][0]["windows"]')" \
    "(0, $(json_get "$T/ls.json" 'len(d["chunks"])'), [{'from': '$BASE_TIME', 'to': '$LAST'}])" "verify --json"
expect_exit 0 "$A" verify -c "$CFG" --quick
pass "a sound archive verifies, with its restorable window"

# the 5th incr chunk is the victim; the window must end where the 4th ended
VICTIM=$(json_get "$T/ls.json" "[c['key'] for c in d['chunks'] if c['kind'] == 'incr'][4]")
BEFORE_LAST=$(json_get "$T/ls.json" "[c['last'] for c in d['chunks'] if c['kind'] == 'incr'][3]")
OBJ=$STORE/$VICTIM
cp "$OBJ" "$T/saved.gz"

# expect_fault MODE TEXT: verify (full or --quick) fails naming the victim
expect_fault() {
    local mode=$1 text=$2
    if [ "$mode" = quick ]; then
        expect_exit 1 "$A" verify -c "$CFG" --quick
    else
        expect_exit 1 "$A" verify -c "$CFG"
    fi
    expect_out "$T/last.out" "FAULT live generation 1 incr: "
    expect_out "$T/last.out" "$text"
    expect_err "aofroll verify: 1 fault found, the first: live generation 1 incr: "
    expect_err "$VICTIM"
}

python3 - "$OBJ" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 0x40   # one bit in the deflate stream
open(sys.argv[1], "wb").write(data)
PY
expect_fault full "chunk \"$VICTIM\""
"$A" verify -c "$CFG" --json >"$T/vf.json"
assert_eq "$(json_get "$T/vf.json" 'd["instances"][0]["windows"]')" \
    "[{'from': '$BASE_TIME', 'to': '$BEFORE_LAST'}]" "window after a flipped byte"
assert_eq "$(json_get "$T/vf.json" 'd["instances"][0]["faults"][0]["key"]')" "$VICTIM" "faulty key in json"
expect_exit 0 "$A" verify -c "$CFG" --quick # same size: only a full verify sees it
pass "a flipped byte fails verify, naming the chunk; the window stops before it"

rm "$OBJ"
expect_fault full "$VICTIM"
expect_fault quick "object \"$VICTIM\" is missing"
pass "a deleted chunk fails verify and verify --quick"

head -c $(($(stat -c %s "$T/saved.gz") / 2)) "$T/saved.gz" >"$OBJ"
expect_fault full "$VICTIM"
expect_fault quick "object \"$VICTIM\" holds $(stat -c %s "$OBJ") bytes, the index says $(stat -c %s "$T/saved.gz")"
pass "a truncated chunk fails verify and verify --quick"

cp "$T/saved.gz" "$OBJ"
expect_exit 0 "$A" verify -c "$CFG"
cp "$T/saved.gz" "$STORE/live/gen-000001/incr/stray.aof.gz"
expect_exit 0 "$A" verify -c "$CFG"
expect_out "$T/last.out" "live: 1 object in storage that the index does not record"
rm "$STORE/live/gen-000001/incr/stray.aof.gz"
pass "the repaired archive verifies again; a stray object is reported, not a fault"

BASEOBJ=$STORE/$(json_get "$T/ls.json" "[c['key'] for c in d['chunks'] if c['kind'] == 'base'][0]")
cp "$BASEOBJ" "$T/base.saved"
printf 'not gzip at all' >"$BASEOBJ"
expect_exit 1 "$A" verify -c "$CFG"
expect_out "$T/last.out" "FAULT live generation 1 base: "
expect_out "$T/last.out" "live: restorable nowhere"
cp "$T/base.saved" "$BASEOBJ"
pass "a damaged base makes its generation unrestorable"

done_testing
