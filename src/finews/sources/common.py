"""Helpers the live-feed adapters share: titles from 【…】, item loops, envelopes."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from finews.errors import UpstreamFormatError
from finews.model import Article, StockTag
from finews.process.headline import headline
from finews.process.text import strip_tags
from finews.sources.base import Page

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
) -> Page:
    """Every item of a list through ``normalise``; a bad item is skipped and reported.
    ``normalise`` returns None for an item that is deliberately not an article (a locked
    VIP item, an economic-data row): skipped with the reason it logs."""
    if not isinstance(items, list):
        raise UpstreamFormatError("the item list is missing or not a list", source)
    articles: list[Article] = []
    skipped: list[tuple[str, str]] = []
    for position, item in enumerate(items):
        ident = (
            str(item.get(ident_key, f"#{position}")) if isinstance(item, dict) else f"#{position}"
        )
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
    return Page(tuple(articles), tuple(skipped))


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
            page = Page(fresh, page.skipped)
        yield page
        if (not page.articles and not page.skipped) or following is None or following == cursor:
            return
        cursor = following
