#!/usr/bin/python3
"""txn_contention.py - one transfer, many processes, one hot pair of keys.

    txn_contention.py PORT MODE PROCS SECONDS

MODE is
  txn    DOC.TXN 2 {t}:a {t}:b CHECK 1 $.balance GE 1 INCR 1 $.balance -1
         INCR 2 $.balance 1 - one command, never retried
  watch  the same transfer on two hashes as a WATCH/MULTI optimistic loop:
         WATCH ha hb, HGET ha balance, MULTI, HINCRBY ha -1, HINCRBY hb 1, EXEC;
         a nil EXEC (another client wrote a watched key) is retried

The keys are set to a balance of 10^12 first, so no transfer ever lacks money.
PROCS processes start together (a shared start time) and each runs for SECONDS;
then the totals are checked (the pair still sums to 2 * 10^12) and one JSON line
is printed: {"mode", "procs", "seconds", "commits", "retries", "aborts",
"commits_per_s", "retries_per_commit"}.

Needs /usr/bin/python3 with python3-redis (Debian's package).
"""
import json
import multiprocessing
import sys
import time

import redis

START_BALANCE = 10**12
DOC_A, DOC_B = "bench:{t}:a", "bench:{t}:b"
HASH_A, HASH_B = "bench:{t}:ha", "bench:{t}:hb"


def setup(r, mode):
    if mode == "txn":
        r.delete(DOC_A, DOC_B)
        r.execute_command("DOC.SET", DOC_A, "$", '{"balance":%d}' % START_BALANCE)
        r.execute_command("DOC.SET", DOC_B, "$", '{"balance":%d}' % START_BALANCE)
    else:
        r.delete(HASH_A, HASH_B)
        r.hset(HASH_A, "balance", START_BALANCE)
        r.hset(HASH_B, "balance", START_BALANCE)


def total(r, mode):
    if mode == "txn":
        a, b = r.execute_command("DOC.MGET", DOC_A, DOC_B, "$.balance")
    else:
        a, b = r.hget(HASH_A, "balance"), r.hget(HASH_B, "balance")
    return int(a) + int(b)


def run_txn(r, until):
    commits = aborts = 0
    args = ("DOC.TXN", 2, DOC_A, DOC_B, "CHECK", 1, "$.balance", "GE", 1,
            "INCR", 1, "$.balance", -1, "INCR", 2, "$.balance", 1)
    while time.time() < until:
        try:
            r.execute_command(*args)
            commits += 1
        except redis.ResponseError as e:
            if not str(e).startswith("ABORTED"):
                raise
            aborts += 1
    return commits, 0, aborts


def run_watch(r, until):
    commits = retries = aborts = 0
    with r.pipeline() as p:
        while time.time() < until:
            try:
                p.watch(HASH_A, HASH_B)
                if int(p.hget(HASH_A, "balance")) < 1:
                    p.unwatch()
                    aborts += 1
                    continue
                p.multi()
                p.hincrby(HASH_A, "balance", -1)
                p.hincrby(HASH_B, "balance", 1)
                p.execute()
                commits += 1
            except redis.WatchError:
                retries += 1
            finally:
                p.reset()
    return commits, retries, aborts


def worker(port, mode, start_at, seconds, out):
    r = redis.Redis(host="127.0.0.1", port=port)
    r.ping()
    time.sleep(max(0.0, start_at - time.time()))
    fn = run_txn if mode == "txn" else run_watch
    out.put(fn(r, start_at + seconds))


def main():
    if len(sys.argv) != 5 or sys.argv[2] not in ("txn", "watch"):
        sys.exit(__doc__)
    port, mode, procs, seconds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    r = redis.Redis(host="127.0.0.1", port=port)
    setup(r, mode)
    out = multiprocessing.Queue()
    start_at = time.time() + 1.0  # time for every process to connect first
    ps = [multiprocessing.Process(target=worker, args=(port, mode, start_at, seconds, out))
          for _ in range(procs)]
    for p in ps:
        p.start()
    results = [out.get() for _ in ps]
    for p in ps:
        p.join()
        if p.exitcode != 0:
            sys.exit("a %s worker failed" % mode)
    commits = sum(c for c, _, _ in results)
    retries = sum(x for _, x, _ in results)
    aborts = sum(a for _, _, a in results)
    if total(r, mode) != 2 * START_BALANCE:
        sys.exit("%s: the total changed: %d" % (mode, total(r, mode)))
    print(json.dumps({
        "mode": mode, "procs": procs, "seconds": seconds, "commits": commits,
        "retries": retries, "aborts": aborts,
        "commits_per_s": round(commits / seconds, 1),
        "retries_per_commit": round(retries / commits, 3) if commits else None,
    }))


if __name__ == "__main__":
    main()
