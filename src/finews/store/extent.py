"""What a store holds, in the few figures a reader's question needs to be answered well
(wave 10, #14): where its news ends, which outlets and stocks it knows, how many articles
a filter matches.  An empty answer then says why (the store's newest article is older
than the period; the outlet is no outlet here; nothing is tagged with the stock) instead
of coming back empty without a hint.  Each is one indexed read; functions over a
connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, text

from finews.store import fulltext, schema

A = schema.articles


def newest(conn: Connection) -> int | None:
    """The newest article's publication time (epoch seconds), None for an empty store
    (the ``published_at`` index answers it)."""
    value = conn.execute(select(func.max(A.c.published_at))).scalar()
    return int(value) if value is not None else None


def media(conn: Connection) -> list[str]:
    """The outlets that have stored articles, in order (the media index answers it)."""
    rows = conn.execute(select(A.c.media).distinct().order_by(A.c.media))
    return [str(r[0]) for r in rows if r[0]]


def tagged(conn: Connection, code: str) -> bool:
    """Whether any article is tagged with this stock code."""
    S = schema.article_stocks
    return conn.execute(select(S.c.article_id).where(S.c.code == code).limit(1)).first() is not None


def count(conn: Connection, filters: fulltext.Filters) -> int:
    """How many articles the filters match (the listings' ``total``)."""
    params: dict[str, Any] = {}
    where = fulltext.filter_sql(filters, params)
    sql = "SELECT count(*) FROM articles a" + (" WHERE " + " AND ".join(where) if where else "")
    return int(conn.execute(text(sql), params).scalar_one())
