# cluster.sh - a local Redis Cluster for the cluster scenarios
# (tests/it_cluster*.sh): a harness module, named after collector on the
# scenario's first line:
#   . "$(dirname "$0")/lib/scenario.sh" collector cluster
# Sourced, not run. Its servers are started with start_redis (redis.sh),
# its collectors with collector_start (collector.sh), its ports from
# free_port (base.sh); all of them are killed at exit.
#
#   cluster_create          3 masters + 3 replicas (appendonly yes, #TS on)
#                           on free ports whose bus ports are free too,
#                           joined by `redis-cli --cluster create
#                           --cluster-replicas 1`; sets PORTS[0..5],
#                           NODE_ID[port], MASTER_OF[port] (a replica's
#                           master's port) and SHARD_PORTS (the masters)
#   cluster_boxes           two "boxes", each with its own collector config,
#                           index and the one shared storage: box A archives
#                           master 1 with its replica and master 2, box B
#                           master 3 with its replica and the replica of 2
#   cluster_writer_start    writes over all slots through hash tags, plus
#                           one key per shard (bump:{...}) incremented once a
#                           second, following MOVED/ASK, until stopped
#   ref_digest PORT TIME    DEBUG DIGEST of what the node's AOF held at TIME:
#                           a copy cut by redis-check-aof
#                           --truncate-to-timestamp, loaded by a redis-server
#   dir_digest DIR          DEBUG DIGEST of a restored directory, loaded
#
# Kept light for 2-core machines: small values, a few hundred writes a
# second, node timeouts of 2 s.

CLUSTER_NAME=prod

# A free port (free_port) whose cluster bus port (+10000) is free too and
# below the kernel's ephemeral range as well.
cluster_free_port() {
    local p low
    low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    for _ in $(seq 1 200); do
        p=$(free_port)
        [ $((p + 10002)) -lt "$low" ] || continue
        if ! port_open $((p + 10000)); then
            echo "$p"
            return 0
        fi
    done
    fail "no free port with a free bus port"
}

# cluster_free_ports N: P such that P .. P+N-1 and their bus ports are free
cluster_free_ports() {
    local p i ok
    for _ in $(seq 1 50); do
        p=$(cluster_free_port)
        ok=1
        for i in $(seq 0 $(($1 - 1))); do
            if port_open $((p + i)) || port_open $((p + i + 10000)); then
                ok=0
            fi
        done
        [ "$ok" = 1 ] && echo "$p" && return 0
    done
    fail "no $1 consecutive free ports"
}

# cluster_ok PORT: CLUSTER INFO says cluster_state:ok
cluster_ok() {
    redis-cli -p "$1" cluster info | grep -q '^cluster_state:ok'
}

three_replicas() {
    [ "$(redis-cli -p "$1" cluster nodes | awk '$3 ~ /slave/' | wc -l)" = 3 ] &&
        { [[ $(redis-cli -p "$1" role | head -1) == master ]] ||
            redis-cli -p "$1" info replication | grep -q '^master_link_status:up'; }
}

cluster_create() {
    local i p args=()
    PORTS=()
    for i in 0 1 2 3 4 5; do
        p=$(cluster_free_port)
        while [[ " ${PORTS[*]} " == *" $p "* ]]; do p=$(cluster_free_port); done
        PORTS+=("$p")
        start_redis "$T/node-$p" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
            --cluster-node-timeout 2000
        args+=("127.0.0.1:$p")
    done
    redis-cli --cluster create "${args[@]}" --cluster-replicas 1 --cluster-yes >"$T/cluster-create.log" 2>&1 ||
        fail "redis-cli --cluster create failed: $(tail -3 "$T/cluster-create.log")"
    for p in "${PORTS[@]}"; do
        wait_until 60 cluster_ok "$p" || fail "node $p did not reach cluster_state:ok"
        # the replicas are known everywhere (gossip) and in sync
        wait_until 60 three_replicas "$p" || fail "node $p does not see 3 replicas"
    done
    cluster_topology
}

# cluster_topology: NODE_ID, MASTER_OF, SHARD_PORTS from CLUSTER NODES
cluster_topology() {
    local p id addr flags master
    declare -gA NODE_ID MASTER_OF PORT_OF
    SHARD_PORTS=()
    while read -r id addr flags master _; do
        p=${addr#*:}
        p=${p%%@*}
        NODE_ID[$p]=$id
        PORT_OF[$id]=$p
    done < <(redis-cli -p "${PORTS[0]}" cluster nodes)
    while read -r id addr flags master _; do
        p=${addr#*:}
        p=${p%%@*}
        if [[ $flags == *master* ]]; then
            MASTER_OF[$p]=""
        else
            MASTER_OF[$p]=${PORT_OF[$master]}
        fi
    done < <(redis-cli -p "${PORTS[0]}" cluster nodes)
    # masters ordered by their lowest slot
    mapfile -t SHARD_PORTS < <(redis-cli -p "${PORTS[0]}" cluster nodes |
        awk '$3 ~ /master/ && $9 != "" {split($2, a, "[:@]"); split($9, s, "-"); print s[1], a[2]}' |
        sort -n | awk '{print $2}')
    [ "${#SHARD_PORTS[@]}" = 3 ] || fail "expected 3 masters with slots, got ${#SHARD_PORTS[@]}"
}

# replica_of PORT: the port of a replica of the master on PORT
replica_of() {
    local p
    for p in "${PORTS[@]}"; do
        [ "${MASTER_OF[$p]:-}" = "$1" ] && echo "$p" && return 0
    done
    return 1
}

# cluster_box_config FILE INDEX PORT...: a collector config for these nodes
cluster_box_config() {
    local file=$1 index=$2 p
    shift 2
    local lines=()
    for p in "$@"; do
        lines+=("  - name: node-$p" "    redis: redis://127.0.0.1:$p" "    cluster: $CLUSTER_NAME")
    done
    collector_config "$file" "$ARCH" "$index" "${lines[@]}"
    sed -i 's/^index: .*/&\nindex_upload_interval: 1s/' "$file"
    sed -i 's/^  poll_interval: 100ms$/  poll_interval: 200ms/' "$file"
}

cluster_boxes() {
    local m1=${SHARD_PORTS[0]} m2=${SHARD_PORTS[1]} m3=${SHARD_PORTS[2]}
    ARCH=$T/archive
    BOX_A=("$m1" "$(replica_of "$m1")" "$m2")
    BOX_B=("$m3" "$(replica_of "$m3")" "$(replica_of "$m2")")
    cluster_box_config "$T/box-a.yaml" "$T/index-a.db" "${BOX_A[@]}"
    cluster_box_config "$T/box-b.yaml" "$T/index-b.db" "${BOX_B[@]}"
    # the restoring machine: the same storage, an index of its own that knows no node
    collector_config "$T/restore.yaml" "$ARCH" "$T/index-r.db" "  - name: none" "    redis: redis://127.0.0.1:1"
    # what status --cluster allows an index copy's heartbeat (the boxes upload every second)
    sed -i 's/^index: .*/&\nindex_upload_interval: 10s/' "$T/restore.yaml"
}

# start_box A|B: its collector in the background; pid in BOX_PID_A / BOX_PID_B
start_box() {
    local box=$1 cfg
    cfg=$T/box-${box,,}.yaml
    collector_start "$T/collector-${box,,}.log" -c "$cfg"
    printf -v "BOX_PID_$box" '%s' "$CPID"
}

# stop_box A|B: SIGTERM that collector
stop_box() {
    local var="BOX_PID_$1"
    CPID=${!var}
    collector_stop
}

# Redis Cluster's key slot function (cluster.c keyHashSlot: CRC16/XMODEM of
# the key, or of its {hash tag}), for the writer and the scenarios' checks
cat >"$T/clusterslot.py" <<'PY'
def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc

def keyslot(key):
    s = key.find(b"{")
    if s >= 0:
        e = key.find(b"}", s + 1)
        if e > s + 1:
            key = key[s + 1:e]
    return crc16(key) % 16384
PY

cat >"$T/cluster_writer.py" <<'PY'
import os, random, socket, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterslot import keyslot

def enc(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Err(Exception):
    pass

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l
    def exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        d, self.buf = self.buf[:n], self.buf[n:]
        return d
    def reply(self):
        l = self.line()
        t, rest = l[:1], l[1:]
        if t == b"-":
            raise Err(rest.decode())
        if t in (b"+", b":"):
            return rest
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n + 2)[:-2]
        if t == b"*":
            return [self.reply() for _ in range(max(int(rest), 0))]
        raise Err("bad reply %r" % l)
    def call(self, *args):
        self.s.sendall(enc(args))
        return self.reply()

class Cluster:
    def __init__(self, ports):
        self.conns = {}
        self.slots = [None] * 16384
        self.ports = ports
        self.refresh()
    def conn(self, port):
        if port not in self.conns:
            self.conns[port] = Conn(port)
        return self.conns[port]
    def refresh(self):
        for p in self.ports:
            try:
                for lo, hi, master, *_ in self.conn(p).call("CLUSTER", "SLOTS"):
                    for s in range(int(lo), int(hi) + 1):
                        self.slots[s] = int(master[1])
                return
            except (OSError, Err, ConnectionError):
                self.conns.pop(p, None)
        raise SystemExit("no node answers CLUSTER SLOTS")
    def call(self, key, *args):
        slot = keyslot(key)
        asking = None
        for _ in range(200):
            port = asking or self.slots[slot]
            try:
                c = self.conn(port)
                if asking:
                    c.call("ASKING")
                return c.call(*args)
            except Err as e:
                msg = str(e)
                if msg.startswith("MOVED"):
                    self.slots[slot] = int(msg.split()[2].rsplit(":", 1)[1])
                    asking = None
                elif msg.startswith("ASK"):
                    asking = int(msg.split()[2].rsplit(":", 1)[1])
                elif msg.startswith(("TRYAGAIN", "CLUSTERDOWN", "LOADING")):
                    time.sleep(0.05)
                    asking = None
                else:
                    raise
            except (OSError, ConnectionError):
                self.conns.pop(port, None)
                time.sleep(0.1)
                self.refresh()
                asking = None
        raise SystemExit("gave up on %r" % (args,))

def tag_in(cl, lo, hi, start):
    i = start
    while True:
        t = b"t%d" % i
        if lo <= keyslot(t) <= hi:
            return t, i + 1
        i += 1

ports = [int(p) for p in sys.argv[1].split(",")]
seed = int(sys.argv[2])
cl = Cluster(ports)
r = random.Random(seed)
# one bump key per shard: a tag inside each master's first range at start
bumps, seen, nxt = [], set(), 0
for p in sorted(set(cl.slots)):
    lo = cl.slots.index(p)
    hi = lo
    while hi + 1 < 16384 and cl.slots[hi + 1] == p:
        hi += 1
    tag, nxt = tag_in(cl, lo, hi, nxt)
    bumps.append(b"bump:{%s}" % tag)
last = 0
n = 0
while True:
    now = int(time.time())
    if now != last:
        for k in bumps:
            cl.call(k, "INCR", k)
        last = now
    tag = b"g%d" % r.randrange(2000)
    k = b"k:{%s}:%d" % (tag, r.randrange(5))
    op = r.randrange(10)
    if op < 5:
        cl.call(k, "SET", k, b"v%d-%d" % (n, r.randrange(1 << 30)))
    elif op < 7:
        cl.call(k + b":c", "INCRBY", k + b":c", r.randrange(100))
    elif op < 8:
        cl.call(k + b":h", "HSET", k + b":h", b"f%d" % r.randrange(8), b"%d" % n)
    elif op < 9:
        cl.call(k + b":l", "RPUSH", k + b":l", b"%d" % n)
        cl.call(k + b":l", "LTRIM", k + b":l", "-20", "-1")
    else:
        cl.call(k, "DEL", k)
    n += 1
    if n % 20 == 0:
        time.sleep(0.01)
PY

# cluster_writer_start SEED: the writer in the background; pid in WRITER_PID
cluster_writer_start() {
    local ports
    ports=$(IFS=,; echo "${PORTS[*]}")
    python3 "$T/cluster_writer.py" "$ports" "$1" >"$T/writer.log" 2>&1 &
    WRITER_PID=$!
    PIDS_TO_KILL+=("$WRITER_PID")
}

cluster_writer_stop() {
    kill "$WRITER_PID" 2>/dev/null
    wait "$WRITER_PID" 2>/dev/null
    return 0
}

# cluster_writer_alive: the writer has not died
cluster_writer_alive() {
    kill -0 "$WRITER_PID" 2>/dev/null || fail "the cluster writer died: $(tail -3 "$T/writer.log")"
}

# load_digest DIR: start a plain redis-server on DIR (its AOF), print DEBUG DIGEST, stop it
load_digest() {
    local dir=$1 port
    port=$(free_port)
    start_redis "$dir" "$port" >/dev/null
    digest "$port"
    stop_redis "$dir"
}

# ref_digest PORT TIME: what the node on PORT held at TIME, from its own AOF
# cut by redis-check-aof (the reference; see the top of this file)
ref_digest() {
    local port=$1 t=$2 d
    d=$(mktemp -d "$T/ref.XXXXXX")
    mkdir "$d/appendonlydir"
    cp "$T/node-$port/appendonlydir/"* "$d/appendonlydir/"
    redis-check-aof --truncate-to-timestamp "$t" "$d/appendonlydir/appendonly.aof.manifest" >"$d/check.log" 2>&1 ||
        fail "redis-check-aof on a copy of node $port's AOF at $t: $(tail -2 "$d/check.log")"
    load_digest "$d"
    rm -rf "$d"
}

# dir_digest DIR: the restored directory, loaded from a copy (DIR stays as restored)
dir_digest() {
    local d
    d=$(mktemp -d "$T/restored.XXXXXX")
    cp -r "$1/appendonlydir" "$d/"
    load_digest "$d"
    rm -rf "$d"
}

# shard_json DIR K FIELD: a field of shard K (0-based) in DIR/cluster.json
shard_json() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shards"][int(sys.argv[2])][sys.argv[3]])' \
        "$1/cluster.json" "$2" "$3"
}

# slots_once DIR: cluster.json's shards cover every slot exactly once
slots_once() {
    python3 - "$1/cluster.json" <<'PY' || fail "slots in $1/cluster.json do not cover 0-16383 once"
import json, sys
seen = [0] * 16384
for sh in json.load(open(sys.argv[1]))["shards"]:
    for r in sh["slots"].split():
        lo, _, hi = r.partition("-")
        for s in range(int(lo), int(hi or lo) + 1):
            seen[s] += 1
bad = [s for s, n in enumerate(seen) if n != 1]
sys.exit(1 if bad else 0)
PY
}
