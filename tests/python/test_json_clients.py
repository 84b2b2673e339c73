#!/usr/bin/python3
"""test_json_clients.py - redis-py's r.json() (Debian's python3-redis) against a
real redis-server with atomicdoc, every JSON.* command redis-py has, in both path
dialects; and scripts/json_copy.py between two real servers (TTLs kept).

Run by `make clients-test` (ATOMICDOC_MODULE names the module). Servers start on
free 127.0.0.1 ports in fresh directories under $ATOMICDOC_TMP (else /tmp), are
polled for PING with a deadline, and are stopped by PID in `finally`, also when a
check fails. RESP3: redis-py speaks it from 5.0 on (`protocol=3`); Debian 12 ships
4.3.4, so with it RESP3 is covered by tests/integration/test_json.c (raw RESP3);
with redis-py >= 5 the RESP3 checks below run too.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis
from redis.commands.json.path import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODULE = os.path.abspath(os.environ.get("ATOMICDOC_MODULE", os.path.join(ROOT, "build", "atomicdoc.so")))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="atomicdoc-py-", dir=os.environ.get("ATOMICDOC_TMP"))
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--loadmodule", MODULE],
            stdout=open(os.path.join(self.dir, "stdout.log"), "w"), stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while True:
            try:
                if redis.Redis(port=self.port).ping():
                    return
            except redis.ConnectionError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


checks = 0


def eq(got, want, what):
    global checks
    checks += 1
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def raises(fn, text, what):
    global checks
    checks += 1
    try:
        fn()
    except redis.ResponseError as e:
        if text not in str(e):
            raise AssertionError(f"{what}: error {e!r} lacks {text!r}")
        return
    raise AssertionError(f"{what}: no error")


def redis_py_resp2(port):
    r = redis.Redis(port=port, decode_responses=True)
    j = r.json()
    doc = {"name": "Ada", "tags": ["a", "b"], "n": 1, "on": True, "o": {"x": 1, "y": {"x": 2}}, "s": "hi"}
    # set / get, root and paths, both dialects
    eq(j.set("u", Path.root_path(), doc), True, "set .")
    eq(j.get("u"), doc, "get")
    eq(j.get("u", ".name"), "Ada", "get legacy")
    eq(j.get("u", "$.name"), ["Ada"], "get $")
    eq(j.get("u", "$..x"), [1, 2], "get $..x")
    eq(j.get("u", ".name", ".n"), {".name": "Ada", ".n": 1}, "get several legacy")
    eq(j.get("u", "$.name", "$.n"), {"$.name": ["Ada"], "$.n": [1]}, "get several $")
    eq(j.get("missing"), None, "get missing key")
    raises(lambda: j.get("u", ".nope"), "does not exist", "get missing legacy path")
    eq(j.set("u", "$.name", "Bob", nx=True), None, "set nx on existing")
    eq(j.set("u", "$.new", 5, nx=True), True, "set nx new member")
    eq(j.set("u", "$.zzz", 5, xx=True), None, "set xx missing")
    raises(lambda: j.set("nokey", "$.a", 1), "new objects must be created at the root", "new key off root")
    # type
    eq(j.type("u", ".tags"), "array", "type legacy")
    eq(j.type("u", "$..x"), ["integer", "integer"], "type $")
    # numbers
    eq(j.numincrby("u", ".n", 2), 3, "numincrby legacy")
    eq(j.numincrby("u", "$..x", 10), [11, 12], "numincrby $")
    eq(j.nummultby("u", ".n", 1.5), 4.5, "nummultby legacy")
    eq(j.numincrby("u", "$.name", 1), [None], "numincrby on a string is nil")
    # strings
    eq(j.strappend("u", "!", ".s"), 3, "strappend legacy")
    eq(j.strappend("u", "?", "$..s"), [4], "strappend $")
    eq(j.strlen("u", ".s"), 4, "strlen legacy")
    eq(j.strlen("u", "$.s"), [4], "strlen $")
    # arrays
    eq(j.arrappend("u", ".tags", "c", "d"), 4, "arrappend legacy")
    eq(j.arrappend("u", "$.tags", "e"), [5], "arrappend $")
    eq(j.arrindex("u", ".tags", "c"), 2, "arrindex legacy")
    eq(j.arrindex("u", "$.tags", "zz"), [-1], "arrindex $")
    eq(j.arrinsert("u", ".tags", 0, "first"), 6, "arrinsert legacy")
    eq(j.arrinsert("u", "$.tags", -1, "penult"), [7], "arrinsert $")
    eq(j.arrlen("u", ".tags"), 7, "arrlen legacy")
    eq(j.arrlen("u", "$.tags"), [7], "arrlen $")
    eq(j.arrpop("u", ".tags"), "e", "arrpop legacy")
    # RedisJSON replies `$` pops as JSON texts; redis-py 4.3 leaves list items undecoded.
    eq(j.arrpop("u", "$.tags", 0), ['"first"'], "arrpop $")
    eq(j.arrtrim("u", ".tags", 0, 1), 2, "arrtrim legacy")
    eq(j.arrtrim("u", "$.tags", 1, 1), [1], "arrtrim $")
    eq(j.get("u", ".tags"), ["b"], "tags after trim")
    # objects
    eq(j.objkeys("u", ".o"), ["x", "y"], "objkeys legacy")
    eq(j.objkeys("u", "$..y"), [["x"]], "objkeys $")
    eq(j.objlen("u", ".o"), 2, "objlen legacy")
    eq(j.objlen("u", "$.o"), [2], "objlen $")
    # toggle, clear, resp, debug
    eq(j.toggle("u", ".on"), False, "toggle legacy")
    eq(j.toggle("u", "$.on"), [1], "toggle $")
    eq(j.clear("u", "$.o"), 1, "clear $")
    eq(j.get("u", ".o"), {}, "cleared")
    eq(j.resp("u", ".tags"), ["[", "b"], "resp")
    eq(isinstance(j.debug("MEMORY", "u", "."), int), True, "debug memory")
    # mget, delete, forget
    j.set("v", ".", {"name": "Cy"})
    eq(j.mget(["u", "v", "missing"], ".name"), ["Ada", "Cy", None], "mget legacy")
    eq(j.mget(["u", "v"], "$.name"), [["Ada"], ["Cy"]], "mget $")
    eq(j.forget("u", ".s"), 1, "forget")
    eq(j.delete("v"), 1, "delete key")
    eq(r.exists("v"), 0, "deleted")
    if hasattr(j, "mset"):
        eq(j.mset([("m1", "$", 1), ("m2", "$", {"a": 2})]), True, "mset")
    if hasattr(j, "merge"):
        eq(j.merge("m2", "$", {"b": 3}), True, "merge")
    # the same document through DOC.*
    eq(r.execute_command("DOC.INCR", "u", "$.n", 1), "5.5", "DOC.INCR on a JSON.SET key")
    eq(r.execute_command("DOC.TYPE", "u", "$.n"), "number", "DOC.TYPE sees JSON.* writes")
    # 20 changes: the two SETs, 18 changing JSON.* writes (numincrby on a string changed nothing), DOC.INCR
    eq(r.execute_command("DOC.VERSION", "u"), 20, "versions moved on every change, whichever face made it")


def redis_py_resp3(port):
    try:
        r = redis.Redis(port=port, decode_responses=True, protocol=3)
        r.ping()
    except TypeError:
        print("test_json_clients: redis-py", redis.__version__, "has no RESP3 (protocol=3): RESP3 is covered by "
              "tests/integration/test_json.c")
        return
    j = r.json()
    j.set("r3", "$", {"a": 1, "b": [{"a": 2.5}]})
    eq(j.numincrby("r3", "$..a", 1), [2, 3.5], "RESP3 numincrby")
    eq(j.type("r3", "$.a"), [["integer"]], "RESP3 type")


def copy_script(src_port, dst_port):
    src = redis.Redis(port=src_port, decode_responses=True)
    dst = redis.Redis(port=dst_port, decode_responses=True)
    src.flushall()   # the redis-py checks ran on this server
    for i in range(1200):
        src.execute_command("JSON.SET", f"doc:{i}", "$", f'{{"i":{i},"tags":["x"]}}')
    for i in range(0, 1200, 100):
        src.pexpire(f"doc:{i}", 600000)
    src.set("plain", "not json")
    src.execute_command("DOC.SET", "native", "$", '{"doc":true}')
    dst.execute_command("JSON.SET", "doc:5", "$", '"already here"')
    script = os.path.join(ROOT, "scripts", "json_copy.py")
    out = subprocess.run([sys.executable, script, f"127.0.0.1:{src_port}", f"127.0.0.1:{dst_port}"],
                         capture_output=True, text=True, timeout=120)
    eq(out.returncode, 0, "copy exit status: " + out.stderr)
    eq(out.stdout.strip(), "json_copy: copied 1200, skipped 1 (already there), gone 1 (expired or not JSON)",
       "copy summary")
    eq(dst.execute_command("JSON.GET", "doc:7", "$"), '[{"i":7,"tags":["x"]}]', "copied document")
    eq(dst.execute_command("JSON.GET", "doc:5"), '"already here"', "NX kept the destination's key")
    eq(dst.execute_command("JSON.GET", "native"), '{"doc":true}', "DOC.SET keys copy too")
    ttl = dst.pttl("doc:100")
    eq(0 < ttl <= 600000, True, f"TTL kept ({ttl})")
    eq(dst.pttl("doc:7"), -1, "no TTL stays none")
    eq(dst.exists("plain"), 0, "non-JSON keys are not copied")
    out = subprocess.run([sys.executable, script, f"127.0.0.1:{src_port}", f"127.0.0.1:{dst_port}", "--replace",
                          "--match", "doc:5"], capture_output=True, text=True, timeout=60)
    eq(out.returncode, 0, "copy --replace")
    eq(dst.execute_command("JSON.GET", "doc:5"), '{"i":5,"tags":["x"]}', "--replace overwrites")


def main():
    servers = []
    try:
        a = Server()
        servers.append(a)
        b = Server()
        servers.append(b)
        redis_py_resp2(a.port)
        redis_py_resp3(a.port)
        copy_script(a.port, b.port)
    finally:
        for s in servers:
            s.stop()
    print(f"test_json_clients: {checks} checks passed (redis-py {redis.__version__})")


if __name__ == "__main__":
    main()
