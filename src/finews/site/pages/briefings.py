"""Briefing pages (issue #14): ``briefing/<yyyy-mm-dd>/index.html`` — the day's morning and
close briefings (:mod:`finews.briefing`) — for the trading days whose briefings hold the
articles of the newest ``WINDOW`` days with articles, an index ``briefing/index.html`` and an
Atom feed ``briefing/atom.xml`` of the newest ``FEED_SESSIONS`` briefings.  A day the
exchanges do not trade (:mod:`finews.tradingdays`) has no page: its news is in the next
trading day's morning briefing, and the pagers go from trading day to trading day.

A briefing is composed here, in the build's snapshot, only when its period changed: each
session's key is the count and the highest change counter of the articles published in its
period, and a process keeps the briefings it composed by that key (``finews run`` rebuilds
often; yesterday's briefings are not composed again).  The periods' times and the stories
per group are the settings' (``briefing.*``, through :class:`~finews.site.options.SiteOptions`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import date

from sqlalchemy import Connection, func, select

from finews import tradingdays
from finews.briefing import compose, periods, render
from finews.briefing.compose import Briefing
from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.formats import iso_time
from finews.site.writer import Page
from finews.store import schema
from finews.store.briefreads import period_rows
from finews.store.stories import Report

WINDOW = 30
"""Days (the newest with articles) that get a briefing page."""
FEED_SESSIONS = 10
SESSIONS = periods.TRADING_SESSIONS

_CACHE: OrderedDict[tuple[object, ...], Briefing] = OrderedDict()
_CACHE_SIZE = 2 * WINDOW + 8
A = schema.articles


def _period_key(conn: Connection, p: periods.Period) -> tuple[int, int]:
    count, seq = conn.execute(
        select(func.count(), func.coalesce(func.max(A.c.change_seq), 0)).where(
            A.c.published_at >= p.since, A.c.published_at < p.until
        )
    ).one()
    return int(count), int(seq)


def _briefing(b: Build, conn: Connection, p: periods.Period) -> tuple[Briefing, tuple[int, int]]:
    key = _period_key(conn, p)
    cache_key = (str(b.store.engine.url), p, key, b.o.briefing_per_group)
    found = _CACHE.get(cache_key)
    if found is None:
        rows = period_rows(conn, p.since, p.until)
        found = compose.compose(rows, p, per_group=b.o.briefing_per_group)
        _CACHE[cache_key] = found
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found, key


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    numbers = [d for d, _ in plan.day_counts]
    if not numbers:
        # every page's header links to the index: it exists from the first build on
        yield _index(b, [])
        yield _feed(b, [])
        return
    told = [date.fromisoformat(paths.day_name(d)) for d in numbers[-WINDOW:]]
    # a trading day's own news is in its briefings; its evening's, and a weekend's or a
    # holiday's, in the next trading day's morning
    days = sorted(
        {d for d in told if tradingdays.is_trading_day(d)}
        | {tradingdays.next_trading_day(d) for d in told}
    )
    made: dict[date, list[tuple[Briefing, tuple[int, int]]]] = {}
    for day in days:
        morning, close = b.o.briefing_times
        made[day] = [_briefing(b, conn, periods.period(day, s, morning, close)) for s in SESSIONS]
    shown = [d for d in days if any(br.articles for br, _ in made[d])]
    for i, day in enumerate(shown):
        older = shown[i - 1] if i > 0 else None
        newer = shown[i + 1] if i + 1 < len(shown) else None
        yield _day_page(b, day, made[day], older, newer)
    yield _index(b, [(d, made[d]) for d in reversed(shown)])
    yield _feed(b, [(d, made[d]) for d in shown])


def _day_path(day: date) -> str:
    return paths.briefing_path(day)


def _day_page(
    b: Build,
    day: date,
    sessions: list[tuple[Briefing, tuple[int, int]]],
    older: date | None,
    newer: date | None,
) -> Page:
    path = _day_path(day)
    root = paths.root_of(path)

    def link(r: Report) -> str:
        return root + paths.article_path(r.source, r.upstream_id, r.published_at)

    def story_link(story: int) -> str:
        return f"{root}story/{story}/index.html"

    def rendered() -> str:
        from markupsafe import Markup

        bodies = [
            Markup(render.html_body(br, link, story_link)) for br, _ in sessions if br.articles
        ]
        return b.renderer.render(
            "briefing.html",
            path,
            heading=f"{day.isoformat()} 简报",
            bodies=bodies,
            older=_day_path(older) if older else None,
            newer=_day_path(newer) if newer else None,
            older_label=_pager_label(older, day),
            newer_label=_pager_label(newer, day),
        )

    key = ("briefing", day, [k for _, k in sessions], older, newer)
    return Page(path, key, rendered)


def _pager_label(day: date | None, here: date) -> str:
    """``8月14日`` (the year too when it is not the page's: ``2021年12月8日``): short enough
    for the pager's three buttons to stand on one row of a phone."""
    if day is None:
        return ""
    year = f"{day.year}年" if day.year != here.year else ""
    return f"{year}{day.month}月{day.day}日"


def _counts(sessions: list[tuple[Briefing, tuple[int, int]]]) -> str:
    return " · ".join(
        f"{periods.TITLES[br.period.session]} {br.stories} 个事件"
        for br, _ in sessions
        if br.articles
    )


def _index(b: Build, days: list[tuple[date, list[tuple[Briefing, tuple[int, int]]]]]) -> Page:
    path = "briefing/index.html"
    rows = [
        (d.isoformat(), f"{d.isoformat()}（周{periods.WEEKDAYS[d.weekday()]}）", _counts(s))
        for d, s in days
    ]
    return Page(
        path,
        ("briefing index", rows),
        lambda: b.renderer.render("briefing_index.html", path, days=rows),
    )


def _feed(b: Build, days: list[tuple[date, list[tuple[Briefing, tuple[int, int]]]]]) -> Page:
    base = b.o.base_url.rstrip("/") + "/"
    # a session still under way is in the feed too, updated as its articles come in
    done = [br for _, sessions in days for br, _ in sessions if br.articles][-FEED_SESSIONS:]
    keys = [(br.period, k) for _, sessions in days for br, k in sessions if br in done]

    def link(r: Report) -> str:
        return base + paths.article_path(r.source, r.upstream_id, r.published_at)

    def story_link(story: int) -> str:
        return f"{base}story/{story}/index.html"

    def rendered() -> str:
        entries = [
            {
                "url": base + _day_path(br.period.day),
                "session": br.period.session,
                "title": br.period.title,
                "updated": iso_time(br.period.until),
                "content": render.html_body(br, link, story_link),
            }
            for br in reversed(done)
        ]
        updated = iso_time(done[-1].period.until) if done else iso_time(0)
        return b.renderer.render(
            "briefing_atom.xml", "briefing/atom.xml", base=base, entries=entries, updated=updated
        )

    return Page("briefing/atom.xml", ("briefing feed", keys, base), rendered)
