#!/usr/bin/python3
"""gen_docs.py OUTDIR - writes the benchmark documents, deterministically.

    OUTDIR/doc_1k.json    a user with ~12 small orders          (~1 KB)
    OUTDIR/doc_100k.json  the same shape with ~1,200 orders plus
                          nested addresses and tags             (~100 KB)

Both are compact JSON (no spaces), the form a client usually sends. The
random generator has a fixed seed, so every run writes the same bytes.
Prints one line per file: "name bytes".
"""
import json
import os
import random
import sys

SEED = 20240611
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled", "returned"]
FIRST = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]
LAST = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen"]
CITIES = ["Lyon", "Porto", "Leeds", "Ghent", "Turin", "Graz", "Aarhus", "Krakow"]
STREETS = ["Main St", "Station Rd", "Mill Lane", "High St", "Park Ave", "Church Rd"]
TAGS = ["vip", "newsletter", "b2b", "returning", "mobile", "gift", "eu", "priority",
        "wholesale", "beta", "referral", "student"]


def order(rng, oid):
    return {
        "id": oid,
        "sku": "SKU-%04d" % rng.randrange(1000, 10000),
        "qty": rng.randrange(1, 10),
        "price": round(rng.uniform(1, 250), 2),
        "status": rng.choice(STATUSES),
    }


def address(rng):
    return {
        "street": "%d %s" % (rng.randrange(1, 300), rng.choice(STREETS)),
        "city": rng.choice(CITIES),
        "zip": "%05d" % rng.randrange(0, 100000),
        "geo": {"lat": round(rng.uniform(-60, 60), 6), "lon": round(rng.uniform(-120, 120), 6)},
    }


def user(rng, norders, big):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    d = {
        "user_id": rng.randrange(100000, 999999),
        "name": "%s %s" % (first, last),
        "email": "%s.%s@example.com" % (first.lower(), last.lower()),
        "created": 1700000000 + rng.randrange(0, 30000000),
        "active": True,
    }
    if big:
        d["address"] = {"billing": address(rng), "shipping": [address(rng) for _ in range(3)]}
        d["tags"] = rng.sample(TAGS, 8)
    orders = []
    for i in range(norders):
        o = order(rng, 1001 + i)
        if big and i % 20 == 0:       # a few orders carry nested extras
            o["ship_to"] = address(rng)
            o["tags"] = rng.sample(TAGS, 3)
        orders.append(o)
    d["orders"] = orders
    return d


def dump(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, norders, big in (("doc_1k.json", 12, False), ("doc_100k.json", 1275, True)):
        text = dump(user(random.Random(SEED), norders, big))
        with open(os.path.join(out, name), "wb") as f:
            f.write(text)
        print(name, len(text))


if __name__ == "__main__":
    main()
