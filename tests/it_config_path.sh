#!/usr/bin/env bash
# it_config_path.sh - which configuration both programs read when -c is
# left out: the file named by AOFROLL_CONFIG, else the compiled-in default
# (/etc/aofroll/aofroll.yaml for the package; it_package.sh runs the
# installed programs on it). With AOFROLL_CONFIG the collector ships and
# aofroll restores and inspects with no -c, with the same output as with
# -c; -c wins over AOFROLL_CONFIG; a file that cannot be read exits 1 and
# says where its path came from; --help names the default.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$COLLECTOR
live_config -
rcli "$PORT" set k1 v1 >/dev/null
rcli "$PORT" set k2 v2 >/dev/null
sleep_to_next_second
export AOFROLL_CONFIG=$CFG
expect_exit 0 "$C" --check
expect_out "$T/last.out" "config \"$CFG\": ok, 1 instance"
expect_exit 0 "$C" --once
expect_exit 0 "$A" generations
cp "$T/last.out" "$T/gen.env"
expect_exit 0 "$A" generations -c "$CFG"
cmp -s "$T/last.out" "$T/gen.env" || fail "generations with AOFROLL_CONFIG differs from -c"
grep -q '^live' "$T/gen.env" || grep -q 'live' "$T/gen.env" || fail "generations lists no instance live: $(cat "$T/gen.env")"
expect_exit 0 "$A" restore --instance live --to latest --out "$T/r"
[ -f "$T/r/appendonlydir/appendonly.aof.manifest" ] || fail "restore with AOFROLL_CONFIG wrote no manifest"
pass "AOFROLL_CONFIG: --check, --once, generations and restore without -c"

# -c wins over AOFROLL_CONFIG
AOFROLL_CONFIG=$T/none.yaml expect_exit 0 "$A" generations -c "$CFG"
cmp -s "$T/last.out" "$T/gen.env" || fail "-c did not win over AOFROLL_CONFIG"
AOFROLL_CONFIG=$T/none.yaml expect_exit 0 "$C" -c "$CFG" --once
pass "-c FILE wins over AOFROLL_CONFIG"

AOFROLL_CONFIG=$T/none.yaml expect_exit 1 "$A" status
expect_err "aofroll status: $T/none.yaml: cannot read: No such file or directory (named by AOFROLL_CONFIG) HINT: -c FILE names another"
AOFROLL_CONFIG=$T/none.yaml expect_exit 1 "$C" --check
expect_err "aofroll-collector: $T/none.yaml: cannot read: No such file or directory (named by AOFROLL_CONFIG)"
expect_exit 1 "$A" status -c "$T/none.yaml"
expect_err "aofroll status: $T/none.yaml: cannot read: No such file or directory"
grep -q 'AOFROLL_CONFIG' "$T/last.err" && fail "a -c FILE that cannot be read blames AOFROLL_CONFIG"
pass "a configuration that cannot be read: exit 1, naming where the path came from"

unset AOFROLL_CONFIG
DEFAULT=$("$A" --help | sed -n 's/^Without -c FILE: the file named by AOFROLL_CONFIG, else \(.*\)\.$/\1/p')
[ -n "$DEFAULT" ] || fail "aofroll --help does not name the default configuration"
expect_exit 0 "$C" --help
expect_out "$T/last.out" "Without -c FILE: the file named by AOFROLL_CONFIG, else $DEFAULT."
expect_exit 0 "$A" restore --help
expect_out "$T/last.out" "Without -c FILE: the file named by AOFROLL_CONFIG, else $DEFAULT."
if [ ! -e "$DEFAULT" ]; then
    expect_exit 1 "$A" generations
    expect_err "aofroll generations: $DEFAULT: cannot read: No such file or directory (the default configuration) HINT: -c FILE or AOFROLL_CONFIG names another"
    AOFROLL_CONFIG= expect_exit 1 "$C" --once
    expect_err "aofroll-collector: $DEFAULT: cannot read: No such file or directory (the default configuration)"
    pass "no -c and no AOFROLL_CONFIG: the default $DEFAULT is read"
else
    echo "# $DEFAULT exists on this machine: its use is left to it_package.sh"
fi
done_testing
