#!/usr/bin/env bash
# it_progress.sh - the progress line on a terminal, under a pseudo-terminal
# made by script(1): restore redraws one line (carriage returns, bytes and
# chunks of the total, 100% at the end), erases it before its report, and
# shows a ticker while the restored redis-server loads; apply, verify and
# reindex draw theirs. Not a terminal (a file): no progress line, the same
# report. verify --json on a terminal: nothing but the JSON document.
. "$(dirname "$0")/lib/scenario.sh" collector restore

command -v script >/dev/null 2>&1 || {
    echo "skipped: no script(1) (util-linux) to make a pseudo-terminal"
    exit 77
}
A=$BIN/aofroll
PORT=$(free_port)
start_redis "$T/live" "$PORT"
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT" "    chunk_size: 64KiB"
python3 -c '
import base64, os
for i in range(1, 301):
    print("SET k%d %s" % (i, base64.b64encode(os.urandom(3000)).decode()))' >"$T/sets.txt"
head -150 "$T/sets.txt" >"$T/sets1.txt"
tail -150 "$T/sets.txt" >"$T/sets2.txt"
sleep_to_next_second
S1=$(date +%s)
rcli "$PORT" <"$T/sets1.txt" >/dev/null
[ "$(date +%s)" = "$S1" ] || fail "the first batch did not fit in one second"
sleep_to_next_second
rcli "$PORT" <"$T/sets2.txt" >/dev/null
sleep_to_next_second
"$BIN/aofroll-collector" -c "$CFG" --once >>"$T/collector.log" 2>&1 || fail "collector --once"
NCHUNKS=$(sqlite3 "$T/index.db" "select count(*) from chunks")
[ "$NCHUNKS" -ge 10 ] || fail "too few chunks ($NCHUNKS)"

# on_tty OUT CMD...: CMD under a pseudo-terminal, everything it wrote in OUT
on_tty() {
    local out=$1 cmd="" a
    shift
    for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
    script -qefc "$cmd" "$out.ts" </dev/null >/dev/null 2>&1
    local rc=$?
    sed '1d;$d' "$out.ts" >"$out" # script's own first and last lines
    return $rc
}
CR=$'\r'
ESC=$'\033'

RP=$(free_port)
on_tty "$T/restore.tty" "$A" restore -c "$CFG" --instance live --to latest --out "$T/r1" --start --port "$RP" ||
    fail "restore on a terminal: $(cat -v "$T/restore.tty")"
PIDS_TO_KILL+=("$(cat "$T/r1/redis.pid")")
grep -q "${CR}restore: .* of .* ([0-9]*%), [0-9]* of $NCHUNKS chunks" "$T/restore.tty" ||
    fail "no progress line counting $NCHUNKS chunks: $(cat -v "$T/restore.tty" | head -5)"
grep -q "${CR}restore: .* (100%), $NCHUNKS of $NCHUNKS chunks" "$T/restore.tty" || fail "no 100% line: $(cat -v "$T/restore.tty" | head -5)"
grep -qF "${CR}${ESC}[Kinstance live, generation 1" "$T/restore.tty" ||
    fail "the progress line is not erased before the report: $(cat -v "$T/restore.tty" | head -5)"
grep -q "${CR}restore: redis-server on \"$T/r1\" is loading: [0-9.]* s${ESC}\[K" "$T/restore.tty" ||
    fail "no ticker while the server loads: $(cat -v "$T/restore.tty")"
grep -qF "${CR}${ESC}[Kredis-server started on" "$T/restore.tty" || fail "the ticker is not erased"
pass "restore on a terminal: one line redrawn to 100% of $NCHUNKS chunks, erased; a ticker while redis loads"

RP2=$(free_port)
"$A" restore -c "$CFG" --instance live --to latest --out "$T/r2" --start --port "$RP2" >"$T/restore.out" 2>"$T/restore.err" ||
    fail "restore to files: $(cat "$T/restore.err")"
PIDS_TO_KILL+=("$(cat "$T/r2/redis.pid")")
[ -s "$T/restore.err" ] && fail "stderr not a terminal, yet: $(cat -v "$T/restore.err")"
grep -q "$CR\|$ESC" "$T/restore.out" && fail "control characters in the report to a file: $(cat -v "$T/restore.out")"
assert_eq "$(digest "$RP2")" "$(digest "$RP")" "the two restores"
pass "not a terminal: no progress line, no control characters"

# apply from the first batch's second to the end: the second batch's chunks
RP3=$(free_port)
"$A" restore -c "$CFG" --instance live --to "@$S1" --out "$T/r3" --start --port "$RP3" >"$T/r3.out" 2>&1 ||
    fail "restore to the first batch: $(cat "$T/r3.out")"
PIDS_TO_KILL+=("$(cat "$T/r3/redis.pid")")
on_tty "$T/apply.tty" "$A" apply -c "$CFG" --instance live --to latest --from-dir "$T/r3" \
    --target "redis://127.0.0.1:$RP3" || fail "apply on a terminal: $(cat -v "$T/apply.tty")"
grep -q "${CR}apply: .* (100%), [0-9]* of [0-9]* chunks" "$T/apply.tty" || fail "no apply progress: $(cat -v "$T/apply.tty")"
grep -qF "${CR}${ESC}[K" "$T/apply.tty" || fail "the apply progress line is not erased"
assert_eq "$(digest "$RP3")" "$(digest "$RP")" "apply under a terminal"

on_tty "$T/verify.tty" "$A" verify -c "$CFG" || fail "verify on a terminal: $(cat -v "$T/verify.tty")"
grep -q "${CR}verify: .* (100%), $NCHUNKS of $NCHUNKS chunks" "$T/verify.tty" || fail "no verify progress: $(cat -v "$T/verify.tty")"
on_tty "$T/verify-json.tty" "$A" verify -c "$CFG" --json || fail "verify --json on a terminal"
grep -q "verify: " "$T/verify-json.tty" && fail "progress under --json: $(cat -v "$T/verify-json.tty")"
tr -d '\r' <"$T/verify-json.tty" | python3 -c 'import json,sys; json.load(sys.stdin)' ||
    fail "verify --json on a terminal is not one JSON document: $(cat -v "$T/verify-json.tty")"
write_config "$T/b.yaml" "$T/store" "$T/b.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT"
on_tty "$T/reindex.tty" "$A" reindex -c "$T/b.yaml" || fail "reindex on a terminal: $(cat -v "$T/reindex.tty")"
grep -q "${CR}reindex: .* (100%), $NCHUNKS of $NCHUNKS chunks" "$T/reindex.tty" ||
    fail "no reindex progress: $(cat -v "$T/reindex.tty")"
pass "apply, verify and reindex draw their progress on a terminal; verify --json does not"

# the collector's --once: progress on a terminal when the log goes to log_file
cp "$CFG" "$T/logfile.yaml"
echo "log_file: $T/once.log" >>"$T/logfile.yaml"
rcli "$PORT" <"$T/sets1.txt" >/dev/null
on_tty "$T/once.tty" "$BIN/aofroll-collector" -c "$T/logfile.yaml" --once || fail "--once on a terminal: $(cat -v "$T/once.tty")"
grep -q "${CR}aofroll-collector --once: .*, [0-9]* chunks" "$T/once.tty" || fail "no --once progress: $(cat -v "$T/once.tty")"
grep -qF "${CR}${ESC}[Klive: archived up to incr offset" "$T/once.tty" ||
    fail "the progress line is not erased before the outcome: $(cat -v "$T/once.tty")"
rcli "$PORT" <"$T/sets2.txt" >/dev/null
on_tty "$T/once2.tty" "$BIN/aofroll-collector" -c "$CFG" --once || fail "--once, log on the terminal"
grep -q "aofroll-collector --once: " "$T/once2.tty" && fail "progress mixed into the log lines: $(cat -v "$T/once2.tty")"
pass "--once draws its progress when the log goes to log_file, not amid the log lines"
done_testing
