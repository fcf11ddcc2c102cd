#!/bin/bash
# it_faults_storage_azure.sh - the collector and restore through an Azure
# outage, against Azurite.
#
# A real redis-server takes writes all along (tests/lib/writer.py: binary
# values, MULTI/EXEC, SELECT, values larger than a chunk)
# while the collector ships to azure:// on Azurite through
# tests/s3_faultproxy.py (used here only to count requests and inject
# faults). start_collector/stop_collector are tests/lib/collector.sh's
# (SIGTERM, then --once). Then:
#   - the storage goes away (the proxy is killed: every request meets a
#     refused connection) for OUTAGE_S seconds: the collector keeps polling
#     (heartbeat, size log), says so once, ships nothing; the proxy comes
#     back on the same port (Azurite kept the blobs): the collector says
#     so once and catches up, and the archive fetched back from Azurite
#     and gunzipped equals the incr file byte for byte;
#   - restores: a chunk in the middle answering 503 twice is retried and
#     the restore equals the live server at that second; the same chunk
#     answering 503 for good fails the restore after 5 attempts with one
#     line naming it, and leaves no DIR.
# Without node/npm: skipped (exit 77) with one line.
. "$(dirname "$0")/lib/scenario.sh" collector restore services

have_azurite || skip "$AZURITE_WHY"
OUTAGE_S=${OUTAGE_S:-15}
start_azurite
az_create_container arch
export AZURE_STORAGE_SAS_TOKEN
AZURE_STORAGE_SAS_TOKEN=$(az_container_sas arch racwdl)
start_proxy_to "http://127.0.0.1:$AZ_PORT"

collector_redis
CFG=$T/c.yaml
INDEX=$T/index.db
main_config "$CFG" "$INDEX" "  url: azure://$AZ_ACCOUNT/arch/a" "  azure:" \
    "    endpoint: http://127.0.0.1:$PROXY_PORT/$AZ_ACCOUNT"
q() { sqlite3 "$INDEX" "$1"; }
shipped() { q "select coalesce(max(end), 0) from chunks where kind = 'incr' and generation = 1"; }
INCR=$R/appendonlydir/appendonly.aof.1.incr.aof
pass "azurite, the fault proxy and redis-server are up"

# --- the outage ---------------------------------------------------------------
python3 "$WRITER_PY" loop "$PORT" 11 >"$T/writer.log" 2>&1 &
WPID=$!
PIDS_TO_KILL+=("$WPID")
start_collector "$CFG"
wait_until 30 bash -c "[ \"\$(sqlite3 '$INDEX' \"select count(*) from chunks where kind = 'incr'\" 2>/dev/null)\" -ge 3 ]" ||
    fail "no incr chunks shipped in 30 s: $(tail -5 "$T/collector.log")"
LOG_LINES=$(wc -l <"$T/collector.log")
log_since() { tail -n +$((LOG_LINES + 1)) "$T/collector.log"; }
kill -9 "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
OUT_START=$(date +%s)
sleep 3
SHIPPED_DOWN=$(shipped)
SIZE_ROWS=$(q "select count(*) from size_log")
sleep $((OUTAGE_S - 3))
now=$(date +%s)
[ $((now - $(q "select last_poll from status"))) -le 4 ] || fail "the heartbeat stopped during the outage"
[ "$(q "select count(*) from size_log")" -gt "$SIZE_ROWS" ] || fail "the size log stopped growing during the outage"
assert_eq "$(shipped)" "$SHIPPED_DOWN" "incr bytes shipped while storage was down"
log_since | grep ' ERROR ' >"$T/outage.errors"
assert_eq "$(wc -l <"$T/outage.errors")" 1 "ERROR lines during the outage ($(cat "$T/outage.errors"))"
# the first PUT to fail is logged (a chunk's, or the index copy's)
grep -qE " ERROR \[main\] .*azure PUT \"azure://$AZ_ACCOUNT/arch/a/main/(gen-000001/|index\.db).*Couldn.t connect to server \(5 attempts\)$" \
    "$T/outage.errors" || fail "unexpected outage line: $(cat "$T/outage.errors")"
pass "storage down for $((now - OUT_START)) s: the collector keeps polling, the outage is logged once, nothing shipped"

start_proxy_to "http://127.0.0.1:$AZ_PORT" "$PROXY_PORT"
wait_until 60 bash -c "log_since() { tail -n +$((LOG_LINES + 1)) '$T/collector.log'; }; log_since | grep -q 'working again'" ||
    fail "no recovery 60 s after storage came back: $(tail -3 "$T/collector.log")"
kill "$WPID"
wait "$WPID" 2>/dev/null
wait_until 60 bash -c "[ \"\$(sqlite3 '$INDEX' \"select coalesce(max(end), 0) from chunks where kind = 'incr'\")\" = \"\$(stat -c %s '$INCR')\" ]" ||
    fail "the collector did not catch up with $INCR"
assert_eq "$(log_since | grep -cE 'INFO \[main\] (shipping|index copy): working again$')" 1 "'working again' lines"
stop_collector "$CFG"
AOFROLL_SUITE_URL=azure://$AZ_ACCOUNT/arch/a/ AOFROLL_SUITE_AZURE_ENDPOINT=$AZ_ENDPOINT "$BIN/storage_probe" list main/gen-000001/incr/ |
    cut -f1 >"$T/keys" || fail "cannot list the archive in azurite"
while read -r key; do
    AOFROLL_SUITE_URL=azure://$AZ_ACCOUNT/arch/a/ AOFROLL_SUITE_AZURE_ENDPOINT=$AZ_ENDPOINT "$BIN/storage_probe" get "$key"
done <"$T/keys" | gunzip | cmp -s - "$INCR" || fail "the archive in azurite differs from the incr file"
assert_eq "$(q "select count(*) from chunks where kind = 'incr'")" "$(wc -l <"$T/keys")" "indexed incr chunks vs blobs"
pass "storage back: recovery logged once, caught up; the archive in Azurite equals the incr file ($(stat -c %s "$INCR") B)"

# --- restores through faults ------------------------------------------------------
start_collector "$CFG"
run_seconds "$PORT" 1 2
sleep 0.5
stop_collector "$CFG"
KEY=$(q "select key from chunks where kind = 'incr' order by start desc limit 1 offset 1")
BLOB=/$AZ_ACCOUNT/arch/a/$KEY
proxy_post reset
proxy_post faults "{\"status\": 503, \"count\": 2, \"method\": \"GET\", \"path\": \"$BLOB\", \"code\": \"ServerBusy\"}"
restore_started "$T/r1" -c "$CFG" --instance main --to "@${SEC[2]}"
assert_eq "$(digest "$RPORT")" "${DIG[2]}" "digest after a restore whose chunk answered 503 twice"
assert_eq "$(stat_of faults_left)" 0 "injected faults left unused"
pass "restore: a chunk answering 503 twice is retried; the restore equals the live server"
proxy_post reset
proxy_post faults "{\"status\": 503, \"count\": 100, \"method\": \"GET\", \"path\": \"$BLOB\", \"code\": \"ServerBusy\"}"
expect_exit 1 "$BIN/aofroll" restore -c "$CFG" --instance main --to "@${SEC[2]}" --out "$T/r2"
expect_err "azure GET \"azure://$AZ_ACCOUNT/arch/a/$KEY\": HTTP 503 ServerBusy: injected by s3_faultproxy (5 attempts)"
assert_eq "$(wc -l <"$T/last.err")" 1 "lines on stderr"
[ ! -e "$T/r2" ] || fail "a failed restore left $T/r2 behind"
pass "restore: the chunk failing for good: exit 1 after 5 attempts, one line naming it, no DIR"

done_testing
