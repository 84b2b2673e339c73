#!/usr/bin/python3
"""update_all.py - server time of DOC.UPDATE writes through `$[]` over large
arrays (README, DOC.UPDATE and "Edits in large containers"). Not part of
`make bench`: it times one command at a time, which callgrind cannot do
at a million elements.

    update_all.py SERVER MODULE [SIZE ...]      (default sizes 10000 80000 1000000)

Starts SERVER with MODULE on a free port (stopped by PID on any exit). For
each SIZE: DOC.SET k $ '{"l":[]}' and `$set l.<SIZE-1>` pad the array with
SIZE nulls; then, ROUNDS (3) times, a size-changing write
`{"$set":{"l.$[]":"abc"}}` and its inverse `{"$set":{"l.$[]":null}}`, and
the same with `$[e]` and ARRAYFILTERS matching every element; and once a
size-keeping write (`5` over `null`, then back). Each command's server time
is read from INFO commandstats (usec of DOC.UPDATE before and after, so
the client and the network are not in it); the best of the rounds counts.
SKIP_ABOVE (seconds, default 30): a kind of write slower than that at one
size is not run at the larger sizes (the quadratic one before the fix).
Prints one JSON object per size and kind.
"""
import json
import os
import sys

import benchserver


def usec(r):
    st = r.info("commandstats").get("cmdstat_doc.update")
    return st["usec"] if st else 0


def timed(r, *args):
    before = usec(r)
    reply = r.execute_command(*args)
    return usec(r) - before, reply


KINDS = [
    ("all size-changing", ['{"$set":{"l.$[]":"abc"}}'], ['{"$set":{"l.$[]":null}}']),
    ("filtered size-changing", ['{"$set":{"l.$[e]":"abc"}}', "ARRAYFILTERS", '[{"e":{"$exists":true}}]'],
     ['{"$set":{"l.$[e]":null}}', "ARRAYFILTERS", '[{"e":{"$exists":true}}]']),
    ("all size-keeping", ['{"$set":{"l.$[]":5}}'], ['{"$set":{"l.$[]":null}}']),
]


def main():
    binary, module = sys.argv[1:3]
    sizes = [int(s) for s in sys.argv[3:]] or [10000, 80000, 1000000]
    rounds = int(os.environ.get("ROUNDS", "3"))
    skip_above = float(os.environ.get("SKIP_ABOVE", "30"))
    with benchserver.started("update_all.py", binary, [module]) as r:
        slow = set()
        for n in sizes:
            r.execute_command("DOC.SET", "k", "$", '{"l":[]}')
            r.execute_command("DOC.UPDATE", "k", '{"$set":{"l.%d":null}}' % (n - 1))
            for name, fwd, back in KINDS:
                if name in slow:
                    print(json.dumps({"size": n, "kind": name, "skipped": True}), flush=True)
                    continue
                best_f = best_b = None
                for _ in range(rounds if "keeping" not in name else 1):
                    tf, rf = timed(r, "DOC.UPDATE", "k", *fwd)
                    tb, rb = timed(r, "DOC.UPDATE", "k", *back)
                    if rf != 1 or rb != 1:
                        raise SystemExit("update_all.py: unexpected replies %r %r" % (rf, rb))
                    best_f = tf if best_f is None else min(best_f, tf)
                    best_b = tb if best_b is None else min(best_b, tb)
                    if max(tf, tb) > skip_above * 1e6:
                        slow.add(name)
                        break
                print(json.dumps({"size": n, "kind": name, "usec": best_f, "usec_inverse": best_b}),
                      flush=True)
            if r.execute_command("DOC.LEN", "k", "$.l") != n:
                raise SystemExit("update_all.py: the array changed length")


if __name__ == "__main__":
    main()
