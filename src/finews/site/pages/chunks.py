"""The fixed pages of a long listing — a section's (``c/<slug>/``) and 要闻's
(``important/``): chunks of ``page_size`` entries counted from the oldest (``p1.html`` holds
the oldest), so that new entries change only the newest pages and an old page's URL keeps
showing the same entries; ``index.html`` shows the newest full chunk and what came after it.

A reader does not count pages from the oldest: a page is named by the dates it covers
("同花顺 · 2026年5月22日–5月24日", one day with its times: "2026年8月20日 09:12–11:45"), and
its pager says which way is newer (较新) and which older (较早), with the dates of the page
each link leads to (wave 8).  Those dates are the neighbours': a page changes when a
neighbour does, which the planner's first page (the chunk before the first change) covers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection

from finews.model import BEIJING
from finews.site.context import Build
from finews.site.pages.listing import list_page
from finews.site.writer import Page
from finews.store.sitequeries import Item

NEWEST = "最新一页"
"""What the link to ``index.html`` says: its dates change with every new entry, and the
chunk page before it must not."""


def _day(d: datetime, year: bool = True) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if year else f"{d.month}月{d.day}日"


def span_label(first_at: int, last_at: int, *, times_only: bool = False) -> str:
    """The dates from ``first_at`` to ``last_at`` (Beijing time) as a reader names them:
    ``2026年5月22日–5月24日``, ``2025年12月30日–2026年1月2日``; within one day its times,
    ``2026年8月20日 09:12–11:45`` (``times_only``: ``09:12–11:45``, for a day's own pages)."""
    a = datetime.fromtimestamp(first_at, BEIJING)
    z = datetime.fromtimestamp(last_at, BEIJING)
    if a.date() == z.date():
        times = f"{a:%H:%M}" if (a.hour, a.minute) == (z.hour, z.minute) else f"{a:%H:%M}–{z:%H:%M}"
        return times if times_only else f"{_day(a)} {times}"
    return f"{_day(a)}–{_day(z, year=z.year != a.year)}"


def items_span(items: Sequence[Item], *, times_only: bool = False) -> str:
    """:func:`span_label` of ``items`` (oldest first); empty for none."""
    if not items:
        return ""
    return span_label(items[0].published_at, items[-1].published_at, times_only=times_only)


def first_offset(position: int, total: int, size: int, feed_size: int) -> int:
    """Where an incremental build starts to look at a chunked listing whose first changed
    entry is at ``position``: the chunk before it (its 较新 link names the changed one's
    dates), never past the two newest chunk pages (a new chunk page changes its older
    neighbour's 较新 link, from ``index.html`` to itself) nor past what the index page and
    the feed show.  A multiple of ``size``."""
    chunk = max(0, position // size - 1)
    last_needed = max(0, min(total // size - 3, (total - feed_size) // size))
    return min(chunk, last_needed) * size


class Chunked(NamedTuple):
    """A chunked listing as a build sees it."""

    prefix: str
    """``c/<slug>/``, ``important/``."""
    name: str
    """Its name for readers (``同花顺``, ``重要消息``)."""
    items: list[Item]
    """Its entries from absolute position ``start`` on, oldest first."""
    start: int
    """Where ``items`` begin: a chunk before ``first`` (that page's 较早 link names its
    dates), 0 at the most."""
    first: int
    """The absolute position of the first page this build looks at (a multiple of the
    page size)."""
    total: int

    def chunk(self, k: int, size: int) -> list[Item]:
        """The entries of page ``p<k>.html`` (``k`` from 1)."""
        start = (k - 1) * size - self.start
        return self.items[start : start + size]

    def newest(self, size: int) -> list[Item]:
        """What ``index.html`` shows: the newest full chunk and what came after it."""
        full = self.total // size
        return self.items[max(0, (full - 1) * size - self.start) :] if full >= 1 else self.items


def loaded_from(first: int, size: int) -> int:
    """Where a chunked listing's entries are read from for a build that looks at its
    pages from ``first`` on: one chunk earlier (see :attr:`Chunked.start`)."""
    return max(0, first - size)


def chunk_pages(b: Build, conn: Connection, c: Chunked, *, own_media: str = "") -> Iterator[Page]:
    """The pages ``p<k>.html`` of ``c`` from ``c.first`` on (the newest full chunk is on
    ``index.html`` and has no page of its own)."""
    size = b.o.page_size
    full_chunks = c.total // size

    def path(k: int) -> str:
        return f"{c.prefix}p{k}.html"

    for k in range(c.first // size + 1, full_chunks):
        items = c.chunk(k, size)
        if k + 1 < full_chunks:
            newer, newer_when = path(k + 1), items_span(c.chunk(k + 1, size))
        else:
            newer, newer_when = f"{c.prefix}index.html", NEWEST
        older, older_when = (path(k - 1), items_span(c.chunk(k - 1, size))) if k > 1 else (None, "")
        yield list_page(
            b,
            path(k),
            heading=f"{c.name} · {items_span(items)}",
            subtitle="",
            items=items,
            newer=newer,
            older=older,
            spans=(newer_when, older_when),
            latest=f"{c.prefix}index.html",
            feed_prefix=None,
            heat=b.heat_for(conn, items),
            own_media=own_media,
        )


def index_older(c: Chunked, size: int) -> tuple[str | None, str]:
    """The 较早 link of ``index.html`` and the dates of the page it leads to."""
    full_chunks = c.total // size
    if full_chunks < 2:
        return None, ""
    return f"{c.prefix}p{full_chunks - 1}.html", items_span(c.chunk(full_chunks - 1, size))


def count_line(total: int, size: int) -> str:
    """What ``index.html`` says of the whole listing: ``共 1234 条，24 页`` (the chunk pages
    cannot say it: the count changes with every new entry, and they must not)."""
    pages = max(1, total // size)
    return f"共 {total} 条" + (f"，{pages} 页" if pages > 1 else "")
