"""What every source adapter offers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from finews.fetch import Fetcher
from finews.model import Article, CalendarEvent
from finews.sources.drift import FieldChange


@dataclass(frozen=True)
class Page:
    """One list response, normalised.

    ``skipped`` holds (upstream id or position, reason) for items that could
    not be normalised: they are reported, the rest of the page goes through.
    """

    articles: tuple[Article, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    locked: int = 0
    """Items locked behind the upstream's paywall (财联社 VIP, 金十 PLUS): not news we
    can show, skipped on purpose and counted apart from failures."""
    events: tuple[CalendarEvent, ...] = ()
    """Economic-data releases the page carried (金十 ``type`` 1), kept as calendar rows."""
    changes: tuple[FieldChange, ...] = ()
    """How the items differ from the fields the adapter expects (issue #15)."""
    present: frozenset[str] = frozenset()
    """Every item field seen on the page (a field missing earlier may be back)."""


class Source(Protocol):
    key: str
    """``eastmoney.fast``, ``eastmoney.column`` …"""

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        """Newest first; each page older than the last. Raises SourceError."""
        ...

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        """The article with its full text; raises SourceError when it cannot be had."""
        ...
