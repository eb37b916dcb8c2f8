"""Commit notifications: readers hear of stored articles the moment they are committed.

Whoever writes the store (``finews run``'s polls, ``finews fetch``, Celery workers, an
import) is usually another process than whoever shows it (the web app, #17).  Instead
of the reader looking at the store on a timer, the writer tells it:

- **PostgreSQL**: ``NOTIFY finews_articles`` inside the writing transaction — the server
  delivers it at commit, and only if the transaction commits — and readers ``LISTEN`` on
  a connection of their own (from any machine).
- **SQLite** has no server to relay anything: each reader binds a Unix datagram socket
  in a folder named after the database file (under the temporary folder, private to the
  user), and a writer, right after its commit, sends one empty datagram to every socket
  there.  A socket whose reader is gone refuses the datagram and is removed.  Sending is
  non-blocking: a reader that is behind (its queue full) has a wake-up waiting anyway.

A lost notification costs latency, never an article: a reader reads everything after
what it saw on every wake-up, and still looks on a slow timer (``serve.poll_interval``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

CHANNEL = "finews_articles"
_UNIX = os.name == "posix" and hasattr(socket, "AF_UNIX")
_MAX_PATH = 100
"""A Unix socket path must fit in ``sun_path`` (108 bytes on Linux, 104 on BSDs)."""


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of an SQLite engine (None: another database, or in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).resolve()


def socket_folder(db: Path) -> Path:
    """Where the readers of one SQLite file listen: one folder per file, per user."""
    digest = hashlib.sha1(str(db).encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"finews-{os.getuid()}" / digest


def in_transaction(conn: Connection) -> None:
    """Inside a write transaction that changed articles: PostgreSQL queues the NOTIFY and
    sends it at commit (never for a rolled-back one)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def announce(engine: Engine) -> int:
    """After a commit that changed articles: wake every reader of this SQLite file.
    Returns how many were told (0 on PostgreSQL: its NOTIFY went with the commit)."""
    db = sqlite_file(engine)
    if db is None or not _UNIX:
        return 0
    folder = socket_folder(db)
    try:
        names = [n for n in os.listdir(folder) if n.endswith(".sock")]
    except OSError:
        return 0  # nobody listens
    told = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for name in names:
            path = folder / name
            try:
                sender.sendto(b"", str(path))
                told += 1
            except BlockingIOError:
                told += 1  # its queue is full: it has wake-ups waiting already
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()  # its reader is gone (killed without cleaning up)
            except OSError as exc:
                log.debug("cannot notify %s: %s", path, exc)
    return told


class Listener(Protocol):
    def attach(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        """Call ``wake`` on ``loop`` whenever a writer commits."""
        ...

    def wait_ready(self, timeout: float) -> bool:
        """Block until notifications are heard (a LISTEN in place); False on timeout."""
        ...

    def close(self) -> None: ...


class SqliteListener:
    """A Unix datagram socket in the database's folder; readable = something committed."""

    def __init__(self, db: Path) -> None:
        folder = socket_folder(db)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.parent.stat().st_uid != os.getuid():
            raise OSError(f"{folder.parent} belongs to another user")
        self.path = folder / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
        if len(str(self.path)) > _MAX_PATH:
            raise OSError(f"{self.path} is too long for a Unix socket")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.bind(str(self.path))
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        def readable() -> None:
            self.drain()
            wake()

        self._loop = loop
        loop.add_reader(self.sock.fileno(), readable)

    def wait_ready(self, timeout: float) -> bool:
        return True  # bound: datagrams queue from now on

    def drain(self) -> int:
        """Take every waiting datagram (many commits, one wake-up)."""
        count = 0
        while True:
            try:
                self.sock.recv(16)
            except (BlockingIOError, OSError):
                return count
            count += 1

    def close(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


class PostgresListener:
    """``LISTEN finews_articles`` on a connection of its own, in a thread (psycopg's
    ``notifies`` blocks); reconnects after a lost connection, and wakes the reader then
    too (what was committed meanwhile is read on that wake-up)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()
        """Set once LISTEN is in place (tests wait for it)."""

    def attach(self, loop: asyncio.AbstractEventLoop, wake: Callable[[], None]) -> None:
        def notify_loop() -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(wake)

        self._thread = threading.Thread(
            target=self._run, args=(notify_loop,), daemon=True, name="finews-listen"
        )
        self._thread.start()

    def wait_ready(self, timeout: float) -> bool:
        return self.listening.wait(timeout)

    def _run(self, wake: Callable[[], None]) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            wake()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("live updates: LISTEN failed (%s); retrying", exc)
                self._stop.wait(2.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def listen(engine: Engine) -> Listener | None:
    """A listener for commits to this store, or None when there is no way to hear them
    (SQLite in memory, no Unix sockets): the reader then relies on its timer."""
    if engine.dialect.name == "postgresql":
        url: Any = engine.url.set(drivername="postgresql")
        return PostgresListener(url.render_as_string(hide_password=False))
    db = sqlite_file(engine)
    if db is None or not _UNIX:
        return None
    try:
        return SqliteListener(db)
    except OSError as exc:
        log.warning("live updates: cannot listen for commits (%s); checking on a timer", exc)
        return None
