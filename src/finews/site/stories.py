"""Stories on the site (issue #10): one entry per story in lists, a story's heat beside its
entry, and a page per story with every report in time order.  Pure: items in, views out.

A story is the set of articles sharing a ``cluster_id`` (see :mod:`finews.store.clusters`);
its id is its first report's row id, so ``story/<id>/`` stays put while reports join.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from finews.site.escaping import escape_text
from finews.site.formats import iso_time, item_path, short_time
from finews.site.stream import LINE_END, iso_days, stream_line, with_days
from finews.store.sitequeries import Item

MAX_PEERS = 10
"""Other reports an article page lists; the story page lists them all."""


class Heat(NamedTuple):
    """How widely a story was reported."""

    reports: int
    outlets: int
    names: tuple[str, ...] = ()
    """The outlets, the first to tell it first (issue #12: a stream line says who carried it)."""

    @property
    def label(self) -> str:
        """``3 家报道`` (outlets), or ``2 条报道`` when one outlet told it twice."""
        return f"{self.outlets} 家报道" if self.outlets > 1 else f"{self.reports} 条报道"

    @property
    def chip(self) -> str:
        """What a stream line shows: ``财联社、同花顺报道``, ``财联社、同花顺等 5 家报道``."""
        if self.outlets < 2 or len(self.names) < 2:
            return self.label
        if self.outlets == 2:
            return f"{self.names[0]}、{self.names[1]}报道"
        return f"{self.names[0]}、{self.names[1]}等 {self.outlets} 家报道"


def story_path(cluster: int) -> str:
    return f"story/{cluster}/index.html"


def heat_of(members: Sequence[Item]) -> Heat:
    first: dict[str, tuple[int, int]] = {}
    for it in members:
        first[it.media] = min(
            first.get(it.media, (it.published_at, it.id)), (it.published_at, it.id)
        )
    return Heat(len(members), len(first), outlet_order(first))


def outlet_order(first: dict[str, tuple[int, int]]) -> tuple[str, ...]:
    """Outlets by their first report, (publication time, row id) — the order of the story
    page, `finews stories` and ``first_in_story``, so that two outlets out in the same
    second are named in the same order everywhere (then by name: the same order from the
    store's rows and from a build's items)."""
    return tuple(sorted(first, key=lambda media: (first[media], media)))


def one_per_story(items: Iterable[Item], limit: int | None = None) -> list[Item]:
    """The first item of each story in ``items`` (callers pass newest first: the newest
    report stands for its story), at most ``limit``."""
    seen: set[int] = set()
    kept: list[Item] = []
    for it in items:
        if it.cluster in seen:
            continue
        seen.add(it.cluster)
        kept.append(it)
        if limit is not None and len(kept) >= limit:
            break
    return kept


def heat_chip(root: str, cluster: int, heat: Heat) -> str:
    """The link beside a list entry to its story page."""
    return f'<a class="heat" href="{root}{story_path(cluster)}">{html.escape(heat.chip)}</a>'


def lag_minutes(first_at: int, at: int) -> int:
    """Minutes between two reports as their shown times (HH:MM) differ: 15:45:50 and
    15:46:10 are a minute apart on the page, 23:05:59 and 23:07:00 two."""
    return max(0, at // 60 - first_at // 60)


def lag_label(first_at: int, at: int) -> str:
    """How much later than the first report: ``同一分钟``, ``晚 12 分钟``,
    ``晚 2 小时 5 分钟``."""
    minutes = lag_minutes(first_at, at)
    if minutes == 0:
        return "同一分钟"
    if minutes < 60:
        return f"晚 {minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    return f"晚 {hours} 小时 {rest} 分钟" if rest else f"晚 {hours} 小时"


def report_line(report: dict[str, Any], root: str) -> str:
    """A report's line on its story page: its stream line (issue #12: time, headline, text,
    outlet, stocks) with how much later than the first report it came."""
    line = stream_line(report).join(root, True)
    lag = f'<span class="lag">{escape_text(report["lag"])}</span>'
    return line[: -len(LINE_END)] + lag + LINE_END


def story_view(cluster: int, members: Sequence[Item], root: str) -> dict[str, Any]:
    """What ``story.html`` shows: every report oldest first, the first outlet and how much
    later each other report came.  ``lines`` holds the reports' lines in one piece (built
    here, as listings' are: the packaged template then fills in as a skeleton); a template
    may loop over ``reports`` instead."""
    ordered = sorted(members, key=lambda it: (it.published_at, it.id))
    first = ordered[0]
    heat = heat_of(ordered)
    reports = []
    for n, it in enumerate(ordered):
        reports.append(
            {
                "title": it.title,
                "path": item_path(it),
                "iso": iso_time(it.published_at),
                "short_time": short_time(it.published_at),
                "media": it.media,
                "important": it.important,
                "digest": it.digest,
                # stock chips as on every list (#12).  Story pages are published before
                # stock pages (whose heat links to them); a chip links to a stock page that
                # exists unless the stock is new in this build, whose page follows at once
                "stocks": it.stocks,
                "lag": "首发" if n == 0 else lag_label(first.published_at, it.published_at),
            }
        )
    return {
        "id": cluster,
        "title": first.title,
        "reports": reports,
        "lines": with_days([report_line(r, root) for r in reports], iso_days(reports)),
        "size": heat.reports,
        "outlets": heat.outlets,
        "first_media": first.media,
        "first_time": short_time(first.published_at),
    }


def story_key(members: Sequence[Item]) -> tuple[object, ...]:
    """What a story page depends on."""
    return tuple((it.id, it.title, it.media, it.published_at, it.important) for it in members)


def heat_key(items: Iterable[Item], heat: Mapping[int, Heat]) -> tuple[object, ...]:
    """The heat a list shows, for its page's key."""
    return tuple((it.cluster, tuple(heat[it.cluster])) for it in items if it.cluster in heat)
