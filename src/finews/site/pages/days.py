"""Day pages: every article of a Beijing day, newest first, ``page_size`` a page (issue #12:
a busy day has hundreds) — ``d/<yyyy-mm-dd>.html`` the newest, ``d/<yyyy-mm-dd>-2.html``
and on the earlier ones — every page linked to the days before and after that have articles."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.pages.chunks import items_span
from finews.site.pages.listing import list_page
from finews.site.writer import Page
from finews.store.sitequeries import Item


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    day_numbers = [d for d, _ in plan.day_counts]
    for day in sorted(plan.days):
        if plan.days[day]:
            yield from _day_pages(b, conn, day, plan.days[day], day_numbers)


def day_page_path(name: str, page: int) -> str:
    return f"d/{name}.html" if page == 1 else f"d/{name}-{page}.html"


def _day_pages(
    b: Build, conn: Connection, day: int, items: list[Item], day_numbers: Sequence[int]
) -> Iterator[Page]:
    """``items`` oldest first.  Every page of the day links to the days before and after
    (a busy day has dozens of pages: a reader on the twentieth wants the next day as much
    as one on the first); the pager goes between the day's own pages, each named by its
    times."""
    i = bisect.bisect_left(day_numbers, day)
    prev_day = paths.day_name(day_numbers[i - 1]) if i > 0 else None
    next_day = paths.day_name(day_numbers[i + 1]) if i + 1 < len(day_numbers) else None
    name = paths.day_name(day)
    size = b.o.page_size
    count = max(1, -(-len(items) // size))
    newest_first = list(reversed(items))

    def chunk(page: int) -> list[Item]:
        return list(reversed(newest_first[(page - 1) * size : page * size]))

    for page in range(1, count + 1):
        items_here = chunk(page)
        newer = day_page_path(name, page - 1) if page > 1 else None
        older = day_page_path(name, page + 1) if page < count else None
        spans = (
            items_span(chunk(page - 1), times_only=True) if newer else "",
            items_span(chunk(page + 1), times_only=True) if older else "",
        )
        here = items_span(items_here, times_only=True)
        yield list_page(
            b,
            day_page_path(name, page),
            heading=f"{name} 的消息" + (f" · {here}" if count > 1 else ""),
            subtitle=f"共 {len(items)} 条" + (f"，第 {page}/{count} 页" if count > 1 else ""),
            items=items_here,
            newer=newer,
            older=older,
            spans=spans,
            feed_prefix=None,
            days=(next_day, prev_day),
            # a story's heat beside its reports, as on every list (wave 12: the day pages
            # showed none, and one story's three reports stood unlinked in a row)
            heat=b.heat_for(conn, items_here),
        )
