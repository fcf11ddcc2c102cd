#!/usr/bin/env bash
# it_inspect.sh - ls, generations, show, log and timeline against an archive
# made by the real collector from a real redis-server: two generations
# (a barrier between), 4 KiB chunks so that commands straddle chunk edges,
# 100 KB values spanning many chunks, binary values, MULTI/EXEC, three dbs.
# Every decoded command is checked against an independent reference
# (aofref.py); bad input (unknown instance, empty archive, a time outside
# the archive, a corrupt index) gets one line and exit 1 or 2; and no
# read-only command changes a byte of the archive.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 4KiB
start_collector "$CFG"
sleep 1
run_seconds "$PORT" 1 3
rcli "$PORT" set user:42 first >/dev/null
rcli "$PORT" -n 3 set user:42 in-db3 >/dev/null
rcli "$PORT" mset user:420 a other b >/dev/null
sleep_to_next_second
stop_collector "$CFG"
"$BIN/aofroll-collector" -c "$CFG" --barrier-now >>"$T/collector.log" 2>&1 ||
    fail "barrier: $(tail -3 "$T/collector.log")"
sleep_to_next_second
SEC_DEL=$(date +%s)
rcli "$PORT" del user:42 nothing >/dev/null
rcli "$PORT" rename user:420 user:421 >/dev/null
run_seconds "$PORT" 4 4
"$BIN/aofroll-collector" -c "$CFG" --once >>"$T/collector.log" 2>&1 || fail "collector --once"
NOBJ=$(find "$STORE/live" -name '*.gz' | wc -l)
BEFORE=$(tree_sum "$STORE" "$T/index.db")

# ------------------------------------------------------------------ ls
expect_exit 0 "$A" ls -c "$CFG"
assert_eq "$(($(wc -l <"$T/last.out") - 2))" "$NOBJ" "ls lines (without header and footer)"
expect_out "$T/last.out" "$NOBJ chunks in 2 generations of 1 instance:"
"$A" ls -c "$CFG" --instance live --json >"$T/ls.json" || fail "ls --json"
assert_eq "$(json_get "$T/ls.json" 'd["totals"]["chunks"]')" "$NOBJ" "ls --json totals"
assert_eq "$(json_get "$T/ls.json" 'len(d["chunks"])')" "$NOBJ" "ls --json chunks"
assert_eq "$(json_get "$T/ls.json" 'sum(c["end"] - c["start"] for c in d["chunks"]) == d["totals"]["raw_bytes"]')" \
    True "ls raw bytes add up"
assert_eq "$(json_get "$T/ls.json" 'sorted(set(c["generation"] for c in d["chunks"]))')" "[1, 2]" "generations in ls"
STORED=$(find "$STORE/live" -name '*.gz' -printf '%s\n' | awk '{s += $1} END {print s}')
assert_eq "$(json_get "$T/ls.json" 'd["totals"]["stored_bytes"]')" "$STORED" "stored bytes = object sizes"
expect_exit 0 "$A" ls -c "$CFG" --since "@$(($(date +%s) + 3600))"
expect_out "$T/last.out" "0 chunks in 0 generations"
"$A" ls -c "$CFG" --since "@${SEC[2]}" --until "@${SEC[2]}" --json >"$T/ls2.json" || fail "ls window"
assert_eq "$(json_get "$T/ls2.json" 'all(c["kind"] == "incr" and c["first"] <= c["last"] for c in d["chunks"]) and 0 < len(d["chunks"]) < '"$NOBJ")" \
    True "ls --since/--until keeps a subset"
expect_exit 2 "$A" ls -c "$CFG" --instance nope
expect_err 'aofroll ls: unknown instance "nope" (configured: live)'
expect_exit 2 "$A" ls -c "$CFG" --since yesterday
expect_err 'aofroll ls: --since'
pass "ls: every object listed once, totals, time filters, bad input"

# ------------------------------------------------------------------ generations
"$A" generations -c "$CFG" --json >"$T/gens.json" || fail "generations --json"
assert_eq "$(json_get "$T/gens.json" '[g["end_reason"] for g in d["instances"][0]["generations"]]')" \
    "['barrier', 'open']" "how generations ended"
assert_eq "$(json_get "$T/gens.json" 'd["instances"][0]["generations"][0]["incr_bytes"]')" \
    "$(aofref size live 1)" "incr bytes of generation 1"
assert_eq "$(json_get "$T/gens.json" 'all(g["base_complete"] for g in d["instances"][0]["generations"])')" True \
    "bases complete"
expect_exit 0 "$A" generations -c "$CFG"
expect_out "$T/last.out" "barrier at "
pass "generations: bases, incr bytes and how each ended"

# ------------------------------------------------------------------ show --chunk
# every incr chunk of both generations, decoded whole, equals the reference
for g in 1 2; do
    show_matches_ref "$g" "c['kind'] == 'incr' and c['generation'] == $g"
    n=$SHOWN_COMMANDS
    [ "$n" -gt 25 ] || fail "only $n commands in generation $g"
done
cat "$T"/show.*.json >"$T/all-shows.json"
grep -q '"straddles":"start"' "$T/all-shows.json" || fail "no command straddles a chunk's start"
grep -q '"straddles":"both"' "$T/all-shows.json" || fail "no chunk lies inside one command"
pass "show --chunk: every command of every chunk matches the reference, straddling ones whole"

BIGID=$(python3 -c '
import json, sys
for f in sys.argv[1:]:
    d = json.load(open(f))
    if d["commands"] and d["commands"][0]["straddles"] == "both":
        print(d["first_chunk"]["id"]); break' "$T"/show.*.json)
expect_exit 0 "$A" show -c "$CFG" --instance live --chunk "$BIGID"
expect_out "$T/last.out" '...(100000 bytes)  <- begins in chunk'
expect_out "$T/last.out" '; -> ends in chunk'
FIRST=$(json_get "$T/ls.json" "min(c['id'] for c in d['chunks'] if c['kind'] == 'incr' and c['generation'] == 1)")
LASTID=$(json_get "$T/ls.json" "max(c['id'] for c in d['chunks'] if c['kind'] == 'incr' and c['generation'] == 1)")
for id in $(seq "$FIRST" "$LASTID"); do "$A" show -c "$CFG" --instance live --chunk "$id"; done >"$T/show.txt"
# redis-cli's own quoting of the binary value
expect_out "$T/show.txt" "\"SET\" \"bin:1\" $(redis-cli -p "$PORT" --no-raw get bin:1)"
expect_out "$T/show.txt" '"SET" "crlf:2" "a\r\nb\r\n"'
grep -q '^  [0-9TZ:-]* *[0-9]* *0  "MULTI"$' "$T/show.txt" || fail "no MULTI line"
grep -q '^  [0-9TZ:-]* *[0-9]* *0    "INCR" "txcount"$' "$T/show.txt" || fail "commands in MULTI not indented"
grep -q '^  [0-9TZ:-]* *[0-9]* *3  "set" "user:42" "in-db3"$' "$T/show.txt" || fail "db 3 not shown"
pass "show: redis-cli quoting, long values elided with their length, MULTI blocks, dbs"

# ------------------------------------------------------------------ show --at
expect_exit 0 "$A" show -c "$CFG" --instance live --at "@${SEC[2]}"
assert_eq "$(grep -c '^> ' "$T/last.out")" "$(aofref at live 1 "${SEC[2]}")" "commands marked at second 2"
expect_out "$T/last.out" "of them at the second asked (marked >)"
expect_exit 1 "$A" show -c "$CFG" --instance live --at "@$(($(date +%s) + 86400))"
expect_err 'is outside the archive of "live", which is restorable from '
expect_exit 1 "$A" show -c "$CFG" --instance live --at "@1000000000"
expect_err 'is outside the archive of "live"'
expect_exit 2 "$A" show -c "$CFG" --instance live
expect_err 'aofroll show: give one of --chunk ID and --at TIME'
expect_exit 1 "$A" show -c "$CFG" --instance live --chunk 999999
expect_err 'aofroll show: no chunk 999999 in index'
BASEID=$(json_get "$T/ls.json" "min(c['id'] for c in d['chunks'] if c['kind'] == 'base')")
expect_exit 1 "$A" show -c "$CFG" --instance live --chunk "$BASEID"
expect_err "is part of the RDB base of generation 1"
pass "show --at: the second's commands marked in their chunks; times outside the archive refused"

# ------------------------------------------------------------------ log
WIN=(--since "@${SEC[1]}" --until "@$(date +%s)")
"$A" log -c "$CFG" --instance live "${WIN[@]}" --key user:42 --json >"$T/log42.json" || fail "log --key"
assert_eq "$(json_get "$T/log42.json" '[(c["generation"], c["db"], c["command"].upper()) for c in d["commands"]]')" \
    "[(1, 0, 'SET'), (1, 3, 'SET'), (2, 0, 'DEL')]" "history of user:42"
assert_eq "$(json_get "$T/log42.json" 'd["commands"][2]["ts"]')" "$SEC_DEL" "second of the DEL"
"$A" log -c "$CFG" --instance live "${WIN[@]}" --key 'user:42?' >"$T/log420.txt" || fail "log --key glob"
grep -qF '"mset" "user:420" "a" "other" "b"' "$T/log420.txt" || fail "MSET not found by its key"
grep -qF '"rename" "user:420" "user:421"' "$T/log420.txt" || fail "RENAME not found by its first key"
expect_out "$T/log420.txt" "2 commands matched, of "
"$A" log -c "$CFG" --instance live "${WIN[@]}" --key 'user:421' >"$T/log421.txt" || fail "log --key 2nd key"
grep -qF '"rename" "user:420" "user:421"' "$T/log421.txt" || fail "RENAME not found by its second key"
"$A" log -c "$CFG" --instance live "${WIN[@]}" --cmd 'del|Rename' --json >"$T/logcmd.json" || fail "log --cmd"
assert_eq "$(json_get "$T/logcmd.json" '[c["command"].upper() for c in d["commands"]]')" "['DEL', 'RENAME']" \
    "log --cmd"
"$A" log -c "$CFG" --instance live --since "@${SEC[2]}" --until "@${SEC[2]}" --max-arg 0 --json >"$T/log2.json" ||
    fail "log of one second"
assert_eq "$(json_get "$T/log2.json" 'len(d["commands"])')" "$(aofref at live 1 "${SEC[2]}")" \
    "commands logged in second 2"
python3 - "$T/log2.json" "${SEC[2]}" <<'PY' || fail "log of one second: wrong second"
import json, sys
d = json.load(open(sys.argv[1]))
assert all(c["ts"] == int(sys.argv[2]) for c in d["commands"]), "a command from another second"
PY
expect_exit 1 "$A" log -c "$CFG" --instance live --since @1000000000 --until @1000000010
expect_err 'the window 2001-09-09T01:46:40Z .. 2001-09-09T01:46:50Z is outside the archive of "live"'
expect_exit 2 "$A" log -c "$CFG" --instance live --since "@${SEC[2]}" --until "@${SEC[1]}"
expect_err 'aofroll log: --since is later than --until'
expect_exit 2 "$A" log -c "$CFG" --instance live --since "@${SEC[2]}"
expect_err 'aofroll log: missing --until TIME'
pass "log: key history across dbs and generations, globs, command filter, exact seconds"

# ------------------------------------------------------------------ timeline
"$A" timeline -c "$CFG" --instance live --by minute --json --svg "$T/t.svg" >"$T/tl.json" || fail "timeline"
assert_eq "$(json_get "$T/tl.json" 'sum(b["commands"] for b in d["buckets"])')" \
    "$(($(aofref count live 1) + $(aofref count live 2)))" "commands in the timeline"
assert_eq "$(json_get "$T/tl.json" 'sum(b["bytes"] for b in d["buckets"])')" \
    "$(($(aofref bytes live 1) + $(aofref bytes live 2)))" "bytes in the timeline"
python3 - "$T/t.svg" <<'PY' || fail "the SVG does not parse"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg"
bars = [r for r in root.iter(ns + "rect") if r.find(ns + "title") is not None]
assert bars, "no bars"
PY
expect_exit 0 "$A" timeline -c "$CFG" --instance live --by hour
grep -q '^[0-9-]* [0-9:]*Z  #' "$T/last.out" || fail "no bar in the terminal chart"
expect_out "$T/last.out" "total"
expect_exit 2 "$A" timeline -c "$CFG" --instance live --by day
expect_err 'aofroll timeline: --by "day": expected second, 10s, minute or hour'
pass "timeline: every command counted once, SVG parses, bad --by refused"

# a window as wide as TIME goes: no overflow, the chart is the archive's
expect_exit 0 "$A" timeline -c "$CFG" --instance live --since 0000-01-01T00:00:00Z --until @9223372036854775807 --json
"$A" timeline -c "$CFG" --instance live --json >"$T/tl-all.json" || fail "timeline of the whole archive"
assert_eq "$(json_get "$T/last.out" 'len(d["buckets"]), d["commands"]')" \
    "$(json_get "$T/tl-all.json" 'len(d["buckets"]), d["commands"]')" "timeline over every TIME vs the archive"
# an archive that spans decades (its first base moved back): too many hours,
# and the hint does not suggest the --by hour already in use
cp "$T/index.db" "$T/index-decades.db"
sqlite3 "$T/index-decades.db" "UPDATE generations SET base_time = base_time - 30 * 366 * 86400 WHERE generation = 1"
sed "s|$T/index.db|$T/index-decades.db|" "$CFG" >"$T/decades.yaml"
expect_exit 2 "$A" timeline -c "$T/decades.yaml" --instance live --by hour
expect_err "buckets are too many (at most 200000) HINT: narrow --since/--until"
grep -q "use --by hour" "$T/last.err" && fail "--by hour suggested to --by hour: $(cat "$T/last.err")"
expect_exit 2 "$A" timeline -c "$T/decades.yaml" --instance live --by minute
expect_err "HINT: narrow --since/--until or use --by hour"
pass "timeline: a window from year 0 to the end of time charts the archive; the hint fits --by"

# ------------------------------------------------------------------ read-only
assert_eq "$(tree_sum "$STORE" "$T/index.db")" "$BEFORE" "archive checksum after the read-only commands"
pass "no read-only command changed the archive"

# ------------------------------------------------------------------ bad archives
write_config "$T/idle.yaml" "$STORE" "$T/index.db" "  - name: idle" "    redis: redis://127.0.0.1:1"
expect_exit 1 "$A" ls -c "$T/idle.yaml" --instance idle
expect_err 'aofroll ls: instance "idle" has no archive in index'
expect_exit 1 "$A" log -c "$T/idle.yaml" --instance idle --since @1 --until @2
assert_eq "$(wc -l <"$T/last.err")" 1 "lines on stderr"
write_config "$T/none.yaml" "$STORE" "$T/missing.db" "  - name: live" "    redis: redis://127.0.0.1:1"
expect_exit 1 "$A" ls -c "$T/none.yaml"
expect_err "$T/missing.db"
[ ! -e "$T/missing.db" ] || fail "a read-only command created the index"
cp "$T/index.db" "$T/corrupt.db"
python3 - "$T/corrupt.db" <<'PY'
import sys
# keep the header page, wreck every later page: SQLite reports SQLITE_CORRUPT
with open(sys.argv[1], "r+b") as f:
    f.seek(0, 2); size = f.tell()
    page = int.from_bytes(open(sys.argv[1], "rb").read(18)[16:18], "big")
    for off in range(page, size, page):
        f.seek(off); f.write(b"\xa5" * page)
PY
write_config "$T/corrupt.yaml" "$STORE" "$T/corrupt.db" "  - name: live" "    redis: redis://127.0.0.1:1"
for cmd in "ls" "generations" "verify" "status"; do
    expect_exit 1 "$A" $cmd -c "$T/corrupt.yaml"
    assert_eq "$(wc -l <"$T/last.err")" 1 "stderr lines of $cmd on a corrupt index"
    expect_err "$T/corrupt.db"
done
head -c 10000 /dev/urandom >"$T/garbage.db"
write_config "$T/garbage.yaml" "$STORE" "$T/garbage.db" "  - name: live" "    redis: redis://127.0.0.1:1"
expect_exit 1 "$A" ls -c "$T/garbage.yaml"
expect_err "$T/garbage.db"
pass "unknown instance, empty and missing archives, corrupt index: one line, exit 1"

done_testing
