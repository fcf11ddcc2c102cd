#!/usr/bin/env python3
"""keyspecs.py - generate replay/inspect/keypos_table.h from the servers' own key specs.

`aofroll log --key` needs to know which arguments of each command are keys.
Every server since Redis 7.0 describes that itself: COMMAND returns, per
command and subcommand, its "key specs" (where the key search begins: an
index or a keyword; how keys are found from there: a range or a key count).
This script starts each server given (a redis-server or valkey-server
binary; by default the redis-server on PATH and every build that
scripts/servers.sh left in $AOFROLL_SERVERS_CACHE), asks it COMMAND, merges
the answers and prints the C table that replay/inspect/keypos.c interprets.

Usage (the table is committed; regenerate it when a server joins the
matrix):
    scripts/servers.sh
    scripts/keyspecs.py [SERVER...] > replay/inspect/keypos_table.h
    clang-format-14 -i replay/inspect/keypos_table.h

Two things the replies cannot say are added here, by name:
  - SORT's STORE destination: Redis finds it with its own code (key specs
    mark it "unknown", since the keyword may stand anywhere after the key);
    this table searches for STORE from the third argument on;
  - commands of servers not built here (EXTRA below), with the specs their
    server documents.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Commands newer than every server built here: name -> (origin, key specs
# as COMMAND would return them).
EXTRA = {
    "hsetex": ("Redis 8.0", [{"begin_search": ("index", 1), "find_keys": ("range", 0, 1, 0)}]),
    "hgetex": ("Redis 8.0", [{"begin_search": ("index", 1), "find_keys": ("range", 0, 1, 0)}]),
    "hgetdel": ("Redis 8.0", [{"begin_search": ("index", 1), "find_keys": ("range", 0, 1, 0)}]),
}

# Key specs the replies give as "unknown" that this table spells out.
OVERRIDE_UNKNOWN = {
    "sort": [{"begin_search": ("keyword", "STORE", 2), "find_keys": ("range", 0, 1, 0)}],
}


def read_reply(f):
    """One RESP2 reply from the file object f."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise RuntimeError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode("latin-1")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [read_reply(f) for _ in range(n)]
    raise RuntimeError("unexpected reply %r" % line)


def pairs(flat):
    """A RESP2 map (a flat list of key, value) as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def spec_of(raw):
    """One key spec of a COMMAND reply as (begin_search, find_keys) tuples;
    None for a spec whose argument is not a key (SPUBLISH's channel)."""
    d = pairs(raw)
    if "not_key" in [f.lower() for f in d.get("flags", [])]:
        return None
    bs, fk = pairs(d["begin_search"]), pairs(d["find_keys"])
    bspec, fspec = pairs(bs["spec"]) if bs["spec"] else {}, pairs(fk["spec"]) if fk["spec"] else {}
    if bs["type"] == "index":
        b = ("index", bspec["index"])
    elif bs["type"] == "keyword":
        b = ("keyword", bspec["keyword"], bspec["startfrom"])
    else:
        b = ("unknown",)
    if fk["type"] == "range":
        k = ("range", fspec["lastkey"], fspec["keystep"], fspec["limit"])
    elif fk["type"] == "keynum":
        k = ("keynum", fspec["keynumidx"], fspec["firstkey"], fspec["keystep"])
    else:
        k = ("unknown",)
    return {"begin_search": b, "find_keys": k}


def commands_of(entries, out, parent=None):
    """name -> list of specs, for every command and subcommand of a reply."""
    for e in entries:
        name = e[0].lower()
        specs = [s for s in (spec_of(s) for s in e[8]) if s is not None] if len(e) > 8 else []
        subs = e[9] if len(e) > 9 and e[9] else []
        out[name] = {"specs": specs, "container": bool(subs)}
        commands_of(subs, out, name)
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(server):
    """(label, commands) of one server binary."""
    tmp = tempfile.mkdtemp(prefix="keyspecs.")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                             "--appendonly", "no", "--daemonize", "no", "--logfile", tmp + "/log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("%s did not answer on port %d" % (server, port))
        with conn, conn.makefile("rb") as f:
            conn.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
            info = dict(l.split(":", 1) for l in read_reply(f).splitlines() if ":" in l)
            conn.sendall(b"*1\r\n$7\r\nCOMMAND\r\n")
            cmds = commands_of(read_reply(f), {})
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    engine = info.get("server_name", "redis")
    version = info.get(engine + "_version", info["redis_version"])
    label = "%s %s" % ("Valkey" if engine == "valkey" else "Redis", version)
    # a build of scripts/servers.sh: NAME/bin/redis-server, NAME the tarball's
    root = os.path.dirname(os.path.dirname(os.path.abspath(server)))
    if os.path.exists(os.path.join(root, "built")) and version not in os.path.basename(root):
        label += " (%s)" % os.path.basename(root)
    return label, cmds


def c_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_spec(s):
    b, k = s["begin_search"], s["find_keys"]
    if b[0] == "index":
        bs = "KP_BS_INDEX, %d, NULL" % b[1]
    elif b[0] == "keyword":
        bs = "KP_BS_KEYWORD, %d, %s" % (b[2], c_str(b[1]))
    else:
        return None
    if k[0] == "range":
        fk = "KP_FK_RANGE, %d, %d, %d" % k[1:]
    elif k[0] == "keynum":
        fk = "KP_FK_KEYNUM, %d, %d, %d" % k[1:]
    else:
        return None
    return "{%s, %s}" % (bs, fk)


def main():
    servers = sys.argv[1:]
    if not servers:
        servers = [shutil.which("redis-server") or "/usr/bin/redis-server"]
        cache = os.environ.get("AOFROLL_SERVERS_CACHE", "/var/cache/aofroll-test")
        if os.path.isdir(cache):
            servers += sorted(os.path.join(cache, d, "bin", "redis-server") for d in os.listdir(cache)
                              if os.path.exists(os.path.join(cache, d, "built")))
    merged, labels = {}, []
    for server in servers:
        label, cmds = query(server)
        labels.append(label)
        for name, c in cmds.items():
            m = merged.setdefault(name, {"specs": c["specs"], "container": c["container"], "in": []})
            m["in"].append(label)
            if m["specs"] != c["specs"]:
                print("keyspecs.py: %s: key specs of %s differ from %s's; keeping %s's" %
                      (name, label, m["in"][0], label), file=sys.stderr)
                m["specs"] = c["specs"]
            m["container"] = m["container"] or c["container"]
    for name, (origin, specs) in EXTRA.items():
        if name not in merged:
            merged[name] = {"specs": specs, "container": False, "in": [origin + " (not built here)"]}

    spec_rows, rows = [], []
    for name in sorted(merged):
        m = merged[name]
        specs = [s for s in m["specs"] if s["begin_search"][0] != "unknown"]
        if any(s["begin_search"][0] == "unknown" for s in m["specs"]):
            specs += OVERRIDE_UNKNOWN.get(name, [])
        texts = [t for t in (c_spec(s) for s in specs) if t is not None]
        # the specs of a command are a run of keypos_specs[]: reuse a run
        # that is already there
        at = next((i for i in range(len(spec_rows) - len(texts) + 1) if spec_rows[i:i + len(texts)] == texts), None)
        if at is None:
            at = len(spec_rows)
            spec_rows.extend(texts)
        note = "" if len(m["in"]) == len(labels) else " /* %s */" % ", ".join(m["in"])
        rows.append("    {%s, %d, %d, %d},%s" % (c_str(name), at if texts else 0, len(texts),
                                                  1 if m["container"] else 0, note))

    print("/* keypos_table.h - GENERATED by scripts/keyspecs.py: do not edit.")
    print(" *")
    print(" * The key specs of every command and subcommand (\"name|sub\") of:")
    for label in labels:
        print(" *   %s" % label)
    print(" * as their COMMAND replies give them, merged; a comment names the")
    print(" * servers of a command that not all of them have. Regenerate with")
    print(" *   scripts/servers.sh && scripts/keyspecs.py > replay/inspect/keypos_table.h &&")
    print(" *   clang-format-14 -i replay/inspect/keypos_table.h")
    print(" * Included by replay/inspect/keypos.c only, which interprets the specs. */")
    print()
    print("static const struct keypos_spec keypos_specs[] = {")
    for i, t in enumerate(spec_rows):
        print("    %s, /* %d */" % (t, i))
    print("};")
    print()
    print("/* name, first spec, number of specs, has subcommands; sorted by name */")
    print("static const struct keypos_command keypos_commands[] = {")
    print("\n".join(rows))
    print("};")


if __name__ == "__main__":
    main()
