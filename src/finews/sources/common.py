"""Helpers the live-feed adapters share: titles from 【…】, item loops, envelopes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from finews.errors import UpstreamFormatError
from finews.model import Article, StockTag
from finews.process.headline import headline
from finews.process.text import strip_tags
from finews.sources.base import Page
from finews.sources.drift import Expected, compare

log = logging.getLogger(__name__)


def plain(text: str) -> str:
    return strip_tags(text).strip()


def title_from_text(text: str) -> str:
    """The headline of an untitled flash: its leading 【…】, else its first sentence
    without the dateline, cut at a clause (:func:`finews.process.headline.headline`)."""
    return headline(text)


def raw_json(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False)


def unique_tags(tags: list[StockTag]) -> tuple[StockTag, ...]:
    return tuple({t.code: t for t in tags}.values())


def normalise_items(
    items: Any,
    normalise: Callable[[dict[str, Any]], Article | None],
    source: str,
    ident_key: str = "id",
    *,
    expected: Expected | None = None,
    locked: Callable[[dict[str, Any]], bool] | None = None,
) -> Page:
    """Every item of a list through ``normalise``; a bad item is skipped and reported.
    ``normalise`` returns None for an item that is deliberately not an article (an
    economic-data row): skipped with the reason it logs.  An item ``locked`` says is
    behind the upstream's paywall is counted, not normalised.  With ``expected``, the
    page carries how its items differ from the fields the adapter reads."""
    if not isinstance(items, list):
        raise UpstreamFormatError("the item list is missing or not a list", source)
    articles: list[Article] = []
    skipped: list[tuple[str, str]] = []
    locked_count = 0
    changes, present = compare(items, expected) if expected else ((), frozenset[str]())
    for position, item in enumerate(items):
        ident = (
            str(item.get(ident_key, f"#{position}")) if isinstance(item, dict) else f"#{position}"
        )
        if locked is not None and isinstance(item, dict) and locked(item):
            locked_count += 1
            continue
        try:
            if not isinstance(item, dict):
                raise TypeError("item is not an object")
            article = normalise(item)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            reason = (
                f"missing {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
            )
            log.info("%s: skipped item %s: %s", source, ident, reason)
            skipped.append((ident, reason))
            continue
        if article is None:
            skipped.append((ident, "not an article (locked or a data row)"))
        else:
            articles.append(article)
    return Page(tuple(articles), tuple(skipped), locked_count, (), changes, present)


def paged(
    fetch_page: Callable[[Any], tuple[Page, Any]], first: Any, max_pages: int = 1000
) -> Iterator[Page]:
    """Pages newest first: ``fetch_page(cursor)`` gives a page and the next cursor; ends on
    an empty page or a cursor that does not move.  An item already given by an earlier
    page of the same walk is not given again."""
    cursor = first
    seen: set[str] = set()
    for _ in range(max_pages):
        page, following = fetch_page(cursor)
        # overlapping pages (财联社's last_time + 1) would look like known items and end
        # a catch-up early: what an earlier page of this walk gave is dropped
        fresh = tuple(a for a in page.articles if a.upstream_id not in seen)
        seen.update(a.upstream_id for a in fresh)
        if len(fresh) != len(page.articles):
            page = replace(page, articles=fresh)
        yield page
        empty = not page.articles and not page.skipped and not page.locked and not page.events
        if empty or following is None or following == cursor:
            return
        cursor = following


def merge(a: Page, b: Page) -> Page:
    """Two pages of one source as one (categories, channels): an item on both is the
    first's."""
    ids = {x.upstream_id for x in a.articles}
    return replace(
        a,
        articles=a.articles + tuple(x for x in b.articles if x.upstream_id not in ids),
        skipped=a.skipped + b.skipped,
        locked=a.locked + b.locked,
        events=a.events + b.events,
        changes=a.changes + tuple(c for c in b.changes if c not in a.changes),
        present=a.present | b.present,
    )


def merged_rounds(walks: list[Iterator[Page]]) -> Iterator[Page]:
    """One page of every walk (a source's categories or channels) in turn, merged into one
    page per round: an item in two categories is one article, and each round's catch-up
    sees every category's newest items."""
    live = list(walks)
    while live:
        round_page: Page | None = None
        for pages in list(live):
            page = next(pages, None)
            if page is None:
                live.remove(pages)
                continue
            round_page = page if round_page is None else merge(round_page, page)
        if round_page is not None:
            yield round_page
