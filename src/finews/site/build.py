"""``finews build``: the site, rendered from one snapshot of the store.

Incremental by default.  The store's change counter says which articles
changed since the last build (tombstones say which went away or moved);
from those the build derives the pages that may change — their article
pages, their sections' pages, their days (and the neighbouring days, whose
prev/next links may move), their months' sitemaps, and the few global pages
(home, feeds, indexes).  Each of those pages gets a hash of its inputs; a
page whose hash is in the manifest is neither rendered nor written.
``--full`` renders everything and removes whatever the last build wrote
that no longer exists.  Incremental and full builds run the same page code,
so they produce the same bytes.

Publishing order keeps a reader's view whole: article pages first, then the
listings and feeds that link to them, then removals; each file is replaced
atomically (temporary file + rename).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import logging
import multiprocessing
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    Template,
    select_autoescape,
)
from markupsafe import Markup
from sqlalchemy import Connection

from finews import __version__
from finews.config import Settings
from finews.model import BEIJING
from finews.outputs.files import Staging, write_atomic, write_new
from finews.process.clean import CLEAN_REVISION
from finews.site import paths
from finews.site.article import LINE_END, ListLine, article_parts, list_line
from finews.site.escaping import escape_text, joined_lines
from finews.site.feeds import feed_entry, json_feed, with_entries
from finews.site.formats import iso_time, rfc822_time, section_title, short_time
from finews.site.manifest import MANIFEST_DIR, Manifest
from finews.site.skeleton import Fill, compile_fill
from finews.site.stories import (
    MAX_PEERS,
    Heat,
    heat_chip,
    heat_key,
    heat_of,
    one_per_story,
    story_key,
    story_path,
    story_view,
)
from finews.store import Store
from finews.store import sitequeries as q
from finews.store.sitequeries import Item

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class SiteOptions:
    title: str = "金融消息"
    base_url: str = "http://127.0.0.1:8000/"
    """Absolute URL of the site root, for feeds and sitemaps (pages link relatively)."""
    page_size: int = 50
    feed_size: int = 50
    home_per_section: int = 5
    home_newest: int = 30
    templates: str = ""
    """A folder whose templates override the packaged ones, file by file."""
    stock_size: int = 100
    """Articles on a stock's page."""
    stock_feed_size: int = 20
    """Entries in a stock's feeds (thousands of stocks: their feeds are most of the feed work)."""
    search_form: bool = True
    """A search box in the header, for sites served by ``finews serve`` (its ``/search``)."""
    workers: int = 0
    """Processes rendering article pages in a full build: 0 = one per core (up to 4)
    from 3,000 articles on, 1 = this process only."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SiteOptions:
        s = settings.site
        return cls(
            title=s.title,
            base_url=s.base_url,
            page_size=s.page_size,
            feed_size=s.feed_size,
            templates=s.templates,
            search_form=s.search_form,
        )


@dataclass
class BuildReport:
    full: bool = False
    articles: int = 0
    rendered: int = 0
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


def _digest(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def _shown(items: Iterable[Item]) -> str:
    """Items as a listing's or a feed's input hash sees them.  An id fixes an item's
    source, upstream id and so its path; its content hash covers everything else a
    listing or an entry shows (title, time, media, section, importance, body).  Plain
    strings: a page lists up to hundreds of items, and hashing a tuple of each one's
    fields was most of the time spent planning a build."""
    return ";".join([f"{it.id}:{it.content_hash}" for it in items])


PARALLEL_FROM = 3000
"""Below this many articles a full build renders in one process (forking costs more)."""
MAX_WORKERS = 4
BATCH = 400
_WORKER_BUILDER: _Builder | None = None


class ItemViews(list[dict[str, Any]]):
    """A listing's items as templates see them, and ``html``: their lines, joined."""

    html: Markup = Markup("")


class SitemapUrls(list[dict[str, str]]):
    """A sitemap's URLs (``loc``, ``lastmod``), and ``xml``: their ``<url>`` elements,
    joined (a day's sitemap has hundreds; one Jinja2 loop step each was most of it)."""

    xml: Markup = Markup("")

    @classmethod
    def of(cls, urls: Iterable[dict[str, str]]) -> SitemapUrls:
        result = cls(urls)
        e = escape_text
        result.xml = joined_lines(
            f"<url><loc>{e(u['loc'])}</loc>"
            + (f"<lastmod>{e(u['lastmod'])}</lastmod>" if u.get("lastmod") else "")
            + "</url>"
            for u in result
        )
        return result


def _worker_snapshot() -> Connection | None:
    """This worker's own read transaction on the store, opened on first use and kept
    for the worker's life, if it shows what the build's snapshot shows; else None
    (something was written in between: the parent then sends the rows itself)."""
    global _WORKER_SNAPSHOT
    builder = _WORKER_BUILDER
    assert builder is not None, "worker started without a builder"
    if _WORKER_SNAPSHOT is None:
        # a new engine: the inherited one's connections are the parent's
        conn: Connection | None = builder.store.reopened().snapshot()
        assert conn is not None
        if q.snapshot_mark(conn) != builder.snapshot_mark:
            conn.close()
            conn = None
        _WORKER_SNAPSHOT = (conn,)
    return _WORKER_SNAPSHOT[0]


_WORKER_SNAPSHOT: tuple[Connection | None] | None = None


def _render_job_slice(
    bounds: tuple[int, int], feed_rows: list[tuple[Any, ...]] | None
) -> list[bool] | None:
    """Render and write planned pages ``bounds`` of the builder's job list (in a worker).
    ``feed_rows`` are the rows of the articles their feeds show, or None to read them
    here (None back: this worker's snapshot cannot, send them)."""
    builder = _WORKER_BUILDER
    assert builder is not None, "worker started without a builder"
    start, end = bounds
    if feed_rows is None:
        conn = _worker_snapshot()
        if conn is None:
            return None
        feed_rows = list(q.article_rows_by_id(conn, builder.feed_ids(start, end)))
    builder._feed_articles = {p.id: p for p in map(q.article_from_row, feed_rows)}
    return [builder._write(path, render) for path, render in builder._jobs[start:end]]


def _render_article_batch(batch: list[tuple[Any, ...]]) -> list[tuple[str, str, bool]]:
    builder = _WORKER_BUILDER
    assert builder is not None, "worker started without a builder"
    return [builder.render_article(q.article_from_row(row)) for row in batch]


def _render_article_range(bounds: tuple[int, int]) -> list[tuple[str, str, bool]] | None:
    """The article pages of ids ``bounds`` (inclusive), read by this worker; None when its
    snapshot is not the build's (the parent then sends the rows)."""
    conn = _worker_snapshot()
    if conn is None:
        return None
    return _render_article_batch(q.article_rows_between(conn, *bounds))


class _Builder:
    def __init__(self, store: Store, out: Path, options: SiteOptions, full: bool) -> None:
        self.store = store
        self.out = out
        self.o = options
        self.force_full = full
        loaders: list[Any] = []
        if options.templates:
            loaders.append(FileSystemLoader(options.templates))
        loaders.append(PackageLoader("finews.site", "templates"))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(["html", "xml"]),
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._templates: dict[str, Template] = {}
        self._chrome: dict[str, dict[str, Markup]] = {}
        self.site = {"title": options.title, "search": options.search_form}
        self.config_hash = self._config_hash()
        self.report = BuildReport()
        self.peers: dict[int, list[Item]] = {}
        self.stock_names: dict[str, str] = {}
        # feed entries by article id: an article is in its section's, its stocks' and the
        # site's feeds, and its body is cleaned once per build, not once per feed
        self._entry_cache: dict[int, dict[str, Any]] = {}
        # full builds on several cores: listing pages are planned, then rendered by workers
        self._deferred: list[tuple[str, Callable[[], str | bytes]]] | None = None
        self._jobs: list[tuple[str, Callable[[], str | bytes]]] = []
        # planned feed pages (by position in the job list) and the articles they show
        self._feed_needs: dict[int, list[int]] = {}
        self._feed_articles: dict[int, q.Published] | None = None
        self._article_ids: list[int] = []
        self.snapshot_mark: tuple[int, int, int] = (0, 0, 0)
        self.cluster_of: dict[int, int] = {}
        # heat of the stories told more than once, by story id; complete in a full build
        self.heat: dict[int, Heat] = {}
        self._heat_complete = False
        self._no_heat: set[int] = set()
        self._clock = time.perf_counter()
        self.produced: dict[str, str] = {}
        self.manifest: Manifest | None = None
        self.full = full
        self._writer: Callable[[Any, bytes], bool] = write_atomic
        # skeletons by (template, page depth); None: the template renders with Jinja2
        self._fills: dict[tuple[str, str], Fill | None] = {}
        self._list_lines: dict[int, tuple[dict[str, Any], ListLine]] = {}

    def _config_hash(self) -> str:
        sources = []
        for folder in [TEMPLATES, STATIC, *([Path(self.o.templates)] if self.o.templates else [])]:
            for path in sorted(folder.glob("*")):
                if path.is_file():
                    sources.append((path.name, path.read_bytes()))
        options = sorted((k, v) for k, v in vars(self.o).items() if k != "workers")
        # a new cleaner revision changes every body: every page is rebuilt
        return _digest(__version__, CLEAN_REVISION, options, sources)

    # -- emitting pages ----------------------------------------------------------
    def emit(self, path: str, key: tuple[object, ...], render: Callable[[], str | bytes]) -> None:
        digest = _digest(self.config_hash, path, key)
        self.produced[path] = digest
        assert self.manifest is not None
        if not self.full and self.manifest.get(path) == digest:
            self.report.unchanged += 1
            return
        if self._deferred is not None:  # planned now, rendered by the workers later
            self._deferred.append((path, render))
            return
        self.report.rendered += 1
        if self._write(path, render):
            self.report.written += 1

    def _write(self, path: str, render: Callable[[], str | bytes]) -> bool:
        content = render()
        data = content.encode("utf-8") if isinstance(content, str) else content
        return self._writer(self._target(path), data)

    def _target(self, path: str) -> Path | str:
        # a string for a new file in a staging folder (pathlib's joining costs more than
        # writing a small file there)
        return f"{self.out}/{path}" if self._writer is write_new else self.out / path

    def render(self, template: str, path: str, **context: Any) -> str:
        return self.render_at(template, paths.root_of(path), **context)

    def render_at(self, template: str, root: str, **context: Any) -> str:
        compiled = self._templates.get(template)
        if compiled is None:
            compiled = self._templates[template] = self.env.get_template(template)
        return compiled.render(
            site=self.site, root=Markup(root), chrome=self.chrome(root), **context
        )

    def chrome(self, root: str) -> dict[str, Markup]:
        """The header and footer of a page at this depth, rendered once per depth:
        they are the same on every page, and most of a small page's render time."""
        if root not in self._chrome:
            template = self.env.get_template("chrome.html")
            module = template.make_module({"site": self.site, "root": Markup(root)})
            self._chrome[root] = {
                "header": Markup(str(module.header()).strip()),  # type: ignore[attr-defined]
                "footer": Markup(str(module.footer()).strip()),  # type: ignore[attr-defined]
            }
        return self._chrome[root]

    # -- the build ---------------------------------------------------------------
    def run(self) -> BuildReport:
        started = time.perf_counter()
        if Staging.possible(self.out):
            # a new site: built beside its place, published by one rename
            target = self.out
            with Staging(target) as folder:
                self.out, self._writer = folder, write_new
                try:
                    self._run()
                finally:
                    self.out = target
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self._run()
        self.report.full = self.full
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _run(self) -> None:
        self.manifest = manifest = Manifest(self.out)
        # A build makes hundreds of thousands of short-lived objects and no cycles worth
        # collecting: the collector's passes (in the workers too) are time for nothing.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self.store.snapshot() as conn:
                self._build(conn, manifest)
        finally:
            manifest.close()
            if collecting:
                gc.enable()

    def _build(self, conn: Connection, manifest: Manifest) -> None:
        watermark = q.max_seq(conn)
        counts = q.section_counts(conn)
        slugs = paths.section_slugs(name for name, _, _ in counts)
        old_slugs = manifest.slugs()
        moved = any(old_slugs.get(name, slug) != slug for name, slug in slugs.items())
        self.full = (
            self.force_full
            or manifest.watermark is None
            or manifest.meta.get("config") != self.config_hash
            or moved
        )
        self.slugs = slugs
        day_counts = q.day_counts(conn)
        self._phase("counts")

        totals = {name: count for name, count, _ in counts}
        stock_index = q.stock_index(conn)
        self.stock_names = {code: name for code, _, name in stock_index}
        # sections: name -> (absolute position of the first item loaded, items from there on)
        sections: dict[str, tuple[int, list[Item]]] = {}
        stocks: dict[str, list[Item]] = {}
        if self.full:
            manifest.load_all()
            by_section: dict[str, list[Item]] = defaultdict(list)
            by_day: dict[int, list[Item]] = defaultdict(list)
            by_cluster: dict[int, list[Item]] = defaultdict(list)
            by_id: dict[int, Item] = {}
            for it in q.all_items(conn):
                by_section[it.section].append(it)
                by_day[q.beijing_day_number(it.published_at)].append(it)
                by_cluster[it.cluster].append(it)
                by_id[it.id] = it
            self.set_peers({c: m for c, m in by_cluster.items() if len(m) > 1})
            by_stock: dict[str, list[Item]] = defaultdict(list)
            for code, article_id in q.all_stock_pairs(conn):
                if article_id in by_id:
                    by_stock[code].append(by_id[article_id])
            stocks = {
                code: one_per_story(
                    sorted(items, key=lambda it: (-it.published_at, -it.id)), self.o.stock_size
                )
                for code, items in by_stock.items()
            }
            self._heat_complete = True
            story_groups = self.peers
            touched_stories: set[int] = set()
            self._phase("listing rows")
            if self._workers(conn) > 1:
                # listings are planned first; then one pool of workers renders the article
                # pages and the planned pages (_render_parallel)
                self._deferred = []
                self._article_ids = sorted(by_id)
            else:
                self.report.articles = self._article_pages_full(conn)
                self._phase("article pages")
            sections = {name: (0, items) for name, items in by_section.items()}
            days = dict(by_day)
            sitemap_days = set(days)
            removed_article_paths: set[str] = set()
        else:
            since = manifest.watermark or 0
            changed = q.changed_since(conn, since)
            tombs = q.tombstones_since(conn, since)
            clusters = {it.cluster for it in changed} | {t.cluster for t in tombs if t.cluster}
            members = q.cluster_members(conn, sorted(clusters))
            self.set_peers({c: m for c, m in members.items() if len(m) > 1})
            # a reprint changes the "also reported by" of every article of its cluster, and
            # the heat its story shows on the stock pages of every report
            to_render = {it.id for it in changed}
            for group in members.values():
                to_render.update(it.id for it in group)
            self.report.articles = self._article_pages(conn, sorted(to_render))
            codes = q.stock_codes_of(conn, sorted(to_render))
            codes |= {code for t in tombs for code in t.stocks}
            stocks = {code: self._stock_stories(conn, code) for code in sorted(codes)}
            story_groups = self.peers
            touched_stories = set(clusters)
            earliest: dict[str, int] = {}
            for section, published_at in [(it.section, it.published_at) for it in changed] + [
                (t.section, t.published_at) for t in tombs
            ]:
                earliest[section] = min(earliest.get(section, published_at), published_at)
            for section, published_at in sorted(earliest.items()):
                offset = self._first_affected(conn, section, published_at, totals.get(section, 0))
                sections[section] = (offset, q.section_items_from(conn, section, offset))
            touched_days = {q.beijing_day_number(it.published_at) for it in changed}
            touched_days |= {q.beijing_day_number(t.published_at) for t in tombs}
            days = self._days_with_neighbours(conn, touched_days, [d for d, _ in day_counts])
            sitemap_days = touched_days
            removed_article_paths = {
                paths.article_path(t.source, t.upstream_id, t.published_at) for t in tombs
            }

        self._phase("changes")
        for cluster, group in sorted(story_groups.items()):
            self._story_page(cluster, group)
        self._phase("story pages")
        for section, (offset, items) in sorted(sections.items()):
            if items:
                self._section_pages(conn, section, items, offset, totals[section])
        self._phase("section pages and feeds")
        day_numbers = [d for d, _ in day_counts]
        for day in sorted(days):
            if days[day]:
                self._day_page(day, days[day], day_numbers)
        for day in sorted(sitemap_days):
            self._day_sitemap(day, days.get(day))
        self._phase("day pages and sitemaps")
        for code, items in sorted(stocks.items()):
            if items:
                self._stock_pages(conn, code, items)
        self._phase("stock pages")
        self._global_pages(conn, counts, day_counts, stock_index)
        self._phase("home, indexes, feeds")
        if self._deferred is not None:
            self._render_parallel(conn)
            self._phase("pages rendered in parallel")

        removed = self._removals(
            manifest,
            sections,
            days,
            sitemap_days,
            removed_article_paths | {story_path(c) for c in touched_stories},
            set(stocks),
        )
        manifest.commit(
            {p: h for p, h in self.produced.items() if manifest.get(p) != h},
            removed,
            watermark=watermark,
            config_hash=self.config_hash,
            slugs=slugs,
        )
        self._phase("removals, manifest")

    def _first_affected(self, conn: Connection, section: str, published_at: int, total: int) -> int:
        """Where the pages of a section start to change: the chunk before the one
        holding the earliest changed item (its "newer" link may move), never past
        what the index page and the feed need.  A multiple of the page size."""
        size = self.o.page_size
        position = q.count_before(conn, section, published_at)
        chunk = max(0, position // size - 1)
        last_needed = max(0, min(total // size - 1, (total - self.o.feed_size) // size))
        return min(chunk, last_needed) * size

    def set_peers(self, peers: dict[int, list[Item]]) -> None:
        """Stories with more than one report, for "also reported by" and story pages."""
        self.peers = peers
        self.cluster_of = {it.id: cluster for cluster, group in peers.items() for it in group}
        self.heat = {cluster: heat_of(group) for cluster, group in peers.items()}

    def heat_for(self, conn: Connection, items: Iterable[Item]) -> dict[int, Heat]:
        """The heat of the stories of ``items`` told more than once (read from the store for
        the stories this build did not load)."""
        wanted = {it.cluster for it in items}
        if not self._heat_complete:
            missing = [c for c in wanted if c not in self.heat and c not in self._no_heat]
            found = q.story_heat(conn, missing)
            self.heat.update({c: Heat(*v) for c, v in found.items()})
            self._no_heat.update(c for c in missing if c not in found)
        return {c: self.heat[c] for c in wanted if c in self.heat}

    def _story_page(self, cluster: int, members: list[Item]) -> None:
        """``story/<id>/``: every report of a story in time order (issue #10)."""
        path = story_path(cluster)
        root = paths.root_of(path)
        self.emit(
            path,
            story_key(members),
            lambda: self._filled("story.html", root, "story", story_view(cluster, members, root)),
        )

    def _phase(self, name: str) -> None:
        """Log how long the phase that just ended took (``-v`` shows it)."""
        now = time.perf_counter()
        log.info("build: %-24s %6.2f s", name, now - self._clock)
        self._clock = now

    def _days_with_neighbours(
        self, conn: Connection, touched: set[int], existing: Sequence[int]
    ) -> dict[int, list[Item]]:
        import bisect

        wanted = set(touched)
        for day in touched:
            i = bisect.bisect_left(existing, day)
            if i > 0:
                wanted.add(existing[i - 1])
            j = bisect.bisect_right(existing, day)
            if j < len(existing):
                wanted.add(existing[j])
        result: dict[int, list[Item]] = {}
        for day in wanted:
            start = day * q.DAY - q.BEIJING_OFFSET
            result[day] = q.items_between(conn, start, start + q.DAY)
        return result

    # -- article pages -----------------------------------------------------------
    def _article_view(self, published: q.Published) -> tuple[str, tuple[object, ...], Any]:
        row_id, a, content_hash, body = published
        published_at = int(a.published.timestamp())
        path = paths.article_path(a.source, a.upstream_id, published_at)
        section = a.category or a.media or a.source
        slug = self.slugs.get(section, "")
        cluster = self.cluster_of.get(row_id, -1)
        group = self.peers.get(cluster, ())
        peers = [it for it in group if it.id != row_id][:MAX_PEERS]
        story = (cluster, self.heat[cluster]) if peers else None
        peer_key = (tuple((it.id, it.media, it.title, it.published_at) for it in peers), story)
        key = (content_hash, section, slug, peer_key)

        def context() -> dict[str, Any]:
            return article_parts(a, path, section, slug, peers, body, story)

        return path, key, context

    def _emit_article(self, published: q.Published) -> None:
        path, key, context = self._article_view(published)
        self.emit(path, key, lambda: self._article_page(path, context()))

    def _filled(
        self, template: str, root: str, var: str, values: dict[str, Any], **varying: Any
    ) -> str:
        """``template`` at page depth ``root`` for ``var`` = ``values``: its skeleton
        filled in when the template qualifies (see :mod:`finews.site.skeleton`), else a
        Jinja2 render.  ``varying`` are the other variables that differ from page to
        page: a template that uses one is rendered by Jinja2."""
        key = (template, root)
        if key not in self._fills:
            context = {"site": self.site, "root": Markup(root), "chrome": self.chrome(root)}
            self._fills[key] = compile_fill(
                self.env, template, var, context, varying=frozenset(varying)
            )
        fill = self._fills[key]
        if fill is None:
            return self.render_at(template, root, **{var: values}, **varying)
        return fill(values)

    def _article_page(self, path: str, parts: dict[str, Any]) -> str:
        return self._filled("article.html", paths.root_of(path), "a", parts)

    def _article_pages_full(self, conn: Connection) -> int:
        """Every article page, in this process (small sites, or ``workers = 1``)."""
        n = 0
        for published in q.iter_all_articles(conn):
            self._emit_article(published)
            n += 1
        return n

    def _workers(self, conn: Connection) -> int:
        """How many processes render a full build (1: this one only)."""
        workers = self.o.workers or min(os.cpu_count() or 1, MAX_WORKERS)
        if self.o.workers == 0 and q.article_count(conn) < PARALLEL_FROM:
            return 1
        return workers

    def _render_parallel(self, conn: Connection) -> None:
        """Render every article page and the planned listings, feeds and sitemaps in
        worker processes (one pool, forked once).

        Each worker reads the rows it renders through its own read transaction, after
        checking that it shows what this build's snapshot shows (the store's change
        counters and article count: every write raises a counter); a worker whose
        transaction does not (something was written since the build began) gets the
        rows from here instead.  So every page shows the snapshot.  Into a folder
        readers already see, the listings start once every article page is written (a
        listing never links to a page that does not exist yet); into a staging folder,
        which nobody sees before it is complete, they follow without waiting.
        """
        jobs = self._deferred or []
        self._deferred = None
        self._jobs = jobs
        self.snapshot_mark = q.snapshot_mark(conn)
        workers = self._workers(conn)
        global _WORKER_BUILDER, _WORKER_SNAPSHOT
        _WORKER_BUILDER = self
        _WORKER_SNAPSHOT = None
        # Objects the workers inherit are moved out of the garbage collector's reach:
        # otherwise each worker's collections walk (and copy, page by page) the parent's
        # whole heap.
        gc.freeze()
        try:
            self.report.articles = self._run_pool(conn, jobs, workers)
        finally:
            gc.unfreeze()
            _WORKER_BUILDER = None
            self._jobs = []

    def feed_ids(self, start: int, end: int) -> list[int]:
        """The articles the feeds among planned pages ``start:end`` show."""
        return sorted({i for job in range(start, end) for i in self._feed_needs.get(job, ())})

    def _run_pool(
        self, conn: Connection, jobs: list[tuple[str, Callable[[], str | bytes]]], workers: int
    ) -> int:
        context = multiprocessing.get_context("fork")
        ids = self._article_ids
        ranges = [(ids[i], ids[min(i + BATCH, len(ids)) - 1]) for i in range(0, len(ids), BATCH)]
        step = max(1, len(jobs) // (workers * 4))
        slices = [(start, min(len(jobs), start + step)) for start in range(0, len(jobs), step)]
        sent_rows = 0
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            articles = [(pool.submit(_render_article_range, b), b) for b in ranges]
            listings: list[tuple[Future[list[bool] | None], tuple[int, int]]] = []
            if self._writer is write_new:  # staged: nobody sees the pages before the end
                listings = [(pool.submit(_render_job_slice, b, None), b) for b in slices]
            for future, (first, last) in articles:
                result = future.result()
                if result is None:  # that worker's transaction is not the snapshot
                    rows = q.article_rows_between(conn, first, last)
                    sent_rows += len(rows)
                    result = pool.submit(_render_article_batch, rows).result()
                self._collect(result)
            if self._writer is not write_new:  # in place: listings after the articles
                listings = [(pool.submit(_render_job_slice, b, None), b) for b in slices]
            for listing, (start, end) in listings:
                written = listing.result()
                if written is None:
                    rows = list(q.article_rows_by_id(conn, self.feed_ids(start, end)))
                    sent_rows += len(rows)
                    written = pool.submit(_render_job_slice, (start, end), rows).result()
                    assert written is not None
                self.report.rendered += len(written)
                self.report.written += sum(written)
        if sent_rows:
            log.info(
                "build: the store changed while the workers started; %d rows were sent "
                "to them from the build's snapshot",
                sent_rows,
            )
        return len(ids)

    def _collect(self, results: list[tuple[str, str, bool]]) -> None:
        for path, digest, written in results:
            self.produced[path] = digest
            self.report.rendered += 1
            self.report.written += int(written)

    def render_article(self, published: q.Published) -> tuple[str, str, bool]:
        """Render and write one article page (in a worker); (path, input hash, written)."""
        path, key, context = self._article_view(published)
        digest = _digest(self.config_hash, path, key)
        data = self._article_page(path, context()).encode("utf-8")
        return path, digest, self._writer(self._target(path), data)

    def _article_pages(self, conn: Connection, ids: list[int]) -> int:
        n = 0
        for published in q.articles_by_id(conn, ids):
            self._emit_article(published)
            n += 1
        return n

    # -- listings ------------------------------------------------------------------
    def _view_items(
        self,
        items: Iterable[Item],
        root: str,
        show_media: bool,
        heat: dict[int, Heat] | None = None,
    ) -> ItemViews:
        """What a listing shows of each item: its fields, and ``html``, its ``<li>``
        built here (a listing is mostly items; one fragment is a tenth of the cost of
        six Jinja2 expressions), and all the lines in one piece (``.html`` of the list,
        printed by the packaged template).  Templates may print either or use the fields."""
        views = ItemViews()
        lines = []
        known = self._list_lines
        for it in items:
            cached = known.get(it.id)
            if cached is None:
                # once per item and process: an item is on its section's, its day's, its
                # stocks' pages (one snapshot: an id is the same item on all of them)
                fields = {
                    "title": it.title,
                    "path": paths.article_path(it.source, it.upstream_id, it.published_at),
                    "iso": iso_time(it.published_at),
                    "short_time": short_time(it.published_at),
                    "media": it.media,
                    "important": it.important,
                }
                cached = known[it.id] = (fields, list_line(fields))
            fields, pieces = cached
            line = pieces.join(root, show_media)
            told = heat.get(it.cluster) if heat else None
            if told is not None:  # the story's heat, linked to its page (issue #10)
                line = line[: -len(LINE_END)] + heat_chip(root, it.cluster, told) + LINE_END
                fields = {**fields, "heat": told.label, "story": story_path(it.cluster)}
            lines.append(line)
            views.append({**fields, "html": Markup(line)})
        views.html = joined_lines(lines)
        return views

    def _section_pages(
        self, conn: Connection, section: str, items: list[Item], offset: int, total: int
    ) -> None:
        """Pages of a section: fixed chunks counted from its oldest article
        (``p1.html`` = the oldest ``page_size``), so that new articles change only
        the newest pages; ``index.html`` shows the newest full chunk and what
        came after it.  ``items`` are the section's articles from position
        ``offset`` on (a multiple of the page size)."""
        slug = self.slugs[section]
        size = self.o.page_size
        full_chunks = total // size
        prefix = f"c/{slug}/"

        def chunk_path(k: int) -> str:
            return f"{prefix}p{k}.html"

        def chunk_items(k: int) -> list[Item]:
            start = (k - 1) * size - offset
            return items[start : start + size]

        for k in range(offset // size + 1, full_chunks):
            path = chunk_path(k)
            newer = chunk_path(k + 1) if k + 1 < full_chunks else f"{prefix}index.html"
            older = chunk_path(k - 1) if k > 1 else None
            self._list_page(
                path,
                heading=f"{section_title(section)}（第 {k} 页）",
                subtitle="",
                items=chunk_items(k),
                newer=newer,
                older=older,
                feed_prefix=None,
            )
        # feeds first: a page is never published before what it links to (a crash between
        # the two would leave a dead link)
        title = f"{self.o.title} · {section_title(section)}"
        self._feeds(conn, prefix, title, items[-self.o.feed_size :])
        newest = items[max(0, (full_chunks - 1) * size - offset) :] if full_chunks >= 1 else items
        self._list_page(
            f"{prefix}index.html",
            heading=section_title(section),
            subtitle=f"共 {total} 条",
            items=newest,
            newer=None,
            older=chunk_path(full_chunks - 1) if full_chunks >= 2 else None,
            feed_prefix="",
            live=f"section:{section}",
        )

    def _stock_stories(self, conn: Connection, code: str) -> list[Item]:
        """A stock's newest ``stock_size`` stories (one report each, the newest), read in
        growing pages until there are enough: what a full build lists for it."""
        limit = self.o.stock_size * 2
        while True:
            items = q.stock_items(conn, code, limit)
            kept = one_per_story(items, self.o.stock_size)
            if len(kept) >= self.o.stock_size or len(items) < limit:
                return kept
            limit *= 4

    def _stock_pages(self, conn: Connection, code: str, items: list[Item]) -> None:
        """A stock's newest articles (``items``, newest first) and its feeds."""
        name = self.stock_names.get(code, "")
        heading = f"{name}（{code}）" if name else code
        prefix = f"s/{code}/"
        ordered = list(reversed(items))
        self._feeds(conn, prefix, f"{self.o.title} · {heading}", ordered[-self.o.stock_feed_size :])
        self._list_page(
            f"{prefix}index.html",
            heading=heading,
            subtitle=f"最新 {len(items)} 条相关消息",
            items=ordered,
            newer=None,
            older=None,
            feed_prefix="",
            live=f"stock:{code}",
            heat=self.heat_for(conn, items),
        )

    def _list_page(
        self,
        path: str,
        *,
        heading: str,
        subtitle: str,
        items: Sequence[Item],
        newer: str | None,
        older: str | None,
        feed_prefix: str | None,
        show_media: bool = True,
        labels: tuple[str, str] = ("较新", "较早"),
        live: str = "",
        heat: dict[int, Heat] | None = None,
    ) -> None:
        ordered = list(reversed(items))
        key = (
            heading,
            subtitle,
            _shown(ordered),
            newer,
            older,
            feed_prefix,
            live,
            heat_key(ordered, heat) if heat else (),
        )

        def link(target: str | None, label: str) -> dict[str, str] | None:
            if target is None:
                return None
            return {"href": paths.root_of(path) + target, "label": label}

        self.emit(
            path,
            key,
            lambda: self.render(
                "list.html",
                path,
                heading=heading,
                subtitle=subtitle,
                items=self._view_items(ordered, paths.root_of(path), show_media, heat),
                newer=link(newer, labels[0]),
                older=link(older, labels[1]),
                feed_prefix=feed_prefix,
                show_media=show_media,
                live=live,
            ),
        )

    def _day_page(self, day: int, items: list[Item], day_numbers: Sequence[int]) -> None:
        import bisect

        i = bisect.bisect_left(day_numbers, day)
        prev_day = day_numbers[i - 1] if i > 0 else None
        next_day = day_numbers[i + 1] if i + 1 < len(day_numbers) else None
        name = paths.day_name(day)
        self._list_page(
            f"d/{name}.html",
            heading=f"{name} 的消息",
            subtitle=f"共 {len(items)} 条",
            items=items,
            newer=f"d/{paths.day_name(next_day)}.html" if next_day is not None else None,
            older=f"d/{paths.day_name(prev_day)}.html" if prev_day is not None else None,
            feed_prefix=None,
            labels=(
                paths.day_name(next_day) if next_day is not None else "",
                paths.day_name(prev_day) if prev_day is not None else "",
            ),
        )

    # -- feeds -------------------------------------------------------------------
    def _feeds(self, conn: Connection, prefix: str, title: str, items: Sequence[Item]) -> None:
        ordered = list(reversed(items))
        key = (title, _shown(ordered))
        cache: dict[str, Any] = {}
        first_job = len(self._deferred) if self._deferred is not None else 0

        def entries() -> list[dict[str, Any]]:
            if "entries" not in cache:
                missing = [it.id for it in ordered if it.id not in self._entry_cache]
                if self._feed_articles is not None:  # in a worker: sent with its pages
                    found = [self._feed_articles[i] for i in missing if i in self._feed_articles]
                else:
                    found = list(q.articles_by_id(conn, missing))
                for p in found:
                    self._entry_cache[p.id] = feed_entry(p.article, self.o.base_url, p.body)
                cache["entries"] = [
                    self._entry_cache[it.id] for it in ordered if it.id in self._entry_cache
                ]
            return cache["entries"]  # type: ignore[no-any-return]

        base = self.o.base_url.rstrip("/") + "/"
        updated = ordered[0].published_at if ordered else 0
        feed = {
            "title": title,
            "id": base + prefix + "atom.xml",
            "self_url": base + prefix + "atom.xml",
            "home_url": base + prefix + ("index.html"),
            "updated": iso_time(updated),
            "updated_rfc822": rfc822_time(updated),
        }
        self.emit(prefix + "atom.xml", key, lambda: self._feed_page("atom", feed, entries()))
        rss = {**feed, "self_url": base + prefix + "rss.xml"}
        self.emit(prefix + "rss.xml", key, lambda: self._feed_page("rss", rss, entries()))
        self.emit(
            prefix + "feed.json",
            key,
            lambda: json_feed(feed, base + prefix, entries()),
        )
        if self._deferred is not None:
            ids = [it.id for it in ordered]
            self._feed_needs.update((job, ids) for job in range(first_job, len(self._deferred)))

    def _feed_page(self, kind: str, feed: dict[str, Any], entries: list[dict[str, Any]]) -> str:
        """``atom.xml`` or ``rss.xml`` (``kind`` "atom", "rss"), filled in as a skeleton
        while the template only prints the feed's fields (the packaged ones do; thousands
        of stock feeds are small, and Jinja2's cost per render was most of theirs)."""
        document = with_entries(feed, entries, kind)
        return self._filled(f"{kind}.xml", "", "feed", document, entries=entries)

    # -- global pages ------------------------------------------------------------
    def _global_pages(
        self,
        conn: Connection,
        counts: list[tuple[str, int, int]],
        day_counts: list[tuple[int, int]],
        stock_index: list[tuple[str, int, str]],
    ) -> None:
        wanted = max(self.o.home_newest, self.o.feed_size)
        # one entry per story: the newest report stands for it (issue #10)
        newest = one_per_story(q.newest_items(conn, wanted * 3), wanted)
        per_section: dict[str, list[Item]] = defaultdict(list)
        for name, _, _ in counts:
            per_section[name] = q.newest_in_section(conn, name, self.o.home_per_section)
        ordered_sections = sorted(counts, key=lambda c: (-c[2], c[0]))
        home_newest = newest[: self.o.home_newest]
        home_heat = self.heat_for(conn, home_newest)
        key = (
            _shown(home_newest),
            heat_key(home_newest, home_heat),
            tuple((name, _shown(per_section[name])) for name, _, _ in ordered_sections),
        )

        def home() -> str:
            sections = [
                {
                    "name": section_title(name),
                    "slug": self.slugs[name],
                    "entries": self._view_items(
                        sorted(per_section[name], key=lambda it: (-it.published_at, -it.id)),
                        "",
                        False,
                    ),
                }
                for name, _, _ in ordered_sections
            ]
            return self.render(
                "home.html",
                "index.html",
                newest=self._view_items(home_newest, "", True, home_heat),
                sections=sections,
            )

        self._feeds(conn, "", self.o.title, list(reversed(newest[: self.o.feed_size])))
        self.emit("index.html", key, home)

        # important news only (财联社 A/B, 金十 important, 新浪 焦点, highlighted titles …)
        wanted_important = max(self.o.page_size, self.o.feed_size)
        important = one_per_story(q.newest_important(conn, wanted_important * 3), wanted_important)
        self._feeds(
            conn,
            "important/",
            f"{self.o.title} · 重要消息",
            list(reversed(important[: self.o.feed_size])),
        )
        self._list_page(
            "important/index.html",
            heading="重要消息",
            subtitle=f"最新 {len(important)} 条",
            items=list(reversed(important[: self.o.page_size])),
            newer=None,
            older=None,
            feed_prefix="",
            live="important",
            heat=self.heat_for(conn, important[: self.o.page_size]),
        )

        listing = [
            {
                "name": section_title(name),
                "slug": self.slugs[name],
                "count": count,
                "newest": datetime.fromtimestamp(latest, BEIJING).strftime("%Y-%m-%d %H:%M"),
            }
            for name, count, latest in ordered_sections
        ]
        ranked = sorted(stock_index, key=lambda s: (-s[1], s[0]))
        stock_rows = [{"code": c, "name": n, "count": k} for c, k, n in ranked]
        self.emit(
            "s/index.html",
            (tuple(ranked),),
            lambda: self.render("stocks.html", "s/index.html", stocks=stock_rows),
        )
        self.emit(
            "c/index.html",
            (tuple(tuple(x.values()) for x in listing),),
            lambda: self.render("sections.html", "c/index.html", sections=listing),
        )

        months: dict[str, dict[str, Any]] = {}
        for day, count in reversed(day_counts):
            name = paths.day_name(day)
            month = months.setdefault(name[:7], {"name": name[:7], "count": 0, "days": []})
            month["count"] += count
            month["days"].append({"day": name, "count": count})
        self.emit(
            "d/index.html",
            (tuple(day_counts),),
            lambda: self.render("archive.html", "d/index.html", months=list(months.values())),
        )

        base = self.o.base_url.rstrip("/") + "/"
        maps = [{"loc": f"{base}sitemaps/{paths.day_name(d)}.xml"} for d, _ in day_counts]
        maps.append({"loc": f"{base}sitemaps/sections.xml"})
        self.emit(
            "sitemap.xml",
            (tuple(m["loc"] for m in maps),),
            lambda: self.render("sitemap-index.xml", "", maps=maps),
        )
        section_urls = [{"loc": base + "index.html", "lastmod": ""}, {"loc": base + "c/index.html"}]
        for name, count, _ in sorted(counts):
            slug = self.slugs[name]
            section_urls.append({"loc": f"{base}c/{slug}/index.html"})
            section_urls.extend(
                {"loc": f"{base}c/{slug}/p{k}.html"} for k in range(1, count // self.o.page_size)
            )
        self.emit(
            "sitemaps/sections.xml",
            (tuple(u["loc"] for u in section_urls),),
            lambda: self.render("sitemap.xml", "", urls=SitemapUrls.of(section_urls)),
        )
        root404 = "/" + self.o.base_url.split("://", 1)[-1].partition("/")[2]
        self.emit(
            "404.html",
            (root404,),
            lambda: self.render_at("404.html", root404),
        )
        for asset in ("style.css", "favicon.svg"):
            data = (STATIC / asset).read_bytes()
            self.emit(
                f"assets/{asset}", (hashlib.sha1(data).hexdigest(),), functools.partial(bytes, data)
            )

    def _day_sitemap(self, day: int, items: list[Item] | None) -> None:
        """One sitemap per day (article pages and the day page): a day's sitemap is
        small to rewrite, and the 50,000-URL limit per file is never near."""
        if not items:
            return
        base = self.o.base_url.rstrip("/") + "/"
        name = paths.day_name(day)
        key = (";".join([f"{it.id}:{it.published_at}" for it in items]),)

        def render() -> str:
            urls = [
                {
                    "loc": base + paths.article_path(it.source, it.upstream_id, it.published_at),
                    "lastmod": iso_time(it.published_at),
                }
                for it in items
            ]
            urls.append({"loc": f"{base}d/{name}.html", "lastmod": ""})
            return self.render("sitemap.xml", "", urls=SitemapUrls.of(urls))

        self.emit(f"sitemaps/{name}.xml", key, render)

    # -- removals ------------------------------------------------------------------
    def _removals(
        self,
        manifest: Manifest,
        sections: dict[str, tuple[int, list[Item]]],
        days: dict[int, list[Item]],
        sitemap_days: set[int],
        article_paths: set[str],
        stock_codes: set[str],
    ) -> set[str]:
        """Pages the last build wrote that this one no longer produces.

        A full build owns every page; an incremental one only the pages it
        looked at: the chunks of a section from where it started, the days and
        day sitemaps it rebuilt, the article pages of tombstones and the story
        pages of the stories it revisited (both in ``article_paths``).
        """
        if self.full:
            stale = {p for p in manifest.paths() if p not in self.produced}
        else:
            candidates: set[str] = set(article_paths)
            for section, (offset, _) in sections.items():
                slug = self.slugs.get(section) or manifest.slugs().get(section)
                if not slug:
                    continue
                first = offset // self.o.page_size + 1
                for path in manifest.under(f"c/{slug}/"):
                    chunk = re.fullmatch(rf"c/{re.escape(slug)}/p(\d+)\.html", path)
                    if chunk is None or int(chunk.group(1)) >= first:
                        candidates.add(path)
            for code in stock_codes:
                candidates.update(manifest.under(f"s/{code}/"))
            candidates |= {f"d/{paths.day_name(d)}.html" for d in days}
            candidates |= {f"sitemaps/{paths.day_name(d)}.xml" for d in sitemap_days}
            stale = {p for p in candidates if p not in self.produced}
        removed: set[str] = set()
        for path in sorted(stale):
            if MANIFEST_DIR in Path(path).parts:
                continue
            try:
                (self.out / path).unlink()
                self.report.deleted += 1
            except FileNotFoundError:
                pass
            removed.add(path)
        return removed


def build_site(store: Store, out: Path, options: SiteOptions, *, full: bool = False) -> BuildReport:
    """Render the site into ``out`` (incrementally unless ``full``)."""
    return _Builder(store, out, options, full).run()
