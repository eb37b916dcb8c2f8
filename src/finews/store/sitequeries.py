"""Read queries for the site build, run on one snapshot connection.

Listings only need light rows (no body); article pages and feeds read the
full rows of the few articles they show.  Every query here is indexed:
``change_seq``, ``(section, published_at)`` or ``published_at``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, bindparam, case, func, literal, select

from finews.model import Article
from finews.process.clean import CLEAN_REVISION
from finews.store import schema
from finews.store.rows import row_to_article

A = schema.articles
T = schema.article_tombstones
S = schema.article_stocks
DAY = 86400
BEIJING_OFFSET = 8 * 3600


class Item(NamedTuple):
    """An article as a listing shows it."""

    id: int
    source: str
    upstream_id: str
    title: str
    published_at: int
    media: str
    section: str
    important: bool
    content_hash: str
    cluster: int
    digest: str = ""
    """A flash's text, an article's summary: what a stream shows under the headline."""
    stocks: str = "[]"
    """The stock tags as stored (JSON): a stream's chips."""


_LIGHT = (
    A.c.id,
    A.c.source,
    A.c.upstream_id,
    A.c.title,
    A.c.published_at,
    A.c.media,
    A.c.section,
    A.c.important,
    A.c.content_hash,
    A.c.cluster_id,
    A.c.digest,
    A.c.stocks,
)
_ORDER = (A.c.published_at, A.c.id)


class Published(NamedTuple):
    """An article as its page and feed entries show it."""

    id: int
    article: Article
    content_hash: str
    body: str | None
    """The stored sanitised body, or None when the cleaner has changed since it was
    stored (the page cleans the upstream body itself).  ``article.body_html`` is
    only read in that case: it is empty when ``body`` is given."""


def _items(rows: Iterable[Row[Any]]) -> list[Item]:
    return [
        Item(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9] or r[0], r[10], r[11])
        for r in rows
    ]


def beijing_day_number(published_at: int) -> int:
    return (published_at + BEIJING_OFFSET) // DAY


def max_seq(conn: Connection) -> int:
    a = conn.execute(select(func.max(A.c.change_seq))).scalar() or 0
    t = conn.execute(select(func.max(T.c.change_seq))).scalar() or 0
    return int(max(a, t))


def changed_since(conn: Connection, seq: int) -> list[Item]:
    return _items(conn.execute(select(*_LIGHT).where(A.c.change_seq > seq).order_by(*_ORDER)))


class Tombstone(NamedTuple):
    """Where an article was (deleted, or moved to another day, section, stocks or cluster)."""

    source: str
    upstream_id: str
    published_at: int
    section: str
    stocks: list[str]
    cluster: int | None


def tombstones_since(conn: Connection, seq: int) -> list[Tombstone]:
    rows = conn.execute(
        select(
            T.c.source, T.c.upstream_id, T.c.published_at, T.c.section, T.c.stocks, T.c.cluster_id
        ).where(T.c.change_seq > seq)
    )
    return [
        Tombstone(r[0], r[1], r[2], r[3], [s["code"] for s in json.loads(r[4] or "[]")], r[5])
        for r in rows
    ]


def stock_codes_of(conn: Connection, ids: list[int]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        rows = conn.execute(select(S.c.code).where(S.c.article_id.in_(ids[start : start + 500])))
        found.update(r[0] for r in rows)
    return found


def stock_index(conn: Connection) -> list[tuple[str, int, str]]:
    """(code, articles, a name) of every stock with articles."""
    rows = conn.execute(select(S.c.code, func.count(), func.max(S.c.name)).group_by(S.c.code))
    return [(r[0], int(r[1]), r[2] or "") for r in rows]


def stock_items(conn: Connection, code: str, limit: int) -> list[Item]:
    return _items(
        conn.execute(
            select(*_LIGHT)
            .join(S, S.c.article_id == A.c.id)
            .where(S.c.code == code)
            .order_by(A.c.published_at.desc(), A.c.id.desc())
            .limit(limit)
        )
    )


def all_stock_pairs(conn: Connection) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in conn.execute(select(S.c.code, S.c.article_id))]


def cluster_members(conn: Connection, clusters: list[int]) -> dict[int, list[Item]]:
    """Every article of these reprint clusters, oldest first, by cluster."""
    found: dict[int, list[Item]] = {}
    for start in range(0, len(clusters), 500):
        rows = _items(
            conn.execute(
                select(*_LIGHT)
                .where(A.c.cluster_id.in_(clusters[start : start + 500]))
                .order_by(*_ORDER)
            )
        )
        for it in rows:
            found.setdefault(it.cluster, []).append(it)
    return found


def all_items(conn: Connection) -> list[Item]:
    return _items(conn.execute(select(*_LIGHT).order_by(*_ORDER)))


def section_counts(conn: Connection) -> list[tuple[str, int, int]]:
    """(section, articles, newest published_at) for every section."""
    rows = conn.execute(
        select(A.c.section, func.count(), func.max(A.c.published_at)).group_by(A.c.section)
    )
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def section_items_from(conn: Connection, section: str, offset: int) -> list[Item]:
    """A section's articles from absolute position ``offset`` on, oldest first."""
    query = select(*_LIGHT).where(A.c.section == section).order_by(*_ORDER)
    if offset:
        query = query.offset(offset)
    return _items(conn.execute(query))


def count_before(conn: Connection, section: str, published_at: int) -> int:
    """How many articles of a section were published before ``published_at``."""
    return int(
        conn.execute(
            select(func.count()).where(A.c.section == section, A.c.published_at < published_at)
        ).scalar_one()
    )


def newest_in_section(conn: Connection, section: str, limit: int) -> list[Item]:
    return _items(
        conn.execute(
            select(*_LIGHT)
            .where(A.c.section == section)
            .order_by(A.c.published_at.desc(), A.c.id.desc())
            .limit(limit)
        )
    )


def items_between(conn: Connection, start: int, end: int) -> list[Item]:
    """Articles with start <= published_at < end, oldest first."""
    return _items(
        conn.execute(
            select(*_LIGHT)
            .where(A.c.published_at >= start, A.c.published_at < end)
            .order_by(*_ORDER)
        )
    )


def day_counts(conn: Connection) -> list[tuple[int, int]]:
    """(Beijing day number, articles) for every day with articles, oldest first."""
    day = (A.c.published_at + BEIJING_OFFSET) // DAY
    rows = conn.execute(select(day, func.count()).group_by(day).order_by(day))
    return [(int(r[0]), int(r[1])) for r in rows]


def newest_items(conn: Connection, limit: int) -> list[Item]:
    return _items(
        conn.execute(select(*_LIGHT).order_by(A.c.published_at.desc(), A.c.id.desc()).limit(limit))
    )


def newest_important(conn: Connection, limit: int) -> list[Item]:
    """The newest important articles (加红, level A/B, 焦点, highlighted titles …)."""
    return _items(
        conn.execute(
            select(*_LIGHT)
            .where(A.c.important.is_(True))
            .order_by(A.c.published_at.desc(), A.c.id.desc())
            .limit(limit)
        )
    )


def important_items(conn: Connection) -> list[Item]:
    """Every important article, oldest first (要闻's pages, issue w8: its whole history,
    not only the newest page).  Light rows; the store has no index on ``important``, so
    this reads the articles' light columns once per build (a few milliseconds a thousand
    articles)."""
    return _items(conn.execute(select(*_LIGHT).where(A.c.important.is_(True)).order_by(*_ORDER)))


_PUBLISHED = [
    case((A.c.clean_revision == CLEAN_REVISION, literal("")), else_=A.c.body_html).label(
        "body_html"
    )
    if c.name == "body_html"
    else c
    for c in A.c
    if c.name != "raw"
]
"""Every column but the raw payload (pages never show it, and it is most of a row's bytes)
and the upstream body of an article whose cleaned body is current (not needed then)."""
_PUBLISHED_NAMES = [c.name for c in _PUBLISHED]


_BY_IDS = select(*_PUBLISHED).where(A.c.id.in_(bindparam("ids", expanding=True)))


def _published(row: Any) -> Published:
    current = row["clean_revision"] == CLEAN_REVISION
    return Published(
        row["id"], row_to_article(row), row["content_hash"], row["body_clean"] if current else None
    )


def article_rows_by_id(conn: Connection, ids: list[int]) -> Iterator[tuple[Any, ...]]:
    """The rows of these articles (every column but the raw payload) as plain tuples:
    cheap to send to another process, which makes them articles with
    :func:`article_from_row`."""
    for start in range(0, len(ids), 500):
        for row in conn.execute(_BY_IDS, {"ids": ids[start : start + 500]}):
            yield tuple(row)


def articles_by_id(conn: Connection, ids: list[int]) -> Iterator[Published]:
    return map(article_from_row, article_rows_by_id(conn, ids))


def iter_all_articles(conn: Connection, chunk: int = 2000) -> Iterator[Published]:
    """Every article with its id, in id order, a chunk at a time (bounded memory)."""
    last = 0
    while True:
        rows = conn.execute(
            select(*_PUBLISHED).where(A.c.id > last).order_by(A.c.id).limit(chunk)
        ).mappings()
        batch = list(rows)
        if not batch:
            return
        for r in batch:
            yield _published(r)
        last = batch[-1]["id"]


def snapshot_mark(conn: Connection) -> tuple[int, int, int]:
    """What tells two read transactions apart: every write of what a page shows (a new,
    changed, moved or reprocessed article, a deletion) raises the change counter of an
    article or a tombstone, so two transactions with the same counters and article count
    show the same pages (only the full-text attempt counter changes without it)."""
    top, count = conn.execute(select(func.max(A.c.change_seq), func.count()).select_from(A)).one()
    gone = conn.execute(select(func.max(T.c.change_seq))).scalar()
    return int(top or 0), int(gone or 0), int(count)


def article_rows_between(conn: Connection, first: int, last: int) -> list[tuple[Any, ...]]:
    """The rows (as :func:`article_rows_by_id` gives them) of ids ``first`` to ``last``."""
    query = select(*_PUBLISHED).where(A.c.id >= first, A.c.id <= last).order_by(A.c.id)
    return [tuple(row) for row in conn.execute(query)]


def article_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(A)).scalar_one())


def article_from_row(row: tuple[Any, ...]) -> Published:
    """The article of a row of :func:`article_rows_by_id` or :func:`article_rows_between`."""
    return _published(dict(zip(_PUBLISHED_NAMES, row, strict=True)))


def story_heat(
    conn: Connection, clusters: list[int]
) -> dict[int, tuple[int, int, dict[str, tuple[int, int]]]]:
    """(reports, outlets, each outlet's first report as (time, row id)) of each of these
    stories told more than once (issues #10, #12)."""
    found: dict[int, tuple[int, int, dict[str, tuple[int, int]]]] = {}
    unique = sorted(set(clusters))
    for start in range(0, len(unique), 500):
        rows = conn.execute(
            select(A.c.cluster_id, A.c.media, A.c.published_at, A.c.id).where(
                A.c.cluster_id.in_(unique[start : start + 500])
            )
        )
        by_story: dict[int, dict[str, tuple[int, int]]] = {}
        counts: dict[int, int] = {}
        for cluster, media, published_at, row_id in rows:
            outlets = by_story.setdefault(int(cluster), {})
            key = (int(published_at), int(row_id))
            outlets[str(media)] = min(outlets.get(str(media), key), key)
            counts[int(cluster)] = counts.get(int(cluster), 0) + 1
        for cluster, outlets in by_story.items():
            if counts[cluster] > 1:
                found[cluster] = (counts[cluster], len(outlets), outlets)
    return found
