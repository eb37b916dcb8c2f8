"""Day pages: ``d/<yyyy-mm-dd>.html``, every article of a Beijing day, linked to the
days before and after that have articles."""

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
            yield _day_page(b, day, plan.days[day], day_numbers)


def _day_page(b: Build, day: int, items: list[Item], day_numbers: Sequence[int]) -> Page:
    i = bisect.bisect_left(day_numbers, day)
    prev_day = day_numbers[i - 1] if i > 0 else None
    next_day = day_numbers[i + 1] if i + 1 < len(day_numbers) else None
    name = paths.day_name(day)
    return list_page(
        b,
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
