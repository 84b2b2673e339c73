#!/usr/bin/python3
"""query_writes.py - server time of DOC.* writes at query paths that hit
many elements of one large array (README "Writes at query paths", Cost).
Not part of `make bench`: it times one command at a time, which callgrind
cannot do for the quadratic writes of the code before.

    query_writes.py SERVER MODULE [SIZE ...]      (default size 80000)

Starts SERVER with MODULE on a free port (stopped by PID on any exit). For
each SIZE and each kind of write below, DOC.SET k $ sets {"l": [...]} of
SIZE elements (integers 0..SIZE-1, or alternating integers and "s" for the
filtered DEL), then the write runs ROUNDS (3) times on a fresh copy; its
server time is read from INFO commandstats (usec of the command before and
after: no client, no network) and the best round counts. The reply must
have one slot per match and the array the expected length. SKIP_ABOVE
(seconds, default 30): a kind slower than that is not run again.
Prints one JSON object per size and kind.
"""
import json
import os
import sys

import benchserver


def usec(r, name):
    st = r.info("commandstats").get("cmdstat_" + name.lower())
    return st["usec"] if st else 0


# name, the list made of n, the command, its arguments, matches, length after
KINDS = [
    ("SET $.l[*] '\"xx\"' (every element grows)", "ints", ["DOC.SET", "$.l[*]", '"xx"'], 1, 1),
    ("SET $.l[*] '{\"a\":1}' (a new object each)", "ints", ["DOC.SET", "$.l[*]", '{"a":1}'], 1, 1),
    ("INCR $.l[*] 1000000 (every element grows)", "ints", ["DOC.INCR", "$.l[*]", "1000000"], 1, 1),
    ("INCR $.l[*] 1 (sizes mostly kept)", "ints", ["DOC.INCR", "$.l[*]", "1"], 1, 1),
    ("STRAPPEND $.l[?@==\"s\"] x (every other element)", "alt", ["DOC.STRAPPEND", "$.l[?@==\"s\"]", "x"], 0.5, 1),
    ("DEL $.l[?@==\"s\"] (every other element)", "alt", ["DOC.DEL", "$.l[?@==\"s\"]"], 0.5, 0.5),
    ("DEL $.l[*] (every element)", "ints", ["DOC.DEL", "$.l[*]"], 1, 0),
]


def main():
    binary, module = sys.argv[1:3]
    sizes = [int(s) for s in sys.argv[3:]] or [80000]
    rounds = int(os.environ.get("ROUNDS", "3"))
    skip_above = float(os.environ.get("SKIP_ABOVE", "30"))
    with benchserver.started("query_writes.py", binary, [module]) as r:
        slow = set()
        for n in sizes:
            lists = {"ints": json.dumps({"l": list(range(n))}),
                     "alt": json.dumps({"l": [i if i % 2 else "s" for i in range(n)]})}
            for name, lst, command, matched, left in KINDS:
                if name in slow:
                    print(json.dumps({"size": n, "kind": name, "skipped": True}), flush=True)
                    continue
                best = None
                for _ in range(rounds):
                    r.execute_command("DOC.SET", "k", "$", lists[lst])
                    before = usec(r, command[0])
                    reply = r.execute_command(command[0], "k", *command[1:])
                    took = usec(r, command[0]) - before
                    if len(reply) != int(n * matched) or r.execute_command("DOC.LEN", "k", "$.l") != int(n * left):
                        raise SystemExit("query_writes.py: unexpected reply or length for " + name)
                    best = took if best is None else min(best, took)
                    if took > skip_above * 1e6:
                        slow.add(name)
                        break
                print(json.dumps({"size": n, "kind": name, "usec": best}), flush=True)


if __name__ == "__main__":
    main()
