#!/usr/bin/env python3
"""exactness.py - the busy writer, the AOF watcher and the exactness check
of the it_exact_*.sh scenarios and of bench/exactness.sh. Standard library
only.

  write PORT RATE SEED
      Writes to the redis-server on PORT without pausing, about RATE
      commands a second in small batches every few milliseconds: SET,
      INCR, LPUSH, APPEND, SELECT, MULTI/EXEC blocks and EVAL scripts with
      two writes (Redis logs those as MULTI/EXEC too). Reconnects when
      Redis goes away (a restart), until killed.

  watch AOFDIR LINKDIR
      Hard-links every file of AOFDIR into LINKDIR as soon as it appears
      (as LINKDIR/ino-INODE; LINKDIR/names lists "INODE NAME" for every
      name a file had), because Redis unlinks the old incr and base files
      when a rewrite completes. Until killed.

  check --bin DIR --config FILE --instance NAME --links LINKDIR
        --from T0 --to T1 [--gap A B]... [--after-gap GEN]... --work DIR
      For every second T from T0 to T1: `aofroll restore --to @T`, then
      the generation T falls in is worked out from the linked files alone
      (below), and the restored incr file must equal, byte for byte,
      `redis-check-aof --truncate-to-timestamp T` run on a copy of that
      generation's incr file, and the restored base that generation's
      base. A restore may be refused only for a T inside a --gap A B
      (inclusive), and then with a message naming the gap. Prints one line
      of figures (seconds checked, exact, refused, generations, generations
      with leading commands) and exits 1 at the first mismatch.

      The generation of T, from the files: generation G (aofroll's number,
      mapped to its files by the base and incr names the index records) is
      in force from its start: the last "#TS:" in all the incr files Redis
      wrote before G's (seq order, all linked), since Redis writes "#TS:"
      only when the second changes; for the generations named by
      --after-gap (the AOF was off before them), the birth time of G's
      incr file. T uses the newest generation whose start is <= T.
"""
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time


# ---------------------------------------------------------------- writer

def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


SCRIPT = "redis.call('set', KEYS[1], ARGV[1]); redis.call('incrby', 'script:n', 1)"


def batch(r, n):
    cmds = []
    while len(cmds) < n:
        k = "k%d" % r.randrange(2000)
        x = r.random()
        if x < 0.35:
            cmds.append(enc("SET", k, "v%d" % r.randrange(10 ** 6)))
        elif x < 0.5:
            cmds.append(enc("INCR", "counter"))
        elif x < 0.65:
            cmds.append(enc("LPUSH", "list:%d" % r.randrange(50), "x" * r.randrange(1, 40)))
        elif x < 0.7:
            cmds.append(enc("APPEND", k + ":a", "ab"))
        elif x < 0.8:
            cmds.append(enc("MULTI"))
            cmds.append(enc("SET", k, "tx%d" % r.randrange(1000)))
            cmds.append(enc("INCR", "txcount"))
            cmds.append(enc("LPUSH", "txlist", "y"))
            cmds.append(enc("EXEC"))
        elif x < 0.9:
            cmds.append(enc("EVAL", SCRIPT, "1", k + ":lua", "s%d" % r.randrange(1000)))
        elif x < 0.93:
            cmds.append(enc("SELECT", str(r.randrange(3))))
        else:
            cmds.append(enc("DEL", k + ":a"))
    return cmds


def skip_reply(buf, i):
    """The offset after the reply that starts at buf[i], None if incomplete."""
    j = buf.find(b"\r\n", i)
    if j < 0:
        return None
    t, line, i = buf[i:i + 1], buf[i + 1:j], j + 2
    if t == b"$":
        n = int(line)
        if n < 0:
            return i
        return i + n + 2 if len(buf) >= i + n + 2 else None
    if t == b"*":
        for _ in range(max(int(line), 0)):
            i = skip_reply(buf, i)
            if i is None:
                return None
    return i


def replies(sock, n):
    """Read n replies; their contents do not matter (a LPUSH may meet a
    key holding a string)."""
    buf = b""
    i = 0
    while n > 0:
        k = skip_reply(buf, i) if i < len(buf) else None
        if k is not None:
            i = k
            n -= 1
            continue
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf = buf[i:] + d
        i = 0


def write(port, rate, seed):
    r = random.Random(seed)
    tick = 0.004
    per_tick = max(1.0, rate * tick)
    carry = 0.0
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            time.sleep(0.05)
            continue
        try:
            nxt = time.monotonic()
            while True:
                carry += per_tick
                n = int(carry)
                carry -= n
                if n > 0:
                    cmds = batch(r, n)
                    s.sendall(b"".join(cmds))
                    replies(s, len(cmds))
                nxt += tick
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -1:
                    nxt = time.monotonic()
        except (OSError, ConnectionError, ValueError):
            s.close()
            time.sleep(0.05)


# --------------------------------------------------------------- watcher

def watch(aofdir, links):
    os.makedirs(links, exist_ok=True)
    seen = set()
    names = open(os.path.join(links, "names"), "a", buffering=1)
    while True:
        try:
            entries = list(os.scandir(aofdir))
        except OSError:
            entries = []
        for ent in entries:
            try:
                st = ent.stat(follow_symlinks=False)
            except OSError:
                continue
            key = (st.st_ino, ent.name)
            if key in seen:
                continue
            dst = os.path.join(links, "ino-%d" % st.st_ino)
            if not os.path.exists(dst):
                try:
                    os.link(ent.path, dst)
                except OSError:
                    continue  # gone already
            seen.add(key)
            names.write("%d %s\n" % (st.st_ino, ent.name))
        time.sleep(0.003)


# ----------------------------------------------------------------- check

def sh(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def last_ts(path):
    last = None
    with open(path, "rb") as f:
        data = f.read()
    for m in re.finditer(rb"(?:^|\n)#TS:(\d+)\r\n", data):
        last = int(m.group(1))
    return last


class Links:
    def __init__(self, d):
        self.dir = d
        self.by_name = {}
        with open(os.path.join(d, "names")) as f:
            for line in f:
                ino, name = line.split(" ", 1)
                self.by_name.setdefault(name.strip(), []).append(int(ino))

    def path(self, name):
        inos = self.by_name.get(name)
        if not inos:
            raise SystemExit("check: %s was never seen by the watcher" % name)
        if len(set(inos)) != 1:
            raise SystemExit("check: %s names several files: %s" % (name, inos))
        return os.path.join(self.dir, "ino-%d" % inos[0])

    def incr_files(self):
        """Every incr file Redis wrote, by seq."""
        out = []
        for name in self.by_name:
            m = re.match(r"^.*\.(\d+)\.incr\.aof$", name)
            if m:
                out.append((int(m.group(1)), name))
        return sorted(out)


def seq_of(name):
    return int(re.match(r"^.*\.(\d+)\.(?:base|incr)\.(?:rdb|aof)$", name).group(1))


def check(a):
    links = Links(a.links)
    work = a.work
    os.makedirs(work, exist_ok=True)
    idx = sh(["sqlite3", a.index, "select g.generation, g.base_file, g.incr_file from generations g "
                                  "join instances i on i.id = g.instance_id where i.name = '%s' "
                                  "and g.base_complete = 1 order by g.generation" % a.instance])
    if idx.returncode != 0:
        raise SystemExit("check: sqlite3: %s" % idx.stderr.decode())
    gens = []
    for line in idx.stdout.decode().splitlines():
        g, base, incr = line.split("|")
        gens.append({"gen": int(g), "base": base, "incr": incr})
    if not gens:
        raise SystemExit("check: no generation with a complete base")
    all_incr = links.incr_files()
    leading = 0
    for g in gens:
        g["base_path"] = links.path(g["base"])
        g["incr_path"] = links.path(g["incr"])
        first_seq = seq_of(g["incr"])
        s = None
        for seq, name in all_incr:
            if seq < first_seq:
                t = last_ts(links.path(name))
                if t is not None:
                    s = t
        with open(g["incr_path"], "rb") as f:
            head = f.read(1)
        g["leading"] = head not in (b"", b"#")
        leading += g["leading"]
        if g["gen"] in a.after_gap or s is None:
            out = sh(["stat", "-c", "%W", g["incr_path"]])
            g["start"] = int(out.stdout.decode().strip())
            g["why"] = "birth of its incr file"
        else:
            g["start"] = s
            g["why"] = "last #TS before it"
    for g in gens:
        print("generation %d: base %s, incr %s, from %d (%s)%s" % (
            g["gen"], g["base"], g["incr"], g["start"], g["why"],
            ", begins with leading commands" if g["leading"] else ""))
    def gen_of(t):
        best = None
        for g in gens:
            if g["start"] <= t:
                best = g
        return best

    out_dir = os.path.join(work, "restored")
    counts = {"checked": 0, "exact": 0, "refused": 0}

    def restore(t):
        counts["checked"] += 1
        return sh([os.path.join(a.bin, "aofroll"), "restore", "-c", a.config, "--instance", a.instance,
                   "--to", "@%d" % t, "--out", out_dir, "--force"])

    def refused(t, r):
        msg = r.stderr.decode().strip()
        if not any(lo <= t <= hi for lo, hi in a.gaps):
            raise SystemExit("check: restore to @%d refused outside any gap: %s" % (t, msg))
        if "lies in a gap" not in msg and "after the end of the archive" not in msg:
            raise SystemExit("check: restore to @%d refused without naming the gap: %s" % (t, msg))
        counts["refused"] += 1

    for t in range(a.t_from, a.t_to + 1):
        if gen_of(t) is None:
            r = restore(t)
            if r.returncode == 0:
                raise SystemExit("check: restore to @%d succeeded before the first generation starts" % t)
            refused(t, r)
    # per generation, T descending, on one copy that redis-check-aof cuts
    # shorter each time (a cut at T of the cut at T' > T is the cut at T)
    for g in gens:
        ts = [t for t in range(a.t_to, a.t_from - 1, -1) if gen_of(t) is g]
        if not ts:
            continue
        ref = os.path.join(work, "ref-%d.aof" % g["gen"])
        shutil.copyfile(g["incr_path"], ref)
        empty = False
        for t in ts:
            if not empty:
                out = sh([a.check_aof, "--truncate-to-timestamp", str(t), ref])
                text = out.stdout.decode()
                if "has nothing before timestamp" in text:
                    empty = True
                    open(ref, "wb").close()
                elif out.returncode != 0:
                    raise SystemExit("check: redis-check-aof --truncate-to-timestamp %d on generation %d: %s"
                                     % (t, g["gen"], text.strip()[-300:]))
            r = restore(t)
            if r.returncode != 0:
                refused(t, r)
                continue
            m = re.search(r"generation (\d+) \(base", r.stdout.decode())
            got = int(m.group(1)) if m else -1
            if got != g["gen"]:
                raise SystemExit("check: @%d restored generation %d, the files say generation %d (%s)\n%s"
                                 % (t, got, g["gen"], g["why"], r.stdout.decode()))
            aofdir = os.path.join(out_dir, "appendonlydir")
            incr = os.path.join(aofdir, "appendonly.aof.1.incr.aof")
            base = os.path.join(aofdir, "appendonly.aof.1.base.rdb")
            if not os.path.exists(base):
                base = os.path.join(aofdir, "appendonly.aof.1.base.aof")
            if sh(["cmp", "-s", incr, ref]).returncode != 0:
                diff = sh(["cmp", incr, ref])
                raise SystemExit("check: @%d generation %d: the restored incr file (%d B) differs from "
                                 "redis-check-aof's cut (%d B): %s\n%s"
                                 % (t, g["gen"], os.path.getsize(incr), os.path.getsize(ref),
                                    (diff.stdout + diff.stderr).decode().strip(), r.stdout.decode()))
            if sh(["cmp", "-s", base, g["base_path"]]).returncode != 0:
                raise SystemExit("check: @%d generation %d: the restored base differs from %s"
                                 % (t, g["gen"], g["base"]))
            counts["exact"] += 1
        os.unlink(ref)
    print("seconds checked %d, exact %d, refused %d (in gaps), generations %d, with leading commands %d"
          % (counts["checked"], counts["exact"], counts["refused"], len(gens), leading))
    if leading < a.min_leading:
        raise SystemExit("check: no generation begins with leading commands: the writer was not busy "
                         "enough for this check to prove anything")


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    if cmd == "write":
        write(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "watch":
        watch(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        import argparse
        p = argparse.ArgumentParser(prog="exactness.py check")
        p.add_argument("--bin", required=True)
        p.add_argument("--config", required=True)
        p.add_argument("--index", required=True)
        p.add_argument("--instance", required=True)
        p.add_argument("--links", required=True)
        p.add_argument("--work", required=True)
        p.add_argument("--from", dest="t_from", type=int, required=True)
        p.add_argument("--to", dest="t_to", type=int, required=True)
        p.add_argument("--gap", dest="gaps", nargs=2, type=int, action="append", default=[])
        p.add_argument("--after-gap", dest="after_gap", type=int, action="append", default=[])
        p.add_argument("--check-aof", default="redis-check-aof")
        p.add_argument("--min-leading", type=int, default=1)
        check(p.parse_args(sys.argv[2:]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
