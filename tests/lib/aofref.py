# aofref.py - an independent reference for what an archive holds, used by
# the inspection scenarios through aofref() of tests/lib/json.sh: it
# gunzips a generation's incr objects straight from the storage directory
# (no aofroll code involved), parses the AOF with its own small RESP
# reader, and answers questions about the commands (offset, arguments, db,
# #TS second).
#   aofref.py QUESTION STORE INSTANCE GEN [ARGS...]
import glob, gzip, json, os, sys

def stream(store, instance, gen):
    """The incr stream of one generation, joined from its objects."""
    names = sorted(glob.glob(os.path.join(store, instance, "gen-%06d" % gen, "incr", "*.aof.gz")))
    return b"".join(gzip.open(n).read() for n in names)

def commands(data):
    """Every command: dict(offset, end, args=[bytes], db, ts, txn)."""
    out, i, db, ts, txn = [], 0, 0, None, False
    while i < len(data):
        if data[i:i + 4] == b"#TS:":
            j = data.index(b"\r\n", i)
            ts = int(data[i + 4:j])
            i = j + 2
            continue
        assert data[i:i + 1] == b"*", "not a command at %d" % i
        start = i
        j = data.index(b"\r\n", i)
        argc = int(data[i + 1:j])
        i = j + 2
        args = []
        for _ in range(argc):
            j = data.index(b"\r\n", i)
            n = int(data[i + 1:j])
            args.append(data[j + 2:j + 2 + n])
            i = j + 2 + n + 2
        name = args[0].lower()
        if name == b"select":
            db = int(args[1])
        in_txn = txn or name == b"multi"
        if name == b"multi":
            txn = True
        elif name in (b"exec", b"discard"):
            txn = False
        out.append(dict(offset=start, end=i, args=args, db=db, ts=ts, txn=in_txn))
    return out

def latin1(s):
    return s.encode("latin-1")

def main():
    what, store, instance, gen = sys.argv[1:5]
    cmds = commands(stream(store, instance, int(gen)))
    if what == "count":                 # commands other than SELECT/MULTI/EXEC/DISCARD
        skip = (b"select", b"multi", b"exec", b"discard")
        print(sum(1 for c in cmds if c["args"][0].lower() not in skip))
    elif what == "bytes":               # bytes of all commands (not #TS lines)
        print(sum(c["end"] - c["offset"] for c in cmds))
    elif what == "at":                  # commands written in second argv[5]
        print(sum(1 for c in cmds if c["ts"] == int(sys.argv[5])))
    elif what == "size":
        print(len(stream(store, instance, int(gen))))
    elif what == "check-json":          # JSON commands (files argv[5:]) against the reference
        byoff = {c["offset"]: c for c in cmds}
        seen = set()
        for f in sys.argv[5:]:
            doc = json.load(open(f))
            for j in doc["commands"]:
                ref = byoff.get(j["offset"])
                if ref is None:
                    sys.exit("%s: no command starts at %d" % (f, j["offset"]))
                got = [latin1(j["command"])] + [latin1(a) for a in j["args"]]
                if got != ref["args"] or j["length"] != ref["end"] - ref["offset"]:
                    sys.exit("%s: command at %d differs: %r vs %r" % (f, j["offset"], got[:3], ref["args"][:3]))
                if j["db"] is not None and j["db"] != ref["db"]:
                    sys.exit("%s: db of %d is %s, not %d" % (f, j["offset"], j["db"], ref["db"]))
                if j["ts"] is not None and j["ts"] != ref["ts"]:
                    sys.exit("%s: ts of %d is %s, not %s" % (f, j["offset"], j["ts"], ref["ts"]))
                if j["in_transaction"] != ref["txn"]:
                    sys.exit("%s: transaction flag of %d" % (f, j["offset"]))
                seen.add(j["offset"])
        missing = [c["offset"] for c in cmds if c["offset"] not in seen]
        if missing:
            sys.exit("%d commands never shown, the first at %d" % (len(missing), missing[0]))
        print(len(seen))
    else:
        sys.exit("unknown question " + what)

main()
