#!/usr/bin/python3
"""readme_examples.py - README.md is a contract: every redis-cli session in it runs.

Finds every indented code block of README.md (and of the other files given) that holds
redis-cli prompts (`127.0.0.1:6379> COMMAND ...`), starts a fresh redis-server with the
module for each block, sends each command through redis-cli (so replies print exactly as
a user sees them), and compares the output with the lines under the prompt in the file.
Lines of a block before its first prompt (`$ redis-cli`) are not checked.

    scripts/readme_examples.py [FILE ...]      default: README.md

Environment: ATOMICDOC_MODULE (the module, default build/atomicdoc.so), ATOMICDOC_SERVER
(the server binary, default redis-server), ATOMICDOC_TMP (where server directories go,
default /tmp). Servers are stopped by PID, even on failure. Exit status 1 when any reply
differs, with the block's line, the command, and both replies.
"""
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

PROMPT = "127.0.0.1:6379> "


def blocks_of(path):
    """Yields (line number, [(command, [expected lines])]) per code block with prompts."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("    "):
            i += 1
            continue
        start = i
        block = []
        while i < len(lines) and (lines[i].startswith("    ") or lines[i] == ""):
            block.append(lines[i][4:])
            i += 1
        while block and block[-1] == "":
            block.pop()
        steps = []
        for text in block:
            if text.startswith(PROMPT):
                steps.append((text[len(PROMPT):], []))
            elif steps:
                steps[-1][1].append(text)
        if steps:
            yield start + 1, steps


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A redis-server with the module on a free port, in a directory of its own."""

    def __init__(self, module, binary, tmp):
        self.dir = tempfile.mkdtemp(prefix="atomicdoc-readme-", dir=tmp)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--loadmodule", module],
            stdout=open(os.path.join(self.dir, "stdout.log"), "w"),
            stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.cli("PING") == "PONG":
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start (see %s)" % self.dir)

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "--no-raw", "-p", str(self.port)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return r.stdout.decode("utf-8", "replace").rstrip("\n")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def main():
    files = sys.argv[1:] or ["README.md"]
    module = os.path.abspath(os.environ.get("ATOMICDOC_MODULE", "build/atomicdoc.so"))
    binary = os.environ.get("ATOMICDOC_SERVER", "redis-server")
    tmp = os.environ.get("ATOMICDOC_TMP", "/tmp")
    failures = checked = 0
    for path in files:
        for line, steps in blocks_of(path):
            srv = Server(module, binary, tmp)
            try:
                for command, want in steps:
                    got = srv.cli(*shlex.split(command))
                    checked += 1
                    if got.split("\n") != want:
                        failures += 1
                        print("%s:%d: %s\n  README says:\n    %s\n  the server replied:\n    %s"
                              % (path, line, command, "\n    ".join(want),
                                 "\n    ".join(got.split("\n"))))
            finally:
                srv.stop()
    print("readme examples: %d commands checked, %d differ" % (checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
