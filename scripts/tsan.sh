#!/usr/bin/env bash
# tsan.sh - build with ThreadSanitizer (build-tsan, AOFROLL_SANITIZE=thread)
# and run the test suite on it: the scenarios with threads - the collector
# with several instances (one thread each), restore's prefetch threads,
# apply's fetch thread - and everything else that can run there.
#
# Every process stops at its first report (halt_on_error=1) and writes it
# to build-tsan/tsan-logs/tsan.PID, so that a report from a collector
# running in the background is not lost with its stderr: the script fails
# when any test fails or any report was written. tests/tsan/suppressions.txt
# holds the few third-party (glibc) reports that are not races, each with
# its reason. Three tests measure what TSan itself changes and are left
# out: it_collector_throttle (a shipping rate within 10%) and test_index
# (a speed bound on inserting chunks): TSan's slowdown; and
# it_collector_priority (counts the collector's threads: TSan adds one).
# The compatibility matrix (label compat: the same code against other
# servers) runs on the sanitizer build only.
#
# Usage: scripts/tsan.sh [ctest arguments...]   e.g. scripts/tsan.sh -R it_restore
# (scripts/test.sh runs it as its third step)
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests || exit 1
build=build-tsan
echo "==== tsan.sh: building with ThreadSanitizer in $build"
cmake -S . -B "$build" -DAOFROLL_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug >/dev/null || exit 1
cmake --build "$build" -j "$(nproc)" || exit 1
logs=$PWD/$build/tsan-logs
rm -rf "$logs"
mkdir -p "$logs" "$build/tmp"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$logs/tsan suppressions=$PWD/tests/tsan/suppressions.txt ${TSAN_OPTIONS:-}"
echo "==== tsan.sh: running ctest"
start=$SECONDS
status=0
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -LE compat -E '^(it_collector_throttle|it_collector_priority|test_index)$' "$@" || status=1
reports=("$logs"/tsan.*)
if [ -e "${reports[0]}" ]; then
    status=1
    echo "==== tsan.sh: ${#reports[@]} ThreadSanitizer report(s):" >&2
    for r in "${reports[@]}"; do
        echo "---- $r" >&2
        grep -E '^(WARNING|SUMMARY|    #[0-3] )' "$r" | head -20 >&2
    done
fi
if [ "$status" -ne 0 ]; then
    echo "==== tsan.sh: FAILED after $((SECONDS - start)) s" >&2
    exit 1
fi
echo "==== tsan.sh: no race reported, all passed in $((SECONDS - start)) s"
