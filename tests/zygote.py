"""Real ``finews`` processes without paying for the imports each time.

The suite runs the command line some 250 times.  A new interpreter spends 0.4–1 s of each
run importing Typer, Rich, SQLAlchemy and the package before the command starts — the same
work every time.  This module keeps one process per test worker that has done those imports
once and forks a child for each command: the child is a separate process with its own
environment, working folder, argument vector, exit status and standard streams (pipes, read
to their end as ``subprocess.run`` reads them: a process left holding one keeps the run
waiting, as it would), running ``python -m finews``'s own ``__main__``
(:func:`finews.cli.main`); its exit waits for its threads and runs the exit handlers, as an
interpreter's does.  What an import wrote to the standard streams is written again by each
child, as each fresh process would write it.

What a fork cannot give is what an interpreter fixes as it starts: its hash seed (every
child of one worker orders a ``set`` of strings alike) and what ``PYTHON*``, the locale and
the terminal variables Rich reads at import set up.  A run whose environment changes any of
those gets a fresh ``python -m finews`` instead (:data:`FIXED_AT_START`), as do tests that
signal a process, time one or look at what it imports (they start their own), and every run
when ``TEST_FRESH_PROCESSES=1``.  ``tests/test_zygote.py`` holds forked answers equal to fresh
ones.

Run as a script, this file is the forking process: it takes one request at a time on a Unix
socket (JSON, and the write ends of the run's stdout and stderr pipes), and answers the
child's pid, then its exit status.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import locale
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

FRESH = "TEST_FRESH_PROCESSES"
FIXED_AT_START = ("PYTHON", "LANG", "LC_", "FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES",
                  "TERM", "TTY_", "CLICOLOR", "COLORTERM", "JUPYTER")  # fmt: skip
"""Variables (or prefixes) an interpreter or Rich reads once, as the process starts or
imports: a run that changes one from the forking process's value runs fresh."""

_MAX_MESSAGE = 1 << 20


# ------------------------------------------------------------------------------ the server


def _child(request: dict[str, Any], out: int, err: int, noise: tuple[bytes, bytes]) -> None:
    """In the forked child: become ``python -m finews ARGS`` and exit as it would."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (devnull, out, err):
            os.close(fd)
        # the parent's stdin object may hold read-ahead: a fresh one over /dev/null
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # TZ is read again, as a new process reads it
        import tempfile

        tempfile.tempdir = None  # and TMPDIR (the parent's imports fixed its own)
        for fd, written in zip((1, 2), noise, strict=True):
            if written:
                os.write(fd, written)
        import runpy

        import finews

        sys.argv = [os.path.join(os.path.dirname(finews.__file__), "__main__.py"), *request["args"]]
        sys.path[0] = os.getcwd()
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
        except KeyboardInterrupt:
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # an interpreter dies by the signal
            os.kill(os.getpid(), signal.SIGINT)
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
                code = 120
    finally:
        os._exit(code)


def _imports() -> tuple[bytes, bytes]:
    """Import what every command imports; return what that wrote to stdout and stderr."""
    import tempfile

    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            import finews.cli  # Typer, Rich, the settings
            import finews.store.sqlstore  # noqa: F401  (SQLAlchemy)

            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
        out.seek(0)
        err.seek(0)
        return out.read(), err.read()


def _serve(channel: socket.socket) -> None:
    """Take requests, fork a child for each, answer its pid and its exit status."""
    noise = _imports()
    while True:
        message, fds, _, _ = socket.recv_fds(channel, _MAX_MESSAGE, 2)
        if not message:
            return
        request = json.loads(message)
        out, err = fds
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            channel.close()
            os.setpgid(0, 0)  # its own group: a killed run takes its own children with it
            _child(request, out, err, noise)
        with contextlib.suppress(OSError):  # both sides, so that no kill finds it in ours
            os.setpgid(pid, pid)
        os.close(out)
        os.close(err)
        try:
            channel.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            status = _wait(pid, channel)
            if status is None:
                return
            channel.sendall(json.dumps({"status": status}).encode() + b"\n")
        except OSError:  # the worker closed the channel as we answered: as in _wait
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            return


def _wait(pid: int, channel: socket.socket) -> int | None:
    """The child's exit status; or, when the test worker closes the channel first (it gave
    up on the run, or died), None after the child's group is killed: no run outlives the
    worker that asked for it."""
    exited = os.pidfd_open(pid)
    try:
        while True:
            ready, _, _ = select.select([exited, channel], [], [])
            if exited in ready:
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
    finally:
        os.close(exited)


# ------------------------------------------------------------------------------ the client


class _Zygote:
    """This test worker's forking process, started on first use, stopped at exit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: socket.socket | None = None
        self.env: dict[str, str] = {}
        self.buffer = b""
        atexit.register(self.stop)

    def _started(self) -> socket.socket:
        if self.process is None or self.process.poll() is not None or self.channel is None:
            self.stop()
            # one datagram a request: the request and its descriptors arrive whole
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.env = dict(os.environ)
            self.process = subprocess.Popen(
                [sys.executable, __file__, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
            theirs.close()
            self.channel, self.buffer = ours, b""
        return self.channel

    def stop(self) -> None:
        """Close the channel (the forking process ends) and make sure it has ended."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.process is not None:
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None

    def forks(self, env: dict[str, str]) -> bool:
        """Whether a forked child can be what a fresh process with ``env`` would be."""
        names = {n for n in (*env, *self.env) if n.startswith(FIXED_AT_START)}
        return all(env.get(n) == self.env.get(n) for n in names)

    def _answer(self, deadline: float) -> dict[str, Any]:
        assert self.channel is not None
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.channel.settimeout(left)
            try:
                data = self.channel.recv(4096)
            except TimeoutError:
                raise TimeoutError from None
            if not data:
                raise RuntimeError("the forking process of tests/zygote.py ended")
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(line)  # type: ignore[no-any-return]

    def run(
        self, args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str] | None:
        """The run's answer; None when the forking process could not take it (it had
        ended): the caller runs it fresh."""
        channel = self._started()
        request = {"args": args, "env": env, "cwd": os.getcwd()}
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = None
        try:
            try:
                socket.send_fds(channel, [json.dumps(request).encode()], [out_w, err_w])
                os.close(out_w)
                os.close(err_w)
                out_w = err_w = -1
                deadline = time.monotonic() + timeout
                pid = self._answer(time.monotonic() + 30)["pid"]
            except (OSError, RuntimeError):
                self._abandon(pid)
                return None
            stdout, stderr = _read_to_end(out_r, err_r, deadline)
            status = self._answer(deadline)["status"]
        except TimeoutError:
            self._abandon(pid)
            raise subprocess.TimeoutExpired(["finews", *args], timeout) from None
        except BaseException:
            # interrupted (pytest-timeout, Ctrl-C) or the forking process died: the child
            # and the forking process go, so that no late answer reaches the next run
            self._abandon(pid)
            raise
        finally:
            for fd in (out_r, err_r, out_w, err_w):
                if fd >= 0:
                    os.close(fd)
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "finews", *args], status, _text(stdout), _text(stderr)
        )

    def _abandon(self, pid: int | None) -> None:
        """Give up on a run: its child (when its pid is known) is killed; the channel is
        closed, and the forking process, seeing that, kills a child whose pid never reached
        us (an interrupt between the fork and the answer) and ends."""
        if pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
        self.stop()


def _read_to_end(out: int, err: int, deadline: float) -> tuple[bytes, bytes]:
    """Both pipes to their end (every holder closed), as ``communicate`` reads them."""
    chunks: dict[int, list[bytes]] = {out: [], err: []}
    with selectors.DefaultSelector() as selector:
        for fd in chunks:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for key, _ in selector.select(left):
                data = os.read(key.fd, 65536)
                if data:
                    chunks[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    return b"".join(chunks[out]), b"".join(chunks[err])


def _text(data: bytes) -> str:
    """A captured stream as ``subprocess.run(text=True)`` gives it (universal newlines)."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


_ZYGOTE = _Zygote()


def run_finews(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str] | None:
    """``finews ARGS`` in a forked child; None when a fresh interpreter must run it instead
    (asked for, an interpreter-level variable changed, or another thread of this test is
    using the forking process)."""
    if os.environ.get(FRESH) or not _ZYGOTE.lock.acquire(blocking=False):
        return None
    try:
        _ZYGOTE._started()
        if not _ZYGOTE.forks(env):
            return None
        return _ZYGOTE.run(args, env, timeout)
    finally:
        _ZYGOTE.lock.release()


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
