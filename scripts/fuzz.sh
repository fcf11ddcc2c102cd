#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets of tests/fuzz with clang and run
# each for SECONDS on its corpus.
#
# Usage: scripts/fuzz.sh [--no-build] [SECONDS] [TARGET...]
#   SECONDS   how long each target runs (default 10)
#   TARGET    aofscan, manifest, ... (tests/fuzz/fuzz_TARGET.c); default all
#   --no-build  use the programs already in build-fuzz (e.g. for runs in
#               parallel after one build)
# Environment: AOFROLL_FUZZ_BUILD (build directory, default build-fuzz),
# AOFROLL_FUZZ_TIMEOUT (seconds one input may take, default 10; raise it
# for runs at idle priority, which a busy machine may stall).
#
# Each target starts from its seeds and past reproducers in
# tests/fuzz/corpus/TARGET and keeps what it learns in
# build-fuzz/corpus/TARGET. A finding (crash, sanitizer report, leak,
# timeout, out-of-memory, oracle failure) is kept as a reproducer in
# build-fuzz/findings/TARGET/ and makes the script exit 1; replay it with
# build-fuzz/bin/fuzz_TARGET FILE. Prints the executions of each target.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${AOFROLL_FUZZ_BUILD:-build-fuzz}
do_build=1
if [ "${1:-}" = "--no-build" ]; then
    do_build=0
    shift
fi
seconds=10
if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c | sed 's/^fuzz_//')")
    done
fi

if [ "$do_build" = 1 ]; then
    command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/setup.sh --fuzz)" >&2; exit 1; }
    echo "fuzz: building the targets with clang in $build"
    cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAOFROLL_FUZZ=ON \
        -DAOFROLL_TESTS=OFF >/dev/null
    cmake --build "$build" -j "$(nproc)" --target fuzz >/dev/null
fi

failed=0
for t in "${targets[@]}"; do
    prog=$build/bin/fuzz_$t
    [ -x "$prog" ] || { echo "fuzz: no target \"$t\" ($prog)" >&2; exit 2; }
    mkdir -p "$build/corpus/$t" "$build/findings/$t" "$build/logs"
    log=$build/logs/$t.log
    opts=(-max_total_time="$seconds" -print_final_stats=1 -timeout="${AOFROLL_FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048
          -artifact_prefix="$build/findings/$t/")
    [ -f "tests/fuzz/$t.dict" ] && opts+=(-dict="tests/fuzz/$t.dict")
    start=$SECONDS
    rc=0
    "$prog" "${opts[@]}" "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corpus=$(find "$build/corpus/$t" -type f | wc -l)
    printf 'fuzz %-9s %10s executions in %4d s, %5d inputs learned' "$t" "${execs:-?}" $((SECONDS - start)) "$corpus"
    if [ "$rc" -ne 0 ]; then
        failed=1
        echo "  FINDING (exit $rc)"
        grep -aE '^(oracle:|SUMMARY:|==[0-9]+== ?ERROR)' "$log" | head -5 | sed 's/^/    /'
        grep -aE '^(artifact_prefix|Test unit written to)' "$log" | sed 's/^/    /'
        echo "    log: $log"
    else
        echo
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: findings kept in $build/findings/ (add each as tests/fuzz/corpus/TARGET/regress-NAME once fixed)" >&2
    exit 1
fi
