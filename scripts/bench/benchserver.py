"""benchserver.py - how the bench scripts start a server of their own.

    with benchserver.started("pull_time.py", binary, [module]) as r:
        r.execute_command(...)

started() runs BINARY on a free 127.0.0.1 port with no persistence and the
given modules ("path arg ..." each), waits up to 30 s for a PING, yields a
redis-py client (no socket timeout: a measured command may take minutes)
and stops the server by its PID however the block ends (terminate, then
kill after 60 s). A server that exits or never answers stops the script
with "NAME: server did not start".
"""
import contextlib
import socket
import subprocess
import time

import redis


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def stop(proc):
    proc.terminate()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def started(name, binary, modules=()):
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    for m in modules:
        args += ["--loadmodule"] + m.split()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        deadline = time.time() + 30
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit(name + ": server did not start")
                time.sleep(0.1)
        yield r
    finally:
        stop(proc)
