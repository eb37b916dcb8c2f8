"""The global pages: the home page and the site's feeds, the important news and their
feeds, the indexes of stocks and sections, the archive of days, the 404 page and the
static assets.  Rebuilt by every build (their input hashes say whether to write)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from finews.model import BEIJING
from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.formats import section_title
from finews.site.pages.feeds import feed_pages
from finews.site.pages.listing import list_page, shown, tabs, view_items
from finews.site.render import STATIC
from finews.site.stories import heat_key, one_per_story
from finews.site.writer import Page
from finews.store import sitequeries as q


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    o = b.o
    counts = plan.counts
    wanted = max(o.home_newest, o.feed_size)
    # one entry per story: the newest report stands for it (issue #10)
    newest = one_per_story(q.newest_items(conn, wanted * 3), wanted)
    ordered_sections = sorted(counts, key=lambda c: (-c[2], c[0]))
    home_newest = newest[: o.home_newest]
    home_heat = b.heat_for(conn, home_newest)
    # the home page is the stream (issue #12): its newest stories with their text, the tabs
    # to the important news and to each source, and the way on to the rest of the day
    tab_row = tabs(b, "", "all")
    day = paths.day_of(home_newest[-1].published_at) if home_newest else ""
    key = (shown(home_newest), heat_key(home_newest, home_heat), str(tab_row), day)

    def home() -> str:
        return b.renderer.render(
            "home.html",
            "index.html",
            newest=view_items(b, home_newest, "", True, home_heat),
            sections=[],
            tabs=tab_row,
            more=f"d/{day}.html" if day else "",
        )

    yield from feed_pages(b, conn, "", o.title, list(reversed(newest[: o.feed_size])))
    yield Page("index.html", key, home)

    # important news only (财联社 A/B, 金十 important, 新浪 焦点, highlighted titles …)
    wanted_important = max(o.page_size, o.feed_size)
    important = one_per_story(q.newest_important(conn, wanted_important * 3), wanted_important)
    yield from feed_pages(
        b,
        conn,
        "important/",
        f"{o.title} · 重要消息",
        list(reversed(important[: o.feed_size])),
    )
    yield list_page(
        b,
        "important/index.html",
        heading="重要消息",
        subtitle=f"最新 {len(important)} 条",
        items=list(reversed(important[: o.page_size])),
        newer=None,
        older=None,
        feed_prefix="",
        live="important",
        heat=b.heat_for(conn, important[: o.page_size]),
        tab="important",
    )
    yield from _indexes(b, plan, ordered_sections)
    root404 = "/" + o.base_url.split("://", 1)[-1].partition("/")[2]
    yield Page("404.html", (root404,), lambda: b.renderer.render_at("404.html", root404))
    for asset in ("style.css", "favicon.svg", "filter.js"):
        data = (STATIC / asset).read_bytes()
        yield Page(
            f"assets/{asset}", (hashlib.sha1(data).hexdigest(),), functools.partial(bytes, data)
        )


def _indexes(b: Build, plan: Plan, ordered_sections: list[tuple[str, int, int]]) -> Iterator[Page]:
    """The indexes of stocks and sections, and the archive of days by month."""
    listing = [
        {
            "name": section_title(name),
            "slug": b.slugs[name],
            "count": count,
            "newest": datetime.fromtimestamp(latest, BEIJING).strftime("%Y-%m-%d %H:%M"),
        }
        for name, count, latest in ordered_sections
    ]
    ranked = sorted(plan.stock_index, key=lambda s: (-s[1], s[0]))
    stock_rows = [{"code": c, "name": n, "count": k} for c, k, n in ranked]
    yield Page(
        "s/index.html",
        (tuple(ranked),),
        lambda: b.renderer.render("stocks.html", "s/index.html", stocks=stock_rows),
    )
    yield Page(
        "c/index.html",
        (tuple(tuple(x.values()) for x in listing),),
        lambda: b.renderer.render("sections.html", "c/index.html", sections=listing),
    )
    months: dict[str, dict[str, Any]] = {}
    for day, count in reversed(plan.day_counts):
        name = paths.day_name(day)
        month = months.setdefault(name[:7], {"name": name[:7], "count": 0, "days": []})
        month["count"] += count
        month["days"].append({"day": name, "count": count})
    yield Page(
        "d/index.html",
        (tuple(plan.day_counts),),
        lambda: b.renderer.render("archive.html", "d/index.html", months=list(months.values())),
    )
