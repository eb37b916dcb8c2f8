"""The ``finews run`` process: poll, process, store, publish, alert, serve — until told
to stop.

One asyncio loop coordinates; the blocking work (HTTP polls through the thread-safe
fetcher, SQLite writes, site builds) runs in worker threads:

- the scheduler (:mod:`finews.run.schedule`, on a :class:`~finews.run.schedule.Clock`
  tests replace) says which sources are due, by the market's hours and each source's
  news; each due source is polled in a thread (``run.workers`` at once), its outcome
  recorded in the store (source health, its interval) and in the schedule;
- a poll stores the list's items at once (pushed to open pages at commit, #17); their full
  texts follow in a task per source, each saved as an update of its row;
- new articles ask for a site build; builds are gathered for ``run.build_delay`` seconds
  and run one at a time (incremental, atomic per file);
- new articles are matched against the watchlists and queued for the webhooks
  (:mod:`finews.run.alerts`); a separate task delivers them with retries;
- the subscribers of the settings are given their stories, paced and pushed, and sent
  the briefings when their periods end (:mod:`finews.run.subscribers`);
- the web app (search, API, live updates) runs in a child process; it hears of every
  commit (:mod:`finews.store.notify`) and reads what changed from the store.

SIGINT/SIGTERM: no new polls start; the polls in flight finish (each page is one
transaction: stored or not), a pending build runs, the web server stops.  A second
signal stops at once (SQLite rolls back whatever was not committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import httpx

from finews.config import Settings
from finews.fetch import Fetcher
from finews.ingest import SourceReport, fetch_round, policy_from_settings
from finews.model import Article
from finews.process.pipeline import Processor
from finews.run import alerts
from finews.run.schedule import Clock, Schedule, SystemClock, schedule_policy
from finews.site import SiteOptions, build_site, paths
from finews.sources.base import Source
from finews.sources.registry import build_sources
from finews.store import Store, alertqueue, backlog, feedlist, freshness

if TYPE_CHECKING:
    from finews.web.process import WebProcess

log = logging.getLogger("finews.run")

FULLTEXT_ALERT_WAIT = 30.0
"""Seconds an alert waits for its article's full text before it is matched without it."""
FULLTEXT_RETRY_EVERY = 60.0
"""Seconds between retries of a source's failed full texts when no new item comes."""


@dataclass
class RunStats:
    polls: int = 0
    failed_polls: int = 0
    new_articles: int = 0
    builds: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0
    pushes_sent: int = 0
    pushes_failed: int = 0
    """Sent: accepted by a webhook; failed: given up after ``alerts.retries`` attempts."""
    started: float = field(default_factory=time.time)


class Runner:
    def __init__(
        self,
        settings: Settings,
        *,
        sources: list[Source] | None = None,
        host: str | None = None,
        port: int | None = None,
        sock: socket.socket | None = None,
        on_ready: Callable[[str], None] | None = None,
        processor: Processor | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.sources = sources
        self.host = host or settings.serve.host
        self.port = port if port is not None else settings.serve.port
        self.sock = sock
        """The web app's socket, bound by the caller before the first build (a taken port
        is said at once, and nobody takes it meanwhile); it goes to the web app's process."""
        self.on_ready = on_ready
        self.processor = processor
        self.clock = clock or SystemClock()
        self.policy = schedule_policy(settings)
        self.schedule: Schedule | None = None
        self.stats = RunStats()
        self.stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._build_wanted = asyncio.Event()
        self._alerts_wanted = asyncio.Event()
        self._subscribers_wanted = asyncio.Event()
        self._polls: set[asyncio.Task[None]] = set()
        self._building: asyncio.Future[None] | None = None
        self._completing: dict[str, asyncio.Task[None]] = {}
        self._complete_again: set[str] = set()
        self._retried: dict[str, float] = {}
        self._held: dict[int, float] = {}
        self._random = random.Random()
        a = settings.alerts
        self.watchlist = alerts.Watchlist(a.keywords, a.stocks, a.important)
        self.webhooks = [alerts.Webhook.parse(w) for w in a.webhooks]
        self.url = ""

    # -- entry point -------------------------------------------------------------------
    def run(self) -> RunStats:
        try:
            asyncio.run(self.main())
        finally:
            if self.sock is not None:  # the web app never started (a store that would not
                self.sock.close()  # open, a stop before it): the port is let go
                self.sock = None
        return self.stats

    async def main(self) -> None:
        self.store = Store.open(self.settings.db_url)
        if self.sources is None:
            self.sources = build_sources(self.settings, feeds=feedlist.listed(self.store))
        self.fetcher = Fetcher(policy_from_settings(self.settings))
        if self.processor is None:
            self.processor = await anyio.to_thread.run_sync(
                lambda: Processor.default(self.settings.data_path / "a_shares.csv")
            )
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not main thread
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        web: WebProcess | None = None
        tasks: list[asyncio.Task[None]] = []
        clean = False
        try:
            if self.settings.run.build:
                await self._build()  # the site exists before anyone asks for it
            # polling starts at once; the web app's process starts meanwhile (a second)
            tasks.append(asyncio.create_task(self._schedule(), name="schedule"))
            if self.settings.run.build:
                tasks.append(asyncio.create_task(self._builder(), name="builder"))
            if self.webhooks and not self.watchlist.empty:
                tasks.append(asyncio.create_task(self._alerter(), name="alerts"))
            if self.settings.subscribers:
                tasks.append(asyncio.create_task(self._subscribers(), name="subscribers"))
            if self.settings.run.serve:
                web = await self._start_server()
            if self.on_ready:
                self.on_ready(self.url)
            await self.stopping.wait()
            clean = True
        finally:
            # however it ends (a signal, or the web app that could not start): no new poll,
            # the ones in flight finish before the store closes under them
            self.stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._polls:
                log.info("stopping: waiting for %d poll(s) in flight", len(self._polls))
            await asyncio.gather(*self._polls, return_exceptions=True)
            await self._build_finished()  # never two builds writing the site at once
            if clean and self.settings.run.build and self._build_wanted.is_set():
                await self._build()
            if web is not None:
                await anyio.to_thread.run_sync(web.stop)
            self.fetcher.close()
            self.store.close()
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

    def stop(self) -> None:
        if self.stopping.is_set():
            raise KeyboardInterrupt  # a second signal: stop now
        log.info("stop requested")
        self.stopping.set()
        self._wake.set()

    # -- polling -------------------------------------------------------------------------
    async def _schedule(self) -> None:
        by_key = {s.key: s for s in self.sources or []}
        clock = self.clock
        schedule = Schedule.start(list(by_key), self.policy, clock.monotonic(), clock.time())
        self.schedule = schedule
        limit = asyncio.Semaphore(self.settings.run.workers)
        while not self.stopping.is_set():
            now = clock.monotonic()
            schedule.retune(now, clock.time())  # the market's hours: 09:15 tightens at once
            for key in schedule.due(now):
                schedule.started(key)
                task = asyncio.create_task(self._poll(schedule, by_key[key], limit))
                self._polls.add(task)
                task.add_done_callback(self._polls.discard)
            upcoming = schedule.next_due()
            wait = 1.0 if upcoming is None else max(0.05, min(5.0, upcoming - clock.monotonic()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _poll(self, schedule: Schedule, source: Source, limit: asyncio.Semaphore) -> None:
        async with limit:
            report = await anyio.to_thread.run_sync(self._poll_blocking, source)
        recovering = schedule.states[source.key].failures > 0
        delay = schedule.finished(
            source.key,
            now=self.clock.monotonic(),
            ok=report.ok,
            new=report.new,
            rand=self._random.random(),
            epoch=self.clock.time(),
        )
        state = schedule.states[source.key]
        with contextlib.suppress(Exception):  # shown by `finews sources`; never fatal
            await anyio.to_thread.run_sync(
                lambda: freshness.record_schedule(
                    self.store, source.key, interval=state.interval, phase=state.phase
                )
            )
        self.stats.polls += 1
        self.stats.new_articles += report.new
        if report.ok:
            # a poll that found nothing is a debug line (-v): at one source every 2 s to
            # a minute, "0 new" lines buried the ones that say something; news, a
            # recovery and a failure stay in the log
            log.log(
                logging.INFO if report.new or report.updated or recovering else logging.DEBUG,
                "%s: %d new, %d updated (%.1f s); next poll in %.0f s",
                source.key,
                report.new,
                report.updated,
                report.seconds,
                delay,
            )
        else:
            self.stats.failed_polls += 1
            log.warning("%s failed: %s; retrying in %.0f s", source.key, report.error, delay)
        if report.new or report.updated:
            self._build_wanted.set()
            self._alerts_wanted.set()
            self._subscribers_wanted.set()
        if report.ok and self.settings.eastmoney.fulltext:
            self._complete_later(source, report.new)
        self._wake.set()

    def _poll_blocking(self, source: Source) -> SourceReport:
        assert self.processor is not None
        try:
            # show first: the list's items are stored (and pushed) at once; their full
            # texts follow in a task of their own, so the next poll is not held up (#17)
            return fetch_round(
                self.store,
                self.fetcher,
                [source],
                fulltext=False,
                process=self.processor,
                light=self.settings.run.light_page,
            )[0]
        except Exception as exc:  # a bug or a store failure must not end the process
            log.exception("%s: poll crashed", source.key)
            report = SourceReport(source.key, error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(Exception):
                self.store.record_poll(source.key, ok=False, error=report.error)
            return report

    # -- full texts, after the list items are shown ---------------------------------------
    def _complete_later(self, source: Source, new: int) -> None:
        """Start fetching the full texts a poll left due (one task per source at a time;
        a poll that brings more while it runs has it go round again).  Without new items,
        earlier failures are retried once a minute."""
        now = time.monotonic()
        if not new and now - self._retried.get(source.key, -1e9) < FULLTEXT_RETRY_EVERY:
            return
        self._retried[source.key] = now
        if source.key in self._completing:
            self._complete_again.add(source.key)
            return
        task = asyncio.create_task(self._complete(source, new), name=f"fulltext {source.key}")
        self._completing[source.key] = task
        self._polls.add(task)
        task.add_done_callback(self._polls.discard)

    async def _complete(self, source: Source, new: int) -> None:
        from finews.ingest import RETRY_PER_ROUND, complete_pending

        try:
            while True:
                self._complete_again.discard(source.key)
                report = await anyio.to_thread.run_sync(
                    lambda: complete_pending(
                        self.store,
                        self.fetcher,
                        source,
                        max_attempts=self.settings.eastmoney.fulltext_retries,
                        limit=new + RETRY_PER_ROUND,
                        process=self.processor or (lambda a: a),
                        stop=self.stopping.is_set,  # SIGTERM: the rest stays due
                    )
                )
                if report.updated:
                    log.info(
                        "%s: %d full text(s) stored (%.1f s)",
                        source.key,
                        report.updated,
                        report.seconds,
                    )
                    self._build_wanted.set()
                if source.key not in self._complete_again or self.stopping.is_set():
                    return
        except Exception:  # a bug or a store failure must not end the process
            log.exception("%s: full texts crashed", source.key)
        finally:
            self._completing.pop(source.key, None)

    # -- the site ------------------------------------------------------------------------
    async def _builder(self) -> None:
        while True:
            await self._build_wanted.wait()
            await asyncio.sleep(self.settings.run.build_delay)
            await self._build()

    async def _build(self) -> None:
        """Build the site; a build once started is never cut off.  Cancelling the builder
        at shutdown abandoned the build's thread, which went on writing while the final
        build wrote the same folder — two builds at once, in place (wave 13: the home page
        once linked a story page that was not there).  The thread's work is a task of its
        own, shielded; shutdown waits for it (:meth:`_build_finished`)."""
        self._build_wanted.clear()
        running = asyncio.ensure_future(self._build_now())
        self._building = running
        await asyncio.shield(running)

    async def _build_finished(self) -> None:
        """Wait for a build in flight, if any (its builder may have been cancelled)."""
        if self._building is not None:
            await asyncio.gather(self._building, return_exceptions=True)

    async def _build_now(self) -> None:
        try:
            report = await anyio.to_thread.run_sync(
                lambda: build_site(
                    self.store, self.settings.site_path, SiteOptions.from_settings(self.settings)
                )
            )
        except Exception:
            log.exception("site build failed (the published site is unchanged)")
            self._build_wanted.set()
            return
        self.stats.builds += 1
        log.info("site: %d pages written in %.2f s", report.written, report.seconds)

    # -- alerts --------------------------------------------------------------------------
    async def _alerter(self) -> None:
        lanes = alerts.Lanes()
        # the lanes stop before the client closes: a lane cut off mid-send leaves its
        # message pending for the restart, not failed against a closed client
        async with httpx.AsyncClient(timeout=self.settings.alerts.timeout) as client:
            try:
                first = True
                while True:
                    if not first:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._alerts_wanted.wait(), 1.0)
                        self._alerts_wanted.clear()
                    try:
                        # the first round sets the watermark on a new store
                        await anyio.to_thread.run_sync(self._match_alerts)
                        await self._deliver(client, lanes)
                    except Exception:  # a bug or a store failure must not end alerting
                        log.exception("alerts: a round failed (retried)")
                    first = False
            finally:
                await lanes.close()

    def _match_alerts(self) -> None:
        while True:
            _, rows = alertqueue.unmatched(self.store)
            if not rows:
                return
            matches = []
            done = 0
            old = backlog.marks(self.store, {a.source for _, a in rows})
            for article_id, article in rows:
                if backlog.is_back_catalogue(old, article.source, article_id):
                    done = article_id  # a source's first poll into the store: not news
                    continue
                if self._awaits_fulltext(article_id, article):
                    break  # matched on its full text, a moment later (show first: #17)
                done = article_id
                reasons = self.watchlist.reasons(article)
                if reasons:
                    matches += [(article, hook.key, reasons) for hook in self.webhooks]
            if done:
                alertqueue.enqueue(
                    self.store, matches, done, per_story=self.settings.alerts.per_story
                )
            if done != rows[-1][0]:
                return  # the rest waits for a full text; the alerter looks again each second

    def _awaits_fulltext(self, article_id: int, article: Article) -> bool:
        """A list item stored before its full text is matched once the text is in (a
        keyword may be in the body only), or after ``FULLTEXT_ALERT_WAIT`` seconds without
        it: an alert is never held up for long by a failing article page."""
        if article.body_complete or not self.settings.eastmoney.fulltext:
            self._held.pop(article_id, None)
            return False
        first = self._held.setdefault(article_id, time.monotonic())
        if time.monotonic() - first < FULLTEXT_ALERT_WAIT:
            return True
        self._held.pop(article_id, None)
        return False

    async def _deliver(self, client: httpx.AsyncClient, lanes: alerts.Lanes) -> None:
        """Hand each idle webhook its due deliveries, in its own lane (wave 10): a webhook
        that hangs holds up only its own."""
        busy = lanes.busy()
        pending = await anyio.to_thread.run_sync(
            functools.partial(alertqueue.due, self.store, exclude=busy)
        )
        batches: dict[str, list[alertqueue.Delivery]] = {}
        for delivery in pending:
            batches.setdefault(delivery.webhook, []).append(delivery)
        for key, batch in batches.items():
            lanes.start(key, self._send_lane(client, key, batch))

    async def _send_lane(
        self, client: httpx.AsyncClient, key: str, batch: list[alertqueue.Delivery]
    ) -> None:
        """One webhook's deliveries, one after another; whatever goes wrong with one is
        logged and is that delivery's alone."""
        hook = {h.key: h for h in self.webhooks}.get(key)
        if hook is None:
            log.warning(
                "%d alert(s) for %s given up: that webhook is no longer in the settings",
                len(batch),
                alerts.key_label(key),
            )
        base = self.settings.site.base_url.rstrip("/") + "/"
        for delivery in batch:

            async def record(delivery_id: int = delivery.id, **outcome: Any) -> None:
                await anyio.to_thread.run_sync(
                    functools.partial(alertqueue.record, self.store, delivery_id, **outcome)
                )

            try:
                if hook is None:  # removed from the settings since: counted, said above
                    await record(ok=False, error="webhook no longer configured")
                    self.stats.alerts_failed += 1  # once recorded: never counted twice
                    continue
                a = delivery.article
                link = base + paths.article_path(
                    a.source, a.upstream_id, int(a.published.timestamp())
                )
                url, body = alerts.payload(hook, a, delivery.reasons, link)
                result = await alerts.send(
                    client,
                    hook,
                    url,
                    body,
                    attempts=delivery.attempts,
                    retries=self.settings.alerts.retries,
                    now=time.time(),
                )
                if result.ok:
                    self.stats.alerts_sent += 1
                elif result.retry_at is None:
                    self.stats.alerts_failed += 1
                    log.warning(
                        'alert "%s" (%s/%s) to %s given up after %d attempts: %s',
                        alerts.headline(a),
                        a.source,
                        a.upstream_id,
                        hook.label,
                        delivery.attempts + 1,
                        result.error,
                    )
                await record(ok=result.ok, error=result.error, retry_at=result.retry_at)
            except Exception as exc:
                log.exception(
                    "alert delivery %d to %s failed (counted as an attempt)",
                    delivery.id,
                    hook.label if hook else alerts.key_label(key),
                )
                await alerts.record_failed_attempt(
                    record, exc, delivery.attempts, self.settings.alerts.retries, time.time()
                )

    # -- subscribers (issue #14) -------------------------------------------------------
    async def _subscribers(self) -> None:
        from finews.run.subscribers import Subscriptions

        subs = Subscriptions(self.store, self.settings)
        async with httpx.AsyncClient(timeout=self.settings.alerts.timeout) as client:
            try:
                while True:
                    try:
                        await anyio.to_thread.run_sync(subs.match)
                        await anyio.to_thread.run_sync(subs.briefings)
                        await anyio.to_thread.run_sync(subs.dispatch)
                        await subs.deliver(client, wait=False)  # each webhook in its lane
                    except Exception:  # a bug or a store failure must not end the process
                        log.exception("subscribers: a round failed (retried)")
                    self.stats.pushes_sent = subs.sent
                    self.stats.pushes_failed = subs.failed
                    # new articles wake it; the clock (quiet hours ending, the hour's cap
                    # freeing up, a briefing's time) is looked at every few seconds
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._subscribers_wanted.wait(), 5.0)
                    self._subscribers_wanted.clear()
            finally:
                await subs.lanes.close()
                self.stats.pushes_sent = subs.sent
                self.stats.pushes_failed = subs.failed

    # -- the web app ---------------------------------------------------------------------
    async def _start_server(self) -> WebProcess:
        from finews.web.app import ServeOptions
        from finews.web.process import WebProcess

        options = ServeOptions.from_settings(self.settings, self.settings.site_path)
        sock, self.sock = self.sock, None  # the web process closes it once started
        web = await anyio.to_thread.run_sync(WebProcess, options, self.host, self.port, sock)
        self.url = f"http://{self.host}:{web.port}/"
        return web
