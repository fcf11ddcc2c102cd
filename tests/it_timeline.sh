#!/usr/bin/env bash
# it_timeline.sh - aofroll timeline on a short window: second buckets by
# default, value axes ticked at round numbers, time ticks at round seconds,
# and markers for the barrier, the new generation and the --cmd match (a
# FLUSHALL) in --json, in the text chart and in the SVG; then the SVG is
# rendered by headless Chromium (Debian's chromium) to a PNG, which must
# not be blank and must show each marker's colour (skipped, with a
# "skipped" line, without chromium or Python's PIL).
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$COLLECTOR
live_config -

sleep_to_next_second
for s in 1 2 3; do
    for i in $(seq 1 $((s * 20))); do echo "SET k$s.$i $(printf '%0200d' "$i")"; done | rcli "$PORT" >/dev/null
    sleep_to_next_second
done
SF=$(date +%s)
rcli "$PORT" flushall >/dev/null
sleep_to_next_second
collect --once
collect --barrier-now
for i in $(seq 1 30); do echo "SET after$i x"; done | rcli "$PORT" >/dev/null
sleep_to_next_second
collect --once
BAR=$(sqlite3 "$T/index.db" "select time from events where kind = 'barrier'")
GEN1=$(sqlite3 "$T/index.db" "select base_time from generations where generation = 1")
GEN2=$(sqlite3 "$T/index.db" "select base_time from generations where generation = 2")
[ -n "$BAR" ] && [ -n "$GEN2" ] || fail "no barrier event or generation 2"

expect_exit 0 "$A" timeline -c "$CFG" --instance live --cmd FLUSHALL,FLUSHDB --json
cp "$T/last.out" "$T/t.json"
assert_eq "$(json_get "$T/t.json" 'd["bucket_seconds"]')" "1" "default bucket for a short window"
assert_eq "$(json_get "$T/t.json" 'sorted((m["kind"], m["time"], m["label"]) for m in d["markers"])')" \
    "$(python3 -c "print(sorted([('barrier', '$(utc "$BAR")', 'barrier'), ('command', '$(utc "$SF")', 'flushall'), ('generation', '$(utc "$GEN1")', 'generation 1'), ('generation', '$(utc "$GEN2")', 'generation 2')]))")" \
    "markers: the barrier, generations 1 and 2, the FLUSHALL"
pass "timeline --json: second buckets, markers for the barrier, the generation and the --cmd match"

expect_exit 0 "$A" timeline -c "$CFG" --instance live --cmd flushall
grep -q "^$(date -u -d "@$SF" '+%Y-%m-%d %H:%M:%S')Z .*< flushall" "$T/last.out" ||
    fail "the FLUSHALL's second has no marker: $(cat "$T/last.out")"
grep -q "< .*generation 2" "$T/last.out" || fail "no generation marker in the text chart: $(cat "$T/last.out")"
expect_exit 0 "$A" timeline -c "$CFG" --instance live --by 10s --json
assert_eq "$(json_get "$T/last.out" 'd["bucket_seconds"], all(int(b["start"][17:19]) % 10 == 0 for b in d["buckets"])')" \
    "(10, True)" "--by 10s"
pass "the text chart marks the FLUSHALL's second and the generation; --by 10s"

expect_exit 0 "$A" timeline -c "$CFG" --instance live --cmd FLUSHALL --svg "$T/t.svg"
python3 - "$T/t.svg" "$(utc "$SF")" <<'PY' || fail "the SVG: $(head -c 400 "$T/t.svg")"
import re, sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
texts = lambda cls: [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == cls]
# value axes: each panel from 0 in equal steps of 1, 2 or 5 times a power of ten
vals = texts("value")
def num(v):
    n, _, unit = v.partition(" ")
    return float(n) * {"": 1, "B": 1, "KiB": 1024, "MiB": 1 << 20}[unit]
panels, cur = [], []
for v in vals:
    if v == "0" and cur:
        panels.append(cur)
        cur = []
    cur.append(v)
panels.append(cur)
assert len(panels) == 2, vals
for p in panels:
    assert p[0] == "0" and len(p) >= 2, p
    step = num(p[1])
    unit = 1 << 20 if " MiB" in p[1] else 1024 if " KiB" in p[1] else 1
    m = step / unit
    while m >= 10:
        m /= 10
    while m < 1:
        m *= 10
    assert round(m, 6) in (1, 2, 5), (p, m)
    assert all(abs(num(p[k]) - k * step) < 1e-6 * step for k in range(len(p))), p
# time ticks: HH:MM:SS at multiples of one step
ticks = texts("time")
secs = [int(t[0:2]) * 3600 + int(t[3:5]) * 60 + int(t[6:8]) for t in ticks]
assert len(secs) >= 3, ticks
half = secs[: len(secs) // 2]
step = half[1] - half[0]
assert step in (1, 2, 5, 10, 15, 30) and all(s % step == 0 for s in half), ticks
marks = {g.get("class"): g for g in root.iter("{http://www.w3.org/2000/svg}g")}
for kind in ("marker barrier", "marker generation", "marker command"):
    assert kind in marks, (kind, list(marks))
assert marks["marker command"].get("data-time") == sys.argv[2], marks["marker command"].get("data-time")
PY
pass "the SVG: round value and time ticks, one marker group per kind, the FLUSHALL's at its second"

PY=""
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import PIL' 2>/dev/null; then PY=$p; break; fi
done
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ] || [ -z "$PY" ]; then
    echo "skipped: rendering the SVG in a browser (no chromium or no python3-pil)"
    done_testing
    exit 0
fi
mkdir -p "$T/chromium"
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$T/chromium" --window-size=960,560 --screenshot="$T/t.png" "file://$T/t.svg" \
    >"$T/chromium.log" 2>&1 || fail "chromium: $(tail -5 "$T/chromium.log")"
[ -s "$T/t.png" ] || fail "chromium wrote no screenshot: $(tail -5 "$T/chromium.log")"
"$PY" - "$T/t.png" <<'PY' || fail "the rendered chart"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
assert (w, h) == (960, 560), im.size
px = im.load()
colours = {}
for y in range(0, h):
    for x in range(0, w):
        colours[px[x, y]] = colours.get(px[x, y], 0) + 1
white = colours.get((255, 255, 255), 0)
assert white < w * h * 0.98, "the page is blank: %d of %d pixels white" % (white, w * h)
def near(c, rgb, d=40):
    return all(abs(a - b) <= d for a, b in zip(c, rgb))
want = {"bars (bytes)": (0x48, 0x78, 0xa8), "bars (commands)": (0xe0, 0x8a, 0x3c),
        "barrier marker": (0x2a, 0x9d, 0x2a), "generation marker": (0x7a, 0x4f, 0xb0),
        "command marker": (0xd6, 0x28, 0x28)}
for name, rgb in want.items():
    n = sum(k for c, k in colours.items() if near(c, rgb))
    assert n >= 50, "%s: %d pixels of %s" % (name, n, rgb)
    print("# %s: %d pixels" % (name, n))
PY
pass "headless Chromium renders the SVG: not blank, bars and the three markers visible"
done_testing
