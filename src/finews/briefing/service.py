"""A briefing from the store, as the command line, the MCP resources, the site and the
subscribers' pushes ask for it (issue #14)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from finews.briefing import compose, periods, render, summarize
from finews.briefing.compose import Briefing
from finews.config import Settings
from finews.model import BEIJING, from_epoch
from finews.site import paths
from finews.store import Store
from finews.store.briefreads import period_rows
from finews.store.fulltext import Filters
from finews.store.stories import Report


@dataclass(frozen=True)
class Made:
    """A briefing and the site URLs it links to."""

    briefing: Briefing
    base_url: str
    site_title: str

    def link(self, r: Report) -> str:
        return self.base_url + paths.article_path(r.source, r.upstream_id, r.published_at)

    def story_link(self, story: int) -> str:
        return f"{self.base_url}story/{story}/index.html"

    def markdown(self, empty_note: str = "") -> str:
        return render.markdown(self.briefing, self.link, self.site_title, empty_note)

    def html(self) -> str:
        return render.html_document(self.briefing, self.link, self.story_link, self.site_title)

    def as_dict(self) -> dict[str, Any]:
        return compose.as_dict(self.briefing, self.link)


def make(
    store: Store,
    settings: Settings,
    day: date | None = None,
    session: str | None = None,
    *,
    now: float,
    summarized: bool = True,
) -> Made:
    """The briefing of ``day``'s ``session`` (no day: the latest period ended at ``now``; a
    day alone: its morning).  ``summarized``: run the configured summarizer, if any."""
    b = settings.briefing
    if day is None and session is None:
        period = periods.latest(now, b.morning, b.close)
    else:
        period = periods.period(
            day or periods.latest(now, b.morning, b.close).day,
            session or "morning",
            b.morning,
            b.close,
        )
    with store.engine.connect() as conn:
        rows = period_rows(conn, period.since, period.until)
    made = Made(
        compose.compose(
            rows, period, per_group=b.per_group, important=b.important, stocks=b.stocks
        ),
        settings.site.base_url.rstrip("/") + "/",
        settings.site.title,
    )
    if summarized and b.summarizer:
        summary = summarize.summarize(b.summarizer, made.markdown(), b.summarizer_timeout)
        if summary:
            made = replace(made, briefing=replace(made.briefing, summary=summary))
    return made


def where_to_read(store: Store, made: Made) -> tuple[int, date] | None:
    """For an empty briefing of a store whose news ends before its period (an import, a
    copy): the newest article's time and the day to read instead — of the newest article's
    day and the day before, the one that holds more news (a store that ends just after
    midnight would otherwise be sent to a day of six articles; wave 13's walk).  None when
    the briefing has news or the store has none before the period.  (The period hints of
    ``stories`` and the MCP tools: :func:`finews.search.filters.where_news_ends`.)"""
    if made.briefing.articles:
        return None
    newest = store.newest()
    if newest is None or newest >= made.briefing.period.since:
        return None
    last = from_epoch(newest).date()
    days = (last - timedelta(days=1), last)

    def held(day: date) -> int:
        start = int(datetime.combine(day, time(), BEIJING).timestamp())
        return store.count_articles(Filters(since=start, until=start + 86400))

    counts = [held(d) for d in days]
    return newest, days[0] if counts[0] > counts[1] else days[1]


def empty_note(store: Store, made: Made, how: str) -> str:
    """What an empty briefing says after 本时段没有消息。 — where the store's news ends and
    what to read instead (``how`` the reader asks for it: a resource, an option), or ""."""
    found = where_to_read(store, made)
    if found is None:
        return ""
    newest, day = found
    when = from_epoch(newest).strftime("%Y-%m-%d %H:%M")
    return f"存储中最新的消息在 {when}（北京时间）：{how.format(day=day)}。"
