#!/usr/bin/python3
"""pull_time.py - server time of DOC.PULL / DOC.PUSH AT in the middle of a
100,000-string array (README "Large arrays"; not part of `make bench`).

    pull_time.py MODULE [SERVER]      (SERVER: /usr/bin/redis-server)

Starts SERVER with MODULE on a free port (stopped on any exit), stores
["u0", ..., "u99999"], builds its value hash (DOC.INDEXOF), then ROUNDS (5)
times: CONFIG RESETSTAT, 300 pairs of DOC.PULL vis $ "u50000" (must reply 1)
and DOC.PUSH vis $ AT 50000 "u50000", and reads usec_per_call of both from
INFO commandstats. Prints the best round of each as JSON.
"""
import json
import os
import sys

import benchserver


def main():
    module = sys.argv[1]
    server = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/redis-server"
    rounds = int(os.environ.get("ROUNDS", "5"))
    with benchserver.started("pull_time.py", server, [module]) as r:
        r.execute_command("DOC.SET", "vis", "$", "[" + ",".join('"u%d"' % i for i in range(100000)) + "]")
        r.execute_command("DOC.INDEXOF", "vis", "$", '"u1"')
        best = {}
        for _ in range(rounds):
            r.config_resetstat()
            for _ in range(300):
                if r.execute_command("DOC.PULL", "vis", "$", '"u50000"') != 1:
                    raise SystemExit("pull_time.py: PULL did not remove the member")
                r.execute_command("DOC.PUSH", "vis", "$", "AT", "50000", '"u50000"')
            st = r.info("commandstats")
            for name in ("doc.pull", "doc.push"):
                us = st["cmdstat_" + name]["usec_per_call"]
                best[name] = min(best.get(name, us), us)
        print(json.dumps({"usec_per_call": best, "load": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
