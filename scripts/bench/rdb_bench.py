#!/usr/bin/python3
"""rdb_bench.py - persistence of ~1 GB of documents, three ways (issue 14).

    rdb_bench.py SERVER MODULE DOC [COUNT]

COUNT copies (default 10,000) of the JSON document DOC (the 100 KB bench
document of gen_docs.py: ~1 GB in all) are written to a fresh SERVER as

  binary   atomicdoc documents, the default RDB encoding (encver 2: the tree)
  text     atomicdoc documents, the module loaded with `rdb-encoding text`
           (encver 1: JSON text, what atomicdoc wrote before; re-parsed on
           every load)
  strings  plain Redis strings holding the same JSON text (SET)

and for each: SAVE (seconds, RDB size), DEBUG RELOAD (save + flush + load),
a restart (the load time the server logs: "DB loaded from disk"), DUMP of
every key and RESTORE of every dump (REPLACE, over one pipelined connection),
and a replica's full sync (REPLICAOF until the link is up and loading done).
Each timing is wall-clock seconds and, in parentheses, the CPU seconds the
server processes spent (INFO cpu: self and reaped children), which other
work on a shared machine disturbs much less: compare the columns of one run,
and prefer the CPU figures. The servers run with Redis's defaults but repl-diskless-sync-delay 0
(no 5 s wait before a full sync); RDBCOMPRESSION=no turns LZF compression of
RDB strings off (default yes, as Redis). Servers started here are stopped by PID
(SIGTERM, so that a BGSAVE child goes too, then SIGKILL after 30 s) on every exit: an
error, a server that does not come up, Ctrl-C, SIGTERM or SIGHUP. Prints one markdown
table.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import redis

from benchserver import free_port


class Server:
    """A redis-server on a free port in its own directory; stopped by PID."""

    def __init__(self, binary, module_args, base):
        self.binary, self.module_args = binary, module_args
        self.dir = tempfile.mkdtemp(prefix="rdbbench.", dir=base)
        self.port = free_port()
        self.proc = None
        try:
            self.start()
        except BaseException:
            self.stop()   # a server that did not come up (or was interrupted) is stopped too
            raise

    def start(self):
        args = [self.binary, "--port", str(self.port), "--dir", self.dir, "--save", "",
                "--appendonly", "no", "--logfile", "redis.log", "--protected-mode", "no",
                "--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0",
                "--rdbcompression", os.environ.get("RDBCOMPRESSION", "yes")]
        if self.module_args is not None:
            args += ["--loadmodule"] + self.module_args
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, socket_timeout=600)
        deadline = time.time() + 600
        while True:
            try:
                self.client.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.BusyLoadingError):
                if self.proc.poll() is not None:
                    raise RuntimeError("server exited: see %s/redis.log" % self.dir)
                if time.time() > deadline:
                    raise RuntimeError("server did not come up")
                time.sleep(0.05)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        # SIGTERM first: Redis then also kills a BGSAVE child it forked (a full sync
        # interrupted by a failure); SIGKILL if it has not exited within 30 s
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        with open(os.path.join(self.dir, "redis.log")) as f:
            return f.read()


def cpu(c):
    """CPU seconds the server and its reaped children (BGSAVE for a sync) used."""
    i = c.info("cpu")
    return (i["used_cpu_user"] + i["used_cpu_sys"] + i["used_cpu_user_children"]
            + i["used_cpu_sys_children"])


def timed(c, fn):
    """(wall seconds, server CPU seconds) of fn()."""
    c0, t = cpu(c), time.time()
    fn()
    return time.time() - t, cpu(c) - c0


def fill(c, kind, doc, count):
    pipe = c.pipeline(transaction=False)
    for i in range(count):
        if kind == "strings":
            pipe.set("k:%d" % i, doc)
        else:
            pipe.execute_command("DOC.SET", "k:%d" % i, "$", doc)
        if i % 50 == 49:
            pipe.execute()
    pipe.execute()


def dump_restore(c, count):
    dumps = []

    def dump_all():
        for lo in range(0, count, 100):
            pipe = c.pipeline(transaction=False)
            for i in range(lo, min(count, lo + 100)):
                pipe.dump("k:%d" % i)
            dumps.extend(pipe.execute())

    def restore_all():
        for lo in range(0, count, 100):
            pipe = c.pipeline(transaction=False)
            for i in range(lo, min(count, lo + 100)):
                pipe.restore("k:%d" % i, 0, dumps[i], replace=True)
            pipe.execute()

    t_dump = timed(c, dump_all)
    t_restore = timed(c, restore_all)
    return t_dump, t_restore, sum(len(d) for d in dumps)


def full_sync(binary, module_args, primary, base):
    """(wall seconds, CPU seconds of the primary, its BGSAVE child and the replica)."""
    r = Server(binary, module_args, base)
    try:
        p0, r0 = cpu(primary.client), cpu(r.client)
        t0 = time.time()
        r.client.execute_command("REPLICAOF", "127.0.0.1", str(primary.port))
        deadline = t0 + 1200
        while True:
            info = r.client.info("replication")
            if info.get("master_link_status") == "up" and not info.get("master_sync_in_progress"):
                try:
                    if r.client.dbsize() > 0:
                        break
                except redis.exceptions.BusyLoadingError:
                    pass
            if time.time() > deadline:
                raise RuntimeError("full sync did not finish")
            time.sleep(0.02)
        wall = time.time() - t0
        deadline = time.time() + 60
        while cpu(primary.client) == p0 and time.time() < deadline:
            time.sleep(0.05)   # the BGSAVE child is counted once reaped
        return wall, cpu(primary.client) - p0 + cpu(r.client) - r0
    finally:
        r.stop()


def measure(kind, binary, module, doc, count, base):
    # the module is loaded for the strings too: the same server either way
    margs = [module] + (["rdb-encoding", "text"] if kind == "text" else [])
    s = Server(binary, margs, base)
    try:
        c = s.client
        fill(c, kind, doc, count)
        res = {}
        res["save"] = timed(c, c.save)
        res["rdb_mb"] = os.path.getsize(os.path.join(s.dir, "dump.rdb")) / 1e6
        res["reload"] = timed(c, lambda: c.execute_command("DEBUG", "RELOAD"))
        c.save()
        s.kill()
        s.start()
        m = re.findall(r"DB loaded from disk: ([0-9.]+) seconds", s.log())
        # the fresh process's CPU so far is (almost all) the load
        res["restart_load"] = (float(m[-1]) if m else float("nan"), cpu(s.client))
        assert s.client.dbsize() == count
        res["dump"], res["restore"], res["dump_mb"] = dump_restore(s.client, count)
        res["dump_mb"] /= 1e6
        res["sync"] = full_sync(binary, margs, s, base)
        return res
    finally:
        s.stop()


def main():
    # SIGTERM / SIGHUP raise SystemExit, so the finally blocks stop the servers
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    binary, module, path = sys.argv[1:4]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
    with open(path, "rb") as f:
        doc = f.read()
    base = os.path.join(os.path.dirname(os.path.abspath(path)), "rdb")
    os.makedirs(base, exist_ok=True)
    results = {}
    for kind in ("binary", "text", "strings"):
        print("rdb_bench: %s, %d x %d bytes" % (kind, count, len(doc)), file=sys.stderr)
        results[kind] = measure(kind, binary, module, doc, count, base)
    rows = [("SAVE", "save"), ("RDB size, MB", "rdb_mb"),
            ("DEBUG RELOAD (save + flush + load)", "reload"),
            ("restart: load of the RDB (\"DB loaded from disk\")", "restart_load"),
            ("DUMP of every key", "dump"), ("DUMP payloads, MB", "dump_mb"),
            ("RESTORE of every dump", "restore"),
            ("replica full sync (CPU: primary + its BGSAVE child + replica)", "sync")]
    print("| %d x %d-byte documents (%.2f GB of JSON), rdbcompression %s | binary (encver 2) "
          "| text (encver 1) | strings |"
          % (count, len(doc), count * len(doc) / 1e9, os.environ.get("RDBCOMPRESSION", "yes")))
    print("|---|---:|---:|---:|")
    def cell(v):
        return "%.2f" % v if not isinstance(v, tuple) else "%.2f s (CPU %.2f s)" % v

    for label, key in rows:
        print("| %s | %s |" % (label, " | ".join(cell(results[k][key])
                                                 for k in ("binary", "text", "strings"))))


if __name__ == "__main__":
    main()
