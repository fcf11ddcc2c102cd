#!/usr/bin/env bash
# demo.sh - the main job end to end, on the embedded default (file://).
#
# Sets up and builds aofroll, starts a throw-away redis-server in a temp
# dir, runs the collector archiving it to a local directory while a writer
# changes a few keys once a second, then "an accident" (FLUSHALL). Then it
# restores the instance as it was at a chosen earlier second into a new
# directory, starts a redis-server on it and shows the keys. Everything runs
# on loopback and is removed at the end (AOFROLL_DEMO_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAOFROLL_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bin=$PWD/build/bin

. tests/lib/base.sh # a temp dir and the processes started, removed and killed at exit
. tests/lib/redis.sh
[ "${AOFROLL_DEMO_KEEP:-0}" = 1 ] && KEEP_TMP=1
harness_tmp /tmp aofroll-demo
demo=$HARNESS_TMP
port=$(free_port)
port2=$(free_port)
say() { printf '\n== %s\n' "$*"; }

say "redis-server on 127.0.0.1:$port, AOF in $demo/redis"
start_redis "$demo/redis" "$port"

cat >"$demo/aofroll.yaml" <<YAML
storage:
  url: file://$demo/archive
index: $demo/index.db
defaults:
  poll_interval: 200ms
  chunk_pause: 0ms
instances:
  - name: demo
    redis: redis://127.0.0.1:$port
YAML
say "config $demo/aofroll.yaml"
cat "$demo/aofroll.yaml"

say "aofroll-collector --check"
"$bin/aofroll-collector" -c "$demo/aofroll.yaml" --check || true

say "collector running; a writer changes keys once a second"
"$bin/aofroll-collector" -c "$demo/aofroll.yaml" 2>"$demo/collector.log" &
collector=$!
PIDS_TO_KILL+=("$collector")

# Start on a second boundary so that each write lands in its own second.
sleep_to_next_second
chosen=""
for i in 1 2 3 4 5 6; do
    redis-cli -p "$port" set demo:counter "$i" >/dev/null
    redis-cli -p "$port" hset demo:user:42 visits "$i" last "write $i" >/dev/null
    redis-cli -p "$port" rpush demo:log "event $i" >/dev/null
    now=$(date +%s)
    echo "  $(date -d "@$now" '+%H:%M:%S')  counter=$i"
    [ "$i" = 3 ] && chosen=$now
    sleep_to_next_second
done
redis-cli -p "$port" flushall >/dev/null
echo "  $(date '+%H:%M:%S')  FLUSHALL (the accident): live keys now: $(redis-cli -p "$port" dbsize)"
sleep 1
kill -TERM "$collector"
wait "$collector" || true

say "the archive"
find "$demo/archive" -type f | sed "s|$demo/archive/||" | sort
"$bin/aofroll" generations -c "$demo/aofroll.yaml"

say "aofroll log --cmd FLUSHALL: when did the accident happen?"
"$bin/aofroll" log -c "$demo/aofroll.yaml" --instance demo --since "@$((chosen - 10))" \
    --until "@$(($(date +%s) + 1))" --cmd FLUSHALL || true

to=$(date -d "@$chosen" '+%Y-%m-%d %H:%M:%S')
say "aofroll restore --to \"$to\" (the second of write 3) --start --port $port2"
"$bin/aofroll" restore -c "$demo/aofroll.yaml" --instance demo --to "$to" \
    --out "$demo/restored" --start --port "$port2"
PIDS_TO_KILL+=("$(cat "$demo/restored/redis.pid")")

say "the restored instance"
echo "demo:counter  = $(redis-cli -p "$port2" get demo:counter)"
echo "demo:user:42  = $(redis-cli -p "$port2" hgetall demo:user:42 | paste -sd' ')"
echo "demo:log      = $(redis-cli -p "$port2" lrange demo:log 0 -1 | paste -sd' ')"
[ "$(redis-cli -p "$port2" get demo:counter)" = 3 ] || { echo "demo: expected counter=3" >&2; exit 1; }
say "done: the instance is back as it was at $to, before the FLUSHALL"
