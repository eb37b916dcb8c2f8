"""Stock pages: ``s/<code>/index.html``, a stock's newest stories (one report each),
with their heat, and the stock's feeds."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from finews.site.context import Build, Plan
from finews.site.pages.feeds import feed_pages
from finews.site.pages.listing import list_page
from finews.site.writer import Page
from finews.store.sitequeries import Item


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    for code, items in sorted(plan.stocks.items()):
        if items:
            yield from _stock_pages(b, conn, code, items)


def _stock_pages(b: Build, conn: Connection, code: str, items: list[Item]) -> Iterator[Page]:
    """A stock's newest articles (``items``, newest first) and its feeds."""
    name = b.stock_names.get(code, "")
    heading = f"{name}（{code}）" if name else code
    prefix = f"s/{code}/"
    ordered = list(reversed(items))
    yield from feed_pages(
        b, conn, prefix, f"{b.o.title} · {heading}", ordered[-b.o.stock_feed_size :]
    )
    yield list_page(
        b,
        f"{prefix}index.html",
        heading=heading,
        subtitle=f"最新 {len(items)} 条相关消息",
        items=ordered,
        newer=None,
        older=None,
        feed_prefix="",
        live=f"stock:{code}",
        heat=b.heat_for(conn, items),
    )
