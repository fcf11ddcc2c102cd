#!/usr/bin/env bash
# servers.sh - build the servers of the compatibility matrix once, into a cache.
#
# Each source tarball in AOFROLL_SERVERS_DIR (default: ../shared/servers from
# the checkout) is built with `make BUILD_TLS=no` into
# AOFROLL_SERVERS_CACHE/NAME (default /var/cache/aofroll-test/NAME, NAME the
# tarball's name without .tar.gz). NAME/bin then holds redis-server,
# redis-cli, redis-check-aof, redis-check-rdb and redis-benchmark (for
# Valkey, its valkey-* programs under those names), and NAME/built the
# tarball's SHA-256: a later run with the same tarball reuses the build.
# tests/CMakeLists.txt registers the `compat` scenarios for every build
# with a NAME/built marker.
#
# Without the tarball directory (a clone outside the project's CI) it prints
# one line and exits 0: the matrix is then skipped, never failed.
#
# Usage: scripts/servers.sh          build what is missing, print NAME PATH lines
set -euo pipefail
cd "$(dirname "$0")/.."

srcdir=${AOFROLL_SERVERS_DIR:-../shared/servers}
cache=${AOFROLL_SERVERS_CACHE:-/var/cache/aofroll-test}
jobs=${AOFROLL_SERVERS_JOBS:-2}

if [ ! -d "$srcdir" ]; then
    echo "servers.sh: no server tarballs in $srcdir: compatibility matrix skipped"
    exit 0
fi
shopt -s nullglob
tarballs=("$srcdir"/*.tar.gz)
if [ ${#tarballs[@]} -eq 0 ]; then
    echo "servers.sh: no server tarballs in $srcdir: compatibility matrix skipped"
    exit 0
fi
mkdir -p "$cache"

# Two runs at once (two checkouts testing) take turns on one build.
exec 9>"$cache/.lock"
flock 9

# link_tools BIN: the redis-* names the tests use, for builds that name their
# programs otherwise (Valkey installs valkey-*, and redis-* links unless
# USE_REDIS_SYMLINKS=no).
link_tools() {
    local bin=$1 tool
    for tool in server cli check-aof check-rdb benchmark; do
        if [ ! -e "$bin/redis-$tool" ] && [ -e "$bin/valkey-$tool" ]; then
            ln -s "valkey-$tool" "$bin/redis-$tool"
        fi
        [ -x "$bin/redis-$tool" ] || {
            echo "servers.sh: $bin has no redis-$tool" >&2
            return 1
        }
    done
}

# build TARBALL: build into $cache/NAME unless its marker names this tarball.
build() {
    local tarball=$1 name sum dest work log
    name=$(basename "$tarball" .tar.gz)
    sum=$(sha256sum "$tarball" | cut -d' ' -f1)
    dest=$cache/$name
    if [ "$(cat "$dest/built" 2>/dev/null)" = "$sum" ] && [ -x "$dest/bin/redis-server" ]; then
        echo "$name $dest/bin/redis-server"
        return 0
    fi
    echo "servers.sh: building $name (make -j$jobs BUILD_TLS=no, a few minutes)" >&2
    work=$cache/.build-$name
    log=$cache/$name.log
    rm -rf "$work" "$dest"
    mkdir -p "$work"
    tar -xzf "$tarball" -C "$work" --strip-components=1
    if ! (cd "$work" && nice make -j"$jobs" BUILD_TLS=no &&
        make install PREFIX="$dest" BUILD_TLS=no) >"$log" 2>&1; then
        tail -20 "$log" >&2
        echo "servers.sh: building $name failed, full log in $log" >&2
        return 1
    fi
    link_tools "$dest/bin"
    rm -rf "$work"
    echo "$sum" >"$dest/built"
    echo "$name $dest/bin/redis-server"
}

for tarball in "${tarballs[@]}"; do
    build "$tarball"
done
