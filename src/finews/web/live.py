"""Live updates: new articles, pushed to open pages over Server-Sent Events.

Whatever stores articles (``finews run``'s polls in another process, ``finews fetch``,
workers, an import) only writes the database — and tells the readers it committed
(:mod:`finews.store.notify`: a datagram on SQLite, ``NOTIFY`` on PostgreSQL).  The hub
wakes on that, reads what changed since it last looked (one indexed read by change
number) and fans it out to the connected streams: ``event: article`` for a new article,
``event: update`` for one that changed since it was shown (its full text arrived, #17).
A slow timer (``serve.poll_interval``) stays as a fallback for writers that cannot
notify.  A reconnecting browser sends ``Last-Event-ID`` (the row id of the last article
it saw) and gets what it missed from the store.
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
from finews.site.stories import Heat, heat_chip, outlet_order, story_path
from finews.site.stream import LINE_END, stock_pairs, stream_line
from finews.store import Store, changes, notify
from finews.store.rows import section_of

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
REPLAY_SECONDS = 10.0
"""A new connection gets the events of this many seconds before it (the page's script
loads after the page: what arrived in between is not lost)."""
QUEUE_SIZE = 500
"""Events a slow client may fall behind by before it is disconnected (it reconnects
and catches up with Last-Event-ID)."""


def event_of(
    article_id: int,
    article: Article,
    cluster: int,
    root: str = "/",
    heat: Heat | None = None,
    first: str = "",
) -> dict[str, Any]:
    """What a page needs to show a new article in its lists: its fields, and ``html``, its
    line as the site's streams print it (issue #12), with links from ``root`` (the app's
    path, absolute: the same line serves pages at every depth) — with its story's heat
    (``heat``: the story told more than once, as :func:`heats` reads it) and the path of
    its first report (``first``: the line a page shows for the story while it was told
    once, which the live script gives the heat chip)."""
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
    html = line.join(root, True)
    if heat is not None:  # as a built list shows it (site.pages.listing.view_items)
        html = html[: -len(LINE_END)] + heat_chip(root, cluster, heat) + LINE_END
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
        "complete": article.body_complete,
        "html": html,
        "heat": heat.label if heat else "",
        "story": story_path(cluster) if heat else "",
        "story_first": first if heat else "",
    }


def heats(store: Store, clusters: list[int]) -> dict[int, Heat]:
    """The heat of those of ``clusters`` told more than once (a read of the store)."""
    found = changes.story_heat(store, sorted(set(clusters)))
    return {c: Heat(n, m, outlet_order(first)) for c, (n, m, first) in found.items()}


def first_paths(store: Store, clusters: list[int]) -> dict[int, str]:
    """The article page of each story's first report (a read of the store)."""
    found = changes.first_reports(store, sorted(set(clusters)))
    return {c: paths.article_path(*key) for c, key in found.items()}


def format_event(event: dict[str, Any], kind: str = "article") -> str:
    """An SSE message.  Only new articles carry an ``id:``: it is what a reconnecting
    browser's ``Last-Event-ID`` says, the row id of the last new article it saw; an
    update leaves it alone."""
    data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    if kind == "article":
        return f"id: {event['id']}\nevent: article\ndata: {data}\n\n"
    return f"event: {kind}\ndata: {data}\n\n"


UPDATE_HORIZON = 2 * 86400
"""Updates are pushed for articles published this recently (seconds): what open pages
list.  A reprocess that retags the whole archive does not flood the streams."""


class Hub:
    """Hears of commits to the store and hands new and updated articles to every
    subscriber."""

    def __init__(self, store: Store, interval: float = 5.0, root: str = "/") -> None:
        self.store = store
        self.interval = interval
        """Fallback: seconds between looks at the store when no notification comes."""
        self.root = root
        self.last_id = 0
        self.position = (0, 0)
        """(change number, id) of the last change read."""
        self.wakeups = 0
        self.reads = 0
        self._queues: set[asyncio.Queue[tuple[str, dict[str, Any]] | None]] = set()
        # the latest events, replayed to a new connection: an article stored while a page
        # was loading its script would otherwise be missed
        self._recent: deque[tuple[float, dict[str, Any]]] = deque(maxlen=100)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._listener: notify.Listener | None = None

    async def start(self) -> None:
        self.last_id = await anyio.to_thread.run_sync(self.store.latest_id)
        seq = await anyio.to_thread.run_sync(changes.latest_seq, self.store)
        # every change so far is seen: the next to read is any of number seq + 1 (ids start
        # at 1).  No sentinel id: PostgreSQL's ids are 32-bit and refuse a bigger one.
        self.position = (seq + 1, 0)
        self._listener = notify.listen(self.store.engine)
        if self._listener is not None:
            self._listener.attach(asyncio.get_running_loop(), self.wake)
            # serving starts once commits are heard: none between now and then is missed
            # (and what is committed meanwhile is read on the first wake-up)
            await anyio.to_thread.run_sync(self._listener.wait_ready, 5.0)
        self._task = asyncio.create_task(self._watch(), name="finews-live")

    def wake(self) -> None:
        """A writer committed: look now."""
        self.wakeups += 1
        self._wake.set()

    @property
    def notified(self) -> bool:
        """Whether commits reach this hub by notification (not only by its timer)."""
        return self._listener is not None

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._listener is not None:
            await anyio.to_thread.run_sync(self._listener.close)
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    def end_streams(self) -> None:
        """End every open event stream now, cleanly (its response completes; a browser's
        EventSource reconnects later).  Called as the server shuts down: otherwise it waits
        for streams that only end at their next keep-alive, then cuts them off half-sent
        (net::ERR_INCOMPLETE_CHUNKED_ENCODING in the browser).  In the event loop."""
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueEmpty):
                while queue.full():
                    queue.get_nowait()
            queue.put_nowait(None)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self._read()
            except Exception:  # a locked or briefly unreadable store: try again next time
                log.warning("live updates: cannot read the store", exc_info=True)

    async def _read(self) -> None:
        while True:
            rows = await anyio.to_thread.run_sync(changes.changed_after, self.store, self.position)
            self.reads += 1
            told = await anyio.to_thread.run_sync(heats, self.store, [r[2] for r in rows])
            reprinted = [r[2] for r in rows if r[2] != r[0] and r[2] in told]
            firsts = await anyio.to_thread.run_sync(first_paths, self.store, reprinted)
            horizon = time.time() - UPDATE_HORIZON
            for article_id, article, cluster, seq in rows:
                self.position = (seq, article_id)
                event = event_of(
                    article_id,
                    article,
                    cluster,
                    self.root,
                    told.get(cluster),
                    firsts.get(cluster, ""),
                )
                if article_id > self.last_id:
                    self.last_id = article_id
                    self.publish(event)
                elif article.published.timestamp() >= horizon:
                    self.publish(event, "update")
            if len(rows) < 200:
                return

    def publish(self, event: dict[str, Any], kind: str = "article") -> None:
        if kind == "article":
            self._recent.append((time.monotonic(), event))
        for queue in list(self._queues):
            try:
                queue.put_nowait((kind, event))
            except asyncio.QueueFull:  # too slow: drop it; it reconnects and catches up
                self._queues.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    async def stream(self, last_event_id: int | None) -> AsyncIterator[str]:
        """The SSE text of one connection: missed articles first, then new ones."""
        queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue(QUEUE_SIZE)
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
                told = await anyio.to_thread.run_sync(heats, self.store, [m[2] for m in missed])
                for article_id, article, cluster in missed:
                    if article_id <= horizon:
                        yield format_event(
                            event_of(article_id, article, cluster, self.root, told.get(cluster))
                        )
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                kind, event = item
                yield format_event(event, kind)
        finally:
            self._queues.discard(queue)
