"""The JSON API: articles, one article, search, sources; its OpenAPI description is
generated from these models (``/api/openapi.json``).

Every endpoint reads the store in a worker thread (plain ``def`` endpoints) and
answers 400 with ``{"detail": …}`` for a parameter it cannot use.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from finews.errors import RequestError
from finews.model import Article
from finews.process.clean import clean_body
from finews.search import service
from finews.search.filters import known_filters
from finews.search.filters import resolve as resolve_filters
from finews.site import paths
from finews.store import Store
from finews.store.fulltext import Filters
from finews.store.rows import section_of
from finews.web import rendezvous

router = APIRouter(prefix="/api")


class StockOut(BaseModel):
    code: str = Field(examples=["600928.SH"])
    name: str = Field(examples=["西安银行"])
    origin: str = Field(description="upstream, marker, code or name: where the tag came from")
    move: float | None = Field(
        default=None,
        description="the stock's move in per cent when the news came out, as the upstream "
        "gave it with the tag (财联社 RiseRange); absent when it gave none",
        examples=[1.44],
    )


class TopicOut(BaseModel):
    id: str = Field(examples=["8881"])
    name: str = Field(examples=["北交所最新动态"])


class ArticleOut(BaseModel):
    source: str = Field(examples=["eastmoney.fast"])
    id: str = Field(description="the upstream's id, unique within the source")
    article: str = Field(
        description="source/id: the article's key in export json, stories --json, the MCP "
        "tools and finews search --json",
        examples=["eastmoney.fast/202606233779561413"],
    )
    story: int = Field(description="the story the article is one report of (= cluster)")
    title: str
    time: str = Field(description="RFC 3339, Beijing time", examples=["2021-12-29T21:45:37+08:00"])
    media: str
    section: str
    url: str = Field(description="the original article")
    path: str = Field(description="the article page, relative to the site root")
    digest: str
    stocks: list[StockOut]
    topics: list[TopicOut] = Field(
        default_factory=list, description="the upstream's topic pages (财联社 subjects …)"
    )
    audio_url: str = Field(default="", description="a spoken version, when the upstream has one")
    important: bool
    cluster: int = Field(description="reprints of one story share a cluster")
    reprint: bool = Field(description="true when an earlier article told the same story")


class ArticleDetail(ArticleOut):
    body_html: str = Field(description="the cleaned body (safe HTML)")


class ArticlePage(BaseModel):
    articles: list[ArticleOut]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next (older) page; null on the last page"
    )


class SearchHitOut(ArticleOut):
    score: float = Field(description="BM25 blended with recency; lower is better")
    title_html: str = Field(description="the title, escaped, matches in <mark>")
    snippet_html: str = Field(description="a passage, escaped, matches in <mark>")


class SearchOut(BaseModel):
    query: str
    total: int
    offset: int
    relaxed: bool = Field(
        default=False,
        description="true when all the words found too few and these articles have most of them",
    )
    results: list[SearchHitOut]


class FieldWarningOut(BaseModel):
    field: str = Field(examples=["brief"])
    change: str = Field(description="missing, type or new")
    detail: str
    items: int = Field(description="items of the latest page that showed it")
    first_seen: str | None
    last_seen: str | None


class SourceOut(BaseModel):
    source: str
    health: str = Field(description="ok, failing, stale or unknown (never polled here)")
    reason: str = Field(description="why, in words")
    articles: int
    newest: str | None
    last_attempt: str | None
    last_success: str | None
    consecutive_failures: int
    last_error: str
    shape: str = Field(default="", description="the request shape the source answers to")
    shape_since: str | None = Field(default=None, description="since when (RFC 3339)")
    previous_shape: str = Field(default="", description="the shape it replaced, if any")
    switch_reason: str = Field(default="", description="why the previous shape was left")
    fallback_ms: int | None = Field(
        default=None, description="from the first failure to the working shape's answer"
    )
    locked: int = Field(default=0, description="locked (VIP) items skipped so far")
    warnings: list[FieldWarningOut] = Field(
        default_factory=list,
        description="field changes in the source's items: missing, type or new, first seen",
    )


class CalendarEventOut(BaseModel):
    source: str
    id: str
    name: str = Field(examples=["美国5月零售销售月率"])
    time: str = Field(description="release time, RFC 3339, Beijing time")
    country: str
    unit: str
    actual: str = Field(description="as published; empty before the release")
    forecast: str
    previous: str
    revised: str
    star: int = Field(description="importance, 1–5 stars")
    affect: str = Field(description="利多, 利空, 影响较小 or empty")
    important: bool


def article_out(article_id: int, a: Article, cluster: int) -> dict[str, Any]:
    ts = int(a.published.timestamp())
    return {
        "source": a.source,
        "id": a.upstream_id,
        "article": f"{a.source}/{a.upstream_id}",
        "story": cluster,
        "title": a.title,
        "time": a.published_beijing.isoformat(),
        "media": a.media,
        "section": section_of(a),
        "url": a.url,
        "path": paths.article_path(a.source, a.upstream_id, ts),
        "digest": a.digest,
        "stocks": [{**s.identity(), "move": s.move} for s in a.stocks],
        "topics": [t.as_dict() for t in a.topics],
        "audio_url": a.audio_url,
        "important": a.important,
        "cluster": cluster,
        "reprint": cluster != article_id,
    }


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _time(value: str | None, name: str) -> int | None:
    if not value:
        return None
    try:
        return service.parse_time(value)
    except RequestError as exc:
        raise HTTPException(400, f"{name}: {exc}") from None


def filters_from(
    request: Request,
    source: str | None,
    media: str | None,
    stock: str | None,
    since: str | None,
    until: str | None,
    important: bool | None,
) -> Filters:
    """The request's filters as the store reads them: a stock by name is its code, a source
    in Chinese an outlet (:mod:`finews.search.filters`); an unknown name answers 400."""
    filters = Filters(
        source=source or None,
        media=media or None,
        stock=stock or None,
        since=_time(since, "since"),
        until=_time(until, "until"),
        important=important,
    )
    resolved = resolve_filters(filters, getattr(request.app.state, "stock_list", None))
    return known_filters(resolved, _store(request))


def encode_cursor(published_at: int, article_id: int) -> str:
    return base64.urlsafe_b64encode(f"{published_at}:{article_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        published, article_id = raw.split(":")
        return int(published), int(article_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HTTPException(400, "cursor: not a cursor this API gave out") from None


Source = Annotated[str | None, Query(description="a source key, e.g. eastmoney.fast")]
Media = Annotated[str | None, Query(description="a media name, e.g. 财联社")]
Stock = Annotated[str | None, Query(description="a stock code: 600928, 600928.SH, sh600928")]
Since = Annotated[
    str | None, Query(description="not older than: 2026-08-01, 2026-08-01 09:30, 24h, 7d")
]
Until = Annotated[str | None, Query(description="older than this time")]
Important = Annotated[bool | None, Query(description="only important (or only other) articles")]


@router.get("/articles", response_model=ArticlePage, summary="Articles, newest first")
def list_articles(
    request: Request,
    source: Source = None,
    media: Media = None,
    stock: Stock = None,
    since: Since = None,
    until: Until = None,
    important: Important = None,
    cursor: Annotated[str | None, Query(description="from a previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    filters = filters_from(request, source, media, stock, since, until, important)
    before = decode_cursor(cursor) if cursor else None
    rows = _store(request).list_articles(filters, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last_id, last, _ = rows[-1]
        next_cursor = encode_cursor(int(last.published.timestamp()), last_id)
    return {"articles": [article_out(*r) for r in rows], "next_cursor": next_cursor}


@router.get(
    "/articles/{source}/{upstream_id}",
    response_model=ArticleDetail,
    summary="One article, with its cleaned body",
    responses={404: {"description": "no such article"}},
)
def get_article(request: Request, source: str, upstream_id: str) -> dict[str, Any]:
    found = _store(request).find(source, upstream_id)
    if found is None:
        raise HTTPException(404, f"no article {source}/{upstream_id}")
    article_id, article, cluster = found
    return {
        **article_out(article_id, article, cluster),
        "body_html": clean_body(article.body_html, article.url),
    }


class ResultCache:
    """Answers to identical searches, keyed with the store's version: any change to the
    articles makes every entry stale.  A popular query costs one version lookup."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, store: Store, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        full = (store.version(), *key)
        with self._lock:
            if full in self._entries:
                self._entries.move_to_end(full)
                return self._entries[full]
        value = compute()
        with self._lock:
            self._entries[full] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


@router.get("/search", response_model=SearchOut, summary="Full-text search")
def search(
    request: Request,
    response: Response,
    q: Annotated[str, Query(description="words, a phrase in quotes, -excluded, a stock code")],
    source: Source = None,
    media: Media = None,
    stock: Stock = None,
    since: Since = None,
    until: Until = None,
    important: Important = None,
    sort: Annotated[str, Query(pattern="^(relevance|recent)$")] = "relevance",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> dict[str, Any]:
    filters = filters_from(request, source, media, stock, since, until, important)
    store = _store(request)
    # this server answered: `finews search` takes an answer only from the server it
    # found announced (finews.web.rendezvous)
    response.headers[rendezvous.HEADER] = request.app.state.search_token
    cache: ResultCache = request.app.state.search_cache
    # relative times (since=24h) move with the clock: such searches are not cached; the
    # recency in the scores moves too, so an answer is kept for the minute it was made in
    minute = int(time.time()) // 60
    key = None if since or until else ("api", q, filters, sort, limit, offset, minute)
    if key is None:
        return _search_answer(store, q, filters, sort, limit, offset)
    answer: dict[str, Any] = cache.get_or_compute(
        store, key, lambda: _search_answer(store, q, filters, sort, limit, offset)
    )
    return answer


def _search_answer(
    store: Store, q: str, filters: Filters, sort: str, limit: int, offset: int
) -> dict[str, Any]:
    found = service.search(
        store, q, filters, limit=limit, offset=offset, recent_first=sort == "recent"
    )
    return {
        "query": q,
        "total": found.total,
        "offset": offset,
        "relaxed": found.relaxed,
        "results": [
            {
                **article_out(r.id, r.article, r.cluster),
                "score": round(r.score, 4),
                "title_html": r.title_html,
                "snippet_html": r.snippet_html,
            }
            for r in found.results
        ],
    }


@router.get("/sources", response_model=list[SourceOut], summary="Sources and their health")
def sources(request: Request) -> list[dict[str, Any]]:
    from finews.run.health import report
    from finews.sources.registry import known_sources

    stale_after: float = request.app.state.stale_after
    from finews.store import upstream

    health = report(
        upstream.status(_store(request)),
        list(known_sources()),
        time.time(),
        stale_after,
        getattr(request.app.state, "stale_clock", "wall"),
    )
    return [h.as_dict() for h in health]


@router.get(
    "/calendar", response_model=list[CalendarEventOut], summary="Economic-data releases of a day"
)
def calendar_day(
    request: Request,
    date: Annotated[
        str | None, Query(description="YYYY-MM-DD, Beijing time; default: the latest day")
    ] = None,
) -> list[dict[str, Any]]:
    from finews.store import calendar

    try:
        events = calendar.events_on(_store(request), date)
    except ValueError:
        raise HTTPException(400, f"date: {date!r} is not a date (YYYY-MM-DD)") from None
    return [e.as_dict() for e in events]
