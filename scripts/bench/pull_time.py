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
import socket
import subprocess
import sys
import time

import redis


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    module = sys.argv[1]
    server = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/redis-server"
    rounds = int(os.environ.get("ROUNDS", "5"))
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--loadmodule", module],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        deadline = time.time() + 30
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("pull_time.py: server did not start")
                time.sleep(0.1)
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
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
