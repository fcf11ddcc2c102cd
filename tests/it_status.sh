#!/usr/bin/env bash
# it_status.sh - aofroll status and the collector's Prometheus file with
# the real collector: a healthy collector exits 0 and its metrics agree
# with status; a lag above lag_threshold exits 1 naming the lag; a killed
# collector exits 1 once its heartbeat is older than 3 poll intervals; an
# instance never polled exits 1. The metrics file is replaced atomically
# (no temporary file is left beside it). A backup that is not happening
# fails the check, with each reason on the line, in --json and as
# aofroll_up / aofroll_problem in the metrics file: Redis unreachable for
# more than 3 polls (down from the start or killed later), nothing archived
# yet, a poll that failed (a manifest the collector cannot read).
. "$(dirname "$0")/lib/scenario.sh" collector restore

PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
STORE=$T/store
mkdir -p "$T/textfile"
PROM=$T/textfile/aofroll.prom
write_config "$CFG" "$STORE" "$T/index.db" \
    "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    max_rate: 64KiB/s" "    chunk_size: 256KiB" \
    "    lag_threshold: 256KiB" "    metrics_file: $PROM"
rcli "$PORT" set hello world >/dev/null
start_collector "$CFG"
wait_until 10 test -s "$PROM" || fail "no metrics file: $(tail -3 "$T/collector.log")"
wait_until 10 "$A" status -c "$CFG" || fail "status never became OK: $("$A" status -c "$CFG" 2>&1)"
# OK comes with the first poll (74 bytes behind is under the threshold);
# the first chunk follows
caught_up() { "$A" status -c "$CFG" 2>/dev/null | grep -q "  lag           0 B (0 bytes)"; }
wait_until 10 caught_up || fail "the first chunk was never shipped: $("$A" status -c "$CFG" 2>&1)"
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
# max_rate holds every chunk back 4 s (256 KiB at 64 KiB/s), the
# heartbeat (3 polls of 0.1 s) keeps its pace all the same
grep -q "heartbeat" "$T/last.err" && fail "the heartbeat fell behind while max_rate held chunks back: $(cat "$T/last.err")"
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

# --- Redis down from the start: never "OK", never "generation 0"
DPORT=$(free_port)
DPROM=$T/textfile/down.prom
write_config "$T/down.yaml" "$T/store2" "$T/index2.db" "  - name: down" "    redis: redis://127.0.0.1:$DPORT" \
    "    metrics_file: $DPROM"
start_collector "$T/down.yaml"
wait_until 10 bash -c "'$A' status -c '$T/down.yaml' 2>/dev/null | grep -q 'redis unreachable since'" ||
    fail "redis down never reported: $("$A" status -c "$T/down.yaml" 2>&1)"
expect_exit 1 "$A" status -c "$T/down.yaml"
expect_out "$T/last.out" "down: PROBLEM: redis unreachable since "
expect_out "$T/last.out" "nothing archived yet: no chunk of it is in the index"
expect_out "$T/last.out" "  following     nothing yet"
grep -q "generation 0" "$T/last.out" && fail "status shows generation 0: $(cat "$T/last.out")"
expect_err "aofroll status: down: redis unreachable since "
[ "$(wc -l <"$T/last.err")" = 1 ] || fail "not one line on stderr: $(cat "$T/last.err")"
"$A" status -c "$T/down.yaml" --json >"$T/d.json"
assert_eq "$(json_get "$T/d.json" 'd["ok"], d["instances"][0]["reasons"], d["instances"][0]["archived"], d["instances"][0]["redis_down_since"] is not None')" \
    "(False, ['redis-unreachable', 'nothing-archived'], False, True)" "status --json with redis down"
wait_until 5 grep -qx 'aofroll_up{instance="down"} 0' "$DPROM" || fail "metrics: $(grep -v '^#' "$DPROM")"
expect_out "$DPROM" 'aofroll_problem{instance="down",reason="redis-unreachable"} 1'
expect_out "$DPROM" 'aofroll_problem{instance="down",reason="nothing-archived"} 1'
expect_out "$DPROM" 'aofroll_problem{instance="down",reason="lag"} 0'
pass "redis down from the start: exit 1, redis unreachable and nothing archived, in text, json and metrics"

start_redis "$T/dredis" "$DPORT"
rcli "$DPORT" set k v >/dev/null
wait_until 15 "$A" status -c "$T/down.yaml" || fail "status never recovered: $("$A" status -c "$T/down.yaml" 2>&1)"
expect_exit 0 "$A" status -c "$T/down.yaml"
expect_out "$T/last.out" "down: OK"
wait_until 5 grep -qx 'aofroll_up{instance="down"} 1' "$DPROM" || fail "metrics not up: $(grep -v '^#' "$DPROM")"
expect_out "$DPROM" 'aofroll_problem{instance="down",reason="redis-unreachable"} 0'
pass "redis back and archived: exit 0, aofroll_up 1"

# a manifest the collector cannot read: the poll fails at once
MF=$T/dredis/appendonlydir/appendonly.aof.manifest
cp "$MF" "$T/manifest.good"
printf 'not a manifest line\n' >"$T/manifest.bad"
mv "$T/manifest.bad" "$MF"
wait_until 10 bash -c "! '$A' status -c '$T/down.yaml' >/dev/null 2>&1" || fail "a failed poll was not reported"
expect_exit 1 "$A" status -c "$T/down.yaml"
expect_out "$T/last.out" "down: PROBLEM: the last poll failed: aof: "
"$A" status -c "$T/down.yaml" --json >"$T/p.json"
assert_eq "$(json_get "$T/p.json" 'd["instances"][0]["reasons"], d["instances"][0]["last_poll_error"][:5]')" \
    "(['poll-failed'], 'aof: ')" "status --json after a failed poll"
wait_until 5 grep -qx 'aofroll_problem{instance="down",reason="poll-failed"} 1' "$DPROM" || fail "metrics lack poll-failed"
cp "$T/manifest.good" "$T/manifest.tmp" && mv "$T/manifest.tmp" "$MF"
wait_until 10 "$A" status -c "$T/down.yaml" || fail "status stayed failed: $("$A" status -c "$T/down.yaml" 2>&1)"
pass "a poll that fails: exit 1 at once naming it; fixed: exit 0"

# Redis killed while the collector follows it
stop_redis "$T/dredis"
wait_until 10 bash -c "'$A' status -c '$T/down.yaml' 2>/dev/null | grep -q 'redis unreachable since'" ||
    fail "a killed redis was not reported: $("$A" status -c "$T/down.yaml" 2>&1)"
expect_exit 1 "$A" status -c "$T/down.yaml"
expect_out "$T/last.out" "down: PROBLEM: redis unreachable since "
grep -q "nothing archived" "$T/last.out" && fail "archived chunks not seen"
pass "redis killed under a running collector: exit 1 after a few polls"

done_testing
