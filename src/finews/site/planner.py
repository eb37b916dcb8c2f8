"""The planner: from the store's changes since the last build to what each page kind
must look at (:class:`Plan`).

Incremental by default.  The store's change counter says which articles changed since
the last build (tombstones say which went away or moved); from those the planner
derives the pages that may change — their article pages, their stories', their
sections' pages and 要闻's, their days (and the neighbouring days, whose prev/next links may
move), their days' sitemaps, their stocks' pages, and the few global pages (home,
feeds, indexes).  A full build (asked for, the first one, new templates or options,
a section whose slug moved) looks at everything.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.manifest import Manifest
from finews.site.pages import chunks
from finews.site.pages.listing import warm_lines
from finews.site.pool import workers_for
from finews.site.stories import one_per_story
from finews.store import sitequeries as q
from finews.store.sitequeries import Item


def plan(b: Build, conn: Connection, manifest: Manifest, force_full: bool) -> Plan:
    """What this build looks at; sets what the page kinds share on ``b`` (slugs, stocks'
    names, stories)."""
    watermark = q.max_seq(conn)
    counts = q.section_counts(conn)
    slugs = paths.section_slugs(name for name, _, _ in counts)
    old_slugs = manifest.slugs()
    moved = any(old_slugs.get(name, slug) != slug for name, slug in slugs.items())
    full = (
        force_full
        or manifest.watermark is None
        or manifest.meta.get("config") != b.writer.config_hash
        or moved
    )
    b.writer.full = full
    b.slugs = slugs
    day_counts = q.day_counts(conn)
    b.phase("counts")
    stock_index = q.stock_index(conn)
    b.stock_names = {code: name for code, _, name in stock_index}
    result = Plan(full, watermark, slugs, counts, day_counts, stock_index)
    if full:
        _plan_full(b, conn, manifest, result)
    else:
        _plan_changes(b, conn, manifest, result, tabs_changed=set(slugs) != set(old_slugs))
    b.phase("changes")
    return result


def _plan_full(b: Build, conn: Connection, manifest: Manifest, plan: Plan) -> None:
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
    b.set_peers({c: m for c, m in by_cluster.items() if len(m) > 1})
    by_stock: dict[str, list[Item]] = defaultdict(list)
    for code, article_id in q.all_stock_pairs(conn):
        if article_id in by_id:
            by_stock[code].append(by_id[article_id])
    plan.stocks = {
        code: one_per_story(
            sorted(items, key=lambda it: (-it.published_at, -it.id)), b.o.stock_size
        )
        for code, items in by_stock.items()
    }
    b.heat_complete = True
    plan.stories = b.peers
    b.phase("listing rows")
    if workers_for(b.o, conn) > 1:
        # pages are planned first; then one pool of workers renders the article pages
        # and the planned pages (finews.site.pool)
        plan.parallel = True
        plan.article_ids = sorted(by_id)
        warm_lines(b, by_id.values())
        b.phase("listing lines")
    plan.sections = {name: (0, items) for name, items in by_section.items()}
    _plan_important(b, conn, plan, None)
    plan.days = dict(by_day)
    plan.sitemap_days = set(plan.days)


def _plan_changes(
    b: Build, conn: Connection, manifest: Manifest, plan: Plan, *, tabs_changed: bool
) -> None:
    """``tabs_changed``: a section came or went since the last build."""
    since = manifest.watermark or 0
    changed = q.changed_since(conn, since)
    tombs = q.tombstones_since(conn, since)
    clusters = {it.cluster for it in changed} | {t.cluster for t in tombs if t.cluster}
    members = q.cluster_members(conn, sorted(clusters))
    b.set_peers({c: m for c, m in members.items() if len(m) > 1})
    # a reprint changes the "also reported by" of every article of its cluster, and
    # the heat its story shows on the stock pages of every report
    to_render = {it.id for it in changed}
    for group in members.values():
        to_render.update(it.id for it in group)
    plan.article_ids = sorted(to_render)
    codes = q.stock_codes_of(conn, plan.article_ids)
    codes |= {code for t in tombs for code in t.stocks}
    plan.stocks = {code: stock_stories(b, conn, code) for code in sorted(codes)}
    plan.stories = b.peers
    plan.touched_stories = set(clusters)
    totals = plan.totals
    earliest: dict[str, int] = {}
    # every report of a touched story too: its heat on its section's page (#10)
    reports = [it for group in members.values() for it in group]
    for section, published_at in [(it.section, it.published_at) for it in changed + reports] + [
        (t.section, t.published_at) for t in tombs
    ]:
        earliest[section] = min(earliest.get(section, published_at), published_at)
    for section, published_at in sorted(earliest.items()):
        offset = _first_affected(b, conn, section, published_at, totals.get(section, 0))
        start = chunks.loaded_from(offset, b.o.page_size)
        plan.sections[section] = (offset, q.section_items_from(conn, section, start))
    if tabs_changed:
        # every section's newest page shows a tab per section (#12): a section that came
        # or went changes them all, not only the pages of the sections that changed
        for section, total in sorted(totals.items()):
            if section not in plan.sections:
                offset = chunks.first_offset(total, total, b.o.page_size, b.o.feed_size)
                start = chunks.loaded_from(offset, b.o.page_size)
                plan.sections[section] = (offset, q.section_items_from(conn, section, start))
    _plan_important(b, conn, plan, min(earliest.values(), default=None))
    touched_days = {q.beijing_day_number(it.published_at) for it in changed}
    touched_days |= {q.beijing_day_number(t.published_at) for t in tombs}
    # every report of a touched story: its heat on its day's page
    touched_days |= {q.beijing_day_number(it.published_at) for it in reports}
    plan.days = _days_with_neighbours(conn, touched_days, [d for d, _ in plan.day_counts])
    plan.sitemap_days = touched_days
    plan.removed_article_paths = {
        paths.article_path(t.source, t.upstream_id, t.published_at) for t in tombs
    }


def _first_affected(b: Build, conn: Connection, section: str, published_at: int, total: int) -> int:
    """Where the pages of a section start to change (:func:`chunks.first_offset`)."""
    position = q.count_before(conn, section, published_at)
    return chunks.first_offset(position, total, b.o.page_size, b.o.feed_size)


def _plan_important(b: Build, conn: Connection, plan: Plan, earliest: int | None) -> None:
    """要闻's entries — every important article, one per story (its newest important
    report) — and, in an incremental build, the first of its pages that can change: the
    chunk before the one holding the earliest change (``earliest``, a time: None, nothing
    changed).  Read whole, light rows: one story's entry moves when a newer report joins
    it, which no count of rows says."""
    entries = list(reversed(one_per_story(reversed(q.important_items(conn)))))
    total = len(entries)
    if plan.full:
        first = 0
    else:
        times = [it.published_at for it in entries]
        position = total if earliest is None else bisect.bisect_left(times, earliest)
        first = chunks.first_offset(position, total, b.o.page_size, b.o.feed_size)
    plan.important = (first, entries)


def stock_stories(b: Build, conn: Connection, code: str) -> list[Item]:
    """A stock's newest ``stock_size`` stories (one report each, the newest), read in
    growing pages until there are enough: what a full build lists for it."""
    limit = b.o.stock_size * 2
    while True:
        items = q.stock_items(conn, code, limit)
        kept = one_per_story(items, b.o.stock_size)
        if len(kept) >= b.o.stock_size or len(items) < limit:
            return kept
        limit *= 4


def _days_with_neighbours(
    conn: Connection, touched: set[int], existing: Sequence[int]
) -> dict[int, list[Item]]:
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
