"""The web app in its own process, for ``finews run``.

Polling, processing and site builds are CPU work in Python; so is answering HTTP.  In one
process they share one interpreter lock: under a flood of requests ingestion slowed to a
fifth (bench/load.py).  In its own process the web app has its own interpreter — and
needs nothing from the runner: it reads the store, and its live updates see new articles
there like any other reader.

The child reports over a pipe that it listens (or why it cannot: a taken port is a
:class:`ConfigError` in the parent), and stops when asked, when the parent's pipe closes
(the parent was killed), or on its own SIGINT/SIGTERM.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import threading
from multiprocessing.connection import Connection
from typing import Any

from finews.errors import ConfigError
from finews.logs import chosen
from finews.web.app import ServeOptions

START_TIMEOUT = 60.0


def _child(
    options: ServeOptions,
    host: str,
    port: int,
    conn: Connection,
    logs: tuple[int, str],
    bound: socket.socket | None = None,
) -> None:
    import uvicorn

    from finews.logs import configure_logging

    configure_logging(*logs)
    from finews.web import rendezvous
    from finews.web.app import create_app, ending_streams_first, listen

    if bound is not None:
        sock = bound  # the parent's, bound before its first build: nobody took it meanwhile
    else:
        try:
            sock = listen(host, port)
        except ConfigError as exc:
            conn.send(("error", str(exc)))
            return
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(options),
            log_level="warning",
            log_config=None,
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
    )

    ending_streams_first(server)

    def watch_parent() -> None:
        with contextlib.suppress(EOFError, OSError):
            conn.recv()  # "stop", or EOFError when the parent is gone
        server.should_exit = True

    threading.Thread(target=watch_parent, daemon=True, name="parent-watch").start()
    startup = server.startup

    announcement = rendezvous.Announcement(
        options.db_url, host, sock.getsockname()[1], options.search_token
    )

    async def announced_startup(sockets: Any = None) -> None:
        await startup(sockets=sockets)
        if server.started:
            announcement.write()  # for `finews search` (finews.web.rendezvous)
            conn.send(("ready", sock.getsockname()[1]))

    server.startup = announced_startup  # type: ignore[method-assign]
    # uvicorn raises SIGINT/SIGTERM again after its graceful shutdown: unwind quietly
    # (every finally runs, the announcement is taken away) instead of ending on the spot
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        announcement.remove()


class WebProcess:
    """``finews serve``'s app, run by ``finews run`` in a child process."""

    def __init__(
        self, options: ServeOptions, host: str, port: int, sock: socket.socket | None = None
    ) -> None:
        """``sock``: a socket already listening on ``host:port`` (:func:`listen`), handed
        to the child (and closed here once it has its copy); else the child binds."""
        context = multiprocessing.get_context("spawn")
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=_child,
            args=(options, host, port, child_conn, chosen(), sock),
            name="finews-web",
        )
        try:
            self.process.start()
        finally:
            child_conn.close()
            if sock is not None:
                sock.close()  # the child has its own copy: the port stays taken by it
        if not self.conn.poll(START_TIMEOUT):
            self.stop()
            raise ConfigError(f"the web app on {host}:{port} did not start")
        try:
            kind, value = self.conn.recv()
        except EOFError:
            self.stop()
            raise ConfigError(f"the web app on {host}:{port} did not start") from None
        if kind == "error":
            self.stop()
            raise ConfigError(str(value))
        self.port = int(value)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask it to stop (streams close, requests in flight finish), then insist."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.send("stop")
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()
