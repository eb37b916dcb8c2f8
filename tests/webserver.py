"""The real ``finews serve`` app on a real uvicorn server on 127.0.0.1, for tests; and a
plain static file server for a built site (what a static host does)."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from finews.web.app import ServeOptions, create_app, ending_streams_first


@contextmanager
def serving(db_url: str, site_dir: Path, **options: object) -> Iterator[str]:
    """Run the app in a thread; yield its base URL (``http://127.0.0.1:PORT/``)."""
    chosen: dict[str, object] = {"poll_interval": 0.2, **options}
    app = create_app(ServeOptions(db_url=db_url, site_dir=site_dir, **chosen))  # type: ignore[arg-type]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="on",
            # as `finews serve` bounds its own (3 s): a test's event-stream reader blocked in
            # recv() in a thread keeps its socket open after the client is closed, so the
            # server never hears the disconnect and, unbounded, waited for the next
            # keep-alive (15 s) — 10 s of every such test's teardown, a thread left running
            timeout_graceful_shutdown=1,
        )
    )
    ending_streams_first(server)  # as `finews serve` stops: open streams end whole
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    except BaseException:
        server.should_exit = True
        thread.join(10)
        raise  # the test's own failure, not the server's slow stop
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "the web app did not stop within 10 s"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A plain static file server on 127.0.0.1, without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def static_site(site_dir: Path) -> Iterator[str]:
    """Serve a built site's files as a static host would; yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
