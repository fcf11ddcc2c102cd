#!/usr/bin/env bash
# it_options.sh - each option is declared once, and everything agrees with
# that declaration: aofroll-collector and every aofroll subcommand (as
# `aofroll --help` lists them).
#
# - Every option in the command's table in the source (cmd_NAME_options[]
#   in replay/cmd_NAME.c, options_table[] in collector/main.c) is in its
#   --help, and --help lists nothing else.
# - Every option --help lists is accepted: given (with a value when it takes
#   one) it is never an unknown option; every --option the usage line names
#   is one of them.
# - docs/ carries each --help exactly (scripts/options_doc.py --check).
# - An unknown option exits 2 with `unknown option "--x"` (first line of
#   stderr), a missing value exits 2 with `option "--to" needs a value`;
#   the collector prints its help for -h and --help and exits 0.
. "$(dirname "$0")/lib/scenario.sh"

SRC=${AOFROLL_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
A=$BIN/aofroll
C=$BIN/aofroll-collector

# options_in_help: the "--name" of every row of an option list on stdin
options_in_help() {
    sed -n '/^options:$/,$p' | grep -oE '^  (-[a-zA-Z], )?--[a-z0-9-]+' | sed -E 's/^ +(-[a-zA-Z], )?//' | sort
}

# options_in_table FILE TABLE: the "--name" of every row of the table
options_in_table() {
    awk -v t="$2" 'index($0, t "[] = {") { on = 1; next } on && /^};/ { exit } on { print }' "$1" |
        grep -oE '\.name = "[a-z0-9-]+"|CLI_OPT_(CONFIG|JSON|HELP)' |
        sed -E 's/^\.name = "(.*)"$/--\1/; s/^CLI_OPT_CONFIG$/--config/; s/^CLI_OPT_JSON$/--json/; s/^CLI_OPT_HELP$/--help/' |
        sort
}

# check_command LABEL SOURCE TABLE CMD...: CMD --help against the table
check_command() {
    local label=$1 source=$2 table=$3 opt left value out
    shift 3
    "$@" --help >"$T/help" 2>"$T/help.err" || fail "$label --help exited $?: $(head -3 "$T/help.err")"
    options_in_help <"$T/help" >"$T/in_help"
    options_in_table "$source" "$table" >"$T/in_table"
    [ -s "$T/in_table" ] || fail "$label: no option table $table in $source"
    diff "$T/in_table" "$T/in_help" >"$T/diff" || fail "$label: table and --help differ: $(cat "$T/diff")"
    # every option listed is accepted
    while read -r opt; do
        [ "$opt" = --help ] && continue
        left=$(grep -E "^  (-[a-zA-Z], )?$opt( |$)" "$T/help" | head -1 | cut -c3-26)
        value=()
        case "$left" in
        *"$opt "[A-Za-z]*) value=(x) ;;
        esac
        out=$("$@" "$opt" "${value[@]}" 2>&1 </dev/null)
        case "$out" in
        *"unknown option"* | *"needs a value"*) fail "$label: $opt ${value[*]} is refused: $out" ;;
        esac
    done <"$T/in_help"
    # the usage line names only options of the list
    for opt in $(sed -n '1,/^options:$/p' "$T/help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qx -- "$opt" "$T/in_help" || fail "$label: its usage names $opt, which is not an option"
    done
    # an unknown option
    expect_exit 2 "$@" --no-such-option
    head -1 "$T/last.err" | grep -qx "${label}: unknown option \"--no-such-option\"" ||
        fail "$label --no-such-option: $(head -1 "$T/last.err")"
    pass "$label: $(wc -l <"$T/in_help") options, table = --help, each accepted, unknown exits 2"
}

commands=$("$A" --help | sed -n '/^commands:$/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
[ "$(echo "$commands" | wc -w)" -ge 13 ] || fail "aofroll --help lists too few commands: $commands"
for cmd in $commands; do
    check_command "aofroll $cmd" "$SRC/replay/cmd_$cmd.c" "cmd_${cmd}_options" "$A" "$cmd"
done
check_command aofroll-collector "$SRC/collector/main.c" options_table "$C"

# the messages and statuses of the parser, as they have always been
expect_exit 2 "$A" restore -c x --instance i --to
grep -qx 'aofroll restore: option "--to" needs a value' "$T/last.err" || fail "missing value: $(cat "$T/last.err")"
expect_exit 2 "$A" ls -c x --since
grep -qx 'aofroll ls: option "--since" needs a value' "$T/last.err" || fail "missing value: $(cat "$T/last.err")"
expect_exit 2 "$A" ls -q
grep -qx 'aofroll ls: unknown option "-q"' "$T/last.err" || fail "short unknown: $(cat "$T/last.err")"
expect_exit 2 "$A" restore -c x --instance i --to @1 --out "$T/r" --port 0
grep -qx 'aofroll restore: --port: "0" is not a number from 1 to 65535' "$T/last.err" ||
    fail "port range: $(cat "$T/last.err")"
expect_exit 2 "$A" restore -c x --instance i --to @1 --out "$T/r" -- --save ""
grep -qx 'aofroll restore: redis-server options after "--" need --start' "$T/last.err" ||
    fail "-- without --start: $(cat "$T/last.err")"
expect_exit 2 "$A" ls -c x stray
grep -qx 'aofroll ls: unexpected argument "stray"' "$T/last.err" || fail "stray: $(cat "$T/last.err")"
expect_exit 2 "$C" -c x --once --check
pass "missing values, short options, ranges, -- and stray arguments: exit 2 with their messages"

expect_exit 0 "$C" -h
grep -q '^  -h, --help ' "$T/last.out" || fail "aofroll-collector -h printed no help: $(head -3 "$T/last.out")"
cp "$T/last.out" "$T/h1"
expect_exit 0 "$C" --help
cmp -s "$T/h1" "$T/last.out" || fail "aofroll-collector -h and --help differ"
expect_exit 2 "$C" --bogus
grep -q '^usage: aofroll-collector' "$T/last.err" || fail "no usage after an unknown option"
pass "aofroll-collector: -h and --help print the help, exit 0"

python3 "$SRC/scripts/options_doc.py" --check "$BIN" >"$T/doc.out" 2>&1 || fail "docs: $(cat "$T/doc.out")"
pass "docs/ carries every command's --help as it is"

done_testing
