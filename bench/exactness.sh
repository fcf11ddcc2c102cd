#!/usr/bin/env bash
# exactness.sh - how many seconds of a long run under a steady writer
# restore exactly, and how long barriers wait.
#
# A redis-server (AOF, #TS annotations) takes a writer that never pauses
# (tests/exactness.py write: SET, INCR, LPUSH, APPEND, MULTI/EXEC, EVAL,
# SELECT, about $RATE commands a second, 60-70 bytes each in the AOF) for
# $DURATION seconds, while aofroll-collector follows it with its default
# settings (poll 1 s, 4 MiB chunks; priority $PRIORITY, idle by default) and
# a --barrier-now
# every $BARRIER_EVERY seconds through the running collector. A watcher
# hard-links every file of the AOF directory as it appears. Then every
# second of the run is restored with `aofroll restore --to @T` and compared
# byte for byte with `redis-check-aof --truncate-to-timestamp T` on a copy
# of the incr file of the generation T falls in (tests/exactness.py check:
# the generation from the files alone), and its base with that
# generation's base. Prints the seconds checked, exact and refused (a
# refusal here is a failure: the run has no gap), the barriers and the
# longest any of them waited (from the request to the new generation).
#
#   AOFROLL_BENCH_BIN=$PWD/build/bin DURATION=3600 bench/exactness.sh
#
# Builds nothing: aofroll and aofroll-collector from $AOFROLL_BENCH_BIN.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DURATION=${DURATION:-600}
BARRIER_EVERY=${BARRIER_EVERY:-180}
RATE=${RATE:-1500}
PRIORITY=${PRIORITY:-idle}
EXACTNESS=$HERE/../tests/exactness.py

bench_need aofroll aofroll-collector
bench_dir exactness
[ "${KEEP:-0}" = 1 ] && KEEP_TMP=1

PORT=$(free_port)
start_redis "$W/redis" "$PORT"
python3 "$EXACTNESS" watch "$W/redis/appendonlydir" "$W/links" 2>"$W/watcher.log" &
PIDS_TO_KILL+=("$!")
cat >"$W/c.yaml" <<EOF
storage:
  url: file://$W/archive
index: $W/index.db
defaults:
  barrier: "off"
  priority: $PRIORITY
instances:
  - name: bench
    redis: redis://127.0.0.1:$PORT
EOF
python3 "$EXACTNESS" write "$PORT" "$RATE" 7 2>"$W/writer.log" &
WRITER=$!
PIDS_TO_KILL+=("$WRITER")
sleep 1
"$BIN/aofroll-collector" -c "$W/c.yaml" 2>"$W/collector.log" &
COLLECTOR=$!
PIDS_TO_KILL+=("$COLLECTOR")
until [ "$(sqlite3 "$W/index.db" 'select count(*) from generations where base_complete = 1' 2>/dev/null)" = 1 ]; do
    sleep 0.2
done
T0=$(sqlite3 "$W/index.db" "select base_time from generations where generation = 1")
echo "exactness.sh: writing about $RATE commands/s for $DURATION s, a barrier every $BARRIER_EVERY s ($W)" >&2

END=$(($(date +%s) + DURATION))
longest=0
barriers=0
while [ $(($(date +%s) + BARRIER_EVERY)) -le "$END" ]; do
    sleep "$BARRIER_EVERY"
    t0=$EPOCHREALTIME
    "$BIN/aofroll-collector" -c "$W/c.yaml" --barrier-now 2>>"$W/barrier.log" || {
        echo "exactness.sh: --barrier-now failed: $(tail -1 "$W/barrier.log")" >&2
        exit 1
    }
    waited=$(seconds "$t0" "$EPOCHREALTIME")
    barriers=$((barriers + 1))
    longest=$(awk -v a="$longest" -v b="$waited" 'BEGIN { print (b > a) ? b : a }')
    echo "exactness.sh: barrier $barriers answered after $waited s" >&2
done
sleep $((END - $(date +%s) > 0 ? END - $(date +%s) : 0))
kill "$WRITER"
wait "$WRITER" 2>/dev/null || true
# the newest generation shipped to the incr file's end
incr=$(awk '$6 == "i" { f = $2 } END { print f }' "$W/redis/appendonlydir/appendonly.aof.manifest")
size=$(stat -c %s "$W/redis/appendonlydir/$incr")
until [ "$(sqlite3 "$W/index.db" "select coalesce(max(c.end), 0) from chunks c join generations g using (instance_id, generation) where c.kind = 'incr' and g.incr_file = '$incr'")" = "$size" ]; do
    sleep 0.5
done
T1=$(date +%s)
kill "$COLLECTOR"
wait "$COLLECTOR" 2>/dev/null || true

echo "exactness.sh: checking every second from @$T0 to @$T1" >&2
python3 "$EXACTNESS" check --bin "$BIN" --config "$W/c.yaml" --index "$W/index.db" --instance bench \
    --links "$W/links" --work "$W/check" --from "$T0" --to "$T1" >"$W/check.out" 2>&1 || {
    tail -5 "$W/check.out" >&2
    exit 1
}
figures=$(tail -1 "$W/check.out")
aof=$(du -sb "$W/links" | cut -f1)
echo "duration $DURATION s, writer ~$RATE commands/s, AOF written $((aof / 1024 / 1024)) MiB (every file linked)"
echo "$figures"
echo "barriers $barriers, longest wait $longest s (from --barrier-now to the new generation)"
