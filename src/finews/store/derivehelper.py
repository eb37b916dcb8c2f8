"""A second core for a big write (#10's write speed): a helper process derives the search
documents, MinHash signatures (with their facts) and rows as published (the clean body, the
content hash) of a large batch while the writer stores it.

Deriving (jieba's cut above all) is about 40 % of a write and needs nothing from the
database; the writer's own part (its decisions, the story assignment, the SQL) needs the
derived values one article at a time, in the batch's order.  So the batch is cut into
chunks, the helper derives them ahead of the writer, and the writer takes each article's
values when it reaches it — deriving a chunk itself whenever the helper has not been given
that chunk yet (while the helper starts, the first of each batch), and the batch's last
untaken chunk rather than waiting when the helper has fallen behind.  The values are the
same whichever process made them (the same code, the same built-in dictionary); a batch
smaller than :data:`MIN_ARTICLES`, a machine with one core, or a helper that fails in any
way means the writer derives everything itself, as before: nothing is lost, only time.

The helper is ``python -c`` calling :func:`main` (a plain subprocess rather than
multiprocessing: nothing of the caller's ``__main__`` is imported again, and the package
given to it is the caller's own), speaking length-prefixed pickles over its standard input
and output.  It is started on the first big batch, kept for the next ones, and leaves by
itself after :data:`IDLE_SECONDS` without work, or as soon as its parent has gone (its
input closes).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any, Generic, TypeVar

log = logging.getLogger(__name__)

MIN_ARTICLES = 200
"""Fewer articles to derive than this: the writer derives them itself (a poll's batch is
a few dozen; starting the helper costs about a second of the other core)."""
CHUNK = 16
"""Articles per request: small enough that the writer rarely waits for the one it needs,
large enough that the pickling per request stays small."""
IN_FLIGHT = 4
"""Requests given to the helper and not yet answered: what it may work on ahead of the
writer; the rest stays for whichever process gets there first."""
IDLE_SECONDS = 60.0
"""A helper with nothing to do this long leaves (the next big batch starts another)."""
PATIENCE = 30.0
"""Seconds a writer waits for an answer before it derives the rest itself (a chunk takes
tens of milliseconds; a helper that is alive and silent this long is stuck)."""
_READY = 0
"""The key of the helper's first answer: its segmenter is loaded (requests count from 1)."""
_GONE = object()

K = TypeVar("K")
V = TypeVar("V")


def _write_frame(stream: IO[bytes], payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)))
    stream.write(payload)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes, fewer only at the end of the stream (an unbuffered read may return
    part of what was asked)."""
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read_frame(stream: IO[bytes]) -> bytes | None:
    head = _read_exact(stream, 4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    payload = _read_exact(stream, size)
    return payload if len(payload) == size else None


_PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # Linux's fcntl to resize a pipe (fcntl.F_SETPIPE_SZ from 3.10)


def _widen(stream: IO[bytes] | None) -> None:
    """A pipe of 1 MiB rather than 64 KiB, where the system allows it: a request of a
    chunk is about as large as the default, and the writer would wait for the helper to
    read it."""
    if stream is None:
        return
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", _F_SETPIPE_SZ), _PIPE_BYTES)
    except (ImportError, OSError):
        pass  # another system, or a lower limit: the default pipe works, a little slower


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Helper:
    """One helper process and the thread that reads its answers (so that neither side can
    block the other on a full pipe).  Each answer goes to the queue of the batch that asked
    for it: two threads writing big batches at once share the helper without taking each
    other's answers."""

    def __init__(self) -> None:
        # this process's own import path, exactly: the same finews and the same libraries
        # (an editable checkout, PYTHONPATH, a path set at run time), and no current folder
        code = (
            f"import sys; sys.path[:] = {[p for p in sys.path if p]!r}; "
            f"import {__name__} as h; h.main({IDLE_SECONDS!r})"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # nothing of the helper's reaches the user's terminal: a failure is the
            # writer's to report (it derives instead)
            stderr=subprocess.DEVNULL,
        )
        for stream in (self.process.stdin, self.process.stdout):
            _widen(stream)
        self.pid = os.getpid()
        self.ready = threading.Event()
        self.alive = True
        self.closing = False  # this process ends it (it did not fail)
        self._lock = threading.Lock()  # the routes and ``alive``
        self._sending = threading.Lock()  # the request pipe (never held by the reader)
        self._routes: dict[int, queue.Queue[Any]] = {}
        threading.Thread(target=self._read, name="finews-derive-helper", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while (frame := _read_frame(self.process.stdout)) is not None:
                key, values = pickle.loads(frame)
                if key == _READY:
                    self.ready.set()
                    continue
                with self._lock:
                    route = self._routes.pop(key, None)
                if route is not None:
                    route.put((key, values))
        except Exception:  # a broken helper: the writers derive the rest themselves
            log.debug("the derive helper's answer could not be read", exc_info=True)
        finally:
            with self._lock:
                self.alive = False
                routes, self._routes = list(self._routes.values()), {}
            if not self.ready.is_set() and not self.closing:
                _give_up("the derive helper ended before it could work")
            for route in routes:
                route.put(_GONE)
            self.ready.set()  # nobody waits for a helper that has gone
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                self.process.wait(timeout=5)  # reaped: no zombie left behind
            with contextlib.suppress(OSError):
                self.process.stdout.close()  # (the input is closed by ``close``)

    def send(self, key: int, items: Sequence[Any], reply_to: queue.Queue[Any]) -> bool:
        """Ask for a chunk; its answer (or ``_GONE``) will come to ``reply_to``."""
        payload = pickle.dumps((key, list(items)), protocol=5)
        assert self.process.stdin is not None
        with self._lock:
            if not self.alive:
                return False
            self._routes[key] = reply_to
        try:
            with self._sending:
                _write_frame(self.process.stdin, payload)
        except (OSError, ValueError):
            with self._lock:
                self._routes.pop(key, None)
                self.alive = False
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self.alive = False
            self.closing = True
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


_lock = threading.Lock()
_helper: _Helper | None = None
_keys = itertools.count(1)
_helped = 0
_refused = ""
"""Why this process starts no more helpers (one could not start or never got ready)."""


def _give_up(reason: str) -> None:
    global _refused
    if not _refused:
        _refused = reason
        log.warning("%s: this process derives its writes itself", reason)


def _the_helper() -> _Helper | None:
    """The process's helper, started if there is none (or the last one has left); None
    when helpers do not work here."""
    global _helper
    with _lock:
        if _helper is not None and (not _helper.alive or _helper.pid != os.getpid()):
            if _helper.pid == os.getpid():
                _helper.close()
            _helper = None
        if _helper is None and not _refused:
            try:
                _helper = _Helper()
            except OSError as exc:
                _give_up(f"no helper process for deriving ({exc})")
        return _helper


@atexit.register
def _close() -> None:
    """The helper leaves with this process (it would anyway, when its input closes)."""
    with _lock:
        if _helper is not None and _helper.pid == os.getpid():
            _helper.close()


def warm_up(timeout: float = 30.0) -> bool:
    """Start the helper now and wait until it can take work (True) — before a long import,
    so that its first batch does not find the helper still loading its dictionary."""
    if _cores() < 2:
        return False
    helper = _the_helper()
    if helper is None:
        return False
    return helper.ready.wait(timeout) and helper.alive


def helped() -> int:
    """How many chunks the helpers of this process have derived so far."""
    return _helped


def wanted(count: int) -> bool:
    """Whether a batch with ``count`` articles to derive is worth the helper."""
    return count >= MIN_ARTICLES and _cores() >= 2


class Derivations(Generic[K, V]):
    """The derived values of a batch's items, made by the helper ahead of the writer or by
    the writer itself, whichever gets to a chunk first; ``get`` in roughly the batch's
    order, from one thread."""

    def __init__(self, items: Sequence[K], derive: Callable[[K], V]) -> None:
        self._derive = derive
        self._chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
        self._chunk_of = {item: n for n, chunk in enumerate(self._chunks) for item in chunk}
        self._done: dict[K, V] = {}
        self._taken: set[int] = set()  # chunks derived, or given to the helper
        self._sent: dict[int, int] = {}  # request key → chunk, not yet answered
        self._at = 0  # the chunk the writer reached last
        self._answers: queue.Queue[Any] = queue.Queue()
        self._helper = _the_helper()

    def get(self, item: K) -> V | None:
        """The item's values (None: not an item of this batch)."""
        if item in self._done:
            return self._done[item]
        n = self._chunk_of.get(item)
        if n is None:
            return None
        self._at = n
        self._collect(wait=False)
        if n not in self._taken:
            self._derive_here(n)
        while item not in self._done:
            if self._collect(wait=False) and item in self._done:
                break
            last = self._last_free()
            if last is not None:
                # the helper is behind: rather than wait, take the batch's last chunk
                # nobody has taken (the writer reaches it last)
                self._derive_here(last)
                continue
            if not self._collect(wait=True):
                # the helper left (or stopped answering) with this chunk: derive what it
                # still owed
                for lost in [*self._sent.values(), n]:
                    self._derive_here(lost)
                self._sent.clear()
        self._top_up()
        return self._done[item]

    def _last_free(self) -> int | None:
        """The highest chunk after the writer's that nobody has taken yet."""
        for n in range(len(self._chunks) - 1, self._at, -1):
            if n not in self._taken:
                return n
        return None

    def _derive_here(self, n: int) -> None:
        self._taken.add(n)
        for item in self._chunks[n]:
            if item not in self._done:
                self._done[item] = self._derive(item)

    def _collect(self, *, wait: bool) -> bool:
        """Take the helper's answers (``wait``: at least one); False when it has gone, or
        has not answered for :data:`PATIENCE` seconds (then this batch stops asking it)."""
        if self._helper is None:
            return False
        while True:
            try:
                answer = self._answers.get(block=wait, timeout=PATIENCE if wait else None)
            except queue.Empty:
                if wait:
                    log.warning("the derive helper did not answer in %.0f s: stopped", PATIENCE)
                    with contextlib.suppress(OSError):
                        self._helper.process.kill()  # reaped by its reader; the next big
                        # batch starts another
                    self._helper = None
                    return False
                return True
            if answer is _GONE:
                log.warning("the derive helper ended in a write: this process derives the rest")
                self._helper = None
                return False
            key, values = answer
            n = self._sent.pop(key)
            if values is None:  # the helper could not derive it: do it here
                self._derive_here(n)
            else:
                for item, value in zip(self._chunks[n], values, strict=True):
                    self._done.setdefault(item, value)
                global _helped
                _helped += 1
            wait = False

    def _top_up(self) -> None:
        """Give the helper the next chunks after the writer's, up to IN_FLIGHT."""
        helper = self._helper
        if helper is None or not helper.ready.is_set():
            return
        n = self._at + 1
        while len(self._sent) < IN_FLIGHT and n < len(self._chunks):
            if n not in self._taken:
                key = next(_keys)
                if not helper.send(key, self._chunks[n], self._answers):
                    self._helper = None
                    return
                self._taken.add(n)
                self._sent[key] = n
            n += 1

    def start(self) -> Derivations[K, V]:
        """Give the helper its first chunks, if it is ready (else the writer starts)."""
        self._top_up()
        return self


def _serve(idle: float) -> None:
    """The helper's side: answer requests until the input closes or nothing comes for
    ``idle`` seconds.  A thread reads the requests as they come, so that the writer never
    blocks on a full pipe while this process is busy with an earlier chunk."""
    from finews.search import segment
    from finews.store.articles import derive

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    requests: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        try:
            while (frame := _read_frame(stdin)) is not None:
                requests.put(frame)
        finally:
            requests.put(None)

    threading.Thread(target=read, daemon=True).start()
    segment.tokenizer()
    _write_frame(stdout, pickle.dumps((_READY, None), protocol=5))
    while True:
        try:
            frame = requests.get(timeout=idle)
        except queue.Empty:
            return
        if frame is None:
            return
        key, items = pickle.loads(frame)
        try:
            values: list[Any] | None = [derive(item) for item in items]
        except Exception:
            log.warning("the derive helper failed on a chunk; the writer derives it", exc_info=True)
            values = None
        _write_frame(stdout, pickle.dumps((key, values), protocol=5))


def main(idle: float) -> None:
    """The helper process's entry (``python -c``: ``-m`` would run this module a second
    time beside the copy the package imports).  Ctrl-C in a terminal reaches the helper
    too: it is ignored, the helper leaves when its writer's input closes.  It ends with
    ``os._exit``: a normal interpreter shutdown with the reader thread blocked on the
    standard input aborted (SIGABRT, "could not acquire lock for <stdin>")."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = 0
    try:
        _serve(idle)
    except BrokenPipeError:
        pass
    except Exception:
        code = 1
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    os._exit(code)
