# writer.py - a RESP client (python3, no packages) that writes what the
# collector scenarios archive; values can hold any byte (\r\n, NUL).
# Used through writer() of tests/lib/collector.sh, or run directly:
#   writer.py mix PORT N SEED [DB_MAX]  N random operations: binary
#                 SET/APPEND/HSET/DEL, big values (> 64 KiB), MULTI/EXEC
#                 blocks, SELECT
#   writer.py big PORT N SIZE SEED      N SETs of SIZE random bytes
#   writer.py loop PORT SEED            mixed writes until killed
import os, random, socket, sys, time

# the RESP encoder of tests/exactness.py
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from exactness import enc

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
