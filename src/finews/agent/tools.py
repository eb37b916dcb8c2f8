"""What an LLM agent can ask of finews (issue #14), as plain functions over the store.

Each tool returns a small pydantic model that the MCP server (:mod:`finews.agent.server`)
hands out as structured content with its JSON schema: compact and citation-friendly —
every item carries its title, its time in Beijing time (``+08:00``), its outlet, the
upstream URL and this site's link, its stocks, and its story's id and heat.  Results are
bounded (``limit`` ≤ ``mcp.max_results``, texts ≤ ``mcp.max_chars``) and say when they were
cut (``truncated``).  Never raw HTML: bodies are the cleaned plain text.

A user mistake (an unknown article, a time that is not one) raises
:class:`~finews.errors.FinewsError` with a message a model can act on; the server turns
it into an MCP tool error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from finews.config import Settings
from finews.errors import RequestError
from finews.model import Article, StockTag, from_epoch
from finews.process.stocks import StockDirectory, load_directory
from finews.process.text import article_text, shown_once_text
from finews.run import health as source_health_of
from finews.search import filters as reader_filters
from finews.search.service import Filters, parse_time
from finews.search.service import search as run_search
from finews.site import paths
from finews.store import Store, schema, storyreads
from finews.store.stories import Story

DIGEST_CHARS = 160
"""A list item's digest is cut here (``…``): lists are for finding, get_article for reading."""


class Stock(BaseModel):
    code: str = Field(description="normalised code, e.g. 600519.SH")
    name: str = ""


class Heat(BaseModel):
    reports: int = Field(description="reports of the story (reprints included)")
    outlets: int = Field(description="distinct outlets that reported it")


class NewsItem(BaseModel):
    """One article, as an agent cites it."""

    id: str = Field(description="source/upstream_id: what get_article takes")
    title: str
    time: str = Field(description="published, ISO 8601 in Beijing time (+08:00)")
    outlet: str = Field(description="the media that published it")
    source: str = Field(description="the finews source key it came from")
    url: str = Field(description="the article at its outlet")
    link: str = Field(description="the article on this finews site")
    digest: str = Field(description="the first sentences, plain text (cut with …)")
    stocks: list[Stock]
    important: bool = Field(description="flagged important (加红) upstream")
    story: int = Field(description="the story's id: what get_story takes")
    heat: Heat


class NewsList(BaseModel):
    items: list[NewsItem]
    total: int = Field(description="matching articles in all (items holds at most limit)")
    truncated: bool = Field(description="true when more matched than items holds")
    note: str = Field(
        default="",
        description="how to read the answer; for an empty one, why and what to try instead",
    )


class ArticleText(BaseModel):
    item: NewsItem
    text: str = Field(
        description="the article as cleaned plain text: the body, and the digest when it is "
        "a text of its own (a flash's digest is its body: given once)"
    )
    chars: int = Field(description="characters of the whole text")
    truncated: bool = Field(description="true when text was cut at max_chars")


class StoryReport(BaseModel):
    id: str
    title: str
    time: str
    outlet: str
    url: str
    link: str
    important: bool
    minutes_after_first: int
    first: bool = Field(description="the earliest report (首发)")


class StoryView(BaseModel):
    story: int
    title: str = Field(description="the first report's title")
    first_outlet: str = Field(description="who reported it first (首发)")
    first_time: str
    heat: Heat
    important: bool
    stocks: list[Stock]
    reports: list[StoryReport]
    truncated: bool = False


class StorySummary(BaseModel):
    story: int
    title: str
    time: str = Field(description="the first report's time (+08:00)")
    latest: str = Field(description="the latest report's time (+08:00)")
    first_outlet: str
    url: str
    link: str
    heat: Heat
    important: bool
    stocks: list[Stock]


class StoryList(BaseModel):
    since: str
    until: str
    stories: list[StorySummary]
    truncated: bool
    note: str = Field(default="", description="for an empty answer: why and what to try")


class SourceState(BaseModel):
    source: str
    health: Literal["ok", "stale", "failing", "unknown"]
    reason: str
    articles: int
    newest: str | None
    last_attempt: str | None
    last_success: str | None
    consecutive_failures: int
    last_error: str


class SourceHealth(BaseModel):
    sources: list[SourceState]


def _stocks(tags: Sequence[StockTag]) -> list[Stock]:
    return [Stock(code=s.code, name=s.name) for s in tags]


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Tools:
    """The tools over one open store; ``now`` is fixed in tests, the clock otherwise."""

    store: Store
    settings: Settings
    now: float | None = None
    _status: tuple[tuple[int, ...], dict[str, dict[str, Any]]] | None = field(
        default=None, init=False
    )
    """the store's per-source status, kept until an article or a poll is written: counting
    every article by source is a scan (a quarter of a second at 100,000 articles)"""

    # -- helpers ---------------------------------------------------------------------
    def _now(self) -> float:
        return time.time() if self.now is None else self.now

    def _time(self, text: str | None, name: str) -> int | None:
        if text is None or not text.strip():
            return None
        try:
            return parse_time(text, now=self._now())
        except RequestError as exc:
            raise RequestError(f"{name}: {exc}") from None

    def _limit(self, limit: int) -> int:
        return max(1, min(limit, self.settings.mcp.max_results))

    def _link(self, source: str, upstream_id: str, published_at: int) -> str:
        base = self.settings.site.base_url.rstrip("/") + "/"
        return base + paths.article_path(source, upstream_id, published_at)

    def _items(self, rows: Sequence[tuple[Article, int]]) -> list[NewsItem]:
        with self.store.engine.connect() as conn:
            heat = storyreads.heat(conn, [cluster for _, cluster in rows])
        items = []
        for a, cluster in rows:
            reports, outlets = heat.get(cluster, (1, 1))
            items.append(
                NewsItem(
                    id=f"{a.source}/{a.upstream_id}",
                    title=a.title,
                    time=a.published_beijing.isoformat(),
                    outlet=a.media or a.source,
                    source=a.source,
                    url=a.url,
                    link=self._link(a.source, a.upstream_id, int(a.published.timestamp())),
                    digest=_cut(a.digest or article_text(a), DIGEST_CHARS),
                    stocks=_stocks(a.stocks),
                    important=a.important,
                    story=cluster,
                    heat=Heat(reports=reports, outlets=outlets),
                )
            )
        return items

    def _directory(self) -> StockDirectory:
        return load_directory(self.settings.data_path / "a_shares.csv")

    def _stock_code(self, stock: str) -> str:
        """The code of the stock an agent names, by the resolver every face uses
        (:func:`finews.search.filters.stock_code`): a typed code read one way (sz600519 →
        600519.SH, 00700 → 00700.HK, full-width digits), a name, or UnknownStock with the
        nearest ones; a code no list has is known when the store tagged articles with it."""
        return reader_filters.stock_code(stock, self._directory(), self.store.is_tagged)

    def _filters(
        self,
        *,
        source: str | None = None,
        media: str | None = None,
        stock: str | None = None,
        since: str | None = None,
        until: str | None = None,
        important: bool = False,
    ) -> Filters:
        """The filters as the store reads them, each checked: an unknown source, outlet or
        stock, a time that is none or a period that ends before it starts is an error that
        says what is known (finews.search.filters)."""
        filters = reader_filters.resolve(
            Filters(
                source=source or None,
                media=media or None,
                since=self._time(since, "since"),
                until=self._time(until, "until"),
                important=important or None,
            )
        )
        if stock:
            filters = replace(filters, stock=self._stock_code(stock))
        if not filters.source and not filters.media:
            return reader_filters.checked(filters, sources=(), media=())
        sources = reader_filters.filter_sources(self.store, self.settings.sources.enabled)
        return reader_filters.checked(filters, sources=sources, media=self.store.media())

    def _empty_note(self, filters: Filters) -> str:
        """Why an answer is empty, when the store can say: its news ends before the
        period starts (a store of older news) — or it has none."""
        newest = self.store.newest()
        if newest is None:
            return "no articles: the store holds no articles yet (finews fetch or run fills it)"
        if filters.since is not None and newest < filters.since:
            return f"no articles in this period; {reader_filters.where_news_ends(newest)}"
        return ""

    # -- the tools -------------------------------------------------------------------
    def search_news(
        self,
        query: str,
        *,
        source: str | None = None,
        media: str | None = None,
        stock: str | None = None,
        since: str | None = None,
        until: str | None = None,
        important: bool = False,
        recent: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> NewsList:
        if not query.strip():
            raise RequestError("query is empty: give words, a name or a stock code")
        # a source in Chinese (财联社) is an outlet, as on every face (finews.search.filters)
        filters = self._filters(
            source=source,
            media=media,
            stock=stock,
            since=since,
            until=until,
            important=important,
        )
        found = run_search(
            self.store,
            query,
            filters,
            limit=self._limit(limit),
            offset=offset,
            recent_first=recent,
            now=int(self._now()),
        )
        items = self._items([(r.article, r.cluster) for r in found.results])
        note = (
            "relaxed: all the words found too few, these have most of them" if found.relaxed else ""
        )
        if not found.total:
            note = self._empty_note(filters)
        return NewsList(
            items=items,
            total=found.total,
            truncated=offset + len(items) < found.total,
            note=note,
        )

    def latest_news(
        self,
        *,
        since: str | None = None,
        source: str | None = None,
        important: bool = False,
        stock: str | None = None,
        limit: int = 20,
    ) -> NewsList:
        filters = self._filters(source=source, stock=stock, since=since, important=important)
        return self._listing(filters, limit, "newest first")

    def _listing(self, filters: Filters, limit: int, note: str) -> NewsList:
        """The newest articles the filters match, with their exact count (``total``: it
        was the items and at most one more, a number an agent could not use)."""
        wanted = self._limit(limit)
        rows = self.store.list_articles(filters, limit=wanted + 1)
        items = self._items([(a, cluster) for _, a, cluster in rows[:wanted]])
        total = self.store.count_articles(filters) if len(rows) > wanted else len(items)
        return NewsList(
            items=items,
            total=total,
            truncated=len(rows) > wanted,
            note=note if items else self._empty_note(filters),
        )

    def stock_news(
        self, stock: str, *, since: str | None = None, until: str | None = None, limit: int = 20
    ) -> NewsList:
        code = self._stock_code(stock)
        name = self._directory().display.get(code, "")
        said = f"{code} {name}".strip()
        filters = self._filters(since=since, until=until)
        listing = self._listing(replace(filters, stock=code), limit, f"{said}: newest first")
        if not listing.items and not self.store.is_tagged(code):
            # Hong Kong and US securities are seldom tagged upstream (英伟达: NVDA.US on
            # few flashes, in many headlines): say so, and where the articles are
            why = (
                ": the upstreams tag few Hong Kong and US securities"
                if code.endswith((".HK", ".US"))
                else ""
            )
            listing.note = (
                f"no article in this store is tagged with {said}{why}; call search_news "
                f"with query {name or code!r} to find the articles that name it"
            )
        return listing

    def get_article(self, article_id: str, *, max_chars: int | None = None) -> ArticleText:
        source, sep, upstream_id = article_id.partition("/")
        if not sep or not source or not upstream_id:
            raise RequestError(
                f"article id {article_id!r} is not source/upstream_id (as items' id gives it)"
            )
        found = self.store.find(source, upstream_id)
        if found is None:
            raise RequestError(f"no article {article_id!r} in this store")
        _, article, cluster = found
        # the text once: a flash's digest is its body (wave 10), as its page shows it
        text = shown_once_text(article)
        cap = min(max_chars or self.settings.mcp.max_chars, self.settings.mcp.max_chars)
        return ArticleText(
            item=self._items([(article, cluster)])[0],
            text=text if len(text) <= cap else text[: cap - 1] + "…",
            chars=len(text),
            truncated=len(text) > cap,
        )

    def get_story(self, story_id: int, *, limit: int | None = None) -> StoryView:
        with self.store.engine.connect() as conn:
            found = storyreads.story(conn, story_id)
            if found is None:
                raise RequestError(
                    f"no story {story_id} in this store (ids come from items' story)"
                )
            tags = storyreads.stocks(conn, [r.id for r in found.reports])
        wanted = self._limit(limit or self.settings.mcp.max_results)
        first = found.first
        return StoryView(
            story=found.id,
            title=first.title,
            first_outlet=first.media,
            first_time=from_epoch(first.published_at).isoformat(),
            heat=Heat(reports=len(found.reports), outlets=found.outlets),
            important=found.important,
            stocks=_stocks(_union(tags[r.id] for r in found.reports)),
            reports=[
                StoryReport(
                    id=f"{r.source}/{r.upstream_id}",
                    title=r.title,
                    time=from_epoch(r.published_at).isoformat(),
                    outlet=r.media,
                    url=r.url,
                    link=self._link(r.source, r.upstream_id, r.published_at),
                    important=r.important,
                    minutes_after_first=r.published_at // 60 - first.published_at // 60,
                    first=r is first,
                )
                for r in found.reports[:wanted]
            ],
            truncated=len(found.reports) > wanted,
        )

    def top_stories(
        self, *, since: str = "24h", until: str | None = None, limit: int = 10
    ) -> StoryList:
        start = self._time(since, "since")
        if start is None:
            raise RequestError("since: give a time such as 24h, 7d or 2026-08-01")
        end = self._time(until, "until") or int(self._now()) + 1
        period = reader_filters.checked(Filters(since=start, until=end), sources=(), media=())
        wanted = self._limit(limit)
        stories = self.store.stories(start, end, wanted + 1)  # heat, importance, newest
        shown = stories[:wanted]
        with self.store.engine.connect() as conn:
            tags = storyreads.stocks(conn, [r.id for s in shown for r in s.reports])
        return StoryList(
            since=from_epoch(start).isoformat(),
            until=from_epoch(end).isoformat(),
            stories=[self._summary(s, tags) for s in shown],
            truncated=len(stories) > wanted,
            note="" if shown else self._empty_note(period),
        )

    def _summary(self, s: Story, tags: dict[int, tuple[StockTag, ...]]) -> StorySummary:
        first = s.first
        return StorySummary(
            story=s.id,
            title=first.title,
            time=from_epoch(first.published_at).isoformat(),
            latest=from_epoch(s.latest).isoformat(),
            first_outlet=first.media,
            url=first.url,
            link=self._link(first.source, first.upstream_id, first.published_at),
            heat=Heat(reports=len(s.reports), outlets=s.outlets),
            important=s.important,
            stocks=_stocks(_union(tags[r.id] for r in s.reports)),
        )

    def briefing(self, day: str | None = None, session: str | None = None) -> str:
        """A briefing's Markdown (no summarizer: a resource read stays quick and local)."""
        from finews.briefing.periods import SESSIONS, parse_day
        from finews.briefing.service import empty_note, make

        if session is not None and session not in SESSIONS:
            raise RequestError(f"session {session!r} is not one of {', '.join(SESSIONS)}")
        when = parse_day(day) if day else None
        made = make(self.store, self.settings, when, session, now=self._now(), summarized=False)
        # a store of older news: where it ends, and what to read instead
        return made.markdown(
            empty_note(self.store, made, "读 finews://briefing/{day:%Y-%m-%d}/day")
        )

    def source_health(self) -> SourceHealth:
        polls = schema.source_status
        with self.store.engine.connect() as conn:
            seen = conn.execute(
                select(func.coalesce(func.sum(polls.c.polls), 0), func.max(polls.c.last_attempt_at))
            ).one()
        version = (self.store.version(), int(seen[0]), int(seen[1] or 0))
        if self._status is None or self._status[0] != version:
            self._status = (version, self.store.source_status())
        states = source_health_of.report(
            self._status[1],
            list(self.settings.sources.enabled),
            self._now(),
            self.settings.run.stale_after,
        )
        return SourceHealth(sources=[SourceState(**h.as_dict()) for h in states])


def _union(groups: Iterable[Iterable[StockTag]]) -> list[StockTag]:
    """The stocks of several reports, each once, in order of first mention."""
    seen: dict[str, StockTag] = {}
    for group in groups:
        for tag in group:
            seen.setdefault(tag.code, tag)
    return list(seen.values())
