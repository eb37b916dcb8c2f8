"""What every page kind of one build shares: the options, the renderer, the writer, and
what the planner learned of the store (section slugs, stocks' names, the stories told
more than once and their heat), with the caches that make pages cheap (feed entries,
listing lines).  Worker processes inherit it.  And :class:`Plan`: what the planner
found this build must look at, the input of every page kind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from finews.site.options import BuildReport, SiteOptions
from finews.site.render import Renderer
from finews.site.stories import Heat, heat_of, outlet_order
from finews.site.stream import StreamLine
from finews.site.writer import Writer
from finews.store import Store
from finews.store import sitequeries as q
from finews.store.sitequeries import Item

# one logger for a build's phases and its pool (``-v`` shows them; tests follow it)
log = logging.getLogger("finews.site.build")


class Build:
    def __init__(self, store: Store, options: SiteOptions, renderer: Renderer, writer: Writer):
        self.store = store
        self.o = options
        self.renderer = renderer
        self.writer = writer
        self.slugs: dict[str, str] = {}
        self.stock_names: dict[str, str] = {}
        self.peers: dict[int, list[Item]] = {}
        self.cluster_of: dict[int, int] = {}
        # heat of the stories told more than once, by story id; complete in a full build
        self.heat: dict[int, Heat] = {}
        self.heat_complete = False
        self._no_heat: set[int] = set()
        # feed entries by article id: an article is in its section's, its stocks' and the
        # site's feeds, and its body is cleaned once per build, not once per feed
        self.entry_cache: dict[int, dict[str, Any]] = {}
        # in a worker: the articles its feed pages show, sent or read there
        self.feed_articles: dict[int, q.Published] | None = None
        # listing lines by article id (see pages.listing.view_items)
        self.list_lines: dict[int, tuple[dict[str, Any], StreamLine]] = {}
        self._clock = time.perf_counter()

    @property
    def report(self) -> BuildReport:
        return self.writer.report

    def set_peers(self, peers: dict[int, list[Item]]) -> None:
        """Stories with more than one report, for "also reported by" and story pages."""
        self.peers = peers
        self.cluster_of = {it.id: cluster for cluster, group in peers.items() for it in group}
        self.heat = {cluster: heat_of(group) for cluster, group in peers.items()}

    def heat_for(self, conn: Connection, items: Iterable[Item]) -> dict[int, Heat]:
        """The heat of the stories of ``items`` told more than once (read from the store for
        the stories this build did not load)."""
        wanted = {it.cluster for it in items}
        if not self.heat_complete:
            missing = [c for c in wanted if c not in self.heat and c not in self._no_heat]
            found = q.story_heat(conn, missing)
            self.heat.update(
                {c: Heat(n, m, outlet_order(first)) for c, (n, m, first) in found.items()}
            )
            self._no_heat.update(c for c in missing if c not in found)
        return {c: self.heat[c] for c in wanted if c in self.heat}

    def phase(self, name: str) -> None:
        """Log how long the phase that just ended took (``-v`` shows it)."""
        now = time.perf_counter()
        log.info("build: %-24s %6.2f s", name, now - self._clock)
        self._clock = now


@dataclass
class Plan:
    full: bool
    watermark: int
    slugs: dict[str, str]
    counts: list[tuple[str, int, int]]
    """Sections: (name, articles, newest time)."""
    day_counts: list[tuple[int, int]]
    stock_index: list[tuple[str, int, str]]
    """Stocks: (code, articles, name)."""
    parallel: bool = False
    """A full build rendered by the worker pool (pages are planned, then rendered there)."""
    article_ids: list[int] = field(default_factory=list)
    """Article pages to render: the changed ones (incremental), every one (parallel)."""
    sections: dict[str, tuple[int, list[Item]]] = field(default_factory=dict)
    """name -> (absolute position of the first page looked at, the items from a chunk
    before it on: see :class:`finews.site.pages.chunks.Chunked`)."""
    important: tuple[int, list[Item]] = (0, [])
    """要闻: (absolute position of the first page looked at, every entry oldest first)."""
    days: dict[int, list[Item]] = field(default_factory=dict)
    sitemap_days: set[int] = field(default_factory=set)
    stocks: dict[str, list[Item]] = field(default_factory=dict)
    stories: dict[int, list[Item]] = field(default_factory=dict)
    touched_stories: set[int] = field(default_factory=set)
    removed_article_paths: set[str] = field(default_factory=set)

    @property
    def totals(self) -> dict[str, int]:
        return {name: count for name, count, _ in self.counts}
