"""What a bot message may hold (wave 10, #14): each bot's size limit, and the texts of the
pushes that gather many items — a digest, a briefing — fitted under it.

The bots take plain text (``text`` message types: Markdown's ``#``, ``**`` and ``[…](…)``
would show as typed) and refuse a text over their limit — a refused message was retried
until given up, so a long one never arrived.  A push that gathers items is therefore built
here line by line, whole items only, until the next would not fit every bot the push goes
to; the rest is counted (``……另有 3 条``) and, for a briefing, the full briefing's page is
linked.  Generic webhooks get the whole JSON (a briefing's Markdown in ``markdown``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from finews.briefing.compose import clock
from finews.briefing.service import Made
from finews.site import paths

LIMITS: dict[str, tuple[int, str]] = {
    "telegram": (4096, "chars"),  # sendMessage: 1–4,096 characters
    "wecom": (2048, "bytes"),  # text.content: at most 2,048 bytes of UTF-8
    "dingtalk": (18000, "bytes"),  # a request body of at most 20 KB, less the JSON around it
    "feishu": (18000, "bytes"),  # the same
}
"""Each bot format's limit on a message's text: (size, measured in characters or UTF-8
bytes).  ``generic`` has none: it receives JSON, not a text."""


def size(text: str, fmt: str) -> int:
    """``text``'s size as ``fmt``'s bot measures it."""
    unit = LIMITS.get(fmt, (0, "chars"))[1]
    return len(text.encode("utf-8")) if unit == "bytes" else len(text)


def fits(text: str, formats: Iterable[str]) -> bool:
    """Whether ``text`` is under the limit of every bot format among ``formats``."""
    return all(size(text, f) <= LIMITS[f][0] for f in formats if f in LIMITS)


@dataclass(frozen=True)
class Gathered:
    """A text of many items: the lines before them, one block of lines per item (kept or
    left out whole) and the lines after them, given how many items were left out."""

    head: Sequence[str]
    items: Sequence[Sequence[str]]
    tail: Callable[[int], Sequence[str]]

    def text(self, formats: Iterable[str]) -> str:
        """The text with as many items, from the first, as fit every bot in ``formats``
        (at least the head and the tail; one item even when it alone is too long is not
        forced in)."""
        wanted = list(formats)
        kept: list[str] = []
        for n, block in enumerate(self.items):
            trial = [*kept, *block]
            if not fits(self._join(trial, len(self.items) - n - 1), wanted):
                return self._join(kept, len(self.items) - n)
            kept = trial
        return self._join(kept, 0)

    def _join(self, lines: Sequence[str], left: int) -> str:
        return "\n".join([*self.head, *lines, *self.tail(left)])


def briefing_page(made: Made) -> str:
    """The URL of the site's page of the briefing (its session's part of the day page)."""
    p = made.briefing.period
    return f"{made.base_url}{paths.briefing_path(p.day)}#{p.session}"


def briefing_text(made: Made, formats: Iterable[str]) -> str:
    """A briefing as a bot message: its title, span and counts, then its stories' times and
    headlines group by group (Markdown's marks and links left out), as many as fit, and the
    link to the full briefing on the site."""
    b = made.briefing
    # times of another date than the briefing's say their date (Monday's 早报 holds the
    # weekend: wave 12), the span's start included (15:30 of the day before)
    since, until = clock(b.period.since, b.period.day), clock(b.period.until, b.period.day)
    head = [
        f"【{made.site_title} {b.period.title}】",
        f"{since} 至 {until} · {b.articles} 条消息 · {b.stories} 个事件",
    ]
    blocks: list[list[str]] = []
    for group, stories in b.groups:
        for n, s in enumerate(stories, 1):
            when = clock(s.first.published_at, b.period.day)
            line = f"{n}. {when} {' '.join(s.headline.split())}"
            if s.important:
                line += "（重要）"
            blocks.append([f"— {group} —", line] if n == 1 else [line])
    page = briefing_page(made)

    def tail(left: int) -> list[str]:
        more = [f"……另有 {left} 个事件"] if left else []
        return [*more, f"全文：{page}"]

    return Gathered(head, blocks, tail).text(formats)


def digest_text(lines: Sequence[str], formats: Iterable[str], cap: int) -> str:
    """A digest of ``lines`` (one item each, in order) as a bot message: a count, then as
    many lines as fit (at most ``cap``), the rest counted."""
    shown = lines[:cap]

    def tail(left: int) -> list[str]:
        left += len(lines) - len(shown)
        return [f"……另有 {left} 条"] if left else []

    return Gathered([f"【{len(lines)} 条消息汇总】"], [[x] for x in shown], tail).text(formats)
