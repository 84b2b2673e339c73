#!/usr/bin/python3
"""calls_table.py OUTDIR REDIS.jsonl [VALKEY.jsonl] - issue 14's table from calls.py.

Reads the lines calls.py printed for Debian's redis-server with atomicdoc
(REDIS.jsonl) and, when given, for a valkey 8 with atomicdoc and valkey-json
both loaded (VALKEY.jsonl). Prints one row per line for run.sh's `row`:
    measurement|atomicdoc|peer|ratio|target|command
Every ratio is between two figures of the same run on the same server:
atomicdoc against the string/hash/Lua peer on redis, and against valkey-json's
JSON.* on valkey when that file is there. Also writes OUTDIR/cost_per_byte.dat
(document bytes, then DOC.SET, SET, DOC.GET uncached, GET, JSON.SET, JSON.GET
instructions per byte) for the plot: all six from the valkey run when there is
one (one server, one run), else the first four from the redis run and "NaN".
"""
import json
import os
import sys

# (row label, atomicdoc case, peer case, target (ratio limit, "le"/"ge") or None)
ROWS = [
    ("DOC.SET 10 KB vs SET", "docset_10k", "set_10k", None),
    ("DOC.SET 100 KB vs SET", "docset_100k", "set_100k", None),
    ("DOC.SET 10 KB replacing a different document vs SET", "docset_10k_replace", "set_10k", None),
    ("DOC.SET 100 KB replacing a different document vs SET", "docset_100k_replace", "set_100k", None),
    ("DOC.GET 10 KB, read cache off, vs GET", "docget_10k_nocache", "get_10k", None),
    ("DOC.GET 100 KB, read cache off, vs GET", "docget_100k_nocache", "get_100k", None),
    ("DOC.GET 10 KB, read cache on, vs GET", "docget_10k_cached", "get_10k", (1.2, "le")),
    ("DOC.GET 100 KB, read cache on, vs GET", "docget_100k_cached", "get_100k", (1.2, "le")),
    ("DOC.INCR 1 KB `$.orders[5].qty` vs HINCRBY", "docincr", "hincrby", (3300 / 2700, "le")),
    ("DOC.GET 1 KB `$.orders[5].sku` vs HGET", "docfield", "hget", None),
    ("DOC.TXN transfer (CHECK + 2 INCR) vs Lua EVAL over two hashes", "doctxn", "luatxn", None),
    ("DOC.INCR element 50,000 of 100,000 numbers vs HINCRBY", "arrincr_100k", "hincrby", None),
    ("DOC.INCR member 5,000 of 10,000 vs HINCRBY", "objincr_10k", "hincrby", None),
    ("DOC.PUSH AT 50,000 / DOC.POP 50,000 of 100,000 numbers vs HINCRBY", "arrinsert_100k", "hincrby", None),
    ("DOC.ADDTOSET existing, 100,000 strings, vs SADD", "addtoset_100k", "sadd", None),
    ("DOC.INDEXOF, 100,000 strings, vs SADD", "indexof_100k", "sadd", None),
    ("DOC.PULL / DOC.PUSH AT middle, 100,000 strings, vs SADD", "pullpush_100k", "sadd", None),
    ("DOC.ADDTOSET existing, 100,000 strings, half of them equal, vs SADD", "addtoset_dups_100k", "sadd", None),
    ("DOC.INDEXOF of the value 50,000 of 100,000 strings hold, vs SADD", "indexof_dups_100k", "sadd", None),
    ("DOC.ADDTOSET existing, 10 strings, vs SADD", "addtoset_10", "sadd", None),
]
# atomicdoc case -> valkey-json case
JSON_PEER = {
    "docset_10k": "jsonset_10k", "docset_100k": "jsonset_100k",
    "docget_10k_nocache": "jsonget_10k", "docget_100k_nocache": "jsonget_100k",
    "docincr": "jsonincr", "docfield": "jsonfield", "arrincr_100k": "jsonarrincr_100k",
}
# absolute targets from issue 14 (instructions per byte or per call)
ABS = {
    "docset_10k": ("per byte", 12, "10k"), "docset_100k": ("per byte", 12, "100k"),
    "docset_10k_replace": ("per byte", 12, "10k"), "docset_100k_replace": ("per byte", 12, "100k"),
    "docget_10k_nocache": ("per byte", 4, "10k"), "docget_100k_nocache": ("per byte", 4, "100k"),
    "docincr": ("per call", 3300, None), "doctxn": ("per call", 10000, None),
}


def doc_bytes(out, label):
    return os.path.getsize(os.path.join(out, "doc_%s.json" % label))


def load(path):
    out = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                d = json.loads(line)
                out[d["case"]] = d["instr"]
    return out


def fmt(x):
    return "-" if x is None else "{:,}".format(int(x))


def verdict(v, lim, op):
    ok = v <= lim if op == "le" else v >= lim
    return "met" if ok else "MISSED"


def main():
    out, red = sys.argv[1], load(sys.argv[2])
    val = load(sys.argv[3] if len(sys.argv) > 3 else None)
    cmd = "`calls.py SERVER atomicdoc.so build/bench CASE` (callgrind, instructions inside call() per command)"
    for label, a, p, target in ROWS:
        av, pv = red.get(a), red.get(p)
        if av is None:
            continue
        r = av / pv if pv else None
        t = ""
        if target:
            t = "<= %.2fx: %s" % (target[0], verdict(r, *target))
        if a in ABS:
            kind, lim, size = ABS[a]
            size = size and doc_bytes(out, size)
            per = av / size if size else av
            t = (t + "; " if t else "") + "%s %s (<= %s): %s" % (
                "%.1f" % per if size else fmt(per), kind, lim, verdict(per, lim, "le"))
        print("|".join(["instructions: " + label, fmt(av), fmt(pv),
                        "%.2fx" % r if r else "n/a", t, cmd.replace("CASE", a + " " + p)]))
        j = JSON_PEER.get(a)
        if j and val.get(a) is not None and val.get(j) is not None:
            rv = val[a] / val[j]
            print("|".join(["instructions on valkey 8: %s vs valkey-json" % label.split(" vs ")[0].rstrip(", "),
                            fmt(val[a]), fmt(val[j]), "%.2fx" % rv,
                            "<= 0.20x: %s" % verdict(rv, 0.2, "le") if a.startswith(("docset", "docget")) else "",
                            "`calls.py valkey-server atomicdoc.so build/bench %s %s` with valkey-json loaded" % (a, j)]))
    with open(os.path.join(out, "cost_per_byte.dat"), "w") as f:
        f.write("# bytes doc_set set doc_get_uncached get json_set json_get (instructions per byte)\n")
        for label in ("1k", "10k", "100k"):
            size = doc_bytes(out, label)
            src = val if val else red
            vals = [src.get("docset_" + label), src.get("set_" + label),
                    src.get("docget_%s_nocache" % label), src.get("get_" + label),
                    val.get("jsonset_" + label), val.get("jsonget_" + label)]
            f.write("%d %s\n" % (size, " ".join("NaN" if v is None else "%.3f" % (v / size) for v in vals)))


if __name__ == "__main__":
    main()
