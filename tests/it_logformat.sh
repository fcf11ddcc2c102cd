#!/usr/bin/env bash
# it_logformat.sh - the collector's log forms: log_format: json writes one
# JSON object per line (time, level, instance, message) to log_file; under
# systemd, where stderr is the journal's stream (JOURNAL_STREAM names its
# device and inode, as systemd sets it), every line on stderr starts with
# its syslog priority (<6> info, <3> error) so journald files it at that
# level; with stderr elsewhere, or a log_file, no prefix.
. "$(dirname "$0")/lib/scenario.sh" collector

C=$BIN/aofroll-collector
PORT=$(free_port)
start_redis "$T/live" "$PORT"
write_config "$T/json.yaml" "$T/store" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT"
printf 'log_file: %s\nlog_format: json\n' "$T/collector.json" >>"$T/json.yaml"
redis-cli -p "$PORT" set a 1 >/dev/null
"$C" -c "$T/json.yaml" --once >"$T/once.out" 2>"$T/once.err" || fail "--once: $(cat "$T/once.err")"
python3 - "$T/collector.json" <<'PY' || fail "log_format json: $(head -3 "$T/collector.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 3, lines
objs = [json.loads(l) for l in lines]
for o in objs:
    assert set(o) <= {"time", "level", "instance", "message"} and {"time", "level", "message"} <= set(o), o
    assert o["level"] in ("debug", "info", "warning", "error"), o
assert any(o.get("instance") == "live" and "generation 1 opened" in o["message"] for o in objs), objs
PY
pass "log_format: json: one JSON object per line in log_file"

# journald: stderr is the stream JOURNAL_STREAM names
write_config "$T/text.yaml" "$T/store" "$T/index.db" "  - name: live" "    redis: redis://127.0.0.1:$PORT"
redis-cli -p "$PORT" set b 2 >/dev/null
: >"$T/journal"
JS=$(stat -c '%d:%i' "$T/journal")
JOURNAL_STREAM=$JS "$C" -c "$T/text.yaml" --once >/dev/null 2>>"$T/journal" || fail "--once under JOURNAL_STREAM"
[ -s "$T/journal" ] || fail "nothing logged"
grep -v '^<[0-7]>' "$T/journal" && fail "lines without a priority under JOURNAL_STREAM"
grep -q '^<6>.* INFO \[live\] ' "$T/journal" || fail "no <6> INFO line: $(head -3 "$T/journal")"
write_config "$T/down.yaml" "$T/store2" "$T/index2.db" "  - name: down" "    redis: redis://127.0.0.1:$(free_port)"
: >"$T/journal2"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal2") "$C" -c "$T/down.yaml" --barrier-now >/dev/null 2>>"$T/journal2"
grep -q '^<3>.* ERROR \[down\] ' "$T/journal2" || fail "no <3> ERROR line: $(cat "$T/journal2")"
: >"$T/plain"
JOURNAL_STREAM=$JS "$C" -c "$T/text.yaml" --once >/dev/null 2>>"$T/plain" || fail "--once, stderr elsewhere"
grep -q '^<' "$T/plain" && fail "a priority prefix although stderr is not the journal: $(head -2 "$T/plain")"
grep -q ' INFO ' "$T/plain" || fail "no log on stderr: $(cat "$T/plain")"
pass "under systemd's JOURNAL_STREAM: <6>/<3> priority prefixes; none when stderr is another file"
done_testing
