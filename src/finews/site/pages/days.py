"""Day pages: every article of a Beijing day, newest first, ``page_size`` a page (issue #12:
a busy day has hundreds) — ``d/<yyyy-mm-dd>.html`` the newest, ``d/<yyyy-mm-dd>-2.html``
and on the earlier ones — linked to the days before and after that have articles."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection

from finews.site import paths
from finews.site.context import Build, Plan
from finews.site.pages.listing import list_page
from finews.site.writer import Page
from finews.store.sitequeries import Item


def pages(b: Build, conn: Connection, plan: Plan) -> Iterator[Page]:
    day_numbers = [d for d, _ in plan.day_counts]
    for day in sorted(plan.days):
        if plan.days[day]:
            yield from _day_pages(b, day, plan.days[day], day_numbers)


def day_page_path(name: str, page: int) -> str:
    return f"d/{name}.html" if page == 1 else f"d/{name}-{page}.html"


def _day_pages(b: Build, day: int, items: list[Item], day_numbers: Sequence[int]) -> Iterator[Page]:
    """``items`` oldest first."""
    i = bisect.bisect_left(day_numbers, day)
    prev_day = day_numbers[i - 1] if i > 0 else None
    next_day = day_numbers[i + 1] if i + 1 < len(day_numbers) else None
    name = paths.day_name(day)
    size = b.o.page_size
    count = max(1, -(-len(items) // size))
    newest_first = list(reversed(items))
    for page in range(1, count + 1):
        chunk = newest_first[(page - 1) * size : page * size]
        if page > 1:
            newer, newer_label = day_page_path(name, page - 1), f"第 {page - 1} 页"
        elif next_day is not None:
            newer = newer_label = paths.day_name(next_day)
            newer = f"d/{newer}.html"
        else:
            newer, newer_label = None, ""
        if page < count:
            older, older_label = day_page_path(name, page + 1), f"第 {page + 1} 页"
        elif prev_day is not None:
            older_label = paths.day_name(prev_day)
            older = f"d/{older_label}.html"
        else:
            older, older_label = None, ""
        yield list_page(
            b,
            day_page_path(name, page),
            heading=f"{name} 的消息" + (f"（第 {page} 页）" if count > 1 else ""),
            subtitle=f"共 {len(items)} 条" + (f"，第 {page}/{count} 页" if count > 1 else ""),
            items=list(reversed(chunk)),
            newer=newer,
            older=older,
            feed_prefix=None,
            labels=(newer_label, older_label),
        )
