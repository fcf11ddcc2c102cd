#!/usr/bin/env bash
# test.sh - set up, build with ASan+UBSan, and run every test with ctest.
#
# Builds the servers of the compatibility matrix first (scripts/servers.sh:
# once, then cached; skipped in one line without the server tarballs), so
# that ctest also runs the "compat" scenarios against each of them.
#
# Usage: scripts/test.sh [ctest arguments...]   e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --tests
scripts/servers.sh
build=build-sanitize
cmake -S . -B "$build" -DAOFROLL_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j "$(nproc)"
mkdir -p "$build/tmp"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure "$@"
