#!/usr/bin/python3
"""incr_pull.py - the driver of bench_pull in scripts/bench/run.sh (run with
/usr/bin/python3, which has python3-redis).

    incr_pull.py gen OUTFILE
        Writes the ~10 KB document: {"cart_id":..,"owner":..,"items":[...]}
        with 150 small order lines, the last one being the element the
        benchmark pulls and pushes back (ELEMENT below). Deterministic (fixed
        seed). Prints "name bytes elements".

    incr_pull.py run PORT MODE SECONDS CONNS DEPTH DOCFILE LUAFILE
        MODE doc: each connection repeats, pipelined DEPTH pairs deep,
                      DOC.PULL key $.items ELEMENT
                      DOC.PUSH key $.items ELEMENT
                  on its own key (DOC.SET key $ <DOCFILE>).
        MODE lua: the same pairs as
                      EVALSHA <LUAFILE> 1 key pull ELEMENT
                      EVALSHA <LUAFILE> 1 key push ELEMENT
                  on its own key (SET key <DOCFILE>).
        Every PULL must answer 1 and every PUSH the full length (checked on
        every reply), so each pull removes the element and each push puts it
        back. CONNS connections, one client thread: after reading one
        connection's replies it sends that connection's next batch, so the
        server always has other connections' batches to work on. Runs for
        SECONDS (the last batches finish), then checks the documents are the
        original one (as JSON values). CONFIG RESETSTAT is sent before the
        run and INFO commandstats read after it. Prints one JSON object:
        {"mode", "ops", "pairs", "seconds", "ops_per_s", "pairs_per_s",
         "usec_per_call": {command: usec}, "calls": {command: calls}}.
"""
import json
import random
import socket
import sys
import time

import redis

SEED = 20240612
ELEMENT = {"sku": "SKU-PULL", "qty": 1, "price": 9.99, "status": "pending"}
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "returned"]
NITEMS = 150


def dump(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=True)


def cmd_gen(path):
    rng = random.Random(SEED)
    items = []
    for i in range(NITEMS - 1):
        items.append({"sku": "SKU-%04d" % rng.randrange(1000, 10000),
                      "qty": rng.randrange(1, 10),
                      "price": round(rng.uniform(1, 250), 2),
                      "status": rng.choice(STATUSES)})
    items.append(dict(ELEMENT))
    doc = {"cart_id": rng.randrange(100000, 999999), "owner": "user:%d" % rng.randrange(1, 10 ** 6),
           "items": items}
    text = dump(doc).encode()
    with open(path, "wb") as f:
        f.write(text)
    print(path.rsplit("/", 1)[-1], len(text), len(items))


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def cmd_run(port, mode, seconds, conns, depth, docfile, luafile):
    text = open(docfile, "rb").read()
    nitems = len(json.loads(text)["items"])
    elem = dump(ELEMENT).encode()
    r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=120)
    keys = ["pull:%s:%d" % (mode, i) for i in range(conns)]
    if mode == "doc":
        for k in keys:
            r.execute_command("DOC.SET", k, "$", text)
        pair = lambda k: resp("DOC.PULL", k, "$.items", elem) + resp("DOC.PUSH", k, "$.items", elem)
    elif mode == "lua":
        sha = r.script_load(open(luafile, "rb").read())
        for k in keys:
            r.set(k, text)
        pair = lambda k: (resp("EVALSHA", sha, 1, k, "pull", elem)
                          + resp("EVALSHA", sha, 1, k, "push", elem))
    else:
        raise SystemExit("incr_pull.py: mode is doc or lua")
    batches = [pair(k) * depth for k in keys]
    expected = b":1\r\n:%d\r\n" % nitems * depth
    r.config_resetstat()

    socks = []
    for _ in keys:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(120)
        socks.append(s)
    ops = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    for s, b in zip(socks, batches):
        s.sendall(b)
    live = list(range(conns))
    while live:
        still = []
        for i in live:
            s, got, need = socks[i], b"", len(expected)
            while len(got) < need:
                chunk = s.recv(65536)
                if not chunk:
                    raise SystemExit("incr_pull.py: connection closed")
                got += chunk
            if got != expected:
                raise SystemExit("incr_pull.py: unexpected replies (%s): %r" % (mode, got[:200]))
            ops += 2 * depth
            if time.perf_counter() < deadline:
                s.sendall(batches[i])
                still.append(i)
        live = still
    elapsed = time.perf_counter() - t0
    for s in socks:
        s.close()

    stats = r.info("commandstats")
    want = json.loads(text)
    for k in keys:
        got = r.execute_command("DOC.GET", k) if mode == "doc" else r.get(k)
        if json.loads(got) != want:
            raise SystemExit("incr_pull.py: %s does not hold the original document" % k)
    r.close()
    usec = {}
    calls = {}
    for name, st in stats.items():
        name = name[len("cmdstat_"):] if name.startswith("cmdstat_") else name
        if name in ("doc.pull", "doc.push", "evalsha"):
            usec[name] = float(st["usec_per_call"])
            calls[name] = int(st["calls"])
    print(json.dumps({"mode": mode, "ops": ops, "pairs": ops // 2, "seconds": round(elapsed, 3),
                      "ops_per_s": ops / elapsed, "pairs_per_s": ops / 2 / elapsed,
                      "usec_per_call": usec, "calls": calls}))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "gen":
        cmd_gen(sys.argv[2])
    elif len(sys.argv) == 9 and sys.argv[1] == "run":
        a = sys.argv
        cmd_run(int(a[2]), a[3], float(a[4]), int(a[5]), int(a[6]), a[7], a[8])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
