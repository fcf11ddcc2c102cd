#!/usr/bin/env bash
# it_errors.sh - errors that give the next step: a missing index names
# `aofroll reindex`; a restore whose --start fails says the restore is
# complete and how to start it by hand; --once and --barrier-now print
# their outcome on the terminal although log_file sends the log elsewhere,
# and a failing instance says why, naming the log file; a YAML syntax
# error says what is wrong in our words, at libyaml's line and column.
# (A corrupt chunk's "restorable up to" is checked in it_restore.sh.)
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$COLLECTOR
live_config -
echo "log_file: $T/collector.log" >>"$CFG"

# a missing index: what rebuilds it
expect_exit 1 "$A" info -c "$CFG"
expect_err "aofroll info: cannot open index \"$T/index.db\": No such file or directory HINT: \"aofroll reindex\" rebuilds it from the storage (file://$T/store); or \"index:\" in \"$CFG\" names another file"
pass "a missing index names aofroll reindex"

# --once and --barrier-now: the outcome on the terminal, the log in its file
rcli "$PORT" set a 1 >/dev/null
expect_exit 0 "$C" -c "$CFG" --once
SIZE=$(stat -c %s "$T"/live/appendonlydir/appendonly.aof.1.incr.aof)
assert_eq "$(cat "$T/last.out")" "live: archived up to incr offset $SIZE of generation 1 (\"appendonly.aof.1.incr.aof\")" \
    "--once's outcome"
[ -s "$T/last.err" ] && fail "--once wrote to stderr with log_file set: $(cat "$T/last.err")"
grep -q "INFO \[live\] generation 1 opened" "$T/collector.log" || fail "the log is not in log_file"
expect_exit 0 "$C" -c "$CFG" --barrier-now
BAR=$(sqlite3 "$T/index.db" 'select last_barrier from status')
assert_eq "$(cat "$T/last.out")" "live: barrier done at $(date -u -d "@$BAR" +%Y-%m-%dT%H:%M:%SZ): generation 2 opened" \
    "--barrier-now's outcome"
pass "--once and --barrier-now print their outcome although log_file is set"

# a failing instance: why, and where the log is
write_config "$T/down.yaml" "$T/store2" "$T/index2.db" "  - name: down" "    redis: redis://127.0.0.1:$(free_port)"
echo "log_file: $T/down.log" >>"$T/down.yaml"
expect_exit 1 "$C" -c "$T/down.yaml" --barrier-now
expect_err "aofroll-collector: instance \"down\" failed: "
expect_err "(log: \"$T/down.log\")"
grep -q "Connection refused\|cannot connect\|unreachable" "$T/last.err" || fail "the failure does not say why: $(cat "$T/last.err")"
pass "a failing instance says why on stderr, naming the log file"

# --start that fails: the restore is in place, how to start it by hand
RP=$(free_port)
expect_exit 1 "$A" restore -c "$CFG" --instance live --to latest --out "$T/r" --start --port "$RP" -- --no-such-option yes
expect_err "aofroll restore: restored \"$T/r\", but starting redis-server failed: "
expect_err "HINT: the restore itself is complete; start it by hand: redis-server --dir \"$T/r\" --appendonly yes --port $RP (its log: \"$T/r/redis.log\")"
redis-server --dir "$T/r" --appendonly yes --port "$RP" --daemonize yes --pidfile "$T/r/redis.pid" \
    --logfile "$T/r/redis.log" >/dev/null || fail "the hint's command did not start"
wait_until 10 served "$RP" || fail "the server started by hand did not load"
PIDS_TO_KILL+=("$(cat "$T/r/redis.pid")")
assert_eq "$(rcli "$RP" get a)" "1" "a key of the restore started by hand"
pass "a failed --start: the hint's command starts the restore"

# YAML syntax: our words, libyaml's position
printf 'instances:\n  - name: a\n    redis: redis://127.0.0.1:1\n   mode: rdb\n' >"$T/bad.yaml"
expect_exit 1 "$C" -c "$T/bad.yaml" --check
expect_err "aofroll-collector: $T/bad.yaml:4:4: this line is not indented like the list items above it"
expect_err "(libyaml: did not find expected '-' indicator while parsing a block collection at line 2, column 3)"
printf 'instances:\n\t- name: a\n' >"$T/tab.yaml"
expect_exit 1 "$A" status -c "$T/tab.yaml"
expect_err "aofroll status: $T/tab.yaml:2:1: a character that cannot begin a value here: a tab in the indentation"
pass "YAML syntax errors in our words, at libyaml's line and column"
done_testing
