"""Searching the store: one page of the articles matching a parsed query, best first,
read back with their stories (the index itself is :mod:`finews.store.fulltext`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from finews.errors import StoreError
from finews.model import Article
from finews.search.query import Query
from finews.store import fulltext
from finews.store.reads import by_ids


@dataclass(frozen=True)
class SearchHit:
    id: int
    article: Article
    score: float
    cluster: int


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int
    relaxed: bool = False
    """most of the words sufficed: all of them found too few (see fulltext.search)"""


def search(
    conn: Connection,
    query: Query,
    filters: fulltext.Filters,
    *,
    limit: int,
    offset: int,
    recent_first: bool,
    now: int,
    relax: bool = True,
) -> SearchPage:
    """One page of the articles matching a parsed query (never raw user text: see
    :mod:`finews.search.query`), best first."""
    if not fulltext.available(conn):
        raise StoreError(f"search needs SQLite or PostgreSQL (not {conn.dialect.name})")
    try:
        ranked = fulltext.search(
            conn,
            query,
            filters,
            limit=limit,
            offset=offset,
            recent_first=recent_first,
            now=now,
            relax=relax,
        )
    except OperationalError as exc:
        raise StoreError(f"search failed: {exc.orig}") from None
    found = by_ids(conn, [i for i, _ in ranked.hits], raw=False)
    hits = [SearchHit(i, found[i][0], score, found[i][1]) for i, score in ranked.hits if i in found]
    return SearchPage(hits, ranked.total, ranked.relaxed)
