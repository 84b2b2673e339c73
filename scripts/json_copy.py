#!/usr/bin/python3
"""json_copy.py - copy JSON documents from a RedisJSON server (or any server that
answers JSON.GET) to an atomicdoc server, online, keeping each key's TTL.

    /usr/bin/python3 scripts/json_copy.py SRC_HOST:PORT DST_HOST:PORT [--match 'user:*']
                                          [--replace] [--batch 500]

Walks the source with SCAN (no blocking KEYS), takes every key whose TYPE is
RedisJSON's `ReJSON-RL` or atomicdoc's `atomicdoc`, reads it with JSON.GET (the
whole document) and PTTL in one pipeline, and writes it to the destination with
JSON.SET key $ doc NX (XX... with --replace: plain JSON.SET) and PEXPIRE when it
has a TTL. A key changed on the source while the copy runs is copied as it was
when read; run it again with --replace (or after the writers moved) to pick up
later changes. Keys that expired between SCAN and JSON.GET are skipped. Prints
one summary line: copied, skipped (already there), gone (expired or not JSON).
Exit status 0 on success, 1 on an error (the message names the key).
Needs redis-py (Debian's python3-redis).
"""
import argparse
import sys

import redis

JSON_TYPES = {"ReJSON-RL", "atomicdoc"}


def connect(addr):
    host, _, port = addr.rpartition(":")
    return redis.Redis(host=host or "127.0.0.1", port=int(port), decode_responses=True)


def copy(src, dst, match="*", replace=False, batch=500):
    copied = skipped = gone = 0
    cursor = 0
    while True:
        cursor, keys = src.scan(cursor=cursor, match=match, count=batch)
        if keys:
            p = src.pipeline(transaction=False)
            for k in keys:
                p.type(k)
            types = p.execute()
            keys = [k for k, t in zip(keys, types) if t in JSON_TYPES]
            gone += len(types) - len(keys)
        if keys:
            p = src.pipeline(transaction=False)
            for k in keys:
                p.execute_command("JSON.GET", k)
                p.pttl(k)
            got = p.execute(raise_on_error=False)
            w = dst.pipeline(transaction=True)
            pending = []
            for i, k in enumerate(keys):
                doc, ttl = got[2 * i], got[2 * i + 1]
                if doc is None or isinstance(doc, Exception) or ttl == -2:
                    gone += 1
                    continue
                args = ["JSON.SET", k, "$", doc] + ([] if replace else ["NX"])
                w.execute_command(*args)
                if ttl > 0:
                    w.pexpire(k, ttl)
                elif replace:
                    w.persist(k)
                pending.append((k, ttl))
            results = w.execute(raise_on_error=False)
            at = 0
            for k, ttl in pending:
                r = results[at]
                at += 2 if ttl > 0 or replace else 1
                if isinstance(r, Exception):
                    raise RuntimeError(f"key {k!r}: {r}")
                if r is None:
                    skipped += 1
                else:
                    copied += 1
        if cursor == 0:
            return copied, skipped, gone


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("destination")
    ap.add_argument("--match", default="*")
    ap.add_argument("--replace", action="store_true", help="overwrite keys that exist on the destination")
    ap.add_argument("--batch", type=int, default=500)
    a = ap.parse_args()
    try:
        copied, skipped, gone = copy(connect(a.source), connect(a.destination), a.match, a.replace, a.batch)
    except (redis.RedisError, RuntimeError) as e:
        print(f"json_copy: {e}", file=sys.stderr)
        return 1
    print(f"json_copy: copied {copied}, skipped {skipped} (already there), gone {gone} (expired or not JSON)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
