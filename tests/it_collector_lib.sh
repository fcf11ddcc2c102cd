# it_collector_lib.sh - helpers shared by the collector scenarios
# (tests/it_collector_*.sh). Sourced after lib.sh; not a scenario itself.
#
# writer.py speaks RESP over a raw socket so that values can hold any byte
# (\r\n, NUL); check_chunks asserts that a generation's chunk objects join
# without gap, overlap or duplicate; archive_equals compares the gunzipped
# chunks with a file byte for byte.

COLLECTOR=$BIN/aofroll-collector

# A RESP client in python3 (no packages): modes
#   mix N SEED [DB_MAX]  N random operations: binary SET/APPEND/HSET/DEL, big
#                        values (> 64 KiB), MULTI/EXEC blocks, SELECT
#   big N SIZE SEED      N SETs of SIZE random (incompressible) bytes
#   loop SEED            mixed writes until killed
cat >"$T/writer.py" <<'PY'
import os, random, socket, sys, time

def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""
    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("connection closed")
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line
    def _exact(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise SystemExit("connection closed")
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n:]
        return data
    def reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"-":
            raise SystemExit("redis error: %r" % rest)
        if t in (b"+", b":"):
            return rest
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n + 2)[:-2]
        if t == b"*":
            n = int(rest)
            return [self.reply() for _ in range(max(n, 0))]
        raise SystemExit("bad reply %r" % line)
    def call(self, *cmds):
        self.s.sendall(b"".join(enc(*c) for c in cmds))
        return [self.reply() for _ in cmds]

def binval(r, n):
    pool = [b"\r\n", b"\x00", b"\r", b"\n", b"*3\r\n$3\r\nSET\r\n", b"#TS:1\r\n", b"\xff\xfe"]
    out = bytearray()
    while len(out) < n:
        if r.random() < 0.2:
            out += r.choice(pool)
        else:
            out += bytes([r.randrange(256)])
    return bytes(out[:n])

def mix(c, r, n, dbs):
    for i in range(n):
        k = "k%d" % r.randrange(500)
        x = r.random()
        if x < 0.45:
            c.call(("SET", k, binval(r, r.randrange(1, 300))))
        elif x < 0.55:
            c.call(("APPEND", k + ":a", binval(r, r.randrange(1, 50))))
        elif x < 0.65:
            c.call(("HSET", k + ":h", binval(r, 5), binval(r, 20)))
        elif x < 0.7:
            c.call(("DEL", k))
        elif x < 0.8:
            c.call(("MULTI",), ("SET", k, binval(r, 40)), ("INCR", "counter"),
                   ("RPUSH", k + ":l", binval(r, 30)), ("EXEC",))
        elif x < 0.9:
            c.call(("SELECT", str(r.randrange(dbs))))
        elif x < 0.902:
            c.call(("SET", k + ":big", binval(r, r.randrange(70000, 200000))))
        else:
            c.call(("INCRBY", "counter", str(r.randrange(100))))

mode, port = sys.argv[1], int(sys.argv[2])
c = Conn(port)
if mode == "mix":
    n, seed = int(sys.argv[3]), int(sys.argv[4])
    dbs = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    r = random.Random(seed)
    mix(c, r, n, dbs)
    for i in range(3):  # always some values larger than a chunk
        c.call(("SET", "big%d" % i, binval(r, 150000 + i)))
elif mode == "big":
    n, size, seed = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    r = random.Random(seed)
    for i in range(n):
        c.call(("SET", "blob%d" % i, r.randbytes(size)))
elif mode == "loop":
    r = random.Random(int(sys.argv[3]))
    while True:
        mix(c, r, 20, 3)
        time.sleep(0.005)
PY

writer() {
    python3 "$T/writer.py" "$@" || fail "writer $* failed"
}

# collector_config FILE ARCHIVE INDEX INSTANCE-LINES... : write_config plus
# chunk_size 64KiB (the scenarios' values exceed it)
collector_config() {
    local file=$1
    write_config "$@"
    sed -i 's/^  chunk_pause: 0ms$/  chunk_pause: 0ms\n  chunk_size: 64KiB/' "$file"
}

# incr_files DIR: the incr files of DIR/appendonlydir in manifest order
incr_files() {
    awk '$6 == "i" || $6 == "h" {print $2}' "$1/appendonlydir/appendonly.aof.manifest"
}

# check_chunks DIR KIND: the objects in DIR (gen-N/base or gen-N/incr) start
# at 0 and join exactly; prints the total length
check_chunks() {
    local dir=$1 prev=0 name start end
    for name in $(ls "$dir" | sort); do
        [[ $name =~ ^([0-9]{20})-([0-9]{20})[._] ]] || fail "unexpected object name $dir/$name"
        start=$((10#${BASH_REMATCH[1]}))
        end=$((10#${BASH_REMATCH[2]}))
        [ "$start" = "$prev" ] || fail "chunks in $dir do not join: $name starts at $start, expected $prev"
        [ "$end" -gt "$start" ] || fail "empty chunk $dir/$name"
        prev=$end
    done
    echo "$prev"
}

# archive_equals DIR FILE...: the gunzipped chunks of DIR equal the files' concatenation
archive_equals() {
    local dir=$1
    shift
    check_chunks "$dir" >/dev/null
    cmp <(cat "$dir"/*.gz | gunzip) <(cat "$@") >/dev/null ||
        fail "archive $dir differs from $*: $(cmp <(cat "$dir"/*.gz | gunzip) <(cat "$@") 2>&1 | head -1)"
}

# archived_size DIR: total length of the chunks in DIR (0 when none)
archived_size() {
    if [ -d "$1" ] && [ -n "$(ls "$1")" ]; then
        check_chunks "$1"
    else
        echo 0
    fi
}

# wait_archived DIR FILE TIMEOUT: until DIR's chunks cover FILE's size
wait_archived() {
    local dir=$1 file=$2 limit=$3
    local deadline=$((SECONDS + limit))
    while [ "$(archived_size "$dir")" != "$(stat -c %s "$file")" ]; do
        [ $SECONDS -lt "$deadline" ] || fail "$dir did not reach $(stat -c %s "$file") B of $file in ${limit}s (has $(archived_size "$dir"))"
        sleep 0.1
    done
}

# start_collector LOG ARGS...: run the collector in the background; its pid in $CPID
start_collector() {
    local log=$1
    shift
    "$COLLECTOR" "$@" >>"$log" 2>&1 &
    CPID=$!
    PIDS_TO_KILL+=("$CPID")
}

# stop_collector: SIGTERM $CPID, expect exit 0 within 5 s
stop_collector() {
    kill -TERM "$CPID"
    local i
    for i in $(seq 1 100); do
        kill -0 "$CPID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$CPID" 2>/dev/null && fail "collector $CPID did not stop within 5 s of SIGTERM"
    wait "$CPID"
    local rc=$?
    [ "$rc" = 0 ] || fail "collector exited $rc after SIGTERM"
}

# no_temp_files ARCHIVE: nothing half-written is left in the archive
no_temp_files() {
    local left
    left=$(find "$1" -type f \( -path '*/.tmp/*' -o ! -name '*.gz' \) ! -name 'index.db' | head -5)
    [ -z "$left" ] || fail "stray files in the archive: $left"
}

# index_count INDEX SQL: a number from the index
index_query() {
    sqlite3 "$1" "$2"
}
