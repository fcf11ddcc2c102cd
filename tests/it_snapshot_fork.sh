#!/usr/bin/env bash
# it_snapshot_fork.sh - one fork at a time on a box.
#
# Every redis-server here is slowed down (rdb-key-save-delay) so that each
# BGSAVE or rewrite runs for about a second, and a sampler reads INFO
# persistence of all of them every 10 ms while the collector works:
#  - two mode rdb instances in one collector (--snapshot-now for both: two
#    threads at once): their BGSAVEs never overlap, and both ran;
#  - the same from two collector processes sharing the lock directory
#    (--snapshot-now --instance a, and b, started together);
#  - a running daemon asked for a snapshot of a mode rdb instance and for
#    a barrier of a mode aof instance at the same time: the BGSAVE and the
#    barrier's BGREWRITEAOF never overlap, and both happen.
. "$(dirname "$0")/lib/scenario.sh" collector restore

C=$BIN/aofroll-collector
start_redis_on PA "$T/a" --appendonly no
start_redis_on PB "$T/b" --appendonly no
start_redis_on PL "$T/l"
for p in "$PA" "$PB" "$PL"; do
    rcli "$p" debug populate 4000 key 100 >/dev/null
    rcli "$p" config set rdb-key-save-delay 250 >/dev/null # about 1 s per fork
done
CFG=$T/aofroll.yaml
write_config "$CFG" "$T/store" "$T/index.db" \
    "  - name: a" "    redis: redis://127.0.0.1:$PA" "    mode: rdb" "    snapshot_interval: 1h" \
    "  - name: b" "    redis: redis://127.0.0.1:$PB" "    mode: rdb" "    snapshot_interval: 1h" \
    "  - name: logs" "    redis: redis://127.0.0.1:$PL" "    barrier: \"off\""

# sampler OUT FIELD:PORT...: every 10 ms, each server's FIELD from INFO
# persistence, one line per sample, until $T/stop exists
cat >"$T/sampler.py" <<'PY'
import os, socket, sys, time
out, specs = sys.argv[1], [a.split(":") for a in sys.argv[2:]]
conns = []
for field, port in specs:
    s = socket.create_connection(("127.0.0.1", int(port)))
    conns.append((field, s))
def info(s):
    s.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n")
    buf = b""
    while b"\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n", 1)
    n = int(head[1:])
    while len(rest) < n + 2:
        rest += s.recv(65536)
    return rest[:n].decode()
with open(out, "w") as f:
    while not os.path.exists(os.path.join(os.path.dirname(out), "stop")):
        row = []
        for field, s in conns:
            v = [l.split(":")[1] for l in info(s).split("\r\n") if l.startswith(field + ":")]
            row.append(v[0])
        f.write(" ".join(row) + "\n")
        f.flush()
        time.sleep(0.01)
PY
sample_start() { # OUT FIELD:PORT...
    rm -f "$T/stop"
    python3 "$T/sampler.py" "$@" &
    SAMPLER=$!
    PIDS_TO_KILL+=("$SAMPLER")
    wait_until 5 test -s "$1" || fail "the sampler did not start"
}
sample_stop() {
    touch "$T/stop"
    wait "$SAMPLER" || fail "the sampler failed"
}
# judge OUT WHAT: never "1 1", and each column was 1 at some point
judge() {
    local out=$1 what=$2
    ! grep -qx "1 1" "$out" || fail "$what: both forked at once ($(grep -cx '1 1' "$out") of $(wc -l <"$out") samples)"
    grep -qx "1 0" "$out" || fail "$what: the first never forked"
    grep -qx "0 1" "$out" || fail "$what: the second never forked"
}

sample_start "$T/s1" rdb_bgsave_in_progress:"$PA" rdb_bgsave_in_progress:"$PB"
expect_exit 0 "$C" -c "$CFG" --snapshot-now
sample_stop
judge "$T/s1" "one collector, two instances"
grep -q "waiting for the fork of another instance on this box to end" "$T/last.err" ||
    fail "no instance waited for the other: $(cat "$T/last.err")"
grep -q "^a: generation 1, snapshot taken at" "$T/last.out" || fail "no snapshot of a: $(cat "$T/last.out")"
grep -q "^b: generation 1, snapshot taken at" "$T/last.out" || fail "no snapshot of b: $(cat "$T/last.out")"
pass "two instances of one collector take turns: their BGSAVEs never overlap"

sample_start "$T/s2" rdb_bgsave_in_progress:"$PA" rdb_bgsave_in_progress:"$PB"
"$C" -c "$CFG" --snapshot-now --instance a >"$T/pa.out" 2>"$T/pa.err" &
PROC_A=$!
"$C" -c "$CFG" --snapshot-now --instance b >"$T/pb.out" 2>"$T/pb.err" || fail "process b: $(cat "$T/pb.err")"
wait "$PROC_A" || fail "process a: $(cat "$T/pa.err")"
sample_stop
judge "$T/s2" "two collector processes"
cat "$T/pa.err" "$T/pb.err" | grep -q "waiting for the fork of another instance on this box to end" ||
    fail "neither process waited for the other"
pass "two collector processes sharing the lock directory take turns too (fork.lock)"

"$C" -c "$CFG" >>"$T/daemon.out" 2>>"$T/daemon.log" &
DAEMON=$!
PIDS_TO_KILL+=("$DAEMON")
wait_until 10 grep -q "generation 1 opened" "$T/daemon.log" || fail "the daemon did not start on logs"
sample_start "$T/s3" rdb_bgsave_in_progress:"$PA" aof_rewrite_in_progress:"$PL"
"$C" -c "$CFG" --snapshot-now --instance a >"$T/ra.out" 2>"$T/ra.err" &
REQ_A=$!
sleep 0.2
expect_exit 0 "$C" -c "$CFG" --barrier-now --instance logs
wait "$REQ_A" || fail "--snapshot-now of a: $(cat "$T/ra.err")"
sample_stop
judge "$T/s3" "a snapshot and a barrier in one daemon"
grep -q "barrier (requested) waits: another instance on this box is forking" "$T/daemon.log" ||
    fail "the barrier did not wait for the snapshot: $(grep -v DEBUG "$T/daemon.log" | tail -5)"
kill -TERM "$DAEMON"
wait "$DAEMON" || fail "the daemon exited $?"
pass "a barrier's BGREWRITEAOF waits for a running snapshot's BGSAVE"

done_testing
