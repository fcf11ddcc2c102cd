#!/usr/bin/env bash
# it_info.sh - aofroll info against the real collector: the restorable
# windows equal verify's, the newest second is the newest chunk's, the
# generations and the last barrier are the index's, the stored bytes are
# the sizes of the objects in the storage directory and the raw bytes the
# chunks' ranges; the lag is 0 after --once and shows when Redis writes
# more; --json carries the same; an instance never polled says so; an
# unknown one exits 2. Runs without -c (AOFROLL_CONFIG).
. "$(dirname "$0")/lib/scenario.sh" collector restore

A=$BIN/aofroll
C=$BIN/aofroll-collector
PORT=$(free_port)
start_redis "$T/live" "$PORT"
export AOFROLL_CONFIG=$T/aofroll.yaml
write_config "$AOFROLL_CONFIG" "$T/store" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" \
    "    chunk_size: 4KiB" "  - name: idle" "    redis: redis://127.0.0.1:1"
collect() { "$C" "$@" >>"$T/collector.log" 2>&1 || fail "aofroll-collector $*: $(tail -3 "$T/collector.log")"; }

for i in $(seq 1 50); do rcli "$PORT" set "k$i" "$(head -c 300 /dev/urandom | base64 -w0)" >/dev/null; done
sleep_to_next_second
collect --once --instance live
collect --barrier-now --instance live
rcli "$PORT" set after barrier >/dev/null
sleep_to_next_second
collect --once --instance live

expect_exit 0 "$A" info --instance live --json
cp "$T/last.out" "$T/info.json"
expect_exit 0 "$A" verify --instance live --json
cp "$T/last.out" "$T/verify.json"
assert_eq "$(json_get "$T/info.json" 'd["instances"][0]["windows"]')" \
    "$(json_get "$T/verify.json" 'd["instances"][0]["windows"]')" "info's windows are verify's"
NEWEST=$(sqlite3 "$T/index.db" "select max(last) from chunks where kind = 'incr'")
assert_eq "$(json_get "$T/info.json" 'd["instances"][0]["newest_second"]')" "$(utc "$NEWEST")" "newest second"
assert_eq "$(json_get "$T/info.json" 'd["instances"][0]["generations"], d["instances"][0]["newest_generation"]')" \
    "(2, 2)" "generations"
STORED=$(find "$T/store/live" -name '*.gz' -printf '%s\n' | awk '{s += $1} END {print s}')
NCHUNKS=$(find "$T/store/live" -name '*.gz' | wc -l)
RAW=$(sqlite3 "$T/index.db" "select sum(\"end\" - start) from chunks")
assert_eq "$(json_get "$T/info.json" 'd["instances"][0]["stored_bytes"], d["instances"][0]["chunks"], d["instances"][0]["raw_bytes"]')" \
    "($STORED, $NCHUNKS, $RAW)" "archive size: stored bytes and chunks in the storage, raw bytes of the chunks"
[ "$NCHUNKS" -gt 5 ] || fail "too few chunks ($NCHUNKS) for the scenario"
BARRIER=$(sqlite3 "$T/index.db" "select last_barrier from status")
assert_eq "$(json_get "$T/info.json" 'd["instances"][0]["last_barrier"], d["instances"][0]["lag_bytes"]')" \
    "('$(utc "$BARRIER")', 0)" "last barrier and lag"
pass "info --json: windows, newest second, generations, size and last barrier agree with the index and the storage"

expect_exit 0 "$A" info
cp "$T/last.out" "$T/info.txt"
W=$(json_get "$T/verify.json" '", ".join("from %s to %s" % (w["from"], w["to"]) for w in d["instances"][0]["windows"])')
expect_out "$T/info.txt" "  restorable     $W"
expect_out "$T/info.txt" "  newest second  $(utc "$NEWEST") ("
expect_out "$T/info.txt" "  generations    2 (1 to 2); newest 2: aof, base "
expect_out "$T/info.txt" "  archive        $(python3 -c "
import sys; n=int(sys.argv[1])
for u in ['B','KiB','MiB','GiB']:
    if n < 1024 or u == 'GiB': break
    n /= 1024
print(('%d B' % n) if u == 'B' else ('%.1f %s' % (n, u)))" "$STORED") stored in $NCHUNKS chunks ("
expect_out "$T/info.txt" "  last barrier   $(utc "$BARRIER") ("
expect_out "$T/info.txt" "idle"
expect_out "$T/info.txt" "  collector      never polled this instance"
pass "info: one screen per instance, the idle one never polled"

# the lag shows once Redis writes more than was shipped
rcli "$PORT" set more "$(head -c 5000 /dev/urandom | base64 -w0)" >/dev/null
python3 - "$T/index.db" "$(($(stat -c %s "$T"/live/appendonlydir/*.incr.aof)))" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("update status set current_size = ?", (int(sys.argv[2]),))
db.commit()
PY
expect_exit 0 "$A" info --instance live --json
LAG=$(json_get "$T/last.out" 'd["instances"][0]["lag_bytes"]')
[ "$LAG" -gt 5000 ] || fail "lag after 5000 more bytes: $LAG"
pass "the lag: what the AOF holds beyond the shipped offset ($LAG bytes)"

expect_exit 2 "$A" info --instance nope
expect_err 'aofroll info: unknown instance "nope"'
pass "an unknown instance: exit 2"
done_testing
