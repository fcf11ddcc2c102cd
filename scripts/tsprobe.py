#!/usr/bin/env python3
"""tsprobe.py - does a server keep the #TS rule around AOF rewrites?

The rule restore relies on: the commands before a new incr file's first
"#TS:" line belong to the second the rewrite began, which is the second of
the previous incr file's last "#TS:". This starts SERVER (a redis-server or
valkey-server binary) in a temp dir with aof-timestamp-enabled and
aof-disable-auto-gc (old incr files kept), runs a writer that never pauses
(EVALs that SET a key to the server's own TIME), and issues BGREWRITEAOF
ROUNDS times at offsets spread over a second. For each new incr file it
prints the commands before its first #TS, the seconds their TIME values
fall in, the previous file's last #TS and the second the rewrite started
(the server log's "rewriting started" line), and whether they agree.

Usage: scripts/tsprobe.py SERVER [ROUNDS]      (docs/servers.md has results)
"""
import os, re, shutil, socket, subprocess, sys, tempfile, threading, time

server = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 8
d = tempfile.mkdtemp(prefix="tsprobe.")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
p = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
                      "--appendonly", "yes", "--aof-timestamp-enabled", "yes", "--aof-disable-auto-gc", "yes",
                      "--auto-aof-rewrite-percentage", "0", "--logfile", d + "/log", "--daemonize", "no"])
def conn():
    for _ in range(100):
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError:
            time.sleep(0.05)
    raise SystemExit("no server")
def resp(*a):
    out = b"*%d\r\n" % len(a)
    for x in a:
        x = x.encode() if isinstance(x, str) else x
        out += b"$%d\r\n%s\r\n" % (len(x), x)
    return out
stop = False
def writer():
    c = conn(); f = c.makefile("rb")
    cmd = resp("EVAL", "local t = redis.call('TIME') redis.call('SET', KEYS[1], t[1] .. '.' .. t[2]) return 1", "1", "t")
    while not stop:
        c.sendall(cmd * 20)
        for _ in range(20):
            f.readline()
threading.Thread(target=writer, daemon=True).start()
c = conn(); f = c.makefile("rb")
offsets = [0.05 + 0.9 * i / max(rounds - 1, 1) for i in range(rounds)]
for off in offsets:
    now = time.time()
    time.sleep(int(now) + 1 + off - now)
    c.sendall(resp("BGREWRITEAOF")); f.readline()
    while True:
        c.sendall(resp("INFO", "persistence")); n = int(f.readline()[1:]); info = f.read(n + 2).decode()
        if "aof_rewrite_in_progress:0" in info and "aof_rewrite_scheduled:0" in info:
            break
        time.sleep(0.05)
    time.sleep(0.3)
stop = True
time.sleep(0.3)
c.sendall(resp("SHUTDOWN", "NOSAVE"))
p.wait()
ad = d + "/appendonlydir"
incrs = sorted((int(m.group(1)), fn) for fn in os.listdir(ad) for m in [re.match(r"appendonly\.aof\.(\d+)\.incr\.aof$", fn)] if m)
starts = [l for l in open(d + "/log") if "rewriting started by pid" in l]
def scan(path):
    data = open(path, "rb").read()
    i, out = 0, []
    while i < len(data):
        if data.startswith(b"#TS:", i):
            j = data.index(b"\r\n", i); out.append(("ts", int(data[i + 4:j]))); i = j + 2; continue
        j = data.index(b"\r\n", i); n = int(data[i + 1:j]); i = j + 2; args = []
        for _ in range(n):
            j = data.index(b"\r\n", i); l = int(data[i + 1:j]); i = j + 2; args.append(data[i:i + l]); i += l + 2
        out.append(("cmd", args))
    return out
ok = bad = 0
prev_last_ts = None
for k, (seq, fn) in enumerate(incrs):
    items = scan(os.path.join(ad, fn))
    pre = []
    for it in items:
        if it[0] == "ts":
            break
        if it[1][0].upper() == b"SET":
            pre.append(float(it[1][2]))
    if k > 0:
        w = starts[k - 1].split()
        log_t = int(time.mktime(time.strptime(" ".join(w[1:4]) + " " + w[4].split(".")[0], "%d %b %Y %H:%M:%S")))
        secs = sorted(set(int(x) for x in pre))
        first_ts = next((it[1] for it in items if it[0] == "ts"), None)
        late = [x - int(x) for x in pre if int(x) == prev_last_ts + 1]
        status = "ok" if all(s == prev_last_ts == log_t for s in secs) else "DIFFERS"
        if late and all(s in (prev_last_ts, prev_last_ts + 1) for s in secs) and prev_last_ts == log_t:
            status = "ok (cached clock: %d commands whose TIME is up to %.4f s into the next second)" % (len(late), max(late))
        ok += status.startswith("ok"); bad += not status.startswith("ok")
        print("incr %d: %d commands before its first #TS (%s), server TIME seconds %s; previous incr's last #TS %s; rewrite started %s: %s"
              % (seq, len(pre), first_ts, secs, prev_last_ts, log_t, status))
    tss = [it[1] for it in items if it[0] == "ts"]
    prev_last_ts = tss[-1] if tss else prev_last_ts
print("%s: %d rewrites, rule held %d, differed %d" % (server, ok + bad, ok, bad))
shutil.rmtree(d, ignore_errors=True)
sys.exit(1 if bad else 0)
