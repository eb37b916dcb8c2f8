"""One polling round: list → full text → store, per source, never all-or-nothing.

The only orchestrator between sources and the store (miniflux's "handler"):
adapters yield normalised pages, this module decides how far to page, which
items need their full text, and saves each page in one transaction.  One bad
item is reported and skipped; one failing source is reported and the others
go on; an item whose full text cannot be fetched is stored with what the list
gave and retried on later rounds.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from finews.config import Settings
from finews.errors import SourceError
from finews.fetch import Fetcher, FetchPolicy
from finews.model import Article, from_epoch
from finews.sources.base import Source
from finews.sources.drift import FieldChange
from finews.sources.shapes import Candidates
from finews.store import Store, backlog, calendar, upstream

log = logging.getLogger(__name__)

CATCH_UP_PAGES = 3
"""Without --backfill, page on while whole pages are new, at most this many pages."""
RETRY_PER_ROUND = 20
"""Earlier items whose full text is still due, retried per source per round."""


@dataclass
class SourceReport:
    source: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    """Items that could not be normalised or stored (reported, skipped)."""
    fulltext_fetched: int = 0
    fulltext_pending: int = 0
    """Items stored without their full text this round (retried later)."""
    pages: int = 0
    gap: bool = False
    """A light first page was new from top to bottom: the round paged on at full size."""
    seconds: float = 0.0
    error: str = ""
    """Why the source itself failed, if it did (items before the failure are stored)."""
    problems: list[str] = field(default_factory=list)
    locked: int = 0
    """Items behind the upstream's paywall (VIP, PLUS): skipped on purpose, counted."""
    events_new: int = 0
    """Calendar rows (economic-data releases) stored for the first time."""
    shape: str = ""
    """The request shape the source answered to (issue #15)."""
    switches: list[dict[str, object]] = field(default_factory=list)
    """Shape changes this round: from, to, why, and how long the fallback took."""
    field_changes: list[dict[str, object]] = field(default_factory=list)
    """Field changes seen for the first time this round."""

    @property
    def ok(self) -> bool:
        return not self.error

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "ok": self.ok,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "fulltext_fetched": self.fulltext_fetched,
            "fulltext_pending": self.fulltext_pending,
            "pages": self.pages,
            "gap": self.gap,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "problems": self.problems,
            "locked": self.locked,
            "events_new": self.events_new,
            "shape": self.shape,
            "switches": self.switches,
            "field_changes": self.field_changes,
        }


def policy_from_settings(settings: Settings) -> FetchPolicy:
    h = settings.http
    return FetchPolicy(
        timeout=h.timeout,
        max_bytes=h.max_bytes,
        retries=h.retries,
        backoff=h.backoff,
        max_backoff=h.max_backoff,
        host_spacing=h.host_spacing,
        concurrency=h.concurrency,
        user_agent=h.user_agent,
        overrides=dict(settings.upstream_override),
        impersonate=h.impersonate,
        impersonate_hosts=impersonated_hosts(settings),
    )


def impersonated_hosts(settings: Settings) -> frozenset[str]:
    """The hosts of ``http.impersonate_sources`` (their request shapes' and base URLs'
    hosts); empty when every source is meant."""
    from urllib.parse import urlsplit

    from finews.sources.registry import request_shapes

    wanted = settings.http.impersonate_sources
    if not settings.http.impersonate or not wanted:
        return frozenset()
    shapes = request_shapes(settings)
    em = settings.eastmoney
    bases = {
        "eastmoney.fast": [em.list_base, em.article_base, em.page_base],
        "eastmoney.column": [em.list_base, em.article_base, em.page_base],
        "cls.telegraph": [settings.cls.base],
        "ths.flash": [settings.ths.base],
        "sina.zhibo": [settings.sina.base],
        "wscn.live": [settings.wscn.base],
        "jin10.flash": [settings.jin10.base],
    }
    hosts: set[str] = set()
    for key in wanted:
        urls = [*bases.get(key, []), *(s.base for s in shapes.get(key, ()))]
        hosts.update((urlsplit(u).hostname or "").lower() for u in urls)
    return frozenset(h for h in hosts if h)


def _complete_all(
    source: Source, fetcher: Fetcher, articles: Sequence[Article], report: SourceReport
) -> tuple[list[Article], list[str]]:
    done: list[Article] = []
    failed: list[str] = []
    for article in articles:
        try:
            done.append(source.complete(fetcher, article))
            report.fulltext_fetched += 1
        except SourceError as exc:
            log.info("%s", exc)
            report.problems.append(str(exc))
            failed.append(article.upstream_id)
            done.append(article)
    return done, failed


FUTURE_SLACK = 600
"""An upstream clock may run this far (seconds) ahead of ours before we correct it."""


def _not_in_the_future(store: Store, article: Article, report: SourceReport) -> Article:
    """An item dated well after now (a broken upstream clock) would sit on top of every
    listing for as long as the clock is wrong: it is dated when first seen (an item seen
    before keeps its stored time), and the upstream's time stays in ``raw``."""
    now = time.time()
    if article.published.timestamp() <= now + FUTURE_SLACK:
        return article
    stored = store.get(article.source, article.upstream_id)
    if stored is not None and stored.published.timestamp() <= now + FUTURE_SLACK:
        return replace(article, published=stored.published)
    report.problems.append(
        f"item {article.upstream_id}: dated {article.published.isoformat()}, in the future; "
        "stored as now"
    )
    log.warning("%s/%s: dated in the future, stored as now", article.source, article.upstream_id)
    return replace(article, published=from_epoch(int(now)))


def lighter(source: Source, size: int) -> Source:
    """The source asking for pages of ``size`` items, if it has a page size larger than
    that (the built-in lists do; 金十 and feeds do not): the same source otherwise."""
    current = getattr(source, "page_size", None)
    if not size or not isinstance(current, int) or current <= size:
        return source
    if not dataclasses.is_dataclass(source) or isinstance(source, type):
        return source
    light = dataclasses.replace(source, page_size=size)
    if hasattr(source, "candidates"):  # the request shape in use is the source's, shared
        light.candidates = source.candidates
    return light


def poll_source(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    *,
    backfill: int = 0,
    fulltext: bool = True,
    fulltext_retries: int = 5,
    on_items: Callable[[int], None] | None = None,
    process: Callable[[Article], Article] = lambda a: a,
    light: int = 0,
) -> SourceReport:
    """One round of one source; never raises for upstream trouble.

    ``light``: ask for pages of this many items first (a frequent poll finds a few new
    items at most: a small page catches up at a fraction of the bytes, #17).  A light
    page that is new from top to bottom means more came than it holds — a gap: the walk
    starts again at the source's full page size and pages on while whole pages are new,
    as an ordinary round does."""
    report = SourceReport(source.key)
    started = time.monotonic()
    # a source's first successful poll into this store brings its back catalogue: marked,
    # never alerted (wave 10; closed when the poll is recorded: Store.record_poll)
    backlog.begin(store, source.key)
    seen = 0
    failed_this_round: set[str] = set()
    this_round: set[str] = set()
    changes: list[FieldChange] = []
    present: frozenset[str] = frozenset()
    candidates: Candidates | None = getattr(source, "candidates", None)
    if candidates is not None:
        candidates.prefer(upstream.working_shape(store, source.key))
        candidates.switches.clear()
        if hasattr(source, "expect_items"):
            source.expect_items = upstream.has_items(store, source.key)
    # a source of several lists (Eastmoney's columns) is caught up list by list; a backfill
    # walks them interleaved, as the source gives them
    lanes: list[Source] = [source]
    if not backfill and hasattr(source, "lanes"):
        lanes = source.lanes()
    try:
        for lane in lanes:
            small = lighter(lane, 0 if backfill else light)
            for walk in [small, lane] if small is not lane else [lane]:
                gap = False
                for walked, page in enumerate(walk.pages(fetcher), start=1):
                    report.pages += 1
                    report.failed += len(page.skipped)
                    report.problems.extend(f"item {i}: {why}" for i, why in page.skipped)
                    report.locked += page.locked
                    if page.events:
                        report.events_new += calendar.save_events(store, page.events)["new"]
                    changes.extend(c for c in page.changes if c not in changes)
                    present |= page.present
                    articles = list(page.articles)
                    known = store.known(source.key, [a.upstream_id for a in articles])
                    fresh = [a for a in articles if a.upstream_id not in known]
                    # caught up: the page reaches an item stored before this round (after a
                    # gap, the full walk's first items are the light page's, just stored)
                    caught_up = bool(known - this_round)
                    this_round.update(a.upstream_id for a in articles)
                    articles = [_not_in_the_future(store, a, report) for a in articles]
                    # show first: stored (so pushed to open pages) with what the list gives
                    processed = [process(a) for a in articles]
                    counts = store.save(processed).counts  # with their topics
                    report.new += counts["new"]
                    report.updated += counts["updated"]
                    report.unchanged += counts["unchanged"]
                    if fulltext:  # complete later: the same rows, with their full text
                        due = [a for a in fresh if not a.body_complete]
                        failed_ids = _complete_and_save(
                            store, fetcher, source, due, report, process
                        )
                        failed_this_round.update(failed_ids)
                        report.fulltext_pending += len(failed_ids)
                    seen += len(page.articles) + len(page.skipped)
                    if on_items:
                        on_items(len(page.articles) + len(page.skipped))
                    if walk is not lane:
                        gap = bool(articles) and len(fresh) == len(articles)
                        report.gap = report.gap or gap
                        break  # a light walk is one page
                    if backfill:
                        if seen >= backfill:
                            break
                    elif caught_up or walked >= CATCH_UP_PAGES:
                        break
                if not gap:
                    break
    except SourceError as exc:
        log.info("%s", exc)
        report.error = str(exc)
    if candidates is not None:
        _note_shape(store, source.key, candidates, report)
    if changes or present:
        _note_fields(store, source.key, changes, present, report)
    if fulltext and report.ok:
        _retry_pending(store, fetcher, source, fulltext_retries, report, failed_this_round, process)
    report.seconds = time.monotonic() - started
    return report


def _complete_and_save(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    due: Sequence[Article],
    report: SourceReport,
    process: Callable[[Article], Article],
    stop: Callable[[], bool] = lambda: False,
) -> list[str]:
    """Fetch the full texts of stored articles and save each as soon as it arrives (an
    update of its row: pushed to open pages, no new alert).  Returns the ids that failed
    (counted, retried on later rounds).  ``stop`` ends it between two articles (the rest
    stays due)."""
    failed: list[str] = []
    for article in due:
        if stop():
            break
        done, failed_ids = _complete_all(source, fetcher, [article], report)
        if failed_ids:
            failed += failed_ids
            continue
        complete = process(_not_in_the_future(store, done[0], report))
        store.save([complete])
    store.note_fulltext_failure(source.key, failed)
    return failed


def complete_pending(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    *,
    max_attempts: int = 5,
    limit: int = RETRY_PER_ROUND,
    tried: set[str] = frozenset(),  # type: ignore[assignment]
    process: Callable[[Article], Article] = lambda a: a,
    stop: Callable[[], bool] = lambda: False,
) -> SourceReport:
    """Full text for a source's stored articles that lack it, newest first: what
    ``finews run`` does right after a poll stored new list items (#17), and every round
    for the items whose earlier attempts failed."""
    report = SourceReport(source.key)
    started = time.monotonic()
    pending = [
        a
        for a in store.pending_fulltext(source.key, max_attempts, limit + len(tried))
        if a.upstream_id not in tried
    ][:limit]
    before = report.fulltext_fetched
    failed = _complete_and_save(store, fetcher, source, pending, report, process, stop)
    report.fulltext_pending = len(failed)
    report.updated = report.fulltext_fetched - before
    report.seconds = time.monotonic() - started
    return report


def _note_fields(
    store: Store,
    key: str,
    changes: list[FieldChange],
    present: frozenset[str],
    report: SourceReport,
) -> None:
    """The round's field changes, recorded; the first-time ones warned about."""
    for change in upstream.note_fields(store, key, changes, present):
        report.field_changes.append(change.as_dict())
        words = f"field {change.field!r} {change.change}: {change.detail}"
        report.problems.append(words)
        log.warning("%s: upstream format changed? %s", key, words)


def _note_shape(store: Store, key: str, candidates: Candidates, report: SourceReport) -> None:
    """Remember the shape that answered (and any switch), with the locked count."""
    for switch in candidates.switches:
        report.switches.append(
            {
                "from": switch.previous,
                "to": switch.current,
                "reason": switch.reason,
                "seconds": round(switch.seconds, 3),
            }
        )
        log.warning(
            "%s: request shape %s stopped working (%s); now %s (fallback %.3f s)",
            key,
            switch.previous,
            switch.reason,
            switch.current,
            switch.seconds,
        )
        upstream.note_shape(
            store,
            key,
            switch.current,
            previous=switch.previous,
            reason=switch.reason,
            seconds=switch.seconds,
        )
    report.shape = candidates.shape.name
    if report.ok or report.locked:
        upstream.note_shape(store, key, candidates.shape.name, locked=report.locked)


def _retry_pending(
    store: Store,
    fetcher: Fetcher,
    source: Source,
    max_attempts: int,
    report: SourceReport,
    tried: set[str],
    process: Callable[[Article], Article],
) -> None:
    """Full text for items of earlier rounds that were stored without it."""
    done = complete_pending(
        store, fetcher, source, max_attempts=max_attempts, tried=tried, process=process
    )
    report.fulltext_fetched += done.fulltext_fetched
    report.updated += done.updated
    report.problems += done.problems


def fetch_round(
    store: Store,
    fetcher: Fetcher,
    sources: Sequence[Source],
    *,
    backfill: int = 0,
    fulltext: bool = True,
    fulltext_retries: int = 5,
    on_items: Callable[[str, int], None] | None = None,
    process: Callable[[Article], Article] = lambda a: a,
    light: int = 0,
) -> list[SourceReport]:
    """One polling round of every source, one after the other.

    Sources run in turn rather than in parallel: the Eastmoney ones share
    one site and its spacing, so parallel requests would only queue.
    """
    reports = []
    for source in sources:
        callback = (lambda n, key=source.key: on_items(key, n)) if on_items else None
        reports.append(
            poll_source(
                store,
                fetcher,
                source,
                backfill=backfill,
                fulltext=fulltext,
                fulltext_retries=fulltext_retries,
                on_items=callback,
                process=process,
                light=light,
            )
        )
        report = reports[-1]
        store.record_poll(source.key, ok=report.ok, error=report.error, new=report.new)
    return reports
