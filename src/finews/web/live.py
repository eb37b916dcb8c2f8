"""Live updates: new articles, pushed to open pages over Server-Sent Events.

Whatever stores articles (``finews fetch`` or ``finews run`` in another process, an
import) only writes the database; the web app notices by polling the highest article
row id — one indexed ``max()`` every half second — and fans every new article out to
the connected streams.  A reconnecting browser sends ``Last-Event-ID`` (the row id of
the last article it saw) and gets what it missed from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread

from finews.model import Article
from finews.site import paths
from finews.site.formats import iso_time, short_time
from finews.site.stream import stock_pairs, stream_line
from finews.store import Store
from finews.store.sqlstore import section_of

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
REPLAY_SECONDS = 10.0
"""A new connection gets the events of this many seconds before it (the page's script
loads after the page: what arrived in between is not lost)."""
QUEUE_SIZE = 500
"""Events a slow client may fall behind by before it is disconnected (it reconnects
and catches up with Last-Event-ID)."""


def event_of(article_id: int, article: Article, cluster: int, root: str = "/") -> dict[str, Any]:
    """What a page needs to show a new article in its lists: its fields, and ``html``, its
    line as the site's streams print it (issue #12), with links from ``root`` (the app's
    path, absolute: the same line serves pages at every depth)."""
    ts = int(article.published.timestamp())
    path = paths.article_path(article.source, article.upstream_id, ts)
    line = stream_line(
        {
            "title": article.title,
            "path": path,
            "iso": iso_time(ts),
            "media": article.media or article.source,
            "important": article.important,
            "digest": article.digest,
            "stocks": stock_pairs(article.stocks),
        }
    )
    return {
        "id": article_id,
        "source": article.source,
        "upstream_id": article.upstream_id,
        "title": article.title,
        "time": iso_time(ts),
        "short_time": short_time(ts),
        "path": path,
        "media": article.media or article.source,
        "section": section_of(article),
        "stocks": [s.code for s in article.stocks],
        "important": article.important,
        "reprint": cluster != article_id,
        "html": line.join(root, True),
    }


def format_event(event: dict[str, Any]) -> str:
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event['id']}\nevent: article\ndata: {data}\n\n"


class Hub:
    """Watches the store for new articles and hands them to every subscriber."""

    def __init__(self, store: Store, interval: float = 0.5, root: str = "/") -> None:
        self.store = store
        self.interval = interval
        self.root = root
        self.last_id = 0
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()
        # the latest events, replayed to a new connection: an article stored while a page
        # was loading its script would otherwise be missed
        self._recent: deque[tuple[float, dict[str, Any]]] = deque(maxlen=100)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.last_id = await anyio.to_thread.run_sync(self.store.latest_id)
        self._task = asyncio.create_task(self._watch(), name="finews-live")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                rows = await anyio.to_thread.run_sync(self.store.articles_after, self.last_id)
            except Exception:  # a locked or briefly unreadable store: try again next tick
                log.warning("live updates: cannot read the store", exc_info=True)
                continue
            for article_id, article, cluster in rows:
                self.last_id = max(self.last_id, article_id)
                self.publish(event_of(article_id, article, cluster, self.root))

    def publish(self, event: dict[str, Any]) -> None:
        self._recent.append((time.monotonic(), event))
        for queue in list(self._queues):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # too slow: drop it; it reconnects and catches up
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    async def stream(self, last_event_id: int | None) -> AsyncIterator[str]:
        """The SSE text of one connection: missed articles first, then new ones."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        horizon = self.last_id  # later articles arrive through the queue
        try:
            yield "retry: 2000\n: finews live updates\n\n"
            if last_event_id is None:
                cutoff = time.monotonic() - REPLAY_SECONDS
                for stamp, recent in list(self._recent):
                    if stamp >= cutoff and recent["id"] <= horizon:
                        yield format_event(recent)
            elif last_event_id < horizon:
                missed = await anyio.to_thread.run_sync(self.store.articles_after, last_event_id)
                for article_id, article, cluster in missed:
                    if article_id <= horizon:
                        yield format_event(event_of(article_id, article, cluster, self.root))
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield format_event(event)
        finally:
            self._queues.discard(queue)
