#!/usr/bin/python3
"""calls.py - instructions per command inside Redis's call(), under callgrind.

    calls.py SERVER MODULE OUTDIR [CASE ...]     (all cases when none is named)

SERVER is a redis-server (or valkey-server) binary, MODULE the atomicdoc .so
(or "-" for none; loaded with `json-commands no`, see main()). Starts SERVER
under `valgrind --tool=callgrind --toggle-collect=call` on a free port
(stopped by PID on any exit), then for each case: runs its setup, warms up,
zeroes the counters, sends the measured command N times (pipelined, one
connection), dumps the counters and divides the instructions collected inside
call() by N. Instruction counts do not depend on the machine's load, so the
figures of one run compare exactly.

Prints one JSON object per line: {"case", "cmd", "n", "instr"}. Cases whose
command the server does not know (valkey-json's JSON.* on Redis) print
"instr": null. Documents come from OUTDIR (gen_docs.py, incr_pull.py gen).
Extra modules for peers: EXTRA_MODULES="/path/a.so /path/b.so", loaded before
atomicdoc; the JSON.* cases then measure the peer's JSON.* (checked by TYPE).
"""
import glob
import json
import os
import subprocess
import sys
import threading
import time

import redis

from benchserver import free_port


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cases(out):
    """name -> (setup commands, measured command, N). The measured command
    leaves the data as it found it or changes it in a way that keeps the
    cost the same (alternating increments keep a number's size)."""
    d1k, d10k, d100k = (read(os.path.join(out, n)) for n in
                        ("doc_1k.json", "doc_10k.json", "doc_100k.json"))
    nums = b"[" + b",".join(b"%d" % (1000 + i % 1000) for i in range(100000)) + b"]"
    obj = b"{" + b",".join(b'"m%d":%d' % (i, 1000 + i) for i in range(10000)) + b"}"
    visitors = b"[" + b",".join(b'"u%d"' % i for i in range(100000)) + b"]"
    small = b"[" + b",".join(b'"u%d"' % i for i in range(10)) + b"]"
    # half of the elements one value ("u0"), the others distinct
    dups = b"[" + b",".join(b'"u%d"' % (i if i % 2 else 0) for i in range(100000)) + b"]"
    lua_transfer = (b"local b = tonumber(redis.call('HGET', KEYS[1], 'balance'))\n"
                    b"if b < tonumber(ARGV[1]) then return 0 end\n"
                    b"redis.call('HINCRBY', KEYS[1], 'balance', -ARGV[1])\n"
                    b"redis.call('HINCRBY', KEYS[2], 'balance', ARGV[1])\nreturn 1\n")
    c = {}
    # whole documents: parse, print (cache off and on), and their string peers
    for label, text in (("1k", d1k), ("10k", d10k), ("100k", d100k)):
        c["docset_" + label] = ([], ["DOC.SET", "d:" + label, "$", text], 20)
        c["jsonset_" + label] = ([], ["JSON.SET", "j:" + label, "$", text], 20)
        c["set_" + label] = ([], ["SET", "s:" + label, text], 200)
        # a SET that replaces a different document (the text plus one root
        # member, alternating with the text: see ALTERNATE): parse, the
        # identical check failing at once, the old tree freed
        c["docset_" + label + "_replace"] = ([["DOC.SET", "r:" + label, "$", text]],
                                             ["DOC.SET", "r:" + label, "$", text[:-1] + b',"v":1}'], 20)
        ALTERNATE["docset_" + label + "_replace"] = ["DOC.SET", "r:" + label, "$", text]
        off = [["CONFIG", "SET", "atomicdoc.read-cache-max-memory", "0"],
               ["DOC.SET", "d:" + label, "$", text]]
        c["docget_" + label + "_nocache"] = (off, ["DOC.GET", "d:" + label], 20)
        on = [["CONFIG", "SET", "atomicdoc.read-cache-max-memory", "64mb"],
              ["DOC.SET", "d:" + label, "$", text], ["DOC.GET", "d:" + label]]
        c["docget_" + label + "_cached"] = (on, ["DOC.GET", "d:" + label], 200)
        c["jsonget_" + label] = ([["JSON.SET", "j:" + label, "$", text]], ["JSON.GET", "j:" + label], 20)
        c["get_" + label] = ([["SET", "s:" + label, text]], ["GET", "s:" + label], 200)
    # path operations
    c["docincr"] = ([["DOC.SET", "d:1k", "$", d1k]], ["DOC.INCR", "d:1k", "$.orders[5].qty", "1"], 2000)
    c["jsonincr"] = ([["JSON.SET", "j:1k", "$", d1k]], ["JSON.NUMINCRBY", "j:1k", "$.orders[5].qty", "1"], 2000)
    c["hincrby"] = ([["HSET", "h", "f", "0"]], ["HINCRBY", "h", "f", "1"], 2000)
    c["docfield"] = ([["DOC.SET", "d:1k", "$", d1k]], ["DOC.GET", "d:1k", "$.orders[5].sku"], 2000)
    c["jsonfield"] = ([["JSON.SET", "j:1k", "$", d1k]], ["JSON.GET", "j:1k", "$.orders[5].sku"], 2000)
    c["hget"] = ([["HSET", "h", "f", "0"]], ["HGET", "h", "f"], 2000)
    # a transfer: CHECK + 2 INCR in one DOC.TXN vs a Lua script over two hashes
    c["doctxn"] = ([["DOC.SET", "{t}a", "$", '{"balance":1000000000}'],
                    ["DOC.SET", "{t}b", "$", '{"balance":0}']],
                   ["DOC.TXN", "2", "{t}a", "{t}b", "CHECK", "1", "$.balance", "GE", "10",
                    "INCR", "1", "$.balance", "-10", "INCR", "2", "$.balance", "10"], 2000)
    c["luatxn"] = ([["HSET", "{t}ha", "balance", "1000000000"], ["HSET", "{t}hb", "balance", "0"]],
                   ["EVAL", lua_transfer, "2", "{t}ha", "{t}hb", "10"], 2000)
    # issue 14: size-neutral increments in large containers (each +1 then -1
    # by alternating the sign in run(): see ALTERNATE)
    c["arrincr_100k"] = ([["DOC.SET", "nums", "$", nums]], ["DOC.INCR", "nums", "$[50000]", "1"], 400)
    c["objincr_10k"] = ([["DOC.SET", "obj", "$", obj]], ["DOC.INCR", "obj", "$.m5000", "1"], 400)
    c["jsonarrincr_100k"] = ([["JSON.SET", "jnums", "$", nums]], ["JSON.NUMINCRBY", "jnums", "$[50000]", "1"], 400)
    # issue 14: a size-changing edit in the middle of a 100k array
    c["arrinsert_100k"] = ([["DOC.SET", "nums", "$", nums]], ["DOC.PUSH", "nums", "$", "AT", "50000", "7"], 400)
    # issue 14: large arrays, scalar members (the unique-visitors pattern)
    c["addtoset_100k"] = ([["DOC.SET", "vis", "$", visitors]], ["DOC.ADDTOSET", "vis", "$", '"u99999"'], 400)
    c["indexof_100k"] = ([["DOC.SET", "vis", "$", visitors]], ["DOC.INDEXOF", "vis", "$", '"u50000"'], 400)
    c["pullpush_100k"] = ([["DOC.SET", "vis", "$", visitors]], ["DOC.PULL", "vis", "$", '"u50000"'], 400)
    c["addtoset_dups_100k"] = ([["DOC.SET", "dups", "$", dups]], ["DOC.ADDTOSET", "dups", "$", '"u99999"'], 400)
    c["indexof_dups_100k"] = ([["DOC.SET", "dups", "$", dups]], ["DOC.INDEXOF", "dups", "$", '"u0"'], 400)
    c["addtoset_10"] = ([["DOC.SET", "vis10", "$", small]], ["DOC.ADDTOSET", "vis10", "$", '"u9"'], 2000)
    c["sadd"] = ([["SADD", "set", "u9"]], ["SADD", "set", "u9"], 2000)
    # query-path writes to every element of a 1,000-element array (README
    # "Writes at query paths", Cost): widths kept (+1 / -1), and widths
    # changed ("xx" / 1000)
    l1k = b'{"l":[' + b",".join(b"%d" % (1000 + i) for i in range(1000)) + b"]}"
    c["queryincr_1k"] = ([["DOC.SET", "q1k", "$", l1k]], ["DOC.INCR", "q1k", "$.l[*]", "1"], 20)
    c["queryset_1k"] = ([["DOC.SET", "q1k", "$", l1k]], ["DOC.SET", "q1k", "$.l[*]", '"xx"'], 20)
    return c


# Cases whose command alternates with an inverse, both counted: (inverse, ...)
ALTERNATE = {
    "arrincr_100k": ["DOC.INCR", "nums", "$[50000]", "-1"],
    "objincr_10k": ["DOC.INCR", "obj", "$.m5000", "-1"],
    "jsonarrincr_100k": ["JSON.NUMINCRBY", "jnums", "$[50000]", "-1"],
    "arrinsert_100k": ["DOC.POP", "nums", "$", "50000"],
    "pullpush_100k": ["DOC.PUSH", "vis", "$", "AT", "50000", '"u50000"'],
    "queryincr_1k": ["DOC.INCR", "q1k", "$.l[*]", "-1"],
    "queryset_1k": ["DOC.SET", "q1k", "$.l[*]", "1000"],
}


class Server:
    def __init__(self, binary, modules, out):
        self.port = free_port()
        self.out = out
        self.prefix = os.path.join(out, "calls.cg.%d" % self.port)
        for f in glob.glob(self.prefix + "*"):
            os.unlink(f)
        args = ["valgrind", "--tool=callgrind", "--toggle-collect=call",
                "--callgrind-out-file=" + self.prefix + ".%p", binary,
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", out,
                "--logfile", os.path.join(out, "calls_server.log")]
        for m in modules:      # "path arg ...": a module with its load arguments
            args += ["--loadmodule"] + m.split()
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.r = redis.Redis(port=self.port)
        deadline = time.time() + 60
        while True:
            try:
                self.r.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise SystemExit("calls.py: server did not start (see calls_server.log)")
                time.sleep(0.2)

    def control(self, *args):
        # callgrind_control acts only while the server runs code: keep it busy.
        stop = threading.Event()

        def wake():
            w = redis.Redis(port=self.port)
            while not stop.is_set():
                w.ping()
                time.sleep(0.05)
        t = threading.Thread(target=wake)
        t.start()
        try:
            subprocess.run(["callgrind_control"] + list(args) + [str(self.proc.pid)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            stop.set()
            t.join()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def collected(server, name):
    """Instructions in the dump named `name` (inside call() only). The
    waker's few PINGs (about 100 instructions each, a handful per control)
    land in it too: under 1% of the smallest case at these N."""
    for f in glob.glob(server.prefix + "*"):
        with open(f, "rb") as fh:
            data = fh.read()
        if ("desc: Trigger: dump %s\n" % name).encode() in data:
            for line in data.splitlines():
                if line.startswith(b"summary: "):
                    if not os.environ.get("CALLS_KEEP"):
                        os.unlink(f)
                    return int(line.split()[1])
    raise SystemExit("calls.py: no dump named " + name)


def measure(server, name, setup, cmd, n, inverse):
    r = server.r
    try:
        for s in setup:
            r.execute_command(*s)
        r.execute_command(*cmd)
    except redis.ResponseError as e:
        if "unknown command" in str(e):   # a peer module that is not loaded
            return None
        raise
    if inverse:
        r.execute_command(*inverse)

    def batch(k):
        p = r.pipeline(transaction=False)
        for i in range(k):
            p.execute_command(*(inverse if inverse and i % 2 else cmd))
        for res in p.execute(raise_on_error=True):
            pass
    batch(20)
    server.control("-z")
    batch(n)
    server.control("-d", name)
    return collected(server, name) / n


def main():
    binary, module, out = sys.argv[1:4]
    want = sys.argv[4:]
    extra = os.environ.get("EXTRA_MODULES", "").split()
    # atomicdoc loads with `json-commands no`, always: the JSON.* cases measure
    # the peer (valkey-json) when it is loaded and are skipped (null) when it
    # is not, never atomicdoc's own JSON.* layer. (atomicdoc's own detection
    # of names another module holds does not work: RM_GetCommand sees only the
    # caller's commands, so with JSON.* taken atomicdoc fails to load.)
    modules = extra + ([] if module == "-" else [module + " json-commands no"])
    all_cases = cases(out)
    server = Server(binary, modules, out)
    try:
        if extra:
            server.r.execute_command("JSON.SET", "calls:probe", "$", "1")
            t = server.r.type("calls:probe").decode()
            server.r.delete("calls:probe")
            if t == "atomicdoc":
                raise SystemExit("calls.py: JSON.SET is atomicdoc's, not the peer's")
        for name in want or all_cases:
            setup, cmd, n = all_cases[name]
            instr = measure(server, name, setup, cmd, n, ALTERNATE.get(name))
            if instr is not None:
                instr = round(instr)
            print(json.dumps({"case": name, "cmd": " ".join(str(a)[:40] if isinstance(a, str) else
                                                           a[:40].decode("latin1") for a in cmd),
                              "n": n, "instr": instr}), flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
