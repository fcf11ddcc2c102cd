#!/bin/bash
# it_collector_priority.sh - the instance key `priority` reaches the
# instance threads of a running collector, and only them.
#
# Each instance thread sets its own CPU and I/O priority as its first act
# (collector/priority.c); main's thread keeps the process's. Read back from
# /proc/PID/task/TID/stat (policy, field 41: 0 = SCHED_OTHER, 5 =
# SCHED_IDLE; nice, field 19) and from ionice -p TID:
#   default (idle): SCHED_IDLE and best-effort level 7, and it still ships
#   low:    nice 19 and best-effort level 7
#   normal: what main's thread has
#   two instances, idle and normal: one thread each way
#   a bad value: a configuration error naming file:line:column
. "$(dirname "$0")/lib/scenario.sh" collector

collector_redis
for i in $(seq 1 50); do
    rcli "$PORT" set "key:$i" "value $i" >/dev/null
done
INCR=$R/appendonlydir/$(incr_files "$R" | tail -1)

# threads PID: one line per thread: "TID POLICY NICE IOPRIO"
threads() {
    local pid=$1 task tid
    for task in /proc/"$pid"/task/*; do
        tid=${task##*/}
        printf '%s %s %s\n' "$tid" "$(sed 's/^.*) //' "$task/stat" | awk '{ print $39, $17 }')" \
            "$(ionice -p "$tid" | tr ' ' '_')"
    done
}

# main_thread PID / instance_threads PID: the lines of threads()
main_thread() { threads "$1" | awk -v pid="$1" '$1 == pid'; }
instance_threads() { threads "$1" | awk -v pid="$1" '$1 != pid'; }

# run_with PRIORITY-LINE NAME: start a collector on a config whose defaults
# hold PRIORITY-LINE ("" for none), wait until it has shipped the AOF
run_with() {
    local line=$1 name=$2
    rm -rf "$ARCH" "$T"/index.db*
    collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: $name" "    redis: redis://127.0.0.1:$PORT"
    [ -z "$line" ] || sed -i "s/^defaults:\$/defaults:\n$line/" "$T/c.yaml"
    collector_start "$T/collector.log" -c "$T/c.yaml"
    wait_archived "$ARCH/$name/gen-000001/incr" "$INCR" 60
}

# the default: idle
run_with "" c
read -r mtid mpolicy mnice mio <<<"$(main_thread "$CPID")"
read -r tid policy nice io <<<"$(instance_threads "$CPID")"
[ -n "$tid" ] || fail "no instance thread in collector $CPID"
assert_eq "$(instance_threads "$CPID" | wc -l)" 1 "instance threads"
assert_eq "$policy" 5 "scheduling policy of the instance thread (SCHED_IDLE)"
assert_eq "$io" "best-effort:_prio_7" "i/o priority of the instance thread"
assert_eq "$mpolicy" 0 "scheduling policy of main's thread"
assert_eq "$mnice" "$(sed 's/^.*) //' /proc/$$/stat | awk '{ print $17 }')" "nice of main's thread"
[ "$mio" != "best-effort:_prio_7" ] || fail "main's thread got the instance's i/o priority"
collector_stop
pass "default priority idle: the instance thread is SCHED_IDLE with i/o best-effort 7, main's is untouched; it ships"

run_with "  priority: low" c
read -r tid policy nice io <<<"$(instance_threads "$CPID")"
read -r mtid mpolicy mnice mio <<<"$(main_thread "$CPID")"
assert_eq "$policy" 0 "scheduling policy with priority low"
assert_eq "$nice" 19 "nice with priority low"
assert_eq "$io" "best-effort:_prio_7" "i/o priority with priority low"
[ "$mnice" != 19 ] || fail "main's thread got nice 19"
collector_stop
pass "priority low: nice 19 and i/o best-effort 7 on the instance thread only"

run_with "  priority: normal" c
read -r tid policy nice io <<<"$(instance_threads "$CPID")"
read -r mtid mpolicy mnice mio <<<"$(main_thread "$CPID")"
assert_eq "$policy $nice $io" "$mpolicy $mnice $mio" "priority normal: the instance thread against main's"
collector_stop
pass "priority normal: the instance thread keeps the process's priority"

# two instances of the same Redis, one idle (the default), one normal
rm -rf "$ARCH" "$T"/index.db*
collector_config "$T/c.yaml" "$ARCH" "$T/index.db" "  - name: a" "    redis: redis://127.0.0.1:$PORT" \
    "  - name: b" "    redis: redis://127.0.0.1:$PORT" "    priority: normal"
collector_start "$T/collector.log" -c "$T/c.yaml"
wait_archived "$ARCH/a/gen-000001/incr" "$INCR" 60
wait_archived "$ARCH/b/gen-000001/incr" "$INCR" 60
assert_eq "$(instance_threads "$CPID" | awk '{ print $2 }' | sort | tr '\n' ' ')" "0 5 " "policies of two instances"
collector_stop
pass "per instance: one SCHED_IDLE thread (default), one normal"

collector_config "$T/bad.yaml" "$ARCH" "$T/index.db" "  - name: c" "    redis: redis://127.0.0.1:$PORT" \
    "    priority: nice"
expect_exit 1 "$COLLECTOR" -c "$T/bad.yaml" --once
grep -qxF "aofroll-collector: $T/bad.yaml:11:15: invalid priority \"nice\": expected idle, low or normal" "$T/last.err" ||
    fail "bad priority: $(cat "$T/last.err")"
pass "a bad priority is a configuration error at its line and column"

done_testing
