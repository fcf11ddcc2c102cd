#!/usr/bin/env bash
# setup.sh - install whatever Debian packages aofroll needs and are missing.
#
# Usage: scripts/setup.sh [--tests] [--fuzz]
#   --tests  also what the test suite needs (cmocka, openssh-server for the
#            SFTP tests, nodejs and npm for Azurite, which the Azure tests
#            install with npm themselves, openssl for their SAS tokens,
#            gcovr for the coverage report of scripts/coverage.sh; dpkg-dev
#            and fakeroot for the Debian package test, chromium and
#            python3-pil to render the timeline's SVG).
#   --fuzz   also what the fuzz targets need (scripts/fuzz.sh): clang and
#            libclang-rt-14-dev, which holds libFuzzer's runtime
#            (libclang_rt.fuzzer-x86_64.a, for -fsanitize=fuzzer); Debian's
#            clang only recommends it.
# Uses apt-get (through sudo when not root); does nothing when everything
# is already installed.
set -euo pipefail

packages=(build-essential cmake pkg-config libhiredis-dev libcurl4-openssl-dev
          libsqlite3-dev zlib1g-dev libdeflate-dev libyaml-dev libssl-dev redis-server redis-tools)
for arg in "$@"; do
    case $arg in
    --tests)
        packages+=(libcmocka-dev openssh-server python3 sqlite3 curl openssl gcovr
                   dpkg-dev fakeroot chromium python3-pil clang-format)
        # node and npm may come from elsewhere than Debian (a nodejs that
        # bundles npm conflicts with Debian's npm package): only when missing
        if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
            packages+=(nodejs npm)
        fi
        ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *)
        echo "usage: scripts/setup.sh [--tests] [--fuzz]" >&2
        exit 2
        ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts a system redis-server on 6379 after installing it; aofroll's
# demo and tests start their own servers on free ports and do not need it.
