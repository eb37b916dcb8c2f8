"""要闻 (``important/``): the important news (财联社 A/B, 金十 important, 新浪 焦点,
highlighted titles …), one entry per story (its newest important report) — the 重要 tab —
paged like a section (:mod:`finews.site.pages.chunks`: ``p<k>.html`` counted from the
oldest, named by their dates), with its feeds (the newest ``feed_size``)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from finews.site.context import Build, Plan
from finews.site.pages.chunks import Chunked, chunk_pages, count_line, index_older, loaded_from
from finews.site.pages.feeds import feed_pages
from finews.site.pages.listing import list_page
from finews.site.writer import Page

PREFIX = "important/"
NAME = "重要消息"


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    first, entries = plan.important
    size = b.o.page_size
    start = loaded_from(first, size)
    c = Chunked(PREFIX, NAME, entries[start:], start, first, len(entries))
    yield from chunk_pages(b, conn, c)
    yield from feed_pages(b, conn, PREFIX, f"{b.o.title} · {NAME}", entries[-b.o.feed_size :])
    newest = c.newest(size)
    older, older_when = index_older(c, size)
    yield list_page(
        b,
        f"{PREFIX}index.html",
        heading=NAME,
        subtitle=count_line(len(entries), size),
        items=newest,
        newer=None,
        older=older,
        spans=("", older_when),
        feed_prefix="",
        live="important",
        heat=b.heat_for(conn, newest),
        tab="important",
    )
