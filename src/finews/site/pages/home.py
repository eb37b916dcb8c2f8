"""The global pages: the home page and the site's feeds, the feeds' own page (订阅), the
indexes of stocks and sections, the archive of days, the 404 page and the
static assets.  Rebuilt by every build (their input hashes say whether to write)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection

from finews.model import BEIJING
from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.formats import section_title
from finews.site.pages.briefings import FEED_SESSIONS
from finews.site.pages.feeds import feed_pages
from finews.site.pages.listing import shown, tabs, view_items
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

    yield from _indexes(b, plan, ordered_sections)
    # after every feed it lists (the header's 订阅 of every page links to it: see docs/site.md)
    yield _feeds_page(b, plan)
    if o.search_form:
        # where the header's search box leads on a static host (no /search there): wave 9
        yield Page(
            "search/index.html",
            (),
            lambda: b.renderer.render("search_static.html", "search/index.html"),
        )
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


FORMATS = (("RSS", "rss.xml"), ("Atom", "atom.xml"), ("JSON Feed", "feed.json"))
"""The feed formats of a listing as the feeds' page offers them (the files
:func:`finews.site.pages.feeds.feed_pages` writes)."""


def _feeds_page(b: Build, plan: Plan) -> Page:
    """``feeds/index.html`` (订阅): every feed of the site in reader's words, each format
    linked and its absolute address shown to copy (a browser shows a feed itself as a wall
    of text: the header's 订阅 leads here, not to ``atom.xml``)."""
    o = b.o
    base = o.base_url.rstrip("/") + "/"

    def formats(prefix: str, kinds: tuple[tuple[str, str], ...] = FORMATS) -> list[dict[str, str]]:
        return [
            {"label": label, "path": prefix + name, "url": base + prefix + name}
            for label, name in kinds
        ]

    feeds = [
        {
            "title": "全站",
            "page": "index.html",
            "about": f"所有来源的最新 {o.feed_size} 条消息；几家媒体报道同一件事时只取最新的一篇。",
            "formats": formats(""),
        },
        {
            "title": "要闻",
            "page": "important/index.html",
            "about": f"只要重要消息（财联社加红、金十重要、新浪焦点、标红的标题等）的最新 "
            f"{o.feed_size} 条，同一件事一条。",
            "formats": formats("important/"),
        },
        {
            "title": "每日简报",
            "page": "briefing/index.html",
            "about": f"每个交易日的早报和收盘简报，最新 {FEED_SESSIONS} 期（只有 Atom 格式）。",
            "formats": formats("briefing/", (("Atom", "atom.xml"),)),
        },
    ]
    sections = [
        {
            "title": section_title(name),
            "page": f"c/{slug}/index.html",
            "formats": formats(f"c/{slug}/"),
        }
        for name, slug in sorted(b.slugs.items(), key=lambda kv: kv[1])
    ]
    # the example: the stock with the most articles (a page every reader of the store has)
    ranked = sorted(plan.stock_index, key=lambda s: (-s[1], s[0]))
    stock = None
    search_example = "宁德时代"
    if ranked:
        code, _, name = ranked[0]
        stock = {
            "code": code,
            "title": f"{name}（{code}）" if name else code,
            "formats": formats(f"s/{code}/"),
        }
        search_example = name or code
    context = {
        "feeds": feeds,
        "sections": sections,
        "stock": stock,
        "base": base,
        # the query as an address holds it: reserved characters (& + space …) escaped,
        # Chinese left readable (browsers and readers take it as it is)
        "search_example": "".join(quote(c, safe="") if c.isascii() else c for c in search_example),
        "feed_size": o.feed_size,
        "stock_feed_size": o.stock_feed_size,
    }
    path = "feeds/index.html"
    return Page(
        path,
        (repr(context),),
        lambda: b.renderer.render("feeds.html", path, **context),
    )
