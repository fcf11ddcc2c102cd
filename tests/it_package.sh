#!/usr/bin/env bash
# it_package.sh - the Debian package (label "package"): a plain build
# configured for prefix /usr, `cpack -G DEB`, the package's dependencies
# found by dpkg-shlibdeps, `dpkg -i` on this machine, the installed
# /usr/bin/aofroll --version, the files and the system user the package
# brings, `aofroll-collector --check` on the installed sample configuration
# adapted to a test Redis, then `dpkg --purge`, after which nothing of the
# package is left. Skipped (exit 77, one "skipped" line) when not root,
# without dpkg, dpkg-shlibdeps or cpack, or when a package named aofroll
# is already installed (it is not this test's to replace).
. "$(dirname "$0")/lib/scenario.sh" package

[ "$(id -u)" = 0 ] || skip "not root: dpkg -i needs root"
for tool in dpkg dpkg-deb dpkg-shlibdeps cpack; do
    command -v "$tool" >/dev/null 2>&1 || skip "no $tool (Debian packages dpkg, dpkg-dev, cmake)"
done
if dpkg-query -W -f='${Status}' aofroll 2>/dev/null | grep -q 'installed'; then
    skip "a package named aofroll is installed already"
fi
SRC=$(cd "$(dirname "$0")/.." && pwd)

# the package is purged whatever happens below
INSTALLED=0
purge() {
    [ "$INSTALLED" = 1 ] && dpkg --purge aofroll >"$T/purge.log" 2>&1
    INSTALLED=0
}
trap 'purge; harness_cleanup' EXIT

B=$T/build
nice cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DAOFROLL_TESTS=OFF \
    >"$T/configure.log" 2>&1 || fail "configure: $(tail -5 "$T/configure.log")"
nice cmake --build "$B" -j2 --target aofroll aofroll-collector >"$T/build.log" 2>&1 ||
    fail "build: $(tail -20 "$T/build.log")"
(cd "$B" && nice cpack -G DEB) >"$T/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$T/cpack.log")"
DEB=$(ls "$B"/aofroll_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] || fail "cpack made no .deb: $(tail -5 "$T/cpack.log")"
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$B/CMakeCache.txt")
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for lib in libc6 libhiredis libcurl4 libsqlite3 libyaml libssl3 zlib1g libdeflate adduser; do
    [[ $DEPENDS == *"$lib"* ]] || fail "Depends lacks $lib: $DEPENDS"
done
[[ $DEPENDS == *libasan* ]] && fail "Depends holds a sanitizer runtime: $DEPENDS"
assert_eq "$(dpkg-deb -f "$DEB" Package) $(dpkg-deb -f "$DEB" Version)" "aofroll $VERSION" "package name and version"
dpkg-deb -I "$DEB" conffiles >"$T/conffiles"
assert_eq "$(cat "$T/conffiles")" "/etc/aofroll/aofroll.yaml" "the package's conffiles"
pass "cpack -G DEB: $(basename "$DEB"), Depends from the shlibs: $DEPENDS"

dpkg -i "$DEB" >"$T/dpkg.log" 2>&1 || {
    INSTALLED=1
    fail "dpkg -i: $(tail -5 "$T/dpkg.log")"
}
INSTALLED=1
assert_eq "$(/usr/bin/aofroll --version)" "aofroll $VERSION" "/usr/bin/aofroll --version"
assert_eq "$(/usr/bin/aofroll-collector --version)" "aofroll-collector $VERSION" "/usr/bin/aofroll-collector --version"
for f in /etc/aofroll/aofroll.yaml /usr/lib/systemd/system/aofroll-collector.service \
    /usr/share/man/man1/aofroll.1 /usr/share/man/man5/aofroll.yaml.5 /usr/share/man/man8/aofroll-collector.8 \
    /usr/share/bash-completion/completions/aofroll /usr/share/doc/aofroll/collector.md; do
    [ -f "$f" ] || fail "the package did not install $f"
done
assert_eq "$(unit_value /usr/lib/systemd/system/aofroll-collector.service ExecStart)" \
    "/usr/bin/aofroll-collector -c /etc/aofroll/aofroll.yaml" "the installed unit's ExecStart"
getent passwd aofroll >/dev/null || fail "postinst did not create the user aofroll"
[ "$(stat -c %U /var/lib/aofroll)" = aofroll ] || fail "/var/lib/aofroll is not owned by aofroll"
pass "dpkg -i: /usr/bin/aofroll $VERSION, the unit, the man pages, the sample, the user aofroll"

PORT=$(free_port)
start_redis "$T/live" "$PORT"
sample_for_test /etc/aofroll/aofroll.yaml "$T/sample.yaml" "$PORT"
/usr/bin/aofroll-collector -c "$T/sample.yaml" --check >"$T/check.out" 2>&1 ||
    fail "/usr/bin/aofroll-collector --check on the sample: $(cat "$T/check.out")"
# the default path: no -c, no AOFROLL_CONFIG, the package's own conffile
cp "$T/sample.yaml" /etc/aofroll/aofroll.yaml
env -u AOFROLL_CONFIG /usr/bin/aofroll-collector --check >"$T/check2.out" 2>&1 ||
    fail "/usr/bin/aofroll-collector --check without -c: $(cat "$T/check2.out")"
grep -q '^config "/etc/aofroll/aofroll.yaml": ok, 1 instance' "$T/check2.out" ||
    fail "--check without -c did not read /etc/aofroll/aofroll.yaml: $(cat "$T/check2.out")"
env -u AOFROLL_CONFIG /usr/bin/aofroll-collector --once >"$T/once.out" 2>&1 || fail "--once without -c: $(cat "$T/once.out")"
env -u AOFROLL_CONFIG /usr/bin/aofroll generations >"$T/gen.out" 2>&1 || fail "aofroll generations without -c: $(cat "$T/gen.out")"
grep -q main "$T/gen.out" || fail "aofroll generations without -c lists no instance main: $(cat "$T/gen.out")"
pass "/usr/bin/aofroll-collector --check passes on the sample adapted to a test Redis; no -c reads /etc/aofroll/aofroll.yaml"

dpkg --purge aofroll >"$T/purge.log" 2>&1 || fail "dpkg --purge: $(tail -5 "$T/purge.log")"
INSTALLED=0
for f in /usr/bin/aofroll /usr/bin/aofroll-collector /etc/aofroll/aofroll.yaml \
    /usr/lib/systemd/system/aofroll-collector.service; do
    [ -e "$f" ] && fail "$f is left after the purge"
done
getent passwd aofroll >/dev/null && fail "the user aofroll is left after the purge"
dpkg-query -W aofroll >/dev/null 2>&1 && fail "dpkg still knows the package after the purge"
pass "dpkg --purge removes the programs, the configuration and the user"
done_testing
