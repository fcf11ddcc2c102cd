#!/usr/bin/env bash
# coverage.sh - line coverage per module, held to the floors in
# tests/coverage-floors.txt.
#
# Reads the gcov counters a coverage build left after ctest (cmake
# -DAOFROLL_COVERAGE=ON; scripts/test.sh makes its plain -O0 build one)
# with gcovr, prints the line coverage of every source file of common/,
# collector/ and replay/ (a module), worst first, and exits 1 when a module
# is below its floor, when a module has no floor, or when a floor names a
# module the build does not have (renamed: write the floors again). Also
# writes BUILD/coverage/index.html (per line).
#
# Usage: scripts/coverage.sh [BUILD_DIR]          (default build-plain)
#        scripts/coverage.sh --report [BUILD_DIR] (print only, no floors:
#                                                  for a partial ctest run)
#        scripts/coverage.sh --write-floors [BUILD_DIR]
#            set every floor to the measured figure less 2 points, rounded
#            down (after a full ctest run, when modules were added or moved)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=check
case ${1:-} in
--report | --write-floors)
    mode=${1#--}
    shift
    ;;
esac
build=${1:-build-plain}
floors=tests/coverage-floors.txt
command -v gcovr >/dev/null || { echo "coverage.sh: gcovr not found (scripts/setup.sh --tests installs it)" >&2; exit 1; }
[ -d "$build" ] || { echo "coverage.sh: no build directory \"$build\"" >&2; exit 1; }
if [ -z "$(find "$build" -name '*.gcda' -print -quit)" ]; then
    echo "coverage.sh: no coverage data in \"$build\": build it with -DAOFROLL_COVERAGE=ON and run ctest" >&2
    exit 1
fi

mkdir -p "$build/coverage"
# the programs' own sources only: not the tests, the benchmarks or the fuzz targets
# (only line counts are held to floors: a branch count gcov prints oddly
# must not fail the check)
gcovr --gcov-ignore-parse-errors --root . --object-directory "$build" --filter '^(common|collector|replay)/' \
    --json-summary "$build/coverage/summary.json" --html-details "$build/coverage/index.html" >/dev/null

python3 - "$mode" "$build/coverage/summary.json" "$floors" <<'PY'
import json, math, sys

mode, summary, floors_path = sys.argv[1:4]
files = {f["filename"]: f for f in json.load(open(summary))["files"]}
floors = {}
for n, line in enumerate(open(floors_path), 1):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    try:
        path, floor = line.split()
        floors[path] = float(floor)
    except ValueError:
        sys.exit("coverage.sh: %s:%d: expected \"MODULE PERCENT\", got \"%s\"" % (floors_path, n, line))

def percent(f):
    return 100.0 * f["line_covered"] / f["line_total"] if f["line_total"] else 100.0

if mode == "write-floors":
    head = [l for l in open(floors_path) if l.startswith("#")]
    with open(floors_path, "w") as out:
        out.writelines(head)
        for path in sorted(files):
            out.write("%-32s %d\n" % (path, max(0, math.floor(percent(files[path])) - 2)))
    print("coverage.sh: wrote %d floors to %s" % (len(files), floors_path))
    sys.exit(0)

bad = []
print("%-32s %7s %13s %6s" % ("module", "lines", "covered", "floor"))
for path in sorted(files, key=lambda p: (percent(files[p]), p)):
    f = files[path]
    floor = floors.get(path)
    mark = ""
    if mode == "check" and floor is None:
        mark = "  NO FLOOR"
        bad.append("%s has no floor in %s" % (path, floors_path))
    elif mode == "check" and percent(f) < floor:
        mark = "  BELOW"
        bad.append("%s: %.1f%% of lines, below its floor %g%%" % (path, percent(f), floor))
    print("%-32s %6.1f%% %6d/%-6d %6s%s" % (path, percent(f), f["line_covered"], f["line_total"],
                                          "-" if floor is None else "%g%%" % floor, mark))
covered = sum(f["line_covered"] for f in files.values())
total = sum(f["line_total"] for f in files.values())
print("%-32s %6.1f%% %6d/%-6d" % ("all", 100.0 * covered / total if total else 100.0, covered, total))
if mode == "check":
    for path in sorted(set(floors) - set(files)):
        bad.append("%s has a floor but no coverage data (renamed or removed? "
                   "scripts/coverage.sh --write-floors after a full run)" % path)
    for b in bad:
        print("coverage.sh: " + b, file=sys.stderr)
    sys.exit(1 if bad else 0)
PY
