"""The ASGI app of ``finews serve``.

    /                      the built site (static files; HTML pages get live.js)
    /search                the search page, server-rendered (works without JavaScript)
    /topics, /calendar     the upstreams' topics and 金十's data releases (issue #15)
    /feeds/search.{atom,rss,json}   a search or a filtered listing as a feed
    /api/…                 the JSON API (articles, one article, search, sources)
    /api/stream            Server-Sent Events: new articles as they are stored
    /api/openapi.json      the API's OpenAPI description

Every response carries a Content-Security-Policy that allows scripts from this server
only (no inline script, so nothing an article body smuggles in can run), plus caching
headers; responses are gzip-compressed.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finews import __version__
from finews.config import Settings
from finews.errors import ConfigError, RequestError, StoreError
from finews.search import service
from finews.search.query import parse
from finews.site.options import SiteOptions
from finews.site.pages.articles import page_from_store
from finews.site.render import Renderer
from finews.store import Store
from finews.web import api, upstream_pages
from finews.web.live import Hub
from finews.web.pages import (
    LIVE_SCRIPT,
    SiteFiles,
    Templates,
    bounded,
    search_feed,
    search_page,
)
from finews.web.status import status_view

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "media-src 'self' https: http:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class ServeOptions:
    db_url: str
    site_dir: Path
    title: str = "金融消息"
    search_form: bool = True
    templates: str = ""
    root_path: str = ""
    """Where the app is mounted behind a proxy (``/news``); empty at the root."""
    poll_interval: float = 5.0
    """How often (seconds) the store is checked for new articles when no commit
    notification comes (writers notify: this is the fallback)."""
    stale_after: float = 3600.0
    """A source with nothing new for this long is reported stale."""
    stale_clock: str = "wall"
    """``newest``: staleness against the newest stored item (a replay), not the clock."""
    stock_list: Path | None = None
    """The installed stock list (``finews stocks --refresh``), for stocks named in filters."""
    search_token: str = field(default_factory=lambda: secrets.token_hex(16))
    """Named in each search answer, and in the announcement only the user can read, so
    that ``finews search`` knows it asked this server (:mod:`finews.web.rendezvous`)."""

    @classmethod
    def from_settings(cls, settings: Settings, site_dir: Path) -> ServeOptions:
        s = settings
        return cls(
            db_url=s.db_url,
            site_dir=site_dir,
            title=s.site.title,
            search_form=s.site.search_form,
            templates=s.site.templates,
            root_path=s.serve.root_path,
            poll_interval=s.serve.poll_interval,
            stale_after=s.run.stale_after,
            stale_clock=s.run.stale_clock,
            stock_list=s.data_path / "a_shares.csv",
        )


def _cache_control(path: str) -> str:
    """Assets may be cached an hour; everything else is revalidated on every use
    (``no-cache`` + the ETag → a 304 costs nothing), since a news page changes by the minute."""
    if path.startswith(("/assets/", "/_finews/")):
        return "public, max-age=3600"
    return "no-cache"


class Headers:
    """Security and caching headers on every response (a plain ASGI middleware, so that
    the event stream is not buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cache = _cache_control(scope["path"]).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                if b"cache-control" not in present:
                    extra.append((b"cache-control", cache))
                message["headers"] = headers + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _listen_hint(exc: OSError) -> str:
    """Why a bind failed, and the flag that fixes it: a taken port wants another
    ``--port``, an address that is not this machine's wants another ``--host``."""
    import errno

    reason = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        return f"{reason} (another program listens there: choose another --port)"
    if exc.errno in {errno.EACCES, errno.EPERM}:
        return f"{reason} (ports below 1024 need privileges: choose --port 1024 or above)"
    return f"{reason} (not an address of this machine: --host 127.0.0.1, or one it has)"


def ending_streams_first(server: Any) -> None:
    """Make a uvicorn server end its app's event streams before it shuts down (the app's
    :meth:`Hub.end_streams`): Ctrl-C with a page open stopped after the graceful timeout
    (3 s) and left the browser a half-sent response; now at once, and whole."""
    shutdown = server.shutdown

    async def shutdown_after_streams(sockets: Any = None) -> None:
        app = server.config.app  # the FastAPI app given to uvicorn.Config
        hub = getattr(getattr(app, "state", None), "hub", None)
        if hub is not None:
            hub.end_streams()
        await shutdown(sockets=sockets)

    server.shutdown = shutdown_after_streams


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a :class:`ConfigError` saying why not (the port is taken,
    the address is not this machine's) — uvicorn itself would exit the process."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port}: {_listen_hint(exc)}") from None
    sock.set_inheritable(True)
    return sock


def _warm_search(store: Store, stopped: threading.Event, searching: threading.Lock) -> None:
    """One search at start, in the background: the first reader's search (or a
    ``finews search`` that asks this server, finews.web.rendezvous) then does not wait
    1–3 s for the segmenter's dictionary and the query machinery to load.  An app that
    stopped meanwhile is not searched (its store is closing: the lock lets it close only
    after a search under way)."""
    with contextlib.suppress(Exception):  # a store that cannot search says so when asked
        parse(_WARM_QUERY)  # the segmenter: the slow part
        with searching:
            if not stopped.is_set():
                service.search(store, _WARM_QUERY, limit=1)


_WARM_QUERY = "上证指数 上涨"


def create_app(options: ServeOptions) -> FastAPI:

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.open(options.db_url)
        hub = Hub(store, options.poll_interval, options.root_path.rstrip("/") + "/")
        app.state.store = store
        app.state.hub = hub
        app.state.stale_after = options.stale_after
        app.state.stale_clock = options.stale_clock
        app.state.search_cache = api.ResultCache()
        app.state.search_token = options.search_token
        app.state.stock_list = options.stock_list
        stopped, searching = threading.Event(), threading.Lock()
        threading.Thread(
            target=_warm_search, args=(store, stopped, searching), daemon=True, name="warm"
        ).start()
        await hub.start()
        try:
            yield
        finally:
            stopped.set()
            with searching:  # a warm-up search under way ends before the store closes
                pass
            await hub.stop()
            store.close()

    app = FastAPI(
        title="finews",
        version=__version__,
        description="Chinese financial news: articles, search and live updates.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
        root_path=options.root_path,
    )
    templates = Templates(options.title, options.search_form, options.templates)
    root = options.root_path.rstrip("/") + "/"
    script_tag = f'<script src="{root}{LIVE_SCRIPT}" data-root="{root}" defer></script>\n'

    @app.exception_handler(RequestError)
    async def request_error(_: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(StoreError)
    async def store_error(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    app.include_router(api.router)

    @app.get("/api/stream", include_in_schema=True, summary="New articles (Server-Sent Events)")
    async def stream(request: Request) -> StreamingResponse:
        """``event: article`` with the article as JSON; ``id`` is its row id, so a
        reconnecting client (``Last-Event-ID``) gets what it missed."""
        last = request.headers.get("last-event-id", "")
        hub: Hub = request.app.state.hub
        return StreamingResponse(
            hub.stream(int(last) if last.isascii() and last.isdigit() and len(last) < 19 else None),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search(request: Request) -> HTMLResponse:
        html, status = search_page(
            request.app.state.store,
            templates,
            dict(request.query_params.items()),
            request.app.state.stock_list,
        )
        return HTMLResponse(html, status_code=status)

    media_types = {
        "atom": "application/atom+xml; charset=utf-8",
        "rss": "application/rss+xml; charset=utf-8",
        "json": "application/feed+json; charset=utf-8",
    }

    @app.get("/feeds/search.{kind}", include_in_schema=False)
    def feed(request: Request, kind: str) -> Response:
        if kind not in media_types:
            raise HTTPException(404, "feeds are .atom, .rss or .json")
        body = search_feed(
            request.app.state.store,
            templates,
            dict(request.query_params.items()),
            kind,
            str(request.base_url),
            request.app.state.stock_list,
        )
        return Response(body, media_type=media_types[kind])

    @app.get("/status", response_class=HTMLResponse, include_in_schema=False)
    def status(request: Request) -> HTMLResponse:
        """Each source's health, for a person (the API has it as JSON)."""
        import time

        from finews.run.health import data_clock, report
        from finews.sources.registry import known_sources
        from finews.store import upstream

        now = time.time()
        statuses = upstream.status(request.app.state.store)
        health = report(
            statuses, list(known_sources()), now, options.stale_after, options.stale_clock
        )
        data_now = data_clock(statuses, now, options.stale_clock)
        return HTMLResponse(
            templates.render(
                "status.html",
                sources=[status_view(h, now, data_now) for h in health],
                replay=options.stale_clock == "newest",
            )
        )

    @app.get("/topics", response_class=HTMLResponse, include_in_schema=False)
    def topics_view(request: Request, id: str = "", page: str = "1") -> HTMLResponse:
        """The upstreams' topics (财联社 subjects …), or one topic's articles (issue #15),
        a page at a time (a page number that is no number is the first page)."""
        number = bounded(page, 1, 1, 999_999)
        html, code = upstream_pages.topics_page(request.app.state.store, templates, id, number)
        return HTMLResponse(html, status_code=code)

    @app.get("/feeds/topic.{kind}", include_in_schema=False)
    def topic_feed(request: Request, kind: str, id: str = "") -> Response:
        if kind not in media_types:
            raise HTTPException(404, "feeds are .atom, .rss or .json")
        body = upstream_pages.topic_feed(
            request.app.state.store, templates, id, kind, str(request.base_url)
        )
        if body is None:
            raise HTTPException(404, "no such topic")
        return Response(body, media_type=media_types[kind])

    @app.get("/calendar", response_class=HTMLResponse, include_in_schema=False)
    def calendar_view(request: Request, date: str = "") -> HTMLResponse:
        """金十's economic-data releases of a day (issue #15)."""
        html, code = upstream_pages.calendar_page(request.app.state.store, templates, date)
        return HTMLResponse(html, status_code=code)

    live_js = Path(str(resources.files("finews.web") / "static" / "live.js"))

    @app.get(f"/{LIVE_SCRIPT}", include_in_schema=False)
    def live_script() -> FileResponse:
        return FileResponse(live_js, media_type="text/javascript")

    article_renderer = Renderer(
        SiteOptions(
            title=options.title, search_form=options.search_form, templates=options.templates
        )
    )

    def unbuilt_page(path: str) -> str | None:
        """An article stored since the site was built: its page, rendered as the build
        would (the live lines link to it at once)."""
        with app.state.store.engine.connect() as conn:
            return page_from_store(conn, article_renderer, path)

    site_files = SiteFiles(
        options.site_dir,
        script_tag.encode(),
        lambda: templates.render("empty.html", site_dir=str(options.site_dir)),
        # the pages only the app has (issue #12, #15): linked from every page it serves
        (
            f' · <a href="{root}status">来源状态</a> · <a href="{root}topics">话题</a>'
            f' · <a href="{root}calendar">财经日历</a>'
        ).encode(),
        unbuilt_page,
    )
    app.mount("/", site_files, name="site")
    app.add_middleware(GZipMiddleware, minimum_size=800)
    app.add_middleware(Headers)
    return app
