"""Reading articles: one by key or id, all of them streamed, the ones a poller asks
about (known ids, full texts still due), a stock's timeline, and the keyset-paginated
listings of the API and the live page.  Functions over a connection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text

from finews.model import Article
from finews.store import fulltext, schema
from finews.store.rows import row_to_article

A = schema.articles


def get(conn: Connection, source: str, upstream_id: str) -> Article | None:
    row = (
        conn.execute(select(A).where(A.c.source == source, A.c.upstream_id == upstream_id))
        .mappings()
        .first()
    )
    return row_to_article(row) if row else None


def revisions(conn: Connection, source: str, upstream_id: str) -> list[tuple[int, str, str]]:
    """(revision, title, body_html) of every earlier version, oldest first."""
    R = schema.article_revisions
    rows = conn.execute(
        select(R.c.revision, R.c.title, R.c.body_html)
        .join(A, A.c.id == R.c.article_id)
        .where(A.c.source == source, A.c.upstream_id == upstream_id)
        .order_by(R.c.revision)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def iter_articles(conn: Connection, *, newest_first: bool, chunk: int) -> Iterator[Article]:
    """Every stored article, ordered by publication time, streamed in chunks."""
    order = (A.c.published_at.desc(), A.c.id.desc()) if newest_first else (A.c.published_at, A.c.id)
    result = conn.execution_options(yield_per=chunk).execute(select(A).order_by(*order))
    for row in result.mappings():
        yield row_to_article(row)


def sources(conn: Connection) -> list[str]:
    """The sources that have stored articles (the unique index answers it)."""
    return [str(r[0]) for r in conn.execute(select(A.c.source).distinct())]


def origin_of(conn: Connection, sources: Sequence[str], upstream_id: str) -> str | None:
    """Which of ``sources`` stores an article with this upstream id, if exactly one:
    how an import recognises finews's own Jekyll export of an article it already holds
    (a lookup on the ``(source, upstream_id)`` index)."""
    rows = conn.execute(
        select(A.c.source).where(A.c.source.in_(sources), A.c.upstream_id == upstream_id)
    ).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def known(conn: Connection, source: str, upstream_ids: Sequence[str]) -> set[str]:
    """Which of these upstream ids of a source are stored already."""
    found: set[str] = set()
    ids = list(dict.fromkeys(upstream_ids))
    for start in range(0, len(ids), 400):
        rows = conn.execute(
            select(A.c.upstream_id).where(
                A.c.source == source, A.c.upstream_id.in_(ids[start : start + 400])
            )
        )
        found.update(r[0] for r in rows)
    return found


def pending_fulltext(conn: Connection, source: str, max_attempts: int, limit: int) -> list[Article]:
    """Stored articles of a source whose full text is still due, newest first."""
    rows = conn.execute(
        select(A)
        .where(
            A.c.source == source,
            A.c.body_complete.is_(False),
            A.c.fulltext_attempts < max_attempts,
        )
        .order_by(A.c.published_at.desc())
        .limit(limit)
    )
    return [row_to_article(r) for r in rows.mappings()]


def stock_timeline(conn: Connection, code: str, limit: int) -> list[tuple[Article, str]]:
    """Articles tagged with a stock, newest first, with the tag's origin."""
    S = schema.article_stocks
    rows = conn.execute(
        select(A, S.c.origin.label("tag_origin"))
        .join(S, S.c.article_id == A.c.id)
        .where(S.c.code == code)
        .order_by(A.c.published_at.desc(), A.c.id.desc())
        .limit(limit)
    )
    return [(row_to_article(r), r["tag_origin"]) for r in rows.mappings()]


_SHOWN = [c for c in A.c if c.name not in {"raw", "body_clean"}]
"""The columns an article needs to be shown (a search page): not the upstream's raw record
nor the cleaned body, the widest columns of a row (reading them was a third of a search's
time: docs/benchmarks.md, #11)."""
# built once, as text: building the statement and its cache key for each call cost more
# than reading the twenty rows of a page
_BY_IDS = text(
    f"SELECT {', '.join(c.name for c in A.c)} FROM articles WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
_SHOWN_BY_IDS = text(
    f"SELECT {', '.join(c.name for c in _SHOWN)} FROM articles WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def by_ids(
    conn: Connection, ids: Sequence[int], *, raw: bool = True
) -> dict[int, tuple[Article, int]]:
    """Articles by row id, with their cluster; ``raw=False`` leaves the upstream's raw
    record out (the article's ``raw`` is empty)."""
    found: dict[int, tuple[Article, int]] = {}
    statement = _BY_IDS if raw else _SHOWN_BY_IDS
    for start in range(0, len(ids), 400):
        rows = conn.execute(statement, {"ids": list(ids[start : start + 400])})
        for row in rows.mappings():
            found[row["id"]] = (row_to_article(row), row["cluster_id"] or row["id"])
    return found


def list_articles(
    conn: Connection,
    filters: fulltext.Filters,
    *,
    before: tuple[int, int] | None,
    limit: int,
) -> list[tuple[int, Article, int]]:
    """(id, article, cluster) newest first, from just after the ``before`` cursor
    (published_at, id) on: keyset pagination, stable while articles arrive."""
    params: dict[str, Any] = {"limit": limit}
    where = fulltext.filter_sql(filters, params)
    if before is not None:
        where.append("(a.published_at, a.id) < (:b_published, :b_id)")
        params.update(b_published=before[0], b_id=before[1])
    sql = "SELECT a.id FROM articles a"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY a.published_at DESC, a.id DESC LIMIT :limit"
    ids = [int(r[0]) for r in conn.execute(text(sql), params)]
    found = by_ids(conn, ids)
    return [(i, *found[i]) for i in ids if i in found]


def find(conn: Connection, source: str, upstream_id: str) -> tuple[int, Article, int] | None:
    """(id, article, cluster) of one article."""
    row = conn.execute(
        select(A.c.id).where(A.c.source == source, A.c.upstream_id == upstream_id)
    ).first()
    if row is None:
        return None
    found = by_ids(conn, [int(row[0])])
    return (int(row[0]), *found[int(row[0])]) if found else None


def latest_id(conn: Connection) -> int:
    """The highest article row id (0 for an empty store); new articles get higher ones."""
    return int(conn.execute(select(func.max(A.c.id))).scalar() or 0)


def articles_after(conn: Connection, article_id: int, limit: int) -> list[tuple[int, Article, int]]:
    """(id, article, cluster) of the articles stored after row ``article_id``, oldest first."""
    ids = [
        int(r[0])
        for r in conn.execute(
            select(A.c.id).where(A.c.id > article_id).order_by(A.c.id).limit(limit)
        )
    ]
    found = by_ids(conn, ids)
    return [(i, *found[i]) for i in ids if i in found]
