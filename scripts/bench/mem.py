#!/usr/bin/python3
"""mem.py - the redis-py side of the benchmarks (run with /usr/bin/python3).

    mem.py memory PORT JSONFILE COUNT [json]
        Bytes per document of COUNT copies stored with DOC.SET doc:i $ <json>,
        then, after FLUSHALL, of COUNT copies stored with SET str:i <json>,
        and with `json` also (after FLUSHALL) with JSON.SET json:i $ <json>
        (valkey-json's, on a server where it holds the JSON.* names; the
        result's "json_set" then).
        Each figure is (used_memory after - used_memory before) / COUNT, read
        by a separate connection after the writing connection has closed (so
        its query and reply buffers are not counted). Also MEMORY USAGE of
        one key of each. Prints one JSON object.

    mem.py load PORT NAME=JSONFILE ...
        FLUSHALL, then DOC.SET doc:NAME $ <json> and SET str:NAME <json> for
        each pair; checks that DOC.GET doc:NAME returns the same JSON value.
        Prints one JSON object: {NAME: {"json": bytes, "doc_get": reply bytes}}.
"""
import json
import sys
import time

import redis


def conn(port):
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=120)


def used_memory(m):
    return int(m.info("memory")["used_memory"])


def fill(port, cmd, prefix, text, count):
    """Stores count copies with a pipelined connection closed at the end."""
    w = conn(port)
    batch = max(1, min(1000, (2 << 20) // max(1, len(text))))   # ~2 MB per round trip
    i = 0
    while i < count:
        p = w.pipeline(transaction=False)
        for j in range(i, min(count, i + batch)):
            if cmd in ("DOC.SET", "JSON.SET"):
                p.execute_command(cmd, "%s%d" % (prefix, j), "$", text)
            else:
                p.execute_command("SET", "%s%d" % (prefix, j), text)
        for r in p.execute():
            if r not in (True, b"OK", "OK"):
                raise SystemExit("mem.py: %s answered %r" % (cmd, r))
        i += batch
    w.close()


def measure(port, cmd, prefix, text, count):
    m = conn(port)
    m.flushall()
    time.sleep(0.2)
    before = used_memory(m)
    fill(port, cmd, prefix, text, count)
    time.sleep(0.2)
    after = used_memory(m)
    if m.dbsize() != count:
        raise SystemExit("mem.py: %d keys after %s, expected %d" % (m.dbsize(), cmd, count))
    usage = int(m.execute_command("MEMORY", "USAGE", prefix + "0"))
    m.close()
    return {"before": before, "after": after, "per_doc": (after - before) / count,
            "memory_usage": usage}


def check_roundtrip(m, key, text):
    got = m.execute_command("DOC.GET", key)
    if got is None or json.loads(got) != json.loads(text):
        raise SystemExit("mem.py: DOC.GET %s does not return the stored JSON" % key)
    return len(got)


def check_json_roundtrip(m, key, text):
    got = m.execute_command("JSON.GET", key)
    if got is None or json.loads(got) != json.loads(text):
        raise SystemExit("mem.py: JSON.GET %s does not return the stored JSON" % key)


def cmd_memory(port, path, count, peer_json=False):
    text = open(path, "rb").read()
    out = {"json": len(text), "count": count}
    out["doc"] = measure(port, "DOC.SET", "doc:", text, count)
    m = conn(port)
    out["doc_get_bytes"] = check_roundtrip(m, "doc:0", text)
    m.close()
    out["str"] = measure(port, "SET", "str:", text, count)
    if peer_json:
        out["json_set"] = measure(port, "JSON.SET", "json:", text, count)
        m = conn(port)
        check_json_roundtrip(m, "json:0", text)
        m.close()
    conn(port).flushall()
    print(json.dumps(out))


def cmd_load(port, pairs):
    m = conn(port)
    m.flushall()
    out = {}
    for pair in pairs:
        name, path = pair.split("=", 1)
        text = open(path, "rb").read()
        m.execute_command("DOC.SET", "doc:" + name, "$", text)
        m.execute_command("SET", "str:" + name, text)
        out[name] = {"json": len(text), "doc_get": check_roundtrip(m, "doc:" + name, text)}
    m.close()
    print(json.dumps(out))


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "memory":
        cmd_memory(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                   sys.argv[5:6] == ["json"])
    elif len(sys.argv) >= 4 and sys.argv[1] == "load":
        cmd_load(int(sys.argv[2]), sys.argv[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
