"""The Celery side of finews: a poll of a source and the full-text fetch of one article
are tasks; ``finews worker`` runs them, ``finews scheduler`` sends the polls when the
market schedule says (:mod:`finews.distributed.beat`, the schedule of ``finews run``).

Why this shape:

- **A poll** lists a source's pages and stores them (one transaction per page, as
  ``finews run`` does), then queues a full-text task for each of the source's articles
  still without their text.  A Redis key per article (``SET NX`` with an expiry) keeps
  two polls from queueing the same fetch twice.
- **Nothing is lost when a worker dies**: tasks are acknowledged only when done
  (``acks_late``), so Redis hands a dead worker's task to another one after
  ``worker.visibility_timeout``; a full-text claim expires on the same clock.
- **Nothing is stored twice**: every write takes the store's write lock (an advisory lock
  on PostgreSQL), finds the rows already there and updates or leaves them; the unique
  key (source, upstream id) backs it up.  Running a task twice is harmless.
- **Politeness holds across workers**: the fetcher reserves each request's slot in Redis
  (:mod:`finews.distributed.spacing`).
- A poll that finds its source already being polled (a slow poll overlapping the next
  one) returns at once; polls that wait longer than their source's interval are dropped
  (``expires``) rather than pile up while no worker runs.
- **Show first, complete later**, as in ``finews run``: a poll stores the list's items
  (light pages first, #17) and queues their full texts as tasks of their own; each
  commit notifies the web app (PostgreSQL ``NOTIFY``).
- A poll sent by the scheduler carries a ticket; the worker reports on it (started,
  done with its outcome) so that the schedule adapts as ``finews run``'s does.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from celery import Celery
from celery.signals import worker_shutdown

from finews.config import Settings
from finews.distributed import beat
from finews.distributed.beat import Report
from finews.errors import SourceError
from finews.fetch import Fetcher
from finews.ingest import SourceReport, policy_from_settings, poll_source
from finews.model import BEIJING, Article
from finews.process.pipeline import Processor
from finews.sources.base import Source
from finews.sources.registry import build_sources
from finews.store import Store, feedlist

log = logging.getLogger(__name__)

POLL = "finews.poll"
FULLTEXT = "finews.fulltext"
POLL_CLAIM = 120.0
"""Seconds a poll's claim on its source lasts at most (released when the poll ends; the
limit frees the source of a worker that died mid-poll)."""
POLL_QUEUE = "finews.poll"
FULLTEXT_QUEUE = "finews.fulltext"
"""Two queues, both consumed by every worker: a backlog of full-text fetches never holds
up the polls (a poll queued behind it would expire unrun)."""
FULLTEXT_PER_POLL = 200
"""Full-text fetches a poll queues at most (the oldest wait for the next poll)."""


class WorkerContext:
    """What a worker process keeps between tasks: one store, one fetcher (spacing in
    Redis), the processor and a Redis client.  Built on first use, after any fork."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._fetcher: Fetcher | None = None
        self._processor: Processor | None = None
        self._redis: Any = None

    @property
    def redis(self) -> Any:
        with self._lock:
            if self._redis is None:
                import redis

                self._redis = redis.Redis.from_url(self.settings.worker.redis)
            return self._redis

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store.open(self.settings.db_url)
            return self._store

    @property
    def fetcher(self) -> Fetcher:
        from finews.distributed.spacing import RedisSpacing

        redis = self.redis  # before the lock: it takes the lock itself
        with self._lock:
            if self._fetcher is None:
                spacing = RedisSpacing(redis, self.settings.worker.egress)
                self._fetcher = Fetcher(policy_from_settings(self.settings), turn=spacing)
            return self._fetcher

    @property
    def processor(self) -> Processor:
        with self._lock:
            if self._processor is None:
                self._processor = Processor.default(self.settings.data_path / "a_shares.csv")
            return self._processor

    def warm_up(self) -> None:
        """Build the store, the fetcher, the processor and what a write derives (word
        segmenter, MinHash tables, sanitiser) now, before the first task: a worker's first
        poll took 3–7 s longer on this machine (a late flash, #17)."""
        from finews.search import segment
        from finews.store import articles

        # a hand-written article, processed and derived but never stored
        sample = Article(
            source="warm.up",
            upstream_id="0",
            title="",
            published=datetime.now(BEIJING),
            digest="【预热】央行今日开展逆回购操作，贵州茅台股价上涨。",
            body_html="<p>央行今日开展逆回购操作，贵州茅台股价上涨。</p>",
        )
        segment.tokenizer()
        articles.warm_up(self.processor(sample))
        _ = self.store, self.fetcher

    def source(self, key: str) -> Source:
        """A fresh adapter for a source key (user feeds looked up in the store)."""
        feeds = feedlist.listed(self.store) if key.startswith("feed.") else []
        return build_sources(self.settings, [key], feeds=feeds)[0]

    def claim(self, name: str, seconds: float) -> bool:
        """Take a named claim in Redis for ``seconds`` unless someone holds it."""
        return bool(self.redis.set(f"finews:claim:{name}", "1", nx=True, ex=max(1, int(seconds))))

    def release(self, name: str) -> None:
        self.redis.delete(f"finews:claim:{name}")

    def report(self, item: Report) -> None:
        """Tell the scheduler about a poll it sent (none for a poll sent otherwise)."""
        if not item.ticket:
            return
        try:
            beat.report(self.redis, item)
        except Exception as exc:  # the scheduler gives the ticket up in time
            log.warning("%s: cannot report to the scheduler: %s", item.source, exc)

    def close(self) -> None:
        if self._fetcher is not None:
            self._fetcher.close()
        if self._store is not None:
            self._store.close()


def poll(ctx: WorkerContext, key: str, ticket: str = "") -> dict[str, Any]:
    """One poll of one source, then its pending full texts queued as tasks.  With a
    ``ticket`` (sent by ``finews scheduler``), its start and outcome are reported."""
    w = ctx.settings.worker
    claim = f"poll:{key}"
    if not ctx.claim(claim, min(w.visibility_timeout, POLL_CLAIM)):
        log.info("%s: already being polled, skipped", key)
        ctx.report(Report(ticket, key, "done", skipped=True))
        return {"source": key, "skipped": True}
    report = SourceReport(key, error="the poll crashed")
    try:
        ctx.report(Report(ticket, key, "started"))
        try:
            report = poll_source(
                ctx.store,
                ctx.fetcher,
                ctx.source(key),
                fulltext=False,
                process=ctx.processor,
                light=ctx.settings.run.light_page,
            )
        except SourceError as exc:
            report = SourceReport(key, error=str(exc))
        ctx.store.record_poll(key, ok=report.ok, error=report.error, new=report.new)
    finally:
        ctx.release(claim)
        # the schedule hears the outcome first (a crash is a failure), then the full texts
        ctx.report(Report(ticket, key, "done", ok=report.ok, new=report.new))
    queued = 0
    if ctx.settings.eastmoney.fulltext:
        retries = ctx.settings.eastmoney.fulltext_retries
        for article in ctx.store.pending_fulltext(key, retries, FULLTEXT_PER_POLL):
            if ctx.claim(f"fulltext:{key}:{article.upstream_id}", w.visibility_timeout):
                fulltext_task.apply_async((key, article.upstream_id), queue=FULLTEXT_QUEUE)
                queued += 1
    if report.ok:
        log.info(
            "%s: %d new, %d updated, %d full texts queued", key, report.new, report.updated, queued
        )
    else:
        log.warning("%s failed: %s", key, report.error)
    return {**report.as_dict(), "fulltext_queued": queued}


def fulltext(ctx: WorkerContext, key: str, upstream_id: str) -> str:
    """Fetch one article's full text and store it; a failure is counted, as in a poll."""
    claim = f"fulltext:{key}:{upstream_id}"
    try:
        article = ctx.store.get(key, upstream_id)
        if article is None or article.body_complete:
            return "done already"
        try:
            completed = ctx.source(key).complete(ctx.fetcher, article)
        except SourceError as exc:
            log.info("%s", exc)
            ctx.store.note_fulltext_failure(key, [upstream_id])
            return f"failed: {exc}"
        ctx.store.save([ctx.processor(completed)])
        return "stored"
    finally:
        ctx.release(claim)


_context: WorkerContext | None = None


def context() -> WorkerContext:
    if _context is None:
        raise RuntimeError("the finews Celery app was not configured (see make_app)")
    return _context


celery_app = Celery("finews")


@celery_app.task(name=POLL)  # type: ignore[untyped-decorator]
def poll_task(key: str, ticket: str = "") -> dict[str, Any]:
    return poll(context(), key, ticket)


@celery_app.task(name=FULLTEXT)  # type: ignore[untyped-decorator]
def fulltext_task(key: str, upstream_id: str) -> str:
    return fulltext(context(), key, upstream_id)


def make_app(settings: Settings) -> Celery:
    """Configure the Celery app for these settings (broker, reliability)."""
    global _context
    _context = WorkerContext(settings)
    w = settings.worker
    celery_app.conf.update(
        broker_url=w.redis,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": w.visibility_timeout},
        task_default_queue=POLL_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="Asia/Shanghai",
    )
    return celery_app


def _close_context(**_: Any) -> None:
    """A worker stopping (warm shutdown) closes its store's connections and its client."""
    if _context is not None:
        _context.close()


worker_shutdown.connect(_close_context)
