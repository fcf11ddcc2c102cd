#!/usr/bin/env bash
# format.sh - the C sources against .clang-format (clang-format 14, Debian
# package clang-format).
#
# Usage: scripts/format.sh          format every tracked .c/.h file in place
#        scripts/format.sh --check  change nothing; list each file that
#                                   differs, exit 1 if any does
# scripts/test.sh runs --check first, so that CI fails on unformatted code.
set -euo pipefail
cd "$(dirname "$0")/.."

cf=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$cf" ] || { echo "format: clang-format is not installed (scripts/setup.sh --tests)" >&2; exit 1; }
check=0
[ "${1:-}" = --check ] && check=1

bad=0
while IFS= read -r f; do
    if [ "$check" = 1 ]; then
        if ! "$cf" --style=file "$f" | cmp -s "$f" -; then
            echo "format: $f differs from .clang-format (scripts/format.sh fixes it)"
            bad=1
        fi
    else
        "$cf" --style=file -i "$f"
    fi
done < <(git ls-files '*.c' '*.h')
exit "$bad"
