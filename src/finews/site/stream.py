"""An article's line in a stream (issue #12): what a reader of 财联社电报 or 华尔街见闻 7×24
reads without clicking.  Pure: fields in, escaped HTML out.

A line is its time (linked to the article page), its 【headline】 in bold when the upstream
gave one, its text (the digest: a flash's whole text, a long article's summary; folded after
a few lines in a ``<details>`` that opens in place, no script needed), then a line of tags —
the outlet, the stocks as chips with their names, the story's heat.  An untitled flash shows
no headline: its headline is its first sentence (:mod:`finews.process.headline`), which the
text shows anyway.

Lines are built here, once per item and process, in pieces that are the same on every page
(``StreamLine``): a page joins them with its way back to the site root.  Lines between two
Beijing days get a date separator (``<li class="day">``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, NamedTuple

from markupsafe import Markup

from finews.process.headline import headline_of, shown_text
from finews.site.escaping import escape_text
from finews.site.stocknames import stock_name

LINE_END = "</p></div></li>"
"""How every line ends (inside its tags line: the builder adds the heat before it)."""

FOLD_AT = 120
"""Characters of text from which it is folded (the CSS shows four lines of it)."""

MAX_CHIPS = 6
"""Stocks shown on a line (an index report tags dozens)."""

_WEEKDAYS = "一二三四五六日"


class StreamLine(NamedTuple):
    """A line in the pieces that are the same on every page, joined with the page's root:
    ``with_media`` and ``without_media`` (the outlet left out, on its own section's
    pages), each ending with :data:`LINE_END`."""

    with_media: tuple[str, ...]
    without_media: tuple[str, ...]
    day: str
    """The Beijing date (``2026-06-16``): where date separators go."""

    def join(self, root: str, show_media: bool) -> str:
        return root.join(self.with_media if show_media else self.without_media)


def stock_pairs(stocks: Any) -> list[tuple[str, str]]:
    """(code, name) of an item's stocks: the store's JSON text, or tags, or pairs."""
    if not stocks or stocks == "[]":
        return []
    if isinstance(stocks, str):
        try:
            stocks = json.loads(stocks)
        except ValueError:
            return []
    pairs = []
    for s in stocks:
        if isinstance(s, dict):
            pairs.append((str(s.get("code") or ""), str(s.get("name") or "")))
        elif isinstance(s, tuple | list):
            pairs.append((str(s[0]), str(s[1]) if len(s) > 1 else ""))
        else:  # a StockTag
            pairs.append((s.code, s.name))
    return [(c, n) for c, n in pairs if c]


def bracketed(title: str) -> str:
    """A headline in 【】 as a stream prints it, once: a title that already opens with
    【…】 (财联社's 【机构龙虎榜解读】…) is not put in a second pair."""
    return title if title.startswith("【") else f"【{title}】"


def stream_line(view: dict[str, Any]) -> StreamLine:
    """The pieces of an item's line.  ``view``: ``title``, ``path`` (from the site root),
    ``iso``, ``media``, ``important`` and optionally ``digest`` and ``stocks``; escaped as
    markupsafe escapes."""
    e = escape_text
    path = e(view["path"])
    iso = view["iso"]  # finews' own RFC 3339 time: nothing to escape
    important = ' class="important"' if view["important"] else ""
    digest = view.get("digest") or ""
    title = headline_of(view["title"], digest)
    headline, text = shown_text(title, digest)
    head = [
        f'<li{important}><a class="time" href="',
        f'{path}"><time datetime="{iso}">{iso[11:16]}</time></a><div class="flash">',
    ]
    if headline or not text:
        head[-1] += '<a class="headline" href="'
        head.append(f'{path}">{e(bracketed(title) if headline else title)}</a>')
    if text:
        body = e(text)
        head[-1] += (
            f'<details class="text"><summary>{body}</summary></details>'
            if len(text) > FOLD_AT
            else f'<p class="text">{body}</p>'
        )
    head[-1] += '<p class="tags">'
    tail = [""]
    for code, name in stock_pairs(view.get("stocks"))[:MAX_CHIPS]:
        shown = stock_name(code, name)
        label = f"{e(shown)}<small>{e(code)}</small>" if shown else e(code)
        tail[-1] += '<a class="chip" href="'
        tail.append(f's/{e(code)}/index.html" title="{e(code)}">{label}</a>')
    tail[-1] += LINE_END
    media = _media_tag(view["media"])
    bare = (*head[:-1], head[-1] + tail[0], *tail[1:])
    shown_media = (*head[:-1], head[-1] + media + tail[0], *tail[1:])
    return StreamLine(shown_media, bare, iso[:10])


@functools.lru_cache(maxsize=1024)
def _media_tag(media: str) -> str:
    """An outlet's tag on a line (a build has a few dozen outlets and 20,000 lines)."""
    return f'<span class="media">{escape_text(media)}</span>'


@functools.lru_cache(maxsize=4096)
def day_label(day: str) -> str:
    """``2026年6月16日 星期二`` for ``2026-06-16`` (strptime cost a third of a second a build)."""
    d = date(int(day[:4]), int(day[5:7]), int(day[8:10]))
    return f"{d.year}年{d.month}月{d.day}日 星期{_WEEKDAYS[d.weekday()]}"


def day_separator(day: str) -> str:
    return f'<li class="day" data-day="{day}">{day_label(day)}</li>'


def with_days(lines: Sequence[str], days: Sequence[str]) -> Markup:
    """The lines in one piece, a date separator before the first line of each day."""
    out: list[str] = []
    current = ""
    for line, day in zip(lines, days, strict=True):
        if day != current:
            out.append(day_separator(day))
            current = day
        out.append(line)
    return Markup("".join(["\n" + line for line in out]))


def iso_days(items: Iterable[dict[str, Any]]) -> list[str]:
    return [str(v["iso"])[:10] for v in items]
