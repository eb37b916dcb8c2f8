"""What every source adapter offers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from finews.fetch import Fetcher
from finews.model import Article


@dataclass(frozen=True)
class Page:
    """One list response, normalised.

    ``skipped`` holds (upstream id or position, reason) for items that could
    not be normalised: they are reported, the rest of the page goes through.
    """

    articles: tuple[Article, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())


class Source(Protocol):
    key: str
    """``eastmoney.fast``, ``eastmoney.column`` …"""

    def pages(self, fetcher: Fetcher) -> Iterator[Page]:
        """Newest first; each page older than the last. Raises SourceError."""
        ...

    def complete(self, fetcher: Fetcher, article: Article) -> Article:
        """The article with its full text; raises SourceError when it cannot be had."""
        ...
