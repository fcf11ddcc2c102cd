#!/usr/bin/env bash
# test.sh - set up, then build and run the test suite on three builds, and fuzz.
#
# Builds the servers of the compatibility matrix first (scripts/servers.sh:
# once, then cached; skipped in one line without the server tarballs), so
# that ctest also runs the "compat" scenarios against each of them. Then:
#
#   0. the C sources checked against .clang-format (scripts/format.sh);
#   1. build-sanitize: ASan + LSan + UBSan (a sanitizer report exits 86);
#   2. build-plain: -O0 Debug without sanitizers, where what the sanitizer
#      build survives by chance (a null dereference the instrumentation
#      turns into a report, a read of memory that happens to be zero)
#      crashes as it would for a user (all but the compat scenarios); it is
#      also the coverage build (-DAOFROLL_COVERAGE=ON): after its ctest,
#      scripts/coverage.sh prints the line coverage of every module and
#      fails when one is below its floor (tests/coverage-floors.txt; with
#      ctest arguments, a partial run, it only prints);
#   3. build-tsan: ThreadSanitizer (scripts/tsan.sh; AOFROLL_TSAN=0 skips)
#      on the unit tests and the scenarios whose programs run threads (the
#      multi-instance collector, its signals and fork lock, restore's
#      prefetch, apply, flashback, the cluster restore), to keep the whole
#      command under CI's time; `scripts/tsan.sh` alone runs every scenario;
#   4. each libFuzzer target (tests/fuzz, scripts/fuzz.sh) for
#      AOFROLL_FUZZ_SECONDS seconds (default 15; 0 skips this step).
#
# Every step runs even when one before failed; the script exits 1 if any
# failed and says which.
#
# Usage: scripts/test.sh [ctest arguments...]   e.g. scripts/test.sh -L unit
#        (the arguments go to both ctest runs)
#        Each ctest runs one job per core; the tests that measure rates and
#        CPU shares are RUN_SERIAL (tests/CMakeLists.txt).
set -uo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${AOFROLL_FUZZ_SECONDS:-15}
setup=(--tests)
[ "$fuzz_seconds" != 0 ] && setup+=(--fuzz)
scripts/setup.sh "${setup[@]}" || exit 1
scripts/servers.sh || exit 1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()

echo "==== test.sh: the C sources against .clang-format (scripts/format.sh --check)"
scripts/format.sh --check || failed+=("format")

# suite NAME DIR CMAKE_OPTIONS... -- CTEST_ARGS...: configure, build, ctest
suite() {
    local name=$1 dir=$2 start=$SECONDS cmake_opts=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        cmake_opts+=("$1")
        shift
    done
    shift
    echo "==== test.sh: $name: building in $dir"
    if ! cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug "${cmake_opts[@]}" >/dev/null ||
        ! cmake --build "$dir" -j "$(nproc)"; then
        failed+=("$name (build)")
        return
    fi
    mkdir -p "$dir/tmp"
    # a coverage build counts this run only
    find "$dir" -name '*.gcda' -delete
    echo "==== test.sh: $name: running ctest"
    if ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "$@"; then
        summary+=("$name passed in $((SECONDS - start)) s")
    else
        failed+=("$name")
    fi
}

suite "ASan+UBSan build" build-sanitize -DAOFROLL_SANITIZE=ON -- "$@"
# the compatibility matrix (label compat) on the sanitizer build only: it
# runs the same code against other servers (docs/servers.md)
suite "plain -O0 build" build-plain -DAOFROLL_SANITIZE=OFF -DAOFROLL_COVERAGE=ON -- -LE compat "$@"
echo "==== test.sh: line coverage of the plain build (scripts/coverage.sh)"
if [ $# -gt 0 ]; then
    scripts/coverage.sh --report build-plain || failed+=("coverage report")
elif scripts/coverage.sh build-plain; then
    summary+=("coverage: every module at or above its floor")
else
    failed+=("coverage floors")
fi
if [ "${AOFROLL_TSAN:-1}" != 0 ]; then
    start=$SECONDS
    echo "==== test.sh: ThreadSanitizer build (scripts/tsan.sh)"
    tsan_args=("$@")
    [ $# -gt 0 ] || tsan_args=(-R '^(test_.*|it_collector_multi|it_collector_signals|it_snapshot_fork|it_restore|it_apply|it_flashback|it_cluster)$')
    if scripts/tsan.sh "${tsan_args[@]}"; then
        summary+=("ThreadSanitizer build passed in $((SECONDS - start)) s")
    else
        failed+=("ThreadSanitizer build")
    fi
fi
if [ "$fuzz_seconds" != 0 ]; then
    start=$SECONDS
    echo "==== test.sh: fuzzing each target for $fuzz_seconds s"
    if scripts/fuzz.sh "$fuzz_seconds"; then
        summary+=("fuzzing passed in $((SECONDS - start)) s")
    else
        failed+=("fuzzing")
    fi
fi

for line in "${summary[@]}"; do
    echo "==== test.sh: $line"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "==== test.sh: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "==== test.sh: all passed"
