#!/usr/bin/env bash
# it_install.sh - `cmake --install` into a DESTDIR lays out every file of
# docs/packaging/install.cmake and nothing else: both programs, the systemd
# unit whose ExecStart names the installed collector and the default
# configuration, the commented sample configuration at that default path,
# the three man pages (rendered by man(1) without a warning), the bash
# completion of both programs (offering what their --help lists), and the
# docs. The installed sample, adapted to a test Redis, passes
# `aofroll-collector --check`.
# Environment (ctest): AOFROLL_BUILD (the build tree), AOFROLL_PREFIX,
# AOFROLL_SYSCONFDIR, AOFROLL_DEFAULT_CONFIG (as configured).
. "$(dirname "$0")/lib/scenario.sh" package

: "${AOFROLL_BUILD:?}" "${AOFROLL_PREFIX:?}" "${AOFROLL_SYSCONFDIR:?}" "${AOFROLL_DEFAULT_CONFIG:?}"
SRC=$(cd "$(dirname "$0")/.." && pwd)
D=$T/root
DESTDIR=$D cmake --install "$AOFROLL_BUILD" >"$T/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$T/install.log")"
P=$AOFROLL_PREFIX
S=$AOFROLL_SYSCONFDIR
UNITDIR=$(grep '^AOFROLL_SYSTEMD_UNITDIR:' "$AOFROLL_BUILD/CMakeCache.txt" | cut -d= -f2)
case $UNITDIR in /*) ;; *) UNITDIR=$P/$UNITDIR ;; esac
LIBDIR=$(grep '^CMAKE_INSTALL_LIBDIR:' "$AOFROLL_BUILD/CMakeCache.txt" | cut -d= -f2)
{
    echo "$P/bin/aofroll"
    echo "$P/bin/aofroll-collector"
    echo "$P/$LIBDIR/aofroll/libaofroll_timeshift.so"
    echo "$S/aofroll/aofroll.yaml"
    echo "$UNITDIR/aofroll-collector.service"
    echo "$P/share/man/man1/aofroll.1"
    echo "$P/share/man/man5/aofroll.yaml.5"
    echo "$P/share/man/man8/aofroll-collector.8"
    echo "$P/share/bash-completion/completions/aofroll"
    echo "$P/share/bash-completion/completions/aofroll-collector"
    echo "$P/share/doc/aofroll/README.md"
    echo "$P/share/doc/aofroll/LICENSE"
    for f in "$SRC"/docs/*.md; do echo "$P/share/doc/aofroll/$(basename "$f")"; done
} | LC_ALL=C sort >"$T/expected"
(cd "$D" && find . -type f -o -type l) | sed 's|^\.||' | LC_ALL=C sort >"$T/installed"
diff "$T/expected" "$T/installed" >"$T/layout.diff" || fail "installed files differ from the layout: $(cat "$T/layout.diff")"
# the program finds the clock library where it is installed (scratch.c)
REL=$(strings "$D$P/bin/aofroll" | grep -m1 'aofroll/libaofroll_timeshift\.so$')
[ -f "$D$P/bin/$REL" ] || fail "aofroll looks for its clock library at bin/$REL, which is not installed"
nm -D "$D$P/$LIBDIR/aofroll/libaofroll_timeshift.so" | grep -q ' T clock_gettime$' ||
    fail "the clock library does not define clock_gettime"
[ -x "$D$P/bin/aofroll" ] && [ -x "$D$P/bin/aofroll-collector" ] || fail "programs not executable"
assert_eq "$("$D$P/bin/aofroll" --version)" "aofroll $(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$AOFROLL_BUILD/CMakeCache.txt")" \
    "installed aofroll --version"
assert_eq "$AOFROLL_DEFAULT_CONFIG" "$S/aofroll/aofroll.yaml" "the default configuration is the installed sample's path"
pass "cmake --install lays out every file: $(wc -l <"$T/installed") files"

UNIT=$D$UNITDIR/aofroll-collector.service
assert_eq "$(unit_value "$UNIT" ExecStart)" "$P/bin/aofroll-collector -c $AOFROLL_DEFAULT_CONFIG" "the unit's ExecStart"
grep -q '@[A-Z_]*@' "$UNIT" && fail "unsubstituted variables in the unit: $(grep '@[A-Z_]*@' "$UNIT")"
assert_eq "$(unit_value "$UNIT" Documentation)" "man:aofroll-collector(8) file://$P/share/doc/aofroll/collector.md" \
    "the unit's Documentation"
[ -f "$D$P/share/doc/aofroll/collector.md" ] || fail "the unit's documentation is not installed"
if command -v systemd-analyze >/dev/null 2>&1; then
    systemd-analyze verify --man=no "$UNIT" >"$T/verify.log" 2>&1
    grep -i 'unknown\|invalid\|failed to parse' "$T/verify.log" | grep -v 'aofroll-collector.*No such file\|User\|Group' &&
        fail "systemd-analyze verify: $(cat "$T/verify.log")"
fi
pass "the unit starts the installed collector on the default configuration"

for page in man1/aofroll.1 man5/aofroll.yaml.5 man8/aofroll-collector.8; do
    MANWIDTH=80 man --warnings -l "$D$P/share/man/$page" >"$T/page.txt" 2>"$T/page.err" || fail "man $page"
    [ -s "$T/page.err" ] && fail "man $page warns: $(cat "$T/page.err")"
    grep -q "/etc/aofroll/aofroll.yaml" "$T/page.txt" || fail "$page does not name the default configuration"
done
grep -q AOFROLL_CONFIG "$T/page.txt" || fail "aofroll-collector(8) does not name AOFROLL_CONFIG"
pass "the three man pages render without a warning"

COMP=$D$P/share/bash-completion/completions/aofroll
cmp -s "$COMP" "$D$P/share/bash-completion/completions/aofroll-collector" || fail "the two completion files differ"
PATH=$D$P/bin:$PATH
assert_eq "$(complete_words "$COMP" aofroll re | LC_ALL=C sort | tr '\n' ' ')" "reindex rekey restore " "completion of 're'"
assert_eq "$(complete_words "$COMP" aofroll restore --st | LC_ALL=C sort | tr '\n' ' ')" "--start --stop-before " \
    "completion of 'restore --st'"
assert_eq "$(complete_words "$COMP" aofroll-collector --ch)" "--check" "completion of 'aofroll-collector --ch'"
pass "bash completion offers the commands and options of --help"

PORT=$(free_port)
start_redis "$T/live" "$PORT"
sample_for_test "$D$S/aofroll/aofroll.yaml" "$T/sample.yaml" "$PORT"
"$D$P/bin/aofroll-collector" -c "$T/sample.yaml" --check >"$T/check.out" 2>&1 ||
    fail "--check on the installed sample: $(cat "$T/check.out")"
grep -q "instance \"main\"" "$T/check.out" || grep -q "main" "$T/check.out" || fail "--check did not judge instance main"
pass "the installed sample configuration passes --check against a test Redis"
done_testing
