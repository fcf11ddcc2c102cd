#!/usr/bin/env bash
# it_inspect_big.sh - show and log decoding from the middle of a long
# stream: 1 MiB chunks and ~20 MiB of values whose bytes imitate the AOF
# itself ("\r\n*3\r\n$3\r\nSET..." and "\n#TS:..." inside values), so
# that the decoder must find command boundaries by itself, far from the
# stream's start (no SELECT within reach: db unknown) and past false
# candidates: with the chunks' recorded marks taken out of the index, as
# an archive from before the collector recorded them has none. Then with
# the marks: every chunk decodes from its recorded boundary, db and second
# known. Every command shown is checked against the reference.
. "$(dirname "$0")/lib/scenario.sh" collector restore

live_config 1MiB "    compression: 0"

# values that look like AOF: every 64 bytes a fake command or annotation
python3 - "$T" <<'PY'
import random, sys
r = random.Random(7)
fakes = [b"\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", b"\n#TS:1700000000\r\n", b"\n*1\r\n$4\r\nPING\r\n",
         b"\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n"]
for i in range(6):
    out = bytearray()
    while len(out) < 3_500_000:
        out += bytes(r.randrange(256) for _ in range(48))
        out += r.choice(fakes)
    open("%s/v%d" % (sys.argv[1], i), "wb").write(out)
PY
sleep_to_next_second
for i in 0 1 2 3 4 5; do
    redis-cli -p "$PORT" -x set "big:$i" <"$T/v$i" >/dev/null || fail "set big:$i"
    rcli "$PORT" set "small:$i" "after big $i" >/dev/null
    rcli "$PORT" incr counter >/dev/null
    [ $((i % 2)) = 1 ] && sleep_to_next_second
done
"$BIN/aofroll-collector" -c "$CFG" --once >>"$T/collector.log" 2>&1 || fail "collector --once"
cp "$T/index.db" "$T/index-marked.db"
sqlite3 "$T/index.db" "update chunks set ts_first = null, ts_last = null, boundary = null, boundary_db = null,
    boundary_ts = null" || fail "cannot take the marks out"
"$A" ls -c "$CFG" --json >"$T/ls.json" || fail "ls"
NINCR=$(json_get "$T/ls.json" "sum(1 for c in d['chunks'] if c['kind'] == 'incr')")
[ "$NINCR" -ge 15 ] || fail "only $NINCR incr chunks"

show_matches_ref 1 "c['kind'] == 'incr'"
files=("${SHOWN[@]}")
n=$SHOWN_COMMANDS
assert_eq "$n" "$(($(aofref count live 1) + 1))" "commands shown (with the one SELECT)"
cat "${files[@]}" >"$T/all.json"
grep -q '"db":null' "$T/all.json" || fail "no command decoded without its db: the stream was read from its start"
grep -q '"exact":false' "$T/all.json" || fail "every chunk was decoded from the stream's start"
pass "show --chunk far from the stream's start: boundaries found past AOF-like values"

LASTID=$(json_get "$T/ls.json" "max(c['id'] for c in d['chunks'])")
expect_exit 0 "$A" show -c "$CFG" --instance live --chunk "$LASTID"
expect_out "$T/last.out" 'decoding began mid-stream at byte '
expect_out "$T/last.out" '"set" "small:5" "after big 5"'
pass "show says where decoding began when the db or second is unknown"

LASTSEC=$(date +%s)
"$A" log -c "$CFG" --instance live --since @1 --until "@$LASTSEC" --key 'small:*' --json >"$T/log.json" ||
    fail "log --key small:*"
assert_eq "$(json_get "$T/log.json" '[c["args"][0] for c in d["commands"]]')" \
    "['small:0', 'small:1', 'small:2', 'small:3', 'small:4', 'small:5']" "small keys logged"
pass "log across 20 MiB of AOF-like values finds every small key"

# --- with the marks the collector recorded
cp "$T/index-marked.db" "$T/index.db"
files=()
for id in $(json_get "$T/ls.json" "' '.join(str(c['id']) for c in d['chunks'] if c['kind'] == 'incr')"); do
    "$A" show -c "$CFG" --instance live --chunk "$id" --max-arg 0 --json >"$T/marked.$id.json" ||
        fail "show --chunk $id with marks"
    files+=("$T/marked.$id.json")
done
n=$(aofref check-json live 1 "${files[@]}") || fail "show --chunk with marks disagrees with the reference: $n"
assert_eq "$n" "$(($(aofref count live 1) + 1))" "commands shown with marks"
cat "${files[@]}" >"$T/marked.json"
grep -q '"db":null' "$T/marked.json" && fail "a command decoded without its db although the chunk records it"
grep -q '"exact":false' "$T/marked.json" && fail "a chunk decoded inexactly although it records its boundary and second"
pass "with the recorded marks every chunk decodes from its boundary, db and second known"

done_testing
