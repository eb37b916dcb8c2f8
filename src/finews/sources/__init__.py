"""Sources: one thin adapter per upstream, turning responses into articles.

An adapter takes a :class:`~finews.fetch.Fetcher` and yields pages of
articles; it does no storage and keeps no state between calls.  The round
(:mod:`finews.ingest`) decides how far to page and what to store.
"""

from finews.sources.base import Page, Source
from finews.sources.registry import build_sources, known_sources

__all__ = ["Page", "Source", "build_sources", "known_sources"]
