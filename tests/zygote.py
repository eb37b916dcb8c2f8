"""Real ``finews`` processes without paying for the imports each time.

The suite runs the command line some 250 times.  A new interpreter spends 0.4–1 s of each
run importing Typer, Rich, SQLAlchemy and the package before the command starts — the same
work every time, and about a tenth of the whole suite.  This module keeps one process per
test worker that has done those imports once and forks a child for each command: the child
is a separate process with its own environment, argument vector, standard streams and exit
status, running ``python -m finews``'s own ``__main__`` (:func:`finews.cli.main`), and its
exit runs the interpreter's exit handlers as a new process's would.  What it shares with its
parent is modules already imported — none of which reads the environment at import time.

Tests that signal a process, time one, or look at what a process imports start
``python -m finews`` themselves; ``TEST_FRESH_PROCESSES=1`` sends every run there too
(``tests/test_zygote.py`` checks that both give the same answers).

Run as a script, this file is the forking process: it reads one JSON request a line on its
standard input and answers each with two lines, the child's pid and then its exit status.
"""

from __future__ import annotations

import atexit
import io
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

FRESH = "TEST_FRESH_PROCESSES"


# ------------------------------------------------------------------------------ the server


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become ``python -m finews ARGS`` and exit with its status."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own process group, as a killed one takes no sibling with it
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            opened = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        os.close(devnull)
        # the parent's stdin object holds read-ahead of the request channel: a fresh one
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import finews

        main_file = str(Path(finews.__file__).with_name("__main__.py"))
        sys.argv = [main_file, *request["args"]]
        sys.path[0] = os.getcwd()
        import runpy

        try:
            runpy.run_module("finews", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as stop:
            if stop.code is None:
                code = 0
            elif isinstance(stop.code, int):
                code = stop.code
            else:
                print(stop.code, file=sys.stderr)
                code = 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        # what an interpreter does on its way out: wait for its threads, run exit handlers
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                code = 120 if code == 0 else code
    finally:
        os._exit(code)


def _serve() -> None:
    """Read requests, fork a child for each, answer its pid and its exit status."""
    import finews.cli  # Typer, Rich, the settings
    import finews.store.sqlstore  # noqa: F401  (SQLAlchemy)

    channel = sys.stdin.buffer
    answer = sys.stdout.buffer
    while True:
        line = channel.readline()
        if not line:
            return
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)
        answer.write(json.dumps({"pid": pid}).encode() + b"\n")
        answer.flush()
        _, status = os.waitpid(pid, 0)
        answer.write(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
        answer.flush()


# ------------------------------------------------------------------------------ the client


class _Zygote:
    """This test worker's forking process, started on first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None

    def _started(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=os.getcwd(),
            )
            atexit.register(self.stop)
        return self.process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(10)

    def run(
        self, args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        process = self._started()
        assert process.stdin is not None and process.stdout is not None
        with tempfile.TemporaryDirectory(prefix="finews-run-") as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            request = {
                "args": args,
                "env": env,
                "cwd": os.getcwd(),
                "stdout": str(out),
                "stderr": str(err),
            }
            process.stdin.write(json.dumps(request).encode() + b"\n")
            process.stdin.flush()
            pid = json.loads(_line(process.stdout, 30))["pid"]
            try:
                status = json.loads(_line(process.stdout, timeout))["status"]
            except TimeoutError:
                os.killpg(pid, signal.SIGKILL)
                _line(process.stdout, 30)
                raise subprocess.TimeoutExpired(
                    ["finews", *args], timeout, _text(out), _text(err)
                ) from None
            return subprocess.CompletedProcess(
                [sys.executable, "-m", "finews", *args], status, _text(out), _text(err)
            )


def _line(stream: IO[bytes], timeout: float) -> bytes:
    """One answer line from the forking process, or TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            line = stream.readline()
            if not line:
                raise RuntimeError("the forking process of tests/zygote.py ended")
            return line


def _text(path: Path) -> str:
    """A captured stream as ``subprocess.run(text=True)`` gives it (universal newlines)."""
    data = path.read_bytes() if path.exists() else b""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_ZYGOTE = _Zygote()


def run_finews(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str] | None:
    """``finews ARGS`` in a forked child; None when a fresh interpreter must run it instead
    (asked for, or another thread of this test is using the forking process)."""
    if os.environ.get(FRESH) or not _ZYGOTE.lock.acquire(blocking=False):
        return None
    try:
        return _ZYGOTE.run(args, env, timeout)
    finally:
        _ZYGOTE.lock.release()


if __name__ == "__main__":
    _serve()
