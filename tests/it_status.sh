#!/usr/bin/env bash
# it_status.sh - aofroll status and the collector's Prometheus file with
# the real collector: a healthy collector exits 0 and its metrics agree
# with status; a lag above lag_threshold exits 1 naming the lag; a killed
# collector exits 1 once its heartbeat is older than 3 poll intervals; an
# instance never polled exits 1. The metrics file is replaced atomically
# (no temporary file is left beside it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/it_restore_common.sh"
. "$(dirname "$0")/it_inspect_lib.sh"

A=$BIN/aofroll
PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
STORE=$T/store
mkdir -p "$T/textfile"
PROM=$T/textfile/aofroll.prom
write_config "$CFG" "$STORE" "$T/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    max_rate: 64KiB/s" "    chunk_size: 64KiB" \
    "    lag_threshold: 256KiB" "    metrics_file: $PROM"
rcli "$PORT" set hello world >/dev/null
start_collector "$CFG"
wait_until 10 test -s "$PROM" || fail "no metrics file: $(tail -3 "$T/collector.log")"
wait_until 10 "$A" status -c "$CFG" || fail "status never became OK: $("$A" status -c "$CFG" 2>&1)"
expect_exit 0 "$A" status -c "$CFG"
expect_out "$T/last.out" "live: OK"
expect_out "$T/last.out" "  lag           0 B (0 bytes), 0 s; threshold 256.0 KiB"
"$A" status -c "$CFG" --json >"$T/s.json" || fail "status --json"
assert_eq "$(json_get "$T/s.json" 'd["ok"], d["instances"][0]["problems"], d["instances"][0]["lag_bytes"]')" \
    "(True, [], 0)" "status --json when healthy"
SHIPPED=$(json_get "$T/s.json" 'd["instances"][0]["shipped"]')
assert_eq "$SHIPPED" "$(json_get "$T/s.json" 'd["instances"][0]["current_size"]')" "shipped = size"
expect_out "$PROM" "# TYPE aofroll_lag_bytes gauge"
expect_out "$PROM" "aofroll_lag_bytes{instance=\"live\"} 0"
expect_out "$PROM" "aofroll_shipped_bytes{instance=\"live\"} $SHIPPED"
expect_out "$PROM" "aofroll_poll_interval_seconds{instance=\"live\"} 0.100"
POLL=$(sed -n 's/^aofroll_last_poll_timestamp_seconds{instance="live"} //p' "$PROM")
[ $(($(date +%s) - POLL)) -le 2 ] || fail "metrics heartbeat $POLL is old"
assert_eq "$(ls "$T/textfile")" "aofroll.prom" "files beside the metrics file"
pass "a healthy collector: status exits 0, the metrics file agrees"

# 2 MB that the collector may ship at 64 KiB/s only: the lag grows past 256 KiB
head -c 2000000 /dev/urandom | redis-cli -p "$PORT" -x set big >/dev/null
wait_until 10 bash -c "! '$A' status -c '$CFG' >/dev/null 2>&1" || fail "status stayed OK under lag"
expect_exit 1 "$A" status -c "$CFG"
expect_out "$T/last.out" "live: PROBLEM: lag "
expect_err "aofroll status: live: lag "
expect_err "above the threshold of 256.0 KiB"
LAG=$(sed -n 's/^aofroll_lag_bytes{instance="live"} //p' "$PROM")
[ "$LAG" -gt 262144 ] || fail "metrics lag $LAG not above the threshold"
pass "a lag above lag_threshold: status exits 1 naming it, and the metrics show it"

kill -9 "$COLLECTOR_PID"
wait "$COLLECTOR_PID" 2>/dev/null
sleep 2.5
expect_exit 1 "$A" status -c "$CFG"
expect_err "aofroll status: live: heartbeat "
expect_err "s old (limit 1 s, 3 poll intervals): is aofroll-collector running?"
"$A" status -c "$CFG" --json >"$T/s2.json"
assert_eq "$(json_get "$T/s2.json" 'd["ok"], d["instances"][0]["heartbeat_age_seconds"] > 1, d["instances"][0]["problems"][0][:10]')" \
    "(False, True, 'heartbeat ')" "status --json after the kill"
pass "a killed collector: status exits 1 once the heartbeat is older than 3 polls"

write_config "$T/idle.yaml" "$STORE" "$T/index.db" "  - name: idle" "    redis: redis://127.0.0.1:1"
expect_exit 1 "$A" status -c "$T/idle.yaml"
expect_err "aofroll status: idle: no heartbeat: the collector has never polled it"
expect_exit 2 "$A" status -c "$CFG" --instance nope
expect_err 'aofroll status: unknown instance "nope"'
pass "an instance never polled: exit 1; an unknown one: exit 2"

done_testing
