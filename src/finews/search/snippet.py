"""Highlighted snippets, computed on the original text (the index holds segmented text).
Pure; the output is escaped HTML with ``<mark>`` around the matches."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache

from finews.process.headline import strip_dateline
from finews.process.text import edge

_SPACES = re.compile(r"\s+")
_HEADLINE = re.compile(r"【[^】]{1,120}】")


def _pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(terms))


@lru_cache(maxsize=256)
def _compiled(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern per set of terms: a page of results marks its titles and snippets with
    the same one (building it for each was a fifth of a search's time)."""
    usable = [t for t in terms if t.strip()]
    if not usable:
        return None
    # an ASCII name (MU, Fed) is marked as a whole word only, not inside Mumbai or Federal
    return re.compile(
        "|".join(
            rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])" if t.isascii() else re.escape(t)
            for t in usable
        ),
        re.I,
    )


def highlight(text: str, terms: Sequence[str]) -> str:
    """The whole text, escaped, with every match marked."""
    pattern = _pattern(terms)
    if pattern is None:
        return html.escape(text)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def snippet(text: str, terms: Sequence[str], width: int = 120) -> str:
    """A window of about ``width`` characters around the first match, marked.

    The text loses its dateline (财联社5月22日电，: the result's time and outlet say it, as
    a stream line's do), and the window's edges do not cut a number or a Latin word in two
    (wave 9: "比亚迪2002…", "概率为0.…" in 83 of 2,000 snippets): an edge inside one moves
    to its start, unless the run is longer than :data:`finews.process.text.MAX_RUN`."""
    text = _SPACES.sub(" ", text).strip()
    headline = _HEADLINE.match(text)
    if headline:  # 【headline】财联社5月18日电，…: the dateline after the headline
        text = text[: headline.end()] + strip_dateline(text[headline.end() :].lstrip())
    else:
        text = strip_dateline(text)
    pattern = _pattern(terms)
    match = pattern.search(text) if pattern else None
    start = 0 if match is None else max(0, match.start() - width // 4)
    end = start + width
    if start > 0:
        start = edge(text, start, forward=True, limit=match.start() if match else start)
        # "…，属于股票交易异常波动": a window that opens on a mark opens after it
        while start < (match.start() if match else start) and text[start] in _MARKS:
            start += 1
    if end < len(text):
        end = edge(text, end, forward=False, limit=max(start + 1, match.end() if match else 0))
    piece = text[start:end]
    return ("…" if start > 0 else "") + highlight(piece, terms) + ("…" if end < len(text) else "")


_MARKS = frozenset("，。、；：！？,.;:!? ）)」』”")
"""Punctuation a window does not open on (wave 10: "…，属于股票交易…")."""
