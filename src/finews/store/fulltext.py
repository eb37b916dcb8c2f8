"""The full-text index: an SQLite FTS5 table over jieba-segmented text (issue #6).

``article_fts`` has one row per article (rowid = ``articles.id``) and three columns,
weighted in the ranking: ``title`` (8), ``body`` (digest and body text, 1) and ``tags``
(media, category, and each tagged stock's code and name, 4) — so a stock code finds
the articles tagged with it even where the text only names the company.  The store
keeps it in step inside its write transactions.  Ranking is BM25 blended with recency:
the score is divided by ``1 + age / RECENCY_SCALE``.

On PostgreSQL the same documents go into a GIN-indexed ``tsvector``
(:mod:`finews.store.fts_postgres`); this module picks the one the connection needs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from finews.model import Article
from finews.process.stockcodes import a_share_exchange
from finews.process.text import body_text as plain_body
from finews.search.query import Query
from finews.search.segment import index_text
from finews.store import fts_postgres

TABLE = "article_fts"
WEIGHTS = (8.0, 1.0, 4.0)
SEARCH_INDEX = "ix_articles_search"
"""A covering index of the article columns search ranks and filters by."""
RECENCY_SCALE = 30 * 86400
"""An article this old (30 days) ranks as if its BM25 score were halved."""

_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "title, body, tags, tokenize = 'unicode61 remove_diacritics 2')"
)


def available(conn: Connection) -> bool:
    return conn.dialect.name in {"sqlite", "postgresql"}


def _postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def create(conn: Connection) -> None:
    if _postgres(conn):
        fts_postgres.create(conn)
    elif available(conn):
        conn.exec_driver_sql(_CREATE)


def body_text(article: Article) -> str:
    """Digest and body as plain text (tags and chart blocks removed, entities decoded)."""
    return f"{html.unescape(article.digest)}\n{plain_body(article.body_html)}".strip()


def _tags_text(article: Article) -> str:
    parts = [article.media, article.category]
    for stock in article.stocks:
        parts += [stock.code, stock.name]
    return " ".join(p for p in parts if p)


def document(article: Article) -> tuple[str, str, str]:
    """The three indexed columns of an article, segmented."""
    return (
        index_text(article.title),
        index_text(body_text(article)),
        index_text(_tags_text(article)),
    )


def index(conn: Connection, rows: Iterable[tuple[int, Article]]) -> None:
    """(Re)index articles by id: their previous row, if any, is replaced."""
    index_documents(conn, ((i, document(article)) for i, article in rows))


def index_documents(conn: Connection, rows: Iterable[tuple[int, tuple[str, str, str]]]) -> None:
    """(Re)index by id from documents made by :func:`document` (made before the write
    transaction, to keep it short)."""
    if not available(conn):
        return
    if _postgres(conn):
        fts_postgres.index(conn, rows)
        return
    values = [(article_id, *columns) for article_id, columns in rows]
    if not values:
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", [(v[0],) for v in values])
    cursor.executemany(f"INSERT INTO {TABLE}(rowid, title, body, tags) VALUES (?, ?, ?, ?)", values)


def unindex(conn: Connection, ids: Sequence[int]) -> None:
    if _postgres(conn):
        fts_postgres.unindex(conn, ids)
    elif available(conn) and ids:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(f"DELETE FROM {TABLE} WHERE rowid = ?", [(i,) for i in ids])


@dataclass(frozen=True)
class Filters:
    """What narrows a search or a listing; every field optional."""

    source: str | None = None
    media: str | None = None
    stock: str | None = None
    since: int | None = None
    """epoch seconds, inclusive"""
    until: int | None = None
    """epoch seconds, exclusive"""
    important: bool | None = None


def stock_codes(stock: str) -> list[str]:
    """The stored codes a user's stock filter means: ``600928`` → ``600928.SH``."""
    text = stock.strip().upper()
    match = re.fullmatch(r"(SH|SZ|BJ)(\d{6})", text)
    if match:
        return [f"{match.group(2)}.{match.group(1)}"]
    if re.fullmatch(r"\d{6}", text):
        exchange = a_share_exchange(text)
        return [f"{text}.{exchange}"] if exchange else [text]
    return [text]


def filter_sql(filters: Filters, params: dict[str, Any], alias: str = "a") -> list[str]:
    """SQL conditions on the ``articles`` table (as ``alias``) for the filters."""
    where: list[str] = []
    if filters.source:
        where.append(f"{alias}.source = :source")
        params["source"] = filters.source
    if filters.media:
        where.append(f"{alias}.media = :media")
        params["media"] = filters.media
    if filters.since is not None:
        where.append(f"{alias}.published_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        where.append(f"{alias}.published_at < :until")
        params["until"] = filters.until
    if filters.important is not None:
        where.append(f"{alias}.important = :important")
        params["important"] = bool(filters.important)
    if filters.stock:
        codes = stock_codes(filters.stock)
        names = ", ".join(f":stock{i}" for i in range(len(codes)))
        where.append(
            f"{alias}.id IN (SELECT article_id FROM article_stocks WHERE code IN ({names}))"
        )
        params.update({f"stock{i}": c for i, c in enumerate(codes)})
    return where


def _sqlite_sql(conditions: list[str]) -> tuple[str, str, str]:
    """FTS5's (FROM … WHERE …, score, unfiltered count) for an expression in ``:q``."""
    # The index drives (CROSS JOIN keeps SQLite from starting at an articles index and
    # running the MATCH once per row), and the ranking reads the narrow covering index
    # instead of the wide article rows: half the time of a plain join on common words.
    join = (
        f"FROM {TABLE} CROSS JOIN articles a INDEXED BY {SEARCH_INDEX} "
        f"ON a.id = {TABLE}.rowid WHERE " + " AND ".join([f"{TABLE} MATCH :q", *conditions])
    )
    weights = ", ".join(str(w) for w in WEIGHTS)
    score = f"bm25({TABLE}, {weights}) / (1.0 + max(0, :now - a.published_at) * 1.0 / :scale)"
    return join, score, f"SELECT count(*) FROM {TABLE} WHERE {TABLE} MATCH :q"


def search(
    conn: Connection,
    query: Query,
    filters: Filters,
    *,
    limit: int,
    offset: int,
    recent_first: bool,
    now: int,
) -> tuple[list[tuple[int, float]], int]:
    """(article id, score) of one page of matches, best first (the lowest score: BM25's
    sign, kept on PostgreSQL), and the number of matches."""
    params: dict[str, Any] = {"now": now, "scale": RECENCY_SCALE}
    conditions = filter_sql(filters, params)
    if _postgres(conn):
        match = query.tsquery()
        join, score, count_all = fts_postgres.search_sql(conditions)
        fts_postgres.before_search(conn)
    else:
        match = query.fts()
        join, score, count_all = _sqlite_sql(conditions)
    if match is None:
        return [], 0
    params["q"] = match
    order = "a.published_at DESC, a.id DESC" if recent_first else "score, a.id DESC"
    rows = conn.execute(
        text(f"SELECT a.id, {score} AS score {join} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    if conditions:
        total = conn.execute(text(f"SELECT count(*) {join}"), params).scalar_one()
    else:  # nothing filters the articles: the index alone counts
        total = conn.execute(text(count_all), {"q": match}).scalar_one()
    return [(int(r[0]), float(r[1])) for r in rows], int(total)
