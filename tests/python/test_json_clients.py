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


# RedisJSON's command reference examples (redis.io/commands/json.*, the "Examples" of
# each page, e.g. json.numincrby: `JSON.NUMINCRBY doc $..a 2` -> "[null,4,7,null]"), as
# redis-py's r.json() decodes the documented replies (redis-py 4.3 leaves the items of
# a `$` ARRPOP as JSON text). Raw RESP: tests/integration/test_json.c.
DOCUMENTED = [
    ("JSON.SET", [
        (lambda j: j.set("doc", "$", {"a": 2}), True),
        (lambda j: j.set("doc", "$.a", 3), True),
        (lambda j: j.get("doc", "$"), [{"a": 3}]),
        (lambda j: j.set("doc", "$", {"a": 2}), True),
        (lambda j: j.set("doc", "$.b", 8), True),
        (lambda j: j.get("doc", "$"), [{"a": 2, "b": 8}]),
        (lambda j: j.set("doc", "$", {"f1": {"a": 1}, "f2": {"a": 2}}), True),
        (lambda j: j.set("doc", "$..a", 3), True),
        (lambda j: j.get("doc"), {"f1": {"a": 3}, "f2": {"a": 3}}),
    ]),
    ("JSON.GET", [
        (lambda j: j.set("doc", "$", {"a": 2, "b": 3, "nested": {"a": 4, "b": None}}), True),
        (lambda j: j.get("doc", "$..b"), [3, None]),
        (lambda j: j.get("doc", "..a", "$..b"), {"..a": [2, 4], "$..b": [3, None]}),
    ]),
    ("JSON.DEL", [
        (lambda j: j.set("doc", "$", {"a": 1, "nested": {"a": 2, "b": 3}}), True),
        (lambda j: j.delete("doc", "$..a"), 2),
        (lambda j: j.get("doc", "$"), [{"nested": {"b": 3}}]),
    ]),
    ("JSON.MGET", [
        (lambda j: j.set("doc1", "$", {"a": 1, "b": 2, "nested": {"a": 3}, "c": None}), True),
        (lambda j: j.set("doc2", "$", {"a": 4, "b": 5, "nested": {"a": 6}, "c": None}), True),
        (lambda j: j.mget(["doc1", "doc2"], "$..a"), [[1, 3], [4, 6]]),
    ]),
    ("JSON.NUMINCRBY / JSON.NUMMULTBY", [
        (lambda j: j.set("doc", ".", {"a": "b", "b": [{"a": 2}, {"a": 5}, {"a": "c"}]}), True),
        (lambda j: j.numincrby("doc", "$.a", 2), [None]),
        (lambda j: j.numincrby("doc", "$..a", 2), [None, 4, 7, None]),
        (lambda j: j.set("doc", ".", {"a": "b", "b": [{"a": 2}, {"a": 5}, {"a": "c"}]}), True),
        (lambda j: j.nummultby("doc", "$.a", 2), [None]),
        (lambda j: j.nummultby("doc", "$..a", 2), [None, 4, 10, None]),
    ]),
    ("JSON.STRAPPEND / JSON.STRLEN", [
        (lambda j: j.set("doc", "$", {"a": "foo", "nested": {"a": "hello"}, "nested2": {"a": 31}}), True),
        (lambda j: j.strappend("doc", "baz", "$..a"), [6, 8, None]),
        (lambda j: j.get("doc", "$"), [{"a": "foobaz", "nested": {"a": "hellobaz"}, "nested2": {"a": 31}}]),
        (lambda j: j.set("doc", "$", {"a": "foo", "nested": {"a": "hello"}, "nested2": {"a": 31}}), True),
        (lambda j: j.strlen("doc", "$..a"), [3, 5, None]),
    ]),
    ("JSON.ARRAPPEND / ARRINSERT / ARRINDEX / ARRLEN / ARRPOP", [
        (lambda j: j.set("item:1", "$", {"name": "Noise-cancelling Bluetooth headphones", "connection": {
            "wireless": True, "type": "Bluetooth"}, "price": 99.98, "stock": 25, "colors": ["black", "silver"]}), True),
        (lambda j: j.arrappend("item:1", "$.colors", "blue"), [3]),
        (lambda j: j.get("item:1", "$.colors"), [["black", "silver", "blue"]]),
        (lambda j: j.arrinsert("item:1", "$.colors", 2, "yellow", "gold"), [5]),
        (lambda j: j.get("item:1", "$.colors"), [["black", "silver", "yellow", "gold", "blue"]]),
        (lambda j: j.arrindex("item:1", "$..colors", "silver"), [1]),
        (lambda j: j.arrlen("item:1", "$.colors"), [5]),
        (lambda j: j.arrpop("item:1", "$.colors"), ['"blue"']),
        (lambda j: j.arrpop("item:1", "$.colors", 0), ['"black"']),
        (lambda j: j.get("item:1", "$.colors"), [["silver", "yellow", "gold"]]),
    ]),
    ("JSON.ARRTRIM", [
        (lambda j: j.set("key", "$", [[], ["a"], ["a", "b"], ["a", "b", "c"]]), True),
        (lambda j: j.arrtrim("key", "$[*]", 0, 1), [0, 1, 2, 2]),
        (lambda j: j.get("key"), [[], ["a"], ["a", "b"], ["a", "b"]]),
    ]),
    ("JSON.OBJLEN / JSON.OBJKEYS", [
        (lambda j: j.set("doc", "$", {"a": [3], "nested": {"a": {"b": 2, "c": 1}}}), True),
        (lambda j: j.objlen("doc", "$..a"), [None, 2]),
        (lambda j: j.objkeys("doc", "$..a"), [None, ["b", "c"]]),
    ]),
    ("JSON.TYPE", [
        (lambda j: j.set("doc", "$", {"a": 2, "nested": {"a": True}, "foo": "bar"}), True),
        (lambda j: j.type("doc", "$..foo"), ["string"]),
        (lambda j: j.type("doc", "$..a"), ["integer", "boolean"]),
        (lambda j: j.type("doc", "$..dummy"), []),
    ]),
    ("JSON.CLEAR", [
        (lambda j: j.set("doc", "$", {"obj": {"a": 1, "b": 2}, "arr": [1, 2, 3], "str": "foo", "bool": True,
                                      "int": 42, "float": 3.14}), True),
        (lambda j: j.clear("doc", "$.*"), 4),
        (lambda j: j.get("doc", "$"), [{"obj": {}, "arr": [], "str": "foo", "bool": True, "int": 0, "float": 0}]),
    ]),
    ("JSON.TOGGLE", [
        (lambda j: j.set("doc", "$", {"bool": True}), True),
        (lambda j: j.toggle("doc", "$.bool"), [0]),
        (lambda j: j.get("doc", "$"), [{"bool": False}]),
        (lambda j: j.toggle("doc", "$.bool"), [1]),
        (lambda j: j.get("doc", "$"), [{"bool": True}]),
    ]),
]


def redis_py_documented(port):
    r = redis.Redis(port=port, decode_responses=True)
    r.flushall()
    j = r.json()
    for command, rows in DOCUMENTED:
        for i, (call, want) in enumerate(rows):
            eq(call(j), want, f"{command} example, step {i + 1}")
    if hasattr(j, "mset"):
        eq(j.mset([("doc1", "$", {"a": 2}), ("doc2", "$", {"f": {"a": 2}})]), True, "JSON.MSET example")
        eq(j.mset([("doc2", "$.f.a", 3)]), True, "JSON.MSET example, a path")
        eq(j.get("doc2", "$"), [{"f": {"a": 3}}], "JSON.MSET example, after")
    if hasattr(j, "merge"):
        j.set("doc", "$", {"f1": {"a": 1}, "f2": {"a": 2}})
        eq(j.merge("doc", "$", {"f1": None, "f2": {"a": 3, "b": 4}, "f3": [2, 4, 6]}), True, "JSON.MERGE example")
        eq(j.get("doc", "$"), [{"f2": {"a": 3, "b": 4}, "f3": [2, 4, 6]}], "JSON.MERGE example, after")


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
        redis_py_documented(a.port)
        copy_script(a.port, b.port)
    finally:
        for s in servers:
            s.stop()
    print(f"test_json_clients: {checks} checks passed (redis-py {redis.__version__})")


if __name__ == "__main__":
    main()
